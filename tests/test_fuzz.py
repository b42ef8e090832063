"""Fuzzing the notation: every input gives a Model or a located ModelError, quickly, and nothing else.

Valid cells come from a grammar of the notation in its three spellings; mutations delete and
insert characters, swap lines, add stray Unicode, look-alike letters, huge numbers and deep
nesting of every kind. A cell that builds has one Python name per model name. More than 10,000
cases run here; the last test checks the count.
"""

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ainative
from ainative.frontend import lexer, parser
from ainative.printers.names import python_name
from tests.cells import REFERENCE_CELLS
from tests.export.test_verified import scalars, vectors

CASES = {"count": 0}
def fast(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck), database=None)
DECLARATIONS = "x ∈ ℝ^D;  w ∈ ℝ^D;  b ∈ ℝ^D;  A ∈ ℝ^{D×D}\n"
STRAY = st.sampled_from(["§", "\u200b", "😀", "\t", "\\", "$", "'", "\"", "{", "}", "(", ")", "^", "_", "~", "∈",
                         "ℝ", "𝒩", "\\frac", "\\sqrt{", "..", "for", "in", "=", ";", "\n", "1e400", "—", "\x00",
                         "[", "]", "0x1", "1j", "1e-999999", "1" * 120])
#: letters Python folds onto others (NFKC), or that look alike and are not: a name must never silently merge
CONFUSABLES = {"h": ["ℎ", "ｈ", "𝐡"], "x": ["𝑥", "ｘ", "х"], "K": ["K"], "1": ["１", "¹", "₁"], "n": ["ⁿ", "ｎ"],
               "a": ["à", "a\u0300", "а"], "f": ["ﬁ", "𝑓"], "W": ["Ｗ", "𝐖"], "b": ["𝐛", "ᵇ"], "y": ["ｙ", "у"],
               "o": ["ο", "о", "º"], "i": ["ı", "ｉ", "ⁱ"]}
#: a prefix or suffix that nests its operand one level deeper, in each notation that nests
NESTERS = {"√": ("√", ""), "Σ": ("Σ ", ""), "ᵀ": ("", "ᵀ"), "-": ("-", ""), "tanh": ("tanh(", ")"),
           "(": ("(", ")"), "exp": ("\\exp{", "}")}


def check(text: str, header: str) -> None:
    """The property: a Model, or a ModelError that points inside the cell; never slow."""
    CASES["count"] += 1
    start = time.perf_counter()
    try:
        model = ainative.model(text, header=header)
    except ainative.ModelError as error:
        if error.line is not None:
            lines = text.split("\n")
            assert 1 <= error.line <= len(lines), (error.line, text)
            assert 1 <= error.column <= len(lines[error.line - 1]) + 1, (error.column, text)
        assert str(error)
    else:
        names = {*model.inputs, *model.outputs, *model.ir.roles.params, *model.ir.roles.latents,
                 *model.ir.roles.dims, *(name for name, _ in model.ir.roles.constants)}
        assert len({python_name(n) for n in names}) == len(names), (names, text)
    assert time.perf_counter() - start < 5, text


@fast(2500)
@given(st.one_of(vectors(3), scalars(3)), st.sampled_from(["", "2 ", "-", "Σ "]))
def test_generated_valid_cells(expression, prefix):
    check(f"{DECLARATIONS}y = {prefix}{expression}", "f(x) -> y")


@st.composite
def mutated(draw):
    header, body = draw(st.sampled_from(list(REFERENCE_CELLS.items())))
    text = body
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["delete", "insert", "swap", "duplicate", "truncate"]))
        position = draw(st.integers(0, max(0, len(text) - 1)))
        if kind == "delete" and text:
            length = draw(st.integers(1, 4))
            text = text[:position] + text[position + length:]
        elif kind == "insert":
            text = text[:position] + draw(STRAY) + text[position:]
        elif kind == "swap":
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif kind == "duplicate":
            lines = text.split("\n")
            lines.insert(position % len(lines), lines[position % len(lines)])
            text = "\n".join(lines)
        else:
            text = text[:position]
    return header, text


