"""Writing folders so that a reader never sees half of them, and refusing to replace what exists unasked.

A file goes to a temporary file in its folder and is renamed into place (``runtime.atomic``). A folder of files (a model
repository) is built inside a *workspace*, a hidden folder next to where it goes, then renamed into place
in one step. A workspace is locked (``flock``) while its export runs; one whose lock nobody holds was left
by an export that was killed, and the next export in that folder removes it. Every file and folder gets
the mode the process's umask gives any new one, so a server running as another user can read them.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from ..errors import ExistsError, ExportError

#: how every workspace's name starts: the mark by which leftovers of killed exports are recognised
LEFTOVER = ".ainative-export-"
#: Linux's ``renameat2`` flag that swaps two paths, and the "current folder" for its path arguments
RENAME_EXCHANGE, AT_FDCWD = 2, -100


def checked(path: str | os.PathLike) -> Path:
    """``path`` as a ``Path``, or an ``ExportError`` when it holds a NUL character, which no system call takes."""
    text = os.fspath(path)
    if "\0" in text:
        raise ExportError(f"{text!r} contains a NUL character, which no path can hold")
    return Path(text)


@contextmanager
def os_errors(path: str | os.PathLike) -> Iterator[None]:
    """Turn an ``OSError`` into an ``ExportError`` naming the path it concerns (else ``path``) and the reason."""
    try:
        yield
    except OSError as error:
        where = error.filename if error.filename is not None else path
        raise ExportError(f"cannot write {where}: {error.strerror or error}") from error


def refuse_to_overwrite(path: str | os.PathLike, overwrite: bool) -> None:
    """An ``ExistsError`` when ``path`` exists and replacing it was not asked for."""
    with os_errors(path):
        exists = checked(path).exists()
    if not overwrite and exists:
        raise ExistsError(f"{path} exists; pass overwrite=True to replace it")


def _locked(path: str | os.PathLike, blocking: bool) -> int | None:
    """An open descriptor of folder ``path`` holding its exclusive lock, or None when another holds it."""
    handle = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BaseException as error:
        os.close(handle)
        if isinstance(error, BlockingIOError):
            return None
        raise
    return handle


def _remove_if_abandoned(path: str) -> None:
    handle = _locked(path, blocking=False)
    if handle is not None:
        try:
            shutil.rmtree(path)
        finally:
            os.close(handle)


def clean_leftovers(folder: Path) -> None:
    """Remove the workspaces in ``folder`` that no running export holds: those of exports that were killed.

    One that cannot be removed (another user's, or one another export is removing) stays: it is hidden,
    and nothing reads it.
    """
    for entry in os.scandir(folder):
        if entry.name.startswith(LEFTOVER) and entry.is_dir(follow_symlinks=False):
            with suppress(OSError):
                _remove_if_abandoned(entry.path)


def _hold(path: Path) -> int | None:
    """The lock of the folder just made at ``path``, or None when a cleaner removed it before it was taken."""
    try:
        handle = _locked(path, blocking=True)
    except FileNotFoundError:
        return None
    with suppress(FileNotFoundError):
        if os.path.samestat(os.fstat(handle), os.stat(path)):
            return handle
    os.close(handle)
    return None


@contextmanager
def workspace(folder: Path, label: str) -> Iterator[Path]:
    """A new, locked, hidden folder in ``folder`` to build in, removed with all it holds on the way out.

    Between making the folder and locking it, another export's cleaning may remove it: then a new one is made.
    The lock is let go on the way out even when an interrupt stops the removal (what is left is then a
    leftover like any other), so that a process that lives on, a notebook's, holds no lock on a folder it
    no longer uses.
    """
    handle = None
    try:
        while handle is None:
            path = Path(tempfile.mkdtemp(dir=folder, prefix=f"{LEFTOVER}{label}-"))
            handle = _hold(path)
        yield path
    finally:
        try:
            if handle is not None:
                _remove(path)
        finally:
            if handle is not None:
                os.close(handle)


def _remove(path: Path) -> None:
    """Remove a folder and all it holds, errors ignored, and an interrupt kept as the interrupt: Python 3.11's
    ``rmtree`` closes a descriptor a second time when a Ctrl-C lands between closing it and noting so, and the
    ``EBADF`` of that second close would otherwise replace the ``KeyboardInterrupt`` (and become an ExportError)."""
    try:
        shutil.rmtree(path, ignore_errors=True)
    except OSError as error:
        if isinstance(error.__context__, KeyboardInterrupt):
            raise error.__context__ from None
        raise


def exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths in one step (Linux ``renameat2``); False where the system or file system cannot."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None) if sys.platform == "linux" else None
    if renameat2 is None:
        return False
    if renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


def claim(folder: Path, target: Path) -> bool:
    """Rename ``folder`` to ``target`` unless ``target`` is a folder with something in it: the check and the
    move are one step, so of two exports racing for ``target`` exactly one gets True."""
    try:
        os.rename(folder, target)
    except OSError as error:
        if error.errno in (errno.ENOTEMPTY, errno.EEXIST):
            return False
        raise
    return True


def replace_folder(folder: Path, target: Path, attic: Path) -> None:
    """Put ``folder`` at ``target`` whatever is there. What was there ends up in ``attic``'s folder (or at
    ``folder``'s old place, after a swap), for the caller to remove. Readers see the old folder or the new one;
    where the two cannot be swapped in one step, for a moment neither."""
    while not claim(folder, target):
        try:
            if exchange(folder, target):
                return
            os.rename(target, attic / f"replaced-{secrets.token_hex(6)}")
        except FileNotFoundError:
            continue


def create_once(source: Path, target: Path) -> bool:
    """Give file ``source`` the name ``target`` unless ``target`` exists (whatever it is): True if it did.

    A hard link checks and creates in one step; where the file system has none, the check and the rename
    are two steps.
    """
    try:
        os.link(source, target)
    except FileExistsError:
        return False
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.EOPNOTSUPP):
            raise
        if os.path.lexists(target):
            return False
        os.rename(source, target)
    return True
