"""Calling a generated per-example function on arrays: checked inputs, leading axes mapped with ``vmap``.

The JAX printer writes a model for one example; here extra leading axes of the inputs become a
batch (flattened, mapped, reshaped back), and the jitted function is cached per function and
batching pattern so repeated calls do not recompile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from ..frontend import shapes
from ..frontend.ir import ModelIR
from .data import batch_shape, read_inputs, read_parameters


def forward(ir: ModelIR, function: Callable, params: Mapping[str, Any], args: Sequence[Any],
            inputs: Mapping[str, Any]):
    """The outputs for these inputs: one array for one output, else a dict by name."""
    bound = read_parameters(ir, params)
    arrays = read_inputs(ir, args, inputs, bound)
    shapes.bind(ir, arrays, bound)
    batch, batched = batch_shape(ir, arrays)
    return _run(function, ir.roles.inputs, batch, batched, params, arrays)


def _run(function, names, batch, batched, params, arrays):
    import jax
    import jax.numpy as jnp

    size = 1
    for n in batch:
        size *= n
    flat = [jnp.asarray(arrays[n].reshape((size,) + arrays[n].shape[len(batch):]) if batched[n] else arrays[n])
            for n in names]
    in_axes = tuple(0 if batched[n] else None for n in names)
    out = _compiled(function, in_axes)(params, *flat)
    if not batch:
        return out
    return jax.tree_util.tree_map(lambda o: o.reshape(batch + o.shape[1:]), out)


@lru_cache(maxsize=256)
def _compiled(function, in_axes: tuple):
    import jax

    if all(axis is None for axis in in_axes):
        return jax.jit(function)
    return jax.jit(jax.vmap(function, in_axes=(None, *in_axes)))
