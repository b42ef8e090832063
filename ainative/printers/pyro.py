"""The Pyro printer: a probabilistic model's IR → a standalone Pyro model function on PyTorch."""

from __future__ import annotations

import sympy
from sympy.printing.pycode import PythonCodePrinter

from ..frontend.ir import ModelIR
from .common import PythonCode, install, print_call
from .indices import ArrayLibrary, IndexArrays, install_over_index
from .probabilistic import ProbabilisticPrinter, WholePlates

TORCH_ARRAYS = ArrayLibrary(
    arange="torch.arange", eye="torch.eye", as_array="torch.as_tensor", where="torch.where",
    broadcast_to="torch.broadcast_to", permute="torch.permute",
    squeeze="torch.squeeze", einsum="torch.einsum", maximum="torch.maximum", minimum="torch.minimum", axis="dim",
    reductions={"sum": "torch.sum", "prod": "torch.prod", "mean": "torch.mean", "max": "torch.amax",
                "min": "torch.amin", "logsumexp": "torch.logsumexp"},
    softmax="torch.softmax", stack="torch.stack", concatenate="torch.cat")


class TorchPrinter(WholePlates, PythonCode, IndexArrays, PythonCodePrinter):
    """Expressions as PyTorch; numbers inside torch calls become tensors, plates are vectorised."""

    LIBRARY = TORCH_ARRAYS

    def __init__(self):
        super().__init__({"order": "none", "fully_qualified_modules": True})

    def _print_Pi(self, expr):
        return self._module_format("torch.pi")

    def _print_Transposed(self, expr):
        return f"{self._module_format('torch.t')}({self._tensor(expr.args[0])})"

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent == sympy.S.Half:
            return f"{self._module_format('torch.sqrt')}({self._tensor(base)})"
        return super()._print_Pow(expr, rational)

    def _print_LogDet(self, expr):
        return f"{self._module_format('torch.linalg.slogdet')}({self._tensor(expr.args[0])})[1]"

    def _tensor(self, arg) -> str:
        text = self._print(arg)
        number = arg.is_number or (isinstance(arg, sympy.Symbol) and arg.name in self.dimensions | self.fixed)
        return f"{self._module_format('torch.as_tensor')}({text})" if number else text

    def _arguments(self, expr) -> str:
        return ", ".join(self._tensor(a) for a in expr.args)


install(TorchPrinter, "torch", print_call)
install_over_index(TorchPrinter)


PYRO = ProbabilisticPrinter("pyro", "torch.as_tensor", TorchPrinter, "ainative.runtime.truncated.for_pyro.Truncated",
                            "ainative.runtime.improper.ImproperUniform")


def print_pyro(ir: ModelIR) -> str:
    """Standalone source of a Pyro model whose arguments are the model's inputs."""
    return PYRO.print(ir)
