import re

import numpy as np
import pytest
import sympy

import ainative
from ainative.errors import ExportError, ShapeError
from ainative.frontend.distributions import DISTRIBUTIONS, SPELLINGS, location
from ainative.frontend.ir import Distribution
from ainative.printers.jax import JaxPrinter
from ainative.printers.names import import_lines

FAMILIES = ("Normal HalfNormal Cauchy HalfCauchy StudentT LogNormal Exponential Gamma InverseGamma Beta "
                 "Uniform Bernoulli Binomial Poisson Categorical Dirichlet MultivariateNormal LKJCholesky "
                 "MixtureSameFamily Mixture Flat HalfFlat").split()


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
            "Dirichlet": "a", "MultivariateNormal": "m, S", "LKJCholesky": "3, 2",
            "MixtureSameFamily": "Categorical(p), Normal(m, 1)", "Mixture": "p, Normal(0, 1), Normal(1, 2)",
            "Flat": "", "HalfFlat": ""}[family]
    text = f"p ∈ ℝ^K; a ∈ ℝ^K; m ∈ ℝ^K; S ∈ ℝ^{{K×K}}\nz ~ {family}({args})"
    m = ainative.model(text, header="f(p, a, m, S)")
    for library in ("pyro", "numpyro"):
        # Pyro's improper family is its class with a draw for NUTS's first run (ainative.runtime.improper)
        module = "_improper" if DISTRIBUTIONS[family].improper and library == "pyro" else "_dist"
        assert f"{module}.{DISTRIBUTIONS[family].constructor_in(library)}(" in m.source(library)


@pytest.mark.parametrize(
    ("text", "complete"),
    [
        ("y ~ Bernoulli(logits=z)", True),
        ("y ~ Bernoulli(probs=0.5, logits=z)", False),
        ("z ∈ ℝ^K\ny ~ Categorical(logits=z)", True),
        ("y ~ Binomial(10, logits=z)", True),
        ("y ~ Binomial(total_count=10)", False),
        ("y ~ Binomial(probs=0.5)", False),
        ("y ~ Binomial(10, 0.5, z)", False),
        ("y ~ StudentT(3)", True),
        ("y ~ Normal(0)", False),
    ],
)
def test_a_use_gives_every_needed_parameter_and_exactly_one_of_a_choice(text, complete):
    if complete:
        ainative.model(text, header="f(z, y)")
        return
    family = text.split("~ ")[1].split("(")[0]
    with pytest.raises(ainative.ModelError, match=re.escape(f"{family} needs {DISTRIBUTIONS[family].requirement()}")):
        ainative.model(text, header="f(z, y)")


def test_the_requirement_names_the_choice():
    assert DISTRIBUTIONS["Binomial"].requirement() == "total_count, probs or logits (exactly one)"
    assert DISTRIBUTIONS["Gamma"].requirement() == "concentration, rate"


@pytest.mark.parametrize("backend", ["pyro", "numpyro"])
def test_integer_parameters_print_as_integers_and_run(backend):
    m = ainative.model("n ~ Binomial(12, 0.25)", header="f()")
    assert "_dist.Binomial(12, 0.25" in m.source(backend)
    draws = m.sample_prior(400)["n"]
    assert np.all(draws == np.round(draws)) and 0 <= draws.min() and draws.max() <= 12
    assert abs(draws.mean() - 3.0) < 0.5


def test_sampled_shapes_follow_the_family():
    m = ainative.model("p ∈ ℝ^{N×K}; a ∈ ℝ^K; m ∈ ℝ^N; s ∈ ℝ^N\nc ~ Categorical(p)\nd ~ Dirichlet(a)\n"
                       "e ~ Normal(m, s)", header="f(p, a, m, s)")
    assert (m.shapes["c"], m.shapes["d"], m.shapes["e"]) == (("N",), ("K",), ("N",))
    assert [f.name for f in DISTRIBUTIONS.values() if f.labels] == ["Categorical"]


def test_other_spellings_of_a_family_name():
    for text, latex in (("y ~ 𝒩(0, 1)", False), (r"y \sim \mathcal{N}(0, 1)", True)):
        m = ainative.model(text, header="f(y)" + (" --latex" if latex else ""))
        assert m.ir.statements[0].distribution.family == SPELLINGS["𝒩"] == "Normal"


def _value(expr, values: dict[str, np.ndarray]) -> np.ndarray:
    printer = JaxPrinter()
    text = printer._print(expr)
    namespace = dict(values)
    exec("\n".join(import_lines(printer.module_imports)), namespace)
    return np.asarray(eval(text, namespace))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x):
    return np.exp(x) / np.exp(x).sum()


RNG = np.random.default_rng(0)
#: family, its arguments, and its mean in closed form (Cauchy has none: its median)
MEANS = [
    ("Normal", {"loc": RNG.normal(size=4), "scale": RNG.uniform(0.5, 2, 4)}, lambda a: a["loc"]),
    ("Cauchy", {"loc": RNG.normal(size=4), "scale": RNG.uniform(0.5, 2, 4)}, lambda a: a["loc"]),
    ("StudentT", {"df": RNG.uniform(2, 5, 4), "loc": RNG.normal(size=4), "scale": RNG.uniform(0.5, 2, 4)},
     lambda a: a["loc"]),
    ("StudentT", {"df": RNG.uniform(2, 5, 4)}, lambda a: np.zeros(4)),
    ("Exponential", {"rate": RNG.uniform(0.5, 3, 4)}, lambda a: 1 / a["rate"]),
    ("Poisson", {"rate": RNG.uniform(0.5, 3, 4)}, lambda a: a["rate"]),
    ("Bernoulli", {"probs": RNG.uniform(size=4)}, lambda a: a["probs"]),
    ("Bernoulli", {"logits": RNG.normal(size=4)}, lambda a: _sigmoid(a["logits"])),
    ("Categorical", {"probs": RNG.dirichlet(np.ones(4))}, lambda a: a["probs"]),
    ("Categorical", {"logits": RNG.normal(size=4)}, lambda a: _softmax(a["logits"])),
    ("Binomial", {"total_count": RNG.integers(1, 20, 4).astype(float), "probs": RNG.uniform(size=4)},
     lambda a: a["total_count"] * a["probs"]),
    ("Binomial", {"total_count": RNG.integers(1, 20, 4).astype(float), "logits": RNG.normal(size=4)},
     lambda a: a["total_count"] * _sigmoid(a["logits"])),
]


