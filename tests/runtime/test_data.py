import numpy as np
import pytest

import ainative
from ainative.errors import DataError
from tests.cells import MLP


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
