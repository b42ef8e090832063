"""Every operation of the IR in one table: how the notation writes it, its shape rule, each backend's spelling.

A row is one IR node. The parser builds nodes by the table's names and arities, the lexer reads
its LaTeX commands and aliases, ``shapes.py`` takes each node's shape rule from its kind, and each
printer installs one ``_print_<Node>`` method per row from its column, as SymPy's ``pycode``
installs its ``_known_functions``. Adding an operation is adding a row; a printer keeps a
hand-written method only for what needs more than a call (``OWN``), and a backend that cannot
print an operation says why (``Unsupported``), so printing it is an error with that message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from enum import Enum

import sympy

from .nodes import (
    Cholesky,
    Det,
    Diag,
    Identity,
    Inverse,
    Log1p,
    LogDet,
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
    Solve,
    Trace,
)


class Kind(Enum):
    """How an operation's result shape follows from its arguments' shapes."""

    ELEMENTWISE = "the argument's shape"
    LAST_AXIS = "the argument's shape, normalised along its last axis"
    REDUCTION = "a scalar: every entry reduced"
    BROADCAST = "the arguments' shapes broadcast together"
    SQUARE = "a square matrix's shape (n×n → n×n)"
    SQUARE_TO_SCALAR = "a scalar, from a square matrix"
    DIAGONAL = "by the argument's rank: a vector's diagonal matrix, or a square matrix's diagonal"
    SOLVE = "the right-hand side's shape (a vector or a matrix) solved against a square matrix"


@dataclass(frozen=True)
class Call:
    """A backend function applied to the printed arguments.

    ``function`` is fully qualified so that printing it records the module the generated code
    imports; ``arguments`` places the printed arguments when the call needs more (``{}, -1``).
    """

    function: str
    arguments: str = "{}"


@dataclass(frozen=True)
class Own:
    """The printer spells the operation itself: a hand-written ``_print_<Node>``, or SymPy's own."""


@dataclass(frozen=True)
class Unsupported:
    """The backend cannot print the operation; ``reason`` is the message of the error printing it raises."""

    reason: str


OWN = Own()

#: a call (a bare string is a call with the arguments as they are), the printer's own method, or a refusal
Spelling = Call | str | Own | Unsupported


@dataclass(frozen=True)
class Operation:
    """One IR node: its notation (``name`` with ``arity`` arguments), its shape rule and its spellings.

    ``jax`` and ``torch`` are calls; ``latex`` is an operator written before ``\\left(…\\right)``;
    ``onnx`` is an operator lowered by ``kind`` (unary, a reduction over every per-example axis, or
    an n-ary broadcast). ``build`` makes the node when ``node(*args)`` is not it (``sqrt``).
    """

    node: type
    kind: Kind
    name: str | None = None
    _: KW_ONLY
    jax: Spelling
    torch: Spelling
    latex: Spelling
    onnx: Spelling
    arity: int = 1
    build: Callable[..., sympy.Expr] | None = None
    latex_commands: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def make(self, *args: sympy.Expr) -> sympy.Expr:
        """The node for ``name(*args)``, unevaluated so that the IR is what was written."""
        return self.build(*args) if self.build else self.node(*args, evaluate=False)

    def spelling(self, backend: str) -> Spelling:
        """This operation's spelling for ``jax``, ``torch``, ``latex`` or ``onnx``."""
        return getattr(self, backend)


def _square_root(x: sympy.Expr) -> sympy.Expr:
    return sympy.Pow(x, sympy.S.Half, evaluate=False)


ELEMENTWISE, LAST_AXIS, REDUCTION, BROADCAST, SQUARE, SQUARE_TO_SCALAR, DIAGONAL, SOLVE = Kind
#: why an export refuses a linear-algebra function: the standard ONNX opset has no factorisation but LU's determinant
_NO_ONNX = "{} has no ONNX form: the standard opset has Det, but no Cholesky factorisation, inverse or solve"

