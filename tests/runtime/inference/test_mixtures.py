"""Mixtures end to end: a Categorical latent that picks a component (summed out by NUTS, then drawn from its
posterior), and its posterior class probabilities against a hand computation."""

import numpy as np
import pytest
import scipy.stats

import ainative
from tests.frontend.test_discrete import GMM

BACKENDS = ["pyro", "numpyro"]
BOUNDS = {"lo": np.array([-5.0, 0.0]), "hi": np.array([0.0, 5.0])}


def simulated(seed=0, n=60):
    """Two well-separated components (-2 and 2, sd 0.7), and three points between them whose class is uncertain."""
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, n)
    y = np.where(z == 0, -2.0, 2.0) + 0.7 * rng.standard_normal(n)
    return np.concatenate([y, [-0.3, 0.0, 0.4]]).astype(np.float32), np.array([-2.0, 2.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_gaussian_mixture_recovers_its_components_and_class_probabilities(backend):
    y, truth = simulated()
    model = ainative.model(GMM, header=f"gmm(lo, hi, a, y) --backend {backend}")
    # the components are told apart by their priors (μ₁ below 0, μ₂ above), so their labels cannot switch
    posterior = model.fit({**BOUNDS, "a": np.ones(2), "y": y}, num_warmup=150, num_samples=200,
                          seed=1, progress=False)
    draws = posterior.samples
    mu, sd = draws["mu"].mean(0), draws["mu"].std(0)
    # the simulation's means lie within a few posterior sds of the posterior mean
    assert np.all(np.abs(mu - truth) < 4 * sd), (mu, sd)
    probabilities = posterior.class_probabilities("z")
    assert probabilities.shape == (len(y), 2)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0)
    # P(z_i = k | y) by hand: θ_k N(y_i; μ_k, σ) normalised, per draw and averaged, and at the posterior means
    def by_hand(theta, mu, sigma, points):
        weighted = theta[..., None, :] * scipy.stats.norm.pdf(points[:, None], mu[..., None, :], sigma[..., None, None])
        return weighted / weighted.sum(-1, keepdims=True)

    points = y[-3:]
    reported = probabilities[-3:]
    count = len(draws["sigma"])
    error = np.sqrt(np.maximum(reported * (1 - reported), 0.02) / count)
    averaged = by_hand(draws["theta"], draws["mu"], draws["sigma"], points).mean(0)
    np.testing.assert_array_less(np.abs(reported - averaged), 4 * error)
    at_means = by_hand(draws["theta"].mean(0), mu, np.asarray(draws["sigma"].mean()), points)
    np.testing.assert_array_less(np.abs(reported - at_means), 4 * error + 0.05)
    assert 0.05 < reported[1, 0] < 0.95
    # the points far from the boundary are certain
    far = np.abs(y[:-3]) > 1.5
    assert np.all(np.abs(probabilities[:-3][far] - (y[:-3][far, None] > 0) * [0, 1] - (y[:-3][far, None] < 0)
                         * [1, 0]) < 0.05)


def test_class_probabilities_of_a_variable_that_is_no_label_are_an_error():
    y, _ = simulated(n=10)
    model = ainative.model(GMM, header="gmm(lo, hi, a, y) --backend numpyro")
    posterior = model.fit({**BOUNDS, "a": np.ones(2), "y": y}, num_warmup=5, num_samples=5,
                          progress=False)
    with pytest.raises(ainative.ModelError, match=r"mu is not a class-label latent of gmm \(those it has: z\)"):
        posterior.class_probabilities("mu")
