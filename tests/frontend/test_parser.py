import pytest
import sympy

import ainative
from ainative.errors import ModelSyntaxError, ShapeError, UnknownNameError
from ainative.frontend.ir import Assignment, Declaration, Sampling
from ainative.frontend.nodes import Element, MatrixProduct, Softmax, Transposed
from ainative.frontend.parser import parse
from ainative.frontend.spec import parse_header
from tests.cells import EIGHT_SCHOOLS, MLP, REFERENCE_CELLS

MLP_ASCII = """x in R^D
W_1 in R^(H, D);  b_1 in R^H
W_2 in R^(K, H);  b_2 in R^K
h = tanh(W_1 @ x + b_1)
y = softmax(W_2 @ h + b_2)"""

MLP_LATEX = r"""x \in \mathbb{R}^{D}
W_1 \in \mathbb{R}^{H \times D} \\ b_1 \in \mathbb{R}^{H}
W_{2} \in \mathbb{R}^{K \times H};  b_{2} \in \mathbb{R}^{K}
h = \tanh\left(W_1 x + b_1\right)
y = \operatorname{softmax}(W_2 h + b_2)"""

EIGHT_ASCII = """J = 8
mu ~ Normal(0, 5)
tau ~ HalfCauchy(5)
eta_j ~ Normal(0, 1)  for j in 1..J
theta_j = mu + tau * eta_j  for j in 1..J
y_j ~ Normal(theta_j, sigma_j)  for j in 1..J"""

EIGHT_LATEX = r"""J = 8
\mu \sim \mathcal{N}(0, 5)
\tau \sim \mathrm{HalfCauchy}(5)
\eta_j \sim \mathcal{N}(0, 1), j = 1..J
\theta_j = \mu + \tau \eta_j, j = 1..J
y_j \sim \mathcal{N}(\theta_j, \sigma_j), j = 1..J"""


def ir_of(text, header, **kw):
    m = ainative.model(text, header=header, **kw)
    return m.ir.statements, m.ir.roles, m.ir.shapes


def test_every_spec_cell_parses(spec_cell):
    header, body = spec_cell
    model = ainative.model(body, header=header)
    assert model.name == header.split("(")[0]


@pytest.mark.parametrize(("text", "latex"), [(MLP_ASCII, False), (MLP_LATEX, True)], ids=["ascii", "latex"])
def test_three_spellings_of_the_mlp_give_one_ir(text, latex):
    assert ir_of(text, "mlp(x) -> y", latex=latex) == ir_of(MLP, "mlp(x) -> y")


@pytest.mark.parametrize(("text", "header"), [(EIGHT_ASCII, "eight_schools(sigma, y)"),
                                              (EIGHT_LATEX, "eight_schools(σ, y) --latex")], ids=["ascii", "latex"])
def test_three_spellings_of_eight_schools_give_one_ir(text, header):
    assert ir_of(text, header) == ir_of(EIGHT_SCHOOLS, "eight_schools(σ, y)")


def test_mlp_statements_are_sympy_expressions():
    cell = parse(MLP, parse_header("mlp(x) -> y").header)
    declarations = [s for s in cell.statements if isinstance(s, Declaration)]
    assert [(d.names, d.shape) for d in declarations] == [
        (("x",), ("D",)), (("W_1",), ("H", "D")), (("b_1",), ("H",)), (("W_2",), ("K", "H")), (("b_2",), ("K",))]
    h, y = [s for s in cell.statements if isinstance(s, Assignment)]
    W1, x, b1 = sympy.symbols("W_1 x b_1")
    assert h.expr == sympy.tanh(sympy.Add(MatrixProduct(W1, x), b1, evaluate=False), evaluate=False)
    assert isinstance(y.expr, Softmax)
    assert (h.span.line, h.span.column, h.text) == (4, 1, "h = tanh(W₁ x + b₁)")


def test_a_subscript_outside_a_plate_is_part_of_the_name():
    (statement,) = parse("θ_j = x", parse_header("f(x) -> theta_j").header).statements
    assert statement.target == "theta_j" and statement.plate is None


