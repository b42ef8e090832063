"""Compiles printer output (never cell text) into functions, once per distinct source."""

from __future__ import annotations

import hashlib
import linecache
from collections.abc import Callable
from functools import lru_cache


@lru_cache(maxsize=256)
def load(source: str, name: str) -> Callable:
    """The function ``name`` defined by generated ``source``; cached by the source text.

    The source is registered with ``linecache`` so tracebacks and ``inspect`` show it.
    """
    filename = f"<ainative-{name}-{hashlib.sha1(source.encode()).hexdigest()[:10]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {"__name__": f"ainative.generated.{name}"}
    exec(compile(source, filename, "exec"), namespace)  # generated-code: printer output only
    return namespace[name]
