"""The operation table: every node is spelled (or refused) by every printer, and its values are NumPy's."""

import inspect
import re

import numpy as np
import onnxruntime
import pytest
import sympy
import torch

import ainative
from ainative.errors import ExportError, ModelError
from ainative.frontend import lexer, nodes, operations, parser, shapes, subscripts
from ainative.frontend.nodes import Element, Relu
from ainative.frontend.operations import FUNCTIONS, LATEX_NAMES, OPERATIONS, Call, Kind, Operation, Own, Unsupported
from ainative.printers import common
from ainative.printers.jax import JaxPrinter
from ainative.printers.latex import LatexPrinter
from ainative.printers.names import import_lines
from ainative.printers.numpyro import VectorisedJaxPrinter
from ainative.printers.onnx import OnnxPrinter, Tensor, value_info
from ainative.printers.pyro import TorchPrinter

RNG = np.random.default_rng(0)
BACKENDS = ("jax", "torch", "latex", "onnx")
PRINTERS = {"jax": (JaxPrinter, VectorisedJaxPrinter), "torch": (TorchPrinter,), "latex": (LatexPrinter,),
            "onnx": (OnnxPrinter,)}
#: every node the IR is built of (a class that is only the base of others is never built)
NODE_CLASSES = [c for _, c in inspect.getmembers(nodes, inspect.isclass)
                if issubclass(c, nodes.Node) and not c.__subclasses__()]
TABLE_NODES = {op.node for op in OPERATIONS}
X, Y = sympy.symbols("x y")
#: rows whose reference takes positive arguments only
POSITIVE = {sympy.log, nodes.Log1p, sympy.Pow}

#: each row's node, computed by NumPy on its arguments
REFERENCE = {
    sympy.tanh: np.tanh, sympy.exp: np.exp, sympy.log: np.log, sympy.Abs: np.abs, sympy.sin: np.sin,
    sympy.cos: np.cos, nodes.Log1p: np.log1p, nodes.Sigmoid: lambda x: 1 / (1 + np.exp(-x)),
    nodes.Relu: lambda x: np.maximum(x, 0), nodes.Softplus: lambda x: np.log(1 + np.exp(x)),
    nodes.Softmax: lambda x: np.exp(x) / np.exp(x).sum(), nodes.LogSumExp: lambda x: np.log(np.exp(x).sum()),
    nodes.ReduceSum: np.sum, nodes.ReduceMean: np.mean, nodes.ReduceMax: np.max, nodes.ReduceMin: np.min,
    nodes.Maximum: np.maximum, nodes.Minimum: np.minimum, sympy.Pow: np.sqrt, sympy.Add: np.add,
    sympy.Mul: np.multiply, nodes.Cholesky: np.linalg.cholesky, nodes.Inverse: np.linalg.inv,
    nodes.Det: np.linalg.det, nodes.LogDet: lambda a: np.linalg.slogdet(a)[1], nodes.Trace: np.trace,
    nodes.Diag: np.diag, nodes.Solve: np.linalg.solve,
}
#: the kinds whose operations take a square matrix (``x``, symmetric positive-definite) and a vector (``y``)
MATRIX_KINDS = {Kind.SQUARE, Kind.SQUARE_TO_SCALAR, Kind.DIAGONAL, Kind.SOLVE}


def sample(operation: Operation) -> sympy.Expr:
    """The row's node on ``x`` (and ``y``): as the notation writes it, or with two operands for ``+`` and ``*``."""
    count = operation.arity if operation.name else 2
    return operation.make(*(X, Y)[:count])


def arrays(operation: Operation) -> dict[str, np.ndarray]:
    """Random ``x`` and ``y`` of both signs, or positive where the operation's reference needs it; for linear
    algebra a symmetric positive-definite 3×3 ``x`` (well conditioned, so float32 agrees) and a 3-vector ``y``."""
    if operation.kind in MATRIX_KINDS:
        factor = RNG.normal(size=(3, 3))
        return {"x": (factor @ factor.T + 3 * np.eye(3)).astype(np.float32), "y": RNG.normal(size=3).astype(np.float32)}
    low = 0.2 if operation.node in POSITIVE else -2.0
    return {name: RNG.uniform(low, 2.0, 5).astype(np.float32) for name in ("x", "y")}