def test_plate_subscripts_index_and_other_subscripts_name():
    cell = parse(EIGHT_SCHOOLS, parse_header("eight_schools(σ, y)").header)
    theta = cell.statements[4]
    assert theta.target == "theta" and theta.plate.index == "j" and theta.plate.stop == "J"
    eta = Element(sympy.Symbol("eta"), sympy.Symbol("j"))
    assert eta in theta.expr.atoms(Element)
    y = cell.statements[5]
    assert isinstance(y, Sampling) and y.distribution.family == "Normal"
    assert dict(y.distribution.args)["scale"] == Element(sympy.Symbol("sigma"), sympy.Symbol("j"))


def test_sigma_is_the_sigmoid_unless_a_variable():
    logistic = parse("p = σ(w x)", parse_header("f(x) -> p").header)
    assert type(logistic.statements[0].expr).__name__ == "Sigmoid"
    scaled = parse("σ ~ HalfNormal(1); y ~ Normal(0, σ(x))", parse_header("f(x, y)").header).statements[1]
    assert scaled.distribution.values[1] == MatrixProduct(sympy.Symbol("sigma"), sympy.Symbol("x"))


def test_transpose_and_powers_and_reductions():
    (statement,) = parse("y = Σ wᵀx²", parse_header("f(x) -> y").header).statements
    w, x = sympy.symbols("w x")
    assert statement.expr.args[0] == MatrixProduct(Transposed(w), sympy.Pow(x, 2, evaluate=False))


def test_sum_takes_the_whole_product():
    (statement,) = parse("L = -Σ t ⊙ log(y) + c", parse_header("f(t, y) -> L").header).statements
    assert statement.expr.func == sympy.Add
    assert "ReduceSum(t*log(y))" in str(statement.expr)


def test_keyword_arguments_of_distributions():
    (statement,) = parse("y ~ Bernoulli(logits=z)", parse_header("f(y, z)").header).statements
    assert statement.distribution.args == (("logits", sympy.Symbol("z")),)


def test_pi_is_the_constant_unless_defined():
    assert parse("y = 2 pi x", parse_header("f(x) -> y").header).statements[0].expr.has(sympy.pi)
    assert not parse("pi = 3\ny = pi x", parse_header("f(x) -> y").header).statements[1].expr.has(sympy.pi)


@pytest.mark.parametrize(
    ("text", "error", "line", "column", "words"),
    [
        ("y = x +", ModelSyntaxError, 1, 8, "ends too early"),
        ("a = 1\nh = tanh(x))", ModelSyntaxError, 2, 12, "unmatched ')'"),
        ("y = tanhh(x)", UnknownNameError, 1, 5, "did you mean 'tanh'"),
        ("y ~ Normall(0, 1)", UnknownNameError, 1, 5, "did you mean 'Normal'"),
        ("y = Normal(0, 1)", ModelSyntaxError, 1, 5, "use it on the right of '~'"),
        ("y ~ Normal(0)", ModelSyntaxError, 1, 5, "Normal needs loc, scale"),
        ("y ~ Normal(0, 1, 2)", ModelSyntaxError, 1, 18, "at most 2"),
        ("y = softmax(x, x)", ModelSyntaxError, 1, 5, "takes 1 argument"),
        ("x ∈ ℝ^0", ShapeError, 1, 7, "positive integer"),
        ("θ_j = x for j in 0..J", ModelSyntaxError, 1, 18, "count from 1"),
        ("θ = x for j in 1..J", ModelSyntaxError, 1, 11, "write theta_j"),
        ("y = 1e99", ModelSyntaxError, 1, 5, "too large for float32"),
        ("y = x [0]", ModelSyntaxError, 1, 7, "square brackets right after a name index it"),
        ("y = (x + 1)[2]", ModelSyntaxError, 1, 12, "index it"),
        ("y = xᵀ[1]", ModelSyntaxError, 1, 7, "index it"),
        ("y = x[1)", ModelSyntaxError, 1, 8, "closes a subscript"),
        ("y = 0x10", ModelSyntaxError, 1, 5, "hexadecimal"),
        ("y = 0b101 x", ModelSyntaxError, 1, 5, "binary"),
        ("y = 1j", ModelSyntaxError, 1, 5, "complex number"),
        ("y = 2.5J x", ModelSyntaxError, 1, 5, "complex number"),
        ("y = 1e-999999 x", ModelSyntaxError, 1, 5, "too small for float32: it would be 0"),
        ("y = 1e-50 x", ModelSyntaxError, 1, 5, "too small for float32"),
        ("y = 0." + "1" * 101 + " x", ModelSyntaxError, 1, 5, "more than 100 digits"),
        ("y = " + "0" * 4300 + "1 x", ModelSyntaxError, 1, 5, "more than 100 digits"),
        ("y = tanh x", ModelSyntaxError, 1, 5, "tanh is a function: write tanh(…)"),
        ("y = x + exp", ModelSyntaxError, 1, 9, "exp is a function"),
        ("η_j ~ Normal(0, 1) for j in 1e3..J", ModelSyntaxError, 1, 29, "a plate bound is made of names and whole"),
        ("y = " + "√" * 101 + "x", ModelSyntaxError, 1, 104, "nests more than 100 levels deep"),
        ("y_t = x_t1 for t in 1..T", ModelSyntaxError, 1, 7, "puts a number next to the index t"),
        ("y = x_{}", ModelSyntaxError, 1, 6, "empty subscript"),
        ("y = １ x", ModelSyntaxError, 1, 5, "unexpected character '１'"),
        ("y = Σ_{j=1}^{J}", ModelSyntaxError, 1, 16, "ends too early"),
        ("y = x" + "ᵀ" * 120, ModelSyntaxError, 1, 5, "nests more than 100 levels deep"),
    ],
)
def test_syntax_errors_name_line_and_column(text, error, line, column, words):
    with pytest.raises(error) as info:
        parse(text, parse_header("f(x, y) -> y" if "~" in text else "f(x) -> y").header)
    assert (info.value.line, info.value.column) == (line, column)
    assert words in str(info.value)
    assert "^" in str(info.value).splitlines()[2]


