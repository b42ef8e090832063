"""The SymPy nodes of the IR that SymPy lacks (what each one means lives in ``operations.py``).

Variables are plain ``Symbol``s; their shapes live in the shape table, not in the node, so
elementwise arithmetic is SymPy's own ``Add``/``Mul``/``Pow``. The nodes below carry the
operations that are not elementwise scalar algebra. They never evaluate: each printer gives
each node its meaning through a row of the operation table or a ``_print_<Node>`` method.
"""

from __future__ import annotations

from sympy import Basic, Expr, Function, Symbol, Tuple
from sympy.core.symbol import Str
from sympy.printing.precedence import PRECEDENCE


class Node(Function):
    """An IR operation that SymPy leaves alone (SymPy's default ``eval`` simplifies nothing).

    Its value commutes under ``Mul``, which is elementwise here; saying so up front spares
    SymPy's assumption system a query per node.
    """

    is_commutative = True


class MatrixProduct(Node):
    """``A B``, ``A @ B``, ``A · B`` between non-scalars: NumPy's ``matmul`` rules."""

    nargs = 2
    precedence = PRECEDENCE["Mul"]


class Transposed(Node):
    """``Aᵀ``: reverses the axes (a no-op on vectors, as in NumPy)."""

    nargs = 1
    precedence = PRECEDENCE["Pow"]


class Element(Node):
    """``η_j`` inside a plate over ``j``: one entry along the leading axis of ``η``."""

    nargs = 2


class Index(Symbol):
    """An index name (``i``, ``t``): it ranges over whole numbers, and is never a model variable."""


class Lagged(Symbol):
    """Inside a recurrence's step over ``t``: the row of a variable at ``t - lag`` (``h_{t-1}``, ``x_t``).

    A step is ordinary math over such rows, so the shape checker and the printers read it as any
    statement; its name (``h@1``) is one no model name can take.
    """

    @classmethod
    def of(cls, base: str, lag: int) -> Lagged:
        return cls(f"{base}@{lag}")

    @property
    def base(self) -> str:
        return self.name.rpartition("@")[0]

    @property
    def lag(self) -> int:
        return int(self.name.rpartition("@")[2])


class FirstRow(Symbol):
    """In a recurrence's initial statements: a row an earlier one gives (``ν_1`` in ``ε_1 = y_1 - ν_1``)."""

    @classmethod
    def of(cls, base: str, position: int) -> FirstRow:
        return cls(f"{base}#{position}")

    @property
    def base(self) -> str:
        return self.name.rpartition("#")[0]

    @property
    def position(self) -> int:
        return int(self.name.rpartition("#")[2])


class Row(Node):
    """``x_1``, ``h_T``: the row of an array at a fixed 1-based position (a whole number or a dimension)."""

    nargs = 2


class Entry(Node):
    """``x_{t-1}``, ``W_{ij}``, ``α_{county_i}``: the entry of ``x`` at 1-based positions, one per axis.

    Its first argument is the array's ``Symbol``; the others are integer expressions of ``Index``
    symbols, numbers and entries of integer data.
    """


def as_written(expr: Basic) -> Basic:
    """A plate's row ``η_j`` as the parser saw it, the entry ``η_{j}``: the key a statement's spans know it by."""
    return Entry(expr.args[0], Index(expr.args[1].name)) if isinstance(expr, Element) else expr


class Component(Expr):
    """``𝒩(μ, σ)`` as an argument of a mixture: its family (a ``Str``) and its arguments as ``(Str(key), value)``.

    Not a ``Node``: the parser refuses it anywhere but as a mixture's argument; its free symbols are its arguments'.
    """

    @classmethod
    def of(cls, family: str, args) -> Component:
        return cls(Str(family), *(Tuple(Str(key), value) for key, value in args))

    @property
    def family(self) -> str:
        return self.args[0].name

    @property
    def arguments(self) -> tuple:
        """``((key, value), …)``, as ``Distribution.args`` holds them."""
        return tuple((pair.args[0].name, pair.args[1]) for pair in self.args[1:])


