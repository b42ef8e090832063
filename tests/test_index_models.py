"""Models written with indices the way their sources write them, end to end, against references nobody here
wrote: PyTorch's own layers, and training that must learn a task."""

import numpy as np
import optax
import pytest
import torch

import ainative

RNG = np.random.default_rng(11)

TRANSFORMER = """E = 4
x ∈ ℝ^{T×D}
Wq, Wk, Wv ∈ ℝ^{H×E×D}
bq, bk, bv ∈ ℝ^{H×E}
Wo ∈ ℝ^{D×H×E}
W1 ∈ ℝ^{F×D}
W2 ∈ ℝ^{D×F}
μ_t = mean_d x_{t,d}
v_t = mean_d (x_{t,d} - μ_t)²
n_{t,d} = g_d (x_{t,d} - μ_t) / √(v_t + 0.00001) + β_d
q_{h,t,e} = Σ_d Wq_{h,e,d} n_{t,d} + bq_{h,e}
k_{h,t,e} = Σ_d Wk_{h,e,d} n_{t,d} + bk_{h,e}
u_{h,t,e} = Σ_d Wv_{h,e,d} n_{t,d} + bv_{h,e}
a_{h,t,s} = softmax_s(Σ_e q_{h,t,e} k_{h,s,e} / √E)
r_{t,d} = x_{t,d} + bo_d + Σ_h Σ_e Wo_{d,h,e} Σ_s a_{h,t,s} u_{h,s,e}
ρ_t = mean_d r_{t,d}
w_t = mean_d (r_{t,d} - ρ_t)²
m_{t,d} = γ_d (r_{t,d} - ρ_t) / √(w_t + 0.00001) + δ_d
f_{t,j} = relu(Σ_d W1_{j,d} m_{t,d} + c1_j)
z_{t,d} = r_{t,d} + Σ_j W2_{d,j} f_{t,j} + c2_d"""


def _torch_block(params: dict, heads: int) -> torch.nn.TransformerEncoderLayer:
    """PyTorch's pre-norm encoder layer holding the same weights (its q/k/v rows are head-major)."""
    D = params["W1"].shape[1]
    layer = torch.nn.TransformerEncoderLayer(D, heads, dim_feedforward=params["W1"].shape[0], dropout=0.0,
                                             batch_first=True, norm_first=True)
    t = {k: torch.tensor(np.asarray(v)) for k, v in params.items()}
    with torch.no_grad():
        layer.self_attn.in_proj_weight.copy_(torch.cat([t[n].reshape(D, D) for n in ("Wq", "Wk", "Wv")]))
        layer.self_attn.in_proj_bias.copy_(torch.cat([t[n].reshape(D) for n in ("bq", "bk", "bv")]))
        layer.self_attn.out_proj.weight.copy_(t["Wo"].reshape(D, D))
        layer.self_attn.out_proj.bias.copy_(t["bo"])
        for ours, theirs in (("g", layer.norm1.weight), ("beta", layer.norm1.bias), ("gamma", layer.norm2.weight),
                             ("delta", layer.norm2.bias), ("W1", layer.linear1.weight), ("c1", layer.linear1.bias),
                             ("W2", layer.linear2.weight), ("c2", layer.linear2.bias)):
            theirs.copy_(t[ours])
    return layer.eval()


