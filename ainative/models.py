"""Models: the one API every view (magics, widgets, lab extension) talks to.

``model(text, header)`` reads the cell into a ``ModelSpec``, runs the front end on it, and picks
the class: a ``DeterministicModel`` (JAX: call it, ``init``, ``fit``, ``federate``) or a
``ProbabilisticModel`` (Pyro or NumPyro: ``fit``, ``sample_prior``, ``predict``, ``replicate``). Both are a
``Model``: names, shapes, equations, generated code, the variable table, exports and the panel.
The subsystems they use (``runtime``, ``export``, ``federated``) take IRs and functions, never a
model, so they import nothing from here. Heavy libraries load on first use.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, final

import numpy as np

from .errors import ExportError, ModelError, ModelSyntaxError, ShapeError, Span, WrongKindError
from .export import EXPORT_FORMATS
from .frontend import shapes
from .frontend.build import build
from .frontend.ir import ModelIR
from .frontend.spec import ModelSpec, read
from .printers.jax import print_jax
from .printers.latex import print_latex
from .printers.numpyro import print_numpyro
from .printers.pyro import print_pyro
from .runtime import compiler
from .runtime.data import as_array
from .runtime.inference import CHAINS, ENGINES, Engine
from .runtime.inference.posterior import Posterior
from .runtime.training import FederatedResult, FitResult

if TYPE_CHECKING:
    from .export.pipeline import PipelineReport

#: backend name → the printer of its source (the header's ``--backend`` choices)
PRINTERS = {"jax": print_jax, "pyro": print_pyro, "numpyro": print_numpyro}

T = TypeVar("T")


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
    ``text`` (``"%%model mlp(x) -> y\\n..."``). ``backend`` and ``latex`` apply where the header
    names none (``--backend``, ``--latex``); ``line_offset`` shifts reported line numbers.
    """
    spec, skipped = read(text, header)
    spec = replace(spec, backend=spec.backend or backend, latex=spec.latex or bool(latex))
    return from_spec(spec, line_offset + skipped)


def from_spec(spec: ModelSpec, line_offset: int = 0) -> Model:
    """The model a spec describes: the class for its kind, with the backend its header names."""
    ir = build(spec, line_offset)
    _refuse_option_names(spec, ir, line_offset)
    if ir.kind == "probabilistic":
        if spec.backend == "jax":
            raise ModelError(f"{spec.name} has '~' statements: use --backend pyro or numpyro, not jax")
        return ProbabilisticModel(spec, ir, engine=ENGINES[spec.backend or "pyro"])
    if spec.backend not in (None, "jax"):
        raise ModelError(f"{spec.name} has no '~' statement, so it runs on JAX: --backend {spec.backend} is for "
                         "probabilistic models")
    return DeterministicModel(spec, ir)


class Latest(Generic[T]):
    """What a model's own methods last produced (params, or a posterior), for views to show and export.

    Only the model changes it; views read ``value`` and ``watch`` it.
    """

    def __init__(self) -> None:
        self._value: T | None = None
        self._watchers: list[Callable[[T], None]] = []

    @property
    def value(self) -> T | None:
        return self._value

    def watch(self, callback: Callable[[T], None]) -> Callable[[], None]:
        """Call ``callback(value)`` whenever the value changes; returns the function that stops it."""
        self._watchers.append(callback)
        return lambda: self._watchers.remove(callback)

    def _set(self, value: T) -> T:
        self._value = value
        for watcher in list(self._watchers):
            watcher(value)
        return value


@dataclass(frozen=True)
class Variable:
    """One row of a model's variable table: what the panel's Shapes section shows."""

    name: str
    role: str
    shape: tuple
    bound: tuple[int, ...] | None
    dtype: str
    device: str


