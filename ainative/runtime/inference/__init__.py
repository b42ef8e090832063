"""Inference for probabilistic models: NUTS and SVI through Pyro or NumPyro, prior and predictive.

The backend modules (``pyro_backend``, ``numpyro_backend``) share one interface, so this module
prepares data once and never knows which library runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...frontend.ir import Sampling
from ...frontend.shapes import concrete
from ...printers.probabilistic import keyword_dimensions
from ..data import read_data
from .posterior import Posterior

if TYPE_CHECKING:
    from ...models import Model

METHODS = ("nuts", "svi")
#: families whose observed values are integer class labels
INTEGER_FAMILIES = ("Categorical",)


def _backend(model: Model):
    if model.backend == "numpyro":
        from . import numpyro_backend

        return numpyro_backend
    from . import pyro_backend

    return pyro_backend


def _arguments(model: Model, data: Mapping[str, Any], dims: Mapping[str, Any], *, observe: bool,
               device: str | None = None):
    """Native arguments for the generated function: inputs positionally, free dimensions by keyword."""
    backend = _backend(model)
    place = backend.device(device)
    arrays, bound = read_data(model.ir, data, dims)
    shapes = {name: concrete(shape, bound, name) for name, shape in model.ir.shapes}
    integer = {s.target for s in model.ir.statements
               if isinstance(s, Sampling) and s.distribution.family in INTEGER_FAMILIES}
    args = [backend.to_native(None if (name in model.ir.roles.observed and not observe) else arrays[name],
                              integer=name in integer, place=place)
            for name in model.inputs]
    kwargs = {dim: bound[dim].value for dim in keyword_dimensions(model.ir)}
    return backend, args, kwargs, shapes


def _conform(values: dict, shapes: dict, leading: int) -> dict:
    """Each site as ``(*leading axes, *its shape)``: Pyro's ``Predictive`` adds singleton plate axes."""
    return {k: v.reshape((*v.shape[:leading], *shapes[k])) for k, v in values.items()}


def _sites(model: Model) -> list[str]:
    return [*model.latents, *model.ir.roles.deterministic]


def fit(
    model: Model,
    data: Mapping[str, Any],
    method: str = "nuts",
    *,
    num_warmup: int = 500,
    num_samples: int = 500,
    num_chains: int = 1,
    steps: int = 2000,
    lr: float = 0.01,
    seed: int = 0,
    progress: bool = True,
    device: str | None = None,
    **dims: Any,
) -> Posterior:
    """Condition the model on ``data`` and return posterior draws of its latents (and deterministic sites).

    ``device`` places the data (and so the computation): a PyTorch device for Pyro (``"cuda:0"``),
    a JAX device name for NumPyro; one that does not exist is a ModelError.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    backend, args, kwargs, shapes = _arguments(model, data, dims, observe=True, device=device)
    fn, sites = model.program, _sites(model)
    if method == "nuts":
        chains = backend.nuts(fn, args, kwargs, sites=sites, num_warmup=num_warmup,
                              num_samples=num_samples, num_chains=num_chains, seed=seed, progress=progress)
        losses = None
    else:
        chains, losses = backend.svi(fn, args, kwargs, sites=sites, steps=steps, lr=lr,
                                     num_samples=num_samples, seed=seed, progress=progress)
    chains = _conform({name: chains[name] for name in sites if name in chains}, shapes, leading=2)
    if losses is None:
        return Posterior(model.name, model.backend, method, chains)
    return Posterior(model.name, model.backend, method, chains, losses)


def sample_prior(model: Model, num_samples: int, seed: int = 0, **data: Any) -> dict:
    """Draws of every variable from the prior; observed inputs are sampled, not conditioned."""
    dims = {k: data.pop(k) for k in list(data) if k not in model.inputs}
    backend, args, kwargs, shapes = _arguments(model, data, dims, observe=False)
    return _conform(backend.prior(model.program, args, kwargs, num_samples=num_samples, seed=seed), shapes, 1)


def predict(model: Model, posterior: Posterior, seed: int = 0, **data: Any) -> dict:
    """Posterior predictive draws of the observed variables and deterministic sites for new inputs."""
    if not isinstance(posterior, Posterior):
        raise TypeError(f"predict takes a Posterior from {model.name}.fit, not {type(posterior).__name__}")
    dims = {k: data.pop(k) for k in list(data) if k not in model.inputs}
    backend, args, kwargs, shapes = _arguments(model, data, dims, observe=False)
    latents = {k: v for k, v in posterior.samples.items() if k in model.latents}
    sites = [*model.ir.roles.observed, *model.ir.roles.deterministic]
    draws = backend.predictive(model.program, latents, args, kwargs, seed=seed, sites=sites)
    return _conform(draws, shapes, 1)
