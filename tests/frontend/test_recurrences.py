"""Recurrences: each spelling reads to one ``Recurrence``, the rows a recurrence needs are checked, and a
statement that refers to itself in any other way is refused at the character."""

import pytest
import sympy

import ainative
from ainative.errors import ModelSyntaxError, ShapeError
from ainative.frontend.ir import Recurrence, Sampling
from ainative.frontend.nodes import Entry, Lagged, Row
from tests.cells import LSTM


def statements(text, header, **options):
    return ainative.model(text, header=header, **options).ir.statements


def recurrence(text, header):
    (found,) = [s for s in statements(text, header) if isinstance(s, Recurrence)]
    return found


#: one recurrence per form, in its Unicode, ASCII and LaTeX spellings
SPELLINGS = {
    "elman network": (
        "rnn(x) -> h",
        "x ∈ ℝ^{T×D}\nW ∈ ℝ^{H×H}\nU ∈ ℝ^{H×D}\nb ∈ ℝ^H\nh_1 = tanh(U x_1 + b)\n"
        "h_t = tanh(W h_{t-1} + U x_t + b)  for t in 2..T",
        "x in R^(T, D)\nW in R^(H, H)\nU in R^(H, D)\nb in R^H\nh[1] = tanh(U @ x[1] + b)\n"
        "h[t] = tanh(W @ h[t-1] + U @ x[t] + b)  for t in 2..T",
        r"x \in \mathbb{R}^{T \times D} \\ W \in \mathbb{R}^{H \times H} \\ U \in \mathbb{R}^{H \times D} \\"
        r" b \in \mathbb{R}^H \\ h_1 = \tanh(U x_1 + b) \\ h_t = \tanh(W h_{t-1} + U x_t + b), \quad t = 2..T",
    ),
    "volatility": (
        "vol(r) -> v",
        "r ∈ ℝ^T\nv_1 = 1\nv_t = ω + α (r_{t-1} - μ)² + β v_{t-1}  for t in 2..T",
        "r in R^T\nv[1] = 1\nv[t] = omega + alpha * (r[t-1] - mu)^2 + beta * v[t-1]  for t in 2..T",
        r"r \in \mathbb{R}^T \\ v_1 = 1 \\ v_t = \omega + \alpha (r_{t-1} - \mu)^2 + \beta v_{t-1}, \quad t = 2..T",
    ),
    "second order": (
        "ar(x) -> y",
        "x ∈ ℝ^T\ny_0 = 0\ny_1 = x_1\ny_t = a y_{t-1} + b y_{t-2} + x_t  for t in 2..T",
        "x in R^T\ny[0] = 0\ny[1] = x[1]\ny[t] = a * y[t-1] + b * y[t-2] + x[t]  for t in 2..T",
        r"x \in \mathbb{R}^T \\ y_0 = 0 \\ y_1 = x_1 \\ y_t = a y_{t-1} + b y_{t-2} + x_t, \quad t = 2..T",
    ),
    "forward algorithm": (
        "hmm(e) -> a",
        "e ∈ ℝ^{T×K}\nΘ ∈ ℝ^{K×K}\nρ ∈ ℝ^K\na_1 = log(ρ) + e_1\n"
        "a_{t,k} = logsumexp_j(a_{t-1,j} + log(Θ_{j,k})) + e_{t,k}  for t in 2..T, k in 1..K",
        "e in R^(T, K)\nTheta in R^(K, K)\nrho in R^K\na[1] = log(rho) + e[1]\n"
        "a[t, k] = logsumexp_j(a[t-1, j] + log(Theta[j, k])) + e[t, k]  for t in 2..T, k in 1..K",
        r"e \in \mathbb{R}^{T \times K} \\ \Theta \in \mathbb{R}^{K \times K} \\ \rho \in \mathbb{R}^K \\"
        r" a_1 = \log(\rho) + e_1 \\ a_{t,k} = \operatorname{logsumexp}_j\left(a_{t-1,j} + \log(\Theta_{j,k})\right)"
        r" + e_{t,k}, \quad t = 2..T, k = 1..K",
    ),
}


@pytest.mark.parametrize("form", list(SPELLINGS))
def test_the_three_spellings_read_to_one_recurrence(form):
    header, unicode, ascii, latex = SPELLINGS[form]
    reference = statements(unicode, header)
    assert any(isinstance(s, Recurrence) for s in reference)
    assert statements(ascii, header) == reference
    assert statements(latex, header + " --latex") == reference


