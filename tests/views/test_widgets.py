"""The panel reflects the model: built in Python, its widgets read and its buttons clicked."""

import base64
import html
import json
import os
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import ipywidgets
import numpy as np
import pytest

import ainative
from ainative.runtime.inference.diagnostics import SamplingWarning
from ainative.views.display import MODEL_MIME
from ainative.views.graph import dependencies, svg
from ainative.views.widgets import DETERMINISTIC_SECTIONS, SECTIONS
from tests.cells import EIGHT_SCHOOLS, MLP


@pytest.fixture
def mlp():
    return ainative.model(MLP, header="mlp(x) -> y")


def rows(panel):
    return {m.group(1): re.findall(r"<td>(.*?)</td>", m.group(0))
            for m in re.finditer(r'<tr data-name="([^"]+)">.*?</tr>', panel.shapes.value)}


def text_of(markup: str) -> str:
    """What a reader sees of some HTML: the text, tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def test_sections_and_equations(mlp):
    panel = mlp.panel()
    assert panel.titles == DETERMINISTIC_SECTIONS == ("Equations", "Shapes", "Devices", "Code", "Export")
    assert mlp.latex() in text_of(panel.equations.value)
    graph = panel.graph.value
    assert graph.startswith("<svg") and 'data-name="W_1"' in graph and "node output" in graph


def test_panel_is_a_widget_that_fits_in_a_layout(mlp):
    panel = mlp.panel()
    assert isinstance(panel, ipywidgets.Tab)
    box = ipywidgets.VBox([ipywidgets.Label("my model"), panel])
    assert box.children[1] is panel and panel.children[0].children[0] is panel.equations


def test_code_is_highlighted_whole_and_read_only(mlp):
    panel = mlp.panel()
    assert isinstance(panel.code, ipywidgets.HTML)
    assert text_of(panel.code.value).strip("\n") == mlp.source("jax").strip("\n")
    assert 'style="color' in panel.code.value
    assert panel.code.layout.height is None and panel.code.layout.width == "100%"


def test_export_folder_field_is_as_wide_as_the_panel(mlp):
    panel = mlp.panel()
    assert panel.folder.layout.width == "100%" and panel.folder.style.description_width == "initial"


def test_shapes_rows_before_and_after_init(mlp):
    panel = mlp.panel()
    before = rows(panel)
    assert before["W_1"] == ["W_1", "parameter", "(H, D)", "—", "float32", "—"]
    assert before["y"][:3] == ["y", "output", "(K,)"]
    mlp.init(0, D=3, H=4, K=2)
    after = rows(panel)
    assert after["W_1"] == ["W_1", "parameter", "(H, D)", "(4, 3)", "float32", "cpu:0"]
    assert after["x"][:4] == ["x", "input", "(D,)", "(3,)"]
    assert after["h"][1:4] == ["deterministic", "(H,)", "(4,)"]


def test_panel_follows_fit():
    text = MLP.replace("x ∈ ℝ^D", "x ∈ ℝ^D; t ∈ ℝ^K") + "\nL = -Σ t ⊙ log(y)"
    m = ainative.model(text, header="mlp(x, t) -> y, L")
    panel = m.panel()
    params = m.init(0, D=2, H=3, K=2)
    x = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)
    t = np.eye(2, dtype=np.float32)[np.arange(10) % 2]
    trained, _ = m.fit({**params}, {"x": x, "t": t}, loss="L", steps=3, progress=False)
    assert m.latest.value is trained and rows(panel)["W_1"][3] == "(3, 2)"


def test_export_buttons_write_files_and_show_the_report(mlp, tmp_path):
    panel = mlp.panel()
    panel.folder.value = str(tmp_path)
    panel.onnx_button.click()
    assert "no parameters yet" in panel.result.value and not list(tmp_path.iterdir())
    mlp.init(0, D=3, H=4, K=2)
    panel.onnx_button.click()
    assert (tmp_path / "mlp.onnx").is_file()
    assert f"{tmp_path}/mlp.onnx: 10 nodes, opset 17" in panel.result.value
    panel.serving_button.click()
    assert json.loads((tmp_path / "mlp-serving" / "mlp" / "metadata.json").read_text())["name"] == "mlp"
    assert "model repository" in panel.result.value


def pipeline_dims(path: Path) -> dict:
    """The ``dims`` run parameter's default of a compiled pipeline, as kfp's own loader reads it."""
    from kfp import components

    return components.load_component_from_file(str(path)).component_spec.inputs["dims"].default


def test_pipeline_button_writes_a_kubeflow_pipeline_and_asks_before_replacing_it(mlp, tmp_path):
    pytest.importorskip("kfp")
    panel = mlp.panel()
    panel.folder.value = str(tmp_path)
    assert [b.description for b in panel.children[4].children[1].children[:3]] == ["ONNX", "Serving", "Pipeline"]
    panel.pipeline_button.click()
    assert "no parameters yet" in panel.result.value and not list(tmp_path.iterdir())
    params = mlp.init(0, D=3, H=4, K=2)
    panel.pipeline_button.click()
    path = tmp_path / "mlp-pipeline" / "pipeline.yaml"
    assert f"Kubeflow pipeline mlp: {path}" in text_of(panel.result.value) and "ainative-report" in panel.result.value
    assert pipeline_dims(path) == {"H": params["W_1"].shape[0], "K": params["W_2"].shape[0]}
    wider = mlp.init(1, D=3, H=7, K=2)
    panel.pipeline_button.click()
    assert "exists" in panel.result.value and "replace existing files" in panel.result.value
    assert pipeline_dims(path) == {"H": params["W_1"].shape[0], "K": params["W_2"].shape[0]}
    panel.overwrite.value = True
    panel.pipeline_button.click()
    assert "ainative-report" in panel.result.value
    assert pipeline_dims(path) == {"H": wider["W_1"].shape[0], "K": wider["W_2"].shape[0]}


def test_a_probabilistic_panel_exports_the_pipeline_of_its_fit(tmp_path):
    pytest.importorskip("kfp")
    m = ainative.model(EIGHT_SCHOOLS, header="eight_schools(σ, y) --backend numpyro")
    panel = m.panel()
    panel.folder.value = str(tmp_path)
    sigma = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])
    m.fit({"sigma": sigma, "y": sigma / 2}, method="svi", steps=20, num_samples=5, progress=False)
    panel.pipeline_button.click()
    path = tmp_path / "eight_schools-pipeline" / "pipeline.yaml"
    assert f"Kubeflow pipeline eight-schools: {path}" in text_of(panel.result.value)  # Kubeflow takes no "_"
    assert pipeline_dims(path) == {}


def test_export_error_in_plain_words(tmp_path):
    m = ainative.model("x ∈ ℝ^3\nh = 2 x\ns = softmax(h)", header="f(x) -> s")
    panel = m.panel()
    panel.folder.value = str(tmp_path)
    panel.onnx_button.click()
    assert "ainative-error" in panel.result.value and "f has no parameters yet: run f.init(...)" in panel.result.value
    assert "Traceback" not in panel.result.value and list(tmp_path.iterdir()) == []


def test_probabilistic_panel_after_a_fit_places_draws_on_the_host():
    m = ainative.model(EIGHT_SCHOOLS, header="eight_schools(σ, y) --backend numpyro")
    panel = m.panel()
    sigma = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])
    m.fit({"sigma": sigma, "y": sigma / 2}, method="svi", steps=20, num_samples=5, progress=False)
    assert rows(panel)["mu"][1:] == ["latent", "scalar", "scalar", "float32", "host (NumPy)"]
    assert rows(panel)["theta"][3] == "(8,)" and "Posterior draws are NumPy arrays" in panel.device_note.value


def test_probabilistic_panel(tmp_path):
    m = ainative.model(EIGHT_SCHOOLS, header="eight_schools(σ, y)")
    panel = m.panel()
    assert text_of(panel.code.value).strip("\n") == m.source("pyro").strip("\n")
    assert panel.device.disabled and "cpu" in panel.device.options
    graph = panel.graph.value
    assert 'class="node observed" data-name="y"' in graph and 'class="node latent" data-name="tau"' in graph
    assert rows(panel)["y"][1] == "observed"


def images(markup: str) -> dict[str, bytes]:
    """Each inline PNG of some HTML, by its alt text."""
    found = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)"', markup)
    return {html.unescape(alt): base64.b64decode(data) for alt, data in found}


def test_a_probabilistic_panel_shows_its_posterior_after_a_fit():
    m = ainative.model(EIGHT_SCHOOLS, header="eight_schools(σ, y) --backend numpyro")
    panel = m.panel()
    assert panel.titles == SECTIONS and SECTIONS[-1] == "Posterior" and panel.children[-1] is panel.posterior
    assert text_of(panel.posterior.value) == "Fit the model (eight_schools.fit(data)) to see its posterior here."
    sigma = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # sixty draws may be few: the tab says so, as tested
        posterior = m.fit({"sigma": sigma, "y": sigma / 2}, num_warmup=60, num_samples=60, num_chains=1,
                          progress=False)
    shown = text_of(panel.posterior.value)
    assert "Posterior of eight_schools (numpyro, nuts): 60 draws" in shown
    assert all(line in shown for line in str(posterior.diagnostics).splitlines())
    colour = "#1a7f37" if posterior.diagnostics.ok else "#b35900"
    assert f'class="ainative-diagnostics" style="color: {colour}"' in panel.posterior.value
    assert "Plots of mu, tau, eta (not theta: posterior.plot(var_names=[...]) draws any" in shown
    drawn = images(panel.posterior.value)
    assert list(drawn) == ["trace plot of mu, tau, eta", "forest plot of mu, tau, eta",
                           "posterior predictive check of y"]
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in drawn.values())


def test_a_posterior_without_a_predictive_check_says_why_and_still_plots():
    # the observed series is read by its own next term: replicating it would draw what the model reads
    m = ainative.model("y ∈ ℝ^T\nφ ~ Normal(0, 1)\ny_t ~ Normal(φ y_{t-1}, 1) for t in 2..T",
                       header="ar(y) --backend numpyro")
    panel = m.panel()
    m.fit({"y": np.linspace(-1, 1, 6)}, method="svi", steps=30, num_samples=20, progress=False)
    shown = text_of(panel.posterior.value)
    assert "Posterior of ar (numpyro, svi): 20 draws" in shown and "No posterior predictive check: " in shown
    assert list(images(panel.posterior.value)) == ["trace plot of phi", "forest plot of phi"]


def test_panel_display_carries_the_static_view(mlp):
    mlp.init(0, D=3, H=4, K=2)
    bundle = mlp.panel()._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert bundle[MODEL_MIME] == view and view["model_id"]
    static = bundle["text/html"]
    assert mlp.latex() in text_of(static)
    graph = re.search(r'<img alt="dependency graph" src="data:image/svg\+xml;base64,([^"]+)">', static).group(1)
    assert base64.b64decode(graph).decode() == svg(dependencies(mlp.ir))
    assert '<tr data-name="W_1"><td>W_1</td><td>parameter</td><td>(H, D)</td><td>(4, 3)</td>' in static


def test_display_falls_back_to_latex_and_text_without_a_kernel(mlp):
    bundle = mlp._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/latex"} and bundle["text/latex"] == mlp._repr_latex_()


DEVICES = textwrap.dedent("""
    import json, re, sys
    sys.path.insert(0, sys.argv[1])
    import jax, ainative
    from tests.cells import MLP
    m = ainative.model(MLP, header="mlp(x) -> y")
    panel = m.panel()
    m.init(0, D=3, H=4, K=2)
    panel.device.value = "cpu:2"
    devices = {k: sorted(str(d) for d in v.devices()) for k, v in m.latest.value.items()}
    row = re.search(r'<tr data-name="W_1">(.*?)</tr>', panel.shapes.value).group(1)
    placed = m.init(1, D=3, H=4, K=2, device=3)
    print(json.dumps({"options": list(panel.device.options), "devices": devices, "row": row,
                      "init": str(next(iter(placed["W_1"].devices()))), "note": panel.device_note.value}))
