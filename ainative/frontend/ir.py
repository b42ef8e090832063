"""The intermediate representation: statements over SymPy expressions, and the shape table.

Two statements are equal when they mean the same: where they were written (span, text) does
not take part, so the three spellings of a model give equal IRs.

Everything here is an immutable value. The parser builds a ``Cell``; ``shapes.check`` turns it
into a ``ModelIR`` (products resolved, roles named, every variable's shape known). Every
printer reads a ``ModelIR`` and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from ..errors import Span
from .nodes import Delta, Entry, Index, Lagged, OverIndex
from .spec import Header


@dataclass(frozen=True)
class Size:
    """A dimension computed from others: ``T - K + 1`` entries of a convolution over ``T``."""

    expr: sympy.Expr

    def __str__(self) -> str:
        return str(self.expr)

    def __repr__(self) -> str:
        return f"Size({self.expr})"

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(sorted(s.name for s in self.expr.free_symbols))


Dim = int | str | Size
Shape = tuple[Dim, ...]


@dataclass(frozen=True)
class Plate:
    """``for j in 1..J``: the statement holds for each ``j`` from ``start`` to ``stop``."""

    index: str
    start: Dim
    stop: Dim
    span: Span = field(compare=False)


@dataclass(frozen=True)
class IndexRange:
    """``i`` from ``start`` to ``stop`` (integer expressions of dimensions): one free index of a statement.

    Written in a plate (``for i in 1..N``) or inferred from the axes ``i`` indexes, in which case
    the parser leaves ``start`` and ``stop`` as ``nan`` and the shape checker fills them in.
    """

    index: str
    start: sympy.Expr
    stop: sympy.Expr
    span: Span = field(compare=False)

    @property
    def inferred(self) -> bool:
        return self.stop is sympy.nan


@dataclass(frozen=True)
class Declaration:
    """``W ∈ ℝ^{H×D}`` or ``county ∈ {1..J}^N``: the shape (and domain) of one or more names."""

    names: tuple[str, ...]
    shape: Shape
    span: Span = field(compare=False)
    text: str = field(compare=False)
    domain: Domain = field(default_factory=lambda: REALS)


@dataclass(frozen=True)
class Domain:
    """Where a declared variable's entries lie: reals or integers from ``low`` to ``high`` (``None``: unbounded).

    ``ℕ`` is ``Domain(True, 0, None)``, ``ℤ`` is ``Domain(True, None, None)``, ``{1..J}`` is
    ``Domain(True, 1, "J")``: a bound that is a name is a dimension, bound as shape dimensions are.
    ``ℝ₊`` is ``Domain(False, 0, None)`` and ``[0, 1]`` is ``Domain(False, 0, 1)``: a latent's declared support.
    """

    integer: bool = False
    low: Dim | float | None = None
    high: Dim | float | None = None

    @property
    def bounded(self) -> bool:
        """Whether the domain says more than ℝ or ℤ: a bound on either side."""
        return self.low is not None or self.high is not None

    @property
    def dims(self) -> tuple[str, ...]:
        """The dimensions among the bounds."""
        return tuple(b for b in (self.low, self.high) if isinstance(b, str))

    def written(self) -> str:
        """The domain in the notation's Unicode spelling: ``ℝ``, ``ℕ``, ``ℤ`` or ``{1..J}``."""
        if not self.integer:
            if self.low == 0 and self.high is None:
                return "ℝ₊"
            if self.bounded:
                return f"[{_real(self.low, '-∞')}, {_real(self.high, '∞')}]"
            return "ℝ"
        if self.high is None:
            return "ℕ" if self.low == 0 else "ℤ"
        return f"{{{self.low}..{self.high}}}"


REALS = Domain()


def _real(bound: Dim | float | None, infinite: str) -> str:
    return infinite if bound is None else f"{bound:g}" if isinstance(bound, float) else str(bound)


@dataclass(frozen=True)
class Distribution:
    """``Normal(μ, σ)``: a family from ``distributions.DISTRIBUTIONS`` and its arguments by name."""

    family: str
    args: tuple[tuple[str, sympy.Expr], ...]
    #: ``restricted to [low, high]``: the bounds of a truncation (``None``: that side is open), renormalised
    low: sympy.Expr | None = None
    high: sympy.Expr | None = None

    @property
    def values(self) -> tuple[sympy.Expr, ...]:
        return tuple(value for _, value in self.args)

    @property
    def truncated(self) -> bool:
        return self.low is not None or self.high is not None

    @property
    def bounds(self) -> tuple[sympy.Expr, ...]:
        """The truncation's finite bounds, low first: expressions the shape checker and the roles read too."""
        return tuple(b for b in (self.low, self.high) if b is not None)


