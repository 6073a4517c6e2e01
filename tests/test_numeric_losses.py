"""The numeric check of the concrete losses: the true rules hold at every size up to 1024, exactly
for the sum and the squared error and to within a computed bound for the softmax cross-entropy;
wrong rules, down to one wrong entry in a large layer, are rejected where they are wrong; the
interval arithmetic encloses the true values; and derive turns to the check by itself above a
concrete loss's symbolic limit, whatever that limit is."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import mpmath  # type: ignore[import-untyped]
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matgrad_cli.core.derive import validate_sizes
from matgrad_cli.core.layer import Sizes, Variable
from matgrad_cli.core.losses import loss_named
from matgrad_cli.core.numeric import numeric_verify
from matgrad_cli.core.numeric_interval import (
    Interval,
    exp_of_integers,
    log_of_interval,
    sum_of_columns,
)
from matgrad_cli.core.numeric_losses import NUMERIC_LOSSES
from matgrad_cli.core.numeric_model import Matrix, NumericCheck, NumericResult
from matgrad_cli.errors import SizeError
from matgrad_cli.present import render
from matgrad_cli.present.json import numeric_data

from .conftest import run_cli, run_pdflatex
from .test_large import MATGRAD, MIB, NUMERIC_PEAK, _run_measured

Form = Callable[[Matrix, Matrix, Matrix], Matrix]

EXACT = ("sum", "squared-error")
SOFTMAX = "softmax-cross-entropy"
LOSSES = (*EXACT, SOFTMAX)


def _check(result: NumericResult, variable: str) -> NumericCheck:
    return next(check for check in result.checks if check.variable == variable)


# --- The true rules hold, exactly or to within a computed bound ----------------------------------


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("bias", [True, False])
@settings(max_examples=8, deadline=None)
@given(
    m=st.integers(1, 12), k=st.integers(1, 12), n=st.integers(1, 12), seed=st.integers(0, 2**32 - 1)
)
def test_the_true_rules_hold_under_every_concrete_loss(
    loss: str, bias: bool, m: int, k: int, n: int, seed: int
) -> None:
    result = numeric_verify(m, k, n, bias=bias, seed=seed, loss=loss)
    assert result.verified
    assert result.loss == loss
    assert [check.variable for check in result.checks] == (["Z", "W", "b"] if bias else ["Z", "W"])
    assert result.closed_form is not None
    assert result.closed_form.holds
    for check in (result.closed_form, *result.checks):
        assert check.every_entry
        assert check.mismatch_count == 0
    if loss in EXACT:
        assert result.exact
        assert result.bound == 0.0
        assert "exact integer" in result.method
    else:
        # The bound is computed from the enclosures: positive, and far below any real error.
        assert not result.exact
        assert 0 < result.bound < 1e-9
        assert "to within a computed bound" in result.method


def test_the_softmax_bound_is_computed_and_grows_with_the_layer() -> None:
    small = numeric_verify(2, 2, 2, loss=SOFTMAX)
    large = numeric_verify(200, 200, 200, loss=SOFTMAX)
    assert 0 < small.bound < large.bound
    # Each check states its own bound, and the result's is the largest of them.
    bounds = [check.bound for check in (*large.checks, large.closed_form) if check is not None]
    assert large.bound == max(bounds)
    assert len(set(bounds)) > 1


# --- Wrong rules are rejected --------------------------------------------------------------------

# Wrong forms for ∂L/∂Z, ∂L/∂W and ∂L/∂b, each of the gradient's shape when m = k = n.
WRONG_FORMS: dict[str, tuple[Variable, Form]] = {
    "G·W": ("Z", lambda z, w, g: g @ w),
    "Wᵀ·G": ("Z", lambda z, w, g: w.T @ g),
    "−G·Wᵀ (a sign error)": ("Z", lambda z, w, g: -(g @ w.T)),
    "2·G·Wᵀ": ("Z", lambda z, w, g: 2 * (g @ w.T)),
    "(Zᵀ·G)ᵀ (the notes' transposed ∂L/∂W)": ("W", lambda z, w, g: (z.T @ g).T),
    "G·Zᵀ": ("W", lambda z, w, g: g @ z.T),
    "Zᵀ·G without its last row": ("W", lambda z, w, g: np.vstack([(z.T @ g)[:-1], 0 * w[:1]])),
    "the first row of G": ("b", lambda z, w, g: g[:1]),
    "the column means of G": ("b", lambda z, w, g: g.mean(axis=0)),
}


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("name", sorted(WRONG_FORMS))
def test_a_wrong_rule_is_rejected(loss: str, name: str) -> None:
    variable, form = WRONG_FORMS[name]
    result = numeric_verify(5, 5, 5, loss=loss, seed=3, forms={variable: form})
    check = _check(result, variable)
    assert not check.holds
    assert not result.verified
    assert check.mismatch_count > 0 or check.claimed_shape != check.shape
    # The other rules still hold: the failure is the wrong rule's alone.
    assert all(other.holds for other in result.checks if other.variable != variable)


@pytest.mark.parametrize("loss", LOSSES)
def test_a_rule_of_the_wrong_shape_is_rejected(loss: str) -> None:
    result = numeric_verify(4, 3, 2, loss=loss, forms={"Z": lambda z, w, g: g @ w.T @ w})
    check = _check(result, "Z")
    assert not check.holds
    assert check.claimed_shape == (4, 2)
    assert check.shape == (4, 3)


def _one_entry_off(variable: Variable, row: int, col: int, by: float) -> Form:
    rules: dict[Variable, Form] = {
        "Z": lambda z, w, g: g @ w.T,
        "W": lambda z, w, g: z.T @ g,
        "b": lambda z, w, g: g.sum(axis=0, keepdims=True),
    }

    def wrong(z: Matrix, w: Matrix, g: Matrix) -> Matrix:
        value = np.array(rules[variable](z, w, g), dtype=np.float64)
        value[row, col] += by
        return value

    return wrong


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(
    ("sizes", "variable", "row", "col"),
    [
        ((1024, 1024, 1024), "Z", 1023, 4),
        ((300, 1024, 200), "W", 517, 199),
        ((1024, 8, 800), "b", 0, 700),
    ],
)
def test_one_wrong_entry_in_a_large_layer_is_found(
    loss: str, sizes: tuple[int, int, int], variable: Variable, row: int, col: int
) -> None:
    # Off by one for the exact losses; for the softmax by 10⁻⁶, far above its bound yet far
    # below the entries' size.
    by = 1.0 if loss in EXACT else 1e-6
    result = numeric_verify(
        *sizes, loss=loss, forms={variable: _one_entry_off(variable, row, col, by)}
    )
    check = _check(result, variable)
    assert not check.holds
    assert check.mismatch_count == 1
    assert check.every_entry
    (mismatch,) = check.mismatches
    assert mismatch.index == (row + 1, col + 1)
    assert math.isclose(float(mismatch.claimed) - float(mismatch.elementwise), by, rel_tol=1e-3)
    # Every entry of every other rule was compared, and holds.
    for other in (*result.checks, result.closed_form):
        assert other is not None
        if other.variable != variable:
            assert other.holds
            assert other.every_entry
    assert result.bound < (1e-6 if loss == SOFTMAX else 1e-300)


@pytest.mark.parametrize("loss", EXACT)
def test_a_claimed_entry_off_the_integers_is_wrong_under_an_exact_loss(loss: str) -> None:
    result = numeric_verify(3, 3, 3, loss=loss, forms={"Z": _one_entry_off("Z", 0, 0, 0.5)})
    assert _check(result, "Z").mismatch_count == 1


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("bad", [math.nan, math.inf, 1e300])
def test_claimed_entries_that_are_not_usable_numbers_are_wrong(loss: str, bad: float) -> None:
    def form(z: Matrix, w: Matrix, g: Matrix) -> Matrix:
        value = np.array(g @ w.T)
        value[1, 2] = bad
        return value

    check = _check(numeric_verify(3, 3, 3, loss=loss, forms={"Z": form}), "Z")
    assert not check.holds
    assert check.mismatches[0].index == (2, 3)


def test_a_softmax_closed_form_without_the_targets_is_rejected() -> None:
    # softmax(A) alone, as ∂L/∂A, gives G·Wᵀ without −Y·Wᵀ.
    def softmax_only(z: Matrix, w: Matrix, g: Matrix) -> Matrix:
        a = z @ w
        e = np.exp(a - a.max(axis=1, keepdims=True))
        product: Matrix = (e / e.sum(axis=1, keepdims=True)) @ w.T
        return product

    result = numeric_verify(6, 4, 5, bias=False, loss=SOFTMAX, forms={"Z": softmax_only})
    assert not _check(result, "Z").holds


# --- Independent references ------------------------------------------------------------------


def _softmax_layer(m: int, k: int, n: int, seed: int) -> tuple[Matrix, Matrix, Matrix, Matrix]:
    """The draw numeric_verify makes for the softmax: Z, W, b from −2..2, then one-hot Y."""
    rng = np.random.default_rng(seed)
    spread = NUMERIC_LOSSES[SOFTMAX].entry_range
    z = rng.integers(-spread, spread + 1, (m, k), dtype=np.int8).astype(np.float64)
    w = rng.integers(-spread, spread + 1, (k, n), dtype=np.int8).astype(np.float64)
    b = rng.integers(-spread, spread + 1, (1, n), dtype=np.int8).astype(np.float64)
    y = np.zeros((m, n))
    y[np.arange(m), rng.integers(0, n, m)] = 1.0
    return z, w, b, y


def _reference_input_gradient(z: Matrix, w: Matrix, b: Matrix, y: Matrix) -> Matrix:
    """∂L/∂Z at 40 digits by mpmath's numerical differentiation of L itself (log-softmax form)."""
    m, k = z.shape
    n = w.shape[1]
    gradient = np.zeros((m, k))
    with mpmath.workdps(40):
        for i in range(m):
            for r in range(k):

                def loss_of(t: object, i: int = i, r: int = r) -> object:
                    row = [
                        sum(mpmath.mpf(z[i, s]) * w[s, q] for s in range(k)) + b[0, q] + t * w[r, q]
                        for q in range(n)
                    ]
                    log_sum = mpmath.log(sum(mpmath.exp(a) for a in row))
                    return -sum(y[i, q] * (row[q] - log_sum) for q in range(n))

                gradient[i, r] = float(mpmath.diff(loss_of, 0))
    return gradient


