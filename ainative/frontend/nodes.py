"""The SymPy nodes of the IR that SymPy lacks (what each one means lives in ``operations.py``).

Variables are plain ``Symbol``s; their shapes live in the shape table, not in the node, so
elementwise arithmetic is SymPy's own ``Add``/``Mul``/``Pow``. The nodes below carry the
operations that are not elementwise scalar algebra. They never evaluate: each printer gives
each node its meaning through a row of the operation table or a ``_print_<Node>`` method.
"""

from __future__ import annotations

from sympy import Function
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
