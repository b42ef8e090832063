"""Recurrences: statements that define a row through earlier rows, read as one ``Recurrence``.

A run of consecutive ``=`` statements over the same written range of an index (``for t in 2..T``) is
a recurrence when a step reads a variable of the run at an earlier ``t`` (``h_{t-1}``). The rows
before the first step come from initial statements written before the run (``h_1 = …``,
``h_0 = 0``). Each step becomes math over rows: ``x_t`` is the row ``x@0``, ``h_{t-1}`` is ``h@1``, and
indices other than ``t`` stay indices. Anything else that refers to its own value is refused here,
at the character, rather than read some other way.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

import sympy

from ..errors import ModelError, ModelSyntaxError, ShapeError
from .distributions import DISTRIBUTIONS
from .ir import Assignment, Chain, Declaration, Initial, Recurrence, Sampling, Statement
from .nodes import Element, Entry, FirstRow, Index, Lagged, OverIndex, Row, as_written
from .ranges import as_expr

#: ``h_1``, ``x_T``: a name with a position after its last ``_``
_POSITIONED = re.compile(r"(.+)_(\d+|[^\W\d_]\w*)")

LineText = Callable[[int], str]


def _written_range(statement) -> tuple[str, sympy.Expr, sympy.Expr] | None:
    """The first free index of a statement and its range, when the statement writes the range."""
    if statement.plate is not None:
        plate = statement.plate
        return plate.index, as_expr(plate.start), as_expr(plate.stop)
    if statement.indices and not statement.indices[0].inferred:
        first = statement.indices[0]
        return first.index, first.start, first.stop
    return None


def _lag(sub: sympy.Expr, index: str) -> int | None:
    """``k`` when a subscript is ``t - k`` for a whole number ``k``; None otherwise."""
    difference = sympy.expand(Index(index) - sub)
    return int(difference) if difference.is_Integer else None


def _rows_read(statement, index: str):
    """Each entry (or plate row) of ``statement`` whose first subscript holds ``index``, with its lag (or None)."""
    for expr in statement.exprs:
        for node in sympy.preorder_traversal(expr):
            if isinstance(node, Element):
                yield node, node.args[0].name, 0
            elif isinstance(node, Entry) and Index(index) in node.args[1].atoms(Index):
                yield node, node.args[0].name, _lag(node.args[1], index)


class _Reader:
    """One cell's statements, read for recurrences."""

    def __init__(self, statements: Sequence[Statement], inputs: Sequence[str], line_text: LineText):
        self.statements, self.inputs, self.line_text = list(statements), tuple(inputs), line_text
        self.defined = {s.target for s in statements if isinstance(s, (Assignment, Sampling))}

    def fail(self, cls: type[ModelError], message: str, statement, node=None) -> ModelError:
        span = dict(statement.spans).get(node, statement.span) if node is not None else statement.span
        return cls(message, span, self.line_text(span.line))

    def written(self, statement, node) -> str:
        span = dict(statement.spans).get(node)
        if span is None:
            return str(node)
        return self.line_text(span.line)[span.column - 1 : span.end_column - 1]

    # finding the runs ----------------------------------------------------------------------
    def runs(self) -> list[tuple[int, int, tuple[str, sympy.Expr, sympy.Expr]]]:
        """``(first, last, range)`` of each run of statements that is a recurrence (positions in the cell)."""
        found, position = [], 0
        statements = self.statements
        while position < len(statements):
            statement = statements[position]
            key = _written_range(statement) if isinstance(statement, Assignment) else None
            if key is None:
                position += 1
                continue
            last = position
            for later in range(position + 1, len(statements)):
                other = statements[later]
                if isinstance(other, Declaration):
                    continue
                if not isinstance(other, Assignment) or _written_range(other) != key:
                    break
                last = later
            members = [s for s in statements[position : last + 1] if isinstance(s, Assignment)]
            targets = {s.target for s in members}
            if any(base in targets and lag != 0 for s in members
                   for _, base, lag in _rows_read(s, key[0])):
                found.append((position, last, key))
            position = last + 1
        return found

    # hidden Markov chains --------------------------------------------------------------------
    def chains(self) -> dict[int, int]:
        """Each chain's step (position in the cell) with its first label's statement: a class-label latent drawn
        over a written range given its own entries."""
        found = {}
        for n, statement in enumerate(self.statements):
            if not (isinstance(statement, Sampling) and statement.target not in self.inputs
                    and DISTRIBUTIONS[statement.distribution.family].labels
                    and (key := _written_range(statement)) is not None
                    and any(base == statement.target for _, base, _ in _rows_read(statement, key[0]))):
                continue
            first = f"{statement.target}_1"
            initial = next((k for k, s in enumerate(self.statements) if isinstance(s, Sampling) and s.target == first
                            and s.plate is None and not s.indices), None)
            if initial is None or initial > n:
                where = "is not defined" if initial is None else "is written after the steps"
                raise self.fail(ShapeError, f"{first} {where}: the chain's steps run over {key[0]} in "
                                f"{key[1]}..{key[2]} and read {statement.target}_{{{key[0]}-1}}; write {first} ~ "
                                f"Categorical(ρ) before them", statement)
            found[n] = initial
        return found

    def chain(self, initial: Sampling, step: Sampling) -> Chain:
        """A chain's first label and its step, checked: one index from 2, the label before read as a subscript,
        and transition probabilities that depend on it alone."""
        name, (index, start, stop) = step.target, _written_range(step)
        if step.plate is not None or len(step.indices) != 1 or start != 2:
            raise self.fail(ModelSyntaxError, f"a chain's steps run over one index from 2 ({name}_{index} ~ …  for "
                            f"{index} in 2..{stop}), after {initial.target}", step)
        if not DISTRIBUTIONS[initial.distribution.family].labels:
            raise self.fail(ModelSyntaxError, f"{initial.target} starts a chain of class labels, so it is drawn from "
                            f"a Categorical, not a {initial.distribution.family}", initial)
        for node, base, lag in _rows_read(step, index):
            if base == name and lag != 1:
                raise self.fail(ModelSyntaxError, f"{self.written(step, node)}: a step of a chain reads the label "
                                f"just before it, {name}_{{{index}-1}}", step, node)
        argument = step.distribution.values[0]
        previous = Entry(sympy.Symbol(name), Index(index) - 1)
        shift = sympy.expand(argument.args[1] - previous) if isinstance(argument, Entry) and len(
            argument.args) == 2 else None
        if shift is None or not shift.is_Integer or previous not in argument.args[1].atoms(Entry):
            raise self.fail(ModelSyntaxError, f"{self.written(step, argument)}: a chain's step draws from a row of a "
                            f"matrix of transition probabilities picked by the label before, Θ_{{{name}_{{{index}-1}}"
                            "+1}, the same at every step; other transitions are not read yet", step, argument)
        return Chain(initial, step, argument.args[0].name, int(shift))

    def check_emissions(self, chain: Chain) -> None:
        """Only observed statements over the chain's whole range read its labels, each as ``z_t`` of their one
        index: inference sums the chain out through them, step by step."""
        name, stop = chain.target, chain.stop
        for statement in self.statements:
            if statement is chain.step or isinstance(statement, Declaration):
                continue
            for expr in statement.exprs:
                read = [node for node in sympy.preorder_traversal(expr)
                        if isinstance(node, (Entry, Element)) and node.args[0].name == name]
                whole = _put(expr, {node: sympy.Dummy() for node in read}).has(sympy.Symbol(name))
                for node in (as_written(n) for n in read + ([sympy.Symbol(name)] if whole else [])):
                    key = _written_range(statement)
                    if not (isinstance(statement, Sampling) and statement.target in self.inputs):
                        raise self.fail(ModelSyntaxError, f"{self.written(statement, node)}: {name} is a hidden "
                                        "chain, summed out, so only observed statements read its labels (y_t ~ "
                                        f"𝒩(μ_{{{name}_t+1}}, σ)  for t in 1..{stop})", statement, node)
                    own = key is not None and node == Entry(sympy.Symbol(name), Index(key[0]))
                    if (not own or len(statement.indices) + (statement.plate is not None) != 1
                            or key[1] != 1 or key[2] != stop):
                        raise self.fail(ModelSyntaxError, f"{self.written(statement, node)}: an observation of the "
                                        f"chain {name} runs over all of it and reads the label of its own step: "
                                        f"{statement.target}_t ~ …{name}_t…  for t in 1..{stop}", statement, node)

    # checks outside recurrences ------------------------------------------------------------
    def refuse_self_reference(self, statement) -> None:
        """A statement outside a recurrence that uses its own value: a latent chain, or a definition in circles."""
        target = statement.target
        for expr in statement.exprs:
            for node in sympy.preorder_traversal(expr):
                base = node.args[0] if isinstance(node, (Entry, Element)) else node
                if not (isinstance(base, sympy.Symbol) and not isinstance(base, Index) and base.name == target):
                    continue
                if isinstance(statement, Sampling):
                    if target in self.inputs:
                        continue
                    if DISTRIBUTIONS[statement.distribution.family].labels:
                        raise self.fail(ModelSyntaxError, f"{target} is drawn here given its own entries "
                                        f"({self.written(statement, node)}) over no written range: a chain of class "
                                        f"labels is {target}_1 ~ Categorical(ρ), then {target}_t ~ Categorical("
                                        f"Θ_{{{target}_{{t-1}}+1}})  for t in 2..T", statement, node)
                    raise self.fail(ModelSyntaxError, f"{target} is drawn here given its own entries "
                                    f"({self.written(statement, node)}): a chain of continuous latent variables is "
                                    "not read yet; a chain of class labels (Categorical), a deterministic recurrence "
                                    "(=) and an observed series are", statement, node)
                if isinstance(node, Entry) and _written_range(statement) is None and statement.indices:
                    index = statement.indices[0].index
                    raise self.fail(ModelSyntaxError, f"{target} is defined through {self.written(statement, node)}:"
                                    f" a recurrence writes the range of its steps (for {index} in 2..T)",
                                    statement, node)
                raise self.fail(ModelSyntaxError, f"{target} is defined here in terms of itself "
                                f"({self.written(statement, node)}), which is no recurrence: a step reads its "
                                "variables at earlier indices only (h_{t-1})", statement, node)

    # reading one recurrence ----------------------------------------------------------------
    def recurrence(self, members: list[Assignment], initial: list[Assignment], key) -> Recurrence:
        index, start, stop = key
        targets = [s.target for s in members]
        steps = [self.step(statement, index, targets[:n], targets) for n, statement in enumerate(members)]
        first = members[0]
        if not start.is_Integer or start < 1:
            raise self.fail(ModelSyntaxError, f"the steps of a recurrence start at a whole number from 1, not "
                            f"{start}", first)
        rows = []
        for statement in initial:
            rows.append(self.initial(statement, {(row.target, row.position) for row in rows}))
        recurrence = Recurrence(index, start, stop, tuple(rows), tuple(steps), first.span, first.text)
        self.check_rows(recurrence, initial, first)
        return recurrence

    def step(self, statement: Assignment, index: str, before: list[str], targets: list[str]) -> Assignment:
        """One step as math over rows: ``h_{t-1}`` → ``h@1``, ``x_{t,d}`` → ``(x@0)_d``; ``t`` leaves the statement."""
        t = Index(index)
        for node in sympy.preorder_traversal(statement.expr):
            if isinstance(node, Entry) and any(t in sub.atoms(Index) for sub in node.args[2:]):
                raise self.fail(ModelSyntaxError, f"{self.written(statement, node)}: in a recurrence over {index}, "
                                f"{index} subscripts the first axis only", statement, node)
        replaced: dict[sympy.Basic, sympy.Basic] = {}
        for node, base, lag in _rows_read(statement, index):
            written = self.written(statement, node)
            if lag is None:
                raise self.fail(ModelSyntaxError, f"{written}: in a recurrence over {index}, a subscript with "
                                f"{index} is {index} minus a whole number ({index}, {index}-1, {index}-2)",
                                statement, node)
            if base in targets and lag < 0:
                raise self.fail(ModelSyntaxError, f"{written} is a later step than {statement.target}_{index}: a "
                                "step reads its variables at earlier indices", statement, node)
            if base in targets and lag == 0 and base not in before:
                where = "is this statement" if base == statement.target else "is computed below this statement"
                raise self.fail(ModelSyntaxError, f"{written} {where}: a step reads the variables of the same step "
                                f"only once they are computed, and its own at earlier indices ({base}_{{{index}-1}})",
                                statement, node)
            rest = node.args[2:] if isinstance(node, Entry) else ()
            if any(t in sub.atoms(Index) for sub in rest):
                raise self.fail(ModelSyntaxError, f"{written}: in a recurrence over {index}, {index} subscripts the "
                                "first axis only", statement, node)
            row = Lagged.of(base, lag)
            replaced[node] = Entry(row, *rest) if rest else row
        expr = _put(statement.expr, replaced)
        for node in sympy.preorder_traversal(expr):
            if isinstance(node, OverIndex) and t in (node.start.atoms(Index) | node.stop.atoms(Index)):
                raise self.fail(ModelSyntaxError, f"a range inside a step depends on {index}: not read yet",
                                statement, node)
        if t in expr.atoms(Index):
            raise self.fail(ModelSyntaxError, f"{index} counts the steps of the recurrence; a step uses it in "
                            f"subscripts ({statement.target}_{{{index}-1}}), not as a value", statement)
        spans = _moved(statement.spans, replaced)
        indices = statement.indices[1:] if statement.indices else ()
        return Assignment(statement.target, expr, statement.span, statement.text, None, spans, indices)

    def initial(self, statement: Assignment, given: set[tuple[str, int]]) -> Initial:
        """An initial row; the rows earlier initial statements give (``given``) are read as those values."""
        base, position = _POSITIONED.fullmatch(statement.target).groups()
        earlier = {}
        for node in statement.expr.atoms(sympy.Symbol):
            match = _POSITIONED.fullmatch(node.name)
            if match and match.group(2).isdigit() and (match.group(1), int(match.group(2))) in given:
                earlier[node] = FirstRow.of(match.group(1), int(match.group(2)))
        if earlier:
            statement = Assignment(statement.target, _put(statement.expr, earlier), statement.span, statement.text,
                                   None, _moved(statement.spans, earlier))
        (expr,), spans = self.rows(statement, set(self.inputs) | self.defined, first_rows=True)
        return Initial(base, int(position), expr, statement.span, statement.text, spans)

    def check_rows(self, recurrence: Recurrence, initial: list[Assignment], first: Assignment) -> None:
        """Every row the steps read before ``start``, and every row of each array before ``start``, is given once."""
        start, index = int(recurrence.start), recurrence.index
        lags = recurrence.lags
        given = {(row.target, row.position): statement for row, statement in zip(recurrence.initial, initial)}
        missing = []
        for target in recurrence.targets:
            needed = set(range(1, start)) | set(range(start - lags.get(target, 0), start))
            for position in sorted(needed):
                if position < 0:
                    raise self.fail(ShapeError, f"{target}_{{{index}-{lags[target]}}} at {index} = {start} is "
                                    f"{target}'s row {position}: start the steps later (for {index} in "
                                    f"{lags[target]}..{recurrence.stop}), so that the rows it needs are 0 or more",
                                    first)
                if (target, position) not in given:
                    missing.append(f"{target}_{position}")
            for (name, position), statement in given.items():
                if name == target and position not in needed:
                    why = "is a step" if position >= start else "is never read"
                    raise self.fail(ModelSyntaxError, f"{name}_{position} {why}: the steps of {name} run over "
                                    f"{index} in {start}..{recurrence.stop} and read {name} back "
                                    f"{lags.get(name, 0)} step(s)", statement)
        if missing:
            reads = ", ".join(f"{t}_{{{index}-{k}}}" for t, k in lags.items())
            why = "" if start == 1 else f"; each array's rows start at 1, and the steps give rows {start} on"
            raise self.fail(ShapeError, f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not defined: "
                            f"the steps run over {index} in {start}..{recurrence.stop} and read {reads}{why}; write "
                            f"{missing[0]} = … before the steps", first)

    # rows at fixed positions -----------------------------------------------------------------
    def rows(self, statement, bases: set[str], first_rows: bool = False):
        """``h_T``, ``x_1``: names that are a row of an array (``bases``), as ``Row`` nodes; the new spans too."""
        replaced: dict[sympy.Basic, sympy.Basic] = {}
        for expr in statement.exprs:
            for node in sympy.preorder_traversal(expr):
                if isinstance(node, sympy.Symbol) and not isinstance(node, Index) and node.name not in self.defined:
                    match = _POSITIONED.fullmatch(node.name)
                    if match and match.group(1) in bases:
                        base, position = match.groups()
                        replaced[node] = Row(sympy.Symbol(base), _position(position))
                elif first_rows and isinstance(node, Entry) and len(node.args) == 2 and not node.args[1].atoms(
                        Index) and node.args[0].name in bases:
                    replaced[node] = Row(*node.args)
        spans = _moved(statement.spans, replaced) if replaced else statement.spans
        return tuple(_put(e, replaced) for e in statement.exprs), spans

    def with_rows(self, statement, bases: set[str]):
        exprs, spans = self.rows(statement, bases)
        if not isinstance(statement, Sampling):
            return dataclasses.replace(statement, expr=exprs[0], spans=spans)
        distribution = statement.distribution
        values, bounds = exprs[: len(distribution.args)], iter(exprs[len(distribution.args) :])
        low, high = (None if b is None else next(bounds) for b in (distribution.low, distribution.high))
        args = tuple((key, value) for (key, _), value in zip(distribution.args, values))
        return dataclasses.replace(statement, distribution=dataclasses.replace(distribution, args=args, low=low,
                                                                                high=high), spans=spans)

    # the cell ----------------------------------------------------------------------------------
    def read(self) -> tuple[Statement, ...]:
        statements = self.statements
        runs = self.runs()
        chains = self.chains()
        in_run = {n for first, last, _ in runs for n in range(first, last + 1)} | set(chains) | set(chains.values())
        for n, statement in enumerate(statements):
            if n not in in_run and isinstance(statement, (Assignment, Sampling)):
                self.refuse_self_reference(statement)
        run_of = {s.target: first for first, last, _ in runs for s in statements[first : last + 1]
                  if isinstance(s, Assignment)}
        initial: dict[int, str] = {}
        for n, statement in enumerate(statements):
            if isinstance(statement, Assignment) and statement.plate is None and not statement.indices and (
                    match := _POSITIONED.fullmatch(statement.target)) and match.group(1) in run_of and match.group(
                    2).isdigit():
                initial[n] = match.group(1)
                if run_of[match.group(1)] < n:
                    raise self.fail(ModelSyntaxError, f"{statement.target} starts the recurrence on line "
                                    f"{statements[run_of[match.group(1)]].span.line}, so it is written before it",
                                    statement)
        self.defined -= {statements[n].target for n in initial}
        out: list[Statement] = []
        ends = {first: (last, key) for first, last, key in runs}
        n = 0
        while n < len(statements):
            statement = statements[n]
            if n in ends:
                last, key = ends[n]
                run = statements[n : last + 1]
                out.extend(s for s in run if isinstance(s, Declaration))
                members = [s for s in run if isinstance(s, Assignment)]
                names = {s.target for s in members}
                rows = [statements[k] for k in sorted(initial) if initial[k] in names]
                out.append(self.recurrence(members, rows, key))
                n = last + 1
                continue
            if n in chains:
                chain = self.chain(statements[chains[n]], statement)
                self.check_emissions(chain)
                out.append(chain)
            elif n not in initial and n not in chains.values():
                out.append(statement if isinstance(statement, Declaration) else self.with_rows(statement,
                                                                                               set(run_of)))
            n += 1
        return tuple(out)


def _put(expr: sympy.Basic, replaced: dict) -> sympy.Basic:
    """``expr`` with ``replaced`` put in, and nothing else changed (no term is reordered or combined)."""
    with sympy.evaluate(False):
        return expr.xreplace(replaced)


def _moved(spans, replaced: dict) -> tuple:
    """Where each sub-expression was written, for the expressions with ``replaced`` put in."""
    return tuple((_put(node, replaced), span) for node, span in spans)


def _position(text: str) -> sympy.Expr:
    return sympy.Integer(text) if text.isdigit() else sympy.Symbol(text)


def read(statements: Sequence[Statement], inputs: Sequence[str], line_text: LineText) -> tuple[Statement, ...]:
    """The cell's statements with each recurrence read as one ``Recurrence``, and rows written by position as
    ``Row`` nodes (``h_T``; ``x_1`` in an initial statement); self-references that are no recurrence refused."""
    return _Reader(statements, inputs, line_text).read()

