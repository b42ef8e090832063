"""Subscripts that index: each spelling of each form reads to one IR, and a subscript that is not made of
indices stays part of its name, as it always was."""

import numpy as np
import pytest
import sympy

import ainative
from ainative.errors import ModelSyntaxError, ShapeError
from ainative.frontend.ir import Assignment, Sampling
from ainative.frontend.nodes import (
    Delta,
    Element,
    Entry,
    Index,
    IndexMax,
    IndexMean,
    IndexProduct,
    IndexSoftmax,
    IndexSum,
)

INDEX_I, INDEX_J, INDEX_K, INDEX_T, INDEX_S = (Index(n) for n in "ijkts")


def statements(text, header, **options):
    return ainative.model(text, header=header, **options).ir.statements


def last(text, header, **options):
    return statements(text, header, **options)[-1]


#: one model per form, in its Unicode, ASCII and LaTeX spellings
SPELLINGS = {
    "gaussian process kernel": (
        "gp(x) -> K",
        "x ∈ ℝ^N\nK_{ij} = α² exp(-(x_i - x_j)² / (2ℓ²)) + σ² δ_{ij}",
        "x in R^N\nK[i, j] = alpha^2 * exp(-(x[i] - x[j])^2 / (2*ell^2)) + sigma^2 * delta[i, j]",
        r"x \in \mathbb{R}^N \\ K_{ij} = \alpha^2 \exp\left(\frac{-(x_i - x_j)^2}{2\ell^2}\right)"
        r" + \sigma^2 \delta_{ij}",
    ),
    "convolution": (
        "conv(x) -> y",
        "K = 3\nx ∈ ℝ^T\ny_t = Σ_{k=1}^{K} w_k x_{t+k-1}  for t in 1..T-K+1",
        "K = 3\nx in R^T\ny[t] = sum_{k=1..K}(w[k] * x[t+k-1])  for t in 1..T-K+1",
        r"K = 3 \\ x \in \mathbb{R}^T \\ y_t = \sum_{k=1}^{K} w_k x_{t+k-1}, \quad t = 1..T-K+1",
    ),
    "layer norm": (
        "ln(x) -> h",
        "x ∈ ℝ^{T×D}\nμ_t = mean_d x_{t,d}\nv_t = mean_d (x_{t,d} - μ_t)²\n"
        "h_{t,d} = (x_{t,d} - μ_t) / √(v_t + 0.00001)",
        "x in R^(T, D)\nmu[t] = mean_d(x[t, d])\nv[t] = mean_d((x[t, d] - mu[t])^2)\n"
        "h[t, d] = (x[t, d] - mu[t]) / sqrt(v[t] + 0.00001)",
        r"x \in \mathbb{R}^{T \times D} \\ \mu_t = \operatorname{mean}_d x_{t,d} \\"
        r" v_t = \operatorname{mean}_d (x_{t,d} - \mu_t)^2 \\ h_{t,d} = \frac{x_{t,d} - \mu_t}{\sqrt{v_t + 0.00001}}",
    ),
    "attention weights": (
        "att(x) -> A",
        "x ∈ ℝ^{T×D}\nA_{t,s} = softmax_s(Σ_d x_{t,d} x_{s,d})",
        "x in R^(T, D)\nA[t, s] = softmax_s(sum_d(x[t, d] * x[s, d]))",
        r"x \in \mathbb{R}^{T \times D} \\ A_{t,s} = \operatorname{softmax}_s\left(\sum_d x_{t,d} x_{s,d}\right)",
    ),
    "max pooling": (
        "pool(x) -> m",
        "S = 3\nx ∈ ℝ^6\nm_t = max_{k=1..2} x_{2t+k-2}  for t in 1..S",
        "S = 3\nx in R^6\nm[t] = max_{k=1..2}(x[2*t+k-2])  for t in 1..S",
        r"S = 3 \\ x \in \mathbb{R}^6 \\ m_t = \max_{k=1}^{2} x_{2t+k-2}, t = 1..S",
    ),
    "product over an index": (
        "p(x) -> q",
        "x ∈ ℝ^N\nq = ∏_{n=1}^{N} x_n",
        "x in R^N\nq = prod_{n=1..N}(x[n])",
        r"x \in \mathbb{R}^N \\ q = \prod_{n=1}^{N} x_n",
    ),
}


