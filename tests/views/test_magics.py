import json

import pytest
from IPython.core.interactiveshell import InteractiveShell

import ainative
from tests.cells import EIGHT_SCHOOLS, MLP


@pytest.fixture(scope="module")
def shell():
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "ainative")
    yield shell
    shell.run_line_magic("reset", "-f")


def run(shell, code):
    result = shell.run_cell(code, store_history=False)
    return result


def test_model_cell_binds_and_displays_the_model(shell, capsys):
    result = run(shell, f"%%model mlp(x) -> y\n{MLP}")
    assert result.success
    m = shell.user_ns["mlp"]
    assert isinstance(m, ainative.Model) and m.params == ("W_1", "b_1", "W_2", "b_2")
    assert "Model mlp(x) -> y" in capsys.readouterr().out
    assert run(shell, "import numpy as np").success
    assert run(shell, "out = mlp(mlp.init(0, D=3, H=4, K=2), x=np.ones((5, 3)))").success
    assert shell.user_ns["out"].shape == (5, 2)


def test_options_and_quiet(shell, capsys):
    assert run(shell, "%%model gauss(x) -> p --latex --quiet\np = \\frac{1}{s} x").success
    assert capsys.readouterr().out == ""
    assert shell.user_ns["gauss"].ir.header.latex
    assert run(shell, f"%%model schools(σ, y) --backend numpyro --quiet\n{EIGHT_SCHOOLS}").success
    assert shell.user_ns["schools"].backend == "numpyro"


@pytest.mark.parametrize("code", ["%model --help", "%%model --help\ny = x", "%%model mlp(x) -h\ny = x"])
def test_help(shell, capsys, code):
    assert run(shell, code).success
    out = capsys.readouterr().out
    assert "NAME(INPUTS) [-> OUTPUTS]" in out and "--backend" in out


def test_line_form_explains_itself(shell, capsys):
    assert not run(shell, "%model mlp(x) -> y").success
    assert "write the model in a cell" in capsys.readouterr().err


def test_full_tracebacks_on_request(shell, capsys):
    run(shell, "%config ModelMagics.short_errors = False")
    try:
        run(shell, "%%model bad(x) -> y\ny = (x")
        assert "Traceback" in capsys.readouterr().out
    finally:
        run(shell, "%config ModelMagics.short_errors = True")


def test_config_sets_defaults(shell):
    run(shell, "%config ModelMagics.show = False")
    run(shell, "%config ModelMagics.latex = True")
    try:
        assert run(shell, "%%model product(x) -> y\ny = ab x").success
        assert shell.user_ns["product"].params == ("a", "b")
    finally:
        run(shell, "%config ModelMagics.show = True")
        run(shell, "%config ModelMagics.latex = False")


def test_model_error_is_short_with_a_caret_and_no_traceback(shell, capsys):
    result = run(shell, "%%model bad(x) -> y\nx ∈ ℝ^D\ny = tanh(W x))")
    assert not result.success and isinstance(result.error_in_exec, ainative.ModelSyntaxError)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "ModelSyntaxError: unmatched ')' (line 3, column 14)" in text
    assert "    y = tanh(W x))\n" in text and "Traceback" not in text and "site-packages" not in text
    assert "bad" not in shell.user_ns


def test_data_errors_from_the_api_are_short_too(shell, capsys):
    run(shell, f"%%model m2(x) -> y --quiet\n{MLP}")
    result = run(shell, "m2(m2.init(0, D=3, H=4, K=2), x=[1.0, float('nan'), 2.0])")
    assert isinstance(result.error_in_exec, ainative.DataError)
    text = capsys.readouterr().out
    assert "DataError: input x contains NaN" in text and "Traceback" not in text


def test_models_lists_and_json(shell, capsys):
    run(shell, f"%%model listed(x) -> y --quiet\n{MLP}")
    capsys.readouterr()
    assert run(shell, "%models --json").success
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["listed"] == {"name": "listed", "kind": "deterministic", "backend": "jax", "inputs": ["x"],
                              "outputs": ["y"], "params": ["W_1", "b_1", "W_2", "b_2"], "latents": []}
    run(shell, "%models")
    assert "listed(x) -> y  [deterministic, jax]" in capsys.readouterr().out


