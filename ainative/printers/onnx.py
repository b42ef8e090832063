"""The ONNX printer: a model's IR → an ONNX graph with a named dynamic batch axis.

The IR is written for one example; the graph carries leading axes in front of it. Each tensor
is tracked with ``lead`` (how many leading axes it has: 0 for parameters, 1 for the batch,
2 for posterior draws × batch) and ``rank`` (its rank for one example), and each node is
lowered so that those leading axes broadcast the way ``vmap`` would map them. Nodes and
tensors are named after the math: a statement's result is its target (``h``, ``y``), its
parameters are initializers (``W_1``, ``b_1``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import sympy

from ..errors import ExportError, Span
from ..frontend.distributions import location
from ..frontend.ir import Assignment, ModelIR, Recurrence
from ..frontend.nodes import (
    OVER_INDEX,
    Entry,
    FirstRow,
    Index,
    IndexSoftmax,
    IndexSum,
    Lagged,
    MatrixProduct,
    OverIndex,
)
from ..frontend.operations import OPERATIONS, Kind
from .common import install
from .indices import einsum_subscripts, sum_of_products
from .recurrences import step_shapes

BATCH = "batch"
#: the prefix of the model metadata key that gives an integer input's range: ``integer:county``
INTEGER_KEY = "integer:"


def _operators(kind: Kind) -> dict[type, str]:
    """The table's ONNX operators for nodes of one kind, which says how they are lowered."""
    return {op.node: op.onnx for op in OPERATIONS if op.kind is kind and isinstance(op.onnx, str)}


#: IR node → ONNX operator of one node on its argument
UNARY = _operators(Kind.ELEMENTWISE)
#: IR node → ONNX operator reducing every per-example axis
REDUCE = _operators(Kind.REDUCTION)
#: IR node → ONNX operator applied pairwise, broadcasting
NARY = _operators(Kind.BROADCAST)


@dataclass(frozen=True)
class Tensor:
    """A tensor of the graph: its name, its leading (batch or draw) axes, its rank for one example."""

    name: str
    lead: int
    rank: int


