"""Recurrences against the same loops written by hand: ``lax.scan`` in JAX (jitted forward+grad over a batch),
and NUTS in NumPyro on a GARCH model and on a hidden Markov model marginalised by its forward algorithm.

Each hand-written counterpart is what a JAX user writes from the same equations: a step function
over the carry and the row at ``t``, scanned over the sequence, batched with ``vmap``; the GARCH
model is the NumPyro program a user would write with ``lax.scan``.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from timing import interleaved

import ainative

RNN = """x ∈ ℝ^{T×D}
h ∈ ℝ^{T×H}
W ∈ ℝ^{H×H}
U ∈ ℝ^{H×D}
b ∈ ℝ^H
h_0 = 0
h_t = tanh(W h_{t-1} + U x_t + b)  for t in 1..T
L = Σ h_T²"""

GRU = """x ∈ ℝ^{T×D}
h ∈ ℝ^{T×H}
W_r, W_z, W_n ∈ ℝ^{H×D}
U_r, U_z, U_n ∈ ℝ^{H×H}
b_r, b_z, b_n ∈ ℝ^H
h_0 = 0
r_t = σ(W_r x_t + U_r h_{t-1} + b_r)  for t in 1..T
z_t = σ(W_z x_t + U_z h_{t-1} + b_z)  for t in 1..T
n_t = tanh(W_n x_t + b_n + r_t ⊙ (U_n h_{t-1}))  for t in 1..T
h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}  for t in 1..T
L = Σ h_T²"""

LSTM = """x ∈ ℝ^{T×D}
h, c ∈ ℝ^{T×H}
W_f, W_i, W_o, W_g ∈ ℝ^{H×D}
U_f, U_i, U_o, U_g ∈ ℝ^{H×H}
b_f, b_i, b_o, b_g ∈ ℝ^H
h_0 = 0
c_0 = 0
f_t = σ(W_f x_t + U_f h_{t-1} + b_f)  for t in 1..T
i_t = σ(W_i x_t + U_i h_{t-1} + b_i)  for t in 1..T
o_t = σ(W_o x_t + U_o h_{t-1} + b_o)  for t in 1..T
g_t = tanh(W_g x_t + U_g h_{t-1} + b_g)  for t in 1..T
c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t  for t in 1..T
h_t = o_t ⊙ tanh(c_t)  for t in 1..T
L = Σ h_T²"""

GARCH_LOSS = """r ∈ ℝ^T
v_1 = 0.5
v_t = ω + α (r_{t-1} - μ)² + β v_{t-1}  for t in 2..T
L = Σ_t ((r_t - μ)² / v_t + log(v_t))"""

GARCH = """r ∈ ℝ^T
μ ~ 𝒩(0, 1)
ω ~ HalfNormal(0.5)
α ~ Uniform(0, 1)
β ~ Uniform(0, 1)
v_1 = 0.5
v_t = ω + α (r_{t-1} - μ)² + β v_{t-1}  for t in 2..T
r ~ 𝒩(μ, √v)"""


def hand_rnn(p, x):
    def step(h, x_t):
        h = jnp.tanh(p["W"] @ h + p["U"] @ x_t + p["b"])
        return h, h
    h, _ = lax.scan(step, jnp.zeros(p["b"].shape[0]), x)
    return jnp.sum(h**2)


def hand_gru(p, x):
    def step(h, x_t):
        r = jax.nn.sigmoid(p["W_r"] @ x_t + p["U_r"] @ h + p["b_r"])
        z = jax.nn.sigmoid(p["W_z"] @ x_t + p["U_z"] @ h + p["b_z"])
        n = jnp.tanh(p["W_n"] @ x_t + p["b_n"] + r * (p["U_n"] @ h))
        h = (1 - z) * n + z * h
        return h, h
    h, _ = lax.scan(step, jnp.zeros(p["b_r"].shape[0]), x)
    return jnp.sum(h**2)


def hand_lstm(p, x):
    def step(carry, x_t):
        h, c = carry
        f = jax.nn.sigmoid(p["W_f"] @ x_t + p["U_f"] @ h + p["b_f"])
        i = jax.nn.sigmoid(p["W_i"] @ x_t + p["U_i"] @ h + p["b_i"])
        o = jax.nn.sigmoid(p["W_o"] @ x_t + p["U_o"] @ h + p["b_o"])
        g = jnp.tanh(p["W_g"] @ x_t + p["U_g"] @ h + p["b_g"])
        c = f * c + i * g
        h = o * jnp.tanh(c)
        return (h, c), h
    zeros = jnp.zeros(p["b_f"].shape[0])
    (h, _), _ = lax.scan(step, (zeros, zeros), x)
    return jnp.sum(h**2)


def hand_garch_loss(p, r):
    def step(v, r_previous):
        v = p["omega"] + p["alpha"] * (r_previous - p["mu"]) ** 2 + p["beta"] * v
        return v, v
    _, rest = lax.scan(step, jnp.asarray(0.5), r[:-1])
    v = jnp.concatenate([jnp.array([0.5]), rest])
    return jnp.sum((r - p["mu"]) ** 2 / v + jnp.log(v))


def hand_garch(r):
    import numpyro
    import numpyro.distributions as dist

    mu = numpyro.sample("mu", dist.Normal(0.0, 1.0))
    omega = numpyro.sample("omega", dist.HalfNormal(0.5))
    alpha = numpyro.sample("alpha", dist.Uniform(0.0, 1.0))
    beta = numpyro.sample("beta", dist.Uniform(0.0, 1.0))

    def step(v, r_previous):
        v = omega + alpha * (r_previous - mu) ** 2 + beta * v
        return v, v
    _, rest = lax.scan(step, jnp.asarray(0.5), r[:-1])
    v = numpyro.deterministic("v", jnp.concatenate([jnp.array([0.5]), rest]))
    with numpyro.plate("T", r.shape[0]):
        numpyro.sample("r", dist.Normal(mu, jnp.sqrt(v)), obs=r)


HMM = """y ∈ ℝ^T
K = 2
m ~ 𝒩(0, 5)
d ~ HalfNormal(3)
σ ~ HalfNormal(2)
s_k ~ Beta(2, 2)  for k in 1..K
μ_k = m + (k - 1) d  for k in 1..K
L_{j,k} = log(δ_{jk} s_j + (1 - δ_{jk}) (1 - s_j))  for j in 1..K, k in 1..K
e_{t,k} = -(y_t - μ_k)² / (2σ²) - log(σ) - log(2π) / 2
a_1 = e_1 - log(K)
a_{t,k} = logsumexp_j(a_{t-1,j} + L_{j,k}) + e_{t,k}  for t in 2..T, k in 1..K
target += logsumexp_k a_{T,k}"""


def hand_hmm(y):
    import numpyro
    import numpyro.distributions as dist
    from jax.scipy.special import logsumexp

    m = numpyro.sample("m", dist.Normal(0.0, 5.0))
    d = numpyro.sample("d", dist.HalfNormal(3.0))
    sigma = numpyro.sample("sigma", dist.HalfNormal(2.0))
    with numpyro.plate("k", 2):
        s = numpyro.sample("s", dist.Beta(2.0, 2.0))
    mu = m + jnp.arange(2) * d
    log_transition = jnp.log(jnp.where(jnp.eye(2, dtype=bool), s[:, None], 1 - s[:, None]))
    emission = dist.Normal(mu, sigma).log_prob(y[:, None])

    def step(a, e_t):
        return logsumexp(a[:, None] + log_transition, axis=0) + e_t, None
    a, _ = lax.scan(step, emission[0] - jnp.log(2.0), emission[1:])
    numpyro.factor("loglik", logsumexp(a))


HMM_CHAIN = """y ∈ ℝ^T;  a, lo, hi ∈ ℝ^K
ρ ~ Dirichlet(a)
Θ_k ~ Dirichlet(a)  for k in 1..K
μ_k ~ Uniform(lo_k, hi_k)  for k in 1..K
σ ~ HalfNormal(2)
z_1 ~ Categorical(ρ)
z_t ~ Categorical(Θ_{z_{t-1}+1})  for t in 2..T
y_t ~ 𝒩(μ_{z_t+1}, σ)  for t in 1..T"""


def hand_hmm_chain(y, a, lo, hi):
    """The same HMM by hand: its chain summed out by the forward algorithm in one ``lax.scan``."""
    import numpyro
    import numpyro.distributions as dist
    from jax.scipy.special import logsumexp

    rho = numpyro.sample("rho", dist.Dirichlet(a))
    with numpyro.plate("k", 2):
        theta = numpyro.sample("Theta", dist.Dirichlet(a))
        mu = numpyro.sample("mu", dist.Uniform(lo, hi))
    sigma = numpyro.sample("sigma", dist.HalfNormal(2.0))
    emission = dist.Normal(mu, sigma).log_prob(y[:, None])
    log_transition = jnp.log(theta)

    def step(alpha, e_t):
        return logsumexp(alpha[:, None] + log_transition, axis=0) + e_t, None
    alpha, _ = lax.scan(step, jnp.log(rho) + emission[0], emission[1:])
    numpyro.factor("loglik", logsumexp(alpha))


def _params(model, rng, **dims) -> dict:
    return {k: (rng.normal(size=np.shape(v)) * 0.2).astype(np.float32) for k, v in model.init(0, **dims).items()}


def scan_rows() -> list[tuple[str, str, str, str, str]]:
    rng = np.random.default_rng(0)
    f = np.float32
    cases = [
        ("Elman RNN, T=100, H=64, D=16, batch 32", RNN, hand_rnn, {"D": 16, "H": 64}, (32, 100, 16)),
        ("GRU, T=100, H=64, D=16, batch 32", GRU, hand_gru, {"D": 16, "H": 64}, (32, 100, 16)),
        ("LSTM, T=100, H=64, D=16, batch 32", LSTM, hand_lstm, {"D": 16, "H": 64}, (32, 100, 16)),
        ("GARCH(1,1) variances and loss, T=1000, batch 8", GARCH_LOSS, hand_garch_loss, {}, (8, 1000)),
    ]
    out = []
    for label, body, hand, dims, shape in cases:
        model = ainative.model(body, header="seq(" + ("r" if "GARCH" in label else "x") + ") -> L")
        if "GARCH" in label:
            params = {"mu": f(0.1), "omega": f(0.2), "alpha": f(0.2), "beta": f(0.6)}
        else:
            params = _params(model, rng, **dims)
        inputs = rng.normal(size=shape).astype(f)
        function = model.jax_function
        ours = jax.jit(jax.grad(lambda p, x, fn=function: jnp.mean(jax.vmap(fn, (None, 0))(p, x))))
        theirs = jax.jit(jax.grad(lambda p, x, h=hand: jnp.mean(jax.vmap(h, (None, 0))(p, x))))
        for a, b in zip(jax.tree.leaves(ours(params, inputs)), jax.tree.leaves(theirs(params, inputs)), strict=True):
            np.testing.assert_allclose(a, b, rtol=2e-3, atol=1e-4)
        medians = interleaved({
            "ours": lambda o=ours, p=params, x=inputs: jax.block_until_ready(o(p, x)),
            "hand": lambda h=theirs, p=params, x=inputs: jax.block_until_ready(h(p, x)),
        }, repeats=100, warmup=5)
        out.append((f"JAX forward+grad of a scan, {label}", f"{medians['ours'] * 1e3:.2f} ms",
                    f"{medians['hand'] * 1e3:.2f} ms", f"{medians['ours'] / medians['hand']:.3f}×", "≤ 1.05×"))
    return out


def _simulated_series(steps: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    v, r = 0.5, np.empty(steps)
    r[0] = 0.2 + np.sqrt(v) * rng.normal()
    for t in range(1, steps):
        v = 0.1 + 0.2 * (r[t - 1] - 0.2) ** 2 + 0.7 * v
        r[t] = 0.2 + np.sqrt(v) * rng.normal()
    return r.astype(np.float32)


def _simulated_states(steps: int) -> np.ndarray:
    rng = np.random.default_rng(6)
    state, y = 0, np.empty(steps)
    for t in range(steps):
        if t and rng.uniform() >= (0.9, 0.8)[state]:
            state = 1 - state
        y[t] = (-1.0, 2.0)[state] + 0.7 * rng.normal()
    return y.astype(np.float32)


def nuts_rows() -> list[tuple[str, str, str, str, str]]:
    """The generated program and the hand-written one under NumPyro's MCMC, both keeping only the latents (as
    ``fit``'s sampler does); ``fit`` then computes every deterministic site for all draws, timed apart."""
    from numpyro import handlers
    from numpyro.infer import MCMC, NUTS
    from numpyro.infer.util import constrain_fn

    from ainative.runtime.inference import numpyro_backend

    def seconds(model, args) -> float:
        mcmc = MCMC(NUTS(model), num_warmup=300, num_samples=300, progress_bar=False,
                    postprocess_fn=lambda z: constrain_fn(handlers.seed(model, 0), args, {}, z))
        start = time.perf_counter()
        mcmc.run(jax.random.key(0), *args)
        jax.block_until_ready(mcmc.get_samples())
        return time.perf_counter() - start

    states = _simulated_states(300)
    priors = {"a": np.ones(2, np.float32), "lo": np.array([-5.0, 0.0], np.float32),
              "hi": np.array([0.0, 5.0], np.float32)}
    out = []
    for label, header, body, hand, data in (
            ("GARCH(1,1), T=1000", "seq(r)", GARCH, hand_garch, {"r": _simulated_series(1000)}),
            ("2-state HMM (forward algorithm), T=300", "seq(y)", HMM, hand_hmm, {"y": states}),
            ("2-state HMM (a chain of labels), T=300", "seq(y, a, lo, hi)", HMM_CHAIN, hand_hmm_chain,
             {"y": states, **priors})):
        model = ainative.model(body, header=f"{header} --backend numpyro")
        args = tuple(jnp.asarray(v) for v in data.values())
        medians = interleaved({"ours": lambda p=model.program, a=args: seconds(p, a),
                               "hand": lambda h=hand, a=args: seconds(h, a)}, repeats=3, timed=True, warmup=1)
        start = time.perf_counter()
        if model.ir.chains:
            model.fit(data, num_warmup=300, num_samples=300, seed=0, progress=False)
            what = "fit, labels drawn from their posterior"
        else:
            numpyro_backend.nuts(model.program, list(args), {}, sites=[*model.latents, *model.ir.roles.deterministic],
                                 summed=(), num_warmup=300, num_samples=300, num_chains=1, seed=0, progress=False)
            what = "fit with every deterministic site"
        fit = time.perf_counter() - start
        out.append((f"NumPyro NUTS 300+300, {label} ({what}: {fit:.2f} s)",
                    f"{medians['ours']:.2f} s", f"{medians['hand']:.2f} s", f"{medians['ours'] / medians['hand']:.3f}×",
                    "≤ 1.1×"))
    return out


def rows() -> list[tuple[str, str, str, str, str]]:
    return scan_rows() + nuts_rows()


if __name__ == "__main__":
    for row in rows():
        print(" | ".join(row))
