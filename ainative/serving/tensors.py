"""Request tensors checked against the graph's inputs before onnxruntime sees them.

Each mistake (a name, a shape, a datatype, a value) is a ``TensorError`` whose message tells
the client what was expected: the server answers 400 with it, never a 500 from inside
onnxruntime or NumPy. Kept free of MLServer so that it reads the same from HTTP and gRPC.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import outside_integers

#: V2 numeric datatypes and the NumPy type of their raw (little-endian) contents
DTYPES = {"FP16": np.dtype("<f2"), "FP32": np.dtype("<f4"), "FP64": np.dtype("<f8"),
          "INT8": np.dtype("i1"), "INT16": np.dtype("<i2"), "INT32": np.dtype("<i4"), "INT64": np.dtype("<i8"),
          "UINT8": np.dtype("u1"), "UINT16": np.dtype("<u2"), "UINT32": np.dtype("<u4"), "UINT64": np.dtype("<u8")}


#: the model metadata key (before the input's name) that the ONNX printer gives an integer input's range
INTEGER_KEY = "integer:"

DATATYPES = {dtype: datatype for datatype, dtype in DTYPES.items()} | {np.dtype(bool): "BOOL"}


def datatype_of(array: np.ndarray) -> str:
    """The V2 datatype of an output array, so a client reads its raw bytes as what they are."""
    return DATATYPES[array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype]


class TensorError(ValueError):
    """A request tensor the model cannot take; the message says why and what was expected."""


@dataclass(frozen=True)
class Signature:
    """A graph input: its name and shape (``None`` for an axis of any length); for an integer (int64) input, its
    range as the graph's metadata gives it (lowest, highest, how the cell declared it)."""

    name: str
    shape: tuple[int | None, ...]
    integer: tuple[int, int, str] | None = None

    def cast(self, values: np.ndarray, allow_non_finite: bool) -> np.ndarray:
        """The values as the graph takes them: int64 whole numbers inside the range, or float32."""
        if self.integer is None:
            return _finite(self.name, values.astype(np.float32, copy=False), allow_non_finite)
        error = outside_integers("input", self.name, values, *self.integer)
        if error is not None:
            raise TensorError(error.message)
        return values.astype(np.int64, copy=False)

    def wanted(self) -> list[int]:
        return [-1 if d is None else d for d in self.shape]


def signatures(session_inputs, metadata: Mapping[str, str] | None = None) -> dict[str, Signature]:
    """The inputs of an onnxruntime session; a named (symbolic) axis takes any length. ``metadata`` (the model's
    custom metadata) gives each integer input's range."""
    out = {}
    for i in session_inputs:
        limits = json.loads((metadata or {}).get(INTEGER_KEY + i.name, "null"))
        integer = None if limits is None else (limits["low"], limits["high"], limits["domain"])
        out[i.name] = Signature(i.name, tuple(d if isinstance(d, int) else None for d in i.shape), integer)
    return out


def check_names(given: Sequence[str], inputs: dict[str, Signature]) -> None:
    """Every input given exactly once, and nothing else."""
    repeated = sorted({n for n in given if list(given).count(n) > 1})
    unknown = sorted(set(given) - set(inputs))
    missing = sorted(set(inputs) - set(given))
    if repeated or unknown or missing:
        raise TensorError(f"the model takes inputs {', '.join(inputs)}"
                          + (f"; given more than once: {', '.join(repeated)}" if repeated else "")
                          + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                          + (f"; missing: {', '.join(missing)}" if missing else ""))


def check_shape(signature: Signature, shape: Sequence[int]) -> tuple[int, ...]:
    """The request's shape, if it has the input's rank, non-negative integer axes and the fixed lengths."""
    if any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in shape):
        raise TensorError(f"input {signature.name} has shape {list(shape)}: axes are non-negative integers")
    if len(shape) != len(signature.shape) or any(e is not None and e != d for e, d in zip(signature.shape, shape)):
        raise TensorError(f"input {signature.name} has shape {list(shape)}; expected {signature.wanted()} (-1: any)")
    return tuple(shape)


def check_datatype(name: str, datatype: str) -> np.dtype:
    if datatype not in DTYPES:
        raise TensorError(f"input {name} has datatype {datatype}; expected FP32 (or another numeric datatype)")
    return DTYPES[datatype]


def _size(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _finite(name: str, array: np.ndarray, allow_non_finite: bool) -> np.ndarray:
    if not allow_non_finite and not np.isfinite(array).all():
        raise TensorError(f"input {name} holds NaN or infinite values, which this model does not accept")
    return array


def _numbers(name: str, data) -> np.ndarray:
    try:
        values = np.asarray(data)
    except ValueError:
        values = None
    if values is None or not (np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.floating)):
        raise TensorError(f"input {name} holds values that are not numbers (strings, nulls, booleans or nested "
                          "lists of different lengths); send numbers only")
    return values


def from_values(signature: Signature, datatype: str, shape: Sequence[int], data, allow_non_finite: bool = False
                ) -> np.ndarray:
    """A float32 array (int64 for an integer input) from JSON values: numbers only (no strings, no nulls), in the
    datatype's range."""
    dtype = check_datatype(signature.name, datatype)
    shape = check_shape(signature, shape)
    values = _numbers(signature.name, data)
    if values.size != _size(shape):
        raise TensorError(f"input {signature.name} has {values.size} values; its shape {list(shape)} needs "
                          f"{_size(shape)}")
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        out_of_range = values.size and (values.min() < info.min or values.max() > info.max)
        if np.issubdtype(values.dtype, np.floating) or out_of_range:
            raise TensorError(f"input {signature.name} holds values that are not {datatype} integers "
                              f"({info.min} to {info.max})")
    return signature.cast(values.reshape(shape), allow_non_finite)


def from_bytes(signature: Signature, datatype: str, shape: Sequence[int], raw: bytes,
               allow_non_finite: bool = False) -> np.ndarray:
    """A float32 array over raw little-endian contents, without a copy when they are FP32 already (int64 for an
    integer input)."""
    dtype = check_datatype(signature.name, datatype)
    shape = check_shape(signature, shape)
    if len(raw) != _size(shape) * dtype.itemsize:
        raise TensorError(f"input {signature.name} has {len(raw)} bytes of raw contents; {datatype} of shape "
                          f"{list(shape)} needs {_size(shape) * dtype.itemsize}")
    return signature.cast(np.frombuffer(raw, dtype).reshape(shape), allow_non_finite)


class RawReader(ABC):
    """A runtime that reads gRPC raw contents itself. MLServer reloads a runtime's module when it
    reads its settings, so the gRPC server recognises such a runtime by this base, defined here."""

    @abstractmethod
    def decode_raw(self, tensors: Sequence, contents: Sequence[bytes]) -> dict[str, np.ndarray]:
        """The raw contents as arrays the graph takes, checked as ``from_bytes`` checks them."""

    @abstractmethod
    def run(self, arrays: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
        """The graph's outputs, by name."""
