"""What each name in a model is: input, constant, parameter, latent, observed, deterministic, dimension.

The notation's rules: in a deterministic model every free symbol that is not an input or a constant
is a trainable parameter; in a probabilistic model it must be an input, a constant or have a
``~`` statement. Variables are defined before they are used; declarations may come anywhere.
"""

from __future__ import annotations

import difflib

import sympy

from ..errors import ModelSyntaxError, ShapeError, Span, UnknownNameError
from .distributions import DISTRIBUTIONS
from .ir import Assignment, Cell, Chain, Declaration, Factor, Initial, Recurrence, Roles, Sampling
from .nodes import Element, Entry, FirstRow, Identity, Index, Lagged, OverIndex, Row


def _span_of(statement, symbol: sympy.Symbol) -> Span:
    for expr, span in statement.spans:
        if expr == symbol or (isinstance(expr, (Element, Entry, Row)) and expr.args[0] == symbol):
            return span
    return statement.span


def _walk(expr, in_subscript: bool = False):
    """``(node, whether it is inside a subscript or a range's bounds)`` for every node, in written order."""
    stack = [(expr, in_subscript)]
    while stack:
        node, inside = stack.pop()
        yield node, inside
        if isinstance(node, (Entry, Row)):
            children = [(node.args[0], False)] + [(a, True) for a in node.args[1:]]
        elif isinstance(node, OverIndex):
            children = [(node.body, inside), (node.start, True), (node.stop, True)]
        elif isinstance(node, Identity):
            children = [(a, True) for a in node.args]
        else:
            children = [(a, inside) for a in node.args]
        stack.extend(reversed(children))


def parts(statement) -> tuple:
    """What defines one variable each: a recurrence's initial rows and steps, or the statement itself."""
    return (*statement.initial, *statement.steps) if isinstance(statement, Recurrence) else (statement,)


def used_names(statement) -> list[str]:
    """The variables a statement's right side uses, in order of appearance (no index, no dimension in a subscript)."""
    return [name for name, _ in _free_names(statement)]


def _free_names(statement) -> list[tuple[str, sympy.Symbol]]:
    """Names used on a statement's right side, in order of appearance, with indices and dimensions in
    subscripts left out."""
    names: dict[str, sympy.Symbol] = {}
    for expr in statement.exprs:
        for node, in_subscript in _walk(expr):
            if isinstance(node, Element):
                names.setdefault(node.args[0].name, node.args[0])
            elif isinstance(node, (Lagged, FirstRow)):
                names.setdefault(node.base, node)
            elif isinstance(node, sympy.Symbol) and not isinstance(node, Index) and not in_subscript:
                names.setdefault(node.name, node)
    plate = getattr(statement, "plate", None)
    index = plate.index if plate else None
    return [(n, s) for n, s in names.items() if n != index]


def _bound_dimensions(statement, variables) -> list[str]:
    """Names in the bounds of ranges that no variable has: dimensions (``Σ_{k=1}^{K}``, ``for t in 1..T-K+1``),
    and in fixed positions (``h_T``)."""
    found = [s.name for r in getattr(statement, "indices", ()) for s in (r.start.free_symbols | r.stop.free_symbols)]
    if isinstance(statement, (Recurrence, Chain)):
        found += [s.name for s in statement.stop.free_symbols]
    for expr in statement.exprs:
        for node in sympy.preorder_traversal(expr):
            if isinstance(node, OverIndex):
                found += [s.name for s in (node.start.free_symbols | node.stop.free_symbols)]
            elif isinstance(node, Row):
                found += [s.name for s in node.args[1].free_symbols]
    return [name for name in found if name not in variables]


def _is_constant(statement) -> bool:
    return isinstance(statement, Assignment) and statement.plate is None and statement.expr.is_number


