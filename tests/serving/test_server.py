"""A real MLServer on 127.0.0.1 serves an exported repository; an independent V2 client queries it."""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

import ainative
from tests.cells import MLP
from tests.processes import free_port, listening, stop


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("repository")
    model = ainative.model(MLP, header="mlp(x) -> y")
    params = model.init(0, D=4, H=8, K=3)
    report = model.export_serving(folder, params)
    port, grpc = free_port(), free_port()
    ainative_cli = Path(sys.executable).parent / "ainative"
    process = subprocess.Popen([str(ainative_cli), "serve", str(folder), "--port", str(port), "--grpc-port",
                                str(grpc)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        client = httpclient.InferenceServerClient(f"127.0.0.1:{port}")
        _wait_until_ready(client, process)
        yield model, params, folder, client, process, report
    finally:
        stop(process)
    assert not listening(port), "the server still listens after it was stopped"


def _wait_until_ready(client, process) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if client.is_model_ready("mlp"):
                return
        except Exception:
            pass
        if process.poll() is not None:
            pytest.fail(f"MLServer exited with {process.returncode}: {process.stdout.read()}")
        time.sleep(0.2)
    pytest.fail("MLServer did not become ready in 60 s")


def test_served_metadata_equals_the_exported_metadata(served):
    _, _, folder, client, _, _ = served
    exported = json.loads((folder / "mlp" / "metadata.json").read_text())
    metadata = client.get_model_metadata("mlp")
    assert metadata["name"] == exported["name"] and metadata["platform"] == exported["platform"]
    assert metadata["versions"] == exported["versions"]
    assert metadata["inputs"] == exported["inputs"] == [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}]
    assert metadata["outputs"] == exported["outputs"] == [{"name": "y", "datatype": "FP32", "shape": [-1, 3]}]


def test_served_predictions_equal_jax(served):
    model, params, _, client, _, _ = served
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
def test_malformed_requests_are_4xx_with_a_message(served, name, shape, datatype, words):
    _, _, _, client, _, _ = served
    request = httpclient.InferInput(name, shape, datatype)
    if datatype == "BYTES":
        request.set_data_from_numpy(np.full(shape, b"a", dtype=object), binary_data=False)
    else:
        request.set_data_from_numpy(np.zeros(shape, np.float32), binary_data=False)
    with pytest.raises(InferenceServerException) as info:
        client.infer("mlp", [request])
    assert words in str(info.value)
    assert info.value.status() in ("400", 400)


def test_cli_says_where_it_serves(served):
    *_, process, _ = served
    assert process.poll() is None