class OnnxPrinter:
    """Emits ONNX nodes for IR expressions into one graph; ``_print_<Node>`` per IR node."""

    def __init__(self, opset: int = 17):
        from onnx import helper

        self.helper, self.opset = helper, opset
        self.nodes: list = []
        self.initializers: dict[str, np.ndarray] = {}
        self.symbols: dict[str, Tensor] = {}
        self.scope = ""
        self.current = ""
        #: integer inputs as the graph takes them (int64), by name: what a lookup (``Gather``) indexes with
        self.integers: dict[str, Tensor] = {}
        #: the model's metadata: each integer input's range, read by the served endpoint to check requests
        self.metadata: dict[str, str] = {}
        self.count = 0
        self.memo: dict[tuple[str, sympy.Basic], Tensor] = {}
        #: each dimension's value, for statements written with indices
        self.dims: dict[str, int] = {}
        #: the indices in scope (innermost last) and the range of each, while such a statement is emitted
        self.index_scope: list[str] = []
        self.ranges: dict[str, tuple[int, int]] = {}
        #: each name's shape for one example, with the dimensions' values
        self.sizes: Mapping[str, tuple[int, ...]] = {}

    # graph pieces ------------------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        self.count += 1
        return f"{self.scope}{self.current}/{hint}_{self.count}"

    def node(self, op: str, inputs: list[str], out: str | None = None, **attributes) -> str:
        out = out or self.fresh(op)
        self.nodes.append(self.helper.make_node(op, inputs, [out], name=f"{op}:{out}", **attributes))
        return out

    def integer_input(self, name: str, lead: int, rank: int, limits: tuple[int, int, str]) -> None:
        """An int64 graph input: kept raw in ``integers``, cast to float once for arithmetic (as JAX promotes it),
        its range (lowest, highest, how the cell declared it) written into the metadata."""
        import json

        self.integers[name] = Tensor(name, lead, rank)
        self.symbols[name] = Tensor(self.node("Cast", [name], f"{self.scope}{name}/float", to=1), lead, rank)
        low, high, domain = limits
        self.metadata[INTEGER_KEY + name] = json.dumps({"low": low, "high": high, "domain": domain},
                                                       ensure_ascii=False)

    def initializer(self, name: str, value: np.ndarray) -> str:
        self.initializers[name] = np.asarray(value)
        return name

    def constant(self, value: float) -> Tensor:
        name = f"const_{np.float32(value)!r}".replace("np.float32(", "").replace(")", "").replace("-", "neg")
        if name not in self.initializers:
            self.initializer(name, np.array(value, np.float32))
        return Tensor(name, 0, 0)

    def axes(self, values: list[int]) -> str:
        name = "axes_" + "_".join(str(v).replace("-", "neg") for v in values)
        if name not in self.initializers:
            self.initializer(name, np.array(values, np.int64))
        return name

    def unsqueeze(self, tensor: Tensor, axes: list[int], lead: int, rank: int) -> Tensor:
        if not axes:
            return tensor
        return Tensor(self.node("Unsqueeze", [tensor.name, self.axes(axes)]), lead, rank)

    def squeeze(self, name: str, axes: list[int]) -> str:
        return self.node("Squeeze", [name, self.axes(axes)])

    def reduce(self, op: str, name: str, axes: list[int]) -> str:
        if op == "ReduceSum" or self.opset >= 18:
            return self.node(op, [name, self.axes(axes)], keepdims=0)
        return self.node(op, [name], axes=axes, keepdims=0)

    def rename(self, old: str, new: str) -> str:
        """Give a node output a new name, everywhere it is used."""
        for node in self.nodes:
            for names in (node.input, node.output):
                for i, name in enumerate(names):
                    if name == old:
                        names[i] = new
        return new

    def batched(self, tensor: Tensor, reference: str, shape: tuple[int, ...], out: str) -> Tensor:
        """A value that does not depend on the batch, repeated along the batch axis of ``reference``."""
        size = self.node("Shape", [reference], start=0, end=1)
        target = self.node("Concat", [size, self.axes(list(shape))], axis=0) if shape else size
        return Tensor(self.node("Expand", [tensor.name, target], out), 1, tensor.rank)

    # alignment ---------------------------------------------------------------------------
    def lift(self, tensor: Tensor, lead: int) -> Tensor:
        """Give a tensor with batch axes the same number of leading axes as ``lead``."""
        if tensor.lead == 0 or tensor.lead == lead:
            return tensor
        return self.unsqueeze(tensor, list(range(lead - tensor.lead)), lead, tensor.rank)

    def align(self, tensors: list[Tensor]) -> tuple[list[Tensor], int, int]:
        """Leading axes lifted and per-example ranks padded, so NumPy broadcasting is per example."""
        lead = max(t.lead for t in tensors)
        rank = max(t.rank for t in tensors)
        out = []
        for t in tensors:
            t = self.lift(t, lead)
            if t.lead and t.rank < rank:
                t = self.unsqueeze(t, list(range(t.lead, t.lead + rank - t.rank)), t.lead, rank)
            out.append(t)
        return out, lead, rank

    def elementwise(self, op: str, tensors: list[Tensor], out: str | None = None) -> Tensor:
        aligned, lead, rank = self.align(tensors)
        result = aligned[0].name
        for i, t in enumerate(aligned[1:]):
            result = self.node(op, [result, t.name], out if i == len(aligned) - 2 else None)
        return Tensor(result, lead, rank)

    # expressions -------------------------------------------------------------------------
    def emit(self, expr: sympy.Basic, out: str | None = None) -> Tensor:
        key = (self.scope, self.scope_key(), expr)
        if out is None and key in self.memo:
            return self.memo[key]
        tensor = self.dispatch(expr, out)
        if out is not None and tensor.name != out:
            tensor = Tensor(self.node("Identity", [tensor.name], out), tensor.lead, tensor.rank)
        self.memo.setdefault(key, tensor)
        return tensor

    def dispatch(self, expr, out):
        for cls in type(expr).__mro__:
            method = getattr(self, f"_print_{cls.__name__}", None)
            if method is not None:
                return method(expr, out)
        if expr.is_number:
            return self.constant(float(expr))
        raise ExportError(f"{type(expr).__name__} has no ONNX form")

    # the lowerings of the operation table's rows, by kind (see _LOWERINGS) --------------
    def unary(self, expr, out):
        (arg,) = (self.emit(a) for a in expr.args)
        return Tensor(self.node(UNARY[expr.func], [arg.name], out), arg.lead, arg.rank)

    def reduction(self, expr, out):
        arg = self.emit(expr.args[0])
        if arg.rank == 0:
            return arg
        return Tensor(self.reduce(REDUCE[expr.func], arg.name, list(range(-arg.rank, 0))), arg.lead, 0)

    def nary(self, expr, out):
        return self.elementwise(NARY[expr.func], [self.emit(a) for a in expr.args], out)

    def _print_Symbol(self, expr, out):
        if expr.name not in self.symbols and expr.name in self.dims:
            return self.constant(float(self.dims[expr.name]))
        if expr.name not in self.symbols:
            raise ExportError(f"{expr.name} has no value in the exported graph")
        return self.symbols[expr.name]

    def _print_Element(self, expr, out):
        return self._print_Symbol(expr.args[0], out)

    def _print_Add(self, expr, out):
        return self.elementwise("Add", [self.emit(a) for a in expr.args], out)

    def _print_Mul(self, expr, out):
        args = list(expr.args)
        if -1 in args:
            args.remove(-1)
            inner = self.emit(sympy.Mul(*args, evaluate=False) if len(args) > 1 else args[0])
            return Tensor(self.node("Neg", [inner.name], out), inner.lead, inner.rank)
        return self.elementwise("Mul", [self.emit(a) for a in args], out)

    def _print_Pow(self, expr, out):
        base, exponent = expr.args
        b = self.emit(base)
        if exponent == sympy.S.Half:
            return Tensor(self.node("Sqrt", [b.name], out), b.lead, b.rank)
        if exponent == -1:
            return Tensor(self.node("Reciprocal", [b.name], out), b.lead, b.rank)
        if exponent == 2:
            return Tensor(self.node("Mul", [b.name, b.name], out), b.lead, b.rank)
        return self.elementwise("Pow", [b, self.emit(exponent)], out)

    def _print_Log1p(self, expr, out):
        arg = self.emit(expr.args[0])
        shifted = self.node("Add", [arg.name, self.constant(1.0).name])
        return Tensor(self.node("Log", [shifted], out), arg.lead, arg.rank)

    def _print_Softmax(self, expr, out):
        arg = self.emit(expr.args[0])
        return Tensor(self.node("Softmax", [arg.name], out, axis=-1), arg.lead, arg.rank)

    def _print_Transposed(self, expr, out):
        arg = self.emit(expr.args[0])
        if arg.rank <= 1:
            return arg
        perm = list(range(arg.lead)) + [arg.lead + i for i in reversed(range(arg.rank))]
        return Tensor(self.node("Transpose", [arg.name], out, perm=perm), arg.lead, arg.rank)

    # linear algebra ----------------------------------------------------------------------
    def identity(self, tensor: Tensor) -> str:
        """The identity matrix the size of ``tensor``'s last axis, built from its shape (any batch broadcasts)."""
        size = self.squeeze(self.node("Shape", [tensor.name], start=-1), [0])
        steps = self.node("Range", [self.int_constant(0).name, size, self.int_constant(1).name])
        column = self.node("Unsqueeze", [steps, self.axes([-1])])
        return self.node("Cast", [self.node("Equal", [column, steps])], to=1)

    def _print_Det(self, expr, out):
        arg = self.emit(expr.args[0])
        return Tensor(self.node("Det", [arg.name], out), arg.lead, 0)

    def _print_LogDet(self, expr, out):
        """``log |det A|`` from ONNX's ``Det`` (the opset has no ``slogdet``)."""
        arg = self.emit(expr.args[0])
        magnitude = self.node("Abs", [self.node("Det", [arg.name])])
        return Tensor(self.node("Log", [magnitude], out), arg.lead, 0)

    def _print_Trace(self, expr, out):
        arg = self.emit(expr.args[0])
        diagonal = self.node("Mul", [arg.name, self.identity(arg)])
        return Tensor(self.reduce("ReduceSum", diagonal, [-2, -1]), arg.lead, 0)

    def _print_Diag(self, expr, out):
        """A vector's diagonal matrix (the vector times the identity), or a matrix's diagonal (reduced rows of it)."""
        arg = self.emit(expr.args[0])
        if arg.rank == 1:
            column = self.node("Unsqueeze", [arg.name, self.axes([-1])])
            return Tensor(self.node("Mul", [column, self.identity(arg)], out), arg.lead, 2)
        diagonal = self.node("Mul", [arg.name, self.identity(arg)])
        return Tensor(self.reduce("ReduceSum", diagonal, [-1]), arg.lead, 1)

    def _print_MatrixProduct(self, expr, out):
        a, b = (self.emit(x) for x in expr.args)
        lead = max(a.lead, b.lead)
        a, b = self.lift(a, lead), self.lift(b, lead)
        if a.rank == 1 and b.rank == 1:
            product = self.elementwise("Mul", [a, b])
            return Tensor(self.reduce("ReduceSum", product.name, [-1]) if out is None else
                          self.node("ReduceSum", [product.name, self.axes([-1])], out, keepdims=0), lead, 0)
        if b.rank == 1:
            column = self.unsqueeze(b, [-1], b.lead, 2)
            product = self.node("MatMul", [a.name, column.name])
            return Tensor(self.node("Squeeze", [product, self.axes([-1])], out), lead, a.rank - 1)
        if a.rank == 1:
            row = self.unsqueeze(a, [-2], a.lead, 2)
            product = self.node("MatMul", [row.name, b.name])
            return Tensor(self.node("Squeeze", [product, self.axes([-2])], out), lead, b.rank - 1)
        return Tensor(self.node("MatMul", [a.name, b.name], out), lead, max(a.rank, b.rank))

    # indices -----------------------------------------------------------------------------
    def integer(self, expr: sympy.Basic) -> int:
        """A range's bound, from the dimensions' values."""
        value = sympy.sympify(expr).subs({sympy.Symbol(n): v for n, v in self.dims.items()})
        if not value.is_Integer:
            raise ExportError(f"{expr} has no value: a dimension in it is not bound")
        return int(value)

    def grid(self, name: str) -> Tensor:
        """The values of an index along its own axis of the scope (int64, 1-based)."""
        start, stop = self.ranges[name]
        shape = [stop - start + 1 if n == name else 1 for n in self.index_scope]
        key = f"{self.scope_key()}/{name}_grid"
        if key not in self.initializers:
            self.initializer(key, np.arange(start, stop + 1, dtype=np.int64).reshape(shape))
        return Tensor(key, 0, len(self.index_scope))

    def scope_key(self) -> str:
        return "index/" + ",".join(f"{n}={self.ranges[n][0]}..{self.ranges[n][1]}" for n in self.index_scope)

    def int_constant(self, value: int) -> Tensor:
        name = f"int_{value}".replace("-", "neg")
        if name not in self.initializers:
            self.initializer(name, np.array(value, np.int64))
        return Tensor(name, 0, 0)

    def index(self, expr: sympy.Basic) -> Tensor:
        """A subscript as an int64 tensor over the scope."""
        if isinstance(expr, Index):
            return self.grid(expr.name)
        if isinstance(expr, Entry):
            value = self.entry(expr)
            return Tensor(self.node("Cast", [value.name], to=7), value.lead, value.rank)
        if isinstance(expr, sympy.Symbol):
            return self.int_constant(self.integer(expr))
        if expr.is_Integer:
            return self.int_constant(int(expr))
        if isinstance(expr, sympy.Add):
            return self.elementwise("Add", [self.index(a) for a in expr.args])
        if isinstance(expr, (sympy.Mul, MatrixProduct)):
            return self.elementwise("Mul", [self.index(a) for a in expr.args])
        raise ExportError(f"{expr} is not integer arithmetic")

    def entry(self, expr: Entry) -> Tensor:
        """``x_{…}``: a gather from ``x`` flattened, at ``Σ (subscript - 1) × stride``."""
        base, *subscripts = expr.args
        array = self._print_Symbol(base, None)
        sizes = self.sizes[base.name]
        strides = [int(np.prod(sizes[k + 1 :])) for k in range(len(sizes))]
        offsets = [self.elementwise("Mul", [self.index(sub), self.int_constant(stride)]) if stride != 1 else
                   self.index(sub) for sub, stride in zip(subscripts, strides)]
        position = self.elementwise("Add", [*offsets, self.int_constant(-sum(strides))])
        if array.lead and position.lead:
            raise ExportError(f"{base.name} is indexed by data and has a batch axis: not exported yet")
        flat = self.node("Reshape", [array.name, self.axes([0] * array.lead + [-1])])
        return Tensor(self.node("Gather", [flat, position.name], axis=array.lead), array.lead + position.lead,
                      position.rank)

    def _print_Entry(self, expr, out):
        return self.entry(expr)

    def _print_Identity(self, expr, out):
        size = self.integer(expr.args[0])
        return Tensor(self.initializer(f"identity_{size}", np.eye(size, dtype=np.float32)), 0, 2)

    def _print_Index(self, expr, out):
        grid = self.grid(expr.name)
        return Tensor(self.node("Cast", [grid.name], out, to=1), 0, grid.rank)

    def _print_Delta(self, expr, out):
        a, b = (self.index(x) for x in expr.args)
        equal = self.elementwise("Equal", [a, b])
        return Tensor(self.node("Cast", [equal.name], out, to=1), equal.lead, equal.rank)

    def whole(self, expr: Entry) -> bool:
        """Whether an entry's subscripts are distinct indices each running over its whole axis: the array itself."""
        subscripts = expr.args[1:]
        sizes = self.sizes.get(expr.args[0].name, ())
        return (len(subscripts) == len(sizes) and all(isinstance(s, Index) for s in subscripts)
                and len(set(subscripts)) == len(subscripts)
                and all(self.ranges.get(s.name) == (1, n) for s, n in zip(subscripts, sizes)))

    def compact(self, expr) -> tuple[Tensor, list[str]]:
        """``expr`` with one axis per index in scope it depends on (in scope order) after its leading axes."""
        used = {i.name for i in expr.atoms(Index)}
        if not used:
            return self.emit(expr), []
        if isinstance(expr, Entry) and self.whole(expr):
            return self._print_Symbol(expr.args[0], None), [s.name for s in expr.args[1:]]
        if isinstance(expr, IndexSum):
            summed = self.einsum(expr)
            if summed is not None:
                return summed
        value = self.emit(expr)
        dropped = [value.lead + k for k, n in enumerate(self.index_scope) if n not in used]
        if dropped:
            value = Tensor(self.squeeze(value.name, dropped), value.lead, value.rank - len(dropped))
        return value, [n for n in self.index_scope if n in used]

    def einsum(self, expr) -> tuple[Tensor, list[str]] | None:
        """``Σ_k Σ_l (a b c)`` as one Einsum of its factors (``...`` for the batch axes of those that have them);
        None when a summed index is in no factor, or the factors' leading axes differ."""
        sums, factors = sum_of_products(expr)
        for s in sums:
            self.index_scope.append(s.index.name)
            self.ranges[s.index.name] = (self.integer(s.start), self.integer(s.stop))
        try:
            parts = [self.compact(f) for f in factors]
        finally:
            for s in reversed(sums):
                self.index_scope.pop()
                del self.ranges[s.index.name]
        arrays = [(tensor, letters) for tensor, letters in parts if letters]
        leads = {tensor.lead for tensor, _ in arrays} - {0}
        subscripts = einsum_subscripts(self.index_scope, [s.index.name for s in sums],
                                       [letters for _, letters in arrays])
        if subscripts is None or len(leads) > 1:
            return None
        specs, out, result = subscripts
        equation = ",".join(("..." if tensor.lead else "") + spec for (tensor, _), spec in zip(arrays, specs)) + (
            "->" + ("..." if leads else "") + result)
        result = Tensor(self.node("Einsum", [tensor.name for tensor, _ in arrays], equation=equation),
                        max(leads, default=0), len(out))
        scalars = [tensor for tensor, letters in parts if not letters]
        return (self.elementwise("Mul", [*scalars, result]) if scalars else result), out

    def over_index(self, expr: OverIndex, out):
        if isinstance(expr, IndexSum):
            summed = self.einsum(expr)
            if summed is not None:
                value, letters = summed
                missing = [value.lead + k for k, n in enumerate(self.index_scope) if n not in letters]
                return self.unsqueeze(value, missing, value.lead, len(self.index_scope))
        name = expr.index.name
        softmax = isinstance(expr, IndexSoftmax)
        if not softmax:
            self.index_scope.append(name)
            self.ranges[name] = (self.integer(expr.start), self.integer(expr.stop))
        try:
            body = self.emit(expr.body)
            if Index(name) not in expr.body.atoms(Index):
                zero = self.node("Mul", [self._print_Index(expr.index, None).name, self.constant(0.0).name])
                body = self.elementwise("Add", [body, Tensor(zero, 0, len(self.index_scope))])
            axis = self.index_scope.index(name)
        finally:
            if not softmax:
                self.index_scope.pop()
                del self.ranges[name]
        if softmax:
            return Tensor(self.node("Softmax", [body.name], out, axis=body.lead + axis), body.lead, body.rank)
        return Tensor(self.reduce(INDEX_REDUCTIONS[type(expr).word], body.name, [-1]), body.lead, body.rank - 1)

    def indexed(self, statement) -> Tensor:
        """A statement written with indices, over the grid of its free indices and expanded to their sizes."""
        self.index_scope = [r.index for r in statement.indices]
        self.ranges = {r.index: (self.integer(r.start), self.integer(r.stop)) for r in statement.indices}
        try:
            value = self.emit(statement.expr)
        finally:
            self.index_scope, self.ranges = [], {}
        if not statement.indices:
            return value
        sizes = [self.integer(r.stop - r.start + 1) for r in statement.indices]
        if value.lead and value.rank < len(sizes):
            value = self.unsqueeze(value, list(range(value.lead, value.lead + len(sizes) - value.rank)), value.lead,
                                   len(sizes))
        shape = self.axes([1] * value.lead + sizes)
        return Tensor(self.node("Expand", [value.name, shape]), value.lead, len(sizes))

    def _print_Row(self, expr, out):
        base, position = expr.args
        array = self._print_Symbol(base, None)
        at = self.int_constant(self.integer(position) - 1)
        return Tensor(self.node("Gather", [array.name, at.name], out, axis=array.lead), array.lead, array.rank - 1)

    # recurrences -------------------------------------------------------------------------
    def recurrence(self, recurrence: Recurrence, reference: str | None) -> None:
        """A ``Scan`` whose body is one step: the carry holds each variable's last rows (batched like the data,
        taken from ``reference``), the scanned inputs are the other arrays' rows over the steps' range."""
        start, stop = int(recurrence.start), self.integer(recurrence.stop)
        lags, targets = recurrence.lags, recurrence.targets
        self.current = targets[0]
        rows = {}
        for row in recurrence.initial:
            value = self.emit(row.expr)
            shape = self.sizes[row.target][1:]
            if row.fills:
                value = Tensor(self.node("Expand", [value.name, self.axes(list(shape))]), value.lead, len(shape))
            if value.lead == 0 and reference is not None:
                value = self.batched(value, reference, shape, self.fresh(f"{row.target}_{row.position}"))
            rows[row.target, row.position] = value
            self.symbols[FirstRow.of(row.target, row.position).name] = value
        body = OnnxPrinter(self.opset)
        body.initializers, body.dims, body.sizes = self.initializers, self.dims, step_shapes(recurrence, self.sizes)
        body.integers, body.symbols, body.count = self.integers, dict(self.symbols), self.count
        body.scope = f"{self.scope}{targets[0]}/step/"
        carried = [(name, k) for name, lag in lags.items() for k in range(lag, 0, -1)]
        inputs, outer = [], []
        for name, k in carried:
            first = rows[name, start - k]
            inner = f"{body.scope}{name}@{k}"
            body.symbols[Lagged.of(name, k).name] = Tensor(inner, first.lead, first.rank)
            inputs.append(value_info(inner, self.sizes[name][1:], first.lead > 0))
            outer.append(first.name)
        sequences = recurrence.sequences or (None,)
        scan_axes = []
        for lagged in sequences:
            if lagged is None:
                steps = self.initializer(f"{self.scope}{targets[0]}/steps", np.zeros(stop - start + 1, np.float32))
                array, shape = Tensor(steps, 0, 1), (stop - start + 1,)
            else:
                array, shape = self._print_Symbol(sympy.Symbol(lagged.base), None), self.sizes[lagged.base]
                limits = [self.axes([start - 1 - lagged.lag]), self.axes([stop - lagged.lag]),
                          self.axes([array.lead])]
                array = Tensor(self.node("Slice", [array.name, *limits]), array.lead, array.rank)
            inner = f"{body.scope}{'steps' if lagged is None else lagged.name}"
            if lagged is not None:
                body.symbols[lagged.name] = Tensor(inner, array.lead, array.rank - 1)
            inputs.append(value_info(inner, shape[1:], array.lead > 0))
            outer.append(array.name)
            scan_axes.append(array.lead)
        outputs, carried_out, stacked = [], [], []
        for step in recurrence.steps:
            body.current = step.target
            value = body.indexed(step) if step.indexed else body.emit(step.expr)
            lead = rows[step.target, start - 1].lead if step.target in lags else value.lead
            if value.lead < lead:
                carry = body.symbols[Lagged.of(step.target, 1).name].name
                value = body.batched(value, carry, self.sizes[step.target][1:], body.fresh("batched"))
            body.symbols[Lagged.of(step.target, 0).name] = value
        for name, k in carried:
            value = body.symbols[Lagged.of(name, k - 1).name]
            carried_out.append(body.node("Identity", [value.name], f"{body.scope}{name}@{k}/next"))
            outputs.append(value_info(carried_out[-1], self.sizes[name][1:], value.lead > 0))
        for name in targets:
            value = body.symbols[Lagged.of(name, 0).name]
            stacked.append(body.node("Identity", [value.name], f"{body.scope}{name}/row"))
            outputs.append(value_info(stacked[-1], self.sizes[name][1:], value.lead > 0))
        graph = self.helper.make_graph(body.nodes, f"{targets[0]}_step", inputs, outputs)
        self.count = body.count
        leads = [body.symbols[Lagged.of(name, 0).name].lead for name in targets]
        results = [self.fresh(f"{name}@last") for name, _ in carried] + [self.fresh(f"{n}/steps") for n in targets]
        self.nodes.append(self.helper.make_node("Scan", outer, results, name=f"Scan:{targets[0]}", body=graph,
                                                num_scan_inputs=len(sequences), scan_input_axes=scan_axes,
                                                scan_output_axes=leads))
        for name, lead, steps in zip(targets, leads, results[len(carried):]):
            rank = len(self.sizes[name])
            first = [rows[name, p] for p in range(1, start)]
            parts = [self.unsqueeze(self.lift(f, lead), [lead], lead, rank).name for f in first]
            value = self.node("Concat", [*parts, steps], self.scope + name, axis=lead) if parts else self.node(
                "Identity", [steps], self.scope + name)
            self.symbols[name] = Tensor(value, lead, rank)

    # statements --------------------------------------------------------------------------
    def statements(self, ir: ModelIR, until: str | None = None) -> None:
        """Emit every ``=`` statement (constants included) in order, each named after its target."""
        reference = next((name for name in ir.roles.inputs if self.symbols.get(name, Tensor("", 0, 0)).lead), None)
        for statement in ir.statements:
            if isinstance(statement, Recurrence):
                if until is not None and until in statement.targets:
                    return
                try:
                    self.recurrence(statement, reference)
                except ExportError as error:
                    raise ExportError(f"{error.message}, in the recurrence for {', '.join(statement.targets)}",
                                      statement.span, statement.text) from None
            if isinstance(statement, Assignment):
                if until is not None and statement.target == until:
                    return
                self.current = statement.target
                try:
                    if statement.indexed:
                        value = self.indexed(statement)
                        value = Tensor(self.node("Identity", [value.name], self.scope + statement.target),
                                       value.lead, value.rank)
                        self.symbols[statement.target] = value
                        continue
                    self.symbols[statement.target] = self.emit(statement.expr, out=self.scope + statement.target)
                except ExportError as error:
                    span = Span(statement.span.line, 1, len(statement.text) + 1)
                    raise ExportError(f"{error.message}, in the statement for {statement.target}", span,
                                      statement.text) from None

    def model(self, name: str, inputs: list, outputs: list, ir_version: int):
        """The finished ``ModelProto`` (``inputs``/``outputs`` as ``helper.make_tensor_value_info``)."""
        from onnx import numpy_helper

        initializers = []
        for key, value in self.initializers.items():
            dtype = np.int64 if value.dtype.kind == "i" else np.float32
            initializers.append(numpy_helper.from_array(value.astype(dtype), key))
        graph = self.helper.make_graph(self.nodes, name, inputs, outputs, initializers)
        model = self.helper.make_model(graph, opset_imports=[self.helper.make_opsetid("", self.opset)],
                                       producer_name="ainative", ir_version=ir_version)
        self.helper.set_model_props(model, self.metadata)
        return model


