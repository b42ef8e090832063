import numpy as np
import pytest

import ainative
from ainative.errors import DataError
from tests.cells import CLASSIFIER, MLP

#: the largest float32, from its bit pattern (exponent 254, mantissa all ones), not from NumPy's finfo
FLOAT32_MAX = (2 - 2.0**-23) * 2.0**127


@pytest.fixture(scope="module")
def mlp():
    return ainative.model(MLP, header="mlp(x) -> y")


@pytest.fixture(scope="module")
def params(mlp):
    return mlp.init(0, D=3, H=4, K=2)


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        ({"x": np.array([1.0, np.nan, 0.0])}, "input x contains NaN"),
        ({"x": np.array([1.0, np.inf, 0.0])}, "input x contains inf"),
        ({"x": np.float32(1.0)}, "input x has shape (), but the model expects (D,)"),
        ({"x": np.zeros(5)}, "D = 5 here, but D = 3 from parameter"),
        ({"x": np.array(["a", "b", "c"])}, "input x has dtype <U1"),
        ({"x": np.zeros((0, 3))}, "input x is empty"),
        ({}, "missing input(s): x (D,)"),
        ({"x": np.zeros(3), "z": np.zeros(3)}, "unknown input 'z'"),
        ({"x": np.zeros(3, complex)}, "complex"),
        ({"x": np.array([1e300, 0.0, 0.0])}, "input x has values beyond float32's range"),
        ({"x": np.array([0.0, -1e39, 0.0])}, "input x has values beyond float32's range"),
    ],
)
def test_bad_inputs_are_data_errors_naming_the_input(mlp, params, inputs, words):
    with pytest.raises(DataError) as info:
        mlp(params, **inputs)
    assert words in str(info.value)


def test_bad_params(mlp, params):
    with pytest.raises(DataError, match="missing b_2"):
        mlp({k: v for k, v in params.items() if k != "b_2"}, x=np.zeros(3))
    with pytest.raises(DataError, match="parameter W_1 has shape"):
        mlp({**params, "W_1": np.zeros(3)}, x=np.zeros(3))
    with pytest.raises(DataError, match="H = 5 here, but H = 4"):
        mlp({**params, "b_1": np.zeros(5)}, x=np.zeros(3))
    with pytest.raises(DataError, match="should be a dict"):
        mlp([1, 2], x=np.zeros(3))


def test_conflicting_batch_axes():
    m = ainative.model("x ∈ ℝ^D; c ∈ ℝ^D\ny = x ⊙ c", header="f(x, c) -> y")
    with pytest.raises(DataError, match="must share their leading axes"):
        m({}, x=np.zeros((4, 2)), c=np.zeros((5, 2)))


def test_integer_and_bool_data_become_float32(mlp, params):
    assert mlp(params, x=np.array([1, 0, 2])).dtype == np.float32
    assert mlp(params, x=np.array([True, False, True])).shape == (2,)


def test_values_just_inside_float32_pass_and_stay_finite(mlp, params):
    assert FLOAT32_MAX == pytest.approx(3.4028234663852886e38)
    out = mlp(params, x=np.array([FLOAT32_MAX, -FLOAT32_MAX, 0.0]))
    assert np.isfinite(out).all()
    with pytest.raises(DataError, match="beyond float32's range"):
        mlp(params, x=np.array([2 * FLOAT32_MAX, 0.0, 0.0]))


BAD_VALUES = [
    (np.array([1.0, np.nan, 0.0, 0.0]), "parameter b_1 contains NaN"),
    (np.array([1.0, -np.inf, 0.0, 0.0]), "parameter b_1 contains inf"),
    (np.array([1e300, 0.0, 0.0, 0.0]), "parameter b_1 has values beyond float32's range"),
    (np.zeros(4, complex), "parameter b_1 is complex"),
    (np.array(["a", "b", "c", "d"]), "parameter b_1 has dtype <U1"),
    (np.array([None, 1.0, 2.0, 3.0], dtype=object), "parameter b_1 has dtype object"),
]


@pytest.mark.parametrize(("value", "words"), BAD_VALUES)
def test_bad_parameter_values_are_data_errors_naming_the_parameter(mlp, params, value, words):
    with pytest.raises(DataError) as info:
        mlp({**params, "b_1": value}, x=np.zeros(3))
    assert words in str(info.value)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize(("value", "words"), BAD_VALUES[:2])
def test_bad_jax_parameter_values_are_caught_too(mlp, params, value, words, dtype):
    """float32 arrays are read in host memory; bfloat16 ones take the compiled check an accelerator's arrays take."""
    import jax.numpy as jnp

    with pytest.raises(DataError) as info:
        mlp({**params, "b_1": jnp.asarray(value, dtype)}, x=np.zeros(3))
    assert words in str(info.value)


