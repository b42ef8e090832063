"""Arrays in: checked against the model before any JAX code sees them.

Each problem is a ``DataError`` that names the input and says what was expected, so a wrong
array never surfaces as an XLA shape error from deep inside a jitted function. Settings (counts,
seeds, rates) are checked here too, as ``ModelError``s naming the setting.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from ..errors import DataError, ModelError, ShapeError, outside_integers
from ..frontend.ir import Domain, ModelIR
from ..frontend.shapes import Binding, bind, format_shape, keywords

#: what an integer input holds once read: ``int32``, which JAX promotes to float32 in arithmetic with floats
INT32 = np.iinfo(np.int32)


def as_array(name: str, value: object, what: str, real: str = "float32") -> np.ndarray:
    """``value`` as ``real`` (float32 unless a fit asks for float64), or a ``DataError`` naming it: numbers only,
    none empty, all finite after the cast."""
    array = _numbers(name, value, what)
    with np.errstate(over="ignore"):
        cast = array.astype(real, copy=False)
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(cast).all():
        _check_finite(name, array, what)
        raise DataError(f"{what} {name} has values beyond {real}'s range (largest magnitude "
                        f"{np.abs(array).max():.3g}, {real} stops at {np.finfo(real).max:.2g}), so they would "
                        "become inf")
    return cast


def _numbers(name: str, value: object, what: str) -> np.ndarray:
    """``value`` as an array of numbers, uncast: an integer input is checked (``integer_inputs``) before its cast."""
    try:
        array = np.asarray(value)
    except Exception as error:
        raise DataError(f"{what} {name} could not be read as an array: {error}") from None
    _check_dtype(name, array.dtype, what)
    if array.size == 0:
        raise DataError(f"{what} {name} is empty (shape {array.shape})")
    return array


def domain_limits(name: str, domain: Domain, bound: Mapping[str, Binding]) -> tuple[int, int, str]:
    """An integer domain's lowest and highest value (int32's where it has none) and how to say it in an error:
    ``county ∈ {1..J} with J = 8``. A bound that is an unbound dimension is a ``ShapeError``."""
    values = []
    for limit, default in ((domain.low, INT32.min), (domain.high, INT32.max)):
        if isinstance(limit, str) and limit not in bound:
            raise ShapeError(f"dimension {limit} (a bound of {name} ∈ {domain.written()}) is not bound: pass "
                             f"{limit}=... or data that fixes it")
        values.append(default if limit is None else bound[limit].value if isinstance(limit, str) else limit)
    low, high = values
    if domain.high is None:
        text = f"{name} ∈ {domain.written()}, whole numbers from {low} to {high} (int32)"
    else:
        named = ", ".join(f"{d} = {bound[d].value}" for d in domain.dims)
        text = f"{name} ∈ {domain.written()}" + (f" with {named}" if named else "")
    if low > high:
        raise ShapeError(f"{text}: the range is empty")
    return max(low, INT32.min), min(high, INT32.max), text


def integer_inputs(ir: ModelIR, arrays: Mapping[str, np.ndarray | None],
                   bound: Mapping[str, Binding]) -> dict[str, np.ndarray | None]:
    """The inputs declared integer checked (whole numbers inside their range) and cast to int32; the rest as given.

    A value outside the range is refused, never clamped: a county 9 of 8 would index past the end.
    """
    out = dict(arrays)
    for name, domain in ir.integers.items():
        if out.get(name) is None:
            continue
        low, high, text = domain_limits(name, domain, bound)
        error = outside_integers("input", name, out[name], low, high, text)
        if error is not None:
            raise error
        out[name] = out[name].astype(np.int32)
    return out


def _check_dtype(name: str, dtype: np.dtype, what: str) -> None:
    """Real numbers or booleans only: strings and objects have no float32 value, complex ones lose a part."""
    if not (np.issubdtype(dtype, np.number) or np.issubdtype(dtype, np.bool_)):
        raise DataError(f"{what} {name} has dtype {dtype}; expected numbers (float32 is used)")
    if np.issubdtype(dtype, np.complexfloating):
        raise DataError(f"{what} {name} is complex; expected real numbers")


def _check_finite(name: str, array, what: str, xp=np) -> None:
    """NaN and inf never come out of a model as anything else, so they are refused on the way in.

    ``xp`` is the array's library (NumPy, or ``jax.numpy`` for an array on a device).
    """
    if not bool(xp.isfinite(array).all()):
        bad = "NaN" if bool(xp.isnan(array).any()) else "inf"
        raise DataError(f"{what} {name} contains {bad}; expected finite numbers")


def check_parameters(params: Mapping[str, object]) -> None:
    """Parameter values, checked like inputs but where they live.

    JAX arrays in host memory are read in place; those on an accelerator are checked there, in one
    compiled reduction (no copy to the host, one round trip per call). Arrays being traced (under
    ``jax.grad`` or ``jit``) have no values yet, so only their dtype is checked.
    """
    jax = sys.modules.get("jax")
    on_device = {}
    for name, value in params.items():
        if jax is None or not isinstance(value, jax.Array):
            as_array(name, value, "parameter")
        elif not jax.numpy.issubdtype(value.dtype, jax.numpy.floating):
            _check_dtype(name, np.dtype(value.dtype), "parameter")
        elif isinstance(value, jax.core.Tracer):
            continue
        elif np.issubdtype(np.dtype(value.dtype), np.floating) and all(d.platform == "cpu" for d in value.devices()):
            _check_finite(name, np.asarray(value), "parameter")
        else:
            on_device[name] = value
    if not on_device:
        return
    for (name, value), finite in zip(on_device.items(), np.asarray(_finite_each()(tuple(on_device.values())))):
        if not finite:
            _check_finite(name, value, "parameter", jax.numpy)


@lru_cache(maxsize=1)
def _finite_each():
    """A jitted function: for each array of a tuple, whether all its values are finite."""
    import jax
    import jax.numpy as jnp

    return jax.jit(lambda arrays: jnp.stack([jnp.isfinite(a).all() for a in arrays]))


def whole_number(name: str, value: object, least: int = 1, most: int | None = None) -> int:
    """A setting that counts (draws, steps) or seeds: an ``int``, so 2.5 or ``True`` is refused, not truncated.

    ``least`` is 1 (a count) or 0 (warm-up steps, seeds); ``most`` bounds seeds.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least or (
            most is not None and value > most):
        if most is not None:
            kind = f"an integer from {least} to {most}"
        else:
            kind = "a positive integer" if least == 1 else "a non-negative integer"
        raise ModelError(f"{name} must be {kind}, not {value!r}")
    return int(value)


