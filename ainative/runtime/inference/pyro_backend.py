"""Running generated Pyro models: NUTS, SVI with an autoguide, prior and posterior predictive."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np


def _numpy(values: dict) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy() for k, v in values.items()}


def devices() -> list[str]:
    """The PyTorch devices this machine has."""
    import torch

    return ["cpu", *(f"cuda:{i}" for i in range(torch.cuda.device_count()))]


def device(name: str | None):
    """A PyTorch device that exists here, or a ModelError naming the ones that do."""
    import torch

    from ...errors import ModelError

    if name is None:
        return None
    try:
        chosen = torch.device(name)
    except RuntimeError:
        chosen = None
    if chosen is None or (chosen.type == "cuda" and (chosen.index or 0) >= torch.cuda.device_count()) or (
        chosen.type not in ("cpu", "cuda")
    ):
        raise ModelError(f"no PyTorch device {name!r}; PyTorch sees {', '.join(devices())}")
    return chosen


@contextmanager
def precision(name: str) -> Iterator[None]:
    """Where the program computes in ``name``, "float32" or "float64": PyTorch's default type, for this fit only
    (the tensors a program makes, a distribution's constants among them, take it)."""
    import torch

    before = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, name))
    try:
        yield
    finally:
        torch.set_default_dtype(before)


def to_native(array: np.ndarray | None, integer: bool = False, place=None, real: str = "float32"):
    import torch

    if array is None:
        return None
    return torch.as_tensor(array.astype(np.int64) if integer else array.astype(real, copy=False), device=place)


def _recorder(records: list):
    """A hook that keeps, after each draw (not warm-up), what Pyro's NUTS kernel holds of it: the step size, the
    potential energy, and the running mean of the acceptance probabilities (from which each draw's follows)."""
    def hook(kernel, params, stage, i):
        if stage.startswith("Sample"):
            records.append((float(kernel.step_size), -float(kernel._potential_energy_last),
                            float(kernel._mean_accept_prob), i))
    return hook


def chain_seed(seed: int, chain: int) -> int:
    """Chain ``chain``'s seed, drawn from ``seed`` and it (below 2³², as Pyro's NumPy seeding takes)."""
    return int(np.random.SeedSequence([seed, chain]).generate_state(1)[0])


def _divergences(mcmc, num_chains: int, num_samples: int) -> np.ndarray:
    """Which draws of each chain diverged, from the indices Pyro's kernel keeps."""
    diverging = np.zeros((num_chains, num_samples), bool)
    for chain, indices in enumerate(mcmc.diagnostics()["divergences"].values()):
        diverging[chain, [i for i in indices if 0 <= i < num_samples]] = True
    return diverging


def _hooked_stats(records: list) -> dict[str, np.ndarray]:
    """``lp``, ``step_size`` and ``acceptance_rate`` of one chain's draws from the hook's records."""
    step, lp, mean, index = (np.array(column)[None] for column in zip(*records))
    count = index + 1  # the running mean over the draws so far: mean_n = mean_{n-1} + (a_n - mean_{n-1}) / n
    before = np.concatenate([np.zeros((1, 1)), mean[:, :-1]], axis=1)
    return {"lp": lp, "step_size": step, "acceptance_rate": count * mean - (count - 1) * before}


def _sampled(fn, args, kwargs, *, num_warmup, num_samples, num_chains, seed, progress, hook_fn=None):
    """Pyro's MCMC with the counting NUTS kernel, run from ``seed``: in worker processes for several chains."""
    import pyro
    from pyro.infer import MCMC

    from .pyro_nuts import CountingNUTS

    pyro.set_rng_seed(seed)
    mcmc = MCMC(CountingNUTS(fn), num_samples=num_samples, warmup_steps=num_warmup, num_chains=num_chains,
                disable_progbar=not progress, hook_fn=hook_fn)
    with pyro.validation_enabled(False):  # a point where the model is not finite is rejected, as Stan does
        mcmc.run(*args, **kwargs)
    return mcmc


def _run_chain(fn, args, kwargs, *, num_warmup, num_samples, seed, progress):
    """One chain in this process: its draws ``(1, draws, …)`` and its statistics, ``lp``, ``step_size`` and
    ``acceptance_rate`` from the hook; Pyro keeps no energy nor tree depth per draw."""
    records: list = []
    mcmc = _sampled(fn, args, kwargs, num_warmup=num_warmup, num_samples=num_samples, num_chains=1, seed=seed,
                    progress=progress, hook_fn=_recorder(records))
    stats = {"diverging": _divergences(mcmc, 1, num_samples), **_hooked_stats(records)}
    return _numpy(mcmc.get_samples(group_by_chain=True)), stats


def _run_in_workers(fn, args, kwargs, *, num_warmup, num_samples, num_chains, seed, progress):
    """The chains in Pyro's worker processes, one a core: only which draws diverged comes back of their
    statistics (a hook's records would stay in the workers, and a closure cannot be sent to a spawned one)."""
    mcmc = _sampled(fn, args, kwargs, num_warmup=num_warmup, num_samples=num_samples, num_chains=num_chains,
                    seed=seed, progress=progress)
    return _numpy(mcmc.get_samples(group_by_chain=True)), {"diverging": _divergences(mcmc, num_chains, num_samples)}


