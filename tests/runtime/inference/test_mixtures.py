"""Mixtures end to end: a Categorical latent that picks a component (summed out by NUTS, then drawn from its
posterior), and its posterior class probabilities against a hand computation."""

import numpy as np
import pytest
import scipy.stats

import ainative
from tests.frontend.test_discrete import GMM

BACKENDS = ["pyro", "numpyro"]
BOUNDS = {"lo": np.array([-5.0, 0.0]), "hi": np.array([0.0, 5.0])}


def simulated(seed=0, n=60):
    """Two well-separated components (-2 and 2, sd 0.7), and three points between them whose class is uncertain."""
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, n)
    y = np.where(z == 0, -2.0, 2.0) + 0.7 * rng.standard_normal(n)
    return np.concatenate([y, [-0.3, 0.0, 0.4]]).astype(np.float32), np.array([-2.0, 2.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_gaussian_mixture_recovers_its_components_and_class_probabilities(backend, tmp_path):
    y, truth = simulated()
    model = ainative.model(GMM, header=f"gmm(lo, hi, a, y) --backend {backend}")
    # the components are told apart by their priors (μ₁ below 0, μ₂ above), so their labels cannot switch
    posterior = model.fit({**BOUNDS, "a": np.ones(2), "y": y}, num_chains=1, num_warmup=150, num_samples=200,
                          seed=1, progress=False)
    draws = posterior.samples
    mu, sd = draws["mu"].mean(0), draws["mu"].std(0)
    # the simulation's means lie within a few posterior sds of the posterior mean
    assert np.all(np.abs(mu - truth) < 4 * sd), (mu, sd)
    probabilities = posterior.class_probabilities("z")
    assert probabilities.shape == (len(y), 2)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0)
    # P(z_i = k | y) by hand: θ_k N(y_i; μ_k, σ) normalised, per draw and averaged, and at the posterior means
    def by_hand(theta, mu, sigma, points):
        weighted = theta[..., None, :] * scipy.stats.norm.pdf(points[:, None], mu[..., None, :], sigma[..., None, None])
        return weighted / weighted.sum(-1, keepdims=True)

    points = y[-3:]
    reported = probabilities[-3:]
    count = len(draws["sigma"])
    error = np.sqrt(np.maximum(reported * (1 - reported), 0.02) / count)
    averaged = by_hand(draws["theta"], draws["mu"], draws["sigma"], points).mean(0)
    np.testing.assert_array_less(np.abs(reported - averaged), 4 * error)
    at_means = by_hand(draws["theta"].mean(0), mu, np.asarray(draws["sigma"].mean()), points)
    np.testing.assert_array_less(np.abs(reported - at_means), 4 * error + 0.05)
    assert 0.05 < reported[1, 0] < 0.95
    # a served model would predict one location per point: the labels are per point, so the export refuses
    with pytest.raises(ainative.ExportError, match="written with indices"):
        model.export_onnx(tmp_path / "gmm.onnx", posterior)
    # the points far from the boundary are certain
    far = np.abs(y[:-3]) > 1.5
    assert np.all(np.abs(probabilities[:-3][far] - (y[:-3][far, None] > 0) * [0, 1] - (y[:-3][far, None] < 0)
                         * [1, 0]) < 0.05)


def test_class_probabilities_are_the_share_of_draws_in_each_class_and_only_for_labels():
    from ainative.runtime.inference import Posterior

    labels = np.array([[[0, 2], [1, 2], [0, 2], [0, 1]]])  # one chain, four draws of two labels, K = 3
    posterior = Posterior("gmm", "numpyro", "nuts", {"z": labels, "mu": np.zeros((1, 4, 3))}, classes={"z": 3})
    np.testing.assert_allclose(posterior.class_probabilities("z"), [[0.75, 0.25, 0], [0, 0.25, 0.75]])
    with pytest.raises(ainative.ModelError, match=r"mu is not a class-label latent of gmm \(those it has: z\)"):
        posterior.class_probabilities("mu")


SAME = "y ∈ ℝ^N;  w, μ, σ ∈ ℝ^K\ny ~ MixtureSameFamily(Categorical(w), 𝒩(μ, σ))"
LISTED = "y ∈ ℝ^N;  w ∈ ℝ^2\ny ~ Mixture(w, 𝒩(μ₁, σ₁), StudentT(3, μ₂, σ₂))"
NORMALS = "y ∈ ℝ^N;  w ∈ ℝ^2\ny ~ Mixture(w, 𝒩(μ₁, σ₁), 𝒩(μ₂, σ₂))"
W, MU, SIGMA = np.array([0.3, 0.7]), np.array([-1.0, 2.0]), np.array([0.5, 1.5])
POINTS = np.array([-1.2, 0.0, 0.7, 2.5, 4.0])


def log_density(model, backend, args):
    """The log joint of the generated program with every variable observed (here: y's log likelihood)."""
    if backend == "pyro":
        import pyro
        import torch

        trace = pyro.poutine.trace(model.program).get_trace(*(torch.as_tensor(a, dtype=torch.float32) for a in args))
        return float(trace.log_prob_sum())
    import jax.numpy as jnp
    from numpyro.infer.util import log_density as numpyro_log_density

    return float(numpyro_log_density(model.program, tuple(jnp.asarray(a, jnp.float32) for a in args), {}, {})[0])


def by_hand(components):
    """Σ_i log Σ_k w_k p_k(y_i), with scipy's densities and logsumexp."""
    logs = np.stack([np.log(W[k]) + c.logpdf(POINTS) for k, c in enumerate(components)])
    return scipy.special.logsumexp(logs, axis=0).sum()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_log_density_of_a_same_family_mixture_is_the_logsumexp_over_components(backend):
    model = ainative.model(SAME, header=f"same(w, μ, σ, y) --backend {backend}")
    expected = by_hand([scipy.stats.norm(m, s) for m, s in zip(MU, SIGMA)])
    assert log_density(model, backend, (W, MU, SIGMA, POINTS)) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(("backend", "text"), [("numpyro", LISTED), ("pyro", NORMALS), ("numpyro", NORMALS)])
def test_the_log_density_of_a_listed_mixture_is_the_logsumexp_over_components(backend, text):
    model = ainative.model(text, header=f"listed(w, μ₁, σ₁, μ₂, σ₂, y) --backend {backend}")
    second = scipy.stats.t(3, MU[1], SIGMA[1]) if "StudentT" in text else scipy.stats.norm(MU[1], SIGMA[1])
    expected = by_hand([scipy.stats.norm(MU[0], SIGMA[0]), second])
    args = (W, MU[0], SIGMA[0], MU[1], SIGMA[1], POINTS)
    assert log_density(model, backend, args) == pytest.approx(expected, rel=1e-5)


def test_pyro_refuses_a_mixture_of_different_families_at_the_component():
    model = ainative.model(LISTED, header="listed(w, μ₁, σ₁, μ₂, σ₂, y) --backend pyro")
    with pytest.raises(ainative.ModelError, match="Pyro has no mixture of Normal and StudentT") as caught:
        model.source("pyro")
    assert (caught.value.span.line, caught.value.span.column) == (2, 27)


@pytest.mark.parametrize("backend", BACKENDS)
def test_prior_draws_of_a_mixture_have_its_moments(backend):
    model = ainative.model(SAME, header=f"same(w, μ, σ, y) --backend {backend}")
    draws = model.sample_prior(4000, w=W, mu=MU, sigma=SIGMA, N=5, seed=3)["y"].ravel()
    mean = (W * MU).sum()
    variance = (W * (SIGMA**2 + MU**2)).sum() - mean**2
    assert abs(draws.mean() - mean) < 4 * np.sqrt(variance / draws.size)
    # the variance of a sample variance is (m4 - σ⁴)/n; the mixture's fourth central moment by hand
    central = MU - mean
    m4 = (W * (central**4 + 6 * central**2 * SIGMA**2 + 3 * SIGMA**4)).sum()
    assert abs(draws.var() - variance) < 4 * np.sqrt((m4 - variance**2) / draws.size)
    # and the share of draws below the components' boundary is the mixture's CDF there
    cdf = (W * scipy.stats.norm.cdf(0.5, MU, SIGMA)).sum()
    assert abs((draws < 0.5).mean() - cdf) < 4 * np.sqrt(cdf * (1 - cdf) / draws.size)


@pytest.mark.parametrize("backend", BACKENDS)
def test_nuts_fits_a_mixture_density_and_its_export_is_refused(backend, tmp_path):
    text = "y ∈ ℝ^N;  w, m ∈ ℝ^K\nμ_k ~ 𝒩(m_k, 1)  for k in 1..K\ny ~ MixtureSameFamily(Categorical(w), 𝒩(μ, 0.5))"
    model = ainative.model(text, header=f"fitted(w, m, y) --backend {backend}")
    rng = np.random.default_rng(0)
    y = np.where(rng.random(40) < 0.5, -2.0, 2.0) + 0.5 * rng.standard_normal(40)
    posterior = model.fit({"w": np.array([0.5, 0.5]), "m": np.array([-2.0, 2.0]), "y": y}, num_chains=1, num_warmup=100,
                          num_samples=100, seed=0, progress=False)
    mu = posterior.samples["mu"]
    assert mu.shape == (100, 2) and np.all(np.isfinite(mu))
    assert mu.mean(0)[0] < -1 and mu.mean(0)[1] > 1
    with pytest.raises(ainative.ExportError, match="MixtureSameFamily has no location"):
        model.export_onnx(tmp_path / "fitted.onnx", posterior)


@pytest.mark.parametrize(("backend", "text"), [("numpyro", LISTED), ("pyro", NORMALS), ("numpyro", NORMALS)])
def test_prior_draws_of_a_listed_mixture_follow_its_distribution(backend, text):
    model = ainative.model(text, header=f"listed(w, μ₁, σ₁, μ₂, σ₂, y) --backend {backend}")
    draws = model.sample_prior(4000, w=W, mu_1=MU[0], sigma_1=SIGMA[0], mu_2=MU[1], sigma_2=SIGMA[1], N=5,
                               seed=4)["y"].ravel()
    second = scipy.stats.t(3, MU[1], SIGMA[1]) if "StudentT" in text else scipy.stats.norm(MU[1], SIGMA[1])
    components = [scipy.stats.norm(MU[0], SIGMA[0]), second]
    mean = sum(w * c.mean() for w, c in zip(W, components))
    variance = sum(w * (c.var() + c.mean() ** 2) for w, c in zip(W, components)) - mean**2
    assert abs(draws.mean() - mean) < 4 * np.sqrt(variance / draws.size)
    for point in (-1.0, 0.5, 3.0):
        cdf = sum(w * c.cdf(point) for w, c in zip(W, components))
        assert abs((draws < point).mean() - cdf) < 4 * np.sqrt(cdf * (1 - cdf) / draws.size)


@pytest.mark.parametrize("backend", BACKENDS)
def test_summing_the_label_out_by_enumeration_gives_the_mixture_likelihood(backend):
    """With θ, μ, σ fixed, enumerating z (its values along a new leading axis, which the gather μ_{z_i+1} must
    broadcast) gives log p(θ, μ, σ) + Σ_i log Σ_k θ_k N(y_i; μ_k, σ), computed here with scipy."""
    y, _ = simulated(n=12)
    theta, mu, sigma = np.array([0.4, 0.6]), np.array([-2.2, 1.9]), 0.8
    args = (BOUNDS["lo"], BOUNDS["hi"], np.ones(2), y)
    mixture = scipy.special.logsumexp(np.log(theta) + scipy.stats.norm.logpdf(y[:, None], mu, sigma), axis=1).sum()
    prior = (scipy.stats.dirichlet.logpdf(theta, np.ones(2)) + scipy.stats.halfnorm.logpdf(sigma, scale=2)
             + scipy.stats.uniform.logpdf(mu, BOUNDS["lo"], BOUNDS["hi"] - BOUNDS["lo"]).sum())
    model = ainative.model(GMM, header=f"gmm(lo, hi, a, y) --backend {backend}")
    fixed = {"theta": theta, "mu": mu, "sigma": np.asarray(sigma)}
    if backend == "pyro":
        import torch
        from pyro import poutine
        from pyro.infer import TraceEnum_ELBO, config_enumerate

        given = {k: torch.as_tensor(v, dtype=torch.float32) for k, v in fixed.items()}
        program = config_enumerate(poutine.condition(model.program, data=given))
        loss = TraceEnum_ELBO(max_plate_nesting=1).loss(program, lambda *a: None,
                                                        *(torch.as_tensor(a, dtype=torch.float32) for a in args))
        got = -loss
    else:
        import jax.numpy as jnp
        from numpyro.contrib.funsor import config_enumerate, enum, log_density
        from numpyro.handlers import condition

        given = {k: jnp.asarray(v, jnp.float32) for k, v in fixed.items()}
        program = enum(config_enumerate(condition(model.program, given)), first_available_dim=-2)
        got = float(log_density(program, tuple(jnp.asarray(a, jnp.float32) for a in args), {}, {})[0])
    assert got == pytest.approx(mixture + prior, rel=1e-4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_defined_entry_picked_by_a_label_follows_each_draw_of_the_label(backend):
    text = GMM.replace("y_i ~ 𝒩(μ_{z_i+1}, σ)  for i in 1..N",
                       "m_i = μ_{z_i+1}  for i in 1..N\ny_i ~ 𝒩(m_i, σ)  for i in 1..N")
    y, _ = simulated(n=20)
    model = ainative.model(text, header=f"gmm(lo, hi, a, y) --backend {backend}")
    draws = model.fit({**BOUNDS, "a": np.ones(2), "y": y}, num_chains=1, num_warmup=30, num_samples=30, seed=0,
                      progress=False).samples
    assert draws["m"].shape == (30, len(y))
    np.testing.assert_allclose(draws["m"], np.take_along_axis(draws["mu"], draws["z"], axis=1))
