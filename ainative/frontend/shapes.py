"""Shapes with symbolic dimensions, checked before anything runs.

Every axis remembers where it was fixed (the declaration or expression that gave it), so a
conflict names both shapes and the lines behind them. Dimensions (``D``, ``H``) are bound by
constants in the cell, by a literal they meet in an expression, and later by ``init`` keywords
and data (``bind``). Juxtaposition is resolved here: with a scalar operand it is a product,
otherwise a matrix product. So is ``x⁻¹``: the inverse of a matrix, else the reciprocal of each entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import sympy

from ..errors import DataError, ShapeError, Span
from .distributions import DISTRIBUTIONS, Components, Sampled
from .ir import (
    Assignment,
    Cell,
    Chain,
    Condition,
    Declaration,
    Dim,
    Factor,
    IndexRange,
    ModelIR,
    Recurrence,
    Roles,
    Sampling,
    Shape,
    Size,
)
from .nodes import (
    Component,
    Delta,
    Element,
    Entry,
    FirstRow,
    Identity,
    Index,
    IndexSoftmax,
    Inverse,
    Lagged,
    MatrixProduct,
    OverIndex,
    Row,
    Transposed,
    as_written,
)
from .operations import Kind, kind_of
from .ranges import NotLinear, arithmetic, as_dim, as_expr, extent, nonnegative


@dataclass(frozen=True)
class Axis:
    """One axis of an inferred shape: its size and the statement that fixed it."""

    size: Dim
    origin: Span | None = field(default=None, compare=False)
    origin_text: str = field(default="", compare=False)


@dataclass
class _Range:
    """Where an index runs while a statement is checked: given, or fixed by the first axis it indexes."""

    name: str
    start: sympy.Expr | None = None
    stop: sympy.Expr | None = None
    given: bool = False
    origin: str = ""

    @property
    def known(self) -> bool:
        return self.stop is not None


#: ``I`` as written, before the shape checker gives it a size
UNSIZED = Identity()


def _fill_softmax(expr: sympy.Basic, ranges: Mapping[str, _Range]) -> sympy.Basic:
    """``softmax_j`` runs over the range ``j`` has where it is bound: written into the node once known."""
    def fill(node):
        index = ranges[node.index.name]
        return IndexSoftmax(node.body, node.index, index.start, index.stop)

    return expr.replace(lambda e: isinstance(e, IndexSoftmax) and e.stop is sympy.nan and e.index.name in ranges,
                        fill)


#: kinds whose operations take whole matrices (linear algebra)
MATRIX_KINDS = (Kind.SQUARE, Kind.SQUARE_TO_SCALAR, Kind.DIAGONAL, Kind.SOLVE)


def format_shape(shape) -> str:
    """``(H, D)``, ``(D,)`` or ``scalar``."""
    sizes = [str(a.size if isinstance(a, Axis) else a) for a in shape]
    return "scalar" if not sizes else "(" + ", ".join(sizes) + ("," if len(sizes) == 1 else "") + ")"


class _Checker:
    def __init__(self, cell: Cell, roles: Roles):
        self.cell, self.roles = cell, roles
        self.declared: dict[str, tuple[tuple[Axis, ...], Declaration]] = {}
        self.shapes: dict[str, tuple[Axis, ...]] = {}
        self.dims: dict[str, tuple[int, Span | None, str]] = {}
        self.statement = None
        self.spans: dict[sympy.Basic, Span] = {}
        self.probabilistic = any(isinstance(s, Sampling) for s in cell.statements)
        #: while a statement written with indices is checked: each index in scope, and each entry with its scope
        self.scope: dict[str, _Range] | None = None
        self.uses: list[tuple[Entry, dict[str, _Range]]] = []
        self.pending: list[tuple[Entry, dict[str, _Range]]] = []
        #: what subscripts need of dimensions the cell leaves to the data (checked when they are bound)
        self.conditions: list[Condition] = []
        #: integer data's declared values, for subscripts that are entries of it
        self.domains: dict[str, tuple[sympy.Expr, sympy.Expr]] = {}
        #: each class-label latent (``z ~ Categorical(θ)``) and its number of classes, θ's last axis
        self.labels: dict[str, Dim] = {}
        #: the latents NUTS sums out by enumeration (discrete families), whose values gain leading axes there
        self.enumerated = {s.target for s in cell.statements if isinstance(s, Sampling)
                           and s.target not in roles.inputs
                           and DISTRIBUTIONS[s.distribution.family].enumerable}
        #: the plate each of those is drawn in (its index), which every statement reading its entries shares
        self.drawn_over = {s.target: s.plate.index if s.plate else None for s in cell.statements
                           if isinstance(s, Sampling) and s.target in self.enumerated}
        for statement in cell.statements:
            if isinstance(statement, Declaration):
                axes = tuple(Axis(d, statement.span, statement.text) for d in statement.shape)
                for name in statement.names:
                    if name in self.declared and self.declared[name][0] != axes:
                        first = self.declared[name][1]
                        raise self.error(f"{name} is declared twice with different shapes: "
                                         f"{format_shape(self.declared[name][0])} on line {first.span.line} "
                                         f"and {format_shape(axes)}", statement.span)
                    self.declared[name] = (axes, statement)
                    domain = statement.domain
                    if domain.integer and domain.low is not None and domain.high is not None:
                        self.domains[name] = (as_expr(domain.low), as_expr(domain.high))
        constants = dict(roles.constants)
        for name in roles.dims:
            if name in constants:
                value = constants[name]
                statement = next(s for s in cell.statements if isinstance(s, Assignment) and s.target == name)
                if not (value.is_Integer and value > 0):
                    raise self.error(f"{name} is a dimension, so it must be a positive integer, not {value}",
                                     statement.span)
                self.dims[name] = (int(value), statement.span, statement.text)

    # errors ----------------------------------------------------------------------------
    def error(self, message: str, span: Span | None, notes: tuple[str, ...] = ()) -> ShapeError:
        line = self.cell.line_text(span.line) if span else None
        return ShapeError(message, span, line, notes)

    def span(self, expr) -> Span | None:
        if self.statement is None:
            return None
        return self.spans.get(expr, self.statement.span)

    def text(self, expr) -> str:
        span = self.span(expr)
        if span is None:
            return str(expr)
        return self.cell.line_text(span.line)[span.column - 1 : span.end_column - 1]

    def origins(self, shape) -> list[str]:
        notes = []
        for axis in shape:
            if isinstance(axis.size, str) and axis.origin is not None:
                bound = self.dims.get(axis.size)
                where = f"line {axis.origin.line}: {axis.origin_text}"
                notes.append(f"{axis.size} comes from {where}" + (f" ({axis.size} = {bound[0]})" if bound else ""))
        return notes

    def describe(self, *operands) -> tuple[str, ...]:
        notes = []
        for expr, shape in operands:
            notes.append(f"{self.text(expr)} has shape {format_shape(shape)}")
            notes.extend("  " + n for n in self.origins(shape) if "  " + n not in notes)
        return tuple(notes)

    # dimensions ------------------------------------------------------------------------
    def value(self, axis: Axis) -> int | None:
        if isinstance(axis.size, int):
            return axis.size
        if isinstance(axis.size, Size):
            value = axis.size.expr.subs({sympy.Symbol(n): v[0] for n, v in self.dims.items()})
            return int(value) if value.is_Integer else None
        bound = self.dims.get(axis.size)
        return bound[0] if bound else None

    def values(self) -> dict[str, int]:
        return {name: bound[0] for name, bound in self.dims.items()}

    def same(self, a: Axis, b: Axis, where: Span | None) -> bool:
        """Whether two axes are one size, binding a free dimension to a literal it meets."""
        if a.size == b.size:
            return True
        va, vb = self.value(a), self.value(b)
        if va is not None and vb is not None:
            return va == vb
        if isinstance(a.size, Size) or isinstance(b.size, Size):
            return sympy.simplify(as_expr(a.size) - as_expr(b.size)) == 0
        if isinstance(a.size, str) and va is None and vb is not None and isinstance(b.size, int):
            self.dims[a.size] = (vb, where, self.statement.text if self.statement else "")
            return True
        if isinstance(b.size, str) and vb is None and va is not None and isinstance(a.size, int):
            self.dims[b.size] = (va, where, self.statement.text if self.statement else "")
            return True
        return False

    def broadcast(self, expr, operands) -> tuple[Axis, ...]:
        result: tuple[Axis, ...] = ()
        for _, shape in operands:
            if not result:
                result = shape
                continue
            if not shape:
                continue
            n = max(len(result), len(shape))
            a = (Axis(1),) * (n - len(result)) + result
            b = (Axis(1),) * (n - len(shape)) + shape
            out = []
            for x, y in zip(a, b):
                if self.value(x) == 1 and x.size == 1:
                    out.append(y)
                elif self.value(y) == 1 and y.size == 1:
                    out.append(x)
                elif self.same(x, y, self.span(expr)):
                    out.append(x)
                else:
                    raise self.error(f"shapes {format_shape(result)} and {format_shape(shape)} do not match",
                                     self.span(expr), self.describe(*operands))
            result = tuple(out)
        return result

    # expressions -----------------------------------------------------------------------
    def infer(self, expr) -> tuple[sympy.Basic, tuple[Axis, ...]]:
        if isinstance(expr, Index):
            return expr, ()
        if isinstance(expr, (sympy.Symbol, Element, Entry)) and _base(expr) in self.labels:
            name = _base(expr)
            raise self.error(f"{name} is a class label (a Categorical latent, 0..{as_expr(self.labels[name]) - 1}): "
                             f"its value is only read as a subscript that picks an entry, e.g. μ_{{{name}_i+1}}, "
                             "never as a number", self.span(as_written(expr)))
        if isinstance(expr, sympy.Symbol):
            return expr, self.symbol(expr)
        if isinstance(expr, Component):
            return self.component(expr)
        if isinstance(expr, Identity):
            return self.identity(expr)
        if not expr.args:
            return expr, ()
        if isinstance(expr, Element):
            return self.element(expr)
        if isinstance(expr, Row):
            return self.row(expr)
        if isinstance(expr, Entry):
            return self.entry(expr)
        if isinstance(expr, Delta):
            for side in expr.args:
                self.subscript(side, expr)
            return expr, ()
        if isinstance(expr, OverIndex):
            return self.over_index(expr)
        if kind_of(expr) is Kind.BROADCAST and expr.has(UNSIZED):
            expr = self.size_identity(expr)
        args, shapes = [], []
        for arg in expr.args:
            new, shape = self.infer(arg)
            args.append(new)
            shapes.append(shape)
        rebuilt = self.rebuild(expr, args)
        operands = list(zip(expr.args, shapes))
        kind = kind_of(expr)
        if isinstance(expr, Inverse) and len(shapes[0]) < 2:
            reciprocal = sympy.Pow(args[0], -1, evaluate=False)
            self.spans.setdefault(reciprocal, self.span(expr))
            return reciprocal, shapes[0]
        on_rows = kind in (Kind.LAST_AXIS, Kind.REDUCTION) or (kind in MATRIX_KINDS and any(shapes)) or (
            isinstance(expr, MatrixProduct) and all(shapes)) or (
            isinstance(expr, Transposed) and len(shapes[0]) > 1)
        if on_rows and self.probabilistic and self.statement.plate is not None and expr.has(Element):
            raise self.error(f"{self.text(expr)} works on a plate's row, which a probabilistic model's plates do not "
                             "take yet: only elementwise operations apply to its entries there", self.span(expr))
        if isinstance(expr, MatrixProduct):
            return self.product(expr, rebuilt, operands)
        if kind in MATRIX_KINDS:
            return rebuilt, self.linear_algebra(expr, kind, operands)
        if isinstance(expr, sympy.Pow) and len(shapes[0]) > 1 and expr.exp.is_negative and expr.exp != -1:
            raise self.error(f"{self.text(expr)}: a negative power of a matrix other than ⁻¹ is not read (it would be "
                             "entrywise); write inverse(A) and multiply, or 1/A^k for each entry (a division by "
                             "a matrix is entrywise, as in NumPy)", self.span(expr),
                             self.describe(operands[0]))
        if kind is Kind.BROADCAST:
            return rebuilt, self.broadcast(expr, operands)
        if isinstance(expr, Transposed):
            return rebuilt, tuple(reversed(shapes[0]))
        if kind is Kind.LAST_AXIS and not shapes[0]:
            raise self.error(f"{self.text(expr)} normalises along a last axis, and its argument is a scalar (the "
                             "result would always be 1): give it a vector", self.span(expr),
                             self.describe((expr.args[0], shapes[0])))
        if kind in (Kind.ELEMENTWISE, Kind.LAST_AXIS):
            return rebuilt, shapes[0]
        if kind is Kind.REDUCTION:
            return rebuilt, ()
        raise self.error(f"{type(expr).__name__} is not supported here", self.span(expr))

    def rebuild(self, expr, args):
        if all(a is b for a, b in zip(args, expr.args)):
            return expr
        return expr.func(*args, evaluate=False)

    def product(self, expr, rebuilt, operands):
        (a, sa), (b, sb) = operands
        left, right = rebuilt.args
        if not sa or not sb:
            return sympy.Mul(left, right, evaluate=False), sa or sb
        inner_a = sa[-1]
        inner_b = sb[0] if len(sb) == 1 else sb[-2]
        if not self.same(inner_a, inner_b, self.span(expr)):
            raise self.error(
                f"cannot multiply {format_shape(sa)} by {format_shape(sb)}: {inner_a.size} ≠ {inner_b.size}",
                self.span(expr), self.describe(*operands))
        if len(sa) == 1 and len(sb) == 1:
            return rebuilt, ()
        if len(sa) == 1:
            return rebuilt, sb[:-2] + sb[-1:]
        if len(sb) == 1:
            return rebuilt, sa[:-1]
        batch = self.broadcast(expr, [(a, sa[:-2]), (b, sb[:-2])])
        return rebuilt, batch + (sa[-2], sb[-1])

    def linear_algebra(self, expr, kind: Kind, operands) -> tuple[Axis, ...]:
        """The shape of ``cholesky``, ``det``, ``diag``, ``solve``…: operands checked as the table's kind says."""
        (a, sa), *rest = operands
        if kind is Kind.DIAGONAL and len(sa) == 1:
            return (sa[0], sa[0])
        if len(sa) != 2 or not self.same(sa[0], sa[1], self.span(a)):
            what = "a vector or a square matrix" if kind is Kind.DIAGONAL else "a square matrix"
            raise self.error(f"{self.text(expr)} takes {what}, and {self.text(a)} has shape {format_shape(sa)}",
                             self.span(a), self.describe((a, sa)))
        if kind is Kind.SQUARE:
            return sa
        if kind is Kind.SQUARE_TO_SCALAR:
            return ()
        if kind is Kind.DIAGONAL:
            return sa[:1]
        ((b, sb),) = rest
        if len(sb) not in (1, 2) or not self.same(sa[1], sb[0], self.span(b)):
            raise self.error(f"{self.text(expr)}: the right-hand side must have {sa[1].size} rows (a vector or a "
                             f"matrix), and {self.text(b)} has shape {format_shape(sb)}", self.span(b),
                             self.describe((a, sa), (b, sb)))
        return sb

    def element(self, expr):
        base, index = expr.args
        plate = self.statement.plate
        shape = self.shapes.get(base.name, ())
        if base.name in self.roles.inputs and base.name not in self.declared and not shape:
            shape = (self.plate_axis(),)
            self.shapes[base.name] = shape
        if not shape:
            raise self.error(f"{base.name} is a scalar, so {base.name}_{index} cannot index it", self.span(expr))
        if not self.same(shape[0], self.plate_axis(), self.span(expr)):
            raise self.error(
                f"{base.name} has {shape[0].size} entries along its first axis, but the plate runs over "
                f"{plate.stop}", self.span(expr), self.describe((base, shape)))
        return expr, shape[1:]

    def row(self, expr: Row):
        """``x_1``, ``h_T``: one row of an array; its position is proved inside the first axis."""
        base, position = expr.args
        shape = self.shapes.get(base.name)
        if not shape:
            what = "is a scalar" if shape == () else "has no rows yet here"
            raise self.error(f"{self.text(expr)}: {base.name} {what}, so it has no row {position}", self.span(expr))
        self.within(position, position, shape[0], base.name, expr)
        if self.scope is not None and shape[1:]:
            raise self.error(f"{self.text(expr)} is a row of {base.name}, shape {format_shape(shape[1:])}: in a "
                             "statement written with indices, use its entries", self.span(expr))
        return expr, shape[1:]

    def within(self, low: sympy.Expr, high: sympy.Expr, size: Axis, name: str, expr) -> None:
        """Positions ``low..high`` (1-based) lie on an axis of ``size``: proved, left for the data, or a ShapeError."""
        self.prove(((low - 1, f"{self.text(expr)} reaches row {low} of {name}, whose rows start at 1"),
                    (as_expr(size.size) - high, f"{self.text(expr)} reaches row {high} of {name}, beyond its "
                                                f"{size.size} rows")), size, expr)

    def prove(self, margins, size: Axis, expr) -> None:
        """Each ``(margin, message)``: a margin proved ≥ 0 for every dimension passes, one proved negative is a
        ShapeError at ``expr``, and one that depends on dimensions the data binds is checked when they are bound."""
        for margin, message in margins:
            proved = nonnegative(margin, self.values())
            if proved is False:
                raise self.error(message, self.span(expr), tuple(self.origins((size,))))
            if proved is None:
                self.conditions.append(Condition(margin, message))

    # recurrences -------------------------------------------------------------------------
    def recurrence(self, recurrence: Recurrence) -> Recurrence:
        """A recurrence's rows: each variable keeps one row shape from its first rows through every step."""
        rows: dict[str, tuple[Axis, ...]] = {}
        for name in recurrence.targets:
            if name in self.declared:
                declared = self.declared[name][0]
                if not declared:
                    raise self.error(f"{name} is declared a scalar, but a recurrence makes it an array of rows "
                                     f"(declare {name} ∈ ℝ^{recurrence.stop} or more axes)", recurrence.span)
                rows[name] = declared[1:]
        initial, first_shapes = [], []
        for row in recurrence.initial:
            self.statement, self.spans = row, dict(row.spans)
            expr, shape = self.infer(row.expr)
            initial.append(replace(row, expr=expr))
            first_shapes.append(shape)
            self.shapes[FirstRow.of(row.target, row.position).name] = shape
            if shape:
                rows.setdefault(row.target, shape)
        start, stop = recurrence.start, recurrence.stop
        for lagged in recurrence.sequences:
            first = next(step for step in recurrence.steps if lagged in step.expr.atoms(Lagged))
            self.statement, self.spans = first, dict(first.spans)
            shape = self.shapes.get(lagged.base)
            if not shape:
                raise self.error(f"the steps read {lagged.base} along {recurrence.index}, so it has rows: declare "
                                 f"{lagged.base} ∈ ℝ^{{{recurrence.stop}×…}}", recurrence.span)
            self.within(start - lagged.lag, stop - lagged.lag, shape[0], lagged.base, lagged)
            self.shapes[lagged.name] = shape[1:]
        lags = recurrence.lags
        for name, lag in lags.items():
            for k in range(1, lag + 1):
                self.shapes[Lagged.of(name, k).name] = rows.get(name, ())
        steps = []
        for step in recurrence.steps:
            self.statement, self.spans = step, dict(step.spans)
            if step.indexed:
                exprs, ranges, shape = self.indexed(step)
                checked = _with_exprs(step, exprs, ranges)
            else:
                expr, shape = self.infer(step.expr)
                checked = _with_exprs(step, (expr,))
            name = step.target
            if name in lags or name in self.declared:
                known = rows.get(name, ())
                if not self.same_shape(known, shape):
                    written = f"{name}_{{{recurrence.index}-1}}" if name in lags else f"{name}'s declared rows"
                    raise self.error(f"{name}_{recurrence.index} has shape {format_shape(shape)}, but {written} has "
                                     f"shape {format_shape(known)}: a recurrent variable keeps one shape from step "
                                     f"to step (declare {name} ∈ ℝ^{{{recurrence.stop}×…}} to give its rows a "
                                     "shape before the steps)", step.span,
                                     self.describe((step.expr, shape)) + tuple(self.origins(known)))
                shape = known
            rows[name] = shape
            self.shapes[Lagged.of(name, 0).name] = shape
            self.define(name, (Axis(as_dim(stop), recurrence.span, recurrence.text), *shape), step)
            steps.append(checked)
        for n, (row, shape) in enumerate(zip(initial, first_shapes)):
            self.statement = row
            if shape and not self.same_shape(rows[row.target], shape):
                raise self.error(f"{row.target}_{row.position} has shape {format_shape(shape)}, but {row.target}'s "
                                 f"rows have shape {format_shape(rows[row.target])}", row.span,
                                 self.describe((row.expr, shape)) + tuple(self.origins(rows[row.target])))
            if not shape and rows[row.target]:
                initial[n] = replace(row, fills=True)
        return replace(recurrence, initial=tuple(initial), steps=tuple(steps))

    def chain(self, chain: Chain) -> Chain:
        """A chain of class labels: the first label's probabilities give the classes, the transition matrix has a
        row for each label before (picked by ``z_{t-1} + shift``) and a column for each class, and the chain has
        a label for each step."""
        first = chain.initial
        self.statement, self.spans = first, dict(first.spans)
        operands = [self.infer(v) for v in first.distribution.values]
        expr, shape = operands[0]
        if len(shape) != 1:
            raise self.error(f"{first.target}'s probabilities are one vector over the classes, not shape "
                             f"{format_shape(shape)}", self.span(first.distribution.values[0]) or first.span,
                             self.describe((first.distribution.values[0], shape)))
        classes = shape[0]
        step = chain.step
        self.statement, self.spans = step, dict(step.spans)
        argument = step.distribution.values[0]
        matrix = self.shapes.get(chain.matrix, self.declared.get(chain.matrix, ((),))[0])
        if len(matrix) != 2:
            declare = f" (declare it: {chain.matrix} ∈ ℝ^{{{classes.size}×{classes.size}}})" if not matrix else ""
            raise self.error(f"{chain.matrix} holds the transition probabilities, a row for each label before and a "
                             f"column for each class: a matrix, not shape {format_shape(matrix)}{declare}",
                             self.span(argument), self.describe((sympy.Symbol(chain.matrix), matrix)))
        if not self.same(matrix[1], classes, self.span(argument)):
            raise self.error(f"{chain.matrix} has {matrix[1].size} columns, but {first.target} has "
                             f"{classes.size} classes: a row of transition probabilities has one for each class",
                             self.span(argument), tuple(self.origins((matrix[1], classes))))
        self.within(sympy.Integer(chain.shift), as_expr(classes.size) - 1 + chain.shift, matrix[0], chain.matrix,
                    argument)
        name = chain.target
        self.define(name, (Axis(as_dim(chain.stop), step.span, step.text),), step)
        self.labels[name] = classes.size
        self.domains[name] = (sympy.Integer(0), as_expr(classes.size) - 1)
        return replace(chain, initial=_with_exprs(first, (expr,)))

    def same_shape(self, a: tuple[Axis, ...], b: tuple[Axis, ...]) -> bool:
        return len(a) == len(b) and all(self.same(x, y, self.span(self.statement)) for x, y in zip(a, b))

    # the identity ----------------------------------------------------------------------
    def identity(self, expr: Identity):
        if not expr.args:
            raise self.error("I is the identity matrix, and its size comes from a square matrix it is added to "
                             "(K + σ² I): here nothing gives it one", self.span(expr))
        size = as_dim(expr.args[0])
        return expr, (Axis(size), Axis(size))

    def size_identity(self, expr):
        """``K + σ² I``: the identity takes the size of the square matrix among the other terms."""
        others = [self.infer(arg) for arg in expr.args if not arg.has(UNSIZED)]
        shape = self.broadcast(expr, [(arg, shape) for arg, shape in others]) if others else ()
        if len(shape) != 2 or not self.same(shape[0], shape[1], self.span(expr)):
            raise self.error(f"I is the identity matrix, and here the other terms have shape {format_shape(shape)}: "
                             "it is sized by a square matrix beside it", self.span(expr),
                             self.describe(*[(e, s) for e, s in others]))
        sized = Identity(as_expr(shape[0].size))
        return expr.xreplace({UNSIZED: sized})

    # indices -----------------------------------------------------------------------------
    def symbol(self, expr: sympy.Symbol) -> tuple[Axis, ...]:
        name = expr.name
        if name not in self.shapes and (name in self.roles.params or name in self.roles.inputs):
            self.shapes[name] = ()
        shape = self.shapes.get(name, ())
        if self.scope is not None and shape:
            marks = ",".join("ijklmn"[: len(shape)]) if len(shape) > 1 else "i"
            raise self.error(f"{name} has shape {format_shape(shape)}: in a statement written with indices, use its "
                             f"entries ({name}_{{{marks}}}), one index for each axis", self.span(expr),
                             self.describe((expr, shape)))
        return shape

    def entry(self, expr: Entry):
        """``x_{…}``: one index expression per axis of ``x``; plain indices take their range from the axis."""
        if self.scope is None:
            raise self.error(f"{self.text(expr)} has a subscript that is not an index here", self.span(expr))
        base, *subscripts = expr.args
        name = base.name
        for sub in subscripts:
            self.subscript(sub, expr)
        shape = self.shapes.get(name)
        if shape is None and name not in self.declared and (name in self.roles.params or name in self.roles.inputs):
            self.pending.append((expr, dict(self.scope)))
            return expr, ()
        shape = shape or ()
        if len(subscripts) != len(shape):
            what = "a scalar" if not shape else f"shape {format_shape(shape)}"
            raise self.error(f"{name} is {what}, so it takes {len(shape)} subscript(s), not {len(subscripts)}"
                             + (": a statement with indices names every entry" if len(subscripts) < len(shape)
                                else ""), self.span(expr), self.describe((base, shape)))
        for axis, (sub, size) in enumerate(zip(subscripts, shape)):
            if isinstance(sub, Index):
                self.bind_range(self.scope[sub.name], size, f"{name}'s axis {axis + 1}", expr)
        if name in self.enumerated:
            self.enumerated_entry(expr, shape)
        self.uses.append((expr, dict(self.scope)))
        return expr, ()

    def enumerated_entry(self, expr: Entry, shape: tuple[Axis, ...]) -> None:
        """A latent NUTS sums out has its values along extra leading axes there, so the program reads it whole:
        ``z_i`` in a statement whose one index is ``i`` and runs over all of ``z`` (checked once ranges are known)."""
        name, subscripts = expr.args[0].name, expr.args[1:]
        free = [r.index for r in self.statement.indices]
        if len(shape) != 1 or subscripts != (Index(free[0]),) if len(free) == 1 else True:
            raise self.error(f"{self.text(expr)}: {name} is a discrete latent that inference sums out, so a "
                             "statement written with indices reads it as z_i, with i its only index (a plate over "
                             f"all of {name})", self.span(expr))
        self.same_plate(expr, free[0])
        self.whole.append((expr, shape[0]))

    def same_plate(self, expr: Entry | Element, index: str) -> None:
        """A summed-out latent's entries are read in the plate it was drawn in: inference sums it out entry by
        entry only where it knows the entries are the same."""
        name, drawn = _base(expr), self.drawn_over[_base(expr)]
        if drawn != index:
            where = f"in the plate over {drawn}" if drawn else "without a plate"
            raise self.error(f"{self.text(as_written(expr))}: {name} is a discrete latent that inference sums out, "
                             f"drawn {where}, so the statements that read its entries run over "
                             f"{drawn or 'the same plate'} too (z_i ~ …  for i in 1..N, then … z_i …  for i in 1..N)",
                             self.span(as_written(expr)))

    def subscript(self, sub: sympy.Expr, where: sympy.Basic) -> None:
        """A subscript's entries of data are checked as entries; its other names must be dimensions."""
        stack = [sub]
        while stack:
            node = stack.pop()
            if isinstance(node, Entry):
                self.entry(node)
                continue
            stack.extend(node.args)
            if isinstance(node, sympy.Symbol) and node.name in self.labels:
                raise self.error(f"{node.name} is a class label drawn without a plate: a label picks entries as "
                                 f"{node.name}_i, drawn in a plate ({node.name}_i ~ Categorical(θ)  for i in 1..N)",
                                 self.span(where))
            if isinstance(node, sympy.Symbol) and not isinstance(node, Index) and node.name not in self.roles.dims:
                raise self.error(f"{node.name} is in a subscript, but it is not an index here (of a plate, of the "
                                 "left side or of a reduction around it) nor a dimension", self.span(where))

    def bind_range(self, index: _Range, size: Axis, origin: str, expr) -> None:
        """An index used plainly on an axis: it runs over that axis, unless its range was written."""
        if index.given:
            return
        if not index.known:
            index.start, index.stop, index.origin = sympy.Integer(1), as_expr(size.size), origin
            return
        if index.start == 1 and self.same(Axis(as_dim(index.stop)), size, self.span(expr)):
            return
        raise self.error(f"index {index.name} runs over {index.origin} (1..{index.stop}) and over {origin} "
                         f"(1..{size.size}): they differ", self.span(expr))

    def over_index(self, expr: OverIndex):
        name = expr.index.name
        if isinstance(expr, IndexSoftmax):
            body, _ = self.infer(expr.body)
            return type(expr)(body, expr.index, expr.start, expr.stop), ()
        given = expr.stop is not sympy.nan
        index = _Range(name, expr.start if given else None, expr.stop if given else None, given,
                       "its bounds" if given else "")
        if given:
            for bound in (expr.start, expr.stop):
                if bound.atoms(Index):
                    raise self.error(f"{self.text(expr)}: a range's bounds are whole numbers and dimensions, not an "
                                     "index: ranges that depend on another index are not read yet", self.span(expr))
                self.subscript(bound, expr)
        outer = self.scope.get(name)
        self.scope[name] = index
        body, _ = self.infer(expr.body)
        if outer is None:
            del self.scope[name]
        else:
            self.scope[name] = outer
        if not index.known:
            raise self.error(f"the range of {name} is not known: write it ({self.word(expr)}_{{{name}=1}}^{{N}}) or "
                             f"use {name} plainly as a subscript of an array", self.span(expr))
        body = _fill_softmax(body, {name: index})
        return type(expr)(body, expr.index, index.start, index.stop), ()

    @staticmethod
    def word(expr: OverIndex) -> str:
        return "Σ" if expr.word == "sum" else "∏" if expr.word == "prod" else expr.word

    def data_range(self, entry: Entry) -> tuple[sympy.Expr, sympy.Expr]:
        """The declared values of integer data used as a subscript, or a class label's 0..K-1."""
        name = entry.args[0].name
        if name in self.domains:
            return self.domains[name]
        if name in self.roles.latents:
            raise self.error(f"{name} is used as a subscript, but it is a latent that is not a class label: only "
                             "integer data and Categorical latents pick entries", self.span(entry))
        raise self.error(f"{name} is used as a subscript, so its values must be declared whole numbers in a range "
                         f"(e.g. {name} ∈ {{1..J}}^N)", self.span(entry))

    def indexed(self, statement) -> tuple[tuple[sympy.Basic, ...], tuple[IndexRange, ...], tuple[Axis, ...]]:
        """Check a statement written with indices: ranges, every subscript within its axis; its free indices."""
        self.scope = {r.index: _Range(r.index, None if r.inferred else r.start, None if r.inferred else r.stop,
                                      not r.inferred, "the plate") for r in statement.indices}
        self.uses, self.pending, self.whole = [], [], []
        try:
            exprs = [self.infer(value)[0] for value in statement.exprs]
            free = self.scope
            for entry, scope in self.pending:
                self.infer_shape(entry, scope)
            for index in free.values():
                if not index.known:
                    self.infer_from_offsets(index)
            for entry, scope in self.uses:
                self.check_entry(entry, scope)
            for entry, size in self.whole:
                index = free[entry.args[1].name]
                if not (index.start == 1 and self.same(Axis(as_dim(index.stop)), size, self.span(entry))):
                    raise self.error(f"{self.text(entry)}: {entry.args[0].name} is a discrete latent that inference "
                                     f"sums out, so the statement runs over all its {size.size} entries, not "
                                     f"{index.start}..{index.stop}", self.span(entry))
        finally:
            self.scope = None
        ranges, axes = [], []
        for r in statement.indices:
            index = free[r.index]
            if not index.known:
                raise self.error(f"the range of {r.index} is not known: write it (for {r.index} in 1..N) or use "
                                 f"{r.index} plainly as a subscript of an array", statement.span)
            if index.start != 1 and not self.observes_part(statement):
                raise self.error(f"{statement.target}'s entries are numbered from 1: write {r.index} in "
                                 f"1..{index.stop}", r.span)
            ranges.append(IndexRange(r.index, index.start, index.stop, r.span))
            axes.append(Axis(as_dim(index.stop), r.span, statement.text))
        return tuple(_fill_softmax(e, free) for e in exprs), tuple(ranges), tuple(axes)

    def observes_part(self, statement) -> bool:
        """``y_t ~ 𝒩(α + β y_{t-1}, σ)  for t in 2..T``: data whose later entries are drawn given earlier ones."""
        return isinstance(statement, Sampling) and statement.target in self.roles.inputs and any(
            r.start != 1 for r in statement.indices)

    def observed_part(self, statement: Sampling, ranges: tuple[IndexRange, ...]) -> None:
        """The entries such a statement observes lie inside the data's declared axes, one range an axis."""
        shape = self.shapes.get(statement.target, ())
        if statement.target not in self.declared or len(shape) != len(ranges):
            raise self.error(f"{statement.target} is observed from entry {ranges[0].start} on: declare its shape "
                             f"({statement.target} ∈ ℝ^{ranges[0].stop}) with one axis per index", statement.span)
        for r, axis in zip(ranges, shape):
            self.within(r.start, r.stop, axis, statement.target, statement.target)

    def infer_from_offsets(self, index: _Range) -> None:
        """A free index used only with offsets (``x_{t+k-1}``) runs as far as every such subscript stays inside
        its axis: ``t ∈ 1..T-K+1`` for ``k ∈ 1..K``. Only a range from 1 is inferred, and only when one bound
        is proved the least of all; otherwise the range stays unknown, and the statement must write it."""
        symbol, stops = Index(index.name), []
        for entry, scope in self.uses:
            for sub, size in zip(entry.args[1:], self.shapes[entry.args[0].name]):
                others = sub.atoms(Index) - {symbol}
                if symbol not in sub.atoms(Index) or sub.atoms(Entry) or sympy.expand(sub).coeff(symbol) != 1 or any(
                        not scope[o.name].known for o in others):
                    continue
                low, high = extent(sympy.expand(sub) - symbol, {o.name: (scope[o.name].start, scope[o.name].stop)
                                                                 for o in others}, self.data_range)
                if sympy.expand(1 - low) != 1:
                    return
                stops.append((sympy.expand(as_expr(size.size) - high), self.text(entry)))
        values = self.values()
        for stop, written in stops:
            if all(nonnegative(other - stop, values) for other, _ in stops):
                index.start, index.stop, index.origin = sympy.Integer(1), stop, f"where {written} stays inside"
                return

    def infer_shape(self, entry: Entry, scope: dict[str, _Range]) -> None:
        """A parameter first met as entries: its axes are the ranges of the plain indices that subscript it."""
        base, *subscripts = entry.args
        if base.name in self.shapes:
            self.uses.append((entry, scope))
            return
        axes = []
        for sub in subscripts:
            if not isinstance(sub, Index) or not scope[sub.name].known or scope[sub.name].start != 1:
                raise self.error(f"{base.name} has no declared shape, so each of its subscripts must be an index "
                                 f"running from 1 (declare {base.name} ∈ ℝ^… to subscript it otherwise)",
                                 self.span(entry))
            axes.append(Axis(as_dim(scope[sub.name].stop), self.statement.span, self.statement.text))
        self.shapes[base.name] = tuple(axes)

    def check_entry(self, entry: Entry, scope: dict[str, _Range]) -> None:
        """Every value a subscript takes is an entry of its axis: proved for all sizes, or a ShapeError."""
        base, *subscripts = entry.args
        shape = self.shapes[base.name]
        ranges = {}
        for name, index in scope.items():
            if not index.known:
                raise self.error(f"the range of {name} is not known: write it (for {name} in 1..N) or use {name} "
                                 "plainly as a subscript of an array", self.span(entry))
            ranges[name] = (index.start, index.stop)
        for axis, (sub, size) in enumerate(zip(subscripts, shape)):
            try:
                low, high = extent(sub, ranges, self.data_range)
            except NotLinear:
                raise self.error(f"{self.text(entry)}: a subscript is a whole-number linear function of indices "
                                 "(t+k-1, 2t), or an entry of integer data", self.span(entry)) from None
            written = self.text(sub) if sub in self.spans else str(arithmetic(sub))
            runs = f"where {self.describe_ranges(scope, sub)}"
            self.prove((
                (low - 1, f"{self.text(entry)}: {written} reaches {low}, and {base.name}'s entries along axis "
                          f"{axis + 1} start at 1 ({runs})"),
                (as_expr(size.size) - high, f"{self.text(entry)}: {written} reaches {high}, beyond the {size.size} "
                                            f"entries of {base.name} along axis {axis + 1} ({runs})"),
            ), size, entry)

    @staticmethod
    def describe_ranges(scope: dict[str, _Range], sub) -> str:
        used = {i.name for i in sub.atoms(Index)}
        return ", ".join(f"{n} ∈ {r.start}..{r.stop}" for n, r in scope.items() if n in used) or "nothing"

    def check_enumerated(self, expr: sympy.Basic) -> None:
        """A latent NUTS sums out is enumerated along new leading axes: only operations entry by entry may see it
        (a reduction, a matrix product or a transpose would mix its enumerated values), in the plate it is drawn in
        (a whole array, or a row in another plate, would not line its entries up with the plate's)."""
        stack = [(expr, None)]
        while stack:
            node, mixing = stack.pop()
            latent = isinstance(node, (sympy.Symbol, Element, Entry)) and _base(node) in self.enumerated
            if mixing is not None and latent:
                raise self.error(f"{self.text(mixing)} combines entries of {_base(node)}, a discrete latent that "
                                 "inference sums out, which is read only entry by entry (elementwise, or as a "
                                 "subscript)", self.span(mixing))
            if latent and isinstance(node, sympy.Symbol) and self.shapes.get(node.name):
                raise self.error(f"{node.name} has shape {format_shape(self.shapes[node.name])} and is a discrete "
                                 "latent that inference sums out, so it is read entry by entry, in the plate it is "
                                 f"drawn in ({node.name}_i …  for i in 1..N)", self.span(node))
            if latent and isinstance(node, Element):
                self.same_plate(node, node.args[1].name)
            if mixing is None and (isinstance(node, (OverIndex, MatrixProduct, Transposed)) or (
                    not isinstance(node, (Entry, Element, Delta)) and kind_of(node) not in (
                        None, Kind.ELEMENTWISE, Kind.BROADCAST))):
                mixing = node
            stack.extend((arg, mixing) for arg in (node.args[1:] if isinstance(node, (Entry, Element)) else node.args))

    def plate_axis(self) -> Axis:
        plate = self.statement.plate
        return Axis(plate.stop, plate.span, self.statement.text)

    # statements ------------------------------------------------------------------------
    def define(self, name: str, shape: tuple[Axis, ...], statement) -> None:
        if statement.plate is not None:
            shape = (self.plate_axis(),) + shape
        if name in self.declared:
            declared, declaration = self.declared[name]
            if len(declared) != len(shape) or not all(
                self.same(a, b, statement.span) for a, b in zip(declared, shape)
            ):
                raise self.error(
                    f"{name} is declared {format_shape(declared)} on line {declaration.span.line}, "
                    f"but this gives it shape {format_shape(shape)}", statement.span,
                    tuple(self.origins(declared)) + tuple(self.origins(shape)))
            shape = declared
        self.shapes[name] = shape

    def sampled_shape(self, statement: Sampling, operands) -> tuple[Axis, ...]:
        sampled = DISTRIBUTIONS[statement.distribution.family].sampled
        if sampled is Sampled.LABEL:
            return operands[0][1][:-1]
        if sampled is Sampled.EVENT:
            return operands[0][1]
        if sampled is Sampled.GAUSSIAN:
            return self.gaussian(dict(zip((k for k, _ in statement.distribution.args), operands)))
        if sampled is Sampled.CORRELATION:
            return self.correlation(operands[0][0])
        return self.broadcast(next(iter(statement.distribution.values), None), operands)

    def component(self, expr: Component) -> tuple[Component, tuple[Axis, ...]]:
        """A mixture's component (or its Categorical): its batch shape, the Categorical's with the classes last."""
        family = DISTRIBUTIONS[expr.family]
        if family.event_rank:
            raise self.error(f"{self.text(expr)}: a mixture's components have scalar values, and {expr.family}'s "
                             "are arrays", self.span(expr))
        keys = [key for key, _ in expr.arguments]
        operands = [self.infer(value) for _, value in expr.arguments]
        rebuilt = Component.of(expr.family, zip(keys, (e for e, _ in operands)))
        self.spans.setdefault(rebuilt, self.span(expr))
        if family.sampled is Sampled.LABEL:
            return rebuilt, operands[0][1]
        return rebuilt, self.broadcast(expr, [(value, shape) for (_, value), (_, shape) in zip(expr.arguments,
                                                                                                operands)])

    def mixture(self, statement: Sampling) -> tuple[tuple[sympy.Basic, ...], tuple[Axis, ...]]:
        """A mixture's arguments, checked: as many weights (classes) as components, on the last axis."""
        family = DISTRIBUTIONS[statement.distribution.family]
        args = dict(statement.distribution.args)
        if family.components is Components.SAME_FAMILY:
            (mixing, classes), (component, shape) = (self.infer(args[k]) for k in family.params)
            written = args["component_distribution"]
            if not shape:
                raise self.error(f"{self.text(written)}: its parameters' last axis holds the components, and here "
                                 "they are scalars", self.span(written))
            if not self.same(classes[-1], shape[-1], self.span(written)):
                raise self.error(f"{self.text(written)} has {shape[-1].size} components along its last axis, and "
                                 f"{self.text(args['mixture_distribution'])} picks one of {classes[-1].size}",
                                 self.span(written), self.describe((args["mixture_distribution"], classes),
                                                                   (written, shape)))
            value = self.broadcast(written, [(args["mixture_distribution"], classes[:-1]), (written, shape[:-1])])
            return (mixing, component), value
        weights, shape = self.infer(args["probs"])
        written = args["components"].args
        components = [self.infer(c) for c in written]
        if not shape or not self.same(shape[-1], Axis(len(components)), self.span(args["probs"])):
            raise self.error(f"{self.text(args['probs'])} weighs {len(components)} components along its last axis, "
                             f"and it has shape {format_shape(shape)}", self.span(args["probs"]),
                             self.describe((args["probs"], shape)))
        value = self.broadcast(args["probs"], [(args["probs"], shape[:-1]),
                                               *((c, s) for c, (_, s) in zip(written, components))])
        return (weights, sympy.Tuple(*(c for c, _ in components))), value

    def parameter_rank(self, statement: Sampling, shape: tuple[Axis, ...]) -> None:
        """A family whose first parameter carries its event (Dirichlet's concentration) or its classes (a
        Categorical's probabilities) needs that axis: a scalar there passes no library's check, so it is an error
        here, at the parameter, rather than inside the library on the first draw."""
        family = DISTRIBUTIONS[statement.distribution.family]
        if family.sampled not in (Sampled.EVENT, Sampled.LABEL) or shape:
            return
        key, value = statement.distribution.args[0]
        held = "one entry per category" if family.sampled is Sampled.EVENT else "one per class"
        raise self.error(f"{family.name}'s {key} holds {held}, so it is a vector, and {self.text(value)} is a "
                         f"scalar: give it as data with its length (a ∈ ℝ^K, then {family.name}(a))",
                         self.span(value) or statement.span)

    def gaussian(self, operands) -> tuple[Axis, ...]:
        """A multivariate normal's value: its location broadcast with the rows of its square matrix."""
        (matrix, shape), = (operands[k] for k in operands if k != "loc")
        if len(shape) < 2 or not self.same(shape[-2], shape[-1], self.span(matrix)):
            raise self.error(f"a multivariate normal's {next(k for k in operands if k != 'loc')} is a square matrix, "
                             f"and {self.text(matrix)} has shape {format_shape(shape)}", self.span(matrix),
                             self.describe((matrix, shape)))
        loc = operands["loc"]
        return self.broadcast(loc[0], [loc, (matrix, shape[:-1])])

    def correlation(self, dim) -> tuple[Axis, ...]:
        """``LKJCholesky(dim, …)``: a ``dim × dim`` factor; ``dim`` is a whole number or a dimension's name."""
        if dim.is_Integer:
            size = int(dim)
        elif isinstance(dim, sympy.Symbol) and dim.name in self.roles.dims:
            size = dim.name
        else:
            raise self.error(f"LKJCholesky's dim is a whole number or a dimension, not {self.text(dim)}",
                             self.span(dim))
        axis = Axis(size, self.statement.span, self.statement.text)
        return (axis, axis)

    def factor(self, statement: Factor) -> Factor:
        """``target += e``: ``e`` is one number, a term of the log density (``Σ`` reduces a vector to one)."""
        if statement.indexed:
            (expr,), _, _ = self.indexed(statement)
            return _with_exprs(statement, (expr,))
        expr, shape = self.infer(statement.expr)
        if shape:
            raise self.error(f"a log-density term is one number, and {self.text(statement.expr)} has shape "
                             f"{format_shape(shape)}: sum it (Σ) or write its entries with indices",
                             self.span(statement.expr) or statement.span, self.describe((statement.expr, shape)))
        return _with_exprs(statement, (expr,))

    def bounds(self, statement: Sampling) -> tuple[sympy.Basic, ...]:
        """A truncation's bounds, each one number shared by every entry."""
        exprs = []
        for bound in statement.distribution.bounds:
            expr, shape = self.infer(bound)
            if shape:
                raise self.error(f"a truncation's bound is one number, and {self.text(bound)} has shape "
                                 f"{format_shape(shape)}", self.span(bound) or statement.span,
                                 self.describe((bound, shape)))
            exprs.append(expr)
        return tuple(exprs)

    def run(self) -> ModelIR:
        roles = self.roles
        for name in roles.params + roles.inputs:
            if name in self.declared:
                self.shapes[name] = self.declared[name][0]
        statements = []
        constants = dict(roles.constants)
        for statement in self.cell.statements:
            self.statement = statement
            self.spans = dict(getattr(statement, "spans", ()))
            if isinstance(statement, Declaration):
                statements.append(statement)
            elif isinstance(statement, Recurrence):
                statements.append(self.recurrence(statement))
            elif isinstance(statement, Chain):
                statements.append(self.chain(statement))
                continue
            elif isinstance(statement, Factor):
                statements.append(self.factor(statement))
            elif statement.indexed:
                if isinstance(statement, Sampling) and statement.target in self.enumerated:
                    raise self.error(f"{statement.target} is a discrete latent that inference sums out: draw it in a "
                                     f"plate over its rows ({statement.target}_i ~ Bernoulli(p_i)  for i in 1..N), "
                                     "which the statements that read it share", statement.span)
                if isinstance(statement, Sampling) and DISTRIBUTIONS[statement.distribution.family].components:
                    raise self.error(f"{statement.distribution.family} is written without indices (its components "
                                     "are whole arrays)", statement.span)
                exprs, ranges, axes = self.indexed(statement)
                shape = axes
                if isinstance(statement, Sampling):
                    operands = [(v, ()) for v in statement.distribution.values]
                    shape = axes + self.sampled_shape(statement, operands)
                if self.observes_part(statement):
                    self.observed_part(statement, ranges)
                else:
                    self.define(statement.target, shape, statement)
                statements.append(_with_exprs(statement, exprs, ranges))
            elif isinstance(statement, Assignment):
                expr, shape = self.infer(statement.expr)
                if statement.target in constants:
                    self.shapes[statement.target] = ()
                    statements.append(_with_exprs(statement, (expr,)))
                    continue
                self.define(statement.target, shape, statement)
                statements.append(_with_exprs(statement, (expr,)))
            elif DISTRIBUTIONS[statement.distribution.family].components is not None:
                exprs, shape = self.mixture(statement)
                if statement.target in self.declared and statement.plate is None:
                    declared = self.declared[statement.target][0]
                    shape = self.broadcast(statement.distribution.values[0], [(None, declared), (None, shape)])
                    shape = declared if len(declared) >= len(shape) else shape
                self.define(statement.target, shape, statement)
                statements.append(_with_exprs(statement, exprs))
            else:
                operands = [self.infer(v) for v in statement.distribution.values]
                self.parameter_rank(statement, operands[0][1] if operands else ())
                exprs = tuple(e for e, _ in operands) + self.bounds(statement)
                shape = self.sampled_shape(statement, list(zip(statement.distribution.values,
                                                               [s for _, s in operands])))
                if DISTRIBUTIONS[statement.distribution.family].labels and statement.target in self.enumerated:
                    classes = operands[0][1][-1].size
                    self.labels[statement.target] = classes
                    self.domains[statement.target] = (sympy.Integer(0), as_expr(classes) - 1)
                if statement.target in self.declared and statement.plate is None:
                    declared = self.declared[statement.target][0]
                    first = next(iter(statement.distribution.values), None)  # a flat family has no parameter
                    shape = self.broadcast(first, [(None, declared), (None, shape)])
                    shape = declared if len(declared) >= len(shape) else shape
                self.define(statement.target, shape, statement)
                statements.append(_with_exprs(statement, exprs))
            if not isinstance(statement, Declaration):
                for expr in statements[-1].exprs:
                    self.check_enumerated(expr)
        self.statement = None
        names = roles.inputs + roles.params + roles.latents + roles.deterministic
        table = tuple((n, tuple(a.size for a in self.shapes.get(n, ()))) for n in dict.fromkeys(names))
        return ModelIR(self.cell.header, tuple(statements), roles, table,
                       tuple((n, v[0]) for n, v in self.dims.items()), tuple(self.conditions),
                       tuple(self.labels.items()))


