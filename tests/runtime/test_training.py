import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import ainative
from ainative.errors import DataError, ModelError, ShapeError
from tests.cells import CLASSIFIER


@pytest.fixture(scope="module")
def classifier():
    return ainative.model(CLASSIFIER, header="mlp(x, t) -> y, L")


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centres = np.array([[2, 0], [-2, 0], [0, 2.5]], np.float32)
    labels = rng.integers(0, 3, 300)
    x = centres[labels] + rng.normal(scale=0.5, size=(300, 2)).astype(np.float32)
    return x.astype(np.float32), np.eye(3, dtype=np.float32)[labels]


def hand_written_loss(p, x, t):
    h = jnp.tanh(x @ p["W_1"].T + p["b_1"])
    y = jax.nn.softmax(h @ p["W_2"].T + p["b_2"])
    return jnp.mean(-jnp.sum(t * jnp.log(y), axis=-1))


def test_full_batch_fit_equals_hand_written_optax(classifier, blobs):
    x, t = blobs
    params = classifier.init(0, D=2, H=8, K=3)
    result = classifier.fit(params, {"x": x, "t": t}, loss="L", steps=25, optimizer=optax.sgd(0.1), progress=False)
    p, state = dict(params), optax.sgd(0.1).init(params)
    expected = []
    for _ in range(25):
        value, grads = jax.value_and_grad(hand_written_loss)(p, x, t)
        updates, state = optax.sgd(0.1).update(grads, state, p)
        p = optax.apply_updates(p, updates)
        expected.append(float(value))
    np.testing.assert_allclose(result.history, expected, rtol=2e-5)
    for name in p:
        np.testing.assert_allclose(result.params[name], p[name], rtol=1e-4, atol=1e-6)


def test_minibatch_fit_learns(classifier, blobs):
    x, t = blobs
    params, history = classifier.fit(classifier.init(0, D=2, H=16, K=3), {"x": x, "t": t}, loss="L", steps=300,
                                     batch_size=32, optimizer=optax.adam(1e-2), progress=False)
    assert history.shape == (300,) and history[-20:].mean() < 0.3 * history[:5].mean()
    accuracy = (np.argmax(classifier(params, x=x, t=t)["y"], -1) == np.argmax(t, -1)).mean()
    assert accuracy > 0.9


def test_progress_bar_is_shown(classifier, blobs, capsys):
    x, t = blobs
    classifier.fit(classifier.init(0, D=2, H=4, K=3), {"x": x, "t": t}, loss="L", steps=5)
    assert "fit mlp" in capsys.readouterr().err


def test_fit_errors(classifier, blobs):
    x, t = blobs
    params = classifier.init(0, D=2, H=4, K=3)
    with pytest.raises(ShapeError, match="loss y has shape"):
        classifier.fit(params, {"x": x, "t": t}, loss="y", steps=1)
    with pytest.raises(ShapeError, match="not an output"):
        classifier.fit(params, {"x": x, "t": t}, loss="h", steps=1)
    with pytest.raises(DataError, match="batch_size must be between 1 and"):
        classifier.fit(params, {"x": x, "t": t}, loss="L", batch_size=1000, steps=1)
    with pytest.raises(DataError, match="one leading axis of examples"):
        classifier.fit(params, {"x": x[0], "t": t[0]}, loss="L", steps=1)
    with pytest.raises(DataError, match="contains NaN"):
        classifier.fit(params, {"x": np.full_like(x, np.nan), "t": t}, loss="L", steps=1)


def test_single_scalar_output_is_the_default_loss():
    vector = ainative.model("x ∈ ℝ^D\nL = (w x - 1)²", header="f(x) -> L")
    with pytest.raises(ShapeError, match=r"a loss is a scalar output per example, and f has none \(L \(D,\)\)"):
        vector.fit(vector.init(0, D=2), {"x": np.ones((4, 2), np.float32)}, steps=1)
    m = ainative.model("x ∈ ℝ^D; w ∈ ℝ^D\nL = (wᵀx - 1)²", header="f(x) -> L")
    params, history = m.fit(m.init(0, D=2), {"x": np.ones((4, 2), np.float32)}, steps=200,
                            optimizer=optax.sgd(0.1), progress=False)
    assert history[-1] < 1e-6 and float(jnp.sum(params["w"])) == pytest.approx(1.0, abs=1e-3)


