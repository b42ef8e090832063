"""A recurrence printed as a loop over its index: ``jax.lax.scan`` on JAX, a Python loop on PyTorch.

The two share the step: each step statement computes its variable's row at ``t`` (``_h_t``) from the
rows of earlier steps (``_h_t1`` for ``h_{t-1}``) and the rows of other arrays at ``t`` (``_x_t``).
On JAX the carry holds, for each variable read back ``K`` steps, its last ``K`` rows, the scanned
inputs are the other arrays' rows sliced to the steps' range, and the stacked rows of every variable
come out; the rows before the first step, from the initial statements, go in front. On PyTorch each
variable keeps a list of its rows, which the loop appends to and reads back from.
"""

from __future__ import annotations

import sympy

from ..frontend.ir import Initial, Recurrence, Shape
from ..frontend.nodes import FirstRow, Lagged
from ..frontend.ranges import as_expr
from .names import python_name


def _tuple(names: list[str]) -> str:
    return f"({names[0]},)" if len(names) == 1 else f"({', '.join(names)})"


def _minus(printer, expr: sympy.Expr, k: int) -> str:
    """``expr - k`` as generated code (``_n_T - 1``), with the dimensions as the function's integers."""
    expr = sympy.expand(expr - k)
    if expr.is_Integer:
        return str(int(expr))
    constant = int(expr.as_coeff_Add()[0])
    rest = printer._integer(expr - constant)
    return rest if not constant else f"{rest} {'+' if constant > 0 else '-'} {abs(constant)}"


def step_shapes(recurrence: Recurrence, shapes: dict[str, Shape]) -> dict[str, Shape]:
    """The model's shapes with each row the steps read (``h@1`` is a row of ``h``)."""
    return {**shapes, **{lagged.name: shapes[lagged.base][1:] for lagged in recurrence.rows()}}


def _row_value(printer, row: Initial, shape: Shape) -> str:
    """A first row as an array: a scalar that fills a vector's row is broadcast to it, a scalar row is an array."""
    value = printer.doprint(row.expr)
    if shape and not row.fills:
        return value
    array = f"{printer._module_format(printer.LIBRARY.as_array)}({value})"
    if not shape:
        return array
    sizes = ", ".join(printer._integer(as_expr(d)) for d in shape)
    return f"{printer._module_format(printer.LIBRARY.broadcast_to)}({array}, ({sizes},))"


def _initial_name(target: str, position: int) -> str:
    """The variable holding a first row: the name a later first row reads it by (``ν_1`` in ``ε_1 = y_1 - ν_1``)."""
    return python_name(FirstRow.of(target, position).name)


def _step_lines(recurrence: Recurrence, printer, shapes: dict[str, Shape]) -> list[str]:
    lines = []
    for step in recurrence.steps:
        value = printer.in_scope(step.indices, step.expr, shapes) if step.indexed else printer.doprint(step.expr)
        lines.append(f"{python_name(Lagged.of(step.target, 0).name)} = {value}")
    return lines


def _initial_lines(recurrence: Recurrence, printer, shapes: dict[str, Shape]) -> list[str]:
    return [f"{_initial_name(row.target, row.position)} = {_row_value(printer, row, shapes[row.target][1:])}"
            for row in recurrence.initial]


def recurrence_lines(recurrence: Recurrence, printer, shapes: dict[str, Shape]) -> list[str]:
    """Lines that compute every variable of ``recurrence`` as a whole array (``h``, rows 1 to ``stop``)."""
    shapes = step_shapes(recurrence, shapes)
    lines = _initial_lines(recurrence, printer, shapes)
    if printer.LIBRARY.scan:
        return lines + _scan(recurrence, printer, shapes)
    return lines + _loop(recurrence, printer, shapes)


def _first_rows(recurrence: Recurrence, target: str) -> list[str]:
    """The initial rows that are rows of ``target``'s array (positions from 1), in order."""
    return [_initial_name(row.target, row.position)
            for row in sorted(recurrence.initial, key=lambda r: r.position) if row.target == target and row.position]


