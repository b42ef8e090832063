"""Fuzzing the notation: every input gives a Model or a located ModelError, quickly, and nothing else.

Valid cells come from a grammar of the notation in its three spellings; mutations delete and
insert characters, swap lines, add stray Unicode, huge numbers and deep nesting. More than
10,000 cases run here; the last test checks the count.
"""

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ainative
from tests.cells import REFERENCE_CELLS
from tests.export.test_verified import scalars, vectors

CASES = {"count": 0}
def fast(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck), database=None)
DECLARATIONS = "x ∈ ℝ^D;  w ∈ ℝ^D;  b ∈ ℝ^D;  A ∈ ℝ^{D×D}\n"
STRAY = st.sampled_from(["§", "\u200b", "😀", "\t", "\\", "$", "'", "\"", "{", "}", "(", ")", "^", "_", "~", "∈",
                         "ℝ", "𝒩", "\\frac", "\\sqrt{", "..", "for", "in", "=", ";", "\n", "1e400", "—", "\x00"])


def check(text: str, header: str) -> None:
    """The property: a Model, or a ModelError that points inside the cell; never slow."""
    CASES["count"] += 1
    start = time.perf_counter()
    try:
        ainative.model(text, header=header)
    except ainative.ModelError as error:
        if error.line is not None:
            lines = text.split("\n")
            assert 1 <= error.line <= len(lines), (error.line, text)
            assert 1 <= error.column <= len(lines[error.line - 1]) + 1, (error.column, text)
        assert str(error)
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


@pytest.mark.parametrize("depth", [10, 47, 48, 49, 200, 2000])
def test_deep_nesting(depth):
    check(f"y = {'(' * depth}x{')' * depth}", "f(x) -> y")
    check(f"y = {'tanh(' * depth}x{')' * depth}", "f(x) -> y")
    check(f"y = {'-' * depth}x", "f(x) -> y")


@pytest.mark.parametrize("number", ["1e400", "99999999999999999999999999", "1e-400", "0.000000000001", "3.4e38",
                                    "1" * 5000])
def test_huge_and_tiny_numbers(number):
    check(f"y = {number} x", "f(x) -> y")


def test_long_statements_and_chains():
    check("y = " + " + ".join(["x"] * 3000), "f(x) -> y")
    check("y = " + " ".join(["x"] * 1000), "f(x) -> y")
    check("y = " + " + ".join(["x"] * 5000), "f(x) -> y")


def test_ten_thousand_line_cell():
    lines = ["x ∈ ℝ^D", "h_0 = x"] + [f"h_{i} = tanh(W_{i} h_{i - 1} + b_{i})" for i in range(1, 9998)]
    start = time.perf_counter()
    model = ainative.model("\n".join(lines), header="deep(x)")
    assert len(model.params) == 2 * 9997 and time.perf_counter() - start < 20
    CASES["count"] += 1


def test_at_least_ten_thousand_cases_ran():
    assert CASES["count"] >= 10_000, CASES
