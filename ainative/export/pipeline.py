"""``write_pipeline``: a model's Kubeflow Pipelines v2 pipeline, compiled by ``kfp`` to its pipeline spec YAML.

The pipeline validates the data, trains (parameters for a deterministic model, a posterior for a probabilistic
one), writes the serving repository with its verified ONNX graph, and, when its ``deploy`` parameter is true,
applies the repository's KServe ``InferenceService`` (the steps are ``pipeline_steps``). Every step runs from one
image (``image``) after ``pip install`` of ``packages``; the cell text and the settings are pipeline parameters
with the user's values as defaults, so the same YAML runs with other data or settings without being compiled
again. ``kfp`` is imported only here, when a pipeline is built: ``pip install 'ainative[pipelines]'``.
"""

import inspect
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import ExportError, ModelError
from ..runtime.atomic import write_atomic
from .files import checked, os_errors, refuse_to_overwrite

#: the image every step runs from unless told otherwise: a plain Python, ainative installed at the start
IMAGE = "python:3.11-slim"
#: what each step installs in ``IMAGE``, by the kind of model; an image with ainative in it needs none
PACKAGES = {"deterministic": ("ainative[export,parquet]",), "probabilistic": ("ainative[export,pyro,parquet]",)}
#: what the deploy step installs: the Kubernetes client (KServe's own SDK would clash with the serving extra)
DEPLOY_PACKAGES = ("kubernetes>=8,<31",)
#: the steps by kind of model: validate, train, export (``pipeline_steps``' functions), and what training makes
STEPS = {"deterministic": ("validate_data", "train_params", "export_params"),
         "probabilistic": ("validate_data", "train_posterior", "export_posterior")}
TRAINED = {"deterministic": "params", "probabilistic": "posterior"}
#: the choices of the settings that have a few
CHOICES = {"optimizer": ("adam", "sgd"), "method": ("nuts", "svi"), "precision": ("float32", "float64")}


@dataclass(frozen=True)
class PipelineReport:
    """Where the pipeline went, its steps and its run parameters: what the views show after an export."""

    path: str
    name: str
    steps: tuple[str, ...]
    parameters: tuple[str, ...]

    def __str__(self) -> str:
        others = ", ".join(p for p in self.parameters if p != "data")
        return (f"Kubeflow pipeline {self.name}: {self.path}\n  steps: {' → '.join(self.steps)} (deploy only when "
                f"deploy=True)\n  run it with data=<path or URI of an .npz or .parquet>; the other parameters "
                f"({others}) default to this export's settings")

    def to_json(self) -> dict:
        """The report as plain data for tools: what to show as written (the YAML), its steps and parameters."""
        return {"paths": [self.path], "path": self.path, "name": self.name, "steps": list(self.steps),
                "parameters": list(self.parameters)}


def _kfp():
    try:
        import kfp
        import kfp.components
        from kfp import compiler, dsl
    except ImportError:
        raise ModelError("a pipeline needs the Kubeflow Pipelines SDK: pip install 'ainative[pipelines]'") from None
    return kfp, compiler, dsl


def pipeline_name(model: str) -> str:
    """The pipeline's name: the model's, in the lowercase letters, digits and dashes Kubeflow takes."""
    return re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-") or "model"


def check_settings(settings: Mapping[str, Any]) -> None:
    """A ``ModelError`` at a setting outside its choices or a quantile outside (0, 1), before anything is written;
    the train step's ``fit`` checks the numbers again where they are used."""
    for name, choices in CHOICES.items():
        if name in settings and settings[name] not in choices:
            raise ModelError(f"{name} {settings[name]!r} is not one of {', '.join(choices)}")
    for quantile in settings.get("quantiles", ()):
        if not 0 < quantile < 1:
            raise ModelError(f"quantile {quantile!r} is not between 0 and 1")


