"""A process that exports the reference MLP on command, for tests that interrupt, kill or race real exports.

Run as ``python -m tests.export.exporter`` from the repository root. It prints ``ready`` once warm, then reads
one command a line and answers on stdout:

- ``export ROOT SEED OVERWRITE``: one export of the parameters ``init(SEED)`` with ``OPTIONS[SEED]`` into
  ``ROOT``; answers ``ok``, ``exists`` (an ``ExistsError``) or ``error MESSAGE``.
- ``loop ROOT``: answers ``started``, then exports seeds 0, 1, 0, … into ``ROOT`` with ``overwrite=True``
  until a SIGINT, which it answers with ``interrupted`` (a notebook's Ctrl-C).
- ``die ROOT``: the same loop, but SIGINT ends the process as it ends any script.
"""

import itertools
import sys
import tempfile
from pathlib import Path

import ainative
from tests.cells import MLP

DIMS = {"D": 3, "H": 4, "K": 2}
#: each seed's export options: with its own parameters they make every file of a model folder differ between
#: the two, so that a folder mixing both shows
OPTIONS = ({"version": "1", "max_batch_size": 8, "storage_uri": "pvc://models/a"},
           {"version": "2", "max_batch_size": 16, "storage_uri": "pvc://models/b"})


def export_loop(model, params, root: str) -> None:
    print("started", flush=True)
    for seed in itertools.cycle((0, 1)):
        model.export_serving(root, params[seed], overwrite=True, **OPTIONS[seed])


def main() -> None:
    model = ainative.model(MLP, header="mlp(x) -> y")
    params = [model.init(seed, **DIMS) for seed in (0, 1)]
    with tempfile.TemporaryDirectory() as scratch:
        model.export_serving(Path(scratch) / "warm", params[0])
    print("ready", flush=True)
    for line in sys.stdin:
        command, root, *rest = line.split()
        if command == "export":
            try:
                seed = int(rest[0])
                model.export_serving(root, params[seed], overwrite=rest[1] == "1", **OPTIONS[seed])
                print("ok", flush=True)
            except ainative.ExportError as error:
                print("exists" if error.code == "exists" else f"error {error}", flush=True)
        elif command == "loop":
            try:
                export_loop(model, params, root)
            except KeyboardInterrupt:
                print("interrupted", flush=True)
        elif command == "die":
            export_loop(model, params, root)


if __name__ == "__main__":
    main()
