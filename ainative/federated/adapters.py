"""Flower adapters: a deterministic model's cell as Flower's ``ClientApp`` and ``ServerApp``.

Only the cell text and NumPy arrays cross process boundaries: clients rebuild the model from its
text (the front end, the JAX printer), parameters travel as an ``ArrayRecord`` in the model's
parameter order, and each client trains with the same training loop as ``fit``, with FedProx's
proximal term as a penalty when the server asks for it. The server side is one of Flower's
strategies, unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAdam, FedAvg, FedProx, Result

from ..errors import ModelError, ShapeError
from ..frontend.build import build
from ..frontend.ir import ModelIR
from ..frontend.spec import read
from ..printers.jax import print_jax
from ..runtime import compiler, training
from ..runtime.forward import forward

STRATEGIES = ("fedavg", "fedprox", "fedadam")
OPTIMIZERS = ("sgd", "adam")

DataSource = Callable[[Context], Mapping[str, np.ndarray]]
RoundCallback = Callable[[int, dict[str, float]], None]


@dataclass(frozen=True)
class Training:
    """What every client does with the global parameters in a round; sent as the round's config."""

    loss: str
    local_steps: int = 1
    batch_size: int = 0
    optimizer: str = "sgd"
    learning_rate: float = 0.1
    accuracy: str = ""

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ModelError(f"optimizer {self.optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
        if not isinstance(self.local_steps, int) or self.local_steps < 1:
            raise ModelError(f"local_steps must be a positive integer, not {self.local_steps!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 0:
            raise ModelError(f"batch_size must be a positive integer (0 for the whole local data), "
                             f"not {self.batch_size!r}")
        if not self.learning_rate > 0:
            raise ModelError(f"learning_rate must be positive, not {self.learning_rate!r}")

    @classmethod
    def for_model(cls, ir: ModelIR, *, loss: str | None = None, accuracy: str | None = None,
                  local_steps: int = 1, batch_size: int | None = None, optimizer: str = "sgd",
                  learning_rate: float = 0.1) -> Training:
        """Checked settings for the model ``ir``: the loss a scalar output, ``accuracy`` "output:target"."""
        name, outputs, inputs = ir.header.name, ir.roles.outputs, ir.roles.inputs
        loss = training.loss_output(ir, loss)
        if accuracy is None:
            accuracy = default_accuracy(ir, loss)
        output, _, target = accuracy.partition(":")
        if accuracy and (output not in outputs or target not in inputs):
            raise ShapeError(f"accuracy should read 'output:target' with an output ({', '.join(outputs)}) "
                             f"and an input ({', '.join(inputs)}) of {name}, not {accuracy!r}")
        return cls(loss, local_steps, batch_size or 0, optimizer, float(learning_rate), accuracy)

    def config(self) -> ConfigRecord:
        return ConfigRecord({key.replace("_", "-"): value for key, value in asdict(self).items()})

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Training:
        names = cls.__dataclass_fields__
        return cls(**{key.replace("-", "_"): value for key, value in config.items()
                      if key.replace("-", "_") in names})


@dataclass(frozen=True)
class Rebuilt:
    """A deterministic model rebuilt from its cell: its IR and its compiled per-example JAX function."""

    ir: ModelIR
    function: Callable

    def __call__(self, params: Mapping[str, Any], data: Mapping[str, Any]):
        return forward(self.ir, self.function, params, (), data)


@lru_cache(maxsize=16)
def rebuild(text: str) -> Rebuilt:
    """The model a cell text describes, built once per process; one with '~' statements is refused."""
    spec, skipped = read(text)
    ir = build(spec, skipped)
    if ir.roles.latents or ir.roles.observed:
        raise ModelError(f"{ir.header.name} has '~' statements; federated training takes a deterministic model")
    return Rebuilt(ir, compiler.load(print_jax(ir), ir.header.name))


def proximal_term(params: Mapping[str, Any], anchor: Mapping[str, Any], mu) -> Any:
    """FedProx: ``mu / 2 · ‖params − anchor‖²`` keeps a client near the round's global parameters."""
    import jax.numpy as jnp

    return 0.5 * mu * sum(jnp.sum((params[k] - anchor[k]) ** 2) for k in params)


def proximal(anchor: Mapping[str, Any], mu: float) -> training.Penalty:
    """FedProx's proximal term around ``anchor`` as a training penalty (one compiled step for every round)."""
    return training.Penalty(proximal_term, (dict(anchor), np.float32(mu)))


@lru_cache(maxsize=16)
def optimizer(name: str, learning_rate: float):
    """The optax optimizer a round's config names; one object per process, so ``fit`` compiles once."""
    import optax

    return getattr(optax, name)(learning_rate)


def to_record(ir: ModelIR, params: Mapping[str, Any]) -> ArrayRecord:
    """Parameters as Flower arrays, keyed and ordered as the model's parameters."""
    return ArrayRecord({name: Array(np.asarray(params[name], dtype=np.float32)) for name in ir.roles.params})


def from_record(ir: ModelIR, record: ArrayRecord) -> dict[str, np.ndarray]:
    """Parameters back from Flower arrays, checked against the model's parameter names."""
    names = ir.roles.params
    if list(record.keys()) != list(names):
        raise ShapeError(f"{ir.header.name} expects parameters {', '.join(names)}, got {', '.join(record.keys())}")
    return {name: record[name].numpy().astype(np.float32) for name in names}


def default_accuracy(ir: ModelIR, loss: str) -> str:
    """``"output:target"`` when exactly one output has the shape of exactly one input, else ``""``."""
    shapes = ir.shape_of
    pairs = [(o, i) for o in ir.roles.outputs if o != loss for i in ir.roles.inputs if shapes.get(o) == shapes.get(i)]
    return "{}:{}".format(*pairs[0]) if len(pairs) == 1 else ""


def evaluate(model: Rebuilt, params: Mapping[str, Any], data: Mapping[str, Any], settings: Training) -> dict:
    """Mean loss and (when ``settings.accuracy`` names an output and a target) accuracy on ``data``."""
    out = model(params, data)
    out = out if isinstance(out, dict) else {model.ir.roles.outputs[0]: out}
    metrics = {"loss": float(np.mean(out[settings.loss]))}
    if settings.accuracy:
        output, target = settings.accuracy.split(":")
        predicted, expected = np.asarray(out[output]), np.asarray(data[target])
        if predicted.ndim > 1:
            hits = np.argmax(predicted, -1) == np.argmax(expected, -1)
        else:
            hits = (predicted > 0.5) == (expected > 0.5)
        metrics["accuracy"] = float(np.mean(hits))
    return metrics


def _count(ir: ModelIR, data: Mapping[str, Any]) -> int:
    return int(np.shape(data[ir.roles.inputs[0]])[0])


def client_app(data: DataSource, text: str | None = None) -> ClientApp:
    """A ClientApp that trains and evaluates a model on the data ``data(context)`` gives.

    The model is the cell ``text``, or the app's run config ``cell`` when no text is given (as in
    a deployed app). Each round it receives the global parameters, runs ``local-steps`` of the
    training loop (with FedProx's proximal term when the server sends ``proximal-mu``), and
    replies with the new parameters and the number of local examples (FedAvg's weight).
    """
    app = ClientApp()

    def cell(context: Context) -> Rebuilt:
        return rebuild(text if text is not None else str(context.run_config["cell"]))

    @app.train()
    def train(message: Message, context: Context) -> Message:
        model = cell(context)
        local = data(context)
        config = message.content["config"]
        settings = Training.from_config(config)
        start = from_record(model.ir, message.content["arrays"])
        seed = (int(config["server-round"]) * 1_000_003 + context.node_id) % 2**32
        mu = float(config.get("proximal-mu", 0.0))
        result = training.fit(model.ir, model.function, start, local, loss=settings.loss, steps=settings.local_steps,
                              batch_size=settings.batch_size or None,
                              optimizer=optimizer(settings.optimizer, settings.learning_rate),
                              penalty=proximal(start, mu) if mu else None, seed=seed, progress=False)
        metrics = MetricRecord({"loss": float(result.history[-1]), "num-examples": _count(model.ir, local)})
        return Message(RecordDict({"arrays": to_record(model.ir, result.params), "metrics": metrics}),
                       reply_to=message)

    @app.evaluate()
    def evaluate_locally(message: Message, context: Context) -> Message:
        model = cell(context)
        local = data(context)
        settings = Training.from_config(message.content["config"])
        metrics = evaluate(model, from_record(model.ir, message.content["arrays"]), local, settings)
        metrics["num-examples"] = _count(model.ir, local)
        return Message(RecordDict({"metrics": MetricRecord(metrics)}), reply_to=message)

    return app


def strategy(name: str, clients: int, *, proximal_mu: float = 0.01, server_learning_rate: float = 0.1) -> FedAvg:
    """One of Flower's strategies, waiting for all ``clients`` in every round."""
    every = {"fraction_train": 1.0, "fraction_evaluate": 1.0, "min_train_nodes": clients,
             "min_evaluate_nodes": clients, "min_available_nodes": clients}
    if name == "fedavg":
        return FedAvg(**every)
    if name == "fedprox":
        return FedProx(**every, proximal_mu=proximal_mu)
    if name == "fedadam":
        return FedAdam(**every, eta=server_learning_rate)
    raise ModelError(f"strategy {name!r} is not one of {', '.join(STRATEGIES)}")


def run_rounds(
    grid: Grid,
    text: str,
    initial: Mapping[str, Any],
    rounds: int,
    chosen: Any,
    settings: Training,
    *,
    held_out: Mapping[str, Any] | None = None,
    on_round: RoundCallback | None = None,
) -> Result:
    """Run ``rounds`` of the ``chosen`` strategy from ``initial`` parameters over the grid's nodes.

    After every round (and before the first) the global parameters are evaluated on
    ``held_out`` and ``on_round(round, metrics)`` is called.
    """
    model = rebuild(text)

    def centrally(server_round: int, arrays: ArrayRecord) -> MetricRecord | None:
        metrics = {}
        if held_out is not None:
            metrics = evaluate(model, from_record(model.ir, arrays), held_out, settings)
        if on_round is not None:
            on_round(server_round, metrics)
        return MetricRecord(metrics) if metrics else None

    return chosen.start(grid=grid, initial_arrays=to_record(model.ir, initial), num_rounds=rounds,
                        train_config=settings.config(), evaluate_config=settings.config(),
                        evaluate_fn=centrally)


def server_app(run: Callable[[Grid], Result], on_done: Callable[[Result], None]) -> ServerApp:
    """A ServerApp whose main runs ``run(grid)`` and hands Flower's ``Result`` to ``on_done``."""
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        on_done(run(grid))

    return app


def history(result: Result, rounds: int) -> dict[str, np.ndarray]:
    """Per-round metrics from Flower's ``Result`` as arrays indexed by round 0..rounds (NaN where none).

    ``loss``/``accuracy``: the global model on the held-out set; ``client_loss``/``client_accuracy``:
    its weighted mean over the clients' own data; ``train_loss``: the clients' last local step.
    """
    columns: dict[str, np.ndarray] = {"round": np.arange(rounds + 1)}

    def put(name: str, server_round: int, value: float) -> None:
        columns.setdefault(name, np.full(rounds + 1, np.nan))[server_round] = value

    for server_round, record in result.evaluate_metrics_serverapp.items():
        for key, value in record.items():
            put(key, server_round, value)
    for server_round, record in result.evaluate_metrics_clientapp.items():
        for key, value in record.items():
            if key != "num-examples":
                put(f"client_{key}", server_round, value)
    for server_round, record in result.train_metrics_clientapp.items():
        put("train_loss", server_round, record["loss"])
    return columns
