"""The NumPyro printer: the same probabilistic program as the Pyro printer, on JAX."""

from __future__ import annotations

from ..frontend.ir import ModelIR
from .jax import JaxPrinter, python_name
from .probabilistic import ProbabilisticPrinter


class VectorisedJaxPrinter(JaxPrinter):
    """JAX expressions where a plate's ``η_j`` is the whole vector ``η``."""

    def _print_Element(self, expr):
        return python_name(expr.args[0].name)


class NumPyroPrinter(ProbabilisticPrinter):
    imports = ("import jax", "import jax.numpy as jnp", "import numpyro", "import numpyro.distributions as dist")
    library = "numpyro"
    as_tensor = "jnp.asarray"

    def expressions(self):
        return VectorisedJaxPrinter()


def print_numpyro(ir: ModelIR) -> str:
    """Standalone source of a NumPyro model whose arguments are the model's inputs."""
    return NumPyroPrinter().print(ir)
