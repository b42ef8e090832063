"""ONNX export, verified: the graph is checked, run in onnxruntime and compared with the model.

A deterministic model is compared with its JAX function at batch 1 and batch 17. A fitted
probabilistic model exports the posterior predictive of its observed variable; that is compared
with the same computation done by the JAX printer and NumPy over the same posterior draws.

Each check runs twice: with the user's values, and with a second graph of the same structure
that bakes in random values of the same shapes. Fresh parameters are mostly zeros, and at zero
many wrong graphs agree with the model (σ(0) = 0.5 whatever computes the 0); random values do not.
Only the graph with the user's values is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..errors import ExportError
from ..frontend.ir import ModelIR
from ..frontend.shapes import bind, concrete, keywords
from ..runtime.atomic import write_atomic
from ..runtime.inference.posterior import Posterior
from .files import os_errors, refuse_to_overwrite

BATCHES = (1, 17)
#: a deterministic model's batched call, ``forward(params, **inputs)``: what the graph must reproduce
Forward = Callable[..., Any]
#: the random values draw from their own stream of ``seed``, so they are independent of the random inputs
RANDOM_STREAM = 1
#: the standard deviation of random vectors and scalars (matrices: 1/sqrt(fan-in), as their inputs add up)
RANDOM_SCALE = 0.5


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote and how closely onnxruntime reproduced the model.

    ``max_abs_error``/``max_rel_error`` are with the user's values; ``random_*`` with random values of
    the same shapes drawn from ``seed``. ``finite_values``/``random_finite_values`` count the finite
    values of the model compared within tolerance: 0 means it is NaN or infinite everywhere, so that
    check shows only that onnxruntime is non-finite in the same places.
    """

    path: str
    opset: int
    ir_version: int
    nodes: int
    size_bytes: int
    max_abs_error: float
    max_rel_error: float
    batches: tuple[int, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    seed: int
    random_max_abs_error: float
    random_max_rel_error: float
    finite_values: int
    random_finite_values: int

    def __str__(self) -> str:
        yours = _errors(self.max_abs_error, self.max_rel_error, self.finite_values)
        random = _errors(self.random_max_abs_error, self.random_max_rel_error, self.random_finite_values)
        return (f"{self.path}: {self.nodes} nodes, opset {self.opset}, {self.size_bytes:,} bytes; onnxruntime "
                f"matches at batch {', '.join(map(str, self.batches))} with your parameters ({yours}) and with "
                f"random parameters (seed {self.seed}: {random})")

    def to_json(self) -> dict:
        """The report as plain data for tools: what to show as written, and every field."""
        return {"paths": [self.path], **asdict(self)}

    def metrics(self) -> dict[str, float]:
        """The check's figures as numbers by name: what a pipeline's export step logs as its metrics."""
        return {"max_abs_error": self.max_abs_error, "max_rel_error": self.max_rel_error,
                "random_max_abs_error": self.random_max_abs_error, "random_max_rel_error": self.random_max_rel_error,
                "nodes": float(self.nodes)}


def _errors(max_abs: float, max_rel: float, finite_values: int) -> str:
    if finite_values == 0:
        return "not checked: the model is NaN or infinite everywhere with them"
    return f"max abs error {max_abs:.2e}, max rel error {max_rel:.2e}"


@dataclass(frozen=True)
class Agreement:
    """The worst errors of one check, and how many finite values of the model it compared."""

    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    finite_values: int = 0

    def __add__(self, other: Agreement) -> Agreement:
        return Agreement(max(self.max_abs_error, other.max_abs_error), max(self.max_rel_error, other.max_rel_error),
                         self.finite_values + other.finite_values)


def random_like(arrays: Mapping[str, Any], seed: int, lead: int = 0) -> dict[str, np.ndarray]:
    """Random float32 arrays of the given arrays' shapes, reproducible from ``seed``.

    Normal draws (distinct, non-zero and of both signs, so zeros hide nothing and a missing relu
    shows), scaled by 1/sqrt(fan-in) for matrices so activations stay moderate, by ``RANDOM_SCALE``
    for vectors and scalars. ``lead`` axes in front (posterior draws) are copies, not part of the
    shape that sets the scale.
    """
    rng = np.random.default_rng([seed, RANDOM_STREAM])
    out = {}
    for name, array in arrays.items():
        shape = np.shape(array)
        own = shape[lead:]
        scale = 1 / np.sqrt(np.prod(own[1:])) if len(own) >= 2 else RANDOM_SCALE
        out[name] = (scale * rng.standard_normal(shape)).astype(np.float32)
    return out


def _into_support(values: np.ndarray, support: str) -> np.ndarray:
    """Random real values moved into a latent's support: a posterior never leaves it, so neither should they."""
    if support == "positive":
        return np.abs(values)
    if support == "unit_interval":
        return 1 / (1 + np.exp(-values))
    if support == "simplex":
        exp = np.exp(values - values.max(axis=-1, keepdims=True))
        return exp / exp.sum(axis=-1, keepdims=True)
    return values


def random_posterior(ir: ModelIR, means: Mapping[str, np.ndarray], draws: Mapping[str, np.ndarray],
                     seed: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Random means and draws like the given ones, each latent inside the support of its prior."""
    from ..frontend.distributions import DISTRIBUTIONS
    from ..frontend.ir import Sampling

    supports = {s.target: DISTRIBUTIONS[s.distribution.family].support for s in ir.statements
                if isinstance(s, Sampling)}
    random_means, random_draws = random_like(means, seed), random_like(draws, seed, lead=1)
    return ({k: _into_support(v, supports[k]) for k, v in random_means.items()},
            {k: _into_support(v, supports[k]) for k, v in random_draws.items()})


def _session(model_bytes: bytes):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def compare(label: str, expected: Mapping[str, np.ndarray], got: Mapping[str, np.ndarray], atol: float,
            rtol: float) -> Agreement:
    """Where the model is finite, onnxruntime is finite and within tolerance; where it is ±inf, the same.

    Where the model is NaN nothing is compared: runtimes carry NaN differently through reductions
    (onnxruntime's ReduceMax drops it, JAX's max keeps it), so it says nothing about the graph.
    """
    agreement = Agreement()
    for name, want in expected.items():
        have = np.asarray(got[name], np.float64)
        want = np.asarray(want, np.float64)
        if have.shape != want.shape:
            raise ExportError(
                f"{label}: output {name} has shape {have.shape} in onnxruntime, {want.shape} in the model")
        finite, infinite = np.isfinite(want), np.isinf(want)
        if not (np.isfinite(have[finite]).all() and np.array_equal(have[infinite], want[infinite])):
            raise ExportError(f"{label}: output {name} differs from the model: not finite where the model is, "
                              "or not its infinity")
        have, want = have[finite], want[finite]
        error = np.abs(have - want)
        if not np.all(error <= atol + rtol * np.abs(want)):
            raise ExportError(f"{label}: output {name} differs from the model by up to {error.max():.3g} "
                              f"(tolerance {atol} + {rtol}·|value|)")
        agreement += Agreement(float(error.max(initial=0.0)),
                               float((error / np.maximum(np.abs(want), 1e-12)).max(initial=0.0)), int(finite.sum()))
    return agreement


def _check_and_serialize(proto) -> bytes:
    import onnx

    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
        raise ExportError(f"the ONNX graph does not pass onnx.checker: {error}") from None
    return proto.SerializeToString()


def _bound_shapes(ir: ModelIR, arrays: Mapping[str, Any], dims: Mapping[str, Any], what: str):
    """Every variable's concrete shape, and each integer input's range (lowest, highest, as declared)."""
    from ..runtime.data import domain_limits

    bound = bind(ir, {n: tuple(np.shape(a)) for n, a in arrays.items()}, keywords(ir, dims), what=what)
    limits = {name: domain_limits(name, domain, bound) for name, domain in ir.integers.items()}
    return {name: concrete(shape, bound, name) for name, shape in ir.shapes}, limits


def sample_inputs(rng: np.random.Generator, shapes: Mapping[str, tuple[int, ...]],
                  limits: Mapping[str, tuple[int, int, str]], names, batch: tuple[int, ...] = ()) -> dict:
    """Random inputs for a comparison: float32 in [0.1, 1), and integer inputs as int64 inside their range (at
    most 10 values from its lowest: ℕ gives 0 to 10), so both sides see data the model accepts."""
    out = {}
    for name in names:
        size = (*batch, *shapes[name])
        if name in limits:
            low, high, _ = limits[name]
            low = max(low, -5) if high > 5 else low
            out[name] = rng.integers(low, min(high, low + 10), size=size, endpoint=True, dtype=np.int64)
        else:
            out[name] = rng.uniform(0.1, 1.0, size=size).astype(np.float32)
    return out


def _verify_deterministic(ir: ModelIR, forward: Forward, params: Mapping[str, Any], bounds, label: str, *,
                          opset: int, ir_version: int, atol: float, rtol: float, seed: int) -> tuple[bytes, Agreement]:
    """The graph with ``params`` baked in, and how closely it reproduces ``forward`` on random inputs."""
    from ..printers.onnx import print_onnx

    shapes, limits = bounds
    data = _check_and_serialize(print_onnx(ir, params, shapes, limits=limits, opset=opset, ir_version=ir_version))
    session = _session(data)
    rng = np.random.default_rng(seed)
    agreement = Agreement()
    for batch in BATCHES:
        inputs = sample_inputs(rng, shapes, limits, ir.roles.inputs, (batch,))
        out = forward(params, **inputs)
        expected = out if isinstance(out, dict) else {ir.roles.outputs[0]: out}
        got = dict(zip([o.name for o in session.get_outputs()], session.run(None, inputs)))
        got = {name: got.get(name, got.get(f"{name}_out")) for name in expected}
        agreement += compare(f"batch {batch} with {label}", expected, got, atol, rtol)
    return data, agreement


def export_deterministic(ir: ModelIR, forward: Forward, path: str | os.PathLike, params: Mapping[str, Any], *,
                         opset: int = 17, ir_version: int = 8, atol: float = 1e-4, rtol: float = 1e-3, seed: int = 0,
                         overwrite: bool = False, **dims) -> ExportReport:
    """A deterministic model with ``params`` as an ONNX file, verified against ``forward(params, **inputs)``.

    An existing file is replaced only with ``overwrite=True``.
    """
    from ..runtime.data import read_parameters

    refuse_to_overwrite(path, overwrite)
    read_parameters(ir, params)
    names = ir.roles.params
    bounds = _bound_shapes(ir, {p: params[p] for p in names}, dims, "parameter")
    options = dict(opset=opset, ir_version=ir_version, atol=atol, rtol=rtol, seed=seed)
    data, yours = _verify_deterministic(ir, forward, params, bounds, "your parameters", **options)
    random = random_like({p: params[p] for p in names}, seed)
    _, theirs = _verify_deterministic(ir, forward, random, bounds, f"random parameters (seed {seed})", **options)
    return _write(path, data, opset, ir_version, ir.roles.inputs, seed, yours, theirs)


def _write(path, data: bytes, opset: int, ir_version: int, inputs, seed: int, yours: Agreement,
           theirs: Agreement) -> ExportReport:
    import onnx

    with os_errors(path):
        target = write_atomic(path, data)
    graph = onnx.load_from_string(data).graph
    return ExportReport(str(target), opset, ir_version, len(graph.node), os.path.getsize(target), yours.max_abs_error,
                        yours.max_rel_error, BATCHES, tuple(inputs), tuple(o.name for o in graph.output), seed,
                        theirs.max_abs_error, theirs.max_rel_error, yours.finite_values, theirs.finite_values)


def _location_function(ir: ModelIR, target: str):
    """The observed variable's location as a JAX function of (latents, inputs): the reference."""
    from ..frontend.distributions import location
    from ..frontend.ir import Assignment, Header, Roles, Sampling
    from ..printers.jax import print_jax
    from ..runtime import compiler

    statement = next(s for s in ir.statements if isinstance(s, Sampling) and s.target == target)
    inputs = tuple(n for n in ir.roles.inputs if n not in ir.roles.observed)
    name = f"{target}_location"
    kept = tuple(s for s in ir.statements if not isinstance(s, Sampling))
    expr = location(statement.distribution)
    reference = ModelIR(
        Header(f"{ir.header.name}_reference", inputs, (name,)),
        (*kept, Assignment(name, expr, statement.span, statement.text)),
        Roles(inputs, (name,), ir.roles.latents, (), (), (*ir.roles.deterministic, name), ir.roles.constants,
              ir.roles.dims),
        (*ir.shapes, (name, ir.shape_of[target])), ir.dim_values)
    return compiler.load(print_jax(reference), reference.header.name), inputs


def _verify_posterior(ir: ModelIR, target: str, reference: tuple[Any, tuple[str, ...]],
                      means: Mapping[str, np.ndarray], draws: Mapping[str, np.ndarray], label: str, *,
                      quantiles: tuple[float, ...], opset: int, ir_version: int, atol: float, rtol: float, seed: int,
                      **dims) -> tuple[bytes, Agreement]:
    """The predictive graph with ``means``/``draws`` baked in, and how closely it reproduces the JAX location
    at the means and NumPy's quantiles of it over the draws (``reference``: the location function and its
    inputs), on random inputs."""
    import jax

    from ..printers.onnx import print_onnx_predictive

    function, inputs = reference
    one_draw = {k: v[0] for k, v in draws.items()}
    data_axis = ir.shape_of[target][0]
    shapes, limits = _bound_shapes(ir, one_draw, {**dims, data_axis: BATCHES[-1]}, "latent")
    proto = print_onnx_predictive(ir, target, means, draws, shapes, quantiles=quantiles, limits=limits, opset=opset,
                                  ir_version=ir_version)
    data = _check_and_serialize(proto)
    session = _session(data)
    rng = np.random.default_rng(seed)
    agreement = Agreement()
    for batch in BATCHES:
        shapes, _ = _bound_shapes(ir, one_draw, {**dims, data_axis: batch}, "latent")
        full = sample_inputs(rng, shapes, limits, inputs)
        arguments = [full[n] for n in inputs]
        per_draw = jax.vmap(lambda p, a=arguments: function(p, *a))(draws)
        expected = {target: np.asarray(function(means, *arguments))}
        for q in quantiles:
            expected[f"{target}_q{round(q * 100):02d}"] = np.quantile(np.asarray(per_draw, np.float64), q, axis=0)
        got = dict(zip([o.name for o in session.get_outputs()], session.run(None, full)))
        agreement += compare(f"batch {batch} with {label}", expected, got, atol, rtol)
    return data, agreement


def predictive_target(ir: ModelIR) -> str:
    """The observed variable whose posterior predictive an export serves; an ``ExportError`` where the model has none
    that can be exported, raised before any fit is spent on it."""
    from ..printers.onnx import predictive_exportable

    observed = ir.roles.observed
    if len(observed) != 1:
        raise ExportError(f"{ir.header.name} observes {', '.join(observed) or 'nothing'}; export serves one observed "
                          "variable")
    predictive_exportable(ir)
    return observed[0]


def export_posterior(ir: ModelIR, path: str | os.PathLike, posterior: Posterior, *,
                     quantiles: tuple[float, ...] = (0.05, 0.95), draws: int = 200, opset: int = 17,
                     ir_version: int = 8, atol: float = 1e-4, rtol: float = 1e-3, seed: int = 0,
                     overwrite: bool = False, **dims) -> ExportReport:
    """The posterior predictive of the observed variable as an ONNX file: its location at the posterior
    means, and ``quantiles`` of it over up to ``draws`` posterior draws stored in the graph, verified
    against the JAX printer and NumPy over the same draws. An existing file is replaced only with
    ``overwrite=True``.
    """
    name = ir.header.name
    if not isinstance(posterior, Posterior):
        raise ExportError(f"{name} is probabilistic: export it with the Posterior from {name}.fit")
    refuse_to_overwrite(path, overwrite)
    target = predictive_target(ir)
    samples = posterior.samples
    total = next(iter(samples.values())).shape[0]
    keep = np.unique(np.linspace(0, total - 1, min(draws, total)).round().astype(int))
    thinned = {k: samples[k][keep] for k in ir.roles.latents}
    means = {k: samples[k].mean(axis=0) for k in ir.roles.latents}
    options = dict(quantiles=tuple(quantiles), opset=opset, ir_version=ir_version, atol=atol, rtol=rtol, seed=seed,
                   **dims)
    reference = _location_function(ir, target)
    data, yours = _verify_posterior(ir, target, reference, means, thinned, "your posterior", **options)
    _, theirs = _verify_posterior(ir, target, reference, *random_posterior(ir, means, thinned, seed),
                                  f"random parameters (seed {seed})", **options)
    return _write(path, data, opset, ir_version, reference[1], seed, yours, theirs)
