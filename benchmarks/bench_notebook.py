"""What a notebook user waits for: ``%load_ext ainative``, and a ``%%model`` cell becoming a callable.

Cell → callable is ``ainative.model(text, header)`` plus ``.jax_function``: parse, roles, shapes,
printing and ``exec`` of the printed source, without any XLA compilation. Every cache that would
let a repeated build skip work (compiled functions, printed source, SymPy's cache) is cleared
before each build; only the parser's grammar stays warm, since a kernel builds it once, and its
one-off cost is reported on its own row.
"""

from __future__ import annotations

import gc
import math
import statistics
import subprocess
import sys
import time

import sympy
from cells import CLASSIFIER
from timing import interleaved

import ainative
from ainative import models
from ainative.frontend import parser
from ainative.runtime import compiler

Row = tuple[str, str, str, str, str]

MLP = CLASSIFIER


#: the longest chain timed: 3 statements a line, within the 2,000 statements a cell may hold
LARGEST = 600


def chain_cell(lines: int) -> tuple[str, str]:
    """A deterministic model of exactly ``lines`` lines, and its header: a chain of tanh layers.

    Line 1 declares the input; each further line declares a layer's weights and applies it.
    """
    body = ["x ∈ ℝ^H"]
    for i in range(1, lines):
        previous = "x" if i == 1 else f"h_{i - 1}"
        body.append(f"W_{i} ∈ ℝ^{{H×H}};  b_{i} ∈ ℝ^H;  h_{i} = tanh(W_{i} {previous} + b_{i})")
    return "\n".join(body), f"chain(x) -> h_{lines - 1}"


def clear_caches() -> None:
    """Forget everything a previous build of the same text left behind, except the grammar."""
    compiler.load.cache_clear()
    models._printed.cache_clear()
    sympy.core.cache.clear_cache()


def grammar_seconds(repeats: int = 3) -> float:
    """The parser's one-off cost per process: building the LALR grammar (then cached)."""
    times = []
    for _ in range(repeats):
        parser._grammar.cache_clear()
        start = time.perf_counter()
        parser._grammar()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


FIRST_MODEL = """
import sys, time
import ainative
start = time.perf_counter()
ainative.model(sys.argv[1], header="mlp(x, t) -> y, L").jax_function
print(time.perf_counter() - start)
"""


def first_model_seconds(runs: int = 3) -> float:
    """Cell → callable for the first model of a fresh process: imports SymPy, lark and JAX, builds the grammar."""
    return statistics.median(
        float(subprocess.run([sys.executable, "-c", FIRST_MODEL, MLP], capture_output=True, text=True,
                             check=True).stdout) for _ in range(runs))


def build_seconds(lines: int, repeats: int, collect: bool = True) -> float:
    """Median seconds of cell → callable for a ``lines``-line chain, caches cleared before each build.

    With ``collect=False`` the garbage collector is paused during each build (and run before it), to
    tell ainative's own work from full collections, whose cost grows with everything else in the heap.
    """
    text, header = chain_cell(lines)
    assert len(text.splitlines()) == lines

    def build():
        clear_caches()
        if not collect:
            gc.collect()
            gc.disable()
        try:
            start = time.perf_counter()
            function = ainative.model(text, header=header).jax_function
            elapsed = time.perf_counter() - start
        finally:
            gc.enable()
        assert callable(function)
        return elapsed

    return interleaved({"build": build}, repeats=repeats, timed=True, warmup=1)["build"]


def exponent(seconds: dict[int, float]) -> float:
    """The power of the line count that build time grows with, from 100 to 600 lines (1,798 statements: a cell
    holds at most 2,000)."""
    return math.log(seconds[LARGEST] / seconds[100]) / math.log(LARGEST / 100)


def cell_rows() -> list[Row]:
    text, header = chain_cell(3)
    assert callable(ainative.model(text, header=header).jax_function)  # imports everything, builds the grammar
    rows: list[Row] = [
        ("parser grammar, built once per process", f"{grammar_seconds() * 1e3:.1f} ms", "", "", "once"),
        ("first model in a fresh process (imports SymPy, lark, JAX; grammar)",
         f"{first_model_seconds() * 1e3:.0f} ms", "", "", "once"),
    ]
    seconds = {lines: build_seconds(lines, repeats) for lines, repeats in ((10, 41), (100, 15), (LARGEST, 5))}
    for lines, median in seconds.items():
        rows.append((f"cell → callable, {lines} lines ({3 * lines - 2} statements)", f"{median * 1e3:.1f} ms", "",
                     f"{median / lines * 1e3:.2f} ms/line", "≤ 50 ms" if lines == 10 else "linear"))
    paused = {lines: build_seconds(lines, repeats, collect=False) for lines, repeats in ((100, 15), (LARGEST, 5))}
    rows.append((f"cell → callable growth, 100 → {LARGEST} lines", "", "",
                 f"time ∝ lines^{exponent(seconds):.2f} (^{exponent(paused):.2f} with the GC paused)",
                 "linear (exponent ≤ 1.1)"))
    return rows


LOAD_EXT = """
import sys, time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
start = time.perf_counter()
shell.run_line_magic("load_ext", "ainative")
elapsed = time.perf_counter() - start
heavy = [m for m in ("jax", "torch", "sympy", "lark", "pyro", "onnxruntime") if m in sys.modules]
print(elapsed, ",".join(heavy) or "none")
"""


def load_ext_rows(runs: int = 5) -> list[Row]:
    """``%load_ext ainative`` in fresh shells: only the magic is timed, and no heavy library may load."""
    times, heavy = [], set()
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", LOAD_EXT], capture_output=True, text=True, check=True)
        elapsed, loaded = out.stdout.split()
        times.append(float(elapsed))
        heavy.update(name for name in loaded.split(",") if name != "none")
    return [("%load_ext ainative, fresh process", f"{statistics.median(times) * 1e3:.0f} ms", "",
             f"heavy modules loaded: {', '.join(sorted(heavy)) or 'none'}", "≤ 300 ms")]


def rows() -> list[Row]:
    return cell_rows() + load_ext_rows()