def test_the_softmax_gradient_agrees_with_40_digit_numerical_differentiation() -> None:
    m, k, n, seed = 3, 4, 5, 11
    z, w, b, y = _softmax_layer(m, k, n, seed)
    reference = _reference_input_gradient(z, w, b, y)
    result = numeric_verify(m, k, n, seed=seed, loss=SOFTMAX, forms={"Z": lambda *_: reference})
    # The reference, off the grid and rounded to float64, is accepted within the bound...
    assert _check(result, "Z").holds
    # ... and the same reference moved by 10⁻⁹ at one entry is not.
    moved = reference.copy()
    moved[2, 1] += 1e-9
    result = numeric_verify(m, k, n, seed=seed, loss=SOFTMAX, forms={"Z": lambda *_: moved})
    assert _check(result, "Z").mismatches[0].index == (3, 2)


@pytest.mark.parametrize("loss", EXACT)
def test_the_exact_gradients_agree_with_python_integers(loss: str) -> None:
    m, k, n, seed = 4, 3, 5, 2
    rng = np.random.default_rng(seed)
    z = rng.integers(-9, 10, (m, k), dtype=np.int8).astype(int).tolist()
    w = rng.integers(-9, 10, (k, n), dtype=np.int8).astype(int).tolist()
    b = rng.integers(-9, 10, (1, n), dtype=np.int8).astype(int).tolist()[0]
    y = rng.integers(-9, 10, (m, n), dtype=np.int8).astype(int).tolist() if loss != "sum" else None
    a = [[sum(z[i][s] * w[s][j] for s in range(k)) + b[j] for j in range(n)] for i in range(m)]
    g = [[1 if y is None else a[i][j] - y[i][j] for j in range(n)] for i in range(m)]
    by_input = np.array(
        [[sum(g[i][q] * w[r][q] for q in range(n)) for r in range(k)] for i in range(m)]
    )
    result = numeric_verify(m, k, n, seed=seed, loss=loss, forms={"Z": lambda *_: by_input})
    assert _check(result, "Z").holds
    by_input[0, 0] += 1
    result = numeric_verify(m, k, n, seed=seed, loss=loss, forms={"Z": lambda *_: by_input})
    assert _check(result, "Z").mismatches[0].index == (1, 1)


