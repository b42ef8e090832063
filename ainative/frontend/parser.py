"""Cell text → ``Cell``: the lark grammar over the lexer's tokens, building SymPy directly.

Nothing here evaluates text: names become ``Symbol``s, numbers become SymPy numbers, and every
operator becomes a SymPy node with ``evaluate=False`` so the IR is exactly what was written.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import struct
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import sympy
from lark import Lark, Token, Transformer_NonRecursive, v_args
from lark.exceptions import UnexpectedInput, UnexpectedToken
from lark.lexer import Lexer

from ..errors import ModelError, ModelSyntaxError, ShapeError, Span, UnknownNameError
from . import lexer, recurrences, subscripts, supports
from .distributions import DISTRIBUTIONS, MIXING, Components, Family, violates
from .ir import (
    REALS,
    Assignment,
    Cell,
    Declaration,
    Distribution,
    Domain,
    Factor,
    Header,
    IndexRange,
    Plate,
    Sampling,
)
from .nodes import (
    OVER_INDEX,
    Component,
    Delta,
    Element,
    Entry,
    Index,
    IndexProduct,
    IndexSum,
    Inverse,
    MatrixProduct,
    OverIndex,
    ReduceSum,
    Transposed,
)
from .operations import CONSTANTS, FUNCTIONS
from .ranges import arithmetic

FLOAT32_MAX = 3.4e38
#: how deep an expression may nest: every stage after the parser (shapes, printers) recurses once a level
MAX_DEPTH = 100


class _TokenList(Lexer):
    """Hands lark the tokens ``lexer.py`` already made."""

    def __init__(self, conf):
        pass

    def lex(self, tokens):
        yield from tokens


@lru_cache(maxsize=1)
def _grammar() -> Lark:
    text = resources.files(__package__).joinpath("notation.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", lexer=_TokenList, maybe_placeholders=False)


class Located(NamedTuple):
    """An expression and the columns it spans on its statement's line."""

    expr: sympy.Basic
    column: int
    end_column: int


def _span_of(items) -> tuple[int, int]:
    columns = [(i.column, i.end_column) for i in items if isinstance(i, (Token, Located))]
    return min(c for c, _ in columns), max(e for _, e in columns)


def _flatten(kind, parts) -> list:
    """The arguments of ``kind(*parts)`` with nested ``kind`` nodes opened: ``(a + b) + c`` is one sum."""
    args = []
    for part in parts:
        args.extend(part.args if isinstance(part, kind) else (part,))
    return args


def _quotient(a, b):
    inverse = sympy.Pow(b, -1, evaluate=False)
    return inverse if a == 1 else sympy.Mul(a, inverse, evaluate=False)


