"""``Truncated`` for NumPyro: a Normal or a Cauchy restricted to ``[low, high]`` and renormalised (see the package).

NumPyro's own ``TruncatedDistribution`` computes the normaliser from the CDF, which float32 rounds to 1 a few
scales from the location; this one keeps its digits there, as the Pyro one does.
"""

from __future__ import annotations

import math
from typing import ClassVar

import jax
import jax.numpy as jnp
from jax.scipy.special import log_ndtr, ndtri
from numpyro.distributions import Distribution, constraints
from numpyro.distributions.util import promote_shapes

from . import Ops, draw, family_of, interval_support, normaliser

OPS = Ops(where=jnp.where, log=jnp.log, exp=jnp.exp, expm1=jnp.expm1, log1p=jnp.log1p, isfinite=jnp.isfinite,
          atan2=jnp.arctan2, tan=jnp.tan, log_ndtr=log_ndtr, ndtri=ndtri, ones_like=jnp.ones_like)


class Truncated(Distribution):
    """``base`` restricted to ``[low, high]`` (``None``: that side is open); its support is the interval, so NUTS
    samples it through a transform onto it."""

    arg_constraints: ClassVar[dict] = {}
    pytree_data_fields = ("base", "low", "high")
    pytree_aux_fields = ("family", "_open")

    def __init__(self, base: Distribution, low=None, high=None, *, validate_args: bool | None = None):
        if low is None and high is None:
            raise ValueError("a truncation needs a lower or an upper bound")
        self.family, self.base, self._open = family_of(base), base, (low is None, high is None)
        low = jnp.asarray(-math.inf if low is None else low, dtype=jnp.result_type(float))
        high = jnp.asarray(math.inf if high is None else high, dtype=jnp.result_type(float))
        self.low, self.high = promote_shapes(low, high)
        batch_shape = jax.lax.broadcast_shapes(base.batch_shape, jnp.shape(self.low), jnp.shape(self.high))
        super().__init__(batch_shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return interval_support(constraints, self._open, self.low, self.high)

    def log_prob(self, value):
        log_mass = normaliser(OPS, self.family, self.base.loc, self.base.scale, self.low, self.high)[1]
        density = self.base.log_prob(value) - log_mass
        return jnp.where((value >= self.low) & (value <= self.high), density, -jnp.inf)

    def sample(self, key, sample_shape=()):
        shape = sample_shape + self.batch_shape
        info = jnp.finfo(jnp.result_type(float))
        u = jax.random.uniform(key, shape)
        return draw(OPS, self.family, self.base.loc, self.base.scale, self.low, self.high, u, float(info.tiny),
                    float(1 - info.eps))
