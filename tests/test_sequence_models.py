"""Sequence models written as their sources write them, end to end, against references nobody here wrote:
PyTorch's recurrent layers, hand-written loops and ``lax.scan``, and posteriors that recover the parameters
a series was simulated with."""

import jax
import jax.numpy as jnp
import numpy as np
import onnxruntime
import optax
import pytest
import torch
from scipy import stats

import ainative
from ainative.errors import ModelError
from tests.cells import GARCH, LSTM

RNG = np.random.default_rng(5)

ELMAN = """x ∈ ℝ^{T×D}
h ∈ ℝ^{T×H}
W ∈ ℝ^{H×H}
U ∈ ℝ^{H×D}
b ∈ ℝ^H
h_0 = 0
h_t = tanh(W h_{t-1} + U x_t + b)  for t in 1..T"""

GRU = """x ∈ ℝ^{T×D}
h ∈ ℝ^{T×H}
W_r, W_z, W_n ∈ ℝ^{H×D}
U_r, U_z, U_n ∈ ℝ^{H×H}
b_r, b_z, b_n, c_n ∈ ℝ^H
h_0 = 0
r_t = σ(W_r x_t + U_r h_{t-1} + b_r)  for t in 1..T
z_t = σ(W_z x_t + U_z h_{t-1} + b_z)  for t in 1..T
n_t = tanh(W_n x_t + b_n + r_t ⊙ (U_n h_{t-1} + c_n))  for t in 1..T
h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}  for t in 1..T"""


def _weights(params: dict, *names: str) -> torch.Tensor:
    return torch.cat([torch.tensor(np.asarray(params[n])) for n in names])


def _check_onnx(model, params, tmp_path, torch_layer, name):
    """The exported graph matches JAX (the export's own check) and PyTorch, at two sequence lengths."""
    for steps in (4, 9):
        path = tmp_path / f"{name}{steps}.onnx"
        report = model.export_onnx(path, params, T=steps)
        assert report.max_abs_error < 1e-5 and report.random_max_abs_error < 1e-4
        x = RNG.normal(size=(3, steps, 3)).astype(np.float32)
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        expected = torch_layer(torch.tensor(x))[0].detach().numpy()
        np.testing.assert_allclose(session.run(None, {"x": x})[0], expected, rtol=1e-4, atol=1e-5)


def test_an_elman_network_is_pytorchs_rnn_and_a_hand_written_scan(tmp_path):
    model = ainative.model(ELMAN, header="rnn(x) -> h")
    params = model.init(0, D=3, H=5)
    x = RNG.normal(size=(4, 7, 3)).astype(np.float32)
    layer = torch.nn.RNN(3, 5, batch_first=True)
    with torch.no_grad():
        layer.weight_ih_l0.copy_(_weights(params, "U"))
        layer.weight_hh_l0.copy_(_weights(params, "W"))
        layer.bias_ih_l0.copy_(_weights(params, "b"))
        layer.bias_hh_l0.zero_()
    ours = np.asarray(model(params, x=x))
    np.testing.assert_allclose(ours, layer(torch.tensor(x))[0].detach().numpy(), rtol=1e-5, atol=1e-6)

    def scanned(xs):
        def step(h, x_t):
            h = jnp.tanh(params["W"] @ h + params["U"] @ x_t + params["b"])
            return h, h
        return jax.lax.scan(step, jnp.zeros(5), xs)[1]

    np.testing.assert_allclose(ours, np.asarray(jax.vmap(scanned)(x)), rtol=1e-6, atol=1e-6)
    assert "lax.scan" in model.source("jax") and "for _t in range" in ainative.model(
        ELMAN + "\nq ~ Normal(Σ h, 1)", header="g(x, W, U, b) --backend pyro").source()
    _check_onnx(model, params, tmp_path, layer, "rnn")