def _base(expr: sympy.Basic) -> str:
    """The variable a symbol, a plate's row or an entry belongs to."""
    return expr.name if isinstance(expr, sympy.Symbol) else expr.args[0].name


def _with_exprs(statement, exprs, indices=None):
    indices = statement.indices if indices is None else indices
    if isinstance(statement, Assignment):
        (expr,) = exprs
        if expr is statement.expr and indices == statement.indices:
            return statement
        return Assignment(statement.target, expr, statement.span, statement.text, statement.plate, statement.spans,
                          indices)
    if isinstance(statement, Factor):
        (expr,) = exprs
        return statement if expr is statement.expr else replace(statement, expr=expr)
    dist = statement.distribution
    if all(a is b for a, b in zip(exprs, statement.exprs)) and indices == statement.indices:
        return statement
    args = tuple((key, e) for (key, _), e in zip(dist.args, exprs))
    rest = iter(exprs[len(args):])
    low, high = (None if b is None else next(rest) for b in (dist.low, dist.high))
    return Sampling(statement.target, type(dist)(dist.family, args, low, high), statement.span, statement.text,
                    statement.plate, statement.spans, indices)


def check(cell: Cell, roles: Roles) -> ModelIR:
    """Infer every variable's shape, resolve products, and return the checked IR."""
    return _Checker(cell, roles).run()


