"""ArviZ-native results: ``Posterior.to_arviz()``'s groups against hand computations (SciPy log densities at the
draws), ArviZ's diagnostics, plots and LOO on fits in each backend, and ``ainative.compare``."""

import warnings

import arviz as az
import matplotlib
import numpy as np
import pytest
import scipy.special
import scipy.stats

import ainative
from ainative.runtime.inference import Posterior, dimension_names
from ainative.runtime.inference.likelihood import LikelihoodWarning
from tests.cells import EIGHT_SCHOOLS, HMM
from tests.frontend.test_discrete import GMM

matplotlib.use("Agg")

Y = np.array([28.0, 8, -3, 7, -1, 1, 18, 12])
SIGMA = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])
POOLED = """J = 8
μ ~ 𝒩(0, 5)
y_j ~ 𝒩(μ, σ_j)      for j in 1..J"""
BACKENDS = ["pyro", "numpyro"]
#: every statistic each backend's NUTS gives per draw
STATS = {"numpyro": {"diverging", "lp", "energy", "n_steps", "tree_depth", "acceptance_rate", "step_size"},
         "pyro": {"diverging", "lp", "acceptance_rate", "step_size"}}


def fit(cell, header, data, backend, **options):
    model = ainative.model(cell, header=f"{header} --backend {backend}")
    options = {"num_warmup": 100, "num_samples": 100, "num_chains": 2, "seed": 0, "progress": False, **options}
    return model, model.fit(data, **options)


@pytest.fixture(scope="module", params=BACKENDS)
def schools(request):
    """Eight schools and the pooled model, fitted by NUTS with two chains in one backend."""
    data = {"sigma": SIGMA, "y": Y}
    model, hierarchical = fit(EIGHT_SCHOOLS, "eight_schools(σ, y)", data, request.param)
    _, pooled = fit(POOLED, "pooled(σ, y)", data, request.param)
    return model, hierarchical, pooled


def test_the_posterior_group_has_every_variable_with_dims_from_the_shape_table(schools):
    _, posterior, _ = schools
    data = posterior.to_arviz()
    assert set(data.posterior.data_vars) == {"mu", "tau", "eta", "theta"}
    assert data.posterior["eta"].dims == ("chain", "draw", "J") and data.posterior["mu"].dims == ("chain", "draw")
    np.testing.assert_array_equal(data.posterior["theta"].values, posterior.chains["theta"])
    assert data.observed_data["y"].dims == ("J",) and list(data.constant_data.data_vars) == ["sigma"]
    np.testing.assert_array_equal(data.observed_data["y"].values, Y)
    np.testing.assert_array_equal(data.constant_data["sigma"].values, SIGMA)


