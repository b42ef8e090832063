"""A model's Kubeflow pipeline: the compiled YAML is what kfp itself reads back, typed, free of this machine's
paths and the same on every compile; run locally with kfp's subprocess runner, it trains what ``fit`` trains.

Needs kfp (``pip install 'ainative[pipelines]'``); without it these tests are skipped.
"""

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import ainative
from ainative.errors import ExistsError
from tests.cells import CLASSIFIER
from tests.processes import stop
from tests.serving.conftest import JSON, model_ready, request, start

kfp = pytest.importorskip("kfp")
yaml = pytest.importorskip("yaml")
from kfp import components  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = dict(steps=40, learning_rate=0.05, seed=3, dims={"H": 4})

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
                                                   "learning_rate", "batch_size", "seed", "deploy",
                                                   "service_account", "image"}
    assert set(pipeline.component_spec.outputs) == {"params", "onnx", "serving"}


def test_the_settings_are_the_defaults_and_the_cell_rebuilds_the_model(compiled):
    spec = documents(compiled[1])
    parameters = spec["root"]["inputDefinitions"]["parameters"]
    defaults = {name: p.get("defaultValue") for name, p in parameters.items()}
    assert defaults["steps"] == 40 and defaults["learning_rate"] == 0.05 and defaults["seed"] == 3
    assert defaults["dims"] == {"H": 4} and defaults["optimizer"] == "adam" and "defaultValue" not in parameters["data"]
    assert ainative.model(defaults["cell"]).ir == classifier().ir


@pytest.mark.parametrize("kind, trained", [("deterministic", "params"), ("probabilistic", "posterior")])
def test_every_input_and_output_of_every_step_is_typed(tmp_path, kind, trained):
    spec = documents(export(kind, tmp_path).read_text())
    assert set(spec["components"]) == {"comp-importer", "comp-validate-data", f"comp-train-{trained}",
                                       f"comp-export-{trained}", "comp-condition-1", "comp-deploy-serving"}
    signatures = [spec["root"], *spec["components"].values()]
    for signature in signatures:
        for side in ("inputDefinitions", "outputDefinitions"):
            definitions = signature.get(side, {})
            for name, parameter in definitions.get("parameters", {}).items():
                assert parameter.get("parameterType") in {"STRING", "NUMBER_INTEGER", "NUMBER_DOUBLE", "STRUCT",
                                                          "BOOLEAN", "LIST"}, name
            for name, artifact in definitions.get("artifacts", {}).items():
                assert artifact["artifactType"]["schemaTitle"].startswith("system."), name
    train = spec["components"][f"comp-train-{trained}"]
    assert train["inputDefinitions"]["parameters"]["steps"]["parameterType"] == "NUMBER_INTEGER"
    assert train["inputDefinitions"]["artifacts"]["dataset"]["artifactType"]["schemaTitle"] == "system.Dataset"
    assert train["outputDefinitions"]["artifacts"][trained]["artifactType"]["schemaTitle"] == "system.Model"
    assert train["outputDefinitions"]["artifacts"]["metrics"]["artifactType"]["schemaTitle"] == "system.Metrics"


def test_the_data_is_imported_from_its_uri_and_read_afresh_on_every_run(compiled):
    tasks = documents(compiled[1])["root"]["dag"]["tasks"]
    assert tasks["importer"]["inputs"]["parameters"]["uri"] == {"componentInputParameter": "data"}
    assert tasks["validate-data"]["inputs"]["artifacts"]["data"]["taskOutputArtifact"]["producerTask"] == "importer"
    assert not tasks["importer"]["cachingOptions"] and not tasks["validate-data"]["cachingOptions"]
    assert tasks["train-params"]["cachingOptions"] == {"enableCache": True}


def export(kind: str, folder) -> Path:
    """The pipeline of the classifier or of the Bayesian regression, with the settings these tests use."""
    if kind == "deterministic":
        return Path(classifier().export_pipeline(folder, **SETTINGS).path)
    return Path(conjugate().export_pipeline(folder, deploy=True, **FIT).path)


