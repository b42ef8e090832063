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
