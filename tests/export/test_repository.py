"""The model repository on disk: paths stay inside it, it appears whole or not at all, one export claims a
model, a hand-written settings.json stays, OS errors are ExportErrors, and files are readable by other users.

Interruptions are real: a process exporting in a loop gets SIGINT (caught, as in a notebook, or ending it)
or SIGKILL at random moments, and every trial must leave nothing, a complete old or a complete new repository.
"""

import errno
import os
import queue
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

import ainative
from ainative.export import files
from ainative.export.serving import export_serving
from tests.cells import LOGISTIC, MLP
from tests.export.exporter import DIMS, OPTIONS

ROOT = Path(__file__).resolve().parents[2]
#: how a path that is a file where a folder should be is reported: the system's words, or ours
NOT_A_FOLDER = "Not a directory|is not a folder"
#: how a folder that cannot be written is reported (root: the immutable attribute; others: the mode)
NOT_PERMITTED = "Operation not permitted|Permission denied"
MODEL_FILES = ["mlp/1/model.onnx", "mlp/config.pbtxt", "mlp/inferenceservice.yaml", "mlp/metadata.json",
               "mlp/model-settings.json"]


@pytest.fixture(scope="module")
def mlp():
    model = ainative.model(MLP, header="mlp(x) -> y")
    return model, [model.init(seed, **DIMS) for seed in (0, 1)]


@pytest.fixture(scope="module")
def references(mlp, tmp_path_factory):
    """The complete repository of each seed, file by file: what every interrupted export is compared with."""
    model, params = mlp
    found = {}
    for seed, value in enumerate(params):
        root = tmp_path_factory.mktemp(f"reference{seed}")
        model.export_serving(root, value, **OPTIONS[seed])
        found[seed] = contents(root)
    assert sorted(found[0]) == sorted([*MODEL_FILES, "settings.json"])
    assert all(found[0][name] != found[1][name.replace("/1/", "/2/")] for name in MODEL_FILES)
    return found


def contents(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.relative_to(root).parts[0].startswith(".")}


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def state(root: Path, references) -> str:
    """``nothing`` (no repository), ``seed N`` (the whole repository of seed N), or what was found instead."""
    if not root.exists():
        return "nothing"
    found = contents(root)
    seeds = [seed for seed, reference in references.items() if found == reference]
    return f"seed {seeds[0]}" if seeds else f"partial: {sorted(found)}"


def retry(mlp, root: Path, found: str, references) -> None:
    """A retry succeeds: without overwrite where nothing is there, with it over a whole repository; no leftovers."""
    model, params = mlp
    model.export_serving(root, params[1], overwrite=found != "nothing", **OPTIONS[1])
    assert state(root, references) == "seed 1"
    assert hidden(root) == [] and hidden(root.parent) == []


# ---------------------------------------------------------------------------------------------------------------
# paths a user supplies


def write_onnx_of(mlp):
    model, params = mlp
    return lambda path, overwrite: model.export_onnx(path, params[0], overwrite=overwrite)


@pytest.mark.parametrize("version", ["../../x", "ABSOLUTE", "", ".", "..", "a/b", "a\\b", "a\0b", ".hidden"])
def test_a_version_is_a_plain_name(mlp, tmp_path, version):
    outside = tmp_path / "outside"
    version = str(outside) if version == "ABSOLUTE" else version
    with pytest.raises(ainative.ExportError, match="version") as caught:
        mlp[0].export_serving(tmp_path / "deep" / "repo", mlp[1][0], version=version)
    assert caught.value.code == "export"
    assert not outside.exists() and sorted(os.listdir(tmp_path)) == []


@pytest.mark.parametrize("name", ["../x", "ABSOLUTE", "", ".", "..", "a/b", "a\0b", ".hidden"])
def test_a_model_name_is_a_plain_name(mlp, tmp_path, name):
    outside = tmp_path / "outside"
    name = str(outside) if name == "ABSOLUTE" else name
    with pytest.raises(ainative.ExportError, match="model name"):
        export_serving(name, tmp_path / "repo", write_onnx_of(mlp))
    assert not outside.exists() and sorted(os.listdir(tmp_path)) == []


def test_a_symlinked_model_folder_is_not_written_through(mlp, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("theirs")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "mlp").symlink_to(elsewhere)
    for overwrite in (False, True):
        with pytest.raises(ainative.ExportError, match="symbolic link"):
            mlp[0].export_serving(root, mlp[1][0], overwrite=overwrite)
    assert os.listdir(elsewhere) == ["keep"] and (root / "mlp").is_symlink()


