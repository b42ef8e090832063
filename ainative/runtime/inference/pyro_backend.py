"""Running generated Pyro models: NUTS, SVI with an autoguide, prior and posterior predictive."""

from __future__ import annotations

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


def to_native(array: np.ndarray | None, integer: bool = False, place=None):
    import torch

    if array is None:
        return None
    return torch.as_tensor(array.astype(np.int64) if integer else array.astype(np.float32, copy=False),
                           device=place)


def nuts(fn, args, kwargs, *, sites, summed, num_warmup, num_samples, num_chains, seed, progress):
    """NUTS draws of every site; the discrete latents it sums out (``summed``) are drawn from their posterior."""
    import pyro
    from pyro.infer import MCMC, NUTS

    pyro.set_rng_seed(seed)
    mcmc = MCMC(NUTS(fn), num_samples=num_samples, warmup_steps=num_warmup, num_chains=num_chains,
                disable_progbar=not progress)
    with pyro.validation_enabled(False):  # a point where the model is not finite is rejected, as Stan does
        mcmc.run(*args, **kwargs)
    chains = _numpy(mcmc.get_samples(group_by_chain=True))
    derived = [s for s in sites if s not in chains]
    if derived:
        flat = {k: v.reshape((-1, *v.shape[2:])) for k, v in chains.items()}
        if set(summed) & set(derived):
            extra = _discrete_posterior(fn, flat, args, kwargs, seed=seed, sites=derived)
        else:
            extra = predictive(fn, flat, args, kwargs, seed=seed, sites=derived)
        chains.update({k: v.reshape((num_chains, num_samples, *v.shape[1:])) for k, v in extra.items()})
    return chains


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
