"""ONNX export, verified: the graph is checked, run in onnxruntime and compared with the model.

A deterministic model is compared with its JAX function at batch 1 and batch 17. A fitted
probabilistic model exports the posterior predictive of its observed variable; that is compared
with the same computation done by the JAX printer and NumPy over the same posterior draws.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ExportError
from ..shapes import bind, concrete, keywords
from .files import refuse_to_overwrite, write_atomic

if TYPE_CHECKING:
    from ..models import Model

BATCHES = (1, 17)


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote and how closely onnxruntime reproduced the model."""

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

    def __str__(self) -> str:
        return (f"{self.path}: {self.nodes} nodes, opset {self.opset}, {self.size_bytes:,} bytes; onnxruntime "
                f"matches at batch {', '.join(map(str, self.batches))} (max abs error {self.max_abs_error:.2e}, "
                f"max rel error {self.max_rel_error:.2e})")


def _session(model_bytes: bytes):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def _compare(label: str, expected: Mapping[str, np.ndarray], got: Mapping[str, np.ndarray], atol: float,
             rtol: float) -> tuple[float, float]:
    worst_abs = worst_rel = 0.0
    for name, want in expected.items():
        have = got[name]
        want = np.asarray(want, np.float64)
        if have.shape != want.shape:
            raise ExportError(
                f"{label}: output {name} has shape {have.shape} in onnxruntime, {want.shape} in the model")
        error = np.abs(have - want)
        worst_abs = max(worst_abs, float(error.max(initial=0.0)))
        worst_rel = max(worst_rel, float((error / np.maximum(np.abs(want), 1e-12)).max(initial=0.0)))
        if not np.all(error <= atol + rtol * np.abs(want)):
            raise ExportError(f"{label}: output {name} differs from the model by up to {error.max():.3g} "
                              f"(tolerance {atol} + {rtol}·|value|)")
    return worst_abs, worst_rel


def _check_and_serialize(proto) -> bytes:
    import onnx

    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as error:
        raise ExportError(f"the ONNX graph does not pass onnx.checker: {error}") from None
    return proto.SerializeToString()


def _bound_shapes(model: Model, arrays: Mapping[str, Any], dims: Mapping[str, Any], what: str):
    bound = bind(model.ir, {n: tuple(np.shape(a)) for n, a in arrays.items()}, keywords(model.ir, dims), what=what)
    return {name: concrete(shape, bound, name) for name, shape in model.ir.shapes}


def export_deterministic(model: Model, path, params, *, opset: int, ir_version: int, atol: float, rtol: float,
                         seed: int, **dims) -> ExportReport:
    from ..data import read_parameters
    from ..printers.onnx import print_onnx

    read_parameters(model.ir, params)
    shapes = _bound_shapes(model, {p: params[p] for p in model.params}, dims, "parameter")
    data = _check_and_serialize(print_onnx(model.ir, params, shapes, opset=opset, ir_version=ir_version))
    session = _session(data)
    rng = np.random.default_rng(seed)
    worst = (0.0, 0.0)
    for batch in BATCHES:
        inputs = {n: rng.uniform(0.1, 1.0, size=(batch, *shapes[n])).astype(np.float32) for n in model.inputs}
        out = model(params, **inputs)
        expected = out if isinstance(out, dict) else {model.outputs[0]: out}
        got = dict(zip([o.name for o in session.get_outputs()], session.run(None, inputs)))
        got = {name: got.get(name, got.get(f"{name}_out")) for name in expected}
        errors = _compare(f"batch {batch}", expected, got, atol, rtol)
        worst = (max(worst[0], errors[0]), max(worst[1], errors[1]))
    return _write(path, data, opset, ir_version, worst, model.inputs, tuple(o.name for o in session.get_outputs()))


def _write(path, data: bytes, opset, ir_version, worst, inputs, outputs) -> ExportReport:
    import onnx

    target = write_atomic(path, data)
    nodes = len(onnx.load_from_string(data).graph.node)
    return ExportReport(str(target), opset, ir_version, nodes, os.path.getsize(target), worst[0], worst[1], BATCHES,
                        tuple(inputs), tuple(outputs))


