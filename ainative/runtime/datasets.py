"""``load_data``: a data file as the dict of arrays by name that ``fit`` takes, so a pipeline step (or a notebook)
reads the same file the same way. NumPy's ``.npz`` is read without pickle; a Parquet table (pyarrow, loaded only
for one) gives an array per column, a column of equal-length lists one with an axis more.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import DataError, ModelError

#: the file types ``load_data`` reads, by suffix
SUFFIXES = (".npz", ".parquet")


def load_data(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays in the ``.npz`` or ``.parquet`` file at ``path``, by name; a file of another kind, one that cannot
    be read, or a column that is not numbers of one shape is a ``DataError`` naming it."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"{path}: data files are {' or '.join(SUFFIXES)}, not {suffix or 'a file with no suffix'}")
    try:
        return _npz(path) if suffix == ".npz" else _parquet(path)
    except OSError as error:
        raise DataError(f"{path} cannot be read: {error.strerror or error}") from None


def _npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except ValueError as error:  # an object array (pickle) or a file that is not NumPy's
        raise DataError(f"{path} is not an .npz of number arrays that opens without pickle ({error})") from None


def _parquet(path: str | os.PathLike) -> dict[str, np.ndarray]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ModelError("reading Parquet needs pyarrow: pip install 'ainative[parquet]'") from None
    try:
        table = pq.read_table(path)
    except pa.ArrowException as error:
        raise DataError(f"{path} is not a Parquet file pyarrow can read ({error})") from None
    return {name: _column(pa, path, name, table.column(name)) for name in table.column_names}


def _column(pa, path: str | os.PathLike, name: str, column) -> np.ndarray:
    """One column as an array: a row per entry, and a list in each row becomes the trailing axes."""
    if column.null_count:
        raise DataError(f"column {name} of {path} has {column.null_count} missing value(s); fill or drop them first")
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        return column.to_numpy()
    try:
        array = np.array(column.to_pylist()) if pa.types.is_list(kind) or pa.types.is_fixed_size_list(kind) else None
    except ValueError:  # rows of lists of different lengths
        array = None
    if array is None or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise DataError(f"column {name} of {path} holds {kind}, not numbers of one shape per row")
    return array