OPERATIONS = (
    Operation(sympy.tanh, ELEMENTWISE, "tanh", latex_commands=("tanh",),
              jax="jax.numpy.tanh", torch="torch.tanh", latex=OWN, onnx="Tanh"),
    Operation(sympy.exp, ELEMENTWISE, "exp", latex_commands=("exp",),
              jax="jax.numpy.exp", torch="torch.exp", latex=OWN, onnx="Exp"),
    Operation(sympy.log, ELEMENTWISE, "log", latex_commands=("ln", "log"),
              jax="jax.numpy.log", torch="torch.log", latex=OWN, onnx="Log"),
    Operation(sympy.Abs, ELEMENTWISE, "abs",
              jax="jax.numpy.abs", torch="torch.abs", latex=OWN, onnx="Abs"),
    Operation(sympy.sin, ELEMENTWISE, "sin", latex_commands=("sin",),
              jax="jax.numpy.sin", torch="torch.sin", latex=OWN, onnx="Sin"),
    Operation(sympy.cos, ELEMENTWISE, "cos", latex_commands=("cos",),
              jax="jax.numpy.cos", torch="torch.cos", latex=OWN, onnx="Cos"),
    Operation(Log1p, ELEMENTWISE, "log1p",
              jax="jax.numpy.log1p", torch="torch.log1p", latex=r"\operatorname{log1p}", onnx=OWN),
    Operation(Sigmoid, ELEMENTWISE, "sigmoid", aliases=("sigma",),
              jax="jax.nn.sigmoid", torch="torch.sigmoid", latex=r"\sigma", onnx="Sigmoid"),
    Operation(Relu, ELEMENTWISE, "relu",
              jax="jax.nn.relu", torch="torch.relu", latex=r"\operatorname{relu}", onnx="Relu"),
    Operation(Softplus, ELEMENTWISE, "softplus",
              jax="jax.nn.softplus", torch="torch.nn.functional.softplus", latex=r"\operatorname{softplus}",
              onnx="Softplus"),
    Operation(Softmax, LAST_AXIS, "softmax",
              jax="jax.nn.softmax", torch=Call("torch.softmax", "{}, -1"), latex=r"\operatorname{softmax}", onnx=OWN),
    Operation(LogSumExp, REDUCTION, "logsumexp",
              jax="jax.scipy.special.logsumexp", torch=Call("torch.logsumexp", "{}.reshape(-1), 0"),
              latex=r"\operatorname{logsumexp}", onnx="ReduceLogSumExp"),
    Operation(ReduceSum, REDUCTION, "sum",
              jax="jax.numpy.sum", torch="torch.sum", latex=OWN, onnx="ReduceSum"),
    Operation(ReduceMean, REDUCTION, "mean",
              jax="jax.numpy.mean", torch="torch.mean", latex=r"\operatorname{mean}", onnx="ReduceMean"),
    Operation(ReduceMax, REDUCTION, "max", latex_commands=("max",),
              jax="jax.numpy.max", torch="torch.max", latex=r"\max", onnx="ReduceMax"),
    Operation(ReduceMin, REDUCTION, "min", latex_commands=("min",),
              jax="jax.numpy.min", torch="torch.min", latex=r"\min", onnx="ReduceMin"),
    Operation(Maximum, BROADCAST, "max", arity=2, latex_commands=("max",),
              jax="jax.numpy.maximum", torch="torch.maximum", latex=r"\max", onnx="Max"),
    Operation(Minimum, BROADCAST, "min", arity=2, latex_commands=("min",),
              jax="jax.numpy.minimum", torch="torch.minimum", latex=r"\min", onnx="Min"),
    Operation(Cholesky, SQUARE, "cholesky",
              jax="jax.numpy.linalg.cholesky", torch="torch.linalg.cholesky", latex=r"\operatorname{cholesky}",
              onnx=Unsupported(_NO_ONNX.format("cholesky"))),
    Operation(Inverse, SQUARE, "inverse",
              jax="jax.numpy.linalg.inv", torch="torch.linalg.inv", latex=OWN,
              onnx=Unsupported(_NO_ONNX.format("inverse (A⁻¹)"))),
    Operation(Det, SQUARE_TO_SCALAR, "det", latex_commands=("det",),
              jax="jax.numpy.linalg.det", torch="torch.linalg.det", latex=r"\det", onnx=OWN),
    Operation(LogDet, SQUARE_TO_SCALAR, "logdet",
              jax=OWN, torch=OWN, latex=OWN, onnx=OWN),
    Operation(Trace, SQUARE_TO_SCALAR, "trace", aliases=("tr",),
              jax=Call("jax.numpy.trace", "{}, 0, -2, -1"), torch="torch.trace", latex=r"\operatorname{tr}", onnx=OWN),
    Operation(Diag, DIAGONAL, "diag",
              jax="jax.numpy.diag", torch="torch.diag", latex=r"\operatorname{diag}", onnx=OWN),
    Operation(Solve, SOLVE, "solve", arity=2,
              jax="jax.numpy.linalg.solve", torch="torch.linalg.solve", latex=OWN,
              onnx=Unsupported(_NO_ONNX.format("solve"))),
    Operation(sympy.Pow, BROADCAST, "sqrt", build=_square_root,
              jax=OWN, torch=OWN, latex=OWN, onnx=OWN),
    Operation(sympy.Add, BROADCAST,
              jax=OWN, torch=OWN, latex=OWN, onnx=OWN),
    Operation(sympy.Mul, BROADCAST,
              jax=OWN, torch=OWN, latex=OWN, onnx=OWN),
)


def _functions() -> dict[str, dict[int, Operation]]:
    table: dict[str, dict[int, Operation]] = {}
    for operation in OPERATIONS:
        if operation.name is not None:
            table.setdefault(operation.name, {})[operation.arity] = operation
    return table


#: notation name → {number of arguments: operation} (``max(x)`` reduces, ``max(a, b)`` broadcasts)
FUNCTIONS = _functions()
#: LaTeX command → the notation name it spells (``\ln`` → ``log``)
LATEX_NAMES = {command: op.name for op in OPERATIONS for command in op.latex_commands}
#: another name of a function, meant before ``(`` unless a model variable has it (``sigma(`` → ``sigmoid(``)
ALIASES = {alias: op.name for op in OPERATIONS for alias in op.aliases}
#: names that are constants unless the model defines them
CONSTANTS = {"pi": sympy.pi, "I": Identity()}

_BY_NODE = {operation.node: operation for operation in OPERATIONS}


def kind_of(expr: sympy.Basic) -> Kind | None:
    """The shape rule of an expression's head, or None when the table has no row for it."""
    operation = _BY_NODE.get(expr.func)
    return operation.kind if operation else None
