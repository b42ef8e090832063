"""Truncated Normal and Cauchy families, renormalised with their digits kept: what ``restricted to`` prints.

Pyro has no truncated distribution, and NumPyro's loses the normaliser in float32 once the interval lies
a few scales from the location (its CDF is ``0.5 (1 + erf)`` there, ``1 - 0.9999997``). Both programs
therefore use the classes of ``pyro`` and ``numpyro`` here, which share this arithmetic, written once for
either array library (``Ops``):

- the interval is standardised, and mirrored to the left of the location when it lies above it (both
  families are symmetric), so its CDF values are small numbers, which float32 holds exactly;
- the normaliser is ``log(Φ(b) - Φ(a))`` from ``log Φ`` (``log_ndtr``, and ``atan2`` for the Cauchy):
  ``log Φ(b) + log(1 - exp(log Φ(a) - log Φ(b)))``;
- a draw is ``Φ⁻¹(Φ(a) + u (Φ(b) - Φ(a)))`` with ``Φ⁻¹`` precise near 0 (``ndtri``, ``-1/tan(π p)``);
- infinite bounds never reach a CDF: their value is set beside it, so no gradient is ``0 × ∞``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: the families a truncation is written with (``distributions.TRUNCATION_BASES``), by their class's name
FAMILIES = ("Normal", "Cauchy")
_LOG_PI = math.log(math.pi)


@dataclass(frozen=True)
class Ops:
    """The array functions the arithmetic needs, from PyTorch or JAX."""

    where: Callable
    log: Callable
    exp: Callable
    expm1: Callable
    log1p: Callable
    isfinite: Callable
    atan2: Callable
    tan: Callable
    log_ndtr: Callable
    ndtri: Callable
    ones_like: Callable


def family_of(base: Any) -> str:
    """The base's family, refused unless it is one the arithmetic knows."""
    name = type(base).__name__
    if name not in FAMILIES:
        raise ValueError(f"a truncation's base is a Normal or a Cauchy, not a {name}")
    return name


def interval_support(constraints: Any, open_sides: tuple[bool, bool], low, high):
    """The interval a truncation's values lie in, from a library's ``constraints`` module: a half-line where a side
    is open, so NUTS samples through the transform onto it."""
    if open_sides[1]:
        return constraints.greater_than(low)
    if open_sides[0]:
        return constraints.less_than(high)
    return constraints.interval(low, high)


def _log_cdf(ops: Ops, family: str, z):
    """``log Φ(z)`` of the standard family, ``-∞`` at ``-∞`` and 0 at ``∞``."""
    finite = ops.isfinite(z)
    safe = ops.where(finite, z, ops.ones_like(z) * -1.0)
    if family == "Normal":
        value = ops.log_ndtr(safe)
    else:
        value = ops.log(ops.atan2(ops.ones_like(safe), -safe)) - _LOG_PI
    return ops.where(finite, value, ops.where(z > 0, 0.0, -math.inf))


def _icdf(ops: Ops, family: str, p):
    """``Φ⁻¹(p)`` of the standard family, precise for small ``p``."""
    if family == "Normal":
        return ops.ndtri(p)
    return -1.0 / ops.tan(math.pi * p)


def _log1mexp(ops: Ops, x):
    """``log(1 - exp(x))`` for ``x ≤ 0``, each branch fed only values it is precise (and finite) at."""
    near = x > -math.log(2.0)
    x_near = ops.where(near, x, -1.0)
    x_far = ops.where(near, -1.0, x)
    return ops.where(near, ops.log(-ops.expm1(x_near)), ops.log1p(-ops.exp(x_far)))


def _standard(ops: Ops, bound, loc, scale):
    """``(bound - loc) / scale``, an infinite bound left as it is (its gradient in the scale would be ∞ × 0)."""
    finite = ops.isfinite(bound)
    return ops.where(finite, (ops.where(finite, bound, loc) - loc) / scale, bound)


def normaliser(ops: Ops, family: str, loc, scale, low, high):
    """``(log Φ(a), log of the interval's probability, a-side mirrored)`` with ``a ≤ 0`` the interval's lower end."""
    z_low, z_high = _standard(ops, low, loc, scale), _standard(ops, high, loc, scale)
    mirrored = z_low > 0
    a = ops.where(mirrored, -z_high, z_low)
    b = ops.where(mirrored, -z_low, z_high)
    log_a, log_b = _log_cdf(ops, family, a), _log_cdf(ops, family, b)
    return log_a, log_b + _log1mexp(ops, log_a - log_b), mirrored


def draw(ops: Ops, family: str, loc, scale, low, high, u, tiny: float, below_one: float):
    """A value of the truncated family from uniforms ``u`` on ``(0, 1)``, inside ``[low, high]``."""
    log_a, log_mass, mirrored = normaliser(ops, family, loc, scale, low, high)
    p = ops.exp(log_a) + u * ops.exp(log_mass)
    p = ops.where(p < tiny, tiny, ops.where(p > below_one, below_one, p))
    z = _icdf(ops, family, p)
    x = loc + scale * ops.where(mirrored, -z, z)
    return ops.where(x < low, low, ops.where(x > high, high, x))
