"""Truncation (``restricted to``), declared supports (``σ ∈ ℝ₊``) and log-density terms (``target +=``): reading."""

import re

import numpy as np
import pytest
import sympy

import ainative
from ainative.errors import ModelSyntaxError, ShapeError, UnknownNameError
from ainative.frontend.ir import Distribution, Domain, Factor, Sampling


def statements(text, header="m(y)"):
    return ainative.model(text, header=header).ir.statements


TRUNCATED = {
    "unicode": ("m(y)", "σ ~ 𝒩(1, 2) restricted to [0, ∞)\ny ~ 𝒩(0, σ)"),
    "ascii": ("m(y)", "sigma ~ Normal(1, 2) restricted to [0, inf)\ny ~ Normal(0, sigma)"),
    "stan": ("m(y)", "sigma ~ Normal(1, 2) T[0, ]\ny ~ Normal(0, sigma)"),
    "latex": ("m(y) --latex", "\\sigma \\sim \\mathcal{N}(1, 2)_{[0, \\infty)}\ny \\sim \\mathcal{N}(0, \\sigma)"),
    "latex words": ("m(y) --latex",
                    "\\sigma \\sim \\mathcal{N}(1, 2) \\text{restricted to} [0, \\infty)\n"
                    "y \\sim \\mathcal{N}(0, \\sigma)"),
}


@pytest.mark.parametrize("spelling", list(TRUNCATED))
def test_the_spellings_of_a_truncation_give_one_ir(spelling):
    header, text = TRUNCATED[spelling]
    got = statements(text, header)
    assert got == statements(*reversed(TRUNCATED["unicode"]))
    assert got[0].distribution == Distribution("Normal", (("loc", 1), ("scale", 2)), sympy.Integer(0), None)


def test_bounds_may_be_names_open_on_either_side_and_in_plates():
    text = ("a = 2\nb ~ 𝒩(0, 1)\nθ_j ~ Cauchy(0, 1) restricted to (-∞, a]  for j in 1..J\n"
            "y_j ~ 𝒩(θ_j, 1) restricted to [b, 10]  for j in 1..J")
    ascii_ = ("a = 2\nb ~ Normal(0, 1)\ntheta_j ~ Cauchy(0, 1) restricted to (-inf, a]  for j in 1..J\n"
              "y_j ~ Normal(theta_j, 1) restricted to [b, 10]  for j in 1..J")
    latex = ("a = 2\nb \\sim \\mathcal{N}(0, 1)\n\\theta_j \\sim \\mathrm{Cauchy}(0, 1)_{(-\\infty, a]}, j = 1..J\n"
             "y_j \\sim \\mathcal{N}(\\theta_j, 1)_{[b, 10]}, j = 1..J")
    got = statements(text)
    assert got == statements(ascii_) == statements(latex, "m(y) --latex")
    assert (got[2].distribution.low, got[2].distribution.high) == (None, sympy.Symbol("a"))
    assert (got[3].distribution.low, got[3].distribution.high) == (sympy.Symbol("b"), sympy.Integer(10))


@pytest.mark.parametrize(("text", "message", "column"), [
    ("σ ~ Gamma(2, 1) restricted to [1, 5]\ny ~ 𝒩(0, σ)", "Gamma cannot be restricted", 17),
    ("k ~ Poisson(3) restricted to [0, 5]\ny ~ 𝒩(k, 1)", "Poisson cannot be restricted", 16),
    ("σ ~ HalfNormal(1) restricted to [-1, 2]\ny ~ 𝒩(0, σ)", "lower bound of -1 lies outside", 34),
    ("σ ~ HalfCauchy(1) restricted to [0, -2]\ny ~ 𝒩(0, σ)", "upper bound of -2 lies outside", 37),
    ("σ ~ 𝒩(0, 1) restricted to [3, 2]\ny ~ 𝒩(0, σ)", "is empty", 13),
    ("σ ~ 𝒩(0, 1) restricted to [2, 2]\ny ~ 𝒩(0, σ)", "is empty", 13),
    ("σ ~ 𝒩(0, 1) restricted to (-∞, ∞)\ny ~ 𝒩(0, σ)", "restricts nothing", 13),
    ("σ ~ 𝒩(0, 1) restricted to [∞, 3]\ny ~ 𝒩(0, σ)", "lower bound of a truncation cannot be ∞", 28),
    ("σ ~ 𝒩(0, 1) restricted to [0, -∞)\ny ~ 𝒩(0, σ)", "upper bound of a truncation cannot be -∞", 31),
])
def test_truncations_that_cannot_be_done_right_are_errors_at_the_character(text, message, column):
    with pytest.raises(ModelSyntaxError, match=message) as error:
        statements(text)
    assert (error.value.span.line, error.value.span.column) == (1, column)


