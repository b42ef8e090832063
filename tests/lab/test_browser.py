"""The lab extension in a real JupyterLab, driven in Debian's chromium by Playwright.

``test.ipynb`` has no ``%load_ext ainative``: running its ``%%model`` cells must load ainative by
itself. Its panel must render live; Model → Export to ONNX and the ``%%model`` cell's toolbar
button must each write a file that onnxruntime runs; Model → Export as Kubeflow pipeline, and the
cell's context menu, a pipeline that kfp loads; exporting a model that has no parameters
says what to do, in a notification that closes itself. A notebook made from the launcher and
typed at the keyboard exports too; a probabilistic model's Posterior tab draws its fit's plots; a
kernel without ainative gets a sentence saying how to install it; and the saved notebook, reopened
by a new server, shows each model's static view where its panel was. Every wait is for a state
that cannot hold early: the status bar's kernel state, execution counts, a new notification, a
file, an image. Screenshots of each step go to pytest's temporary folder (``lab-screenshots*``).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.cells import MLP
from tests.processes import free_port, stop

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
TOKEN = "ainative-test-token"
IDLE = re.compile(r"\| Idle$")
RUN = re.compile(r"^\[\d+\]:$")
MODEL_MIME = "application/vnd.ainative.model+json"
# A kernel in which importing ainative fails as it does where the package is not installed.
NO_AINATIVE = """import sys


class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "ainative":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


sys.meta_path.insert(0, NotInstalled())
from ipykernel.kernelapp import launch_new_instance

launch_new_instance()
"""


def write_notebook(path: Path, cells: list[str], kernel: str = "python3", display: str = "Python 3") -> None:
    path.write_text(json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": c}
                  for c in cells],
        "metadata": {"kernelspec": {"display_name": display, "language": "python", "name": kernel}},
        "nbformat": 4, "nbformat_minor": 5}))


@dataclass
class Lab:
    browser: Browser
    page: Page
    url: str
    root: Path
    data: Path
    shots: Path

    def shot(self, name: str, page: Page | None = None) -> None:
        (page or self.page).screenshot(path=str(self.shots / f"{name}.png"))


@contextmanager
def jupyter_lab(root: Path, home: Path, data: Path) -> Iterator[str]:
    """A JupyterLab server on a free 127.0.0.1 port serving ``root``, its state under ``home``; yields its URL."""
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTER_DATA_DIR": str(data), "IPYTHONDIR": str(home / "ipython"), "JUPYTER_PLATFORM_DIRS": "1"}
    jupyter = Path(sys.executable).parent / "jupyter"
    server = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--allow-root", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.token={TOKEN}", "--LabApp.news_url=None", f"--ServerApp.root_dir={root}",
         "--ServerApp.port_retries=0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    stop(server)
                    pytest.fail(f"jupyter lab did not start:\n{server.stdout.read().decode()}")
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(server)


def open_lab(browser: Browser, url: str, workspace: str, path: str = "") -> Page:
    """A new page on JupyterLab in a workspace of its own, opening ``path`` (a notebook) if given."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/lab/workspaces/{workspace}" + (f"/tree/{path}" if path else "") + f"?token={TOKEN}")
    if path:
        wait_for_kernel(page)
    return page


def wait_for_kernel(page: Page) -> None:
    """The active notebook's kernel is connected and idle, as the status bar says (not before it exists)."""
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60000)
    page.locator(".jp-StatusBar-TextItem", has_text=IDLE).first.wait_for(timeout=90000)


def wait_for_run(page: Page, *cells: int) -> None:
    """The given cells of the active notebook show an execution count (they have run)."""
    for index in cells:
        prompt = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").nth(index).locator(".jp-InputPrompt")
        expect(prompt).to_have_text(RUN, timeout=120000)


