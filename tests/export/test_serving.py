"""The model repository: each format's file parsed by that format's own schema or reader."""

import importlib.util
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

import ainative
from tests.cells import MLP, REGRESSION


def _metadata_schema() -> dict:
    """The Open Inference Protocol's model-metadata schema, from the OpenAPI document MLServer ships.

    Read as a file: importing mlserver would register its gRPC protos beside tritonclient's, which clash.
    """
    package = Path(importlib.util.find_spec("mlserver").origin).parent
    spec = json.loads((package / "rest" / "openapi" / "dataplane.json").read_text())
    return {**spec["components"]["schemas"]["MetadataModelResponse"], "components": spec["components"]}


@pytest.fixture(scope="module")
def repository(tmp_path_factory):
    folder = tmp_path_factory.mktemp("repo")
    model = ainative.model(MLP, header="mlp(x) -> y")
    report = model.export_serving(folder, model.init(0, D=4, H=8, K=3), storage_uri="gs://bucket/models")
    return folder, report


def test_layout(repository):
    folder, report = repository
    names = sorted(str(Path(f).relative_to(folder)) for f in report.files)
    assert names == ["mlp/1/model.onnx", "mlp/config.pbtxt", "mlp/inferenceservice.yaml", "mlp/metadata.json",
                     "mlp/model-settings.json", "settings.json"]
    assert not list(folder.rglob("*.tmp"))
    assert "model repository" in str(report) and "onnxruntime matches" in str(report)


def test_metadata_validates_against_the_open_inference_protocol(repository):
    folder, _ = repository
    schema = _metadata_schema()
    metadata = json.loads((folder / "mlp" / "metadata.json").read_text())
    jsonschema.validate(metadata, schema)
    assert metadata == {"name": "mlp", "versions": ["1"], "platform": "onnxruntime_onnx",
                        "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}],
                        "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 3]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "mlp"}, schema)


def test_triton_config_parses_into_model_config(repository):
    folder, _ = repository
    config = text_format.Parse((folder / "mlp" / "config.pbtxt").read_text(), model_config_pb2.ModelConfig())
    assert config.name == "mlp" and config.platform == "onnxruntime_onnx" and config.max_batch_size == 64
    assert [(i.name, list(i.dims), i.data_type) for i in config.input] == [("x", [4], model_config_pb2.TYPE_FP32)]
    assert [(o.name, list(o.dims)) for o in config.output] == [("y", [3])]


def test_triton_scalar_outputs_are_reshaped(tmp_path):
    model = ainative.model("x ∈ ℝ^D; w ∈ ℝ^D\np = σ(wᵀx)", header="logistic(x) -> p")
    model.export_serving(tmp_path, model.init(0, D=3), formats=("triton",))
    config = text_format.Parse((tmp_path / "logistic" / "config.pbtxt").read_text(), model_config_pb2.ModelConfig())
    assert list(config.output[0].dims) == [1] and list(config.output[0].reshape.shape) == []
    assert not (tmp_path / "logistic" / "metadata.json").exists()


def test_inference_service_manifest(repository):
    folder, _ = repository
    manifest = yaml.safe_load((folder / "mlp" / "inferenceservice.yaml").read_text())
    assert manifest["apiVersion"] == "serving.kserve.io/v1beta1" and manifest["kind"] == "InferenceService"
    assert manifest["metadata"]["name"] == "mlp"
    model = manifest["spec"]["predictor"]["model"]
    assert model == {"modelFormat": {"name": "onnx"}, "protocolVersion": "v2", "storageUri": "gs://bucket/models"}


def test_mlserver_settings(repository):
    folder, _ = repository
    settings = json.loads((folder / "settings.json").read_text())
    assert settings["parallel_workers"] == 0 and settings["metrics_endpoint"] is None
    model_settings = json.loads((folder / "mlp" / "model-settings.json").read_text())
    assert model_settings["implementation"] == "ainative.serving.mlserver.OnnxModel"
    assert model_settings["parameters"] == {"uri": "./1/model.onnx", "version": "1"}


def test_posterior_repository_serves_quantiles(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    model = ainative.model(REGRESSION, header="regression(X, y) --backend numpyro")
    posterior = model.fit({"X": X, "y": X @ np.array([1.0, 2.0])}, method="svi", steps=500, progress=False)
    model.export_serving(tmp_path, posterior, formats=("kserve-v2",))
    metadata = json.loads((tmp_path / "regression" / "metadata.json").read_text())
    assert [o["name"] for o in metadata["outputs"]] == ["y", "y_q05", "y_q95"]
    assert metadata["inputs"] == [{"name": "X", "datatype": "FP32", "shape": [-1, 2]}]


def test_unknown_format(tmp_path):
    model = ainative.model(MLP, header="mlp(x) -> y")
    with pytest.raises(ainative.ExportError, match="unknown serving format"):
        model.export_serving(tmp_path, model.init(0, D=2, H=2, K=2), formats=("torchserve",))


COUNTIES = "county ∈ {1..J};  x ∈ ℝ^D;  w ∈ ℝ^D;  a ∈ ℝ^J\ny = county * (wᵀx) + Σ a"


def test_an_integer_input_is_int64_in_the_metadata_and_the_triton_config(tmp_path):
    model = ainative.model(COUNTIES, header="counties(county, x) -> y")
    model.export_serving(tmp_path, {"w": np.ones(2, np.float32), "a": np.zeros(8, np.float32)})
    metadata = json.loads((tmp_path / "counties" / "metadata.json").read_text())
    jsonschema.validate(metadata, _metadata_schema())
    assert metadata["inputs"] == [{"name": "county", "datatype": "INT64", "shape": [-1]},
                                  {"name": "x", "datatype": "FP32", "shape": [-1, 2]}]
    config = text_format.Parse((tmp_path / "counties" / "config.pbtxt").read_text(), model_config_pb2.ModelConfig())
    assert [i.data_type for i in config.input] == [model_config_pb2.TYPE_INT64, model_config_pb2.TYPE_FP32]