#: the word of each operation over an index → the ONNX reduction over that index's axis
INDEX_REDUCTIONS = {"sum": "ReduceSum", "prod": "ReduceProd", "mean": "ReduceMean", "max": "ReduceMax",
                    "min": "ReduceMin", "logsumexp": "ReduceLogSumExp"}
for _node in OVER_INDEX.values():
    setattr(OnnxPrinter, f"_print_{_node.__name__}", OnnxPrinter.over_index)

_LOWERINGS = {Kind.ELEMENTWISE: OnnxPrinter.unary, Kind.REDUCTION: OnnxPrinter.reduction,
              Kind.BROADCAST: OnnxPrinter.nary}

install(OnnxPrinter, "onnx", lambda operator, kind: _LOWERINGS[kind], ExportError)


def dimension_values(ir: ModelIR, shapes: Mapping[str, tuple[int, ...]]) -> dict[str, int]:
    """Each dimension's value, read off the concrete shapes (and the cell's constants)."""
    values = dict(ir.dim_values)
    for name, shape in ir.shapes:
        for dim, size in zip(shape, shapes.get(name, ())):
            if isinstance(dim, str):
                values.setdefault(dim, size)
    return values


def value_info(name: str, shape: tuple, batched: bool):
    from onnx import TensorProto, helper

    dims = ([BATCH] if batched else []) + list(shape)
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def input_info(ir: ModelIR, name: str, shape: tuple, batched: bool):
    """A graph input: float32, or int64 where the cell declares it integer."""
    from onnx import TensorProto

    info = value_info(name, shape, batched)
    if name in ir.integers:
        info.type.tensor_type.elem_type = TensorProto.INT64
    return info