def menu(page: Page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def select_cell(page: Page, index: int) -> None:
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").nth(index).locator(".jp-InputPrompt").click()


def toast(page: Page, text: str):
    return page.locator(".Toastify__toast", has_text=text).first


def check_onnx(path: Path) -> None:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    y = session.run(None, {"x": np.ones((2, 4), np.float32)})[0]
    assert y.shape == (2, 3) and np.allclose(y.sum(axis=1), 1.0, atol=1e-5)


def wait_for_file(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert path.exists(), f"{path} was not written"


def expect_export(lab: Lab, page: Page, name: str, shot: str) -> None:
    """The export of ``name`` is announced, and its file is written and runs in onnxruntime."""
    toast(page, f"Exported {name}").wait_for(timeout=60000)
    lab.shot(shot, page)
    wait_for_file(lab.root / f"{name}.onnx")
    check_onnx(lab.root / f"{name}.onnx")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed: apt-get install -y chromium (make test installs it)"
    root, data = tmp_path_factory.mktemp("lab"), tmp_path_factory.mktemp("jupyter-data")
    write_notebook(root / "test.ipynb", [f"%%model mlp(x) -> y\n{MLP}", "params = mlp.init(0, D=4, H=8, K=3)",
                                         f"%%model untrained(x) -> y\n{MLP}"])
    kernel = data / "kernels" / "no-ainative"
    kernel.mkdir(parents=True)
    (kernel / "start.py").write_text(NO_AINATIVE)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(kernel / "start.py"), "-f", "{connection_file}"],
        "display_name": "Python 3 (no ainative)", "language": "python"}))
    write_notebook(root / "plain.ipynb", [f"%%model mlp(x) -> y\n{MLP}"], "no-ainative", "Python 3 (no ainative)")
    with jupyter_lab(root, tmp_path_factory.mktemp("jupyter"), data) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        try:
            page = open_lab(browser, url, "main", "test.ipynb")
            yield Lab(browser, page, url, root, data, tmp_path_factory.mktemp("lab-screenshots"))
        finally:
            browser.close()


def test_cells_run_without_load_ext_and_the_panel_renders(lab):
    page = lab.page
    menu(page, "Run", "Run All Cells")
    wait_for_run(page, 0, 1, 2)
    lab.shot("0-run-all")
    display = page.locator(".ainative-display").first
    display.locator(".jupyter-widgets .lm-TabBar-tabLabel", has_text="Equations").first.wait_for(timeout=60000)
    display.locator(".jupyter-widgets mjx-container").first.wait_for(timeout=30000)
    expect(display.locator(".ainative-fallback")).to_be_hidden()
    lab.shot("1-panel-equations")
    display.locator(".jupyter-widgets .lm-TabBar-tabLabel", has_text="Shapes").first.click()
    table = display.locator(".jupyter-widgets table.ainative-shapes").first
    table.locator("td", has_text="(8, 4)").first.wait_for(timeout=30000)
    assert "parameter" in table.inner_text() and "(H, D)" in table.inner_text()
    lab.shot("2-panel-shapes")


def test_model_menu_exports_to_onnx(lab):
    page = lab.page
    select_cell(page, 0)
    menu(page, "Model", "Export to ONNX")
    expect_export(lab, page, "mlp", "3-menu-export")


def test_cell_toolbar_button_exports_to_onnx(lab):
    page = lab.page
    (lab.root / "mlp.onnx").unlink(missing_ok=True)
    toast(page, "Exported mlp").wait_for(state="detached", timeout=30000)
    select_cell(page, 0)
    button = page.locator(".jp-cell-toolbar [data-command='ainative:export-onnx']").first
    button.wait_for(timeout=30000)
    lab.shot("4-cell-toolbar")
    button.click()
    expect_export(lab, page, "mlp", "5-toolbar-export")


def test_exporting_again_asks_before_replacing(lab):
    page = lab.page
    before = (lab.root / "mlp.onnx").stat().st_mtime_ns
    toast(page, "Exported mlp").wait_for(state="detached", timeout=30000)
    select_cell(page, 0)
    menu(page, "Model", "Export to ONNX")
    dialog = page.locator(".jp-Dialog", has_text="Replace the existing export?")
    dialog.wait_for(timeout=30000)
    lab.shot("6-replace-dialog")
    dialog.locator("button", has_text="Replace").click()
    toast(page, "Exported mlp").wait_for(timeout=60000)
    assert (lab.root / "mlp.onnx").stat().st_mtime_ns > before
    check_onnx(lab.root / "mlp.onnx")


def pipeline_dims(path: Path) -> dict:
    """The ``dims`` run parameter's default of a compiled pipeline, as kfp's own loader reads it."""
    from kfp import components

    return components.load_component_from_file(str(path)).component_spec.inputs["dims"].default