""")


def test_choosing_a_device_moves_the_parameters_and_updates_the_table():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    root = str(Path(__file__).resolve().parents[2])
    out = subprocess.run([sys.executable, "-c", DEVICES, root], env=env, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["options"] == ["cpu:0", "cpu:1", "cpu:2", "cpu:3"]
    assert all(d == ["cpu:2"] for d in result["devices"].values())
    assert "<td>cpu:2</td>" in result["row"] and result["init"] == "cpu:3"
    assert "Parameters are on cpu:3" in result["note"]


def test_unknown_device_is_a_clear_error(mlp):
    mlp.init(0, D=2, H=2, K=2)
    with pytest.raises(ainative.ModelError, match="no device 'tpu:7'; JAX sees cpu:0"):
        mlp.to("tpu:7")


def test_in_a_kernel_a_model_displays_as_the_panel_with_its_static_view(tmp_path):
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    outputs = []
    try:
        reply = client.execute_interactive(
            f"import ainative\nm = ainative.model({MLP!r}, header='mlp(x) -> y')\nm",
            output_hook=lambda msg: outputs.append(msg), timeout=120)
        assert reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    [bundle] = [m["content"]["data"] for m in outputs if m["msg_type"] == "execute_result"]
    assert bundle[MODEL_MIME] == bundle["application/vnd.jupyter.widget-view+json"]
    assert '<table class="ainative-shapes">' in bundle["text/html"] and "$$" in bundle["text/html"]
    assert bundle["text/plain"].startswith("Model mlp(x) -> y") and bundle["text/latex"].startswith("$$")

