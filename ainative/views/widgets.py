"""The model panel: a thin ipywidgets view over ``Model``.

Five sections — Equations, Shapes, Devices, Code, Export — each drawn from the Model API
(``latex``, ``variables``, ``devices``/``to``, ``source``, ``export``). The panel is an
ipywidgets ``Tab``, so it can sit inside any other widget layout; it watches ``model.latest``
and redraws when ``init``, ``fit`` or ``to`` change it. Displayed on its own, it also carries
the static view of ``display.py`` for when its widget state is gone.
"""

from __future__ import annotations

import weakref
from html import escape
from pathlib import Path

import ipywidgets as widgets
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from ..errors import ModelError
from .display import MODEL_MIME, equations, shapes_table, static_html
from .graph import dependencies, svg

SECTIONS = ("Equations", "Shapes", "Devices", "Code", "Export")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def wide() -> widgets.Layout:
    """A layout as wide as the panel (each widget gets its own: layouts are shared state)."""
    return widgets.Layout(width="100%")


def highlighted(source: str) -> str:
    """Generated code as read-only, highlighted HTML that is as tall as the code (inline styles: no stylesheet)."""
    code = highlight(source, PythonLexer(), HtmlFormatter(noclasses=True, style="default"))
    return f'<div class="ainative-code" style="overflow-x: auto">{code}</div>'


class ModelPanel(widgets.Tab):
    """The panel of one model: a ``Tab`` whose sections read and act through the model's API."""

    def __init__(self, model):
        self._model = model
        self.equations = widgets.HTMLMath(equations(model))
        self.graph = widgets.HTML(svg(dependencies(model.ir)))
        self.shapes = widgets.HTML()
        self.device = widgets.Dropdown(options=model.devices(), description="device", disabled=not model.movable)
        self.device_note = widgets.HTML()
        self.code = widgets.HTML(highlighted(model.source()), layout=wide())
        self.folder = widgets.Text(value=str(Path.cwd()), description="folder", style={"description_width": "initial"},
                                   layout=wide())
        self.onnx_button = widgets.Button(description="ONNX", icon="download", tooltip="export to ONNX (verified)")
        self.serving_button = widgets.Button(description="Serving", icon="server",
                                             tooltip="export a model repository for serving")
        self.overwrite = widgets.Checkbox(value=False, description="replace existing files", indent=False)
        self.result = widgets.HTML()
        super().__init__(children=[
            widgets.VBox([self.equations, self.graph]),
            self.shapes,
            widgets.VBox([self.device, self.device_note]),
            self.code,
            widgets.VBox([self.folder, widgets.HBox([self.onnx_button, self.serving_button, self.overwrite]),
                          self.result], layout=wide()),
        ], titles=SECTIONS, layout=wide())
        self.onnx_button.on_click(lambda _: self.export("onnx"))
        self.serving_button.on_click(lambda _: self.export("serving"))
        self.device.observe(self._moved, names="value")
        self.refresh()
        panel = weakref.ref(self)
        model.latest.watch(lambda _: panel() and panel().refresh())

    def refresh(self, _=None) -> None:
        """Redraw what depends on the latest params or posterior."""
        variables = self._model.variables()
        self.shapes.value = f'<div class="jp-RenderedHTMLCommon">{shapes_table(variables)}</div>'
        placed = {v.device for v in variables if v.role == "parameter" and v.device != "—"}
        if self._model.movable and len(placed) == 1 and next(iter(placed)) in self.device.options:
            with self.device.hold_trait_notifications():
                self.device.unobserve(self._moved, names="value")
                self.device.value = next(iter(placed))
                self.device.observe(self._moved, names="value")
        self.device_note.value = f"<p>{escape(self._model.placement())}</p>"

    def _moved(self, change) -> None:
        try:
            self._model.to(change["new"])
        except ModelError as error:
            self.device_note.value = f"<p>{escape(error.message)}</p>"

    def export(self, kind: str):
        """What the ONNX and Serving buttons do: export the latest params, then show where it went."""
        try:
            report = self._model.export(kind, Path(self.folder.value).expanduser(), overwrite=self.overwrite.value)
        except ModelError as error:
            ask = "<p>Tick <b>replace existing files</b> to overwrite it.</p>" if error.code == "exists" else ""
            self.result.value = f'<pre class="ainative-error">{escape(str(error))}</pre>{ask}'
            return None
        self.result.value = f'<pre class="ainative-report">{escape(str(report))}</pre>'
        return report

    def _repr_mimebundle_(self, **kwargs) -> dict:
        """The widget, and the model's static view for front ends that no longer hold (or never ran) it."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if WIDGET_MIME in bundle:
            bundle[MODEL_MIME] = bundle[WIDGET_MIME]
        return {**bundle, "text/html": static_html(self._model)}
