"""A posterior saved and loaded (``Posterior.save``/``Posterior.load``): every array and every fact about the fit
comes back as it was, from a file NumPy reads without pickle, and a file it did not write is refused."""

import json

import numpy as np
import pytest

import ainative
from ainative.runtime.inference.posterior import Posterior
from tests.cells import EIGHT_SCHOOLS
from tests.frontend.test_discrete import GMM

Y = np.array([28.0, 8, -3, 7, -1, 1, 18, 12])
SIGMA = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])


def schools(method: str = "nuts", backend: str = "numpyro", **options):
    model = ainative.model(EIGHT_SCHOOLS, header=f"eight_schools(σ, y) --backend {backend}")
    settings = dict(num_warmup=100, num_samples=100, num_chains=2, steps=200, seed=4, progress=False)
    return model, model.fit({"sigma": SIGMA, "y": Y}, method, **{**settings, **options})


@pytest.fixture(scope="module")
def nuts():
    return schools()[1]


def assert_same(loaded: Posterior, saved: Posterior) -> None:
    for group in ("chains", "stats", "log_likelihood", "observed", "constant"):
        before, after = getattr(saved, group), getattr(loaded, group)
        assert list(after) == list(before), group
        for name in before:
            assert after[name].dtype == np.asarray(before[name]).dtype, (group, name)
            np.testing.assert_array_equal(after[name], before[name], err_msg=f"{group}/{name}")
    np.testing.assert_array_equal(loaded.history, saved.history)
    assert (loaded.model, loaded.backend, loaded.method, loaded.precision) == \
        (saved.model, saved.backend, saved.method, saved.precision)
    assert loaded.classes == saved.classes and loaded.dims == saved.dims
    assert loaded.deterministic == saved.deterministic and loaded.diagnostics == saved.diagnostics


def test_a_nuts_fit_comes_back_whole_and_its_tables_agree(nuts, tmp_path):
    path = nuts.save(tmp_path / "schools.npz")
    loaded = Posterior.load(path)
    assert_same(loaded, nuts)
    assert loaded.diagnostics is not None and str(loaded.diagnostics) == str(nuts.diagnostics)
    assert loaded.summary().equals(nuts.summary())
    assert float(ainative.compare({"saved": nuts, "loaded": loaded})["elpd_diff"].abs().max()) == 0.0
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("backend", ["numpyro", "pyro"])
def test_an_svi_fit_keeps_its_loss_history(tmp_path, backend):
    _, svi = schools("svi", backend)
    loaded = Posterior.load(svi.save(tmp_path / "svi.npz"))
    assert_same(loaded, svi)
    assert loaded.diagnostics is None and len(loaded.history) == 200


def test_class_labels_keep_their_number_of_classes(tmp_path):
    rng = np.random.default_rng(1)
    y = np.concatenate([rng.normal(-2, 0.5, 15), rng.normal(2, 0.5, 15)])
    data = {"lo": np.array([-5.0, 0.0]), "hi": np.array([0.0, 5.0]), "a": np.ones(2), "y": y}
    model = ainative.model(GMM, header="gmm(lo, hi, a, y) --backend numpyro")
    fitted = model.fit(data, num_warmup=40, num_samples=20, num_chains=1, progress=False)
    loaded = Posterior.load(fitted.save(tmp_path / "gmm.npz"))
    assert_same(loaded, fitted)
    assert loaded.classes == {"z": 2}
    np.testing.assert_array_equal(loaded.class_probabilities("z"), fitted.class_probabilities("z"))


def test_the_file_is_numpys_and_opens_without_pickle(nuts, tmp_path):
    path = nuts.save(tmp_path / "schools.npz")
    with np.load(path, allow_pickle=False) as stored:
        meta = json.loads(str(stored["posterior.json"]))
        np.testing.assert_array_equal(stored["chains/mu"], nuts.chains["mu"])
        assert stored["stats/diverging"].shape == (2, 100)
    assert meta["model"] == "eight_schools" and meta["method"] == "nuts" and meta["diagnostics"]["chains"] == 2


def test_saving_again_replaces_the_file(nuts, tmp_path):
    path = tmp_path / "fit.npz"
    path.write_text("an older file")
    nuts.save(path)
    assert_same(Posterior.load(path), nuts)
    assert [p.name for p in tmp_path.iterdir()] == ["fit.npz"]


def test_a_file_save_did_not_write_is_refused(tmp_path):
    np.savez(tmp_path / "arrays.npz", mu=np.zeros(3))
    with pytest.raises(ainative.DataError, match=r"is not a posterior that Posterior\.save wrote"):
        Posterior.load(tmp_path / "arrays.npz")
    (tmp_path / "text.npz").write_text("not numpy")
    with pytest.raises(ainative.DataError, match=r"is not a posterior that Posterior\.save wrote"):
        Posterior.load(tmp_path / "text.npz")
    with pytest.raises(ainative.DataError, match="is not a posterior"):
        Posterior.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", **{"posterior.json": np.asarray(json.dumps({"format": "someone-else/1"}))})
    with pytest.raises(ainative.DataError, match="format 'someone-else/1'"):
        Posterior.load(tmp_path / "other.npz")


def test_a_saved_posterior_with_a_part_missing_is_refused(nuts, tmp_path):
    with np.load(nuts.save(tmp_path / "fit.npz")) as stored:
        arrays = {name: stored[name] for name in stored.files}
    meta = json.loads(str(arrays["posterior.json"]))
    del meta["precision"]
    np.savez(tmp_path / "edited.npz", **{**arrays, "posterior.json": np.asarray(json.dumps(meta))})
    np.savez(tmp_path / "no-history.npz", **{k: v for k, v in arrays.items() if k != "history"})
    for name in ("edited.npz", "no-history.npz"):
        with pytest.raises(ainative.DataError, match="is a posterior file with a part missing or altered"):
            Posterior.load(tmp_path / name)


class Trap:
    """Unpickling this would run code: a file holding it must be refused, not opened."""

    def __reduce__(self):
        return (pytest.fail, ("a pickle in a saved posterior was unpickled",))


def test_a_pickled_object_in_the_file_is_never_unpickled(nuts, tmp_path):
    path = nuts.save(tmp_path / "fit.npz")
    with np.load(path) as stored:
        arrays = {name: stored[name] for name in stored.files}
    trap = np.empty(1, dtype=object)
    trap[0] = Trap()
    np.savez(tmp_path / "trapped.npz", **{**arrays, "chains/mu": trap})
    with pytest.raises(ainative.DataError, match=r"is not a posterior that Posterior\.save wrote"):
        Posterior.load(tmp_path / "trapped.npz")


def test_a_pyro_nuts_fit_comes_back_whole(tmp_path):
    _, fitted = schools(backend="pyro", num_warmup=30, num_samples=30, num_chains=1)
    loaded = Posterior.load(fitted.save(tmp_path / "pyro.npz"))
    assert_same(loaded, fitted)
    assert loaded.backend == "pyro" and set(loaded.stats) == {"diverging", "lp", "acceptance_rate", "step_size"}
