"""gRPC against the running server: raw tensor contents, typed contents, streams, mistakes, the repository API."""

import grpc
import numpy as np
import pytest
from tritonclient.grpc import service_pb2, service_pb2_grpc

from tests.serving.conftest import model_ready


@pytest.fixture(scope="module")
def stub(server):
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        yield service_pb2_grpc.GRPCInferenceServiceStub(channel)


def raw_request(x: np.ndarray, name: str = "x", datatype: str = "FP32") -> service_pb2.ModelInferRequest:
    tensor = service_pb2.ModelInferRequest.InferInputTensor(name=name, datatype=datatype, shape=list(x.shape))
    return service_pb2.ModelInferRequest(model_name="mlp", id="r1", inputs=[tensor], raw_input_contents=[x.tobytes()])


def outputs(response: service_pb2.ModelInferResponse) -> np.ndarray:
    (tensor,) = response.outputs
    assert tensor.name == "y" and tensor.datatype == "FP32"
    return np.frombuffer(response.raw_output_contents[0], np.float32).reshape(list(tensor.shape))


@pytest.mark.parametrize("rows", [1, 64])
def test_raw_contents_give_the_model_outputs(exported, stub, rows):
    model, params, _ = exported
    x = np.random.default_rng(rows).normal(size=(rows, 4)).astype(np.float32)
    response = stub.ModelInfer(raw_request(x))
    assert response.model_name == "mlp" and response.model_version == "1" and response.id == "r1"
    np.testing.assert_allclose(outputs(response), model(params, x=x), rtol=1e-5, atol=1e-6)


def test_fp64_raw_contents_are_read_as_their_datatype(exported, stub):
    model, params, _ = exported
    x = np.random.default_rng(1).normal(size=(3, 4))
    np.testing.assert_allclose(outputs(stub.ModelInfer(raw_request(x, datatype="FP64"))),
                               model(params, x=x.astype(np.float32)), rtol=1e-5, atol=1e-6)


def test_typed_contents_are_served_too(exported, stub):
    model, params, _ = exported
    x = np.random.default_rng(2).normal(size=(2, 4)).astype(np.float32)
    tensor = service_pb2.ModelInferRequest.InferInputTensor(
        name="x", datatype="FP32", shape=[2, 4], contents=service_pb2.InferTensorContents(fp32_contents=x.ravel()))
    response = stub.ModelInfer(service_pb2.ModelInferRequest(model_name="mlp", inputs=[tensor]))
    np.testing.assert_allclose(np.array(response.outputs[0].contents.fp32_contents).reshape(2, 3), model(params, x=x),
                               rtol=1e-5, atol=1e-6)


def test_a_stream_answers_every_request_in_order(exported, server):
    model, params, _ = exported
    xs = [np.full((n, 4), n / 10, np.float32) for n in (1, 5, 2)]
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        stream = channel.stream_stream("/inference.GRPCInferenceService/ModelStreamInfer",
                                       request_serializer=service_pb2.ModelInferRequest.SerializeToString,
                                       response_deserializer=service_pb2.ModelInferResponse.FromString)
        answers = list(stream(iter(raw_request(x) for x in xs)))
    assert len(answers) == len(xs)
    for x, answer in zip(xs, answers):
        np.testing.assert_allclose(outputs(answer), model(params, x=x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("request_", "words"), [
    (raw_request(np.zeros((2, 4), np.float32), name="z"), "unknown: z"),
    (raw_request(np.zeros((2, 5), np.float32)), "expected [-1, 4]"),
    (raw_request(np.full((1, 4), np.nan, np.float32)), "NaN or infinite"),
    (raw_request(np.zeros((1, 4), np.float32), datatype="BYTES"), "datatype BYTES"),
    (service_pb2.ModelInferRequest(model_name="mlp", inputs=[service_pb2.ModelInferRequest.InferInputTensor(
        name="x", datatype="FP32", shape=[2, 4])], raw_input_contents=[b"\0" * 12]), "needs 32"),
    (service_pb2.ModelInferRequest(model_name="mlp", inputs=[service_pb2.ModelInferRequest.InferInputTensor(
        name="x", datatype="FP32", shape=[-2, -2])], raw_input_contents=[b"\0" * 16]), "non-negative"),
    (service_pb2.ModelInferRequest(model_name="mlp", inputs=[service_pb2.ModelInferRequest.InferInputTensor(
        name="x", datatype="FP32", shape=[1, 4])] * 2, raw_input_contents=[b"\0" * 16] * 2), "more than once"),
])
def test_mistakes_are_invalid_argument_with_a_message(stub, request_, words):
    with pytest.raises(grpc.RpcError) as info:
        stub.ModelInfer(request_)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and words in info.value.details()


def test_an_unknown_model_is_not_found(stub):
    with pytest.raises(grpc.RpcError) as info:
        stub.ModelInfer(service_pb2.ModelInferRequest(model_name="nope"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_the_repository_api_is_off_over_grpc(server, stub):
    for call, message in ((stub.RepositoryModelUnload, service_pb2.RepositoryModelUnloadRequest(model_name="mlp")),
                          (stub.RepositoryModelLoad, service_pb2.RepositoryModelLoadRequest(model_name="mlp")),
                          (stub.RepositoryIndex, service_pb2.RepositoryIndexRequest())):
        with pytest.raises(grpc.RpcError) as info:
            call(message, metadata=(("authorization", "Bearer guess-guess-guess-guess"),))
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "AINATIVE_REPOSITORY_TOKEN" in info.value.details()
    assert model_ready(server)


def test_a_message_over_the_limit_is_refused(stub):
    with pytest.raises(grpc.RpcError) as info:
        stub.ModelInfer(raw_request(np.zeros((70_000, 4), np.float32)))
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