@dataclass(frozen=True, eq=False)
class Model(ABC, Generic[T]):
    """A model written in the notation: its cell, its checked IR, and what its printers make of it.

    ``spec`` is the cell as a value (``text`` renders it), so another process rebuilds the same
    model from text, never from pickled code. ``latest`` is what ``init``/``fit`` last returned.
    """

    spec: ModelSpec
    ir: ModelIR
    latest: Latest[T] = field(default_factory=Latest, init=False, compare=False, repr=False)

    kind: ClassVar[str]
    #: whether ``to`` can move the latest values between devices (the panel's device choice)
    movable: ClassVar[bool]
    #: whether ``fit`` draws a posterior (the panel's Posterior tab shows it)
    draws_posterior: ClassVar[bool]

    #: how the model reads to someone who called a method of the other kind
    has_tilde: ClassVar[str]

    def __getattr__(self, attribute: str):
        """A method of the other kind of model gets a sentence, not a bare ``AttributeError``."""
        for other in (DeterministicModel, ProbabilisticModel):
            if other is not type(self) and not attribute.startswith("_") and attribute in vars(other):
                raise WrongKindError(f"{self.spec.name} {self.has_tilde}: {attribute} is for {other.kind} models")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {attribute!r}")

    # what the model is -------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    @abstractmethod
    def backend(self) -> str:
        """The library its program runs on: ``jax``, ``pyro`` or ``numpyro``."""

    @property
    def text(self) -> str:
        """The cell, header and options included: ``ainative.model(m.text)`` is the same model."""
        return self.spec.render()

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
    def dims(self) -> dict[str, int]:
        """Dimensions the cell itself binds (constants, literals they meet)."""
        return dict(self.ir.dim_values)

    # printers ----------------------------------------------------------------------------
    def latex(self) -> str:
        """The model as aligned equations, exactly as written."""
        return print_latex(self.ir)

    def _repr_latex_(self) -> str:
        return f"$$\n{self.latex()}\n$$"

    def source(self, target: str | None = None) -> str:
        """The generated code for ``target`` (jax, pyro, numpyro): readable, and runnable on its own."""
        target = target or self.backend
        if target not in PRINTERS:
            raise ModelError(f"no printer for {target!r}; available: {', '.join(PRINTERS)}")
        return _printed(target, self.ir)

    def __repr__(self) -> str:
        arrow = f" -> {', '.join(self.outputs)}" if self.outputs else ""
        lines = [f"Model {self.name}({', '.join(self.inputs)}){arrow}  [{self.kind}, {self.backend}]"]
        table = self.shapes
        for role, names in (("input", self.inputs), ("param", self.params), ("latent", self.latents)):
            for name in names:
                lines.append(f"  {role:6} {name}: {shapes.format_shape(table[name])}")
        return "\n".join(lines)

    # views ---------------------------------------------------------------------------------
    def panel(self):
        """The panel, an ipywidgets ``Tab``: equations, shapes, devices, generated code, export buttons and, for a
        probabilistic model, its latest posterior."""
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

    @abstractmethod
    def devices(self) -> list[str]:
        """The devices this model's backend can run on."""

    @abstractmethod
    def placement(self) -> str:
        """Where the latest values live, as a sentence for the panel."""

    @abstractmethod
    def _latest_arrays(self) -> dict[str, Any]:
        """One value of each variable the latest params or posterior hold, for the variable table."""

    def variables(self) -> tuple[Variable, ...]:
        """Every variable: role, symbolic shape, bound shape and placement of the latest params or posterior."""
        arrays = self._latest_arrays()
        try:
            bound = shapes.bind(self.ir, {n: tuple(np.shape(a)) for n, a in arrays.items() if n in self.ir.shape_of},
                                what="value")
        except ModelError:
            bound = {}
        rows = []
        for name, shape in self.ir.shapes:
            try:
                concrete = shapes.concrete(shape, bound, name)
            except ModelError:
                concrete = None
            array = arrays.get(name)
            placement = "—" if array is None else _placement(array)
            dtype = str(getattr(array, "dtype", "float32"))
            rows.append(Variable(name, self.ir.roles.of(name), shape, concrete, dtype, placement))
        return tuple(rows)

    # exports -------------------------------------------------------------------------------
    @abstractmethod
    def export_onnx(self, path: str | os.PathLike, value: T, /, **options: Any):
        """Write a verified ONNX graph of the model with ``value`` (params or a posterior) to ``path``."""

    def export_serving(self, folder: str | os.PathLike, value: T, /, *, formats=None, storage_uri: str | None = None,
                       version: str = "1", max_batch_size: int = 64, overwrite: bool = False, **options: Any):
        """Write a model repository for serving (V2 metadata, MLServer, Triton, KServe) under ``folder``.

        ``formats`` (all by default), ``storage_uri`` (KServe), ``version`` ("1"), ``max_batch_size``
        (Triton); other options go to ``export_onnx``. Serve it with ``ainative serve FOLDER``.
        """
        from .export.serving import FORMATS, export_serving

        def write_onnx(path: Path, replace_files: bool):
            return self.export_onnx(path, value, overwrite=replace_files, **options)

        return export_serving(self.name, folder, write_onnx, formats=formats or FORMATS, storage_uri=storage_uri,
                              version=version, max_batch_size=max_batch_size, overwrite=overwrite)

    @abstractmethod
    def export_pipeline(self, folder: str | os.PathLike, /, *, dims: Mapping[str, int] | None = None,
                        overwrite: bool = False, **settings: Any) -> PipelineReport:
        """Write ``folder/pipeline.yaml``, a Kubeflow pipeline that trains and exports this model; returns a
        ``PipelineReport``."""

    def export(self, format: str, folder: str | os.PathLike = ".", value: T | None = None, *,
               overwrite: bool = False):
        """Export under the names every view uses: ``FOLDER/NAME.onnx``, the repository ``FOLDER/NAME-serving``, or
        the Kubeflow pipeline ``FOLDER/NAME-pipeline/pipeline.yaml``.

        ``format`` is "onnx", "serving" or "pipeline"; ``value`` defaults to what ``init`` or ``fit`` last returned.
        A pipeline trains again from the data it is given, with the default settings (each one a run parameter); the
        dimensions no input fixes (a hidden layer's width) are read from ``value``.
        """
        if format not in EXPORT_FORMATS:
            raise ExportError(f"format {format!r} is not one of {', '.join(EXPORT_FORMATS)}")
        folder, value = Path(folder), self.latest.value if value is None else value
        if value is None:
            raise ModelError(f"{self.name} has no parameters yet: run {self.name}.init(...) or "
                             f"{self.name}.fit(...) first", code="no-params")
        if format == "onnx":
            return self.export_onnx(folder / f"{self.name}.onnx", value, overwrite=overwrite)
        if format == "serving":
            return self.export_serving(folder / f"{self.name}-serving", value, overwrite=overwrite)
        return self.export_pipeline(folder / f"{self.name}-pipeline", dims=self.free_dims(value), overwrite=overwrite)

    def free_dims(self, value: T) -> dict[str, int]:
        """The dimensions that no input's shape fixes (nor the cell), as ``value``'s arrays bind them: what a pipeline
        must be told, since the data it is run on fix the others."""
        fixed = {dim for name in self.inputs for dim in self.ir.shape_of[name]} | dict(self.ir.dim_values).keys()
        bound = shapes.bind(self.ir, self._value_shapes(value), what="parameter")
        return {dim: bound[dim].value for dim in self.ir.roles.dims if dim not in fixed and dim in bound}

    @abstractmethod
    def _value_shapes(self, value: T) -> dict[str, tuple[int, ...]]:
        """The shape of each parameter or latent in ``value``, one draw of it for a posterior."""