@dataclass(frozen=True)
class Assignment:
    """``h = tanh(W x + b)``: a deterministic variable (``indexed``: written ``h_j`` in a plate)."""

    target: str
    expr: sympy.Expr
    span: Span = field(compare=False)
    text: str = field(compare=False)
    plate: Plate | None = None
    spans: tuple[tuple[sympy.Basic, Span], ...] = field(default=(), compare=False, repr=False)
    #: the free indices of the left side (``K_{ij}``), when the statement is written with indices
    indices: tuple[IndexRange, ...] = ()

    @property
    def exprs(self) -> tuple[sympy.Expr, ...]:
        return (self.expr,)

    @property
    def indexed(self) -> bool:
        """Whether the statement is written with indices (free ones, entries, reductions over one, δ)."""
        return _indexed(self)


@dataclass(frozen=True)
class Sampling:
    """``β ~ Normal(0, 1)``: a random variable, observed when it is an input given data."""

    target: str
    distribution: Distribution
    span: Span = field(compare=False)
    text: str = field(compare=False)
    plate: Plate | None = None
    spans: tuple[tuple[sympy.Basic, Span], ...] = field(default=(), compare=False, repr=False)
    indices: tuple[IndexRange, ...] = ()

    @property
    def exprs(self) -> tuple[sympy.Expr, ...]:
        return self.distribution.values + self.distribution.bounds

    @property
    def indexed(self) -> bool:
        return _indexed(self)


@dataclass(frozen=True)
class Initial:
    """``h_1 = tanh(U x_1 + b)``, ``h_0 = 0``: a recurrent variable's row at one position, before its steps.

    Positions from 1 are rows of the variable's array; position 0 only starts the recurrence.
    """

    target: str
    position: int
    expr: sympy.Expr
    span: Span = field(compare=False)
    text: str = field(compare=False)
    spans: tuple[tuple[sympy.Basic, Span], ...] = field(default=(), compare=False, repr=False)
    #: whether the value is a scalar that fills every entry of the row (``h_0 = 0`` for a vector ``h``)
    fills: bool = False

    #: an initial row is one whole row: no plate, no free index
    plate = None
    indices: tuple[IndexRange, ...] = ()

    @property
    def exprs(self) -> tuple[sympy.Expr, ...]:
        return (self.expr,)

    @property
    def indexed(self) -> bool:
        return _indexed(self)


@dataclass(frozen=True)
class Factor:
    """``target += e`` (``log p += e``): adds the scalar ``e`` to the model's log density, as Stan's ``target +=``.

    ``site`` names it in the program (``pyro.factor``), numbered in cell order: no model name starts with ``_``.
    """

    expr: sympy.Expr
    site: str
    span: Span = field(compare=False)
    text: str = field(compare=False)
    spans: tuple[tuple[sympy.Basic, Span], ...] = field(default=(), compare=False, repr=False)
    plate: None = None
    indices: tuple[IndexRange, ...] = ()

    @property
    def exprs(self) -> tuple[sympy.Expr, ...]:
        return (self.expr,)

    @property
    def indexed(self) -> bool:
        return _indexed(self)


@dataclass(frozen=True)
class Recurrence:
    """Statements computed step by step along an index: ``h_t = tanh(W h_{t-1} + U x_t + b)  for t in 2..T``.

    Each step is an ordinary ``Assignment`` of one row, over ``Lagged`` rows (``h_{t-1}`` is ``h@1``,
    ``x_t`` is ``x@0``) and the model's other variables; its remaining free indices, if any, are its
    ``indices``. ``initial`` gives every row before ``start`` that the steps or the arrays need. Each
    variable's array holds its rows 1 to ``stop``.
    """

    index: str
    start: sympy.Expr
    stop: sympy.Expr
    initial: tuple[Initial, ...]
    steps: tuple[Assignment, ...]
    span: Span = field(compare=False)
    text: str = field(compare=False)

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(step.target for step in self.steps)

    @property
    def exprs(self) -> tuple[sympy.Expr, ...]:
        return tuple(e for part in (*self.initial, *self.steps) for e in part.exprs)

    @property
    def lags(self) -> dict[str, int]:
        """Each variable of the recurrence that a step reads at an earlier step, with the furthest lag read."""
        found: dict[str, int] = {}
        for row in self.rows():
            if row.base in self.targets and row.lag > 0:
                found[row.base] = max(found.get(row.base, 0), row.lag)
        return {name: found[name] for name in self.targets if name in found}

    @property
    def sequences(self) -> tuple[Lagged, ...]:
        """The rows of other arrays the steps read (``x_t``, ``r_{t-1}``): sliced along the index, in name order."""
        return tuple(sorted({row for row in self.rows() if row.base not in self.targets}, key=lambda r: r.name))

    def rows(self) -> set[Lagged]:
        return {node for step in self.steps for node in step.expr.atoms(Lagged)}


