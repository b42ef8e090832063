"""Which subscripts index: a statement's tokens read in the context of its indices and the model's names.

The lexer spells ``x_i``, ``W_{ij}`` and ``mean_j`` as names, and ``x_{t-1}``, ``x[i]`` as a name
followed by an explicit subscript (``LSUB … RSUB``). Whether ``x_i`` is the entry ``i`` of ``x`` or a
name of its own depends on what ``i`` is, which only the whole statement (and the cell) tells:

- a statement's **indices** are those of its plates (``for i in 1..N, j in 1..M``), those its
  reductions run over (``Σ_j``, ``mean_{k=1..K}``) and the free indices of its left side;
- a plain subscript (``x_i``, ``W_ij``, ``x_{2t}``) indexes when every name in it is one of those
  indices; otherwise it is part of the name (``W_1``, ``b_out``), exactly as before indices existed;
- an explicit subscript (``x_{t-1}``, ``x[i]``) always indexes; what it may hold is checked by the parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from lark import Token

from ..errors import ModelSyntaxError, Span
from .distributions import DISTRIBUTIONS
from .lexer import CLOSE, OPEN
from .nodes import OVER_INDEX
from .operations import ALIASES, CONSTANTS, FUNCTIONS

#: a plain subscript that is a number times an index: ``2t``
_SCALED = re.compile(r"(\d+)([^\W\d_]\w*)")
#: a plain subscript with digits after letters (``t1``): an index next to a number, or a name
_TRAILING_DIGITS = re.compile(r"([^\W\d_]+)(\d+)")
DELTA = "delta"


def _is(token: Token, kind: str) -> bool:
    return token.type == kind or (token.type == "NAME" and token.value == kind.lower())


def plate_indices(statement: Sequence[Token]) -> list[str]:
    """The indices of a trailing plate: ``for i in 1..N, j in 1..M`` or LaTeX's ``, i = 1..N, j = 1..M``."""
    for i, token in enumerate(statement):
        if _is(token, "FOR"):
            rest = statement[i + 1 :]
            return [t.value for k, t in enumerate(rest) if t.type == "NAME" and k + 1 < len(rest)
                    and _is(rest[k + 1], "IN")]
    depth, found = 0, []
    for i, token in enumerate(statement):
        depth += token.type in OPEN
        depth -= token.type in CLOSE
        if (
            depth == 0 and token.type == "COMMA" and i + 3 < len(statement)
            and statement[i + 1].type == "NAME" and statement[i + 2].type == "EQ"
            and any(t.type == "DOTS" for t in statement[i + 3 :])
        ):
            found.append(statement[i + 1].value)
    return found


def _group(statement: Sequence[Token], start: int) -> int:
    """The position of the ``RSUB`` closing the ``LSUB`` at ``start``."""
    depth = 0
    for i in range(start, len(statement)):
        depth += statement[i].type in OPEN
        depth -= statement[i].type in CLOSE
        if depth == 0:
            return i
    return len(statement) - 1


def _heads(statement: Sequence[Token], start: int) -> list[Token]:
    """The first token of each comma-separated item of the subscript opened at ``start`` (``{c,i,j}``, ``{k=1}``)."""
    heads, end, depth = [], _group(statement, start), 0
    expecting = True
    for token in statement[start + 1 : end]:
        if expecting:
            heads.append(token)
        expecting = depth == 0 and token.type == "COMMA"
        depth += token.type in OPEN
        depth -= token.type in CLOSE
    return heads


def _leading_names(statement: Sequence[Token], start: int) -> list[str]:
    """The names heading the items of the subscript opened at ``start``: the indices it names."""
    return [token.value for token in _heads(statement, start) if token.type == "NAME"]


def split(sub: str, indices: Iterable[str]) -> list[str] | None:
    """A plain subscript as indices (``ij`` → ``i``, ``j`` when both are indices), or None when it is a name."""
    indices = set(indices)
    if sub in indices:
        return [sub]
    if len(sub) > 1 and all(c in indices for c in sub):
        return list(sub)
    return None


def _parts(name: str) -> tuple[str, str] | None:
    base, _, sub = name.rpartition("_")
    return (base, sub) if base and sub else None


