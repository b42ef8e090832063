"""Arrays in: checked against the model before any JAX code sees them.

Each problem is a ``DataError`` that names the input and says what was expected, so a wrong
array never surfaces as an XLA shape error from deep inside a jitted function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import DataError, ShapeError
from ..frontend.ir import ModelIR
from ..frontend.shapes import Binding, bind, format_shape, keywords


def as_array(name: str, value, what: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except Exception as error:
        raise DataError(f"{what} {name} could not be read as an array: {error}") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise DataError(f"{what} {name} has dtype {array.dtype}; expected numbers (float32 is used)")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise DataError(f"{what} {name} is complex; expected real numbers")
    if array.size == 0:
        raise DataError(f"{what} {name} is empty (shape {array.shape})")
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        bad = "NaN" if np.isnan(array).any() else "inf"
        raise DataError(f"{what} {name} contains {bad}; expected finite numbers")
    return array.astype(np.float32, copy=False)


def read_inputs(ir: ModelIR, args: Sequence, given: Mapping[str, object]) -> dict[str, np.ndarray]:
    """The model's inputs from positional and keyword arguments, as float32 arrays."""
    names = ir.roles.inputs
    if len(args) > len(names):
        raise DataError(f"{ir.header.name} takes {len(names)} input(s) ({', '.join(names)}), got {len(args)}")
    values = dict(zip(names, args))
    for name, value in given.items():
        if name not in names:
            raise DataError(f"unknown input {name!r}; the inputs of {ir.header.name} are {', '.join(names)}")
        if name in values:
            raise DataError(f"input {name} given twice")
        values[name] = value
    shapes = ir.shape_of
    missing = [n for n in names if n not in values]
    if missing:
        wanted = ", ".join(f"{n} {format_shape(shapes[n])}" for n in missing)
        raise DataError(f"missing input(s): {wanted}")
    return {name: as_array(name, values[name], "input") for name in names}


def read_parameters(ir: ModelIR, params: Mapping[str, object]) -> dict[str, Binding]:
    """Check a parameter dict against the model; the dimensions its shapes fix."""
    if not isinstance(params, Mapping):
        raise DataError(
            f"params should be a dict of arrays (from {ir.header.name}.init), not {type(params).__name__}")
    expected = ir.roles.params
    missing = [p for p in expected if p not in params]
    extra = [p for p in params if p not in expected]
    if missing or extra:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unknown {', '.join(extra)}"] if extra else [])
        raise DataError(f"params do not fit {ir.header.name}: {'; '.join(parts)}")
    shapes = ir.shape_of
    for name in expected:
        if len(np.shape(params[name])) != len(shapes[name]):
            raise DataError(
                f"parameter {name} has shape {np.shape(params[name])}, expected {format_shape(shapes[name])}")
    return bind(ir, {p: tuple(np.shape(params[p])) for p in expected}, what="parameter")


def batch_shape(ir: ModelIR, arrays: Mapping[str, np.ndarray]) -> tuple[tuple[int, ...], dict[str, bool]]:
    """The leading batch axes the inputs share, and which inputs carry them."""
    shapes = ir.shape_of
    batch: tuple[int, ...] | None = None
    owner = ""
    batched = {}
    for name, array in arrays.items():
        extra = array.shape[: array.ndim - len(shapes[name])]
        batched[name] = bool(extra)
        if not extra:
            continue
        if batch is not None and extra != batch:
            raise DataError(f"input {name} has batch axes {extra}, but {owner} has {batch}; batched inputs "
                            "must share their leading axes")
        batch, owner = extra, name
    return batch or (), batched


def read_data(
    ir: ModelIR, given: Mapping[str, object], dims: Mapping[str, object]
) -> tuple[dict[str, np.ndarray | None], dict[str, Binding]]:
    """Whole data sets for a probabilistic model: observed inputs may be absent (then sampled).

    Returns the arrays (``None`` where absent) and every dimension, bound from the arrays and
    keywords; an unbound dimension is a ``ShapeError`` saying which keyword to pass.
    """
    if not isinstance(given, Mapping):
        raise DataError(f"data should be a dict of arrays by input name ({', '.join(ir.roles.inputs)})")
    names, observed, shapes = ir.roles.inputs, ir.roles.observed, ir.shape_of
    for name in given:
        if name not in names:
            raise DataError(f"unknown input {name!r}; the inputs of {ir.header.name} are {', '.join(names)}")
    missing = [n for n in names if n not in observed and given.get(n) is None]
    if missing:
        raise DataError(f"missing input(s): {', '.join(f'{n} {format_shape(shapes[n])}' for n in missing)}")
    arrays: dict[str, np.ndarray | None] = {}
    for name in names:
        value = given.get(name)
        arrays[name] = None if value is None else as_array(name, value, "input")
        if arrays[name] is not None and arrays[name].ndim != len(shapes[name]):
            raise DataError(
                f"input {name} has shape {arrays[name].shape}, but the model expects {format_shape(shapes[name])}; "
                "a probabilistic model takes whole data sets, so declare the data axis (e.g. X ∈ ℝ^{N×D})")
    bound = bind(ir, {n: a for n, a in arrays.items() if a is not None}, keywords(ir, dims))
    for dim in ir.roles.dims:
        if dim not in bound:
            raise ShapeError(f"dimension {dim} is not bound: pass {dim}=... or data that fixes it")
    return arrays, bound
