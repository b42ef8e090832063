"""Files written whole or not at all: a temporary file in the target's folder, renamed into place, so a reader (a
server, another process) never sees half of one. The lowest layer that writes files holds this, so a posterior
(``runtime``), an export and a federated app write the same way.
"""

from __future__ import annotations

import errno
import io
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import numpy as np


def make_folder(path: Path) -> None:
    """Create folder ``path`` and its parents as needed; a file in the way is a ``NotADirectoryError`` naming it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(errno.ENOTDIR, "it is not a folder", str(path)) from None


def write_atomic(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, renamed into place.

    If anything fails before the rename, the temporary file is removed and ``path`` is as it was. The file
    is created with mode 0666 less the umask, like any new file (``mkstemp`` would make it 0600).
    """
    target = Path(path)
    make_folder(target.parent)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def npz(arrays: Mapping[str, np.ndarray]) -> bytes:
    """Arrays as the bytes of an ``.npz`` file, to be written atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()
