"""JAX's persistent compilation cache: on by default in a per-user folder once ainative is imported, written by
a compilation and read back by a new process; off when asked; the user's own JAX settings left alone."""

import json
import os
import subprocess
import sys

import pytest

PROGRAM = """
import json, sys
first = sys.argv[1] == "jax-first"
if first:
    import jax
import ainative
import jax
import jax.numpy as jnp
events = []
jax.monitoring.register_event_listener(lambda name, **_: events.append(name))
jax.jit(lambda x: jnp.sin(x) * 3 + x ** 2)(jnp.arange(5.0)).block_until_ready()
print(json.dumps({"folder": jax.config.jax_compilation_cache_dir,
                  "min_time": jax.config.jax_persistent_cache_min_compile_time_secs,
                  "hits": events.count("/jax/compilation_cache/cache_hits")}))
"""


def run(tmp_path, order="ainative-first", **environment) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "AINATIVE_"))}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), HOME=str(tmp_path), **environment)
    done = subprocess.run([sys.executable, "-c", PROGRAM, order], env=env, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("order", ["ainative-first", "jax-first"])
def test_compiled_programs_are_kept_in_a_per_user_folder(tmp_path, order):
    folder = tmp_path / "cache" / "ainative" / "jax"
    assert run(tmp_path, order) == {"folder": str(folder), "min_time": 0.0, "hits": 0}
    assert any(folder.iterdir()), "the compilation wrote nothing to the cache"
    assert run(tmp_path, order)["hits"] >= 1, "a new process compiled the same program again"


def test_the_cache_can_be_moved_or_turned_off(tmp_path):
    moved = tmp_path / "elsewhere"
    assert run(tmp_path, AINATIVE_CACHE_DIR=str(moved))["folder"] == str(moved) and any(moved.iterdir())
    assert run(tmp_path, AINATIVE_COMPILATION_CACHE="0")["folder"] is None
    assert not (tmp_path / "cache").exists()


def test_a_folder_the_user_gave_jax_is_kept(tmp_path):
    own = tmp_path / "mine"
    assert run(tmp_path, JAX_COMPILATION_CACHE_DIR=str(own))["folder"] == str(own)
    assert not (tmp_path / "cache").exists()
