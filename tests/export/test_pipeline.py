"""A model's Kubeflow pipeline: the compiled YAML is what kfp itself reads back, typed, free of this machine's
paths and the same on every compile; run locally with kfp's subprocess runner, it trains what ``fit`` trains.

Needs kfp (``pip install 'ainative[pipelines]'``); without it these tests are skipped.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ainative
from ainative.errors import ExistsError
from tests.cells import CLASSIFIER

kfp = pytest.importorskip("kfp")
yaml = pytest.importorskip("yaml")
from kfp import components  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = dict(steps=40, learning_rate=0.05, seed=3, dims={"H": 4})
STEPS = ("comp-validate-data", "comp-train-params", "comp-export-params", "comp-condition-1", "comp-deploy-serving")


def classifier():
    return ainative.model(CLASSIFIER, header="clf(x, t) -> L")


def data(n: int = 24) -> dict:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return {"x": x, "t": np.eye(2, dtype=np.float32)[(x[:, 0] > 0).astype(int)]}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pipeline")
    path = Path(classifier().export_pipeline(folder, **SETTINGS).path)
    return path, path.read_text(encoding="utf-8")


def documents(text: str) -> dict:
    return next(yaml.safe_load_all(text))


def test_the_yaml_loads_with_kfps_own_loader(compiled):
    path, _ = compiled
    pipeline = components.load_component_from_file(str(path))
    assert pipeline.name == "clf"
    assert set(pipeline.component_spec.inputs) == {"data", "cell", "dims", "loss", "steps", "optimizer",
                                                   "learning_rate", "batch_size", "seed", "deploy"}
    assert set(pipeline.component_spec.outputs) == {"params", "onnx", "serving"}


def test_the_settings_are_the_defaults_and_the_cell_rebuilds_the_model(compiled):
    spec = documents(compiled[1])
    parameters = spec["root"]["inputDefinitions"]["parameters"]
    defaults = {name: p.get("defaultValue") for name, p in parameters.items()}
    assert defaults["steps"] == 40 and defaults["learning_rate"] == 0.05 and defaults["seed"] == 3
    assert defaults["dims"] == {"H": 4} and defaults["optimizer"] == "adam" and "defaultValue" not in parameters["data"]
    assert ainative.model(defaults["cell"]).ir == classifier().ir


def test_every_input_and_output_of_every_step_is_typed(compiled):
    spec = documents(compiled[1])
    assert set(spec["components"]) == set(STEPS)
    signatures = [spec["root"], *spec["components"].values()]
    for signature in signatures:
        for side in ("inputDefinitions", "outputDefinitions"):
            definitions = signature.get(side, {})
            for name, parameter in definitions.get("parameters", {}).items():
                assert parameter.get("parameterType") in {"STRING", "NUMBER_INTEGER", "NUMBER_DOUBLE", "STRUCT",
                                                                  "BOOLEAN", "LIST"}, name
            for name, artifact in definitions.get("artifacts", {}).items():
                assert artifact["artifactType"]["schemaTitle"].startswith("system."), name
    train = spec["components"]["comp-train-params"]
    assert train["inputDefinitions"]["parameters"]["steps"]["parameterType"] == "NUMBER_INTEGER"
    assert train["inputDefinitions"]["artifacts"]["dataset"]["artifactType"]["schemaTitle"] == "system.Dataset"
    assert train["outputDefinitions"]["artifacts"]["metrics"]["artifactType"]["schemaTitle"] == "system.Metrics"


def test_no_path_of_this_machine_appears(compiled):
    path, text = compiled
    places = {str(path.parent), str(ROOT), str(Path.home()), sys.prefix, "/tmp/", "/work/"}
    assert [place for place in places if place in text] == []


def test_compiling_twice_gives_the_same_bytes_in_this_process_and_another(tmp_path):
    first = Path(classifier().export_pipeline(tmp_path / "a", **SETTINGS).path)
    second = Path(classifier().export_pipeline(tmp_path / "b", **SETTINGS).path)
    script = ("import sys\nfrom tests.export.test_pipeline import SETTINGS, classifier\n"
              "classifier().export_pipeline(sys.argv[1], **SETTINGS)\n")
    environment = {**os.environ, "PYTHONHASHSEED": "7", "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "c")], check=True, env=environment, cwd=ROOT)
    assert first.read_bytes() == second.read_bytes() == (tmp_path / "c" / "pipeline.yaml").read_bytes()


def test_the_image_and_packages_are_the_users(tmp_path):
    text = classifier().export_pipeline(tmp_path, image="example.org/ainative:0.1", packages=["ainative[export]==0.1"],
                                        dims={"H": 4}).path
    text = Path(text).read_text()
    executors = documents(text)["deploymentSpec"]["executors"]
    assert {e["container"]["image"] for e in executors.values()} == {"example.org/ainative:0.1"}
    for name, executor in executors.items():
        wanted = "'kubernetes>=8,<31'" if name == "exec-deploy-serving" else "'ainative[export]==0.1'"
        assert wanted in " ".join(executor["container"]["command"]), name


def test_an_existing_pipeline_is_replaced_only_when_asked(tmp_path):
    path = classifier().export_pipeline(tmp_path, dims={"H": 4}).path
    with pytest.raises(ExistsError):
        classifier().export_pipeline(tmp_path, dims={"H": 4})
    assert classifier().export_pipeline(tmp_path, steps=7, overwrite=True, dims={"H": 4}).path == path
    assert documents(Path(path).read_text())["root"]["inputDefinitions"]["parameters"]["steps"]["defaultValue"] == 7


def test_an_unknown_optimizer_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ainative.ModelError, match="'rmsprop' is not one of adam, sgd"):
        classifier().export_pipeline(tmp_path, optimizer="rmsprop", dims={"H": 4})
    assert list(tmp_path.iterdir()) == []


def run_locally(path: Path, data_path: Path, root: Path):
    """The compiled YAML run by kfp's subprocess runner in this environment, with this source tree importable."""
    import kfp.local

    kfp.local.init(runner=kfp.local.SubprocessRunner(use_venv=False), pipeline_root=str(root))
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), before) if p)
    try:
        return components.load_component_from_file(str(path))(data=str(data_path))
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("run")
    path = Path(classifier().export_pipeline(work / "pipeline", packages=(), **SETTINGS).path)
    np.savez(work / "data.npz", **data())
    return run_locally(path, work / "data.npz", work / "root"), work


