"""Truncations and declared supports: ``σ ~ 𝒩(0, 1) restricted to [0, ∞)`` and ``σ ∈ ℝ₊``.

A truncation is only written where both printed programs renormalise it exactly (``Family.truncation``),
with literal bounds inside the family's values and below one another. A declared support is read against
the family's: a variable whose family already lies inside it is unchanged, one whose family is wider is
truncated to it (the same as ``restricted to``), and one whose family cannot meet it is an error. Both
are settled here, once the whole cell is read, so every later stage sees a ``Distribution``'s bounds.
"""

from __future__ import annotations

import dataclasses

import sympy

from ..errors import ModelSyntaxError, Span
from .distributions import DISTRIBUTIONS, PARAMETER_SUPPORT, SUPPORT_INTERVALS, TRUNCATION_BASES, Family
from .ir import Cell, Declaration, Distribution, Domain, Factor, Sampling
from .nodes import Element, Entry, as_written

FACTOR_SITE = "_target_{}"


def _restrictable() -> str:
    return ", ".join(f.name for f in DISTRIBUTIONS.values() if f.truncation in TRUNCATION_BASES)


def _literal(side) -> float | None:
    """A bound's value when it is a written number (``side``: the parser's located expression), else None."""
    if side is None or not (side.expr.is_number and side.expr.is_real):
        return None
    return float(side.expr)


def check_truncation(family: Family, low, high, span: Span, source_line: str) -> None:
    """Refuse a truncation that the printed programs could not renormalise exactly, or whose literal bounds leave
    nothing of the family: a bound outside its values, or a lower bound not below the upper one."""
    def fail(message: str, where: Span) -> ModelSyntaxError:
        return ModelSyntaxError(message, where, source_line)

    if family.truncation is None:
        raise fail(f"{family.name} cannot be restricted to an interval: its renormalised density needs a CDF and an "
                   f"inverse CDF that Pyro and NumPyro both have; these families can be: {_restrictable()}", span)
    if low is None and high is None:
        raise fail("restricted to (-∞, ∞) restricts nothing: give a lower or an upper bound", span)
    support_low, support_high = SUPPORT_INTERVALS[family.support]
    values = {"lower": _literal(low), "upper": _literal(high)}
    for word, side in (("lower", low), ("upper", high)):
        value = values[word]
        if value is None:
            continue
        where = Span(span.line, side.column, side.end_column)
        outside = (support_low is not None and (value < support_low or (word == "upper" and value <= support_low))) \
            or (support_high is not None and value > support_high)
        if outside:
            raise fail(f"{family.name}'s values are {_interval(support_low, support_high)}, so an {word} bound of "
                       f"{value:g} lies outside them", where)
    if values["lower"] is not None and values["upper"] is not None and values["lower"] >= values["upper"]:
        raise fail(f"[{values['lower']:g}, {values['upper']:g}] is empty: the lower bound must be below the upper one",
                   span)


def _interval(low: float | None, high: float | None) -> str:
    if high is None:
        return "every real number" if low is None else f"≥ {low:g}"
    return f"between {low:g} and {high:g}"


def _support(distribution: Distribution) -> tuple[float | None, float | None] | None:
    """Where a distribution's values lie, when that is known from the table (and a uniform's literal bounds)."""
    family = DISTRIBUTIONS[distribution.family]
    interval = SUPPORT_INTERVALS[family.support]
    if interval is None:
        args = dict(distribution.args)
        low, high = args.get("low"), args.get("high")
        if low is None or high is None or not (low.is_number and high.is_number):
            return None
        return float(low), float(high)
    return interval


def _inside(inner: tuple[float | None, float | None], outer: Domain) -> bool:
    (low, high), (out_low, out_high) = inner, (outer.low, outer.high)
    return (out_low is None or (low is not None and low >= out_low)) and \
        (out_high is None or (high is not None and high <= out_high))


def _disjoint(inner: tuple[float | None, float | None], outer: Domain) -> bool:
    (low, high), (out_low, out_high) = inner, (outer.low, outer.high)
    return (out_low is not None and high is not None and high <= out_low) or \
        (out_high is not None and low is not None and low >= out_high)


def _number(value: float | None) -> sympy.Expr | None:
    if value is None:
        return None
    return sympy.Integer(int(value)) if float(value).is_integer() else sympy.Float(value)