@v_args(inline=True)
class _Builder(Transformer_NonRecursive):
    """Tree → SymPy, remembering the columns of each sub-expression for error messages."""

    def __init__(self, variables: frozenset[str], indices: set[str], line: int, source_line: str,
                 inputs: frozenset[str] = frozenset()):
        super().__init__()
        self.variables, self.index_names, self.line, self.source_line = variables, indices, line, source_line
        self.inputs = inputs
        self.spans: dict[sympy.Basic, Span] = {}
        #: each distribution written as an argument (``𝒩(μ, σ)`` in a mixture), and those a mixture took
        self.components: list[Located] = []
        self.taken: set[int] = set()

    # helpers -----------------------------------------------------------------------------
    def fail(self, cls, message: str, column: int, end_column: int) -> ModelError:
        return cls(message, Span(self.line, column, end_column), self.source_line)

    def located(self, expr, *items) -> Located:
        column, end = _span_of(items)
        self.spans.setdefault(expr, Span(self.line, column, end))
        return Located(expr, column, end)

    # atoms -------------------------------------------------------------------------------
    def name(self, token):
        value = token.value
        if value in self.index_names:
            return self.located(Index(value), token)
        if value in CONSTANTS and value not in self.variables:
            return self.located(CONSTANTS[value], token)
        if value in FUNCTIONS and value not in self.variables:
            written = self.source_line[token.column - 1 : token.end_column - 1]
            raise self.fail(ModelSyntaxError, f"{written} is a function: write {written}(…) with its argument in "
                            "parentheses (or define it to use the name)", token.column, token.end_column)
        return self.located(sympy.Symbol(value), token)

    def indices(self, *items):
        return [item for item in items if not isinstance(item, Token)]

    def entry(self, name, left, indices, right):
        for index in indices:
            self.check_index(index)
        return self.located(Entry(sympy.Symbol(name.value), *(arithmetic(i.expr) for i in indices)), name, right)

    def check_index(self, index: Located) -> None:
        """A subscript is integer arithmetic: indices, whole numbers, dimensions and entries of data, + − and ×."""
        stack = [index.expr]
        while stack:
            node = stack.pop()
            if isinstance(node, Entry):
                stack.extend(node.args[1:])
            elif isinstance(node, (sympy.Add, sympy.Mul, sympy.Symbol, MatrixProduct)):
                stack.extend(node.args)
            elif not node.is_Integer:
                where = self.spans.get(node, Span(self.line, index.column, index.end_column))
                written = self.source_line[where.column - 1 : where.end_column - 1]
                raise self.fail(ModelSyntaxError, f"{written} cannot be in a subscript: an index expression is "
                                "whole numbers, indices, dimensions and entries of integer data, with +, − and ×",
                                where.column, where.end_column)

    def delta(self, token, left, indices, right):
        for index in indices:
            self.check_index(index)
        return self.located(Delta(*(arithmetic(i.expr) for i in indices)), token, right)

    def over(self, *items):
        """``[(index token, start, stop)]``: what a reduction runs over (``nan`` bounds are inferred)."""
        names = [t for t in items if isinstance(t, Token) and t.type == "NAME"]
        bounds = [i.expr for i in items if isinstance(i, Located)]
        if len(bounds) == 2:
            return [(names[0], bounds[0], bounds[1])]
        return [(name, sympy.nan, sympy.nan) for name in names]

    def over_index(self, token, over, body):
        if token.type == "REDUCE":
            kind = OVER_INDEX[token.value]
        else:
            kind = IndexSum if token.type == "SUM" else IndexProduct
        expr = body.expr
        for name, start, stop in reversed(over):
            if name.value in self.variables:
                raise self.fail(ModelSyntaxError, f"{name.value} is a variable of the model, so it cannot also be "
                                "the index of a reduction: use another letter", name.column, name.end_column)
            expr = kind(expr, Index(name.value), start, stop)
            self.located(expr, token, body)
        return self.located(expr, token, body)

    def number(self, token):
        text = token.value
        value = float(text)
        shown = text if len(text) <= 20 else text[:17] + "..."
        if value > FLOAT32_MAX:
            raise self.fail(ModelSyntaxError, f"{shown} is too large for float32", token.column, token.end_column)
        if (value and not struct.unpack("f", struct.pack("f", value))[0]) or (not value and _nonzero(text)):
            raise self.fail(ModelSyntaxError, f"{shown} is too small for float32: it would be 0", token.column,
                            token.end_column)
        number = sympy.Integer(text.lstrip("0") or "0") if text.isdigit() else sympy.Float(text)
        return self.located(number, token)

    def group(self, left, inner, right):
        return Located(inner.expr, left.column, right.end_column)

    def call(self, func, left, args, right):
        name = func.value
        if name in DISTRIBUTIONS:
            distribution = self.distribution(func, args, right)
            if DISTRIBUTIONS[name].components is not None:
                raise self.fail(ModelSyntaxError, f"{name} is a mixture: it is the whole right side of '~', not "
                                "a component of another", func.column, right.end_column)
            located = self.located(Component.of(name, distribution.args), func, right)
            self.components.append(located)
            return located
        if name not in FUNCTIONS:
            raise self.fail(UnknownNameError, f"unknown function {name!r}{_suggest(name, FUNCTIONS)}",
                            func.column, func.end_column)
        by_arity = FUNCTIONS[name]
        if any(key is not None for key, _ in args):
            raise self.fail(ModelSyntaxError, f"{name}() takes no keyword arguments", func.column, right.end_column)
        if len(args) not in by_arity:
            wanted = " or ".join(str(a) for a in sorted(by_arity))
            raise self.fail(ModelSyntaxError, f"{name}() takes {wanted} argument(s), got {len(args)}",
                            func.column, right.end_column)
        return self.located(by_arity[len(args)].make(*(value.expr for _, value in args)), func, right)

    def args(self, *items):
        return [item for item in items if not isinstance(item, Token)]

    def arg(self, *items):
        if len(items) == 1:
            return (None, items[0])
        key, _, value = items
        return (key.value, value)

    # operators ---------------------------------------------------------------------------
    def sum(self, first, *rest):
        terms = _flatten(sympy.Add, [first.expr])
        for sign, term in zip(rest[::2], rest[1::2]):
            value = term.expr if sign.type == "PLUS" else sympy.Mul(-1, term.expr, evaluate=False)
            terms.extend(_flatten(sympy.Add, [value]))
        return self.located(sympy.Add(*terms, evaluate=False), first, rest[-1])

    def product(self, first, *rest):
        """Left to right: runs of ``*`` make one product, ``/`` and ``@`` take everything before them."""
        factors, done = _flatten(sympy.Mul, [first.expr]), first
        for operator, operand in zip(rest[::2], rest[1::2]):
            if operator.type == "STAR":
                factors.extend(_flatten(sympy.Mul, [operand.expr]))
                done = operand
                continue
            left = factors[0] if len(factors) == 1 else sympy.Mul(*factors, evaluate=False)
            if len(factors) > 1:
                self.located(left, first, done)
            right = operand.expr
            combined = _quotient(left, right) if operator.type == "SLASH" else MatrixProduct(left, right)
            self.located(combined, first, operand)
            factors, done = _flatten(sympy.Mul, [combined]), operand
        expr = factors[0] if len(factors) == 1 else sympy.Mul(*factors, evaluate=False)
        return self.located(expr, first, rest[-1])

    def frac(self, token, a, b):
        return self.located(_quotient(a.expr, b.expr), token, b)

    def juxtapose(self, a, b):
        return self.located(MatrixProduct(a.expr, b.expr), a, b)

    def neg(self, token, a):
        expr = -a.expr if a.expr.is_Number else sympy.Mul(-1, a.expr, evaluate=False)
        return self.located(expr, token, a)

    def pos(self, token, a):
        return Located(a.expr, token.column, a.end_column)

    def reduce_sum(self, token, a):
        return self.located(ReduceSum(a.expr), token, a)

    def pow(self, base, _, exponent):
        """``x⁻¹`` is an ``Inverse``, which ``shapes.py`` makes a reciprocal unless ``x`` is a matrix."""
        if exponent.expr == -1:
            return self.located(Inverse(base.expr), base, exponent)
        return self.located(sympy.Pow(base.expr, exponent.expr, evaluate=False), base, exponent)

    def transpose(self, a, token):
        return self.located(Transposed(a.expr), a, token)

    def sqrt(self, token, a):
        return self.located(sympy.Pow(a.expr, sympy.S.Half, evaluate=False), token, a)

    # statements --------------------------------------------------------------------------
    def dim(self, token):
        if token.type == "NAME":
            return token.value
        if not token.value.isdigit() or int(token.value) < 1:
            raise self.fail(ShapeError, f"a dimension is a name or a positive integer, not {token.value}",
                            token.column, token.end_column)
        return int(token.value)

    def dimlist(self, *items):
        return tuple(i for i in items if not isinstance(i, Token))

    def dims(self, _, dimlist, __):
        return dimlist

    def declaration(self, *items):
        names = tuple(t.value for t in items if isinstance(t, Token) and t.type == "NAME")
        domain = next(i for i in items if isinstance(i, Domain))
        shape = items[-1] if not isinstance(items[-1], (Token, Domain)) else ()
        shape = shape if isinstance(shape, tuple) else (shape,)
        return ("declaration", names, shape) if domain == REALS else ("integers", names, shape, domain)

    def limit(self, *tokens):
        """A range bound: a dimension's name or a whole number (``-1`` too), with its first and last token."""
        token = tokens[-1]
        if token.type == "NAME":
            return (token.value, token, token)
        if not token.value.isdigit():
            raise self.fail(ModelSyntaxError, f"a range bound is a name or a whole number, not {token.value}",
                            token.column, token.end_column)
        value = int(token.value)
        return (-value if len(tokens) == 2 else value, tokens[0], token)

    def edge(self, *tokens):
        """A bound of a declared interval: a number, or ±∞ (``None``), with its first and last token."""
        last = tokens[-1]
        negative = tokens[0].type == "MINUS"
        if last.type == "INF":
            return (("-inf" if negative else "inf"), tokens[0], last)
        value = float(last.value)
        return (-value if negative else value, tokens[0], last)

    def domain(self, first, *rest):
        """``ℝ``, ``ℕ`` (from 0), ``ℤ``, ``ℝ₊``, the integers ``{low..high}`` or the reals ``[low, high]``; a range
        or an interval of two numbers must not be empty."""
        if first.type == "LPAR":
            (low, start, _), (high, _, end) = (item for item in rest if isinstance(item, tuple))
            if low == "inf" or high == "-inf":
                raise self.fail(ModelSyntaxError, "an interval runs from its lower bound to its upper one: -∞ may "
                                "only be first and ∞ only last", start.column, end.end_column)
            low, high = (None if b in ("inf", "-inf") else b for b in (low, high))
            if low is not None and high is not None and low >= high:
                raise self.fail(ModelSyntaxError, f"[{low:g}, {high:g}] is empty: its lower bound is not below its "
                                "upper one", start.column, end.end_column)
            return Domain(False, low, high)
        if first.type != "LBRACE":
            return {"REALS": REALS, "NATS": Domain(True, 0, None), "INTS": Domain(True, None, None),
                    "POSREALS": Domain(False, 0, None)}[first.type]
        (low, start, _), (high, _, end) = (item for item in rest if isinstance(item, tuple))
        if isinstance(low, int) and isinstance(high, int) and low > high:
            raise self.fail(ModelSyntaxError, f"{{{low}..{high}}} is empty: its first bound is above its last",
                            start.column, end.end_column)
        return Domain(True, low, high)

    def bound(self, *items):
        """``(value, first token, last token)``: an int or a name when written as one, else a SymPy expression."""
        for token in items:
            if token.type == "NUMBER" and not token.value.isdigit():
                raise self.fail(ModelSyntaxError, f"a plate bound is made of names and whole numbers, not "
                                f"{token.value}", token.column, token.end_column)
        if len(items) == 1:
            token = items[0]
            return (token.value if token.type == "NAME" else int(token.value), token, token)
        expr = _term(items[0])
        for sign, term in zip(items[1::2], items[2::2]):
            expr = sympy.Add(expr, _term(term) if sign.type == "PLUS" else -_term(term))
        return (expr, items[0], items[-1])

    def range(self, name, _, start, __, stop):
        return (name, start, stop)

    def plate(self, *items):
        """Each ``i in a..b`` of a plate, as ``(index token, start, stop, span)``."""
        if items[0].type == "FOR":
            ranges = [i for i in items if not isinstance(i, Token)]
        else:
            ranges = [(items[k + 1], items[k + 3], items[k + 5]) for k in range(0, len(items), 6)]
        first = items[0]
        return [(name, start, stop, Span(self.line, first.column, stop[2].end_column)) for name, start, stop in ranges]

    def target(self, name, left=None, indices=None, right=None):
        return (name, indices, right)

    def assignment(self, target, _, value, plate=None):
        return ("assignment", target, value, plate)

    def side(self, *items):
        """One side of a truncation: an expression, ±∞ (``("inf", sign, first, last)``), or None when empty."""
        if not items:
            return None
        if isinstance(items[-1], Token) and items[-1].type == "INF":
            return ("inf", -1 if items[0].type == "MINUS" else 1, items[0], items[-1])
        return items[0]

    def truncation(self, *items):
        """``restricted to [low, high]``: ``(low, high, restriction token, closing token)``, an open side None."""
        first, tokens = items[0], [i for i in items if isinstance(i, Token)]
        sides = [i for i in items if not isinstance(i, Token)]
        low, high = sides
        for side, wrong, word in ((low, 1, "lower"), (high, -1, "upper")):
            if side is not None and not isinstance(side, Located) and side[1] == wrong:
                raise self.fail(ModelSyntaxError, f"the {word} bound of a truncation cannot be "
                                f"{'' if wrong > 0 else '-'}∞", side[2].column, side[3].end_column)
        low, high = (side if isinstance(side, Located) else None for side in (low, high))
        return (low, high, first, tokens[-1])

    def sampling(self, target, _, func, left, args, right, *rest):
        truncation = rest[0] if rest and len(rest[0]) == 4 and isinstance(rest[0][2], Token) else None
        plate = rest[-1] if rest and rest[-1] is not truncation else None
        distribution = self.distribution(func, args, right, top=True)
        if DISTRIBUTIONS[func.value].improper and target[0].value in self.inputs:
            raise self.fail(ModelSyntaxError, f"{target[0].value} is data (an input), and {func.value} is an improper "
                            "prior, a constant density with no finite total, which gives observed values no "
                            f"likelihood: give {target[0].value} a proper family (𝒩, …)", func.column, right.end_column)
        if truncation is None:
            return ("sampling", target, distribution, plate)
        low, high, start, end = truncation
        supports.check_truncation(DISTRIBUTIONS[func.value], low, high, Span(self.line, start.column, end.end_column),
                                  self.source_line)
        bounds = {"low": low and low.expr, "high": high and high.expr}
        return ("sampling", target, dataclasses.replace(distribution, **bounds), plate)

    def factor(self, token, value):
        return ("factor", token, value)

    def distribution(self, func, args, right, top: bool = False) -> Distribution:
        """``Family(args)``: its parameters by name, checked against the family's row; a mixture's components
        are distributions (``Mixture(w, 𝒩(μ₁, σ₁), StudentT(3, μ₂, σ₂))``)."""
        family = func.value
        if family not in DISTRIBUTIONS:
            raise self.fail(UnknownNameError, f"unknown distribution {family!r}{_suggest(family, DISTRIBUTIONS)}",
                            func.column, func.end_column)
        spec = DISTRIBUTIONS[family]
        if spec.components is not None:
            return self.mixture(spec, func, args, right)
        if args and not spec.params:
            first = args[0][1]
            raise self.fail(ModelSyntaxError, f"{family} takes no arguments: its density is the same everywhere on its "
                            f"values; write {family}()", first.column, args[-1][1].end_column)
        named, seen_keyword = [], False
        for position, (key, value) in enumerate(args):
            if key is None:
                if seen_keyword:
                    raise self.fail(ModelSyntaxError, "positional argument after a keyword", value.column,
                                    value.end_column)
                if position >= len(spec.params):
                    raise self.fail(ModelSyntaxError, f"{family} takes at most {len(spec.params)} arguments "
                                    f"({', '.join(spec.params)})", value.column, value.end_column)
                key = spec.params[position]
            else:
                seen_keyword = True
                if key not in spec.params:
                    raise self.fail(ModelSyntaxError, f"{family} has no parameter {key!r}; its parameters are "
                                    f"{', '.join(spec.params)}", value.column, value.end_column)
            if value.expr.is_number and value.expr.is_real:
                problem = violates(key, float(value.expr))
                if problem:
                    written = self.source_line[value.column - 1 : value.end_column - 1]
                    raise self.fail(ModelSyntaxError, f"{family}: {problem}, not {written}", value.column,
                                    value.end_column)
            named.append((key, value.expr))
        keys = [k for k, _ in named]
        if len(set(keys)) != len(keys):
            raise self.fail(ModelSyntaxError, f"{family} got a parameter twice", func.column, right.end_column)
        if not spec.complete(keys):
            raise self.fail(ModelSyntaxError, f"{family} needs {spec.requirement()}", func.column, right.end_column)
        return Distribution(family, tuple(named))

    def mixture(self, spec: Family, func, args, right) -> Distribution:
        """``MixtureSameFamily(Categorical(w), 𝒩(μ, σ))`` or ``Mixture(w, 𝒩(μ₁, σ₁), …)``, positional only."""
        family = func.value
        if any(key is not None for key, _ in args):
            raise self.fail(ModelSyntaxError, f"{family} takes its arguments by position", func.column,
                            right.end_column)
        values = [value for _, value in args]
        if spec.components is Components.SAME_FAMILY:
            wanted = ["a Categorical over the components", "one distribution whose last axis holds them"]
        else:
            wanted = ["the weights"] + ["a distribution a component"] * max(len(values) - 1, 2)
        if len(values) != len(wanted):
            raise self.fail(ModelSyntaxError, f"{family} takes {', then '.join(dict.fromkeys(wanted))} "
                            f"({len(wanted)} arguments), not {len(values)}", func.column, right.end_column)
        for position, (value, what) in enumerate(zip(values, wanted)):
            component = isinstance(value.expr, Component)
            categorical = component and value.expr.family == MIXING
            right_kind = categorical if position == 0 and spec.components is Components.SAME_FAMILY else (
                not component if position == 0 else component and not categorical)
            if not right_kind:
                written = self.source_line[value.column - 1 : value.end_column - 1]
                raise self.fail(ModelSyntaxError, f"{family}'s argument {position + 1} is {what}, not {written}",
                                value.column, value.end_column)
            if component and DISTRIBUTIONS[value.expr.family].improper:
                raise self.fail(ModelSyntaxError, f"{value.expr.family} is improper (its density has no finite total), "
                                "so a mixture of it is no distribution: give each component a proper family",
                                value.column, value.end_column)
            self.taken.add(id(value))
        components = [v for v in values if isinstance(v.expr, Component) and v.expr.family != MIXING]
        for other in components[1:]:
            first, second = (DISTRIBUTIONS[c.expr.family] for c in (components[0], other))
            if first.support != second.support:
                raise self.fail(ModelSyntaxError, f"a mixture's components take values in one set: {first.name}'s "
                                f"are {first.support}, {second.name}'s {second.support}", other.column,
                                other.end_column)
        if spec.components is Components.SAME_FAMILY:
            return Distribution(family, tuple(zip(spec.params, (v.expr for v in values))))
        return Distribution(family, (("probs", values[0].expr), ("components", sympy.Tuple(*(v.expr for v in
                                                                                             values[1:])))))

