"""Whether ``make test`` leaves the work tree as it found it.

``python tests/worktree.py save FILE`` records every changed, untracked and ignored path that git
reports, with a digest of its content; ``compare FILE`` fails, naming the paths, when anything
differs afterwards. What installing and the tools' caches create is expected and not recorded:
the environments, the lab extension's build, ``__pycache__`` and the test tools' caches.
Tests write to temporary folders, never into the checkout.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = (".venv/", ".venv-federated/", "node_modules/", ".yarn/", "ainative/labextension/", "labextension/lib/",
            "tsconfig.tsbuildinfo", ".pytest_cache/", ".ruff_cache/", ".hypothesis/")


def expected(path: str) -> bool:
    """Whether ``path`` is something installing or a tool's cache makes."""
    return path.startswith(EXPECTED) or "__pycache__/" in path or path.endswith(".egg-info/")


def digest(path: Path) -> str:
    """Size and modification time of a file, or of every file under a folder, with their names."""
    hasher = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        stat = file.stat() if file.exists() else None
        hasher.update(f"{file.relative_to(path) if path.is_dir() else ''}:{stat and (stat.st_size, stat.st_mtime_ns)}"
                      .encode())
    return hasher.hexdigest()


def snapshot(root: Path = ROOT) -> dict[str, str]:
    """Every path git reports as changed, untracked or ignored, by status and content."""
    listing = subprocess.run(["git", "status", "--porcelain=v1", "-z", "--ignored"], cwd=root, check=True,
                             capture_output=True, text=True).stdout
    state = {}
    entries = iter(listing.split("\0"))
    for entry in filter(None, entries):
        status, path = entry[:2], entry[3:]
        if status[0] in "RC":
            next(entries)
        if not expected(path):
            state[path] = f"{status} {digest(root / path)}"
    return state


def main(command: str, file: str) -> int:
    if command == "save":
        Path(file).write_text(json.dumps(snapshot()))
        return 0
    before, after = json.loads(Path(file).read_text()), snapshot()
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    if changed:
        print("make test changed the work tree (tests must write to temporary folders):", *changed, sep="\n  ")
        return 1
    print("The work tree is as make test found it.")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