def test_transfer_a_layer_and_freeze_it(classifier, blobs):
    x, t = blobs
    source = classifier.fit(classifier.init(0, D=2, H=8, K=3), {"x": x, "t": t}, loss="L", steps=50,
                            optimizer=optax.adam(1e-2), progress=False).params
    layer = {"W_1": source["W_1"], "b_1": source["b_1"]}
    start = classifier.init(1, D=2, H=8, K=3, from_params=layer)
    np.testing.assert_array_equal(start["W_1"], source["W_1"])
    assert not np.array_equal(start["W_2"], source["W_2"])
    tuned = classifier.fit(start, {"x": x, "t": t}, loss="L", steps=30, freeze=["W_1", "b_1"],
                           optimizer=optax.adam(1e-2), progress=False).params
    np.testing.assert_array_equal(tuned["W_1"], source["W_1"])
    np.testing.assert_array_equal(tuned["b_1"], source["b_1"])
    assert not np.allclose(tuned["W_2"], start["W_2"])
    with pytest.raises(ShapeError, match="cannot freeze W_9"):
        classifier.fit(start, {"x": x, "t": t}, loss="L", steps=1, freeze=["W_9"])
    with pytest.raises(ShapeError, match="from_params gives W_1 shape"):
        classifier.init(0, D=2, H=5, K=3, from_params=layer)
    with pytest.raises(ShapeError, match="not a parameter"):
        classifier.init(0, D=2, H=8, K=3, from_params={"V": layer["W_1"]})


def pull(params, anchor, mu):
    """A penalty pulling the parameters towards ``anchor`` (FedProx's term, written here by hand)."""
    return 0.5 * mu * sum(jnp.sum((params[k] - anchor[k]) ** 2) for k in params)


def test_a_penalty_is_added_to_the_loss(classifier, blobs):
    x, t = blobs
    start = classifier.init(0, D=2, H=8, K=3)
    anchor = classifier.init(1, D=2, H=8, K=3)
    got, _ = classifier.fit(start, {"x": x, "t": t}, loss="L", steps=3, optimizer=optax.sgd(0.2),
                            penalty=ainative.Penalty(pull, (anchor, 0.7)), progress=False)

    def objective(p):
        return hand_written_loss(p, x, t) + 0.35 * sum(jnp.sum((p[k] - anchor[k]) ** 2) for k in p)

    expected = dict(start)
    for _ in range(3):
        grads = jax.grad(objective)(expected)
        expected = {k: expected[k] - 0.2 * grads[k] for k in expected}
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], atol=1e-6)


def test_a_reused_optimizer_reuses_the_compiled_step_and_nothing_else(classifier, blobs):
    x, t = blobs
    start = classifier.init(0, D=2, H=8, K=3)
    shared = optax.adam(0.05)
    classifier.fit(start, {"x": x[:50], "t": t[:50]}, loss="L", steps=5, optimizer=shared, progress=False)
    again, history = classifier.fit(start, {"x": x, "t": t}, loss="L", steps=5, optimizer=shared, progress=False)
    fresh, fresh_history = classifier.fit(start, {"x": x, "t": t}, loss="L", steps=5, optimizer=optax.adam(0.05),
                                          progress=False)
    np.testing.assert_array_equal(history, fresh_history)
    for name in fresh:
        np.testing.assert_array_equal(again[name], fresh[name])


@pytest.mark.parametrize(("setting", "value"), [
    ("steps", 0), ("steps", 2.5), ("steps", True), ("batch_size", 2.5), ("seed", -1), ("seed", "0"),
])
def test_training_settings_are_model_errors_naming_the_setting(classifier, blobs, setting, value):
    x, t = blobs
    start = classifier.init(0, D=2, H=4, K=3)
    with pytest.raises(ModelError, match=f"^{setting} must be a") as info:
        classifier.fit(start, {"x": x, "t": t}, **{"loss": "L", "steps": 1, setting: value}, progress=False)
    assert type(info.value) is ModelError