def _term(token: Token) -> sympy.Expr:
    return sympy.Symbol(token.value) if token.type == "NAME" else sympy.Integer(token.value)


def _nonzero(number: str) -> bool:
    """Whether a written number has a digit other than 0 before its exponent."""
    return any(c in "123456789" for c in re.split(r"[eE]", number)[0])


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


_EXPRESSION_STARTS = {"NAME", "NUMBER", "FUNC", "LPAR", "LBRACE", "MINUS", "SUM", "FRAC", "SQRT"}


def _expected(expected: set[str]) -> str:
    if {"NAME", "NUMBER"} <= expected <= {"NAME", "NUMBER", "MINUS", "COMMA"}:
        return "a name or a number"
    if _EXPRESSION_STARTS & expected:
        return "an expression"
    words = sorted(lexer.FRIENDLY.get(e, e) for e in expected)
    return ", ".join(words[:5]) if words else "something else"


def _statement_error(error: UnexpectedInput, tokens: list[Token], source_line: str, line: int) -> ModelSyntaxError:
    token = getattr(error, "token", None)
    if token is None or token.type == "$END":
        last = tokens[-1]
        where = Span(line, last.end_column, last.end_column + 1)
        what = "the statement ends too early"
    else:
        where = Span(line, token.column, token.end_column)
        text = source_line[token.column - 1 : token.end_column - 1]
        if token.type in ("RPAR", "RBRACE") and _depth(tokens, token) == 0:
            return ModelSyntaxError(f"unmatched {text!r}", where, source_line)
        what = f"unexpected {text!r}"
    expected = _expected(set(getattr(error, "expected", ()) or ()))
    return ModelSyntaxError(f"{what}; expected {expected}", where, source_line)


