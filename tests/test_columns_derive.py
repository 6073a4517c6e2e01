"""derive with samples as columns (A = WX + b1ᵀ): verified, written in that convention in every
format, and able to fail: the rows convention's rules, wrong by a transpose, are rejected.

The reference here is independent of matgrad's derivation: SymPy builds X, W, b and G, writes
L = Σ g_{j,i} a_{j,i} (so that ∂L/∂A = G) and differentiates it with ``sympy.diff``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sympy

from matgrad_cli import derive
from matgrad_cli.core.engine import Engine
from matgrad_cli.core.layer import Sizes, Variable
from matgrad_cli.core.matrix import ConstantMatrix, matmul, matrix_forms, transpose, upstream_form
from matgrad_cli.core.model import MatrixForm, Symbols
from matgrad_cli.errors import ArgumentError
from matgrad_cli.present import render

from .conftest import run_cli

FORMATS = ("text", "latex", "markdown", "json", "html", "beamer")


def _reference(m: int, k: int, n: int) -> tuple[Any, dict[str, Any]]:
    """L = Σ g_{j,i} a_{j,i} for A = WX + b1ᵀ, and the matrices it is a function of."""
    x = sympy.Matrix(k, m, lambda r, i: sympy.Symbol(f"x_{r + 1}_{i + 1}"))
    w = sympy.Matrix(n, k, lambda j, r: sympy.Symbol(f"w_{j + 1}_{r + 1}"))
    b = sympy.Matrix(n, 1, lambda j, _: sympy.Symbol(f"b_{j + 1}"))
    g = sympy.Matrix(n, m, lambda j, i: sympy.Symbol(f"dA_{j + 1}_{i + 1}"))
    a = w * x + b * sympy.ones(1, m)
    value = sum(g[j, i] * a[j, i] for j in range(n) for i in range(m))
    return value, {"X": x, "W": w, "b": b}


@pytest.mark.parametrize("size", [(2, 3, 4), (3, 2, 1), (1, 1, 1)])
def test_the_json_gradients_are_the_derivatives_of_an_independent_reference(
    size: tuple[int, int, int],
) -> None:
    derivation = derive(*size, samples="columns")
    assert derivation.verified
    data = json.loads(render(derivation, "json"))
    assert data["samples"] == "columns"
    assert set(data["conventions"]["variables"]) == {"x_r_i", "w_j_r", "b_j", "dA_j_i"}
    value, matrices = _reference(*size)
    names = {symbol.name: symbol for symbol in value.free_symbols}
    for name, matrix in matrices.items():
        written = data["gradients"][name]
        assert [len(written), len(written[0])] == list(matrix.shape)
        for r in range(matrix.rows):
            for c in range(matrix.cols):
                # The test parses matgrad's own output, never user text.
                parsed = sympy.sympify(written[r][c], locals=names)
                assert sympy.expand(parsed - sympy.diff(value, matrix[r, c])) == 0, (name, r, c)


def test_the_gradients_have_the_shapes_of_the_columns_convention() -> None:
    derivation = derive(2, 3, 4, samples="columns")
    assert derivation.sizes == Sizes(2, 3, 4, "columns")
    biased = derivation.biased
    assert biased is not None
    shapes = {name: gradient.shape for name, gradient in biased.gradients.items()}
    assert shapes == {"X": (3, 2), "W": (4, 3), "b": (4, 1)}
    assert [check.identity for check in biased.checks[:3]] == [
        "∂L/∂X = Wᵀ · ∂L/∂A",
        "∂L/∂W = ∂L/∂A · Xᵀ",
        "∂L/∂b = ∂L/∂A · 1",
    ]
    assert all(check.holds for check in derivation.checks)


def test_the_default_stays_rows() -> None:
    derivation = derive(2, 3, 4)
    assert derivation.sizes.samples == "rows"
    assert set(derivation.plain.gradients) == {"Z", "W"}
    data = json.loads(render(derivation, "json"))
    assert "samples" not in data
    assert "z_i_j" in data["conventions"]["variables"]


def test_the_command_line_default_stays_rows(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["derive", "-m", "2", "-k", "3", "-n", "4", "-f", "text"], capsys)
    assert code == 0
    assert "∂L/∂Z = ∂L/∂A · Wᵀ" in out
    assert "x₁" not in out


@pytest.mark.parametrize("samples", ["diagonal", "Columns", "", None, 1])
def test_an_unknown_convention_is_an_argument_error(samples: object) -> None:
    with pytest.raises(ArgumentError, match="samples must be 'rows' or 'columns'"):
        derive(2, 2, 2, samples=samples)  # type: ignore[arg-type]


def test_an_unknown_convention_on_the_command_line_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.tex"
    code, out, err = run_cli(["derive", "--samples", "diagonal", "-o", str(target)], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("matgrad: error: ")
    assert "'diagonal' is not one of 'rows', 'columns'" in err
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("output_format", FORMATS)
def test_every_format_is_written_in_the_columns_convention(output_format: str) -> None:
    """No name of the rows convention is left in any format, and the layer is stated."""
    text = render(derive(2, 3, 4, samples="columns"), output_format)
    for rows_only in ("Z", "z_", "z₁", "zᵀ"):
        assert rows_only not in text, rows_only
    stated = {
        "text": "A = WX + b1ₘᵀ",
        "latex": r"A = WX + b \mathbf{1}_m^\top",
        "markdown": r"A = WX + b \mathbf{1}_m^\top",
        "json": '"samples": "columns"',
        "html": "<mi>X</mi>",
        "beamer": r"A = WX + b \mathbf{1}_m^\top",
    }[output_format]
    assert stated in text


def test_the_text_view_says_where_the_bias_goes_and_fits_80_columns() -> None:
    text = render(derive(2, 3, 4, samples="columns"), "text")
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "b is a 4×1 column vector" in text
    assert "∂L/∂b_j = Σ_i g_{j,i}, the row sums of G" in text
    assert "∂L/∂X and ∂L/∂W are unchanged by the bias" in text
    assert "a_{j,i} = Σ_r w_{j,r} x_{r,i} + b_j" in text
    assert "(G Xᵀ)_{j,r}" in text
    assert "(Wᵀ G)_{r,i}" in text


def _wrong_forms(
    symbols: Symbols, sizes: Sizes, bias: bool, engine: Engine
) -> dict[Variable, MatrixForm]:
    """The rows convention's slips in columns: W·G for Wᵀ·G, G·X for G·Xᵀ, Gᵀ·1 (the column
    sums, as with samples as rows) for G·1; each of the right shape at square sizes."""
    weights = ConstantMatrix(symbols.rows("W"))
    inputs = ConstantMatrix(symbols.rows("X"))
    upstream = upstream_form(sizes)
    ones = ConstantMatrix([[1] for _ in range(sizes.n)])
    return {
        "X": matmul(weights, upstream, engine, "W·G"),
        "W": matmul(upstream, inputs, engine, "G·X"),
        "b": matmul(transpose(upstream), ones, engine, "Gᵀ·1"),
    }


def test_forms_wrong_by_a_transpose_are_rejected_in_every_format() -> None:
    derivation = derive(3, 3, 3, samples="columns", forms=_wrong_forms)
    assert not derivation.verified
    biased = derivation.biased
    assert biased is not None
    by_variable = {check.variable: check for check in biased.checks if check.rule is None}
    # Every entry differs: each wrong entry pairs the indices the other way round.
    wrong: tuple[tuple[Variable, int], ...] = (("X", 9), ("W", 9), ("b", 3))
    for name, entries in wrong:
        check = by_variable[name]
        assert not check.holds
        assert check.claimed_shape == check.shape
        assert check.mismatch_count == entries
        assert check.mismatches
    # The bias leaves the elementwise gradients unchanged whatever the forms: those still hold.
    assert all(check.holds for check in biased.checks if check.unchanged_by_bias)
    text = render(derivation, "text")
    assert "✗ FAILS: ∂L/∂X = W·G does not hold: the two sides differ at 9 of 9 entries." in text
    assert "✗ FAILS: ∂L/∂W = G·X does not hold" in text
    assert "✗ FAILS: ∂L/∂b = Gᵀ·1 does not hold" in text
    assert text.endswith("✗ 5 of the 7 checks fail.\n")
    latex = render(derivation, "latex")
    assert "NOT verified" in latex
    assert json.loads(render(derivation, "json"))["verified"] is False


def test_the_right_forms_through_the_same_hook_hold() -> None:
    """The hook itself is sound: the columns rules built the same way are verified."""

    def right(
        symbols: Symbols, sizes: Sizes, bias: bool, engine: Engine
    ) -> dict[Variable, MatrixForm]:
        weights = ConstantMatrix(symbols.rows("W"))
        inputs = ConstantMatrix(symbols.rows("X"))
        upstream = upstream_form(sizes)
        ones = ConstantMatrix([[1] for _ in range(sizes.m)])
        return {
            "X": matmul(weights.T, upstream, engine, "Wᵀ·G"),
            "W": matmul(upstream, inputs.T, engine, "G·Xᵀ"),
            "b": matmul(upstream, ones, engine, "G·1"),
        }

    assert derive(3, 3, 3, samples="columns", forms=right).verified
    assert derive(2, 3, 4, samples="columns", forms=matrix_forms).verified


def test_sections_name_the_input_after_the_convention(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["derive", "--samples", "columns", "--sections", "X,summary", "-f", "text"]
    code, out, _ = run_cli(args, capsys)
    assert code == 0
    assert out.startswith("1. ∂L/∂X ")
    code, out, err = run_cli(["derive", "--sections", "X"], capsys)
    assert code == 2
    assert "unknown section 'X'" in err
    assert out == ""
