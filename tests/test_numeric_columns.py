"""Samples as columns, A = WX + b1ᵀ: the numeric check and the derivation against references of
their own.

Every reference here rebuilds the layer from scratch, entry by entry, in Python integers,
fractions or 40-digit mpmath numbers: a_{j,i} = Σ_r w_{j,r} x_{r,i} + b_j, with no matrix
product, no transpose and nothing from matgrad's numeric code. Partial derivatives come from
finite differences of the loss itself (exact where the loss is linear or quadratic in the entry,
mpmath's numerical differentiation for the softmax). Each test also shows that a deliberately
wrong form, of the right shape, is rejected.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import mpmath  # type: ignore[import-untyped]
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from matgrad_cli.core.derive import derive
from matgrad_cli.core.engine import get_engine
from matgrad_cli.core.layer import Variable
from matgrad_cli.core.model import Derivation
from matgrad_cli.core.numeric import NumericCheck, NumericResult, numeric_verify
from matgrad_cli.core.numeric_losses import NUMERIC_LOSSES
from matgrad_cli.core.numeric_model import ENTRY_RANGE, Matrix
from matgrad_cli.errors import ArgumentError
from matgrad_cli.present.json import numeric_data
from matgrad_cli.present.numeric_text import render_numeric_text

Rows = list[list[Any]]
Form = Callable[[Matrix, Matrix, Matrix], Any]


def _check(result: NumericResult, variable: str) -> NumericCheck:
    return next(check for check in result.checks if check.variable == variable)


def _integers(matrix: Matrix) -> Rows:
    return [[int(value) for value in row] for row in matrix]


# --- The layer from scratch ---------------------------------------------------------------------


def _outputs(x: Rows, w: Rows, b: Sequence[Any]) -> Rows:
    """a_{j,i} = Σ_r w_{j,r} x_{r,i} + b_j, written out: A is n×m, one column per sample."""
    k, m, n = len(x), len(x[0]), len(w)
    return [[sum(w[j][r] * x[r][i] for r in range(k)) + b[j] for i in range(m)] for j in range(n)]


def _generic_loss(x: Rows, w: Rows, b: Sequence[Any], g: Rows) -> Any:
    """L = Σ_{j,i} g_{j,i} a_{j,i}, whose ∂L/∂A is G."""
    a = _outputs(x, w, b)
    return sum(g[j][i] * a[j][i] for j in range(len(a)) for i in range(len(a[0])))


def _moved(matrix: Rows, row: int, col: int, by: Any) -> Rows:
    """A copy of ``matrix`` with entry (row, col) increased by ``by``."""
    copy = [list(line) for line in matrix]
    copy[row][col] += by
    return copy


def _generic_differences(x: Rows, w: Rows, g: Rows) -> dict[str, Rows]:
    """L(V + E) − L(V) for every entry of X, W and b: exact partials, as L is linear in each.

    The bias is 0 here: it adds a constant to L, which every difference cancels.
    """
    n = len(w)
    zero = [0] * n
    base = _generic_loss(x, w, zero, g)
    dx = [
        [_generic_loss(_moved(x, r, i, 1), w, zero, g) - base for i in range(len(x[0]))]
        for r in range(len(x))
    ]
    dw = [
        [_generic_loss(x, _moved(w, j, r, 1), zero, g) - base for r in range(len(w[0]))]
        for j in range(n)
    ]
    db = [[_generic_loss(x, w, [int(j == c) for c in range(n)], g) - base] for j in range(n)]
    return {"X": dx, "W": dw, "b": db}


def _difference_form(variable: str) -> Form:
    """A matrix form that is no formula at all: the finite differences of L at the X, W and G the
    check hands it, in Python integers."""

    def form(x: Matrix, w: Matrix, g: Matrix) -> Matrix:
        values = _generic_differences(_integers(x), _integers(w), _integers(g))[variable]
        return np.array(values, dtype=np.float64)

    return form


# --- The generic loss: exact integers ------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 7), st.booleans(), st.integers(0, 999))
def test_the_columns_rules_hold_at_any_sizes_and_seed(
    m: int, k: int, n: int, bias: bool, seed: int
) -> None:
    result = numeric_verify(m, k, n, bias=bias, seed=seed, samples="columns")
    assert result.verified
    assert result.sizes.samples == "columns"
    shapes = [(check.variable, check.shape) for check in result.checks]
    assert shapes == [("X", (k, m)), ("W", (n, k)), ("b", (n, 1))][: 3 if bias else 2]
    assert [check.formula for check in result.checks][:2] == ["Wᵀ · ∂L/∂A", "∂L/∂A · Xᵀ"]


def test_finite_differences_through_the_columns_layer_pass_as_the_forms() -> None:
    """Forms computed by finite differences of L through a_{j,i} = Σ_r w_{j,r} x_{r,i} + b_j,
    in Python integers, are accepted entry by entry: the check and the layer written out agree."""
    forms: dict[Variable, Form] = {name: _difference_form(name) for name in ("X", "W", "b")}
    result = numeric_verify(4, 3, 5, seed=2, samples="columns", forms=forms)
    assert result.verified
    assert all(check.every_entry for check in result.checks)


def test_the_elementwise_values_are_the_finite_differences() -> None:
    """For a form wrong at every entry, each reported elementwise value is the Python-integer
    finite difference of L at that entry of X (k×m), of W (n×k) and of b (n×1)."""
    seen: dict[str, Matrix] = {}

    def everything_off(shape: tuple[int, int]) -> Form:
        def form(x: Matrix, w: Matrix, g: Matrix) -> Matrix:
            seen.update(x=x, w=w, g=g)
            return np.full(shape, 10**6, dtype=np.float64)

        return form

    m, k, n = 4, 3, 5
    forms: dict[Variable, Form] = {
        "X": everything_off((k, m)),
        "W": everything_off((n, k)),
        "b": everything_off((n, 1)),
    }
    result = numeric_verify(m, k, n, seed=7, samples="columns", forms=forms)
    assert (seen["x"].shape, seen["w"].shape, seen["g"].shape) == ((k, m), (n, k), (n, m))
    reference = _generic_differences(
        _integers(seen["x"]), _integers(seen["w"]), _integers(seen["g"])
    )
    for variable, count in (("X", k * m), ("W", n * k), ("b", n)):
        check = _check(result, variable)
        assert not check.holds
        assert check.mismatch_count == count
        for mismatch in check.mismatches:
            row, col = mismatch.index
            assert mismatch.elementwise == reference[variable][row - 1][col - 1]
            assert mismatch.claimed == 10**6


#: Forms of the right shape at m = k = n that are wrong: the classic slips of a columns course
#: (a missing transpose, the rows answer, numerator layout).
WRONG_FORMS: dict[str, tuple[Variable, Form]] = {
    "∂L/∂X = W·G": ("X", lambda x, w, g: w @ g),
    "∂L/∂X = G·Wᵀ (the rows answer)": ("X", lambda x, w, g: g @ w.T),
    "∂L/∂X = (Wᵀ·G)ᵀ": ("X", lambda x, w, g: (w.T @ g).T),
    "∂L/∂W = X·Gᵀ (numerator layout)": ("W", lambda x, w, g: x @ g.T),
    "∂L/∂W = G·X": ("W", lambda x, w, g: g @ x),
    "∂L/∂W = Xᵀ·G (the rows answer)": ("W", lambda x, w, g: x.T @ g),
    "∂L/∂b = Gᵀ·1 (the column sums)": ("b", lambda x, w, g: g.sum(axis=0)),
}


@pytest.mark.parametrize("name", sorted(WRONG_FORMS))
def test_wrong_forms_of_the_right_shape_are_rejected(name: str) -> None:
    variable, form = WRONG_FORMS[name]
    result = numeric_verify(6, 6, 6, seed=4, samples="columns", forms={variable: form})
    check = _check(result, variable)
    assert check.claimed_shape == check.shape
    assert not check.holds
    assert check.mismatch_count > check.entries // 2
    assert not result.verified
    assert all(other.holds for other in result.checks if other.variable != variable)


def test_numerator_layout_is_refused_for_its_shape() -> None:
    """The gradients in numerator layout, Gᵀ·W and X·Gᵀ (the shapes of Xᵀ and Wᵀ), at a layer
    that is not square: refused for their shapes."""
    result = numeric_verify(
        2,
        3,
        4,
        samples="columns",
        forms={"X": lambda x, w, g: g.T @ w, "W": lambda x, w, g: x @ g.T},
    )
    assert [(check.shape, check.claimed_shape) for check in result.checks[:2]] == [
        ((3, 2), (2, 3)),
        ((4, 3), (3, 4)),
    ]
    assert not result.verified


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_directions_alone_find_one_wrong_entry_in_columns(data: st.DataObject) -> None:
    """With no difference quotient at all, the directions split by sample (columns of X) and by
    output (rows of W) still find one wrong entry and locate it."""
    m, k, n = (data.draw(st.integers(1, 10)) for _ in range(3))
    variable: Variable = data.draw(st.sampled_from(("X", "W")))
    rows, cols = (k, m) if variable == "X" else (n, k)
    row, col = data.draw(st.integers(0, rows - 1)), data.draw(st.integers(0, cols - 1))

    def off_by_one(x: Matrix, w: Matrix, g: Matrix) -> Matrix:
        value = np.array(w.T @ g if variable == "X" else g @ x.T, dtype=np.float64)
        value[row, col] += 1
        return value

    result = numeric_verify(
        m,
        k,
        n,
        seed=data.draw(st.integers(0, 1000)),
        samples="columns",
        forms={variable: off_by_one},
        full=False,
        sample_size=0,
        directions=1,
    )
    check = _check(result, variable)
    assert check.entries_by_difference == 0
    assert check.failed_directions == 1
    assert [mismatch.index for mismatch in check.mismatches] == [(row + 1, col + 1)]


def test_one_wrong_entry_is_found_among_sampled_entries_at_512() -> None:
    """Above the every-entry budget the directions still catch a single entry off by one."""

    def off_by_one(x: Matrix, w: Matrix, g: Matrix) -> Matrix:
        value = g @ x.T
        value[300, 17] += 1
        return value

    result = numeric_verify(512, 512, 512, seed=3, samples="columns", forms={"W": off_by_one})
    check = _check(result, "W")
    assert not check.every_entry
    assert check.failed_directions == check.directions
    assert [mismatch.index for mismatch in check.mismatches] == [(301, 18)]
    assert _check(result, "X").holds
    assert _check(result, "b").holds


def test_the_same_seed_draws_the_transposed_layer() -> None:
    """A seed names one draw: the columns layer is the transpose of the rows layer it draws."""
    seen: dict[str, list[Matrix]] = {"rows": [], "columns": []}

    def spy(samples: str) -> Form:
        def form(x: Matrix, w: Matrix, g: Matrix) -> Matrix:
            seen[samples] = [x, w, g]
            return np.zeros((1, 1))

        return form

    numeric_verify(3, 4, 5, seed=8, forms={"Z": spy("rows")})
    numeric_verify(3, 4, 5, seed=8, samples="columns", forms={"X": spy("columns")})
    for row_matrix, column_matrix in zip(seen["rows"], seen["columns"], strict=True):
        assert (column_matrix == row_matrix.T).all()


# --- The concrete losses ----------------------------------------------------------------------


def _concrete_draw(
    loss: str, m: int, k: int, n: int, seed: int
) -> tuple[Rows, Rows, list[int], Rows]:
    """The draw numeric_verify makes under ``loss`` with samples as columns: X, W, b, Y, each the
    transpose of the rows draw (Z m×k, W k×n, b 1×n, then the targets m×n)."""
    rng = np.random.default_rng(seed)
    spread = NUMERIC_LOSSES[loss].entry_range
    z = rng.integers(-spread, spread + 1, (m, k), dtype=np.int8)
    w = rng.integers(-spread, spread + 1, (k, n), dtype=np.int8)
    b = rng.integers(-spread, spread + 1, (1, n), dtype=np.int8)
    if loss == "squared-error":
        y = rng.integers(-ENTRY_RANGE, ENTRY_RANGE + 1, (m, n), dtype=np.int8)
    else:
        y = np.zeros((m, n), dtype=np.int8)
        y[np.arange(m), rng.integers(0, n, m)] = 1
    return z.T.tolist(), w.T.tolist(), [int(v) for v in b[0]], y.T.tolist()


def _squared_error(x: Rows, w: Rows, b: Sequence[Any], y: Rows) -> Any:
    """½ Σ_{j,i} (a_{j,i} − y_{j,i})²."""
    a = _outputs(x, w, b)
    total = sum((a[j][i] - y[j][i]) ** 2 for j in range(len(a)) for i in range(len(a[0])))
    return Fraction(total, 2)


def _central_differences(
    loss: Callable[[Rows, Rows, list[Any]], Any], x: Rows, w: Rows, b: list[Any]
) -> dict[str, Rows]:
    """(L(V + E) − L(V − E)) / 2 at every entry of X, W and b: exact for a quadratic L."""

    def difference(plus: Any, minus: Any) -> Any:
        return (plus - minus) / 2

    dx = [
        [
            difference(loss(_moved(x, r, i, 1), w, b), loss(_moved(x, r, i, -1), w, b))
            for i in range(len(x[0]))
        ]
        for r in range(len(x))
    ]
    dw = [
        [
            difference(loss(x, _moved(w, j, r, 1), b), loss(x, _moved(w, j, r, -1), b))
            for r in range(len(w[0]))
        ]
        for j in range(len(w))
    ]
    db = [
        [
            difference(
                loss(x, w, [v + (c == j) for c, v in enumerate(b)]),
                loss(x, w, [v - (c == j) for c, v in enumerate(b)]),
            )
        ]
        for j in range(len(b))
    ]
    return {"X": dx, "W": dw, "b": db}


def test_the_squared_error_gradients_are_the_exact_central_differences() -> None:
    m, k, n, seed = 4, 3, 5, 6
    x, w, b, y = _concrete_draw("squared-error", m, k, n, seed)
    reference = _central_differences(lambda xx, ww, bb: _squared_error(xx, ww, bb, y), x, w, b)
    forms: dict[Variable, Form] = {
        name: (lambda *_, name=name: np.array(reference[name], dtype=np.float64))
        for name in ("X", "W", "b")
    }
    result = numeric_verify(
        m, k, n, seed=seed, loss="squared-error", samples="columns", forms=forms
    )
    assert result.verified
    assert result.closed_form is not None
    assert result.closed_form.shape == (n, m)
    # One entry of ∂L/∂W moved by one: found there, and only there.
    moved = np.array(reference["W"], dtype=np.float64)
    moved[4, 2] += 1
    result = numeric_verify(
        m, k, n, seed=seed, loss="squared-error", samples="columns", forms={"W": lambda *_: moved}
    )
    check = _check(result, "W")
    assert [mismatch.index for mismatch in check.mismatches] == [(5, 3)]


def _softmax_input_gradient(x: Rows, w: Rows, b: list[int], y: Rows) -> Matrix:
    """∂L/∂X at 40 digits by mpmath's numerical differentiation of L itself, the softmax taken
    over each column of A (each sample): L = −Σ_i Σ_j y_{j,i} (a_{j,i} − log Σ_q e^{a_{q,i}})."""
    k, m, n = len(x), len(x[0]), len(w)
    gradient = np.zeros((k, m))
    with mpmath.workdps(40):
        for r in range(k):
            for i in range(m):

                def loss_of(t: Any, r: int = r, i: int = i) -> Any:
                    moved = _moved(x, r, i, t)
                    total = mpmath.mpf(0)
                    for sample in range(m):
                        column = [
                            mpmath.fsum(w[j][s] * moved[s][sample] for s in range(k)) + b[j]
                            for j in range(n)
                        ]
                        log_sum = mpmath.log(mpmath.fsum(mpmath.exp(a) for a in column))
                        total -= mpmath.fsum(y[j][sample] * (column[j] - log_sum) for j in range(n))
                    return total

                gradient[r, i] = float(mpmath.diff(loss_of, 0))
    return gradient


def test_the_softmax_over_columns_agrees_with_40_digit_differentiation() -> None:
    m, k, n, seed = 3, 4, 5, 11
    x, w, b, y = _concrete_draw("softmax-cross-entropy", m, k, n, seed)
    assert all(sum(y[j][i] for j in range(n)) == 1 for i in range(m))  # one-hot columns
    reference = _softmax_input_gradient(x, w, b, y)
    run: dict[str, Any] = {"seed": seed, "loss": "softmax-cross-entropy", "samples": "columns"}
    result = numeric_verify(m, k, n, forms={"X": lambda *_: reference}, **run)
    assert _check(result, "X").holds
    moved = reference.copy()
    moved[2, 1] += 1e-9
    result = numeric_verify(m, k, n, forms={"X": lambda *_: moved}, **run)
    assert [mismatch.index for mismatch in _check(result, "X").mismatches] == [(3, 2)]

    # The softmax taken over each row of A instead (the rows convention) is wrong here.
    def by_rows(xx: Matrix, ww: Matrix, g: Matrix) -> Matrix:
        a = ww @ xx
        e = np.exp(a - a.max(axis=1, keepdims=True))
        product: Matrix = ww.T @ (e / e.sum(axis=1, keepdims=True) - np.array(y))
        return product

    result = numeric_verify(m, k, n, forms={"X": by_rows}, **run)
    assert not _check(result, "X").holds


# --- The symbolic derivation against finite differences ----------------------------------------


def _evaluated(derivation: Derivation, upstream: Rows, values: dict[str, Any]) -> dict[str, Rows]:
    """Each derived chain-rule sum Σ ∂L/∂a_{p,q} · ∂a_{p,q}/∂x, its local partials evaluated at
    ``values`` (symbol name → number) and ∂L/∂a_{p,q} taken from ``upstream`` (n×m)."""
    layer = derivation.biased if derivation.biased is not None else derivation.plain
    to_sympy = get_engine(derivation.engine).to_sympy
    substitution = {sympy.Symbol(name): value for name, value in values.items()}

    def value(rule: Any) -> Any:
        return sum(
            upstream[p - 1][q - 1] * to_sympy(factor).xreplace(substitution)
            for (p, q), factor in rule.terms
        )

    return {
        name: [[value(rule) for rule in row] for row in gradient.entries]
        for name, gradient in layer.gradients.items()
    }


def _symbol_values(x: Rows, w: Rows, b: Sequence[Any]) -> dict[str, Any]:
    """x_r_i, w_j_r and b_j, 1-based, as the derivation names them."""
    values = {f"x_{r + 1}_{i + 1}": v for r, row in enumerate(x) for i, v in enumerate(row)}
    values |= {f"w_{j + 1}_{r + 1}": v for j, row in enumerate(w) for r, v in enumerate(row)}
    return values | {f"b_{j + 1}": v for j, v in enumerate(b)}


def test_the_derived_columns_gradients_match_finite_differences_of_a_loss() -> None:
    """derive(samples="columns") at 3×2×3 with the bias: its chain-rule sums, evaluated with
    ∂L/∂A from finite differences of the squared error by each a_{j,i}, equal the central
    differences of L by each x_{r,i}, w_{j,r} and b_j through A = WX + b1ᵀ; the transpose of the
    derived ∂L/∂W (square here) does not."""
    rng = np.random.default_rng(5)
    m, k, n = 3, 3, 3
    x, w = rng.integers(-5, 6, (k, m)).tolist(), rng.integers(-5, 6, (n, k)).tolist()
    b, y = rng.integers(-5, 6, n).tolist(), rng.integers(-5, 6, (n, m)).tolist()

    def loss_of_outputs(a: Rows) -> Fraction:
        return Fraction(sum((a[j][i] - y[j][i]) ** 2 for j in range(n) for i in range(m)), 2)

    a = _outputs(x, w, b)
    upstream = [
        [
            (loss_of_outputs(_moved(a, j, i, 1)) - loss_of_outputs(_moved(a, j, i, -1))) / 2
            for i in range(m)
        ]
        for j in range(n)
    ]
    derivation = derive(m, k, n, samples="columns")
    assert derivation.verified
    derived = _evaluated(derivation, upstream, _symbol_values(x, w, b))
    reference = _central_differences(lambda xx, ww, bb: _squared_error(xx, ww, bb, y), x, w, b)
    assert derived == reference
    transposed = [list(column) for column in zip(*derived["W"], strict=True)]
    assert transposed != reference["W"]


def _softmax_loss(x: Rows, w: Rows, b: Sequence[Any], y: Rows) -> Any:
    """−Σ_i Σ_j y_{j,i} (a_{j,i} − log Σ_q e^{a_{q,i}}): the softmax over each column, at 40
    digits."""
    a = _outputs(x, w, b)
    n, m = len(a), len(a[0])
    total = mpmath.mpf(0)
    for i in range(m):
        log_sum = mpmath.log(mpmath.fsum(mpmath.exp(a[j][i]) for j in range(n)))
        total -= mpmath.fsum(y[j][i] * (a[j][i] - log_sum) for j in range(n))
    return total


def test_the_derived_softmax_over_columns_matches_40_digit_differentiation() -> None:
    """derive(loss="softmax-cross-entropy", samples="columns") at 3×2×3: its ∂L/∂X, ∂L/∂W and
    ∂L/∂b (L differentiated through the layer by the CAS) and its matrix forms at the closed
    form, evaluated at one point, equal mpmath's derivative of L by each entry to 30 digits."""
    m, k, n = 3, 2, 3
    x, w, b = [[1, -1, 2], [0, 2, -1]], [[1, -2], [2, 1], [-1, 1]], [1, 0, -2]
    y = [[1, 0, 0], [0, 0, 1], [0, 1, 0]]  # one-hot columns
    derivation = derive(m, k, n, samples="columns", loss="softmax-cross-entropy")
    assert derivation.verified
    loss = derivation.loss
    assert loss is not None
    values = {sympy.Symbol(name): value for name, value in _symbol_values(x, w, b).items()}
    values |= {sympy.Symbol(f"y_{j + 1}_{i + 1}"): y[j][i] for j in range(n) for i in range(m)}
    matrices: dict[str, Rows] = {"X": x, "W": w}
    with mpmath.workdps(40):
        shapes: dict[Variable, tuple[int, int]] = {"X": (k, m), "W": (n, k), "b": (n, 1)}
        for name, (rows, cols) in shapes.items():
            for r in range(rows):
                for c in range(cols):

                    def loss_of(t: Any, name: Variable = name, r: int = r, c: int = c) -> Any:
                        if name == "b":
                            moved_b = [v + t * (j == r) for j, v in enumerate(b)]
                            return _softmax_loss(x, w, moved_b, y)
                        moved = {**matrices, name: _moved(matrices[name], r, c, t)}
                        return _softmax_loss(moved["X"], moved["W"], b, y)

                    reference = mpmath.diff(loss_of, 0)
                    for side in (loss.elementwise[name][r, c], loss.products[name][r, c]):
                        value = mpmath.mpf(str(sympy.N(side.xreplace(values), 45)))
                        assert abs(value - reference) < mpmath.mpf(10) ** -30, (name, r, c)

    # The same comparison refuses the softmax taken over each row of A (across the samples): its
    # derivative by x_{1,1} is not the derived one.
    def across_samples(t: Any) -> Any:
        a = _outputs(_moved(x, 0, 0, t), w, b)
        return -mpmath.fsum(
            y[j][i] * (a[j][i] - mpmath.log(mpmath.fsum(mpmath.exp(v) for v in a[j])))
            for j in range(n)
            for i in range(m)
        )

    with mpmath.workdps(40):
        wrong = mpmath.diff(across_samples, 0)
        derived = mpmath.mpf(str(sympy.N(loss.elementwise["X"][0, 0].xreplace(values), 45)))
        assert abs(derived - wrong) > mpmath.mpf(10) ** -3