# --- The interval arithmetic encloses the true values ------------------------------------------


def _encloses(interval: Interval, exact: list[Fraction]) -> bool:
    lows, highs = interval.lo.ravel().tolist(), interval.hi.ravel().tolist()
    return all(
        Fraction(lo) <= x <= Fraction(hi) for lo, x, hi in zip(lows, exact, highs, strict=True)
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=4, max_size=4),
    st.lists(st.floats(1e-3, 1e6), min_size=4, max_size=4),
)
def test_interval_operations_enclose_the_exact_rational_results(
    left: list[float], right: list[float]
) -> None:
    x, y = Interval.exact(np.array([left])), Interval.exact(np.array([right]))
    exact_x, exact_y = [Fraction(v) for v in left], [Fraction(v) for v in right]
    assert _encloses(x + y, [a + b for a, b in zip(exact_x, exact_y, strict=True)])
    assert _encloses(x - y, [a - b for a, b in zip(exact_x, exact_y, strict=True)])
    assert _encloses(x * y, [a * b for a, b in zip(exact_x, exact_y, strict=True)])
    assert _encloses(x / y, [a / b for a, b in zip(exact_x, exact_y, strict=True)])
    assert _encloses(sum_of_columns(x), [sum(exact_x, Fraction(0))])


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=40, max_size=300),
    st.floats(0, 1e-3),
)
def test_long_row_sums_enclose_the_exact_rational_sums(values: list[float], width: float) -> None:
    # Above a few dozen columns the rows are summed in fixed point.
    row = np.array([values])
    bounds = Interval(row - width, row + width)
    sums = sum_of_columns(bounds)
    lower = sum((Fraction(v) for v in bounds.lo[0].tolist()), Fraction(0))
    upper = sum((Fraction(v) for v in bounds.hi[0].tolist()), Fraction(0))
    assert Fraction(float(sums.lo[0, 0])) <= lower
    assert upper <= Fraction(float(sums.hi[0, 0]))
    assert float(sums.hi[0, 0] - sums.lo[0, 0]) <= 2 * width * len(values) + 1e-9


