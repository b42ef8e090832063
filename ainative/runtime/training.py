"""Training a deterministic model: minibatch gradient descent on the mean of a loss output.

It works on a model's IR and its generated per-example function. Anything added to the loss
(FedProx's proximal term, a weight penalty) comes in as a ``Penalty``: a function of the
parameters and of arrays passed with it, so that one compiled step serves every call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from ..errors import DataError, ShapeError
from ..frontend.ir import ModelIR
from ..frontend.shapes import bind, format_shape
from .data import batch_shape, read_inputs, read_parameters, whole_number


class FitResult(NamedTuple):
    """Trained parameters and the loss at every step (``params, history = m.fit(...)``)."""

    params: dict
    history: np.ndarray


class FederatedResult(NamedTuple):
    """The global parameters after the last federated round, and metrics by round (``history["accuracy"]``)."""

    params: dict
    history: dict[str, np.ndarray]


class Penalty(NamedTuple):
    """``term(params, *args)`` added to the mean loss; ``args`` are arrays, so a new value needs no recompile."""

    term: Callable
    args: tuple = ()


def loss_output(ir: ModelIR, loss: str | None) -> str:
    """The output to minimise: ``loss``, checked to be a scalar output, or the only scalar output."""
    name, outputs, shapes = ir.header.name, ir.roles.outputs, ir.shape_of
    scalars = [o for o in outputs if shapes.get(o, ()) == ()]
    if loss is None:
        if not scalars:
            listed = ", ".join(f"{o} {format_shape(shapes.get(o, ()))}" for o in outputs)
            raise ShapeError(f"a loss is a scalar output per example, and {name} has none ({listed})")
        if len(scalars) > 1:
            raise ShapeError(f"pass loss=<output name>: {name} has scalar outputs {', '.join(scalars)}")
        return scalars[0]
    if loss not in outputs:
        raise ShapeError(f"loss {loss!r} is not an output of {name} (outputs: {', '.join(outputs)})")
    if loss not in scalars:
        raise ShapeError(f"loss {loss} has shape {format_shape(shapes[loss])} per example; "
                         "it must be a scalar (write e.g. L = Σ ...)")
    return loss


def _mesh(devices, mesh):
    """A one-axis data mesh over ``devices``, or the mesh given; None for single-device training."""
    if mesh is not None:
        return mesh
    if devices is None:
        return None
    from jax.sharding import Mesh

    devices = list(devices)
    if not devices:
        raise DataError("devices is empty: pass jax.devices() or a list of them")
    return Mesh(np.array(devices), ("data",))


def fit(
    ir: ModelIR,
    function: Callable,
    params: Mapping[str, Any],
    data: Mapping[str, Any],
    loss: str | None = None,
    *,
    steps: int = 1000,
    batch_size: int | None = None,
    optimizer: Any = None,
    freeze: Sequence[str] = (),
    devices: Sequence[Any] | None = None,
    mesh: Any = None,
    penalty: Penalty | None = None,
    seed: int = 0,
    progress: bool = True,
) -> FitResult:
    """Minimise the mean over examples of output ``loss``, with an ``optax`` optimizer.

    Parameters named in ``freeze`` get no updates (fine-tuning the rest of a transferred model).
    With ``devices`` (or a ``jax.sharding.Mesh``), training is data-parallel: each batch is split
    over the devices along the mesh's first axis, parameters are replicated, and XLA all-reduces
    the gradients; the batch size must be a multiple of the number of devices. ``penalty`` is
    added to the mean loss. The compiled step is reused across calls with the same function, loss,
    optimizer object and penalty term.
    """
    import jax
    import jax.numpy as jnp
    from tqdm.auto import tqdm

    inputs, names = ir.roles.inputs, ir.roles.params
    name = loss_output(ir, loss)
    steps, seed = whole_number("steps", steps), whole_number("seed", seed, least=0)
    if batch_size is not None:
        batch_size = whole_number("batch_size", batch_size)
    if not isinstance(data, Mapping):
        raise DataError(f"data should be a dict of arrays by input name ({', '.join(inputs)})")
    bound = read_parameters(ir, params)
    arrays = read_inputs(ir, (), data, bound)
    bind(ir, arrays, bound)
    batch, batched = batch_shape(ir, arrays)
    if len(batch) != 1:
        raise DataError(f"fit needs inputs with one leading axis of examples; they have batch axes {batch}")
    count = batch[0]
    size = count if batch_size is None else batch_size
    if size > count:
        raise DataError(f"batch_size must be between 1 and the number of examples ({count}), not {batch_size}")
    optimizer = optimizer if optimizer is not None else _adam()
    frozen = set([freeze] if isinstance(freeze, str) else freeze)
    unknown = sorted(frozen - set(names))
    if unknown:
        raise ShapeError(f"cannot freeze {', '.join(unknown)}: not parameters of {ir.header.name} "
                         f"(its parameters: {', '.join(names)})")
    cached = _hashable(optimizer)
    if frozen:
        freezing = _freezing if cached else _freezing.__wrapped__
        optimizer = freezing(optimizer, frozenset(frozen), names)
    term, extra = penalty if penalty is not None else (None, ())
    step = (_step if cached else _step.__wrapped__)(function, name, tuple(batched[n] for n in inputs), optimizer,
                                                    term)

    xs = [jnp.asarray(arrays[n]) for n in inputs]
    p = {k: jnp.asarray(v) for k, v in params.items()}
    extra = jax.tree_util.tree_map(jnp.asarray, extra)
    mesh = _mesh(devices, mesh)
    if mesh is not None:
        from jax.sharding import NamedSharding, PartitionSpec

        parts = mesh.shape[mesh.axis_names[0]]
        if size % parts:
            raise DataError(f"batch_size {size} does not split over {parts} devices: use a multiple of "
                            f"{parts} (e.g. {max(parts, size - size % parts)})")
        spread = NamedSharding(mesh, PartitionSpec(mesh.axis_names[0]))
        p, extra = jax.device_put((p, extra), NamedSharding(mesh, PartitionSpec()))
        xs = [jax.device_put(x, NamedSharding(mesh, PartitionSpec())) for x in xs]
    state = optimizer.init(p)
    rng = np.random.default_rng(seed)
    order, cursor = rng.permutation(count), 0
    history = []
    every = max(1, steps // 100)
    with tqdm(total=steps, desc=f"fit {ir.header.name}", disable=not progress, leave=False) as bar:
        for i in range(steps):
            if cursor + size > count:
                order, cursor = rng.permutation(count), 0
            index = jnp.asarray(order[cursor : cursor + size]) if size < count else jnp.arange(count)
            if mesh is not None:
                index = jax.device_put(index, spread)
            cursor += size
            p, state, value = step(p, state, index, extra, *xs)
            history.append(value)
            if (i + 1) % every == 0 or i + 1 == steps:
                bar.set_postfix(loss=f"{float(value):.4g}", refresh=False)
                bar.update((i + 1) - bar.n)
    return FitResult(p, np.asarray(jax.device_get(history), dtype=np.float32))


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


@lru_cache(maxsize=1)
def _adam():
    import optax

    return optax.adam(1e-3)


@lru_cache(maxsize=64)
def _freezing(optimizer, frozen: frozenset, params: tuple):
    """``optimizer`` for every parameter except those in ``frozen``, which get no update."""
    import optax

    labels = {name: "frozen" if name in frozen else "trained" for name in params}
    return optax.multi_transform({"trained": optimizer, "frozen": optax.set_to_zero()}, labels)


@lru_cache(maxsize=64)
def _step(function, loss: str, batched: tuple[bool, ...], optimizer, term: Callable | None):
    """One jitted optimizer step on the mean loss (plus the penalty ``term``) over examples ``index``."""
    import jax
    import jax.numpy as jnp
    import optax

    per_example = jax.vmap(function, in_axes=(None, *(0 if b else None for b in batched)))

    def objective(p, index, extra, *xs):
        taken = [jnp.take(x, index, axis=0) if b else x for b, x in zip(batched, xs)]
        out = per_example(p, *taken)
        value = jnp.mean(out[loss] if isinstance(out, dict) else out)
        return value if term is None else value + term(p, *extra)

    @jax.jit
    def step(p, state, index, extra, *xs):
        value, grads = jax.value_and_grad(objective)(p, index, extra, *xs)
        updates, state = optimizer.update(grads, state, p)
        return optax.apply_updates(p, updates), state, value

    return step