@pytest.mark.parametrize("kind", ["deterministic", "probabilistic"])
def test_no_path_of_this_machine_appears(tmp_path, kind):
    text = export(kind, tmp_path).read_text()
    places = {str(tmp_path), str(ROOT), str(Path.home()), sys.prefix, "/tmp/", "/work/"}
    assert [place for place in places if place in text] == []


@pytest.mark.parametrize("kind", ["deterministic", "probabilistic"])
def test_compiling_twice_gives_the_same_bytes_in_this_process_and_another(tmp_path, kind):
    first, second = export(kind, tmp_path / "a"), export(kind, tmp_path / "b")
    script = "import sys\nfrom tests.export.test_pipeline import export\nexport(sys.argv[1], sys.argv[2])\n"
    environment = {**os.environ, "PYTHONHASHSEED": "7", "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    subprocess.run([sys.executable, "-c", script, kind, str(tmp_path / "c")], check=True, env=environment, cwd=ROOT)
    assert first.read_bytes() == second.read_bytes() == (tmp_path / "c" / "pipeline.yaml").read_bytes()


def test_the_image_is_a_run_parameter_and_the_packages_are_the_users(tmp_path):
    path = classifier().export_pipeline(tmp_path, image="example.org/ainative:0.1", packages=["ainative[export]==0.1"],
                                        dims={"H": 4}).path
    spec = documents(Path(path).read_text())
    assert spec["root"]["inputDefinitions"]["parameters"]["image"]["defaultValue"] == "example.org/ainative:0.1"
    executors = {name: e for name, e in spec["deploymentSpec"]["executors"].items() if "container" in e}
    assert set(executors) == {"exec-validate-data", "exec-train-params", "exec-export-params", "exec-deploy-serving"}
    placeholder = "{{$.inputs.parameters['pipelinechannel--image']}}"
    assert {e["container"]["image"] for e in executors.values()} == {placeholder}
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
    """The compiled YAML run by kfp's subprocess runner in this environment, with this source tree importable, and
    off any cluster (a CI runner in a pod would otherwise look like one to the deploy step)."""
    import kfp.local

    kfp.local.init(runner=kfp.local.SubprocessRunner(use_venv=False), pipeline_root=str(root))
    before = dict(os.environ)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), before.get("PYTHONPATH")) if p)
    os.environ.pop("KUBERNETES_SERVICE_HOST", None)
    try:
        return components.load_component_from_file(str(path))(data=str(data_path))
    finally:
        os.environ.clear()
        os.environ.update(before)


def failed_validation(work: Path, data_path: Path, capsys) -> str:
    """What the run of ``work``'s pipeline on ``data_path`` printed, once it has failed at validation."""
    with pytest.raises(RuntimeError, match=r"Inner task failed: .*validate-data"):
        run_locally(work / "pipeline" / "pipeline.yaml", data_path, work / "root")
    shown = capsys.readouterr()
    return shown.out + shown.err


def step_output(task, step: str) -> dict:
    """What a step of the run that made ``task`` wrote as its outputs (kfp's executor output): its metrics' values
    and its returned parameter."""
    run = Path(task.outputs["serving"].path).parents[1]
    return json.loads((run / step / "executor_output.json").read_text())


@contextmanager
def serving(folder: Path, name: str):
    """``ainative serve`` on a repository the pipeline wrote, ready, and stopped for certain afterwards."""
    server = start(folder)
    try:
        deadline = time.monotonic() + 60
        while not model_ready(server, name):
            assert server.process.poll() is None, server.output()
            assert time.monotonic() < deadline, "ainative serve did not become ready in 60 s"
            time.sleep(0.1)
        yield server
    finally:
        stop(server.process)
        os.unlink(server.log)


