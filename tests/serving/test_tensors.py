"""Request tensors decoded against a real exported graph's inputs: integer inputs are int64 and range-checked."""

import numpy as np
import onnxruntime
import pytest

import ainative
from ainative.serving.tensors import TensorError, from_bytes, from_values, signatures

COUNTIES = "county ∈ {1..J};  x ∈ ℝ^D;  w ∈ ℝ^D;  a ∈ ℝ^J\ny = county * (wᵀx) + Σ a"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    path = tmp_path_factory.mktemp("counties") / "counties.onnx"
    model = ainative.model(COUNTIES, header="counties(county, x) -> y")
    model.export_onnx(path, {"w": np.array([1.0, -2.0], np.float32), "a": np.full(8, 0.25, np.float32)})
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session, signatures(session.get_inputs(), session.get_modelmeta().custom_metadata_map)


def test_an_integer_input_decodes_to_int64_and_runs(served):
    session, inputs = served
    county = from_values(inputs["county"], "INT64", [3], [1, 5, 8])
    same = from_bytes(inputs["county"], "FP64", [3], np.array([1.0, 5.0, 8.0]).tobytes())
    x = from_values(inputs["x"], "FP32", [3, 2], [1.0, 0.5, 0.0, 1.0, 2.0, 2.0])
    assert county.dtype == same.dtype == np.int64 and county.tolist() == same.tolist() == [1, 5, 8]
    (y,) = session.run(["y"], {"county": county, "x": x})
    # county * (x₁ − 2 x₂) + 8 × 0.25
    np.testing.assert_allclose(y, [1 * 0.0 + 2, 5 * -2.0 + 2, 8 * -2.0 + 2])


@pytest.mark.parametrize(
    ("datatype", "values", "words"),
    [
        ("INT64", [1, 0, 3], "input county[1] is 0, but county ∈ {1..J} with J = 8"),
        ("INT32", [9, 1, 3], "input county[0] is 9, but county ∈ {1..J} with J = 8"),
        ("FP32", [1, 2, 2.5], "input county[2] is 2.5, but county ∈ {1..J} with J = 8"),
    ],
)
def test_integer_values_outside_the_range_are_refused_as_the_runtime_refuses_them(served, datatype, values, words):
    _, inputs = served
    with pytest.raises(TensorError) as info:
        from_values(inputs["county"], datatype, [3], values)
    assert str(info.value) == words
    model = ainative.model(COUNTIES, header="counties(county, x) -> y")
    with pytest.raises(ainative.DataError) as same:
        model({"w": np.ones(2, np.float32), "a": np.zeros(8, np.float32)}, county=np.array(values), x=np.ones((3, 2)))
    assert str(same.value) == words
