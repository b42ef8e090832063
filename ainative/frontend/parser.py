"""Cell text → ``Cell``: the lark grammar over the lexer's tokens, building SymPy directly.

Nothing here evaluates text: names become ``Symbol``s, numbers become SymPy numbers, and every
operator becomes a SymPy node with ``evaluate=False`` so the IR is exactly what was written.
"""

from __future__ import annotations

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
from . import lexer
from .distributions import DISTRIBUTIONS, violates
from .ir import REALS, Assignment, Cell, Declaration, Distribution, Domain, Header, Plate, Sampling
from .nodes import Element, MatrixProduct, ReduceSum, Transposed
from .operations import CONSTANTS, FUNCTIONS

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

    def __init__(self, variables: frozenset[str], line: int, source_line: str):
        super().__init__()
        self.variables, self.line, self.source_line = variables, line, source_line
        self.spans: dict[sympy.Basic, Span] = {}

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
        if value in CONSTANTS and value not in self.variables:
            return self.located(CONSTANTS[value], token)
        if value in FUNCTIONS and value not in self.variables:
            written = self.source_line[token.column - 1 : token.end_column - 1]
            raise self.fail(ModelSyntaxError, f"{written} is a function: write {written}(…) with its argument in "
                            "parentheses (or define it to use the name)", token.column, token.end_column)
        return self.located(sympy.Symbol(value), token)

    def element(self, name, index):
        return self.located(Element(sympy.Symbol(name.value), sympy.Symbol(index.value)), name, index)

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
            raise self.fail(ModelSyntaxError, f"{name} is a distribution: use it on the right of '~'",
                            func.column, right.end_column)
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

    def domain(self, first, *rest):
        """``ℝ``, ``ℕ`` (from 0), ``ℤ``, or the integers ``{low..high}``; a range of two numbers must not be empty."""
        if first.type != "LBRACE":
            return {"REALS": REALS, "NATS": Domain(True, 0, None), "INTS": Domain(True, None, None)}[first.type]
        (low, start, _), (high, _, end) = (item for item in rest if isinstance(item, tuple))
        if isinstance(low, int) and isinstance(high, int) and low > high:
            raise self.fail(ModelSyntaxError, f"{{{low}..{high}}} is empty: its first bound is above its last",
                            start.column, end.end_column)
        return Domain(True, low, high)

    def bound(self, token):
        if token.type == "NAME":
            return (token.value, token)
        if not token.value.isdigit():
            raise self.fail(ModelSyntaxError, f"a plate bound is a name or a whole number, not {token.value}",
                            token.column, token.end_column)
        return (int(token.value), token)

    def plate(self, *items):
        first = items[0]
        index = items[1].value
        (start, start_token), (stop, stop_token) = items[3], items[5]
        span = Span(self.line, first.column, stop_token.end_column)
        if start != 1:
            raise self.fail(ModelSyntaxError, f"plates count from 1: write {index} in 1..{stop}",
                            start_token.column, start_token.end_column)
        return Plate(index, start, stop, span)

    def target(self, name, index=None):
        return (name, index)

    def assignment(self, target, _, value, plate=None):
        return ("assignment", target, value, plate)

    def sampling(self, target, _, func, left, args, right, plate=None):
        family = func.value
        if family not in DISTRIBUTIONS:
            raise self.fail(UnknownNameError, f"unknown distribution {family!r}{_suggest(family, DISTRIBUTIONS)}",
                            func.column, func.end_column)
        spec = DISTRIBUTIONS[family]
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
        return ("sampling", target, Distribution(family, tuple(named)), plate)


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
    variables = set(header.inputs)
    for statement in raw:
        index = lexer._plate_index(statement)
        for name in lexer.defined_names(statement):
            variables.add(name[: -len(index) - 1] if index and name.endswith("_" + index) else name)
    variables = frozenset(variables)
    statements = []
    for tokens in raw:
        line = tokens[0].line
        source_line = lines[line - line_offset - 1]
        _refuse_index_arithmetic(tokens, line, source_line)
        statements.append(_statement(lexer.resolve(tokens, variables), variables, line, source_line))
    return Cell(header, tuple(statements), tuple(lines), line_offset)


def _refuse_index_arithmetic(tokens: list[Token], line: int, source_line: str) -> None:
    """Inside a plate over ``t``, ``x_{2t}`` is no name ``x_2t``: a number next to the index is arithmetic."""
    index = lexer._plate_index(tokens)
    if not index:
        return
    pattern = re.compile(rf".+_(\d+{re.escape(index)}|{re.escape(index)}\d+)")
    for token in tokens:
        if token.type == "NAME" and pattern.fullmatch(token.value):
            raise ModelSyntaxError(f"{source_line[token.column - 1 : token.end_column - 1]} puts a number next to the "
                                   f"plate's index {index}: arithmetic on an index (x_{{2{index}}}, x_{{{index}-1}}) "
                                   "is not read yet, and it is not a new name", Span(line, token.column,
                                                                                    token.end_column), source_line)


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


def _statement(tokens: list[Token], variables: frozenset[str], line: int, source_line: str):
    try:
        tree = _grammar().parse(tokens)
    except UnexpectedToken as error:
        raise _statement_error(error, tokens, source_line, line) from None
    except UnexpectedInput as error:
        raise _statement_error(error, tokens, source_line, line) from None
    builder = _Builder(variables, line, source_line)
    try:
        kind, *rest = builder.transform(tree)
    except Exception as error:
        inner = getattr(error, "orig_exc", error)
        if isinstance(inner, ModelError):
            raise inner from None
        raise
    span = Span(line, tokens[0].column, tokens[-1].end_column)
    text = source_line[span.column - 1 : span.end_column - 1]
    spans = tuple(builder.spans.items())
    if kind == "integers":
        names, shape, domain = rest
        return Declaration(names, shape, span, text, domain)
    if kind == "declaration":
        names, shape = rest
        return Declaration(names, shape, span, text)
    (name_token, index_token), body, plate = rest
    target = name_token.value
    if plate is not None and index_token is None:
        raise ModelSyntaxError(
            f"a statement over a plate defines an indexed variable: write {target}_{plate.index}",
            Span(line, name_token.column, name_token.end_column), source_line)
    for expr in [body.expr] if kind == "assignment" else list(body.values):
        where = _too_deep(expr, builder.spans)
        if where is not None:
            raise ModelSyntaxError(f"the expression nests more than {MAX_DEPTH} levels deep here; split it into "
                                   "several statements", where, source_line)
    if kind == "assignment":
        return Assignment(target, body.expr, span, text, plate, spans)
    return Sampling(target, body, span, text, plate, spans)
