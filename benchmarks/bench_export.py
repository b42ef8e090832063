"""ONNX export: batch-1 latency in onnxruntime against jitted JAX, and the time an export takes."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import jax
import numpy as np
import onnxruntime
from timing import interleaved

import ainative

MLP = """x ∈ ℝ^D
W₁ ∈ ℝ^{H×D};  b₁ ∈ ℝ^H
W₂ ∈ ℝ^{K×H};  b₂ ∈ ℝ^K
h = tanh(W₁ x + b₁)
y = softmax(W₂ h + b₂)"""


def rows() -> list[tuple[str, str, str, str, str]]:
    model = ainative.model(MLP, header="mlp(x) -> y")
    params = model.init(jax.random.key(0), D=784, H=128, K=10)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mlp.onnx"
        start = time.perf_counter()
        model.export_onnx(path, params)
        export_seconds = time.perf_counter() - start
        options = onnxruntime.SessionOptions()
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).normal(size=(1, 784)).astype(np.float32)
    forward = jax.jit(jax.vmap(model.jax_function, in_axes=(None, 0)))
    np.testing.assert_allclose(session.run(None, {"x": x})[0], forward(params, x), rtol=1e-5, atol=1e-6)
    medians = interleaved({
        "onnx": lambda: session.run(None, {"x": x}),
        "jax": lambda: jax.block_until_ready(forward(params, x)),
    }, repeats=2000)
    return [
        ("ONNX batch-1 latency (onnxruntime) vs jitted JAX, MLP 784→128→10", f"{medians['onnx'] * 1e6:.0f} µs",
         f"{medians['jax'] * 1e6:.0f} µs (JAX)", f"{medians['onnx'] / medians['jax']:.2f}×", "≤ 1.0×"),
        ("export_onnx (print, check, verify with your and random parameters at batch 1 and 17, write), MLP",
         f"{export_seconds * 1e3:.0f} ms",
         "", "", "informative"),
    ]
