import pytest

import ainative
from ainative.errors import ModelSyntaxError, ShapeError, UnknownNameError
from tests.cells import EIGHT_SCHOOLS, GAUSS, LOGISTIC, MLP, REGRESSION


def test_deterministic_roles_in_statement_order():
    m = ainative.model(MLP, header="mlp(x) -> y")
    assert (m.kind, m.inputs, m.outputs, m.params, m.latents) == (
        "deterministic", ("x",), ("y",), ("W_1", "b_1", "W_2", "b_2"), ())


def test_undeclared_free_symbols_are_scalar_parameters():
    m = ainative.model(LOGISTIC, header="logistic(x) -> p")
    assert m.params == ("w", "b") and m.shapes["b"] == () and m.shapes["w"] == ("D",)
    assert ainative.model(GAUSS, header="gauss(x) -> p --latex").params == ("s", "m")


def test_probabilistic_roles():
    m = ainative.model(REGRESSION, header="regression(X, y)")
    assert (m.kind, m.latents, m.params, m.outputs) == ("probabilistic", ("alpha", "beta", "sigma"), (), ("y",))
    assert m.ir.roles.observed == ("y",)
    schools = ainative.model(EIGHT_SCHOOLS, header="eight_schools(σ, y)")
    assert schools.latents == ("mu", "tau", "eta") and schools.ir.roles.deterministic == ("theta",)
    assert schools.ir.constants == {"J": 8}


def test_default_output_is_the_last_statement():
    assert ainative.model("h = 2 x\nz = h + 1", header="f(x)").outputs == ("z",)


def test_free_symbol_of_a_probabilistic_model_needs_a_distribution():
    with pytest.raises(UnknownNameError) as info:
        ainative.model("mu ~ Normal(0, 1)\ny ~ Normal(mu, sgima)", header="f(y)")
    assert (info.value.line, info.value.column) == (2, 16)
    assert "sgima" in str(info.value)


@pytest.mark.parametrize(
    ("text", "header", "error", "words"),
    [
        ("y = x\ny = 2 x", "f(x) -> y", ModelSyntaxError, "defined twice (first on line 1)"),
        ("x = 2", "f(x) -> x", ModelSyntaxError, "x is an input"),
        ("y = h\nh = x", "f(x) -> y", ModelSyntaxError, "used before it is defined on line 2"),
        ("x ∈ ℝ^D\nD = 2 z\ny = x", "f(x, z) -> y", ShapeError, "must be a constant integer"),
        ("y = x", "f(x) -> z", UnknownNameError, "output z is not defined"),
    ],
)
def test_role_errors(text, header, error, words):
    with pytest.raises(error) as info:
        ainative.model(text, header=header)
    assert words in str(info.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("y ∈ {1..K}^N;  a ∈ ℝ^K\np ~ Dirichlet(a)\ny ~ Categorical(p)",
         "y ~ Categorical, whose value counts from 0, but y is declared in {1..K}"),
        ("y ∈ ℤ^N\nλ ~ Gamma(2, 1)\ny ~ Poisson(λ)",
         "y ~ Poisson, whose value is never negative, but y is declared in ℤ"),
        ("y ∈ {0..2}^N\nθ ~ Beta(1, 1)\ny ~ Bernoulli(θ)",
         "y ~ Bernoulli, whose value is 0 or 1, but y is declared in {0..2}"),
    ],
    ids=["labels", "counts", "flips"],
)
def test_integer_data_outside_its_familys_values_is_refused(text, words):
    with pytest.raises(ModelSyntaxError) as info:
        ainative.model(text, header="m(y, a)" if "Dirichlet" in text else "m(y)")
    assert info.value.message == words and info.value.line == 1


def test_integer_data_inside_its_familys_values_is_accepted():
    for text in ("y ∈ {0..K}^N;  a ∈ ℝ^K\np ~ Dirichlet(a)\ny ~ Categorical(p)",
                 "y ∈ ℕ^N\nλ ~ Gamma(2, 1)\ny ~ Poisson(λ)", "y ∈ {0..1}^N\nθ ~ Beta(1, 1)\ny ~ Bernoulli(θ)",
                 "y ∈ ℤ^N\nμ ~ Normal(0, 1)\ny ~ Normal(μ, 1)"):
        ainative.model(text, header="m(y, a)" if "Dirichlet" in text else "m(y)")


def test_a_dimension_used_as_a_value_is_no_parameter():
    m = ainative.model("x ∈ ℝ^D\ny = D x", header="f(x) -> y")
    assert not m.params and m.ir.roles.dims == ("D",)