def _declared(cell: Cell, statement: Sampling, declaration: Declaration) -> Sampling:
    """A ``~`` statement read with its variable's declared support (``σ ∈ ℝ₊``)."""
    domain, distribution = declaration.domain, statement.distribution
    family = DISTRIBUTIONS[distribution.family]
    line = cell.line_text(statement.span.line)
    written = f"in {domain.written()} (line {declaration.span.line})"
    support = _support(distribution)
    if distribution.truncated:
        bounds = (distribution.low, distribution.high)
        if all(b is None or b.is_number for b in bounds) and _inside(
                tuple(None if b is None else float(b) for b in bounds), domain):
            return statement
        raise ModelSyntaxError(f"{statement.target} is declared {written} and restricted here, and the restriction "
                               "is not inside the declared set: write one of them", statement.span, line)
    if support is None:
        raise ModelSyntaxError(f"{statement.target} is declared {written}, but where {family.name}'s values lie "
                               "depends on its arguments: give it literal bounds", statement.span, line)
    if _inside(support, domain):
        return statement
    if _disjoint(support, domain):
        raise ModelSyntaxError(f"{statement.target} is declared {written}, but {family.name}'s values are "
                               f"{_interval(*support)}: the two do not meet", statement.span, line)
    if family.truncation is None:
        raise ModelSyntaxError(f"{statement.target} is declared {written}, which is narrower than {family.name}'s "
                               f"values, and {family.name} cannot be restricted to it (these can: {_restrictable()})",
                               statement.span, line)
    low = None if support[0] is not None and domain.low is not None and domain.low <= support[0] else domain.low
    bounded = dataclasses.replace(distribution, low=_number(low), high=_number(domain.high))
    return dataclasses.replace(statement, distribution=bounded)


def _lowest(distribution: Distribution) -> float | None:
    """The least value a distribution may take, as far as the cell says: its truncation's literal lower bound, or
    the least of its family's values (None: unbounded below, or not known from literals)."""
    if distribution.low is not None:
        return float(distribution.low) if distribution.low.is_number else None
    support = _support(distribution)
    return None if support is None else support[0]


def check_positive_uses(cell: Cell) -> None:
    """A latent whose values reach below 0 (``σ ~ StudentT(3, 0, 10)``) written as a parameter that must be
    positive (a scale, a rate) would stop the sampler at its first negative draw, inside the library, with no line:
    refused here, at the parameter, with the families and restrictions that keep it positive."""
    drawn = {s.target: s for s in cell.statements if isinstance(s, Sampling) and s.target not in cell.header.inputs}
    for statement in cell.statements:
        if not isinstance(statement, Sampling):
            continue
        for key, value in statement.distribution.args:
            if PARAMETER_SUPPORT.get(key) != "positive":
                continue
            base = value.args[0] if isinstance(value, (Element, Entry)) else value
            source = drawn.get(base.name) if isinstance(base, sympy.Symbol) else None
            if source is None:
                continue
            lowest, distribution = _lowest(source.distribution), source.distribution
            unbounded = DISTRIBUTIONS[distribution.family].support == "real" and distribution.low is None
            if not ((lowest is not None and lowest < 0) or (lowest is None and unbounded)):
                continue
            family = distribution.family
            where = dict(statement.spans).get(as_written(value), statement.span)
            restrict = (f", or restrict it ({family}(…) restricted to [0, ∞), or declare {base.name} ∈ ℝ₊)"
                        if DISTRIBUTIONS[family].truncation is not None else "")
            raise ModelSyntaxError(f"{base.name} is {statement.distribution.family}'s {key} here, which must be "
                                   f"positive, but {base.name} ~ {family} (line {source.span.line}) takes values "
                                   f"below 0: draw it from a positive family (HalfNormal, HalfCauchy, Gamma, …)"
                                   f"{restrict}", where, cell.line_text(where.line))


def apply(cell: Cell) -> Cell:
    """Number the log-density terms and read declared supports into the ``~`` statements they constrain; refuse a
    latent that takes values below 0 where a positive parameter is written."""
    supported = {name: statement for statement in cell.statements if isinstance(statement, Declaration)
                 and not statement.domain.integer and statement.domain.bounded for name in statement.names}
    sampled = {s.target for s in cell.statements if isinstance(s, Sampling)}
    for name, declaration in supported.items():
        if name not in sampled:
            raise ModelSyntaxError(f"{name} is declared in {declaration.domain.written()}, a support, which only a "
                                   "variable drawn with '~' may have (declare it in ℝ)", declaration.span,
                                   cell.line_text(declaration.span.line))
    statements, count = [], 0
    for statement in cell.statements:
        if isinstance(statement, Factor):
            count += 1
            statement = dataclasses.replace(statement, site=FACTOR_SITE.format(count))
        elif isinstance(statement, Sampling) and statement.target in supported:
            statement = _declared(cell, statement, supported[statement.target])
        statements.append(statement)
    read = dataclasses.replace(cell, statements=tuple(statements))
    check_positive_uses(read)
    return read
