"""Pointwise log-likelihood of a fit: each observed variable's log density, entry by entry, at each posterior draw.

ArviZ's LOO and model comparison read it. It is computed after sampling from the generated program with the
continuous latents substituted, so it is the density of the observations given them. A class label NUTS sums out
(``z_i ~ Categorical(θ)``) is summed out here too: the term of ``y_i`` is ``log Σ_k P(z_i = k) p(y_i | z_i = k)``,
which is right because the labels are independent given the continuous latents and ``y_i`` reads only ``z_i``.
Where no such term is right, the variable is left out with a warning rather than given a wrong one.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from ...frontend.ir import Factor, ModelIR
from ...frontend.roles import used_names
from ...printers.probabilistic import emissions, enumerated_latents


class LikelihoodWarning(UserWarning):
    """An observed variable has no pointwise log-likelihood (LOO and ``compare`` leave it out)."""


def pointwise(ir: ModelIR, backend, program: Callable, draws: dict[str, np.ndarray], args, kwargs,
              classes: dict[str, int], shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Each observed variable's log-likelihood terms, ``(draws, *terms)``, given ``draws`` of the continuous latents;
    the variables no term is right for are left out, each with a ``LikelihoodWarning`` saying why."""
    chained = {s.target: chain.target for chain in ir.chains for s in emissions(ir, chain)}
    for name, label in chained.items():
        warnings.warn(f"{name} has no pointwise log-likelihood: its entries are linked through the hidden chain "
                      f"{label} (they are not independent given the continuous latents), so to_arviz leaves it "
                      "out of log_likelihood and LOO cannot use it", LikelihoodWarning, stacklevel=5)
    for term in ir.statements:
        read = [n for n in used_names(term) if n in ir.roles.observed] if isinstance(term, Factor) else []
        if read:
            warnings.warn(f"the log-density term on line {term.span.line} ({term.text}) reads {read[0]}; it is not "
                          f"a sampling statement, so {read[0]}'s pointwise log-likelihood leaves it out",
                          LikelihoodWarning, stacklevel=5)
    sites = [name for name in ir.roles.observed if name not in chained]
    summed = sorted(enumerated_latents(ir) & set(classes))
    if not sites:
        return {}
    base = {**draws, **{z: _label(z, 0, draws, shapes) for z in summed}}
    terms = backend.pointwise(program, base, args, kwargs, sites=sites)
    readers: dict[str, list[str]] = {name: [] for name in terms}
    marginal: dict[str, dict[str, np.ndarray]] = {}
    for z in summed:
        by_label = [backend.pointwise(program, {**base, z: _label(z, k, draws, shapes)}, args, kwargs,
                                      sites=[*terms, z]) for k in range(classes[z])]
        for name in terms:
            stacked = np.stack([values[name] for values in by_label])
            if not np.array_equal(stacked, np.broadcast_to(stacked[:1], stacked.shape), equal_nan=True):
                readers[name].append(z)
                prior = np.stack([values[z] for values in by_label])
                if prior.shape == stacked.shape:
                    marginal.setdefault(z, {})[name] = np.logaddexp.reduce(prior + stacked, axis=0)
    result = {}
    for name, values in terms.items():
        labels = readers[name]
        if not labels:
            result[name] = values
            continue
        z = labels[0]
        shared = [other for other, read in readers.items() if z in read and other != name]
        if len(labels) == 1 and not shared and name in marginal.get(z, {}):
            result[name] = marginal[z][name]
            continue
        why = (f"it reads the labels {', '.join(labels)}" if len(labels) > 1 else
               f"{', '.join(shared)} also read{'s' if len(shared) == 1 else ''} {z}" if shared else
               f"its entries do not each read one entry of {z}")
        warnings.warn(f"{name} has no pointwise log-likelihood: summing out {z} does not split into a term per "
                      f"entry of {name} ({why}), so to_arviz leaves it out of log_likelihood",
                      LikelihoodWarning, stacklevel=5)
    return result


def _label(name: str, k: int, draws: dict[str, np.ndarray], shapes: dict[str, tuple[int, ...]]) -> np.ndarray:
    """Every entry of the class label ``name`` set to ``k``, for each draw."""
    count = next(iter(draws.values())).shape[0] if draws else 1
    return np.full((count, *shapes[name]), k, np.int64)