def test_an_lstm_is_pytorchs_lstm(tmp_path):
    model = ainative.model(LSTM, header="lstm(x) -> h")
    params = model.init(0, D=3, H=4)
    layer = torch.nn.LSTM(3, 4, batch_first=True)
    with torch.no_grad():  # PyTorch stacks its gates' rows as input, forget, cell, output
        layer.weight_ih_l0.copy_(_weights(params, "W_i", "W_f", "W_g", "W_o"))
        layer.weight_hh_l0.copy_(_weights(params, "U_i", "U_f", "U_g", "U_o"))
        layer.bias_ih_l0.copy_(_weights(params, "b_i", "b_f", "b_g", "b_o"))
        layer.bias_hh_l0.zero_()
    x = RNG.normal(size=(2, 6, 3)).astype(np.float32)
    expected = layer(torch.tensor(x))[0].detach().numpy()
    np.testing.assert_allclose(np.asarray(model(params, x=x)), expected, rtol=1e-5, atol=1e-6)
    _check_onnx(model, params, tmp_path, layer, "lstm")


def test_a_gru_is_pytorchs_gru(tmp_path):
    model = ainative.model(GRU, header="gru(x) -> h")
    params = {k: np.asarray(v) for k, v in model.init(0, D=3, H=4).items()}
    params["c_n"] = RNG.normal(size=4).astype(np.float32)
    layer = torch.nn.GRU(3, 4, batch_first=True)
    with torch.no_grad():  # PyTorch adds two biases to its reset and update gates, and keeps the new gate's apart
        layer.weight_ih_l0.copy_(_weights(params, "W_r", "W_z", "W_n"))
        layer.weight_hh_l0.copy_(_weights(params, "U_r", "U_z", "U_n"))
        layer.bias_ih_l0.copy_(_weights(params, "b_r", "b_z", "b_n"))
        layer.bias_hh_l0.copy_(torch.cat([torch.zeros(8), torch.tensor(params["c_n"])]))
    x = RNG.normal(size=(2, 6, 3)).astype(np.float32)
    expected = layer(torch.tensor(x))[0].detach().numpy()
    np.testing.assert_allclose(np.asarray(model(params, x=x)), expected, rtol=1e-5, atol=1e-6)
    _check_onnx(model, params, tmp_path, layer, "gru")


def test_a_first_row_read_by_another_is_one_variable_even_under_a_keyword_name():
    """λ is Python's ``lambda``: its first row and the first row that reads it name one variable."""
    body = ("x ∈ ℝ^T\nλ_1 = x_1\nν_1 = λ_1 + 1\nλ_t = 0.5 λ_{t-1} + ν_{t-1}  for t in 2..T\n"
            "ν_t = x_t + λ_t  for t in 2..T")
    x = RNG.normal(size=5).astype(np.float32)
    lam, nu = [x[0]], [x[0] + 1]
    for t in range(1, 5):
        lam.append(0.5 * lam[-1] + nu[-1])
        nu.append(x[t] + lam[-1])
    np.testing.assert_allclose(np.asarray(ainative.model(body, header="f(x) -> ν")({}, x=x)), nu, rtol=1e-5)


def test_an_rnn_learns_a_sequence_task_and_stays_a_hand_written_scan():
    """The network learns the mean of a sequence from its last state; the trained weights give the same
    numbers as the hand-written scan."""
    forecaster = ELMAN.replace("h_0", "V ∈ ℝ^H\nh_0") + "\ny = Vᵀ h_T + d\nL = (y - s)²"
    model = ainative.model(forecaster, header="rnn(x, s) -> y, L")
    x = RNG.uniform(-1, 1, size=(256, 8, 1)).astype(np.float32)
    s = x.mean(axis=(1, 2))
    params = model.init(0, D=1, H=8)
    before = float(np.mean(model(params, x=x, s=s)["L"]))
    result = model.fit(params, {"x": x, "s": s}, loss="L", steps=400, optimizer=optax.adam(0.02), progress=False)
    after = float(np.mean(model(result.params, x=x, s=s)["L"]))
    assert after < 0.1 * before and after < 0.01
    p = result.params

    def scanned(xs):
        def step(h, x_t):
            h = jnp.tanh(p["W"] @ h + p["U"] @ x_t + p["b"])
            return h, h
        return p["V"] @ jax.lax.scan(step, jnp.zeros(8), xs)[0] + p["d"]

    np.testing.assert_allclose(np.asarray(model(p, x=x, s=s)["y"]), np.asarray(jax.vmap(scanned)(x)),
                               rtol=1e-5, atol=1e-6)


