"""Hidden Markov chains of class labels, summed out by the forward algorithm and drawn back afterwards.

A model with ``z_1 ~ Categorical(ρ)``, ``z_t ~ Categorical(Θ_{z_{t-1}+1})`` and observations that read
``z_t`` prints, for each chain, three arrays in log space: the first label's ``start`` (K), the
transition ``step`` (K × K, row = label before) and the observations' ``emission`` (T × K). The
program adds ``log p(y) = logsumexp_k α_T(k)`` to its log density, where the forward rows
``α_t(k) = log p(y_1..y_t, z_t = k)`` come from the library's module here (``for_numpyro``,
``for_pyro``), and records ``α`` and ``step`` so that ``draw`` can take each posterior draw's labels
from their exact posterior given that draw: backward from ``z_T ∝ exp α_T``, each
``z_t ∝ exp(α_t + step[:, z_{t+1}])`` (forward filtering, backward sampling).
"""

from __future__ import annotations

import numpy as np


def draw(alpha: np.ndarray, step: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Labels ``(…, T)`` drawn from ``p(z | y)`` for each leading index of ``alpha`` ``(…, T, K)`` and ``step``
    ``(…, K, K)`` (log transition probabilities, up to a constant in each row)."""
    alpha, step = np.asarray(alpha, np.float64), np.asarray(step, np.float64)
    step = step - np.logaddexp.reduce(step, axis=-1, keepdims=True)
    steps = alpha.shape[-2]
    labels = np.empty(alpha.shape[:-1], np.int64)
    labels[..., -1] = _categorical(alpha[..., -1, :], rng)
    for t in range(steps - 2, -1, -1):
        into = np.take_along_axis(step, labels[..., t + 1, None, None], axis=-1)[..., 0]
        labels[..., t] = _categorical(alpha[..., t, :] + into, rng)
    return labels


def _categorical(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One class per row of unnormalised log probabilities (the Gumbel-max draw)."""
    return np.argmax(logits + rng.gumbel(size=logits.shape), axis=-1)
