import re

import numpy as np
import pytest

import ainative
from ainative.errors import DataError, ShapeError
from ainative.frontend.shapes import Binding, bind, concrete, format_shape, keywords
from tests.cells import EIGHT_SCHOOLS, MLP, REGRESSION


def test_inferred_shapes_of_the_spec_models():
    assert ainative.model(MLP, header="mlp(x) -> y").shapes == {
        "x": ("D",), "W_1": ("H", "D"), "b_1": ("H",), "W_2": ("K", "H"), "b_2": ("K",), "h": ("H",), "y": ("K",)}
    assert ainative.model(REGRESSION, header="regression(X, y)").shapes["y"] == ("N",)
    schools = ainative.model(EIGHT_SCHOOLS, header="eight_schools(σ, y)")
    assert schools.shapes["theta"] == ("J",) and schools.shapes["sigma"] == ("J",) and schools.dims == {"J": 8}


def test_matmul_rules():
    m = ainative.model("A ∈ ℝ^{M×N}; B ∈ ℝ^{N×P}; v ∈ ℝ^N; u ∈ ℝ^M\nC = A B\nw = A v\nz = uᵀ A\ns = vᵀ v",
                       header="f(v) -> C, w, z, s")
    assert [m.shapes[n] for n in "Cwzs"] == [("M", "P"), ("M",), ("N",), ()]


def test_juxtaposition_with_a_scalar_is_a_product():
    m = ainative.model("x ∈ ℝ^D\ny = 2 a x", header="f(x) -> y")
    assert m.shapes["y"] == ("D",) and "@" not in m.source("jax")


def test_literal_binds_a_dimension():
    m = ainative.model("x ∈ ℝ^3; W ∈ ℝ^{H×D}\ny = W x", header="f(x) -> y")
    assert m.dims == {"D": 3}


def test_shape_error_names_both_shapes_the_expression_and_their_lines():
    text = MLP.replace("y = softmax(W₂ h + b₂)", "y = softmax(W₂ h + b₁)")
    with pytest.raises(ShapeError) as info:
        ainative.model(text, header="mlp(x) -> y")
    error = info.value
    assert (error.line, error.column) == (5, 13)
    message = str(error)
    assert "shapes (K,) and (H,) do not match" in message
    assert "W₂ h has shape (K,)" in message and "b₁ has shape (H,)" in message
    assert "K comes from line 3: W₂ ∈ ℝ^{K×H}" in message and "H comes from line 2: b₁ ∈ ℝ^H" in message
    assert message.splitlines()[2] == "    " + " " * 12 + "^" * 9


def test_matmul_error_points_at_the_product():
    with pytest.raises(ShapeError) as info:
        ainative.model(MLP.replace("W₂ h", "W₂ x"), header="mlp(x) -> y")
    assert (info.value.line, info.value.column) == (5, 13)
    assert "cannot multiply (K, H) by (D,): H ≠ D" in str(info.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("x ∈ ℝ^D; x ∈ ℝ^K\ny = x", "declared twice"),
        ("h ∈ ℝ^K; x ∈ ℝ^D\nh = 2 x\ny = h", "declared (K,) on line 1"),
        ("J = 2.5\nx ∈ ℝ^J\ny = x", "must be a positive integer"),
        ("y_j = η_j for j in 1..J", "cannot index it"),
        ("x ∈ ℝ^{K}\nθ_j = x_j for j in 1..J", "plate runs over J"),
        ("x ∈ ℝ^2; v ∈ ℝ^3\ny = x + v", "do not match"),
        ("x ∈ ℝ^3\ny = softmax(Σ x)", "its argument is a scalar"),
        ("x ∈ ℝ^{N×D}\nμ_i = mean(x_i) for i in 1..N\ny_i ~ Normal(μ_i, 1) for i in 1..N", "works on a plate's row"),
        ("x ∈ ℝ^{N×D}\ny_i ~ Normal(Σ x_i, 1) for i in 1..N", "works on a plate's row"),
        ("x ∈ ℝ^N\ny_i ~ Normal(softmax(x_i), 1) for i in 1..N", "works on a plate's row"),
    ],
)
def test_shape_errors(text, words):
    with pytest.raises(ShapeError) as info:
        ainative.model(text, header="f(x) -> y" if "θ" not in text else "f(x) -> theta")
    assert words in str(info.value)


def test_binding_from_data_keywords_and_conflicts():
    ir = ainative.model(MLP, header="mlp(x) -> y").ir
    bound = bind(ir, {"x": np.zeros((5, 4))}, keywords(ir, {"H": 8, "K": 3}))
    assert {k: v.value for k, v in bound.items()} == {"H": 8, "K": 3, "D": 4}
    assert concrete(ir.shape_of["W_1"], bound, "W_1") == (8, 4)
    with pytest.raises(DataError, match="D = 4 here, but D = 5 from D=5"):
        bind(ir, {"x": np.zeros((4,))}, keywords(ir, {"D": 5}))
    with pytest.raises(ShapeError, match="not bound"):
        concrete(ir.shape_of["W_1"], {"D": Binding(4, "x")}, "W_1")
    with pytest.raises(ShapeError, match="not a dimension"):
        keywords(ir, {"Q": 3})
    with pytest.raises(ShapeError, match="positive integer"):
        keywords(ir, {"D": 0})


