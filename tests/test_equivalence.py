"""One IR, three printers: JAX, ONNX (onnxruntime) and the deterministic part of the Pyro printer
(PyTorch) compute the same numbers for random well-typed expressions."""

import numpy as np
import onnxruntime
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import ainative
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
    probabilistic = ainative.model(f"{DECLARE}\ny = {expression}\nz ~ Normal(Σ y, 1)",
                                   header=f"g({', '.join(inputs)}) --backend pyro")
    by_torch = probabilistic.sample_prior(1, **{n: values[n] for n in inputs})["y"][0]

    np.testing.assert_allclose(by_onnx, by_jax, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(by_torch, by_jax, rtol=1e-4, atol=1e-5)
