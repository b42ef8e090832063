"""The LaTeX printer: a model's IR → aligned equations of exactly what was written."""

from __future__ import annotations

import sympy
from sympy.printing.latex import LatexPrinter as _SympyLatexPrinter
from sympy.printing.precedence import PRECEDENCE

from ..frontend.distributions import DISTRIBUTIONS
from ..frontend.ir import (
    Assignment,
    Chain,
    Declaration,
    Distribution,
    Factor,
    IndexRange,
    ModelIR,
    Plate,
    Recurrence,
    Sampling,
)
from ..frontend.nodes import OVER_INDEX, Component, Lagged, MatrixProduct
from ..frontend.operations import Kind
from .common import install

#: the word of each operation over an index → how LaTeX writes it before its subscript
OVER = {"sum": r"\sum", "prod": r"\prod", "mean": r"\operatorname{mean}", "max": r"\max", "min": r"\min",
        "logsumexp": r"\operatorname{logsumexp}", "softmax": r"\operatorname{softmax}"}


class LatexPrinter(_SympyLatexPrinter):
    """SymPy's LaTeX printer, taught the IR's nodes by the operation table, keeping terms in the order written."""

    def __init__(self):
        super().__init__({"order": "none", "mul_symbol": None})
        #: the index of the recurrence being printed: its steps' rows are written at ``t - lag``
        self.step_index = "t"

    def _print_MatrixProduct(self, expr):
        a, b = expr.args
        level = PRECEDENCE["Mul"]
        return f"{self.parenthesize(a, level, strict=True)} {self.parenthesize(b, level, strict=False)}"

    def _print_Transposed(self, expr):
        return f"{self.parenthesize(expr.args[0], PRECEDENCE['Pow'], strict=False)}^{{\\top}}"

    def _print_Element(self, expr):
        base, index = (self._print(a) for a in expr.args)
        return f"{base}_{{{index}}}" if "_" not in base else f"{{{base}}}_{{{index}}}"

    def _subscripted(self, base: str, subscripts) -> str:
        inner = ",".join(self._subscript(s) for s in subscripts)
        return f"{base}_{{{inner}}}" if "_" not in base else f"{{{base}}}_{{{inner}}}"

    def _subscript(self, expr) -> str:
        if isinstance(expr, MatrixProduct):
            return "".join(self._subscript(a) for a in expr.args)
        return self._print(expr)

    def _print_Entry(self, expr):
        base = expr.args[0]
        if isinstance(base, Lagged):
            return self._subscripted(_name(self, base.base), (self._step(base), *expr.args[1:]))
        return self._subscripted(self._print(base), expr.args[1:])

    def _step(self, row: Lagged) -> sympy.Expr:
        index = sympy.Symbol(self.step_index)
        return sympy.Add(index, -row.lag, evaluate=False) if row.lag else index

    def _print_Lagged(self, expr):
        return self._subscripted(_name(self, expr.base), (self._step(expr),))

    def _print_FirstRow(self, expr):
        return self._subscripted(_name(self, expr.base), (sympy.Integer(expr.position),))

    def _print_Row(self, expr):
        return self._subscripted(self._print(expr.args[0]), expr.args[1:])

    def _print_Identity(self, expr):
        return "I"

    def _print_Delta(self, expr):
        return self._subscripted(r"\delta", expr.args)

    def _over_index(self, expr):
        operator = OVER[type(expr).word]
        index = self._print(expr.index)
        body = self.parenthesize(expr.body, PRECEDENCE["Mul"], strict=True)
        if type(expr).word == "softmax":
            return rf"{operator}_{{{index}}} {body}"
        return rf"{operator}_{{{index}={self._print(expr.start)}}}^{{{self._print(expr.stop)}}} {body}"

    def _print_Inverse(self, expr):
        return f"{self.parenthesize(expr.args[0], PRECEDENCE['Pow'], strict=True)}^{{-1}}"

    def _print_LogDet(self, expr):
        return rf"\log\left|\det\left({self._print(expr.args[0])}\right)\right|"

    def _print_Solve(self, expr):
        """``A^{-1} b``, as a paper writes the solution of ``A x = b``."""
        a, b = expr.args
        inverse = self.parenthesize(a, PRECEDENCE["Pow"], strict=True)
        return f"{inverse}^{{-1}} {self.parenthesize(b, PRECEDENCE['Mul'], strict=False)}"

    def _print_ReduceSum(self, expr):
        return rf"\sum {self.parenthesize(expr.args[0], PRECEDENCE['Mul'], strict=True)}"


def _print_operator(operator: str, kind: Kind):
    def method(self, expr, exp=None):
        args = ", ".join(self._print(a) for a in expr.args)
        return rf"{operator}\left({args}\right)" + (f"^{{{exp}}}" if exp else "")

    return method


install(LatexPrinter, "latex", _print_operator)
for _node in OVER_INDEX.values():
    setattr(LatexPrinter, f"_print_{_node.__name__}", LatexPrinter._over_index)


def _name(printer: LatexPrinter, name: str) -> str:
    return printer._print(sympy.Symbol(name))


