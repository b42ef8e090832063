"""The model panel: a thin ipywidgets view over ``Model``.

Five sections — Equations, Shapes, Devices, Code, Export — each drawn from the Model API
(``latex``, ``variables``, ``devices``/``to``, ``source``, ``export_onnx``/``export_serving``).
The panel watches ``model.latest`` and redraws when ``init``, ``fit`` or ``to`` change it.
"""

from __future__ import annotations

import weakref
from html import escape
from pathlib import Path

import ipywidgets as widgets

from .errors import ModelError
from .graph import dependencies, svg
from .shapes import format_shape

SECTIONS = ("Equations", "Shapes", "Devices", "Code", "Export")


def shapes_table(variables) -> str:
    """The Shapes section as an HTML table, one row a variable (from ``Model.variables()``)."""
    head = "".join(f"<th>{h}</th>" for h in ("name", "role", "shape", "bound shape", "dtype", "device"))
    rows = []
    for v in variables:
        bound = format_shape(v.bound) if v.bound is not None else "—"
        cells = (v.name, v.role, format_shape(v.shape), bound, v.dtype, v.device)
        rows.append(f'<tr data-name="{escape(v.name)}">' + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    return (f'<table class="ainative-shapes"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


class ModelPanel:
    """The panel of one model; ``widget`` is the ipywidgets Tab that a notebook shows."""

    def __init__(self, model):
        self.model = model
        self.equations = widgets.HTMLMath(f"$$\n{model.latex()}\n$$")
        self.graph = widgets.HTML(svg(dependencies(model.ir)))
        self.shapes = widgets.HTML()
        probabilistic = model.kind == "probabilistic"
        self.device = widgets.Dropdown(options=model.devices(), description="device", disabled=probabilistic)
        self.device_note = widgets.HTML()
        self.code = widgets.Textarea(value=model.source(), layout=widgets.Layout(width="100%", height="16em"))
        self.folder = widgets.Text(value=str(Path.cwd()), description="folder")
        self.onnx_button = widgets.Button(description="ONNX", icon="download", tooltip="export to ONNX (verified)")
        self.serving_button = widgets.Button(description="Serving", icon="server",
                                             tooltip="export a model repository for serving")
        self.overwrite = widgets.Checkbox(value=False, description="replace existing files", indent=False)
        self.result = widgets.HTML()
        self.onnx_button.on_click(lambda _: self.export("onnx"))
        self.serving_button.on_click(lambda _: self.export("serving"))
        self.device.observe(self._moved, names="value")
        self.widget = widgets.Tab(children=[
            widgets.VBox([self.equations, self.graph]),
            self.shapes,
            widgets.VBox([self.device, self.device_note]),
            self.code,
            widgets.VBox([self.folder, widgets.HBox([self.onnx_button, self.serving_button, self.overwrite]),
                          self.result]),
        ])
        self.widget.titles = SECTIONS
        self.refresh()
        panel = weakref.ref(self)
        model.latest.watchers.append(lambda _: panel() and panel().refresh())

    def refresh(self, _=None) -> None:
        """Redraw what depends on the latest params or posterior."""
        variables = self.model.variables()
        self.shapes.value = shapes_table(variables)
        placed = {v.device for v in variables if v.role == "parameter" and v.device != "—"}
        if self.model.kind == "probabilistic":
            self.device_note.value = ("<p>Posterior draws are NumPy arrays on the host; PyTorch devices are "
                                      "listed for the Pyro program.</p>")
        elif len(placed) == 1 and next(iter(placed)) in self.device.options:
            with self.device.hold_trait_notifications():
                self.device.unobserve(self._moved, names="value")
                self.device.value = next(iter(placed))
                self.device.observe(self._moved, names="value")
            self.device_note.value = f"<p>Parameters are on {escape(next(iter(placed)))}.</p>"
        else:
            self.device_note.value = "<p>No parameters yet: run init or fit to place them.</p>"

    def _moved(self, change) -> None:
        try:
            self.model.to(change["new"])
        except ModelError as error:
            self.device_note.value = f"<p>{escape(error.message)}</p>"

    def export(self, kind: str):
        """What the ONNX and Serving buttons do: export the latest params, then show where it went."""
        model, folder = self.model, Path(self.folder.value).expanduser()
        if model.fitted is None:
            self.result.value = f"<p>{escape(model.name)} has no parameters yet: run init or fit first.</p>"
            return None
        try:
            report = model.export(kind, folder, overwrite=self.overwrite.value)
        except ModelError as error:
            ask = "<p>Tick <b>replace existing files</b> to overwrite it.</p>" if "exists" in error.message else ""
            self.result.value = f'<pre class="ainative-error">{escape(str(error))}</pre>{ask}'
            return None
        self.result.value = f'<pre class="ainative-report">{escape(str(report))}</pre>'
        return report

    def _repr_mimebundle_(self, include=None, exclude=None):
        return self.widget._repr_mimebundle_(include=include, exclude=exclude)
