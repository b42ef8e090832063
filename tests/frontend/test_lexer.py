import pytest

from ainative.errors import ModelSyntaxError
from ainative.frontend.lexer import tokenize


def kinds(text, **kw):
    return [[(t.type, t.value) for t in statement] for statement in tokenize(text, **kw)]


@pytest.mark.parametrize(
    ("spelling", "name"),
    [("W₁", "W_1"), ("W_1", "W_1"), ("W_{1}", "W_1"), ("σ", "sigma"), ("sigma", "sigma"), (r"\sigma", "sigma"),
     ("b_out", "b_out"), ("x̂", "xhat"), (r"\hat{x}", "xhat"), ("θⱼ", "theta_j"), (r"\beta_{j}", "beta_j"),
     (r"\varepsilon", "epsilon"), (r"\mathbf{W}_2", "W_2"), ("x′", "xprime"), (r"\mathrm{b_out}", "b_out")],
)
def test_spellings_of_one_name(spelling, name):
    assert kinds(spelling) == [[("NAME", name)]]


def test_juxtaposed_names_need_a_space_except_in_latex():
    assert kinds("Wx") == [[("NAME", "Wx")]]
    assert kinds("W x") == [[("NAME", "W"), ("NAME", "x")]]
    assert kinds("Wx", latex=True) == [[("NAME", "W"), ("NAME", "x")]]
    assert kinds(r"2 \pi s", latex=True) == [[("NUMBER", "2"), ("NAME", "pi"), ("NAME", "s")]]


@pytest.mark.parametrize("text", ["wᵀ", "w^T", "w'", r"w^\top", r"w^{\top}", "w.T", "w^{T}"])
def test_transpose_spellings(text):
    assert kinds(text) == [[("NAME", "w"), ("TRANSPOSE", "T")]]


def test_prime_is_part_of_a_name_in_latex():
    assert kinds("w'", latex=True) == [[("NAME", "wprime")]]


@pytest.mark.parametrize(("text", "kind"), [("∈", "IN"), (r"\in", "IN"), ("~", "SIM"), (r"\sim", "SIM"),
                                            ("ℝ", "REALS"), (r"\mathbb{R}", "REALS"), ("×", "TIMES"),
                                            (r"\times", "TIMES"), ("⊙", "STAR"), ("*", "STAR"), ("@", "AT"),
                                            ("·", "AT"), (r"\cdot", "AT"), ("Σ", "SUM"), (r"\sum", "SUM"),
                                            ("..", "DOTS"), ("…", "DOTS"), ("**", "POW"), ("^", "POW")])
def test_operator_spellings(text, kind):
    assert [[t for t, _ in statement] for statement in kinds(text)] == [[kind]]


def test_superscript_digits_are_powers():
    assert kinds("x²") == [[("NAME", "x"), ("POW", "^"), ("NUMBER", "2")]]
    assert kinds("x⁻¹") == [[("NAME", "x"), ("POW", "^"), ("MINUS", "-"), ("NUMBER", "1")]]


def test_statements_split_on_newline_semicolon_and_latex_break_not_on_spacing():
    assert len(tokenize("a = 1; b = 2\nc = 3 # comment; d = 4")) == 3
    assert len(tokenize(r"a = 1 \\ b = 2")) == 2
    assert len(tokenize(r"a = b \; c")) == 1


def test_ranges_are_not_floats():
    assert kinds("1..J") == [[("NUMBER", "1"), ("DOTS", ".."), ("NAME", "J")]]
    assert kinds("1.5e-3") == [[("NUMBER", "1.5e-3")]]


def test_positions_are_cell_lines_and_columns():
    (_, second) = tokenize("a = 1\n  bb = σ", line_offset=1)
    token = second[-1]
    assert (token.line, token.column, token.end_column) == (3, 8, 9)


@pytest.mark.parametrize(("text", "column"), [("y = x $ 2", 7), (r"y = \foo{x}", 5), ("y = " + "(" * 60, 53)])
def test_lexical_errors_point_at_the_character(text, column):
    with pytest.raises(ModelSyntaxError) as info:
        tokenize(text)
    assert info.value.line == 1 and info.value.column == column
