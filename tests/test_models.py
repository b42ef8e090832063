import jax
import numpy as np
import pytest

import ainative
from ainative.runtime import compiler
from tests.cells import EIGHT_SCHOOLS, LOGISTIC, MLP

RNG = np.random.default_rng(1)


def numpy_mlp(params, x):
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    logits = np.tanh(x @ p["W_1"].T + p["b_1"]) @ p["W_2"].T + p["b_2"]
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.fixture(scope="module")
def mlp():
    return ainative.model(MLP, header="mlp(x) -> y")


def test_init_glorot_for_matrices_zeros_for_vectors(mlp):
    params = mlp.init(jax.random.key(0), D=784, H=128, K=10)
    assert {k: v.shape for k, v in params.items()} == {"W_1": (128, 784), "b_1": (128,), "W_2": (10, 128),
                                                       "b_2": (10,)}
    limit = np.sqrt(6 / (784 + 128))
    w = np.asarray(params["W_1"])
    assert w.min() >= -limit and w.max() <= limit and w.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)
    assert not np.asarray(params["b_1"]).any()
    assert not np.array_equal(params["W_1"][:10, :10], mlp.init(jax.random.key(1), D=784, H=128, K=10)["W_1"][:10, :10])


def test_init_binds_dimensions_from_data(mlp):
    params = mlp.init(0, x=np.zeros((3, 6)), H=4, K=2)
    assert params["W_1"].shape == (4, 6)


def test_init_needs_every_dimension(mlp):
    with pytest.raises(ainative.ShapeError, match=r"dimension H .* is not bound"):
        mlp.init(0, D=3, K=2)


@pytest.mark.parametrize("batch", [(), (7,), (2, 3)])
def test_call_matches_numpy_with_any_leading_batch_axes(mlp, batch):
    params = mlp.init(0, D=5, H=6, K=4)
    x = RNG.normal(size=batch + (5,)).astype(np.float32)
    y = mlp(params, x=x)
    assert y.shape == batch + (4,)
    np.testing.assert_allclose(y, numpy_mlp(params, x), rtol=1e-5, atol=1e-6)


def test_positional_inputs_and_multiple_outputs():
    m = ainative.model("x ∈ ℝ^D\ns = Σ x\nq = 2 x", header="f(x) -> s, q")
    out = m({}, np.ones((3, 4), np.float32))
    assert set(out) == {"s", "q"} and out["s"].shape == (3,) and out["q"].shape == (3, 4)


def test_unbatched_inputs_broadcast_against_batched_ones():
    m = ainative.model("x ∈ ℝ^D; c ∈ ℝ^D\ny = x ⊙ c", header="f(x, c) -> y")
    x = RNG.normal(size=(5, 3)).astype(np.float32)
    c = np.array([1, 2, 3], np.float32)
    np.testing.assert_allclose(m({}, x=x, c=c), x * c)


def test_compiled_once_per_structure(mlp):
    other = ainative.model(MLP, header="mlp(x) -> y")
    assert other is not mlp and other.jax_function is mlp.jax_function
    first = ainative.model(LOGISTIC, header="logistic(x) -> p").jax_function
    before = compiler.load.cache_info()
    assert ainative.model(LOGISTIC, header="logistic(x) -> p").jax_function is first
    after = compiler.load.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)


def test_generated_code_shows_in_tracebacks(mlp):
    import inspect

    assert "_jnp.tanh" in inspect.getsource(mlp.jax_function)


def test_repr_lists_roles_and_shapes(mlp):
    text = repr(mlp)
    assert text.splitlines()[0] == "Model mlp(x) -> y  [deterministic, jax]"
    assert "param  W_1: (H, D)" in text