@pytest.mark.parametrize("form", list(SPELLINGS))
def test_the_three_spellings_read_to_one_ir(form):
    header, unicode, ascii, latex = SPELLINGS[form]
    reference = statements(unicode, header)
    assert statements(ascii, header) == reference
    assert statements(latex, header + " --latex") == reference


def test_a_kernel_reads_as_an_array_over_two_free_indices():
    statement = last(SPELLINGS["gaussian process kernel"][1], "gp(x) -> K")
    assert [(r.index, r.start, r.stop) for r in statement.indices] == [("i", 1, sympy.Symbol("N")),
                                                                         ("j", 1, sympy.Symbol("N"))]
    assert statement.expr.has(Entry(sympy.Symbol("x"), INDEX_I)) and statement.expr.has(Delta(INDEX_I, INDEX_J))
    assert ainative.model(SPELLINGS["gaussian process kernel"][1], header="gp(x) -> K").ir.shape_of["K"] == ("N", "N")


def test_reductions_keep_their_index_and_range():
    conv = last(SPELLINGS["convolution"][1], "conv(x) -> y")
    (total,) = conv.expr.atoms(IndexSum)
    assert (total.index, total.start, total.stop) == (INDEX_K, 1, sympy.Symbol("K"))
    assert total.body.has(Entry(sympy.Symbol("x"), INDEX_T + INDEX_K - 1))
    assert ainative.model(SPELLINGS["convolution"][1], header="conv(x) -> y").ir.shape_of["y"] == (
        ainative.frontend.ir.Size(sympy.Symbol("T") - sympy.Symbol("K") + 1),)
    mean = statements(SPELLINGS["layer norm"][1], "ln(x) -> h")[1]
    assert isinstance(mean.expr, IndexMean) and mean.expr.stop == sympy.Symbol("D")
    attention = last(SPELLINGS["attention weights"][1], "att(x) -> A")
    assert isinstance(attention.expr, IndexSoftmax) and attention.expr.index == INDEX_S
    assert isinstance(last(SPELLINGS["max pooling"][1], "pool(x) -> m").expr, IndexMax)
    assert isinstance(last(SPELLINGS["product over an index"][1], "p(x) -> q").expr, IndexProduct)


def test_a_range_is_inferred_from_offsets_when_no_plate_writes_it():
    conv = ainative.model("K = 3\nx ∈ ℝ^T\ny_t = Σ_{k=1}^{K} w_k x_{t+k-1}", header="f(x) -> y")
    (free,) = conv.ir.statements[-1].indices
    assert (free.start, free.stop) == (1, sympy.Symbol("T") - sympy.Symbol("K") + 1)
    x = np.random.default_rng(2).normal(size=(2, 9)).astype(np.float32)
    w = np.float32([1, -2, 0.5])
    np.testing.assert_allclose(np.asarray(conv({"w": w}, x=x)), np.stack([np.correlate(r, w, "valid") for r in x]),
                               rtol=1e-5, atol=1e-6)


def test_a_subscript_that_is_no_index_stays_part_of_the_name():
    model = ainative.model("x ∈ ℝ^D\nh_1 = tanh(W_1 x + b_out)\ny_t = h_1 x_t  for t in 1..D", header="f(x) -> y")
    assert set(model.params) == {"W_1", "b_out"}
    assert isinstance(model.ir.statements[-1], Assignment) and model.ir.statements[-1].expr.has(Element)


