"""``write_app``: a Flower app folder for the deployment engine, from a model and its settings.

The folder holds only ``pyproject.toml`` (the cell and settings are its run config) and the
starting parameters; its components are ``ainative.federated.components``, so SuperLink and SuperNodes
need ainative installed, and each SuperNode is told where its own data is with
``--node-config 'data="client.npz"'``.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ExportError, ModelError
from ..export.files import refuse_to_overwrite
from ..runtime.atomic import npz, write_atomic
from ..runtime.data import read_parameters
from . import adapters
from .simulation import checked

if TYPE_CHECKING:
    from ..models import DeterministicModel


def write_app(
    model: DeterministicModel,
    folder: str | Path,
    rounds: int,
    clients: int,
    strategy: str = "fedavg",
    *,
    params: Mapping[str, Any] | None = None,
    test_data: Mapping[str, Any] | None = None,
    out: str | Path | None = None,
    proximal_mu: float = 0.01,
    server_learning_rate: float = 0.1,
    overwrite: bool = False,
    **training: Any,
) -> Path:
    """Write a Flower app that trains ``model`` for ``rounds`` rounds over ``clients`` SuperNodes.

    ``training`` takes ``federate``'s options (``loss``, ``accuracy``, ``local_steps``,
    ``batch_size``, ``optimizer``, ``learning_rate``). The server writes ``params.npz`` and
    ``history.json`` to ``out`` (default ``folder/result``). Returns ``folder/pyproject.toml``.
    """
    ir = adapters.rebuild(model.text).ir
    settings = adapters.Training.for_model(ir, **training)
    adapters.strategy(strategy, clients, proximal_mu=proximal_mu, server_learning_rate=server_learning_rate)
    if not isinstance(rounds, int) or rounds < 1:
        raise ModelError(f"rounds must be a positive integer, not {rounds!r}")
    params = params if params is not None else model.latest.value
    if not isinstance(params, Mapping):
        raise ModelError(f"{ir.header.name} has no parameters yet: pass params={ir.header.name}.init(...)")
    folder = Path(folder).absolute()
    files = {"pyproject": folder / "pyproject.toml", "initial": folder / "initial.npz"}
    if test_data is not None:
        files["test"] = folder / "test.npz"
    for path in files.values():
        refuse_to_overwrite(path, overwrite)
    read_parameters(ir, params)
    start = {name: np.asarray(params[name], np.float32) for name in ir.roles.params}
    held_out = None if test_data is None else checked(ir, start, test_data, "test_data")
    config = {
        "cell": model.text, "num-server-rounds": rounds, "clients": clients, "strategy": strategy,
        "proximal-mu": float(proximal_mu), "server-learning-rate": float(server_learning_rate),
        "initial": str(files["initial"]), "test-data": str(files["test"]) if held_out is not None else "",
        "out": str(Path(out).absolute() if out is not None else folder / "result"),
        **dict(settings.config()),
    }
    text = _pyproject(ir.header.name, config)
    if tomllib.loads(text)["tool"]["flwr"]["app"]["config"] != config:
        raise ExportError(f"{ir.header.name}'s cell does not survive TOML; remove control characters from it")
    write_atomic(files["initial"], npz(start))
    if held_out is not None:
        write_atomic(files["test"], npz(held_out))
    return write_atomic(files["pyproject"], text)


def save_data(path: str | Path, data: Mapping[str, Any], *, overwrite: bool = False) -> Path:
    """One client's data as the ``.npz`` file a SuperNode's ``--node-config data=...`` names."""
    refuse_to_overwrite(path, overwrite)
    return write_atomic(path, npz({name: np.asarray(value) for name, value in data.items()}))


def _pyproject(name: str, config: Mapping[str, Any]) -> str:
    project = "ainative-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    lines = [
        "# A Flower app written by ainative.federated.write_app: run it with `flwr run FOLDER SUPERLINK`.",
        "[build-system]", 'requires = ["hatchling"]', 'build-backend = "hatchling.build"', "",
        "[project]", f"name = {json.dumps(project)}", 'version = "1.0.0"',
        f"description = {json.dumps(f'Federated training of the {name} model, from its %%model cell')}",
        'license = "Apache-2.0"', 'dependencies = ["ainative[federated]"]', "",
        "[tool.flwr.app]", 'publisher = "ainative"', "",
        "[tool.flwr.app.components]", 'serverapp = "ainative.federated.components:serverapp"',
        'clientapp = "ainative.federated.components:clientapp"', "",
        "[tool.flwr.app.config]",
    ]
    lines += [f"{key} = {_toml(value)}" for key, value in config.items()]
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)
