"""The numeric check is exact and can fail: the true forms hold at every size up to 1024, and wrong
forms, down to a single entry off by one at 1024³, are rejected at the entries where they are
wrong. The result always says it is a numeric check, not a symbolic proof."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matgrad_cli.core.checks import Mismatch
from matgrad_cli.core.layer import Variable
from matgrad_cli.core.numeric import (
    _CLAIM_LIMIT,
    DIRECTION_RANGE,
    FULL_CHECK_LIMIT,
    METHOD,
    NUMERIC_LIMIT,
    Formula,
    NumericCheck,
    NumericResult,
    numeric_verify,
)
from matgrad_cli.core.numeric_model import ENTRY_RANGE, Matrix
from matgrad_cli.errors import SizeError
from matgrad_cli.present.json import numeric_data
from matgrad_cli.present.numeric_text import render_numeric_text

Form = Callable[[Matrix, Matrix, Matrix], Matrix]


def _check(result: NumericResult, variable: str) -> NumericCheck:
    return next(check for check in result.checks if check.variable == variable)


def _python_products(
    inputs: Matrix, weights: Matrix, upstream: Matrix
) -> tuple[list[list[int]], list[list[int]], list[int]]:
    """G·Wᵀ, Zᵀ·G and the column sums of G in Python integers, by the textbook sums."""
    z = [[int(x) for x in row] for row in inputs]
    w = [[int(x) for x in row] for row in weights]
    g = [[int(x) for x in row] for row in upstream]
    m, k, n = len(z), len(w), len(w[0])
    by_input = [[sum(g[i][q] * w[r][q] for q in range(n)) for r in range(k)] for i in range(m)]
    by_weight = [[sum(z[i][r] * g[i][j] for i in range(m)) for j in range(n)] for r in range(k)]
    by_bias = [sum(g[i][j] for i in range(m)) for j in range(n)]
    return by_input, by_weight, by_bias


def _off_by_one(form: Form, row: int, col: int) -> Form:
    """``form`` with the single entry (row, col), 0-based, increased by one."""

    def wrong(inputs: Matrix, weights: Matrix, upstream: Matrix) -> Matrix:
        value = np.array(form(inputs, weights, upstream), dtype=np.float64)
        value[row, col] += 1
        return value

    return wrong


def _true_input_form(inputs: Matrix, weights: Matrix, upstream: Matrix) -> Matrix:
    return upstream @ weights.T


def _true_weight_form(inputs: Matrix, weights: Matrix, upstream: Matrix) -> Matrix:
    return inputs.T @ upstream


SUMMED_VARIABLES: tuple[Variable, ...] = ("Z", "W")

# Wrong forms for ∂L/∂Z and ∂L/∂W, each with the shape of the gradient when m = k = n.
WRONG_INPUT_FORMS: dict[str, Form] = {
    "G·W": lambda inputs, weights, upstream: upstream @ weights,
    "Wᵀ·G": lambda inputs, weights, upstream: weights.T @ upstream,
    "Z·G (a product of the wrong matrices)": lambda inputs, weights, upstream: inputs @ upstream,
}
WRONG_WEIGHT_FORMS: dict[str, Form] = {
    "(Zᵀ·G)ᵀ": lambda inputs, weights, upstream: (inputs.T @ upstream).T,
    "Z·G": lambda inputs, weights, upstream: inputs @ upstream,
}


def test_true_forms_hold_at_every_entry_at_small_sizes() -> None:
    result = numeric_verify(3, 4, 5)
    assert result.verified
    assert [check.variable for check in result.checks] == ["Z", "W", "b"]
    for check in result.checks:
        assert check.holds
        assert check.every_entry
        assert check.entries_by_difference == check.entries
        assert check.escape_probability == 0.0
        assert check.mismatch_count == 0
        assert check.mismatches == ()


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 9), st.integers(1, 9), st.integers(1, 9), st.booleans(), st.integers(0, 2**32)
)
def test_true_forms_hold_for_any_sizes_and_seed(
    m: int, k: int, n: int, bias: bool, seed: int
) -> None:
    result = numeric_verify(m, k, n, bias=bias, seed=seed)
    assert result.verified
    assert [check.variable for check in result.checks] == (["Z", "W", "b"] if bias else ["Z", "W"])
    assert [check.shape for check in result.checks][:2] == [(m, k), (k, n)]


def test_difference_quotients_are_the_exact_integer_partials() -> None:
    """The elementwise values reported for an entry are the textbook sums in Python integers."""
    seen: dict[str, Matrix] = {}

    def everything_off(inputs: Matrix, weights: Matrix, upstream: Matrix) -> Matrix:
        seen.update(inputs=inputs, weights=weights, upstream=upstream)
        return np.full((inputs.shape[0], weights.shape[0]), 10**6, dtype=np.float64)

    result = numeric_verify(4, 3, 5, seed=7, forms={"Z": everything_off})
    by_input, _, _ = _python_products(seen["inputs"], seen["weights"], seen["upstream"])
    check = _check(result, "Z")
    assert not check.holds
    assert check.mismatch_count == 12
    for mismatch in check.mismatches:
        row, col = mismatch.index
        assert mismatch.elementwise == by_input[row - 1][col - 1]
        assert mismatch.claimed == 10**6


def test_forms_in_python_integers_hold() -> None:
    """Forms computed without numpy's matmul, by the textbook sums, pass: the check is exact."""

    def input_form(inputs: Matrix, weights: Matrix, upstream: Matrix) -> Matrix:
        return np.array(_python_products(inputs, weights, upstream)[0], dtype=np.float64)

    def weight_form(inputs: Matrix, weights: Matrix, upstream: Matrix) -> Matrix:
        return np.array(_python_products(inputs, weights, upstream)[1], dtype=np.float64)

    def bias_form(inputs: Matrix, weights: Matrix, upstream: Matrix) -> Matrix:
        return np.array([_python_products(inputs, weights, upstream)[2]], dtype=np.float64)

    result = numeric_verify(
        6, 5, 4, seed=3, forms={"Z": input_form, "W": weight_form, "b": bias_form}
    )
    assert result.verified