def v2_answer(task, name: str, inputs: dict) -> dict:
    """The served model's answer to a V2 request with ``inputs``, by output name; its status must be 200."""
    with serving(Path(task.outputs["serving"].path), name) as server:
        body = {"inputs": [{"name": k, "shape": list(v.shape), "datatype": "FP32", "data": v.ravel().tolist()}
                           for k, v in inputs.items()]}
        status, answer = request(server, "POST", f"/v2/models/{name}/infer", json.dumps(body).encode(), JSON)
    assert status == 200, answer
    return {out["name"]: np.reshape(out["data"], out["shape"]) for out in answer["outputs"]}


def onnx_answer(task, inputs: dict) -> dict:
    import onnxruntime

    session = onnxruntime.InferenceSession(task.outputs["onnx"].path, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, inputs)))


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
    out = failed_validation(work, work / "no-targets.npz", capsys)
    assert "DataError" in out and "has no array for input t of clf" in out
    assert "train-params" not in out


def test_a_parquet_table_trains_what_the_same_data_as_npz_trains(local_run):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    task, work = local_run
    given = data()
    pq.write_table(pa.table({name: pa.array(array.tolist(), type=pa.list_(pa.float32()))
                             for name, array in given.items()}), work / "data.parquet")
    again = run_locally(work / "pipeline" / "pipeline.yaml", work / "data.parquet", work / "root")
    with np.load(task.outputs["params"].path) as first, np.load(again.outputs["params"].path) as second:
        assert first.files == second.files
        for name in first.files:
            np.testing.assert_array_equal(second[name], first[name], err_msg=name)


def test_the_deterministic_repository_serves_what_onnxruntime_computes(local_run):
    task, _ = local_run
    given = data(5)
    served = v2_answer(task, "clf", given)
    np.testing.assert_allclose(served["L"], onnx_answer(task, given)["L"], rtol=1e-6)


def test_without_deploy_the_deploy_step_does_not_run(local_run):
    task, _ = local_run
    assert not (Path(task.outputs["serving"].path).parents[1] / "deploy-serving").exists()


# A probabilistic model: a regression with known noise, whose posterior is Gaussian in closed form -----------------

CONJUGATE = """X ∈ ℝ^{N×K}
β ~ 𝒩(0, 1);  β ∈ ℝ^K
y ~ 𝒩(X β, 0.5)"""
FIT = dict(num_warmup=300, num_samples=400, seed=5, quantiles=(0.1, 0.9), draws=100)


def conjugate():
    return ainative.model(CONJUGATE, header="conjugate(X, y) -> y --backend numpyro")


def regression_data(n: int = 30) -> dict:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(n, 2)).astype(np.float32)
    return {"X": X, "y": (X @ np.array([0.8, -0.4]) + 0.5 * rng.normal(size=n)).astype(np.float32)}


