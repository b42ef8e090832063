"""Fits against independent numbers: the eight-schools reference posterior, closed forms, known coefficients."""

import numpy as np
import pytest
import scipy.stats

import ainative
from ainative.runtime.inference import Posterior
from tests.cells import EIGHT_SCHOOLS, REGRESSION

Y = np.array([28.0, 8, -3, 7, -1, 1, 18, 12])
SIGMA = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])
BACKENDS = ["pyro", "numpyro"]


@pytest.fixture(scope="module", params=BACKENDS)
def eight_schools(request):
    m = ainative.model(EIGHT_SCHOOLS, header=f"eight_schools(σ, y) --backend {request.param}")
    return m, m.fit({"sigma": SIGMA, "y": Y}, num_chains=1, method="nuts", num_warmup=500, num_samples=500, seed=0,
                    progress=False)


def test_eight_schools_nuts_matches_the_reference_posterior(eight_schools):
    _, posterior = eight_schools
    summary = posterior.summary()
    # the reference posterior: mean μ ≈ 4.3–4.5 and τ ≈ 3.4–3.9 (500+500, one chain); allow ±2.5 Monte-Carlo s.e.
    for name, low, high in (("mu", 4.3, 4.5), ("tau", 3.4, 3.9)):
        row = summary.loc[name]
        error = 2.5 * row["sd"] / np.sqrt(row["n_eff"])
        assert low - error <= row["mean"] <= high + error, (name, row["mean"], error)
    assert list(summary.columns) == ["mean", "sd", "5%", "50%", "95%", "n_eff", "r_hat"]
    assert summary.loc["theta[7]", "mean"] == pytest.approx(posterior.samples["theta"][:, 7].mean())
    assert (summary["r_hat"] < 1.1).all()


def test_eight_schools_posterior_predictive(eight_schools):
    m, posterior = eight_schools
    draws = m.predict(posterior, sigma=SIGMA)
    assert draws["y"].shape == (500, 8) and draws["theta"].shape == (500, 8)
    # the predictive spread of y_j is at least its measurement error σ_j
    assert (draws["y"].std(axis=0) > 0.9 * SIGMA).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_beta_bernoulli_matches_the_closed_form(backend):
    flips = np.array([1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1], np.float32)
    m = ainative.model("y ∈ ℝ^N\nθ ~ Beta(2, 3)\ny ~ Bernoulli(θ)", header=f"coin(y) --backend {backend}")
    posterior = m.fit({"y": flips}, num_chains=1, num_warmup=300, num_samples=1500, progress=False)
    a, b = 2 + flips.sum(), 3 + len(flips) - flips.sum()
    mean, sd = a / (a + b), np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    draws = posterior.samples["theta"]
    se = sd / np.sqrt(posterior.summary().loc["theta", "n_eff"])
    assert abs(draws.mean() - mean) < 4 * se
    assert draws.std() == pytest.approx(sd, rel=0.1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_nuts_runs_four_chains_each_from_its_own_seed(backend):
    flips = np.array([1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1], np.float32)
    m = ainative.model("y ∈ ℝ^N\nθ ~ Beta(2, 3)\ny ~ Bernoulli(θ)", header=f"coin(y) --backend {backend}")
    fit = lambda seed: m.fit({"y": flips}, num_warmup=20, num_samples=30, seed=seed, progress=False)
    first = fit(3)
    chains = first.chains["theta"]
    assert chains.shape == (4, 30) and first.stats["diverging"].shape == (4, 30)
    assert all(not np.array_equal(chains[i], chains[j]) for i in range(4) for j in range(i))
    assert np.array_equal(fit(3).chains["theta"], chains), "the same seed drew other chains"
    assert not np.array_equal(fit(4).chains["theta"], chains)
    assert "4 chain(s) × 30 draws" in str(first.diagnostics)


@pytest.mark.parametrize(("backend", "method"), [("pyro", "svi"), ("numpyro", "svi"), ("numpyro", "nuts")])
def test_regression_recovers_known_coefficients(backend, method):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    beta = np.array([1.0, -2.0, 0.5])
    y = 0.7 + X @ beta + 0.3 * rng.normal(size=200)
    m = ainative.model(REGRESSION, header=f"regression(X, y) --backend {backend}")
    posterior = m.fit({"X": X, "y": y}, num_chains=1, method=method, steps=3000, lr=0.05, num_warmup=300,
                      num_samples=300, progress=False)
    ols = np.linalg.lstsq(np.column_stack([np.ones(200), X]), y, rcond=None)[0]
    mean = posterior.mean()
    np.testing.assert_allclose(mean["beta"], ols[1:], atol=0.06)
    assert mean["alpha"] == pytest.approx(ols[0], abs=0.06)
    assert mean["sigma"] == pytest.approx(0.3, abs=0.06)
    if method == "svi":
        assert posterior.history[-100:].mean() < posterior.history[:10].mean()


@pytest.mark.parametrize("backend", BACKENDS)
def test_observed_input_is_sampled_when_absent(backend):
    m = ainative.model(REGRESSION, header=f"regression(X, y) --backend {backend}")
    X = np.ones((4, 2))
    prior = m.sample_prior(2000, X=X)
    assert prior["y"].shape == (2000, 4) and prior["beta"].shape == (2000, 2)
    # y = α + Xβ + ε with X = 1: Var = 10² + 2·1² + E[σ²] = 100 + 2 + 1
    assert prior["y"][:, 0].var() == pytest.approx(103, rel=0.15)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bayesian_neural_network_fits_with_svi(backend):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 2)).astype(np.float32)
    labels = (X[:, 0] * X[:, 1] > 0).astype(np.float32)
    text = """X ∈ ℝ^{N×D}
W₁ ~ Normal(0, 1);  W₁ ∈ ℝ^{H×D}
b₁ ~ Normal(0, 1);  b₁ ∈ ℝ^H
w₂ ~ Normal(0, 1);  w₂ ∈ ℝ^H
b₂ ~ Normal(0, 1)
h = tanh(X W₁ᵀ + b₁)
y ~ Bernoulli(logits = h w₂ + b₂)"""
    m = ainative.model(text, header=f"bnn(X, y) --backend {backend}")
    assert m.latents == ("W_1", "b_1", "w_2", "b_2") and m.shapes["h"] == ("N", "H")
    posterior = m.fit({"X": X, "y": labels}, method="svi", steps=2000, lr=0.03, num_samples=100, H=8,
                      progress=False)
    assert posterior.samples["W_1"].shape == (100, 8, 2)
    predicted = m.predict(posterior, X=X, H=8)["y"].mean(axis=0)
    assert ((predicted > 0.5) == labels).mean() > 0.9


