"""ainative's MLServer runtime: serves an exported ONNX file through onnxruntime.

Requests are checked against the graph's inputs first, so a wrong name, shape or datatype is
a 400 with a message that says what was expected, never a 500 from inside onnxruntime.
"""

from __future__ import annotations

import numpy as np
import onnxruntime
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.errors import InferenceError
from mlserver.types import InferenceRequest, InferenceResponse
from mlserver.utils import get_model_uri

NUMERIC = {"FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"}


def _fits(expected: list, shape: tuple) -> bool:
    return len(expected) == len(shape) and all(not isinstance(e, int) or e == s for e, s in zip(expected, shape))


class OnnxModel(MLModel):
    """One ONNX graph, run on the CPU by onnxruntime."""

    async def load(self) -> bool:
        uri = await get_model_uri(self._settings)
        self._session = onnxruntime.InferenceSession(uri, providers=["CPUExecutionProvider"])
        self._inputs = {i.name: i.shape for i in self._session.get_inputs()}
        return True

    def _decode(self, payload: InferenceRequest) -> dict[str, np.ndarray]:
        given = {i.name: i for i in payload.inputs}
        unknown = sorted(set(given) - set(self._inputs))
        missing = sorted(set(self._inputs) - set(given))
        if unknown or missing:
            raise InferenceError(f"model {self.name} takes inputs {', '.join(self._inputs)}; "
                                 + (f"unknown: {', '.join(unknown)}; " if unknown else "")
                                 + (f"missing: {', '.join(missing)}" if missing else ""))
        arrays = {}
        for name, request_input in given.items():
            if request_input.datatype not in NUMERIC:
                raise InferenceError(f"input {name} has datatype {request_input.datatype}; expected FP32")
            try:
                array = NumpyCodec.decode_input(request_input).astype(np.float32)
            except (ValueError, TypeError) as error:
                raise InferenceError(f"input {name} could not be read: {error}") from None
            if not _fits(self._inputs[name], array.shape):
                wanted = [d if isinstance(d, int) else -1 for d in self._inputs[name]]
                raise InferenceError(f"input {name} has shape {list(array.shape)}; expected {wanted} (-1: any)")
            arrays[name] = array
        return arrays

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        arrays = self._decode(payload)
        names = [o.name for o in self._session.get_outputs()]
        values = self._session.run(None, arrays)
        return InferenceResponse(
            model_name=self.name,
            model_version=self.version,
            outputs=[NumpyCodec.encode_output(n, v) for n, v in zip(names, values)],
        )
