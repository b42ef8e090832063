"""ainative's MLServer runtime: serves an exported ONNX file through onnxruntime.

Requests are checked against the graph's inputs first (``tensors.py``), so a wrong name, shape,
datatype or value is a 400 with a message that says what was expected, never a 500 from inside
onnxruntime. NaN and infinite inputs are refused unless model-settings.json says the model takes
them (``"parameters": {"extra": {"allow_non_finite": true}}``).

onnxruntime runs each request on one thread unless ``extra`` says ``"intra_op_threads": N``: the
server already runs requests side by side, and a second thread spinning for a small graph took
twice the CPU time per request on 2 cores.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import numpy as np
import onnxruntime
from mlserver import MLModel
from mlserver.errors import InferenceError
from mlserver.types import InferenceRequest, InferenceResponse, ResponseOutput
from mlserver.utils import get_model_uri

from .tensors import RawReader, TensorError, check_names, datatype_of, from_bytes, from_values, signatures


class OnnxModel(MLModel, RawReader):
    """One ONNX graph, run on the CPU by onnxruntime."""

    async def load(self) -> bool:
        uri = await get_model_uri(self._settings)
        extra = (self._settings.parameters.extra if self._settings.parameters else None) or {}
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = int(extra.get("intra_op_threads", 1))
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(uri, options, providers=["CPUExecutionProvider"])
        self._inputs = signatures(self._session.get_inputs(), self._session.get_modelmeta().custom_metadata_map)
        self._outputs = [o.name for o in self._session.get_outputs()]
        self._allow_non_finite = extra.get("allow_non_finite", False) is True
        return True

    def decode(self, payload: InferenceRequest) -> dict[str, np.ndarray]:
        """The request's inputs as float32 arrays (JSON values, or MLServer's unpacked gRPC contents)."""
        check_names([i.name for i in payload.inputs], self._inputs)
        return {i.name: from_values(self._inputs[i.name], getattr(i.datatype, "value", i.datatype), i.shape,
                                    getattr(i.data, "root", i.data), self._allow_non_finite)
                for i in payload.inputs}

    def decode_raw(self, tensors: Sequence, contents: Sequence[bytes]) -> dict[str, np.ndarray]:
        """gRPC raw contents (one buffer per input, in order) as float32 arrays, viewed in place when FP32."""
        check_names([t.name for t in tensors], self._inputs)
        if len(contents) != len(tensors):
            raise TensorError(f"the request has {len(tensors)} inputs and {len(contents)} raw contents")
        return {t.name: from_bytes(self._inputs[t.name], t.datatype, t.shape, raw, self._allow_non_finite)
                for t, raw in zip(tensors, contents)}

    def run(self, arrays: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
        """The graph's outputs, by name."""
        return list(zip(self._outputs, self._session.run(self._outputs, arrays)))

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        try:
            arrays = self.decode(payload)
        except TensorError as error:
            raise InferenceError(str(error)) from None
        return InferenceResponse(
            model_name=self.name,
            model_version=self.version,
            outputs=[ResponseOutput(name=name, datatype=datatype_of(value), shape=list(value.shape),
                                    data=value.ravel().tolist())
                     for name, value in self.run(arrays)],
        )

    async def predict_stream(self, payloads: AsyncIterator[InferenceRequest]) -> AsyncIterator[InferenceResponse]:
        """One answer for each request of the stream, in order."""
        async for payload in payloads:
            yield await self.predict(payload)
