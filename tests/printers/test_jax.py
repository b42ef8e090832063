import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ainative
from ainative.printers.names import python_name
from tests.cells import EIGHT_SCHOOLS, GAUSS, LOGISTIC, MLP
from tests.processes import load_file

RNG = np.random.default_rng(0)




def test_mlp_source_is_readable_and_runs_on_its_own(tmp_path):
    m = ainative.model(MLP, header="mlp(x) -> y")
    source = m.source("jax")
    assert "h = _jnp.tanh(W_1 @ x + b_1)" in source
    assert "y = _jnn.softmax(W_2 @ h + b_2)" in source
    f = load_file(source, "mlp", tmp_path)
    params = m.init(0, D=5, H=7, K=3)
    x = RNG.normal(size=5).astype(np.float32)
    W1, b1, W2, b2 = (np.asarray(params[k]) for k in ("W_1", "b_1", "W_2", "b_2"))
    logits = W2 @ np.tanh(W1 @ x + b1) + b2
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(f(params, x), expected, rtol=1e-5, atol=1e-6)


def test_cse_names_repeated_subexpressions():
    source = ainative.model(GAUSS, header="gauss(x) -> p --latex").source()
    assert "_t0 = s**2" in source and source.count("s**2") == 1


def test_logistic_matches_numpy():
    m = ainative.model(LOGISTIC, header="logistic(x) -> p")
    w = RNG.normal(size=4).astype(np.float32)
    x = RNG.normal(size=(6, 4)).astype(np.float32)
    p = m({"w": w, "b": np.float32(0.3)}, x=x)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-(x @ w + 0.3))), rtol=1e-5)


def test_gauss_density_matches_the_closed_form():
    m = ainative.model(GAUSS, header="gauss(x) -> p --latex")
    x = np.linspace(-3, 3, 13, dtype=np.float32)
    s, mu = 1.7, 0.4
    expected = np.exp(-((x - mu) ** 2) / (2 * s**2)) / np.sqrt(2 * np.pi * s**2)
    np.testing.assert_allclose(m({"s": np.float32(s), "m": np.float32(mu)}, x=x), expected, rtol=1e-5)


def test_plate_statement_becomes_a_vmap():
    m = ainative.model("J = 4\nx ∈ ℝ^J\nθ_j = μ + τ x_j  for j in 1..J\nz = Σ θ", header="f(x) -> theta, z")
    assert "theta = _jax.vmap(_each_theta)(x)" in m.source()
    x = np.arange(4, dtype=np.float32)
    out = m({"mu": np.float32(1.0), "tau": np.float32(2.0)}, x=x)
    np.testing.assert_allclose(out["theta"], 1 + 2 * x)
    np.testing.assert_allclose(out["z"], (1 + 2 * x).sum())


@pytest.mark.parametrize(
    ("notation", "reference"),
    [
        ("relu(x)", lambda x: np.maximum(x, 0)),
        ("softplus(x)", lambda x: np.log1p(np.exp(x))),
        ("log1p(abs(x))", lambda x: np.log1p(np.abs(x))),
        ("logsumexp(x)", lambda x: np.log(np.exp(x).sum())),
        ("mean(x²)", lambda x: (x**2).mean()),
        ("max(x)", lambda x: x.max()),
        ("min(x, 0.5)", lambda x: np.minimum(x, 0.5)),
        ("max(x, -x)", lambda x: np.abs(x)),
        ("sqrt(exp(x))", lambda x: np.exp(x / 2)),
        ("sin(x) cos(x)", lambda x: np.sin(x) @ np.cos(x)),
        ("sin(x) ⊙ cos(x)", lambda x: np.sin(x) * np.cos(x)),
        ("x^-1 + x⁻¹", lambda x: 2 / x),
        ("sum(x) / 2", lambda x: x.sum() / 2),
    ],
)
def test_each_function_against_numpy(notation, reference):
    m = ainative.model(f"x ∈ ℝ^5\ny = {notation}", header="f(x) -> y")
    x = np.array([0.3, -1.2, 2.0, 0.7, -0.1], np.float32)
    np.testing.assert_allclose(m({}, x=x), reference(x), rtol=1e-5, atol=1e-6)


def test_reserved_names_are_mangled():
    assert python_name("lambda") == "lambda_" and python_name("params") == "params_" and python_name("W_1") == "W_1"
    m = ainative.model("y = λ x", header="f(x) -> y")
    assert "lambda_ = params[\"lambda\"]" in m.source()
    np.testing.assert_allclose(m({"lambda": np.float32(3.0)}, x=np.float32(2.0)), 6.0)


def test_probabilistic_model_has_no_jax_forward_source():
    m = ainative.model(EIGHT_SCHOOLS, header="eight_schools(σ, y)")
    with pytest.raises(ainative.ModelError, match="pyro or numpyro"):
        m.source("jax")


def test_generated_function_composes_with_jax_transforms():
    m = ainative.model(MLP, header="mlp(x) -> y")
    params = m.init(1, D=3, H=4, K=2)
    f = m.jax_function
    grads = jax.jit(jax.grad(lambda p, x: jnp.log(f(p, x)[0])))(params, jnp.ones(3))
    assert set(grads) == set(params) and all(np.isfinite(np.asarray(g)).all() for g in grads.values())


def test_constants_and_precedence():
    m = ainative.model("c = 2 π\ny = c x / a b", header="f(x, a, b) -> y")
    assert "c = 2.0*_jnp.pi" in m.source()
    np.testing.assert_allclose(m({}, x=np.float32(3.0), a=np.float32(2.0), b=np.float32(4.0)),
                               2 * np.pi * 3.0 / (2.0 * 4.0), rtol=1e-6)


def test_one_declaration_for_several_names():
    m = ainative.model("x, t ∈ ℝ^D\ny = x ⊙ t", header="f(x, t) -> y")
    assert m.shapes == {"x": ("D",), "t": ("D",), "y": ("D",)}


def test_common_subexpressions_keep_their_shape():
    m = ainative.model("w ∈ ℝ^D\ny = tanh(tanh(w) - tanh(w))", header="f(x) -> y")
    assert "_t0 = _jnp.tanh(w)" in m.source()
    out = m({"w": np.ones(3, np.float32)}, x=np.zeros((2,), np.float32))
    assert out.shape == (2, 3) and not out.any()


def test_integer_literals_are_floats_inside_functions():
    m = ainative.model("y = tanh(σ(2)) + x^2", header="f(x) -> y")
    assert "_jnn.sigmoid(2.0)" in m.source() and "x**2" in m.source()
    np.testing.assert_allclose(m({}, x=np.float32(3.0)), np.tanh(1 / (1 + np.exp(-2.0))) + 9.0, rtol=1e-6)


def test_imports_are_the_modules_of_what_was_printed(tmp_path):
    assert "import" not in ainative.model("y = 2 x", header="f(x) -> y").source()
    m = ainative.model("x ∈ ℝ^3\ny = logsumexp(x) + σ(Σ x)", header="f(x) -> y")
    source = m.source()
    assert source.split("\n\n\n")[0].splitlines() == ["import jax.nn as _jnn", "import jax.numpy as _jnp",
                                                      "import jax.scipy.special as _jss"]
    x = np.array([0.5, -1.0, 2.0], np.float32)
    np.testing.assert_allclose(load_file(source, "f", tmp_path)({}, x),
                               np.log(np.exp(x).sum()) + 1 / (1 + np.exp(-x.sum())), rtol=1e-6)