def assign_roles(cell: Cell) -> Roles:
    """Name the role of every variable of a cell, or raise a located error."""
    header = cell.header
    inputs = header.inputs
    defined: dict[str, object] = {}
    dims: dict[str, None] = {}
    constants: dict[str, sympy.Expr] = {}
    for statement in cell.statements:
        if isinstance(statement, Declaration):
            dims.update((d, None) for d in (*statement.shape, *statement.domain.dims) if isinstance(d, str))
            continue
        if isinstance(statement, Factor):
            continue
        if getattr(statement, "plate", None) is not None and isinstance(statement.plate.stop, str):
            dims[statement.plate.stop] = None
        for part in parts(statement):
            if isinstance(part, Initial):
                continue
            target = part.target
            if target in defined:
                raise ModelSyntaxError(
                    f"{target} is defined twice (first on line {defined[target].span.line})",
                    part.span, cell.line_text(part.span.line))
            if isinstance(part, Assignment) and target in inputs:
                raise ModelSyntaxError(f"{target} is an input: it gets data, it cannot also be defined with '='",
                                       part.span, cell.line_text(part.span.line))
            defined[target] = part
            if _is_constant(statement):
                constants[target] = statement.expr
    variables = (set(inputs) | set(defined)) - set(constants)
    for statement in cell.statements:
        if not isinstance(statement, Declaration):
            dims.update((d, None) for d in _bound_dimensions(statement, variables))
    probabilistic = any(isinstance(s, (Sampling, Chain)) for s in cell.statements)
    factor = next((s for s in cell.statements if isinstance(s, Factor)), None)
    if factor is not None and not probabilistic:
        raise ModelSyntaxError("a log-density term (target +=) adds to the log density of a probabilistic model, and "
                               "this cell has no '~' statement: it is a deterministic model, which has none",
                               factor.span, cell.line_text(factor.span.line))
    params: dict[str, None] = {}
    seen: set[str] = set(inputs) | set(constants)
    for statement in cell.statements:
        if isinstance(statement, Declaration) or _is_constant(statement):
            continue
        own = set(statement.targets) if isinstance(statement, (Recurrence, Chain)) else set()
        for part in parts(statement):
            for name, symbol in _free_names(part):
                if name in seen or name in params or name in own:
                    continue
                span = _span_of(part, symbol)
                line = cell.line_text(span.line)
                if name in defined:
                    raise ModelSyntaxError(
                        f"{name} is used before it is defined on line {defined[name].span.line}", span, line)
                if name in dims:
                    continue
                if probabilistic:
                    known = sorted(seen | set(defined))
                    close = difflib.get_close_matches(name, known, n=2, cutoff=0.6)
                    hint = f"; did you mean {' or '.join(close)}?" if close else ""
                    raise UnknownNameError(
                        f"{name} is not an input, a constant, or given a distribution with '~'{hint}", span, line)
                params[name] = None
        if not isinstance(statement, Factor):
            seen.update(own or {statement.target})
    for name in dims:
        if name in defined and name not in constants:
            statement = defined[name]
            raise ShapeError(f"{name} is used as a dimension, so it must be a constant integer",
                             statement.span, cell.line_text(statement.span.line))
        if name in inputs:
            raise ShapeError(f"{name} is both an input and a dimension", None)
    _check_integers(cell, defined, params)
    outputs = header.outputs or _last_target(cell)
    for name in outputs:
        if name not in defined and name not in params and name not in inputs:
            known = sorted(set(defined) | set(params) | set(inputs))
            close = difflib.get_close_matches(name, known, n=2, cutoff=0.6)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise UnknownNameError(f"output {name} is not defined in the cell{hint}")
    samplings = [s for s in cell.statements if isinstance(s, (Sampling, Chain))]
    return Roles(
        inputs=inputs,
        outputs=outputs,
        params=tuple(params),
        latents=tuple(s.target for s in samplings if s.target not in inputs),
        observed=tuple(s.target for s in samplings if s.target in inputs),
        deterministic=tuple(
            p.target for s in cell.statements if isinstance(s, (Assignment, Recurrence)) for p in parts(s)
            if isinstance(p, Assignment) and p.target not in constants),
        constants=tuple(constants.items()),
        dims=tuple(dims),
    )


def _check_integers(cell: Cell, defined: dict[str, object], params: dict[str, None]) -> None:
    """Only data is declared integer: a trainable or latent integer would be silently rounded, so it is refused;
    and a name has one domain."""
    domains: dict[str, Declaration] = {}
    for statement in cell.statements:
        if not isinstance(statement, Declaration):
            continue
        line = cell.line_text(statement.span.line)
        for name in statement.names:
            first = domains.setdefault(name, statement)
            if first.domain != statement.domain:
                raise ModelSyntaxError(f"{name} is declared in {first.domain.written()} on line {first.span.line} "
                                       f"and in {statement.domain.written()} here", statement.span, line)
            if name in cell.header.inputs:
                _check_observation(cell, name, statement)
            if not statement.domain.integer or name in cell.header.inputs:
                continue
            if name in defined:
                what = f"is defined on line {defined[name].span.line}"
            else:
                what = "is a parameter" if name in params else f"is not an input of {cell.header.name}"
            raise ModelSyntaxError(f"only data can be declared integer; {name} {what} (declare it in ℝ, or make it "
                                   "an input)", statement.span, line)


def _check_observation(cell: Cell, name: str, declaration: Declaration) -> None:
    """Integer data that a family observes lies inside the family's values: labels count from 0 (a range from 1
    would be read one class off), counts are not negative, a Bernoulli's values are 0 and 1."""
    domain = declaration.domain
    family = next((DISTRIBUTIONS[s.distribution.family] for s in cell.statements
                   if isinstance(s, Sampling) and s.target == name), None)
    if family is None or not domain.integer:
        return
    low = domain.low if isinstance(domain.low, int) else None if domain.low is None else 1
    high = domain.high if isinstance(domain.high, int) else None
    wanted = {"integer_interval": ("counts from 0", low == 0),
              "nonnegative_integer": ("is never negative", low is not None and low >= 0),
              "boolean": ("is 0 or 1", low is not None and low >= 0 and high is not None and high <= 1)}
    if family.support in wanted and not wanted[family.support][1]:
        raise ModelSyntaxError(f"{name} ~ {family.name}, whose value {wanted[family.support][0]}, but {name} is "
                               f"declared in {domain.written()}", declaration.span,
                               cell.line_text(declaration.span.line))


def _last_target(cell: Cell) -> tuple[str, ...]:
    for statement in reversed(cell.statements):
        if isinstance(statement, (Assignment, Sampling)):
            return (statement.target,)
        if isinstance(statement, Recurrence):
            return (statement.targets[-1],)
    raise ModelSyntaxError("the cell defines nothing: write at least one '=' or '~' statement")