def _plate(printer: LatexPrinter, plate: Plate | None, indices: tuple[IndexRange, ...] = ()) -> str:
    if indices:
        ranges = ", ".join(rf"{_name(printer, r.index)} = {printer._print(r.start)}, \dots, {printer._print(r.stop)}"
                           for r in indices)
        return rf" \quad {ranges}"
    if plate is None:
        return ""
    stop = _name(printer, plate.stop) if isinstance(plate.stop, str) else str(plate.stop)
    return rf" \quad {_name(printer, plate.index)} = {plate.start}, \dots, {stop}"


def _target(printer: LatexPrinter, statement) -> str:
    target = _name(printer, statement.target)
    if statement.indices:
        return printer._subscripted(target, [sympy.Symbol(r.index) for r in statement.indices])
    if statement.plate is None:
        return target
    index = _name(printer, statement.plate.index)
    return f"{target}_{{{index}}}" if "_" not in target else f"{{{target}}}_{{{index}}}"


def _space(printer: LatexPrinter, declaration: Declaration) -> str:
    """``\\mathbb{R}``, ``\\mathbb{N}``, ``\\mathbb{Z}`` or ``\\{1, \\dots, J\\}``: as the cell may write it."""
    domain = declaration.domain
    if not domain.integer:
        if domain.low == 0 and domain.high is None:
            return r"\mathbb{R}_{+}"
        if domain.bounded:
            low = r"-\infty" if domain.low is None else f"{domain.low:g}"
            high = r"\infty" if domain.high is None else f"{domain.high:g}"
            return f"[{low}, {high}]"
        return r"\mathbb{R}"
    if domain.high is None:
        return r"\mathbb{N}" if domain.low == 0 else r"\mathbb{Z}"
    low, high = (_name(printer, b) if isinstance(b, str) else str(b) for b in (domain.low, domain.high))
    return rf"\{{{low}, \dots, {high}\}}"


def statement_latex(statement, printer: LatexPrinter | None = None) -> str:
    """One statement as an aligned row: ``left &= right``."""
    printer = printer or LatexPrinter()
    if isinstance(statement, Declaration):
        names = ", ".join(_name(printer, n) for n in statement.names)
        dims = [_name(printer, d) if isinstance(d, str) else str(d) for d in statement.shape]
        times = r" \times "
        space = _space(printer, statement) + ("^{" + times.join(dims) + "}" if dims else "")
        return rf"{names} &\in {space}"
    if isinstance(statement, Recurrence):
        return _recurrence(statement, printer)
    if isinstance(statement, Chain):
        return " \\\\\n".join(statement_latex(part, printer) for part in (statement.initial, statement.step))
    if isinstance(statement, Assignment):
        return (rf"{_target(printer, statement)} &= {printer._print(statement.expr)}"
                f"{_plate(printer, statement.plate, statement.indices)}")
    if isinstance(statement, Factor):
        return rf"\log p &\mathrel{{+}}= {printer._print(statement.expr)}"
    assert isinstance(statement, Sampling)
    dist = statement.distribution
    return (rf"{_target(printer, statement)} &\sim {_distribution(printer, dist.family, dist.args)}"
            f"{_truncation(printer, dist)}{_plate(printer, statement.plate, statement.indices)}")


def _distribution(printer: LatexPrinter, name: str, arguments) -> str:
    """``\\mathcal{N}\\left(\\mu, \\sigma\\right)``; a mixture's components (a ``Component`` each, listed in a
    ``Tuple``) are distributions too."""
    family = DISTRIBUTIONS[name]
    positional = family.params[: len(arguments)]

    def shown(value) -> str:
        if isinstance(value, Component):
            return _distribution(printer, value.family, value.arguments)
        if isinstance(value, sympy.Tuple):
            return ", ".join(shown(v) for v in value.args)
        return printer._print(value)

    args = ", ".join(shown(value) if key == positional[i] else rf"\text{{{key}}}={shown(value)}"
                     for i, (key, value) in enumerate(arguments))
    return rf"{family.latex}\left({args}\right)"


def _recurrence(recurrence: Recurrence, printer: LatexPrinter) -> str:
    """The initial rows, then each step over ``t = start, …, stop``: one row each, as written."""
    printer.step_index = recurrence.index
    index = sympy.Symbol(recurrence.index)
    rows = [rf"{printer._subscripted(_name(printer, row.target), (sympy.Integer(row.position),))} &= "
            f"{printer._print(row.expr)}" for row in recurrence.initial]
    for step in recurrence.steps:
        target = printer._subscripted(_name(printer, step.target), (index, *(sympy.Symbol(r.index)
                                                                           for r in step.indices)))
        ranges = (IndexRange(recurrence.index, recurrence.start, recurrence.stop, recurrence.span), *step.indices)
        rows.append(rf"{target} &= {printer._print(step.expr)}{_plate(printer, None, ranges)}")
    return " \\\\\n".join(rows)


def _truncation(printer: LatexPrinter, distribution: Distribution) -> str:
    r"""``_{[0, \infty)}``: a truncation as a subscript interval, an open side at ±∞."""
    if not distribution.truncated:
        return ""
    low = r"(-\infty" if distribution.low is None else f"[{printer._print(distribution.low)}"
    high = r"\infty)" if distribution.high is None else f"{printer._print(distribution.high)}]"
    return f"_{{{low}, {high}}}"


def print_latex(ir: ModelIR) -> str:
    """The model as ``\\begin{aligned} … \\end{aligned}``, one row a statement."""
    printer = LatexPrinter()
    rows = [statement_latex(s, printer) for s in ir.statements]
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"
