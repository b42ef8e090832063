"""Discrete structure: a Categorical latent picks entries (μ_{z_i+1}); its labels count from 0, subscripts from 1,
and every other use of it is an error at the character."""

import numpy as np
import pytest

import ainative
from ainative.errors import ShapeError

GMM = """y ∈ ℝ^N;  lo, hi, a ∈ ℝ^K
θ ~ Dirichlet(a)
μ_k ~ Uniform(lo_k, hi_k)  for k in 1..K
σ ~ HalfNormal(2)
z_i ~ Categorical(θ)  for i in 1..N
y_i ~ 𝒩(μ_{z_i+1}, σ)  for i in 1..N"""

GMM_ASCII = """y in R^N;  lo, hi, a in R^K
theta ~ Dirichlet(a)
mu[k] ~ Uniform(lo[k], hi[k])  for k in 1..K
sigma ~ HalfNormal(2)
z[i] ~ Categorical(theta)  for i in 1..N
y[i] ~ Normal(mu[z[i] + 1], sigma)  for i in 1..N"""

GMM_LATEX = r"""y \in \mathbb{R}^N;  \text{lo}, \text{hi}, a \in \mathbb{R}^K
\theta \sim \operatorname{Dirichlet}(a)
\mu_k \sim \operatorname{Uniform}(\text{lo}_k, \text{hi}_k), k = 1..K
\sigma \sim \operatorname{HalfNormal}(2)
z_i \sim \operatorname{Categorical}(\theta), i = 1..N
y_i \sim \mathcal{N}(\mu_{z_i+1}, \sigma), i = 1..N"""

HEADER = "gmm(lo, hi, a, y)"


def ir(text, header=HEADER):
    return ainative.model(text, header=header).ir


@pytest.mark.parametrize(("text", "header"), [(GMM_ASCII, HEADER), (GMM_LATEX, HEADER + " --latex")],
                         ids=["ascii", "latex"])
def test_three_spellings_of_a_mixture_by_a_latent_label_give_one_ir(text, header):
    one, other = ir(text, header), ir(GMM)
    assert (one.statements, one.roles, one.shapes, one.classes) == (other.statements, other.roles, other.shapes,
                                                                    other.classes)


def test_a_categorical_latent_has_as_many_classes_as_its_probabilities_last_axis():
    model = ir(GMM)
    assert model.classes == (("z", "K"),)
    assert model.shape_of["z"] == ("N",)


def fails(text, words, column, header=HEADER):
    with pytest.raises(ShapeError) as caught:
        ainative.model(text, header=header)
    for word in words:
        assert word in str(caught.value)
    assert caught.value.span.column == column, str(caught.value)


def test_a_label_counts_from_0_so_it_picks_entry_label_plus_1():
    # z ∈ 0..K-1: μ_{z_i} reaches entry 0, which μ (counted from 1) does not have
    fails(GMM.replace("μ_{z_i+1}", "μ_{z_i}"), ["z_i reaches 0", "entries along axis 1 start at 1"], 9)
    fails(GMM.replace("μ_{z_i+1}", "μ_{z_i+2}"), ["reaches K + 1", "beyond the K entries"], 9)


def test_classes_beyond_the_entries_are_refused_when_the_data_binds_them():
    text = GMM.replace("μ_k ~ Uniform(lo_k, hi_k)  for k in 1..K", "μ ~ 𝒩(0, 1); μ ∈ ℝ^J")
    model = ainative.model(text, header=HEADER)
    with pytest.raises(ShapeError, match=r"reaches K, beyond the J entries.*J = 2.*K = 3"):
        model.sample_prior(2, lo=np.zeros(3), hi=np.ones(3), a=np.ones(3), J=2, N=4)


@pytest.mark.parametrize(("use", "column"), [("𝒩(z_i, σ)", 9), ("𝒩(σ + z_i, σ)", 13),
                                             ("𝒩(2 z_i, σ)", 11)])
