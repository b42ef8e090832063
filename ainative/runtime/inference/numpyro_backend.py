"""Running generated NumPyro models: NUTS, SVI with an autoguide, prior and posterior predictive."""

from __future__ import annotations

import numpy as np


def _numpy(values: dict) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in values.items()}


def devices() -> list[str]:
    """The JAX devices this machine has."""
    import jax

    return [str(d) for d in jax.devices()]


def device(name: str | None):
    """A JAX device by name (``"cpu:0"``), or a ModelError naming the ones that exist."""
    import jax

    from ...errors import ModelError

    if name is None:
        return None
    for candidate in jax.devices():
        if str(candidate) == name:
            return candidate
    raise ModelError(f"no JAX device {name!r}; JAX sees {', '.join(devices())}")


def precision(name: str):
    """Where the program computes in ``name``, "float32" or "float64" (JAX's 64-bit mode, for this fit only)."""
    import jax

    return jax.enable_x64(name == "float64")


def to_native(array: np.ndarray | None, integer: bool = False, place=None, real: str = "float32"):
    import jax
    import jax.numpy as jnp

    if array is None:
        return None
    value = jnp.asarray(array.astype(np.int32) if integer else array.astype(real, copy=False))
    return jax.device_put(value, place) if place is not None else value


#: NumPyro's per-draw NUTS statistics, and the names ArviZ gives them in ``sample_stats``
STATS = {"diverging": "diverging", "potential_energy": "lp", "energy": "energy", "num_steps": "n_steps",
         "accept_prob": "acceptance_rate", "adapt_state.step_size": "step_size"}


def _sample_stats(fields: dict) -> dict[str, np.ndarray]:
    """ArviZ's ``sample_stats`` from NumPyro's extra fields: ``lp`` is minus the potential energy (the log density
    on the unconstrained space), and the tree depth follows from the number of leapfrog steps as ArviZ reads it."""
    stats = {STATS[k]: np.asarray(v) for k, v in fields.items()}
    stats["lp"] = -stats["lp"]
    stats["tree_depth"] = np.log2(np.maximum(stats["n_steps"], 1)).astype(np.int64) + 1
    return stats


def nuts(fn, args, kwargs, *, sites, summed, num_warmup, num_samples, num_chains, seed, progress):
    """NUTS draws of every site, and the sampler's statistics per draw; a first point or proposal where the model is
    not finite (an error recurrence that explodes for some coefficients) is rejected and another tried, rather than
    raised by a distribution's check.

    With ``progress``, a bar counts the draws and the divergent ones as they come (``_run_shown``).
    The sampler keeps only the latents; the discrete latents it sums out (``summed``) are then drawn from their
    posterior given each draw, and the deterministic sites computed from all of it at once, not one draw at a
    time inside the sampling loop (a recurrence's rows made that a third of the time).
    """
    import jax
    import numpyro
    from numpyro import handlers
    from numpyro.infer import MCMC, NUTS
    from numpyro.infer.util import constrain_fn

    # chains in parallel across devices (host_devices gives a CPU one a chain); where there are fewer devices,
    # vectorised on one (measured faster than one after another: 6.2 s against 16.5 s for four chains of a
    # 25-coefficient regression)
    method = "parallel" if jax.local_device_count() >= num_chains else "vectorized"
    mcmc = MCMC(NUTS(fn), num_warmup=num_warmup, num_samples=num_samples, num_chains=num_chains,
                chain_method=method, progress_bar=False,
                postprocess_fn=lambda z: constrain_fn(handlers.seed(fn, 0), args, kwargs, z))
    with numpyro.validation_enabled(False):
        if progress:
            chains, fields = _run_shown(mcmc, jax.random.key(seed), args, kwargs)
        else:
            mcmc.run(jax.random.key(seed), *args, extra_fields=tuple(STATS), **kwargs)
            chains, fields = mcmc.get_samples(group_by_chain=True), mcmc.get_extra_fields(group_by_chain=True)
    chains, stats = _numpy(chains), _sample_stats(fields)
    missing = [s for s in sites if s not in chains]
    if missing:
        flat = {k: v.reshape((-1, *v.shape[2:])) for k, v in chains.items()}
        discrete = [s for s in missing if s in summed]
        extra = predictive(fn, flat, args, kwargs, seed=seed, sites=discrete, discrete=True) if discrete else {}
        rest = [s for s in missing if s not in extra]
        if rest:
            extra.update(predictive(fn, {**flat, **extra}, args, kwargs, seed=seed, sites=rest))
        chains.update({k: v.reshape((num_chains, num_samples, *v.shape[1:])) for k, v in extra.items()})
    return {k: v for k, v in chains.items() if k in sites}, stats


