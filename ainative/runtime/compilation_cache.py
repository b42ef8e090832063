"""JAX's persistent compilation cache, on by default in a per-user folder: a model fitted again in a new
process (a restarted kernel, a pipeline step) loads its compiled programs instead of compiling them.

``configure`` only sets JAX's options (as environment defaults before JAX is imported, through its config
after), so importing ainative stays light. ``AINATIVE_COMPILATION_CACHE=0`` turns it off;
``AINATIVE_CACHE_DIR`` moves it; an option the user set for JAX in the environment is left as it is.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def folder() -> Path:
    """Where compiled programs are kept: ``$AINATIVE_CACHE_DIR``, else ``$XDG_CACHE_HOME/ainative/jax``, else
    ``~/.cache/ainative/jax``."""
    if os.environ.get("AINATIVE_CACHE_DIR"):
        return Path(os.environ["AINATIVE_CACHE_DIR"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ainative" / "jax"


def enabled() -> bool:
    """Whether the cache is on: unless ``AINATIVE_COMPILATION_CACHE`` is 0, off, false or no."""
    return os.environ.get("AINATIVE_COMPILATION_CACHE", "1").strip().lower() not in ("0", "off", "false", "no")


def _settings() -> dict[str, tuple[str, str, object]]:
    """Each JAX option: its environment variable, and its value as text and as JAX's config takes it. Every
    compiled program is kept: JAX's defaults skip those compiled in under a second, most of a sampler's."""
    where = str(folder())
    return {"jax_compilation_cache_dir": ("JAX_COMPILATION_CACHE_DIR", where, where),
            "jax_persistent_cache_min_compile_time_secs": ("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0", 0.0),
            "jax_persistent_cache_min_entry_size_bytes": ("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0", 0)}


def configure() -> None:
    """Turn the cache on unless it is turned off, without importing JAX."""
    if not enabled():
        return
    jax = sys.modules.get("jax")
    for option, (variable, text, value) in _settings().items():
        if variable in os.environ:
            continue
        os.environ[variable] = text
        if jax is not None:
            jax.config.update(option, value)
