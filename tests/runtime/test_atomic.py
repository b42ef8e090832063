"""Atomic writes: a temporary file renamed into place, so nothing is ever half-written."""

import os

import numpy as np
import pytest

from ainative.runtime import atomic


def test_atomic_write_replaces_whole_files(tmp_path):
    target = tmp_path / "out" / "a.json"
    atomic.write_atomic(target, "first")
    atomic.write_atomic(target, b"second")
    assert target.read_bytes() == b"second" and [p.name for p in target.parent.iterdir()] == ["a.json"]


def test_interrupted_write_leaves_the_previous_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "a.onnx"
    target.write_bytes(b"previous")

    def fail(_):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        atomic.write_atomic(target, b"new" * 1000)
    assert target.read_bytes() == b"previous" and os.listdir(tmp_path) == ["a.onnx"]


def test_a_new_file_gets_the_mode_the_umask_gives_any_new_file(tmp_path):
    mask = os.umask(0o022)
    try:
        written = atomic.write_atomic(tmp_path / "a.npz", atomic.npz({"x": np.arange(3)}))
    finally:
        os.umask(mask)
    assert written.stat().st_mode & 0o777 == 0o644
    with np.load(written) as stored:
        np.testing.assert_array_equal(stored["x"], np.arange(3))
