"""Linear algebra written as a paper writes it: each function's values against NumPy/SciPy in JAX (batched),
PyTorch and ONNX, its three spellings, and Gaussian-process models whose log density is SciPy's."""

import re

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
import torch

import ainative
from ainative.errors import ExportError

RNG = np.random.default_rng(3)
FACTOR = RNG.normal(size=(4, 4))
A = (FACTOR @ FACTOR.T + 4 * np.eye(4)).astype(np.float32)
B = RNG.normal(size=(4, 2)).astype(np.float32)
V = RNG.normal(size=4).astype(np.float32)

#: the notation → NumPy's (or SciPy's) value, with A symmetric positive-definite, B 4×2 and v a 4-vector
FUNCTIONS = {
    "cholesky(A)": lambda: np.linalg.cholesky(A),
    "inverse(A)": lambda: np.linalg.inv(A),
    "A⁻¹ v": lambda: np.linalg.inv(A) @ V,
    "det(A)": lambda: np.linalg.det(A),
    "logdet(A)": lambda: np.linalg.slogdet(A)[1],
    "diag(v)": lambda: np.diag(V),
    "diag(A)": lambda: np.diag(A),
    "tr(A) + trace(A)": lambda: 2 * np.trace(A),
    "solve(A, v)": lambda: scipy.linalg.solve(A, V),
    "solve(A, B)": lambda: scipy.linalg.solve(A, B),
    "A + 2 I": lambda: A + 2 * np.eye(4),
    "(A - I) v": lambda: (A - np.eye(4)) @ V,
}
#: those the standard ONNX opset has no form for, and the function each error names
NO_ONNX = {"cholesky(A)": "cholesky", "inverse(A)": "inverse", "A⁻¹ v": "inverse", "solve(A, v)": "solve",
           "solve(A, B)": "solve"}
CELL = "A ∈ ℝ^{4×4}; B ∈ ℝ^{4×2}; v ∈ ℝ^4\ny = {}"


@pytest.mark.parametrize("notation", list(FUNCTIONS))
def test_jax_computes_scipys_value_for_each_example_of_a_batch(notation):
    m = ainative.model(CELL.replace("{}", notation), header="f(A, B, v) -> y")
    want = FUNCTIONS[notation]()
    np.testing.assert_allclose(m({}, A=A, B=B, v=V), want, rtol=2e-4, atol=1e-5)
    batch = m({}, A=np.stack([A, 2 * A]), B=np.stack([B, B]), v=np.stack([V, V]))
    assert batch.shape == (2, *np.shape(want))
    np.testing.assert_allclose(batch[0], want, rtol=2e-4, atol=1e-5)


@pytest.mark.parametrize("notation", list(FUNCTIONS))
def test_pytorch_computes_scipys_value(notation):
    # y reads only data, so it is a plain value of the program (no site): the program returns it
    m = ainative.model(CELL.replace("{}", notation) + "\nz ~ Normal(0, 1)", header="f(A, B, v) -> y --backend pyro")
    namespace = {}
    exec(m.source(), namespace)
    value = namespace["f"](*(torch.tensor(a) for a in (A, B, V)))
    np.testing.assert_allclose(value.numpy(), FUNCTIONS[notation](), rtol=2e-4, atol=1e-5)


@pytest.mark.parametrize("notation", list(FUNCTIONS))
def test_onnx_export_matches_jax_or_names_the_function_it_has_no_form_for(notation, tmp_path):
    m = ainative.model(CELL.replace("{}", notation), header="f(A, B, v) -> y")
    if notation in NO_ONNX:
        with pytest.raises(ExportError, match=f"{NO_ONNX[notation]}.* has no ONNX form"):
            m.export_onnx(tmp_path / "f.onnx", {})
        return
    report = m.export_onnx(tmp_path / "f.onnx", {})
    assert report.max_abs_error < 1e-3 and report.random_max_abs_error < 1e-3


@pytest.mark.parametrize(
    ("unicode", "ascii", "latex"),
    [
        ("L = cholesky(A)", "L = cholesky(A)", r"L = \operatorname{cholesky}(A)"),
        ("L = A⁻¹", "L = A^(-1)", r"L = A^{-1}"),
        ("L = inverse(A)", "L = A**-1", r"L = \operatorname{inverse}\left(A\right)"),
        ("L = det(A) + logdet(A)", "L = det(A) + logdet(A)", r"L = \det(A) + \operatorname{logdet}(A)"),
        ("L = tr(A) diag(A)", "L = trace(A) * diag(A)", r"L = \operatorname{tr}(A) \operatorname{diag}(A)"),
        ("L = solve(A, b)", "L = solve(A, b)", r"L = \operatorname{solve}(A, b)"),
    ],
)
def test_the_three_spellings_are_one_ir(unicode, ascii, latex):
    irs = [ainative.model(f"A ∈ ℝ^{{3×3}}; b ∈ ℝ^3\n{text}", header="f(A, b) -> L" + flag).ir.statements[-1].expr
           for text, flag in ((unicode, ""), (ascii, ""))]
    irs.append(ainative.model(rf"A \in \mathbb{{R}}^{{3 \times 3}} \\ b \in \mathbb{{R}}^3 \\ {latex}",
                              header="f(A, b) -> L --latex").ir.statements[-1].expr)
    assert irs[0] == irs[1] == irs[2]