def positive_number(name: str, value: object) -> float:
    """A setting such as a learning rate: a finite real number above zero."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) or not (
            math.isfinite(value) and value > 0):
        raise ModelError(f"{name} must be a positive number, not {value!r}")
    return float(value)


def read_inputs(ir: ModelIR, args: Sequence, given: Mapping[str, object],
                bound: Mapping[str, Binding] | None = None) -> dict[str, np.ndarray]:
    """The model's inputs from positional and keyword arguments, as float32 arrays (int32 where declared integer).

    ``bound`` (the dimensions the parameters fix) gives a range such as ``{1..J}`` its ``J``.
    """
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
    integers = ir.integers
    arrays = {name: (_numbers if name in integers else as_array)(name, values[name], "input") for name in names}
    return integer_inputs(ir, arrays, bind(ir, arrays, bound)) if integers else arrays


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
    check_parameters({name: params[name] for name in expected})
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
    ir: ModelIR, given: Mapping[str, object], dims: Mapping[str, object], *, need_observed: bool = False,
    draws: Mapping[str, tuple[int, ...]] | None = None, real: str = "float32",
) -> tuple[dict[str, np.ndarray | None], dict[str, Binding]]:
    """Whole data sets for a probabilistic model: observed inputs may be absent (then sampled).

    Returns the arrays (``None`` where absent) and every dimension, bound from the arrays and
    keywords; an unbound dimension is a ``ShapeError`` saying which keyword to pass.
    ``need_observed`` (fit) makes every observed input required: conditioning on nothing would
    quietly return the prior. ``draws`` are the shapes of a posterior's draws of the latents (one
    draw each): they bind dimensions first, so data that contradicts the posterior is a
    ``DataError`` here rather than a shape error inside the library. Real data are read as ``real``.
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
    unobserved = [n for n in observed if given.get(n) is None] if need_observed else []
    if unobserved:
        listed = ", ".join(f"{n} {format_shape(shapes[n])}" for n in unobserved)
        raise DataError(f"fit needs observed data for {listed}, but none was given; pass it as an array "
                        "(sample_prior draws the model without it)")
    arrays: dict[str, np.ndarray | None] = {}
    for name in names:
        value = given.get(name)
        if value is None:
            arrays[name] = None
        elif name in ir.integers:
            arrays[name] = _numbers(name, value, "input")
        else:
            arrays[name] = as_array(name, value, "input", real)
        if arrays[name] is not None and arrays[name].ndim != len(shapes[name]):
            raise DataError(
                f"input {name} has shape {arrays[name].shape}, but the model expects {format_shape(shapes[name])}; "
                "a probabilistic model takes whole data sets, so declare the data axis (e.g. X ∈ ℝ^{N×D})")
    bound = bind(ir, draws or {}, keywords(ir, dims), what="posterior draw")
    bound = bind(ir, {n: a for n, a in arrays.items() if a is not None}, bound)
    for dim in ir.roles.dims:
        if dim not in bound:
            raise ShapeError(f"dimension {dim} is not bound: pass {dim}=... or data that fixes it")
    return integer_inputs(ir, arrays, bound), bound