@pytest.fixture(scope="module")
def classifier():
    return ainative.model(CLASSIFIER, header="mlp(x, t) -> y, L")


@pytest.mark.parametrize(("value", "words"), BAD_VALUES)
def test_fit_checks_parameter_values_before_training(classifier, value, words):
    start = classifier.init(0, D=3, H=4, K=2)
    data = {"x": np.zeros((5, 3)), "t": np.eye(2)[[0, 1, 0, 1, 0]]}
    with pytest.raises(DataError) as info:
        classifier.fit({**start, "b_1": value}, data, loss="L", steps=1, progress=False)
    assert words in str(info.value)


def test_parameters_may_be_traced_for_gradients(mlp, params):
    import jax

    grads = jax.grad(lambda p: mlp(p, x=np.ones(3))[0])(params)
    assert set(grads) == set(params) and np.isfinite(grads["W_1"]).all()


COUNTIES = """county ∈ {1..J};  x ∈ ℝ^D;  w ∈ ℝ^D;  a ∈ ℝ^J
y = county * (wᵀx) + Σ a"""


@pytest.fixture(scope="module")
def counties():
    return ainative.model(COUNTIES, header="counties(county, x) -> y")


def test_an_integer_input_takes_part_in_float_arithmetic_as_numpy_computes_it(counties):
    w, a = np.array([0.5, -1.25], np.float32), np.arange(8, dtype=np.float32) / 4
    county = np.array([1, 3, 8])
    x = np.array([[1.0, 2.0], [0.5, 0.25], [-2.0, 1.0]], np.float32)
    y = counties({"w": w, "a": a}, county=county, x=x)
    expected = county * (x.astype(np.float64) @ w.astype(np.float64)) + a.astype(np.float64).sum()
    assert y.dtype == np.float32
    np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-6)
    # floats that are whole numbers are integers too
    np.testing.assert_allclose(np.asarray(counties({"w": w, "a": a}, county=county.astype(float), x=x)), expected,
                               rtol=1e-6)


def test_an_integer_input_arrives_as_int32():
    from ainative.runtime.data import read_inputs

    model = ainative.model("k ∈ ℕ^N;  x ∈ ℝ^N\ny = k * x", header="scaled(k, x) -> y")
    arrays = read_inputs(model.ir, (np.array([0, 2, 7], np.int64), np.ones(3)), {})
    assert arrays["k"].dtype == np.int32 and arrays["k"].tolist() == [0, 2, 7]
    assert arrays["x"].dtype == np.float32
    assert model.ir.integers == {"k": model.ir.domain_of("k")} and model.ir.domain_of("x").integer is False


@pytest.mark.parametrize(
    ("county", "words"),
    [
        ([1, 0, 3], "input county[1] is 0, but county ∈ {1..J} with J = 8"),
        ([1, 3, 2.5], "input county[2] is 2.5, but county ∈ {1..J} with J = 8"),
        ([9, 1, 1], "input county[0] is 9, but county ∈ {1..J} with J = 8"),
        ([1, np.nan, 1], "input county[1] is nan, but county ∈ {1..J} with J = 8"),
    ],
)
def test_integer_data_outside_its_range_is_a_data_error_at_its_position(counties, county, words):
    params = {"w": np.ones(2, np.float32), "a": np.zeros(8, np.float32)}
    with pytest.raises(DataError) as info:
        counties(params, county=np.array(county), x=np.ones((3, 2)))
    assert str(info.value) == words


@pytest.mark.parametrize(
    ("body", "header", "inputs", "words"),
    [
        ("J = 4\nc ∈ {1..J}\ny = 2 * c", "four(c) -> y", {"c": np.array([[4, 5]])},
         "input c[0, 1] is 5, but c ∈ {1..J} with J = 4"),
        ("c ∈ {1..J};  z ∈ ℝ^J\ny = c * Σ z", "shaped(c, z) -> y", {"c": np.array([3, 4]), "z": np.ones((2, 3))},
         "input c[1] is 4, but c ∈ {1..J} with J = 3"),
        ("k ∈ ℕ\ny = 2 * k", "natural(k) -> y", {"k": np.array([0, -1])},
         "input k[1] is -1, but k ∈ ℕ, whole numbers from 0 to 2147483647 (int32)"),
        ("k ∈ ℤ\ny = 2 * k", "whole(k) -> y", {"k": np.array([-3, 2**31])},
         "input k[1] is 2147483648, but k ∈ ℤ, whole numbers from -2147483648 to 2147483647 (int32)"),
    ],
    ids=["constant", "another-input", "naturals", "integers"],
)
def test_a_range_bound_comes_from_a_constant_or_another_input(body, header, inputs, words):
    model = ainative.model(body, header=header)
    with pytest.raises(DataError) as info:
        model({}, **inputs)
    assert str(info.value) == words
