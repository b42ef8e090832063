"""The diagnostics report: each check fires on draws built to fail it, stays quiet on independent draws, and
advises a centred hierarchical model in the cell's own names."""

import numpy as np
import pytest

import ainative
from ainative.runtime.inference.diagnostics import SamplingWarning, diagnose
from tests.cells import EIGHT_SCHOOLS

CENTRED = EIGHT_SCHOOLS.replace("η_j ~ 𝒩(0, 1)          for j in 1..J\nθ_j = μ + τ η_j        for j in 1..J",
                                "θ_j ~ 𝒩(μ, τ)          for j in 1..J")
RNG = np.random.default_rng(0)


def ir(text=CENTRED):
    return ainative.model(text, header="eight_schools(σ, y) --backend numpyro").ir


def independent(chains=4, draws=500, shape=()):
    return RNG.normal(size=(chains, draws, *shape))


def test_independent_draws_pass_every_check():
    report = diagnose(ir(), {"mu": independent(), "tau": np.abs(independent()), "theta": independent(shape=(8,))},
                      {"diverging": np.zeros((4, 500), bool), "tree_depth": np.full((4, 500), 3),
                       "energy": independent()})
    assert report.ok and report.divergences == 0 and report.max_rhat < 1.01 and report.min_ess_bulk > 1000
    assert str(report).endswith("no problem found.")


def test_chains_that_disagree_are_named_by_their_worst_component():
    theta = independent(shape=(8,))
    theta[..., 5] += np.arange(4)[:, None]
    report = diagnose(ir(), {"mu": independent(), "theta": theta}, {})
    assert report.worst_rhat == "theta[5]" and report.max_rhat > 1.5 and not report.ok
    assert "R̂ of theta[5] is" in str(report) and "(≤ 1.01 wanted): the chains disagree" in str(report)


def test_sticky_draws_have_too_few_effective_draws():
    sticky = np.cumsum(RNG.normal(size=(4, 500)) * 0.05, axis=1)
    report = diagnose(ir(), {"mu": independent(), "tau": sticky}, {})
    assert report.worst_ess == "tau" and report.min_ess_bulk < 400
    assert "the effective sample size of tau is" in str(report) and "(≥ 400 wanted, 100 per chain)" in str(report)


def test_divergences_saturated_trees_and_low_bfmi_are_reported():
    diverging = np.zeros((4, 500), bool)
    diverging[1, 10:17] = True
    energy = np.cumsum(RNG.normal(size=(4, 500)), axis=1)
    report = diagnose(ir(), {"mu": independent()}, {"diverging": diverging, "tree_depth": np.full((4, 500), 10),
                                                    "energy": energy})
    text = str(report)
    assert report.divergences == 7 and "7 of 2000 transitions diverged" in text
    assert report.saturated == 2000 and "reached the maximum tree depth (10)" in text
    assert min(report.bfmi) < 0.3 and "the energy BFMI is" in text


def test_a_centred_hierarchy_that_diverges_is_advised_in_its_own_names():
    diverging = np.zeros((4, 500), bool)
    diverging[0, 3] = True
    report = diagnose(ir(), {"mu": independent()}, {"diverging": diverging})
    assert report.advice == ("θ_j ~ 𝒩(μ, τ) is centred, and τ is a latent scale: write it non-centred, "
                             "η_j ~ 𝒩(0, 1)  for j in 1..J, then θ_j = μ + τ η_j  for j in 1..J",)


def test_a_non_centred_model_gets_no_advice():
    diverging = np.ones((4, 500), bool)
    assert diagnose(ir(EIGHT_SCHOOLS), {"mu": independent()}, {"diverging": diverging}).advice == ()


@pytest.mark.parametrize("chains", [1, 2])
def test_fewer_chains_need_fewer_effective_draws(chains):
    report = diagnose(ir(), {"mu": independent(chains=chains, draws=300)}, {})
    assert report.ok and report.chains == chains


Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def test_a_divergent_centred_eight_schools_fit_warns_in_words_with_the_non_centred_form():
    model = ainative.model(CENTRED, header="eight_schools(σ, y) --backend numpyro")
    with pytest.warns(SamplingWarning) as caught:
        posterior = model.fit({"sigma": SIGMA, "y": Y}, num_chains=1, num_warmup=300, num_samples=500,
                              seed=0, progress=False)
    report = posterior.diagnostics
    assert report.divergences == int(posterior.stats["diverging"].sum()) > 0
    message = str(caught[0].message)
    assert message.startswith("eight_schools: 1 chain(s) × 500 draws") and "transitions diverged" in message
    assert "advice: θ_j ~ 𝒩(μ, τ) is centred" in message
    assert str(report) in repr(posterior) and "transitions diverged" in posterior._repr_html_()


def test_the_non_centred_eight_schools_fit_has_no_divergence_and_no_advice():
    model = ainative.model(EIGHT_SCHOOLS, header="eight_schools(σ, y) --backend numpyro")
    posterior = model.fit({"sigma": SIGMA, "y": Y}, num_chains=1, num_warmup=500, num_samples=500,
                          seed=0, progress=False)
    assert posterior.diagnostics.divergences == 0 and posterior.diagnostics.advice == ()
