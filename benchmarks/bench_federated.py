"""Seconds per federated round with 2, 4 and 8 simulated clients: ``Model.federate``'s adapters
against a Flower app written by hand (the same MLP, data and FedAvg), both in Flower's Simulation
Runtime. Runs in the federated venv (Flower cannot share the main one with MLServer).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLIENTS = (2, 4, 8)
ROUNDS, LOCAL_STEPS, EXAMPLES, RATE = 8, 5, 200, 0.1


def rows() -> list[tuple[str, str, str, str, str]]:
    python = os.environ.get("AINATIVE_FEDERATED_PYTHON", str(HERE.parent / ".venv-federated" / "bin" / "python"))
    env = {**os.environ, "FLWR_TELEMETRY_ENABLED": "0", "RAY_USAGE_STATS_ENABLED": "0",
           "FLWR_DISABLE_UPDATE_CHECK": "1"}
    code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import bench_federated; bench_federated.measure()"
    out = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=HERE.parent)
    timings = json.loads(out.stdout.strip().splitlines()[-1])
    return [(f"federated round (FedAvg, {LOCAL_STEPS} local steps, MLP 2→16→3, {EXAMPLES} examples each), "
             f"{n} simulated clients", f"{ours['round']:.3f} s", f"{hand['round']:.3f} s",
             f"{ours['round'] / hand['round']:.2f}× (first round {ours['first']:.1f} s: Ray start)",
             "informative") for n, (ours, hand) in timings.items()]


def measure() -> None:
    """Print {clients: [ours, hand-written]}: the median round after the first, and the first round."""
    import numpy as np

    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 2.0], [-1.8, -1.0], [1.8, -1.0]])
    timings = {}
    for n in CLIENTS:
        clients = []
        for _ in range(n):
            labels = rng.integers(0, 3, EXAMPLES)
            clients.append({"x": (centres[labels] + rng.normal(scale=0.6, size=(EXAMPLES, 2))).astype(np.float32),
                            "t": np.eye(3, dtype=np.float32)[labels]})
        timings[n] = [_rounds(_ours, clients), _rounds(_hand_written, clients)]
    print(json.dumps(timings))


def _rounds(contender, clients) -> dict[str, float]:
    from flwr.simulation import run_simulation

    from ainative.federated.simulation import _flower_log, _ray

    stamps: list[float] = []
    server, client = contender(clients, lambda: stamps.append(time.perf_counter()))
    with _flower_log(False):
        run_simulation(server_app=server, client_app=client, num_supernodes=len(clients),
                       backend_config=_ray(False))
    rounds = sorted(b - a for a, b in itertools.pairwise(stamps[1:]))
    return {"first": stamps[1] - stamps[0], "round": rounds[len(rounds) // 2]}


def _ours(clients, tick):
    import numpy as np
    from cells import CLASSIFIER

    import ainative
    from ainative.federated import adapters
    from ainative.federated.simulation import Partitions

    model = ainative.model(CLASSIFIER, header="mlp(x, t) -> y, L")
    start = {k: np.asarray(v) for k, v in model.init(0, D=2, H=16, K=3).items()}
    training = adapters.Training.for_model(model.ir, local_steps=LOCAL_STEPS, learning_rate=RATE)
    server = adapters.server_app(lambda grid: adapters.run_rounds(grid, model.text, start, ROUNDS,
                                                          adapters.strategy("fedavg", len(clients)), training,
                                                          on_round=lambda *_: tick()),
                             on_done=lambda result: None)
    return server, adapters.client_app(Partitions(tuple(clients)), model.text)


@lru_cache(maxsize=1)
def _step():
    import jax
    import jax.numpy as jnp

    def loss(p, x, t):
        y = jax.nn.softmax(jnp.tanh(x @ p[0].T + p[1]) @ p[2].T + p[3])
        return jnp.mean(-jnp.sum(t * jnp.log(y), -1))

    @jax.jit
    def step(p, x, t):
        value, grads = jax.value_and_grad(loss)(p, x, t)
        return [w - RATE * g for w, g in zip(p, grads)], value

    return step, jax.jit(loss)


def _hand_written(clients, tick):
    import numpy as np
    from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp
    from flwr.serverapp import Grid, ServerApp
    from flwr.serverapp.strategy import FedAvg

    rng = np.random.default_rng(0)
    limit1, limit2 = (6 / 18) ** 0.5, (6 / 19) ** 0.5
    start = [rng.uniform(-limit1, limit1, (16, 2)).astype(np.float32), np.zeros(16, np.float32),
             rng.uniform(-limit2, limit2, (3, 16)).astype(np.float32), np.zeros(3, np.float32)]
    client, server = ClientApp(), ServerApp()

    @client.train()
    def train(message: Message, context: Context) -> Message:
        data = clients[int(context.node_config["partition-id"])]
        step, _ = _step()
        p = message.content["arrays"].to_numpy_ndarrays()
        for _ in range(LOCAL_STEPS):
            p, value = step(p, data["x"], data["t"])
        metrics = MetricRecord({"loss": float(value), "num-examples": len(data["x"])})
        return Message(RecordDict({"arrays": ArrayRecord([np.asarray(w) for w in p]), "metrics": metrics}),
                       reply_to=message)

    @client.evaluate()
    def evaluate(message: Message, context: Context) -> Message:
        data = clients[int(context.node_config["partition-id"])]
        _, loss = _step()
        value = float(loss(message.content["arrays"].to_numpy_ndarrays(), data["x"], data["t"]))
        return Message(RecordDict({"metrics": MetricRecord({"loss": value, "num-examples": len(data["x"])})}),
                       reply_to=message)

    @server.main()
    def main(grid: Grid, context: Context) -> None:
        n = len(clients)
        strategy = FedAvg(min_train_nodes=n, min_evaluate_nodes=n, min_available_nodes=n)
        strategy.start(grid=grid, initial_arrays=ArrayRecord(start), num_rounds=ROUNDS,
                       evaluate_fn=lambda *_: tick())

    return server, client


if __name__ == "__main__":
    for row in rows():
        print(" | ".join(row))
    sys.exit(0)
