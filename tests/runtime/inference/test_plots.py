"""``Posterior.plot``: ArviZ's trace, rank, forest and posterior predictive figures of fits in each backend, read
back from the figures (axes, titles, tick labels, plotted data) against the posterior's own draws and data."""

import warnings

import matplotlib
import numpy as np
import pytest

import ainative
from ainative.runtime.inference import Posterior
from ainative.runtime.inference.diagnostics import SamplingWarning
from ainative.runtime.inference.posterior import MAX_PLOTTED, PLOTS
from tests.cells import EIGHT_SCHOOLS

matplotlib.use("Agg")

Y = np.array([28.0, 8, -3, 7, -1, 1, 18, 12])
SIGMA = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])
NORMAL = "y ∈ ℝ^N\nμ ~ Normal(0, 5)\nσ ~ HalfNormal(2)\ny ~ Normal(μ, σ)"
SMALL = np.array([0.3, -1.2, 0.8, 2.1, 0.5])


def fit(cell, header, data, backend, **options):
    model = ainative.model(cell, header=f"{header} --backend {backend}")
    options = {"num_warmup": 100, "num_samples": 100, "num_chains": 2, "seed": 0, "progress": False, **options}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # a hundred draws are few: the plots are what is tested
        return model, model.fit(data, **options)


@pytest.fixture(scope="module", params=["pyro", "numpyro"])
def schools(request):
    """Eight schools fitted by NUTS with two chains in one backend."""
    return fit(EIGHT_SCHOOLS, "eight_schools(σ, y)", {"sigma": SIGMA, "y": Y}, request.param)


def components(posterior, name):
    """How many scalar components a variable has, from its draws."""
    return int(np.prod(posterior.chains[name].shape[2:], dtype=int))


def test_the_trace_has_a_density_and_a_trace_row_per_variable(schools):
    _, posterior = schools
    figure = posterior.plot("trace")
    names = posterior.plotted()
    assert names == ("mu", "tau", "eta"), "the latents, and no deterministic variable unless named"
    assert [axis.get_title() for axis in figure.axes] == [name for name in names for _ in (0, 1)]
    # the trace column draws each chain's draws of mu, in order
    traced = [line.get_ydata() for line in figure.axes[1].get_lines()]
    assert len(traced) == 2
    for chain in range(2):
        np.testing.assert_allclose(traced[chain], posterior.chains["mu"][chain], rtol=1e-6)
    title = figure._suptitle.get_text()
    assert "eight_schools: trace plot" in title and "2 chain(s) × 100 draws" in title


def test_the_rank_plot_has_an_axis_per_scalar_component(schools):
    _, posterior = schools
    figure = posterior.plot("rank", var_names=["mu", "eta"])
    titles = [axis.get_title().split("\n")[0] for axis in figure.axes]
    assert titles == ["mu"] * components(posterior, "mu") + ["eta"] * components(posterior, "eta")
    assert len(figure.axes) == 1 + 8


def test_the_forest_lists_every_variable_combined_with_ess_and_rhat(schools):
    _, posterior = schools
    figure = posterior.plot("forest")
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert len(labels) == sum(components(posterior, name) for name in posterior.plotted())
    for name in posterior.plotted():
        assert any(label.startswith(name) for label in labels)
    assert [axis.get_title() for axis in figure.axes][1:] == ["ess", "r_hat"]
    # mu's row spans its 94% highest-density interval of both chains' draws, computed here by hand
    draws = np.sort(posterior.samples["mu"].astype(np.float64))
    width = int(np.floor(0.94 * len(draws)))
    start = int(np.argmin(draws[width:] - draws[: len(draws) - width]))
    spans = [segment[:, 0] for lines in figure.axes[0].collections for segment in lines.get_segments()]
    assert any(np.allclose(span, [draws[start], draws[start + width]], rtol=1e-4) for span in spans)


def test_the_posterior_predictive_check_compares_the_observed_data_with_replicated_data(schools):
    model, posterior = schools
    replicated = model.replicate(posterior, seed=3)
    assert replicated["y"].shape == (200, 8)
    # at the inputs the fit read, so as predict there with the same seed
    np.testing.assert_array_equal(replicated["y"], model.predict(posterior, seed=3, sigma=SIGMA)["y"])
    figure = posterior.plot("ppc", predictions=replicated)
    [axis] = figure.axes
    assert axis.get_xlabel() == "y"
    assert {"Observed", "Posterior predictive"} <= set(axis.get_legend_handles_labels()[1])
    # the observed curve is a density of the observed y: it spans its least to its greatest value (to a grid step)
    [observed] = [line for line, label in zip(*axis.get_legend_handles_labels()) if label == "Observed"]
    step = (Y.max() - Y.min()) / 100
    assert observed.get_xdata().min() == pytest.approx(Y.min(), abs=step)
    assert observed.get_xdata().max() == pytest.approx(Y.max(), abs=step)