def test_a_label_used_as_a_number_is_an_error_at_the_label(use, column):
    fails(GMM.replace("𝒩(μ_{z_i+1}, σ)", use), ["z is a class label", "only read as a subscript"], column)


def test_a_whole_label_vector_is_an_error():
    text = GMM.replace("y_i ~ 𝒩(μ_{z_i+1}, σ)  for i in 1..N", "s = Σ z\ny_i ~ 𝒩(μ_{z_i+1}, σ)  for i in 1..N")
    fails(text, ["z is a class label"], 7)


def test_a_continuous_latent_picks_no_entries():
    text = "y ∈ ℝ^N; μ ∈ ℝ^K\nμ ~ 𝒩(0, 1)\nw_i ~ 𝒩(0, 1)  for i in 1..N\ny_i ~ 𝒩(μ_{w_i}, 1)  for i in 1..N"
    fails(text, ["w is used as a subscript", "not a class label"], 12, "g(y)")


def test_a_label_is_read_in_a_statement_over_all_its_entries_with_one_index():
    two = GMM.replace("y ∈ ℝ^N;", "y ∈ ℝ^{N×D};").replace(
        "y_i ~ 𝒩(μ_{z_i+1}, σ)  for i in 1..N", "y_{i,d} ~ 𝒩(μ_{z_i+1}, σ)  for i in 1..N, d in 1..D")
    fails(two, ["z_i", "z is a discrete latent that inference sums out", "its only index"], 16)
    part = GMM.replace("y_i ~ 𝒩(μ_{z_i+1}, σ)  for i in 1..N", "y_i ~ 𝒩(μ_{z_i+1}, σ)  for i in 1..N-1")
    fails(part, ["all its N entries, not 1..N - 1"], 12)


def test_a_summed_out_latent_is_only_read_entry_by_entry():
    bernoulli = "y ∈ ℝ^N\nz_i ~ Bernoulli(0.5)  for i in 1..N\ny ~ 𝒩(Σ z, 1)"
    fails(bernoulli, ["Σ z combines entries of z", "sums out"], 7, "g(y)")
    inside = "y ∈ ℝ^N\nz_i ~ Bernoulli(0.5)  for i in 1..N\ny_i ~ 𝒩(Σ_{j} z_j, 1)  for i in 1..N"
    fails(inside, ["z_j", "sums out"], 15, "g(y)")


def test_a_bernoulli_latent_still_reads_as_a_number_entry_by_entry():
    text = "y ∈ ℝ^N\nθ ~ Beta(1, 1)\nz_i ~ Bernoulli(θ)  for i in 1..N\ny_i ~ 𝒩(-2 + 4 z_i, 1)  for i in 1..N"
    assert ainative.model(text, header="g(y)").ir.classes == ()


SAME = "y ∈ ℝ^N;  w, μ, σ ∈ ℝ^K\ny ~ MixtureSameFamily(Categorical(w), 𝒩(μ, σ))"
SAME_ASCII = "y in R^N;  w, mu, sigma in R^K\ny ~ MixtureSameFamily(Categorical(w), Normal(mu, sigma))"
SAME_LATEX = (r"y \in \mathbb{R}^N;  w, \mu, \sigma \in \mathbb{R}^K" "\n"
              r"y \sim \operatorname{MixtureSameFamily}(\operatorname{Categorical}(w), \mathcal{N}(\mu, \sigma))")
LISTED = "y ∈ ℝ^N;  w ∈ ℝ^2\ny ~ Mixture(w, 𝒩(μ₁, σ₁), StudentT(3, μ₂, σ₂))"
LISTED_ASCII = "y in R^N;  w in R^2\ny ~ Mixture(w, Normal(mu_1, sigma_1), StudentT(3, mu_2, sigma_2))"
LISTED_LATEX = (r"y \in \mathbb{R}^N;  w \in \mathbb{R}^2" "\n"
                r"y \sim \operatorname{Mixture}(w, \mathcal{N}(\mu_1, \sigma_1), \operatorname{StudentT}(3, \mu_2, "
                r"\sigma_2))")
