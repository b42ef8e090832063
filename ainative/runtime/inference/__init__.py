"""Inference for probabilistic models: NUTS and SVI through Pyro or NumPyro, prior and predictive.

An ``Engine`` names a library and the module that runs it; the two backend modules
(``pyro_backend``, ``numpyro_backend``) share one interface, so this module prepares data once
and never knows which library runs. It works on a model's IR and its generated program.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import ModelError
from ...frontend.distributions import DISTRIBUTIONS
from ...frontend.ir import Declaration, ModelIR, Sampling
from ...frontend.roles import parts, used_names
from ...frontend.shapes import concrete
from ...printers.probabilistic import chain_sites, data_only, enumerated_latents, keyword_dimensions
from ..chains import draw as draw_chain
from ..data import positive_number, read_data, whole_number
from ..host_devices import CHAINS
from .diagnostics import SamplingWarning, diagnose
from .likelihood import LikelihoodWarning, pointwise
from .posterior import Posterior

METHODS = ("nuts", "svi")
#: the real types a fit computes in: float32, or float64 for numerically demanding models
PRECISIONS = ("float32", "float64")
#: the supports of the families whose values are whole numbers
INTEGER_SUPPORTS = ("nonnegative_integer", "integer_interval")

#: where ``_arguments``' shapes hold a class-label latent's number of classes (no model name starts with ``_``)
_CLASSES = "_classes:"

#: the largest seed both libraries take (Pyro seeds NumPy's legacy generator, which stops at 2³² − 1)
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class Engine:
    """A library that runs probabilistic programs, and the module of ours that drives it (loaded when used)."""

    name: str
    module: str

    def load(self):
        return importlib.import_module(self.module)


#: the probabilistic backends a header can name, by name
ENGINES = {name: Engine(name, f"{__name__}.{name}_backend") for name in ("pyro", "numpyro")}


def _arguments(ir: ModelIR, engine: Engine, data: Mapping[str, Any], dims: Mapping[str, Any], *, observe: bool,
               device: str | None = None, draws: Mapping[str, tuple[int, ...]] | None = None,
               precision: str = "float32"):
    """Native arguments for the generated function: inputs positionally, free dimensions by keyword; and the
    checked data as NumPy arrays, by input.

    With ``observe`` (fitting) every observed input must be given; ``draws`` are the shapes of a
    posterior's draws, which fix dimensions the data must agree with; real data are of type ``precision``.
    """
    if not observe:
        _refuse_drawing_what_is_read(ir)
    backend = engine.load()
    place = backend.device(device)
    arrays, bound = read_data(ir, data, dims, need_observed=observe, draws=draws, real=precision)
    shapes = {name: concrete(shape, bound, name) for name, shape in ir.shapes}
    integer = integer_observations(ir) | ir.subscripts
    shapes.update({_CLASSES + name: concrete((count,), bound, name) for name, count in ir.classes})
    args = [backend.to_native(None if (name in ir.roles.observed and not observe) else arrays[name],
                              integer=name in integer, place=place, real=precision)
            for name in ir.roles.inputs]
    kwargs = {dim: bound[dim].value for dim in keyword_dimensions(ir)}
    return backend, args, kwargs, shapes, arrays


def _refuse_drawing_what_is_read(ir: ModelIR) -> None:
    """An observed series that the model also reads (``y_{t-1}`` in ``y_t``'s mean, ``r_{t-1}`` in a volatility
    recurrence) is data: drawing it would take a loop over its entries, each from the ones before. So are the
    observations of a hidden chain, which the program reads as log densities to sum the chain out."""
    for chain in ir.chains:
        raise ModelError(f"{chain.target} is a hidden chain (line {chain.span.line}) that the program sums out "
                         "through the log densities of its observations, so they are data it needs: drawing them "
                         "is not generated yet, so sample_prior and predict refuse it; fit conditions on them")
    for statement in ir.statements:
        for part in () if isinstance(statement, Declaration) else parts(statement):
            read = [name for name in used_names(part) if name in ir.roles.observed]
            if read:
                raise ModelError(f"{read[0]} is read by the model (line {part.span.line}: {part.text}) as well as "
                                 "drawn, so it is data the model needs: drawing it entry by entry is not generated "
                                 "yet, so sample_prior and predict refuse it; fit conditions on it")


def _refuse_improper(ir: ModelIR) -> None:
    """An improper prior (``β ~ Flat()``) has no distribution to draw from, so the model has no prior draws; its
    posterior is proper once data are observed, and ``predict`` draws from that."""
    for statement in ir.statements:
        if isinstance(statement, Sampling) and DISTRIBUTIONS[statement.distribution.family].improper:
            raise ModelError(f"{statement.target} ~ {statement.distribution.family}() (line {statement.span.line}) "
                             "is an improper prior, which has no draws, so the model has no prior to sample from: "
                             f"give {statement.target} a proper prior, or fit the model to data and predict from "
                             "its posterior")


def integer_observations(ir: ModelIR) -> set[str]:
    """The observed inputs the library gets as integer tensors: class labels always, and the data declared
    integer (``y ∈ ℕ^N``) that an integer-valued family (``Poisson``, ``Binomial``) observes; everything else
    is real (float32 unless a fit asks for float64), which a real or Bernoulli family and a matrix product of
    covariates need."""
    families = {s.target: DISTRIBUTIONS[s.distribution.family] for s in ir.statements if isinstance(s, Sampling)}
    return {name for name, family in families.items()
            if family.labels or (name in ir.integers and family.support in INTEGER_SUPPORTS)}


def _drawn_deterministic(ir: ModelIR) -> list[str]:
    """The deterministic sites a draw has: those of ``=`` statements that read a random variable (one that reads
    only data is a plain value of the program, the same in every draw, and no site: ``data_only``)."""
    data = data_only(ir)
    return [name for name in ir.roles.deterministic if name not in data]


def _conform(values: dict, shapes: dict, leading: int) -> dict:
    """Each variable's site as ``(*leading axes, *its shape)``: Pyro's ``Predictive`` adds singleton plate axes.

    The log-density terms' sites (``_target_1``: no model name starts with ``_``) are no variables, and left out."""
    return {k: v.reshape((*v.shape[:leading], *shapes[k])) for k, v in values.items() if not k.startswith("_")}