def test_a_plate_that_takes_rows_keeps_its_meaning():
    statement = last("x ∈ ℝ^{T×D}\nW ∈ ℝ^{H×D}\nh_t = tanh(W x_t)  for t in 1..T", "f(x) -> h")
    assert statement.plate is not None and not statement.indices
    assert statement.expr.has(Element(sympy.Symbol("x"), sympy.Symbol("t")))


#: every spelling the notation used to misread or refuse, the shape of its input, and what it means now
FORMERLY_MISREAD = [
    ("x ∈ ℝ^T\ny_t = x_{t+1}  for t in 1..T-1", (7,), lambda x: x[1:]),
    ("x ∈ ℝ^6\ny_t = x_{2t}  for t in 1..3", (6,), lambda x: x[1::2]),
    ("x ∈ ℝ^{3×4}\ny_{ij} = x_{ij}", (3, 4), lambda x: x),
    ("x ∈ ℝ^{3×4}\ny_{i,j} = x_{j,i}  for i in 1..4, j in 1..3", (3, 4), lambda x: x.T),
    ("x ∈ ℝ^5\ny = x[2]", (5,), lambda x: x[1]),
    ("x ∈ ℝ^5\ny_i = x[i]", (5,), lambda x: x),
    ("x ∈ ℝ^5\ny = Σ_j x_j", (5,), lambda x: x.sum()),
    ("x ∈ ℝ^5\ny = Σ x", (5,), lambda x: x.sum()),
    ("x ∈ ℝ^{4×3}\ny_t = mean_d x_{t,d}", (4, 3), lambda x: x.mean(-1)),
    ("x ∈ ℝ^{4×3}\ny_t = max_d x_{t,d}", (4, 3), lambda x: x.max(-1)),
    ("x ∈ ℝ^{4×3}\ny_t = logsumexp_d x_{t,d}", (4, 3), lambda x: np.log(np.exp(x).sum(-1))),
]