@final
@dataclass(frozen=True, eq=False, repr=False)
class DeterministicModel(Model[dict]):
    """A model with no ``~``: a JAX function of its inputs and parameters, called, trained and exported."""

    kind: ClassVar[str] = "deterministic"
    movable: ClassVar[bool] = True
    draws_posterior: ClassVar[bool] = False
    has_tilde: ClassVar[str] = "has no '~' statement"

    @property
    def backend(self) -> str:
        return "jax"

    @property
    def jax_function(self):
        """The generated per-example function ``f(params, *inputs)``, for use with JAX transforms."""
        return compiler.load(self.source("jax"), self.name)

    def __call__(self, params: Mapping[str, Any], /, *args: Any, **inputs: Any):
        """Outputs for the given inputs: one array for one output, else a dict by name.

        Inputs are written for one example; extra leading axes are a batch, mapped with ``vmap``.
        """
        from .runtime.forward import forward

        return forward(self.ir, self.jax_function, params, args, inputs)

    def init(self, key: Any = 0, /, *, device: Any = None, from_params: Mapping[str, Any] | None = None,
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
        return self.latest._set(params)

    def fit(self, params: Mapping[str, Any], data: Mapping[str, Any], loss: str | None = None, *,
            steps: int = 1000, batch_size: int | None = None, optimizer: Any = None, freeze=(),
            devices=None, mesh=None, penalty=None, seed: int = 0, progress: bool = True) -> FitResult:
        """Minimise the mean over examples of the scalar output ``loss``, from ``params``, on ``data``.

        ``optimizer`` is an optax optimizer (Adam 1e-3 by default); parameters named in ``freeze``
        keep their values; ``devices`` or a ``jax.sharding.Mesh`` make training data-parallel;
        ``penalty`` (a ``runtime.training.Penalty``) is added to the loss. Returns ``FitResult(params, history)``.
        """
        from .runtime.training import fit

        result = fit(self.ir, self.jax_function, params, data, loss, steps=steps, batch_size=batch_size,
                     optimizer=optimizer, freeze=freeze, devices=devices, mesh=mesh, penalty=penalty, seed=seed,
                     progress=progress)
        self.latest._set(result.params)
        return result

    def federate(self, client_data, rounds: int, strategy: str = "fedavg", *, params: Mapping[str, Any] | None = None,
                 **options: Any) -> FederatedResult:
        """Train across clients that keep their data, with Flower: ``client_data`` is one dict per client.

        Each round every client runs ``local_steps`` of training from the global parameters and the
        server aggregates them with ``strategy`` ("fedavg", "fedprox" or "fedadam"). ``params``
        default to the latest ``init``. Options: ``test_data`` (held-out, evaluated every round),
        ``loss``, ``accuracy`` ("output:target"), ``local_steps`` (1), ``batch_size`` (whole local
        data), ``optimizer`` ("sgd" or "adam"), ``learning_rate`` (0.1), ``proximal_mu``,
        ``server_learning_rate``, ``progress``, ``verbose``. Returns ``FederatedResult(params, history)``.
        """
        from .federated import federate

        start = self.latest.value if params is None else params
        result = federate(self.text, client_data, rounds, strategy, params=start, **options)
        self.latest._set(result.params)
        return result

    def check_data(self, data: Mapping[str, Any], /, **dims: Any) -> dict[str, int]:
        """Every dimension, as ``data`` and ``dims`` bind them; or the ``DataError``/``ShapeError`` that ``init`` and
        ``fit`` would raise, before any training: what a pipeline's first step runs."""
        from .runtime.data import batch_shape, read_inputs

        given = shapes.keywords(self.ir, dims)
        arrays = read_inputs(self.ir, (), data, given)
        batch_shape(self.ir, arrays)
        bound = shapes.bind(self.ir, arrays, given)
        for name in self.params:
            shapes.concrete(self.shapes[name], bound, name)
        return {dim: binding.value for dim, binding in bound.items()}

    def export_pipeline(self, folder: str | os.PathLike, /, *, dims: Mapping[str, int] | None = None,
                        loss: str | None = None, steps: int = 1000, optimizer: str = "adam",
                        learning_rate: float = 1e-3, batch_size: int | None = None, seed: int = 0,
                        deploy: bool = False, service_account: str = "", image: str | None = None,
                        packages: Sequence[str] | None = None,
                        overwrite: bool = False) -> PipelineReport:
        """Write ``folder/pipeline.yaml``: a Kubeflow pipeline that validates data, trains this model and writes
        its serving repository and verified ONNX graph, as ``fit(init(seed, ...), data, loss, steps=...,
        optimizer=...)`` and ``export_serving`` would here; with ``deploy`` it then applies the KServe manifest in
        the cluster it runs on (``service_account``: the account KServe reads the pipeline's artifacts with).

        ``optimizer`` is "adam" or "sgd" with ``learning_rate``; ``dims`` are the dimensions the data does not fix
        (``{"H": 8}``: a mapping, not keywords, so no input's name can clash with an option's). Each step runs in
        ``image`` after installing ``packages`` (see ``export.pipeline``). The data (an ``.npz`` or Parquet file, by
        path or URI) is named when the pipeline runs. Returns a ``PipelineReport``. Needs
        ``pip install 'ainative[pipelines]'``.
        """
        from .export import pipeline

        settings = dict(loss=loss or "", steps=int(steps), optimizer=optimizer, learning_rate=float(learning_rate),
                        batch_size=int(batch_size or 0), seed=int(seed))
        return pipeline.write_pipeline(self.kind, self.name, self.text, folder, settings, dims=dims, deploy=deploy,
                                       service_account=service_account, image=image or pipeline.IMAGE,
                                       packages=packages, overwrite=overwrite)

    def devices(self) -> list[str]:
        import jax

        return [str(d) for d in jax.devices()]

    def to(self, device: Any) -> dict:
        """Move the latest parameters to ``device`` (a JAX device, its name like ``"cpu:1"``, or an index)."""
        import jax

        if not isinstance(self.latest.value, Mapping):
            raise ModelError(f"{self.name} has no parameters to move: run {self.name}.init(...) first")
        return self.latest._set(jax.device_put(dict(self.latest.value), _device(device)))

    def placement(self) -> str:
        placed = {_placement(v) for v in self._latest_arrays().values()}
        if not placed:
            return "No parameters yet: run init or fit to place them."
        return f"Parameters are on {', '.join(sorted(placed))}."

    def _latest_arrays(self) -> dict[str, Any]:
        return dict(self.latest.value or {})

    def _value_shapes(self, value: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        return {name: tuple(np.shape(value[name])) for name in self.params if name in value}

    def export_onnx(self, path: str | os.PathLike, params: Mapping[str, Any], /, **options: Any):
        """Write an ONNX graph of the model with ``params``, verified in onnxruntime against JAX.

        Options: ``opset`` (17), ``ir_version`` (8), ``atol``/``rtol`` of the check, ``seed`` of the
        random inputs and parameters, ``overwrite`` (False: an existing file is an error), and
        dimensions by keyword. Returns an ``ExportReport``.
        """
        from .export.verified import export_deterministic

        return export_deterministic(self.ir, self, path, params, **options)


@final
@dataclass(frozen=True, eq=False, repr=False)
class ProbabilisticModel(Model[Posterior]):
    """A model with ``~`` statements: a Pyro or NumPyro program, fitted to data into a ``Posterior``."""

    engine: Engine = field(default=ENGINES["pyro"])

    kind: ClassVar[str] = "probabilistic"
    movable: ClassVar[bool] = False
    draws_posterior: ClassVar[bool] = True
    has_tilde: ClassVar[str] = "has '~' statements"

    @property
    def backend(self) -> str:
        return self.engine.name

    @property
    def observed(self) -> tuple[str, ...]:
        """Inputs with a ``~`` statement: conditioned on when given, sampled when not."""
        return self.ir.roles.observed

    @property
    def program(self):
        """The generated Pyro or NumPyro model function."""
        return compiler.load(self.source(), self.name)

    def fit(self, data: Mapping[str, Any], /, method: str = "nuts", *, num_warmup: int = 500, num_samples: int = 500,
            num_chains: int = CHAINS, steps: int = 2000, lr: float = 0.01, seed: int = 0, progress: bool = True,
            device: str | None = None, precision: str = "float32", **dims: Any) -> Posterior:
        """Condition on ``data`` and draw from the posterior: ``method`` "nuts" (NUTS) or "svi" (SVI, AutoNormal).

        NUTS runs ``num_chains`` chains (four: R̂ compares them), in parallel where the library can, each from its
        own seed drawn from ``seed``, so a fit is reproduced by its seed. ``precision`` "float64" computes in double
        precision (JAX's 64-bit mode, float64 tensors in PyTorch). ``device`` is a PyTorch device for Pyro
        (``"cuda:0"``) or a JAX device name for NumPyro; dimensions the data does not fix come by keyword (``H=8``).
        """
        from .runtime.inference import fit

        posterior = fit(self.ir, self.program, self.engine, data, method, num_warmup=num_warmup,
                        num_samples=num_samples, num_chains=num_chains, steps=steps, lr=lr, seed=seed,
                        progress=progress, device=device, precision=precision, **dims)
        return self.latest._set(posterior)

    def check_data(self, data: Mapping[str, Any], /, **dims: Any) -> dict[str, int]:
        """Every dimension, as ``data`` and ``dims`` bind them; or the ``DataError``/``ShapeError`` that ``fit`` would
        raise, before any sampling: what a pipeline's first step runs. Every observed input is needed."""
        from .runtime.data import read_data

        return {dim: binding.value for dim, binding in read_data(self.ir, data, dims, need_observed=True)[1].items()}

    def export_pipeline(self, folder: str | os.PathLike, /, *, dims: Mapping[str, int] | None = None,
                        method: str = "nuts", num_warmup: int = 500, num_samples: int = 500,
                        num_chains: int = CHAINS, steps: int = 2000, lr: float = 0.01, seed: int = 0,
                        precision: str = "float32", quantiles: Sequence[float] = (0.05, 0.95), draws: int = 200,
                        deploy: bool = False, service_account: str = "", image: str | None = None,
                        packages: Sequence[str] | None = None,
                        overwrite: bool = False) -> PipelineReport:
        """Write ``folder/pipeline.yaml``: a Kubeflow pipeline that validates data, fits this model and writes the
        serving repository of its posterior predictive, as ``fit(data, method, ...)`` and ``export_serving(...,
        quantiles=..., draws=...)`` would here; with ``deploy`` it then applies the KServe manifest in the cluster
        it runs on (``service_account``: the account KServe reads the pipeline's artifacts with).

        The settings are ``fit``'s and ``export_onnx``'s; ``dims`` are the dimensions the data does not fix, as a
        mapping. The posterior travels between steps as ``Posterior.save`` writes it. Each step runs in ``image``
        after installing ``packages`` (see ``export.pipeline``). The data (an ``.npz`` or Parquet file, by path or
        URI) is named when the pipeline runs. Returns a ``PipelineReport``. Needs ``pip install 'ainative[pipelines]'``.
        """
        from .export import pipeline
        from .export.verified import predictive_target

        predictive_target(self.ir)
        settings = dict(method=method, num_warmup=int(num_warmup), num_samples=int(num_samples),
                        num_chains=int(num_chains), steps=int(steps), lr=float(lr), seed=int(seed),
                        precision=precision, quantiles=[float(q) for q in quantiles], draws=int(draws))
        return pipeline.write_pipeline(self.kind, self.name, self.text, folder, settings, dims=dims, deploy=deploy,
                                       service_account=service_account, image=image or pipeline.IMAGE,
                                       packages=packages, overwrite=overwrite)

    def sample_prior(self, num_samples: int, /, seed: int = 0, **data: Any) -> dict:
        """Draws of every variable from the prior, given the inputs that are not observed."""
        from .runtime.inference import sample_prior

        return sample_prior(self.ir, self.program, self.engine, num_samples, seed, **data)

    def predict(self, posterior: Posterior, /, seed: int = 0, **data: Any) -> dict:
        """Posterior predictive draws of the observed variables (and deterministic ones) for ``data``."""
        from .runtime.inference import predict

        return predict(self.ir, self.program, self.engine, posterior, seed, **data)

    def replicate(self, posterior: Posterior, /, seed: int = 0) -> dict:
        """Posterior predictive draws at the inputs the fit read, which replicate its observed data: what
        ``posterior.plot("ppc", predictions=...)`` compares them with. The posterior keeps those inputs; the
        program that draws from them is the model's."""
        if isinstance(posterior, Posterior) and posterior.model != self.name:
            raise ModelError(f"replicate takes a Posterior from {self.name}.fit, not one of {posterior.model}")
        inputs = {} if not isinstance(posterior, Posterior) else {**posterior.constant, **posterior.observed}
        return self.predict(posterior, seed=seed, **inputs)

    def devices(self) -> list[str]:
        return self.engine.load().devices()

    def placement(self) -> str:
        return (f"Posterior draws are NumPy arrays on the host; {self.backend} runs the program on one of "
                "these devices (fit(..., device=...)).")

    def _latest_arrays(self) -> dict[str, Any]:
        posterior = self.latest.value
        return {} if posterior is None else {k: v[0] for k, v in posterior.samples.items()}

    def _value_shapes(self, posterior: Posterior) -> dict[str, tuple[int, ...]]:
        if not isinstance(posterior, Posterior):
            raise ExportError(f"{self.name} is probabilistic: export it with the Posterior from {self.name}.fit")
        return {name: posterior.chains[name].shape[2:] for name in self.latents if name in posterior.chains}

    def export_onnx(self, path: str | os.PathLike, posterior: Posterior, /, **options: Any):
        """Write the posterior predictive of the observed variable as a verified ONNX graph.

        Options: ``quantiles`` ((0.05, 0.95)), ``draws`` (200), ``opset``, ``ir_version``,
        ``atol``/``rtol``, ``seed``, ``overwrite``, and dimensions by keyword. Returns an ``ExportReport``.
        """
        from .export.verified import export_posterior

        return export_posterior(self.ir, path, posterior, **options)


#: the methods that take inputs or dimensions by keyword, beside their own keyword options
KEYWORD_TAKERS = ("__call__", "init", "fit", "sample_prior", "predict", "export_onnx", "export_serving")


@lru_cache(maxsize=1)
def option_names() -> dict[str, tuple[str, ...]]:
    """Each keyword option of a method that also takes inputs or dimensions by keyword, and those methods.

    An input or dimension with such a name could not be told from the option, so a cell may not use it.
    """
    import inspect

    from .export.verified import export_deterministic, export_posterior

    found: dict[str, list[str]] = {}
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    for cls in (DeterministicModel, ProbabilisticModel):
        for label in (name for name in KEYWORD_TAKERS if name in dir(cls)):
            parameters = list(inspect.signature(getattr(cls, label)).parameters.values())[1:]
            if any(p.kind is p.VAR_KEYWORD for p in parameters):
                for p in parameters:
                    if p.kind in named:
                        found.setdefault(p.name, []).append(label)
    for function in (export_deterministic, export_posterior):
        for p in inspect.signature(function).parameters.values():
            if p.kind is p.KEYWORD_ONLY:
                found.setdefault(p.name, []).append("export_onnx")
    return {name: tuple(dict.fromkeys(labels)) for name, labels in found.items()}


def _refuse_option_names(spec: ModelSpec, ir: ModelIR, line_offset: int) -> None:
    """A ``ModelSyntaxError`` at an input or dimension named like one of the API's keyword options."""
    from .frontend.ir import Declaration

    taken = option_names()
    for name in (*ir.roles.inputs, *ir.roles.dims):
        if name not in taken:
            continue
        what = "an input" if name in ir.roles.inputs else "a dimension"
        message = f"{what} named {name!r} could not be told from the {name}= option of {', '.join(taken[name])}; " \
                  "rename it"
        declared = next((s for s in ir.statements if isinstance(s, Declaration) and name in s.shape), None)
        if declared is None:
            line = f"%%model {spec.header_line()}"
            column = line.index(name, line.index("(")) + 1
            raise ModelSyntaxError(message, Span(1, column, column + len(name)), line)
        line = spec.body.split("\n")[declared.span.line - line_offset - 1]
        column = declared.span.column + declared.text.rindex(name)
        raise ModelSyntaxError(message, Span(declared.span.line, column, column + len(name)), line)


def _placement(array: Any) -> str:
    """Where an array lives: the host for NumPy arrays, else its JAX devices."""
    if isinstance(array, np.ndarray | np.generic):
        return "host (NumPy)"
    return ", ".join(sorted(str(d) for d in array.devices()))


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