def test_the_local_run_trains_what_fit_trains(local_run):
    import optax

    task, _ = local_run
    with np.load(task.outputs["params"].path) as arrays:
        trained = {name: arrays[name] for name in arrays.files}
    m, given = classifier(), data()
    start = m.init(SETTINGS["seed"], x=given["x"], t=given["t"], H=4)
    direct = m.fit(start, given, steps=SETTINGS["steps"], optimizer=optax.adam(SETTINGS["learning_rate"]),
                   seed=SETTINGS["seed"], progress=False).params
    assert set(trained) == set(direct)
    for name in direct:
        np.testing.assert_allclose(trained[name], np.asarray(direct[name]), rtol=1e-5, atol=1e-6, err_msg=name)


def test_the_local_runs_onnx_graph_computes_the_trained_model(local_run):
    import onnxruntime

    task, _ = local_run
    with np.load(task.outputs["params"].path) as arrays:
        trained = {name: arrays[name] for name in arrays.files}
    given = data(5)
    session = onnxruntime.InferenceSession(task.outputs["onnx"].path, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    (loss,) = session.run(["L"], {name: given[name] for name in names})
    h = np.tanh(given["x"] @ trained["W_1"].T + trained["b_1"])
    z = h @ trained["W_2"].T + trained["b_2"]
    y = np.exp(z - z.max(axis=1, keepdims=True))
    y /= y.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(loss, -(given["t"] * np.log(y)).sum(axis=1), rtol=1e-4, atol=1e-5)


def test_the_local_run_writes_a_serving_repository_with_the_same_graph(local_run):
    task, _ = local_run
    repository = Path(task.outputs["serving"].path)
    model = repository / "clf"
    assert (repository / "settings.json").is_file() and (model / "model-settings.json").is_file()
    assert (model / "1" / "model.onnx").read_bytes() == Path(task.outputs["onnx"].path).read_bytes()


def test_data_without_an_input_fails_the_validation_step_with_the_notebooks_error(local_run, capsys):
    _, work = local_run
    np.savez(work / "no-targets.npz", x=data()["x"])
    with pytest.raises(RuntimeError, match=r"Inner task failed: .*validate-data"):
        run_locally(work / "pipeline" / "pipeline.yaml", work / "no-targets.npz", work / "root")
    shown = capsys.readouterr()
    out = shown.out + shown.err
    assert "DataError" in out and "has no array for input t of clf" in out
    assert "train-params" not in out