@pytest.mark.parametrize("name", sorted(WRONG_INPUT_FORMS))
def test_wrong_input_forms_are_rejected_at_64(name: str) -> None:
    result = numeric_verify(64, 64, 64, forms={"Z": WRONG_INPUT_FORMS[name]})
    check = _check(result, "Z")
    assert not check.holds
    assert check.every_entry
    assert check.mismatch_count > 3000
    assert len(check.mismatches) == 5
    assert _check(result, "W").holds
    assert not result.verified


@pytest.mark.parametrize("name", sorted(WRONG_WEIGHT_FORMS))
def test_wrong_weight_forms_are_rejected_at_64(name: str) -> None:
    result = numeric_verify(64, 64, 64, forms={"W": WRONG_WEIGHT_FORMS[name]})
    check = _check(result, "W")
    assert not check.holds
    assert check.mismatch_count > 3000
    assert _check(result, "Z").holds


def test_row_sums_for_the_bias_are_rejected() -> None:
    result = numeric_verify(
        64, 64, 64, forms={"b": lambda inputs, weights, upstream: upstream.sum(axis=1)}
    )
    check = _check(result, "b")
    assert not check.holds
    assert check.mismatch_count > 50


@pytest.mark.parametrize("variable", ["Z", "W"])
def test_a_single_entry_off_by_one_is_found_at_64(variable: Variable) -> None:
    form = _true_input_form if variable == "Z" else _true_weight_form
    result = numeric_verify(64, 64, 64, forms={variable: _off_by_one(form, 40, 17)})
    check = _check(result, variable)
    assert not check.holds
    assert check.mismatch_count == 1
    (mismatch,) = check.mismatches
    assert mismatch.index == (41, 18)
    assert mismatch.claimed == mismatch.elementwise + 1


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_directions_alone_catch_any_single_wrong_entry(data: st.DataObject) -> None:
    """With no difference quotients at all, the directional check still finds one wrong entry,
    and locates it: ⟨error, V⟩ = error·v is never 0, since no entry of V is 0."""
    m, k, n = (data.draw(st.integers(1, 12)) for _ in range(3))
    variable: Variable = data.draw(st.sampled_from(SUMMED_VARIABLES))
    rows, cols = (m, k) if variable == "Z" else (k, n)
    row, col = data.draw(st.integers(0, rows - 1)), data.draw(st.integers(0, cols - 1))
    form = _true_input_form if variable == "Z" else _true_weight_form
    result = numeric_verify(
        m,
        k,
        n,
        seed=data.draw(st.integers(0, 1000)),
        forms={variable: _off_by_one(form, row, col)},
        full=False,
        sample_size=0,
        directions=1,
    )
    check = _check(result, variable)
    assert check.entries_by_difference == 0
    assert not check.holds
    assert check.failed_directions == 1
    assert [mismatch.index for mismatch in check.mismatches] == [(row + 1, col + 1)]


