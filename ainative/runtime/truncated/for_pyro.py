"""``Truncated`` for Pyro: a Normal or a Cauchy restricted to ``[low, high]`` and renormalised (see the package)."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from pyro.distributions import TorchDistribution, constraints

from . import Ops, draw, family_of, interval_support, normaliser

OPS = Ops(where=torch.where, log=torch.log, exp=torch.exp, expm1=torch.expm1, log1p=torch.log1p,
          isfinite=torch.isfinite, atan2=torch.atan2, tan=torch.tan, log_ndtr=torch.special.log_ndtr,
          ndtri=torch.special.ndtri, ones_like=torch.ones_like)


class Truncated(TorchDistribution):
    """``base`` restricted to ``[low, high]`` (``None``: that side is open); its support is the interval, so NUTS
    samples it through a transform onto it."""

    arg_constraints: ClassVar[dict] = {}
    has_rsample = True

    def __init__(self, base: TorchDistribution, low: float | torch.Tensor | None = None,
                 high: float | torch.Tensor | None = None, validate_args: bool | None = None):
        if low is None and high is None:
            raise ValueError("a truncation needs a lower or an upper bound")
        self.family, self.base, self._open = family_of(base), base, (low is None, high is None)
        loc = base.loc
        self.low = torch.as_tensor(-math.inf if low is None else low, dtype=loc.dtype, device=loc.device)
        self.high = torch.as_tensor(math.inf if high is None else high, dtype=loc.dtype, device=loc.device)
        self._log_mass = normaliser(OPS, self.family, loc, base.scale, self.low, self.high)[1]
        batch_shape = torch.broadcast_shapes(base.batch_shape, self.low.shape, self.high.shape)
        super().__init__(batch_shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return interval_support(constraints, self._open, self.low, self.high)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        density = self.base.log_prob(value) - self._log_mass
        inside = (value >= self.low) & (value <= self.high)
        return torch.where(inside, density, -math.inf)

    def rsample(self, sample_shape: tuple[int, ...] = ()) -> torch.Tensor:
        shape = self._extended_shape(torch.Size(sample_shape))
        u = torch.rand(shape, dtype=self.low.dtype, device=self.low.device)
        info = torch.finfo(self.low.dtype)
        return draw(OPS, self.family, self.base.loc, self.base.scale, self.low, self.high, u, info.tiny,
                    1 - info.eps)

    def sample(self, sample_shape: tuple[int, ...] = ()) -> torch.Tensor:
        with torch.no_grad():
            return self.rsample(sample_shape)
