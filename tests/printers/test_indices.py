"""Statements written with indices mean the same in every printer: JAX, NumPyro's JAX, PyTorch and ONNX
agree with NumPy written by hand, and Pyro and NumPyro give a model's log density in closed form."""

import numpy as np
import pytest
import scipy.stats
import torch

import ainative
from ainative.frontend.ir import Assignment
from ainative.printers.indices import dimension_name
from ainative.printers.jax import JaxPrinter
from ainative.printers.names import import_lines, python_name
from ainative.printers.numpyro import VectorisedJaxPrinter
from ainative.printers.pyro import TorchPrinter

RNG = np.random.default_rng(7)


def _softmax(z, axis):
    e = np.exp(z - z.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _layer_norm(x, g, b):
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return g * (x - mu) / np.sqrt(var + 1e-5) + b


def _attention(x, Wq, Wk, Wv):
    """Multi-head self-attention by NumPy: heads h, positions t and s, features e and d."""
    q, k, v = (np.einsum("hed,td->hte", W, x) for W in (Wq, Wk, Wv))
    weights = _softmax(np.einsum("hte,hse->hts", q, k) / np.sqrt(q.shape[-1]), -1)
    return np.einsum("hts,hse->te", weights, v)


#: name → (header, body, inputs, parameters, NumPy's answer)
FORMS = {
    "rbf kernel with noise": (
        "gp(x) -> K", "x ∈ ℝ^N\nK_{ij} = α² exp(-(x_i - x_j)² / (2ℓ²)) + σ² δ_{ij}",
        {"x": RNG.normal(size=6)}, {"alpha": 1.3, "ell": 0.8, "sigma": 0.3},
        lambda x, alpha, ell, sigma: alpha**2 * np.exp(-(x[:, None] - x[None]) ** 2 / (2 * ell**2))
        + sigma**2 * np.eye(len(x))),
    "conv1d": (
        "conv(x) -> y", "K = 3\nx ∈ ℝ^T\ny_t = b + Σ_{k=1}^{K} w_k x_{t+k-1}  for t in 1..T-K+1",
        {"x": RNG.normal(size=9)}, {"w": RNG.normal(size=3), "b": 0.5},
        lambda x, w, b: np.correlate(x, w, mode="valid") + b),
    "conv2d": (
        "conv2(X) -> Y",
        "X ∈ ℝ^{C×H×V}\nW ∈ ℝ^{O×C×P×Q}\nP = 2\nQ = 3\n"
        "Y_{o,i,j} = b_o + Σ_{c,p,q} W_{o,c,p,q} X_{c,i+p-1,j+q-1}  for o in 1..O, i in 1..H-P+1, j in 1..V-Q+1",
        {"X": RNG.normal(size=(2, 5, 6))}, {"W": RNG.normal(size=(4, 2, 2, 3)), "b": RNG.normal(size=4)},
        lambda X, W, b: torch.nn.functional.conv2d(torch.tensor(X[None]), torch.tensor(W), torch.tensor(b))[0].numpy()),
    "max pooling": (
        "pool(x) -> m", "S = 4\nx ∈ ℝ^8\nm_t = max_{k=1..2} x_{2t+k-2}  for t in 1..S",
        {"x": RNG.normal(size=8)}, {}, lambda x: x.reshape(4, 2).max(-1)),
    "layer norm": (
        "ln(x) -> h",
        "x ∈ ℝ^{T×D}\nμ_t = mean_d x_{t,d}\nv_t = mean_d (x_{t,d} - μ_t)²\n"
        "h_{t,d} = g_d (x_{t,d} - μ_t) / √(v_t + 0.00001) + b_d",
        {"x": RNG.normal(size=(4, 5))}, {"g": RNG.normal(size=5), "b": RNG.normal(size=5)}, _layer_norm),
    "multi-head attention": (
        "mha(x) -> o",
        "x ∈ ℝ^{T×D}\nWq, Wk, Wv ∈ ℝ^{Hd×E×D}\nE = 3\n"
        "q_{h,t,e} = Σ_d Wq_{h,e,d} x_{t,d}\nk_{h,t,e} = Σ_d Wk_{h,e,d} x_{t,d}\nv_{h,t,e} = Σ_d Wv_{h,e,d} x_{t,d}\n"
        "a_{h,t,s} = softmax_s(Σ_e q_{h,t,e} k_{h,s,e} / √E)\no_{t,e} = Σ_h Σ_s a_{h,t,s} v_{h,s,e}",
        {"x": RNG.normal(size=(5, 4))}, {n: RNG.normal(size=(2, 3, 4)) for n in ("Wq", "Wk", "Wv")}, _attention),
    "embedding mean": (
        "bag(tokens) -> f",
        "tokens ∈ {1..V}^L\nE ∈ ℝ^{V×D}\nf_d = mean_l E_{tokens_l,d}",
        {"tokens": RNG.integers(1, 6, size=7)}, {"E": RNG.normal(size=(5, 3))},
        lambda tokens, E: E[tokens - 1].mean(0)),
    "product and logsumexp": (
        "red(x) -> r", "x ∈ ℝ^{3×4}\nr_i = ∏_j x_{i,j} + logsumexp_j x_{i,j}",
        {"x": RNG.uniform(0.5, 1.5, size=(3, 4))}, {},
        lambda x: x.prod(-1) + np.log(np.exp(x).sum(-1))),
}


def _evaluate(model, printer, inputs, params, convert, shapes):
    """Every statement printed by ``printer`` and run on ``inputs`` and ``params`` (arrays of the backend);
    with ``shapes``, entries are slices and sums of products ``einsum``s where they can be, else gathers."""
    namespace = {python_name(k): v for k, v in {**inputs, **params}.items()}
    shapes = model.ir.shape_of
    for name, value in {**inputs, **params}.items():
        for dim, size in zip(shapes[name], np.shape(value)):
            if isinstance(dim, str):
                namespace[dimension_name(dim)] = size
    namespace.update({dimension_name(d): v for d, v in model.ir.dim_values})
    namespace.update({python_name(n): convert(np.float32(v)) for n, v in model.ir.constants.items()})
    for statement in model.ir.statements:
        if isinstance(statement, Assignment) and statement.target not in model.ir.constants:
            text = printer.in_scope(statement.indices, statement.expr, shapes)
            exec("\n".join(import_lines(printer.module_imports)), namespace)
            namespace[python_name(statement.target)] = eval(text, namespace)
    return np.asarray(namespace[python_name(model.ir.roles.outputs[0])])


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("printer", [JaxPrinter, VectorisedJaxPrinter, TorchPrinter], ids=lambda p: p.__name__)
@pytest.mark.parametrize("sliced", [False, True], ids=["gathers", "slices"])
def test_every_python_printer_computes_what_numpy_does(form, printer, sliced):
    header, body, inputs, params, reference = FORMS[form]
    model = ainative.model(body, header=header)
    convert = torch.tensor if printer is TorchPrinter else np.asarray
    values = {k: convert(np.asarray(v, np.int64 if np.asarray(v).dtype.kind == "i" else np.float32))
              for k, v in {**inputs, **params}.items()}
    got = _evaluate(model, printer(), {k: values[k] for k in inputs}, {k: values[k] for k in params}, convert,
                    model.ir.shape_of if sliced else None)
    np.testing.assert_allclose(got, reference(**inputs, **params), rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("form", list(FORMS))
def test_the_compiled_model_and_its_onnx_export_compute_what_numpy_does(form, tmp_path):
    header, body, inputs, params, reference = FORMS[form]
    model = ainative.model(body, header=header)
    params32 = {k: np.asarray(v, np.float32) for k, v in params.items()}
    batch = {k: np.stack([v] * 2) for k, v in inputs.items()}
    got = np.asarray(model(params32, **batch))
    np.testing.assert_allclose(got, np.stack([reference(**inputs, **params)] * 2), rtol=2e-4, atol=2e-5)
    shapes = model.ir.shape_of
    dims = {d: n for name, value in inputs.items() for d, n in zip(shapes[name], np.shape(value)) if isinstance(d, str)}
    report = model.export_onnx(tmp_path / "model.onnx", params32, **dims)
    assert report.max_abs_error < 1e-4 and report.random_max_abs_error < 1e-4


def test_index_code_has_no_python_loop_over_an_index():
    header, body, *_ = FORMS["conv2d"]
    source = ainative.model(body, header=header).source("jax")
    assert "for " not in source.split('"""')[-1] and "vmap" not in source


REGRESSION = ("reg(X, y)", "X ∈ ℝ^{N×D}\ny ∈ ℝ^N\nw_d ~ Normal(0, 1)  for d in 1..D\nσ ~ HalfNormal(1)\n"
              "y_i ~ Normal(Σ_d X_{i,d} w_d, σ)  for i in 1..N")


@pytest.mark.parametrize("backend", ["numpyro", "pyro"])
def test_a_probabilistic_model_with_indices_has_the_closed_form_log_density(backend):
    X, y = RNG.normal(size=(7, 3)).astype(np.float32), RNG.normal(size=7).astype(np.float32)
    w, sigma = RNG.normal(size=3).astype(np.float32), np.float32(0.8)
    expected = (scipy.stats.norm.logpdf(w).sum() + scipy.stats.halfnorm.logpdf(sigma)
                + scipy.stats.norm.logpdf(y, X @ w, sigma).sum())
    header, body = REGRESSION
    namespace = {}
    exec(ainative.model(body, header=f"{header} --backend {backend}").source(), namespace)
    if backend == "numpyro":
        from numpyro.infer.util import log_density

        got, _ = log_density(namespace["reg"], (X, y), {}, {"w": w, "sigma": sigma})
    else:
        import pyro

        conditioned = pyro.poutine.condition(namespace["reg"], {"w": torch.tensor(w), "sigma": torch.tensor(sigma)})
        got = pyro.poutine.trace(conditioned).get_trace(torch.tensor(X), torch.tensor(y)).log_prob_sum()
    assert float(got) == pytest.approx(expected, rel=1e-5)


GRID = ("grid(A)", "A ∈ ℝ^{N×M}\nμ ~ Normal(0, 1)\nz_{i,j} ~ Normal(μ + 0.1 i, 1)  for i in 1..N, j in 1..M\n"
                   "A_{i,j} ~ Normal(z_{i,j}, 0.5)  for i in 1..N, j in 1..M")


@pytest.mark.parametrize("backend", ["numpyro", "pyro"])
def test_a_statement_over_two_indices_samples_in_two_plates(backend):
    A, z = RNG.normal(size=(3, 4)).astype(np.float32), RNG.normal(size=(3, 4)).astype(np.float32)
    mu = np.float32(0.3)
    shift = 0.1 * np.arange(1, 4)[:, None]
    expected = (scipy.stats.norm.logpdf(mu) + scipy.stats.norm.logpdf(z, mu + shift, 1).sum()
                + scipy.stats.norm.logpdf(A, z, 0.5).sum())
    header, body = GRID
    model = ainative.model(body, header=f"{header} --backend {backend}")
    assert {k: v.shape for k, v in model.sample_prior(5, N=3, M=4).items()} == {"mu": (5,), "z": (5, 3, 4),
                                                                                "A": (5, 3, 4)}
    namespace = {}
    exec(model.source(), namespace)
    if backend == "numpyro":
        from numpyro.infer.util import log_density

        got, _ = log_density(namespace["grid"], (A,), {}, {"mu": mu, "z": z})
    else:
        import pyro

        conditioned = pyro.poutine.condition(namespace["grid"], {"mu": torch.tensor(mu), "z": torch.tensor(z)})
        got = pyro.poutine.trace(conditioned).get_trace(torch.tensor(A)).log_prob_sum()
    assert float(got) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("backend", ["jax", "pyro", "numpyro"])
def test_a_dimension_used_as_a_value_is_its_size(backend, tmp_path):
    x = RNG.normal(size=(2, 6)).astype(np.float32)
    if backend == "jax":
        model = ainative.model("x ∈ ℝ^N\nm = Σ_i x_i / N\nv = Σ_i (x_i - m)² / (N - 1)", header="f(x) -> v")
        np.testing.assert_allclose(np.asarray(model({}, x=x)), x.var(1, ddof=1), rtol=1e-5)
        assert model.export_onnx(tmp_path / "v.onnx", {}, N=6).max_abs_error < 1e-5
        return
    # s reads μ, so it is a site of each draw (√N alone would be data, no site)
    model = ainative.model("x ∈ ℝ^N\nμ ~ Normal(0, 1)\nm = Σ_i x_i / N + μ\ns = √N + μ",
                           header=f"g(x) --backend {backend}")
    draws = model.sample_prior(3, x=x[0])
    np.testing.assert_allclose(draws["m"] - draws["mu"], np.full(3, x[0].mean()), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(draws["s"] - draws["mu"], np.full(3, np.sqrt(6)), rtol=1e-5, atol=1e-6)
