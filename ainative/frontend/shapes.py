"""Shapes with symbolic dimensions, checked before anything runs.

Every axis remembers where it was fixed (the declaration or expression that gave it), so a
conflict names both shapes and the lines behind them. Dimensions (``D``, ``H``) are bound by
constants in the cell, by a literal they meet in an expression, and later by ``init`` keywords
and data (``bind``). Juxtaposition is resolved here: with a scalar operand it is a product,
otherwise a matrix product.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import sympy

from ..errors import DataError, ShapeError, Span
from .distributions import DISTRIBUTIONS, Sampled
from .ir import Assignment, Cell, Declaration, Dim, ModelIR, Roles, Sampling, Shape
from .nodes import Element, MatrixProduct, Transposed
from .operations import Kind, kind_of


@dataclass(frozen=True)
class Axis:
    """One axis of an inferred shape: its size and the statement that fixed it."""

    size: Dim
    origin: Span | None = field(default=None, compare=False)
    origin_text: str = field(default="", compare=False)


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
        bound = self.dims.get(axis.size)
        return bound[0] if bound else None

    def same(self, a: Axis, b: Axis, where: Span | None) -> bool:
        """Whether two axes are one size, binding a free dimension to a literal it meets."""
        if a.size == b.size:
            return True
        va, vb = self.value(a), self.value(b)
        if va is not None and vb is not None:
            return va == vb
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
        if isinstance(expr, sympy.Symbol):
            return expr, self.shapes.get(expr.name, ())
        if not expr.args:
            return expr, ()
        if isinstance(expr, Element):
            return self.element(expr)
        args, shapes = [], []
        for arg in expr.args:
            new, shape = self.infer(arg)
            args.append(new)
            shapes.append(shape)
        rebuilt = self.rebuild(expr, args)
        operands = list(zip(expr.args, shapes))
        kind = kind_of(expr)
        on_rows = kind in (Kind.LAST_AXIS, Kind.REDUCTION) or (isinstance(expr, MatrixProduct) and all(shapes)) or (
            isinstance(expr, Transposed) and len(shapes[0]) > 1)
        if on_rows and self.probabilistic and self.statement.plate is not None and expr.has(Element):
            raise self.error(f"{self.text(expr)} works on a plate's row, which a probabilistic model's plates do not "
                             "take yet: only elementwise operations apply to its entries there", self.span(expr))
        if isinstance(expr, MatrixProduct):
            return self.product(expr, rebuilt, operands)
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
        return self.broadcast(statement.distribution.values[0], operands)

    def run(self) -> ModelIR:
        roles = self.roles
        for name in roles.params + roles.inputs:
            if name in self.declared:
                self.shapes[name] = self.declared[name][0]
        statements = []
        constants = dict(roles.constants)
        for statement in self.cell.statements:
            self.statement = statement
            self.spans = {} if isinstance(statement, Declaration) else dict(statement.spans)
            if isinstance(statement, Declaration):
                statements.append(statement)
            elif isinstance(statement, Assignment):
                expr, shape = self.infer(statement.expr)
                if statement.target in constants:
                    self.shapes[statement.target] = ()
                    statements.append(_with_exprs(statement, (expr,)))
                    continue
                self.define(statement.target, shape, statement)
                statements.append(_with_exprs(statement, (expr,)))
            else:
                operands = [self.infer(v) for v in statement.distribution.values]
                exprs = tuple(e for e, _ in operands)
                shape = self.sampled_shape(statement, list(zip(statement.distribution.values,
                                                               [s for _, s in operands])))
                if statement.target in self.declared and statement.plate is None:
                    declared = self.declared[statement.target][0]
                    shape = self.broadcast(statement.distribution.values[0], [(None, declared), (None, shape)])
                    shape = declared if len(declared) >= len(shape) else shape
                self.define(statement.target, shape, statement)
                statements.append(_with_exprs(statement, exprs))
        self.statement = None
        names = roles.inputs + roles.params + roles.latents + roles.deterministic
        table = tuple((n, tuple(a.size for a in self.shapes.get(n, ()))) for n in dict.fromkeys(names))
        return ModelIR(self.cell.header, tuple(statements), roles, table,
                       tuple((n, v[0]) for n, v in self.dims.items()))


def _with_exprs(statement, exprs):
    if isinstance(statement, Assignment):
        (expr,) = exprs
        if expr is statement.expr:
            return statement
        return Assignment(statement.target, expr, statement.span, statement.text, statement.plate, statement.spans)
    dist = statement.distribution
    if all(a is b for a, b in zip(exprs, dist.values)):
        return statement
    args = tuple((key, e) for (key, _), e in zip(dist.args, exprs))
    return Sampling(statement.target, type(dist)(dist.family, args), statement.span, statement.text,
                    statement.plate, statement.spans)


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
    return result


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
        if isinstance(dim, str):
            if dim not in bound:
                raise ShapeError(f"dimension {dim} (of {name}, shape {format_shape(shape)}) is not bound: "
                                 f"pass {dim}=... or data that fixes it")
            dim = bound[dim].value
        out.append(dim)
    return tuple(out)
