"""The dependency graph's drawing: edges run left to right between boxes and never through one.

The geometry is checked here from first principles (points sampled along every segment, rectangles compared
by hand), not with the module's own helpers, on the reference cells, the classifier with a loss, hand-made graphs
with long edges, fan-in and fan-out, and generated DAGs.
"""

import math
import xml.etree.ElementTree as ET
from collections import Counter
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ainative
from ainative.views.graph import Graph, dependencies, layout, svg
from tests.cells import CLASSIFIER, REFERENCE_CELLS

SVG = "{http://www.w3.org/2000/svg}"
ROLES = ("input", "observed", "parameter", "latent", "deterministic", "output")

LONG_EDGES = Graph(
    roles=(("a", "input"), ("b", "parameter"), ("c", "latent"), ("d", "deterministic"), ("e", "deterministic"),
           ("f", "deterministic"), ("o", "observed"), ("g", "output")),
    edges=(("a", "d"), ("b", "d"), ("d", "e"), ("a", "e"), ("b", "e"), ("e", "f"), ("b", "f"), ("c", "o"),
           ("d", "o"), ("f", "g"), ("a", "g"), ("c", "g"), ("o", "g")))
FANS = Graph(
    roles=(("s", "input"), *((f"n{i}", "deterministic") for i in range(6)), ("m", "deterministic"),
           ("k", "deterministic"), ("z", "output"), ("w", "output")),
    edges=(*(("s", f"n{i}") for i in range(6)), *((f"n{i}", "m") for i in range(6)), ("m", "k"), ("k", "z"),
           ("s", "z"), ("n0", "z"), ("n5", "w"), ("s", "w")))


def classifier():
    return dependencies(ainative.model(CLASSIFIER, header="mlp(x, t) -> y, L").ir)


GRAPHS = {**{header.split("(")[0]: dependencies(ainative.model(body, header=header).ir)
             for header, body in REFERENCE_CELLS.items()},
          "classifier": classifier(), "long_edges": LONG_EDGES, "fans": FANS}


def inside(point, box, margin=1.0):
    """Strictly inside the box shrunk by ``margin`` on every side."""
    (px, py), (x, y, w, h) = point, box
    return x + margin < px < x + w - margin and y + margin < py < y + h - margin


def samples(p, q, step=0.25):
    n = max(1, math.ceil(math.dist(p, q) / step))
    return [(p[0] + (q[0] - p[0]) * i / n, p[1] + (q[1] - p[1]) * i / n) for i in range(n + 1)]


def crossed(points, boxes):
    """The names of the boxes whose interior the polyline passes through."""
    return {name for p, q in pairwise(points) for point in samples(p, q)
            for name, box in boxes.items() if inside(point, box)}


def check_geometry(graph):
    drawn = layout(graph)
    boxes = drawn.boxes
    assert set(boxes) == {name for name, _ in graph.roles}
    for name, (x, y, w, h) in boxes.items():
        assert (w, h) == (96, 30), name
        assert 0 <= x and x + w <= drawn.width and 0 <= y and y + h <= drawn.height, name
    names = list(boxes)
    for i, first in enumerate(names):
        (x1, y1, w1, h1) = boxes[first]
        for second in names[i + 1:]:
            (x2, y2, w2, h2) = boxes[second]
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1, (first, second)
    assert Counter((s, t) for s, t, _ in drawn.edges) == Counter(graph.edges)
    for source, target, points in drawn.edges:
        (sx, sy, sw, sh), (tx, ty, _, th) = boxes[source], boxes[target]
        assert len(points) >= 2
        assert points[0][0] == sx + sw and sy <= points[0][1] <= sy + sh, (source, target)
        assert points[-1][0] == tx and ty <= points[-1][1] <= ty + th, (source, target)
        assert all(p[0] <= q[0] for p, q in pairwise(points)), (source, target, points)
        assert all(0 <= x <= drawn.width and 0 <= y <= drawn.height for x, y in points)
        assert not crossed(points, boxes), (source, target, points)
    return drawn


@pytest.mark.parametrize("name", list(GRAPHS))
def test_edges_never_cross_boxes(name):
    check_geometry(GRAPHS[name])


@st.composite
def dags(draw):
    """A DAG listed in topological order, as ``dependencies`` lists a model's statements."""
    n = draw(st.integers(1, 10))
    names = [f"v{i}" for i in range(n)]
    pairs = [(names[i], names[j]) for j in range(n) for i in range(j)]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=20)) if pairs else []
    roles = draw(st.lists(st.sampled_from(ROLES), min_size=n, max_size=n))
    order = {name: i for i, name in enumerate(names)}
    return Graph(tuple(zip(names, roles)), tuple(sorted(edges, key=lambda e: order[e[1]])))


@given(dags())
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
def test_generated_graphs_never_cross_boxes(graph):
    check_geometry(graph)


def test_long_edge_from_an_input_to_the_loss_goes_around_the_boxes_between():
    """The reported bug: t feeds only L, columns away, and its straight line used to cross the boxes between."""
    graph = classifier()
    assert ("t", "L") in graph.edges
    drawn = layout(graph)
    columns = sorted({x for x, _, _, _ in drawn.boxes.values()})
    span = columns.index(drawn.boxes["L"][0]) - columns.index(drawn.boxes["t"][0])
    assert span > 1
    between = {n for n, (x, _, _, _) in drawn.boxes.items() if drawn.boxes["t"][0] < x < drawn.boxes["L"][0]}
    assert {"h", "y"} <= between
    points = next(points for s, d, points in drawn.edges if (s, d) == ("t", "L"))
    assert len(points) == 2 + 2 * (span - 1)
    assert not crossed(points, drawn.boxes)


@pytest.mark.parametrize("name", list(GRAPHS))
def test_svg_draws_the_layout(name):
    graph = GRAPHS[name]
    drawn = layout(graph)
    root = ET.fromstring(svg(graph))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.get("aria-label") == "dependency graph"
    assert (float(root.get("width")), float(root.get("height"))) == (drawn.width, drawn.height)
    nodes = [g for g in root.iter(f"{SVG}g") if g.get("class", "").startswith("node ")]
    assert [(g.get("data-name"), g.get("class")) for g in nodes] == [(n, f"node {r}") for n, r in graph.roles]
    for g in nodes:
        rect = g.find(f"{SVG}rect")
        box = tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))
        assert box == drawn.boxes[g.get("data-name")]
        assert g.find(f"{SVG}title").text.startswith(g.get("data-name"))
        assert len(g.findall(f"{SVG}rect")) == (2 if g.get("class") == "node observed" else 1)
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == len(graph.edges)
    for line, (_, _, points) in zip(lines, drawn.edges):
        assert [tuple(map(float, p.split(","))) for p in line.get("points").split()] == list(points)
        assert line.get("marker-end") == "url(#arrow)"


def test_labels_and_names_are_escaped():
    graph = Graph(roles=(("a<b", "input"), ("c&d", "output")), edges=(("a<b", "c&d"),))
    root = ET.fromstring(svg(graph, labels={"c&d": "<L>"}))
    assert [g.get("data-name") for g in root.iter(f"{SVG}g")] == ["a<b", "c&d"]
    assert [t.text for t in root.iter(f"{SVG}text")] == ["a<b", "<L>"]


def test_layout_is_deterministic():
    for graph in GRAPHS.values():
        assert layout(graph) == layout(graph) and svg(graph) == svg(graph)
