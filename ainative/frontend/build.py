"""The front end in one call: a cell's spec → its checked IR (parser, then roles, then shapes)."""

from __future__ import annotations

from . import parser, roles, shapes
from .ir import ModelIR
from .spec import ModelSpec


def build(spec: ModelSpec, line_offset: int = 0) -> ModelIR:
    """Parse the body under the spec's header, name every variable's role and check every shape.

    ``line_offset`` is how many lines of the cell come before the body, so errors name cell lines.
    """
    cell = parser.parse(spec.body, spec.header, line_offset=line_offset)
    return shapes.check(cell, roles.assign_roles(cell))