def test_a_bound_is_one_number_and_a_known_name():
    with pytest.raises(ShapeError, match="a truncation's bound is one number") as error:
        statements("v ∈ ℝ^K; v ~ 𝒩(0, 1)\ny ~ 𝒩(0, 1) restricted to [v, ∞)", "m(y)")
    assert error.value.span.column == 28
    with pytest.raises(UnknownNameError, match="lo is not an input"):
        statements("y ~ 𝒩(0, 1) restricted to [lo, ∞)")


SUPPORTED = {
    "unicode": ("m(y)", "σ ∈ ℝ₊\nσ ~ 𝒩(0, 1)\ny ~ 𝒩(0, σ)"),
    "unicode superscript": ("m(y)", "σ ∈ ℝ⁺\nσ ~ 𝒩(0, 1)\ny ~ 𝒩(0, σ)"),
    "ascii": ("m(y)", "sigma in R+\nsigma ~ Normal(0, 1)\ny ~ Normal(0, sigma)"),
    "latex": ("m(y) --latex", "\\sigma \\in \\mathbb{R}_{+}\n"
                              "\\sigma \\sim \\mathcal{N}(0, 1)\n"
                              "y \\sim \\mathcal{N}(0, \\sigma)"),
    "latex superscript": ("m(y) --latex",
                          "\\sigma \\in \\mathbb{R}^{+}\n"
                          "\\sigma \\sim \\mathcal{N}(0, 1)\n"
                          "y \\sim \\mathcal{N}(0, \\sigma)"),
}


@pytest.mark.parametrize("spelling", list(SUPPORTED))
def test_a_declared_support_wider_than_nothing_truncates_the_family(spelling):
    header, text = SUPPORTED[spelling]
    got = statements(text, header)
    assert got == statements(*reversed(SUPPORTED["unicode"]))
    assert got[0].domain == Domain(False, 0, None)
    assert got[1].distribution == Distribution("Normal", (("loc", 0), ("scale", 1)), sympy.Integer(0), None)


def test_a_declared_interval_with_a_shape():
    got = statements("β ∈ [0, 1]^K\nβ ~ 𝒩(0, 1)\ny ~ 𝒩(Σ β, 1)")
    assert got == statements("beta in [0, 1]^K\nbeta ~ Normal(0, 1)\ny ~ Normal(sum(beta), 1)")
    assert got == statements("\\beta \\in [0, 1]^{K}\n"
                             "\\beta \\sim \\mathcal{N}(0, 1)\n"
                             "y \\sim \\mathcal{N}(\\sum \\beta, 1)",
                             "m(y) --latex")
    assert got[1].distribution.low == 0 and got[1].distribution.high == 1
    assert ainative.model("β ∈ [0, 1]^K\nβ ~ 𝒩(0, 1)\ny ~ 𝒩(Σ β, 1)", header="m(y)").ir.shape_of["beta"] == ("K",)


@pytest.mark.parametrize("family", ["HalfNormal(1)", "Exponential(2)", "Gamma(2, 1)", "LogNormal(0, 1)"])
def test_a_family_inside_the_declared_support_is_unchanged(family):
    declared = statements(f"σ ∈ ℝ₊\nσ ~ {family}\ny ~ 𝒩(0, σ)")
    assert declared[1] == statements(f"σ ~ {family}\ny ~ 𝒩(0, σ)")[0]
    assert not declared[1].distribution.truncated


