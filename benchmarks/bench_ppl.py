"""Generated Pyro against hand-written Pyro (SVI step, NUTS), and Pyro against NumPyro, both generated."""

from __future__ import annotations

import time

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro.infer import MCMC, NUTS, SVI, Trace_ELBO
from pyro.infer.autoguide import AutoNormal, init_to_uniform
from timing import interleaved

import ainative

REGRESSION = """X ∈ ℝ^{N×K}
α ~ Normal(0, 10)
β ~ Normal(0, 1);  β ∈ ℝ^K
σ ~ HalfNormal(1)
y ~ Normal(α + X β, σ)"""

EIGHT_SCHOOLS = """J = 8
μ ~ 𝒩(0, 5)
τ ~ HalfCauchy(5)
η_j ~ 𝒩(0, 1)          for j in 1..J
θ_j = μ + τ η_j        for j in 1..J
y_j ~ 𝒩(θ_j, σ_j)      for j in 1..J"""


def hand_regression(X, y=None):
    alpha = pyro.sample("alpha", dist.Normal(0.0, 10.0))
    beta = pyro.sample("beta", dist.Normal(0.0, 1.0).expand([X.shape[1]]).to_event(1))
    sigma = pyro.sample("sigma", dist.HalfNormal(1.0))
    with pyro.plate("N", X.shape[0]):
        return pyro.sample("y", dist.Normal(alpha + X @ beta, sigma), obs=y)


def hand_eight_schools(sigma, y=None):
    mu = pyro.sample("mu", dist.Normal(0.0, 5.0))
    tau = pyro.sample("tau", dist.HalfCauchy(5.0))
    with pyro.plate("J", 8):
        eta = pyro.sample("eta", dist.Normal(0.0, 1.0))
        theta = pyro.deterministic("theta", mu + tau * eta)
        return pyro.sample("y", dist.Normal(theta, sigma), obs=y)


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 5)).astype(np.float32)
    y = (0.5 + X @ rng.normal(size=5) + 0.3 * rng.normal(size=500)).astype(np.float32)
    schools = (np.array([15.0, 10, 16, 11, 9, 11, 10, 18], np.float32),
               np.array([28.0, 8, -3, 7, -1, 1, 18, 12], np.float32))
    return {
        "regression": ((REGRESSION, "regression(X, y)"), hand_regression,
                       (torch.as_tensor(X), torch.as_tensor(y)), {"X": X, "y": y}),
        "eight schools": ((EIGHT_SCHOOLS, "eight_schools(σ, y)"), hand_eight_schools,
                          tuple(torch.as_tensor(a) for a in schools), {"sigma": schools[0], "y": schools[1]}),
    }


def svi_step(model, args):
    """A timed SVI step in its own parameter store, so the two contenders never share parameters."""
    store = pyro.get_param_store()
    with store.scope() as state:
        svi = SVI(model, AutoNormal(model, init_loc_fn=init_to_uniform), pyro.optim.Adam({"lr": 0.01}),
                  Trace_ELBO())
        svi.step(*args)

    def step():
        with store.scope(state):
            start = time.perf_counter()
            svi.step(*args)
            return time.perf_counter() - start

    return step


def nuts_seconds(model, args, warmup: int, samples: int) -> float:
    pyro.set_rng_seed(0)
    start = time.perf_counter()
    MCMC(NUTS(model), num_samples=samples, warmup_steps=warmup, disable_progbar=True).run(*args)
    return time.perf_counter() - start


def rows() -> list[tuple[str, str, str, str, str]]:
    out = []
    cases = data()
    for label, ((text, header), hand, args, _) in cases.items():
        ours, theirs = svi_step(ainative.model(text, header=header).program, args), svi_step(hand, args)
        medians = interleaved({"ours": ours, "hand": theirs}, repeats=300, timed=True)
        out.append((f"Pyro SVI step, {label}", f"{medians['ours'] * 1e3:.2f} ms", f"{medians['hand'] * 1e3:.2f} ms",
                    f"{medians['ours'] / medians['hand']:.3f}×", "≤ 1.05×"))
    for label, ((text, header), hand, args, _) in cases.items():
        program = ainative.model(text, header=header).program
        medians = interleaved({"ours": lambda p=program, a=args: nuts_seconds(p, a, 100, 200),
                               "hand": lambda h=hand, a=args: nuts_seconds(h, a, 100, 200)}, repeats=3, timed=True)
        rate = {k: 200 / v for k, v in medians.items()}
        out.append((f"Pyro NUTS samples/s (100+200), {label}", f"{rate['ours']:.0f}/s", f"{rate['hand']:.0f}/s",
                    f"{medians['ours'] / medians['hand']:.3f}× time", "≤ 1.05×"))
    for label, ((text, header), _, _, arrays) in cases.items():
        seconds = {}
        for backend in ("pyro", "numpyro"):
            m = ainative.model(text, header=f"{header} --backend {backend}")
            start = time.perf_counter()
            m.fit(arrays, method="nuts", num_warmup=500, num_samples=500, progress=False)
            seconds[backend] = time.perf_counter() - start
        out.append((f"NUTS 500+500, {label}: NumPyro vs Pyro (both generated)", f"{seconds['numpyro']:.1f} s",
                    f"{seconds['pyro']:.1f} s (Pyro)", f"{seconds['numpyro'] / seconds['pyro']:.2f}×",
                    "informative"))
    return out