@dataclass(frozen=True)
class Chain:
    """A hidden Markov chain of class labels: ``z_1 ~ Categorical(ρ)``, then ``z_t ~ Categorical(Θ_{z_{t-1}+1})
    for t in 2..T``. Inference sums it out with the forward algorithm, reading the observed statements that
    pick entries by ``z_t`` (its emissions), and draws it afterwards from its posterior.

    ``initial`` is the first label's statement as written (its target ``z_1``); ``step`` is the statement
    of every later label, over its written range, reading ``z_{t-1}`` as an entry of ``z``: its one argument
    is row ``z_{t-1} + shift`` of the matrix ``matrix`` (the transition probabilities, or their logits).
    """

    initial: Sampling
    step: Sampling
    matrix: str
    shift: int

    #: a chain is one statement of its own: no plate, no free index
    plate = None
    indices: tuple[IndexRange, ...] = ()

    @property
    def target(self) -> str:
        return self.step.target

    @property
    def targets(self) -> tuple[str, ...]:
        return (self.target,)

    @property
    def index(self) -> str:
        return self.step.indices[0].index

    @property
    def stop(self) -> sympy.Expr:
        return self.step.indices[0].stop

    @property
    def span(self) -> Span:
        return self.step.span

    @property
    def text(self) -> str:
        return self.step.text

    @property
    def spans(self) -> tuple[tuple[sympy.Basic, Span], ...]:
        return self.initial.spans + self.step.spans

    @property
    def exprs(self) -> tuple[sympy.Expr, ...]:
        return self.initial.exprs + self.step.exprs

    @property
    def indexed(self) -> bool:
        """A chain is written with indices (``z_t``): what reads statements entry by entry reads it so."""
        return True


Statement = Declaration | Assignment | Sampling | Factor | Recurrence | Chain


def _indexed(statement: Assignment | Sampling | Factor | Initial) -> bool:
    return bool(statement.indices) or any(isinstance(node, (Entry, OverIndex, Delta, Index))
                                          for expr in statement.exprs for node in sympy.preorder_traversal(expr))


@dataclass(frozen=True)
class Cell:
    """What the parser read: the header, the statements in cell order, and the text's lines."""

    header: Header
    statements: tuple[Statement, ...]
    lines: tuple[str, ...] = field(default=(), compare=False, repr=False)
    line_offset: int = field(default=0, compare=False, repr=False)

    def line_text(self, line: int) -> str:
        """The text of a cell line, numbered as spans number them."""
        index = line - self.line_offset - 1
        return self.lines[index] if 0 <= index < len(self.lines) else ""


@dataclass(frozen=True)
class Roles:
    """What each name is; every tuple in statement order."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    params: tuple[str, ...]
    latents: tuple[str, ...]
    observed: tuple[str, ...]
    deterministic: tuple[str, ...]
    constants: tuple[tuple[str, sympy.Expr], ...]
    dims: tuple[str, ...]

    def of(self, name: str) -> str:
        """A variable's role in one word: observed, input, parameter, latent, output or deterministic."""
        if name in self.observed:
            return "observed"
        if name in self.inputs:
            return "input"
        if name in self.params:
            return "parameter"
        if name in self.latents:
            return "latent"
        return "output" if name in self.outputs else "deterministic"


@dataclass(frozen=True)
class Condition:
    """``margin ≥ 0``: what a subscript needs of dimensions the cell does not bind, checked when data binds them."""

    margin: sympy.Expr
    message: str


@dataclass(frozen=True)
class ModelIR:
    """A checked model: statements with products resolved, roles, and every variable's shape."""

    header: Header
    statements: tuple[Statement, ...]
    roles: Roles
    shapes: tuple[tuple[str, Shape], ...]
    dim_values: tuple[tuple[str, int], ...] = ()
    conditions: tuple[Condition, ...] = ()
    #: each class-label latent (``z ~ Categorical(θ)``) and its number of classes, the last axis of θ
    classes: tuple[tuple[str, Dim], ...] = ()

    @property
    def kind(self) -> str:
        return "probabilistic" if any(isinstance(s, (Sampling, Chain)) for s in self.statements) else "deterministic"

    @property
    def shape_of(self) -> dict[str, Shape]:
        return dict(self.shapes)

    @property
    def constants(self) -> dict[str, sympy.Expr]:
        return dict(self.roles.constants)

    def domain_of(self, name: str) -> Domain:
        """Where a variable's entries lie, as its declaration says (ℝ when undeclared or declared real)."""
        for statement in self.statements:
            if isinstance(statement, Declaration) and name in statement.names and statement.domain.integer:
                return statement.domain
        return REALS

    @property
    def chains(self) -> tuple[Chain, ...]:
        """The hidden Markov chains, in cell order."""
        return tuple(s for s in self.statements if isinstance(s, Chain))

    @property
    def factors(self) -> tuple[Factor, ...]:
        """The ``target +=`` terms, in cell order."""
        return tuple(s for s in self.statements if isinstance(s, Factor))

    @property
    def integers(self) -> dict[str, Domain]:
        """The inputs declared integer, with their domains: what the runtime checks and passes on as ints."""
        return {name: self.domain_of(name) for name in self.roles.inputs if self.domain_of(name).integer}

    @property
    def subscripts(self) -> frozenset[str]:
        """The data whose values are subscripts (``county`` in ``α_{county_i}``): whole numbers in every library."""
        return frozenset(entry.args[0].name for statement in self.statements if not isinstance(statement, Declaration)
                         for expr in statement.exprs for node in sympy.preorder_traversal(expr)
                         if isinstance(node, Entry) for sub in node.args[1:] for entry in sub.atoms(Entry))
