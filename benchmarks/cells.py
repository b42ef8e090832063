"""The model cells the benchmarks build, written once."""

CLASSIFIER = """x ∈ ℝ^D;  t ∈ ℝ^K
W₁ ∈ ℝ^{H×D};  b₁ ∈ ℝ^H
W₂ ∈ ℝ^{K×H};  b₂ ∈ ℝ^K
h = tanh(W₁ x + b₁)
y = softmax(W₂ h + b₂)
L = -Σ t ⊙ log(y)"""