@fast(6000)
@given(mutated())
def test_mutated_spec_cells(case):
    header, text = case
    check(text, header)


@fast(1500)
@given(st.text(min_size=0, max_size=60))
def test_arbitrary_text(text):
    check(text, "f(x) -> y")


@st.composite
def confusable(draw):
    """A reference cell with some letters swapped for look-alikes Python may or may not fold together."""
    header, body = draw(st.sampled_from(list(REFERENCE_CELLS.items())))
    text = list(body)
    spots = [i for i, c in enumerate(text) if c in CONFUSABLES]
    for i in draw(st.lists(st.sampled_from(spots), min_size=1, max_size=4, unique=True)) if spots else []:
        text[i] = draw(st.sampled_from(CONFUSABLES[text[i]]))
    return header, "".join(text)


@fast(1500)
@given(confusable())
def test_look_alike_letters(case):
    header, text = case
    check(text, header)


@fast(600)
@given(st.lists(st.sampled_from(sorted(NESTERS)), min_size=1, max_size=4), st.integers(parser.MAX_DEPTH - 12,
                                                                                      parser.MAX_DEPTH + 12))
def test_every_kind_of_nesting_near_the_limit(kinds, depth):
    expression = "x"
    for level in range(depth):
        before, after = NESTERS[kinds[level % len(kinds)]]
        expression = before + expression + after
    check(f"x ∈ ℝ^D\ny = {expression}", "f(x) -> y --latex" if "exp" in kinds else "f(x) -> y")
    check(f"y = {' ^ '.join(['x'] * depth)}", "f(x) -> y")
    check(f"y = {' '.join(['x'] * depth)}", "f(x) -> y")


@pytest.mark.parametrize("depth", [10, 47, 48, 49, 99, 100, 101, 200, 299, 2000])
def test_deep_nesting(depth):
    check(f"y = {'(' * depth}x{')' * depth}", "f(x) -> y")
    check(f"y = {'tanh(' * depth}x{')' * depth}", "f(x) -> y")
    for before, after in NESTERS.values():
        check(f"y = {before * depth}x{after * depth}", "f(x) -> y")
    check(f"y = {'^'.join(['x'] * depth)}", "f(x) -> y")


@pytest.mark.parametrize("number", ["1e400", "99999999999999999999999999", "1e-400", "0.000000000001", "3.4e38",
                                    "1" * 5000, "0" * 4300 + "1", "1e-999999", "0x10", "1j", "0." + "0" * 99 + "1"])
def test_huge_and_tiny_numbers(number):
    check(f"y = {number} x", "f(x) -> y")


def test_long_statements_and_chains():
    check("y = " + " + ".join(["x"] * 1990), "f(x) -> y")
    check("y = " + " + ".join(["x"] * 3000), "f(x) -> y")
    check("y = " + " ".join(["x"] * 1000), "f(x) -> y")
    check("y = " + " + ".join(["x"] * 5000), "f(x) -> y")