def test_categorical_observations_are_labels():
    text = "y ∈ ℝ^N; a ∈ ℝ^K\np ~ Dirichlet(a)\ny ~ Categorical(p)"
    m = ainative.model(text, header="dice(a, y) --backend pyro")
    counts = np.array([5, 1, 14])
    labels = np.repeat(np.arange(3), counts)
    posterior = m.fit({"a": np.ones(3), "y": labels}, num_chains=1, num_warmup=200, num_samples=600, progress=False)
    np.testing.assert_allclose(posterior.samples["p"].mean(0), (1 + counts) / (3 + counts.sum()), atol=0.05)


def test_errors_before_inference():
    m = ainative.model(REGRESSION, header="regression(X, y)")
    with pytest.raises(ainative.DataError, match="missing input"):
        m.fit({"y": np.zeros(3)})
    with pytest.raises(ainative.DataError, match="declare the data axis"):
        m.fit({"X": np.zeros(3), "y": np.zeros(3)})
    with pytest.raises(ainative.DataError, match="N = 4 here, but N = 3"):
        m.fit({"X": np.zeros((3, 2)), "y": np.zeros(4)})
    with pytest.raises(ainative.ModelError, match="method must be one of"):
        m.fit({"X": np.zeros((3, 2)), "y": np.zeros(3)}, method="gibbs")
    with pytest.raises(ainative.ShapeError, match="pass H="):
        ainative.model("W ~ Normal(0, 1); W ∈ ℝ^H", header="f()").sample_prior(3)
    with pytest.raises(ainative.ModelError, match="no '~' statement"):
        ainative.model("y = 2 x", header="f(x) -> y").sample_prior(3)


def regression_posterior(backend: str, draws: int = 10, features: int = 2) -> Posterior:
    """A posterior of REGRESSION written by hand: every draw α = 0, β = 1, σ = 1."""
    chains = {"alpha": np.zeros((1, draws)), "beta": np.ones((1, draws, features)), "sigma": np.ones((1, draws))}
    return Posterior("regression", backend, "nuts", chains)


@pytest.mark.parametrize("backend", BACKENDS)
def test_predict_refuses_inputs_whose_shape_the_posterior_contradicts(backend):
    m = ainative.model(REGRESSION, header=f"regression(X, y) --backend {backend}")
    posterior = regression_posterior(backend)
    assert m.predict(posterior, X=np.ones((5, 2)))["y"].shape == (10, 5)
    with pytest.raises(ainative.DataError) as info:
        m.predict(posterior, X=np.ones((5, 3)))
    assert str(info.value) == ("input X has shape (5, 3): K = 3 here, but K = 2 from posterior draw beta (2,); "
                               "the model expects (N, K)")


