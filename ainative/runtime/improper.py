"""Pyro's ``ImproperUniform`` as the Pyro program prints it for an improper prior (``β ~ Flat()``).

Pyro's own class refuses every draw. Its NUTS, though, runs the model once without values to count its plates
(``max_plate_nesting``) before its initialisation supplies them, and that run would stop at the improper site.
This class answers such a run with one fixed point of its support (0 for the reals, 1 for the positive numbers,
the point Pyro's ``init_to_feasible`` takes); that value is never reported as a draw: ``sample_prior`` refuses a
model with an improper prior, and ``predict`` and the fits give the site its value from the posterior or the
sampler. NumPyro's NUTS needs no such run, and its program prints NumPyro's class.
"""

from __future__ import annotations

import torch
from pyro.distributions import ImproperUniform as _PyroImproperUniform
from torch.distributions import biject_to


class ImproperUniform(_PyroImproperUniform):
    """A constant density on ``support``; a draw is the support's fixed point, for a run that only reads shapes."""

    def sample(self, sample_shape: tuple[int, ...] = ()) -> torch.Tensor:
        return biject_to(self.support)(torch.zeros(self._extended_shape(torch.Size(sample_shape))))
