import numpy as np
import pyro
import pytest
import torch

import ainative
from tests.cells import EIGHT_SCHOOLS, REGRESSION
from tests.processes import load_file


def test_regression_source(tmp_path):
    source = ainative.model(REGRESSION, header="regression(X, y)").source("pyro")
    assert "def regression(X, y=None):" in source
    assert "N = X.shape[0]" in source and "K = X.shape[1]" in source
    assert 'beta = _pyro.sample("beta", _dist.Normal(0.0, 1.0).expand([K]).to_event(1))' in source
    assert 'with _plate_N:\n        y = _pyro.sample("y", _dist.Normal(alpha + X @ beta, sigma), obs=y)' in source


def test_regression_runs_on_its_own_observed_and_sampled(tmp_path):
    model = load_file(ainative.model(REGRESSION, header="regression(X, y)").source("pyro"), "regression", tmp_path)
    X, y = torch.randn(20, 3), torch.randn(20)
    trace = pyro.poutine.trace(model).get_trace(X, y)
    assert trace.nodes["y"]["is_observed"] and torch.equal(trace.nodes["y"]["value"], y)
    assert trace.nodes["beta"]["fn"].event_shape == (3,)
    sampled = pyro.poutine.trace(model).get_trace(X)
    assert not sampled.nodes["y"]["is_observed"] and sampled.nodes["y"]["value"].shape == (20,)
    expected = (torch.distributions.Normal(0.0, 10.0).log_prob(trace.nodes["alpha"]["value"])
                + torch.distributions.Normal(0.0, 1.0).log_prob(trace.nodes["beta"]["value"]).sum()
                + torch.distributions.HalfNormal(1.0).log_prob(trace.nodes["sigma"]["value"])
                + torch.distributions.Normal(trace.nodes["alpha"]["value"] + X @ trace.nodes["beta"]["value"],
                                             trace.nodes["sigma"]["value"]).log_prob(y).sum())
    assert float(trace.log_prob_sum()) == pytest.approx(float(expected), rel=1e-5)


def test_plates_and_deterministic_sites(tmp_path):
    source = ainative.model(EIGHT_SCHOOLS, header="eight_schools(σ, y)").source("pyro")
    assert '_plate_j = _pyro.plate("j", J)' in source
    assert 'theta = _pyro.deterministic("theta", mu + tau*eta)' in source
    model = load_file(source, "eight_schools", tmp_path)
    sigma = torch.tensor([15.0, 10, 16, 11, 9, 11, 10, 18])
    trace = pyro.poutine.trace(model).get_trace(sigma)
    assert trace.nodes["eta"]["value"].shape == (8,) and trace.nodes["y"]["value"].shape == (8,)
    mu, tau, eta = (trace.nodes[k]["value"] for k in ("mu", "tau", "eta"))
    torch.testing.assert_close(trace.nodes["theta"]["value"], mu + tau * eta)
    assert trace.nodes["j"]["type"] == "plate" or any(f.name == "j" for f in trace.nodes["y"]["cond_indep_stack"])


def test_dimension_known_only_from_an_observed_input_is_a_keyword(tmp_path):
    m = ainative.model("y ∈ ℝ^N\nμ ~ Normal(0, 1)\ny ~ Normal(μ, 1)", header="f(y)")
    source = m.source("pyro")
    assert "def f(y=None, *, N=None):" in source and "if y is not None:\n        N = y.shape[0]" in source
    draws = m.sample_prior(5, N=4)
    assert draws["y"].shape == (5, 4)


def test_torch_expressions():
    # q reads a latent (s), so it is a site of each draw (one that read only x would be data, no site)
    m = ainative.model("x ∈ ℝ^K\nw ~ Normal(0, 1); w ∈ ℝ^K\ns ~ HalfNormal(1)\np = softmax(w ⊙ x)\n"
                       "q = max(x, 0.5) s\ny ~ Normal(logsumexp(p) + Σ q, 1)", header="f(x, y)")
    source = m.source("pyro")
    assert "_torch.softmax(w*x, -1)" in source and "_torch.maximum(x, _torch.as_tensor(0.5))" in source
    draws = m.sample_prior(3, x=np.arange(3.0))
    np.testing.assert_allclose(draws["q"][0], np.array([0.5, 1.0, 2.0]) * draws["s"][0], rtol=1e-6)