def test_a_symlinked_settings_file_is_left_alone(mlp, tmp_path):
    theirs = tmp_path / "theirs.json"
    theirs.write_text("{}\n")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "settings.json").symlink_to(theirs)
    report = mlp[0].export_serving(root, mlp[1][0])
    assert theirs.read_text() == "{}\n" and (root / "settings.json").is_symlink()
    assert report.kept == (str(root / "settings.json"),)


def test_a_symlinked_repository_folder_is_followed_once(mlp, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    report = mlp[0].export_serving(tmp_path / "link", mlp[1][0])
    assert report.folder == str(tmp_path / "link") and sorted(contents(real)) == [*MODEL_FILES, "settings.json"]


# ---------------------------------------------------------------------------------------------------------------
# a whole repository or none


def test_a_full_disk_at_any_file_leaves_the_repository_as_it_was(mlp, tmp_path, references, monkeypatch):
    model, params = mlp
    root = tmp_path / "repo"
    fsync, calls, failed = os.fsync, [0], []

    def full_disk_at(n):
        def sync(fd):
            calls[0] += 1
            if calls[0] == n:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            fsync(fd)
        return sync

    for existing in ("nothing", "seed 0"):
        if existing == "seed 0":
            model.export_serving(root, params[0], **OPTIONS[0])
        for n in range(1, 20):
            calls[0] = 0
            monkeypatch.setattr(files.os, "fsync", full_disk_at(n))
            try:
                model.export_serving(root, params[1], overwrite=True, **OPTIONS[1])
            except ainative.ExportError as error:
                assert "No space left on device" in str(error) and str(tmp_path) in str(error)
                failed.append(n)
            else:
                break
            finally:
                monkeypatch.setattr(files.os, "fsync", fsync)
            assert state(root, references) == existing and hidden(root.parent) == []
            assert not root.exists() or hidden(root) == []
        assert state(root, references) == "seed 1"
        shutil.rmtree(root)
    assert len(failed) >= 2 * 6


def test_a_leftover_of_a_killed_export_is_removed_and_one_in_use_is_not(mlp, tmp_path):
    model, params = mlp
    root = tmp_path / "repo"
    model.export_serving(root, params[0])
    (root / f"{files.LEFTOVER}mlp-killed" / "mlp").mkdir(parents=True)
    with files.workspace(root, "other") as held:
        (held / "building").write_text("in use")
        model.export_serving(root, params[1], overwrite=True)
        assert hidden(root) == [held.name] and (held / "building").read_text() == "in use"
    assert hidden(root) == []


def start_exporters(count: int) -> list[subprocess.Popen]:
    """Exporter processes; what each prints to stdout is read into a queue (``answer``), what it prints to stderr
    goes to a temporary file, for the message if it ends."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT)}
    processes = []
    for _ in range(count):
        errors = tempfile.TemporaryFile("w+")
        process = subprocess.Popen([sys.executable, "-m", "tests.export.exporter"], cwd=ROOT, env=env, text=True,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors)
        process.errors, process.lines = errors, queue.Queue()
        threading.Thread(target=read_lines, args=(process,), daemon=True).start()
        processes.append(process)
    return processes


def read_lines(process: subprocess.Popen) -> None:
    """Put each line the exporter prints into its queue, and an empty one when it ends."""
    for line in iter(process.stdout.readline, ""):
        process.lines.put(line.strip())
    process.lines.put("")


def ask(process: subprocess.Popen, command: str) -> None:
    process.stdin.write(command + "\n")
    process.stdin.flush()


def answer(process: subprocess.Popen, seconds: float = 120) -> str | None:
    """The exporter's next line, or None when none comes in ``seconds``."""
    try:
        line = process.lines.get(timeout=seconds)
    except queue.Empty:
        return None
    if not line:
        process.wait(timeout=30)
        process.errors.seek(0)
        raise AssertionError(f"the exporter ended (exit status {process.returncode}):\n{process.errors.read()[-3000:]}")
    return line


def interrupt(process: subprocess.Popen) -> str:
    """A Ctrl-C, pressed again until the exporter answers, as a user would: one can be lost, when it lands in one of
    the bare ``except:`` clauses JAX's tracing runs through (``core.is_constant_dim``), which swallow it."""
    for _ in range(5):
        process.send_signal(signal.SIGINT)
        said = answer(process, seconds=15)
        if said is not None:
            return said
    raise AssertionError("the exporter answered none of five interrupts")


def test_killed_and_interrupted_exports_leave_nothing_the_old_or_the_new_repository(mlp, tmp_path, references):
    """Each exporter gets SIGINTs it catches (a notebook's Ctrl-C), then one that ends it or a SIGKILL."""
    rng = random.Random(0)
    exporters, outcomes, trial = start_exporters(10), [], 0
    try:
        for number, process in enumerate(exporters):
            assert answer(process) == "ready"
            for last in (False, False, False, True):
                root = tmp_path / "trials" / f"repo{trial // 2}"
                allowed = {"nothing", "seed 0", "seed 1"} if trial % 2 == 0 else {"seed 0", "seed 1"}
                kill = signal.SIGKILL if last and number % 2 else signal.SIGINT
                ask(process, f"{'die' if last else 'loop'} {root}")
                assert answer(process) == "started"
                time.sleep(rng.uniform(0, 0.15))
                if last:
                    process.send_signal(kill)
                    process.wait(timeout=30)
                else:
                    assert interrupt(process) == "interrupted"
                found = state(root, references)
                outcomes.append((kill.name, found))
                assert found in allowed, f"trial {trial} ({kill.name}): {found}"
                retry(mlp, root, found, references)
                trial += 1
    finally:
        for process in exporters:
            process.kill()
            process.wait()
    assert len(outcomes) == 40 and sum(kill == "SIGKILL" for kill, _ in outcomes) == 5
    assert {found for _, found in outcomes} >= {"seed 0", "seed 1"}


# ---------------------------------------------------------------------------------------------------------------
# one export claims a model


def race(mlp, root: Path) -> list[str]:
    """Export each seed into ``root`` from its own thread, all let go at once; what each got, sorted."""
    model, params = mlp
    start, results = threading.Barrier(len(params)), []

    def export(seed):
        start.wait()
        try:
            model.export_serving(root, params[seed], **OPTIONS[seed])
            results.append("ok")
        except ainative.ExistsError:
            results.append("exists")

    threads = [threading.Thread(target=export, args=(seed,)) for seed in range(len(params))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results)


def test_racing_threads_one_wins_the_other_is_told_it_exists(mlp, tmp_path, references):
    """Odd trials race to create the repository folder, even ones to fill an empty one that exists."""
    for trial in range(20):
        root = tmp_path / f"repo{trial}"
        if trial % 2 == 0:
            root.mkdir()
        assert race(mlp, root) == ["exists", "ok"], f"trial {trial}"
        assert state(root, references) in ("seed 0", "seed 1") and hidden(root) == [] and hidden(tmp_path) == []


def test_racing_processes_one_wins_the_other_is_told_it_exists(tmp_path, references):
    """Odd trials race to create the repository folder, even ones to fill an empty one that exists."""
    exporters = start_exporters(2)
    try:
        assert [answer(p) for p in exporters] == ["ready", "ready"]
        for trial in range(20):
            root = tmp_path / f"repo{trial}"
            if trial % 2 == 0:
                root.mkdir()
            for seed, process in enumerate(exporters):
                ask(process, f"export {root} {seed} 0")
            results = sorted(answer(p) for p in exporters)
            assert results == ["exists", "ok"], f"trial {trial}: {results}"
            assert state(root, references) in ("seed 0", "seed 1") and hidden(root) == [] and hidden(tmp_path) == []
    finally:
        for process in exporters:
            process.kill()
            process.wait()


# ---------------------------------------------------------------------------------------------------------------
# settings.json belongs to the repository


def test_an_existing_settings_file_is_never_replaced(mlp, tmp_path):
    model, params = mlp
    root = tmp_path / "repo"
    first = model.export_serving(root, params[0])
    assert str(root / "settings.json") in first.files and first.kept == ()
    (root / "settings.json").write_text('{"debug": true}\n')
    logistic = ainative.model(LOGISTIC, header="logistic(x) -> p")
    second = logistic.export_serving(root, logistic.init(0, D=3))
    assert (root / "settings.json").read_text() == '{"debug": true}\n'
    assert second.kept == (str(root / "settings.json"),) and str(root / "settings.json") not in second.files
    assert "settings.json" in str(second) and second.to_json()["kept"] == [str(root / "settings.json")]
    model.export_serving(root, params[1], overwrite=True)
    assert (root / "settings.json").read_text() == '{"debug": true}\n'
    (root / "settings.json").unlink()
    again = model.export_serving(root, params[1], overwrite=True)
    assert '"parallel_workers": 0' in (root / "settings.json").read_text() and again.kept == ()


def test_without_hard_links_a_missing_settings_file_is_still_created_and_an_existing_one_kept(mlp, tmp_path,
                                                                                              monkeypatch):
    def refuse(*_):
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(files.os, "link", refuse)
    model, params = mlp
    model.export_serving(tmp_path, params[0])
    assert '"parallel_workers": 0' in (tmp_path / "settings.json").read_text()
    (tmp_path / "settings.json").write_text("{}\n")
    model.export_serving(tmp_path, params[1], overwrite=True)
    assert (tmp_path / "settings.json").read_text() == "{}\n"


def test_without_an_atomic_exchange_a_model_folder_is_still_replaced_whole(mlp, tmp_path, references, monkeypatch):
    monkeypatch.setattr(files, "exchange", lambda *_: False)
    model, params = mlp
    model.export_serving(tmp_path, params[0], **OPTIONS[0])
    model.export_serving(tmp_path, params[1], overwrite=True, **OPTIONS[1])
    assert state(tmp_path, references) == "seed 1" and hidden(tmp_path) == []


# ---------------------------------------------------------------------------------------------------------------
# OS errors are ExportErrors naming the path and the reason


def test_a_nul_in_a_path_is_an_export_error(mlp, tmp_path):
    model, params = mlp
    with pytest.raises(ainative.ExportError, match="NUL"):
        model.export_serving(f"{tmp_path}/re\0po", params[0])
    with pytest.raises(ainative.ExportError, match="NUL"):
        model.export_onnx(f"{tmp_path}/m\0lp.onnx", params[0])
    assert os.listdir(tmp_path) == []


def test_a_file_where_a_folder_should_be_is_an_export_error(mlp, tmp_path):
    model, params = mlp
    (tmp_path / "file").write_text("")
    for folder in (tmp_path / "file", tmp_path / "file" / "repo", tmp_path / "file" / "a" / "repo"):
        with pytest.raises(ainative.ExportError, match=NOT_A_FOLDER) as caught:
            model.export_serving(folder, params[0])
        assert str(tmp_path / "file") in str(caught.value)
    with pytest.raises(ainative.ExportError, match=NOT_A_FOLDER):
        model.export_onnx(tmp_path / "file" / "mlp.onnx", params[0])
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "mlp").write_text("")
    for overwrite in (False, True):
        with pytest.raises(ainative.ExportError, match=NOT_A_FOLDER) as caught:
            model.export_serving(tmp_path / "repo", params[0], overwrite=overwrite)
        assert str(tmp_path / "repo" / "mlp") in str(caught.value)
    assert sorted(os.listdir(tmp_path)) == ["file", "repo"] and os.listdir(tmp_path / "repo") == ["mlp"]


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder this process cannot write in: its mode says so, or, for root, whom modes do not stop, the
    immutable attribute (``chattr +i``)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    make, undo = (["chattr", "+i"], ["chattr", "-i"]) if os.geteuid() == 0 else (["chmod", "555"], ["chmod", "755"])
    if shutil.which(make[0]) is None or subprocess.run([*make, str(folder)], capture_output=True).returncode:
        pytest.skip(f"{make[0]} cannot make a folder read-only here")
    try:
        (folder / "probe").touch()
    except OSError:
        pass
    else:
        subprocess.run([*undo, str(folder)], check=True)
        pytest.skip(f"{' '.join(make)} does not stop this user writing in a folder here")
    yield folder
    subprocess.run([*undo, str(folder)], check=True)