def _simulate_garch(steps: int, mu=0.2, omega=0.1, alpha=0.2, beta=0.7, seed=1):
    rng = np.random.default_rng(seed)
    v, r = np.empty(steps), np.empty(steps)
    v[0] = 0.5
    r[0] = mu + np.sqrt(v[0]) * rng.normal()
    for t in range(1, steps):
        v[t] = omega + alpha * (r[t - 1] - mu) ** 2 + beta * v[t - 1]
        r[t] = mu + np.sqrt(v[t]) * rng.normal()
    return r.astype(np.float32), v


@pytest.mark.parametrize("backend", ["pyro", "numpyro"])
def test_garch_conditional_variances_and_log_density_are_a_hand_written_loop(backend):
    r, _ = _simulate_garch(60)
    values = {"mu": 0.1, "omega": 0.2, "alpha": 0.3, "beta": 0.5}
    v = np.empty(60)
    v[0] = 0.5
    for t in range(1, 60):
        v[t] = values["omega"] + values["alpha"] * (r[t - 1] - values["mu"]) ** 2 + values["beta"] * v[t - 1]
    model = ainative.model(GARCH, header=f"garch(r) --backend {backend}")
    program = model.program
    if backend == "pyro":
        import pyro

        conditioned = pyro.poutine.condition(program, data={k: torch.tensor(x) for k, x in values.items()})
        trace = pyro.poutine.trace(conditioned).get_trace(torch.tensor(r))
        variances, observed = trace.nodes["v"]["value"].numpy(), float(trace.nodes["r"]["fn"].log_prob(
            trace.nodes["r"]["value"]).sum())
    else:
        import numpyro

        conditioned = numpyro.handlers.condition(program, data={k: jnp.asarray(x) for k, x in values.items()})
        trace = numpyro.handlers.trace(numpyro.handlers.seed(conditioned, 0)).get_trace(jnp.asarray(r))
        variances = np.asarray(trace["v"]["value"])
        observed = float(trace["r"]["fn"].log_prob(trace["r"]["value"]).sum())
    np.testing.assert_allclose(variances, v, rtol=1e-5)
    assert observed == pytest.approx(stats.norm(values["mu"], np.sqrt(v)).logpdf(r).sum(), rel=1e-5)


def test_garch_posterior_recovers_the_parameters_of_a_simulated_series():
    r, _ = _simulate_garch(1000)
    model = ainative.model(GARCH, header="garch(r) --backend numpyro")
    posterior = model.fit({"r": r}, num_chains=1, num_warmup=400, num_samples=400, seed=0, progress=False)
    truth = {"mu": 0.2, "omega": 0.1, "alpha": 0.2, "beta": 0.7}
    for name, value in truth.items():
        draws = posterior.samples[name].ravel()
        assert abs(draws.mean() - value) < 4 * draws.std() + 0.02, (name, draws.mean(), draws.std())
    assert "lax.scan" in model.source()


def test_drawing_a_series_the_model_reads_is_refused_in_words():
    model = ainative.model(GARCH, header="garch(r) --backend numpyro")
    with pytest.raises(ModelError, match=r"r is read by the model .* sample_prior and predict refuse it"):
        model.sample_prior(2, T=10)


