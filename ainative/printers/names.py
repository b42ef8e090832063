"""Identifiers in generated code: a model's names made safe, and the names the code itself uses.

Generated code imports modules and names its own arguments; a model variable called ``lambda``,
``jnp`` or ``dist`` must not take those, so it gets a trailing underscore. Modules are recorded
fully qualified while printing and spelled here, ``jax.numpy`` as ``jnp`` and the distribution
modules as ``dist``, so the import lines say exactly what the code uses.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable

#: modules generated code refers to by a short name
ALIASES = {"jax.numpy": "jnp", "pyro.distributions": "dist", "numpyro.distributions": "dist"}

#: names generated code binds itself: its imports and the parameters of a deterministic model
GENERATED = frozenset({"jax", "jnp", "params", "torch", "pyro", "numpyro", "dist"})

RESERVED = frozenset(keyword.kwlist) | GENERATED


def python_name(name: str) -> str:
    """The identifier a model name gets in generated code (``lambda`` → ``lambda_``)."""
    return name + "_" if name in RESERVED else name


def qualified(fqn: str) -> str:
    """How generated code writes a fully qualified name: through its module's alias when it has one."""
    module, _, name = fqn.rpartition(".")
    return f"{ALIASES[module]}.{name}" if module in ALIASES else fqn


def import_lines(modules: Iterable[str]) -> list[str]:
    """The import lines for the modules printed code uses, one a module, aliased where ``ALIASES`` says."""
    return [f"import {m} as {ALIASES[m]}" if m in ALIASES else f"import {m}" for m in sorted(set(modules))]
