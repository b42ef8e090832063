"""The forward algorithm on PyTorch: a loop over the steps (see the package's docstring)."""

from __future__ import annotations

import torch


def forward(start, step, emission):
    """``(α, log p(y))``: the forward rows ``(T, K)`` from the first label's and the transition's (unnormalised)
    log probabilities and the emissions' log densities ``(T, K)``."""
    start, step = torch.log_softmax(start, -1), torch.log_softmax(step, -1)
    rows = [start + emission[0]]
    for emitted in emission[1:]:
        rows.append(torch.logsumexp(rows[-1][:, None] + step, dim=0) + emitted)
    alpha = torch.stack(rows)
    return alpha, torch.logsumexp(alpha[-1], dim=0)
