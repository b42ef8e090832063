"""A real ``ainative serve`` on 127.0.0.1 serves an exported repository; an independent V2 client queries it."""

import json
import shutil

import numpy as np
import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from tests.serving.conftest import JSON, infer_body, request, running


@pytest.fixture(scope="module")
def client(server):
    return httpclient.InferenceServerClient(f"127.0.0.1:{server.port}")


def test_served_metadata_equals_the_exported_metadata(exported, client):
    _, _, folder = exported
    exported_metadata = json.loads((folder / "mlp" / "metadata.json").read_text())
    metadata = client.get_model_metadata("mlp")
    assert metadata["name"] == exported_metadata["name"] and metadata["platform"] == exported_metadata["platform"]
    assert metadata["versions"] == exported_metadata["versions"]
    assert metadata["inputs"] == exported_metadata["inputs"] == [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}]
    assert metadata["outputs"] == exported_metadata["outputs"] == [{"name": "y", "datatype": "FP32", "shape": [-1, 3]}]


def test_served_predictions_equal_jax(exported, client):
    model, params, _ = exported
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    request = httpclient.InferInput("x", list(x.shape), "FP32")
    request.set_data_from_numpy(x, binary_data=False)
    result = client.infer("mlp", [request], outputs=[httpclient.InferRequestedOutput("y", binary_data=False)])
    np.testing.assert_allclose(result.as_numpy("y"), model(params, x=x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("name", "shape", "datatype", "words"),
    [("z", [2, 4], "FP32", "unknown: z"), ("x", [2, 5], "FP32", "expected [-1, 4]"),
     ("x", [2, 4], "BYTES", "datatype BYTES")],
)
def test_malformed_requests_are_4xx_with_a_message(client, name, shape, datatype, words):
    request = httpclient.InferInput(name, shape, datatype)
    if datatype == "BYTES":
        request.set_data_from_numpy(np.full(shape, b"a", dtype=object), binary_data=False)
    else:
        request.set_data_from_numpy(np.zeros(shape, np.float32), binary_data=False)
    with pytest.raises(InferenceServerException) as info:
        client.infer("mlp", [request])
    assert words in str(info.value)
    assert info.value.status() in ("400", 400)


def test_cli_says_where_it_serves(server):
    assert server.process.poll() is None
    assert server.output().splitlines()[0] == (f"ainative serve: {server.process.args[4]} at "
                                               f"http://127.0.0.1:{server.port}/v2 (gRPC 127.0.0.1:{server.grpc_port})")


def test_a_repository_of_0644_files_is_served(exported, tmp_path):
    _, _, folder = exported
    copy = tmp_path / "repository"
    shutil.copytree(folder, copy)
    for path in copy.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert {oct(p.stat().st_mode & 0o777) for p in copy.rglob("*") if p.is_file()} == {"0o644"}
    with running(copy) as server:
        status, answer = request(server, "POST", "/v2/models/mlp/infer", infer_body(), JSON)
    assert status == 200 and len(answer["outputs"][0]["data"]) == 3
