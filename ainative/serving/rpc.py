"""The gRPC side of ``ainative serve``: a direct path for raw tensor contents, and the repository guard.

MLServer unpacks ``raw_input_contents`` into Python lists (``struct.unpack``) and packs outputs
back the same way, one Python object per number. For an ``OnnxModel`` without adaptive
batching, ``ModelInfer`` and ``ModelStreamInfer`` here read the raw buffers as NumPy views,
run the graph and return its outputs' bytes: no per-number work, no copy of FP32 inputs.
Everything else (typed contents, other runtimes, batching) goes through MLServer as before.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator

import grpc
from grpc import aio
from mlserver.errors import MLServerError, ModelNotReady
from mlserver.grpc import dataplane_pb2 as pb
from mlserver.grpc.converters import ModelInferResponseConverter
from mlserver.grpc.servicers import InferenceServicer
from mlserver.grpc.utils import STATUS_CODE_MAPPING
from mlserver.registry import MultiModelRegistry

from .tensors import RawReader, TensorError, datatype_of

#: the Model Repository extension, in the inference service and in its own service
REPOSITORY_METHODS = ("/inference.GRPCInferenceService/Repository", "/inference.model_repository.")


class Servicer(InferenceServicer):
    """MLServer's inference service, with ``ModelInfer`` answered per message, raw contents without copies."""

    def __init__(self, data_plane, model_repository_handlers, registry: MultiModelRegistry) -> None:
        super().__init__(data_plane, model_repository_handlers)
        self._registry = registry

    async def ModelInfer(self, request: pb.ModelInferRequest, context) -> pb.ModelInferResponse:
        return await self._answer(request, context)

    async def ModelStreamInfer(self, requests: AsyncIterator[pb.ModelInferRequest], context
                               ) -> AsyncIterator[pb.ModelInferResponse]:
        async for request in requests:
            yield await self._answer(request, context)

    async def _answer(self, request: pb.ModelInferRequest, context) -> pb.ModelInferResponse:
        try:
            model = await self._registry.get_model(request.model_name, request.model_version or None)
            if not model.ready:
                raise ModelNotReady(request.model_name, request.model_version)
            if request.raw_input_contents and _reads_raw(model):
                return _raw_answer(model, request)
            result = await self._data_plane.infer(self._InsertHeaders(request, context), request.model_name,
                                                  request.model_version or None)
            return ModelInferResponseConverter.from_types(result, use_raw=bool(request.raw_input_contents))
        except TensorError as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        except MLServerError as error:
            await context.abort(STATUS_CODE_MAPPING.get(error.status_code, grpc.StatusCode.UNKNOWN), str(error))


def _reads_raw(model) -> bool:
    """A runtime that reads raw contents itself, without adaptive batching (which needs MLServer's path)."""
    return isinstance(model, RawReader) and model.settings.max_batch_size <= 1


def _raw_answer(model, request: pb.ModelInferRequest) -> pb.ModelInferResponse:
    """The graph run on views of the raw contents; outputs leave as their bytes (no list of numbers)."""
    outputs = model.run(model.decode_raw(request.inputs, request.raw_input_contents))
    return pb.ModelInferResponse(
        model_name=model.name, model_version=model.version or "", id=request.id,
        outputs=[pb.ModelInferResponse.InferOutputTensor(name=name, datatype=datatype_of(value), shape=value.shape)
                 for name, value in outputs],
        raw_output_contents=[value.tobytes() for _, value in outputs])


class RepositoryGuard(aio.ServerInterceptor):
    """The repository methods (load, unload, index) refused without the token (``authorization: Bearer``)."""

    def __init__(self, token: str | None) -> None:
        self._token = token

    async def intercept_service(self, continuation, details):
        if not details.method.startswith(REPOSITORY_METHODS):
            return await continuation(details)
        given = dict(details.invocation_metadata or ()).get("authorization", "")
        scheme, _, value = given.partition(" ")
        if self._token is not None and scheme.lower() == "bearer" and hmac.compare_digest(
                value.strip().encode(), self._token.encode()):
            return await continuation(details)
        message = ("the model repository API (load, unload, index) is off; set AINATIVE_REPOSITORY_TOKEN when "
                   "starting `ainative serve` to turn it on with a token") if self._token is None else (
                   "the model repository API needs the metadata 'authorization: Bearer TOKEN'")
        code = grpc.StatusCode.PERMISSION_DENIED if self._token is None else grpc.StatusCode.UNAUTHENTICATED

        async def refuse(request, context):
            await context.abort(code, message)

        return grpc.unary_unary_rpc_method_handler(refuse)