def test_sums_of_integers_stay_exact_in_intervals() -> None:
    shifted = Interval.exact(np.array([[5.0, -3.0]])) - np.array([[5.0]])
    assert np.array_equal(shifted.lo, shifted.hi)
    assert shifted.lo.tolist() == [[0.0, -8.0]]


def test_exponentials_and_logarithms_enclose_the_50_digit_values() -> None:
    exponents = np.array([[0.0, -1.0, -37.0, -699.0, -700.0, -701.0, -5000.0]])
    enclosed = exp_of_integers(exponents)
    with mpmath.workdps(50):
        for u, lo, hi in zip(exponents[0], enclosed.lo[0], enclosed.hi[0], strict=True):
            value = mpmath.exp(int(u))
            assert mpmath.mpf(lo) <= value <= mpmath.mpf(hi)
            assert 0 <= lo <= hi
        logs = log_of_interval(
            Interval(np.array([[1.0, 2.5, 1e300]]), np.array([[1.0, 2.5, 1e300]]))
        )
        for x, lo, hi in zip([1.0, 2.5, 1e300], logs.lo[0], logs.hi[0], strict=True):
            assert mpmath.mpf(lo) <= mpmath.log(mpmath.mpf(x)) <= mpmath.mpf(hi)
    with pytest.raises(ArithmeticError):
        exp_of_integers(np.array([[0.5]]))


