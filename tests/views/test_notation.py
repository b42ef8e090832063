"""The lab extension's copy of the notation is written from the Python tables, and is current."""

import json
from pathlib import Path

from ainative.frontend.distributions import DISTRIBUTIONS
from ainative.frontend.lexer import SUBSCRIPTS
from ainative.frontend.nodes import OVER_INDEX
from ainative.frontend.operations import FUNCTIONS
from ainative.frontend.spec import OPTIONS
from ainative.views.notation import notation

SHIPPED = Path(__file__).resolve().parents[2] / "labextension" / "src" / "notation.json"


def test_the_shipped_file_is_what_the_tables_say_now():
    assert json.loads(SHIPPED.read_text()) == notation(), "run `make notation` and commit the file"


def test_it_carries_every_option_function_and_distribution():
    shipped = notation()
    assert set(shipped["header"]["properties"]) >= {option.name for option in OPTIONS}
    assert shipped["header"]["properties"]["backend"]["enum"] == ["jax", "pyro", "numpyro"]
    assert {f"--{option.name}" for option in OPTIONS} <= set(shipped["keywords"])
    assert set(FUNCTIONS) <= set(shipped["functions"]) and {"σ", "Σ", "∏"} <= set(shipped["functions"])
    assert set(DISTRIBUTIONS) <= set(shipped["distributions"]) and "𝒩" in shipped["distributions"]
    assert {"~", "∈", "ℝ", "ᵀ", r"\sim", r"\mathbb{R}"} <= set(shipped["operators"])


def test_it_carries_every_spelling_of_a_reduction_and_of_delta():
    shipped = notation()
    assert set(OVER_INDEX) <= set(shipped["reductions"])
    assert {"Σ", "∑", "∏", r"\sum", r"\prod", r"\max", r"\operatorname{mean}", r"\mathrm{softmax}"} <= set(
        shipped["reductions"])
    assert {"delta", "δ", r"\delta", r"\operatorname{delta}"} <= set(shipped["delta"])
    assert set(shipped["subscripts"]) == set(SUBSCRIPTS) and "ⱼ" in shipped["subscripts"]
