"""Typed errors that point at the cell: line, column and a caret, like Python's SyntaxError."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """Where a piece of the cell sits: 1-based line and column, end column exclusive."""

    line: int
    column: int
    end_column: int


class ModelError(Exception):
    """Base of every error about a model; printed as a short message with a caret line.

    ``code`` names the kind of error in a stable word (``"shape"``, ``"exists"``, …) so that tools
    such as the lab extension can act on it without reading the sentence.
    """

    code = "model"

    def __init__(
        self,
        message: str,
        span: Span | None = None,
        source_line: str | None = None,
        notes: tuple[str, ...] = (),
        *,
        code: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.span = span
        self.source_line = source_line
        self.notes = tuple(notes)
        if code is not None:
            self.code = code

    @property
    def line(self) -> int | None:
        return self.span.line if self.span else None

    @property
    def column(self) -> int | None:
        return self.span.column if self.span else None

    def __str__(self) -> str:
        head = self.message
        if self.span is not None:
            head += f" (line {self.span.line}, column {self.span.column})"
        lines = [head]
        if self.span is not None and self.source_line is not None:
            text = self.source_line.rstrip("\n")
            width = max(1, min(self.span.end_column, len(text) + 1) - self.span.column)
            lines.append("    " + text)
            lines.append("    " + " " * (self.span.column - 1) + "^" * width)
        lines.extend("  " + note for note in self.notes)
        return "\n".join(lines)

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.span, self.source_line, self.notes, self.code))


def _rebuild(kind: type[ModelError], message, span, source_line, notes, code) -> ModelError:
    return kind(message, span, source_line, notes, code=code)


class ModelSyntaxError(ModelError):
    """The cell text does not follow the notation."""

    code = "syntax"


class UnknownNameError(ModelError):
    """A function, distribution or variable that the notation does not know."""

    code = "unknown-name"


class ShapeError(ModelError):
    """Shapes that cannot go together, or a dimension that is unbound or bound twice."""

    code = "shape"


class DataError(ModelError):
    """Arrays given at call or fit time that do not fit the model."""

    code = "data"


def outside_integers(what: str, name: str, values, low: int, high: int, domain: str) -> DataError | None:
    """The first entry of ``values`` (a NumPy array) that is no whole number from ``low`` to ``high``, as the
    ``DataError`` both the runtime and a served model give (``domain``: how the cell declared it), else None.

    It lives here, beside the error, because the served endpoint imports nothing else of ainative.
    """
    import numpy as np

    bad = (values < low) | (values > high)
    if not (np.issubdtype(values.dtype, np.integer) or values.dtype == np.bool_):
        bad |= values != np.round(values)
    if not bad.any():
        return None
    index = np.unravel_index(int(np.argmax(bad)), values.shape) if values.ndim else ()
    value = values[index].item()
    shown = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    where = f"[{', '.join(str(int(i)) for i in index)}]" if index else ""
    return DataError(f"{what} {name}{where} is {shown}, but {domain}")


class ExportError(ModelError):
    """A model that cannot be exported, or an export that does not match the model it came from."""

    code = "export"


class ExistsError(ExportError):
    """An export would replace files that exist, and replacing them was not asked for."""

    code = "exists"


class WrongKindError(ModelError, AttributeError):
    """A method of the other kind of model: ``sample_prior`` on a model without ``~``, ``init`` on one with.

    It is an ``AttributeError`` too, so ``hasattr`` keeps its meaning.
    """

    code = "wrong-kind"