def test_backend_choice():
    assert ainative.model(MLP, header="mlp(x) -> y").backend == "jax"
    assert ainative.model(EIGHT_SCHOOLS, header="eight_schools(σ, y)").backend == "pyro"
    assert ainative.model(EIGHT_SCHOOLS, header="eight_schools(σ, y) --backend numpyro").backend == "numpyro"
    with pytest.raises(ainative.ModelError, match="use --backend pyro or numpyro"):
        ainative.model(EIGHT_SCHOOLS, header="eight_schools(σ, y)", backend="jax")


def test_header_in_the_text_or_missing():
    assert ainative.model("%%model f(x) -> y\ny = 2 x").inputs == ("x",)
    with pytest.raises(ainative.ModelSyntaxError, match="no header"):
        ainative.model("y = 2 x")
    with pytest.raises(ainative.ModelError, match="no printer"):
        ainative.model("y = 2 x", header="f(x) -> y").source("c++")


def test_latest_params_are_remembered_and_watched(mlp):
    seen = []
    stop = mlp.latest.watch(seen.append)
    params = mlp.init(0, D=2, H=2, K=2)
    assert mlp.latest.value is params and seen == [params]
    stop()
    mlp.init(1, D=2, H=2, K=2)
    assert seen == [params]


def test_export_names_files_as_every_view_does(tmp_path):
    model = ainative.model(MLP, header="mlp(x) -> y")
    params = model.init(0, D=3, H=4, K=2)
    assert model.export("onnx", tmp_path).path == str(tmp_path / "mlp.onnx")
    assert model.export("serving", tmp_path, params).folder == str(tmp_path / "mlp-serving")
    with pytest.raises(ainative.ExportError, match="format 'tflite' is not one of onnx, serving, pipeline"):
        model.export("tflite", tmp_path)


def test_a_pipeline_export_is_told_the_dimensions_no_input_fixes(tmp_path):
    yaml = pytest.importorskip("yaml")
    pytest.importorskip("kfp")
    model = ainative.model(MLP, header="mlp(x) -> y")
    params = model.init(0, D=3, H=4, K=2)
    assert model.free_dims(params) == {"H": 4, "K": 2}
    report = model.export("pipeline", tmp_path)
    assert report.path == str(tmp_path / "mlp-pipeline" / "pipeline.yaml")
    assert report.to_json()["paths"] == [report.path]
    spec = next(yaml.safe_load_all((tmp_path / "mlp-pipeline" / "pipeline.yaml").read_text()))
    assert spec["root"]["inputDefinitions"]["parameters"]["dims"]["defaultValue"] == {"H": 4, "K": 2}
    with pytest.raises(ainative.ExistsError):
        model.export("pipeline", tmp_path)


def test_a_probabilistic_pipeline_export_takes_its_posterior_and_a_model_it_can_serve(tmp_path):
    pytest.importorskip("kfp")
    from tests.cells import GROUPS, REGRESSION

    model = ainative.model(REGRESSION, header="regression(X, y) --backend numpyro")
    with pytest.raises(ainative.ExportError, match=r"export it with the Posterior from regression\.fit"):
        model.export("pipeline", tmp_path, {"alpha": np.zeros(())})
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    posterior = model.fit({"X": X, "y": X @ np.ones(2)}, num_warmup=20, num_samples=20, num_chains=1, progress=False)
    assert model.free_dims(posterior) == {}
    report = model.export("pipeline", tmp_path)
    assert report.steps == ("validate-data", "train-posterior", "export-posterior", "deploy-serving")
    groups = ainative.model(GROUPS, header="groups(county, x, y)")
    with pytest.raises(ainative.ExportError, match="written with indices, and its posterior predictive graph"):
        groups.export_pipeline(tmp_path / "groups")
    with pytest.raises(ainative.ExportError, match="observes nothing; export serves one observed variable"):
        ainative.model("μ ~ 𝒩(0, 1)", header="prior()").export_pipeline(tmp_path / "prior")
    assert not (tmp_path / "groups").exists() and not (tmp_path / "prior").exists()


