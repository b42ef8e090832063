"""The components a ``write_app`` folder names: Flower loads ``clientapp`` and ``serverapp`` here.

Everything run-specific comes from the run config that ``write_app`` wrote (the cell, the
strategy, the training settings, where the starting parameters are) and, on each SuperNode,
from its node config (``data``: that client's ``.npz``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
from flwr.app import Context
from flwr.serverapp import Grid, ServerApp
from flwr.supercore import log

from ..runtime.atomic import npz, write_atomic
from . import adapters


def _arrays(path: object) -> dict[str, np.ndarray]:
    with np.load(str(path)) as arrays:
        return {name: arrays[name] for name in arrays.files}


clientapp = adapters.client_app(lambda context: _arrays(context.node_config["data"]))
serverapp = ServerApp()


@serverapp.main()
def main(grid: Grid, context: Context) -> None:
    """Run the configured rounds, log each one, and write the result where ``out`` says."""
    config = context.run_config
    text = str(config["cell"])
    rounds = int(config["num-server-rounds"])
    initial = _arrays(config["initial"])
    held_out = _arrays(config["test-data"]) if config["test-data"] else None
    chosen = adapters.strategy(str(config["strategy"]), int(config["clients"]),
                           proximal_mu=float(config["proximal-mu"]),
                           server_learning_rate=float(config["server-learning-rate"]))

    def on_round(server_round: int, metrics: dict[str, float]) -> None:
        shown = "  ".join(f"{k} {v:.4g}" for k, v in metrics.items())
        log(logging.INFO, "ainative: round %d/%d %s", server_round, rounds, shown)

    result = adapters.run_rounds(grid, text, initial, rounds, chosen, adapters.Training.from_config(config),
                             held_out=held_out, on_round=on_round)
    ir = adapters.rebuild(text).ir
    out = Path(str(config["out"]))
    write_atomic(out / "params.npz", npz(adapters.from_record(ir, result.arrays)))
    history = {key: [None if np.isnan(v) else float(v) for v in values]
               for key, values in adapters.history(result, rounds).items()}
    write_atomic(out / "history.json", json.dumps(history, indent=1))
    log(logging.INFO, "ainative: wrote %s and %s", out / "params.npz", out / "history.json")
