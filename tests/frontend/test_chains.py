"""Hidden Markov chains of class labels: ``z_1 ~ Categorical(ρ)``, ``z_t ~ Categorical(Θ_{z_{t-1}+1})``, read as
one ``Chain``, with every other form of a chain, and every other reader of its labels, an error at the character."""

import pytest

import ainative
from ainative.errors import ModelSyntaxError, ShapeError
from ainative.frontend.ir import Chain
from ainative.printers.latex import print_latex

HMM = """y ∈ ℝ^T;  a ∈ ℝ^K
ρ ~ Dirichlet(a)
Θ_k ~ Dirichlet(a)  for k in 1..K
μ_k ~ 𝒩(0, 5)  for k in 1..K
σ ~ HalfNormal(2)
z_1 ~ Categorical(ρ)
z_t ~ Categorical(Θ_{z_{t-1}+1})  for t in 2..T
y_t ~ 𝒩(μ_{z_t+1}, σ)  for t in 1..T"""

HMM_ASCII = """y in R^T;  a in R^K
rho ~ Dirichlet(a)
Theta[k] ~ Dirichlet(a)  for k in 1..K
mu[k] ~ Normal(0, 5)  for k in 1..K
sigma ~ HalfNormal(2)
z[1] ~ Categorical(rho)
z[t] ~ Categorical(Theta[z[t-1] + 1])  for t in 2..T
y[t] ~ Normal(mu[z[t] + 1], sigma)  for t in 1..T"""

HMM_LATEX = r"""y \in \mathbb{R}^T;  a \in \mathbb{R}^K
\rho \sim \operatorname{Dirichlet}(a)
\Theta_k \sim \operatorname{Dirichlet}(a), \quad k = 1..K
\mu_k \sim \mathcal{N}(0, 5), \quad k = 1..K
\sigma \sim \operatorname{HalfNormal}(2)
z_1 \sim \operatorname{Categorical}(\rho)
z_t \sim \operatorname{Categorical}(\Theta_{z_{t-1}+1}), \quad t = 2..T
y_t \sim \mathcal{N}(\mu_{z_t+1}, \sigma), \quad t = 1..T"""

HEADER = "hmm(y, a)"


def ir(text, header=HEADER):
    return ainative.model(text, header=header).ir


def test_a_chain_of_labels_is_one_statement_with_a_label_for_each_step():
    model = ir(HMM)
    (chain,) = model.chains
    assert isinstance(chain, Chain) and (chain.target, chain.index, str(chain.stop)) == ("z", "t", "T")
    assert (chain.matrix, chain.shift) == ("Theta", 1)
    assert model.shape_of["z"] == ("T",) and dict(model.classes) == {"z": "K"}
    assert "z" in model.roles.latents and "z_1" not in model.shape_of


@pytest.mark.parametrize(("text", "header"), [(HMM_ASCII, HEADER), (HMM_LATEX, HEADER + " --latex")],
                         ids=["ascii", "latex"])
def test_three_spellings_of_a_chain_give_one_ir(text, header):
    assert ir(text, header).statements == ir(HMM).statements


def test_the_latex_of_a_chain_shows_its_first_label_and_its_steps():
    latex = print_latex(ir(HMM))
    assert r"z_{1} &\sim \operatorname{Categorical}\left(\rho\right)" in latex
    assert r"z_{t} &\sim \operatorname{Categorical}\left(\Theta_{1 + z_{-1 + t}}\right) \quad t = 2, \dots, T" in latex


def _replaced(old: str, new: str) -> str:
    assert old in HMM
    return HMM.replace(old, new)


