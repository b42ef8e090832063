"""One IR, three printers: JAX, ONNX (onnxruntime) and the deterministic part of the Pyro printer
(PyTorch) compute the same numbers for random well-typed expressions, for random statements
written with indices (entries, reversed and fixed subscripts, δ, reductions over an index), and for
random recurrences (a scan, an ONNX Scan and a loop)."""

import re

import numpy as np
import onnxruntime
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import ainative
from ainative.printers.names import import_lines
from tests.export.test_verified import scalars, vectors

DECLARE = "x ∈ ℝ^D;  w ∈ ℝ^D;  b ∈ ℝ^D;  A ∈ ℝ^{D×D}"


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(vectors(3), scalars(3)))
def test_jax_onnx_and_torch_agree(tmp_path, expression):
    rng = np.random.default_rng(0)
    values = {"x": rng.uniform(0.1, 1, 4), "w": rng.normal(size=4), "b": rng.normal(size=4),
              "A": rng.normal(size=(4, 4)) * 0.5, "c": np.array(0.7)}
    values = {k: v.astype(np.float32) for k, v in values.items()}
    deterministic = ainative.model(f"{DECLARE}\ny = {expression}", header="f(x) -> y")
    assume("y" in deterministic.ir.roles.deterministic)  # a constant y is not a site of the Pyro program
    params = {p: values[p] for p in deterministic.params}
    by_jax = np.asarray(deterministic(params, x=values["x"]), np.float64)

    deterministic.export_onnx(tmp_path / "f.onnx", params, D=4, overwrite=True)
    session = onnxruntime.InferenceSession(str(tmp_path / "f.onnx"), providers=["CPUExecutionProvider"])
    by_onnx = session.run(["y"], {"x": values["x"][None]})[0][0]

    inputs = ("x", *deterministic.params)
    # y reads only data, so it is no site of a draw: the program returns it
    probabilistic = ainative.model(f"{DECLARE}\ny = {expression}\nz ~ Normal(Σ y, 1)",
                                   header=f"g({', '.join(inputs)}) -> y --backend pyro")
    namespace: dict = {}
    exec(probabilistic.source(), namespace)
    by_torch = namespace["g"](*(torch.as_tensor(np.asarray(values[n])) for n in inputs)).numpy()

    np.testing.assert_allclose(by_onnx, by_jax, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(by_torch, by_jax, rtol=1e-4, atol=1e-5)


#: each index's range, and the entries available where a set of indices is in scope
RANGES = {"i": 3, "j": 4}
ENTRIES = [("A_{i,j}", "ij"), ("A_{4-i,5-j}", "ij"), ("x_j", "j"), ("x_{5-j}", "j"), ("v_i", "i"), ("v_{4-i}", "i"),
           ("δ_{ij}", "ij"), ("A[i, 1]", "i"), ("x[2]", ""), ("c", "")]


@st.composite
def indexed(draw, scope: frozenset, depth: int = 2):
    """A random expression over entries whose indices are in ``scope``, with reductions over the others."""
    choices = ["entry"] + (["binary", "unary", "reduce"] if depth else [])
    kind = draw(st.sampled_from(choices))
    if kind == "entry":
        return draw(st.sampled_from([text for text, needs in ENTRIES if set(needs) <= scope]))
    if kind == "unary":
        function = draw(st.sampled_from(["tanh({})", "exp({} / 4)", "({})²", "relu({})"]))
        return function.format(draw(indexed(scope, depth - 1)))
    if kind == "binary":
        operator = draw(st.sampled_from([" + ", " - ", " "]))
        return f"({draw(indexed(scope, depth - 1))}{operator}{draw(indexed(scope, depth - 1))})"
    free = sorted(set(RANGES) - scope)
    if not free:
        return draw(indexed(scope, depth - 1))
    index = draw(st.sampled_from(free))
    word = draw(st.sampled_from(["Σ", "mean", "max", "logsumexp"]))
    bound = f"{word}_{{{index}=1}}^{{{RANGES[index]}}}" if word == "Σ" else f"{word}_{{{index}=1..{RANGES[index]}}}"
    return f"{bound}({draw(indexed(scope | {index}, depth - 1))})"


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["", "i", "j", "ij"]).flatmap(lambda free: st.tuples(st.just(free),
                                                                               indexed(frozenset(free)))))