AR2 = """y ∈ ℝ^T
α ~ 𝒩(0, 1)
β₁ ~ 𝒩(0, 1)
β₂ ~ 𝒩(0, 1)
σ ~ HalfNormal(1)
y_t ~ 𝒩(α + β₁ y_{t-1} + β₂ y_{t-2}, σ)  for t in 3..T"""


@pytest.mark.parametrize("backend", ["pyro", "numpyro"])
def test_an_autoregression_observes_its_series_from_its_third_entry_and_recovers_its_coefficients(backend):
    rng = np.random.default_rng(3)
    y = np.zeros(400)
    for t in range(2, 400):
        y[t] = 0.3 + 0.5 * y[t - 1] - 0.3 * y[t - 2] + 0.5 * rng.normal()
    model = ainative.model(AR2, header=f"ar2(y) --backend {backend}")
    posterior = model.fit({"y": y.astype(np.float32)}, num_chains=1, num_warmup=200, num_samples=200, seed=1,
                          progress=False)
    for name, value in {"alpha": 0.3, "beta_1": 0.5, "beta_2": -0.3, "sigma": 0.5}.items():
        draws = posterior.samples[name].ravel()
        assert abs(draws.mean() - value) < 4 * draws.std() + 0.01, (name, draws.mean(), draws.std())


ARMA = """y ∈ ℝ^T
μ ~ 𝒩(0, 10)
φ ~ 𝒩(0, 2)
θ ~ 𝒩(0, 2)
σ ~ HalfCauchy(2.5)
ν_1 = μ + φ μ
ε_1 = y_1 - ν_1
ν_t = μ + φ y_{t-1} + θ ε_{t-1}  for t in 2..T
ε_t = y_t - ν_t  for t in 2..T
y ~ 𝒩(ν, σ)"""


def test_an_arma_model_recovers_its_coefficients_through_its_error_recurrence():
    rng = np.random.default_rng(4)
    mu, phi, theta, sigma = 0.5, 0.6, 0.3, 0.4
    y, error = np.zeros(600), np.zeros(600)
    y[0] = mu + phi * mu + sigma * rng.normal()
    error[0] = y[0] - (mu + phi * mu)
    for t in range(1, 600):
        mean = mu + phi * y[t - 1] + theta * error[t - 1]
        y[t] = mean + sigma * rng.normal()
        error[t] = y[t] - mean
    model = ainative.model(ARMA, header="arma(y) --backend numpyro")
    posterior = model.fit({"y": y.astype(np.float32)}, num_chains=1, num_warmup=300, num_samples=300, seed=2,
                          progress=False)
    for name, value in {"mu": mu, "phi": phi, "theta": theta, "sigma": sigma}.items():
        draws = posterior.samples[name].ravel()
        assert abs(draws.mean() - value) < 4 * draws.std() + 0.01, (name, draws.mean(), draws.std())
    errors, means = (posterior.samples[n].reshape(-1, 600).mean(axis=0) for n in ("epsilon", "nu"))
    np.testing.assert_allclose(errors, y - means, rtol=1e-4, atol=1e-4)


HMM = """y ∈ ℝ^T
K = 2
m ~ 𝒩(0, 5)
d ~ HalfNormal(3)
σ ~ HalfNormal(2)
s_k ~ Beta(2, 2)  for k in 1..K
μ_k = m + (k - 1) d  for k in 1..K
L_{j,k} = log(δ_{jk} s_j + (1 - δ_{jk}) (1 - s_j))  for j in 1..K, k in 1..K
e_{t,k} = -(y_t - μ_k)² / (2σ²) - log(σ) - log(2π) / 2
a_1 = e_1 - log(K)
a_{t,k} = logsumexp_j(a_{t-1,j} + L_{j,k}) + e_{t,k}  for t in 2..T, k in 1..K
target += logsumexp_k a_{T,k}"""


def _simulate_hmm(steps: int, means=(-1.0, 2.0), stay=(0.9, 0.8), scale=0.7, seed=6):
    rng = np.random.default_rng(seed)
    state, y = 0, np.empty(steps)
    for t in range(steps):
        if t and rng.uniform() >= stay[state]:
            state = 1 - state
        y[t] = means[state] + scale * rng.normal()
    return y.astype(np.float32)


