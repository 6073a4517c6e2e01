"""Concrete losses with samples as columns (A = WX + b1ᵀ), against an independent reference.

The reference builds X, W, b and Y here with SymPy, writes L of each sample (a column of A) by
hand and differentiates it with ``sympy.diff``: nothing of matgrad's derivation is reused. Wrong
backward rules of the right shape must be rejected.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
import sympy

from matgrad_cli.core.derive import derive
from matgrad_cli.core.layer import Sizes, Variable
from matgrad_cli.core.losses import closed_form_shown, derive_loss, loss_named

M, K, N = 2, 3, 4


def _reference(loss: str) -> tuple[Any, dict[Variable, Any]]:
    """L with samples as columns, and the matrices it is a function of."""
    x = sympy.Matrix(K, M, lambda r, i: sympy.Symbol(f"x_{r + 1}_{i + 1}"))
    w = sympy.Matrix(N, K, lambda j, r: sympy.Symbol(f"w_{j + 1}_{r + 1}"))
    b = sympy.Matrix(N, 1, lambda j, _: sympy.Symbol(f"b_{j + 1}"))
    y = sympy.Matrix(N, M, lambda j, i: sympy.Symbol(f"y_{j + 1}_{i + 1}"))
    a = w * x + b * sympy.ones(1, M)
    cells = [(j, i) for i in range(M) for j in range(N)]
    if loss == "sum":
        value = sum(a[j, i] for j, i in cells)
    elif loss == "squared-error":
        value = sympy.Rational(1, 2) * sum((a[j, i] - y[j, i]) ** 2 for j, i in cells)
    else:  # the softmax of each column, each column one sample
        log_sums = [sympy.log(sum(sympy.exp(a[q, i]) for q in range(N))) for i in range(M)]
        value = -sum(y[j, i] * (a[j, i] - log_sums[i]) for j, i in cells)
    return value, {"X": x, "W": w, "b": b}


@pytest.mark.parametrize("loss", ["sum", "squared-error", "softmax-cross-entropy"])
def test_every_gradient_matches_an_independent_derivative(loss: str) -> None:
    derivation = derive(M, K, N, samples="columns", loss=loss)
    assert derivation.verified
    assert derivation.loss is not None
    value, matrices = _reference(loss)
    rng = random.Random(5)
    at = {symbol: sympy.Rational(rng.randint(-9, 9), 7) for symbol in value.free_symbols}
    for name, matrix in matrices.items():
        found = derivation.loss.elementwise[name]
        assert found.shape == matrix.shape
        for r in range(matrix.rows):
            for c in range(matrix.cols):
                expected = sympy.diff(value, matrix[r, c]).subs(at)
                difference = (found[r, c].subs(at) - expected).evalf(40)
                assert abs(difference) < sympy.Float("1e-30"), (name, r, c)


def test_the_softmax_is_taken_along_each_column() -> None:
    derivation = derive(2, 2, 3, samples="columns", loss="softmax-cross-entropy")
    assert derivation.loss is not None
    closed = derivation.loss.closed_form
    assert closed.shape == (3, 2)  # n×m, the shape of A
    a = sympy.Matrix(3, 2, lambda j, i: sympy.Symbol(f"a_{j + 1}_{i + 1}"))
    column = sum(sympy.exp(a[q, 0]) for q in range(3))
    assert sympy.simplify(closed[1, 0] - sympy.exp(a[1, 0]) / column) == -sympy.Symbol("y_2_1")
    shown = closed_form_shown(derivation.loss)
    assert shown[1, 0] == sympy.Symbol("sigma_2_1") - sympy.Symbol("y_2_1")
    assert "column" in derivation.loss.definition.closed_form_text
    assert derivation.loss.condition == "for columns of Y that sum to 1"


@pytest.mark.parametrize("loss", ["squared-error", "softmax-cross-entropy"])
def test_rules_of_the_rows_convention_are_rejected(loss: str) -> None:
    sizes = Sizes(3, 3, 3, "columns")  # square, so that every wrong form below has a right shape
    wrong = derive_loss(
        loss,
        sizes,
        True,
        forms={
            "X": lambda g, x, w: w * g,  # Wᵀ forgotten
            "W": lambda g, x, w: g * x,  # Xᵀ forgotten
            "b": lambda g, x, w: g.T * sympy.ones(3, 1),  # summed over the wrong axis
        },
    )
    assert [check.holds for check in wrong.checks] == [False, False, False]
    right = derive_loss(
        loss,
        sizes,
        True,
        forms={
            "X": lambda g, x, w: w.T * g,
            "W": lambda g, x, w: g * x.T,
            "b": lambda g, x, w: g * sympy.ones(3, 1),
        },
    )
    assert all(check.holds for check in right.checks)


def test_the_losses_are_written_in_the_convention() -> None:
    rows, columns = loss_named("squared-error"), loss_named("squared-error", "columns")
    assert rows.name == columns.name
    assert "a_{i,j}" in rows.definition_latex  # type: ignore[attr-defined]
    assert "a_{j,i}" in columns.definition_latex  # type: ignore[attr-defined]
