"""Every model name is one Python name and no other: NFKC spellings, keywords, the generated code's own names."""

import keyword

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ainative
from ainative.printers.names import ALIASES, python_name

MODEL_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,5}(_[A-Za-z0-9]{1,3}){0,2}", fullmatch=True) | st.sampled_from(
    [*keyword.kwlist, "params", "jax", "jnp", "torch", "pyro", "dist", "numpyro", "plate_j", "each_y", "t0"])


@given(st.sets(MODEL_NAMES, min_size=2, max_size=12))
def test_names_map_one_to_one_and_never_onto_the_codes_own(names):
    identifiers = [python_name(n) for n in names]
    assert len(set(identifiers)) == len(names)
    assert all(i.isidentifier() and not keyword.iskeyword(i) and i != "params" and not i.startswith("_")
               for i in identifiers)
    assert not set(identifiers) & set(ALIASES.values())


@pytest.mark.parametrize(("text", "expected"), [
    ("h = x + 1; ℎ = x * 3; y = h", "'ℎ' and 'h' are the same name to Python"),
    ("h = x + 1; ｈ = x * 3; y = h", "'ｈ' and 'h' are the same name"),
    ("h = x + 1; 𝐡 = x * 3; y = h", "'𝐡' and 'h' are the same name"),
    ("fi = x; ﬁ = 2 x; y = fi", "'ﬁ' and 'fi' are the same name"),
    ("x1 = x; y = x１", "'x１' and 'x1' are the same name"),
    ("xn = x; y = xⁿ", "'xⁿ' and 'xn' are the same name"),
    ("y = 𝑥 * x", "'𝑥' and 'x' are the same name"),
    ("y = ½ x", "'½' is not a name: Python reads it as '1⁄2'"),
])
def test_names_python_would_merge_or_cannot_hold_are_errors(text, expected):
    with pytest.raises(ainative.ModelSyntaxError, match=expected):
        ainative.model(text, header="f(x) -> y")


def test_combining_marks_make_different_names():
    m = ainative.model("à = 2\ná = 3\ny = à x + á", header="f(x) -> y")
    assert set(m.ir.constants) == {"à", "á"}
    np.testing.assert_allclose(m({}, x=np.float32(5.0)), 13.0)


@pytest.mark.parametrize("name", ["jax", "jnp", "torch", "pyro", "dist", "numpyro", "params", "plate_j", "each_y"])
def test_the_generated_codes_own_names_are_free_for_models(name):
    deterministic = ainative.model(f"{name} = 2 x\ny = {name} + x", header=f"{name}(x) -> y")
    np.testing.assert_allclose(deterministic({}, x=np.float32(4.0)), 12.0)
    probabilistic = f"x ∈ ℝ^N; y ∈ ℝ^N\n{name} ~ Normal(0, 1)\ny ~ Normal({name} * x, 1)"
    for backend in ("pyro", "numpyro"):
        m = ainative.model(probabilistic, header=f"g(x, y) --backend {backend}")
        draws = m.sample_prior(3, x=np.ones(2))
        assert draws[name].shape == (3,) and draws["y"].shape == (3, 2)


def test_keywords_and_greek_stay_apart():
    m = ainative.model("y = λ x + lambda_1", header="f(x) -> y")
    assert m.params == ("lambda", "lambda_1")
    np.testing.assert_allclose(m({"lambda": np.float32(3.0), "lambda_1": np.float32(1.0)}, x=np.float32(2.0)), 7.0)
