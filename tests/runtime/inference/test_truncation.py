"""Truncated families and log-density terms in the generated Pyro and NumPyro programs, against closed forms."""

import warnings

import numpy as np
import pytest
import scipy.stats

import ainative
from ainative.runtime.inference import Posterior

BACKENDS = ["pyro", "numpyro"]


def log_joint(model, values: dict, inputs: dict) -> float:
    """The program's joint log density at ``values`` (latents and observed inputs), by the library itself."""
    args = [values.get(name, inputs.get(name)) for name in model.ir.roles.inputs]
    latents = {k: v for k, v in values.items() if k not in model.ir.roles.inputs}
    if model.backend == "pyro":
        import pyro
        import torch

        args = [None if a is None else torch.as_tensor(np.asarray(a, np.float32)) for a in args]
        conditioned = pyro.poutine.condition(model.program, data={k: torch.tensor(v, dtype=torch.float32)
                                                                  for k, v in latents.items()})
        return float(pyro.poutine.trace(conditioned).get_trace(*args).log_prob_sum())
    import jax.numpy as jnp
    from numpyro.infer.util import log_density

    args = [None if a is None else jnp.asarray(a, jnp.float32) for a in args]
    density, _ = log_density(model.program, tuple(args), {}, {k: jnp.asarray(v, jnp.float32)
                                                              for k, v in latents.items()})
    return float(density)


def gradient(model, latents: dict, inputs: dict) -> dict:
    """The gradient of the program's joint log density in each latent, by the library's autodiff (what NUTS uses)."""
    args = [inputs[name] for name in model.ir.roles.inputs]
    if model.backend == "pyro":
        import pyro
        import torch

        values = {k: torch.tensor(v, dtype=torch.float32, requires_grad=True) for k, v in latents.items()}
        args = [torch.as_tensor(np.asarray(a, np.float32)) for a in args]
        trace = pyro.poutine.trace(pyro.poutine.condition(model.program, data=values)).get_trace(*args)
        trace.log_prob_sum().backward()
        return {k: float(v.grad) for k, v in values.items()}
    import jax
    import jax.numpy as jnp
    from numpyro.infer.util import log_density

    args = tuple(jnp.asarray(a, jnp.float32) for a in args)
    grads = jax.grad(lambda p: log_density(model.program, args, {}, p)[0])(
        {k: jnp.asarray(v, jnp.float32) for k, v in latents.items()})
    return {k: float(v) for k, v in grads.items()}


def truncnorm(x, loc, scale, low=-np.inf, high=np.inf):
    return scipy.stats.truncnorm.logpdf(x, (low - loc) / scale, (high - loc) / scale, loc=loc, scale=scale)


@pytest.mark.parametrize("backend", BACKENDS)
def test_truncated_normals_have_the_renormalised_density(backend):
    m = ainative.model("σ ~ 𝒩(1, 2) restricted to [0.5, 4]\ny_i ~ 𝒩(0, σ) restricted to [-1, ∞)  for i in 1..N",
                       header=f"m(y) --backend {backend}")
    y = np.array([0.3, -0.5, 2.0, 7.5])
    for sigma in (0.6, 1.7, 3.9):
        expected = truncnorm(sigma, 1, 2, 0.5, 4) + truncnorm(y, 0, sigma, -1).sum()
        assert log_joint(m, {"sigma": sigma, "y": y}, {}) == pytest.approx(expected, rel=1e-5, abs=1e-5)
    with warnings.catch_warnings():  # NumPyro warns of a value outside the support, whose density is 0
        warnings.simplefilter("ignore", UserWarning)
        assert log_joint(m, {"sigma": 1.0, "y": np.array([-1.5])}, {}) == -np.inf


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("interval", "low", "high", "value"), [
    ("[5, ∞)", 5, np.inf, 5.3), ("(-∞, -6]", -np.inf, -6, -6.2), ("[5, 6]", 5, 6, 5.9)])
def test_a_far_tail_keeps_its_digits_in_float32(backend, interval, low, high, value):
    m = ainative.model(f"y ~ 𝒩(0, 1) restricted to {interval}", header=f"m(y) --backend {backend}")
    assert log_joint(m, {"y": value}, {}) == pytest.approx(truncnorm(value, 0, 1, low, high), rel=1e-4)
    draws = np.asarray(m.sample_prior(500, seed=0)["y"])
    assert draws.min() >= low and draws.max() <= high
    assert abs(draws.mean() - scipy.stats.truncnorm(low, high).mean()) < 0.05


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_cauchy_far_tail_against_scipy(backend):
    m = ainative.model("y ~ Cauchy(1, 2) restricted to [3000, ∞)", header=f"m(y) --backend {backend}")
    cauchy = scipy.stats.cauchy(1, 2)
    assert log_joint(m, {"y": 4500.0}, {}) == pytest.approx(cauchy.logpdf(4500) - cauchy.logsf(3000), rel=1e-4)
    draws = np.asarray(m.sample_prior(2000, seed=0)["y"])
    median = cauchy.isf(cauchy.sf(3000) / 2)  # the truncated family's median
    assert draws.min() >= 3000 and abs(np.mean(draws < median) - 0.5) < 0.05