def nuts(fn, args, kwargs, *, sites, summed, num_warmup, num_samples, num_chains, seed, progress):
    """NUTS draws of every site, and the statistics per draw Pyro keeps; the discrete latents it sums out
    (``summed``) are drawn from their posterior.

    The chains run in Pyro's worker processes when the machine has a core per chain beside this one; otherwise one
    after another here, chain ``c`` from ``chain_seed(seed, c)``.
    """
    settings = {"num_warmup": num_warmup, "num_samples": num_samples, "progress": progress}
    if 1 < num_chains <= multiprocessing.cpu_count() - 1:
        chains, stats = _run_in_workers(fn, args, kwargs, num_chains=num_chains, seed=seed, **settings)
    else:
        runs = [_run_chain(fn, args, kwargs, seed=chain_seed(seed, c), **settings) for c in range(num_chains)]
        chains, stats = ({k: np.concatenate([run[part][k] for run in runs]) for k in runs[0][part]} for part in (0, 1))
    derived = [s for s in sites if s not in chains]
    if derived:
        flat = {k: v.reshape((-1, *v.shape[2:])) for k, v in chains.items()}
        if set(summed) & set(derived):
            extra = _discrete_posterior(fn, flat, args, kwargs, seed=seed, sites=derived)
        else:
            extra = predictive(fn, flat, args, kwargs, seed=seed, sites=derived)
        chains.update({k: v.reshape((num_chains, num_samples, *v.shape[1:])) for k, v in extra.items()})
    return chains, stats


def _discrete_posterior(fn, draws, args, kwargs, *, seed, sites):
    """The derived sites of each draw, with the summed-out discrete latents drawn from their posterior given that
    draw and the data (``infer_discrete``), not from their prior as a plain predictive would."""
    import pyro
    import torch
    from pyro import poutine
    from pyro.infer import config_enumerate, infer_discrete

    pyro.set_rng_seed(seed)
    trace = poutine.trace(fn).get_trace(*args, **kwargs)
    nesting = max((len(site["cond_indep_stack"]) for site in trace.nodes.values() if site["type"] == "sample"),
                  default=0)
    values: dict[str, list] = {name: [] for name in sites}
    count = next(iter(draws.values())).shape[0]
    with torch.no_grad():
        for i in range(count):
            conditioned = poutine.condition(fn, data={k: torch.as_tensor(v[i]) for k, v in draws.items()})
            sampler = infer_discrete(config_enumerate(conditioned), first_available_dim=-1 - nesting, temperature=1)
            nodes = poutine.trace(sampler).get_trace(*args, **kwargs).nodes
            for name in sites:
                values[name].append(nodes[name]["value"].detach().cpu().numpy())
    return {name: np.stack(v) for name, v in values.items()}


def svi(fn, args, kwargs, *, sites, steps, lr, num_samples, seed, progress):
    import pyro
    import torch
    from pyro.infer import SVI, Predictive, Trace_ELBO
    from pyro.infer.autoguide import AutoNormal, init_to_uniform
    from tqdm.auto import tqdm

    pyro.clear_param_store()
    pyro.set_rng_seed(seed)
    guide = AutoNormal(fn, init_loc_fn=init_to_uniform)
    engine = SVI(fn, guide, pyro.optim.Adam({"lr": lr}), Trace_ELBO())
    losses = np.zeros(steps, np.float32)
    every = max(1, steps // 100)
    with tqdm(total=steps, desc="svi", disable=not progress, leave=False) as bar:
        for step in range(steps):
            losses[step] = engine.step(*args, **kwargs)
            if (step + 1) % every == 0 or step + 1 == steps:
                bar.set_postfix(elbo_loss=f"{losses[step]:.4g}", refresh=False)
                bar.update(step + 1 - bar.n)
    with torch.no_grad():
        draws = Predictive(fn, guide=guide, num_samples=num_samples, return_sites=list(sites))(*args, **kwargs)
    return {k: v[None] for k, v in _numpy(draws).items()}, losses


def prior(fn, args, kwargs, *, num_samples, seed):
    import pyro
    from pyro.infer import Predictive

    pyro.set_rng_seed(seed)
    return _numpy(Predictive(fn, num_samples=num_samples)(*args, **kwargs))


def predictive(fn, samples, args, kwargs, *, seed, sites=None):
    import pyro
    import torch
    from pyro.infer import Predictive

    pyro.set_rng_seed(seed)
    posterior = {k: torch.as_tensor(v) for k, v in samples.items()}
    run = Predictive(fn, posterior_samples=posterior, return_sites=list(sites) if sites else None)
    return _numpy(run(*args, **kwargs))


def pointwise(fn, draws, args, kwargs, *, sites):
    """Each of ``sites``' log densities, entry by entry, at each draw (the program conditioned on it and traced):
    ``(draws, *its shape)``, for the sites the program has."""
    import pyro
    import torch
    from pyro import poutine

    place = next((a.device for a in args if isinstance(a, torch.Tensor)), None)
    values: dict[str, list] = {}
    count = next(iter(draws.values())).shape[0] if draws else 1
    with torch.no_grad(), pyro.validation_enabled(False):
        for i in range(count):
            conditioned = poutine.condition(fn, data={k: torch.as_tensor(v[i], device=place) for k, v in draws.items()})
            nodes = poutine.trace(conditioned).get_trace(*args, **kwargs).nodes
            for name in sites:
                if name in nodes:
                    site = nodes[name]
                    values.setdefault(name, []).append(site["fn"].log_prob(site["value"]).cpu().numpy())
    return {name: np.stack(v) for name, v in values.items()}