def defined_name(statement: Sequence[Token]) -> list[str]:
    """The names a statement defines or declares, as written (``K_ij``; ``K`` for ``K_{i,j}``)."""
    names = []
    for token in statement:
        if token.type in ("EQ", "SIM", "IN") or (token.type == "NAME" and token.value == "in"):
            return names
        if token.type == "NAME":
            names.append(token.value)
        elif token.type == "LSUB" and names:
            return names
        elif token.type != "COMMA":
            return []
    return []


class _Statement:
    """One statement's tokens, its indices, and the model's names."""

    def __init__(self, tokens: Sequence[Token], variables: frozenset[str], source_line: str):
        self.tokens, self.variables, self.source_line = list(tokens), variables, source_line
        self.plates = plate_indices(tokens)
        self.over = self.reduction_indices()
        self.free = self.left_indices()
        self.indices = set(self.plates) | set(self.over) | set(self.free)

    def known(self, name: str) -> bool:
        return name in self.variables

    def reduction_indices(self) -> list[str]:
        """The indices reductions run over: ``Σ_{j=1}^{J}``, ``max_{k=1..2}``, ``mean_j``."""
        found = []
        for i, token in enumerate(self.tokens):
            nxt = self.tokens[i + 1] if i + 1 < len(self.tokens) else None
            if nxt is not None and nxt.type == "LSUB" and (
                    token.type in ("SUM", "PROD") or (token.type == "NAME" and self.is_reduction(token.value))):
                found += _leading_names(self.tokens, i + 1)
            elif token.type == "NAME" and not self.known(token.value) and (parts := _parts(token.value)):
                base, sub = parts
                if self.is_reduction(base) and not sub[0].isdigit():
                    found.append(sub)
        return found

    def is_reduction(self, word: str) -> bool:
        return word in OVER_INDEX and not self.known(word)

    def left_indices(self) -> list[str]:
        """The free indices of the left side: explicit (``K_{i,j}``), a plate's, or used as indices on the right."""
        tokens = self.tokens
        if not tokens or tokens[0].type != "NAME":
            return []
        if len(tokens) > 1 and tokens[1].type == "LSUB":
            return _leading_names(tokens, 1)
        name = tokens[0].value
        if self.known(name) or not (parts := _parts(name)):
            return []
        base, sub = parts
        used = set(self.plates) | self.right_subscripts(base)
        return split(sub, used) or []

    def right_subscripts(self, target: str) -> set[str]:
        """Names the right side uses as indices: in explicit subscripts, or as plain subscripts of known arrays."""
        used: set[str] = set()
        depth = 0
        for token in self.tokens[1:]:
            if token.type == "LSUB":
                depth += 1
            elif token.type == "RSUB":
                depth -= 1
            elif token.type == "NAME":
                if depth:
                    used.add(token.value)
                elif not self.known(token.value) and (parts := _parts(token.value)):
                    base, sub = parts
                    if self.known(base) and base != target and not sub[0].isdigit():
                        used.update(sub if len(sub) > 1 and sub.isalpha() else [sub])
        return used

    # rewriting ---------------------------------------------------------------------------
    def fail(self, message: str, token: Token) -> ModelSyntaxError:
        return ModelSyntaxError(message, Span(token.line, token.column, token.end_column), self.source_line)

    def resolve(self) -> list[Token]:
        out: list[Token] = []
        tokens = self.tokens
        for i, token in enumerate(tokens):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if token.type != "NAME":
                out.append(token)
                continue
            value = token.value
            before_paren = nxt is not None and nxt.type == "LPAR"
            touching_paren = before_paren and nxt.start_pos == token.end_pos
            if value in ("in", "for"):
                out.append(_retype(token, value.upper()))
            elif value == "R" and out and out[-1].type == "IN":
                out.append(_retype(token, "REALS"))
            elif nxt is not None and nxt.type == "LSUB" and self.is_reduction(value):
                out.append(_retype(token, "REDUCE"))
            elif nxt is not None and nxt.type == "LSUB" and value == DELTA and not self.known(value) and len(
                    _heads(tokens, i + 1)) == 2:
                out.append(_retype(token, "DELTA"))
            elif self.known(value):
                out.append(token)
            elif (pieces := self.indexed(token)) is not None:
                out.extend(pieces)
            elif value in ALIASES and before_paren:
                out.append(_retype(token, "FUNC", ALIASES[value]))
            elif (value in FUNCTIONS or value in DISTRIBUTIONS) and before_paren:
                out.append(_retype(token, "FUNC"))
            elif touching_paren and value not in CONSTANTS:
                out.append(_retype(token, "FUNC"))
            else:
                out.append(token)
        return out

    def indexed(self, token: Token) -> list[Token] | None:
        """``x_i`` as ``x [ i ]`` when its subscript is made of this statement's indices; None when it is a name."""
        parts = _parts(token.value)
        if parts is None or not self.indices:
            return None
        base, sub = parts
        head = "NAME"
        indices = split(sub, self.indices)
        if self.is_reduction(base):
            head = "REDUCE"
        elif base == DELTA and not self.known(base) and indices is not None and len(indices) == 2:
            head = "DELTA"
        if indices is not None:
            items = [[("NAME", index)] for index in indices]
        elif (m := _SCALED.fullmatch(sub)) and m.group(2) in self.indices:
            items = [[("NUMBER", m.group(1)), ("NAME", m.group(2))]]
        else:
            m = _TRAILING_DIGITS.fullmatch(sub)
            if m and (m.group(1) in self.indices or split(m.group(1), self.indices)):
                written = self.source_line[token.column - 1 : token.end_column - 1]
                raise self.fail(f"{written} puts a number next to the index {m.group(1)}: write the index "
                                f"expression in braces ({base}_{{{m.group(1)}+{m.group(2)}}}, "
                                f"{base}_{{{m.group(2)}{m.group(1)}}}), or use another name", token)
            if m := _SCALED.fullmatch(sub):
                if split(m.group(2), self.indices):
                    written = self.source_line[token.column - 1 : token.end_column - 1]
                    raise self.fail(f"{written}: a number times several indices is not one index; write "
                                    f"{base}_{{{m.group(1)}{m.group(2)[0]}}} for one", token)
            return None
        return _pieces(token, head, base, items)