def test_a_half_normal_declared_in_an_interval_is_truncated_above_only():
    got = statements("σ ∈ [0, 3]\nσ ~ HalfNormal(1)\ny ~ 𝒩(0, σ)")
    assert (got[1].distribution.low, got[1].distribution.high) == (None, sympy.Integer(3))
    inside = statements("p ∈ [0, 1]\np ~ Beta(2, 2)\ny ~ Bernoulli(p)")
    assert not inside[1].distribution.truncated


@pytest.mark.parametrize(("text", "message"), [
    ("σ ∈ [-3, -1]\nσ ~ HalfNormal(1)\ny ~ 𝒩(0, σ)", "do not meet"),
    ("σ ∈ [0, 1]\nσ ~ Gamma(2, 1)\ny ~ 𝒩(0, σ)", "Gamma cannot be restricted"),
    ("x ∈ ℝ₊\nσ ~ HalfNormal(1)\ny ~ 𝒩(x, σ)", "only a variable drawn with '~' may have"),
    ("σ ∈ ℝ₊\nσ ~ 𝒩(0, 1) restricted to [-1, 1]\ny ~ 𝒩(0, σ)", "not inside the declared set"),
])
def test_declared_supports_that_cannot_hold_are_errors(text, message):
    with pytest.raises(ModelSyntaxError, match=message) as error:
        statements(text, "m(x, y)")
    assert error.value.span is not None


def test_a_restriction_inside_the_declared_support_is_kept():
    got = statements("σ ∈ ℝ₊\nσ ~ 𝒩(0, 1) restricted to [1, 2]\ny ~ 𝒩(0, σ)")
    assert (got[1].distribution.low, got[1].distribution.high) == (1, 2)


FACTOR = {
    "unicode target": ("m(y)", "μ ~ 𝒩(0, 10)\ntarget += -(μ - 3)² / 2\ny ~ 𝒩(μ, 1)"),
    "unicode log p": ("m(y)", "μ ~ 𝒩(0, 10)\nlog p += -(μ - 3)² / 2\ny ~ 𝒩(μ, 1)"),
    "ascii target": ("m(y)", "mu ~ Normal(0, 10)\ntarget += -(mu - 3)^2 / 2\ny ~ Normal(mu, 1)"),
    "ascii log p": ("m(y)", "mu ~ Normal(0, 10)\nlog p += -(mu - 3)**2 / 2\ny ~ Normal(mu, 1)"),
    "latex log p": ("m(y) --latex",
                    "\\mu \\sim \\mathcal{N}(0, 10)\n"
                    "\\log p \\mathrel{+}= -(\\mu - 3)^2 / 2\n"
                    "y \\sim \\mathcal{N}(\\mu, 1)"),
    "latex target": ("m(y) --latex",
                     "\\mu \\sim \\mathcal{N}(0, 10)\n"
                     "\\text{target} += -(\\mu - 3)^2 / 2\n"
                     "y \\sim \\mathcal{N}(\\mu, 1)"),
}


@pytest.mark.parametrize("spelling", list(FACTOR))
def test_the_spellings_of_a_log_density_term_give_one_ir(spelling):
    header, text = FACTOR[spelling]
    got = statements(text, header)
    assert got == statements(*reversed(FACTOR["unicode target"]))
    assert isinstance(got[1], Factor) and got[1].site == "_target_1"
    assert got[1].expr.free_symbols == {sympy.Symbol("mu")}


def test_a_log_density_term_defines_no_variable_and_each_has_its_own_site():
    m = ainative.model("y ∈ ℝ^N\n"
                       "μ ~ 𝒩(0, 10)\n"
                       "target += -μ²\n"
                       "log p += Σ_i -(y_i - μ)² / 2\n"
                       "y_i ~ 𝒩(μ, 1)  for i in 1..N",
                       header="m(y)")
    roles = m.ir.roles
    assert roles.latents == ("mu",) and roles.observed == ("y",) and roles.deterministic == ()
    assert roles.outputs == ("y",) and roles.params == ()
    assert [f.site for f in m.ir.factors] == ["_target_1", "_target_2"]
    assert [s.target for s in m.ir.statements if isinstance(s, Sampling)] == ["mu", "y"]