def _real(draws: np.ndarray, precision: str) -> np.ndarray:
    """Real-valued draws of type ``precision``, as the data are: Pyro refuses to mix float64 draws with float32
    inputs."""
    return draws.astype(precision, copy=False) if np.issubdtype(draws.dtype, np.floating) else draws


def _precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ModelError(f"precision must be one of {', '.join(map(repr, PRECISIONS))}, not {precision!r}: float64 "
                         "for a model whose numbers float32 cannot hold (a long recurrence, a near-singular "
                         "covariance)")
    return precision


def _split_dims(ir: ModelIR, data: dict) -> dict:
    """Keywords that are not inputs are dimensions (``H=8``): taken out of ``data``."""
    return {k: data.pop(k) for k in list(data) if k not in ir.roles.inputs}


def fit(
    ir: ModelIR,
    program: Callable,
    engine: Engine,
    data: Mapping[str, Any],
    method: str = "nuts",
    *,
    num_warmup: int = 500,
    num_samples: int = 500,
    num_chains: int = CHAINS,
    steps: int = 2000,
    lr: float = 0.01,
    seed: int = 0,
    progress: bool = True,
    device: str | None = None,
    precision: str = "float32",
    **dims: Any,
) -> Posterior:
    """Condition the model on ``data`` and return posterior draws of its latents (and deterministic sites).

    ``device`` places the data (and so the computation): a PyTorch device for Pyro (``"cuda:0"``),
    a JAX device name for NumPyro; one that does not exist is a ModelError. ``precision`` "float64" computes
    the fit (and the predictions from it) in double precision.
    """
    if method not in METHODS:
        raise ModelError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    num_warmup, num_samples = whole_number("num_warmup", num_warmup, least=0), whole_number("num_samples", num_samples)
    num_chains, steps = whole_number("num_chains", num_chains), whole_number("steps", steps)
    lr, seed = positive_number("lr", lr), whole_number("seed", seed, least=0, most=MAX_SEED)
    with engine.load().precision(_precision(precision)):
        return _fit(ir, program, engine, data, method, num_warmup=num_warmup, num_samples=num_samples,
                    num_chains=num_chains, steps=steps, lr=lr, seed=seed, progress=progress, device=device,
                    precision=precision, dims=dims)


