"""Timing side by side: contenders alternate, so drift in the machine hits both alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleaved(contenders: dict[str, Callable[[], object]], repeats: int, timed: bool = False,
                warmup: int = 0) -> dict[str, float]:
    """Median seconds per call of each contender, run in alternation.

    The order flips every repetition (A B, B A, ...), so neither contender always runs on the
    caches the other just warmed. ``warmup`` untimed rounds come first (compilation, caches).
    With ``timed``, each call returns the seconds it measured itself (to leave set-up out).
    """
    names = list(contenders)
    for _ in range(warmup):
        for name in names:
            contenders[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else reversed(names):
            start = time.perf_counter()
            result = contenders[name]()
            times[name].append(result if timed else time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}
