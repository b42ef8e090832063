"""``Model``: the one object every view (magics, widgets, lab extension) talks to.

``model(text, header)`` runs the pipeline — ``parser`` → ``roles`` → ``shapes`` — and wraps the
checked IR. Everything else is a printer over that IR (``source``, ``latex``) or runs what a
printer produced (``__call__``, ``init``, ``fit``). JAX is imported on first use, not at import.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ExportError, ModelError, ModelSyntaxError, ShapeError, Span
from .frontend import parser, roles, shapes
from .frontend.ir import ModelIR
from .printers.jax import print_jax
from .printers.latex import print_latex
from .printers.numpyro import print_numpyro
from .printers.pyro import print_pyro
from .runtime import compiler
from .runtime.data import as_array, batch_shape, read_inputs, read_parameters

PRINTERS = {"jax": print_jax, "pyro": print_pyro, "numpyro": print_numpyro}


def model(
    text: str,
    header: str | None = None,
    *,
    backend: str | None = None,
    latex: bool | None = None,
    line_offset: int = 0,
) -> Model:
    """Build a model from cell text, as the ``%%model`` magic does.

    ``header`` is the magic's line (``"mlp(x) -> y"``); it may instead be the first line of
    ``text`` (``"%%model mlp(x) -> y\\n..."``). ``line_offset`` shifts reported line numbers.
    """
    if not isinstance(text, str):
        raise TypeError(f"model text must be a string, not {type(text).__name__}")
    header_text, body, skipped = parser.split_cell(text)
    if header is not None:
        header_text, body, skipped = header, text, 0
    if header_text is None:
        raise ModelSyntaxError("no header: pass header='name(inputs) -> outputs' or start with %%model",
                               Span(1 + line_offset, 1, 2), text.split("\n", 1)[0])
    parsed_header = parser.parse_header(header_text)
    if backend is not None or latex is not None:
        parsed_header = type(parsed_header)(
            parsed_header.name, parsed_header.inputs, parsed_header.outputs,
            backend if backend is not None else parsed_header.backend,
            latex if latex is not None else parsed_header.latex)
    cell = parser.parse(body, parsed_header, line_offset=line_offset + skipped)
    ir = shapes.check(cell, roles.assign_roles(cell))
    chosen = parsed_header.backend or ("pyro" if ir.kind == "probabilistic" else "jax")
    if ir.kind == "probabilistic" and chosen == "jax":
        raise ModelError(f"{ir.header.name} has '~' statements: use --backend pyro or numpyro, not jax")
    header_line = header_text.strip().removeprefix("%%model").strip()
    return Model(ir, chosen, text=f"%%model {header_line}\n{body}")


@dataclass(frozen=True)
class Variable:
    """One row of a model's variable table: what the panel's Shapes section shows."""

    name: str
    role: str
    shape: tuple
    bound: tuple[int, ...] | None
    dtype: str
    device: str


class Latest:
    """The latest parameters or posterior of a model, set by ``init`` and ``fit``; views watch it."""

    def __init__(self) -> None:
        self.value: Any = None
        self.watchers: list = []

    def set(self, value: Any) -> Any:
        self.value = value
        for watcher in list(self.watchers):
            watcher(value)
        return value


@dataclass(frozen=True, eq=False)
class Model:
    """A model written in the notation: its IR, its printers, and functions compiled from them.

    ``text`` is the cell it was read from, so that other processes (Flower clients) can rebuild
    it without pickling code. The model itself is a value; ``latest`` remembers what ``init`` and
    ``fit`` last returned so that views (panel, export commands) can show and export it.
    """

    ir: ModelIR
    backend: str = "jax"
    text: str = field(default="", compare=False, repr=False)
    latest: Latest = field(default_factory=Latest, compare=False, repr=False)

    # what the model is -------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.ir.header.name

    @property
    def kind(self) -> str:
        """``"deterministic"`` or ``"probabilistic"`` (any ``~`` statement)."""
        return self.ir.kind

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.ir.roles.inputs

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.ir.roles.outputs

    @property
    def params(self) -> tuple[str, ...]:
        """Trainable parameters: free symbols that are neither inputs nor constants."""
        return self.ir.roles.params

    @property
    def latents(self) -> tuple[str, ...]:
        return self.ir.roles.latents

    @property
    def shapes(self) -> dict[str, tuple]:
        """Every variable's shape: integers and dimension names."""
        return self.ir.shape_of

    @property
    def fitted(self) -> Any:
        """What ``init`` or ``fit`` last returned (params, or a Posterior); None before either."""
        return self.latest.value

    @property
    def dims(self) -> dict[str, int]:
        """Dimensions the cell itself binds (constants, literals they meet)."""
        return dict(self.ir.dim_values)

    # printers ----------------------------------------------------------------------------
    def latex(self) -> str:
        """The model as aligned equations, exactly as written."""
        return print_latex(self.ir)

    def _repr_latex_(self) -> str:
        return f"$$\n{self.latex()}\n$$"

    def panel(self):
        """The panel, an ipywidgets ``Tab``: equations, shapes, devices, generated code and export buttons."""
        from .views.widgets import ModelPanel

        return ModelPanel(self)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """In a kernel, the panel with its static HTML view, LaTeX and text; elsewhere LaTeX and text only."""
        bundle = {"text/plain": repr(self), "text/latex": self._repr_latex_()}
        try:
            from IPython import get_ipython
        except ImportError:
            return bundle
        if getattr(get_ipython(), "kernel", None) is None:
            return bundle
        try:
            view = self.panel()._repr_mimebundle_()
        except ImportError:
            return bundle
        return {**view, **bundle}

    def source(self, target: str | None = None) -> str:
        """The generated code for ``target`` (jax, pyro, numpyro): readable, and runnable on its own."""
        target = target or self.backend
        if target not in PRINTERS:
            raise ValueError(f"no printer for {target!r}; available: {', '.join(PRINTERS)}")
        return _printed(target, self.ir)

    def __repr__(self) -> str:
        arrow = f" -> {', '.join(self.outputs)}" if self.outputs else ""
        lines = [f"Model {self.name}({', '.join(self.inputs)}){arrow}  [{self.kind}, {self.backend}]"]
        table = self.shapes
        for role, names in (("input", self.inputs), ("param", self.params), ("latent", self.latents)):
            for name in names:
                lines.append(f"  {role:6} {name}: {shapes.format_shape(table[name])}")
        return "\n".join(lines)

    # running -----------------------------------------------------------------------------
    @property
    def jax_function(self):
        """The generated per-example function ``f(params, *inputs)``, for use with JAX transforms."""
        return compiler.load(self.source("jax"), self.name)

    @property
    def program(self):
        """The generated Pyro or NumPyro model function (per ``backend``) of a probabilistic model."""
        if self.kind != "probabilistic":
            raise ModelError(f"{self.name} has no '~' statement, so it has no probabilistic program")
        return compiler.load(self.source(self.backend), self.name)

    def init(self, key: Any = 0, *, device: Any = None, from_params: Mapping[str, Any] | None = None,
             **dims_or_data: Any) -> dict:
        """Fresh parameters: Glorot-uniform for matrices (rank ≥ 2), zeros for vectors and scalars.

        Keywords bind dimensions (``D=784``) or give input arrays whose shapes bind them.
        ``key`` is a ``jax.random`` key or an integer seed; ``device`` places the parameters.
        ``from_params`` (transfer learning) supplies parameters by name, e.g. a first layer
        trained on another task; they must have the shapes this model gives them.
        """
        import jax
        import jax.numpy as jnp

        arrays = {n: v for n, v in dims_or_data.items() if n in self.inputs}
        dims = {n: v for n, v in dims_or_data.items() if n not in self.inputs}
        bound = shapes.bind(self.ir, {n: as_array(n, a, "input") for n, a in arrays.items()},
                            shapes.keywords(self.ir, dims))
        if isinstance(key, int):
            key = jax.random.key(key)
        table = self.shapes
        keys = jax.random.split(key, max(1, len(self.params)))
        params = {}
        for name, subkey in zip(self.params, keys):
            shape = shapes.concrete(table[name], bound, name)
            if len(shape) >= 2:
                fan_out, fan_in = shape[0], int(jnp.prod(jnp.array(shape[1:])))
                limit = (6.0 / (fan_in + fan_out)) ** 0.5
                params[name] = jax.random.uniform(subkey, shape, jnp.float32, -limit, limit)
            else:
                params[name] = jnp.zeros(shape, jnp.float32)
        for name, value in (from_params or {}).items():
            if name not in params:
                raise ShapeError(f"from_params has {name}, which is not a parameter of {self.name} "
                                 f"(its parameters: {', '.join(self.params)})")
            if tuple(jnp.shape(value)) != tuple(params[name].shape):
                raise ShapeError(f"from_params gives {name} shape {tuple(jnp.shape(value))}, but {self.name} "
                                 f"needs {tuple(params[name].shape)}")
            params[name] = jnp.asarray(value, jnp.float32)
        if device is not None:
            params = jax.device_put(params, _device(device))
        return self.latest.set(params)

    def devices(self) -> list[str]:
        """The devices this model's backend can run on (JAX's, or PyTorch's for a Pyro model)."""
        if self.backend == "pyro":
            from .runtime.inference.pyro_backend import devices

            return devices()
        import jax

        return [str(d) for d in jax.devices()]

    def to(self, device: Any) -> dict:
        """Move the latest parameters to ``device`` (a JAX device, its name like ``"cpu:1"``, or an index)."""
        import jax

        if self.kind != "deterministic" or not isinstance(self.fitted, Mapping):
            raise ModelError(f"{self.name} has no parameters to move: run {self.name}.init(...) first")
        return self.latest.set(jax.device_put(dict(self.fitted), _device(device)))

    def variables(self) -> tuple[Variable, ...]:
        """Every variable: role, symbolic shape, bound shape and placement of the latest params or posterior."""
        from .views.graph import role

        fitted = self.fitted
        arrays: dict[str, Any] = {}
        if isinstance(fitted, Mapping):
            arrays = dict(fitted)
        elif fitted is not None and hasattr(fitted, "samples"):
            arrays = {k: v[0] for k, v in fitted.samples.items()}
        try:
            bound = shapes.bind(self.ir, {n: tuple(getattr(a, "shape", ())) for n, a in arrays.items()
                                          if n in self.ir.shape_of}, what="value")
        except ModelError:
            bound = {}
        rows = []
        for name, shape in self.ir.shapes:
            try:
                concrete = shapes.concrete(shape, bound, name)
            except ModelError:
                concrete = None
            array = arrays.get(name)
            placement = "—"
            if array is not None and hasattr(array, "devices"):
                placement = ", ".join(sorted(str(d) for d in array.devices()))
            elif array is not None:
                placement = "host (NumPy)"
            dtype = str(getattr(array, "dtype", "float32"))
            rows.append(Variable(name, role(self.ir, name), shape, concrete, dtype, placement))
        return tuple(rows)

    def __call__(self, params: Mapping[str, Any], *args: Any, **inputs: Any):
        """Outputs for the given inputs: one array for one output, else a dict by name.

        Inputs are written for one example; extra leading axes are a batch, mapped with ``vmap``.
        """
        arrays, batch, batched = self._prepare(params, args, inputs)
        return _run(self.jax_function, self.inputs, batch, batched, params, arrays)

    def _prepare(self, params, args, given):
        bound = read_parameters(self.ir, params)
        arrays = read_inputs(self.ir, args, given)
        shapes.bind(self.ir, arrays, bound)
        batch, batched = batch_shape(self.ir, arrays)
        return arrays, batch, batched

    def fit(self, *args: Any, **options: Any):
        """Fit the model to data.

        Deterministic: ``fit(params, data, loss=<output>, steps=1000, batch_size=None,
        optimizer=optax.adam(1e-3), freeze=(), devices=None, mesh=None, proximal_mu=0.0, anchor=None,
        seed=0, progress=True)`` → ``FitResult(params, history)``; parameters named in ``freeze``
        keep their values (see ``ainative.runtime.training.fit``).

        Probabilistic: ``fit(data, method="nuts"|"svi", num_warmup=500, num_samples=500,
        num_chains=1, steps=2000, lr=0.01, seed=0, progress=True, **dims)`` → ``Posterior``.
        """
        if self.kind == "probabilistic":
            from .runtime.inference import fit as infer

            return self.latest.set(infer(self, *args, **options))
        from .runtime.training import fit

        result = fit(self, *args, **options)
        self.latest.set(result.params)
        return result

    def federate(self, client_data, rounds: int, strategy: str = "fedavg", **options: Any):
        """Train across clients that keep their data, with Flower: ``client_data`` is one dict per client.

        Each round every client runs ``local_steps`` of ``fit`` from the global parameters and the
        server aggregates them with ``strategy`` ("fedavg", "fedprox" or "fedadam"). Options:
        ``params`` (default: the latest ``init``), ``test_data`` (held-out, evaluated every round),
        ``loss``, ``accuracy`` ("output:target"), ``local_steps`` (1), ``batch_size`` (whole local
        data), ``optimizer`` ("sgd" or "adam"), ``learning_rate`` (0.1), ``proximal_mu``,
        ``server_learning_rate``, ``progress``, ``verbose``. Returns ``FederatedResult(params, history)``.
        """
        from .federated import federate

        return federate(self, client_data, rounds, strategy, **options)

    def sample_prior(self, num_samples: int, **data: Any) -> dict:
        """Draws of every variable from the prior, given the inputs that are not observed."""
        from .runtime.inference import sample_prior

        return sample_prior(self._probabilistic(), num_samples, **data)

    def predict(self, posterior, **data: Any) -> dict:
        """Posterior predictive draws of the observed variables (and deterministic ones) for ``data``."""
        from .runtime.inference import predict

        return predict(self._probabilistic(), posterior, **data)

    def export_onnx(self, path, fitted, **options: Any):
        """Write an ONNX graph of the model with ``fitted`` params (or a Posterior), verified in onnxruntime.

        Options: ``opset`` (17), ``ir_version`` (8), ``quantiles`` ((0.05, 0.95)) and ``draws`` (200) for
        a posterior, ``atol``/``rtol`` of the check, ``overwrite`` (False: an existing file is an error),
        and dimensions by keyword. Returns an ``ExportReport``.
        """
        from .export.verified import export_onnx

        return export_onnx(self, path, fitted, **options)

    def export_serving(self, folder, fitted, **options: Any):
        """Write a model repository for serving (V2 metadata, MLServer, Triton, KServe) under ``folder``.

        Options: ``formats``, ``storage_uri`` (KServe), ``version`` ("1"), ``max_batch_size`` (Triton),
        and those of ``export_onnx``. Serve it with ``ainative serve FOLDER``.
        """
        from .export.serving import export_serving

        return export_serving(self, folder, fitted, **options)

    def export(self, format: str, folder: str | os.PathLike = ".", fitted: Any = None, *, overwrite: bool = False):
        """Export under the names every view uses: ``FOLDER/NAME.onnx`` or the repository ``FOLDER/NAME-serving``.

        ``format`` is "onnx" or "serving"; ``fitted`` defaults to what ``init`` or ``fit`` last returned.
        """
        folder, fitted = Path(folder), self.fitted if fitted is None else fitted
        if format == "onnx":
            return self.export_onnx(folder / f"{self.name}.onnx", fitted, overwrite=overwrite)
        if format == "serving":
            return self.export_serving(folder / f"{self.name}-serving", fitted, overwrite=overwrite)
        raise ExportError(f"format {format!r} is not one of onnx, serving")

    def _probabilistic(self) -> Model:
        if self.kind != "probabilistic":
            raise ModelError(f"{self.name} has no '~' statement: call it with params to get its outputs")
        return self


