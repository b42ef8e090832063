"""Helpers the tests share: stopping servers they started, importing generated source from a file."""

import importlib.util
import os
import signal
import subprocess


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