def print_onnx(
    ir: ModelIR,
    params: Mapping[str, np.ndarray],
    shapes: Mapping[str, tuple[int, ...]],
    *,
    limits: Mapping[str, tuple[int, int, str]] | None = None,
    opset: int = 17,
    ir_version: int = 8,
):
    """A deterministic model as an ONNX graph: inputs and outputs with a leading ``batch`` axis.

    ``limits`` gives each integer input's range (lowest, highest, as declared), which the graph's metadata keeps.
    """
    printer = OnnxPrinter(opset)
    printer.sizes, printer.dims = shapes, dimension_values(ir, shapes)
    for name in ir.roles.params:
        printer.initializer(name, np.asarray(params[name], np.float32))
        printer.symbols[name] = Tensor(name, 0, len(shapes[name]))
    for name in ir.roles.inputs:
        if name in ir.integers:
            printer.integer_input(name, 1, len(shapes[name]), (limits or {})[name])
        else:
            printer.symbols[name] = Tensor(name, 1, len(shapes[name]))
    printer.statements(ir)
    outputs = []
    for name in ir.roles.outputs:
        tensor = printer.symbols[name]
        if tensor.lead == 0 and ir.roles.inputs:
            if tensor.name == name:
                tensor = Tensor(printer.rename(name, f"{name}/unbatched"), 0, tensor.rank)
            tensor = printer.batched(tensor, ir.roles.inputs[0], shapes.get(name, ()), name)
        if tensor.name != name:
            out = f"{name}_out" if name in ir.roles.inputs else name
            tensor = Tensor(printer.node("Identity", [tensor.name], out), tensor.lead, tensor.rank)
        outputs.append(value_info(tensor.name, shapes.get(name, ()), tensor.lead > 0))
    inputs = [input_info(ir, name, shapes[name], True) for name in ir.roles.inputs]
    return printer.model(ir.header.name, inputs, outputs, ir_version)