def test_a_pre_norm_transformer_block_is_pytorchs_encoder_layer(tmp_path):
    model = ainative.model(TRANSFORMER, header="block(x) -> z")
    params = {k: np.asarray(v) * 0.5 for k, v in model.init(0, H=2, D=8, F=16).items()}
    x = RNG.normal(size=(3, 5, 8)).astype(np.float32)
    expected = _torch_block(params, heads=2)(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(np.asarray(model(params, x=x)), expected, rtol=1e-4, atol=1e-5)
    report = model.export_onnx(tmp_path / "block.onnx", params, T=5)
    assert report.max_abs_error < 1e-4 and report.random_max_abs_error < 1e-4


LENET = """X ∈ ℝ^{C×H×V}
W ∈ ℝ^{O×C×P×Q}
U ∈ ℝ^{K×O×S×S}
t ∈ ℝ^K
P = 3
Q = 3
S = 3
Z_{o,i,j} = relu(b_o + Σ_{c,p,q} W_{o,c,p,q} X_{c,i+p-1,j+q-1})  for o in 1..O, i in 1..H-P+1, j in 1..V-Q+1
M_{o,i,j} = max_{p=1..2} max_{q=1..2} Z_{o,2i+p-2,2j+q-2}  for o in 1..O, i in 1..S, j in 1..S
y_k = softmax_k(c_k + Σ_{o,i,j} U_{k,o,i,j} M_{o,i,j})
L = -Σ_k t_k log(y_k)"""


def _bars(count: int) -> tuple[np.ndarray, np.ndarray]:
    """8×8 images of one horizontal or one vertical bar in noise, and one-hot labels (0: horizontal)."""
    images = RNG.normal(scale=0.3, size=(count, 1, 8, 8)).astype(np.float32)
    labels = RNG.integers(0, 2, size=count)
    where = RNG.integers(1, 7, size=count)
    for n, (label, k) in enumerate(zip(labels, where)):
        if label == 0:
            images[n, 0, k, 1:7] += 1.5
        else:
            images[n, 0, 1:7, k] += 1.5
    return images, np.eye(2, dtype=np.float32)[labels]


def test_a_lenet_style_classifier_learns_bars_and_exports(tmp_path):
    model = ainative.model(LENET, header="lenet(X, t) -> y, L")
    X, t = _bars(256)
    params = model.init(0, C=1, H=8, V=8, O=4, K=2)
    pooled = model.ir.shape_of["M"]
    assert pooled == ("O", "S", "S") and model.dims["S"] == 3
    result = model.fit(params, {"X": X, "t": t}, loss="L", steps=150, optimizer=optax.adam(0.03), progress=False)
    test_X, test_t = _bars(200)
    predicted = np.asarray(model(result.params, X=test_X, t=test_t)["y"]).argmax(-1)
    assert (predicted == test_t.argmax(-1)).mean() > 0.9
    report = model.export_onnx(tmp_path / "lenet.onnx", result.params, H=8, V=8)
    assert report.max_abs_error < 1e-4


def test_the_lenet_layers_are_pytorchs_conv2d_and_max_pool():
    model = ainative.model(LENET, header="lenet(X, t) -> y, L")
    params = model.init(3, C=2, H=8, V=8, O=4, K=2)
    X = RNG.normal(size=(2, 2, 8, 8)).astype(np.float32)
    t = np.eye(2, dtype=np.float32)[[0, 1]]
    torch_params = {k: torch.tensor(np.asarray(v)) for k, v in params.items()}
    Z = torch.relu(torch.nn.functional.conv2d(torch.tensor(X), torch_params["W"], torch_params["b"]))
    M = torch.nn.functional.max_pool2d(Z, 2)
    logits = torch.einsum("koij,noij->nk", torch_params["U"], M) + torch_params["c"]
    expected = torch.softmax(logits, -1).numpy()
    np.testing.assert_allclose(np.asarray(model(params, X=X, t=t)["y"]), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kernel", [3, 5])
def test_conv1d_is_pytorchs_and_exports(kernel, tmp_path):
    body = f"K = {kernel}\nx ∈ ℝ^{{C×T}}\nW ∈ ℝ^{{O×C×K}}\n" \
           "y_{o,t} = b_o + Σ_{c,k} W_{o,c,k} x_{c,t+k-1}  for o in 1..O, t in 1..T-K+1"
    model = ainative.model(body, header="conv(x) -> y")
    params = model.init(1, C=3, O=4)
    x = RNG.normal(size=(2, 3, 20)).astype(np.float32)
    expected = torch.nn.functional.conv1d(torch.tensor(x), torch.tensor(np.asarray(params["W"])),
                                          torch.tensor(np.asarray(params["b"]))).numpy()
    np.testing.assert_allclose(np.asarray(model(params, x=x)), expected, rtol=1e-4, atol=1e-5)
    report = model.export_onnx(tmp_path / "conv.onnx", params, T=20)
    assert report.max_abs_error < 1e-4


RADON = """county ∈ {1..J}^N
x, y ∈ ℝ^N
μ_α ~ Normal(0, 5)
τ_α ~ HalfNormal(2)
α_j ~ Normal(μ_α, τ_α)  for j in 1..J
μ_β ~ Normal(0, 5)
τ_β ~ HalfNormal(2)
β_j ~ Normal(μ_β, τ_β)  for j in 1..J
σ ~ HalfNormal(1)
y_i ~ Normal(α_{county_i} + β_{county_i} x_i, σ)  for i in 1..N"""

RADON_INTERCEPT = """county ∈ {1..J}^N
x, y ∈ ℝ^N
μ_α ~ Normal(0, 5)
τ_α ~ HalfNormal(2)
α_j ~ Normal(μ_α, τ_α)  for j in 1..J
β ~ Normal(0, 2)
σ ~ HalfNormal(1)
y_i ~ Normal(α_{county_i} + β x_i, σ)  for i in 1..N"""


def _radon_data(slopes: bool):
    """Radon-style data with known parameters: 6 counties of unequal size, a floor indicator ``x``."""
    rng = np.random.default_rng(5)
    alpha, beta = rng.normal(1.0, 0.6, size=6), rng.normal(-0.7, 0.3, size=6) if slopes else np.full(6, -0.7)
    county = rng.choice(np.arange(1, 7), size=400, p=[0.3, 0.25, 0.2, 0.12, 0.08, 0.05])
    x = rng.integers(0, 2, size=400).astype(np.float32)
    y = (alpha[county - 1] + beta[county - 1] * x + rng.normal(0, 0.3, size=400)).astype(np.float32)
    return {"county": county, "x": x, "y": y}, alpha, beta


@pytest.mark.parametrize("backend", ["numpyro", "pyro"])
@pytest.mark.parametrize("slopes", [False, True], ids=["varying intercept", "varying intercept and slope"])
def test_a_radon_style_hierarchical_regression_recovers_its_parameters(backend, slopes):
    data, alpha, beta = _radon_data(slopes)
    model = ainative.model(RADON if slopes else RADON_INTERCEPT, header=f"radon(county, x, y) --backend {backend}")
    posterior = model.fit(data, num_chains=1, num_warmup=300, num_samples=300, seed=1, progress=False, J=6)
    draws = posterior.samples
    for name, truth in (("alpha", alpha), ("beta", beta if slopes else beta[0])):
        # every county's parameter within three posterior standard deviations of the value that made the data
        assert np.all(np.abs(draws[name].mean(0) - truth) < 3 * draws[name].std(0) + 0.02), name
    assert abs(draws["sigma"].mean() - 0.3) < 0.05
    new = {"county": np.array([1, 2, 6]), "x": np.array([0.0, 1.0, 0.0], np.float32)}
    predicted = model.predict(posterior, **new)["y"].mean(0)
    np.testing.assert_allclose(predicted, alpha[[0, 1, 5]] + beta[[0, 1, 5]] * new["x"], atol=0.15)


BAG_OF_WORDS = """tokens ∈ {1..V}^Q
t ∈ ℝ^K
E ∈ ℝ^{V×D}
U ∈ ℝ^{K×D}
f_d = mean_l E_{tokens_l,d}
z_k = c_k + Σ_d U_{k,d} f_d
y_k = softmax_k(z_k)
L = logsumexp_k z_k - Σ_k t_k z_k"""


def _documents(count: int, vocabulary: int = 30, length: int = 12):
    """Token ids from 1 to ``vocabulary``; a document is positive when it holds more of words 1–5 than of 6–10."""
    tokens = RNG.integers(1, vocabulary + 1, size=(count, length))
    positive = (tokens <= 5).sum(1) > ((tokens > 5) & (tokens <= 10)).sum(1)
    return tokens, np.eye(2, dtype=np.float32)[positive.astype(int)]


def test_a_bag_of_words_classifier_learns_from_token_ids_and_exports(tmp_path):
    model = ainative.model(BAG_OF_WORDS, header="bag(tokens, t) -> y, L")
    tokens, t = _documents(600)
    result = model.fit(model.init(0, V=30, D=8, K=2), {"tokens": tokens, "t": t}, loss="L", steps=400,
                       optimizer=optax.adam(0.05), progress=False)
    test_tokens, test_t = _documents(300)
    predicted = np.asarray(model(result.params, tokens=test_tokens, t=test_t)["y"]).argmax(-1)
    assert (predicted == test_t.argmax(-1)).mean() > 0.85
    E, U, c = (np.asarray(result.params[n]) for n in ("E", "U", "c"))
    logits = E[test_tokens[:3] - 1].mean(1) @ U.T + c
    np.testing.assert_allclose(np.asarray(model(result.params, tokens=test_tokens[:3], t=test_t[:3])["y"]),
                               np.exp(logits) / np.exp(logits).sum(-1, keepdims=True), rtol=1e-5)
    with pytest.raises(ainative.DataError, match="tokens"):
        model(result.params, tokens=np.full((1, 12), 31), t=test_t[:1])
    report = model.export_onnx(tmp_path / "bag.onnx", result.params, Q=12)
    assert report.max_abs_error < 1e-4