def test_format_shape():
    assert [format_shape(s) for s in [(), ("D",), ("H", 3)]] == ["scalar", "(D,)", "(H, 3)"]


@pytest.mark.parametrize(
    ("text", "operand", "shape"),
    [
        ("A ∈ ℝ^{N×M}\ny = cholesky(A)", "A", "(N, M)"),
        ("A ∈ ℝ^{N×M}\ny = inverse(A)", "A", "(N, M)"),
        ("A ∈ ℝ^{N×M}\ny = A⁻¹", "A", "(N, M)"),
        ("v ∈ ℝ^N\ny = det(v)", "v", "(N,)"),
        ("A ∈ ℝ^{2×3}\ny = logdet(A)", "A", "(2, 3)"),
        ("A ∈ ℝ^{2×3}\ny = tr(A)", "A", "(2, 3)"),
        ("A ∈ ℝ^{2×3}\ny = diag(A)", "A", "(2, 3)"),
        ("T ∈ ℝ^{2×2×2}\ny = diag(T)", "T", "(2, 2, 2)"),
        ("A ∈ ℝ^{N×M}; b ∈ ℝ^N\ny = solve(A, b)", "A", "(N, M)"),
        ("A ∈ ℝ^{3×3}; b ∈ ℝ^4\ny = solve(A, b)", "b", "(4,)"),
        ("A ∈ ℝ^{N×N}; S ∈ ℝ^{N×N×N}\ny = solve(A, S)", "S", "(N, N, N)"),
    ],
)
def test_linear_algebra_refuses_an_operand_of_the_wrong_shape_at_its_character(text, operand, shape):
    with pytest.raises(ShapeError) as info:
        ainative.model(text, header="f(A, b)" if "b ∈" in text else "f()")
    span = info.value.span
    line = text.split("\n")[-1]
    assert span.line == 2 and f"{operand} has shape {shape}" in str(info.value)
    assert line[span.column - 1 : span.end_column - 1] == operand


def test_linear_algebra_shapes():
    m = ainative.model("A ∈ ℝ^{N×N}; B ∈ ℝ^{N×K}; v ∈ ℝ^N\nL = cholesky(A)\nI = A⁻¹\nd = det(A) + logdet(A) + tr(A)\n"
                       "a = diag(A)\nD = diag(v)\nx = solve(A, v)\nX = solve(A, B)",
                       header="f(A, B, v) -> L, I, d, a, D, x, X")
    assert [m.shapes[n] for n in ("L", "I", "d", "a", "D", "x", "X")] == [
        ("N", "N"), ("N", "N"), (), ("N",), ("N", "N"), ("N",), ("N", "K")]


def test_minus_one_power_is_the_inverse_of_a_matrix_and_the_reciprocal_of_anything_else():
    A = np.array([[4.0, 1.0], [1.0, 3.0]], np.float32)
    v, s = np.array([2.0, -4.0], np.float32), np.float32(5.0)
    for spelling in ("A⁻¹", "A^{-1}", "A^(-1)", "A**-1", "inverse(A)"):
        m = ainative.model(f"A ∈ ℝ^{{2×2}}; v ∈ ℝ^2\nB = {spelling}\nr = s⁻¹ + v^(-1)", header="f(A, v, s) -> B, r")
        out = m({}, A=A, v=v, s=s)
        np.testing.assert_allclose(out["B"], np.linalg.inv(A), rtol=1e-5)
        np.testing.assert_allclose(out["r"], 1 / s + 1 / v, rtol=1e-6)
    # a division by a matrix stays entrywise, as NumPy's
    m = ainative.model("A ∈ ℝ^{2×2}\nB = 1 / A", header="f(A) -> B")
    np.testing.assert_allclose(m({}, A=A), 1 / A, rtol=1e-6)


def test_a_negative_power_of_a_matrix_other_than_minus_one_is_an_error():
    with pytest.raises(ShapeError, match="negative power of a matrix"):
        ainative.model("A ∈ ℝ^{2×2}\nB = A^{-2}", header="f(A) -> B")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("S ∈ ℝ^{N×M}; y ∈ ℝ^N\ny ~ MultivariateNormal(0, scale_tril=S)",
         "a multivariate normal's scale_tril is a square matrix, and S has shape (N, M)"),
        ("m ∈ ℝ^3; S ∈ ℝ^{4×4}; y ∈ ℝ^3\ny ~ MultivariateNormal(m, S)", "shapes (3,) and (4,) do not match"),
        ("c ~ Gamma(2, 1)\nL ~ LKJCholesky(c, 2)", "LKJCholesky's dim is a whole number or a dimension, not c"),
    ],
)
def test_a_multivariate_family_checks_its_matrix(text, words):
    with pytest.raises(ShapeError, match=re.escape(words)):
        ainative.model(text, header="f(m, S, y)" if "S ∈" in text else "f()")