def _quantile(printer: OnnxPrinter, values: Tensor, count: int, q: float, out: str) -> str:
    """The ``q`` quantile over the leading draws axis, interpolated linearly as NumPy does."""
    position = q * (count - 1)
    low = int(np.floor(position))
    high = min(low + 1, count - 1)
    weight = position - low
    k = printer.initializer(f"{out}_k", np.array([count], np.int64))
    ordered, indices = printer.fresh("sorted"), printer.fresh("order")
    printer.nodes.append(printer.helper.make_node("TopK", [values.name, k], [ordered, indices], name=f"TopK:{ordered}",
                                                 axis=0, largest=0, sorted=1))
    picks = []
    for index in (low, high):
        at = printer.initializer(f"{out}_at{index}", np.array([index], np.int64))
        picks.append(printer.squeeze(printer.node("Gather", [ordered, at], axis=0), [0]))
    gap = printer.node("Sub", [picks[1], picks[0]])
    step = printer.node("Mul", [gap, printer.constant(weight).name])
    return printer.node("Add", [picks[0], step], out)


def predictive_exportable(ir: ModelIR) -> None:
    """An ExportError unless the posterior predictive graph of ``ir`` can be exported (no statement with indices)."""
    from ..frontend.ir import Declaration

    if any(not isinstance(s, Declaration) and s.indexed for s in ir.statements):
        raise ExportError(f"{ir.header.name} is written with indices, and its posterior predictive graph is not "
                          "exported yet")


