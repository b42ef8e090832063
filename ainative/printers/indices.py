"""Statements written with indices, printed as whole-array code: one axis per index in scope.

While a statement is printed, its indices in scope are its free indices (the left side's, in
order) followed by the indices of the reductions around the point being printed, innermost last.
An index is an ``arange`` over its range, shaped to lie along its own axis; every value printed
there broadcasts over those axes. So ``x_{t+k-1}`` is ``x[t + k - 1 - 1]`` with ``t`` and ``k``
grids, a gather of every entry at once; a reduction over ``k`` reduces the last axis; and the
statement's value is broadcast to the sizes of its free indices. No Python loop runs over an index.

That general form is what XLA would have to rediscover; with the model's shapes the printer writes
what a JAX user would: an entry whose subscripts are distinct indices is a slice, a pooling window a
reshaped slice, a data subscript a row gather, a sum of products one ``einsum``, and a max or min
over a few values ``maximum``/``minimum`` of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sympy

from ..frontend.ir import Chain, Declaration, IndexRange, ModelIR, Recurrence, Shape
from ..frontend.nodes import OVER_INDEX, Entry, Identity, Index, IndexSoftmax, IndexSum, MatrixProduct, OverIndex, Row
from ..frontend.ranges import as_expr
from ..frontend.roles import parts
from .names import python_name


@dataclass(frozen=True)
class ArrayLibrary:
    """How one library spells what index code needs (fully qualified, so printing records the imports)."""

    arange: str
    eye: str
    as_array: str
    where: str
    broadcast_to: str
    permute: str
    squeeze: str
    einsum: str
    maximum: str
    minimum: str
    axis: str
    #: the word of each operation over an index (``sum``, ``max``…) → its reduction
    reductions: dict[str, str]
    softmax: str
    stack: str
    concatenate: str
    #: the library's loop with a carry (``jax.lax.scan``); empty where recurrences are Python loops
    scan: str = ""


def dimension_name(name: str) -> str:
    """The Python integer a generated function holds a dimension's value in (as ``PythonCode`` prints it)."""
    return f"_n_{name}"


def value_dimensions(ir: ModelIR) -> frozenset[str]:
    """The dimensions the cell does not bind to a constant: used as a value (``Σ_i x_i / N``), each is its size."""
    return frozenset(d for d in ir.roles.dims if d not in ir.constants)


def dimensions_used(ir: ModelIR) -> list[str]:
    """The dimensions index code (and the identity's size) needs as integers, in the order of the model's dimensions."""
    used: set[str] = set()
    shapes = ir.shape_of
    for statement in ir.statements:
        if isinstance(statement, Declaration):
            continue
        if isinstance(statement, Chain):
            used |= {s.name for s in statement.stop.free_symbols}
        if isinstance(statement, Recurrence):
            used |= {s.name for s in statement.start.free_symbols | statement.stop.free_symbols}
            used |= {d for name in statement.targets for d in shapes[name][1:] if isinstance(d, str)}
        for part in parts(statement):
            used |= _dimensions_of(part, ir.roles.dims)
    return [d for d in ir.roles.dims if d in used]


def _dimensions_of(statement, dims: tuple[str, ...]) -> set[str]:
    used: set[str] = set()
    for expr in statement.exprs:
        used |= {s.name for identity in expr.atoms(Identity) for s in identity.free_symbols}
        used |= {s.name for s in expr.free_symbols if s.name in dims and not isinstance(s, Index)}
        used |= {s.name for row in expr.atoms(Row) for s in row.args[1].free_symbols}
    if not statement.indexed:
        return used
    for r in statement.indices:
        used |= {s.name for s in r.stop.free_symbols | r.start.free_symbols}
    for expr in statement.exprs:
        for node in sympy.preorder_traversal(expr):
            if isinstance(node, OverIndex):
                used |= {s.name for s in node.start.free_symbols | node.stop.free_symbols}
            elif isinstance(node, Entry):
                for sub in node.args[1:]:
                    used |= {s.name for s in sub.free_symbols if not isinstance(s, Index)
                             and s not in {e.args[0] for e in sub.atoms(Entry)}}
    return used


