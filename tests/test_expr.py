"""Tests for the claim language of ``matgrad check``: parsing, printing, shapes and evaluation."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from matgrad_cli.core.claims.evaluation import evaluate
from matgrad_cli.core.claims.parser import MAX_NESTING, MAX_ONES_SIZE, parse_claim
from matgrad_cli.core.claims.shapes import ShapeMismatch, ShapeStep, shape_of
from matgrad_cli.core.claims.tree import (
    Add,
    Claim,
    Div,
    Hadamard,
    MatMul,
    Name,
    Neg,
    Node,
    Number,
    Ones,
    OnesLike,
    OperandName,
    ScalarMul,
    Size,
    SizeName,
    Softmax,
    Span,
    Sub,
    SumAxis,
    Transpose,
    is_scalar,
    to_text,
)
from matgrad_cli.core.layer import Sizes
from matgrad_cli.errors import ClaimSyntaxError, MatgradError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOWHERE = Span(0, 0)  # spans do not take part in equality, so expected trees can use any span


def name(operand: OperandName) -> Name:
    return Name(operand, NOWHERE)


def number(value: int | str) -> Number:
    return Number(Fraction(value), NOWHERE)


def t(node: Node) -> Transpose:
    return Transpose(node, NOWHERE)


def matmul(left: Node, right: Node) -> MatMul:
    return MatMul(left, right, NOWHERE)


def expr_of(text: str) -> Node:
    return parse_claim(text).expr


def syntax_error(text: str) -> ClaimSyntaxError:
    with pytest.raises(ClaimSyntaxError) as caught:
        parse_claim(text)
    return caught.value


G, W, Z, B = name("G"), name("W"), name("Z"), name("b")
G_TIMES_W_T = matmul(G, t(W))


# --- accepted spellings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "dZ = G @ W.T",
        "dZ=G@W.T",
        "dL/dZ = dL/dA @ W'",
        "dL / dZ = dA @ W^T",
        "∂L/∂Z = ∂L/∂A @ Wᵀ",
        "∂L/∂Z = dL/dA @ W.T",
        "\tdZ =\n G  @  W . T ",
    ],
)
def test_every_spelling_of_dz_and_g_parses_to_the_same_tree(text: str) -> None:
    claim = parse_claim(text)
    assert claim == Claim("Z", G_TIMES_W_T, text)


@pytest.mark.parametrize(
    ("text", "target"),
    [("dW = G", "W"), ("db = G", "b"), ("dL/dW = G", "W"), ("∂L/∂b = G", "b"), ("dL/db = G", "b")],
)
def test_target_is_read_from_any_spelling_of_the_left_side(text: str, target: str) -> None:
    assert parse_claim(text).target == target


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dZ = W.T.T", t(t(W))),
        ("dZ = W''", t(t(W))),
        ("dZ = W^T'ᵀ", t(t(t(W)))),
        ("dZ = (G @ W')'", t(G_TIMES_W_T)),
        ("db = sum(G, axis=0)", SumAxis(G, 0, NOWHERE)),
        ("db = sum(G,1)", SumAxis(G, 1, NOWHERE)),
        ("db = sum( G , axis = 1 )", SumAxis(G, 1, NOWHERE)),
        ("db = ones(m,1)", Ones("m", 1, NOWHERE)),
        ("db = ones(2, k)", Ones(2, "k", NOWHERE)),
        ("db = Y", name("Y")),
        ("db = +G", G),
    ],
)
def test_transposes_calls_and_names_parse(text: str, expected: Node) -> None:
    assert expr_of(text) == expected


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("0.5", Fraction(1, 2)),
        ("2.50", Fraction(5, 2)),
        ("10", Fraction(10)),
        ("0.1", Fraction(1, 10)),
    ],
)
def test_decimal_numbers_stay_exact(literal: str, value: Fraction) -> None:
    parsed = expr_of(f"dZ = {literal}")
    assert isinstance(parsed, Number)
    assert parsed.value == value
    assert type(parsed.value) is Fraction


# --- precedence and spans --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dZ = -G @ W.T", matmul(Neg(G, NOWHERE), t(W))),
        ("dZ = 2*G@W.T", matmul(ScalarMul(number(2), G, NOWHERE), t(W))),
        ("dW = Z.T @ G + 0", Add(matmul(t(Z), G), number(0), NOWHERE)),
        ("dZ = -W.T", Neg(t(W), NOWHERE)),
        ("dZ = G - Z - W", Sub(Sub(G, Z, NOWHERE), W, NOWHERE)),
        ("dZ = G - (Z - W)", Sub(G, Sub(Z, W, NOWHERE), NOWHERE)),
        ("dZ = G + Z @ W", Add(G, matmul(Z, W), NOWHERE)),
        ("dZ = G @ W * 2", ScalarMul(matmul(G, W), number(2), NOWHERE)),
    ],
)
def test_precedence_follows_python(text: str, expected: Node) -> None:
    assert expr_of(text) == expected


def test_spans_cover_the_text_each_node_came_from() -> None:
    text = "dZ = (G @ W')' + b"
    tree = expr_of(text)
    assert isinstance(tree, Add)
    assert text[tree.span.start : tree.span.end] == "(G @ W')' + b"
    assert text[tree.left.span.start : tree.left.span.end] == "(G @ W')'"
    assert text[tree.right.span.start : tree.right.span.end] == "b"


def test_claim_keeps_the_original_text() -> None:
    assert parse_claim("dL/dW = Z' @ dA").text == "dL/dW = Z' @ dA"


# --- syntax errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("", "empty claim", 0),
        ("   ", "empty claim", 3),
        ("dZ = Q", "unknown name 'Q' (names: Z, W, b, G, Y, A)", 5),
        (
            "dZ = G @ z",
            "unknown name 'z' (names: Z, W, b, G, Y, A; names are case-sensitive, "
            "did you mean 'Z'?)",
            9,
        ),
        ("dZ = (G @ W.T", "expected ')' to close '('", 13),
        ("dZ = (G @ W.T W", "expected ')' to close '('", 15),
        ("dZ = G @ W.T)", "unmatched ')'", 12),
        ("dZ = G @ W.T 2", "write an operator such as * before a number", 13),
        ("dZ = 2 3 G", "write an operator such as * before a number", 7),
        ("dZ = G @", "unexpected end of claim", 8),
        ("dZ = sum(G, axis=2)", "an axis of a matrix is 0 or 1 (or -2, -1)", 17),
        ("dZ = sum(G, -3)", "an axis of a matrix is 0 or 1 (or -2, -1)", 13),
        ("dZ = sum(G, )", "an axis of a matrix is 0 or 1 (or -2, -1)", 12),
        ("dZ = sum(G, keepdims=1)", "expected True or False after 'keepdims='", 21),
        (
            "dZ = sum(G, axis=0, dtype=1)",
            "unknown keyword 'dtype' (sum takes axis or dim, and keepdims)",
            20,
        ),
        ("dZ = sum G", "expected '(' after 'sum'", 9),
        (
            "dZ = ones(0, 1)",
            f"a size must be m, k, n, X.shape[0] or a whole number 1..{MAX_ONES_SIZE}",
            10,
        ),
        ("dZ = ones(m 1)", "expected ',' between the sizes, as in ones(m, 1)", 12),
        ("dY = G", "'dY' is not a gradient matgrad checks (use dZ, dW or db)", 0),
        ("dL/dA = G", "∂L/∂A is G, given; a claim is about dZ, dW or db", 0),
        ("G @ W.T", "a claim starts with dZ, dW or db, then '='", 0),
        ("dZ G @ W.T", "expected '=' after 'dZ'", 3),
        ("dZ", "expected '=' after 'dZ'", 2),
        ("dZ = G = W", "only one '=' is allowed", 7),
        ("dZ = __import__('os')", "unknown name '__import__' (names: Z, W, b, G, Y, A)", 5),
        ("dZ = os.system(G)", "unknown name 'os' (names: Z, W, b, G, Y, A)", 5),
        ("dZ = np.exp(G)", "unknown function 'exp'", 8),
        ("dZ = G.shape", "expected '[' after '.shape'", 12),
        ("dZ = G.foo", "unknown attribute or method '.foo'", 7),
        ("dZ = G ** 2", "'**' is not an operator here (there are no powers)", 7),
        ("dZ = G^{-1}", "there are no inverses or powers; ^ writes transposes", 8),
        ("dZ = \\exp(G)", "unknown LaTeX command '\\exp'", 5),
        ("dZ = G^2", "expected 'T' after '^' (^ only writes transposes)", 7),
        ("dZ = G[0]", "indexing with [ ] is not part of a claim", 6),
        ("dZ = G; W", "expected an operator or the end of the claim, found ';'", 6),
        ('dZ = "G"', "unexpected character '\"'", 5),
        ("dZ = 'G'", "expected a name, number or '(', found \"'\"", 5),
        ("dZ = G\x00", "non-printable character U+0000", 6),
        ("dZ = \x1b[31mG", "non-printable character U+001B", 5),
        ("dL/ = G", "expected a name such as dZ after 'dL/'", 4),
        ("dZ = " + "9" * 101, "number has more than 100 digits", 5),
    ],
)
def test_syntax_errors_name_the_problem_and_its_position(
    text: str, message: str, position: int
) -> None:
    error = syntax_error(text)
    assert (error.message, error.position) == (message, position)
    assert error.source == text


def test_caret_points_at_the_offending_character() -> None:
    error = syntax_error("dZ = G @ X")
    assert error.caret_lines() == ("dZ = G @ X", "         ^")


def test_claim_at_the_length_limit_parses_and_one_more_character_is_refused() -> None:
    longest = "dZ = G" + " " * (10_000 - len("dZ = G"))
    assert parse_claim(longest).expr == G
    error = syntax_error(longest + " ")
    assert (error.message, error.position) == ("claim is longer than 10000 characters", 10_000)


def test_huge_nesting_is_refused_without_recursion_error() -> None:
    error = syntax_error("dZ = " + "(" * 100_000 + "G" + ")" * 100_000)
    assert error.message == "claim is longer than 10000 characters"


NESTING_MESSAGE = "claim is nested more than 64 levels deep (parentheses, unary minus or calls)"


@pytest.mark.parametrize(
    ("opening", "closing", "levels_per_opening", "refused_at"),
    [
        ("(", ")", 1, 5 + 64),
        ("-", "", 1, 5 + 64),
        ("sum(", ", 0)", 1, 5 + 64 * 4 + 3),
        ("(-", ")", 2, 5 + 32 * 2),
    ],
)
def test_nesting_is_capped_at_64_levels(
    opening: str, closing: str, levels_per_opening: int, refused_at: int
) -> None:
    allowed = MAX_NESTING // levels_per_opening
    parse_claim("dZ = " + opening * allowed + "G" + closing * allowed)
    error = syntax_error("dZ = " + opening * 1000 + "G" + closing * 1000)
    assert (error.message, error.position) == (NESTING_MESSAGE, refused_at)


@pytest.mark.parametrize("link", [" + G", " @ G", "'", ".T", "^T"])
def test_long_operator_chains_are_capped_so_trees_stay_shallow(link: str) -> None:
    parse_claim("dZ = G" + link * MAX_NESTING)
    error = syntax_error("dZ = G" + link * 1000)
    operator_offset = len(link) - len(link.lstrip())
    assert error.message == "expression has more than 64 nested operations"
    assert error.position == len("dZ = G") + MAX_NESTING * len(link) + operator_offset


# --- printing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim", "text"),
    [
        ("dZ = G @ W.T", "G @ Wᵀ"),
        ("dW = Z' @ dA", "Zᵀ @ G"),
        ("db = sum(G, 0)", "sum(G, axis=0)"),
        ("db = ones(m,1) @ b", "ones(m, 1) @ b"),
        ("dZ = -(G @ W.T)", "-(G @ Wᵀ)"),
        ("dZ = (-G)'", "(-G)ᵀ"),
        ("dZ = ((G - (Z - W)))", "G - (Z - W)"),
        ("dZ = (G - Z) - W", "G - Z - W"),
        ("dZ = G @ (W @ Z)", "G @ (W @ Z)"),
        ("dZ = 2 * (G @ W)", "2 * (G @ W)"),
        ("dZ = --G", "-(-G)"),
        ("dZ = 0.50 * G", "0.5 * G"),
        ("dZ = (G + Z)^T''", "(G + Z)ᵀᵀᵀ"),
    ],
)
def test_to_text_is_canonical_with_minimal_parentheses(claim: str, text: str) -> None:
    assert to_text(expr_of(claim)) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(1, 8), "0.125"),
        (Fraction(7), "7"),
        (Fraction(1, 3), "1/3"),
        (Fraction(3, 250), "0.012"),
    ],
)
def test_to_text_prints_numbers_exactly(value: Fraction, text: str) -> None:
    assert to_text(Number(value, NOWHERE)) == text


# --- shapes -----------------------------------------------------------------------------------

SIZES = Sizes(m=2, k=3, n=4)


def mismatch(claim: str, sizes: Sizes = SIZES) -> ShapeMismatch:
    with pytest.raises(ShapeMismatch) as caught:
        shape_of(expr_of(claim), sizes)
    return caught.value


def test_shape_of_records_every_matrix_step_innermost_first() -> None:
    shape, steps = shape_of(expr_of("dZ = G @ W.T"), SIZES)
    assert shape == (2, 3)
    assert steps == (
        ShapeStep("G", (2, 4)),
        ShapeStep("W", (3, 4)),
        ShapeStep("Wᵀ", (4, 3)),
        ShapeStep("G @ Wᵀ", (2, 3)),
    )


@pytest.mark.parametrize(
    ("claim", "shape"),
    [
        ("dW = Z.T @ G", (3, 4)),
        ("db = sum(G, axis=0)", (1, 4)),
        ("db = sum(G, axis=1)", (1, 2)),
        ("db = sum(G, axis=1, keepdims=True)", (2, 1)),
        ("db = ones(m, 1).T @ G", (1, 4)),
        ("dZ = Z @ W + b", (2, 4)),
        ("dZ = b - Z @ W", (2, 4)),
        ("dZ = 0.5 * -G", (2, 4)),
        ("dZ = (1 + 1) * G", (2, 4)),
        ("dZ = 2 * 3", (1, 1)),
        ("dZ = Y - G", (2, 4)),
    ],
)
def test_shape_of_valid_claims(claim: str, shape: tuple[int, int]) -> None:
    assert shape_of(expr_of(claim), SIZES)[0] == shape


def test_matrix_product_mismatch_names_both_shapes_and_the_inner_sizes() -> None:
    error = mismatch("dZ = W.T @ G")
    assert error.message == "Wᵀ @ G: (4×3) @ (2×4), and 3 ≠ 2"
    assert str(error) == error.message
    assert to_text(error.node) == "Wᵀ @ G"
    assert error.steps == (ShapeStep("W", (3, 4)), ShapeStep("Wᵀ", (4, 3)), ShapeStep("G", (2, 4)))


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        ("dZ = G + Z", "G + Z: (2×4) + (2×3), the shapes differ"),
        ("dZ = G - Z @ Z.T", "G - Z @ Zᵀ: (2×4) - (2×2), the shapes differ"),
        ("dZ = G + b.T", "G + bᵀ: (2×4) + (4×1), the shapes differ"),
        (
            "dZ = G + sum(G, axis=1, keepdims=True)",
            "G + sum(G, axis=1, keepdims=True): (2×4) + (2×1), the shapes differ",
        ),
        (
            "dZ = G * W",
            "G * W: (2×4) * (3×4): * multiplies entry by entry in NumPy, and these shapes do "
            "not match",
        ),
        ("dZ = G / Z", "G / Z: / divides by a number or a size, not by a matrix"),
        ("dZ = G / (m - 2)", "G / (m - 2): division by zero at m = 2, k = 3, n = 4"),
        ("dZ = 2 @ G", "2 @ G: @ is the matrix product; use * to scale by a number"),
        (
            "dZ = G + 1",
            "G + 1: (2×4) + a number; a number cannot be added to or subtracted from a matrix",
        ),
        ("dZ = sum(2, axis=0)", "sum(2, axis=0): sum needs a matrix, not a number"),
    ],
)
def test_shape_mismatch_messages(claim: str, message: str) -> None:
    assert mismatch(claim).message == message


def test_row_broadcast_is_the_only_broadcast() -> None:
    assert shape_of(expr_of("dZ = G + b"), SIZES)[0] == (2, 4)
    assert mismatch("dZ = G + sum(G, axis=1, keepdims=True)").message.endswith("shapes differ")
    assert mismatch("dZ = ones(1, 1) + G").message == (
        "ones(1, 1) + G: (1×1) + (2×4), the shapes differ"
    )


def test_a_one_by_one_matrix_is_not_a_number() -> None:
    error = mismatch("dZ = G / ones(1, 1)")
    assert error.message == "G / ones(1, 1): / divides by a number or a size, not by a matrix"


def test_shape_of_accepts_operand_shape_overrides() -> None:
    shape, _ = shape_of(expr_of("dZ = G - Y"), SIZES, {"Y": (2, 4), "G": (2, 4)})
    assert shape == (2, 4)
    with pytest.raises(ShapeMismatch):
        shape_of(expr_of("dZ = G - Y"), SIZES, {"Y": (1, 1)})


def test_a_shape_mismatch_is_a_wrong_answer_not_an_input_error() -> None:
    assert not issubclass(ShapeMismatch, MatgradError)


def test_a_number_only_claim_is_one_by_one_with_no_matrix_steps() -> None:
    assert shape_of(expr_of("dZ = -2 * 0.5"), SIZES) == ((1, 1), ())


# --- evaluation ---------------------------------------------------------------------------------


def symbols(prefix: str, rows: int, cols: int) -> Any:
    return sympy.Matrix(rows, cols, lambda i, j: sympy.Symbol(f"{prefix}{i}{j}"))


def operands_for(sizes: Sizes) -> dict[str, Any]:
    m, k, n = sizes.m, sizes.k, sizes.n
    return {
        "Z": symbols("z", m, k),
        "W": symbols("w", k, n),
        "b": symbols("b", 1, n),
        "G": symbols("g", m, n),
        "Y": symbols("y", m, n),
    }


SMALL = Sizes(m=2, k=3, n=2)
VALUES = operands_for(SMALL)


def value_of(claim: str, sizes: Sizes = SMALL) -> Any:
    return evaluate(expr_of(claim), operands_for(sizes), sizes)


def test_evaluate_matrix_product_matches_sympy() -> None:
    assert value_of("dZ = G @ W.T") == VALUES["G"] * VALUES["W"].T


def test_evaluate_sum_over_axes_matches_products_with_ones() -> None:
    assert value_of("db = sum(G, axis=0)") == sympy.ones(1, 2) * VALUES["G"]
    assert value_of("db = sum(G, 1, keepdims=True)") == VALUES["G"] * sympy.ones(2, 1)
    assert value_of("db = sum(G, 1)") == (VALUES["G"] * sympy.ones(2, 1)).T


def test_evaluate_broadcasts_the_bias_row_like_ones_times_b() -> None:
    expected = VALUES["Z"] * VALUES["W"] + sympy.ones(2, 1) * VALUES["b"]
    assert value_of("dZ = Z @ W + b") == expected
    assert value_of("dZ = b + Z @ W") == expected
    assert value_of("dZ = Z @ W + ones(m, 1) @ b") == expected
    assert value_of("dZ = b - Z @ W") == sympy.ones(2, 1) * VALUES["b"] - VALUES["Z"] * VALUES["W"]


def test_evaluate_keeps_numbers_exact_and_expands_entries() -> None:
    result = value_of("dZ = 0.5 * (G + G) - Y * 0.1")
    assert result == (VALUES["G"] - VALUES["Y"] / 10).applyfunc(sympy.expand)
    expanded = value_of("dW = (Z + Z).T @ (G - 2 * G)")
    assert expanded == (-2 * VALUES["Z"].T * VALUES["G"]).applyfunc(sympy.expand)
    assert all(entry == sympy.expand(entry) for entry in expanded)


def test_evaluate_returns_a_matrix_even_for_a_number_only_claim() -> None:
    result = value_of("dZ = 2 * 0.25 - 1")
    assert isinstance(result, sympy.MatrixBase)
    assert result == sympy.Matrix([[sympy.Rational(-1, 2)]])


def test_evaluate_checks_shapes_before_any_arithmetic() -> None:
    with pytest.raises(ShapeMismatch, match="3 ≠ 2"):
        evaluate(expr_of("dZ = W.T @ G"), {}, Sizes(m=2, k=3, n=4))


def test_evaluate_reports_a_missing_operand() -> None:
    with pytest.raises(ValueError, match="needs a value for Y"):
        evaluate(expr_of("dZ = G - Y"), {"G": VALUES["G"]}, SMALL)


# --- safety -------------------------------------------------------------------------------------


#: The modules of the claim language: they read user text and must never evaluate it.
LANGUAGE_MODULES = ("tree", "lexer", "spellings", "calls", "parser", "shapes", "evaluation")


def test_importing_the_parser_pulls_in_neither_sympy_nor_the_cli_libraries() -> None:
    check = (
        "import sys, matgrad_cli.core.claims.parser; "
        "assert not {'sympy', 'typer', 'rich'} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", check], check=True, cwd=PROJECT_ROOT)


@pytest.mark.parametrize("module", LANGUAGE_MODULES)
def test_the_claim_language_never_calls_python_evaluators(module: str) -> None:
    language = importlib.import_module(f"matgrad_cli.core.claims.{module}")

    source = Path(str(language.__file__)).read_text(encoding="utf-8")
    forbidden = {"eval", "exec", "compile", "sympify", "parse_expr", "literal_eval", "__import__"}
    used = {
        node.id if isinstance(node, ast.Name) else node.attr
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Name | ast.Attribute)
    }
    assert not forbidden & used


# --- properties ---------------------------------------------------------------------------------

CLAIM_PIECES = [
    "dZ", "dW", "db", "dX", "dL/dZ", "∂L/∂W", "dL/", "∂", "dA", "dL/dA", "=", " = ",
    "Z", "W", "b", "G", "Y", "X", "m", "k", "n", "T", "axis", "sum", "ones", "__import__",
    "0", "1", "2", "0.5", "9" * 120, "+", "-", "*", "@", "(", ")", ",", ".", ".T", "^T", "^",
    "'", "ᵀ", "**", "/", "[", ";", '"', " ", "\t", "\x00", "é",
]  # fmt: skip
piece_sequences = st.lists(st.sampled_from(CLAIM_PIECES), max_size=40).map("".join)
claim_like_texts = st.one_of(st.text(), piece_sequences, piece_sequences.map("dZ = ".__add__))


def parse_or_error(text: str) -> Claim | ClaimSyntaxError:
    try:
        return parse_claim(text)
    except ClaimSyntaxError as error:
        return error


def shape_or_mismatch(node: Node) -> tuple[int, int] | ShapeMismatch:
    try:
        return shape_of(node, SIZES)[0]
    except ShapeMismatch as mismatch_error:
        return mismatch_error


@settings(max_examples=400)
@given(claim_like_texts)
def test_any_text_parses_or_raises_claim_syntax_error_with_a_valid_position(text: str) -> None:
    outcome = parse_or_error(text)  # any other exception fails the test
    if isinstance(outcome, ClaimSyntaxError):
        assert 0 <= outcome.position <= len(text)
        assert outcome.source == text
        assert outcome.message
        return
    assert parse_claim(f"d{outcome.target} = " + to_text(outcome.expr)).expr == outcome.expr
    shape = shape_or_mismatch(outcome.expr)
    if isinstance(shape, ShapeMismatch):
        assert shape.message.startswith(to_text(shape.node) + ": ")


OPERAND_NAMES: tuple[OperandName, ...] = ("Z", "W", "b", "G", "Y", "A")
SIZE_LETTERS: tuple[SizeName, ...] = ("m", "k", "n")
dims = st.one_of(st.sampled_from(("m", "k", "n")), st.integers(1, MAX_ONES_SIZE))
leaves = st.one_of(
    st.sampled_from(OPERAND_NAMES).map(name),
    st.builds(
        lambda digits, places: Number(Fraction(digits, 10**places), NOWHERE),
        st.integers(0, 10**6),
        st.integers(0, 4),
    ),
    st.builds(Ones, dims, dims, st.just(NOWHERE)),
    st.builds(lambda length: Ones(1, length, NOWHERE, flat=True), dims),
    st.builds(Size, st.sampled_from(SIZE_LETTERS), st.just(NOWHERE)),
    st.just(Softmax(NOWHERE)),
)


def with_operators(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    span = st.just(NOWHERE)
    scalars = st.one_of(
        st.integers(0, 99).map(lambda value: Number(Fraction(value), NOWHERE)),
        st.sampled_from(SIZE_LETTERS).map(lambda size: Size(size, NOWHERE)),
    )
    return st.one_of(
        st.builds(Transpose, children, span),
        st.builds(Neg, children, span),
        st.builds(SumAxis, children, st.sampled_from((0, 1)), span, st.booleans(), st.booleans()),
        st.builds(MatMul, children, children, span),
        st.builds(ScalarMul, scalars, children, span),
        st.builds(ScalarMul, children, scalars, span),
        # * between matrices is elementwise; with a number on one side it scales
        st.builds(
            lambda left, right: (ScalarMul if is_scalar(left) or is_scalar(right) else Hadamard)(
                left, right, NOWHERE
            ),
            children,
            children,
        ),
        st.builds(Div, children, children, span),
        st.builds(OnesLike, children, span),
        st.builds(Add, children, children, span),
        st.builds(Sub, children, children, span),
    )


def height(node: Node) -> int:
    children = [getattr(node, part) for part in ("arg", "left", "right") if hasattr(node, part)]
    return 1 + max((height(child) for child in children), default=0)


@settings(max_examples=300)
@given(st.recursive(leaves, with_operators, max_leaves=24), st.sampled_from(("Z", "W", "b")))
def test_to_text_round_trips_through_the_parser(node: Node, target: str) -> None:
    assume(height(node) <= MAX_NESTING // 2)
    claim = parse_claim(f"d{target} = " + to_text(node))
    assert claim.expr == node
    assert claim.target == target