@pytest.mark.parametrize("backend", BACKENDS)
def test_predict_refuses_a_posterior_without_every_latent(backend):
    m = ainative.model(REGRESSION, header=f"regression(X, y) --backend {backend}")
    chains = regression_posterior(backend).chains
    posterior = Posterior("regression", backend, "nuts", {k: v for k, v in chains.items() if k != "beta"})
    with pytest.raises(ainative.ModelError, match="the posterior has no draws of beta"):
        m.predict(posterior, X=np.ones((5, 2)))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("data", [{"y": None}, {}], ids=["None", "absent"])
def test_fit_needs_every_observed_variable(backend, data):
    m = ainative.model(REGRESSION, header=f"regression(X, y) --backend {backend}")
    with pytest.raises(ainative.DataError) as info:
        m.fit({"X": np.ones((4, 2)), **data}, num_chains=1, num_warmup=10, num_samples=10, progress=False)
    assert str(info.value).startswith("fit needs observed data for y (N,)")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("count", [0, -3, 2.5, True, "10"])
def test_sample_prior_takes_a_positive_integer_count(backend, count):
    m = ainative.model(REGRESSION, header=f"regression(X, y) --backend {backend}")
    with pytest.raises(ainative.ModelError) as info:
        m.sample_prior(count, X=np.ones((4, 2)))
    assert type(info.value) is ainative.ModelError
    assert str(info.value) == f"num_samples must be a positive integer, not {count!r}"


def tiny(**settings):
    """Fit settings that keep a fit short if a check ever lets it start."""
    return {"num_warmup": 10, "num_samples": 10, "steps": 10, "progress": False, **settings}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("call", "words"), [
    (lambda m, d, p: m.fit(d, **tiny(num_warmup=-1)), "num_warmup must be a non-negative integer, not -1"),
    (lambda m, d, p: m.fit(d, **tiny(num_samples=0)), "num_samples must be a positive integer, not 0"),
    (lambda m, d, p: m.fit(d, **tiny(num_chains=1.5)), "num_chains must be a positive integer, not 1.5"),
    (lambda m, d, p: m.fit(d, **tiny(method="svi", steps=0)), "steps must be a positive integer, not 0"),
    (lambda m, d, p: m.fit(d, **tiny(method="svi", lr=-0.1)), "lr must be a positive number, not -0.1"),
    (lambda m, d, p: m.fit(d, **tiny(method="svi", lr=float("nan"))), "lr must be a positive number, not nan"),
    (lambda m, d, p: m.fit(d, **tiny(precision="float16")), "precision must be one of 'float32', 'float64', not "
                                                            "'float16'"),
    (lambda m, d, p: m.fit(d, **tiny(seed=-1)), "seed must be an integer from 0 to 4294967295, not -1"),
    (lambda m, d, p: m.fit(d, **tiny(seed=2**32)), "seed must be an integer from 0 to 4294967295, not 4294967296"),
    (lambda m, d, p: m.sample_prior(3, seed=2.5, X=d["X"]), "seed must be an integer from 0 to 4294967295"),
    (lambda m, d, p: m.predict(p, seed=-1, X=d["X"]), "seed must be an integer from 0 to 4294967295, not -1"),
    (lambda m, d, p: m.predict(p, seed=True, X=d["X"]), "seed must be an integer from 0 to 4294967295"),
])
def test_inference_settings_are_model_errors_naming_the_setting(backend, call, words):
    m = ainative.model(REGRESSION, header=f"regression(X, y) --backend {backend}")
    data = {"X": np.ones((4, 2)), "y": np.zeros(4)}
    with pytest.raises(ainative.ModelError) as info:
        call(m, {**data}, regression_posterior(backend))
    assert type(info.value) is ainative.ModelError
    assert str(info.value).startswith(words)


def test_an_unknown_method_names_the_choices():
    m = ainative.model(REGRESSION, header="regression(X, y)")
    with pytest.raises(ainative.ModelError) as info:
        m.fit({"X": np.ones((4, 2)), "y": np.zeros(4)}, method="mcmc")
    assert type(info.value) is ainative.ModelError
    assert str(info.value) == "method must be one of nuts, svi, not 'mcmc'"


def test_posterior_display():
    posterior = Posterior("m", "pyro", "nuts", {"a": np.random.default_rng(0).normal(size=(1, 100, 2))})
    assert posterior.samples["a"].shape == (100, 2) and posterior.num_draws == 100
    assert "a[1]" in repr(posterior) and "<table" in posterior._repr_html_()


SUMMARY_WITHOUT_TORCH = """
import sys
import numpy as np
import ainative
from tests.cells import EIGHT_SCHOOLS
m = ainative.model(EIGHT_SCHOOLS, header="eight_schools(σ, y) --backend numpyro")
sigma = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])
posterior = m.fit({"sigma": sigma, "y": sigma / 2}, num_warmup=50, num_samples=50, progress=False)
table = posterior.summary()
print(sorted(table.columns), "torch" in sys.modules, "pyro" in sys.modules)
"""