class Identity(Node):
    """``I``: the identity matrix of the size its context needs (``K + σ² I``).

    Written without arguments; the shape checker gives it its size, a dimension (``Identity(N)``). It is
    a matrix, never a number, so ``c = 2 I`` is no constant.
    """

    nargs = (0, 1)
    is_number = False


class Delta(Node):
    """``δ_{ij}``: 1 where two index expressions are equal, 0 elsewhere."""

    nargs = 2


class OverIndex(Node):
    """``Σ_{j=1}^{J} f``: an operation over an index ``j`` running from ``start`` to ``stop``.

    Arguments: the body, the ``Index``, the first and the last value (integer expressions of
    dimensions). The index is bound inside the body only.
    """

    nargs = 4
    #: the name the notation writes it with, before its subscript (``sum``, ``mean``…)
    word = ""

    @property
    def body(self):
        return self.args[0]

    @property
    def index(self):
        return self.args[1]

    @property
    def start(self):
        return self.args[2]

    @property
    def stop(self):
        return self.args[3]


class IndexSum(OverIndex):
    word = "sum"


class IndexProduct(OverIndex):
    word = "prod"


class IndexMean(OverIndex):
    word = "mean"


class IndexMax(OverIndex):
    word = "max"


class IndexMin(OverIndex):
    word = "min"


class IndexLogSumExp(OverIndex):
    word = "logsumexp"


class IndexSoftmax(OverIndex):
    """``softmax_j f``: ``exp f`` normalised over ``j``, which stays free (it is an index of the result)."""

    word = "softmax"


#: the notation's word before a subscript → the operation over that index
OVER_INDEX = {cls.word: cls for cls in (IndexSum, IndexProduct, IndexMean, IndexMax, IndexMin, IndexLogSumExp,
                                        IndexSoftmax)}


class Softmax(Node):
    """Normalised exponential over the last axis."""

    nargs = 1


class LogSumExp(Node):
    """``log Σ exp`` over every entry, computed stably."""

    nargs = 1


class Relu(Node):
    nargs = 1


class Sigmoid(Node):
    nargs = 1


class Softplus(Node):
    nargs = 1


class Log1p(Node):
    nargs = 1


class ReduceSum(Node):
    """``Σ x``: the sum of every entry."""

    nargs = 1


class ReduceMean(Node):
    nargs = 1


class ReduceMax(Node):
    nargs = 1


class ReduceMin(Node):
    nargs = 1


class Maximum(Node):
    """``max(a, b)``: elementwise, with broadcasting."""

    nargs = 2


class Minimum(Node):
    nargs = 2


class Cholesky(Node):
    """``cholesky(A)``: the lower-triangular ``L`` with ``L Lᵀ = A``, for a symmetric positive-definite ``A``."""

    nargs = 1


class Inverse(Node):
    """``inverse(A)``, ``A⁻¹``: the inverse of a square matrix.

    The parser makes one for every written ``⁻¹``; ``shapes.py`` turns it into ``Pow(x, -1)`` when
    ``x`` is a scalar or a vector (the reciprocal of each entry, as ``x⁻¹`` has always read), so a
    matrix's ``⁻¹`` is never an entrywise reciprocal.
    """

    nargs = 1


class Det(Node):
    nargs = 1


class LogDet(Node):
    """``logdet(A)``: ``log |det A|``, from the LU factorisation (``slogdet``), which never overflows."""

    nargs = 1


class Diag(Node):
    """``diag(v)`` is the diagonal matrix of a vector, ``diag(A)`` the diagonal of a square matrix (as NumPy's)."""

    nargs = 1


class Trace(Node):
    nargs = 1


class Solve(Node):
    """``solve(A, b)``: ``x`` with ``A x = b``, without forming ``A⁻¹``."""

    nargs = 2