SAME_HEADER = "same(w, μ, σ, y)"
LISTED_HEADER = "listed(w, μ₁, σ₁, μ₂, σ₂, y)"


@pytest.mark.parametrize(("text", "header", "unicode", "unicode_header"), [
    (SAME_ASCII, SAME_HEADER, SAME, SAME_HEADER), (SAME_LATEX, SAME_HEADER + " --latex", SAME, SAME_HEADER),
    (LISTED_ASCII, LISTED_HEADER, LISTED, LISTED_HEADER),
    (LISTED_LATEX, LISTED_HEADER + " --latex", LISTED, LISTED_HEADER)], ids=["same-ascii", "same-latex",
                                                                            "listed-ascii", "listed-latex"])
def test_three_spellings_of_a_mixture_give_one_ir(text, header, unicode, unicode_header):
    one, other = ir(text, header), ir(unicode, unicode_header)
    assert (one.statements, one.roles, one.shapes) == (other.statements, other.roles, other.shapes)


def test_a_mixture_holds_its_components_as_distributions():
    from ainative.frontend.nodes import Component

    (statement,) = [s for s in ir(LISTED, LISTED_HEADER).statements if hasattr(s, "distribution")]
    assert statement.distribution.family == "Mixture"
    weights, components = statement.distribution.values
    assert str(weights) == "w" and [c.family for c in components.args] == ["Normal", "StudentT"]
    assert all(isinstance(c, Component) for c in components.args)
    assert [k for k, _ in components.args[1].arguments] == ["df", "loc", "scale"]
    assert ir(SAME, SAME_HEADER).shape_of["y"] == ("N",)


def test_the_latex_of_a_mixture_shows_its_components():
    from ainative.printers.latex import print_latex

    latex = print_latex(ir(LISTED, LISTED_HEADER))
    assert (r"y &\sim \operatorname{Mixture}\left(w, \mathcal{N}\left(\mu_{1}, \sigma_{1}\right), "
            r"t\left(3, \mu_{2}, \sigma_{2}\right)\right)") in latex


@pytest.mark.parametrize(("text", "words", "column"), [
    ("h = 𝒩(0, 1)", ["𝒩 is a distribution", "Normal is a distribution"], 5),
    ("y ~ 𝒩(𝒩(0, 1), 1)", ["Normal is a distribution"], 7),
    ("y ~ 𝒩(1 + 𝒩(0, 1), 1)", ["Normal is a distribution"], 11),
    ("y ~ MixtureSameFamily(w, 𝒩(μ, σ))", ["argument 1 is a Categorical over the components, not w"], 23),
    ("y ~ MixtureSameFamily(Categorical(w), Categorical(w))", ["argument 2 is one distribution",
                                                              "not Categorical(w)"], 39),
    ("y ~ Mixture(w, 𝒩(0, 1))", ["takes the weights, then a distribution a component (3 arguments), not 2"], 5),
    ("y ~ Mixture(Categorical(w), 𝒩(0, 1), 𝒩(1, 1))", ["argument 1 is the weights, not Categorical(w)"], 13),
    ("y ~ Mixture(w, 𝒩(0, 1), Mixture(w, 𝒩(0, 1), 𝒩(1, 1)))", ["Mixture is a mixture", "not a component"], 25),
    ("y ~ Mixture(w, 𝒩(0, 1), 𝒩(1, -1))", ["scale must be positive"], 30),
    ("y ~ Mixture(probs=w, 𝒩(0, 1), 𝒩(1, 1))", ["takes its arguments by position"], 5),
    ("y ~ Mixture(w, 𝒩(0, 1), Gamma(1, 1))", ["one set: Normal's are real, Gamma's positive"], 25),
    ("y ~ Mixture(w, 𝒩(0, 1), Dirichlet(μ))", ["one set: Normal's are real, Dirichlet's simplex"], 25),
])
def test_distributions_as_arguments_only_in_a_mixture(text, words, column):
    from ainative.errors import ModelSyntaxError

    with pytest.raises(ModelSyntaxError) as caught:
        ainative.model("y ∈ ℝ^N;  w ∈ ℝ^2;  μ, σ ∈ ℝ^2\n" + text, header="bad(w, μ, σ, y)")
    assert any(word in str(caught.value) for word in words), str(caught.value)
    assert caught.value.span.column == column, str(caught.value)


