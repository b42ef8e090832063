"""The lab extension in a real JupyterLab, driven in Debian's chromium by Playwright.

A notebook runs a %%model cell; the panel must render (equations, shapes table); Model → Export
to ONNX and the %%model cell's toolbar button must each write a file that onnxruntime runs.
Screenshots of each step go to build/test-output/lab/.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from playwright.sync_api import sync_playwright

from tests.cells import MLP
from tests.processes import free_port, stop

SHOTS = Path(__file__).resolve().parents[2] / "build" / "test-output" / "lab"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def notebook(path: Path) -> None:
    cells = ["%load_ext ainative", f"%%model mlp(x) -> y\n{MLP}", "params = mlp.init(0, D=4, H=8, K=3)"]
    path.write_text(json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": c}
                  for c in cells],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5}))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed: apt-get install -y chromium (make test installs it)"
    root = tmp_path_factory.mktemp("lab")
    home = tmp_path_factory.mktemp("jupyter")
    notebook(root / "test.ipynb")
    port, token = free_port(), "ainative-test-token"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "IPYTHONDIR": str(home / "ipython"), "JUPYTER_PLATFORM_DIRS": "1"}
    jupyter = Path(sys.executable).parent / "jupyter"
    server = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--allow-root", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.token={token}", "--LabApp.news_url=None", f"--ServerApp.root_dir={root}",
         "--ServerApp.port_retries=0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield from _drive(server, f"http://127.0.0.1:{port}", token, chromium, root)
    finally:
        stop(server)


def _drive(server, url: str, token: str, chromium: str, root: Path):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None:
                pytest.fail(server.stdout.read().decode())
            time.sleep(0.3)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/lab/tree/test.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60000)
            page.get_by_text("Kernel status: Idle").first.wait_for(state="attached", timeout=60000)
            yield page, root
        finally:
            browser.close()


def menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def check_onnx(path: Path) -> None:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    y = session.run(None, {"x": np.ones((2, 4), np.float32)})[0]
    assert y.shape == (2, 3) and np.allclose(y.sum(axis=1), 1.0, atol=1e-5)


def wait_for_file(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert path.exists(), f"{path} was not written"


def test_panel_renders_after_running_the_cells(lab):
    page, _ = lab
    menu(page, "Run", "Run All Cells")
    page.screenshot(path=str(SHOTS / "0-run-all.png"))
    page.locator(".jupyter-widgets .lm-TabBar-tabLabel", has_text="Equations").first.wait_for(timeout=90000)
    page.locator(".MathJax, mjx-container").first.wait_for(timeout=30000)
    page.screenshot(path=str(SHOTS / "1-panel-equations.png"))
    page.locator(".jupyter-widgets .lm-TabBar-tabLabel", has_text="Shapes").first.click()
    table = page.locator("table.ainative-shapes").first
    table.wait_for(timeout=30000)
    page.locator("table.ainative-shapes td", has_text="(8, 4)").first.wait_for(timeout=30000)
    assert "parameter" in table.inner_text() and "(H, D)" in table.inner_text()
    page.screenshot(path=str(SHOTS / "2-panel-shapes.png"))


def test_model_menu_exports_to_onnx(lab):
    page, root = lab
    page.locator(".jp-Cell").nth(1).locator(".jp-InputPrompt").click()
    menu(page, "Model", "Export to ONNX")
    page.locator(".Toastify__toast", has_text="Exported mlp").first.wait_for(timeout=60000)
    page.screenshot(path=str(SHOTS / "3-menu-export.png"))
    wait_for_file(root / "mlp.onnx")
    check_onnx(root / "mlp.onnx")


def test_cell_toolbar_button_exports_to_onnx(lab):
    page, root = lab
    (root / "mlp.onnx").unlink(missing_ok=True)
    page.locator(".Toastify__toast", has_text="Exported mlp").first.wait_for(state="detached", timeout=30000)
    page.locator(".jp-Cell").nth(1).locator(".jp-InputPrompt").click()
    button = page.locator(".jp-cell-toolbar [data-command='ainative:export-onnx']").first
    button.wait_for(timeout=30000)
    page.screenshot(path=str(SHOTS / "4-cell-toolbar.png"))
    button.click()
    page.locator(".Toastify__toast", has_text="Exported mlp").first.wait_for(timeout=60000)
    page.screenshot(path=str(SHOTS / "5-toolbar-export.png"))
    wait_for_file(root / "mlp.onnx")
    check_onnx(root / "mlp.onnx")


def test_prebuilt_extension_is_installed_and_enabled():
    jupyter = Path(sys.executable).parent / "jupyter"
    listing = subprocess.run([str(jupyter), "labextension", "list"], capture_output=True, text=True, check=True)
    line = next(line for line in (listing.stdout + listing.stderr).splitlines() if "ainative" in line)
    assert "enabled" in line and "OK" in line
    installed = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "ainative"
    assert json.loads((installed / "package.json").read_text())["name"] == "ainative"
    assert (installed / "schemas" / "ainative" / "plugin.json").is_file()
    assert any((installed / "static").glob("remoteEntry.*.js"))


def test_exporting_again_asks_before_replacing(lab):
    page, root = lab
    before = (root / "mlp.onnx").stat().st_mtime_ns
    page.locator(".Toastify__toast", has_text="Exported mlp").first.wait_for(state="detached", timeout=30000)
    page.locator(".jp-Cell").nth(1).locator(".jp-InputPrompt").click()
    menu(page, "Model", "Export to ONNX")
    dialog = page.locator(".jp-Dialog", has_text="Replace the existing export?")
    dialog.wait_for(timeout=30000)
    page.screenshot(path=str(SHOTS / "6-replace-dialog.png"))
    dialog.locator("button", has_text="Replace").click()
    page.locator(".Toastify__toast", has_text="Exported mlp").first.wait_for(timeout=60000)
    assert (root / "mlp.onnx").stat().st_mtime_ns > before
    check_onnx(root / "mlp.onnx")
