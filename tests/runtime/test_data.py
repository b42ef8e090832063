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