def closed_form(X: np.ndarray, y: np.ndarray, noise: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """The posterior mean and covariance of β under the prior 𝒩(0, I) and y ~ 𝒩(Xβ, noise²)."""
    X, y = X.astype(np.float64), y.astype(np.float64)
    covariance = np.linalg.inv(np.eye(X.shape[1]) + X.T @ X / noise**2)
    return covariance @ X.T @ y / noise**2, covariance


@pytest.fixture(scope="module")
def probabilistic_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("probabilistic")
    report = conjugate().export_pipeline(work / "pipeline", packages=(), deploy=True, **FIT)
    np.savez(work / "data.npz", **regression_data())
    return run_locally(Path(report.path), work / "data.npz", work / "root"), work


def test_the_probabilistic_yaml_has_the_fit_and_export_settings_as_typed_parameters(tmp_path):
    report = conjugate().export_pipeline(tmp_path, method="svi", steps=300, lr=0.02, **FIT)
    assert report.steps == ("validate-data", "train-posterior", "export-posterior", "deploy-serving")
    spec = documents(Path(report.path).read_text())
    parameters = spec["root"]["inputDefinitions"]["parameters"]
    types = {name: p["parameterType"] for name, p in parameters.items()}
    assert types == {"data": "STRING", "cell": "STRING", "dims": "STRUCT", "method": "STRING",
                     "num_warmup": "NUMBER_INTEGER", "num_samples": "NUMBER_INTEGER", "num_chains": "NUMBER_INTEGER",
                     "steps": "NUMBER_INTEGER", "lr": "NUMBER_DOUBLE", "seed": "NUMBER_INTEGER", "precision": "STRING",
                     "quantiles": "LIST", "draws": "NUMBER_INTEGER", "deploy": "BOOLEAN",
                     "service_account": "STRING", "image": "STRING"}
    defaults = {name: p.get("defaultValue") for name, p in parameters.items()}
    assert defaults["method"] == "svi" and defaults["quantiles"] == [0.1, 0.9] and defaults["deploy"] is False
    assert defaults["num_chains"] == 4 and defaults["lr"] == 0.02 and defaults["precision"] == "float32"
    train = spec["components"]["comp-train-posterior"]["outputDefinitions"]["artifacts"]
    assert train["posterior"]["artifactType"]["schemaTitle"] == "system.Model"
    assert set(components.load_component_from_file(report.path).component_spec.outputs) == {
        "posterior", "onnx", "serving"}


@pytest.mark.parametrize("settings, words", [
    (dict(method="hmc"), "method 'hmc' is not one of nuts, svi"),
    (dict(precision="float16"), "precision 'float16' is not one of float32, float64"),
    (dict(quantiles=(0.5, 1.0)), "quantile 1.0 is not between 0 and 1"),
])
def test_a_setting_outside_its_choices_is_refused_before_anything_is_written(tmp_path, settings, words):
    with pytest.raises(ainative.ModelError, match=words):
        conjugate().export_pipeline(tmp_path, **settings)
    assert list(tmp_path.iterdir()) == []


def test_the_pipelines_posterior_is_the_closed_form_and_the_notebooks_fit_within_monte_carlo_error(
        probabilistic_run):
    import arviz as az

    task, _ = probabilistic_run
    fitted = ainative.Posterior.load(task.outputs["posterior"].path)
    given = regression_data()
    direct = conjugate().fit(given, num_warmup=FIT["num_warmup"], num_samples=FIT["num_samples"], seed=FIT["seed"],
                             progress=False)
    mean, covariance = closed_form(given["X"], given["y"])
    draws = fitted.chains["beta"].astype(np.float64)
    assert draws.shape == (4, 400, 2)
    error = draws.std(axis=(0, 1)) / np.sqrt([az.ess(draws[..., k]) for k in range(2)])
    np.testing.assert_array_less(np.abs(draws.mean(axis=(0, 1)) - mean), 5 * error)
    np.testing.assert_allclose(draws.std(axis=(0, 1)), np.sqrt(np.diag(covariance)), rtol=0.15)
    np.testing.assert_array_less(np.abs(draws.mean(axis=(0, 1)) - direct.chains["beta"].mean(axis=(0, 1))),
                                 5 * np.sqrt(2) * error)


def test_the_train_steps_metrics_are_the_fits_diagnostics(probabilistic_run):
    task, _ = probabilistic_run
    fitted = ainative.Posterior.load(task.outputs["posterior"].path)
    metrics = step_output(task, "train-posterior")["artifacts"]["metrics"]["artifacts"][0]["metadata"]
    report = fitted.diagnostics
    assert metrics["divergences"] == report.divergences == int(fitted.stats["diverging"].sum())
    assert metrics["max_rhat"] == pytest.approx(report.max_rhat) and report.max_rhat < 1.05
    assert metrics["min_ess_bulk"] == pytest.approx(report.min_ess_bulk) and report.min_ess_bulk > 200


def test_the_predictive_graph_gives_the_location_and_quantiles_of_the_pipelines_posterior(probabilistic_run):
    import onnx

    task, _ = probabilistic_run
    fitted = ainative.Posterior.load(task.outputs["posterior"].path)
    X_new = np.random.default_rng(7).normal(size=(6, 2)).astype(np.float32)
    out = onnx_answer(task, {"X": X_new})
    assert set(out) == {"y", "y_q10", "y_q90"}
    np.testing.assert_allclose(out["y"], X_new @ fitted.samples["beta"].mean(axis=0), rtol=1e-4, atol=1e-5)
    stored = {i.name: onnx.numpy_helper.to_array(i) for i in onnx.load(task.outputs["onnx"].path).graph.initializer}
    kept = stored["draws/beta"].reshape(-1, 2)
    assert len(kept) == FIT["draws"]
    assert all((fitted.samples["beta"] == row).all(axis=1).any() for row in kept)
    per_draw = kept @ X_new.T
    np.testing.assert_allclose(out["y_q10"], np.quantile(per_draw, 0.1, axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out["y_q90"], np.quantile(per_draw, 0.9, axis=0), rtol=1e-4, atol=1e-5)


def test_the_export_steps_metrics_are_its_checks_figures(local_run, probabilistic_run):
    for task, step in ((local_run[0], "export-params"), (probabilistic_run[0], "export-posterior")):
        metrics = step_output(task, step)["artifacts"]["metrics"]["artifacts"][0]["metadata"]
        assert set(metrics) == {"max_abs_error", "max_rel_error", "random_max_abs_error", "random_max_rel_error",
                                "nodes"}
        assert metrics["max_abs_error"] <= 1e-4 and metrics["random_max_abs_error"] <= 1e-4 and metrics["nodes"] > 0


def test_the_probabilistic_repository_serves_what_onnxruntime_computes(probabilistic_run):
    task, _ = probabilistic_run
    X_new = np.random.default_rng(8).normal(size=(4, 2)).astype(np.float32)
    served, computed = v2_answer(task, "conjugate", {"X": X_new}), onnx_answer(task, {"X": X_new})
    assert set(served) == set(computed)
    for name in computed:
        np.testing.assert_allclose(served[name], computed[name], rtol=1e-6, err_msg=name)


def test_off_a_cluster_the_deploy_step_says_it_did_not_deploy_and_the_run_succeeds(probabilistic_run):
    task, _ = probabilistic_run
    said = step_output(task, "deploy-serving")["parameterValues"]["Output"]
    assert said.startswith("not deployed: this step is not running in a Kubernetes cluster")
    assert f"the repository is at {task.outputs['serving'].path}, and conjugate/inferenceservice.yaml" in said


def test_data_that_contradicts_itself_fails_validation_with_the_notebooks_error(probabilistic_run, capsys):
    _, work = probabilistic_run
    given = regression_data()
    np.savez(work / "short-y.npz", X=given["X"], y=given["y"][:-1])
    out = failed_validation(work, work / "short-y.npz", capsys)
    assert "DataError" in out and "N = 29 here, but N = 30" in out
    assert "train-posterior" not in out


def test_an_svi_pipeline_logs_its_loss_and_approximates_the_closed_form(tmp_path):
    report = conjugate().export_pipeline(tmp_path / "pipeline", packages=(), method="svi", steps=4000, lr=0.01,
                                         num_samples=400, seed=2)
    np.savez(tmp_path / "data.npz", **regression_data())
    task = run_locally(Path(report.path), tmp_path / "data.npz", tmp_path / "root")
    fitted = ainative.Posterior.load(task.outputs["posterior"].path)
    assert fitted.method == "svi" and fitted.diagnostics is None and len(fitted.history) == 4000
    metrics = step_output(task, "train-posterior")["artifacts"]["metrics"]["artifacts"][0]["metadata"]
    assert metrics == {"first_loss": pytest.approx(float(fitted.history[0])),
                       "final_loss": pytest.approx(float(fitted.history[-1]))}
    given = regression_data()
    mean, covariance = closed_form(given["X"], given["y"])
    np.testing.assert_array_less(np.abs(fitted.samples["beta"].mean(axis=0) - mean),
                                 0.5 * np.sqrt(np.diag(covariance)))
