"""Data-parallel fit on 1, 2, 4 and 8 host devices: the mechanism (real speed-up needs real devices)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, sys.argv[1])
    import jax, numpy as np, optax, ainative
    from cells import CLASSIFIER
    m = ainative.model(CLASSIFIER, header="mlp(x, t) -> y, L")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4096, 784)).astype(np.float32)
    t = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 4096)]
    start = m.init(0, D=784, H=128, K=10)
    rates = {}
    for n in (1, 2, 4, 8):
        run = lambda steps: m.fit(start, {"x": x, "t": t}, loss="L", steps=steps, batch_size=512,
                                  devices=jax.devices()[:n], progress=False)
        run(2)
        begin = time.perf_counter()
        run(40)
        rates[n] = 40 * 512 / (time.perf_counter() - begin)
    print(json.dumps(rates))
""")


def rows() -> list[tuple[str, str, str, str, str]]:
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu"}
    here = Path(__file__).resolve().parent
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(here)], env=env, capture_output=True, text=True,
                         check=True, cwd=here.parent)
    rates = json.loads(out.stdout.strip().splitlines()[-1])
    return [(f"data-parallel fit, MLP 784→128→10, batch 512, {n} host device(s)", f"{rate:,.0f} examples/s", "",
             f"{rate / rates['1']:.2f}× of 1 device", "mechanism only")
            for n, rate in rates.items()]