def print_onnx_predictive(
    ir: ModelIR,
    target: str,
    means: Mapping[str, np.ndarray],
    draws: Mapping[str, np.ndarray],
    shapes: Mapping[str, tuple[int, ...]],
    *,
    quantiles: tuple[float, ...] = (0.05, 0.95),
    limits: Mapping[str, tuple[int, int, str]] | None = None,
    opset: int = 17,
    ir_version: int = 8,
):
    """The posterior predictive of an observed variable: its location at the posterior mean, and
    quantiles of the location over posterior draws baked in as initializers.

    The data axis of the observed variable is the graph's batch axis; ``limits`` are the integer inputs' ranges.
    """
    from ..frontend.ir import Sampling

    statement = next(s for s in ir.statements if isinstance(s, Sampling) and s.target == target)
    predictive_exportable(ir)
    batch = ir.shape_of[target][:1]
    if not batch or not isinstance(batch[0], str) or batch[0] in ir.constants:
        raise ExportError(f"{target} has no data axis to serve: declare one (e.g. {target} ∈ ℝ^N)")
    data_axis = batch[0]
    inputs = [n for n in ir.roles.inputs if n not in ir.roles.observed]
    per_example = {n: shapes[n][1:] if ir.shape_of[n][:1] == (data_axis,) else shapes[n] for n in inputs}
    for name in ir.roles.latents:
        if data_axis in ir.shape_of[name]:
            raise ExportError(f"latent {name} has the data axis {data_axis}: a new example has no draw of it")
    mean_path, draw_path = OnnxPrinter(opset), OnnxPrinter(opset)
    draw_path.scope = "draws/"
    count = next(iter(draws.values())).shape[0] if draws else 1
    for printer in (mean_path, draw_path):
        for name in inputs:
            lead = 1 if ir.shape_of[name][:1] == (data_axis,) else 0
            if name in ir.integers:
                printer.integer_input(name, lead, len(per_example[name]), (limits or {})[name])
            else:
                printer.symbols[name] = Tensor(name, lead, len(per_example[name]))
    for name in ir.roles.latents:
        mean_path.symbols[name] = Tensor(mean_path.initializer(name, means[name].astype(np.float32)), 0,
                                         len(shapes[name]))
        stacked = draws[name].astype(np.float32).reshape((count, 1, *shapes[name]))
        draw_path.symbols[name] = Tensor(draw_path.initializer(f"draws/{name}", stacked), 2, len(shapes[name]))
    outputs = []
    value = location(statement.distribution)
    per_example_target = shapes[target][1:]
    for printer in (mean_path, draw_path):
        printer.statements(ir)
        printer.current = target
    mean = mean_path.emit(value, out=target)
    outputs.append(value_info(mean.name, per_example_target, mean.lead > 0))
    spread = draw_path.emit(value)
    for q in quantiles:
        name = f"{target}_q{round(q * 100):02d}"
        if spread.lead < 2:
            out = draw_path.node("Identity", [spread.name], name)
        else:
            out = _quantile(draw_path, spread, count, q, name)
        outputs.append(value_info(out, per_example_target, spread.lead > 0))
    mean_path.nodes += draw_path.nodes
    mean_path.initializers.update(draw_path.initializers)
    graph_inputs = [input_info(ir, n, per_example[n], ir.shape_of[n][:1] == (data_axis,)) for n in inputs]
    return mean_path.model(ir.header.name, graph_inputs, outputs, ir_version)
