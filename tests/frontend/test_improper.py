"""Improper flat priors (``β ~ Flat()``, ``σ ~ HalfFlat()``): reading, shapes, printing and refusals."""

import re

import pytest
import sympy

import ainative
from ainative.errors import ExportError, ModelSyntaxError
from ainative.frontend.distributions import DISTRIBUTIONS, location
from ainative.frontend.ir import Distribution, Sampling

REGRESSION = {
    "unicode": ("m(X, y)", "X ∈ ℝ^{N×K}; y ∈ ℝ^N\nβ ∈ ℝ^K\nβ ~ Flat()\nα ~ Flat()\nσ ~ HalfFlat()\n"
                           "y ~ 𝒩(α + X β, σ)"),
    "ascii": ("m(X, y)", "X in R^(N, K); y in R^N\nbeta in R^K\nbeta ~ Flat()\nalpha ~ Flat()\nsigma ~ HalfFlat()\n"
                         "y ~ Normal(alpha + X @ beta, sigma)"),
    "latex": ("m(X, y) --latex", "X \\in \\mathbb{R}^{N \\times K} \\\\ y \\in \\mathbb{R}^{N}\n"
                                 "\\beta \\in \\mathbb{R}^{K}\n\\beta \\sim \\operatorname{Flat}()\n"
                                 "\\alpha \\sim \\operatorname{Flat}()\n\\sigma \\sim \\operatorname{HalfFlat}()\n"
                                 "y \\sim \\mathcal{N}(\\alpha + X \\beta, \\sigma)"),
}


def model(key):
    header, text = REGRESSION[key]
    return ainative.model(text, header=header)


@pytest.mark.parametrize("spelling", ["ascii", "latex"])
def test_the_three_spellings_of_flat_priors_give_one_ir(spelling):
    got, unicode = model(spelling).ir, model("unicode").ir
    assert (got.statements, got.roles, got.shapes) == (unicode.statements, unicode.roles, unicode.shapes)


def test_a_flat_family_takes_no_parameters_and_its_values_are_its_support():
    flat, half = DISTRIBUTIONS["Flat"], DISTRIBUTIONS["HalfFlat"]
    assert (flat.params, flat.support, flat.improper) == ((), "real", True)
    assert (half.params, half.support, half.improper) == ((), "positive", True)
    statements = [s for s in model("unicode").ir.statements if isinstance(s, Sampling)]
    assert [s.distribution for s in statements[:3]] == [Distribution("Flat", ()), Distribution("Flat", ()),
                                                          Distribution("HalfFlat", ())]


def test_the_shape_comes_from_the_declaration_the_plate_or_is_a_scalar():
    assert dict(model("unicode").ir.shapes) == {"X": ("N", "K"), "y": ("N",), "beta": ("K",), "alpha": (),
                                                "sigma": ()}
    plated = ainative.model("X ∈ ℝ^{N×K}; y ∈ ℝ^N\nβ_k ~ Flat()  for k in 1..K\ny ~ 𝒩(X β, 1)", header="m(X, y)")
    assert plated.ir.shape_of["beta"] == ("K",)
    matrix = ainative.model("W ∈ ℝ^{J×K}\nW ~ HalfFlat()\ny_j ~ 𝒩(Σ_k W_{j,k}, 1)  for j in 1..J", header="m(y)")
    assert matrix.ir.shape_of["W"] == ("J", "K")


@pytest.mark.parametrize("library", ["pyro", "numpyro"])
def test_the_programs_print_an_improper_uniform_over_the_support_and_import_it(library):
    source = model("unicode").source(library)
    improper = "_improper" if library == "pyro" else "_dist"
    assert f"{improper}.ImproperUniform(_constraints.real, (), ()).expand([K]).to_event(1)" in source
    assert f'"alpha", {improper}.ImproperUniform(_constraints.real, (), ())' in source
    assert f'"sigma", {improper}.ImproperUniform(_constraints.positive, (), ())' in source
    assert f"import {library}.distributions.constraints as _constraints" in source
    if library == "pyro":
        assert "import ainative.runtime.improper as _improper" in source
    # standalone: the module runs on its own and defines the model
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    assert callable(namespace["m"])


def test_a_flat_family_prints_in_latex_without_arguments():
    latex = model("unicode").latex()
    assert r"\beta &\sim \operatorname{Flat}\left(\right)" in latex
    assert r"\sigma &\sim \operatorname{HalfFlat}\left(\right)" in latex


@pytest.mark.parametrize(("header", "text", "words", "column"), [
    ("m(y)", "y ~ Flat()", "y is data (an input), and Flat is an improper prior", 5),
    ("m(y)", "y_i ~ HalfFlat()  for i in 1..N", "y is data (an input), and HalfFlat is an improper prior", 7),
    ("m(y)", "β ~ Flat() restricted to [0, ∞)\ny ~ 𝒩(β, 1)", "Flat cannot be restricted to an interval", 12),
    ("m(y)", "β ~ Flat(1)\ny ~ 𝒩(β, 1)", "Flat takes no arguments", 10),
    ("m(y)", "β ~ Flat(loc=1)\ny ~ 𝒩(β, 1)", "Flat takes no arguments", 14),
    ("m(y)", "β ~ Flat\ny ~ 𝒩(β, 1)", "unexpected 'Flat'", 5),
    ("m(y)", "σ ∈ ℝ₊\nσ ~ Flat()\ny ~ 𝒩(0, σ)", "Flat cannot be restricted to it", 1),
    ("m(y)", "σ ~ Flat()\ny ~ 𝒩(0, σ)", "sigma ~ Flat (line 1) takes values below 0", 10),
    ("m(c, y)", "c ∈ ℝ^2; w ∈ ℝ^2\nw ~ Dirichlet(c)\nz ~ Mixture(w, Flat(), 𝒩(0, 1))\ny ~ 𝒩(z, 1)",
     "Flat is improper (its density has no finite total), so a mixture of it is no distribution", 16),
    ("m(c, y)", "c ∈ ℝ^2; w ∈ ℝ^2\nw ~ Dirichlet(c)\nz ~ MixtureSameFamily(Categorical(w), HalfFlat())\n"
                "y ~ 𝒩(z, 1)", "HalfFlat is improper", 39),
    ("m(y)", "y ~ 𝒩(Flat(), 1)", "Flat is a distribution: use it on the right of '~'", 7),
])
def test_uses_of_a_flat_family_that_mean_nothing_are_refused_at_the_character(header, text, words, column):
    with pytest.raises(ModelSyntaxError, match=re.escape(words)) as info:
        ainative.model(text, header=header)
    assert info.value.span.column == column


def test_a_function_with_no_arguments_is_still_refused():
    with pytest.raises(ModelSyntaxError, match=re.escape("tanh() takes 1 argument(s), got 0")):
        ainative.model("x ∈ ℝ\ny = tanh()", header="m(x) -> y")


@pytest.mark.parametrize("family", ["Flat", "HalfFlat"])
def test_a_served_flat_family_has_no_location(family):
    assert DISTRIBUTIONS[family].location is None and DISTRIBUTIONS[family].truncation is None
    with pytest.raises(ExportError, match=f"a served {family} has no location: it is an improper prior"):
        location(Distribution(family, ()))


def test_a_flat_prior_in_a_model_with_another_family_keeps_both():
    m = ainative.model("β ~ Flat()\nτ ~ HalfNormal(1)\ny ~ 𝒩(β, τ)", header="m(y)")
    assert [s.distribution.family for s in m.ir.statements] == ["Flat", "HalfNormal", "Normal"]
    assert m.ir.statements[1].distribution.args == (("scale", sympy.Integer(1)),)
