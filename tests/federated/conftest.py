"""Flower's tests run in their own venv (``make federated``): Flower 1.42 and MLServer 1.7 pin
different fastapi versions. Telemetry and usage stats are off and all state is in temp folders."""

import os
import shutil
import tempfile

import pytest

STATE = tempfile.mkdtemp(prefix="ainative-flower-")
os.environ.update(FLWR_TELEMETRY_ENABLED="0", FLWR_DISABLE_UPDATE_CHECK="1", RAY_USAGE_STATS_ENABLED="0",
                  RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0",
                  FLWR_HOME=os.path.join(STATE, "flwr"), RAY_TMPDIR=os.path.join(STATE, "ray"))

import ainative  # noqa: E402
from tests.cells import CLASSIFIER  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def temp_state():
    yield
    shutil.rmtree(STATE, ignore_errors=True)


@pytest.fixture(scope="session")
def mlp():
    return ainative.model(CLASSIFIER, header="mlp(x, t) -> y, L")


@pytest.fixture
def start(mlp):
    return mlp.init(0, D=2, H=8, K=3)
