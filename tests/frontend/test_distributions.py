import pytest

import ainative
from ainative.frontend.distributions import DISTRIBUTIONS

FAMILIES = ("Normal HalfNormal Cauchy HalfCauchy StudentT LogNormal Exponential Gamma InverseGamma Beta "
                 "Uniform Bernoulli Binomial Poisson Categorical Dirichlet MultivariateNormal").split()


def test_every_spec_family_is_known():
    assert set(FAMILIES) == set(DISTRIBUTIONS)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("y ~ HalfNormal(-1)", "HalfNormal: scale must be positive, not -1"),
        ("y ~ Bernoulli(1.5)", "probs must be between 0 and 1, not 1.5"),
        ("y ~ Normal(0, 0)", "scale must be positive, not 0"),
        ("y ~ Binomial(2.5, 0.5)", "total_count must be a non-negative integer, not 2.5"),
        ("y ~ Gamma(1)", "Gamma needs concentration, rate"),
        ("y ~ Bernoulli(probs=0.5, logits=0)", "Bernoulli needs probs"),
        ("y ~ Normal(0, scale=1, loc=2)", "got a parameter twice"),
        ("y ~ Normal(loc=0, 1)", "positional argument after a keyword"),
        ("y ~ Normal(0, sd=1)", "has no parameter 'sd'"),
        ("y ~ HalfNormall(1)", "did you mean 'HalfNormal'"),
    ],
)
def test_arity_and_support_are_checked_at_parse_time(text, words):
    with pytest.raises(ainative.ModelError) as info:
        ainative.model(text, header="f(y)")
    assert words in str(info.value) and info.value.line == 1


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_prints_for_pyro_and_numpyro(family):
    args = {"Normal": "0, 1", "HalfNormal": "1", "Cauchy": "0, 1", "HalfCauchy": "1", "StudentT": "3, 0, 1",
            "LogNormal": "0, 1", "Exponential": "1", "Gamma": "2, 1", "InverseGamma": "2, 1", "Beta": "1, 2",
            "Uniform": "0, 1", "Bernoulli": "0.3", "Binomial": "10, 0.3", "Poisson": "3", "Categorical": "p",
            "Dirichlet": "a", "MultivariateNormal": "m, S"}[family]
    text = f"p ∈ ℝ^K; a ∈ ℝ^K; m ∈ ℝ^K; S ∈ ℝ^{{K×K}}\nz ~ {family}({args})"
    m = ainative.model(text, header="f(p, a, m, S)")
    assert f"dist.{family}(" in m.source("pyro") and f"dist.{family}(" in m.source("numpyro")