class IndexArrays:
    """For a Python-code printer: ``Entry``, ``Index``, ``Delta`` and the operations over an index.

    ``LIBRARY`` names the library's functions; ``in_scope`` prints one statement's values.
    """

    LIBRARY: ArrayLibrary

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: the indices in scope, innermost last, and the range of each
        self._index_scope: list[str] = []
        self._index_ranges: dict[str, tuple[sympy.Expr, sympy.Expr]] = {}
        #: the model's shapes: with them, entries whose subscripts are indices are slices, not gathers
        self._shapes: dict[str, Shape] = {}
        #: a recurrence's last rows, held by its final carry (``h_T`` is ``_h_last``): autodiff then skips the stack
        self.final_rows: dict[tuple[str, sympy.Expr], str] = {}

    def in_scope(self, indices: Iterable[IndexRange], expr: sympy.Basic, shapes: dict[str, Shape] | None = None,
                 broadcast: bool = True) -> str:
        """``expr`` over the grid of a statement's free indices, broadcast to their sizes unless ``broadcast`` is
        False (a plate broadcasts a sample's parameters itself, and then the value may have leading axes).

        Given the model's ``shapes``, an entry whose subscripts are distinct indices (each times a
        whole number, plus a constant) is a slice of its array, and a sum of products is an ``einsum``.
        """
        self._shapes = dict(shapes or {})
        ranges = self._index_ranges
        indices = list(indices)
        self._index_scope[:] = [r.index for r in indices]
        ranges.clear()
        ranges.update({r.index: (r.start, r.stop) for r in indices})
        try:
            text = self._print(expr)
            if not indices or not broadcast:
                return text
            sizes = ", ".join(self._integer(r.stop - r.start + 1) for r in indices)
            if expr.is_number:
                text = f"{self._module_format(self.LIBRARY.as_array)}({text})"
            return f"{self._module_format(self.LIBRARY.broadcast_to)}({text}, ({sizes},))"
        finally:
            self._index_scope.clear()
            ranges.clear()

    # integer arithmetic of subscripts -----------------------------------------------------
    def _integer(self, expr: sympy.Basic) -> str:
        expr = sympy.sympify(expr)
        if isinstance(expr, Index):
            return self._grid(expr.name)
        if isinstance(expr, Entry):
            return self._print_Entry(expr)
        if isinstance(expr, sympy.Symbol):
            return dimension_name(expr.name)
        if expr.is_Integer:
            return str(int(expr))
        if isinstance(expr, sympy.Add):
            return "(" + " + ".join(self._integer(a) for a in expr.args) + ")"
        if isinstance(expr, (sympy.Mul, MatrixProduct)):
            return "(" + " * ".join(self._integer(a) for a in expr.args) + ")"
        raise TypeError(f"{expr} is no integer arithmetic")

    def _grid(self, name: str) -> str:
        start, stop = self._index_ranges[name]
        scope = self._index_scope
        arange = f"{self._module_format(self.LIBRARY.arange)}({self._integer(start)}, {self._integer(stop)} + 1)"
        if len(scope) == 1:
            return arange
        shape = ", ".join("-1" if n == name else "1" for n in scope)
        return f"{arange}.reshape(({shape}))"

    # nodes --------------------------------------------------------------------------------
    def _print_Identity(self, expr):
        return f"{self._module_format(self.LIBRARY.eye)}({self._integer(expr.args[0])})"

    def _print_Index(self, expr):
        return self._grid(expr.name)

    def _print_Row(self, expr):
        base, position = expr.args
        if (base.name, position) in self.final_rows:
            return self.final_rows[base.name, position]
        row = str(int(position) - 1) if position.is_Integer else f"{dimension_name(position.name)} - 1"
        return f"{python_name(base.name)}[{row}]"

    def _print_Entry(self, expr):
        base, first, *rest = expr.args
        last = self.final_rows.get((base.name, first))
        if last is not None and rest:
            if base.name in self._shapes:
                self._shapes[last] = self._shapes[base.name][1:]
            return self._print_Entry(Entry(sympy.Symbol(last), *rest))
        sliced = self._sliced(expr)
        if sliced is not None:
            return self._spread(*sliced)
        base, *subscripts = expr.args
        return f"{python_name(base.name)}[{', '.join(self._integer(s) + ' - 1' for s in subscripts)}]"

    # slices and einsum ------------------------------------------------------------------
    def _sliced(self, expr: Entry) -> tuple[str, list[str]] | None:
        """``x_{t, 2k+1}`` as basic slicing ``x[0:T, 2:…:2]`` and the index of each axis, when every subscript is
        a distinct index in scope times a whole number plus a constant; None otherwise.

        A subscript ``s·t + k`` whose ``k`` takes ``s`` values (a pooling window) reads contiguous blocks:
        a slice reshaped into one axis for ``t`` and one for ``k``. One subscript may be an entry of data
        (``E_{tokens_l, d}``): its axis is gathered whole (``E[tokens - 1, :]``), as a row lookup.
        """
        base, *subscripts = expr.args
        shape = self._shapes.get(base.name)
        if shape is None or len(shape) != len(subscripts):
            return None
        slices, letters, sizes, gathered, blocked = [], [], [], 0, False
        for sub, dim in zip(subscripts, shape):
            axis = self._gathered(sub) if isinstance(sub, Entry) else self._axis(sub, dim)
            if axis is None or set(axis[1]) & set(letters):
                return None
            gathered += isinstance(sub, Entry)
            blocked = blocked or (not isinstance(sub, Entry) and len(axis[1]) == 2)
            slices.append(axis[0])
            letters += axis[1]
            sizes += axis[2]
        if gathered > 1 or (gathered and blocked):
            return None
        array = python_name(base.name)
        text = array if all(c == ":" for c in slices) else f"{array}[{', '.join(slices)}]"
        if blocked:
            text = f"{text}.reshape(({', '.join(sizes)},))"
        return text, letters

    def _gathered(self, sub: Entry) -> tuple[str, list[str], list[str]] | None:
        """An axis subscripted by an entry of data, itself a slice: the data as the axis's index array."""
        inner = self._sliced(sub)
        if inner is None:
            return None
        text, letters = inner
        return f"{text} - 1", letters, []

    def _axis(self, sub: sympy.Expr, dim) -> tuple[str, list[str], list[str]] | None:
        """One axis of ``_sliced``: its slice, the indices it becomes, and their sizes."""
        indices = sorted(sub.atoms(Index), key=lambda i: -abs(sub.coeff(i)))
        if not 1 <= len(indices) <= 2 or sub.atoms(Entry) or any(i.name not in self._index_ranges for i in indices):
            return None
        steps = [sub.coeff(i) for i in indices]
        offset = sympy.expand(sub - sum(s * i for s, i in zip(steps, indices)))
        if not all(s.is_Integer and s >= 1 for s in steps) or offset.free_symbols & set(indices):
            return None
        (start, stop), step = self._index_ranges[indices[0].name], steps[0]
        count = [self._integer(stop - start + 1)]
        if len(indices) == 2:
            inner_start, inner_stop = self._index_ranges[indices[1].name]
            if steps[1] != 1 or sympy.simplify(inner_stop - inner_start + 1 - step) != 0:
                return None
            first, last = step * start + inner_start + offset, step * stop + inner_stop + offset
            span = f"{self._integer(sympy.expand(first - 1))}:{self._integer(sympy.expand(last))}"
            return span, [i.name for i in indices], count + [str(int(step))]
        first, last = step * start + offset, step * stop + offset
        if step == 1 and first == 1 and sympy.simplify(last - as_expr(dim)) == 0:
            return ":", [indices[0].name], count
        span = f"{self._integer(sympy.expand(first - 1))}:{self._integer(sympy.expand(last))}"
        return span + (f":{int(step)}" if step != 1 else ""), [indices[0].name], count

    def _spread(self, text: str, letters: list[str]) -> str:
        """An array with one axis per index of ``letters`` laid out over the scope: axes in scope order, and a
        new axis for each index in scope it does not depend on."""
        scope = self._index_scope
        order = sorted(letters, key=scope.index)
        if order != letters:
            permutation = ", ".join(str(letters.index(n)) for n in order)
            text = f"{self._module_format(self.LIBRARY.permute)}({text}, ({permutation},))"
        if order == scope:
            return text
        return f"{text}[{', '.join(':' if n in order else 'None' for n in scope)}]"

    def _compact(self, expr: sympy.Basic) -> tuple[str, list[str]]:
        """``expr`` as an array with one axis per index in scope it depends on (in scope order)."""
        used = {i.name for i in expr.atoms(Index)}
        if not used:
            return self._print(expr), []
        if isinstance(expr, Entry):
            sliced = self._sliced(expr)
            if sliced is not None:
                return sliced
        if isinstance(expr, IndexSum):
            summed = self._einsum(expr)
            if summed is not None:
                return summed
        letters = [n for n in self._index_scope if n in used]
        dropped = tuple(k for k, n in enumerate(self._index_scope) if n not in used)
        text = self._print(expr)
        if dropped:
            text = f"{self._module_format(self.LIBRARY.squeeze)}({text}, {self.LIBRARY.axis}={dropped})"
        return text, letters

    def _einsum(self, expr: IndexSum) -> tuple[str, list[str]] | None:
        """``Σ_k Σ_l (a b c)`` as ``einsum`` of its factors; None when a summed index is in no factor."""
        sums, factors = sum_of_products(expr)
        ranges, scope = self._index_ranges, self._index_scope
        for s in sums:
            scope.append(s.index.name)
            ranges[s.index.name] = (s.start, s.stop)
        try:
            parts = [self._compact(f) for f in factors]
        finally:
            for s in reversed(sums):
                scope.pop()
                del ranges[s.index.name]
        arrays = [(text, letters) for text, letters in parts if letters]
        subscripts = einsum_subscripts(scope, [s.index.name for s in sums], [letters for _, letters in arrays])
        if subscripts is None:
            return None
        specs, out, result = subscripts
        spec = ",".join(specs) + "->" + result
        text = f"{self._module_format(self.LIBRARY.einsum)}(\"{spec}\", {', '.join(t for t, _ in arrays)})"
        scalars = [text for text, letters in parts if not letters]
        return " * ".join([*(f"({s})" for s in scalars), text]), out

    def _print_Delta(self, expr):
        a, b = (self._integer(x) for x in expr.args)
        return f"{self._module_format(self.LIBRARY.where)}({a} == {b}, 1.0, 0.0)"

    def _window(self, expr: OverIndex) -> str | None:
        """``max_{k=1..2} f`` as ``maximum(f[k=1], f[k=2])``: a few values, so no axis for ``k`` (what pooling
        needs: its gradient is one select, where a reduction over a reshaped axis takes twice as long)."""
        values = _window_of(expr)
        if values is None:
            return None
        function = self._module_format(self.LIBRARY.maximum if expr.word == "max" else self.LIBRARY.minimum)
        terms = [self._print(expr.body.xreplace({expr.index: sympy.Integer(v)})) for v in values]
        text = terms[0]
        for term in terms[1:]:
            text = f"{function}({text}, {term})"
        return text

    def _over_index(self, expr: OverIndex, function: str) -> str:
        if isinstance(expr, IndexSum) and self._shapes:
            summed = self._einsum(expr)
            if summed is not None:
                return self._spread(*summed)
        window = self._window(expr)
        if window is not None:
            return window
        name = expr.index.name
        ranges = self._index_ranges
        softmax = isinstance(expr, IndexSoftmax)
        if not softmax:
            self._index_scope.append(name)
            ranges[name] = (expr.start, expr.stop)
        try:
            body = self._print(expr.body)
            if Index(name) not in expr.body.atoms(Index):
                body = f"({body}) + 0 * {self._grid(name)}"
            axis = self._index_scope.index(name) if softmax else -1
        finally:
            if not softmax:
                self._index_scope.pop()
                del ranges[name]
        return f"{self._module_format(function)}({body}, {self.LIBRARY.axis}={axis})"


