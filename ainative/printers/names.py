"""Identifiers in generated code: one for each model name, and none the code's own names can take.

A model name, as the lexer gives it, is a Python identifier in NFKC form that starts with a letter
and never ends with ``_`` nor holds ``__``. It is its own identifier, except a Python keyword or
``params`` (the generated function's first argument), which gets one trailing ``_``; no model name
ends so, so the mapping is one-to-one. Everything the generated code names itself starts with
``_``, which no model name does: the module aliases (``_jnp``, ``_dist``…), temporaries, plate
functions and contexts. Modules are recorded fully qualified while printing and written through
their aliases here, so the import lines say exactly what the code uses.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable

#: every module generated code uses, and the private name it binds it to
ALIASES = {
    "jax": "_jax", "jax.lax": "_lax", "jax.numpy": "_jnp", "jax.nn": "_jnn", "jax.scipy.special": "_jss",
    "jax.numpy.linalg": "_jla", "torch": "_torch", "torch.nn.functional": "_tnf", "torch.linalg": "_tla",
    "pyro": "_pyro", "pyro.distributions": "_dist", "numpyro": "_numpyro", "numpyro.distributions": "_dist",
    "pyro.distributions.constraints": "_constraints", "numpyro.distributions.constraints": "_constraints",
    "ainative.runtime.improper": "_improper",
    "ainative.runtime.truncated.for_pyro": "_truncated", "ainative.runtime.truncated.for_numpyro": "_truncated",
    "ainative.runtime.chains.for_pyro": "_chains", "ainative.runtime.chains.for_numpyro": "_chains",
}

#: model names that are not identifiers as they are: Python's keywords, and the generated function's argument
RESERVED = frozenset(keyword.kwlist) | {"params"}


def python_name(name: str) -> str:
    """The identifier a model name gets in generated code (``lambda`` → ``lambda_``).

    A recurrence step's row ``h@1`` (``h_{t-1}``) is the step's own ``_h_t1``; ``x@0`` is ``_x_t``; an initial
    row ``h#1`` (``h_1``) is ``_h_1``.
    """
    if "#" in name:
        base, _, position = name.rpartition("#")
        return f"_{base}_{position}"
    if "@" in name:
        base, _, lag = name.rpartition("@")
        shift = "" if lag == "0" else f"m{lag[1:]}" if lag.startswith("-") else lag
        return f"_{base}_t{shift}"
    return name + "_" if name in RESERVED else name


def qualified(fqn: str) -> str:
    """How generated code writes a fully qualified name: through its module's private alias."""
    module, _, name = fqn.rpartition(".")
    return f"{ALIASES[module]}.{name}"


def import_lines(modules: Iterable[str]) -> list[str]:
    """The import lines for the modules printed code uses, each bound to its private alias."""
    return [f"import {m} as {ALIASES[m]}" for m in sorted(set(modules))]