def test_model_menu_exports_a_kubeflow_pipeline(lab):
    page = lab.page
    toast(page, "Exported mlp").wait_for(state="detached", timeout=30000)
    select_cell(page, 0)
    menu(page, "Model", "Export as Kubeflow pipeline")
    message = toast(page, "Exported mlp")
    message.wait_for(timeout=60000)
    lab.shot("6b-menu-export-pipeline")
    path = lab.root / "mlp-pipeline" / "pipeline.yaml"
    assert "mlp-pipeline/pipeline.yaml" in message.inner_text()
    wait_for_file(path)
    assert pipeline_dims(path) == {"H": 8, "K": 3}


def test_the_cell_context_menu_exports_the_pipeline_again_when_told_to_replace_it(lab):
    page = lab.page
    path = lab.root / "mlp-pipeline" / "pipeline.yaml"
    before = path.stat().st_mtime_ns
    toast(page, "Exported mlp").wait_for(state="detached", timeout=30000)
    select_cell(page, 0)
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").nth(0).locator(".jp-InputPrompt").click(
        button="right")
    page.locator(".lm-Menu .lm-Menu-itemLabel", has_text="Export as Kubeflow pipeline").first.click()
    dialog = page.locator(".jp-Dialog", has_text="Replace the existing export?")
    dialog.wait_for(timeout=30000)
    lab.shot("6c-context-menu-replace-pipeline")
    dialog.locator("button", has_text="Replace").click()
    toast(page, "Exported mlp").wait_for(timeout=60000)
    assert path.stat().st_mtime_ns > before and pipeline_dims(path) == {"H": 8, "K": 3}


def test_a_model_without_parameters_is_told_what_to_do(lab):
    page = lab.page
    select_cell(page, 2)
    menu(page, "Model", "Export to ONNX")
    message = toast(page, "untrained has no parameters: run")
    message.wait_for(timeout=60000)
    lab.shot("7-no-parameters")
    assert "run untrained.init(…) or untrained.fit(…), then Model → Export to ONNX." in message.inner_text()
    assert "--params" not in message.inner_text() and not (lab.root / "untrained.onnx").exists()
    message.wait_for(state="detached", timeout=30000)


def test_a_new_notebook_typed_at_the_keyboard_exports(lab):
    page = open_lab(lab.browser, lab.url, "fresh")
    try:
        page.locator(".jp-LauncherCard[data-category='Notebook'][title='Python 3 (ipykernel)']").click()
        wait_for_kernel(page)
        page.locator(".jp-Notebook .jp-Cell .cm-content").first.click()
        page.keyboard.type(f"%%model typed(x) -> y\n{MLP}")
        page.keyboard.press("Shift+Enter")
        page.keyboard.type("params = typed.init(0, D=4, H=8, K=3)")
        page.keyboard.press("Shift+Enter")
        wait_for_run(page, 0, 1)
        page.locator(".ainative-display .jupyter-widgets .lm-TabBar-tabLabel", has_text="Equations").first.wait_for(
            timeout=60000)
        select_cell(page, 0)
        menu(page, "Model", "Export to ONNX")
        expect_export(lab, page, "typed", "8-typed-export")
    finally:
        page.close()


POSTERIOR_CELLS = ["%%model normal(y) --backend numpyro\ny ∈ ℝ^N\nμ ~ Normal(0, 5)\nσ ~ HalfNormal(2)\n"
                   "y ~ Normal(μ, σ)",
                   "import numpy as np\nposterior = normal.fit({'y': np.array([0.3, -1.2, 0.8, 2.1, 0.5])}, "
                   "num_warmup=100, num_samples=100, num_chains=1, progress=False)"]


