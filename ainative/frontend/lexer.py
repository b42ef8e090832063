"""Spelling: the Unicode, ASCII and LaTeX spellings of the notation become one token stream.

Every spelling decision lives here, so the grammar (``notation.lark``) sees one language:
``σ``, ``sigma`` and ``\\sigma`` are all ``NAME('sigma')``; ``W₁`` and ``W_{1}`` are ``NAME('W_1')``;
``ᵀ``, ``^T``, ``'`` and ``^\\top`` are all ``TRANSPOSE``. Token values are canonical names,
positions are those of the cell text (1-based line and column).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from lark import Token

from ..errors import ModelSyntaxError, Span
from .distributions import SPELLINGS
from .operations import LATEX_NAMES

MAX_NESTING = 48
MAX_TOKENS_PER_STATEMENT = 4000
#: a token costs about 50 µs to read, a statement about half a millisecond: a cell beyond these would
#: take more than a second or two, and is refused rather than slow
MAX_TOKENS_PER_CELL = 20_000
MAX_STATEMENTS = 2000
#: digits a number may have: more say nothing float32 can hold, and reading them grows faster than their length
MAX_DIGITS = 100
NAME_CHARACTER = re.compile(r"[^\W]")

GREEK = dict(
    zip(
        "αβγδεϵζηθϑικλμνξοπρστυφϕχψωΓΔΘΛΞΠΦΨΩ",
        (
            "alpha beta gamma delta epsilon epsilon zeta eta theta theta iota kappa lambda mu nu xi "
            "omicron pi rho sigma tau upsilon phi phi chi psi omega Gamma Delta Theta Lambda Xi Pi "
            "Phi Psi Omega"
        ).split(),
    )
)
LATEX_GREEK = set(GREEK.values()) | {"Sigma", "Upsilon"}
LATEX_VARIANTS = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varsigma": "sigma"}
LETTERLIKE = {"ℓ": "ell"}
SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼ", "0123456789aeoxhklmnpstij"))
SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789"))
ACCENTS = {"\u0302": "hat", "\u0304": "bar", "\u0305": "bar", "\u0303": "tilde", "\u0307": "dot", "\u0308": "ddot"}
LATEX_ACCENTS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar", "tilde": "tilde",
                 "widetilde": "tilde", "dot": "dot", "ddot": "ddot", "check": "check", "breve": "breve"}
LATEX_FONTS = {"mathbf", "boldsymbol", "bm", "vec", "mathit", "mathsf", "pmb"}
LATEX_WORDS = {"mathrm", "operatorname", "text", "textrm", "textit", "mathtt"}
LATEX_SKIP = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
              "quad", "qquad", "displaystyle", "limits"}
LATEX_TOKENS = {
    "in": "IN", "sim": "SIM", "times": "TIMES", "cdot": "AT", "odot": "STAR", "circ": "STAR",
    "frac": "FRAC", "dfrac": "FRAC", "tfrac": "FRAC", "sqrt": "SQRT", "sum": "SUM", "prod": "PROD", "top": "TRANSPOSE",
    "intercal": "TRANSPOSE", "ldots": "DOTS", "dots": "DOTS", "cdots": "DOTS", "R": "REALS",
    "mid": "BAR", "div": "SLASH", "ast": "STAR", "leftarrow": "EQ", "coloneqq": "EQ", "infty": "INF",
}
#: the spaces a declaration names after ``∈``: ``\mathbb{R}``, ``ℕ`` (0, 1, 2, …) and ``ℤ``
SPACES = {"R": "REALS", "N": "NATS", "Z": "INTS"}
#: ASCII words for ℕ and ℤ, read as spaces only right after ``in`` (``R`` is read so in ``resolve``)
SPACE_WORDS = {"nat": "NATS", "int": "INTS"}
_SPACE_WORD = re.compile(r"(?:nat|int)(?!\w)")
#: the positive reals after ``∈``: ``ℝ₊``, ``ℝ⁺``, ``R+``, ``ℝ_{+}``, ``\mathbb{R}^{+}``
_POSITIVE_REALS = re.compile(r"(?:ℝ|R|\\mathbb\{R\})\s*(?:₊|⁺|\+|[_^]\s*(?:\+|\{\s*\+\s*\}))")
#: a log-density term at the start of a statement: ``target +=``, ``log p +=``, ``\log p \mathrel{+}=``
_FACTOR = re.compile(r"(?:target|\\text\{\s*target\s*\}|\\log\s*p|log\s+p)[\s&]*"
                     r"(?:\+=|\\mathrel\{\s*\+\s*\}\s*=)(?![=])")
#: after a distribution's ``)``: a truncation, ``restricted to`` (also ``\text{restricted to}``), Stan's ``T[``,
#: or a subscript ``_{[0, \infty)}``
_RESTRICT = re.compile(r"restricted\s+to(?![^\W_])|\\text\{\s*restricted\s+to\s*\}")
_STAN_TRUNCATION = re.compile(r"T\s*(?=\[)")
_TRUNCATION_SUBSCRIPT = re.compile(r"_\s*(?=\{)")
_INF_WORD = re.compile(r"inf(?![^\W_])")
SYMBOLS = {
    "+": "PLUS", "-": "MINUS", "−": "MINUS", "*": "STAR", "⊙": "STAR", "∘": "STAR", "/": "SLASH",
    "÷": "SLASH", "@": "AT", "·": "AT", "⋅": "AT", "(": "LPAR", "[": "LPAR", ")": "RPAR", "]": "RPAR",
    "{": "LBRACE", "}": "RBRACE", ",": "COMMA", "=": "EQ", "≔": "EQ", "~": "SIM", "∼": "SIM",
    "∈": "IN", "ℝ": "REALS", "×": "TIMES", "Σ": "SUM", "∑": "SUM", "∏": "PROD", "√": "SQRT", "'": "TRANSPOSE",
    "ᵀ": "TRANSPOSE", "⊤": "TRANSPOSE", "…": "DOTS", "^": "POW", "|": "BAR",
    "ℕ": "NATS", "ℤ": "INTS", "∞": "INF",
}
OPEN, CLOSE = {"LPAR", "LBRACE", "LSUB"}, {"RPAR", "RBRACE", "RSUB"}
#: tokens a ``[`` after which would read as indexing something that is not a name: a closed bracket, a transpose
INDEXABLE = {"NAME", "RPAR", "RBRACE", "TRANSPOSE", "RSUB"}
#: tokens a subscript after which says what an operation runs over (``Σ_j``, ``∏_{k=1}^{K}``)
OVER = {"SUM", "PROD"}
FRIENDLY = {
    "NAME": "a name", "NUMBER": "a number", "FUNC": "a function", "PLUS": "'+'", "MINUS": "'-'",
    "STAR": "'*'", "SLASH": "'/'", "AT": "'@'", "POW": "'^'", "TRANSPOSE": "a transpose",
    "LPAR": "'('", "RPAR": "')'", "LBRACE": "'{'", "RBRACE": "'}'", "COMMA": "','", "EQ": "'='",
    "SIM": "'~'", "IN": "'∈'", "REALS": "'ℝ'", "TIMES": "'×'", "FOR": "'for'", "DOTS": "'..'",
    "SUM": "'Σ'", "PROD": "'∏'", "FRAC": "'\\frac'", "SQRT": "'√'", "BAR": "'|'",
    "LSUB": "a subscript", "RSUB": "the end of a subscript", "REDUCE": "a reduction", "DELTA": "'δ'",
    "$END": "the end of the statement",
    "NATS": "'ℕ'", "INTS": "'ℤ'", "POSREALS": "'ℝ₊'", "INF": "'∞'", "RESTRICT": "'restricted to'",
    "TRUNC": "a truncation '_{[a, b]}'", "FACTOR": "'target +='",
}

_SUB_CHARS = "".join(SUBSCRIPTS)
_MARKS = "\u0300-\u036f′″"
_SPACE = re.compile(r"[ \t\r\f\u00a0\u2009\u200a\u202f]+|\\[,;:! ]|&")
_COMMENT = re.compile(r"#[^\n]*")
_SEP = re.compile(r"\n|;|\\\\")
_TRANSPOSE = re.compile(r"\^\s*(?:\{\s*(?:T|\\top|⊤)\s*\}|T(?![^\W_])|\\top(?![A-Za-z])|⊤)|\.T(?![^\W_])")
_SUPERSCRIPT = re.compile(r"⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_NUMBER = re.compile(r"(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_DOTS = re.compile(r"\.\.\.?")
_POW = re.compile(r"\*\*")
_ASSIGN = re.compile(r":=|<-")
_COMMAND = re.compile(r"\\([A-Za-z]+)[^\S\n]*")
_BRACED = re.compile(r"\{\s*([^{}]*?)\s*\}")
_NOT_NAME = _SUB_CHARS + "".join(SUPERSCRIPTS) + "⁻ℝΣ∏ᵀ"
_CORE_WORD = re.compile(rf"[^\W\d_{_NOT_NAME}][^\W_{_NOT_NAME}]*")
_CORE_LETTER = re.compile(rf"[^\W\d_{_NOT_NAME}]")
_MARK_RUN = re.compile(rf"[{_MARKS}]+")
_LATEX_PRIMES = re.compile(r"'+")
_UNICODE_SUB = re.compile(rf"[{_SUB_CHARS}]+")
#: what a subscript holds when it is a name or a number: letters and digits, or one Greek command
_PLAIN_SUBSCRIPT = re.compile(r"[^\W_]+|\\[A-Za-z]+")
_OVER_WORD = re.compile(r"_(?:\\([A-Za-z]+)|([^\W\d_][^\W_]*))")
_OVER_LETTER = re.compile(r"_(?:\\([A-Za-z]+)|([^\W\d_]))")


def _subscript(run: str) -> re.Pattern:
    """A subscript: braced, a LaTeX command, or letters and digits (``run``: ``+`` for a word, empty for one
    character, as with ``--latex``); a superscript or ``ᵀ`` after it is not part of it."""
    return re.compile(rf"_(?:\{{\s*([^{{}}]*?)\s*\}}|\\([A-Za-z]+)|([^\W_{_NOT_NAME}]{run}))")


_SUB_WORD, _SUB_LETTER = _subscript("+"), _subscript("")


def _accent_suffix(marks: str) -> str:
    """Accents the notation names become words (``x̂`` is ``xhat``); any other mark stays, part of the letter."""
    return "".join(ACCENTS.get(m, "prime" if m in "′″" else m) for m in marks)


def _greek_word(core: str) -> str:
    return LETTERLIKE.get(core) or SPELLINGS.get(core) or "".join(GREEK.get(c, c) for c in core)


def _subscript_text(text: str) -> str:
    """Canonical text of a subscript's content: ``{out}``, ``\\alpha`` or ``₁``."""
    text = text.strip()
    m = _COMMAND.fullmatch(text)
    if m and (m.group(1) in LATEX_GREEK or m.group(1) in LATEX_VARIANTS):
        return LATEX_VARIANTS.get(m.group(1), m.group(1))
    return "".join(SUBSCRIPTS.get(c, GREEK.get(c, c)) for c in text if c.isalnum())


