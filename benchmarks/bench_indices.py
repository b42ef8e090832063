"""Statements written with indices against the same layers written by hand in JAX: jitted forward+grad.

Each model is the notation as papers write it (``K_{ij}``, ``Σ_k w_k x_{t+k-1}``, ``softmax_s``); each
hand-written counterpart is what a JAX user would write (broadcasting, ``einsum``,
``lax.conv_general_dilated``, ``lax.reduce_window``, a gather). Both are batched with ``vmap``
over examples and differentiated with respect to every parameter.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from timing import interleaved

import ainative

CASES = {
    "hierarchical regression (gather by group), N=2000, J=50": (
        "reg(g, x, y) -> L",
        "g ∈ {1..J}^N\nx, y ∈ ℝ^N\na ∈ ℝ^J\nr_i = y_i - a_{g_i} - b x_i\nL = Σ_i r_i²",
        lambda p, g, x, y: jnp.sum((y - p["a"][g - 1] - p["b"] * x) ** 2),
    ),
    "GP kernel K_ij, N=128": (
        "gp(x, y) -> L",
        "x, y ∈ ℝ^N\nK_{ij} = α² exp(-(x_i - x_j)² / (2ℓ²))\nL = Σ_i Σ_j K_{ij} y_i y_j",
        lambda p, x, y: y @ (p["alpha"] ** 2 * jnp.exp(-(x[:, None] - x[None, :]) ** 2 / (2 * p["ell"] ** 2))) @ y,
    ),
    "multi-head attention, T=32, D=64, 4 heads": (
        "mha(x) -> L",
        "x ∈ ℝ^{T×D}\nWq, Wk, Wv ∈ ℝ^{H×E×D}\nWo ∈ ℝ^{D×H×E}\n"
        "q_{h,t,e} = Σ_d Wq_{h,e,d} x_{t,d}\nk_{h,t,e} = Σ_d Wk_{h,e,d} x_{t,d}\nv_{h,t,e} = Σ_d Wv_{h,e,d} x_{t,d}\n"
        "a_{h,t,s} = softmax_s(Σ_e q_{h,t,e} k_{h,s,e} / 4)\n"
        "o_{t,d} = Σ_h Σ_e Wo_{d,h,e} Σ_s a_{h,t,s} v_{h,s,e}\nL = Σ_t Σ_d o_{t,d}²",
        None,
    ),
    "conv1d, T=512, K=7": (
        "conv(x) -> L",
        "x ∈ ℝ^T\nw ∈ ℝ^K\ny_t = Σ_k w_k x_{t+k-1}  for t in 1..T-K+1\nL = Σ_t y_t²",
        None,
    ),
    "conv2d 3→8 channels 3×3, 28×28": (
        "conv2(X) -> L",
        "X ∈ ℝ^{C×H×V}\nW ∈ ℝ^{O×C×P×Q}\n"
        "Y_{o,i,j} = Σ_{c,p,q} W_{o,c,p,q} X_{c,i+p-1,j+q-1}  for o in 1..O, i in 1..H-P+1, j in 1..V-Q+1\n"
        "L = Σ_o Σ_i Σ_j Y_{o,i,j}²",
        None,
    ),
    "max pooling 2, T=1024": (
        "pool(x) -> L",
        "x ∈ ℝ^T\nS = 512\nm_t = max_{k=1..2} c x_{2t+k-2}  for t in 1..S\nL = Σ_t m_t²",
        lambda p, x: jnp.sum(lax.reduce_window(p["c"] * x, -jnp.inf, lax.max, (2,), (2,), "VALID") ** 2),
    ),
    "embedding + mean pooling, L=64, V=1000, D=64": (
        "bag(tokens) -> L",
        "tokens ∈ {1..V}^Q\nE ∈ ℝ^{V×D}\nf_d = mean_l E_{tokens_l,d}\nL = Σ_d f_d²",
        lambda p, tokens: jnp.sum(jnp.mean(p["E"][tokens - 1], axis=0) ** 2),
    ),
}


def hand_attention(p, x):
    q, k, v = (jnp.einsum("hed,td->hte", p[n], x) for n in ("Wq", "Wk", "Wv"))
    a = jax.nn.softmax(jnp.einsum("hte,hse->hts", q, k) / 4, axis=-1)
    return jnp.sum(jnp.einsum("dhe,hts,hse->td", p["Wo"], a, v) ** 2)


def hand_conv1d(p, x):
    y = lax.conv_general_dilated(x[None, None], p["w"][None, None], (1,), "VALID")
    return jnp.sum(y**2)


def hand_conv2d(p, X):
    return jnp.sum(lax.conv_general_dilated(X[None], p["W"], (1, 1), "VALID") ** 2)


HAND = {"multi-head attention, T=32, D=64, 4 heads": hand_attention, "conv1d, T=512, K=7": hand_conv1d,
        "conv2d 3→8 channels 3×3, 28×28": hand_conv2d}


def data(label: str, rng):
    """(params, inputs) of one case, 8 examples per batch."""
    f = np.float32
    if label.startswith("hierarchical"):
        return ({"a": rng.normal(size=50).astype(f), "b": f(0.3)},
                (rng.integers(1, 51, size=(8, 2000)).astype(np.int32), rng.normal(size=(8, 2000)).astype(f),
                 rng.normal(size=(8, 2000)).astype(f)))
    if label.startswith("GP"):
        return {"alpha": f(1.2), "ell": f(0.7)}, (rng.normal(size=(8, 128)).astype(f),
                                                   rng.normal(size=(8, 128)).astype(f))
    if label.startswith("multi-head"):
        return ({n: (rng.normal(size=(4, 16, 64)) * 0.1).astype(f) for n in ("Wq", "Wk", "Wv")}
                | {"Wo": (rng.normal(size=(64, 4, 16)) * 0.1).astype(f)}, (rng.normal(size=(8, 32, 64)).astype(f),))
    if label.startswith("conv1d"):
        return {"w": rng.normal(size=7).astype(f)}, (rng.normal(size=(8, 512)).astype(f),)
    if label.startswith("conv2d"):
        return {"W": (rng.normal(size=(8, 3, 3, 3)) * 0.3).astype(f)}, (rng.normal(size=(8, 3, 28, 28)).astype(f),)
    if label.startswith("max pooling"):
        return {"c": f(1.5)}, (rng.normal(size=(8, 1024)).astype(f),)
    return {"E": (rng.normal(size=(1000, 64)) * 0.1).astype(f)}, (rng.integers(1, 1001, size=(8, 64)).astype(np.int32),)


def rows() -> list[tuple[str, str, str, str, str]]:
    out = []
    rng = np.random.default_rng(0)
    for label, (header, body, hand) in CASES.items():
        model = ainative.model(body, header=header)
        params, inputs = data(label, rng)
        hand = hand or HAND[label]
        function = model.jax_function
        axes = (None,) + (0,) * len(inputs)
        ours = jax.jit(jax.grad(lambda p, *xs, f=function, a=axes: jnp.mean(jax.vmap(f, a)(p, *xs))))
        theirs = jax.jit(jax.grad(lambda p, *xs, h=hand, a=axes: jnp.mean(jax.vmap(h, a)(p, *xs))))
        for a, b in zip(jax.tree.leaves(ours(params, *inputs)), jax.tree.leaves(theirs(params, *inputs)), strict=True):
            np.testing.assert_allclose(a, b, rtol=2e-3, atol=1e-4)
        medians = interleaved({
            "ours": lambda o=ours, p=params, d=inputs: jax.block_until_ready(o(p, *d)),
            "hand": lambda h=theirs, p=params, d=inputs: jax.block_until_ready(h(p, *d)),
        }, repeats=300, warmup=20)
        ratio = medians["ours"] / medians["hand"]
        out.append((f"JAX forward+grad with indices, {label}", f"{medians['ours'] * 1e6:.0f} µs",
                    f"{medians['hand'] * 1e6:.0f} µs", f"{ratio:.3f}×", "≤ 1.1×"))
    return out


if __name__ == "__main__":
    for row in rows():
        print(" | ".join(row))
