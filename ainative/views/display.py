"""A model as static HTML: its equations, dependency graph and shapes table, readable without a kernel.

The panel (``widgets.py``) shows the same things live. A model's notebook output carries this
HTML beside the panel, so a saved notebook reopened later (when the panel's widget state is
gone) still shows the model where the panel was, and so do viewers that run no widgets.
"""

from __future__ import annotations

import base64
from html import escape

from ..frontend.shapes import format_shape
from .graph import dependencies, svg

#: The mime type of a model's display; its data is the panel's widget view (ainative's lab extension reads it).
MODEL_MIME = "application/vnd.ainative.model+json"

def shapes_table(variables) -> str:
    """The Shapes section as an HTML table, one row a variable (from ``Model.variables()``)."""
    head = "".join(f"<th>{h}</th>" for h in ("name", "role", "shape", "bound shape", "dtype", "device"))
    rows = []
    for v in variables:
        bound = format_shape(v.bound) if v.bound is not None else "—"
        cells = (v.name, v.role, format_shape(v.shape), bound, v.dtype, v.device)
        rows.append(f'<tr data-name="{escape(v.name)}">' + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    return f'<table class="ainative-shapes"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def equations(model) -> str:
    """The model's equations as display math, for a renderer that typesets ``$$…$$`` in HTML."""
    return f"$$\n{escape(model.latex(), quote=False)}\n$$"


def static_html(model) -> str:
    """Everything the panel shows that needs no kernel: equations, dependency graph, shapes table.

    The graph is an image (an SVG data URI), which survives the sanitizer of untrusted notebooks
    and of viewers such as GitHub, where inline SVG is dropped.
    """
    graph = base64.b64encode(svg(dependencies(model.ir)).encode()).decode()
    return (f'<div class="ainative-static"><div class="ainative-equations">{equations(model)}</div>'
            f'<img alt="dependency graph" src="data:image/svg+xml;base64,{graph}">'
            f"{shapes_table(model.variables())}</div>")