def _depth(tokens: list[Token], token: Token) -> int:
    """How many brackets are open before ``token``: a closing one where none is open is unmatched."""
    depth = 0
    for t in tokens:
        if t.start_pos >= token.start_pos:
            break
        depth += (t.type in lexer.OPEN) - (t.type in lexer.CLOSE)
    return max(depth, 0)


def _source_lines(text: str) -> list[str]:
    return text.split("\n")


def parse(text: str, header: Header, *, line_offset: int = 0) -> Cell:
    """Read a cell body (statements) into a ``Cell`` of SymPy expressions."""
    if not isinstance(text, str):
        raise TypeError(f"cell text must be a string, not {type(text).__name__}")
    lines = _source_lines(text)
    raw = lexer.tokenize(text, latex=header.latex, line_offset=line_offset, names=(*header.inputs, *header.outputs))
    sources = [lines[tokens[0].line - line_offset - 1] for tokens in raw]
    variables = _variables(header, raw, sources)
    statements = []
    for tokens, source_line in zip(raw, sources):
        resolved, indices = subscripts.resolve(tokens, variables, source_line)
        statements.append(_statement(resolved, variables, indices, tokens[0].line, source_line,
                                     frozenset(header.inputs)))
    cell = Cell(header, tuple(statements), tuple(lines), line_offset)
    return supports.apply(Cell(header, recurrences.read(cell.statements, header.inputs, cell.line_text),
                               tuple(lines), line_offset))


