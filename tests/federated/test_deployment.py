"""The same adapters under Flower's deployment engine: a SuperLink and two SuperNodes as real
processes on 127.0.0.1, driven by ``flwr run`` on the folder ``write_app`` wrote."""

import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

from ainative.errors import DataError, ExportError
from ainative.federated import save_data, write_app
from tests.federated.blobs import blobs, close, loss, sgd
from tests.processes import free_port, listening, stop

BIN = Path(sys.executable).parent


def leftovers(ports) -> list[str]:
    """Command lines of running processes that name one of ``ports``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            words = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if any(w == str(p) or w.endswith(f":{p}") or f"127.0.0.1:{p}" in w for w in words for p in ports):
            found.append(" ".join(words))
    return found


def logs(folder: Path) -> str:
    """The ends of the SuperLink's and the SuperNodes' logs: why a node did not join."""
    return "".join(f"\n--- {log.name}\n{log.read_text(errors='replace')[-2000:]}"
                   for log in sorted(folder.glob("*.log")))


def test_write_app_writes_a_flower_app_flower_accepts(mlp, start, tmp_path):
    from flwr.common.config import validate_config

    pyproject = write_app(mlp, tmp_path / "app", rounds=3, clients=4, strategy="fedprox", params=start,
                          local_steps=2, proximal_mu=0.5)
    config = tomllib.loads(pyproject.read_text())
    assert validate_config(config, project_dir=pyproject.parent) == (True, [], [])
    run = config["tool"]["flwr"]["app"]["config"]
    assert run["cell"] == mlp.text and run["num-server-rounds"] == 3 and run["clients"] == 4
    assert run["strategy"] == "fedprox" and run["proximal-mu"] == 0.5 and run["local-steps"] == 2
    with np.load(run["initial"]) as initial:
        assert list(initial.files) == list(mlp.params)
        np.testing.assert_array_equal(initial["W_1"], start["W_1"])
    with pytest.raises(ExportError, match="exists; pass overwrite=True"):
        write_app(mlp, tmp_path / "app", rounds=3, clients=4, params=start)
    partial = {k: v for k, v in start.items() if k != "W_2"}
    with pytest.raises(DataError, match="missing W_2"):
        write_app(mlp, tmp_path / "other", rounds=3, clients=4, params=partial)
    assert not (tmp_path / "other").exists()


def test_two_rounds_on_a_superlink_and_two_supernodes(mlp, start, tmp_path):
    rng = np.random.default_rng(7)
    clients = [blobs(rng, 40, [0, 1]), blobs(rng, 60, [1, 2])]
    held_out = blobs(rng, 50, [0, 1, 2])
    app = write_app(mlp, tmp_path / "app", rounds=2, clients=2, params=start, test_data=held_out,
                    local_steps=2, learning_rate=0.5).parent
    data = [save_data(tmp_path / f"client-{i}.npz", d) for i, d in enumerate(clients)]
    link, nodes = free_port(), [free_port(), free_port()]
    env = {**os.environ, "FLWR_HOME": str(tmp_path / "flwr"), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    (tmp_path / "flwr").mkdir()
    (tmp_path / "flwr" / "config.toml").write_text(
        f'[superlink]\ndefault = "deploy"\n\n[superlink.deploy]\naddress = "127.0.0.1:{link}"\ninsecure = true\n')

    def launch(program: str, log: str, *args: str) -> subprocess.Popen:
        with open(tmp_path / log, "wb") as out:
            return subprocess.Popen([str(BIN / program), *args], stdout=out, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)

    started = []
    try:
        started.append(launch("flower-superlink", "superlink.log", "--insecure", "--host", "127.0.0.1",
                              "--port", str(link), "--disable-runtime-dependency-installation"))
        deadline = time.monotonic() + 60
        while not listening(link):
            assert time.monotonic() < deadline and started[0].poll() is None, (tmp_path / "superlink.log").read_text()
            time.sleep(0.2)
        for i, (port, path) in enumerate(zip(nodes, data)):
            started.append(launch("flower-supernode", f"supernode-{i}.log", "--insecure", "--superlink",
                                  f"127.0.0.1:{link}", "--host", "127.0.0.1", "--port", str(port),
                                  "--node-config", f'data="{path}"'))
        deadline = time.monotonic() + 120
        while (tmp_path / "superlink.log").read_text(errors="replace").count("Activated node_id") < 2:
            assert time.monotonic() < deadline and all(p.poll() is None for p in started), logs(tmp_path)
            time.sleep(0.2)
        try:
            run = subprocess.run([str(BIN / "flwr"), "run", str(app), "deploy", "--stream"], env=env,
                                 capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired as late:
            pytest.fail(f"flwr run took over 300 s: {str(late.stdout)[-2000:]}{logs(tmp_path)}")
    finally:
        for process in reversed(started):
            stop(process)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:] + logs(tmp_path)
    assert "ainative: round 2/2" in run.stdout

    expected, losses = dict(start), [loss(start, held_out)]
    for _ in range(2):
        trained = [sgd(dict(expected), d, 2, 0.5) for d in clients]
        expected = {k: 0.4 * trained[0][k] + 0.6 * trained[1][k] for k in expected}
        losses.append(loss(expected, held_out))
    with np.load(app / "result" / "params.npz") as params:
        assert close(dict(params), expected)
    history = json.loads((app / "result" / "history.json").read_text())
    np.testing.assert_allclose(history["loss"], losses, rtol=1e-5)
    assert not leftovers([link, *nodes])
