"""Generated JAX against the same model written by hand in JAX: jitted forward+grad of the batch-mean loss.

The claim is that the printer costs nothing at run time: XLA must see the same graph from the
generated per-example function (under ``vmap``) as from hand-batched ``jnp`` code.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from cells import CLASSIFIER
from timing import interleaved

import ainative

MLP = CLASSIFIER

LOGISTIC = """x ∈ ℝ^D;  w ∈ ℝ^D
p = σ(wᵀx + b)
L = -(t log(p) + (1 - t) log(1 - p))"""


def generated_grad(f):
    """jit(grad) of the batch-mean of the generated per-example loss, exactly as a user would write it."""
    return jax.jit(jax.grad(lambda p, X, T: jnp.mean(jax.vmap(f, (None, 0, 0))(p, X, T)["L"])))


def hand_mlp(p, X, T):
    """The MLP's mean cross-entropy, batched by hand."""
    h = jnp.tanh(X @ p["W_1"].T + p["b_1"])
    y = jax.nn.softmax(h @ p["W_2"].T + p["b_2"], axis=-1)
    return jnp.mean(-jnp.sum(T * jnp.log(y), axis=-1))


def hand_logistic(p, X, T):
    """Logistic regression's mean log-loss, batched by hand."""
    q = jax.nn.sigmoid(X @ p["w"] + p["b"])
    return jnp.mean(-(T * jnp.log(q) + (1 - T) * jnp.log(1 - q)))


def cases():
    """(label, model, params, inputs, hand-written loss, repetitions) for each comparison."""
    rng = np.random.default_rng(0)
    mlp = ainative.model(MLP, header="mlp(x, t) -> y, L")
    params = mlp.init(jax.random.key(0), D=784, H=128, K=10)
    X = jnp.asarray(rng.normal(size=(256, 784)), jnp.float32)
    T = jnp.asarray(np.eye(10)[rng.integers(0, 10, 256)], jnp.float32)
    logistic = ainative.model(LOGISTIC, header="logistic(x, t) -> p, L")
    assert set(logistic.params) == {"w", "b"}, logistic.params
    lparams = {"w": jnp.asarray(rng.normal(size=100) * 0.1, jnp.float32), "b": jnp.float32(0.1)}
    lX = jnp.asarray(rng.normal(size=(1024, 100)), jnp.float32)
    lT = jnp.asarray(rng.integers(0, 2, 1024), jnp.float32)
    return [
        ("MLP 784→128→10, batch 256", mlp, params, (X, T), hand_mlp, 2000),
        ("logistic regression D=100, batch 1024", logistic, lparams, (lX, lT), hand_logistic, 5000),
    ]


def rows() -> list[tuple[str, str, str, str, str]]:
    out = []
    for label, model, p, data, hand, repeats in cases():
        ours, theirs = generated_grad(model.jax_function), jax.jit(jax.grad(hand))
        for a, b in zip(jax.tree.leaves(ours(p, *data)), jax.tree.leaves(theirs(p, *data)), strict=True):
            np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6)
        medians = interleaved({
            "ours": lambda o=ours, p=p, d=data: jax.block_until_ready(o(p, *d)),
            "hand": lambda h=theirs, p=p, d=data: jax.block_until_ready(h(p, *d)),
        }, repeats=repeats, warmup=50)
        ratio = medians["ours"] / medians["hand"]
        out.append((f"JAX forward+grad, {label}", f"{medians['ours'] * 1e6:.0f} µs",
                    f"{medians['hand'] * 1e6:.0f} µs", f"{ratio:.3f}×", "≤ 1.02×"))
    return out