# --- Every format says which kind of check it was --------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
def test_every_format_says_whether_the_check_was_exact_or_bounded(loss: str) -> None:
    result = numeric_verify(3, 2, 4, loss=loss)
    assert result.closed_form is not None
    text = render(result, "text")
    latex = render(result, "latex", standalone=True)
    markdown = render(result, "markdown")
    data = json.loads(render(result, "json"))
    if loss in EXACT:
        for document in (text, latex, markdown):
            assert "exact integer arithmetic" in document
            assert "exactly" in document
        assert data["exact"] is True
        assert data["bound"] == 0
    else:
        mantissa, exponent = f"{result.bound:.1e}".split("e")
        assert f"to within {mantissa}·10" in text
        assert f"to within ${mantissa} \\cdot 10^{{{int(exponent)}}}$" in latex
        assert f"to within ${mantissa} \\cdot 10^{{{int(exponent)}}}$" in markdown
        assert f"$2^{{-{result.grid_bits}}}$" in latex
        assert data["exact"] is False
        assert data["bound"] == result.bound > 0
    assert data["loss"] == loss
    assert data["closed_form"]["holds"] is True
    assert data == numeric_data(result)
    assert [check["bound"] for check in data["checks"]] == [c.bound for c in result.checks]


@pytest.mark.parametrize("loss", LOSSES)
def test_a_failed_check_shows_its_wrong_entries(loss: str) -> None:
    result = numeric_verify(3, 3, 3, loss=loss, forms={"W": lambda z, w, g: (z.T @ g).T})
    text = render(result, "text")
    assert "FAILS" in text
    assert "NOT verified" in text
    assert "elementwise" in text
    assert "FAIL" in render(result, "markdown")
    data = json.loads(render(result, "json"))
    assert data["verified"] is False
    assert data["checks"][1]["mismatches"]


@pytest.mark.parametrize("loss", LOSSES)
def test_the_standalone_document_compiles(loss: str, tmp_path: Path) -> None:
    latex = render(numeric_verify(4, 3, 5, loss=loss), "latex", standalone=True)
    compiled = run_pdflatex(latex, tmp_path, "numeric")
    assert compiled.returncode == 0, compiled.stdout[-2000:]


# --- The command line ------------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
def test_derive_numeric_takes_a_concrete_loss(
    loss: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        ["derive", "--numeric", "--loss", loss, "-m", "5", "-k", "4", "-n", "3", "-f", "json"],
        capsys,
    )
    assert code == 0, err
    assert json.loads(out)["loss"] == loss
    assert "verified by numeric check" in err


def _above_the_symbolic_limit(loss: str) -> int:
    """The smallest power of two t at which a t×t×t layer is above the loss's symbolic limit,
    read from the loss and the engine's own checks."""
    t = 2
    while t <= 1024:
        try:
            loss_named(loss).validate(Sizes(t, t, t))
            validate_sizes(t, t, t)
        except SizeError:
            return t
        t *= 2
    pytest.fail(f"--loss {loss} takes every size up to 1024³ symbolically")


@pytest.mark.parametrize("loss", LOSSES)
def test_derive_turns_to_the_numeric_check_above_the_symbolic_limit(
    loss: str, capsys: pytest.CaptureFixture[str]
) -> None:
    t = str(_above_the_symbolic_limit(loss))
    code, out, err = run_cli(
        ["derive", "--loss", loss, "-m", t, "-k", t, "-n", t, "-f", "text"], capsys
    )
    assert code == 0, err
    assert f"above the symbolic limit of --loss {loss}" in err
    assert ("exact numeric check" in err) == (loss in EXACT)
    assert out.startswith("matgrad: numeric check")
    assert "holds" in out


def test_sizes_above_the_numeric_limit_are_refused_with_a_concrete_loss(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(
        ["derive", "--loss", SOFTMAX, "-m", "1025", "-k", "64", "-n", "64"], capsys
    )
    assert code == 2
    assert not out
    assert err.startswith("matgrad: error: size m = 1025 is above the numeric limit")


@pytest.mark.parametrize(("m", "k", "n"), [(1024, 1024, 1024), (1, 1024, 1024), (1024, 1, 1024)])
def test_the_softmax_check_needs_memory_of_the_largest_matrix(
    m: int, k: int, n: int, tmp_path: Path
) -> None:
    args = [*MATGRAD, "derive", "--numeric", "--loss", SOFTMAX, "--m", str(m), "--k", str(k)]
    finished = _run_measured([*args, "--n", str(n), "-f", "json"], tmp_path)
    assert finished.returncode == 0, finished.stderr.decode()
    assert json.loads(finished.stdout)["verified"] is True
    assert finished.peak_bytes < NUMERIC_PEAK, f"peak RSS {finished.peak_bytes / MIB:.0f} MiB"
