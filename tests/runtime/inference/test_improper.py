"""Improper flat priors under NUTS and SVI, against the closed-form posteriors they give."""

import re
import warnings

import numpy as np
import pytest
import scipy.integrate
import scipy.stats

import ainative
from ainative.errors import ModelError

BACKENDS = ["pyro", "numpyro"]
REGRESSION = "X ∈ ℝ^{N×K}; y ∈ ℝ^N\nβ ∈ ℝ^K\nβ ~ Flat()\nα ~ Flat()\ny ~ 𝒩(α + X β, σ)"
SIGMA = 0.5


def data(n: int = 40, seed: int = 3) -> dict:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)).astype(np.float32)
    y = (1.0 + X @ np.array([2.0, -1.0]) + SIGMA * rng.normal(size=n)).astype(np.float32)
    return {"X": X, "sigma": np.float32(SIGMA), "y": y}


def least_squares(given: dict) -> tuple[np.ndarray, np.ndarray]:
    """The posterior of (α, β) under a flat prior with σ known: mean the least-squares fit, covariance σ²(AᵀA)⁻¹."""
    A = np.column_stack([np.ones(len(given["y"])), given["X"]]).astype(np.float64)
    mean = np.linalg.lstsq(A, given["y"].astype(np.float64), rcond=None)[0]
    return mean, SIGMA**2 * np.linalg.inv(A.T @ A)


@pytest.fixture(scope="module", params=BACKENDS)
def fitted(request):
    m = ainative.model(REGRESSION, header=f"m(X, σ, y) --backend {request.param}")
    given = data()
    draws = {"numpyro": (500, 2000), "pyro": (200, 400)}[request.param]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        posterior = m.fit(given, num_chains=1, num_warmup=draws[0], num_samples=draws[1], seed=1, progress=False)
    return m, given, posterior


def test_nuts_with_flat_priors_is_the_least_squares_posterior(fitted):
    _, given, posterior = fitted
    mean, covariance = least_squares(given)
    summary = posterior.summary()
    rows = [summary.loc["alpha"], summary.loc["beta[0]"], summary.loc["beta[1]"]]
    sd = np.sqrt(np.diag(covariance))
    for row, mu, s in zip(rows, mean, sd):
        # the mean within 4 Monte-Carlo standard errors; the sd within 4 of its own (≈ sd / √(2 n_eff))
        assert abs(row["mean"] - mu) < 4 * s / np.sqrt(row["n_eff"]), (row.name, row["mean"], mu)
        assert abs(row["sd"] - s) < 4 * s / np.sqrt(2 * row["n_eff"]) + 0.01 * s, (row.name, row["sd"], s)
    draws = np.column_stack([posterior.samples["alpha"], posterior.samples["beta"]])
    # the correlations too: the sample covariance against σ²(AᵀA)⁻¹, scaled to correlations
    got = np.corrcoef(draws.T)
    want = covariance / np.outer(sd, sd)
    assert np.abs(got - want).max() < 0.15


def test_predict_draws_from_the_posterior_and_sample_prior_refuses(fitted):
    m, given, posterior = fitted
    draws = m.predict(posterior, X=given["X"], sigma=given["sigma"])
    mean, _ = least_squares(given)
    count = len(posterior.samples["alpha"])
    assert draws["y"].shape == (count, len(given["y"]))
    fitted_line = mean[0] + given["X"] @ mean[1:]
    # each predictive mean is the line at the posterior draws plus noise of sd σ: within 5 s.e. of the fitted line
    assert np.abs(draws["y"].mean(axis=0) - fitted_line).max() < 5 * SIGMA / np.sqrt(count) + 0.05
    with pytest.raises(ModelError, match=re.escape("beta ~ Flat() (line 3) is an improper prior, which has no "
                                                   "draws")):
        m.sample_prior(10, X=given["X"], sigma=given["sigma"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_svi_with_an_autonormal_guide_finds_the_mean_field_posterior(backend):
    m = ainative.model(REGRESSION, header=f"m(X, σ, y) --backend {backend}")
    given = data()
    posterior = m.fit(given, method="svi", steps=3000, lr=0.02, num_samples=2000, seed=0, progress=False)
    mean, covariance = least_squares(given)
    draws = np.column_stack([posterior.samples["alpha"], posterior.samples["beta"]])
    # a mean-field Gaussian fitted to a Gaussian posterior has its mean and the conditional sds 1/√(precision)ᵢᵢ
    field = 1 / np.sqrt(np.diag(np.linalg.inv(covariance)))
    assert np.abs(draws.mean(axis=0) - mean).max() < 0.5 * field.min()
    np.testing.assert_allclose(draws.std(axis=0), field, rtol=0.25)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_half_flat_scale_stays_positive_and_has_its_closed_form_posterior(backend):
    rng = np.random.default_rng(5)
    y = rng.normal(0.0, 2.0, size=30).astype(np.float32)
    m = ainative.model("y ∈ ℝ^N\nσ ~ HalfFlat()\ny ~ 𝒩(0, σ)", header=f"m(y) --backend {backend}")
    draws = {"numpyro": (500, 2000), "pyro": (200, 500)}[backend]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        posterior = m.fit({"y": y}, num_chains=1, num_warmup=draws[0], num_samples=draws[1], seed=2, progress=False)
    sigma = posterior.samples["sigma"]
    assert (sigma > 0).all()
    # p(σ | y) ∝ σ^-N exp(-S / 2σ²): σ² is inverse-gamma with shape (N - 1)/2 and scale S/2
    n, s = len(y), float(np.sum(y.astype(np.float64) ** 2))
    variance = scipy.stats.invgamma((n - 1) / 2, scale=s / 2)
    expected = scipy.integrate.quad(lambda v: np.sqrt(v) * variance.pdf(v), 0, np.inf)[0]
    spread = np.sqrt(variance.mean() - expected**2)
    n_eff = posterior.summary().loc["sigma", "n_eff"]
    assert abs(sigma.mean() - expected) < 4 * spread / np.sqrt(n_eff)
    with pytest.raises(ModelError, match=re.escape("sigma ~ HalfFlat() (line 2) is an improper prior")):
        m.sample_prior(5, N=30)
