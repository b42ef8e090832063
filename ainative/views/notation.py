"""What the lab extension knows of the notation, written from the Python tables as JSON.

The extension highlights ``%%model`` cells and reads their headers without a kernel, so it ships
``labextension/src/notation.json``: this module's output (``make notation`` writes it, and a test
checks that the committed file is current). The TypeScript keeps no list of its own: a new
option, function or distribution reaches it from its one table here.
"""

from __future__ import annotations

import json

from ..frontend.distributions import DISTRIBUTIONS
from ..frontend.lexer import GREEK, LATEX_GREEK, LATEX_TOKENS, LATEX_WORDS, SUBSCRIPTS, SYMBOLS
from ..frontend.nodes import OVER_INDEX
from ..frontend.operations import ALIASES, FUNCTIONS, LATEX_NAMES
from ..frontend.spec import OPTIONS, header_schema
from ..frontend.subscripts import DELTA

#: the notation's own operators, highlighted in a cell (of ASCII only ``~`` and ``@``: ``*`` or ``'`` are everywhere)
OPERATOR_TOKENS = ("SIM", "IN", "REALS", "TIMES", "TRANSPOSE", "AT", "STAR")
#: the tokens a subscript after which names the index an operation runs over (``Σ_j``, ``∏_{k=1}^{K}``)
OVER_TOKENS = ("SUM", "PROD")


def _unicode(name: str) -> list[str]:
    """The Greek letters that spell a name (``σ`` for ``sigma``)."""
    return [letter for letter, spelled in GREEK.items() if spelled == name]


def _spelled(name: str) -> set[str]:
    """Every spelling the lexer reads as this name: ``δ``, ``\\delta``, ``\\max``, ``\\operatorname{mean}``."""
    commands = {command for command, spelled in LATEX_NAMES.items() if spelled == name}
    commands |= {name} & LATEX_GREEK
    return {name, *_unicode(name), *(f"\\{c}" for c in commands), *(f"\\{w}{{{name}}}" for w in LATEX_WORDS)}


def notation() -> dict:
    """The header's schema, and the spellings of its keywords, operators, functions and distributions.

    Index notation adds the heads whose subscript is an index (``reductions`` such as ``Σ``, ``mean``,
    ``\\sum``, and the ``delta`` of ``δ_{ij}``), and the Unicode ``subscripts`` (``Σⱼ``) they may take.
    """
    over = {symbol for symbol, token in SYMBOLS.items() if token in OVER_TOKENS}
    functions = sorted({*FUNCTIONS, *ALIASES, *(u for a in ALIASES for u in _unicode(a)), *over})
    reductions = sorted({*over, *(f"\\{c}" for c, token in LATEX_TOKENS.items() if token in OVER_TOKENS),
                         *(spelling for word in OVER_INDEX for spelling in _spelled(word))})
    distributions = sorted({*DISTRIBUTIONS, *(s for f in DISTRIBUTIONS.values() for s in f.spellings
                                              if not s.startswith("\\"))})
    spaces = ("NATS", "INTS")  # ℕ and ℤ, after ∈ as ℝ is
    symbols = (s for s, token in SYMBOLS.items()
               if token in (*OPERATOR_TOKENS, *spaces) and (not s.isascii() or s in "~@"))
    latex = (f"\\{command}" for command, token in LATEX_TOKENS.items() if token in ("SIM", "IN"))
    # ∞ and ℝ₊ bound truncations and supports, += adds a log-density term
    operators = sorted({*symbols, *latex, *(rf"\mathbb{{{letter}}}" for letter in "RNZ"), "∞", "ℝ₊", "+=",
                        "\\infty"})
    return {
        "header": header_schema(),
        "keywords": ["%%model", *(f"--{option.name}" for option in OPTIONS), "for", "in", "->", "→", "restricted to",
                     "target"],
        "operators": operators,
        "functions": functions,
        "distributions": distributions,
        "reductions": reductions,
        "delta": sorted(_spelled(DELTA)),
        "subscripts": "".join(SUBSCRIPTS),
    }


def main() -> None:
    print(json.dumps(notation(), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
