"""The federated tests' model and data: three Gaussian blobs, and the MLP written out in NumPy."""

import numpy as np

CELL = """%%model mlp(x, t) -> y, L
x ∈ ℝ^D;  t ∈ ℝ^K
W₁ ∈ ℝ^{H×D};  b₁ ∈ ℝ^H
W₂ ∈ ℝ^{K×H};  b₂ ∈ ℝ^K
h = tanh(W₁ x + b₁)
y = softmax(W₂ h + b₂)
L = -Σ t ⊙ log(y)"""

CENTRES = np.array([[0.0, 2.0], [-1.8, -1.0], [1.8, -1.0]])


def blobs(rng: np.random.Generator, n: int, classes) -> dict:
    """``n`` points around the centres of ``classes``, with one-hot targets over three classes."""
    labels = rng.choice(classes, n)
    x = (CENTRES[labels] + rng.normal(scale=0.6, size=(n, 2))).astype(np.float32)
    return {"x": x, "t": np.eye(3, dtype=np.float32)[labels]}


def forward(params: dict, x: np.ndarray) -> np.ndarray:
    """The MLP written out in NumPy: class probabilities for a batch."""
    h = np.tanh(x @ params["W_1"].T + params["b_1"])
    logits = h @ params["W_2"].T + params["b_2"]
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def accuracy(params: dict, data: dict) -> float:
    return float(np.mean(np.argmax(forward(params, data["x"]), -1) == np.argmax(data["t"], -1)))
