"""``%%model``, ``%models`` and ``%model_export``: a thin view over ``ainative.model`` for notebooks.

The ``%%model`` line is a header, read by the same parser and option table as every other
header (``%%model --help`` is written from that table); defaults are traitlets
(``%config ModelMagics.backend = "numpyro"``). A ``ModelError`` is shown as its short message
with a caret, without a library traceback. Models and the front end are imported when a
magic first runs, so ``%load_ext ainative`` stays light.
"""

from __future__ import annotations

import json
import sys

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display
from traitlets import Bool, Enum

from ..errors import ModelError
from ..export import EXPORT_FORMATS
from ..frontend.spec import BACKENDS

HELP = ("--help", "-h")


def _models(namespace: dict) -> dict:
    """The models bound in a namespace (none before ``ainative.models`` is first imported)."""
    module = sys.modules.get("ainative.models")
    if module is None:
        return {}
    return {k: v for k, v in namespace.items() if isinstance(v, module.Model) and not k.startswith("_")}


@magics_class
class ModelMagics(Magics):
    """Define models in mathematical notation with ``%%model``; list them with ``%models``."""

    backend = Enum(("auto", *BACKENDS), "auto",
                   help="Backend when a cell names none: auto is pyro for models with '~', else jax.").tag(config=True)
    latex = Bool(False, help="Read cells as LaTeX (single letters juxtaposed multiply).").tag(config=True)
    show = Bool(True, help="Display the model after a %%model cell defines it.").tag(config=True)
    short_errors = Bool(True, help="Show model errors as a short message with a caret, no traceback.").tag(
        config=True)

    @line_cell_magic
    def model(self, line: str, cell: str | None = None):
        """Define a model from the cell's notation and bind it under its NAME (``%model --help``)."""
        from ..frontend.spec import usage
        from ..models import model

        if any(word in HELP for word in line.split()):
            print(usage())
            return
        if cell is None:
            raise UsageError("write the model in a cell that starts with %%model NAME(INPUTS) -> OUTPUTS")
        m = model(cell, header=line, backend=None if self.backend == "auto" else self.backend,
                           latex=self.latex or None, line_offset=1)
        self.shell.user_ns[m.name] = m
        if self.show and not m.spec.quiet:
            display(m)

    @magic_arguments()
    @argument("name", help="the model to export")
    @argument("--format", choices=EXPORT_FORMATS, default="onnx",
              help="an ONNX file (NAME.onnx), a model repository (NAME-serving), or a Kubeflow pipeline that trains "
                   "and exports the model (NAME-pipeline/pipeline.yaml)")
    @argument("--out", default=".", help="folder to write into (default: the notebook's folder)")
    @argument("--params", default=None, help="variable holding params or a Posterior (default: the latest)")
    @argument("--overwrite", action="store_true", help="replace files that exist")
    @argument("--json", action="store_true",
              help="print the outcome as one line of JSON, for tools: the report, or the error's code and message")
    @line_magic
    def model_export(self, line: str):
        """Export a model to ONNX, a serving repository or a Kubeflow pipeline; prints where things went."""
        args = parse_argstring(self.model_export, line)
        try:
            model, value = _export_target(self.shell, args.name, args.params)
            report = model.export(args.format, args.out, value, overwrite=args.overwrite)
        except ModelError as error:
            if not args.json:
                raise
            print(json.dumps({"ok": False, "name": args.name, "code": error.code, "message": str(error)}))
            return None
        if args.json:
            print(json.dumps({"ok": True, "name": args.name, "format": args.format, "report": report.to_json()}))
            return None
        print(report)
        return report

    @magic_arguments()
    @argument("--json", action="store_true", help="Print the models as JSON, for tools.")
    @line_magic
    def models(self, line: str):
        """List the models defined in this kernel."""
        args = parse_argstring(self.models, line)
        found = _models(self.shell.user_ns)
        if args.json:
            print(json.dumps([
                {"name": k, "kind": m.kind, "backend": m.backend, "inputs": list(m.inputs),
                 "outputs": list(m.outputs), "params": list(m.params), "latents": list(m.latents)}
                for k, m in found.items()
            ]))
            return
        if not found:
            print("No models yet: define one with %%model.")
        for k, m in found.items():
            print(f"{k}({', '.join(m.inputs)}) -> {', '.join(m.outputs)}  [{m.kind}, {m.backend}]")


def _export_target(shell, name: str, params: str | None):
    models = _models(shell.user_ns)
    if name not in models:
        known = ", ".join(models) or "none"
        raise ModelError(f"no model named {name!r} in this kernel (models: {known}): run its %%model cell first",
                         code="no-model")
    if params and params not in shell.user_ns:
        raise ModelError(f"no variable named {params!r} for the parameters", code="no-variable")
    return models[name], shell.user_ns[params] if params else None


def _show_model_error(shell, etype, value, tb, tb_offset=None):
    """Show a ``ModelError`` as its message and caret (as the kernel's error output)."""
    magics = shell.magics_manager.registry.get("ModelMagics")
    if magics is not None and not magics.short_errors:
        stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    else:
        stb = [f"{etype.__name__}: {value}"]
    shell._showtraceback(etype, value, stb)
    return stb


def register(shell) -> None:
    """Register the magics, their configuration, and the short display of model errors."""
    magics = ModelMagics(shell=shell)
    shell.register_magics(magics)
    if magics not in shell.configurables:
        shell.configurables.append(magics)
    shell.set_custom_exc((ModelError,), _show_model_error)