@pytest.mark.parametrize(("text", "words", "column"), [
    ("y ∈ ℝ^N;  w ∈ ℝ^3;  μ, σ ∈ ℝ^2\ny ~ MixtureSameFamily(Categorical(w), 𝒩(μ, σ))",
     ["𝒩(μ, σ) has 2 components along its last axis, and Categorical(w) picks one of 3"], 39),
    ("y ∈ ℝ^N;  w ∈ ℝ^3\ny ~ MixtureSameFamily(Categorical(w), 𝒩(0, 1))", ["last axis holds the components"], 39),
    ("y ∈ ℝ^N;  w ∈ ℝ^3\ny ~ Mixture(w, 𝒩(0, 1), 𝒩(1, 1))", ["w weighs 2 components", "shape (3,)"], 13),
    ("y ∈ ℝ^N;  w ∈ ℝ^2\ny_i ~ Mixture(w, 𝒩(0, 1), 𝒩(x_{N+1-i}, 1))  for i in 1..N", ["without indices"], 1),
])
def test_mixture_shapes_are_checked_when_the_cell_is_read(text, words, column):
    with pytest.raises(ShapeError) as caught:
        ainative.model(text, header="bad(w, x, y)" if "x_" in text else "bad(w, μ, σ, y)")
    assert all(word in str(caught.value) for word in words), str(caught.value)
    assert caught.value.span.column == column, str(caught.value)


def test_the_weights_bind_a_dimension_to_the_number_of_components():
    model = ir("y ∈ ℝ^N;  w ∈ ℝ^K\ny ~ Mixture(w, 𝒩(0, 1), 𝒩(3, 1))", "two(w, y)")
    assert dict(model.dim_values) == {"K": 2}


@pytest.mark.parametrize(("text", "words", "column"), [
    ("y ∈ ℝ^N\nz_i ~ Bernoulli(0.3)  for i in 1..N\ny ~ 𝒩(4 z, 1)", ["z has shape (N,)", "entry by entry"], 9),
    ("y ∈ ℝ^N\nz_i ~ Bernoulli(0.3)  for i in 1..N\ny_j ~ 𝒩(4 z_j, 1)  for j in 1..N",
     ["z_j: z is a discrete latent", "drawn in the plate over i"], 11),
    (GMM.replace("y_i ~ 𝒩(μ_{z_i+1}, σ)  for i in 1..N", "y_j ~ 𝒩(μ_{z_j+1}, σ)  for j in 1..N"),
     ["drawn in the plate over i"], 12),
    ("y ∈ ℝ^N; p ∈ ℝ^N\nz_i ~ Bernoulli(p_{N+1-i})\ny_i ~ 𝒩(4 z_i, 1)  for i in 1..N",
     ["draw it in a plate over its rows"], 1),
])
def test_a_summed_out_latent_is_read_in_the_plate_it_is_drawn_in(text, words, column):
    fails(text, words, column, "g(lo, hi, a, p, y)")


def test_a_summed_out_latent_without_a_plate_is_read_whole():
    model = ainative.model("y ∈ ℝ^N\nz ~ Bernoulli(0.3)\ny ~ 𝒩(4 z, 1)", header="g(y)")
    assert model.ir.shape_of["z"] == ()


def test_a_label_drawn_without_a_plate_picks_no_entries():
    text = "y ∈ ℝ^N;  μ, θ ∈ ℝ^2\nz ~ Categorical(θ)\ny ~ 𝒩(μ_{z+1}, 1)"
    fails(text, ["z is a class label drawn without a plate", "z_i ~ Categorical(θ)"], 7, "g(μ, θ, y)")