def test_check_data_binds_every_dimension_or_raises_what_fit_would():
    from tests.cells import CLASSIFIER, REGRESSION

    classifier = ainative.model(CLASSIFIER, header="clf(x, t) -> L")
    x, t = np.zeros((5, 3), np.float32), np.zeros((5, 2), np.float32)
    assert classifier.check_data({"x": x, "t": t}, H=4) == {"D": 3, "K": 2, "H": 4}
    with pytest.raises(ainative.ShapeError, match=r"dimension H .* is not bound: pass H="):
        classifier.check_data({"x": x, "t": t})
    with pytest.raises(ainative.DataError, match=r"input t has batch axes \(4,\), but x has \(5,\)"):
        classifier.check_data({"x": x, "t": t[:4]}, H=4)
    with pytest.raises(ainative.DataError, match="unknown input 'z'"):
        classifier.check_data({"x": x, "t": t, "z": t}, H=4)
    regression = ainative.model(REGRESSION, header="regression(X, y)")
    X = np.zeros((6, 2))
    assert regression.check_data({"X": X, "y": np.zeros(6)}) == {"N": 6, "K": 2}
    with pytest.raises(ainative.DataError, match="fit needs observed data for y"):
        regression.check_data({"X": X})
    with pytest.raises(ainative.DataError, match="N = 5 here, but N = 6"):
        regression.check_data({"X": X, "y": np.zeros(5)})


def test_a_method_of_the_other_kind_says_so():
    deterministic = ainative.model("y = 2 x", header="f(x) -> y")
    probabilistic = ainative.model(EIGHT_SCHOOLS, header="eight_schools(σ, y)")
    assert isinstance(deterministic, ainative.DeterministicModel)
    assert isinstance(probabilistic, ainative.ProbabilisticModel)
    with pytest.raises(ainative.WrongKindError, match="f has no '~' statement: sample_prior is for probabilistic"):
        deterministic.sample_prior(3)
    with pytest.raises(ainative.WrongKindError, match="eight_schools has '~' statements: init is for deterministic"):
        probabilistic.init(0)
    assert not hasattr(deterministic, "predict") and not hasattr(probabilistic, "to")
    with pytest.raises(AttributeError, match="no attribute 'frobnicate'"):
        deterministic.frobnicate()


def test_a_deterministic_model_runs_on_jax_only():
    with pytest.raises(ainative.ModelError, match="--backend numpyro is for probabilistic models"):
        ainative.model("y = 2 x", header="f(x) -> y --backend numpyro")


def test_every_backend_a_header_can_name_has_a_printer_and_a_runtime():
    from ainative.frontend.spec import BACKENDS
    from ainative.models import PRINTERS
    from ainative.runtime.inference import ENGINES

    assert set(PRINTERS) == set(BACKENDS) == {"jax", *ENGINES}


@pytest.mark.parametrize(("text", "header", "name", "words"), [
    ("y = 2 seed", "f(seed) -> y", "seed", "an input named 'seed' could not be told from the seed= option of fit"),
    ("y = device x", "f(x, device) -> y", "device", "the device= option of init"),
    ("x ∈ ℝ^steps\ny = Σ x", "f(x) -> y", "steps", "a dimension named 'steps' could not be told from the steps="),
    ("z ~ Normal(0, 1); z ∈ ℝ^draws", "g()", "draws", "the draws= option of export_onnx"),
])
def test_inputs_and_dimensions_named_like_options_are_refused_at_the_name(text, header, name, words):
    with pytest.raises(ainative.ModelSyntaxError, match=words) as caught:
        ainative.model(text, header=header)
    error = caught.value
    assert error.source_line[error.column - 1:error.span.end_column - 1] == name


def test_inputs_named_like_the_leading_arguments_still_work():
    m = ainative.model("y = params ⊙ key", header="f(params, key) -> y")
    np.testing.assert_allclose(m({}, params=np.full(3, 2.0), key=np.arange(3.0)), [0.0, 2.0, 4.0])
    assert m.init(0, params=np.ones(3), key=np.ones(3)) == {}
