"""Federated training of a cell: N clients, each with its own data, in Flower's Simulation Runtime.

The ServerApp runs in this process (so progress and the result come straight back); the
ClientApps run in Ray actors, which rebuild the model from its cell text.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError, ModelError
from ..frontend.ir import ModelIR
from ..frontend.shapes import bind
from ..runtime.data import batch_shape, read_inputs, read_parameters
from ..runtime.training import FederatedResult
from . import adapters

if TYPE_CHECKING:
    from flwr.app import Context


@dataclass(frozen=True)
class Partitions:
    """Client ``partition-id``'s data: what a simulated SuperNode holds."""

    data: tuple[Mapping[str, np.ndarray], ...]

    def __call__(self, context: Context) -> Mapping[str, np.ndarray]:
        return self.data[int(context.node_config["partition-id"])]


def checked(ir: ModelIR, params: Mapping[str, Any], data: Mapping[str, Any], what: str) -> dict[str, np.ndarray]:
    """``data`` as float32 arrays (int32 where declared integer) with one leading axis of examples, or a DataError
    naming ``what``."""
    if not isinstance(data, Mapping):
        raise DataError(f"{what} should be a dict of arrays by input name ({', '.join(ir.roles.inputs)})")
    try:
        bound = read_parameters(ir, params)
        arrays = read_inputs(ir, (), data, bound)
        bind(ir, arrays, bound)
        batch, batched = batch_shape(ir, arrays)
    except DataError as error:
        raise DataError(f"{what}: {error}") from None
    if len(batch) != 1 or not all(batched.values()):
        raise DataError(f"{what}: every input needs one leading axis of examples (batch axes {batch})")
    return arrays


def federate(
    text: str,
    client_data: Sequence[Mapping[str, Any]],
    rounds: int,
    strategy: str = "fedavg",
    *,
    params: Mapping[str, Any],
    test_data: Mapping[str, Any] | None = None,
    loss: str | None = None,
    accuracy: str | None = None,
    local_steps: int = 1,
    batch_size: int | None = None,
    optimizer: str = "sgd",
    learning_rate: float = 0.1,
    proximal_mu: float = 0.01,
    server_learning_rate: float = 0.1,
    progress: bool = True,
    verbose: bool = False,
) -> FederatedResult:
    """Train the model of cell ``text`` from ``params`` across ``len(client_data)`` simulated clients."""
    from flwr.simulation import run_simulation
    from tqdm.auto import tqdm

    ir = adapters.rebuild(text).ir
    name = ir.header.name
    training = adapters.Training.for_model(ir, loss=loss, accuracy=accuracy, local_steps=local_steps,
                                           batch_size=batch_size, optimizer=optimizer, learning_rate=learning_rate)
    if not isinstance(rounds, int) or rounds < 1:
        raise ModelError(f"rounds must be a positive integer, not {rounds!r}")
    if isinstance(client_data, Mapping) or not len(client_data):
        raise DataError("client_data should be a list with one dict of arrays per client")
    if not isinstance(params, Mapping):
        raise ModelError(f"{name} has no parameters yet: pass params={name}.init(...)")
    start = {key: np.asarray(value, np.float32) for key, value in params.items()}
    clients = tuple(checked(ir, start, data, f"client {i}") for i, data in enumerate(client_data))
    held_out = None if test_data is None else checked(ir, start, test_data, "test_data")
    chosen = adapters.strategy(strategy, len(clients), proximal_mu=proximal_mu,
                               server_learning_rate=server_learning_rate)
    outcome: dict[str, Any] = {}
    with tqdm(total=rounds, desc=f"federate {name}", disable=not progress) as bar:

        def on_round(server_round: int, metrics: dict[str, float]) -> None:
            bar.set_postfix({k: f"{v:.4g}" for k, v in metrics.items()}, refresh=False)
            bar.update(server_round - bar.n)

        server = adapters.server_app(
            lambda grid: adapters.run_rounds(grid, text, start, rounds, chosen, training,
                                             held_out=held_out, on_round=on_round),
            on_done=lambda result: outcome.update(result=result))
        client = adapters.client_app(Partitions(clients), text)
        with _flower_log(verbose):
            run_simulation(server_app=server, client_app=client, num_supernodes=len(clients),
                           backend_config=_ray(verbose))
    result = outcome.get("result")
    missing = [] if result is None else [r for r in range(1, rounds + 1) if r not in result.train_metrics_clientapp]
    if result is None or missing:
        where = "the server app did not finish" if result is None else f"no client replied in round {missing[0]}"
        raise ModelError(f"federated training of {name} failed: {where} (run with verbose=True for Flower's log)")
    return FederatedResult(adapters.from_record(ir, result.arrays), adapters.history(result, rounds))


def _ray(verbose: bool) -> dict:
    """One CPU per client, no dashboard, Ray quiet unless ``verbose``."""
    return {"client_resources": {"num_cpus": 1, "num_gpus": 0.0},
            "init_args": {"include_dashboard": False, "log_to_driver": verbose,
                          "logging_level": logging.INFO if verbose else logging.ERROR}}


@contextmanager
def _flower_log(verbose: bool):
    """Flower logs every message at INFO; unless ``verbose`` the progress bar says what matters.

    Ray starts its processes by fork-and-exec, which JAX warns about although nothing is shared,
    and Ray warns about a future change to GPU visibility that a CPU client does not meet.
    """
    logger = logging.getLogger("flwr")
    level = logger.level
    if not verbose:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "os.fork", RuntimeWarning)
            warnings.filterwarnings("ignore", "Tip: In future versions of Ray", FutureWarning)
            yield
    finally:
        logger.setLevel(level)
