"""The reference cells every test reads verbatim (mlp, logistic, regression, eight schools, gauss, cells
written with indices, recurrences, a hidden Markov model),
and the classifier (the MLP with a loss) that training tests share."""

MLP = """x ∈ ℝ^D
W₁ ∈ ℝ^{H×D};  b₁ ∈ ℝ^H
W₂ ∈ ℝ^{K×H};  b₂ ∈ ℝ^K
h = tanh(W₁ x + b₁)
y = softmax(W₂ h + b₂)"""

LOGISTIC = """x ∈ ℝ^D;  w ∈ ℝ^D
p = σ(wᵀx + b)"""

REGRESSION = """X ∈ ℝ^{N×K}
α ~ Normal(0, 10)
β ~ Normal(0, 1);  β ∈ ℝ^K
σ ~ HalfNormal(1)
y ~ Normal(α + X β, σ)"""

EIGHT_SCHOOLS = """J = 8
μ ~ 𝒩(0, 5)
τ ~ HalfCauchy(5)
η_j ~ 𝒩(0, 1)          for j in 1..J
θ_j = μ + τ η_j        for j in 1..J
y_j ~ 𝒩(θ_j, σ_j)      for j in 1..J"""

GAUSS = r"""p = \frac{1}{\sqrt{2 \pi s^2}} \exp\left(-\frac{(x - m)^2}{2 s^2}\right)"""

CLASSIFIER = """x ∈ ℝ^D;  t ∈ ℝ^K
W₁ ∈ ℝ^{H×D};  b₁ ∈ ℝ^H
W₂ ∈ ℝ^{K×H};  b₂ ∈ ℝ^K
h = tanh(W₁ x + b₁)
y = softmax(W₂ h + b₂)
L = -Σ t ⊙ log(y)"""

#: written with indices: a kernel, a convolution with pooling, a layer norm, attention, a group index
KERNEL = """x ∈ ℝ^N
K_{ij} = α² exp(-(x_i - x_j)² / (2ℓ²)) + σ² δ_{ij}
S = K + 0.1 I"""
CONVOLUTION = """K = 3
S = 3
x ∈ ℝ^{C×T}
W ∈ ℝ^{O×C×K}
y_{o,t} = relu(b_o + Σ_{c,k} W_{o,c,k} x_{c,t+k-1})  for o in 1..O, t in 1..T-K+1
m_{o,t} = max_{k=1..2} y_{o,2t+k-2}  for o in 1..O, t in 1..S"""
LAYER_NORM = """x ∈ ℝ^{T×D}
μ_t = mean_d x_{t,d}
v_t = mean_d (x_{t,d} - μ_t)²
h[t, d] = g[d] * (x[t, d] - μ[t]) / sqrt(v[t] + 0.00001) + b[d]
a_{t,s} = softmax_s(Σ_d h_{t,d} h_{s,d} / √D)"""
GROUPS = """county ∈ {1..J}^N
x, y ∈ ℝ^N
μ ~ Normal(0, 5)
τ ~ HalfNormal(2)
α_j ~ Normal(μ, τ)  for j in 1..J
β ~ Normal(0, 1)
σ ~ HalfNormal(1)
y_i ~ Normal(α_{county_i} + β x_i, σ)  for i in 1..N"""

#: recurrences: networks over a sequence (RNN, LSTM), and a volatility model over a series
RNN = """x ∈ ℝ^{T×D}
h ∈ ℝ^{T×H}
W ∈ ℝ^{H×H};  U ∈ ℝ^{H×D};  b ∈ ℝ^H
V ∈ ℝ^{K×H}
h_0 = 0
h_t = tanh(W h_{t-1} + U x_t + b)  for t in 1..T
y = softmax(V h_T)"""
LSTM = """x ∈ ℝ^{T×D}
h, c ∈ ℝ^{T×H}
W_f, W_i, W_o, W_g ∈ ℝ^{H×D}
U_f, U_i, U_o, U_g ∈ ℝ^{H×H}
b_f, b_i, b_o, b_g ∈ ℝ^H
h_0 = 0
c_0 = 0
f_t = σ(W_f x_t + U_f h_{t-1} + b_f)  for t in 1..T
i_t = σ(W_i x_t + U_i h_{t-1} + b_i)  for t in 1..T
o_t = σ(W_o x_t + U_o h_{t-1} + b_o)  for t in 1..T
g_t = tanh(W_g x_t + U_g h_{t-1} + b_g)  for t in 1..T
c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t  for t in 1..T
h_t = o_t ⊙ tanh(c_t)  for t in 1..T"""
GARCH = """r ∈ ℝ^T
μ ~ 𝒩(0, 1)
ω ~ HalfNormal(0.5)
α ~ Uniform(0, 1)
β ~ Uniform(0, 1)
v_1 = 0.5
v_t = ω + α (r_{t-1} - μ)² + β v_{t-1}  for t in 2..T
r ~ 𝒩(μ, √v)"""
#: a hidden Markov model: a chain of labels summed out by the forward algorithm
HMM = """y ∈ ℝ^T;  a, lo, hi ∈ ℝ^K
ρ ~ Dirichlet(a)
Θ_k ~ Dirichlet(a)  for k in 1..K
μ_k ~ Uniform(lo_k, hi_k)  for k in 1..K
σ ~ HalfNormal(2)
z_1 ~ Categorical(ρ)
z_t ~ Categorical(Θ_{z_{t-1}+1})  for t in 2..T
y_t ~ 𝒩(μ_{z_t+1}, σ)  for t in 1..T"""

REFERENCE_CELLS = {
    "mlp(x) -> y": MLP,
    "logistic(x) -> p": LOGISTIC,
    "regression(X, y)": REGRESSION,
    "eight_schools(σ, y)": EIGHT_SCHOOLS,
    "gauss(x) -> p --latex": GAUSS,
    "kernel(x) -> S": KERNEL,
    "convolution(x) -> m": CONVOLUTION,
    "layer_norm(x) -> a": LAYER_NORM,
    "groups(county, x, y)": GROUPS,
    "rnn(x) -> y": RNN,
    "garch(r)": GARCH,
    "hmm(y, a, lo, hi)": HMM,
}
