"""The reference cells every test reads verbatim (mlp, logistic, regression, eight schools, gauss),
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

REFERENCE_CELLS = {
    "mlp(x) -> y": MLP,
    "logistic(x) -> p": LOGISTIC,
    "regression(X, y)": REGRESSION,
    "eight_schools(σ, y)": EIGHT_SCHOOLS,
    "gauss(x) -> p --latex": GAUSS,
}