def test_a_log_density_term_is_one_number():
    with pytest.raises(ShapeError, match=r"a log-density term is one number.*shape \(K,\)") as error:
        statements("v ∈ ℝ^K; v ~ 𝒩(0, 1)\ntarget += -v²\ny ~ 𝒩(0, 1)")
    assert (error.value.span.line, error.value.span.column) == (2, 11)


def test_a_log_density_term_needs_a_probabilistic_model():
    with pytest.raises(ModelSyntaxError, match="this cell has no '~' statement") as error:
        ainative.model("h = w x\ntarget += -w²", header="m(x) -> h")
    assert (error.value.span.line, error.value.span.column) == (2, 1)


def test_a_log_density_term_uses_known_names_only():
    with pytest.raises(UnknownNameError, match="nu is not an input"):
        statements("μ ~ 𝒩(0, 1)\ntarget += -ν²\ny ~ 𝒩(μ, 1)")
    with pytest.raises(ModelSyntaxError, match="used before it is defined"):
        statements("target += -μ²\nμ ~ 𝒩(0, 1)\ny ~ 𝒩(μ, 1)")


def test_the_latex_printer_prints_the_new_forms():
    latex = ainative.model("σ ∈ ℝ₊\nσ ~ Cauchy(0, 1)\nb ~ 𝒩(0, 1) restricted to [0.5, 3]\ntarget += -b\n"
                           "β ∈ [0, 1]^K\nβ ~ 𝒩(0, 1)\ny ~ 𝒩(b, σ)", header="m(y)").latex()
    assert r"\sigma &\in \mathbb{R}_{+}" in latex
    assert r"\sigma &\sim \operatorname{Cauchy}\left(0, 1\right)_{[0, \infty)}" in latex
    assert r"b &\sim \mathcal{N}\left(0, 1\right)_{[0.5, 3]}" in latex
    assert r"\log p &\mathrel{+}= - b" in latex
    assert r"\beta &\in [0, 1]^{K}" in latex


@pytest.mark.parametrize(("body", "words", "position"), [
    ("σ ~ StudentT(3, 0, 10)\ny ~ 𝒩(0, σ)", "sigma is Normal's scale here, which must be positive, but sigma ~ "
     "StudentT (line 1) takes values below 0: draw it from a positive family (HalfNormal, HalfCauchy, Gamma, …) "
     "(line 2", (2, 10)),
    ("σ ~ Uniform(-1, 5)\ny ~ 𝒩(0, σ)", "but sigma ~ Uniform (line 1) takes values below 0", (2, 10)),
    ("σ ~ 𝒩(0, 1) restricted to [-1, 1]\ny ~ 𝒩(0, σ)", "restricted to [0, ∞), or declare sigma ∈ ℝ₊", (2, 10)),
    ("J = 3\nτ_j ~ 𝒩(0, 1)  for j in 1..J\ny_j ~ 𝒩(0, τ_j)  for j in 1..J", "tau is Normal's scale here", (3, 12)),
    ("λ ~ 𝒩(0, 1)\ny ~ Poisson(λ)", "lambda is Poisson's rate here", (2, 13)),
])
def test_a_latent_below_0_written_as_a_positive_parameter_is_an_error_at_the_parameter(body, words, position):
    with pytest.raises(ModelSyntaxError, match=re.escape(words)) as info:
        ainative.model(body, header="f(y)")
    assert (info.value.line, info.value.column) == position


@pytest.mark.parametrize("body", [
    "σ ~ 𝒩(0, 1) restricted to [0, ∞)\ny ~ 𝒩(0, σ)", "σ ∈ ℝ₊\nσ ~ Cauchy(0, 10)\ny ~ 𝒩(0, σ)",
    "σ ~ HalfNormal(1)\ny ~ 𝒩(0, σ)", "s ~ 𝒩(0, 1)\ny ~ 𝒩(0, exp(s))", "σ ~ Uniform(0, 5)\ny ~ 𝒩(0, σ)",
    "σ ~ 𝒩(0, 1)\ny ~ 𝒩(σ, 1)",
])
def test_a_latent_kept_positive_or_written_where_any_value_goes_is_read(body):
    draws = ainative.model(body, header="f(y) --backend numpyro").sample_prior(200, seed=0)
    assert np.all(np.isfinite(draws["y"]))
