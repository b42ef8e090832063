import pytest

import ainative
from tests.cells import EIGHT_SCHOOLS, GAUSS, LOGISTIC, MLP, REGRESSION


def test_mlp_equations():
    latex = ainative.model(MLP, header="mlp(x) -> y").latex()
    assert latex.startswith("\\begin{aligned}") and latex.endswith("\\end{aligned}")
    assert r"W_{1} &\in \mathbb{R}^{H \times D}" in latex
    assert r"h &= \tanh{\left(W_{1} x + b_{1} \right)}" in latex
    assert r"y &= \operatorname{softmax}\left(W_{2} h + b_{2}\right)" in latex


@pytest.mark.parametrize(
    ("header", "text", "row"),
    [
        ("logistic(x) -> p", LOGISTIC, r"p &= \sigma\left(w^{\top} x + b\right)"),
        ("regression(X, y)", REGRESSION, r"y &\sim \mathcal{N}\left(\alpha + X \beta, \sigma\right)"),
        ("eight_schools(σ, y)", EIGHT_SCHOOLS, r"\theta_{j} &= \mu + \tau \eta_{j} \quad j = 1, \dots, J"),
        ("eight_schools(σ, y)", EIGHT_SCHOOLS, r"\tau &\sim \operatorname{Cauchy}^{+}\left(5\right)"),
        ("gauss(x) -> p --latex", GAUSS, r"{\sqrt{2 \pi s^{2}}}"),
        ("gauss(x) -> p --latex", GAUSS, r"e^{- \frac{\left(x - m\right)^{2}}{2 s^{2}}}"),
        ("f(t, y) -> L", "L = -Σ t ⊙ log(y)", r"L &= - \sum t \log{\left(y \right)}"),
        ("f(z, y)", "y ~ Bernoulli(logits=z)", r"\operatorname{Bernoulli}\left(\text{logits}=z\right)"),
        ("f(x) -> y", "x̂ = 2 x\ny = x̂", r"\hat{x} &= 2 x"),
    ],
)
def test_rows_read_as_written(header, text, row):
    assert row in ainative.model(text, header=header).latex()


def test_repr_latex_is_display_math():
    m = ainative.model(LOGISTIC, header="logistic(x) -> p")
    assert m._repr_latex_() == f"$$\n{m.latex()}\n$$"
