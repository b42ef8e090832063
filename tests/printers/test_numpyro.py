import jax
import jax.numpy as jnp
import numpy as np
from numpyro import handlers

import ainative
from tests.cells import EIGHT_SCHOOLS, REGRESSION


def test_same_program_as_pyro_on_jax():
    m = ainative.model(REGRESSION, header="regression(X, y) --backend numpyro")
    source = m.source()
    assert source == m.source("numpyro")
    body = source.replace("numpyro", "pyro").split("\n\n\n", 1)[1]
    assert body == m.source("pyro").split("\n\n\n", 1)[1]


def test_numpyro_trace_matches_the_math():
    m = ainative.model(EIGHT_SCHOOLS, header="eight_schools(σ, y) --backend numpyro")
    sigma = jnp.array([15.0, 10, 16, 11, 9, 11, 10, 18])
    trace = handlers.trace(handlers.seed(m.program, jax.random.key(0))).get_trace(sigma)
    assert trace["eta"]["value"].shape == (8,)
    np.testing.assert_allclose(trace["theta"]["value"],
                               trace["mu"]["value"] + trace["tau"]["value"] * trace["eta"]["value"], rtol=1e-6)


def test_imports_are_the_modules_of_what_was_printed():
    m = ainative.model("x ∈ ℝ^3\nw ~ Normal(0, 1); w ∈ ℝ^3\ny ~ Normal(logsumexp(w ⊙ x), 1)", header="f(x, y)")
    imports = m.source("numpyro").split("\n\n\n")[0].splitlines()
    assert imports == ["import jax.scipy.special as _jss", "import numpyro as _numpyro",
                       "import numpyro.distributions as _dist"]
    pyro_imports = m.source("pyro").split("\n\n\n")[0].splitlines()
    assert pyro_imports == ["import pyro as _pyro", "import pyro.distributions as _dist", "import torch as _torch"]