def _variables(header: Header, raw: list[list[Token]], sources: list[str]) -> frozenset[str]:
    """The cell's variables: inputs, and what each statement defines with its left side's indices taken off.

    Whether ``y_k`` defines ``y`` depends on whether ``z`` in ``softmax_k(z_k)`` is a variable, which
    another statement decides: read until nothing changes (each round can only settle more names).
    """
    written = [subscripts.defined_name(tokens) for tokens in raw]
    variables = frozenset(header.inputs).union(*written)
    for _ in range(len(raw) + 1):
        settled = set(header.inputs)
        for tokens, names, source_line in zip(raw, written, sources):
            if names:
                free = subscripts.left_indices(tokens, variables - {names[0]}, source_line)
                settled.update([subscripts.target_base(names[0], free), *names[1:]])
        if settled == variables:
            break
        variables = frozenset(settled)
    return variables


def _too_deep(expr: sympy.Basic, spans: dict[sympy.Basic, Span]) -> Span | None:
    """The written span of the sub-expression at ``MAX_DEPTH`` that nests further, if any; no recursion."""
    stack = [(expr, 1, None)]
    while stack:
        node, level, outer = stack.pop()
        if level > MAX_DEPTH:
            return outer
        where = spans.get(node, outer)
        stack.extend((arg, level + 1, where) for arg in node.args)
    return None


