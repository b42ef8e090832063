"""The cell as a value: a ``%%model`` header and its body, read and written through one option table.

``OPTIONS`` is the only list of header options: the header parser reads them, ``usage`` writes
the magic's ``--help`` from them, and ``header_schema`` gives the lab extension their JSON
schema. ``ModelSpec.render`` writes a cell that ``read`` turns back into an equal spec, so a model
rebuilt from its text (in another process, say) is the same model, ``--latex`` and all.
"""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass, replace

from ..errors import ModelSyntaxError, Span


@dataclass(frozen=True)
class Option:
    """One ``--name [VALUE]`` of the header; ``choices`` empty means a flag.

    ``model`` options are part of what the model is (``read`` keeps them in the spec, and the IR's
    header carries them); the others only say how the magic shows it.
    """

    name: str
    help: str
    choices: tuple[str, ...] = ()
    model: bool = True


OPTIONS = (
    Option("backend", "print the model for this backend (default: jax, or pyro when it has '~')",
           ("jax", "pyro", "numpyro")),
    Option("latex", "read the cell as LaTeX (single letters juxtaposed multiply)"),
    Option("quiet", "bind the model without displaying it", model=False),
)
BACKENDS = OPTIONS[0].choices
SIGNATURE = "NAME(INPUTS) [-> OUTPUTS]"
#: what a model's name may be: it becomes a Python name in the notebook and in generated code
NAME = r"[A-Za-z][A-Za-z0-9_]*"
#: names a model may not take: binding it in the notebook would hide Python's or IPython's own
TAKEN = tuple(sorted({*keyword.kwlist, *(n for n in dir(builtins) if not n.startswith("_")), "In", "Out",
                      "get_ipython", "exit", "quit", "display"}))


@dataclass(frozen=True)
class Header:
    """``NAME(INPUTS) -> OUTPUTS`` and the options that change what the model is: what the IR keeps."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...] = ()
    backend: str | None = None
    latex: bool = False


@dataclass(frozen=True)
class ModelSpec:
    """A whole ``%%model`` cell: the header (with every option) and the body, exactly as written."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...] = ()
    backend: str | None = None
    latex: bool = False
    quiet: bool = False
    body: str = ""

    @property
    def header(self) -> Header:
        return Header(self.name, self.inputs, self.outputs, self.backend, self.latex)

    def header_line(self) -> str:
        """``mlp(x) -> y --backend numpyro --latex``: the header as the magic's line reads it."""
        line = f"{self.name}({', '.join(self.inputs)})"
        if self.outputs:
            line += f" -> {', '.join(self.outputs)}"
        for option in OPTIONS:
            value = getattr(self, option.name)
            if option.choices and value is not None:
                line += f" --{option.name} {value}"
            elif not option.choices and value:
                line += f" --{option.name}"
        return line

    def render(self) -> str:
        """The cell's text: ``read(spec.render()) == spec``."""
        return f"%%model {self.header_line()}\n{self.body}"


def usage() -> str:
    """The magic's ``--help``, written from ``OPTIONS``."""
    lines = [f"%%model {SIGNATURE} [--option ...]", "", "Define a model from the cell's notation and bind it "
             "under NAME.", "", "options:"]
    for option in OPTIONS:
        value = f" {{{','.join(option.choices)}}}" if option.choices else ""
        lines.append(f"  --{option.name}{value}")
        lines.append(f"      {option.help}")
    return "\n".join(lines)


def header_schema() -> dict:
    """The header's JSON schema, for tools that read a ``%%model`` line without Python (the lab extension)."""
    properties: dict[str, dict] = {
        "name": {"type": "string", "pattern": f"^{NAME}$", "not": {"enum": list(TAKEN)}},
        "inputs": {"type": "array", "items": {"type": "string"}},
        "outputs": {"type": "array", "items": {"type": "string"}},
    }
    for option in OPTIONS:
        kind = {"enum": list(option.choices)} if option.choices else {"type": "boolean"}
        properties[option.name] = {**kind, "description": option.help}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "%%model header", "type": "object",
            "properties": properties, "required": ["name", "inputs"], "additionalProperties": False}


_HEADER = re.compile(
    r"^\s*(?P<name>[^\s(]+)\s*\((?P<inputs>[^()]*)\)\s*(?:(?:->|→)\s*(?P<outputs>.*?))?\s*(?P<options>(?:--?\S.*)?)$"
)


