"""The forward algorithm on JAX: one ``lax.scan`` over the steps (see the package's docstring)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import logsumexp


def forward(start, step, emission):
    """``(α, log p(y))``: the forward rows ``(T, K)`` from the first label's and the transition's (unnormalised)
    log probabilities and the emissions' log densities ``(T, K)``."""
    start, step = jax.nn.log_softmax(start, -1), jax.nn.log_softmax(step, -1)

    def advance(previous, emitted):
        row = logsumexp(previous[:, None] + step, axis=0) + emitted
        return row, row

    first = start + emission[0]
    _, rest = jax.lax.scan(advance, first, emission[1:])
    alpha = jnp.concatenate([first[None], rest])
    return alpha, logsumexp(alpha[-1])