@pytest.mark.parametrize("backend", BACKENDS)
def test_truncated_cauchy_half_normal_and_half_cauchy_against_scipy(backend):
    m = ainative.model("a = 0.25\nθ ~ Cauchy(0.5, 1.5) restricted to (-∞, 2]\nτ ~ HalfNormal(2) restricted to [1, 3]\n"
                       "λ ~ HalfCauchy(1) restricted to [a, ∞)\ny ~ 𝒩(θ, τ + λ)", header=f"m(y) --backend {backend}")
    cauchy, halfnorm, halfcauchy = scipy.stats.cauchy(0.5, 1.5), scipy.stats.halfnorm(scale=2), scipy.stats.halfcauchy()
    for theta, tau, lam, y in ((-3.0, 1.2, 0.3, 0.1), (1.9, 2.9, 4.0, -2.0)):
        expected = (cauchy.logpdf(theta) - np.log(cauchy.cdf(2)) + halfnorm.logpdf(tau)
                    - np.log(halfnorm.cdf(3) - halfnorm.cdf(1)) + halfcauchy.logpdf(lam) - np.log(halfcauchy.sf(0.25))
                    + scipy.stats.norm.logpdf(y, theta, tau + lam))
        got = log_joint(m, {"theta": theta, "tau": tau, "lambda": lam, "y": y}, {})
        assert got == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_bound_that_is_a_latent_and_a_declared_support(backend):
    m = ainative.model("b ~ 𝒩(0, 1)\nσ ∈ ℝ₊\nσ ~ 𝒩(1, 1)\ny ~ 𝒩(0, σ) restricted to [b, ∞)",
                       header=f"m(y) --backend {backend}")
    b, sigma, y = -0.4, 0.8, 0.9
    expected = (scipy.stats.norm.logpdf(b) + truncnorm(sigma, 1, 1, 0) + truncnorm(y, 0, sigma, b))
    assert log_joint(m, {"b": b, "sigma": sigma, "y": y}, {}) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_gradient_nuts_follows_is_the_truncated_density_s(backend):
    m = ainative.model("β ~ 𝒩(0, 1)\nσ ~ HalfNormal(1)\ny_i ~ 𝒩(β x_i, σ) restricted to [0, ∞)  for i in 1..N",
                       header=f"m(x, y) --backend {backend}")
    x, y = np.array([0.2, 0.5, 1.0]), np.array([0.3, 1.1, 1.9])

    def closed_form(beta, sigma):
        return (scipy.stats.norm.logpdf(beta) + scipy.stats.halfnorm.logpdf(sigma)
                + truncnorm(y, beta * x, sigma, 0).sum())

    got, h = gradient(m, {"beta": 1.5, "sigma": 0.4}, {"x": x, "y": y}), 1e-5
    assert got["beta"] == pytest.approx((closed_form(1.5 + h, 0.4) - closed_form(1.5 - h, 0.4)) / (2 * h), rel=1e-3)
    assert got["sigma"] == pytest.approx((closed_form(1.5, 0.4 + h) - closed_form(1.5, 0.4 - h)) / (2 * h), rel=1e-3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_prior_draws_lie_in_the_interval_with_the_truncated_mean(backend):
    m = ainative.model("σ ~ 𝒩(1, 2) restricted to [0, ∞)\nθ_j ~ 𝒩(0, 1) restricted to [1, 2.5]  for j in 1..J\n"
                       "y_j ~ 𝒩(θ_j, σ)  for j in 1..J", header=f"m(y) --backend {backend}")
    draws = m.sample_prior(4000, seed=3, J=2)
    sigma, theta = np.asarray(draws["sigma"]), np.asarray(draws["theta"])
    assert sigma.min() >= 0 and theta.min() >= 1 and theta.max() <= 2.5
    for values, dist in ((sigma, scipy.stats.truncnorm(-0.5, np.inf, loc=1, scale=2)),
                         (theta, scipy.stats.truncnorm(1, 2.5))):
        error = dist.std() / np.sqrt(values.size)
        assert abs(values.mean() - dist.mean()) < 4 * error


@pytest.mark.parametrize("backend", BACKENDS)
def test_nuts_samples_a_truncated_latent_through_its_support(backend):
    rng = np.random.default_rng(0)
    y = (0.05 * rng.normal(size=20)).astype(np.float32)
    m = ainative.model("σ ~ 𝒩(0, 1) restricted to [0, ∞)\ny_i ~ 𝒩(0, σ)  for i in 1..N",
                       header=f"m(y) --backend {backend}")
    posterior = m.fit({"y": y}, num_chains=1, num_warmup=150, num_samples=200, seed=1, progress=False)
    sigma = posterior.samples["sigma"]
    assert sigma.min() > 0
    assert 0.02 < np.median(sigma) < 0.1
    if backend == "pyro":
        import pyro
        import torch
        from torch.distributions import biject_to

        trace = pyro.poutine.trace(m.program).get_trace(None, N=1)
        support, far_below = trace.nodes["sigma"]["fn"].support, torch.tensor(-30.0)
    else:
        from numpyro import handlers
        from numpyro.distributions import biject_to

        trace = handlers.trace(handlers.seed(m.program, 0)).get_trace(None, N=1)
        support, far_below = trace["sigma"]["fn"].support, np.float32(-30.0)
    assert float(biject_to(support)(far_below)) > 0  # every unconstrained value NUTS proposes maps inside


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_log_density_term_adds_to_the_joint_density(backend):
    m = ainative.model("x ∈ ℝ^N\nμ ~ 𝒩(0, 10)\ntarget += Σ_i -(x_i - μ)² / 2\nlog p += -μ⁴\ny ~ 𝒩(μ, 1)",
                       header=f"m(x, y) --backend {backend}")
    x = np.array([1.0, 2.5, -0.5])
    for mu in (-0.7, 0.4, 1.3):
        expected = scipy.stats.norm.logpdf(mu, 0, 10) - ((x - mu) ** 2).sum() / 2 - mu ** 4 \
            + scipy.stats.norm.logpdf(0.2, mu, 1)
        assert log_joint(m, {"mu": mu, "y": 0.2}, {"x": x}) == pytest.approx(expected, rel=1e-5)
    draws = m.sample_prior(5, x=x)
    assert sorted(draws) == ["mu", "y"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_nuts_recovers_the_distribution_a_log_density_term_gives(backend):
    m = ainative.model("μ ~ 𝒩(0, 10)\ntarget += -(μ - 3)² / 2", header=f"m() -> μ --backend {backend}")
    posterior = m.fit({}, num_chains=1, num_warmup=200, num_samples=400, seed=0, progress=False)
    mu = posterior.samples["mu"]
    precision = 1 + 1 / 100  # the prior's and the term's precisions add; the mean is the precision-weighted 3
    assert abs(mu.mean() - 3 / precision) < 0.3
    assert abs(mu.std() - precision ** -0.5) < 0.2
    assert sorted(posterior.samples) == ["mu"]


def test_exports_serve_a_factor_and_refuse_a_truncated_observation(tmp_path):
    text = "x ∈ ℝ^N; y ∈ ℝ^N\nβ ~ 𝒩(0, 1)\nσ ~ 𝒩(0, 1) restricted to [0, ∞)\ntarget += -β²\ny ~ 𝒩(β x, σ)"
    model = ainative.model(text, header="m(x, y) --backend numpyro")
    rng = np.random.default_rng(0)
    chains = {"beta": rng.normal(size=(1, 40)).astype(np.float32),
              "sigma": np.abs(rng.normal(size=(1, 40))).astype(np.float32)}
    posterior = Posterior("m", "numpyro", "nuts", chains)
    model.export_onnx(tmp_path / "m.onnx", posterior, draws=40)
    import onnxruntime

    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    x = np.array([0.5, -1.0, 2.0], np.float32)
    (mean, *_) = session.run(None, {"x": x})
    np.testing.assert_allclose(mean, chains["beta"].mean() * x, rtol=1e-5)
    truncated = ainative.model(text.replace("y ~ 𝒩(β x, σ)", "y ~ 𝒩(β x, σ) restricted to [0, ∞)"),
                               header="m(x, y) --backend numpyro")
    with pytest.raises(ainative.ExportError, match="restricted to an interval"):
        truncated.export_onnx(tmp_path / "t.onnx", posterior, draws=40)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_dimension_the_cell_binds_sizes_a_declared_latent(backend):
    m = ainative.model("J = 3\nβ ∈ [0, 1]^J\nβ ~ 𝒩(0, 1)\ny ~ 𝒩(Σ β, 1)", header=f"m(y) --backend {backend}")
    beta = np.asarray(m.sample_prior(50, seed=0)["beta"])
    assert beta.shape == (50, 3) and beta.min() >= 0 and beta.max() <= 1