def expected(operation: Operation, values: dict[str, np.ndarray]) -> np.ndarray:
    used = sample(operation).free_symbols
    return REFERENCE[operation.node](*(values[s.name] for s in (X, Y) if s in used))


def run_printed(printer, expr, namespace: dict) -> object:
    """Evaluate a printed expression with only the imports its printer recorded."""
    text = printer._print(expr)
    exec("\n".join(import_lines(printer.module_imports)), namespace)
    return eval(text, namespace)


ROWS = pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op.node.__name__}/{op.arity}")


def test_every_node_has_a_row_or_its_own_method_in_every_printer():
    for node in NODE_CLASSES:
        if node in TABLE_NODES:
            continue
        for printer in (p for printers in PRINTERS.values() for p in printers):
            assert callable(getattr(printer, f"_print_{node.__name__}", None)), (printer.__name__, node.__name__)


def test_every_row_has_a_spelling_or_a_reason_in_every_backend():
    assert set(REFERENCE) == TABLE_NODES
    for operation in OPERATIONS:
        for backend in BACKENDS:
            spelling = operation.spelling(backend)
            assert isinstance(spelling, (Call, str, Own, Unsupported)), (operation, backend)
            if isinstance(spelling, Unsupported):
                assert spelling.reason
            if not isinstance(spelling, Own):
                for printer in PRINTERS[backend]:
                    assert callable(getattr(printer, f"_print_{operation.node.__name__}", None)), (operation, backend)


@ROWS
def test_jax_and_numpyro_values_are_numpys(operation):
    values = arrays(operation)
    for printer in (JaxPrinter(), VectorisedJaxPrinter()):
        got = run_printed(printer, sample(operation), dict(values))
        np.testing.assert_allclose(np.asarray(got), expected(operation, values), rtol=1e-5, atol=1e-6)


@ROWS
def test_torch_values_are_numpys(operation):
    values = arrays(operation)
    got = run_printed(TorchPrinter(), sample(operation), {k: torch.from_numpy(v) for k, v in values.items()})
    np.testing.assert_allclose(got.numpy(), expected(operation, values), rtol=1e-5, atol=1e-6)


@ROWS
def test_onnx_values_are_numpys_for_every_example_of_a_batch(operation):
    expr = sample(operation)
    used = sorted(s.name for s in expr.free_symbols)
    batch = [arrays(operation) for _ in range(3)]
    want = np.stack([expected(operation, values) for values in batch])
    printer = OnnxPrinter()
    printer.symbols = {name: Tensor(name, 1, batch[0][name].ndim) for name in used}
    if isinstance(operation.onnx, Unsupported):
        with pytest.raises(ExportError, match=re.escape(operation.onnx.reason)):
            printer.emit(expr, out="out")
        return
    printer.emit(expr, out="out")
    graph = printer.model("operation", [value_info(n, batch[0][n].shape, True) for n in used],
                          [value_info("out", want.shape[1:], True)], 8)
    session = onnxruntime.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {n: np.stack([values[n] for values in batch]) for n in used})
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(4,), (4, 4)], ids=["vector", "matrix"])
def test_diag_is_decided_by_the_operands_rank_in_every_printer(shape):
    x = RNG.normal(size=shape).astype(np.float32)
    want = np.diag(x)
    for printer in (JaxPrinter(), VectorisedJaxPrinter()):
        np.testing.assert_allclose(np.asarray(run_printed(printer, nodes.Diag(X), {"x": x})), want)
    np.testing.assert_allclose(run_printed(TorchPrinter(), nodes.Diag(X), {"x": torch.from_numpy(x)}).numpy(), want)
    m = ainative.model(f"x ∈ ℝ^{{{'×'.join(map(str, shape))}}}\ny = diag(x)", header="f(x) -> y")
    assert m.shapes["y"] == ((4, 4) if len(shape) == 1 else (4,))
    printer = OnnxPrinter()
    printer.symbols = {"x": Tensor("x", 1, len(shape))}
    printer.emit(nodes.Diag(X), out="out")
    graph = printer.model("diag", [value_info("x", shape, True)], [value_info("out", want.shape, True)], 8)
    session = onnxruntime.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"x": np.stack([x, 2 * x])})
    np.testing.assert_allclose(got, np.stack([want, 2 * want]))