def _statement(tokens: list[Token], variables: frozenset[str], indices: set[str], line: int, source_line: str,
               inputs: frozenset[str] = frozenset()):
    try:
        tree = _grammar().parse(tokens)
    except UnexpectedToken as error:
        raise _statement_error(error, tokens, source_line, line) from None
    except UnexpectedInput as error:
        raise _statement_error(error, tokens, source_line, line) from None
    builder = _Builder(variables, indices, line, source_line, inputs)
    try:
        kind, *rest = builder.transform(tree)
    except Exception as error:
        inner = getattr(error, "orig_exc", error)
        if isinstance(inner, ModelError):
            raise inner from None
        raise
    for component in builder.components:
        if id(component) not in builder.taken:
            name = component.expr.family
            raise ModelSyntaxError(f"{name} is a distribution: use it on the right of '~' (or as a mixture's "
                                   "component)", Span(line, component.column, component.end_column), source_line)
    span = Span(line, tokens[0].column, tokens[-1].end_column)
    text = source_line[span.column - 1 : span.end_column - 1]
    spans = tuple(builder.spans.items())
    if kind == "integers":
        names, shape, domain = rest
        return Declaration(names, shape, span, text, domain)
    if kind == "declaration":
        names, shape = rest
        return Declaration(names, shape, span, text)
    if kind == "factor":
        token, body = rest
        where = _too_deep(body.expr, builder.spans)
        if where is not None:
            raise ModelSyntaxError(f"the expression nests more than {MAX_DEPTH} levels deep here; split it into "
                                   "several statements", where, source_line)
        written = _Written("", token, [], token, [], builder, line, source_line)
        written.layout(body.expr)
        return Factor(body.expr, "", span, text, spans)
    (name_token, left, right), body, ranges = rest
    target = name_token.value
    for expr in [body.expr] if kind == "assignment" else list(body.values + body.bounds):
        where = _too_deep(expr, builder.spans)
        if where is not None:
            raise ModelSyntaxError(f"the expression nests more than {MAX_DEPTH} levels deep here; split it into "
                                   "several statements", where, source_line)
    if left and len(left) == 1 and left[0].expr.is_Integer and left[0].expr >= 0 and not ranges:
        target, left = f"{target}_{left[0].expr}", []
    written = _Written(target, name_token, left or [], right, ranges or [], builder, line, source_line)
    plate, free = written.layout(body.expr if kind == "assignment" else body.values + body.bounds)
    if plate is not None:
        body = _as_elements(body, plate.index)
    if kind == "assignment":
        return Assignment(target, body.expr, span, text, plate, spans, free)
    return Sampling(target, body, span, text, plate, spans, free)