def test_error_message_shows_the_line_with_a_caret_under_the_column():
    with pytest.raises(ModelSyntaxError) as info:
        ainative.model("x ∈ ℝ^D\nh = tanh(W x + b))", header="f(x) -> h")
    lines = str(info.value).splitlines()
    assert lines[0] == "unmatched ')' (line 2, column 18)"
    assert lines[1] == "    h = tanh(W x + b))"
    assert lines[2] == "    " + " " * 17 + "^"


def test_hostile_cell_is_a_syntax_error_and_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for text in ("y = __import__('os').system('touch X')", "y = eval('1')", "y = exec(x)", "y = x.__class__"):
        with pytest.raises((ModelSyntaxError, UnknownNameError)):
            ainative.model(text, header="f(x) -> y")
    assert list(tmp_path.iterdir()) == []


def test_line_numbers_count_the_header_line_of_a_cell():
    with pytest.raises(ModelSyntaxError) as info:
        ainative.model("%%model f(x) -> y\ny = x +")
    assert info.value.line == 2


@pytest.mark.parametrize("header", list(REFERENCE_CELLS))
def test_parse_is_deterministic(header):
    body = REFERENCE_CELLS[header]
    assert ir_of(body, header) == ir_of(body, header)


@pytest.mark.parametrize(("text", "values"), [
    ("y = 0 x", [0]), ("y = 0x", [0]), ("y = 007 x", [7]), ("y = 1e-45 x", [1e-45]), ("y = 0.0e-999 x", [0]),
    ("y = 0." + "0" * 60 + "1e61 x", [1]), ("y = 2 [x + 1]", [1, 2]), ("y = 3 j", [3]),
    ("y = " + "1" * 38 + " x", [1.1111111e37]),
])
def test_numbers_mean_what_they_look_like(text, values):
    statement = parse(text, parse_header("f(x, j) -> y").header).statements[0]
    assert sorted(float(n) for n in statement.expr.atoms(sympy.Number)) == pytest.approx(values, rel=1e-6)


def test_long_chains_are_one_flat_sum_and_product():
    expr = parse("y = " + " + ".join(["x"] * 1500) + " - x * x * x / x", parse_header("f(x) -> y").header)
    terms = expr.statements[0].expr.args
    assert len(terms) == 1501 and terms[-1] == sympy.Mul(-1, sympy.Mul(sympy.Mul(*[sympy.Symbol("x")] * 3,
                                                                                  evaluate=False),
                                                                       sympy.Pow(sympy.Symbol("x"), -1,
                                                                                 evaluate=False),
                                                                       evaluate=False), evaluate=False)


