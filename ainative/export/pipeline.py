"""``write_pipeline``: a model's Kubeflow Pipelines v2 pipeline, compiled by ``kfp`` to its pipeline spec YAML.

The pipeline validates the data, trains, and writes the serving repository with its verified ONNX graph (the
steps are ``pipeline_steps``); its outputs are the trained parameters (``.npz``), the ONNX graph and the serving
repository. Every step runs from one image (``image``) after ``pip install`` of ``packages``; the cell text and
the fit settings are pipeline parameters with the user's values as defaults, so the same YAML runs with other
data or settings without being compiled again. ``kfp`` is imported only here, when a pipeline is built:
``pip install 'ainative[pipelines]'``.
"""

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import ExportError, ModelError
from .files import checked, os_errors, refuse_to_overwrite, write_atomic

#: the image every step runs from unless told otherwise: a plain Python, ainative installed at the start
IMAGE = "python:3.11-slim"
#: what each step installs in ``IMAGE``; an image with ainative in it needs none (``packages=()``)
PACKAGES = ("ainative[export]",)
OPTIMIZERS = ("adam", "sgd")


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


def write_pipeline(
    name: str,
    cell: str,
    folder: str | os.PathLike,
    *,
    dims: Mapping[str, int] | None = None,
    loss: str | None = None,
    steps: int = 1000,
    optimizer: str = "adam",
    learning_rate: float = 1e-3,
    batch_size: int | None = None,
    seed: int = 0,
    image: str = IMAGE,
    packages: Sequence[str] = PACKAGES,
    overwrite: bool = False,
) -> Path:
    """Compile the pipeline of the deterministic model ``name`` (cell text ``cell``) to ``folder/pipeline.yaml``.

    The pipeline's ``data`` parameter (the ``.npz`` to train on) has no default: a path of this machine means
    nothing on a cluster, so each run names it (``arguments={"data": ...}``). The other parameters default to
    the values given here. Returns the path of the YAML, written atomically.
    """
    kfp, compiler, dsl = _kfp()
    from . import pipeline_steps

    if optimizer not in OPTIMIZERS:
        raise ModelError(f"optimizer {optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
    target = checked(folder) / "pipeline.yaml"
    refuse_to_overwrite(target, overwrite)
    options: dict[str, Any] = {"base_image": image, "packages_to_install": list(packages)}
    validate = dsl.component(pipeline_steps.validate_data, **options)
    train = dsl.component(pipeline_steps.train_params, **options)
    export = dsl.component(pipeline_steps.export_params, **options)

    class Outputs(NamedTuple):
        params: dsl.Model
        onnx: dsl.Model
        serving: dsl.Artifact

    defaults = dict(cell=cell, dims=dict(dims or {}), loss=loss or "", steps=int(steps), optimizer=optimizer,
                    learning_rate=float(learning_rate), batch_size=int(batch_size or 0), seed=int(seed))

    def pipeline(data: str, cell: str = defaults["cell"], dims: dict = defaults["dims"],
                 loss: str = defaults["loss"], steps: int = defaults["steps"],
                 optimizer: str = defaults["optimizer"], learning_rate: float = defaults["learning_rate"],
                 batch_size: int = defaults["batch_size"], seed: int = defaults["seed"]) -> Outputs:
        checked_data = validate(cell=cell, data=data, dims=dims)
        trained = train(cell=cell, dataset=checked_data.outputs["dataset"], dims=dims, loss=loss, steps=steps,
                        optimizer=optimizer, learning_rate=learning_rate, batch_size=batch_size, seed=seed)
        exported = export(cell=cell, params=trained.outputs["params"], dims=dims)
        return Outputs(params=trained.outputs["params"], onnx=exported.outputs["onnx"],
                       serving=exported.outputs["serving"])

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
        return write_atomic(target, text)


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
