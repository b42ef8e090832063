"""Statements that read only data (Stan's transformed data) are plain values of the program, not draws."""

import numpy as np
import pytest

import ainative
from ainative.printers.probabilistic import data_only

BACKENDS = ["pyro", "numpyro"]
SQUARED = "X ∈ ℝ^{N×K}; y ∈ ℝ^N\nβ ∈ ℝ^K\nβ ~ 𝒩(0, 1)\nσ ~ HalfNormal(1)\nx2 = X²\nμ = x2 β\ny ~ 𝒩(μ, σ)"
PRECOMPUTED = "X2 ∈ ℝ^{N×K}; y ∈ ℝ^N\nβ ∈ ℝ^K\nβ ~ 𝒩(0, 1)\nσ ~ HalfNormal(1)\nμ = X2 β\ny ~ 𝒩(μ, σ)"


def data(n: int = 30, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(n, k)).astype(np.float32)
    y = (X**2 @ np.array([0.5, -0.3, 0.2]) + 0.4 * rng.normal(size=n)).astype(np.float32)
    return X, y


def test_data_only_follows_what_a_statement_reads_transitively():
    m = ainative.model("X ∈ ℝ^{N×K}; y ∈ ℝ^N\nc = 2\nx2 = X²\nz = c x2 / N\nβ ∈ ℝ^K\nβ ~ 𝒩(0, 1)\n"
                       "μ = z β\nσ ~ HalfNormal(1)\nr = y - μ\ny ~ 𝒩(μ, σ)", header="m(X, y)")
    # X is always given; y is observed (drawn by sample_prior and predict), so r, which reads it, is no data
    assert data_only(m.ir) == {"x2", "z"}
    assert set(m.ir.roles.deterministic) == {"x2", "z", "mu", "r"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_data_statement_is_a_plain_assignment_in_both_programs(backend):
    source = ainative.model(SQUARED, header=f"m(X, y) --backend {backend}").source(backend)
    assert "    x2 = X**2\n" in source or "    x2 = X**2.0\n" in source
    assert f'mu = _{backend}.deterministic("mu", x2 @ beta)' in source
    assert '"x2"' not in source


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_posterior_holds_no_data_and_the_fit_is_that_of_the_precomputed_data(backend):
    X, y = data()
    squared = ainative.model(SQUARED, header=f"m(X, y) --backend {backend}")
    precomputed = ainative.model(PRECOMPUTED, header=f"p(X2, y) --backend {backend}")
    draws = {"numpyro": 300, "pyro": 60}[backend]
    a = squared.fit({"X": X, "y": y}, num_chains=1, num_warmup=draws, num_samples=draws, seed=3, progress=False)
    b = precomputed.fit({"X2": X**2, "y": y}, num_chains=1, num_warmup=draws, num_samples=draws, seed=3, progress=False)
    assert set(a.samples) == {"beta", "sigma", "mu"} == set(b.samples)
    assert not any(name.startswith("x2") for name in a.summary().index)
    # the same program up to where X² is computed: the same draws from the same seed
    for name in ("beta", "sigma", "mu"):
        np.testing.assert_allclose(a.samples[name], b.samples[name], rtol=1e-5, atol=1e-6)
    predicted = squared.predict(a, X=X[:5])
    assert set(predicted) == {"y", "mu"} and predicted["y"].shape == (draws, 5)
    np.testing.assert_allclose(predicted["mu"], a.samples["beta"] @ (X[:5] ** 2).T, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sample_prior_still_works_with_a_data_statement(backend):
    X, _ = data()
    m = ainative.model(SQUARED, header=f"m(X, y) --backend {backend}")
    prior = m.sample_prior(400, X=X)
    assert set(prior) == {"beta", "sigma", "mu", "y"}
    np.testing.assert_allclose(prior["mu"], prior["beta"] @ (X**2).T, rtol=1e-4, atol=1e-4)
