"""Hidden Markov models written as a chain of labels, end to end: the generated log density against every path
enumerated, NUTS recovering the parameters, and the labels' posterior against forward-backward by hand."""

import itertools

import numpy as np
import pytest
import scipy.stats

import ainative
from ainative.errors import ModelError
from tests.cells import HMM

HEADER = "hmm(y, a, lo, hi)"
#: the states' means are told apart by their priors (μ₁ below 0, μ₂ above), so their labels cannot switch
PRIORS = {"a": np.ones(2, np.float32), "lo": np.array([-5.0, 0.0], np.float32),
          "hi": np.array([0.0, 5.0], np.float32)}


def simulated(steps: int, seed: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """A 2-state Gaussian HMM: means -1 and 2, sd 0.7, staying with probability 0.9 and 0.8."""
    rng = np.random.default_rng(seed)
    state, states, y = 0, np.empty(steps, int), np.empty(steps)
    for t in range(steps):
        if t and rng.uniform() >= (0.9, 0.8)[state]:
            state = 1 - state
        states[t], y[t] = state, (-1.0, 2.0)[state] + 0.7 * rng.normal()
    return y.astype(np.float32), states


def log_evidence_by_paths(y, rho, theta, mu, sigma) -> float:
    """log p(y) as the sum over every path of labels of p(z) p(y | z): no forward algorithm."""
    steps = len(y)
    paths = np.array(list(itertools.product(range(len(rho)), repeat=steps)))
    log = np.log(rho)[paths[:, 0]] + np.log(theta)[paths[:, :-1], paths[:, 1:]].sum(-1)
    log += scipy.stats.norm.logpdf(np.asarray(y, np.float64), np.asarray(mu)[paths], sigma).sum(-1)
    return float(np.logaddexp.reduce(log))


def smoothed(y, rho, theta, mu, sigma) -> np.ndarray:
    """P(z_t = k | y, parameters) for each draw of the parameters (leading axis): forward-backward in NumPy."""
    emission = scipy.stats.norm.pdf(np.asarray(y, np.float64)[None, :, None], mu[:, None, :], sigma[:, None, None])
    draws, steps, classes = emission.shape
    alpha, beta = np.empty((draws, steps, classes)), np.ones((draws, steps, classes))
    alpha[:, 0] = rho * emission[:, 0]
    alpha[:, 0] /= alpha[:, 0].sum(-1, keepdims=True)
    for t in range(1, steps):
        alpha[:, t] = np.einsum("dj,djk->dk", alpha[:, t - 1], theta) * emission[:, t]
        alpha[:, t] /= alpha[:, t].sum(-1, keepdims=True)
    for t in range(steps - 2, -1, -1):
        beta[:, t] = np.einsum("djk,dk->dj", theta, emission[:, t + 1] * beta[:, t + 1])
        beta[:, t] /= beta[:, t].sum(-1, keepdims=True)
    posterior = alpha * beta
    return posterior / posterior.sum(-1, keepdims=True)


@pytest.mark.parametrize("backend", ["pyro", "numpyro"])
def test_the_generated_log_density_sums_every_path_of_the_chain(backend):
    y = simulated(7)[0]
    values = {"rho": np.array([0.7, 0.3]), "Theta": np.array([[0.85, 0.15], [0.25, 0.75]]),
              "mu": np.array([-0.5, 1.5]), "sigma": np.array(0.8)}
    expected = log_evidence_by_paths(y, *values.values())
    program = ainative.model(HMM, header=f"{HEADER} --backend {backend}").program
    if backend == "pyro":
        import pyro
        import torch

        conditioned = pyro.poutine.condition(program, data={k: torch.tensor(v, dtype=torch.float32)
                                                            for k, v in values.items()})
        trace = pyro.poutine.trace(conditioned).get_trace(torch.tensor(y), *(torch.tensor(PRIORS[k]) for k in
                                                                             ("a", "lo", "hi"))).nodes
    else:
        import jax.numpy as jnp
        import numpyro

        conditioned = numpyro.handlers.condition(program, data={k: jnp.asarray(v, jnp.float32)
                                                                for k, v in values.items()})
        trace = numpyro.handlers.trace(numpyro.handlers.seed(conditioned, 0)).get_trace(
            jnp.asarray(y), *(jnp.asarray(PRIORS[k]) for k in ("a", "lo", "hi")))
    site = trace["_z_evidence"]
    assert float(site["fn"].log_prob(site["value"])) == pytest.approx(expected, rel=1e-5)
    assert "z" not in trace


def _check_labels(posterior, y, states):
    """The labels' posterior is forward-backward's, averaged over the parameter draws, within Monte-Carlo error;
    the labels themselves are those simulated wherever the posterior is sure."""
    draws = posterior.samples
    assert draws["z"].shape == (posterior.num_draws, len(y)) and set(np.unique(draws["z"])) <= {0, 1}
    reported = posterior.class_probabilities("z")
    expected = smoothed(y, draws["rho"], draws["Theta"], draws["mu"], draws["sigma"]).mean(0)
    error = np.sqrt(np.maximum(expected * (1 - expected), 0.01) / posterior.num_draws)
    np.testing.assert_array_less(np.abs(reported - expected), 5 * error)
    sure = expected.max(-1) > 0.99
    assert sure.mean() > 0.5 and np.all(reported[sure].argmax(-1) == states[sure])


def test_nuts_on_numpyro_recovers_an_hmms_parameters_and_the_posterior_of_its_labels():
    y, states = simulated(200)
    model = ainative.model(HMM, header=f"{HEADER} --backend numpyro")
    posterior = model.fit({"y": y, **PRIORS}, num_chains=1, num_warmup=300, num_samples=300, seed=3, progress=False)
    draws = posterior.samples
    for name, value in {"mu": [-1.0, 2.0], "sigma": 0.7}.items():
        mean, sd = draws[name].mean(0), draws[name].std(0)
        assert np.all(np.abs(mean - value) < 4 * sd + 0.02), (name, mean, sd)
    stays = np.diagonal(draws["Theta"], axis1=1, axis2=2)
    assert np.all(np.abs(stays.mean(0) - [0.9, 0.8]) < 4 * stays.std(0) + 0.02)
    _check_labels(posterior, y, states)


def test_nuts_on_pyro_gives_the_labels_their_posterior():
    y, states = simulated(40, seed=2)
    model = ainative.model(HMM, header=f"{HEADER} --backend pyro")
    posterior = model.fit({"y": y, **PRIORS}, num_chains=1, num_warmup=100, num_samples=150, seed=0, progress=False)
    _check_labels(posterior, y, states)


def test_svi_draws_the_labels_from_the_guides_draws():
    y, states = simulated(60, seed=4)
    model = ainative.model(HMM, header=f"{HEADER} --backend numpyro")
    posterior = model.fit({"y": y, **PRIORS}, method="svi", steps=1500, lr=0.05, num_samples=300, seed=0,
                          progress=False)
    _check_labels(posterior, y, states)


def test_a_chain_is_fitted_but_its_observations_are_not_drawn():
    y = simulated(10)[0]
    model = ainative.model(HMM, header=f"{HEADER} --backend numpyro")
    with pytest.raises(ModelError, match=r"z is a hidden chain .* sample_prior and predict refuse it"):
        model.sample_prior(5, **PRIORS, T=10)
    posterior = model.fit({"y": y, **PRIORS}, num_chains=1, num_warmup=20, num_samples=20, seed=0, progress=False)
    with pytest.raises(ModelError, match="z is a hidden chain"):
        model.predict(posterior, **PRIORS, T=10)