def _located(message: str, part: str, full: str) -> ModelSyntaxError:
    column = full.find(part) + 1 if part in full else 1
    return ModelSyntaxError(message, Span(1, column, column + max(1, len(part))), full)


def _names(text: str, what: str, full: str) -> tuple[str, ...]:
    """Names as the notation reads them (``σ`` is ``sigma``, ``W₁`` is ``W_1``), one each."""
    from .lexer import tokenize

    names = []
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        try:
            statements = tokenize(part, strict=True)
        except ModelSyntaxError as error:
            raise _located(error.message, part, full) from None
        if len(statements) != 1 or len(statements[0]) != 1 or statements[0][0].type != "NAME":
            raise _located(f"{part!r} is not a valid {what} name", part, full)
        names.append(statements[0][0].value)
    return tuple(names)


def _options(text: str, column: int, full: str) -> dict[str, object]:
    """``--backend numpyro --latex`` (or ``--backend=numpyro``) → option values, by the table.

    ``column`` is where ``text`` starts in the header line ``full``, for errors.
    """
    known = {option.name: option for option in OPTIONS}
    words = [(m.group(), column + m.start()) for m in re.finditer(r"\S+", text)]
    values: dict[str, object] = {}

    def error(message: str, word: str, at: int) -> ModelSyntaxError:
        return ModelSyntaxError(message, Span(1, at, at + len(word)), full)

    while words:
        word, at = words.pop(0)
        name, _, attached = word.removeprefix("--").partition("=")
        option = known.get(name) if word.startswith("--") else None
        if option is None:
            listed = " and ".join(f"--{o.name}" + (f" {'|'.join(o.choices)}" if o.choices else "") for o in OPTIONS)
            raise error(f"unknown option {word!r}; options are {listed}", word, at)
        if name in values:
            raise error(f"--{name} is given twice", word, at)
        if not option.choices:
            if attached:
                raise error(f"--{name} takes no value", word, at)
            values[name] = True
            continue
        value, at = (attached, at + len(word) - len(attached)) if attached else (words.pop(0) if words else ("", at))
        if value not in option.choices:
            raise error(f"--{name} takes one of {', '.join(option.choices)}, not {value!r}", value or word, at)
        values[name] = value
    return values


def parse_header(line: str) -> ModelSpec:
    """``NAME(INPUTS) [-> OUTPUTS] [--option ...]`` (``%%model`` in front or not) → a spec with no body."""
    full = line
    text = line.strip().removeprefix("%%model")
    match = _HEADER.match(text)
    if not match:
        raise ModelSyntaxError(f"the header should read {SIGNATURE}, e.g. mlp(x) -> y", Span(1, 1, len(full) + 1),
                               full)
    name = match.group("name")
    if not re.fullmatch(NAME, name):
        raise _located(f"{name!r} is not a valid model name (a letter, then letters, digits and _)", name, full)
    if keyword.iskeyword(name):
        raise _located(f"{name!r} is a Python keyword; choose another model name", name, full)
    if name in TAKEN:
        raise _located(f"a model named {name!r} would hide Python's or IPython's own {name} in the notebook; "
                       "choose another name", name, full)
    inputs = _names(match.group("inputs"), "input", full)
    outputs = _names(match.group("outputs") or "", "output", full)
    if len(set(inputs)) != len(inputs):
        raise ModelSyntaxError("an input is listed twice", Span(1, 1, len(full) + 1), full)
    start = full.index(text) + match.start("options") + 1 if text else 1
    return ModelSpec(name, inputs, outputs, **_options(match.group("options"), start, full))


def read(text: str, header: str | None = None) -> tuple[ModelSpec, int]:
    """A cell's spec, and how many lines come before its body (the header line, blank lines).

    ``header`` is the magic's line; without it the text's first line must be ``%%model …``.
    """
    if not isinstance(text, str):
        raise TypeError(f"model text must be a string, not {type(text).__name__}")
    if header is not None:
        return replace(parse_header(header), body=text), 0
    stripped = text.lstrip("\n")
    first, _, body = stripped.partition("\n")
    if not first.strip().startswith("%%model"):
        raise ModelSyntaxError("no header: pass header='name(inputs) -> outputs' or start with %%model",
                               Span(1, 1, 2), text.split("\n", 1)[0])
    return replace(parse_header(first), body=body), 1 + len(text) - len(stripped)