def test_the_posterior_tab_draws_the_fit(lab):
    write_notebook(lab.root / "posterior.ipynb", POSTERIOR_CELLS)
    page = open_lab(lab.browser, lab.url, "posterior", "posterior.ipynb")
    try:
        select_cell(page, 0)
        page.keyboard.press("Shift+Enter")
        wait_for_run(page, 0)
        display = page.locator(".ainative-display").first
        display.locator(".jupyter-widgets .lm-TabBar-tabLabel", has_text="Posterior").first.click()
        tab = display.locator(".jupyter-widgets .ainative-hint").first
        tab.wait_for(timeout=60000)
        assert "normal.fit(data)" in tab.inner_text()
        select_cell(page, 1)
        page.keyboard.press("Shift+Enter")
        wait_for_run(page, 1)
        posterior = display.locator(".jupyter-widgets .ainative-posterior").first
        trace = posterior.locator("img[alt='trace plot of mu, sigma']")
        trace.wait_for(timeout=120000)
        expect(trace).to_be_visible()
        assert trace.evaluate("image => image.complete && image.naturalWidth > 0")
        expect(posterior.locator("img[alt='posterior predictive check of y']")).to_be_visible()
        assert "1 chain(s) × 100 draws" in posterior.locator(".ainative-diagnostics").inner_text()
        expect(display.locator(".ainative-hint")).to_have_count(0)
        lab.shot("8b-posterior-tab", page)
    finally:
        page.close()


def test_a_kernel_without_ainative_says_how_to_install_it(lab):
    page = open_lab(lab.browser, lab.url, "plain", "plain.ipynb")
    try:
        menu(page, "Run", "Run All Cells")
        message = toast(page, "ainative is not installed in this kernel")
        message.wait_for(timeout=60000)
        lab.shot("9-not-installed", page)
        assert "(Python 3 (no ainative))" in message.inner_text() and "%pip install ainative" in message.inner_text()
    finally:
        page.close()


def test_a_saved_notebook_reopened_by_a_new_server_shows_the_static_view(lab, tmp_path_factory):
    select_cell(lab.page, 0)
    lab.page.keyboard.press("Control+s")
    saved = lab.root / "test.ipynb"
    deadline = time.monotonic() + 30
    while MODEL_MIME not in saved.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    outputs = [o for c in json.loads(saved.read_text())["cells"] for o in c.get("outputs", [])]
    assert any(MODEL_MIME in o.get("data", {}) and "text/html" in o["data"] for o in outputs)
    with jupyter_lab(lab.root, tmp_path_factory.mktemp("jupyter-again"), lab.data) as url:
        page = open_lab(lab.browser, url, "reopened", "test.ipynb")
        try:
            static = page.locator(".ainative-display .ainative-fallback").first
            static.locator("table.ainative-shapes td", has_text="(H, D)").first.wait_for(timeout=60000)
            static.locator("mjx-container").first.wait_for(timeout=30000)
            expect(static.locator("img[alt='dependency graph']")).to_be_visible()
            expect(static).to_be_visible()
            expect(page.get_by_text("Error displaying widget")).to_have_count(0)
            lab.shot("10-reopened", page)
        finally:
            page.close()


EXTENSION_ROW = re.compile(r"^\s+(?P<name>\S+) v(?P<version>\S+) (?P<state>enabled|disabled) (?P<check>OK|X)\b")


def installed_extensions(listing: str) -> dict[str, dict[str, str]]:
    """The extension rows of ``jupyter labextension list`` by name (not its folder lines, which may say ainative)."""
    rows = (EXTENSION_ROW.match(re.sub(r"\x1b\[[0-9;]*m", "", line)) for line in listing.splitlines())
    return {row["name"]: row.groupdict() for row in rows if row}


def test_listing_rows_are_told_from_folder_lines():
    listing = ("JupyterLab v4.6.6\n/tmp/x/ainative/.venv/share/jupyter/labextensions\n"
               "        ainative v0.1.0 \x1b[32menabled\x1b[0m \x1b[32mOK\x1b[0m (python, ainative)\n")
    assert installed_extensions(listing) == {
        "ainative": {"name": "ainative", "version": "0.1.0", "state": "enabled", "check": "OK"}}


def test_prebuilt_extension_is_installed_and_enabled():
    jupyter = Path(sys.executable).parent / "jupyter"
    listing = subprocess.run([str(jupyter), "labextension", "list"], capture_output=True, text=True, check=True)
    ours = installed_extensions(listing.stdout + listing.stderr)["ainative"]
    assert ours["state"] == "enabled" and ours["check"] == "OK"
    installed = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "ainative"
    assert json.loads((installed / "package.json").read_text())["version"] == ours["version"]
    assert (installed / "schemas" / "ainative" / "plugin.json").is_file()
    assert any((installed / "static").glob("remoteEntry.*.js"))