def test_an_svi_posterior_is_one_row_of_independent_draws_and_says_so():
    model, posterior = fit(NORMAL, "normal(y)", {"y": SMALL}, "numpyro", method="svi", steps=200, num_samples=60)
    figure = posterior.plot("trace")
    assert [axis.get_title() for axis in figure.axes] == ["mu", "mu", "sigma", "sigma"]
    [line] = figure.axes[1].get_lines()
    np.testing.assert_allclose(line.get_ydata(), posterior.chains["mu"][0], rtol=1e-6)
    assert "SVI: 60 independent draws from the fitted guide" in figure._suptitle.get_text()
    forest = posterior.plot("forest")
    assert len(forest.axes) == 1 and "r_hat" not in [axis.get_title() for axis in forest.axes]
    ppc = posterior.plot("ppc", predictions=model.replicate(posterior))
    assert ppc.axes[0].get_xlabel() == "y"


def test_plot_refuses_what_it_cannot_draw_in_words(schools):
    model, posterior = schools
    with pytest.raises(ainative.ModelError, match="plot kind must be one of trace, rank, forest, ppc, not 'pair'"):
        posterior.plot("pair")
    assert tuple(PLOTS) == ("trace", "rank", "forest", "ppc")
    with pytest.raises(ainative.ModelError, match=r"'nu' in var_names is not drawn; .*: mu, tau, eta, theta"):
        posterior.plot("trace", var_names=["mu", "nu"])
    with pytest.raises(ainative.ModelError, match=r"needs replicated data.*eight_schools.replicate\(posterior\)"):
        posterior.plot("ppc")
    with pytest.raises(ainative.ModelError, match=r"predictions of y \(none\) do not replicate the observed y"):
        posterior.plot("ppc", predictions={"theta": posterior.samples["theta"]})
    with pytest.raises(ainative.ModelError, match="'mu' in var_names is not observed data"):
        posterior.plot("ppc", predictions=model.replicate(posterior), var_names="mu")


def test_predictions_at_other_inputs_are_no_check_of_the_data():
    model, posterior = fit(NORMAL, "normal(y)", {"y": SMALL}, "numpyro", num_samples=50, num_chains=1)
    elsewhere = model.predict(posterior, y=np.zeros(3))
    with pytest.raises(ainative.ModelError, match=r"predictions of y \(shape \(3,\)\) .* \(shape \(5,\)\)"):
        posterior.plot("ppc", predictions=elsewhere)
    other = ainative.model(NORMAL, header="other(y) --backend numpyro")
    with pytest.raises(ainative.ModelError, match=r"replicate takes a Posterior from other\.fit, not one of normal"):
        other.replicate(posterior)
    line = ainative.model("x ∈ ℝ^3\nh = 2 x", header="f(x) -> h")
    with pytest.raises(ainative.WrongKindError, match="replicate is for probabilistic models"):
        line.replicate(posterior)


def test_at_most_the_first_few_variables_unless_named():
    rng = np.random.default_rng(0)
    names = [f"a{k}" for k in range(MAX_PLOTTED + 2)]
    posterior = Posterior("many", "numpyro", "nuts", {name: rng.normal(size=(2, 30)) for name in names})
    assert posterior.plotted() == tuple(names[:MAX_PLOTTED])
    assert len(posterior.plot("trace").axes) == 2 * MAX_PLOTTED
    assert [axis.get_title() for axis in posterior.plot("trace", var_names=names[-1]).axes] == [names[-1]] * 2


def test_a_posterior_of_class_labels_only_has_nothing_to_plot():
    labels = Posterior("labels", "numpyro", "nuts", {"z": np.zeros((1, 10, 4), np.int64)}, classes={"z": 2})
    with pytest.raises(ainative.ModelError, match=r"no real-valued variable to plot .*z have class_probabilities"):
        labels.plot("forest")


def test_draws_arviz_cannot_bin_are_a_model_error_and_leave_no_figure_open():
    import matplotlib.pyplot as plt

    almost_constant = np.float32(1) + np.float32(1e-7) * np.arange(30, dtype=np.float32)
    posterior = Posterior("flat", "numpyro", "svi", {"a": almost_constant[None]})
    before = plt.get_fignums()
    with pytest.raises(ainative.ModelError, match=r"ArviZ could not draw the trace plot of flat's a \(ValueError: "):
        posterior.plot("trace")
    assert plt.get_fignums() == before


def test_a_deterministic_variable_is_plotted_only_when_named(schools):
    _, posterior = schools
    assert "theta" in posterior.deterministic and "theta" not in posterior.plotted()
    figure = posterior.plot("trace", var_names=["theta"])
    assert [axis.get_title() for axis in figure.axes] == ["theta", "theta"]