def test_a_step_is_math_over_rows_and_its_first_rows_are_initial_statements():
    header, body = SPELLINGS["elman network"][:2]
    found = recurrence(body, header)
    assert (found.index, found.start, found.stop) == ("t", 2, sympy.Symbol("T"))
    assert [(row.target, row.position) for row in found.initial] == [("h", 1)]
    assert found.initial[0].expr.has(Row(sympy.Symbol("x"), sympy.Integer(1)))
    (step,) = found.steps
    assert step.target == "h" and not step.indices
    assert step.expr.has(Lagged.of("h", 1)) and step.expr.has(Lagged.of("x", 0))
    assert found.lags == {"h": 1} and found.sequences == (Lagged.of("x", 0),)
    model = ainative.model(body, header=header)
    assert model.shapes["h"] == ("T", "H") and model.ir.roles.deterministic == ("h",)


def test_lags_beyond_one_read_back_as_far_as_written_from_rows_before_the_first():
    header, body = SPELLINGS["second order"][:2]
    found = recurrence(body, header)
    assert found.lags == {"y": 2}
    assert sorted(row.position for row in found.initial) == [0, 1]
    assert ainative.model(body, header=header).shapes["y"] == ("T",)


def test_a_step_written_with_indices_keeps_its_other_indices():
    header, body = SPELLINGS["forward algorithm"][:2]
    (step,) = recurrence(body, header).steps
    assert [r.index for r in step.indices] == ["k"]
    assert step.expr.has(Lagged.of("a", 1)) and any(isinstance(e, Entry) and e.args[0] == Lagged.of("a", 1)
                                                     for e in sympy.preorder_traversal(step.expr))
    assert ainative.model(body, header=header).shapes["a"] == ("T", "K")


def test_statements_over_one_range_that_read_each_other_are_one_recurrence():
    found = recurrence(LSTM, "lstm(x) -> h")
    assert found.targets == ("f", "i", "o", "g", "c", "h")
    assert found.lags == {"c": 1, "h": 1}
    assert all(row.fills for row in found.initial)
    shapes = ainative.model(LSTM, header="lstm(x) -> h").shapes
    assert all(shapes[name] == ("T", "H") for name in found.targets)


def test_a_row_by_its_position_is_read_where_the_name_is_not_defined():
    body = SPELLINGS["elman network"][1] + "\nV ∈ ℝ^{2×H}\ny = V h_T"
    model = ainative.model(body, header="rnn(x) -> y")
    assert model.shapes["y"] == (2,)
    assert model.ir.statements[-1].expr.has(Row(sympy.Symbol("h"), sympy.Symbol("T")))
    kept = ainative.model("x ∈ ℝ^{T×D}\nW ∈ ℝ^{H×D}\nW_1 ∈ ℝ^{H×D}\nh_1 = tanh(W_1 x_1)\n"
                          "h_t = tanh(W x_t + h_{t-1})  for t in 2..T", header="f(x) -> h")
    assert set(kept.params) == {"W", "W_1"}


def test_an_observed_series_read_at_earlier_entries_is_data_not_a_recurrence():
    body = "y ∈ ℝ^T\nα ~ 𝒩(0, 1)\nβ ~ 𝒩(0, 1)\nσ ~ HalfNormal(1)\ny_t ~ 𝒩(α + β y_{t-1}, σ)  for t in 2..T"
    statement = statements(body, "ar(y)")[-1]
    assert isinstance(statement, Sampling)
    assert [(r.index, r.start, r.stop) for r in statement.indices] == [("t", 2, sympy.Symbol("T"))]