def test_hostile_cell_does_nothing(shell, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(shell, "%%model evil(x) -> y\ny = __import__('os').system('touch X')")
    assert isinstance(result.error_in_exec, ainative.ModelSyntaxError)
    assert list(tmp_path.iterdir()) == []


def test_model_export_writes_and_reports(shell, tmp_path, capsys):
    run(shell, f"%%model exported(x) -> y --quiet\n{MLP}")
    result = run(shell, f"%model_export exported --out {tmp_path}")
    assert isinstance(result.error_in_exec, ainative.ModelError) and result.error_in_exec.code == "no-params"
    assert "exported has no parameters yet" in capsys.readouterr().out
    run(shell, "_ = exported.init(0, D=3, H=4, K=2)")
    assert run(shell, f"%model_export exported --format onnx --out {tmp_path}").success
    assert (tmp_path / "exported.onnx").is_file()
    assert f"{tmp_path}/exported.onnx: " in capsys.readouterr().out
    run(shell, "other = exported.init(1, D=2, H=2, K=2)")
    assert run(shell, f"%model_export exported --format serving --out {tmp_path} --params other").success
    assert (tmp_path / "exported-serving" / "exported" / "1" / "model.onnx").is_file()
    assert "model repository" in capsys.readouterr().out
    assert not run(shell, "%model_export nothing").success


def test_model_export_answers_tools_in_json(shell, tmp_path, capsys):
    run(shell, f"%%model answered(x) -> y --quiet\n{MLP}")
    capsys.readouterr()

    def answer(line):
        assert run(shell, f"%model_export {line} --json").success
        return json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    assert answer(f"answered --out {tmp_path}") == {
        "ok": False, "name": "answered", "code": "no-params",
        "message": "answered has no parameters yet: run answered.init(...) or answered.fit(...) first"}
    assert answer("missing")["code"] == "no-model"
    assert answer("answered --params nowhere")["code"] == "no-variable"
    run(shell, "_ = answered.init(0, D=3, H=4, K=2)")
    done = answer(f"answered --out {tmp_path}")
    assert done["ok"] and done["report"]["paths"] == [str(tmp_path / "answered.onnx")]
    assert done["report"]["max_abs_error"] < 1e-5 and done["report"]["nodes"] == 10
    assert answer(f"answered --out {tmp_path}")["code"] == "exists"
    serving = answer(f"answered --format serving --out {tmp_path}")
    assert serving["report"]["paths"] == [str(tmp_path / "answered-serving")]
    assert str(tmp_path / "answered-serving" / "answered" / "1" / "model.onnx") in serving["report"]["files"]


def pipeline_defaults(path) -> dict:
    """The run parameters' defaults of a compiled pipeline, read back by kfp's own loader."""
    from kfp import components

    pipeline = components.load_component_from_file(str(path))
    return {name: spec.default for name, spec in pipeline.component_spec.inputs.items()}


def test_model_export_writes_a_kubeflow_pipeline(shell, tmp_path, capsys):
    pytest.importorskip("kfp")
    run(shell, f"%%model piped(x) -> y --quiet\n{MLP}")
    run(shell, "wider = piped.init(1, D=3, H=6, K=5)\nlatest = piped.init(0, D=3, H=4, K=2)")
    capsys.readouterr()
    assert run(shell, f"%model_export piped --format pipeline --out {tmp_path} --params wider").success
    path = tmp_path / "piped-pipeline" / "pipeline.yaml"
    assert f"Kubeflow pipeline piped: {path}" in capsys.readouterr().out
    wider = shell.user_ns["wider"]
    defaults = pipeline_defaults(path)
    assert defaults["dims"] == {"H": wider["W_1"].shape[0], "K": wider["W_2"].shape[0]}
    assert ainative.model(defaults["cell"]).ir == shell.user_ns["piped"].ir
    result = run(shell, f"%model_export piped --format pipeline --out {tmp_path}")
    assert isinstance(result.error_in_exec, ainative.ExistsError)
    assert pipeline_defaults(path)["dims"] == defaults["dims"]
    assert run(shell, f"%model_export piped --format pipeline --out {tmp_path} --overwrite").success
    latest = shell.user_ns["latest"]
    assert pipeline_defaults(path)["dims"] == {"H": latest["W_1"].shape[0], "K": latest["W_2"].shape[0]}


def test_model_export_answers_tools_about_a_pipeline_in_json(shell, tmp_path, capsys):
    pytest.importorskip("kfp")
    run(shell, f"%%model listed_pipeline(x) -> y --quiet\n{MLP}")
    capsys.readouterr()

    def answer(line):
        assert run(shell, f"%model_export {line} --format pipeline --out {tmp_path} --json").success
        return json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    assert answer("listed_pipeline")["code"] == "no-params"
    run(shell, "_ = listed_pipeline.init(0, D=3, H=4, K=2)")
    done = answer("listed_pipeline")
    path = str(tmp_path / "listed_pipeline-pipeline" / "pipeline.yaml")
    assert done["ok"] and done["format"] == "pipeline" and done["report"]["paths"] == [path]
    assert done["report"]["name"] == "listed-pipeline" and "data" in done["report"]["parameters"]
    assert set(done["report"]["parameters"]) == set(pipeline_defaults(path))
    assert answer("listed_pipeline")["code"] == "exists"
    assert answer("listed_pipeline --overwrite")["ok"]


def test_model_export_of_a_probabilistic_model_writes_its_pipeline(shell, tmp_path, capsys):
    pytest.importorskip("kfp")
    run(shell, f"%%model schools_piped(σ, y) --backend numpyro --quiet\n{EIGHT_SCHOOLS}")
    run(shell, "import numpy as np\n_ = schools_piped.fit({'sigma': np.full(8, 10.0), 'y': np.arange(8.0)}, "
               "method='svi', steps=20, num_samples=5, progress=False)")
    capsys.readouterr()
    assert run(shell, f"%model_export schools_piped --format pipeline --out {tmp_path}").success
    defaults = pipeline_defaults(tmp_path / "schools_piped-pipeline" / "pipeline.yaml")
    assert defaults["method"] == "nuts" and defaults["dims"] == {}


def test_model_export_names_the_formats_it_knows(shell, capsys):
    result = run(shell, "%model_export piped --format pickle")
    assert not result.success
    message = capsys.readouterr().err + str(result.error_in_exec)
    assert "invalid choice: 'pickle'" in message
    assert all(f"'{name}'" in message for name in ("onnx", "serving", "pipeline"))
