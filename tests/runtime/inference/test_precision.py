"""``precision="float64"``: data whose differences float32 cannot hold (readings near 10⁸, one apart, where float32's
spacing is 8) give the closed-form posterior in double precision; float32 stays the default."""

import numpy as np
import pytest

import ainative

BACKENDS = ["pyro", "numpyro"]
CELL = "y ∈ ℝ^N\nμ ~ Normal(100000000, 10)\ny ~ Normal(μ, 1)"


def readings() -> np.ndarray:
    return 1e8 + 3.0 + np.random.default_rng(0).normal(size=20)


def closed_form(y: np.ndarray) -> tuple[float, float]:
    """The normal-normal posterior of μ: prior 𝒩(10⁸, 10²), known noise 1."""
    precision = 1 / 10**2 + len(y)
    return (1e8 / 10**2 + y.sum()) / precision, precision ** -0.5


@pytest.mark.parametrize("backend", BACKENDS)
def test_float64_gives_the_closed_form_posterior(backend):
    y = readings()
    m = ainative.model(CELL, header=f"level(y) --backend {backend}")
    posterior = m.fit({"y": y}, num_warmup=300, num_samples=300, num_chains=2, precision="float64", progress=False)
    draws = posterior.samples["mu"]
    mean, sd = closed_form(y)
    assert draws.dtype == np.float64 and posterior.precision == "float64"
    error = sd / np.sqrt(posterior.summary().loc["mu", "n_eff"])
    assert abs(draws.mean() - mean) < 5 * error, (draws.mean() - mean, error)
    assert draws.std() == pytest.approx(sd, rel=0.2)
    predicted = m.predict(posterior, N=20)["y"]
    assert predicted.dtype == np.float64 and abs(predicted.mean() - mean) < 0.2


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_stays_the_default_and_cannot_resolve_these_readings(backend):
    y = readings()
    m = ainative.model(CELL, header=f"level(y) --backend {backend}")
    posterior = m.fit({"y": y}, num_warmup=100, num_samples=100, num_chains=1, progress=False)
    assert posterior.samples["mu"].dtype == np.float32 and posterior.precision == "float32"
    assert np.unique(posterior.samples["mu"]).size < 20, "float32 held numbers 8 apart at 10⁸ more finely"


def test_float64_leaves_the_libraries_as_they_were():
    import jax.numpy as jnp
    import torch

    for backend in BACKENDS:
        m = ainative.model(CELL, header=f"level(y) --backend {backend}")
        m.fit({"y": readings()}, num_warmup=5, num_samples=5, num_chains=1, precision="float64", progress=False)
    assert torch.get_default_dtype() == torch.float32 and jnp.asarray(1.0).dtype == jnp.float32
