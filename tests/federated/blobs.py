"""The federated tests' data (three Gaussian blobs) and the classifier written out by hand
(NumPy for predictions, JAX for the gradient descent each client and the centralised baseline do)."""

import jax
import jax.numpy as jnp
import numpy as np

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


def loss(params, data):
    """The MLP's mean cross-entropy, written out in JAX."""
    h = jnp.tanh(data["x"] @ params["W_1"].T + params["b_1"])
    y = jax.nn.softmax(h @ params["W_2"].T + params["b_2"])
    return jnp.mean(-jnp.sum(data["t"] * jnp.log(y), -1))


def sgd(params, data, steps, rate, anchor=None, mu=0.0):
    """Full-batch gradient descent, with FedProx's proximal term around ``anchor`` when ``mu`` > 0."""
    def objective(p):
        if not mu:
            return loss(p, data)
        return loss(p, data) + 0.5 * mu * sum(jnp.sum((p[k] - anchor[k]) ** 2) for k in p)

    for _ in range(steps):
        grads = jax.grad(objective)(params)
        params = {k: params[k] - rate * grads[k] for k in params}
    return params


def close(a, b, tolerance=2e-5):
    return max(float(np.max(np.abs(np.asarray(a[k]) - np.asarray(b[k])))) for k in a) < tolerance