def write_pipeline(
    kind: str,
    name: str,
    cell: str,
    folder: str | os.PathLike,
    settings: Mapping[str, Any],
    *,
    dims: Mapping[str, int] | None = None,
    deploy: bool = False,
    service_account: str = "",
    image: str = IMAGE,
    packages: Sequence[str] | None = None,
    overwrite: bool = False,
) -> PipelineReport:
    """Compile the pipeline of the ``kind`` model ``name`` (cell text ``cell``) to ``folder/pipeline.yaml``.

    ``settings`` are the train and export steps' parameters, with their defaults (``loss``, ``steps``,
    ``optimizer``… or ``method``, ``num_samples``…). The pipeline's ``data`` parameter (the ``.npz`` or Parquet file)
    has no default: a path of this machine means nothing on a cluster, so each run names it
    (``arguments={"data": ...}``). ``deploy`` and ``service_account`` are the deploy step's (``pipeline_steps.
    deploy_serving``). Returns a ``PipelineReport``; the YAML is written atomically.
    """
    kfp, compiler, dsl = _kfp()
    from . import pipeline_steps

    check_settings(settings)
    target = checked(folder) / "pipeline.yaml"
    refuse_to_overwrite(target, overwrite)
    options: dict[str, Any] = {"base_image": image, "packages_to_install": list(
        PACKAGES[kind] if packages is None else packages)}
    steps = [dsl.component(getattr(pipeline_steps, step), **options) for step in STEPS[kind]]
    deploy_step = dsl.component(pipeline_steps.deploy_serving, base_image=image,
                                packages_to_install=list(DEPLOY_PACKAGES))
    defaults = {"cell": cell, "dims": dict(dims or {}), **settings, "deploy": bool(deploy),
                "service_account": service_account, "image": image}
    Outputs = NamedTuple("Outputs", [(TRAINED[kind], dsl.Model), ("onnx", dsl.Model), ("serving", dsl.Artifact)])

    def pipeline(*values):
        arguments = dict(zip(["data", *defaults], values))
        imported = dsl.importer(artifact_uri=arguments["data"], artifact_class=dsl.Dataset).set_caching_options(False)
        made = {"data": imported.output}
        for step in steps:
            task = step(**{p: made.get(p, arguments.get(p)) for p in step.component_spec.inputs or {}})
            task.set_container_image(arguments["image"])
            if step is steps[0]:  # the file at a URI can change between runs: read it each time, not from a cache
                task.set_caching_options(False)
            made.update({output: task.outputs[output] for output in task.component_spec.outputs or {}})
        with dsl.If(arguments["deploy"] == True, name="if-deploy"):  # noqa: E712 (a pipeline condition)
            deployed = deploy_step(serving=made["serving"], name=name, service_account=arguments["service_account"])
            deployed.set_container_image(arguments["image"]).set_caching_options(False)  # the cluster may change
        return Outputs(made[TRAINED[kind]], made["onnx"], made["serving"])

    pipeline.__signature__ = inspect.Signature(
        [inspect.Parameter("data", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str),
         *(inspect.Parameter(key, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=value, annotation=_type(value))
           for key, value in defaults.items())], return_annotation=Outputs)
    compiled = dsl.pipeline(name=pipeline_name(name), description=f"Train and export {name}, from its cell")(pipeline)
    with tempfile.TemporaryDirectory() as scratch:
        spec = Path(scratch) / "pipeline.yaml"
        try:
            compiler.Compiler().compile(compiled, str(spec))
        except (ValueError, TypeError) as error:
            raise ExportError(f"kfp cannot compile the pipeline of {name}: {error}") from error
        text = _comment_cell(spec.read_text(encoding="utf-8"), cell)
    try:
        kfp.components.load_component_from_text(text)
    except Exception as error:
        raise ExportError(f"kfp cannot read back the pipeline it compiled for {name}: {error}") from error
    with os_errors(target):
        written = write_atomic(target, text)
    names = tuple(step.component_spec.name.replace("_", "-") for step in [*steps, deploy_step])
    return PipelineReport(str(written), pipeline_name(name), names, ("data", *defaults))


def _type(value: Any) -> type:
    """A parameter's type in the pipeline spec, from its default: a list and a mapping are kfp's ``list`` and
    ``dict``, and a whole-number float stays a float."""
    return next(kind for kind in (bool, int, float, str, list, dict) if isinstance(value, kind))


def _comment_cell(text: str, cell: str) -> str:
    """The YAML with the cell's lines commented in its header.

    kfp 2.17 lists each parameter's default in a comment at the top of the YAML, but writes a default of several
    lines as it is, so the cell's second and later lines would stand outside the comment and kfp's own loader
    would refuse the file. The first place the cell appears verbatim is that comment (the spec below quotes it).
    """
    quoted = f"'{cell}'"
    at = text.find(quoted)
    if "\n" not in cell or at < 0:
        return text
    return text[:at] + quoted.replace("\n", "\n#      ") + text[at + len(quoted):]
