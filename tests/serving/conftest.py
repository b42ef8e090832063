"""One exported repository and one running ``ainative serve`` shared by the serving tests.

The server runs with a 1 s request time-out and a 1 MiB request limit, so the guards' limits
are reached quickly; every other setting is the default.
"""

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

import ainative
from tests.cells import MLP
from tests.processes import free_port, listening, stop

LIMIT = 2**20
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Server:
    """A started ``ainative serve``; what it prints goes to a file (a pipe nobody reads could fill and block it)."""

    process: subprocess.Popen
    port: int
    grpc_port: int
    log: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        with open(self.log, encoding="utf-8") as log:
            return log.read()


def start(folder, *args: str, env=None) -> Server:
    """``ainative serve`` on ``folder`` in its own session, on free ports."""
    port, grpc_port = free_port(), free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as log:
        process = subprocess.Popen([sys.executable, "-m", "ainative.cli", "serve", str(folder), "--port", str(port),
                                    "--grpc-port", str(grpc_port), *args], stdout=log, stderr=subprocess.STDOUT,
                                   text=True, start_new_session=True, env=env)
    return Server(process, port, grpc_port, log.name)


def model_ready(server: Server, model: str = "mlp") -> bool:
    try:
        with urllib.request.urlopen(f"{server.url}/v2/models/{model}/ready", timeout=5) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if model_ready(server):
            return
        if server.process.poll() is not None:
            pytest.fail(f"ainative serve exited with {server.process.returncode}: {server.output()}")
        time.sleep(0.1)
    pytest.fail("ainative serve did not become ready in 60 s")


def request(server, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    """(status, JSON answer or None) for one request with exactly these headers (plus Host unless given)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host="Host" in (headers or {}), skip_accept_encoding=True)
        for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        answer = connection.getresponse()
        content = answer.read()
        return answer.status, json.loads(content) if content else None
    finally:
        connection.close()


def infer_body(**entry) -> bytes:
    tensor = {"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [0.1, 0.2, 0.3, 0.4], **entry}
    return json.dumps({"inputs": [tensor]}).encode()


@contextmanager
def running(folder, *args: str, env=None):
    """A ready server, stopped for certain afterwards (and then no longer listening)."""
    server = start(folder, *args, env=env)
    try:
        wait_until_ready(server)
        yield server
    finally:
        stop(server.process)
        os.unlink(server.log)
    assert not listening(server.port) and not listening(server.grpc_port), "still listening after it stopped"


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """The MLP 4→8→3 exported for serving: (model, params, folder)."""
    folder = tmp_path_factory.mktemp("repository")
    model = ainative.model(MLP, header="mlp(x) -> y")
    params = model.init(0, D=4, H=8, K=3)
    model.export_serving(folder, params)
    return model, params, folder


@pytest.fixture(scope="session")
def server(exported):
    _, _, folder = exported
    with running(folder, "--request-timeout", "1", "--max-request-bytes", str(LIMIT)) as running_server:
        yield running_server