@dataclass(frozen=True)
class Binding:
    """A dimension's value and what fixed it (a constant, an ``init`` keyword, an array)."""

    value: int
    source: str


def bind(
    ir: ModelIR,
    arrays: Mapping[str, np.ndarray | tuple[int, ...]],
    bound: Mapping[str, Binding] | None = None,
    *,
    what: str = "input",
) -> dict[str, Binding]:
    """Bind the dimensions from the cell, earlier bindings and array shapes; raise on any conflict.

    ``arrays`` maps names to arrays (or shapes); only their trailing axes (the declared rank)
    are matched, leading extra axes being a batch.
    """
    result: dict[str, Binding] = {n: Binding(v, "the cell") for n, v in ir.dim_values}
    for name, binding in (bound or {}).items():
        if name in result and result[name].value != binding.value:
            raise ShapeError(f"{name} = {binding.value} from {binding.source}, but {name} = "
                             f"{result[name].value} from {result[name].source}")
        result[name] = binding
    table = ir.shape_of
    _check_conditions(ir, result)
    for name, array in arrays.items():
        shape = tuple(array) if isinstance(array, tuple) else tuple(np.shape(array))
        declared = table[name]
        if len(shape) < len(declared):
            raise DataError(
                f"{what} {name} has shape {shape}, but the model expects {format_shape(declared)} "
                f"(rank {len(declared)}), with optional leading batch axes")
        tail = shape[len(shape) - len(declared):]
        for axis, (dim, size) in enumerate(zip(declared, tail)):
            if isinstance(dim, int):
                if dim != size:
                    raise DataError(f"{what} {name} has shape {shape}; axis {axis - len(declared)} should be "
                                    f"{dim}, not {size}")
                continue
            if dim in result and result[dim].value != size:
                raise DataError(
                    f"{what} {name} has shape {shape}: {dim} = {size} here, but {dim} = {result[dim].value} "
                    f"from {result[dim].source}; the model expects {format_shape(declared)}")
            result.setdefault(dim, Binding(size, f"{what} {name} {shape}"))
    _check_conditions(ir, result)
    return result