def _as_elements(body, index: str):
    """A plate statement that only takes rows ``η_j``: the entries become ``Element``s, as plates have always read."""
    def rows(expr):
        return expr.replace(lambda e: isinstance(e, Entry), lambda e: Element(e.args[0], sympy.Symbol(index)))

    if isinstance(body, Located):
        return Located(rows(body.expr), body.column, body.end_column)
    low, high = (None if b is None else rows(b) for b in (body.low, body.high))
    return Distribution(body.family, tuple((key, rows(value)) for key, value in body.args), low, high)


class _Written:
    """A statement's left side and plate: which reading it takes (a plate over rows, or indices)."""

    def __init__(self, target, name_token, left, right, ranges, builder, line, source_line):
        self.target, self.name_token, self.left, self.right = target, name_token, left, right
        self.ranges, self.builder, self.line, self.source_line = ranges, builder, line, source_line

    def fail(self, cls, message: str, column: int, end_column: int) -> ModelError:
        return cls(message, Span(self.line, column, end_column), self.source_line)

    def layout(self, exprs) -> tuple[Plate | None, tuple[IndexRange, ...]]:
        """The statement's plate (rows, as before indices) or its free indices with their ranges."""
        exprs = [exprs] if isinstance(exprs, sympy.Basic) else list(exprs)
        left = []
        for item in self.left:
            if not isinstance(item.expr, Index):
                raise self.fail(ModelSyntaxError, "the left side's subscripts are indices (K_{ij}, y_t), each once: "
                                "an expression there would define some entries only", item.column, item.end_column)
            if item.expr.name in left:
                raise self.fail(ModelSyntaxError, f"index {item.expr.name} appears twice on the left side",
                                item.column, item.end_column)
            left.append(item.expr.name)
        plates = {name.value: (name, start, stop, span) for name, start, stop, span in self.ranges}
        for _, start, stop, _ in self.ranges:
            for bound in (start, stop):
                named = {s.name for s in _bound(bound[0]).free_symbols} & set(plates)
                if named:
                    raise self.fail(ModelSyntaxError, f"a range's bounds are whole numbers and dimensions, not an "
                                    f"index ({', '.join(sorted(named))}): ranges that depend on another index are "
                                    "not read yet", bound[1].column, bound[2].end_column)
        for name, (token, *_rest) in plates.items():
            if name in self.builder.variables:
                raise self.fail(ModelSyntaxError, f"{name} is a variable of the model, so it cannot also be an index: "
                                "use another letter", token.column, token.end_column)
            if name not in left:
                raise self.fail(ModelSyntaxError, f"the plate runs over {name}, but the left side is not indexed by "
                                f"it: write {self.target}_{name}", token.column, token.end_column)
        self.check_scopes(exprs, set(left))
        for name, start, stop, _ in plates.values():
            if isinstance(start[0], int) and start[0] < 1:
                raise self.fail(ModelSyntaxError, f"plates count from 1: write {name.value} in 1..{stop[0]}",
                                start[1].column, stop[2].end_column)
        if len(left) == 1 and len(plates) == 1 and self.rows(exprs, left[0]) and plates[left[0]][1][0] == 1:
            name, start, stop, span = plates[left[0]]
            return Plate(name.value, start[0], stop[0], span), ()
        free = []
        for name in left:
            if name in plates:
                token, start, stop, span = plates[name]
                free.append(IndexRange(name, _bound(start[0]), _bound(stop[0]), span))
            else:
                free.append(IndexRange(name, sympy.nan, sympy.nan,
                                       Span(self.line, self.name_token.column, self.right.end_column)))
        return None, tuple(free)

    def rows(self, exprs, index: str) -> bool:
        """Whether the plate's index only ever takes a whole row (``η_j``), the reading plates had before indices."""
        plate_bound = all(isinstance(r[2][0], (int, str)) for r in self.ranges)
        for expr in exprs:
            for node in sympy.preorder_traversal(expr):
                if isinstance(node, (OverIndex, Delta)):
                    return False
                if isinstance(node, Entry) and node.args[1:] != (Index(index),):
                    return False
            if any(isinstance(e, Index) for e in _outside_entries(expr)):
                return False
        return plate_bound

    def check_scopes(self, exprs, free: set[str]) -> None:
        """Every index is used where it is bound: on the left side, or inside its own reduction."""
        for expr in exprs:
            stack = [(expr, frozenset(free))]
            while stack:
                node, scope = stack.pop()
                if isinstance(node, Index) and node.name not in scope:
                    where = self.builder.spans.get(node, Span(self.line, 1, len(self.source_line) + 1))
                    raise ModelSyntaxError(f"{node.name} is not an index here: it is not on the left side, and no "
                                           "reduction around this runs over it", where, self.source_line)
                if isinstance(node, OverIndex):
                    name = node.index.name
                    if _is_softmax(node) and name not in scope:
                        where = self.builder.spans.get(node, Span(self.line, 1, len(self.source_line) + 1))
                        raise ModelSyntaxError(f"softmax_{name} normalises over {name}, which stays an index of the "
                                               f"result: {name} must be on the left side", where, self.source_line)
                    if name in scope and not _is_softmax(node):
                        where = self.builder.spans.get(node, Span(self.line, 1, len(self.source_line) + 1))
                        raise ModelSyntaxError(f"{name} is already an index here; a reduction inside runs over "
                                               "another letter", where, self.source_line)
                    stack.extend((arg, scope) for arg in node.args[2:])
                    stack.append((node.body, scope | {name}))
                    continue
                stack.extend((arg, scope) for arg in node.args)


def _is_softmax(node) -> bool:
    return type(node).word == "softmax"


def _outside_entries(expr):
    """The nodes of ``expr`` that are not inside an ``Entry``."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, Entry):
            stack.extend(node.args)


def _bound(value) -> sympy.Expr:
    if isinstance(value, int):
        return sympy.Integer(value)
    return sympy.Symbol(value) if isinstance(value, str) else value