# --- What it says, and bad input -----------------------------------------------------------------


def test_every_format_names_the_convention() -> None:
    result = numeric_verify(3, 4, 5, samples="columns")
    text = render_numeric_text(result)
    assert "Layer A = WX + b 1_mᵀ (samples as columns) with m=3, k=4, n=5" in text
    assert "∂L/∂X = Wᵀ · ∂L/∂A  (4×3): holds" in text
    assert "compared column by column" in text  # X by samples
    assert "compared row by row" in text  # W by outputs
    data = numeric_data(result)
    assert data["samples"] == "columns"
    assert [check["shape"] for check in data["checks"]] == [[4, 3], [5, 4], [5, 1]]
    assert json.loads(json.dumps(data)) == data
    assert "samples" not in numeric_data(numeric_verify(3, 4, 5))


def test_an_unknown_convention_or_a_name_of_the_other_one_is_refused() -> None:
    with pytest.raises(ArgumentError, match="samples must be 'rows' or 'columns'"):
        numeric_verify(2, 2, 2, samples="diagonal")
    with pytest.raises(ValueError, match="no matrix form for 'Z': choose from X, W, b"):
        numeric_verify(2, 2, 2, samples="columns", forms={"Z": lambda x, w, g: w.T @ g})


@pytest.mark.parametrize("loss", ["generic", "sum", "squared-error", "softmax-cross-entropy"])
def test_a_flat_vector_is_read_as_the_bias_column(loss: str) -> None:
    """`np.sum(G, axis=1)` is a flat vector: with samples as columns it stands for the n×1 column
    b, and the column sums `np.sum(G, axis=0)` (m of them) are wrong, in shape or in value."""
    right = numeric_verify(
        3, 2, 4, samples="columns", loss=loss, forms={"b": lambda x, w, g: g.sum(axis=1)}
    )
    assert _check(right, "b").holds
    assert _check(right, "b").claimed_shape == (4, 1)
    wrong = numeric_verify(
        3, 2, 4, samples="columns", loss=loss, forms={"b": lambda x, w, g: g.sum(axis=0)}
    )
    assert _check(wrong, "b").claimed_shape == (3, 1)
    assert not wrong.verified