def _check_conditions(ir: ModelIR, bound: Mapping[str, Binding]) -> None:
    """What the cell's subscripts need of dimensions, once those dimensions have values."""
    for condition in ir.conditions:
        names = [s.name for s in condition.margin.free_symbols]
        if all(n in bound for n in names):
            values = {sympy.Symbol(n): bound[n].value for n in names}
            if condition.margin.subs(values) < 0:
                given = ", ".join(f"{n} = {bound[n].value} (from {bound[n].source})" for n in sorted(names))
                raise ShapeError(f"{condition.message}, with {given}")


def keywords(ir: ModelIR, dims: Mapping[str, object]) -> dict[str, Binding]:
    """Dimensions given by keyword (``init(key, D=784)``), checked to be dimensions of the model."""
    out = {}
    for name, value in dims.items():
        if name not in ir.roles.dims:
            known = ", ".join(ir.roles.dims) or "none"
            raise ShapeError(f"{name} is not a dimension of {ir.header.name} (its dimensions: {known})")
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ShapeError(f"dimension {name} must be a positive integer, not {value!r}")
        out[name] = Binding(int(value), f"{name}={value}")
    return out


def concrete(shape: Shape, bound: Mapping[str, Binding], name: str) -> tuple[int, ...]:
    """A symbolic shape with every dimension replaced by its value; unbound ones are an error."""
    out = []
    for dim in shape:
        for needed in dim.dims if isinstance(dim, Size) else (dim,) if isinstance(dim, str) else ():
            if needed not in bound:
                raise ShapeError(f"dimension {needed} (of {name}, shape {format_shape(shape)}) is not bound: "
                                 f"pass {needed}=... or data that fixes it")
        if isinstance(dim, Size):
            dim = int(dim.expr.subs({sympy.Symbol(n): bound[n].value for n in dim.dims}))
        elif isinstance(dim, str):
            dim = bound[dim].value
        out.append(dim)
    return tuple(out)
