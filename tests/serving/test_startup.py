"""``ainative serve`` refuses to start, loudly and before it listens: bad options, taken ports, broken repositories."""

import json
import shutil
import subprocess
import sys
import time

import pytest

from ainative.cli import main
from tests.processes import free_port, listening, stop
from tests.serving.conftest import model_ready


def serve(folder, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``ainative serve`` expecting it to exit by itself."""
    return subprocess.run([sys.executable, "-m", "ainative.cli", "serve", str(folder), *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize(("args", "words"), [
    (["--port", "70000"], "70000 is not a port"),
    (["--port", "0"], "0 is not a port"),
    (["--port", "http"], "'http' is not a port number"),
    (["--port", "8080", "--grpc-port", "8080"], "--grpc-port"),
    (["--port", "65535"], "--grpc-port"),
    (["--max-request-bytes", "0"], "not above zero"),
    (["--request-timeout", "-1"], "not above zero"),
])
def test_bad_options_are_refused(exported, capsys, args, words):
    _, _, folder = exported
    with pytest.raises(SystemExit) as info:
        main(["serve", str(folder), *args])
    assert info.value.code == 2 and words in capsys.readouterr().err


def test_a_short_token_is_refused(exported, capsys, monkeypatch):
    _, _, folder = exported
    monkeypatch.setenv("AINATIVE_REPOSITORY_TOKEN", "short")
    with pytest.raises(SystemExit) as info:
        main(["serve", str(folder)])
    assert info.value.code == 2 and "shorter than 16" in capsys.readouterr().err


@pytest.mark.parametrize("taken", ["grpc", "http"])
def test_a_port_in_use_stops_the_second_server_before_it_loads(exported, server, taken):
    _, _, folder = exported
    port = server.grpc_port if taken == "grpc" else server.port
    other = free_port()
    args = ["--port", str(other), "--grpc-port", str(port)] if taken == "grpc" else ["--port", str(port),
                                                                                      "--grpc-port", str(other)]
    result = serve(folder, *args)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Address already in use" in result.stderr
    assert "Loaded model" not in result.stdout + result.stderr
    assert not listening(other) and model_ready(server)


def broken_repository(exported, tmp_path, break_it):
    _, _, folder = exported
    copy = tmp_path / "repository"
    shutil.copytree(folder, copy)
    break_it(copy)
    return copy


def truncate_onnx(folder):
    path = folder / "mlp" / "1" / "model.onnx"
    path.write_bytes(path.read_bytes()[:100])


def break_model_settings(folder):
    (folder / "mlp" / "model-settings.json").write_text('{"name": "mlp", "implementation": ')


def unknown_runtime(folder):
    path = folder / "mlp" / "model-settings.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "implementation": "nowhere.Model"}))


def break_settings(folder):
    (folder / "settings.json").write_text('{"parallel_workers": "many"}')


def remove_models(folder):
    shutil.rmtree(folder / "mlp")


@pytest.mark.parametrize(("break_it", "words"), [
    (truncate_onnx, "model mlp ({folder}/mlp/model-settings.json) could not be loaded"),
    (break_model_settings, "{folder}/mlp/model-settings.json is not valid MLServer model settings"),
    (unknown_runtime, "model mlp ({folder}/mlp/model-settings.json) could not be loaded"),
    (break_settings, "{folder}/settings.json is not valid MLServer settings"),
    (remove_models, "holds no model"),
])
def test_a_broken_repository_is_refused_and_never_listens(exported, tmp_path, break_it, words):
    folder = broken_repository(exported, tmp_path, break_it)
    port, grpc_port = free_port(), free_port()
    process = subprocess.Popen([sys.executable, "-m", "ainative.cli", "serve", str(folder), "--port", str(port),
                                "--grpc-port", str(grpc_port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    opened, deadline = False, time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        opened = opened or listening(port) or listening(grpc_port)
        time.sleep(0.02)
    if process.poll() is None:
        stop(process)
        pytest.fail("ainative serve kept running on a broken repository")
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 1 and words.format(folder=folder) in stderr
    assert not opened, "a port opened although the repository is broken"


def test_a_taken_metrics_port_stops_the_server_before_it_loads(exported, server, tmp_path):
    def metrics_on_a_taken_port(folder):
        settings = json.loads((folder / "settings.json").read_text())
        (folder / "settings.json").write_text(json.dumps({**settings, "metrics_endpoint": "/metrics",
                                                          "metrics_port": server.port}))

    folder = broken_repository(exported, tmp_path, metrics_on_a_taken_port)
    http_port, grpc_port = free_port(), free_port()
    result = serve(folder, "--port", str(http_port), "--grpc-port", str(grpc_port))
    assert result.returncode == 1 and f"cannot listen on 127.0.0.1:{server.port}" in result.stderr
    assert "Loaded model" not in result.stdout + result.stderr and not listening(http_port)
