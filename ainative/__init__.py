"""ainative: write a model as mathematics in a Jupyter cell; get JAX and Pyro code, ONNX and serving.

Importing this package is cheap: SymPy, lark and JAX load when the first model is built, and the
types below load when first named.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from .errors import (
    DataError,
    ExistsError,
    ExportError,
    ModelError,
    ModelSyntaxError,
    ShapeError,
    UnknownNameError,
    WrongKindError,
)
from .runtime import compilation_cache as _compilation_cache
from .runtime import host_devices as _host_devices

if TYPE_CHECKING:
    import os

    import numpy as np

    from .export.pipeline import PipelineReport
    from .export.serving import ServingReport
    from .export.verified import ExportReport
    from .frontend.spec import ModelSpec
    from .models import DeterministicModel, Model, ProbabilisticModel
    from .runtime.inference.posterior import Posterior
    from .runtime.training import FederatedResult, FitResult, Penalty

__version__ = "0.1.0"

_compilation_cache.configure()
_host_devices.configure()

#: every user-facing type, by the module that defines it (imported when first used)
_TYPES = {
    "Model": "models", "DeterministicModel": "models", "ProbabilisticModel": "models",
    "ModelSpec": "frontend.spec", "FitResult": "runtime.training", "FederatedResult": "runtime.training",
    "Penalty": "runtime.training", "Posterior": "runtime.inference.posterior", "ExportReport": "export.verified",
    "ServingReport": "export.serving", "PipelineReport": "export.pipeline",
}
__all__ = [
    "DataError", "DeterministicModel", "ExistsError", "ExportError", "ExportReport", "FederatedResult", "FitResult",
    "Model", "ModelError", "ModelSpec", "ModelSyntaxError", "Penalty", "PipelineReport", "Posterior",
    "ProbabilisticModel", "ServingReport", "ShapeError", "UnknownNameError", "WrongKindError", "compare", "load_data",
    "load_ipython_extension", "model", "usage",
]


def model(text: str, header: str | None = None, **options) -> Model:
    """Build a model from notation, as ``%%model`` does (see ``ainative.models.model``)."""
    from .models import model as build

    return build(text, header, **options)


def compare(posteriors: dict[str, Posterior], **options):
    """Rank fitted models by expected log predictive density (ArviZ's ``az.compare``, PSIS-LOO by default): one
    row a model, with ``elpd_loo``, ``se``, ``elpd_diff``, ``dse`` and ``weight``; ``options`` go to ``az.compare``
    (``ic="waic"``, ``method="BB-pseudo-BMA"``). Each value is a ``Posterior`` that ``fit`` returned."""
    from .runtime.inference.posterior import compare as rank

    return rank(posteriors, **options)


def load_data(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays in a ``.npz`` or Parquet file, by name, as ``fit`` takes them (see ``runtime.datasets``): how a
    pipeline's steps read their data, and how a notebook can read the same file."""
    from .runtime.datasets import load_data as read

    return read(path)


def usage() -> str:
    """How a ``%%model`` header reads, and its options."""
    from .frontend.spec import usage as text

    return text()


def __getattr__(name: str):
    if name in _TYPES:
        return getattr(import_module(f".{_TYPES[name]}", __name__), name)
    raise AttributeError(f"module 'ainative' has no attribute {name!r}")


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where the prebuilt JupyterLab extension lives, for ``jupyter labextension develop``."""
    return [{"src": "labextension", "dest": "ainative"}]


def load_ipython_extension(ipython) -> None:
    """``%load_ext ainative``: registers ``%%model``, ``%models`` and ``%model_export``."""
    from .views.magics import register

    register(ipython)
