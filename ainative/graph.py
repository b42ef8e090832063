"""The dependency graph of a model's variables, and its drawing as SVG.

Inputs and parameters/latents are sources; each ``=`` or ``~`` statement draws edges from the
names it uses to its target. Columns are the length of the longest path from a source.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import sympy

from .ir import Assignment, ModelIR, Sampling
from .nodes import Element


@dataclass(frozen=True)
class Graph:
    """Variables by role, and edges ``(source, target)`` in statement order."""

    roles: tuple[tuple[str, str], ...]
    edges: tuple[tuple[str, str], ...]

    @property
    def role_of(self) -> dict[str, str]:
        return dict(self.roles)


def _uses(expr) -> list[str]:
    names: dict[str, None] = {}
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, Element):
            names[node.args[0].name] = None
        elif isinstance(node, sympy.Symbol):
            names[node.name] = None
    return list(names)


def role(ir: ModelIR, name: str) -> str:
    """A variable's role, as the panel names it."""
    roles = ir.roles
    if name in roles.observed:
        return "observed"
    if name in roles.inputs:
        return "input"
    if name in roles.params:
        return "parameter"
    if name in roles.latents:
        return "latent"
    return "output" if name in roles.outputs else "deterministic"


def dependencies(ir: ModelIR) -> Graph:
    """Every variable with its role, and an edge from each name a statement uses to its target."""
    constants = dict(ir.roles.constants)
    names = [*(n for n in ir.roles.inputs if n not in ir.roles.observed), *ir.roles.params]
    edges = []
    for statement in ir.statements:
        if not isinstance(statement, (Assignment, Sampling)) or statement.target in constants:
            continue
        index = statement.plate.index if statement.plate else None
        for used in _uses(statement.expr if isinstance(statement, Assignment) else statement.distribution.values):
            if used != index and used not in constants and used != statement.target:
                edges.append((used, statement.target))
        if statement.target not in names:
            names.append(statement.target)
    return Graph(tuple((n, role(ir, n)) for n in dict.fromkeys(names)), tuple(dict.fromkeys(edges)))


COLOURS = {"input": "#e8f1fb", "observed": "#fde9d9", "parameter": "#eef7e8", "latent": "#f3ecfa",
           "deterministic": "#f5f5f5", "output": "#fff6d6"}


def svg(graph: Graph, labels: dict[str, str] | None = None) -> str:
    """The graph drawn left to right: one column a depth, boxes coloured by role, observed doubly outlined."""
    labels = labels or {}
    depth: dict[str, int] = {}
    incoming: dict[str, list[str]] = {}
    for source, target in graph.edges:
        incoming.setdefault(target, []).append(source)
    for name, _ in graph.roles:
        depth[name] = 1 + max((depth.get(s, 0) for s in incoming.get(name, [])), default=-1)
    columns: dict[int, list[str]] = {}
    for name, _ in graph.roles:
        columns.setdefault(depth[name], []).append(name)
    width, height, gap_x, gap_y = 96, 30, 46, 14
    position = {}
    for column, names in columns.items():
        for row, name in enumerate(names):
            position[name] = (12 + column * (width + gap_x), 12 + row * (height + gap_y))
    total_w = 24 + (max(columns, default=0) + 1) * (width + gap_x) - gap_x
    total_h = 24 + max((len(v) for v in columns.values()), default=1) * (height + gap_y) - gap_y
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" '
             f'font-family="sans-serif" font-size="12" role="img" aria-label="dependency graph">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
             'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#777"/></marker></defs>']
    for source, target in graph.edges:
        (x1, y1), (x2, y2) = position[source], position[target]
        parts.append(f'<line x1="{x1 + width}" y1="{y1 + height / 2}" x2="{x2}" y2="{y2 + height / 2}" '
                     'stroke="#777" marker-end="url(#arrow)"/>')
    for name, kind in graph.roles:
        x, y = position[name]
        parts.append(f'<g class="node {kind}" data-name="{escape(name)}"><title>{escape(name)}: {kind}</title>'
                     f'<rect x="{x}" y="{y}" width="{width}" height="{height}" rx="6" fill="{COLOURS[kind]}" '
                     f'stroke="#555" stroke-width="{2.5 if kind == "observed" else 1}"/>')
        if kind == "observed":
            parts.append(f'<rect x="{x + 3}" y="{y + 3}" width="{width - 6}" height="{height - 6}" rx="4" '
                         'fill="none" stroke="#555"/>')
        parts.append(f'<text x="{x + width / 2}" y="{y + height / 2 + 4}" text-anchor="middle">'
                     f"{escape(labels.get(name, name))}</text></g>")
    parts.append("</svg>")
    return "".join(parts)
