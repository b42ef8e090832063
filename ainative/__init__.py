"""ainative: write a model as mathematics in a Jupyter cell; get JAX and Pyro code, ONNX and serving.

Importing this package is cheap: SymPy, lark and JAX load when the first model is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import (
    DataError,
    ExistsError,
    ExportError,
    ModelError,
    ModelSyntaxError,
    ShapeError,
    UnknownNameError,
)

if TYPE_CHECKING:
    from .models import Model
    from .runtime.training import FitResult

__version__ = "0.1.0"
__all__ = [
    "DataError", "ExistsError", "ExportError", "FitResult", "Model", "ModelError", "ModelSyntaxError", "ShapeError",
    "UnknownNameError", "load_ipython_extension", "model",
]


def model(text: str, header: str | None = None, **options) -> Model:
    """Build a model from notation, as ``%%model`` does (see ``ainative.model.model``)."""
    from .models import model as build

    return build(text, header, **options)


def __getattr__(name: str):
    if name == "Model":
        from .models import Model

        return Model
    if name == "FitResult":
        from .runtime.training import FitResult

        return FitResult
    raise AttributeError(f"module 'ainative' has no attribute {name!r}")


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where the prebuilt JupyterLab extension lives, for ``jupyter labextension develop``."""
    return [{"src": "labextension", "dest": "ainative"}]


def load_ipython_extension(ipython) -> None:
    """``%load_ext ainative``: registers ``%%model`` and ``%models``."""
    from .views.magics import register

    register(ipython)