def _rows_of(printer, row: Lagged, start: int, stop: sympy.Expr, shapes: dict[str, Shape]) -> str:
    """The rows of an array the steps read at ``t - lag``: the whole array when they are all of it."""
    first, last = start - 1 - row.lag, sympy.expand(stop - row.lag)
    if first == 0 and sympy.expand(as_expr(shapes[row.base][0]) - last) == 0:
        return python_name(row.base)
    return f"{python_name(row.base)}[{first}:{_minus(printer, stop, row.lag)}]"


def _scan(recurrence: Recurrence, printer, shapes: dict[str, Shape]) -> list[str]:
    lags, start = recurrence.lags, int(recurrence.start)
    library = printer.LIBRARY
    carried = [Lagged.of(name, k).name for name, lag in lags.items() for k in range(lag, 0, -1)]
    shifted = [Lagged.of(name, k - 1).name for name, lag in lags.items() for k in range(lag, 0, -1)]
    initial = [_initial_name(name, start - k) for name, lag in lags.items() for k in range(lag, 0, -1)]
    sequences = recurrence.sequences
    each = f"_step_{python_name(recurrence.targets[0])}"
    rows = [f"_{python_name(name)}_rows" for name in recurrence.targets]
    body = []
    if carried:
        body.append(f"{_tuple([python_name(n) for n in carried])} = _carry")
    if sequences:
        body.append(f"{_tuple([python_name(s.name) for s in sequences])} = _rows")
    body += _step_lines(recurrence, printer, shapes)
    outputs = [python_name(Lagged.of(name, 0).name) for name in recurrence.targets]
    new_carry = _tuple([python_name(n) for n in shifted]) if carried else "()"
    body.append(f"return {new_carry}, {_tuple(outputs)}")
    xs = [_rows_of(printer, s, start, recurrence.stop, shapes) for s in sequences]
    scan = printer._module_format(library.scan)
    carry = _tuple(initial) if initial else "()"
    inputs = _tuple(xs) if xs else f"None, length={_minus(printer, recurrence.stop, start - 1)}"
    last = []
    for name, lag in lags.items():
        for k in range(lag, 0, -1):
            last.append(f"_{python_name(name)}_last" + (str(k - 1) if k > 1 else ""))
            position = sympy.expand(recurrence.stop - (k - 1))
            printer.final_rows[name, position] = last[-1]
    lines = [f"def {each}(_carry, _rows):", *(f"    {line}" for line in body),
             f"{_tuple(last) if last else '_'}, {_tuple(rows)} = {scan}({each}, {carry}, {inputs})"]
    for name, stacked in zip(recurrence.targets, rows):
        first = _first_rows(recurrence, name)
        value = stacked if not first else (f"{printer._module_format(library.concatenate)}(["
                                           f"{printer._module_format(library.stack)}([{', '.join(first)}]), "
                                           f"{stacked}])")
        lines.append(f"{python_name(name)} = {value}")
    return lines


def _loop(recurrence: Recurrence, printer, shapes: dict[str, Shape]) -> list[str]:
    lags, start = recurrence.lags, int(recurrence.start)
    library = printer.LIBRARY
    lines, lowest = [], {}
    for name in recurrence.targets:
        rows = sorted((r for r in recurrence.initial if r.target == name), key=lambda r: r.position)
        lowest[name] = rows[0].position if rows else start
        lines.append(f"_{python_name(name)}_rows = [{', '.join(_initial_name(name, r.position) for r in rows)}]")
    body = [f"{python_name(Lagged.of(name, k).name)} = _{python_name(name)}_rows[-{k}]"
            for name, lag in lags.items() for k in range(1, lag + 1)]
    body += [f"{python_name(s.name)} = {python_name(s.base)}[_t - {1 + s.lag}]" for s in recurrence.sequences]
    body += _step_lines(recurrence, printer, shapes)
    body += [f"_{python_name(name)}_rows.append({python_name(Lagged.of(name, 0).name)})"
             for name in recurrence.targets]
    lines += [f"for _t in range({start}, {_minus(printer, recurrence.stop, -1)}):", *(f"    {b}" for b in body)]
    for name in recurrence.targets:
        kept = f"_{python_name(name)}_rows" + (f"[{1 - lowest[name]}:]" if lowest[name] < 1 else "")
        lines.append(f"{python_name(name)} = {printer._module_format(library.stack)}({kept})")
    return lines
