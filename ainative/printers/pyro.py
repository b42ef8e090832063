"""The Pyro printer: a probabilistic model's IR → a standalone Pyro model function on PyTorch."""

from __future__ import annotations

import sympy
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import PythonCodePrinter

from ..frontend.ir import ModelIR
from ..frontend.nodes import (
    Log1p,
    LogSumExp,
    Maximum,
    Minimum,
    ReduceMax,
    ReduceMean,
    ReduceMin,
    ReduceSum,
    Relu,
    Sigmoid,
    Softmax,
    Softplus,
)
from .jax import python_name
from .probabilistic import ProbabilisticPrinter

#: IR node or SymPy function → the PyTorch call that computes it
FUNCTIONS = {
    sympy.tanh: "torch.tanh",
    sympy.exp: "torch.exp",
    sympy.log: "torch.log",
    sympy.Abs: "torch.abs",
    sympy.sin: "torch.sin",
    sympy.cos: "torch.cos",
    Softmax: "torch.softmax({}, -1)",
    Relu: "torch.relu",
    Sigmoid: "torch.sigmoid",
    Softplus: "torch.nn.functional.softplus",
    Log1p: "torch.log1p",
    LogSumExp: "torch.logsumexp({}.reshape(-1), 0)",
    ReduceSum: "torch.sum",
    ReduceMean: "torch.mean",
    ReduceMax: "torch.max",
    ReduceMin: "torch.min",
    Maximum: "torch.maximum",
    Minimum: "torch.minimum",
}


class TorchPrinter(PythonCodePrinter):
    """Expressions as PyTorch; numbers inside torch calls become tensors, plates are vectorised."""

    def __init__(self):
        super().__init__({"order": "none", "fully_qualified_modules": True})

    def _print_Symbol(self, expr):
        return python_name(expr.name)

    def _print_Element(self, expr):
        return python_name(expr.args[0].name)

    def _print_Integer(self, expr):
        return f"{int(expr)}.0"

    def _print_Pi(self, expr):
        return "torch.pi"

    def _print_MatrixProduct(self, expr):
        a, b = expr.args
        level = PRECEDENCE["Mul"]
        return f"{self.parenthesize(a, level, strict=True)} @ {self.parenthesize(b, level, strict=False)}"

    def _print_Transposed(self, expr):
        return f"torch.t({self._tensor(expr.args[0])})"

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent == sympy.S.Half:
            return f"torch.sqrt({self._tensor(base)})"
        return super()._print_Pow(expr, rational)

    def _tensor(self, arg) -> str:
        text = self._print(arg)
        return f"torch.as_tensor({text})" if arg.is_number else text


def _print_call(template: str):
    def method(self, expr):
        args = ", ".join(self._tensor(a) for a in expr.args)
        return template.format(args) if "{}" in template else f"{template}({args})"

    return method


for _node, _template in FUNCTIONS.items():
    setattr(TorchPrinter, f"_print_{_node.__name__}", _print_call(_template))


class PyroPrinter(ProbabilisticPrinter):
    imports = ("import torch", "import pyro", "import pyro.distributions as dist")
    library = "pyro"
    as_tensor = "torch.as_tensor"

    def expressions(self):
        return TorchPrinter()


def print_pyro(ir: ModelIR) -> str:
    """Standalone source of a Pyro model whose arguments are the model's inputs."""
    return PyroPrinter().print(ir)
