"""One JAX CPU device per chain: importing ainative before JAX starts gives it four (or one a core), so NUTS runs
four chains in parallel; a device count the user gave XLA, and a JAX that has already started, are left alone."""

import json
import os
import subprocess
import sys

import pytest

PROGRAM = """
import json, sys
order = sys.argv[1]
if order == "jax-started":
    import jax
    jax.devices()
import ainative
import jax
print(json.dumps({"devices": jax.local_device_count(), "platform": jax.devices()[0].platform,
                  "flags": __import__("os").environ.get("XLA_FLAGS", "")}))
"""


def run(order: str, **environment) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env.update(JAX_PLATFORMS="cpu", AINATIVE_COMPILATION_CACHE="0", **environment)
    done = subprocess.run([sys.executable, "-c", PROGRAM, order], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_jax_gets_a_cpu_device_for_each_chain():
    seen = run("ainative-first")
    assert seen["devices"] == max(4, os.cpu_count()) and seen["platform"] == "cpu"


@pytest.mark.parametrize("flags", ["--xla_force_host_platform_device_count=2",
                                   "--xla_cpu_enable_fast_math=false --xla_force_host_platform_device_count=3"])
def test_a_device_count_the_user_chose_is_kept(flags):
    seen = run("ainative-first", XLA_FLAGS=flags)
    assert seen["flags"] == flags and seen["devices"] == int(flags[-1])


def test_other_xla_flags_are_kept_beside_the_count():
    seen = run("ainative-first", XLA_FLAGS="--xla_cpu_enable_fast_math=false")
    assert seen["flags"].startswith("--xla_cpu_enable_fast_math=false ") and seen["devices"] == max(4, os.cpu_count())


def test_a_jax_that_has_started_is_left_as_it_is():
    seen = run("jax-started")
    assert seen["devices"] == 1 and seen["flags"] == ""