@pytest.mark.parametrize(("input_form", "weight_form"), [("G·W", "(Zᵀ·G)ᵀ"), ("Wᵀ·G", "Z·G")])
def test_wrong_forms_are_rejected_at_1024(input_form: str, weight_form: str) -> None:
    """At 1024³ entries are sampled; these forms are wrong almost everywhere, so the sample and
    every direction find them."""
    result = numeric_verify(
        NUMERIC_LIMIT,
        NUMERIC_LIMIT,
        NUMERIC_LIMIT,
        forms={"Z": WRONG_INPUT_FORMS[input_form], "W": WRONG_WEIGHT_FORMS[weight_form]},
    )
    for variable in ("Z", "W"):
        check = _check(result, variable)
        assert not check.holds
        assert not check.every_entry
        assert check.entries_by_difference == 2000
        assert check.failed_directions == check.directions
        assert check.mismatch_count > 1000
        assert len(check.mismatches) == 5
    assert _check(result, "b").holds


def test_a_single_entry_off_by_one_is_found_at_1024() -> None:
    """One wrong entry among 1024² is not left to the sample: every direction catches it."""
    last = NUMERIC_LIMIT - 1
    result = numeric_verify(
        NUMERIC_LIMIT,
        NUMERIC_LIMIT,
        NUMERIC_LIMIT,
        seed=11,
        forms={
            "Z": _off_by_one(_true_input_form, last, 0),
            "W": _off_by_one(_true_weight_form, 517, last),
        },
    )
    for variable, index in (("Z", (NUMERIC_LIMIT, 1)), ("W", (518, NUMERIC_LIMIT))):
        check = _check(result, variable)
        assert not check.holds
        assert check.failed_directions == check.directions
        assert check.mismatch_count == 1
        assert [mismatch.index for mismatch in check.mismatches] == [index]
        (mismatch,) = check.mismatches
        assert mismatch.claimed == mismatch.elementwise + 1


def test_the_true_forms_hold_at_1024_with_the_method_stated() -> None:
    result = numeric_verify(NUMERIC_LIMIT, NUMERIC_LIMIT, NUMERIC_LIMIT, bias=True)
    assert result.verified
    for check in result.checks[:2]:
        assert check.entries_by_difference == 2000
        assert check.directions == 2
        assert check.escape_probability == pytest.approx((2 * DIRECTION_RANGE) ** -2)
    assert _check(result, "b").every_entry


def test_a_form_of_the_wrong_shape_fails_without_comparing() -> None:
    result = numeric_verify(3, 4, 5, forms={"Z": lambda inputs, weights, upstream: upstream})
    check = _check(result, "Z")
    assert not check.holds
    assert (check.shape, check.claimed_shape) == ((3, 4), (3, 5))
    assert check.entries_by_difference == 0
    assert "3×5" in render_numeric_text(result)


def test_non_integer_and_non_finite_claims_are_wrong() -> None:
    def halves(inputs: Matrix, weights: Matrix, upstream: Matrix) -> Matrix:
        return upstream @ weights.T + 0.5

    def infinite(inputs: Matrix, weights: Matrix, upstream: Matrix) -> Matrix:
        value = upstream @ weights.T
        value[0, 0] = np.inf
        return value

    for form in (halves, infinite):
        check = _check(numeric_verify(4, 4, 4, forms={"Z": form}), "Z")
        assert not check.holds
        assert check.mismatches[0].index == (1, 1)
    numbers = numeric_data(numeric_verify(4, 4, 4, forms={"Z": infinite}))
    json.dumps(numbers, allow_nan=False)