def _fit(ir: ModelIR, program: Callable, engine: Engine, data: Mapping[str, Any], method: str, *, num_warmup: int,
         num_samples: int, num_chains: int, steps: int, lr: float, seed: int, progress: bool, device: str | None,
         precision: str, dims: Mapping[str, Any]) -> Posterior:
    """``fit`` with checked settings, in the library's ``precision``."""
    backend, args, kwargs, shapes, arrays = _arguments(ir, engine, data, dims, observe=True, device=device,
                                                       precision=precision)
    chained = {chain.target for chain in ir.chains}
    sites = [*ir.roles.latents, *_drawn_deterministic(ir)]
    asked = [s for s in sites if s not in chained] + [site for chain in ir.chains for site in chain_sites(chain)]
    if method == "nuts":
        chains, stats = backend.nuts(program, args, kwargs, sites=asked, summed=enumerated_latents(ir),
                                     num_warmup=num_warmup, num_samples=num_samples, num_chains=num_chains, seed=seed,
                                     progress=progress)
        losses = None
    else:
        stats = {}
        chains, losses = backend.svi(program, args, kwargs, sites=asked, steps=steps, lr=lr,
                                     num_samples=num_samples, seed=seed, progress=progress)
    rng = np.random.default_rng(seed)
    for chain in ir.chains:
        alpha, step = (chains.pop(site) for site in chain_sites(chain))
        chains[chain.target] = draw_chain(alpha, step, rng)
    chains = _conform({name: chains[name] for name in sites if name in chains}, shapes, leading=2)
    classes = {name: shapes[_CLASSES + name][0] for name, _ in ir.classes}
    leading = next(iter(chains.values())).shape[:2] if chains else (1, num_samples)
    continuous = {k: _real(v.reshape((-1, *v.shape[2:])), precision) for k, v in chains.items()
                  if k in ir.roles.latents and k not in classes}
    try:
        terms = pointwise(ir, backend, program, continuous, args, kwargs, classes, shapes)
    except Exception as error:  # the draws are worth more than a log-likelihood that failed
        warnings.warn(f"{ir.header.name}'s pointwise log-likelihood could not be computed ({type(error).__name__}: "
                      f"{error}); the fit has none, so to_arviz leaves the group out and compare refuses it",
                      LikelihoodWarning, stacklevel=4)
        terms = {}
    extra = {"classes": classes, "stats": stats, "precision": precision,
             "log_likelihood": {k: v.reshape((*leading, *v.shape[1:])) for k, v in terms.items()},
             "observed": {k: arrays[k] for k in ir.roles.inputs if k in ir.roles.observed},
             "constant": {k: arrays[k] for k in ir.roles.inputs if k not in ir.roles.observed},
             "dims": {name: dimension_names(shape) for name, shape in ir.shapes},
             "deterministic": tuple(name for name in chains if name not in ir.roles.latents)}
    if method == "nuts" and continuous:
        report = diagnose(ir, {k: chains[k] for k in continuous}, stats)
        if not report.ok:
            warnings.warn(f"{ir.header.name}: {report}", SamplingWarning, stacklevel=4)
        extra["diagnostics"] = report
    if losses is None:
        return Posterior(ir.header.name, engine.name, method, chains, **extra)
    return Posterior(ir.header.name, engine.name, method, chains, losses, **extra)


def dimension_names(shape: tuple) -> tuple[str, ...]:
    """A variable's ArviZ dims from its shape in the model: each named dimension by its name, a second axis of the
    same one with ``_2`` (``K×K`` is ``("K", "K_2")``), an axis of literal size ``n`` as ``dim_n``."""
    names: list[str] = []
    for dim in shape:
        base = str(dim) if str(dim).isidentifier() else "dim_" + "".join(c if c.isalnum() else "_" for c in str(dim))
        name, count = base, 1
        while name in names:
            count += 1
            name = f"{base}_{count}"
        names.append(name)
    return tuple(names)


def sample_prior(ir: ModelIR, program: Callable, engine: Engine, num_samples: int, seed: int = 0,
                 **data: Any) -> dict:
    """Draws of every variable from the prior; observed inputs are sampled, not conditioned."""
    num_samples, seed = whole_number("num_samples", num_samples), whole_number("seed", seed, least=0, most=MAX_SEED)
    _refuse_improper(ir)
    dims = _split_dims(ir, data)
    backend, args, kwargs, shapes, _ = _arguments(ir, engine, data, dims, observe=False)
    return _conform(backend.prior(program, args, kwargs, num_samples=num_samples, seed=seed), shapes, 1)


def predict(ir: ModelIR, program: Callable, engine: Engine, posterior: Posterior, seed: int = 0,
            **data: Any) -> dict:
    """Posterior predictive draws of the observed variables and deterministic sites for new inputs."""
    if not isinstance(posterior, Posterior):
        raise ModelError(f"predict takes a Posterior from {ir.header.name}.fit, not {type(posterior).__name__}")
    seed = whole_number("seed", seed, least=0, most=MAX_SEED)
    latents = {k: _real(v, posterior.precision) for k, v in posterior.samples.items() if k in ir.roles.latents}
    missing = [k for k in ir.roles.latents if k not in latents]
    if missing:
        raise ModelError(f"the posterior has no draws of {', '.join(missing)}, which {ir.header.name} samples; "
                         f"pass the Posterior that {ir.header.name}.fit returned (this one is of {posterior.model})")
    dims = _split_dims(ir, data)
    with engine.load().precision(posterior.precision):
        backend, args, kwargs, shapes, _ = _arguments(ir, engine, data, dims, observe=False,
                                                   draws={k: v.shape[1:] for k, v in latents.items()},
                                                   precision=posterior.precision)
        sites = [*ir.roles.observed, *_drawn_deterministic(ir)]
        draws = backend.predictive(program, latents, args, kwargs, seed=seed, sites=sites)
    return _conform(draws, shapes, 1)