def test_index_statements_agree_in_jax_onnx_and_torch(tmp_path, case):
    from ainative.frontend.ir import Assignment
    from ainative.printers.pyro import TorchPrinter

    free, body = case
    left = f"y_{{{','.join(free)}}}" if free else "y"
    plate = ("  for " + ", ".join(f"{n} in 1..{RANGES[n]}" for n in free)) if free else ""
    model = ainative.model(f"A ∈ ℝ^{{3×4}}\nx ∈ ℝ^4\nv ∈ ℝ^3\n{left} = {body}{plate}", header="f(x) -> y")
    rng = np.random.default_rng(1)
    values = {"A": rng.normal(size=(3, 4)), "x": rng.normal(size=4), "v": rng.normal(size=3), "c": np.array(0.6)}
    values = {k: v.astype(np.float32) for k, v in values.items()}
    params = {p: values[p] for p in model.params}
    by_jax = np.asarray(model(params, x=values["x"]), np.float64)
    report = model.export_onnx(tmp_path / "f.onnx", params, overwrite=True)
    assert report.max_abs_error < 1e-4
    printer = TorchPrinter()
    namespace = {n: torch.tensor(v) for n, v in values.items()}
    (statement,) = [s for s in model.ir.statements if isinstance(s, Assignment)]
    text = printer.in_scope(statement.indices, statement.expr)
    exec("\n".join(import_lines(printer.module_imports)), namespace)
    np.testing.assert_allclose(eval(text, namespace).numpy(), by_jax, rtol=1e-4, atol=1e-5)


SEQUENCE = "x ∈ ℝ^{T×D};  h ∈ ℝ^{T×D};  w ∈ ℝ^D;  A ∈ ℝ^{D×D}\nh_0 = 0"


@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(vectors(2), scalars(2)))
def test_recurrences_agree_in_jax_onnx_and_torch(tmp_path, expression):
    """A random step over the row ``x_t`` and the previous row ``h_{t-1}`` (written where ``b`` was): a scan in JAX,
    a Scan in ONNX and a loop in PyTorch compute the same rows."""
    step = re.sub(r"\bb\b", "h_{t-1}", re.sub(r"\bx\b", "x_t", expression))
    body = f"{SEQUENCE}\nh_t = tanh({step}) / 2 + h_{{t-1}} / 2  for t in 1..T"
    deterministic = ainative.model(body, header="f(x) -> h")
    rng = np.random.default_rng(2)
    values = {"x": rng.uniform(0.1, 1, (3, 4)), "w": rng.normal(size=4), "A": rng.normal(size=(4, 4)) * 0.5,
              "c": np.array(0.7)}
    values = {k: v.astype(np.float32) for k, v in values.items()}
    params = {p: values[p] for p in deterministic.params}
    by_jax = np.asarray(deterministic(params, x=values["x"]), np.float64)

    deterministic.export_onnx(tmp_path / "f.onnx", params, T=3, D=4, overwrite=True)
    session = onnxruntime.InferenceSession(str(tmp_path / "f.onnx"), providers=["CPUExecutionProvider"])
    by_onnx = session.run(["h"], {"x": values["x"][None]})[0][0]

    inputs = ("x", *deterministic.params)
    probabilistic = ainative.model(f"{body}\nz ~ Normal(Σ h, 1)", header=f"g({', '.join(inputs)}) --backend pyro")
    by_torch = probabilistic.sample_prior(1, **{n: values[n] for n in inputs})["h"][0]

    np.testing.assert_allclose(by_onnx, by_jax, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(by_torch, by_jax, rtol=1e-4, atol=1e-5)
