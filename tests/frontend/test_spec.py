"""The cell as a value: headers read through the option table, and ``render`` that reads back the same."""

import dataclasses

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ainative
from ainative.frontend.spec import OPTIONS, TAKEN, ModelSpec, header_schema, parse_header, read, usage
from tests.cells import REFERENCE_CELLS

IDENTIFIERS = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,6}(_[a-z0-9]{1,3})?", fullmatch=True).filter(
    lambda n: n not in {"in", "for", "R"})
#: what a model may be called: no Python keyword or name of the notebook's own that it would hide (``TAKEN``)
MODEL_NAMES = IDENTIFIERS.filter(lambda n: n not in TAKEN)


@st.composite
def specs(draw):
    names = draw(st.lists(IDENTIFIERS, min_size=1, max_size=4, unique=True))
    inputs = tuple(names[: draw(st.integers(1, len(names)))])
    outputs = tuple(draw(st.lists(IDENTIFIERS, max_size=2, unique=True)))
    options = {o.name: draw(st.sampled_from((None, *o.choices)) if o.choices else st.booleans()) for o in OPTIONS}
    body = draw(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
    return ModelSpec(draw(MODEL_NAMES), inputs, outputs, body=body, **options)


@given(specs())
@settings(max_examples=300, deadline=None)
def test_render_reads_back_as_the_same_spec(spec):
    assert read(spec.render()) == (spec, 1)


@pytest.mark.parametrize("header", list(REFERENCE_CELLS))
@pytest.mark.parametrize("options", ["", " --quiet"])
def test_a_model_rebuilt_from_its_text_is_the_same_model(header, options):
    original = ainative.model(REFERENCE_CELLS[header], header=header + options)
    rebuilt = ainative.model(original.text)
    assert rebuilt.spec == original.spec and rebuilt.ir == original.ir and rebuilt.backend == original.backend


def test_latex_survives_the_round_trip():
    original = ainative.model(r"y = \frac{ab}{2} x", header="f(x) -> y", latex=True)
    assert original.params == ("a", "b") and original.text.startswith("%%model f(x) -> y --latex\n")
    assert ainative.model(original.text).params == ("a", "b")


def test_header_forms():
    assert parse_header("%%model eight_schools(σ, y)").inputs == ("sigma", "y")
    spec = parse_header("mlp(x, t) → y, L --backend numpyro --latex --quiet")
    assert (spec.outputs, spec.backend, spec.latex, spec.quiet) == (("y", "L"), "numpyro", True, True)
    assert parse_header("mlp(x) --backend=pyro").backend == "pyro"


@pytest.mark.parametrize(
    ("line", "words", "column"),
    [("mlp x -> y", "the header should read", 1), ("1mlp(x)", "not a valid model name", 1),
     ("mlp(x) --frobnicate", "unknown option '--frobnicate'", 8), ("mlp(x, x)", "listed twice", 1),
     ("mlp(x) --backend tf", "--backend takes one of jax, pyro, numpyro, not 'tf'", 18),
     ("mlp(x) --latex --latex", "given twice", 16), ("mlp(x) --latex=yes", "takes no value", 8)],
)
def test_bad_headers_are_located(line, words, column):
    with pytest.raises(ainative.ModelSyntaxError, match=words) as caught:
        parse_header(line)
    assert caught.value.line == 1 and caught.value.column == column


def test_help_and_schema_come_from_the_option_table():
    text = usage()
    for option in OPTIONS:
        assert f"--{option.name}" in text and option.help in text
        assert all(choice in text for choice in option.choices)
    schema = header_schema()
    assert set(schema["properties"]) == {"name", "inputs", "outputs", *(o.name for o in OPTIONS)}
    fields = {f.name for f in dataclasses.fields(ModelSpec)} - {"body"}
    for line in ("mlp(x) -> y", "f(x, y) --backend numpyro --latex --quiet"):
        spec = dataclasses.asdict(parse_header(line))
        document = {k: list(v) if isinstance(v, tuple) else v for k, v in spec.items() if k in fields and v is not None}
        jsonschema.validate(document, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "f", "inputs": [], "backend": "tensorflow"}, schema)


@pytest.mark.parametrize(("name", "words"), [
    ("print", "would hide Python's or IPython's own print"), ("get_ipython", "own get_ipython"), ("In", "own In"),
    ("exit", "own exit"), ("lambda", "is a Python keyword"), ("None", "is a Python keyword"),
    ("_oh", "not a valid model name"), ("__builtins__", "not a valid model name"), ("_", "not a valid model name"),
])
def test_model_names_that_would_break_the_notebook_are_refused(name, words):
    with pytest.raises(ainative.ModelSyntaxError, match=words):
        parse_header(f"{name}(x) -> y")
    assert not any(character.isspace() for character in name)


def test_header_names_are_written_as_python_reads_them():
    with pytest.raises(ainative.ModelSyntaxError, match="write 'h' here, not 'ℎ'") as caught:
        parse_header("f(x, ℎ) -> y")
    assert caught.value.column == 6