@pytest.mark.parametrize(("text", "error", "words", "position"), [
    (_replaced("z_1 ~ Categorical(ρ)\n", ""), ShapeError, "z_1 is not defined: the chain's steps run over t in 2..T",
     (6, 1)),
    (_replaced("z_1 ~ Categorical(ρ)\nz_t ~ Categorical(Θ_{z_{t-1}+1})  for t in 2..T",
               "z_t ~ Categorical(Θ_{z_{t-1}+1})  for t in 2..T\nz_1 ~ Categorical(ρ)"), ShapeError,
     "z_1 is written after the steps", (6, 1)),
    (_replaced("for t in 2..T\n", "for t in 3..T\n"), ModelSyntaxError, "a chain's steps run over one index from 2",
     (7, 1)),
    (_replaced("Θ_{z_{t-1}+1})", "Θ_{z_{t-2}+1})"), ModelSyntaxError, "reads the label just before it, z_{t-1}",
     (7, 22)),
    (_replaced("Categorical(Θ_{z_{t-1}+1})", "Categorical(softmax(Θ_{z_{t-1}+1}))"), ModelSyntaxError,
     "draws from a row of a matrix of transition probabilities", (7, 19)),
    (_replaced("z_1 ~ Categorical(ρ)", "z_1 ~ 𝒩(0, 1)"), ModelSyntaxError, "so it is drawn from a Categorical",
     (6, 1)),
    (_replaced("Θ_{z_{t-1}+1})", "Θ_{z_{t-1}+2})"), ShapeError, "reaches row K + 1 of Theta", (7, 19)),
    (_replaced("y_t ~ 𝒩(μ_{z_t+1}, σ)  for t in 1..T",
               "m_t = μ_{z_t+1}  for t in 1..T\ny_t ~ 𝒩(m_t, σ)  for t in 1..T"),
     ModelSyntaxError, "only observed statements read its labels", (8, 10)),
    (_replaced("y_t ~ 𝒩(μ_{z_t+1}, σ)  for t in 1..T", "y_t ~ 𝒩(μ_{z_t+1}, σ)  for t in 2..T"), ModelSyntaxError,
     "runs over all of it and reads the label of its own step", (8, 12)),
    (_replaced("y_t ~ 𝒩(μ_{z_t+1}, σ)  for t in 1..T", "y_t ~ 𝒩(μ_{z_{t-1}+1}, σ)  for t in 2..T"), ModelSyntaxError,
     "runs over all of it and reads the label of its own step", (8, 12)),
    (_replaced("μ_{z_t+1}", "z_t"), ShapeError, "z is a class label", (8, 9)),
])
def test_what_is_no_chain_of_labels_is_an_error_at_the_character(text, error, words, position):
    with pytest.raises(error) as info:
        ir(text)
    assert words in str(info.value)
    assert (info.value.line, info.value.column) == position


def test_transition_probabilities_with_a_column_for_each_class():
    body = ("y ∈ ℝ^T;  ρ ∈ ℝ^2;  Θ ∈ ℝ^{2×3}\nμ ∈ ℝ^2\nz_1 ~ Categorical(ρ)\n"
            "z_t ~ Categorical(Θ_{z_{t-1}+1})  for t in 2..T\ny_t ~ 𝒩(μ_{z_t+1}, 1)  for t in 1..T")
    with pytest.raises(ShapeError, match="Theta has 3 columns, but z_1 has 2 classes") as info:
        ainative.model(body, header="hmm(y, ρ, Θ, μ)")
    assert info.value.line == 4


def test_a_chain_over_no_written_range_is_refused_with_how_to_write_one():
    body = "y ∈ ℝ^T;  ρ ∈ ℝ^2;  Θ ∈ ℝ^{2×2}\nz_1 ~ Categorical(ρ)\nz_t ~ Categorical(Θ_{z_{t-1}+1})"
    with pytest.raises(ModelSyntaxError, match=r"then z_t ~ Categorical\(Θ_\{z_\{t-1\}\+1\}\)  for t in 2..T"):
        ainative.model(body, header="hmm(ρ, Θ) -> z")


def test_an_undeclared_transition_matrix_is_asked_for():
    body = ("y ∈ ℝ^T;  ρ ∈ ℝ^2;  μ ∈ ℝ^2\nz_1 ~ Categorical(ρ)\n"
            "z_t ~ Categorical(Θ_{z_{t-1}+1})  for t in 2..T\ny_t ~ 𝒩(μ_{z_t+1}, 1)  for t in 1..T")
    with pytest.raises(ShapeError, match=r"a matrix, not shape scalar \(declare it: Theta ∈ ℝ\^\{2×2\}\)"):
        ainative.model(body, header="hmm(y, ρ, Θ, μ)")