def _forward(y, means, stay, scale) -> float:
    """The marginal log-likelihood of a 2-state Gaussian HMM (uniform start), by the forward algorithm in NumPy."""
    transition = np.array([[stay[0], 1 - stay[0]], [1 - stay[1], stay[1]]])
    emission = stats.norm(np.asarray(means)[None, :], scale).pdf(np.asarray(y, np.float64)[:, None])
    alpha = 0.5 * emission[0]
    total = np.log(alpha.sum())
    alpha /= alpha.sum()
    for t in range(1, len(y)):
        alpha = (alpha @ transition) * emission[t]
        total += np.log(alpha.sum())
        alpha /= alpha.sum()
    return total


@pytest.mark.parametrize("backend", ["pyro", "numpyro"])
def test_an_hmms_forward_recurrence_gives_the_marginal_likelihood_of_a_hand_written_forward_algorithm(backend):
    y = _simulate_hmm(50)
    values = {"m": -0.5, "d": 2.0, "sigma": 0.8, "s": [0.7, 0.6]}
    expected = _forward(y, (-0.5, 1.5), (0.7, 0.6), 0.8)
    program = ainative.model(HMM, header=f"hmm(y) --backend {backend}").program
    if backend == "pyro":
        import pyro

        conditioned = pyro.poutine.condition(program, data={k: torch.tensor(x) for k, x in values.items()})
        site = pyro.poutine.trace(conditioned).get_trace(torch.tensor(y)).nodes["_target_1"]
        value = float(site["fn"].log_prob(site["value"]))
    else:
        import numpyro

        conditioned = numpyro.handlers.condition(program, data={k: jnp.asarray(x) for k, x in values.items()})
        site = numpyro.handlers.trace(numpyro.handlers.seed(conditioned, 0)).get_trace(jnp.asarray(y))["_target_1"]
        value = float(site["fn"].log_prob(site["value"]))
    assert value == pytest.approx(expected, rel=1e-5)


def test_an_hmm_marginalised_by_its_forward_recurrence_recovers_its_parameters():
    y = _simulate_hmm(200)
    model = ainative.model(HMM, header="hmm(y) --backend numpyro")
    posterior = model.fit({"y": y}, num_chains=1, num_warmup=250, num_samples=250, seed=3, progress=False)
    for name, value in {"m": -1.0, "d": 3.0, "sigma": 0.7}.items():
        draws = posterior.samples[name].ravel()
        assert abs(draws.mean() - value) < 4 * draws.std() + 0.02, (name, draws.mean(), draws.std())
    stays = posterior.samples["s"].reshape(-1, 2)
    assert np.all(np.abs(stays.mean(axis=0) - [0.9, 0.8]) < 4 * stays.std(axis=0) + 0.02)


@pytest.mark.parametrize("form", ["elman network", "volatility", "second order", "forward algorithm"])
def test_each_form_of_recurrence_exports_an_onnx_scan_that_matches_jax(tmp_path, form):
    from tests.frontend.test_recurrences import SPELLINGS

    header, body = SPELLINGS[form][:2]
    model = ainative.model(body, header=header)
    dims = {"elman network": {"D": 3, "H": 4}, "forward algorithm": {"K": 3}}.get(form, {})
    params = {k: (np.abs(RNG.normal(size=np.shape(v))) * 0.3 + 0.1).astype(np.float32)
              for k, v in model.init(0, **dims).items()}
    report = model.export_onnx(tmp_path / "m.onnx", params, T=6, **({"D": 3} if "D" in dims else {}))
    assert report.max_abs_error < 1e-4 and report.random_max_abs_error < 1e-4
    import onnx

    assert "Scan" in {node.op_type for node in onnx.load(tmp_path / "m.onnx").graph.node}
