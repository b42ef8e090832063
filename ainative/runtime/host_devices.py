"""One JAX device per chain on a CPU: NumPyro runs a posterior's chains in parallel across devices, and a CPU is
one device unless XLA is told, before JAX starts, to present it as several.

Four chains in parallel on two cores took 3.6 s for eight schools (1,000 + 1,000 draws each), against 8.6 s
vectorised on one device (every step waits for the chain with the longest trajectory) and 10.0 s one after
another. ``configure`` only sets the environment, so importing ainative stays light; it leaves alone a device
count the user gave XLA, and JAX once its devices exist.
"""

from __future__ import annotations

import os
import sys

FLAG = "--xla_force_host_platform_device_count"

#: the chains a fit runs unless told otherwise, and so the fewest CPU devices JAX is given
CHAINS = 4


def count() -> int:
    """The CPU devices JAX is given: one a chain, or one a core where there are more cores."""
    return max(CHAINS, os.cpu_count() or 1)


def _started() -> bool:
    """Whether JAX has made its devices (after which XLA reads no more flags)."""
    jax = sys.modules.get("jax")
    if jax is None:
        return False
    from jax._src import xla_bridge

    return xla_bridge.backends_are_initialized()


def configure() -> None:
    """Give JAX ``count()`` CPU devices, unless the user chose a number or JAX has started."""
    flags = os.environ.get("XLA_FLAGS", "")
    if FLAG in flags or _started():
        return
    os.environ["XLA_FLAGS"] = f"{flags} {FLAG}={count()}".strip()