def _retype(token: Token, kind: str, value: str | None = None) -> Token:
    return Token.new_borrow_pos(kind, token.value if value is None else value, token)


def _pieces(token: Token, head: str, base: str, items: list[list[tuple[str, str]]]) -> list[Token]:
    """``x``, ``LSUB``, the items separated by commas, ``RSUB``: all at the subscript's columns."""
    sub_column = max(token.column + 1, token.end_column - sum(len(v) for item in items for _, v in item))
    out = [Token(head, base, token.start_pos, token.line, token.column, token.end_line, sub_column, token.end_pos)]

    def piece(kind: str, value: str, column: int, width: int) -> Token:
        return Token(kind, value, token.start_pos, token.line, column, token.end_line, column + width, token.end_pos)

    out.append(piece("LSUB", "_", sub_column, 0))
    column = sub_column
    for n, item in enumerate(items):
        if n:
            out.append(piece("COMMA", ",", column, 0))
        for kind, value in item:
            width = min(len(value), max(token.end_column - column, 1))
            out.append(piece(kind, value, column, width))
            column = min(column + len(value), token.end_column - 1)
    out.append(piece("RSUB", "", token.end_column, 0))
    return out


def left_indices(statement: Sequence[Token], variables: frozenset[str], source_line: str) -> list[str]:
    """The free indices of a statement's left side (``K_ij = k(x_i, x_j)`` has ``i`` and ``j``)."""
    return _Statement(statement, variables, source_line).free


def target_base(name: str, free: Sequence[str]) -> str:
    """The variable a left side defines: ``K`` for ``K_ij`` with indices ``i`` and ``j``."""
    return _parts(name)[0] if free and _parts(name) else name


def resolve(statement: Sequence[Token], variables: frozenset[str], source_line: str) -> tuple[list[Token], set[str]]:
    """Give context-dependent tokens their final type; the statement's indices.

    ``in``/``for`` become keywords; ``R`` after ``in`` is ℝ; a name is a function when the
    notation knows it (or it touches a ``(`` and is no model variable); an alias before ``(``
    is its function (``σ(`` is the sigmoid) unless a variable has its name; ``x_i`` is the entry
    ``i`` of ``x`` when ``i`` is one of the statement's indices; ``mean_j`` is a reduction over ``j``
    and ``δ_{ij}`` (two indices) Kronecker's delta, unless the model has a variable of that name;
    ``δ_d`` is an entry of a vector ``δ``.
    """
    reading = _Statement(statement, variables, source_line)
    return reading.resolve(), reading.indices
