"""The model panel: a thin ipywidgets view over ``Model``.

Five sections — Equations, Shapes, Devices, Code, Export — each drawn from the Model API
(``latex``, ``variables``, ``devices``/``to``, ``source``, ``export``), and for a probabilistic
model a sixth, Posterior: the latest fit's diagnostics in words and ArviZ's trace, forest and
posterior predictive plots as images (``Posterior.describe_html``, ``Posterior.plot``,
``replicate``). The panel is an ipywidgets ``Tab``, so it can sit inside any other widget
layout; it watches ``model.latest`` and redraws when ``init``, ``fit`` or ``to`` change it.
Displayed on its own, it also carries the static view of ``display.py`` for when its widget
state is gone.
"""

from __future__ import annotations

import base64
import io
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

SECTIONS = ("Equations", "Shapes", "Devices", "Code", "Export", "Posterior")
#: the sections of a model that draws no posterior (a deterministic one)
DETERMINISTIC_SECTIONS = SECTIONS[:-1]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def wide() -> widgets.Layout:
    """A layout as wide as the panel (each widget gets its own: layouts are shared state)."""
    return widgets.Layout(width="100%")


def highlighted(source: str) -> str:
    """Generated code as read-only, highlighted HTML that is as tall as the code (inline styles: no stylesheet)."""
    code = highlight(source, PythonLexer(), HtmlFormatter(noclasses=True, style="default"))
    return f'<div class="ainative-code" style="overflow-x: auto">{code}</div>'


def image(figure, alt: str) -> str:
    """A matplotlib figure as an inline PNG ``<img>`` (no file, no widget state beyond the HTML)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}" style="max-width: 100%">'


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
        self.pipeline_button = widgets.Button(description="Pipeline", icon="sitemap",
                                              tooltip="export a Kubeflow pipeline that trains and exports this model")
        self.overwrite = widgets.Checkbox(value=False, description="replace existing files", indent=False)
        self.result = widgets.HTML()
        self.posterior = widgets.HTML(layout=wide())
        children = [
            widgets.VBox([self.equations, self.graph]),
            self.shapes,
            widgets.VBox([self.device, self.device_note]),
            self.code,
            widgets.VBox([self.folder, widgets.HBox([self.onnx_button, self.serving_button, self.pipeline_button,
                                                        self.overwrite]),
                          self.result], layout=wide()),
        ]
        titles = DETERMINISTIC_SECTIONS
        if model.draws_posterior:
            children, titles = [*children, self.posterior], SECTIONS
        super().__init__(children=children, titles=titles, layout=wide())
        self.onnx_button.on_click(lambda _: self.export("onnx"))
        self.serving_button.on_click(lambda _: self.export("serving"))
        self.pipeline_button.on_click(lambda _: self.export("pipeline"))
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
        if self._model.draws_posterior:
            self.posterior.value = posterior_html(self._model)

    def _moved(self, change) -> None:
        try:
            self._model.to(change["new"])
        except ModelError as error:
            self.device_note.value = f"<p>{escape(error.message)}</p>"

    def export(self, kind: str):
        """What the ONNX, Serving and Pipeline buttons do: export with the latest params, then show where it went."""
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


def posterior_html(model) -> str:
    """The Posterior section of a probabilistic model: its latest fit in words, then ArviZ's plots as images."""
    from ..runtime.inference.posterior import MAX_PLOTTED, PLOTS

    posterior = model.latest.value
    if posterior is None:
        return (f'<p class="ainative-hint">Fit the model (<code>{escape(model.name)}.fit(data)</code>) to see its '
                "posterior here.</p>")
    parts = [posterior.describe_html()]
    try:
        shown, plottable = posterior.plotted(), posterior.plottable
    except ModelError as error:
        return parts[0] + f"<p>{escape(error.message)}</p>"
    rest = [name for name in plottable if name not in shown]
    listed = ", ".join(rest[:3]) + (f" and {len(rest) - 3} more" if len(rest) > 3 else "")
    others = (f" (not {escape(listed)}: <code>posterior.plot(var_names=[...])</code> draws any; the first "
              f"{MAX_PLOTTED} latents are shown)") if rest else ""
    parts.append(f"<p>Plots of {escape(', '.join(shown))}{others}.</p>")
    figures = [("trace", None), ("forest", None)]
    try:
        figures.append(("ppc", model.replicate(posterior)))
    except ModelError as error:
        parts.append(f"<p>No posterior predictive check: {escape(error.message)}</p>")
    for kind, predictions in figures:
        try:
            figure = posterior.plot(kind, predictions=predictions)
        except Exception as error:  # a plot that fails must not fail the fit whose watcher drew it
            parts.append(f"<p>No {kind} plot: {escape(type(error).__name__)}: {escape(str(error))}</p>")
            continue
        names = ", ".join(posterior.observed if kind == "ppc" else shown)
        parts.append(image(figure, f"{PLOTS[kind]} of {names}"))
    return f'<div class="ainative-posterior">{"".join(parts)}</div>'
