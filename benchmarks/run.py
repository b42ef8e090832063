"""Benchmarks: ainative against the same work written by hand, side by side in one process.

Each comparison interleaves the two contenders over many repetitions and reports the ratio of
their medians, so machine drift cancels out. Run with ``make bench``; writes ``results.md``.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from timing import interleaved

import ainative
from ainative import compiler

HERE = Path(__file__).parent

MLP = """x ∈ ℝ^D;  t ∈ ℝ^K
W₁ ∈ ℝ^{H×D};  b₁ ∈ ℝ^H
W₂ ∈ ℝ^{K×H};  b₂ ∈ ℝ^K
h = tanh(W₁ x + b₁)
y = softmax(W₂ h + b₂)
L = -Σ t ⊙ log(y)"""

LOGISTIC = """x ∈ ℝ^D;  w ∈ ℝ^D
p = σ(wᵀx + b)
L = -(t log(p) + (1 - t) log(1 - p))"""


def grad_of_mean_loss(f, inputs: int):
    """jit(grad) of the batch-mean of a generated per-example loss output."""
    batched = jax.vmap(f, in_axes=(None, *([0] * inputs)))
    return jax.jit(jax.grad(lambda p, *xs: jnp.mean(batched(p, *xs)["L"])))


def hand_mlp(p, x, t):
    h = jnp.tanh(x @ p["W_1"].T + p["b_1"])
    y = jax.nn.softmax(h @ p["W_2"].T + p["b_2"])
    return jnp.mean(-jnp.sum(t * jnp.log(y), axis=-1))


def hand_logistic(p, x, t):
    q = jax.nn.sigmoid(x @ p["w"] + p["b"])
    return jnp.mean(-(t * jnp.log(q) + (1 - t) * jnp.log(1 - q)))


def forward_grad() -> list[tuple[str, str, str, str, str]]:
    rng = np.random.default_rng(0)
    rows = []
    mlp = ainative.model(MLP, header="mlp(x, t) -> y, L")
    params = mlp.init(jax.random.key(0), D=784, H=128, K=10)
    x = jnp.asarray(rng.normal(size=(256, 784)), jnp.float32)
    t = jnp.asarray(np.eye(10)[rng.integers(0, 10, 256)], jnp.float32)
    logistic = ainative.model(LOGISTIC, header="logistic(x, t) -> p, L")
    lparams = {"w": jnp.asarray(rng.normal(size=100) * 0.1, jnp.float32), "b": jnp.float32(0.0)}
    lx = jnp.asarray(rng.normal(size=(1024, 100)), jnp.float32)
    lt = jnp.asarray(rng.integers(0, 2, 1024), jnp.float32)
    cases = [
        ("MLP 784→128→10, batch 256", mlp, params, (x, t), hand_mlp, 500),
        ("logistic regression D=100, batch 1024", logistic, lparams, (lx, lt), hand_logistic, 3000),
    ]
    for label, model, p, data, hand, repeats in cases:
        ours = grad_of_mean_loss(model.jax_function, len(data))
        theirs = jax.jit(jax.grad(hand))
        for a, b in zip(jax.tree.leaves(ours(p, *data)), jax.tree.leaves(theirs(p, *data)), strict=True):
            np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6)
        medians = interleaved({
            "ours": lambda o=ours, p=p, d=data: jax.block_until_ready(o(p, *d)),
            "hand": lambda h=theirs, p=p, d=data: jax.block_until_ready(h(p, *d)),
        }, repeats=repeats)
        ratio = medians["ours"] / medians["hand"]
        rows.append((f"JAX forward+grad, {label}", f"{medians['ours'] * 1e6:.0f} µs",
                     f"{medians['hand'] * 1e6:.0f} µs", f"{ratio:.3f}×", "≤ 1.02×"))
    return rows


def chain_cell(lines: int) -> str:
    """A deterministic model of about ``lines`` statements: a chain of tanh layers."""
    body = ["x ∈ ℝ^H", "h_0 = x"]
    for i in range(1, lines - 1):
        body.append(f"h_{i} = tanh(W_{i} h_{i - 1} + b_{i})")
    body += [f"W_{i} ∈ ℝ^{{H×H}}; b_{i} ∈ ℝ^H" for i in range(1, lines - 1)]
    return "\n".join(body)


FIRST_MODEL = """
import sys, time
import ainative
start = time.perf_counter()
ainative.model(sys.argv[1], header="mlp(x, t) -> y, L").jax_function
print(time.perf_counter() - start)
"""


def cell_to_callable() -> list[tuple[str, str, str, str, str]]:
    firsts = [float(subprocess.run([sys.executable, "-c", FIRST_MODEL, MLP], capture_output=True, text=True,
                                   check=True).stdout) for _ in range(3)]
    rows = [("first model in a fresh process (imports SymPy, lark and JAX)",
             f"{statistics.median(firsts) * 1e3:.0f} ms", "", "", "once")]
    per_line = {}
    for lines in (10, 100, 1000):
        text = chain_cell(lines)
        count = len([line for line in text.splitlines() for _ in line.split(";")])

        def build(text=text):
            compiler.load.cache_clear()
            assert callable(ainative.model(text, header="chain(x)").jax_function)

        seconds = interleaved({"build": build}, repeats=15 if lines < 1000 else 5)["build"]
        per_line[lines] = seconds / count
        target = "≤ 50 ms" if lines == 10 else "linear"
        rows.append((f"cell → callable, {lines} lines ({count} statements)", f"{seconds * 1e3:.1f} ms",
                     "", f"{per_line[lines] * 1e3:.2f} ms/statement", target))
    return rows


LOAD_EXT = """
import sys, time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
start = time.perf_counter()
shell.run_line_magic("load_ext", "ainative")
elapsed = time.perf_counter() - start
heavy = [m for m in ("jax", "torch", "pyro", "onnxruntime", "sympy") if m in sys.modules]
print(elapsed, ",".join(heavy) or "none")
"""


def load_ext() -> list[tuple[str, str, str, str, str]]:
    runs = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", LOAD_EXT], capture_output=True, text=True, check=True)
        seconds, heavy = out.stdout.split()
        runs.append(float(seconds))
    return [("%load_ext ainative, fresh process", f"{statistics.median(runs) * 1e3:.0f} ms", "",
             f"heavy modules loaded: {heavy}", "≤ 300 ms")]


def main() -> None:
    import bench_export
    import bench_ppl

    rows = forward_grad() + cell_to_callable() + load_ext() + bench_export.rows() + bench_ppl.rows()
    machine = (f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
               f"jax {jax.__version__} on {jax.devices()[0].platform}")
    lines = [
        f"Measured by `make bench` on {machine}.",
        "",
        "| benchmark | ours | hand-written | ratio / value | target |",
        "|---|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in rows),
    ]
    table = "\n".join(lines)
    print(table)
    (HERE / "results.md").write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
