"""Data-parallel training over a JAX device mesh (8 host devices in a subprocess), and placement."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import ainative
from tests.cells import REGRESSION

ROOT = Path(__file__).resolve().parents[2]

SHARDED = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[1])
    import jax, numpy as np, optax, ainative
    from jax.sharding import Mesh
    from tests.cells import CLASSIFIER
    m = ainative.model(CLASSIFIER, header="mlp(x, t) -> y, L")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 2)).astype(np.float32)
    t = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 256)]
    start = m.init(0, D=2, H=16, K=3)
    run = lambda **kw: m.fit(start, {"x": x, "t": t}, loss="L", steps=30, batch_size=64,
                             optimizer=optax.adam(1e-2), progress=False, **kw)
    one, eight = run(), run(devices=jax.devices())
    four = run(mesh=Mesh(np.array(jax.devices()[:4]), ("batch",)))
    try:
        m.fit(start, {"x": x, "t": t}, loss="L", steps=1, batch_size=60, devices=jax.devices(), progress=False)
        error = None
    except ainative.DataError as e:
        error = str(e)
    print(json.dumps({
        "history": float(np.abs(one.history - eight.history).max()),
        "params": max(float(np.abs(one.params[k] - eight.params[k]).max()) for k in start),
        "four": float(np.abs(one.history - four.history).max()),
        "devices": sorted({len(v.devices()) for v in eight.params.values()}),
        "spec": str(eight.params["W_1"].sharding.spec),
        "error": error,
        "table": [v.device for v in m.variables() if v.name == "W_1"],
    }))
""")


def test_sharded_fit_equals_single_device_fit():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", SHARDED, str(ROOT)], env=env, capture_output=True, text=True,
                         check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["history"] < 1e-5 and result["params"] < 1e-5 and result["four"] < 1e-5
    assert result["devices"] == [8] and result["spec"] in ("P()", "PartitionSpec()")
    assert "batch_size 60 does not split over 8 devices: use a multiple of 8 (e.g. 56)" in result["error"]
    assert result["table"] == [", ".join(f"cpu:{i}" for i in range(4))]  # the latest fit: the 4-device mesh


def test_pyro_device_must_exist():
    m = ainative.model(REGRESSION, header="regression(X, y)")
    data = {"X": np.ones((4, 2)), "y": np.ones(4)}
    with pytest.raises(ainative.ModelError, match="no PyTorch device 'cuda:3'; PyTorch sees cpu"):
        m.fit(data, method="svi", steps=2, device="cuda:3", progress=False)
    posterior = m.fit(data, method="svi", steps=5, num_samples=10, device="cpu", progress=False)
    assert posterior.samples["beta"].shape == (10, 2)
    numpyro = ainative.model(REGRESSION, header="regression(X, y) --backend numpyro")
    with pytest.raises(ainative.ModelError, match="no JAX device 'tpu:0'"):
        numpyro.fit(data, method="svi", steps=2, device="tpu:0", progress=False)
