"""ONNX export: every deterministic reference cell and random expressions run in onnxruntime like JAX."""

import numpy as np
import onnx
import onnxruntime
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ainative
from ainative.export import verified
from ainative.export.verified import BATCHES, compare, random_like, random_posterior
from ainative.frontend.nodes import Sigmoid
from ainative.printers import onnx as printer
from tests.cells import GAUSS, LOGISTIC, MLP, REGRESSION


def run(path, **inputs):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, inputs)))


@pytest.mark.parametrize(
    ("header", "text", "params", "x_shape"),
    [
        ("mlp(x) -> y", MLP, {"D": 6, "H": 5, "K": 4}, (9, 6)),
        ("logistic(x) -> p", LOGISTIC, {"D": 3}, (9, 3)),
        ("gauss(x) -> p --latex", GAUSS, {}, (9,)),
    ],
    ids=["mlp", "logistic", "gauss"],
)
def test_spec_examples_export_and_match_jax(tmp_path, header, text, params, x_shape):
    model = ainative.model(text, header=header)
    fitted = model.init(1, **params)
    if model.name == "gauss":
        fitted = {"s": np.float32(1.4), "m": np.float32(-0.3)}
    report = model.export_onnx(tmp_path / "model.onnx", fitted)
    assert report.max_abs_error < 1e-5 and report.batches == (1, 17) and report.opset == 17
    proto = onnx.load(tmp_path / "model.onnx")
    onnx.checker.check_model(proto, full_check=True)
    assert (proto.ir_version, proto.opset_import[0].version) == (8, 17)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    x = np.random.default_rng(2).uniform(0.1, 1, size=x_shape).astype(np.float32)
    out = run(tmp_path / "model.onnx", x=x)
    np.testing.assert_allclose(out[model.outputs[0]], model(fitted, x=x), rtol=1e-5, atol=1e-6)


def test_names_follow_the_math(tmp_path):
    model = ainative.model(MLP, header="mlp(x) -> y")
    model.export_onnx(tmp_path / "mlp.onnx", model.init(0, D=3, H=4, K=2))
    graph = onnx.load(tmp_path / "mlp.onnx").graph
    assert {"W_1", "b_1", "W_2", "b_2"} <= {i.name for i in graph.initializer}
    outputs = {o for node in graph.node for o in node.output}
    assert {"h", "y"} <= outputs and [o.name for o in graph.output] == ["y"]
    assert any(node.name.startswith("MatMul:h/") for node in graph.node)


def test_opset_is_an_argument(tmp_path):
    model = ainative.model(MLP.replace("softmax", "logsumexp"), header="mlp(x) -> y")
    params = model.init(0, D=3, H=4, K=2)
    for opset in (17, 18):
        report = model.export_onnx(tmp_path / f"m{opset}.onnx", params, opset=opset, ir_version=8 + (opset > 17))
        assert onnx.load(tmp_path / f"m{opset}.onnx").opset_import[0].version == opset == report.opset


def test_mismatch_above_tolerance_is_an_error_and_writes_nothing(tmp_path):
    model = ainative.model(MLP, header="mlp(x) -> y")
    with pytest.raises(ainative.ExportError, match="differs from the model"):
        model.export_onnx(tmp_path / "mlp.onnx", model.init(0, D=3, H=4, K=2), atol=0.0, rtol=0.0)
    assert list(tmp_path.iterdir()) == []