def test_a_read_only_folder_is_an_export_error(mlp, read_only_folder):
    model, params = mlp
    with pytest.raises(ainative.ExportError, match=NOT_PERMITTED) as caught:
        model.export_serving(read_only_folder, params[0])
    assert str(read_only_folder) in str(caught.value) and os.listdir(read_only_folder) == []
    with pytest.raises(ainative.ExportError, match=NOT_PERMITTED):
        model.export_serving(read_only_folder / "repo", params[0])
    with pytest.raises(ainative.ExportError, match=NOT_PERMITTED):
        model.export_onnx(read_only_folder / "mlp.onnx", params[0])


# ---------------------------------------------------------------------------------------------------------------
# permissions


@pytest.mark.parametrize(("umask", "file_mode", "folder_mode"), [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)],
                         ids=["umask-022", "umask-027"])
def test_files_get_the_mode_the_umask_gives_new_files(mlp, tmp_path, umask, file_mode, folder_mode):
    model, params = mlp
    previous = os.umask(umask)
    try:
        model.export_serving(tmp_path / "repo", params[0])
        model.export_serving(tmp_path / "repo", params[1], overwrite=True)
        model.export_onnx(tmp_path / "mlp.onnx", params[0])
    finally:
        os.umask(previous)
    modes = {p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in tmp_path.rglob("*")}
    assert modes == {"mlp.onnx": file_mode, "repo": folder_mode, "repo/settings.json": file_mode,
                     "repo/mlp": folder_mode, "repo/mlp/1": folder_mode,
                     **{f"repo/{name}": file_mode for name in MODEL_FILES}}