def test_sample_stats_are_what_each_backend_records(schools):
    _, posterior, _ = schools
    stats = posterior.to_arviz().sample_stats
    assert set(stats.data_vars) == STATS[posterior.backend]
    assert all(stats[name].shape == (2, 100) for name in stats.data_vars)
    assert stats["diverging"].dtype == bool
    rate = stats["acceptance_rate"].values
    assert np.all((rate >= -1e-6) & (rate <= 1 + 1e-6)) and 0.5 < rate.mean() <= 1
    # warm-up over, the step size is fixed within a chain
    assert np.allclose(stats["step_size"].values, stats["step_size"].values[:, :1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_lp_is_the_log_density_at_each_draw(backend):
    # every latent unconstrained, so the sampler's log density is the log joint: prior plus likelihood, by SciPy
    y = np.array([0.3, -1.2, 0.8, 2.1, 0.5])
    _, posterior = fit("y ∈ ℝ^N\nμ ~ Normal(0, 5)\ny ~ Normal(μ, 1)", "normal(y)", {"y": y}, backend,
                       num_warmup=50, num_samples=30)
    mu = posterior.chains["mu"]
    expected = scipy.stats.norm.logpdf(mu, 0, 5) + scipy.stats.norm.logpdf(y, mu[..., None], 1).sum(-1)
    np.testing.assert_allclose(posterior.to_arviz().sample_stats["lp"].values, expected, rtol=1e-4, atol=1e-3)


def test_log_likelihood_is_each_schools_normal_log_density_at_each_draw(schools):
    _, posterior, _ = schools
    terms = posterior.to_arviz().log_likelihood["y"]
    assert terms.dims == ("chain", "draw", "J") and terms.shape == (2, 100, 8)
    for chain, draw in ((0, 0), (0, 57), (1, 99)):
        theta = posterior.chains["theta"][chain, draw]
        expected = scipy.stats.norm.logpdf(Y, theta, SIGMA)
        np.testing.assert_allclose(terms.values[chain, draw], expected, rtol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_series_modelled_from_its_second_entry_has_a_term_per_entry_it_models(backend):
    rng = np.random.default_rng(0)
    y = np.cumsum(rng.normal(size=12)).astype(np.float32) * 0.5
    cell = "y ∈ ℝ^T\nφ ~ Normal(0, 1)\nσ ~ HalfNormal(1)\ny_t ~ Normal(φ y_{t-1}, σ) for t in 2..T"
    _, posterior = fit(cell, "ar(y)", {"y": y}, backend, num_warmup=50, num_samples=30, num_chains=1)
    terms = posterior.to_arviz().log_likelihood["y"]
    assert terms.dims == ("chain", "draw", "T_y") and terms.shape == (1, 30, 11)
    phi, sigma = posterior.chains["phi"][0, :, None], posterior.chains["sigma"][0, :, None]
    np.testing.assert_allclose(terms.values[0], scipy.stats.norm.logpdf(y[1:], phi * y[:-1], sigma), rtol=1e-4)


def test_a_matrix_of_one_dimension_twice_gets_two_dim_names():
    assert dimension_names(("K", "K")) == ("K", "K_2")
    assert dimension_names(("K", "K", "K")) == ("K", "K_2", "K_3")
    assert dimension_names(()) == ()
    x, y = np.array([1.0, -0.5, 2.0]), np.array([0.4, 1.0, -1.0])
    _, posterior = fit("x, y ∈ ℝ^K\nW ~ Normal(0, 1);  W ∈ ℝ^{K×K}\ny ~ Normal(W x, 1)", "linear(x, y)",
                       {"x": x, "y": y}, "numpyro", num_warmup=30, num_samples=20, num_chains=1)
    assert posterior.to_arviz().posterior["W"].dims == ("chain", "draw", "K", "K_2")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_mixtures_log_likelihood_sums_the_label_out(backend):
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.normal(-2, 0.7, 15), rng.normal(2, 0.7, 15)]).astype(np.float32)
    data = {"lo": np.array([-5.0, 0.0]), "hi": np.array([0.0, 5.0]), "a": np.ones(2), "y": y}
    with warnings.catch_warnings():
        warnings.simplefilter("error", LikelihoodWarning)
        _, posterior = fit(GMM, "gmm(lo, hi, a, y)", data, backend, num_warmup=40, num_samples=20, num_chains=1)
    terms = posterior.to_arviz().log_likelihood["y"].values[0]
    theta, mu, sigma = (posterior.chains[k][0] for k in ("theta", "mu", "sigma"))
    # log Σ_k θ_k N(y_i; μ_k, σ), not the density given the drawn label z_i
    joint = np.log(theta)[:, None, :] + scipy.stats.norm.logpdf(y[None, :, None], mu[:, None, :],
                                                               sigma[:, None, None])
    np.testing.assert_allclose(terms, scipy.special.logsumexp(joint, axis=-1), rtol=1e-4)


def test_a_hidden_chains_observations_have_no_log_likelihood_and_cannot_be_compared():
    rng = np.random.default_rng(0)
    data = {"y": rng.normal(size=15).astype(np.float32), "a": np.ones(2), "lo": np.array([-3.0, 0.0]),
            "hi": np.array([0.0, 3.0])}
    with pytest.warns(LikelihoodWarning, match="hidden chain z"):
        _, posterior = fit(HMM, "hmm(y, a, lo, hi)", data, "numpyro", num_warmup=30, num_samples=20,
                           num_chains=1)
    assert posterior.log_likelihood == {}
    data = posterior.to_arviz()
    assert "log_likelihood" not in data.groups() and data.posterior["Theta"].dims == ("chain", "draw", "K", "K_2")
    with pytest.raises(ainative.ModelError, match="no pointwise log-likelihood"):
        ainative.compare({"hmm": posterior, "again": posterior})


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_target_term_is_no_part_of_the_log_likelihood(backend):
    y = np.array([0.3, -1.2, 0.8])
    cell = "y ∈ ℝ^N\nμ ~ Normal(0, 1)\ntarget += -μ^2\ny ~ Normal(μ, 1)"
    with warnings.catch_warnings():
        warnings.simplefilter("error", LikelihoodWarning)
        _, posterior = fit(cell, "t(y)", {"y": y}, backend, num_warmup=30, num_samples=20, num_chains=1)
    mu = posterior.chains["mu"][0]
    np.testing.assert_allclose(posterior.log_likelihood["y"][0], scipy.stats.norm.logpdf(y, mu[:, None], 1),
                               rtol=1e-5)
    # a term that reads the observations is left out of their log-likelihood, and says so
    cell = "y ∈ ℝ^N\nμ ~ Normal(0, 1)\ntarget += -Σ_i (y_i - μ)^2\ny ~ Normal(μ, 1)"
    with pytest.warns(LikelihoodWarning, match="reads y"):
        _, posterior = fit(cell, "u(y)", {"y": y}, backend, num_warmup=30, num_samples=20, num_chains=1)
    mu = posterior.chains["mu"][0]
    np.testing.assert_allclose(posterior.log_likelihood["y"][0], scipy.stats.norm.logpdf(y, mu[:, None], 1),
                               rtol=1e-5)


def test_arviz_diagnostics_plots_and_loo_work_on_the_fit(schools):
    model, posterior, pooled = schools
    data = posterior.to_arviz()
    table = az.summary(data)
    assert {"ess_bulk", "r_hat"} <= set(table.columns) and "theta[7]" in table.index
    assert az.plot_trace(data, var_names=["mu", "tau"]).shape == (2, 2)
    assert az.plot_forest(data, var_names=["theta"]) is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pareto k on eight points is ArviZ's to report
        loo = az.loo(data, pointwise=True)
        ranking = az.compare({"hierarchical": data, "pooled": pooled.to_arviz()})
    # elpd_loo is the sum of the pointwise terms, each near the log of the posterior mean likelihood
    assert loo.elpd_loo == pytest.approx(loo.loo_i.values.sum())
    lppd = scipy.special.logsumexp(posterior.log_likelihood["y"].reshape(-1, 8), axis=0) - np.log(200)
    assert np.all(loo.loo_i.values <= lppd + 1e-6)
    assert set(ranking.index) == {"hierarchical", "pooled"} and ranking["weight"].sum() == pytest.approx(1)
    predictions = model.predict(posterior, sigma=SIGMA)
    checked = posterior.to_arviz(predictions=predictions)
    assert checked.posterior_predictive["y"].shape == (2, 100, 8)
    np.testing.assert_array_equal(checked.posterior_predictive["y"].values.reshape(200, 8), predictions["y"])
    assert az.plot_ppc(checked, num_pp_samples=20) is not None
    matplotlib.pyplot.close("all")


def test_compare_ranks_fits_by_loo(schools):
    _, hierarchical, pooled = schools
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        table = ainative.compare({"pooled": pooled, "hierarchical": hierarchical})
        by_hand = {name: az.loo(p.to_arviz()).elpd_loo for name, p in (("pooled", pooled),
                                                                       ("hierarchical", hierarchical))}
    assert {"elpd_loo", "se", "elpd_diff", "dse", "weight"} <= set(table.columns)
    for name, elpd in by_hand.items():
        assert table.loc[name, "elpd_loo"] == pytest.approx(elpd)
    assert table["elpd_loo"].iloc[0] == max(by_hand.values())


def test_compare_refuses_what_is_no_fit(schools):
    _, hierarchical, _ = schools
    with pytest.raises(ainative.ModelError, match="'b' is a dict, not a Posterior"):
        ainative.compare({"a": hierarchical, "b": {"mu": np.zeros(3)}})
    bare = Posterior("m", "numpyro", "nuts", {"mu": np.zeros((1, 10))})
    with pytest.raises(ainative.ModelError, match=r"'bare' .* no pointwise log-likelihood"):
        ainative.compare({"a": hierarchical, "bare": bare})
    with pytest.raises(ainative.ModelError, match="two or more"):
        ainative.compare({"a": hierarchical})


def test_summary_is_arviz_s_with_the_columns_it_had(schools):
    _, posterior, _ = schools
    table = posterior.summary()
    assert list(table.columns) == ["mean", "sd", "5%", "50%", "95%", "n_eff", "r_hat"]
    reference = az.summary(posterior.to_arviz(), round_to="none")  # in float32, as drawn: the table uses float64
    np.testing.assert_allclose(table["n_eff"], reference["ess_bulk"], rtol=1e-2)
    np.testing.assert_allclose(table["r_hat"], reference["r_hat"], rtol=1e-3)
    theta = posterior.samples["theta"][:, 3]
    assert table.loc["theta[3]", "mean"] == pytest.approx(theta.mean())
    assert table.loc["theta[3]", "95%"] == pytest.approx(np.quantile(theta, 0.95))


def test_an_svi_posterior_has_no_sample_stats():
    _, posterior = fit(POOLED, "pooled(σ, y)", {"sigma": SIGMA, "y": Y}, "numpyro", method="svi", steps=200,
                       num_samples=50)
    data = posterior.to_arviz()
    assert "sample_stats" not in data.groups() and data.posterior["mu"].shape == (1, 50)
    mu = posterior.chains["mu"][0]
    np.testing.assert_allclose(data.log_likelihood["y"].values[0], scipy.stats.norm.logpdf(Y, mu[:, None], SIGMA),
                               rtol=1e-5)
