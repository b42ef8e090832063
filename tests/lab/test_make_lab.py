"""``make lab``, the README's command for the main job, starts JupyterLab on notebooks/ as any user.

Run as root (containers, CI), it serves only because make passes ``--allow-root``: Jupyter refuses otherwise.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.processes import free_port, stop

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ainative-make-lab"


def test_make_lab_serves_the_notebooks(tmp_path):
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "run"),
           "JUPYTER_DATA_DIR": str(tmp_path / "data"), "IPYTHONDIR": str(tmp_path / "ipython")}
    options = (f"--no-browser --port={port} --ServerApp.ip=127.0.0.1 --ServerApp.token={TOKEN} "
               "--ServerApp.port_retries=0 --LabApp.news_url=None")
    # The environments exist already (make test built them): -o keeps make from rebuilding them.
    server = subprocess.Popen(["make", "-s", "-C", str(ROOT), "-o", "install", "-o", "federated-install", "lab",
                               f"VENV={sys.prefix}", f"LAB_ARGS={options}"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, listing = time.monotonic() + 90, None
        while listing is None and server.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={TOKEN}", timeout=2) as r:
                    listing = json.load(r)
            except OSError:
                time.sleep(0.3)
    finally:
        stop(server)
    output = server.stdout.read().decode()
    assert listing is not None, f"make lab did not serve (as uid {os.geteuid()}):\n{output}"
    assert {"quickstart.ipynb", "eight_schools.ipynb"} <= {item["name"] for item in listing["content"]}
    assert "JupyterLab with ainative, opening notebooks/" in output