MB = 1_000_000
MEGABYTE_CELLS = {
    "a long literal": "y = " + "1" * MB + " x",
    "a long decimal": "y = 0." + "0" * MB + "1 x",
    "a long line": "y = " + "+".join(["x"] * (MB // 2)),
    "a long product": "y = " + " ".join(["x"] * (MB // 2)),
    "many statements": "\n".join(["y = x"] * (MB // 6 + 1)),
    "many short statements": ";".join(f"a{i} = 1" for i in range(MB // 9)) + "\ny = x",
    "blank lines": "\n" * MB + "y = x",
    "a comment": "# " + "a" * MB + "\ny = x",
    "deep minus": "y = " + "-" * MB + "x",
    "deep brackets": "y = " + "(" * (MB // 2) + "x" + ")" * (MB // 2),
    "statements nested just below the limit": "\n".join(
        f"h{i} = {'√' * (parser.MAX_DEPTH - 2)}x" for i in range(MB // 300)) + "\ny = x",
    "brackets just below the limit": "\n".join(
        f"h{i} = {'(' * lexer.MAX_NESTING}x{')' * lexer.MAX_NESTING}" for i in range(MB // 100)) + "\ny = x",
}


@pytest.mark.parametrize("text", MEGABYTE_CELLS.values(), ids=MEGABYTE_CELLS.keys())
def test_a_megabyte_cell_is_read_in_two_seconds_or_refused(text):
    assert len(text.encode()) >= MB
    start = time.perf_counter()
    check(text, "f(x) -> y")
    assert time.perf_counter() - start < 2


def test_the_largest_cells_read_are_refused_at_a_line():
    lines = ["x ∈ ℝ^D", "h_0 = x"] + [f"h_{i} = tanh(W_{i} h_{i - 1} + b_{i})" for i in range(1, 9998)]
    with pytest.raises(ainative.ModelSyntaxError, match=f"more than {lexer.MAX_STATEMENTS} statements") as error:
        ainative.model("\n".join(lines), header="deep(x)")
    assert error.value.line == lexer.MAX_STATEMENTS
    model = ainative.model("\n".join(lines[: lexer.MAX_STATEMENTS]), header="deep(x)")
    assert len(model.params) == 2 * (lexer.MAX_STATEMENTS - 2)
    tokens = 2 + 50 + 49
    fitting = lexer.MAX_TOKENS_PER_CELL // tokens
    with pytest.raises(ainative.ModelSyntaxError, match="tokens in one cell") as error:
        ainative.model("\n".join(f"h{i} = " + " + ".join(["x"] * 50) for i in range(fitting + 1)),
                       header="f(x) -> y")
    assert error.value.line == fitting + 1
    CASES["count"] += 2


def deeper(call, frames: int):
    """Run ``call`` under ``frames`` more stack frames, as inside IPython's own."""
    return call() if frames == 0 else deeper(call, frames - 1)


def tower(x, height: int):
    value = x
    for _ in range(height - 1):
        value = x ** value
    return value


def repeated(function, times: int):
    return lambda x: function(repeated(function, times - 1)(x)) if times else x


LIMIT = parser.MAX_DEPTH - 1
DEEPEST = {
    "sqrt": ("√" * LIMIT + "x", repeated(np.sqrt, LIMIT)),
    "minus": ("-" * LIMIT + "x", lambda x: -x),
    "sum": ("Σ " * LIMIT + "x", lambda x: np.sum(x)),
    "transpose": ("x" + "ᵀ" * LIMIT, lambda x: x),
    "power": (" ^ ".join(["x"] * LIMIT), lambda x: tower(x, LIMIT)),
    "product": (" ".join(["x"] * LIMIT), lambda x: x ** LIMIT),
    "tanh": ("tanh(" * (lexer.MAX_NESTING - 1) + "x" + ")" * (lexer.MAX_NESTING - 1),
             repeated(np.tanh, lexer.MAX_NESTING - 1)),
}


@pytest.mark.parametrize(("expression", "expected"), DEEPEST.values(), ids=DEEPEST.keys())
def test_the_deepest_expressions_run_everywhere(expression, expected, tmp_path):
    """Below the limit every stage (shapes, LaTeX, JAX, Pyro, NumPyro, ONNX) copes, inside IPython's stack too."""
    scalar = "^" in expression or expression.startswith("x x")
    x = np.float64(0.9) if scalar else np.array([0.9, 0.5, 0.25])

    def everything():
        m = ainative.model(f"x ∈ ℝ{'' if scalar else '^3'}\ny = {expression}", header="f(x) -> y")
        m.latex()
        m.source()
        params = m.init(0)
        value = np.asarray(m(params, x.astype(np.float32)))
        m.export_onnx(tmp_path / "m.onnx", params, overwrite=True)
        for backend in ("pyro", "numpyro"):
            prior = ainative.model(f"μ ~ HalfNormal(1)\ny ~ Normal({expression.replace('x', 'μ')}, 1)",
                                   header=f"g() -> y --backend {backend}")
            prior.source()
            assert np.isfinite(prior.sample_prior(2)["y"]).all()
        return value

    np.testing.assert_allclose(deeper(everything, 300), expected(x), rtol=1e-5)


def test_at_least_ten_thousand_cases_ran():
    assert CASES["count"] >= 10_000, CASES
