"""The NumPyro printer: the same probabilistic program as the Pyro printer, on JAX."""

from __future__ import annotations

from ..frontend.ir import ModelIR
from .jax import JaxPrinter
from .probabilistic import ProbabilisticPrinter, WholePlates


class VectorisedJaxPrinter(WholePlates, JaxPrinter):
    """JAX expressions where a plate's ``η_j`` is the whole vector ``η``."""


NUMPYRO = ProbabilisticPrinter("numpyro", "jax.numpy.asarray", VectorisedJaxPrinter,
                                "ainative.runtime.truncated.for_numpyro.Truncated",
                                "numpyro.distributions.ImproperUniform")


def print_numpyro(ir: ModelIR) -> str:
    """Standalone source of a NumPyro model whose arguments are the model's inputs."""
    return NUMPYRO.print(ir)
