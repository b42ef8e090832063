"""What ``ainative serve`` takes on its command line (no MLServer import, so the CLI parses it fast)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Options:
    """How ``ainative serve`` runs: where it listens and what its guards let through."""

    folder: Path
    host: str = "127.0.0.1"
    port: int = 8080
    grpc_port: int = 8081
    allow_hosts: tuple[str, ...] = ()
    max_request_bytes: int = 16 * 2**20
    request_timeout_s: float = 10.0
    token: str | None = field(default=None, repr=False)
