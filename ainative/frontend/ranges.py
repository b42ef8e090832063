"""Index arithmetic at cell time: the least and greatest value of a subscript, proved against an axis.

An index runs over whole numbers between two integer expressions of dimensions. A subscript is
linear in the indices (``t + k - 1``, ``2t``), or an entry of integer data whose values are
declared (``county_i`` with ``county ∈ {1..J}^N``); its extremes follow at the corners of the
indices' ranges. Dimensions are positive whole numbers, with their values where the cell binds
them, so ``t + k - 1 ≤ T`` for ``t ≤ T - K + 1``, ``k ≤ K`` is proved for every ``T`` and ``K``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sympy

from .ir import Dim, Size
from .nodes import Entry, Index, MatrixProduct

#: the whole-number range of an index: ``(start, stop)``
Range = tuple[sympy.Expr, sympy.Expr]


def as_expr(dim: Dim) -> sympy.Expr:
    """A dimension as an integer expression (``T`` → the symbol ``T``)."""
    if isinstance(dim, Size):
        return dim.expr
    return sympy.Symbol(dim) if isinstance(dim, str) else sympy.Integer(dim)


def as_dim(expr: sympy.Expr) -> Dim:
    """An integer expression as a dimension: a number, a name, or a ``Size`` computed from names."""
    expr = sympy.sympify(expr)
    if expr.is_Integer:
        return int(expr)
    if isinstance(expr, sympy.Symbol):
        return expr.name
    return Size(expr)


def arithmetic(expr: sympy.Expr) -> sympy.Expr:
    """A subscript as integer arithmetic, in one canonical form: juxtaposed factors multiply (``2t``), and
    ``t + k - 1`` is one expression however it was spelled."""
    return expr.replace(lambda e: isinstance(e, MatrixProduct), lambda e: sympy.Mul(*e.args)).doit()


def nonnegative(expr: sympy.Expr, values: Mapping[str, int]) -> bool | None:
    """Whether ``expr ≥ 0`` for every positive whole value of its dimensions (None: it depends on them)."""
    expr = sympy.sympify(expr).subs({sympy.Symbol(k): v for k, v in values.items()})
    positive = {s: sympy.Symbol(s.name, integer=True, positive=True) for s in expr.free_symbols}
    return sympy.simplify(expr.xreplace(positive)).is_nonnegative


class NotLinear(Exception):
    """A subscript that is not a whole-number linear function of indices (``x_{t·t}``)."""


def extent(expr: sympy.Expr, ranges: Mapping[str, Range], data: Callable[[Entry], Range]) -> Range:
    """The least and greatest value of a subscript over its indices' ranges.

    ``data`` gives the declared range of the values of an entry of integer data.
    """
    expr = arithmetic(expr)
    entries = {entry: sympy.Dummy(integer=True) for entry in expr.atoms(Entry)}
    stand_ins: dict[sympy.Symbol, Range] = {symbol: data(entry) for entry, symbol in entries.items()}
    expr = expr.xreplace(entries)
    for index in expr.atoms(Index):
        stand_ins[index] = ranges[index.name]
    expr = sympy.expand(expr)
    low = high = expr
    for symbol, (start, stop) in stand_ins.items():
        coefficient = expr.coeff(symbol)
        if not coefficient.is_Integer or sympy.expand(expr - coefficient * symbol).has(symbol):
            raise NotLinear(str(expr))
        low_end, high_end = (start, stop) if coefficient >= 0 else (stop, start)
        low, high = low.subs(symbol, low_end), high.subs(symbol, high_end)
    return sympy.expand(low), sympy.expand(high)
