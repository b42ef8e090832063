"""``ainative.load_data``: ``.npz`` and Parquet files read into the arrays ``fit`` takes, checked against what
NumPy and pyarrow themselves hold, and every file it cannot read as numbers refused with a ``DataError``."""

import numpy as np
import pytest

import ainative

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def test_an_npz_gives_its_arrays_by_name(tmp_path):
    rng = np.random.default_rng(0)
    saved = {"X": rng.normal(size=(5, 3)), "y": rng.integers(0, 4, size=5)}
    np.savez(tmp_path / "d.npz", **saved)
    loaded = ainative.load_data(tmp_path / "d.npz")
    assert list(loaded) == ["X", "y"]
    for name, array in saved.items():
        np.testing.assert_array_equal(loaded[name], array)
        assert loaded[name].dtype == array.dtype


def test_a_parquet_table_gives_a_column_per_input_and_lists_become_an_axis(tmp_path):
    rng = np.random.default_rng(1)
    X, y, labels = rng.normal(size=(6, 3)), rng.normal(size=6), rng.integers(0, 3, size=6)
    table = pa.table({"X": pa.array(X.tolist(), type=pa.list_(pa.float64())), "y": y, "label": labels,
                      "fixed": pa.FixedSizeListArray.from_arrays(pa.array(X.ravel()), 3)})
    pq.write_table(table, tmp_path / "d.parquet")
    loaded = ainative.load_data(tmp_path / "d.parquet")
    assert list(loaded) == ["X", "y", "label", "fixed"]
    np.testing.assert_array_equal(loaded["X"], X)
    np.testing.assert_array_equal(loaded["fixed"], X)
    np.testing.assert_array_equal(loaded["y"], y)
    np.testing.assert_array_equal(loaded["label"], labels)
    assert np.issubdtype(loaded["label"].dtype, np.integer)


@pytest.mark.parametrize("column, words", [
    (pa.array([1.0, None, 3.0]), "column c of .* has 1 missing value"),
    (pa.array(["a", "b", "c"]), "column c of .* holds string, not numbers of one shape per row"),
    (pa.array([[1.0], [1.0, 2.0], [3.0]]), "holds list<.*double>, not numbers of one shape per row"),
])
def test_a_column_that_is_not_numbers_of_one_shape_is_refused(tmp_path, column, words):
    pq.write_table(pa.table({"c": column}), tmp_path / "d.parquet")
    with pytest.raises(ainative.DataError, match=words):
        ainative.load_data(tmp_path / "d.parquet")


def test_files_it_cannot_read_are_refused_with_what_they_are(tmp_path):
    with pytest.raises(ainative.DataError, match=r"data files are \.npz or \.parquet, not \.csv"):
        ainative.load_data(tmp_path / "d.csv")
    with pytest.raises(ainative.DataError, match="cannot be read: No such file"):
        ainative.load_data(tmp_path / "missing.npz")
    (tmp_path / "text.parquet").write_text("not parquet")
    with pytest.raises(ainative.DataError, match="is not a Parquet file pyarrow can read"):
        ainative.load_data(tmp_path / "text.parquet")
    (tmp_path / "text.npz").write_text("not numpy")
    with pytest.raises(ainative.DataError, match=r"is not an \.npz of number arrays"):
        ainative.load_data(tmp_path / "text.npz")
    objects = np.empty(2, dtype=object)
    objects[:] = [{"a": 1}, {"b": 2}]
    np.savez(tmp_path / "objects.npz", o=objects)
    with pytest.raises(ainative.DataError, match="opens without pickle"):
        ainative.load_data(tmp_path / "objects.npz")
