"""A truncated distribution for Pyro, which has none: what a Pyro program prints for ``restricted to [a, b]``.

NumPyro's programs use ``numpyro.distributions.TruncatedDistribution``; this is its counterpart on PyTorch for a
base family symmetric about its location (Normal, Cauchy) with a CDF and an inverse CDF. The density is the
base's renormalised by the mass of ``[low, high]``, draws are the inverse CDF of a uniform over that mass, and the
support is the interval, so NUTS samples through the transform onto it. Where the interval lies above the
location the mass is computed on its mirror image below it, where the CDF is small and keeps its digits.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from pyro.distributions import TorchDistribution, constraints


class Truncated(TorchDistribution):
    """``base`` restricted to ``[low, high]`` (``None``: that side is open) and renormalised."""

    arg_constraints: ClassVar[dict] = {}
    has_rsample = True

    def __init__(self, base: TorchDistribution, low: float | torch.Tensor | None = None,
                 high: float | torch.Tensor | None = None, validate_args: bool | None = None):
        if low is None and high is None:
            raise ValueError("a truncation needs a lower or an upper bound")
        loc = base.loc
        self.base, self._open = base, (low is None, high is None)
        self.low = torch.as_tensor(-math.inf if low is None else low, dtype=loc.dtype, device=loc.device)
        self.high = torch.as_tensor(math.inf if high is None else high, dtype=loc.dtype, device=loc.device)
        batch_shape = torch.broadcast_shapes(base.batch_shape, self.low.shape, self.high.shape)
        self._flip = self.low > loc
        center = 2 * loc
        a = torch.where(self._flip, center - self.high, self.low)
        b = torch.where(self._flip, center - self.low, self.high)
        self._cdf_a = base.cdf(a)
        self._mass = base.cdf(b) - self._cdf_a
        self._log_mass = torch.log(self._mass)
        super().__init__(batch_shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        if self._open[1]:
            return constraints.greater_than(self.low)
        if self._open[0]:
            return constraints.less_than(self.high)
        return constraints.interval(self.low, self.high)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        inside = (value >= self.low) & (value <= self.high)
        density = self.base.log_prob(value) - self._log_mass
        return torch.where(inside, density, torch.full_like(density, -math.inf))

    def rsample(self, sample_shape: tuple[int, ...] = ()) -> torch.Tensor:
        shape = self._extended_shape(torch.Size(sample_shape))
        u = torch.rand(shape, dtype=self.low.dtype, device=self.low.device)
        tiny = torch.finfo(self.low.dtype).tiny
        p = (self._cdf_a + u * self._mass).clamp(tiny, 1 - torch.finfo(self.low.dtype).eps)
        x = self.base.icdf(p)
        x = torch.where(self._flip, 2 * self.base.loc - x, x)
        return torch.minimum(torch.maximum(x, self.low), self.high)

    def sample(self, sample_shape: tuple[int, ...] = ()) -> torch.Tensor:
        with torch.no_grad():
            return self.rsample(sample_shape)