@pytest.mark.parametrize(("text", "same_as"), [
    ("y = W_1ᵀ x", "y = W_1^T x"),
    ("y = x_1² + b_out", "y = x_1^2 + b_out"),
    ("y = x_{out}ᵀ", "y = x_out^T"),
])
def test_a_superscript_after_a_subscript_is_not_part_of_the_name(text, same_as):
    header = parse_header("f(x) -> y").header
    assert parse(text, header).statements[0].expr == parse(same_as, header).statements[0].expr


@pytest.mark.parametrize("text", ["x ∈ ℝ^T", "x ∈ ℝ^{T}", r"x \in \mathbb{R}^{T}", "x in R^T"])
def test_a_dimension_named_t_is_not_a_transpose(text):
    declaration = parse(text, parse_header("f(x) -> x" + (" --latex" if "\\" in text else "")).header).statements[0]
    assert declaration.shape == ("T",)


COUNTY = "county ∈ {1..J}^N;  k ∈ ℕ^N;  z ∈ ℤ;  x ∈ ℝ^N\ny = x * county + k + z"
COUNTY_ASCII = "county in {1..J}^N;  k in nat^N;  z in int;  x in R^N\ny = x * county + k + z"
COUNTY_LATEX = (r"\text{county} \in \{1, \dots, J\}^N;  k \in \mathbb{N}^N;  z \in \mathbb{Z};  x \in \mathbb{R}^N"
                "\n" r"y = x * \text{county} + k + z")
COUNTY_LATEX_DOTS = COUNTY_LATEX.replace(r"\{1, \dots, J\}", r"\{1..J\}")


@pytest.mark.parametrize(("text", "latex"), [(COUNTY_ASCII, False), (COUNTY_LATEX, True), (COUNTY_LATEX_DOTS, True)],
                         ids=["ascii", "latex", "latex-dots"])
def test_three_spellings_of_integer_declarations_give_one_ir(text, latex):
    header = "counties(county, k, z, x) -> y"
    assert ir_of(text, header, latex=latex) == ir_of(COUNTY, header)


def test_integer_domains_in_the_ir():
    from ainative.frontend.ir import Domain

    ir = ainative.model(COUNTY, header="counties(county, k, z, x) -> y").ir
    assert ir.domain_of("county") == Domain(True, 1, "J")
    assert ir.domain_of("k") == Domain(True, 0, None) and ir.domain_of("z") == Domain(True, None, None)
    assert ir.domain_of("x") == Domain() == ir.domain_of("y")
    assert list(ir.integers) == ["county", "k", "z"]
    # a range's name bound is a dimension; int stays a name away from ∈
    assert set(ir.roles.dims) == {"N", "J"}
    assert ainative.model("q ∈ {0..3}\ny = int * q", header="m(q, int) -> y").ir.domain_of("q") == Domain(True, 0, 3)


@pytest.mark.parametrize(
    ("text", "words", "column"),
    [
        ("c ∈ {1..}^N\ny = 2 * c", "unexpected '}'; expected a name or a number", 9),
        ("c ∈ {3..1}^N\ny = 2 * c", "{3..1} is empty: its first bound is above its last", 6),
        ("c ∈ {1.5..4}\ny = 2 * c", "a range bound is a name or a whole number, not 1.5", 6),
        ("c ∈ ℕ;  w ∈ ℤ\ny = w * c", "only data can be declared integer; w is a parameter", 9),
        ("c ∈ ℕ;  h ∈ {0..2}\nh = 2 * c\ny = h", "only data can be declared integer; h is defined on line 2", 9),
        ("c ∈ ℝ;  c ∈ ℕ\ny = 2 * c", "c is declared in ℝ on line 1 and in ℕ here", 9),
        ("c ∈ \\mathbb{Q}\ny = 2 * c", "a space here is \\mathbb{R}, \\mathbb{N} or \\mathbb{Z}", 5),
    ],
)
def test_malformed_integer_declarations_are_errors_at_the_character(text, words, column):
    with pytest.raises(ModelSyntaxError) as info:
        ainative.model(text, header="m(c) -> y")
    assert words in info.value.message and info.value.column == column


def test_a_latent_cannot_be_declared_integer():
    text = "y ∈ ℝ^N;  n ∈ ℕ\nn ~ Poisson(3)\ny ~ Normal(n, 1)"
    with pytest.raises(ModelSyntaxError, match="only data can be declared integer; n is defined on line 2"):
        ainative.model(text, header="m(y)")