def test_a_numpyro_posterior_is_summarised_without_torch():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", SUMMARY_WITHOUT_TORCH], cwd=root, capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    assert out == "['5%', '50%', '95%', 'mean', 'n_eff', 'r_hat', 'sd'] False False"


def test_gaussian_process_regression_recovers_the_noise_scale_with_nuts():
    rng = np.random.default_rng(1)
    x = np.linspace(-3, 3, 30)
    y = np.sin(x) + 0.2 * rng.normal(size=30)
    m = ainative.model("x ∈ ℝ^N\ny ∈ ℝ^N\nα ~ HalfNormal(1)\nℓ ~ HalfNormal(1)\nσ ~ HalfNormal(1)\n"
                       "K_{ij} = α² exp(-(x_i - x_j)² / (2ℓ²)) + σ² δ_{ij}\nL = cholesky(K)\n"
                       "y ~ MultivariateNormal(0, scale_tril=L)", header="gp(x, y) --backend numpyro")
    posterior = m.fit({"x": x, "y": y}, num_chains=1, method="nuts", num_warmup=300, num_samples=300, seed=0,
                      progress=False)
    row = posterior.summary().loc["sigma"]
    assert row["mean"] == pytest.approx(0.2, abs=0.05) and row["r_hat"] < 1.1


COUNTS = """K = 3
y ∈ ℕ^N;  k ∈ {1..K}^N
λ ~ Gamma(2, 1)
y ~ Poisson(λ * k)"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_integer_data_observed_by_poisson_matches_the_gamma_closed_form(backend):
    from ainative.runtime.inference import integer_observations

    m = ainative.model(COUNTS, header=f"exposures(k, y) --backend {backend}")
    assert integer_observations(m.ir) == {"y"}
    k = np.array([1, 2, 3, 1, 2, 3, 3, 1, 2, 2])
    y = np.array([2, 3, 7, 1, 5, 6, 8, 3, 4, 3])
    posterior = m.fit({"k": k, "y": y}, num_chains=1, num_warmup=300, num_samples=1500, progress=False)
    # Gamma(2, 1) prior, Poisson(λ k) counts: the posterior is Gamma(2 + Σy, 1 + Σk)
    a, b = 2 + y.sum(), 1 + k.sum()
    draws = posterior.samples["lambda"]
    se = np.sqrt(a) / b / np.sqrt(posterior.summary().loc["lambda", "n_eff"])
    assert abs(draws.mean() - a / b) < 4 * se
    assert draws.std() == pytest.approx(np.sqrt(a) / b, rel=0.1)
    with pytest.raises(ainative.DataError, match=r"input k\[3\] is 4, but k ∈ \{1..K\} with K = 3"):
        m.fit({"k": np.array([1, 2, 3, 4]), "y": y[:4]}, num_chains=1, num_warmup=1, num_samples=1, progress=False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_label_declared_integer_is_a_categorical_observation(backend):
    text = "y ∈ {0..2}^N; a ∈ ℝ^K\np ~ Dirichlet(a)\ny ~ Categorical(p)"
    m = ainative.model(text, header=f"dice(a, y) --backend {backend}")
    counts = np.array([5, 1, 14])
    labels = np.repeat(np.arange(3), counts).astype(np.float64)
    posterior = m.fit({"a": np.ones(3), "y": labels}, num_chains=1, num_warmup=200, num_samples=600, progress=False)
    np.testing.assert_allclose(posterior.samples["p"].mean(0), (1 + counts) / (3 + counts.sum()), atol=0.05)


MIXTURE = """y ∈ ℝ^N
θ ~ Beta(1, 1)
z_i ~ Bernoulli(θ)  for i in 1..N
y_i ~ Normal(-2 + 4 z_i, 1)  for i in 1..N"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_summed_out_discrete_latents_are_drawn_from_their_posterior(backend):
    """NUTS sums ``z`` out; its reported draws must follow P(z_i = 1 | y, θ), not the prior's 0.5."""
    y = np.array([-2.5, -1.9, -2.2, 2.1, 1.8, 2.4, 0.1, -0.3], np.float32)
    m = ainative.model(MIXTURE, header=f"mixture(y) --backend {backend}")
    posterior = m.fit({"y": y}, num_chains=1, num_warmup=200, num_samples=400, seed=2, progress=False)
    theta = posterior.samples["theta"][:, None]
    one = theta * scipy.stats.norm.pdf(y, 2, 1)
    exact = (one / (one + (1 - theta) * scipy.stats.norm.pdf(y, -2, 1))).mean(0)
    reported = posterior.samples["z"].mean(0)
    np.testing.assert_allclose(reported, exact, atol=0.08)
    assert reported[:3].max() < 0.05 and reported[3:6].min() > 0.95
