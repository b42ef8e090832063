"""The check that ``make test`` leaves the work tree as it found it."""

import subprocess

from tests import worktree


def test_a_written_file_is_found_and_install_outputs_are_not(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("/.venv/\n*.onnx\n")
    (tmp_path / "notebook.ipynb").write_text("{}")
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c"],
                   check=True)
    before = worktree.snapshot(tmp_path)
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "x.py").write_text("")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_text("")
    assert worktree.snapshot(tmp_path) == before == {}
    (tmp_path / "mlp.onnx").write_bytes(b"graph")
    (tmp_path / "notebook.ipynb").write_text('{"cells": []}')
    assert set(worktree.snapshot(tmp_path)) == {"mlp.onnx", "notebook.ipynb"}
