"""Whether to trust a NUTS fit, in words: divergences, R̂, effective sample sizes, tree depth and BFMI against
current practice (Vehtari et al. 2021: R̂ ≤ 1.01, bulk and tail ESS ≥ 100 per chain), with one line of advice
where the model says what to do (a centred hierarchical scale that diverges: write it non-centred, in the
cell's own names).

R̂ and ESS are ArviZ's (rank-normalised split R̂, bulk and tail ESS), computed per scalar component; with one
chain, R̂ compares its two halves (ArviZ needs two chains).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ...frontend.distributions import DISTRIBUTIONS
from ...frontend.ir import ModelIR, Sampling

#: the thresholds a fit is held to
MAX_RHAT = 1.01
MIN_ESS_PER_CHAIN = 100
MIN_BFMI = 0.3
#: NumPyro's and Pyro's default maximum tree depth
MAX_TREE_DEPTH = 10
#: letters for a non-centred statement's standard normal, with the names the cell gives them
FRESH = (("η", "eta"), ("ε", "epsilon"), ("ζ", "zeta"), ("ξ", "xi"), ("ν", "nu"))


class SamplingWarning(UserWarning):
    """A NUTS fit failed a check: shown in the notebook, with what the figures mean and what to do."""


@dataclass(frozen=True)
class Diagnostics:
    """The figures of one fit, and what they mean. ``problems`` is empty when the fit passes every check."""

    chains: int
    draws: int
    divergences: int
    max_rhat: float
    worst_rhat: str
    min_ess_bulk: float
    min_ess_tail: float
    worst_ess: str
    saturated: int
    bfmi: tuple[float, ...]
    problems: tuple[str, ...]
    advice: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        head = (f"{self.chains} chain(s) × {self.draws} draws: {self.divergences} divergent transition(s), "
                f"max R̂ {self.max_rhat:.3f} ({self.worst_rhat}), min ESS bulk {self.min_ess_bulk:.0f} / tail "
                f"{self.min_ess_tail:.0f} ({self.worst_ess})")
        if self.ok:
            return head + ": no problem found."
        return "\n".join([head, *(f"warning: {p}" for p in self.problems), *(f"advice: {a}" for a in self.advice)])


def halves(draws: np.ndarray) -> np.ndarray:
    """One chain's draws (its last axis) as two chains, its first and second halves: ArviZ's R̂ needs two chains,
    and the halves of one that has not settled disagree."""
    half = draws.shape[-1] // 2
    return draws[..., : 2 * half].reshape(2, half)


def _components(chains: Mapping[str, np.ndarray]):
    """``(label, (chains, draws) array)`` for every scalar component of every variable."""
    for name, values in chains.items():
        count, draws = values.shape[:2]
        flat = np.asarray(values, np.float64).reshape(count, draws, -1)
        shape = values.shape[2:]
        for k in range(flat.shape[-1]):
            label = name if not shape else f"{name}[{','.join(map(str, np.unravel_index(k, shape)))}]"
            yield label, flat[..., k]


def diagnose(ir: ModelIR, chains: Mapping[str, np.ndarray], stats: Mapping[str, np.ndarray]) -> Diagnostics:
    """Check a NUTS fit: ``chains`` are the latents' draws ``(chains, draws, *shape)``; ``stats`` the sampler's
    per-draw statistics that the library records (``diverging``, ``tree_depth``, ``energy``), each optional."""
    import arviz as az

    continuous = {k: v for k, v in chains.items() if np.issubdtype(np.asarray(v).dtype, np.floating)}
    count, draws = next(iter(continuous.values())).shape[:2]
    rhats, bulk, tail = {}, {}, {}
    for label, values in _components(continuous):
        if np.ptp(values) == 0:
            continue
        rhats[label] = float(az.rhat(values if count > 1 else halves(values)))
        bulk[label], tail[label] = float(az.ess(values, method="bulk")), float(az.ess(values, method="tail"))
    worst_rhat = max(rhats, key=rhats.get, default="")
    worst_ess = min(bulk, key=lambda k: min(bulk[k], tail[k]), default="")
    divergences = int(np.sum(stats["diverging"])) if "diverging" in stats else 0
    saturated = int(np.sum(np.asarray(stats["tree_depth"]) >= MAX_TREE_DEPTH)) if "tree_depth" in stats else 0
    bfmi = tuple(float(b) for b in az.bfmi(np.asarray(stats["energy"]))) if "energy" in stats else ()
    wanted = MIN_ESS_PER_CHAIN * count
    problems = []
    if divergences:
        problems.append(f"{divergences} of {count * draws} transitions diverged: the sampler could not follow the "
                        "posterior's curvature there, so the draws may miss part of it")
    if rhats and rhats[worst_rhat] > MAX_RHAT:
        problems.append(f"R̂ of {worst_rhat} is {rhats[worst_rhat]:.3f} (≤ {MAX_RHAT} wanted): the chains disagree"
                        + (", or a single chain has not settled" if count == 1 else ""))
    low = [k for k in bulk if min(bulk[k], tail[k]) < wanted]
    if low:
        problems.append(f"the effective sample size of {worst_ess} is {min(bulk[worst_ess], tail[worst_ess]):.0f} "
                        f"(≥ {wanted} wanted, {MIN_ESS_PER_CHAIN} per chain), and {len(low)} component(s) are "
                        "below it: draw more, or reparameterise")
    if saturated:
        problems.append(f"{saturated} transition(s) reached the maximum tree depth ({MAX_TREE_DEPTH}): the "
                        "sampler is taking very small steps")
    if any(b < MIN_BFMI for b in bfmi):
        problems.append(f"the energy BFMI is {min(bfmi):.2f} (≥ {MIN_BFMI} wanted): the momentum resampling "
                        "explores the posterior's tails poorly")
    advice = tuple(_non_centred(ir)) if divergences or (rhats and rhats[worst_rhat] > MAX_RHAT) else ()
    return Diagnostics(count, draws, divergences, rhats.get(worst_rhat, float("nan")), worst_rhat,
                       min(bulk.values(), default=float("nan")), min(tail.values(), default=float("nan")), worst_ess,
                       saturated, bfmi, tuple(problems), advice)


def _written(statement: Sampling, node) -> str:
    """How ``node`` was written in ``statement`` (its text), or its name."""
    span = dict(statement.spans).get(node)
    if span is None or span.line != statement.span.line:
        return str(node)
    start = statement.span.column
    return statement.text[span.column - start: span.end_column - start]


def _non_centred(ir: ModelIR):
    """For each centred hierarchical statement (``θ_j ~ 𝒩(μ, τ)  for j in 1..J`` with ``τ`` a latent): how to
    write it non-centred, in the cell's names."""
    latents = set(ir.roles.latents)
    used = {name for name, _ in ir.shapes}
    for statement in ir.statements:
        if not (isinstance(statement, Sampling) and statement.target in latents
                and DISTRIBUTIONS[statement.distribution.family].name == "Normal"
                and (statement.plate is not None or statement.indices)):
            continue
        args = dict(statement.distribution.args)
        scale, loc = args.get("scale"), args.get("loc")
        if scale is None or not (scale.is_Symbol and scale.name in latents):
            continue
        index = statement.plate.index if statement.plate is not None else statement.indices[0].index
        stop = statement.plate.stop if statement.plate is not None else statement.indices[0].stop
        fresh = next(letter for letter, name in FRESH if name not in used)
        target = statement.text.split("~")[0].strip()
        loc_text, scale_text = _written(statement, loc), _written(statement, scale)
        yield (f"{target} ~ 𝒩({loc_text}, {scale_text}) is centred, and {scale_text} is a latent scale: write it "
               f"non-centred, {fresh}_{index} ~ 𝒩(0, 1)  for {index} in 1..{stop}, then "
               f"{target} = {loc_text} + {scale_text} {fresh}_{index}  for {index} in 1..{stop}")