@ROWS
def test_latex_writes_the_tables_operator_or_sympys(operation):
    latex = LatexPrinter()._print(sample(operation))
    spelling = operation.latex
    assert latex and (spelling in latex if isinstance(spelling, str) else "x" in latex)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_unsupported_operation_is_an_error_with_its_reason(monkeypatch, backend):
    reason = f"no relu on {backend} yet"
    refused = Operation(Relu, Kind.ELEMENTWISE, "relu", jax=Unsupported(reason), torch=Unsupported(reason),
                        latex=Unsupported(reason), onnx=Unsupported(reason))
    monkeypatch.setattr(common, "OPERATIONS", (refused,))
    error = ExportError if backend == "onnx" else ModelError
    for base in PRINTERS[backend]:
        printer = type(f"Refusing{base.__name__}", (base,), {})
        common.install(printer, backend, lambda *_: pytest.fail("a refusal makes no method"), error)
        with pytest.raises(error, match=reason):
            if backend == "onnx":
                onnx = printer()
                onnx.symbols = {"x": Tensor("x", 1, 1)}
                onnx.emit(Relu(X))
            else:
                printer()._print(Relu(X))


def test_the_parser_lexer_and_shapes_read_the_table():
    assert parser.FUNCTIONS is FUNCTIONS and subscripts.FUNCTIONS is FUNCTIONS and lexer.LATEX_NAMES is LATEX_NAMES
    assert shapes.kind_of is operations.kind_of


#: each kind's result for an operand of shape (3, 4), or, for linear algebra, (3, 3) (and ``solve``'s b, (3, 2))
RESULTS = {Kind.REDUCTION: (), Kind.SQUARE: (3, 3), Kind.SQUARE_TO_SCALAR: (), Kind.DIAGONAL: (3,), Kind.SOLVE: (3, 2)}


@ROWS
def test_each_name_parses_to_its_node_with_its_shape_rule(operation):
    if operation.name is None:
        return
    args = ", ".join(["x", "b"][: operation.arity] if operation.kind is Kind.SOLVE else ["x"] * operation.arity)
    shape = "3×3" if operation.kind in MATRIX_KINDS else "3×4"
    m = ainative.model(f"x ∈ ℝ^{{{shape}}}\nb ∈ ℝ^{{3×2}}\ny = {operation.name}({args})", header="f(x, b) -> y")
    assert m.ir.statements[-1].expr.func is operation.node
    assert m.shapes["y"] == RESULTS.get(operation.kind, (3, 4))


@pytest.mark.parametrize(("command", "name"), LATEX_NAMES.items())
def test_each_latex_command_is_its_function(command, name):
    declared = r"x \in \mathbb{R}^{3 \times 3} \\ " if FUNCTIONS[name][1].kind in MATRIX_KINDS else ""
    m = ainative.model(rf"{declared}y = \{command}(x)", header="f(x) -> y --latex")
    assert m.ir.statements[-1].expr.func is FUNCTIONS[name][1].node


def test_an_alias_is_its_function_unless_a_variable_has_its_name():
    assert ainative.model("y = σ(x)", header="f(x) -> y").ir.statements[-1].expr.func is nodes.Sigmoid
    assert ainative.model("y = σ (x)", header="f(x, σ) -> y").ir.statements[-1].expr.func is not nodes.Sigmoid


def test_structural_nodes_print_in_every_printer():
    a, j = sympy.symbols("A j")
    for expr in (nodes.MatrixProduct(a, X), nodes.Transposed(a), Element(X, j)):
        for printer in (JaxPrinter(), VectorisedJaxPrinter(), TorchPrinter(), LatexPrinter()):
            assert printer._print(expr)
