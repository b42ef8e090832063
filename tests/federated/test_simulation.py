"""``Model.federate`` in Flower's Simulation Runtime, against numbers computed by hand."""

import threading
from pathlib import Path

import jax
import numpy as np
import pytest

import ainative
from tests.federated.blobs import accuracy, blobs, close, forward, loss, sgd

LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}


def listening() -> set[str]:
    """Local addresses (hex, as the kernel writes them) of every listening TCP socket."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":
                found.add(fields[1])
    return found


def test_fedavg_of_identical_clients_is_centralised_training(mlp, start, capsys):
    data = blobs(np.random.default_rng(3), 90, [0, 1, 2])
    held_out = blobs(np.random.default_rng(4), 60, [0, 1, 2])
    before, opened, running = listening(), set(), threading.Event()

    def watch():
        while not running.wait(0.2):
            opened.update(listening() - before)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = mlp.federate([data, data, data], 4, params=start, test_data=held_out, learning_rate=0.5)
    finally:
        running.set()
        watcher.join()
    assert opened, "Ray's servers should have been seen listening"
    assert {address.split(":")[0] for address in opened} <= LOOPBACK, opened

    expected, losses = dict(start), [loss(start, held_out)]
    for _ in range(4):
        expected = sgd(expected, data, 1, 0.5)
        losses.append(loss(expected, held_out))
    assert close(result.params, expected)
    np.testing.assert_allclose(result.history["loss"], losses, rtol=1e-5)
    np.testing.assert_array_equal(result.history["round"], np.arange(5))
    assert mlp.latest.value is result.params
    shown = capsys.readouterr().err
    assert "federate mlp" in shown and "4/4" in shown and "accuracy=" in shown


@pytest.fixture(scope="module")
def non_iid(mlp):
    """Three clients that each see two of the three classes, and a held-out set with all three."""
    rng = np.random.default_rng(5)
    clients = [blobs(rng, 120, pair) for pair in ([0, 1], [1, 2], [2, 0])]
    return clients, blobs(rng, 300, [0, 1, 2])


def test_the_global_model_beats_every_client_trained_alone(mlp, non_iid):
    clients, held_out = non_iid
    start = mlp.init(1, D=2, H=8, K=3)
    result = mlp.federate(clients, 15, params=start, test_data=held_out, local_steps=5, learning_rate=0.5,
                          progress=False)
    alone = [sgd(dict(start), data, 15 * 5, 0.5) for data in clients]
    ours = accuracy(result.params, held_out)
    assert ours == pytest.approx(result.history["accuracy"][-1])
    assert ours > 0.9
    assert all(ours > accuracy(params, held_out) + 0.15 for params in alone), \
        [accuracy(p, held_out) for p in alone]


def test_the_federated_model_exports_to_onnx_that_matches_jax(mlp, non_iid, tmp_path):
    import onnxruntime

    clients, held_out = non_iid
    result = mlp.federate(clients, 2, params=mlp.init(2, D=2, H=8, K=3), progress=False)
    report = mlp.export_onnx(tmp_path / "federated.onnx", result.params)
    assert report.max_abs_error < 1e-5
    session = onnxruntime.InferenceSession(str(tmp_path / "federated.onnx"))
    names = [i.name for i in session.get_inputs()]
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, {n: held_out[n] for n in names})))
    ours = jax.vmap(mlp.jax_function, in_axes=(None, 0, 0))(result.params, held_out["x"], held_out["t"])
    np.testing.assert_allclose(got["y"], ours["y"], atol=1e-6)
    np.testing.assert_allclose(got["y"], forward(result.params, held_out["x"]), atol=1e-5)


def test_fedprox_clients_add_the_proximal_term(mlp, start, non_iid):
    clients, _ = non_iid
    result = mlp.federate(clients[:2], 1, "fedprox", params=start, local_steps=3, learning_rate=0.5,
                          proximal_mu=2.0, progress=False)
    trained = [sgd(dict(start), data, 3, 0.5, anchor=start, mu=2.0) for data in clients[:2]]
    expected = {k: (trained[0][k] + trained[1][k]) / 2 for k in start}
    assert close(result.params, expected)
    plain = [sgd(dict(start), data, 3, 0.5) for data in clients[:2]]
    assert not close(result.params, {k: (plain[0][k] + plain[1][k]) / 2 for k in start})


def test_fedadam_moves_the_server_with_adam(mlp, start, non_iid):
    clients, held_out = non_iid
    adam = mlp.federate(clients, 3, "fedadam", params=start, test_data=held_out, local_steps=2,
                        server_learning_rate=0.05, progress=False)
    averaged = mlp.federate(clients, 3, params=start, test_data=held_out, local_steps=2, progress=False)
    assert adam.history["loss"][-1] < adam.history["loss"][0]
    assert not close(adam.params, averaged.params, 1e-3)


def test_a_latex_cell_federates_as_the_model_it_is():
    """In LaTeX, ``ab`` is a times b: clients rebuild the cell from its text and must read it so too."""
    line = ainative.model(r"L = \left(\frac{ab}{2} x - t\right)^2", header="line(x, t) -> L --latex")
    assert line.params == ("a", "b")
    rng = np.random.default_rng(6)
    x = rng.uniform(-1, 1, 40).astype(np.float32)
    data = {"x": x, "t": (1.5 * x).astype(np.float32)}
    start = {"a": np.float32(1.0), "b": np.float32(2.0)}
    result = line.federate([data, data], 3, params=start, learning_rate=0.1, progress=False)

    def mean_loss(p):
        return jax.numpy.mean((p["a"] * p["b"] / 2 * data["x"] - data["t"]) ** 2)

    expected = {k: jax.numpy.float32(v) for k, v in start.items()}
    for _ in range(3):
        grads = jax.grad(mean_loss)(expected)
        expected = {k: expected[k] - 0.1 * grads[k] for k in expected}
    assert close(result.params, expected)
