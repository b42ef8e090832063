"""Federated learning with Flower: one ``%%model``, trained across clients that never share data.

``Model.federate`` simulates the clients in this process's Ray actors; ``write_app`` writes a
Flower app that runs the same adapters as real SuperLink and SuperNode processes. ainative
never opts anyone into usage reporting: Flower's telemetry and Ray's usage stats stay off
unless the environment already says otherwise. A simulation is one machine, so Ray is told so
(as it is on macOS): its node address is the loopback one and its servers bind 127.0.0.1 only.
"""

import os

for _variable in ("FLWR_TELEMETRY_ENABLED", "RAY_USAGE_STATS_ENABLED", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"):
    os.environ.setdefault(_variable, "0")

try:
    import flwr  # noqa: F401
except ImportError as error:
    from ..errors import ModelError

    raise ModelError("federated learning needs Flower: pip install 'ainative[federated]'") from error

from .adapters import Training, client_app, server_app, strategy  # noqa: E402
from .deployment import save_data, write_app  # noqa: E402
from .simulation import federate  # noqa: E402

__all__ = ["Training", "client_app", "federate", "save_data", "server_app", "strategy", "write_app"]