@pytest.mark.parametrize(("body", "shape", "reference"), FORMERLY_MISREAD, ids=[b for b, _, _ in FORMERLY_MISREAD])
def test_each_formerly_misread_spelling_has_its_meaning(body, shape, reference):
    model = ainative.model(body, header="f(x) -> y")
    assert not model.params
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    np.testing.assert_allclose(np.asarray(model({}, x=x)), reference(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("body", "error", "words"), [
    ("x ∈ ℝ^T\ny_t = x_{t-1}  for t in 1..T", ShapeError, "t - 1 reaches 0"),
    ("x ∈ ℝ^T\ny_t = x_{t+1}  for t in 1..T", ShapeError, "beyond the T entries of x"),
    ("x ∈ ℝ^5\ny = x[0]", ShapeError, "reaches 0"),
    ("x ∈ ℝ^5\ny = x_{i+1}", ShapeError, "i is in a subscript, but it is not an index here"),
    ("x ∈ ℝ^T\ny_t = x_t1  for t in 1..T", ModelSyntaxError, "puts a number next to the index t"),
    ("x ∈ ℝ^{3×4}\ny_i = x_i", ShapeError, "takes 2 subscript(s), not 1"),
    ("x ∈ ℝ^{3×4}\ns = Σ_j x_{j}", ShapeError, "takes 2 subscript(s), not 1"),
    ("x ∈ ℝ^5\nw ∈ ℝ^4\ns = Σ_j w_j x_j", ShapeError, "index j runs over w's axis 1"),
    ("x ∈ ℝ^T\nh_t = tanh(h_{t-1} + x_t)  for t in 1..T", ShapeError, "h_0 is not defined"),
    ("x ∈ ℝ^5\ny_i = Σ_i x_i", ModelSyntaxError, "i is already an index here"),
    ("x ∈ ℝ^5\ny = x_j + Σ_j x_j", ModelSyntaxError, "j is not an index here"),
    ("x ∈ ℝ^{3×4}\ny_t = softmax_s x_{t,s}", ModelSyntaxError, "s must be on the left side"),
    ("x ∈ ℝ^5\ny_{t-1} = x_t  for t in 2..5", ModelSyntaxError, "the left side's subscripts are indices"),
    ("x ∈ ℝ^5\ny = x_{t/2}  for t in 1..4", ModelSyntaxError, "cannot be in a subscript"),
    ("x ∈ ℝ^5\ny_{i,i} = x_i", ModelSyntaxError, "appears twice on the left side"),
    ("x ∈ ℝ^5\ny_t = x_{t-1}", ShapeError, "the range of t is not known: write it (for t in 1..N)"),
    ("x ∈ ℝ^{5×5}\ny_{i,j} = x_{i,j}  for i in 1..5, j in 1..i", ModelSyntaxError, "not an index (i)"),
    ("x ∈ ℝ^5\ny_t = Σ_{k=1}^{t} x_k  for t in 1..5", ShapeError, "ranges that depend on another index"),
    ("x ∈ ℝ^5\nW ∈ ℝ^{5×5}\ns = Σ_j W x_j", ShapeError, "use its entries"),
    ("x ∈ ℝ^5\ny = x (2)[1]", ModelSyntaxError, "square brackets right after a name index it"),
    ("x ∈ ℝ^5\ny = x_1 δ_{i,j}", ShapeError, "i is in a subscript, but it is not an index here"),
])
def test_what_is_not_understood_is_an_error_at_the_character(body, error, words):
    with pytest.raises(error) as info:
        ainative.model(body, header="f(x) -> y" if "y" in body.split("=")[0] else "f(x) -> s")
    assert words in str(info.value)
    assert info.value.line is not None and info.value.column is not None


def test_a_probabilistic_statement_over_indices_samples_in_one_plate_per_index():
    body = "X ∈ ℝ^{N×D}\ny ∈ ℝ^N\nw_d ~ Normal(0, 1)  for d in 1..D\nσ ~ HalfNormal(1)\n" \
           "y_i ~ Normal(Σ_d X_{i,d} w_d, σ)  for i in 1..N"
    statement = last(body, "reg(X, y)")
    assert isinstance(statement, Sampling) and [r.index for r in statement.indices] == ["i"]


def test_the_spellings_that_were_misread_before_indices():
    """Each spelling that once made a new name, a product or a wrong program, and what it is now."""
    with pytest.raises(ShapeError, match="t - 1 reaches 0"):
        ainative.model("x ∈ ℝ^T\ny_t = x_{t-1}  for t in 1..T", header="f(x) -> y")  # was a parameter x_t1
    transposed = ainative.model("W_1 ∈ ℝ^{3×2}\nx ∈ ℝ^3\ny = W_1ᵀ x", header="f(x) -> y")  # was a name W_1ᵀ
    assert set(transposed.params) == {"W_1"} and transposed.shapes["y"] == (2,)
    assert ainative.model("x ∈ ℝ^T\ny = Σ x", header="f(x) -> y").shapes["x"] == ("T",)  # was a transpose
    rows = "X ∈ ℝ^{T×D}\nz ~ Normal(0, 1)\nμ_t = mean(X_t)  for t in 1..T"  # was the mean of all of X in Pyro
    with pytest.raises(ShapeError, match="works on a plate's row"):
        ainative.model(rows, header="f(X) --backend pyro")
    per_row = "X ∈ ℝ^{T×D}\nz ~ Normal(0, 1)\nμ_t = mean_d X_{t,d} + z"  # reads z, so a site of each draw
    X = np.random.default_rng(3).normal(size=(4, 5)).astype(np.float32)
    for backend in ("pyro", "numpyro"):
        draws = ainative.model(per_row, header=f"f(X) --backend {backend}").sample_prior(2, X=X)
        np.testing.assert_allclose(draws["mu"][0] - draws["z"][0], X.mean(-1), rtol=1e-5, atol=1e-6)
