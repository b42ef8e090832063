"""Benchmarks: ainative against the same work written by hand, side by side in one process.

Each comparison interleaves the two contenders over many repetitions (after a warm-up that
compiles) and reports the ratio of their medians, so machine drift cancels out. Run with
``make bench`` (or ``.venv/bin/python benchmarks/run.py``); prints the table and writes
``results.md``. About 4 minutes on 2 CPU cores.

It measures the installed ``ainative`` (``make bench`` reinstalls it from the working tree
first); run directly, it warns when the installed copy differs from ``ainative/``.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import jax

import ainative

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "ainative"


def stale_files() -> list[str]:
    """Source files whose installed copy differs from the working tree (empty when benchmarking the tree)."""
    installed = Path(ainative.__file__).resolve().parent
    if installed == SOURCE.resolve() or not SOURCE.is_dir():
        return []
    return sorted(str(path.relative_to(SOURCE)) for pattern in ("*.py", "*.lark") for path in SOURCE.rglob(pattern)
                  if not (installed / path.relative_to(SOURCE)).is_file()
                  or (installed / path.relative_to(SOURCE)).read_bytes() != path.read_bytes())


def machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{platform.machine()}, nproc {cores}, Python {platform.python_version()}, "
            f"jax {jax.__version__} on {jax.devices()[0].platform}")


def main() -> None:
    stale = stale_files()
    if stale:
        print(f"warning: installed ainative differs from the working tree ({', '.join(stale)}); "
              "run `make install` (or `make bench`) to benchmark the tree", file=sys.stderr)
    import bench_export
    import bench_federated
    import bench_indices
    import bench_jax
    import bench_notebook
    import bench_ppl
    import bench_scaleout
    import bench_sequences

    rows = bench_jax.rows() + bench_indices.rows() + bench_sequences.rows() + bench_notebook.rows()
    rows += bench_export.rows() + bench_ppl.rows()
    rows += bench_scaleout.rows()
    rows += bench_federated.rows()
    table = "\n".join([
        f"Measured by `make bench` on {machine()}.",
        "",
        "| benchmark | ours | hand-written | ratio / value | target |",
        "|---|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in rows),
    ])
    print(table)
    (HERE / os.environ.get("AINATIVE_BENCH_RESULTS", "results.md")).write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