def sum_of_products(expr: IndexSum) -> tuple[list[IndexSum], list[sympy.Basic]]:
    """``Σ_k Σ_l (a b c)``: the sums it nests, outermost first, and the factors of their product."""
    sums = []
    while isinstance(expr, IndexSum):
        sums.append(expr)
        expr = expr.body
    factors, stack = [], [expr]
    while stack:
        factor = stack.pop(0)
        if isinstance(factor, (sympy.Mul, MatrixProduct)):
            stack[:0] = factor.args
        else:
            factors.append(factor)
    return sums, factors


def einsum_subscripts(scope: list[str], summed: list[str],
                      operands: list[list[str]]) -> tuple[list[str], list[str], str] | None:
    """For an einsum of ``operands`` (each its indices) summing ``summed``: each operand's letters, the indices of
    the result (those of ``scope`` some operand has, in scope order) and its letters; None when a summed index is
    in no operand."""
    used = {n for letters in operands for n in letters}
    if not operands or any(name not in used for name in summed):
        return None
    code = {name: chr(ord("a") + k) for k, name in enumerate(dict.fromkeys([*scope, *summed]))}
    out = [n for n in scope if n in used]
    return ["".join(code[n] for n in letters) for letters in operands], out, "".join(code[n] for n in out)


#: the most values of a max or min over an index that print unrolled (a pooling window)
WINDOW = 4


def _window_of(expr: OverIndex) -> range | None:
    """The values of a max or min's index when they are a few whole numbers (``max_{k=1..2}``)."""
    if expr.word not in ("max", "min") or not (expr.start.is_Integer and expr.stop.is_Integer):
        return None
    values = range(int(expr.start), int(expr.stop) + 1)
    return values if 1 <= len(values) <= WINDOW else None


def install_over_index(printer: type) -> None:
    """A ``_print_<Node>`` for each operation over an index, from the printer's ``LIBRARY``."""
    for word, node in OVER_INDEX.items():
        def method(self, expr, word=word):
            library = self.LIBRARY
            return self._over_index(expr, library.softmax if word == "softmax" else library.reductions[word])

        setattr(printer, f"_print_{node.__name__}", method)
