"""The dependency graph of a model's variables, and its drawing as SVG.

Inputs and parameters/latents are sources; each ``=`` or ``~`` statement draws edges from the
names it uses to its target. The drawing is a small layered (Sugiyama-style) layout: columns are the
length of the longest path from a source; an edge spanning several columns gets a dummy node in each
column between, so every segment joins adjacent columns and passes a column in a lane of its own,
never through a box; rows within a column are ordered by barycenter sweeps to reduce crossings.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from itertools import pairwise

from ..frontend.ir import Assignment, Chain, ModelIR, Sampling
from ..frontend.roles import parts, used_names


@dataclass(frozen=True)
class Graph:
    """Variables by role, and edges ``(source, target)`` in statement order."""

    roles: tuple[tuple[str, str], ...]
    edges: tuple[tuple[str, str], ...]


def dependencies(ir: ModelIR) -> Graph:
    """Every variable with its role, and an edge from each name a statement uses to its target."""
    constants = ir.constants
    names = [*(n for n in ir.roles.inputs if n not in ir.roles.observed), *ir.roles.params]
    edges = []
    for statement in (part for s in ir.statements for part in parts(s)):
        if not isinstance(statement, (Assignment, Sampling, Chain)) or statement.target in constants:
            continue
        for used in used_names(statement):
            if used in ir.roles.observed and used not in names:
                continue  # an observed series read before it is drawn (r_{t-1} in a volatility): data there
            if used not in constants and used not in ir.roles.dims and used != statement.target:
                edges.append((used, statement.target))
        if statement.target not in names:
            names.append(statement.target)
    return Graph(tuple((n, ir.roles.of(n)) for n in dict.fromkeys(names)), tuple(dict.fromkeys(edges)))


COLOURS = {"input": "#e8f1fb", "observed": "#fde9d9", "parameter": "#eef7e8", "latent": "#f3ecfa",
           "deterministic": "#f5f5f5", "output": "#fff6d6"}

WIDTH, HEIGHT = 96, 30  # a variable's box
GAP_X, GAP_Y, MARGIN = 46, 14, 12
LANE = 6  # the vertical slot a dummy takes: room for one edge to pass through its column
SWEEPS = 4

Box = tuple[int, int, int, int]
Point = tuple[int, int]
Node = str | tuple[int, int]  # a variable, or a dummy: (edge index, column) for an edge passing through that column


@dataclass(frozen=True)
class Layout:
    """Where the drawing puts things: each variable's box ``(x, y, width, height)``, each edge as a polyline."""

    boxes: dict[str, Box]
    edges: tuple[tuple[str, str, tuple[Point, ...]], ...]
    width: int
    height: int


def columns(graph: Graph) -> dict[str, int]:
    """Each variable's column: the longest path to it from a source, so every edge runs left to right.

    A single pass in role order suffices because a statement only uses names defined before it.
    """
    sources: dict[str, list[str]] = {}
    for source, target in graph.edges:
        sources.setdefault(target, []).append(source)
    column: dict[str, int] = {}
    for name, _ in graph.roles:
        column[name] = 1 + max((column[s] for s in sources.get(name, ())), default=-1)
    return column


def _chains(graph: Graph, column: dict[str, int]) -> list[list[Node]]:
    """Each edge as the nodes it visits, one a column: a dummy in every column it spans, so no segment skips one."""
    return [[source, *((i, c) for c in range(column[source] + 1, column[target])), target]
            for i, (source, target) in enumerate(graph.edges)]


def _order(layers: list[list[Node]], chains: list[list[Node]]) -> list[list[Node]]:
    """Rows within each column, reordered by barycenter sweeps so fewer edges cross.

    Sweeps alternate left to right (sort by the mean row of neighbours in the column before) and right to left
    (the column after); a node with no such neighbour keeps its row, and ties keep their order, so it's deterministic.
    """
    before: dict[Node, list[Node]] = {}
    after: dict[Node, list[Node]] = {}
    for chain in chains:
        for a, b in pairwise(chain):
            after.setdefault(a, []).append(b)
            before.setdefault(b, []).append(a)
    layers = [list(layer) for layer in layers]
    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        neighbours, step = (before, -1) if forward else (after, 1)
        for c in range(1, len(layers)) if forward else range(len(layers) - 2, -1, -1):
            fixed = {node: row for row, node in enumerate(layers[c + step])}
            here = {node: row for row, node in enumerate(layers[c])}
            layers[c].sort(key=lambda n: sum(fixed[m] for m in neighbours[n]) / len(neighbours[n])
                           if n in neighbours else here[n])
    return layers


def layout(graph: Graph) -> Layout:
    """Lay the graph out in layers (Sugiyama-style) so that edges run between columns and never through a box.

    An edge spanning several columns passes each one in a dummy's lane, a slot of its own between the boxes there.
    """
    column = columns(graph)
    chains = _chains(graph, column)
    layers: list[list[Node]] = [[] for _ in range(1 + max(column.values(), default=0))]
    for name, _ in graph.roles:
        layers[column[name]].append(name)
    for chain in chains:
        for dummy in chain[1:-1]:
            layers[dummy[1]].append(dummy)
    layers = _order(layers, chains)
    slot = lambda node: HEIGHT if isinstance(node, str) else LANE
    heights = [sum(map(slot, layer)) + GAP_Y * (len(layer) - 1) for layer in layers]
    inner = max(heights, default=HEIGHT)
    x_of, y_of = {}, {}
    for c, layer in enumerate(layers):
        y = MARGIN + (inner - heights[c]) // 2
        for node in layer:
            x_of[node], y_of[node] = MARGIN + c * (WIDTH + GAP_X), y
            y += slot(node) + GAP_Y
    edges = []
    for chain in chains:
        source, *dummies, target = chain
        points = [(x_of[source] + WIDTH, y_of[source] + HEIGHT // 2)]
        for dummy in dummies:
            points += [(x_of[dummy], y_of[dummy] + LANE // 2), (x_of[dummy] + WIDTH, y_of[dummy] + LANE // 2)]
        points.append((x_of[target], y_of[target] + HEIGHT // 2))
        edges.append((source, target, tuple(points)))
    return Layout({name: (x_of[name], y_of[name], WIDTH, HEIGHT) for name, _ in graph.roles}, tuple(edges),
                  2 * MARGIN + len(layers) * (WIDTH + GAP_X) - GAP_X, 2 * MARGIN + inner)


def svg(graph: Graph, labels: dict[str, str] | None = None) -> str:
    """The graph drawn from its layout: boxes coloured by role, observed doubly outlined, edges as arrowed polylines."""
    labels = labels or {}
    drawn = layout(graph)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{drawn.width}" height="{drawn.height}" '
             f'font-family="sans-serif" font-size="12" role="img" aria-label="dependency graph">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
             'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#777"/></marker></defs>']
    for _, _, points in drawn.edges:
        parts.append(f'<polyline points="{" ".join(f"{x},{y}" for x, y in points)}" fill="none" stroke="#777" '
                     'marker-end="url(#arrow)"/>')
    for name, kind in graph.roles:
        x, y, width, height = drawn.boxes[name]
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
