"""Helpers the tests share: free ports, starting and stopping servers, importing generated source from a file."""

import importlib.util
import os
import random
import signal
import socket
import subprocess
from pathlib import Path


def _ephemeral_ports() -> range:
    """The ports the kernel gives outgoing connections (Linux's ``ip_local_port_range``)."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


#: the ports handed out in this process: never twice, so two servers of one test cannot be given one port
_GIVEN: set[int] = set()
#: its own generator: a test that seeds ``random`` does not make the ports repeat
_RANDOM = random.Random()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing uses now, chosen below the ephemeral range: a port the kernel
    hands out could be taken by any outgoing connection (a client of another server in the test) between
    choosing it and the server binding it, and that server would then fail to start."""
    ephemeral = _ephemeral_ports()
    candidates = [p for p in range(10000, 30000) if p not in ephemeral and p not in _GIVEN] or list(range(10000, 30000))
    for port in _RANDOM.sample(candidates, 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            _GIVEN.add(port)
            return port
    raise OSError("no free port on 127.0.0.1 between 10000 and 30000")


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def stop(process: subprocess.Popen) -> None:
    """Stop a server started in its own session, and everything it started, for certain."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        process.wait()
        return
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def load_file(source: str, name: str, folder):
    """Import generated source saved to a file, as a user who saved it would."""
    path = folder / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)