#: the most pieces the draws are taken in when a progress bar shows them, and about how long one piece should take
PIECES, SECONDS_A_PIECE = 10, 2.0


def _run_shown(mcmc, key, args, kwargs) -> tuple[dict, dict]:
    """``mcmc.run`` with a progress bar that counts the divergent draws as they come: the warm-up, then the draws in
    pieces, each continuing from the state the last one ended in, so the chains are those one run draws.

    A bar inside the compiled sampler would need a host callback, and JAX keeps no program with one in its
    persistent cache: every fit would compile again (4.4 s of eight schools' 5.1 s). A piece costs NumPyro a
    new trace of its sampler (0.45 s for eight schools), so the pieces are as many as make each take about
    ``SECONDS_A_PIECE``, judged by how long the warm-up took: one for a fit of a second, ``PIECES`` for a long one.
    """
    import time

    import jax
    from tqdm.auto import tqdm

    warmup, total, chains = mcmc.num_warmup, mcmc.num_samples, mcmc.num_chains
    draws: list[dict] = []
    fields: list[dict] = []
    with tqdm(total=warmup + total, desc=f"warm-up, {chains} chain(s)", unit="draw", mininterval=0) as bar:
        started = time.perf_counter()
        mcmc.warmup(key, *args, extra_fields=tuple(STATS), **kwargs)
        expected = (time.perf_counter() - started) * total / warmup if warmup else 0.0  # no warm-up: one piece
        piece = -(-total // min(PIECES, max(1, round(expected / SECONDS_A_PIECE))))
        bar.update(warmup)
        bar.set_description(f"sampling, {chains} chain(s)")
        done = divergences = 0
        while done < total:
            mcmc.num_samples = min(piece, total - done)
            mcmc.run(mcmc.post_warmup_state.rng_key, *args, extra_fields=tuple(STATS), **kwargs)
            mcmc.post_warmup_state = mcmc.last_state
            draws.append(mcmc.get_samples(group_by_chain=True))
            fields.append(mcmc.get_extra_fields(group_by_chain=True))
            done += mcmc.num_samples
            divergences += int(np.sum(fields[-1]["diverging"]))
            bar.update(mcmc.num_samples)
            bar.set_postfix_str(f"divergences={divergences}")
    return tuple(jax.tree.map(lambda *pieces: np.concatenate(pieces, axis=1), *parts) for parts in (draws, fields))


def svi(fn, args, kwargs, *, sites, steps, lr, num_samples, seed, progress):
    import jax
    import numpyro
    from numpyro.infer import SVI, Predictive, Trace_ELBO
    from numpyro.infer.autoguide import AutoNormal
    from numpyro.infer.initialization import init_to_uniform

    guide = AutoNormal(fn, init_loc_fn=init_to_uniform)
    engine = SVI(fn, guide, numpyro.optim.Adam(lr), Trace_ELBO())
    train, draw = jax.random.split(jax.random.key(seed))
    result = engine.run(train, steps, *args, progress_bar=progress, **kwargs)
    run = Predictive(fn, guide=guide, params=result.params, num_samples=num_samples, return_sites=list(sites))
    return {k: v[None] for k, v in _numpy(run(draw, *args, **kwargs)).items()}, np.asarray(result.losses)


def prior(fn, args, kwargs, *, num_samples, seed):
    import jax
    from numpyro.infer import Predictive

    return _numpy(Predictive(fn, num_samples=num_samples)(jax.random.key(seed), *args, **kwargs))


def predictive(fn, samples, args, kwargs, *, seed, sites=None, discrete=False):
    """Draws of ``sites`` given posterior ``samples``; with ``discrete``, the latents NUTS summed out are drawn
    from their posterior given each sample (``infer_discrete``), not from their prior."""
    import jax
    from numpyro.infer import Predictive

    run = Predictive(fn, posterior_samples=samples, return_sites=list(sites) if sites else None,
                     infer_discrete=discrete)
    return _numpy(run(jax.random.key(seed), *args, **kwargs))


def pointwise(fn, draws, args, kwargs, *, sites):
    """Each of ``sites``' log densities, entry by entry, at each draw (``draws`` substituted): ``(draws, *its
    shape)``, for the sites the program has."""
    import jax
    import jax.numpy as jnp
    import numpyro
    from numpyro import handlers

    def one(draw):
        trace = handlers.trace(handlers.substitute(handlers.seed(fn, 0), data=draw)).get_trace(*args, **kwargs)
        return {name: trace[name]["fn"].log_prob(trace[name]["value"]) for name in sites if name in trace}

    with numpyro.validation_enabled(False):
        return _numpy(jax.vmap(one)({k: jnp.asarray(v) for k, v in draws.items()}))