def test_a_named_formula_keeps_its_text() -> None:
    result = numeric_verify(4, 4, 4, forms={"Z": Formula("G @ W", WRONG_INPUT_FORMS["G·W"])})
    assert _check(result, "Z").identity == "∂L/∂Z = G @ W"
    with pytest.raises(ValueError, match="no matrix form"):
        numeric_verify(2, 2, 2, forms={"A": _true_input_form})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ((NUMERIC_LIMIT + 1, 2, 2), "above the numeric limit of 1024"),
        ((2, 4096, 2), "size k = 4096 is above the numeric limit"),
        ((0, 2, 2), "positive integer"),
        ((2, -1, 2), "positive integer"),
        ((2, 2, 2.0), "positive integer"),
        ((True, 2, 2), "positive integer"),
    ],
)
def test_sizes_outside_the_numeric_limit_are_refused(
    sizes: tuple[object, object, object], message: str
) -> None:
    with pytest.raises(SizeError, match=message):
        numeric_verify(*sizes)  # type: ignore[arg-type]


def test_the_same_seed_gives_the_same_result() -> None:
    wrong: dict[Variable, Form] = {"Z": _off_by_one(_true_input_form, 3, 2)}
    first = numeric_verify(80, 70, 90, seed=5, forms=wrong)
    again = numeric_verify(80, 70, 90, seed=5, forms=wrong)
    assert first == again
    assert numeric_data(first) == numeric_data(again)
    assert render_numeric_text(first) == render_numeric_text(again)
    assert numeric_verify(80, 70, 90, seed=6).verified


def test_sampling_is_used_above_the_full_check_limit() -> None:
    full = numeric_verify(64, 64, 64)
    sampled = numeric_verify(64, 64, 64, full=False, sample_size=100)
    assert FULL_CHECK_LIMIT >= 64**4
    assert all(check.every_entry for check in full.checks)
    assert [check.entries_by_difference for check in sampled.checks] == [100, 100, 64]
    assert sampled.verified


def test_the_text_says_numeric_and_not_a_symbolic_proof() -> None:
    text = render_numeric_text(numeric_verify(300, 300, 300))
    assert METHOD == "numeric check (exact integer arithmetic), not a symbolic proof"
    assert METHOD in text
    assert "not a symbolic proof" in text.splitlines()[-1]
    assert "2,000 of 90,000 entries (a seeded random sample)" in text
    assert "2 random directions" in text
    assert "probability at most 2.5e-13" in text


def test_the_text_of_a_failure_lists_the_wrong_entries() -> None:
    result = numeric_verify(8, 8, 8, forms={"W": _off_by_one(_true_weight_form, 0, 1)})
    text = render_numeric_text(result)
    assert "∂L/∂W = a supplied form  (8×8): FAILS" in text
    assert "  1 wrong entry; first:" in text
    assert "(1,2): elementwise" in text
    assert "NOT verified: 1 of 3 identities fail" in text
    assert "not a symbolic proof" in text


def test_the_data_is_json_and_marked_numeric() -> None:
    result = numeric_verify(5, 6, 7, bias=False, forms={"Z": lambda z, w, g: g @ w.T + 1})
    data = numeric_data(result)
    assert data["kind"] == "numeric"
    assert data["method"] == METHOD
    assert data["verified"] is False
    assert [check["variable"] for check in data["checks"]] == ["Z", "W"]
    first = data["checks"][0]["mismatches"][0]
    assert first["index"] == [1, 1]
    assert first["claimed"] == first["elementwise"] + 1
    assert json.loads(json.dumps(data)) == data


def test_progress_is_reported_per_identity() -> None:
    calls: list[tuple[str, int, int]] = []
    numeric_verify(4, 4, 4, progress=lambda phase, done, total: calls.append((phase, done, total)))
    assert calls == [("numeric", done, 3) for done in range(4)]


def test_the_bounds_keep_every_sum_exact() -> None:
    """The worst sums of the largest layer stay in the exact range of float64 and int64."""
    moved = ENTRY_RANGE + DIRECTION_RANGE
    loss_part = NUMERIC_LIMIT * (NUMERIC_LIMIT * moved * ENTRY_RANGE + moved) * ENTRY_RANGE
    assert loss_part < 2**53
    assert NUMERIC_LIMIT * _CLAIM_LIMIT * DIRECTION_RANGE < 2**63
    assert NUMERIC_LIMIT * ENTRY_RANGE**2 < _CLAIM_LIMIT


def test_mismatches_use_the_model_type() -> None:
    check = _check(numeric_verify(2, 2, 2, forms={"Z": WRONG_INPUT_FORMS["Wᵀ·G"]}), "Z")
    assert all(isinstance(mismatch, Mismatch) for mismatch in check.mismatches)