@pytest.mark.parametrize(("family", "arguments", "mean"), MEANS, ids=[f"{f}-{'-'.join(a)}" for f, a, _ in MEANS])
def test_the_location_is_the_closed_form_mean(family, arguments, mean):
    distribution = Distribution(family, tuple((key, sympy.Symbol(key)) for key in arguments))
    got = _value(location(distribution), {k: v.astype(np.float32) for k, v in arguments.items()})
    np.testing.assert_allclose(np.broadcast_to(got, (4,)), mean(arguments), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("family", sorted(set(FAMILIES) - {f for f, _, _ in MEANS} - {"Flat", "HalfFlat"}))
def test_a_family_without_a_location_says_so(family):
    arguments = tuple((key, sympy.Symbol(key)) for key in DISTRIBUTIONS[family].params)
    with pytest.raises(ExportError, match=f"a served {family} has no location in the exported graph yet"):
        location(Distribution(family, arguments))


@pytest.mark.parametrize("spread", ["S", "covariance_matrix=S", "precision_matrix=S", "scale_tril=S"])
@pytest.mark.parametrize("backend", ["pyro", "numpyro"])
def test_a_multivariate_normal_takes_one_of_its_covariance_precision_or_factor(spread, backend):
    m = ainative.model(f"S ∈ ℝ^{{K×K}}; y ∈ ℝ^K\ny ~ MultivariateNormal(0, {spread})",
                       header=f"f(S, y) --backend {backend}")
    assert m.shapes["y"] == ("K",)
    key = spread.split("=")[0] if "=" in spread else "covariance_matrix"
    S = np.array([[2.0, 0.5], [0.5, 1.0]])
    cov = {"covariance_matrix": S, "precision_matrix": np.linalg.inv(S), "scale_tril": S @ S.T}[key]
    count = 4000 if backend == "numpyro" else 1000  # Pyro draws one at a time
    draws = m.sample_prior(count, S=np.tril(S) if key == "scale_tril" else S)["y"]
    assert draws.shape == (count, 2)
    want = np.tril(S) @ np.tril(S).T if key == "scale_tril" else cov
    np.testing.assert_allclose(np.cov(draws.T), want, atol=0.15 if backend == "numpyro" else 0.3)


@pytest.mark.parametrize("text", ["y ~ MultivariateNormal(0)", "y ~ MultivariateNormal(0, S, scale_tril=S)"])
def test_a_multivariate_normal_needs_exactly_one_spread(text):
    with pytest.raises(ainative.ModelError, match=re.escape(DISTRIBUTIONS["MultivariateNormal"].requirement())):
        ainative.model(text, header="f(S, y)")


@pytest.mark.parametrize("backend", ["pyro", "numpyro"])
def test_lkj_cholesky_is_a_correlation_factor_with_the_closed_form_spread(backend):
    m = ainative.model("L ~ LKJCholesky(2, 3)", header=f"f() --backend {backend}")
    assert m.shapes["L"] == (2, 2) and "LKJCholesky(2, 3.0)" in m.source()
    L = m.sample_prior(4000 if backend == "numpyro" else 1000)["L"]
    np.testing.assert_allclose(np.einsum("nij,nkj->nik", L, L)[:, [0, 1], [0, 1]], 1.0, atol=1e-5)
    # the correlation r = L₂₁ of an LKJ(η) 2×2 matrix has (r + 1)/2 ~ Beta(η, η): mean 0, variance 1/(2η + 1)
    r = L[:, 1, 0]
    assert abs(r.mean()) < 0.04 and r.var() == pytest.approx(1 / 7, rel=0.15)


def test_lkj_dim_is_a_positive_integer():
    with pytest.raises(ainative.ModelError, match=r"dim must be a positive integer, not 2\.5"):
        ainative.model("L ~ LKJCholesky(2.5)", header="f()")


@pytest.mark.parametrize(("body", "words", "column"), [
    ("θ ~ Dirichlet(1)", "Dirichlet's concentration holds one entry per category, so it is a vector, and 1 is a scalar",
     15),
    ("z ~ Categorical(0.5)", "Categorical's probs holds one per class, so it is a vector", 17),
    ("z ~ Categorical(logits=2)", "Categorical's logits holds one per class", 24),
])
def test_a_scalar_where_a_family_needs_a_vector_is_an_error_at_the_parameter(body, words, column):
    with pytest.raises(ShapeError, match=words) as info:
        ainative.model(body, header="d()")
    assert (info.value.line, info.value.column) == (1, column)


def test_a_dirichlet_over_a_vector_of_data_samples_on_the_simplex():
    draws = ainative.model("a ∈ ℝ^K\nθ ~ Dirichlet(a)", header="d(a) --backend numpyro").sample_prior(
        50, a=np.array([1.0, 2.0, 3.0]))["theta"]
    assert draws.shape == (50, 3) and np.allclose(draws.sum(-1), 1.0, atol=1e-5) and (draws > 0).all()
