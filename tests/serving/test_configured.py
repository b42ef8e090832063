"""Each default changed the documented way: a repository token, an allowed origin and host, non-finite inputs."""

import http.client
import json
import os
import shutil

import grpc
import numpy as np
import pytest
from tritonclient.grpc import service_pb2, service_pb2_grpc

from tests.serving.conftest import JSON, infer_body, model_ready, request, running

TOKEN = "a-token-of-some-length-0123456789"
APP = "http://app.example"


@pytest.fixture(scope="module")
def configured(exported, tmp_path_factory):
    _, _, folder = exported
    copy = tmp_path_factory.mktemp("configured") / "repository"
    shutil.copytree(folder, copy)
    settings = json.loads((copy / "settings.json").read_text())
    (copy / "settings.json").write_text(json.dumps({**settings, "cors_settings": {
        "allow_origins": [APP], "allow_methods": ["GET", "POST"], "allow_headers": ["content-type"]}}))
    path = copy / "mlp" / "model-settings.json"
    model_settings = json.loads(path.read_text())
    model_settings["parameters"]["extra"] = {"allow_non_finite": True}
    path.write_text(json.dumps(model_settings))
    with running(copy, "--allow-host", "models.internal", env={**os.environ, "AINATIVE_REPOSITORY_TOKEN": TOKEN}) \
            as server:
        yield server


def test_the_repository_api_needs_the_token(configured):
    unload = "/v2/repository/models/mlp/unload"
    for authorization in ({}, {"Authorization": "Bearer wrong-token-of-some-length"}, {"Authorization": TOKEN}):
        status, answer = request(configured, "POST", unload, b"", authorization)
        assert status == 401 and "Bearer" in answer["error"]
        assert model_ready(configured)
    assert request(configured, "POST", unload, b"", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    assert not model_ready(configured)
    assert request(configured, "POST", "/v2/repository/models/mlp/load", b"",
                   {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    assert model_ready(configured)


def test_the_grpc_repository_api_needs_the_token(configured):
    with grpc.insecure_channel(f"127.0.0.1:{configured.grpc_port}") as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            stub.RepositoryIndex(service_pb2.RepositoryIndexRequest())
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        index = stub.RepositoryIndex(service_pb2.RepositoryIndexRequest(),
                                     metadata=(("authorization", f"Bearer {TOKEN}"),))
        assert [model.name for model in index.models] == ["mlp"]


def test_an_allowed_origin_gets_cors(configured):
    connection_headers = {**JSON, "Origin": APP}
    status, _ = request(configured, "POST", "/v2/models/mlp/infer", infer_body(), connection_headers)
    assert status == 200
    connection = http.client.HTTPConnection("127.0.0.1", configured.port, timeout=10)
    connection.request("OPTIONS", "/v2/models/mlp/infer", headers={
        "Origin": APP, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    answer = connection.getresponse()
    answer.read()
    connection.close()
    assert answer.status == 200 and answer.getheader("Access-Control-Allow-Origin") == APP
    assert request(configured, "POST", "/v2/models/mlp/infer", infer_body(),
                   {**JSON, "Origin": "http://other.example"})[0] == 403


def test_an_allowed_host_is_served(configured):
    assert request(configured, "GET", "/v2/models/mlp/ready", headers={"Host": "models.internal:443"})[0] == 200
    assert request(configured, "GET", "/v2/models/mlp/ready", headers={"Host": "evil.example"})[0] == 400


def test_non_finite_inputs_are_taken_when_the_model_says_so(configured):
    status, answer = request(configured, "POST", "/v2/models/mlp/infer", infer_body(data=[1e39, 1, 2, 3]), JSON)
    assert status == 200 and len(answer["outputs"][0]["data"]) == 3
    x = np.array([[np.nan, 0, 0, 0]], np.float32)
    tensor = service_pb2.ModelInferRequest.InferInputTensor(name="x", datatype="FP32", shape=[1, 4])
    with grpc.insecure_channel(f"127.0.0.1:{configured.grpc_port}") as channel:
        response = service_pb2_grpc.GRPCInferenceServiceStub(channel).ModelInfer(service_pb2.ModelInferRequest(
            model_name="mlp", inputs=[tensor], raw_input_contents=[x.tobytes()]))
    assert np.isnan(np.frombuffer(response.raw_output_contents[0], np.float32)).all()