def _location_function(model: Model, target: str):
    """The observed variable's location as a JAX function of (latents, inputs): the reference."""
    from .. import compiler
    from ..ir import Assignment, Header, ModelIR, Roles, Sampling
    from ..printers.jax import print_jax
    from ..printers.onnx import location

    ir = model.ir
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


def export_posterior(model: Model, path, posterior, *, quantiles, draws: int, opset: int, ir_version: int,
                     atol: float, rtol: float, seed: int, **dims) -> ExportReport:
    import jax

    from ..printers.onnx import print_onnx_predictive

    observed = model.ir.roles.observed
    if len(observed) != 1:
        raise ExportError(f"{model.name} observes {', '.join(observed) or 'nothing'}; export serves one observed "
                          "variable")
    target = observed[0]
    samples = posterior.samples
    total = next(iter(samples.values())).shape[0]
    keep = np.unique(np.linspace(0, total - 1, min(draws, total)).round().astype(int))
    thinned = {k: samples[k][keep] for k in model.latents}
    means = {k: samples[k].mean(axis=0) for k in model.latents}
    one_draw = {k: v[0] for k, v in thinned.items()}
    function, inputs = _location_function(model, target)
    rng = np.random.default_rng(seed)
    data_axis = model.shapes[target][0]
    shapes = _bound_shapes(model, one_draw, {**dims, data_axis: BATCHES[-1]}, "latent")
    proto = print_onnx_predictive(model.ir, target, means, thinned, shapes, quantiles=quantiles, opset=opset,
                                  ir_version=ir_version)
    data = _check_and_serialize(proto)
    session = _session(data)
    worst = (0.0, 0.0)
    for batch in BATCHES:
        shapes = _bound_shapes(model, one_draw, {**dims, data_axis: batch}, "latent")
        full = {n: rng.uniform(0.1, 1.0, size=shapes[n]).astype(np.float32) for n in inputs}
        arguments = [full[n] for n in inputs]
        per_draw = jax.vmap(lambda p, a=arguments: function(p, *a))(thinned)
        expected = {target: np.asarray(function(means, *(full[n] for n in inputs)))}
        for q in quantiles:
            expected[f"{target}_q{round(q * 100):02d}"] = np.quantile(np.asarray(per_draw, np.float64), q, axis=0)
        got = dict(zip([o.name for o in session.get_outputs()], session.run(None, full)))
        errors = _compare(f"batch {batch}", expected, got, atol, rtol)
        worst = (max(worst[0], errors[0]), max(worst[1], errors[1]))
    return _write(path, data, opset, ir_version, worst, inputs, tuple(o.name for o in session.get_outputs()))


def export_onnx(model: Model, path: str | os.PathLike, fitted, *, opset: int = 17, ir_version: int = 8,
                quantiles: tuple[float, ...] = (0.05, 0.95), draws: int = 200, atol: float = 1e-4,
                rtol: float = 1e-3, seed: int = 0, overwrite: bool = False, **dims) -> ExportReport:
    """Export ``model`` with ``fitted`` (params, or a Posterior) to ``path``; verify before writing.

    An existing file is replaced only with ``overwrite=True``.
    """
    from ..inference.posterior import Posterior

    path = Path(path)
    refuse_to_overwrite(path, overwrite)
    if model.kind == "probabilistic":
        if not isinstance(fitted, Posterior):
            raise ExportError(f"{model.name} is probabilistic: export it with the Posterior from {model.name}.fit")
        return export_posterior(model, path, fitted, quantiles=tuple(quantiles), draws=draws, opset=opset,
                                ir_version=ir_version, atol=atol, rtol=rtol, seed=seed, **dims)
    return export_deterministic(model, path, fitted, opset=opset, ir_version=ir_version, atol=atol, rtol=rtol,
                                seed=seed, **dims)