@pytest.mark.parametrize(("body", "error", "words"), [
    ("x ∈ ℝ^T\nh_t = h_{t-1} + x_t  for t in 2..T", ShapeError, "h_1 is not defined"),
    ("x ∈ ℝ^T\ny_1 = x_1\ny_t = y_{t-1} + y_{t-2}  for t in 2..T", ShapeError, "y_0 is not defined"),
    ("x ∈ ℝ^T\ny_0 = 0\ny_1 = x_1\ny_t = y_{t-3} + x_t  for t in 2..T", ShapeError, "start the steps later"),
    ("x ∈ ℝ^T\nh_0 = 0\nh_1 = x_1\nh_t = h_{t-1} + x_t  for t in 2..T", ModelSyntaxError, "h_0 is never read"),
    ("x ∈ ℝ^T\nh_1 = x_1\nh_2 = x_2\nh_t = h_{t-1} + x_t  for t in 2..T", ModelSyntaxError, "h_2 is a step"),
    ("x ∈ ℝ^T\nh_t = h_{t-1} + x_t  for t in 2..T\nh_1 = x_1", ModelSyntaxError, "so it is written before it"),
    ("x ∈ ℝ^T\nh_1 = x_1\nh_t = h_{t+1} + x_t  for t in 2..T", ModelSyntaxError, "is a later step"),
    ("x ∈ ℝ^T\nh_1 = x_1\ng_1 = x_1\nh_t = g_t + h_{t-1}  for t in 2..T\ng_t = h_{t-1}  for t in 2..T",
     ModelSyntaxError, "is computed below this statement"),
    ("x ∈ ℝ^T\nh_1 = x_1\nh_t = h_t + h_{t-1}  for t in 2..T", ModelSyntaxError, "is this statement"),
    ("x ∈ ℝ^N\nh_1 = x_1\nh_t = h_{t-1} + x_{2t}  for t in 2..T", ModelSyntaxError, "minus a whole number"),
    ("x ∈ ℝ^T\nh_1 = x_1\nh_t = h_{t-1} + t  for t in 2..T", ModelSyntaxError, "counts the steps"),
    ("x ∈ ℝ^T\nA ∈ ℝ^{2×T}\nh_1 = x_1\nh_t = h_{t-1} + A_{1,t}  for t in 2..T", ModelSyntaxError,
     "subscripts the first axis only"),
    ("x ∈ ℝ^T\nh_t = h_{t-1} + x_t", ModelSyntaxError, "writes the range of its steps (for t in 2..T)"),
    ("x ∈ ℝ^3\nh = tanh(h + x)", ModelSyntaxError, "in terms of itself"),
    ("x ∈ ℝ^T\nh_1 = x_1\nh_t = h_{t-1} + x_{t-2}  for t in 2..T", ShapeError, "reaches row 0 of x"),
    ("x ∈ ℝ^{T×D}\nW ∈ ℝ^{H×D}\nh_1 = W x_1\nh_t = Σ h_{t-1}  for t in 2..T", ShapeError,
     "keeps one shape from step to step"),
    ("x ∈ ℝ^{T×D}\nW ∈ ℝ^{H×D}\nh_0 = 0\nh_t = tanh(W x_t) + h_{t-1}  for t in 1..T", ShapeError,
     "keeps one shape from step to step"),
    ("x ∈ ℝ^T\nh ∈ ℝ\nh_1 = x_1\nh_t = h_{t-1} + x_t  for t in 2..T", ShapeError, "declared a scalar"),
    ("x ∈ ℝ^T\nh_1 = x_1\nh_t = h_{t-1} + x_t  for t in 2..T\ny = h_{T+1}", ShapeError, "beyond the T entries of h"),
])
def test_what_is_no_recurrence_is_an_error_at_the_character(body, error, words):
    header = "f(x) -> y" if "\ny =" in body else "f(x) -> h" if "h" in body else "f(x) -> y"
    with pytest.raises(error) as info:
        ainative.model(body, header=header)
    assert words in str(info.value)
    assert info.value.line is not None


def test_a_row_beyond_the_array_is_an_error_at_the_character():
    body = "x ∈ ℝ^5\nh_1 = x_1\nh_t = h_{t-1} + x_t  for t in 2..5\ny = h_6"
    with pytest.raises(ShapeError, match="reaches row 6 of h, beyond its 5 rows") as info:
        ainative.model(body, header="f(x) -> y")
    assert (info.value.line, info.value.column) == (4, 5)


def test_a_chain_of_continuous_latents_is_refused_not_misread():
    body = "z ∈ ℝ^T\nz_1 ~ 𝒩(0, 1)\nz_t ~ 𝒩(z_{t-1}, 1)  for t in 2..T"
    with pytest.raises(ModelSyntaxError, match="a chain of continuous latent variables is not read yet") as info:
        ainative.model(body, header="chain() -> z")
    assert info.value.line == 3


def test_a_scalar_first_row_fills_a_declared_row():
    body = "x ∈ ℝ^{T×D}\nh ∈ ℝ^{T×H}\nW ∈ ℝ^{H×D}\nh_0 = 0\nh_t = tanh(W x_t) + h_{t-1}  for t in 1..T"
    (row,) = recurrence(body, "f(x) -> h").initial
    assert row.fills and row.position == 0