def test_posterior_predictive_export_matches_numpy_over_the_same_draws(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = 0.5 + X @ np.array([1.0, -1.0, 2.0]) + 0.2 * rng.normal(size=80)
    model = ainative.model(REGRESSION, header="regression(X, y) --backend numpyro")
    posterior = model.fit({"X": X, "y": y}, num_chains=1, method="nuts", num_warmup=200, num_samples=300,
                          progress=False)
    report = model.export_onnx(tmp_path / "r.onnx", posterior, quantiles=(0.05, 0.95), draws=150)
    assert report.outputs == ("y", "y_q05", "y_q95")
    graph = onnx.load(tmp_path / "r.onnx").graph
    draws = {i.name: onnx.numpy_helper.to_array(i) for i in graph.initializer if i.name.startswith("draws/")}
    assert draws["draws/beta"].shape == (150, 1, 3)
    X_new = rng.normal(size=(6, 3)).astype(np.float32)
    out = run(tmp_path / "r.onnx", X=X_new)
    mean = posterior.mean()
    np.testing.assert_allclose(out["y"], mean["alpha"] + X_new @ mean["beta"], rtol=1e-4, atol=1e-4)
    per_draw = draws["draws/alpha"].reshape(150, 1) + np.einsum("nk,sk->sn", X_new,
                                                                draws["draws/beta"].reshape(150, 3))
    np.testing.assert_allclose(out["y_q05"], np.quantile(per_draw, 0.05, axis=0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out["y_q95"], np.quantile(per_draw, 0.95, axis=0), rtol=1e-4, atol=1e-4)
    with pytest.raises(ainative.ExportError, match="export it with the Posterior"):
        model.export_onnx(tmp_path / "bad.onnx", {"alpha": 1.0})
    assert "with your parameters (max abs error" in str(report)
    assert f"with random parameters (seed 0: max abs error {report.random_max_abs_error:.2e}" in str(report)
    assert report.random_max_abs_error < 1e-4
    assert report.finite_values == report.random_finite_values == sum(BATCHES) * len(report.outputs)


def test_a_wrong_graph_fails_even_where_your_parameters_hide_it(tmp_path, monkeypatch):
    """σ printed as HardSigmoid: both give 0.5 at 0, and fresh logistic parameters (zeros) give only 0."""
    model = ainative.model(LOGISTIC, header="logistic(x) -> p")
    zeros = model.init(0, D=3)
    assert not any(np.any(value) for value in zeros.values())
    monkeypatch.setitem(printer.UNARY, Sigmoid, "HardSigmoid")
    with pytest.raises(ainative.ExportError, match=r"with random parameters \(seed 0\): output p differs"):
        model.export_onnx(tmp_path / "p.onnx", zeros)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ainative.ExportError, match="with your parameters: output p differs"):
        model.export_onnx(tmp_path / "p.onnx", {"w": np.array([1.0, -2.0, 0.5]), "b": np.array(0.3)})
    monkeypatch.setattr(verified, "random_like", lambda arrays, seed: dict(arrays))
    report = model.export_onnx(tmp_path / "p.onnx", zeros)
    assert report.max_abs_error == report.random_max_abs_error == 0.0


def test_the_report_names_both_checks_and_random_parameters_match_closely(tmp_path):
    model = ainative.model(MLP, header="mlp(x) -> y")
    params = model.init(0, D=4, H=8, K=3)
    report = model.export_onnx(tmp_path / "mlp.onnx", params)
    text = str(report)
    assert text.startswith(f"{tmp_path / 'mlp.onnx'}: {report.nodes} nodes, opset 17")
    assert (f"onnxruntime matches at batch 1, 17 with your parameters (max abs error {report.max_abs_error:.2e}, "
            f"max rel error {report.max_rel_error:.2e}) and with random parameters (seed 0: max abs error "
            f"{report.random_max_abs_error:.2e}, max rel error {report.random_max_rel_error:.2e})") in text
    assert report.random_max_abs_error < 1e-5 and report.random_max_rel_error < 1e-4
    assert report.finite_values == report.random_finite_values == sum(BATCHES) * 3
    as_yours = model.export_onnx(tmp_path / "random.onnx", random_like(params, 0))
    assert (as_yours.max_abs_error, as_yours.max_rel_error) == (report.random_max_abs_error,
                                                                report.random_max_rel_error)


def test_random_parameters_are_reproducible_and_shaped_like_yours(tmp_path, monkeypatch):
    model = ainative.model(MLP, header="mlp(x) -> y")
    params = model.init(0, D=4, H=8, K=3)
    drawn = []

    def recorded(arrays, seed):
        drawn.append(random_like(arrays, seed))
        return drawn[-1]

    monkeypatch.setattr(verified, "random_like", recorded)
    reports = [model.export_onnx(tmp_path / "mlp.onnx", params, seed=seed, overwrite=True) for seed in (0, 0, 5)]
    assert reports[0] == reports[1] and reports[2].seed == 5
    assert reports[2].random_max_abs_error != reports[0].random_max_abs_error
    for name, value in params.items():
        assert drawn[0][name].shape == np.shape(value) and drawn[0][name].dtype == np.float32
        np.testing.assert_array_equal(drawn[0][name], drawn[1][name])
        assert not np.array_equal(drawn[0][name], drawn[2][name])
    values = np.concatenate([v.ravel() for v in drawn[0].values()])
    assert np.all(values != 0) and len(np.unique(values)) == values.size and values.min() < 0 < values.max()


def test_random_posterior_draws_stay_in_the_support_of_their_priors():
    text = """X ∈ ℝ^{N×K}
s ~ HalfNormal(1)
q ~ Beta(2, 2)
w ~ Dirichlet(c);  w ∈ ℝ^K;  c ∈ ℝ^K
y ~ Normal(X w + q, s)"""
    model = ainative.model(text, header="r(X, c, y) --backend numpyro")
    means = {"s": np.float32(1), "q": np.float32(0.5), "w": np.full(3, 1 / 3, np.float32)}
    draws = {name: np.stack([value] * 40) for name, value in means.items()}
    random_means, random_draws = random_posterior(model.ir, means, draws, 0)
    for like, values in ((means, random_means), (draws, random_draws)):
        assert {k: v.shape for k, v in values.items()} == {k: np.shape(v) for k, v in like.items()}
        assert np.all(values["s"] > 0) and np.all((values["q"] > 0) & (values["q"] < 1))
        np.testing.assert_allclose(values["w"].sum(axis=-1), 1, rtol=1e-6)
        assert np.all(values["w"] > 0)
    assert len(np.unique(random_draws["q"])) == 40


def test_a_model_nan_at_some_parameters_exports_when_its_graph_is_right(tmp_path):
    model = ainative.model("x ∈ ℝ^D;  a ∈ ℝ^D\ny = sqrt(a) ⊙ x", header="f(x) -> y")
    params = model.init(0, D=4)
    report = model.export_onnx(tmp_path / "f.onnx", params)
    negative = int((random_like(params, 0)["a"] < 0).sum())
    assert 0 < negative < 4
    assert report.finite_values == sum(BATCHES) * 4 and report.random_finite_values == sum(BATCHES) * (4 - negative)


def test_a_maximum_over_values_nan_at_random_parameters_exports(tmp_path):
    model = ainative.model("x ∈ ℝ^D;  a ∈ ℝ^D\ny = max(sqrt(a) ⊙ x)", header="f(x) -> y")
    params = {"a": np.linspace(0.5, 2.0, 4, dtype=np.float32)}
    assert (random_like(params, 0)["a"] < 0).any()
    report = model.export_onnx(tmp_path / "f.onnx", params)
    assert report.finite_values == sum(BATCHES) and report.max_abs_error < 1e-5


def test_a_model_nan_everywhere_at_random_parameters_says_it_checked_nothing_there(tmp_path):
    model = ainative.model("x ∈ ℝ^D\ny = sqrt(a) x", header="f(x) -> y")
    params = model.init(0, D=4)
    seed = next(seed for seed in range(20) if random_like(params, seed)["a"] < 0)
    report = model.export_onnx(tmp_path / "f.onnx", params, seed=seed, D=4)
    assert report.random_finite_values == 0 and report.finite_values == sum(BATCHES) * 4
    assert f"with random parameters (seed {seed}: not checked: the model is NaN or infinite everywhere" in str(report)


@pytest.mark.parametrize(
    ("got", "agrees"),
    [([np.nan, np.inf, -np.inf, 1.0], True), ([2.0, np.inf, -np.inf, 1.0], True),
     ([np.nan, np.inf, -np.inf, np.nan], False), ([np.nan, -np.inf, -np.inf, 1.0], False),
     ([np.nan, np.nan, -np.inf, 1.0], False), ([np.nan, np.inf, -np.inf, 1.1], False)],
    ids=["same", "anything-where-nan", "nan-where-finite", "other-infinity", "nan-where-infinite",
         "beyond-tolerance"],
)
def test_finite_values_and_infinities_must_match_where_the_model_has_them(got, agrees):
    expected = {"y": np.array([np.nan, np.inf, -np.inf, 1.0])}
    if agrees:
        assert compare("check", expected, {"y": np.array(got)}, 1e-4, 1e-3).finite_values == 1
    else:
        with pytest.raises(ainative.ExportError, match="check: output y differs from the model"):
            compare("check", expected, {"y": np.array(got)}, 1e-4, 1e-3)


VECTOR_LEAVES = st.sampled_from(["x", "w", "b"])
SCALAR_LEAVES = st.sampled_from(["c", "2", "0.5"])
UNARY = st.sampled_from(["tanh", "σ", "relu", "softplus", "sin", "cos", "abs"])


def vectors(depth):
    if depth == 0:
        return VECTOR_LEAVES
    inner, scalar = vectors(depth - 1), scalars(depth - 1)
    return st.one_of(
        VECTOR_LEAVES,
        st.builds(lambda f, v: f"{f}({v})", UNARY, inner),
        st.builds(lambda a, op, b: f"({a}) {op} ({b})", inner, st.sampled_from(["+", "-", "⊙"]), inner),
        st.builds(lambda s, v: f"({s}) ({v})", scalar, inner),
        st.builds(lambda v: f"A ({v})", inner),
        st.builds(lambda v: f"Aᵀ ({v})", inner),
        st.builds(lambda v: f"softmax({v})", inner),
        st.builds(lambda a, b: f"max({a}, {b})", inner, inner),
    )


def scalars(depth):
    if depth == 0:
        return SCALAR_LEAVES
    inner, vector = scalars(depth - 1), vectors(depth - 1)
    return st.one_of(
        SCALAR_LEAVES,
        st.builds(lambda f, v: f"{f}({v})", st.sampled_from(["sum", "mean", "logsumexp", "max"]), vector),
        st.builds(lambda a, b: f"({a})ᵀ ({b})", vector, vector),
        st.builds(lambda f, s: f"{f}({s})", UNARY, inner),
        st.builds(lambda a, b: f"({a}) + ({b})", inner, inner),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(vectors(3), scalars(3)))
def test_random_expressions_export_like_jax(tmp_path, expression):
    text = f"x ∈ ℝ^D;  w ∈ ℝ^D;  b ∈ ℝ^D;  A ∈ ℝ^{{D×D}}\ny = {expression}"
    model = ainative.model(text, header="f(x) -> y")
    params = {name: np.asarray(value) + 0.3 for name, value in model.init(3, D=4, x=np.zeros(4)).items()}
    report = model.export_onnx(tmp_path / "f.onnx", params, D=4, overwrite=True)
    assert report.max_abs_error <= 1e-4 + 1e-3 * 10


def test_a_graph_onnx_cannot_type_is_an_export_error(tmp_path):
    """A plate over a matrix's rows is per-row in JAX; the ONNX printer cannot say so yet, and says that it failed."""
    model = ainative.model("X ∈ ℝ^{T×D}\nμ_t = mean(X_t) for t in 1..T", header="f(X) -> mu")
    np.testing.assert_allclose(model({}, np.arange(6.0).reshape(2, 3)), [1.0, 4.0])
    with pytest.raises(ainative.ExportError, match=r"does not pass onnx\.checker"):
        model.export_onnx(tmp_path / "m.onnx", {}, T=2, D=3)
    assert not (tmp_path / "m.onnx").exists()


def test_an_integer_input_is_an_int64_graph_input_cast_to_float(tmp_path):
    model = ainative.model("county ∈ {1..J};  x ∈ ℝ^D;  w ∈ ℝ^D;  a ∈ ℝ^J\ny = county * (wᵀx) + Σ a",
                           header="counties(county, x) -> y")
    params = {"w": np.array([0.5, -1.25, 2.0], np.float32), "a": np.arange(8, dtype=np.float32) / 4}
    report = model.export_onnx(tmp_path / "counties.onnx", params)
    assert report.max_abs_error < 1e-5
    proto = onnx.load(tmp_path / "counties.onnx")
    onnx.checker.check_model(proto, full_check=True)
    types = {i.name: i.type.tensor_type.elem_type for i in proto.graph.input}
    assert types == {"county": onnx.TensorProto.INT64, "x": onnx.TensorProto.FLOAT}
    assert [n.input for n in proto.graph.node if n.op_type == "Cast"] == [["county"]]
    limits = {p.key: p.value for p in proto.metadata_props}
    assert limits == {"integer:county": '{"low": 1, "high": 8, "domain": "county ∈ {1..J} with J = 8"}'}
    county, x = np.array([1, 4, 8], np.int64), np.array([[1, 2, 3], [0.5, 0.5, 0], [-1, 0, 1]], np.float32)
    expected = county * (x.astype(np.float64) @ params["w"]) + params["a"].sum()
    np.testing.assert_allclose(run(tmp_path / "counties.onnx", county=county, x=x)["y"], expected, rtol=1e-6)



def test_a_posterior_predictive_takes_an_integer_covariate_as_int64(tmp_path):
    rng = np.random.default_rng(0)
    k = rng.integers(0, 6, size=60)
    y = 0.5 + 1.5 * k + 0.3 * rng.normal(size=60)
    text = ("K = 5\nk ∈ {0..K}^N;  y ∈ ℝ^N\nα ~ Normal(0, 10)\nβ ~ Normal(0, 1)\nσ ~ HalfNormal(1)\n"
            "y ~ Normal(α + β k, σ)")
    model = ainative.model(text, header="dose(k, y) --backend numpyro")
    posterior = model.fit({"k": k, "y": y}, num_chains=1, num_warmup=200, num_samples=300, progress=False)
    report = model.export_onnx(tmp_path / "dose.onnx", posterior, draws=100)
    assert report.max_abs_error < 1e-4 and report.random_max_abs_error < 1e-4
    proto = onnx.load(tmp_path / "dose.onnx")
    assert [(i.name, i.type.tensor_type.elem_type) for i in proto.graph.input] == [("k", onnx.TensorProto.INT64)]
    new = np.array([0, 3, 5], np.int64)
    mean = posterior.mean()
    np.testing.assert_allclose(run(tmp_path / "dose.onnx", k=new)["y"], mean["alpha"] + mean["beta"] * new,
                               rtol=1e-5, atol=1e-5)
