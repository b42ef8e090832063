"""Timing side by side: contenders alternate, so drift in the machine hits both alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleaved(contenders: dict[str, Callable[[], object]], repeats: int, timed: bool = False) -> dict[str, float]:
    """Median seconds per call of each contender, run in alternation.

    With ``timed``, each call returns the seconds it measured itself (to leave set-up out).
    """
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            start = time.perf_counter()
            result = run()
            times[name].append(result if timed else time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}