def test_latex_writes_linear_algebra_as_a_paper_does():
    m = ainative.model("A ∈ ℝ^{3×3}; b ∈ ℝ^3\nx = solve(A, b) + A⁻¹ b\nd = logdet(A) + det(A) + tr(A)\n"
                       "L = cholesky(diag(b))", header="f(A, b) -> x, d, L")
    latex = m.latex()
    for piece in (r"A^{-1} b", r"\log\left|\det\left(A\right)\right|", r"\det\left(A\right)",
                  r"\operatorname{tr}\left(A\right)",
                  r"\operatorname{cholesky}\left(\operatorname{diag}\left(b\right)"):
        assert piece in latex, piece


GP = ("x ∈ ℝ^N\ny ∈ ℝ^N\nα ~ HalfNormal(1)\nℓ ~ HalfNormal(1)\nσ ~ HalfNormal(1)\n"
      "K_{ij} = α² exp(-(x_i - x_j)² / (2ℓ²)) + σ² δ_{ij}\nL = cholesky(K)\ny ~ MultivariateNormal(0, scale_tril=L)")
LATENT = ("x ∈ ℝ^N\ny ∈ ℝ^N\nη ∈ ℝ^N\nα ~ HalfNormal(1)\nℓ ~ HalfNormal(1)\nη ~ Normal(0, 1)\n"
          "K_{ij} = α² exp(-(x_i - x_j)² / (2ℓ²)) + 0.0001 δ_{ij}\nL = cholesky(K)\nf = L η\n"
          "y_i ~ Poisson(exp(f_i))  for i in 1..N")


def _kernel(x, alpha, ell, jitter):
    return alpha**2 * np.exp(-((x[:, None] - x[None]) ** 2) / (2 * ell**2)) + jitter * np.eye(len(x))


def _log_density(body, backend, x, y, values):
    namespace = {}
    exec(ainative.model(body, header=f"gp(x, y) --backend {backend}").source(), namespace)
    if backend == "numpyro":
        from numpyro.infer.util import log_density

        return float(log_density(namespace["gp"], (x, y), {}, values)[0])
    import pyro

    conditioned = pyro.poutine.condition(namespace["gp"], {k: torch.tensor(v) for k, v in values.items()})
    return float(pyro.poutine.trace(conditioned).get_trace(torch.tensor(x), torch.tensor(y)).log_prob_sum())


@pytest.mark.parametrize("backend", ["numpyro", "pyro"])
def test_gaussian_process_regression_has_scipys_log_density(backend):
    x, y = RNG.normal(size=7).astype(np.float32), RNG.normal(size=7).astype(np.float32)
    alpha, ell, sigma = np.float32(1.3), np.float32(0.6), np.float32(0.4)
    expected = (scipy.stats.multivariate_normal.logpdf(y, np.zeros(7), _kernel(x, alpha, ell, sigma**2))
                + scipy.stats.halfnorm.logpdf([alpha, ell, sigma]).sum())
    got = _log_density(GP, backend, x, y, {"alpha": alpha, "ell": ell, "sigma": sigma})
    assert got == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("backend", ["numpyro", "pyro"])
def test_a_latent_gaussian_process_written_non_centred_has_the_closed_form_log_density(backend):
    x = RNG.normal(size=6).astype(np.float32)
    y = RNG.poisson(2.0, size=6).astype(np.float32)
    alpha, ell = np.float32(0.9), np.float32(0.8)
    eta = RNG.normal(size=6).astype(np.float32)
    f = np.linalg.cholesky(_kernel(x.astype(np.float64), alpha, ell, 1e-4)) @ eta
    expected = (scipy.stats.halfnorm.logpdf([alpha, ell]).sum() + scipy.stats.norm.logpdf(eta).sum()
                + scipy.stats.poisson.logpmf(y, np.exp(f)).sum())
    got = _log_density(LATENT, backend, x, y, {"alpha": alpha, "ell": ell, "eta": eta})
    assert got == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize(("body", "words"), [
    ("y = 2 I", "here nothing gives it one"),
    ("y = v + I", "the other terms have shape (4,)"),
    ("y = B + I", "the other terms have shape (4, 2)"),
])
def test_the_identity_is_sized_by_a_square_matrix_beside_it_or_refused(body, words):
    with pytest.raises(ainative.ShapeError, match=re.escape(words)) as error:
        ainative.model(CELL.replace("y = {}", body), header="f(A, B, v) -> y")
    assert error.value.line == 2


def test_a_variable_named_i_is_that_variable():
    m = ainative.model("I ∈ ℝ^{3×3}\nv ∈ ℝ^3\ny = I v", header="f(I, v) -> y")
    identity = RNG.normal(size=(3, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(m({}, I=identity, v=V[:3])), identity @ V[:3], rtol=1e-6)
