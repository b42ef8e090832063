"""Safe exports: nothing half-written (``runtime.atomic``), no half a folder, nothing replaced unasked."""

import errno
import os

import pytest

import ainative
from ainative.export import files
from tests.cells import MLP


def test_interrupted_export_writes_nothing(tmp_path, monkeypatch):
    model = ainative.model(MLP, header="mlp(x) -> y")
    params = model.init(0, D=3, H=4, K=2)

    def fail(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        model.export_onnx(tmp_path / "mlp.onnx", params)
    assert list(tmp_path.iterdir()) == []


def test_a_ctrl_c_while_a_workspace_is_removed_stays_a_ctrl_c_and_lets_the_lock_go(tmp_path, monkeypatch):
    """Python 3.11's rmtree, interrupted between closing a folder's descriptor and noting so, closes it again
    and raises EBADF in place of the interrupt; the export must still end with the KeyboardInterrupt."""
    remove = files.shutil.rmtree

    def interrupted(path, ignore_errors=False):
        remove(path, ignore_errors=ignore_errors)
        try:
            raise KeyboardInterrupt
        finally:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    monkeypatch.setattr(files.shutil, "rmtree", interrupted)
    with pytest.raises(KeyboardInterrupt), files.workspace(tmp_path, "mlp") as held:
        (held / "part").write_text("half")
    monkeypatch.setattr(files.shutil, "rmtree", remove)
    assert list(tmp_path.iterdir()) == []
    with files.workspace(tmp_path, "mlp") as again:
        assert again.is_dir()


def test_existing_exports_are_replaced_only_when_asked(tmp_path):
    model = ainative.model(MLP, header="mlp(x) -> y")
    params = model.init(0, D=3, H=4, K=2)
    (tmp_path / "mlp.onnx").write_bytes(b"keep me")
    with pytest.raises(ainative.ExportError, match="exists; pass overwrite=True"):
        model.export_onnx(tmp_path / "mlp.onnx", params)
    assert (tmp_path / "mlp.onnx").read_bytes() == b"keep me"
    model.export_onnx(tmp_path / "mlp.onnx", params, overwrite=True)
    assert (tmp_path / "mlp.onnx").read_bytes() != b"keep me"
    model.export_serving(tmp_path / "repo", params)
    with pytest.raises(ainative.ExportError, match="exists"):
        model.export_serving(tmp_path / "repo", params)
    assert model.export_serving(tmp_path / "repo", params, overwrite=True).onnx.max_abs_error < 1e-5


def test_panel_asks_before_replacing(tmp_path):
    model = ainative.model(MLP, header="mlp(x) -> y")
    model.init(0, D=3, H=4, K=2)
    panel = model.panel()
    panel.folder.value = str(tmp_path)
    panel.onnx_button.click()
    panel.onnx_button.click()
    assert "exists" in panel.result.value and "replace existing files" in panel.result.value
    panel.overwrite.value = True
    panel.onnx_button.click()
    assert "onnxruntime matches" in panel.result.value
