"""The adapters' pieces that need no running Flower: records, settings, metrics, strategies."""

import numpy as np
import pytest

import ainative
from ainative.errors import DataError, ModelError, ShapeError
from ainative.federated import adapters, federate
from tests.federated.blobs import accuracy, blobs, forward


def test_parameters_travel_in_the_models_order_and_come_back(mlp, start):
    record = adapters.to_record(mlp.ir, start)
    assert list(record.keys()) == list(mlp.params) == ["W_1", "b_1", "W_2", "b_2"]
    back = adapters.from_record(mlp.ir, record)
    for name in mlp.params:
        assert back[name].dtype == np.float32
        np.testing.assert_array_equal(back[name], np.asarray(start[name]))


def test_parameters_in_another_order_are_refused(mlp, start):
    from flwr.app import Array, ArrayRecord

    shuffled = ArrayRecord({name: Array(np.asarray(start[name])) for name in reversed(mlp.params)})
    with pytest.raises(ShapeError, match="expects parameters W_1, b_1, W_2, b_2"):
        adapters.from_record(mlp.ir, shuffled)


def test_training_settings_survive_the_round_config(mlp):
    settings = adapters.Training.for_model(mlp.ir, local_steps=3, batch_size=16, optimizer="adam", learning_rate=0.01)
    config = dict(settings.config())
    assert config["local-steps"] == 3 and config["accuracy"] == "y:t" and config["loss"] == "L"
    config.update({"server-round": 4, "proximal-mu": 0.1})
    assert adapters.Training.from_config(config) == settings


def test_accuracy_pairs_the_output_with_the_input_of_its_shape(mlp):
    assert adapters.default_accuracy(mlp.ir, "L") == "y:t"
    regression = ainative.model("%%model fit(x, t) -> L\nx ∈ ℝ^D;  w ∈ ℝ^D\nL = (wᵀx - t)^2")
    assert adapters.default_accuracy(regression.ir, "L") == ""


def test_evaluation_matches_the_model_written_out_in_numpy(mlp, start):
    data = blobs(np.random.default_rng(1), 50, [0, 1, 2])
    params = {k: np.asarray(v) for k, v in start.items()}
    metrics = adapters.evaluate(adapters.rebuild(mlp.text), params, data, adapters.Training.for_model(mlp.ir))
    expected_loss = np.mean(-np.sum(data["t"] * np.log(forward(params, data["x"])), -1))
    assert metrics["loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert metrics["accuracy"] == pytest.approx(accuracy(params, data))


@pytest.mark.parametrize(("options", "error", "message"), [
    ({"optimizer": "rmsprop"}, ModelError, "not one of sgd, adam"),
    ({"local_steps": 0}, ModelError, "local_steps must be a positive integer"),
    ({"learning_rate": -1.0}, ModelError, "learning_rate must be positive"),
    ({"accuracy": "z:t"}, ShapeError, "accuracy should read 'output:target'"),
    ({"loss": "y"}, ShapeError, "it must be a scalar"),
])
def test_bad_settings_are_typed_errors(mlp, options, error, message):
    with pytest.raises(error, match=message):
        adapters.Training.for_model(mlp.ir, **options)


def test_unknown_strategy_lists_the_known_ones():
    with pytest.raises(ModelError, match="not one of fedavg, fedprox, fedadam"):
        adapters.strategy("fedsgd", 2)


def test_bad_federations_fail_before_anything_starts(mlp, start):
    good = blobs(np.random.default_rng(2), 20, [0, 1])
    with pytest.raises(DataError, match=r"client 1: .*\bt\b"):
        federate(mlp.text, [good, {"x": good["x"]}], 2, params=start)
    with pytest.raises(DataError, match="one dict of arrays per client"):
        federate(mlp.text, good, 2, params=start)
    with pytest.raises(ModelError, match="rounds must be a positive integer"):
        federate(mlp.text, [good, good], 0, params=start)
    with pytest.raises(ModelError, match="no parameters yet"):
        ainative.model(mlp.text).federate([good, good], 2)
    with pytest.raises(ModelError, match="deterministic model"):
        federate("%%model coin(y)\nθ ~ Beta(1, 1)\ny ~ Bernoulli(θ)", [good], 1, params={})
    with pytest.raises(ainative.WrongKindError, match="federate is for deterministic models"):
        ainative.model("%%model coin(y)\nθ ~ Beta(1, 1)\ny ~ Bernoulli(θ)").federate([good], 1)


def test_a_latex_cell_federates_as_the_model_it_is(start):
    """Clients rebuild the model from its text: a --latex cell must stay a --latex cell there."""
    latex = ainative.model(r"y = \frac{ab}{2} x", header="f(x) -> y", latex=True)
    rebuilt = adapters.rebuild(latex.text)
    assert latex.params == rebuilt.ir.roles.params == ("a", "b") and rebuilt.ir == latex.ir
    x = np.linspace(0.5, 1.5, 4, dtype=np.float32)
    params = {"a": np.float32(3), "b": np.float32(5)}
    np.testing.assert_allclose(rebuilt(params, {"x": x}), 7.5 * x, rtol=1e-6)
