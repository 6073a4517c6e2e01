"""Tests for the terminal view (``matgrad derive --format text``): layout, notation and honesty."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest
import sympy
from rich.cells import cell_len
from rich.console import Console

from matgrad_cli import Derivation, derive
from matgrad_cli.core.checks import Check
from matgrad_cli.core.compare import compare
from matgrad_cli.core.engine import get_engine
from matgrad_cli.core.matrix import matmul, upstream_form
from matgrad_cli.present import render
from matgrad_cli.present.notation import pretty_expr, pretty_symbol
from matgrad_cli.present.text import derivation_view

SECTIONS = (
    "1. Setup",
    "2. Forward pass",
    "3. ∂L/∂Z",
    "4. ∂L/∂W",
    "5. Bias",
    "6. The general case",
    "7. Summary",
)
ELISION_MARKERS = ("⋯", "⋮", "⋱")


@pytest.fixture(scope="module")
def default_layer() -> Derivation:
    return derive(2, 2, 2)


@pytest.fixture(scope="module")
def default_text(default_layer: Derivation) -> str:
    return render(default_layer, "text")


@pytest.fixture(scope="module")
def large_layer() -> Derivation:
    return derive(8, 7, 9)


def section(text: str, title: str) -> str:
    """The lines of one numbered section, from its heading up to the next heading."""
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if re.match(rf"\d+\. {re.escape(title)}", line))
    end = next(
        (n for n in range(start + 1, len(lines)) if re.match(r"\d+\. \S.* ─+$", lines[n])),
        len(lines),
    )
    return "\n".join(lines[start:end])


def matrix_after(text: str, label: str) -> list[list[str]]:
    """The cells of the bracketed matrix that starts on the line holding ``label``."""
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if label in line and "⎡" in line)
    rows = []
    for line in lines[start:]:
        body = line[line.index(label) + len(label) :] if label in line else line.strip()
        body = body.strip()
        rows.append(re.split(r"\s{3,}", body[1:-1].strip()))
        if body.startswith("⎣"):
            return rows
    raise AssertionError(f"no complete matrix after {label!r}")


# Layout ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sizes", "bias"), [((2, 2, 2), True), ((3, 2, 4), False), ((3, 2, 4), True), ((8, 7, 9), True)]
)
def test_no_line_is_wider_than_80_columns(sizes: tuple[int, int, int], bias: bool) -> None:
    text = render(derive(*sizes, bias=bias), "text", width=80)
    for line in text.splitlines():
        assert cell_len(line) <= 80, line
        assert len(line) <= 80, line


def test_full_view_of_a_large_layer_still_fits_in_80_columns(large_layer: Derivation) -> None:
    text = render(large_layer, "text", width=80, full=True)
    assert max(cell_len(line) for line in text.splitlines()) <= 80


def test_sections_follow_the_order_of_the_spec(default_text: str) -> None:
    positions = [default_text.index(title) for title in SECTIONS]
    assert positions == sorted(positions)


def test_a_layer_without_bias_has_no_bias_section() -> None:
    text = render(derive(3, 2, 4, bias=False), "text")
    assert "Bias ─" not in text
    titles = ["1. Setup", "2. Forward pass", "3. ∂L/∂Z", "4. ∂L/∂W", "5. The general case"]
    positions = [text.index(title) for title in titles]
    assert positions == sorted(positions)
    assert "6. Summary" in text


def test_plain_output_has_no_escape_codes_and_colour_output_has(default_layer: Derivation) -> None:
    assert "\x1b[" not in render(default_layer, "text")
    assert "\x1b[" in render(default_layer, "text", color=True)


def test_view_renders_in_any_rich_console(default_layer: Derivation) -> None:
    buffer = io.StringIO()
    Console(file=buffer, width=60, color_system=None).print(derivation_view(default_layer))
    lines = buffer.getvalue().splitlines()
    assert lines[0].startswith("1. Setup")
    assert max(cell_len(line) for line in lines) <= 60


# The mathematics on the page ------------------------------------------------------------------


def test_setup_states_the_gradient_layout_convention(default_text: str) -> None:
    flat = " ".join(section(default_text, "Setup").split())
    assert (
        "Gradient (denominator) layout: ∂L/∂X has the shape of X (as in the Matrix Cookbook, "
        "PyTorch and NumPy). Indices are 1-based. g_{i,j} stands for ∂L/∂a_{i,j}, the upstream "
        "gradient G = ∂L/∂A, for any scalar loss L." in flat
    )


def test_bias_is_shown_as_a_row(default_text: str) -> None:
    assert "b = [b₁  b₂]" in section(default_text, "Setup")


def test_forward_pass_writes_every_entry_in_summation_order(default_text: str) -> None:
    forward = section(default_text, "Forward pass")
    assert "a₁,₂ = z₁,₁ w₁,₂ + z₁,₂ w₂,₂" in forward
    assert "a₂,₁ = z₂,₁ w₁,₁ + z₂,₂ w₂,₁" in forward
    bias = section(default_text, "Bias")
    assert "a₂,₂ = z₂,₁ w₁,₂ + z₂,₂ w₂,₂ + b₂" in bias


def test_chain_rule_for_z12_sums_over_row_one_of_g_and_row_two_of_w(
    default_text: str,
) -> None:
    # ∂L/∂z_{1,2} = Σ_j g_{1,j} w_{2,j}, confirmed here by SymPy from L's first-order expansion.
    g = sympy.Matrix(2, 2, lambda i, j: sympy.Symbol(f"g_{i + 1}_{j + 1}"))
    z = sympy.Matrix(2, 2, lambda i, j: sympy.Symbol(f"z_{i + 1}_{j + 1}"))
    w = sympy.Matrix(2, 2, lambda i, j: sympy.Symbol(f"w_{i + 1}_{j + 1}"))
    linearised_loss = sum(g[p, q] * (z * w)[p, q] for p in range(2) for q in range(2))
    expected = sum(g[0, j] * w[1, j] for j in range(2))
    assert sympy.expand(sympy.diff(linearised_loss, z[0, 1]) - expected) == 0

    lines = [line for line in default_text.splitlines() if "∂L/∂z₁,₂ =" in line]
    assert len(lines) == 1
    assert lines[0].split("∂L/∂z₁,₂ = ")[1] == "g₁,₁ w₂,₁ + g₁,₂ w₂,₂"
    assert "z₁,₂ feeds a₁,₁, a₁,₂:" in lines[0]


def test_assembled_gradient_of_z_puts_each_sum_in_its_own_place(default_text: str) -> None:
    # Entry (i,r) of ∂L/∂Z is Σ_j g_{i,j} w_{r,j}; the seed notes misplaced (1,2), (2,1), (2,2).
    cells = matrix_after(section(default_text, "∂L/∂Z"), "∂L/∂Z = ")
    assert cells == [
        ["g₁,₁ w₁,₁ + g₁,₂ w₁,₂", "g₁,₁ w₂,₁ + g₁,₂ w₂,₂"],
        ["g₂,₁ w₁,₁ + g₂,₂ w₁,₂", "g₂,₁ w₂,₁ + g₂,₂ w₂,₂"],
    ]


def test_assembled_gradient_of_w_equals_zt_g_not_its_transpose(default_text: str) -> None:
    # Entry (r,j) of ∂L/∂W is Σ_i z_{i,r} g_{i,j}; the seed notes had (1,2) and (2,1) swapped.
    cells = matrix_after(section(default_text, "∂L/∂W"), "∂L/∂W = ")
    assert cells[0][1] == "g₁,₂ z₁,₁ + g₂,₂ z₂,₁"
    assert cells[1][0] == "g₁,₁ z₁,₂ + g₂,₁ z₂,₂"


def test_products_are_multiplied_out_in_product_order(default_text: str) -> None:
    z_section = section(default_text, "∂L/∂Z")
    assert "g₁,₁ w₁,₁ + g₁,₂ w₁,₂" in z_section.split("G Wᵀ =")[1]
    w_products = section(default_text, "∂L/∂W").split("Zᵀ G =")[1]
    assert "z₁,₁ g₁,₁ + z₂,₁ g₂,₁" in w_products


def test_bias_gradient_is_the_column_sums_of_g(default_text: str) -> None:
    bias = section(default_text, "Bias")
    assert "∂L/∂b₁ = g₁,₁ + g₂,₁" in bias
    assert "∂L/∂b = [g₁,₁ + g₂,₁   g₁,₂ + g₂,₂]" in bias
    assert "1ᵀ G = [1  1]" in bias


def test_general_case_is_labelled_as_textbook_reasoning(default_text: str) -> None:
    general = section(default_text, "The general case")
    assert "why it holds at every size" in general
    assert "not machine-checked" in general
    assert "Σ_i z_{i,r} g_{i,j}" in general
    assert "4th-order tensor" in general
    assert "Verified" not in general


def test_summary_says_every_check_holds(default_layer: Derivation, default_text: str) -> None:
    summary = section(default_text, "Summary")
    rows = [line for line in summary.splitlines() if line.startswith("∂L/∂")]
    assert len(rows) == len(default_layer.checks) == 7
    for row, check in zip(rows, default_layer.checks, strict=True):
        assert row.startswith(check.identity)
        assert ("with bias" if check.bias else "no bias") in row
        assert f"{check.shape[0]}×{check.shape[1]}" in row
        assert f"✓ holds, {check.entries_checked}/{check.entries_checked} entries" in row
    assert "✗" not in summary


# Elision and indices --------------------------------------------------------------------------


def test_large_layers_are_elided_and_full_shows_everything(large_layer: Derivation) -> None:
    elided = render(large_layer, "text")
    for marker in ELISION_MARKERS:
        assert marker in elided
    assert "52 more not shown; all 56 were verified" in elided
    assert "z₁,₄" not in section(elided, "Setup")

    full = render(large_layer, "text", full=True)
    for marker in ELISION_MARKERS:
        assert marker not in full
    assert "z₁,₄" in section(full, "Setup")
    assert "∂L/∂z₅,₄ = " in full


def test_long_sums_show_their_first_two_terms_and_the_last(large_layer: Derivation) -> None:
    text = render(large_layer, "text")
    assert "a₁,₁ = z₁,₁ w₁,₁ + z₁,₂ w₂,₁ + ⋯ + z₁,₇ w₇,₁" in text


def test_indices_past_nine_keep_their_comma() -> None:
    text = render(derive(11, 11, 1, bias=False), "text")
    setup = section(text, "Setup")
    assert "z₁,₁₁" in setup
    assert "z₁₁,₁" in setup
    assert pretty_symbol("z_1_11") == "z₁,₁₁"
    assert pretty_symbol("z_11_1") == "z₁₁,₁"
    assert pretty_symbol("z_1_11") != pretty_symbol("z_11_1")


# Notation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown"),
    [("z_1_11", "z₁,₁₁"), ("w_2_3", "w₂,₃"), ("b_4", "b₄"), ("dA_1_2", "g₁,₂"), ("x", "x")],
)
def test_symbols_are_shown_with_subscripts_and_a_comma(name: str, shown: str) -> None:
    assert pretty_symbol(name) == shown


def test_expressions_are_written_in_the_documents_notation() -> None:
    z, w, g = sympy.symbols("z_1_2 w_2_1 dA_1_1")
    assert pretty_expr(1) == "1"
    assert pretty_expr(w * z) == "z₁,₂ w₂,₁"
    assert pretty_expr(g * w) == "g₁,₁ w₂,₁"
    assert pretty_expr(g * z) == "z₁,₂ g₁,₁"
    assert pretty_expr(2 * w * (z + g)) == "2 w₂,₁ (g₁,₁ + z₁,₂)"
    assert pretty_expr(-w * z) == "−z₁,₂ w₂,₁"
    assert pretty_expr(z - w) == "−w₂,₁ + z₁,₂"
    assert pretty_expr(z**2) == "z₁,₂²"
    engine = get_engine("symengine")
    assert pretty_expr(engine.symbol("z_1_2") * engine.symbol("w_2_1")) == "z₁,₂ w₂,₁"


# Honesty about failures -----------------------------------------------------------------------


def broken(derivation: Derivation, check: Check) -> Derivation:
    """The derivation with its first plain check (∂L/∂Z) replaced by ``check``."""
    plain = dataclasses.replace(derivation.plain, checks=(check, *derivation.plain.checks[1:]))
    return dataclasses.replace(derivation, plain=plain)


def test_a_failing_check_is_reported_as_a_failure_not_as_holding() -> None:
    derivation = derive(2, 2, 2, bias=False)
    engine = get_engine(derivation.engine)
    # ∂L/∂A · W instead of ∂L/∂A · Wᵀ: the same shape when k == n, but wrong.
    wrong_form = matmul(
        upstream_form(derivation.sizes),
        engine.matrix(derivation.symbols.weights),
        engine,
        "∂L/∂A · W",
    )
    failing = compare(
        derivation.plain.gradients["Z"], wrong_form, False, derivation.symbols, engine
    )
    assert not failing.holds
    text = render(broken(derivation, failing), "text")

    z_section = section(text, "∂L/∂Z")
    assert "✗ FAILS: ∂L/∂Z = ∂L/∂A · W does not hold" in " ".join(z_section.split())
    assert "Verified" not in z_section
    assert "entry (1,2):" in z_section
    assert "chain rule = g₁,₁ w₂,₁ + g₁,₂ w₂,₂" in z_section
    assert "formula    = g₁,₁ w₁,₂ + g₁,₂ w₂,₂" in z_section

    summary = section(text, "Summary")
    row = next(line for line in summary.splitlines() if line.startswith("∂L/∂Z"))
    assert "✗ fails at 4/4 entries" in row
    assert "holds" not in row
    assert "1 of the 2 checks fails" in summary
    assert "Verified" in section(text, "∂L/∂W")


def test_a_check_with_the_wrong_shape_is_reported_as_a_failure() -> None:
    derivation = derive(3, 2, 4, bias=False)
    wrong_shape = Check("Z", "∂L/∂A · W", False, (3, 2), (3, 4), False, 0)
    text = render(broken(derivation, wrong_shape), "text")
    flat = " ".join(section(text, "∂L/∂Z").split())
    assert "✗ FAILS: ∂L/∂Z = ∂L/∂A · W does not hold: the right side is 3×4" in flat
    assert "✗ fails: shape 3×4, not 3×2" in section(text, "Summary")
    assert "Verified" not in section(text, "∂L/∂Z")


def test_elided_listing_does_not_claim_verification_when_the_check_fails(
    large_layer: Derivation,
) -> None:
    failing = dataclasses.replace(large_layer.plain.checks[0], holds=False)
    text = render(broken(large_layer, failing), "text")
    z_section = section(text, "∂L/∂Z")
    assert "52 more not shown; see the check below" in z_section
    assert "verified" not in z_section.lower()