def _device(device: Any):
    """A JAX device from a device, its name (``"cpu:1"``) or its index."""
    import jax

    found = jax.devices()
    if isinstance(device, int):
        if 0 <= device < len(found):
            return found[device]
    elif isinstance(device, str):
        for candidate in found:
            if str(candidate) == device:
                return candidate
    elif device in found:
        return device
    raise ModelError(f"no device {device!r}; JAX sees {', '.join(str(d) for d in found)}")


@lru_cache(maxsize=256)
def _printed(target: str, ir: ModelIR) -> str:
    return PRINTERS[target](ir)


def _run(function, names, batch, batched, params, arrays):
    import jax.numpy as jnp

    size = 1
    for n in batch:
        size *= n
    flat = [jnp.asarray(arrays[n].reshape((size,) + arrays[n].shape[len(batch):]) if batched[n] else arrays[n])
            for n in names]
    in_axes = tuple(0 if batched[n] else None for n in names)
    out = _compiled(function, in_axes)(params, *flat)
    if not batch:
        return out
    import jax

    return jax.tree_util.tree_map(lambda o: o.reshape(batch + o.shape[1:]), out)


@lru_cache(maxsize=256)
def _compiled(function, in_axes: tuple):
    import jax

    if all(axis is None for axis in in_axes):
        return jax.jit(function)
    return jax.jit(jax.vmap(function, in_axes=(None, *in_axes)))