class _Scanner:
    """One pass over the cell: tokens with cell positions, split into statements."""

    def __init__(self, text: str, latex: bool, line_offset: int, names: Iterable[str], strict: bool):
        self.text, self.latex, self.offset, self.strict = text, latex, line_offset, strict
        self.pos, self.line, self.line_start = 0, 1, 0
        self.statements: list[list[Token]] = [[]]
        self.depth, self.count = 0, 0
        #: for each open bracket, whether it opened a subscript (its close is ``RSUB``)
        self.brackets: list[bool] = []
        #: each name as Python reads it → how it was first spelled (the notation's spelling, and the text)
        self.spellings: dict[str, tuple[str, str]] = {n: (n, n) for n in names}

    # positions -------------------------------------------------------------------------
    def span(self, start: int, end: int) -> Span:
        return Span(self.line + self.offset, start - self.line_start + 1, end - self.line_start + 1)

    def source_line(self) -> str:
        end = self.text.find("\n", self.line_start)
        return self.text[self.line_start : end if end >= 0 else len(self.text)]

    def fail(self, message: str, start: int, end: int) -> ModelSyntaxError:
        return ModelSyntaxError(message, self.span(start, max(end, start + 1)), self.source_line())

    def emit(self, kind: str, value: str, start: int, end: int) -> None:
        col = start - self.line_start + 1
        token = Token(kind, value, start, self.line + self.offset, col, self.line + self.offset,
                      end - self.line_start + 1, end)
        if kind in OPEN:
            self.depth += 1
            self.brackets.append(kind == "LSUB")
            if self.depth > MAX_NESTING:
                raise self.fail(f"brackets nested more than {MAX_NESTING} deep", start, end)
        elif kind in CLOSE:
            self.depth = max(0, self.depth - 1)
            if self.brackets:
                self.brackets.pop()
        current = self.statements[-1]
        if len(current) >= MAX_TOKENS_PER_STATEMENT:
            raise self.fail(f"statement longer than {MAX_TOKENS_PER_STATEMENT} tokens; split it", start, end)
        self.count += 1
        if self.count > MAX_TOKENS_PER_CELL:
            raise self.fail(f"more than {MAX_TOKENS_PER_CELL:,} tokens in one cell; split the model", start, end)
        current.append(token)

    def new_statement(self) -> None:
        if self.statements[-1]:
            if len(self.statements) >= MAX_STATEMENTS:
                raise self.fail(f"more than {MAX_STATEMENTS} statements in one cell; split the model", self.pos,
                                self.pos + 1)
            self.statements.append([])
        self.depth = 0
        self.brackets = []

    # scanning --------------------------------------------------------------------------
    def run(self) -> list[list[Token]]:
        text = self.text
        while self.pos < len(text):
            self.step(text)
        return [s for s in self.statements if s]

    def step(self, text: str) -> None:
        pos = self.pos
        for pattern in (_SPACE, _COMMENT):
            m = pattern.match(text, pos)
            if m:
                self.pos = m.end()
                return
        m = _SEP.match(text, pos)
        if m:
            self.new_statement()
            if m.group() == "\n":
                self.line += 1
                self.line_start = m.end()
            self.pos = m.end()
            return
        m = None if self.after_reals() or self.after_subscript() else _TRANSPOSE.match(text, pos)
        if m:
            return self.take("TRANSPOSE", "T", m.end())
        m = _SUPERSCRIPT.match(text, pos)
        if m:
            self.emit("POW", "^", pos, pos + 1)
            digits = m.group()
            if digits.startswith("⁻"):
                self.emit("MINUS", "-", pos, pos + 1)
                pos += 1
            self.emit("NUMBER", "".join(SUPERSCRIPTS[c] for c in text[pos : m.end()]), pos, m.end())
            self.pos = m.end()
            return
        m = _NUMBER.match(text, pos)
        if m:
            self.check_number(m.group(), pos, m.end())
            return self.take("NUMBER", m.group(), m.end())
        for pattern, kind in ((_DOTS, "DOTS"), (_POW, "POW"), (_ASSIGN, "EQ")):
            m = pattern.match(text, pos)
            if m:
                return self.take(kind, m.group(), m.end())
        m = _FACTOR.match(text, pos) if not self.statements[-1] else None
        if m:
            return self.take("FACTOR", "+=", m.end())
        m = _POSITIVE_REALS.match(text, pos) if self.after_in() else None
        if m:
            return self.take("POSREALS", "R+", m.end())
        m = _SPACE_WORD.match(text, pos) if self.after_in() else None
        if m:
            return self.take(SPACE_WORDS[m.group()], m.group(), m.end())
        if self.after_distribution():
            for pattern, kind in ((_RESTRICT, "RESTRICT"), (_STAN_TRUNCATION, "RESTRICT"),
                                  (_TRUNCATION_SUBSCRIPT, "TRUNC")):
                m = pattern.match(text, pos)
                if m:
                    return self.take(kind, m.group().strip(), m.end())
        m = _INF_WORD.match(text, pos) if self.in_interval() else None
        if m:
            return self.take("INF", "inf", m.end())
        if text[pos] == "\\":
            return self.command(text, pos)
        if text[pos] == "'" and self.latex:
            raise self.fail("a prime must follow a name", pos, pos + 1)
        kind = SYMBOLS.get(text[pos])
        last = self.statements[-1][-1] if self.statements[-1] else None
        if text[pos] == "[" and last is not None and last.type == "NAME" and last.end_pos == pos:
            return self.take("LSUB", "[", pos + 1)
        if text[pos] == "[" and last is not None and last.type in INDEXABLE and not self.after_in():
            raise self.fail("square brackets right after a name index it (x[i]); use ( ) to group", pos, pos + 1)
        if kind in CLOSE and self.brackets and self.brackets[-1]:
            if text[pos] == ")":
                raise self.fail("this ')' closes a subscript: close it with ']' or '}'", pos, pos + 1)
            kind = "RSUB"
        if (text[pos] == "_" or text[pos] in SUBSCRIPTS) and last is not None and last.type in OVER:
            return self.over(text, pos)
        if kind:
            return self.take(kind, "T" if kind == "TRANSPOSE" else text[pos], pos + 1)
        m = (_CORE_LETTER if self.latex else _CORE_WORD).match(text, pos)
        if m:
            name = _greek_word(m.group())
            return self.name(name, pos, m.end())
        raise self.fail(f"unexpected character {text[pos]!r}", pos, pos + 1)

    def check_number(self, number: str, start: int, end: int) -> None:
        """Refuse numbers that do not mean what they look like: ``0x10``, ``1j``, a hundred digits.

        In a subscript ``2j`` is two times the index ``j``: no complex number is read there."""
        after = self.text[end : end + 2]
        if number == "0" and after[:1] in ("x", "X", "o", "O", "b", "B") and NAME_CHARACTER.match(after[1:2]):
            raise self.fail(f"{number}{after[0]}… is a hexadecimal, octal or binary literal in Python; write the "
                            "number in decimal", start, end + 1)
        if after[:1] in ("j", "J") and not NAME_CHARACTER.match(after[1:2]) and True not in self.brackets:
            raise self.fail(f"{number}{after[0]} is a complex number in Python, and the notation has none (write "
                            f"{number} {after[0]} with a space to multiply by {after[0]})", start, end + 1)
        mantissa = re.split(r"[eE]", number)[0].replace(".", "").lstrip("0")
        if len(mantissa) > MAX_DIGITS or end - start > 2 * MAX_DIGITS:
            raise self.fail(f"a number with more than {MAX_DIGITS} digits; float32 keeps about 7: round it, or "
                            "write it with an exponent (1.5e30)", start, end)

    def after_subscript(self) -> bool:
        """Whether the statement so far ends with a subscript: ``Σ_{t=1}^T`` has ``T`` as its last index."""
        tokens = self.statements[-1]
        return bool(tokens) and tokens[-1].type == "RSUB"

    def over(self, text: str, pos: int) -> None:
        """The subscript of ``Σ`` or ``∏``: ``_{j=1}`` opens one, ``_j`` and ``_\\alpha`` are one index."""
        if text.startswith("_{", pos):
            return self.take("LSUB", "{", pos + 2)
        if text[pos] in SUBSCRIPTS:
            m = _UNICODE_SUB.match(text, pos)
            self.emit("LSUB", "_", pos, pos)
            self.emit("NAME", _subscript_text(m.group()), pos, m.end())
            self.emit("RSUB", "", m.end(), m.end())
            self.pos = m.end()
            return
        m = (_OVER_LETTER if self.latex else _OVER_WORD).match(text, pos)
        if not m:
            raise self.fail("a subscript of Σ or ∏ names an index: Σ_j, Σ_{j=1}^{J}", pos, pos + 1)
        self.emit("LSUB", "_", pos, pos + 1)
        self.pos = pos + 1
        if m.group(1):
            self.command(text, pos + 1)
        else:
            self.name(_greek_word(m.group(2)), pos + 1, m.end())
        self.emit("RSUB", "", m.end(), m.end())

    def after_reals(self) -> bool:
        """Whether the statement so far is a declaration's names and ``∈`` (``x ∈ ℝ``, ``c in {1..T}``): a
        declaration transposes nothing, so there ``^T`` is a dimension T."""
        for token in self.statements[-1]:
            if token.type == "IN" or (token.type == "NAME" and token.value == "in"):
                return True
            if token.type not in ("NAME", "COMMA"):
                return False
        return False

    def after_distribution(self) -> bool:
        """Whether the statement so far is ``… ~ Family(…)``, its ``)`` just closed: a truncation may follow."""
        tokens = self.statements[-1]
        return (bool(tokens) and tokens[-1].type == "RPAR" and self.depth == 0
                and any(t.type == "SIM" for t in tokens))

    def in_interval(self) -> bool:
        """Whether ``inf`` here is ∞: inside a truncation's bounds, or a declared interval (``x in [0, inf)``)."""
        tokens = self.statements[-1]
        return self.depth > 0 and (any(t.type in ("RESTRICT", "TRUNC") for t in tokens) or self.after_reals())

    def after_in(self) -> bool:
        """Whether the statement so far ends with ``∈`` or ``in``: there ``nat`` and ``int`` are ℕ and ℤ."""
        tokens = self.statements[-1]
        return bool(tokens) and (tokens[-1].type == "IN" or tokens[-1].value == "in")

    def take(self, kind: str, value: str, end: int) -> None:
        self.emit(kind, value, self.pos, end)
        self.pos = end

    def name(self, name: str, start: int, end: int) -> None:
        """Emit a name after reading what may follow its core: accents, primes, subscripts."""
        text = self.text
        while True:
            m = _MARK_RUN.match(text, end)
            if m:
                name += _accent_suffix(m.group())
                end = m.end()
                continue
            if self.latex:
                m = _LATEX_PRIMES.match(text, end)
                if m:
                    name += "prime" * len(m.group())
                    end = m.end()
                    continue
            m = _UNICODE_SUB.match(text, end)
            if m:
                name += "_" + _subscript_text(m.group())
                end = m.end()
                continue
            m = (_SUB_LETTER if self.latex else _SUB_WORD).match(text, end)
            if m is not None and m.group(1) == "":
                raise self.fail("empty subscript", end, m.end())
            if text.startswith("_{", end) and (m is None or not _PLAIN_SUBSCRIPT.fullmatch(m.group(1))):
                self.emit("NAME", self.python_reading(name, start, end), start, end)
                self.emit("LSUB", "{", end, end + 2)
                self.pos = end + 2
                return
            if m:
                sub = _subscript_text(m.group(1) or (m.group(2) and "\\" + m.group(2)) or m.group(3))
                if not sub:
                    raise self.fail("empty subscript", end, m.end())
                name += "_" + sub
                end = m.end()
                continue
            break
        self.emit("NAME", self.python_reading(name, start, end), start, end)
        self.pos = end

    def python_reading(self, name: str, start: int, end: int) -> str:
        """The name as Python will read it (NFKC), refusing what it cannot hold or would merge silently.

        Python folds ``ℎ``, ``𝐡`` and ``ｈ`` to ``h``: they are one name, so a cell may spell a
        name one way only. (The notation's own spellings, ``σ`` for ``sigma``, are not mixing.)
        """
        written = self.text[start:end]
        folded = unicodedata.normalize("NFKC", name)
        if not folded.isidentifier():
            raise self.fail(f"{written!r} is not a name: Python reads it as {folded!r}; a name is letters, digits "
                            "and subscripts", start, end)
        if self.strict and folded != name:
            raise self.fail(f"write {folded!r} here, not {written!r}: Python reads {written!r} as {folded!r}",
                            start, end)
        spelling, first = self.spellings.setdefault(folded, (name, written))
        if spelling != name:
            raise self.fail(f"{written!r} and {first!r} are the same name to Python (both read {folded!r}); write "
                            "one spelling", start, end)
        return folded

    def braced(self, start: int) -> tuple[str, int]:
        m = _BRACED.match(self.text, start)
        if not m:
            raise self.fail("expected {…} after this command", start, start + 1)
        return m.group(1), m.end()

    def command(self, text: str, pos: int) -> None:
        if text[pos + 1 : pos + 2] in ("{", "}"):
            return self.take(SYMBOLS[text[pos + 1]], text[pos + 1], pos + 2)
        m = _COMMAND.match(text, pos)
        if not m:
            raise self.fail("a LaTeX command needs letters after its backslash", pos, pos + 2)
        cmd, after = m.group(1), m.end()
        word_end = pos + 1 + len(cmd)
        if cmd in LATEX_SKIP:
            self.pos = after + (cmd in ("left", "right") and text[after : after + 1] == ".")
            return
        if cmd in LATEX_TOKENS:
            return self.take(LATEX_TOKENS[cmd], cmd, word_end)
        if cmd in LATEX_NAMES:
            return self.name(LATEX_NAMES[cmd], pos, word_end)
        if cmd in LATEX_GREEK or cmd in LATEX_VARIANTS or cmd in LETTERLIKE.values():
            return self.name(LATEX_VARIANTS.get(cmd, cmd), pos, word_end)
        if cmd == "mathbb":
            arg, end = self.braced(after)
            if arg not in SPACES:
                raise self.fail(f"a space here is \\mathbb{{R}}, \\mathbb{{N}} or \\mathbb{{Z}}, not \\mathbb{{{arg}}}",
                                pos, end)
            return self.take(SPACES[arg], arg, end)
        if cmd == "mathcal":
            arg, end = self.braced(after)
            return self.name(SPELLINGS.get(rf"\mathcal{{{arg}}}", arg), pos, end)
        if cmd in LATEX_WORDS:
            arg, end = self.braced(after)
            word = arg.replace("\\_", "_").replace(" ", "")
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", word):
                raise self.fail(f"\\{cmd}{{{arg}}} is not a name", pos, end)
            if word in ("for", "in"):
                return self.take(word.upper(), word, end)
            return self.name(word, pos, end)
        if cmd in LATEX_FONTS or cmd in LATEX_ACCENTS:
            arg, end = self.braced(after)
            inner = _COMMAND.fullmatch(arg)
            if inner and (inner.group(1) in LATEX_GREEK or inner.group(1) in LATEX_VARIANTS):
                base = LATEX_VARIANTS.get(inner.group(1), inner.group(1))
            elif re.fullmatch(r"[^\W\d_][^\W_]*", arg):
                base = _greek_word(arg)
            else:
                raise self.fail(f"\\{cmd}{{{arg}}} is not a name", pos, end)
            return self.name(base + LATEX_ACCENTS.get(cmd, ""), pos, end)
        raise self.fail(f"unknown LaTeX command \\{cmd}", pos, word_end)


def tokenize(text: str, *, latex: bool = False, line_offset: int = 0, names: Iterable[str] = (),
             strict: bool = False) -> list[list[Token]]:
    """Cell text → statements, each a list of tokens (comments and spacing dropped).

    ``names`` are already spelled (the header's); ``strict`` refuses a name Python would read differently.
    """
    return _Scanner(text, latex, line_offset, names, strict).run()
