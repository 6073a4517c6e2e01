"""A claim is right at every size, not only at the sizes it is checked at (claims/generality.py).

Size tricks, a claim plus a polynomial in m, k or n that vanishes at the small sizes times
anything, must be judged wrong; right answers keep their verdict; the general sizes have every
dimension at least 5 and pairwise distinct, as many values of each size as the degree bound
asks; and the right answer used at the general sizes agrees with the verified derivation.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matgrad_cli.core.claims import CORRECT_FORMULAS, CheckTooCostly, check
from matgrad_cli.core.claims import generality as general
from matgrad_cli.core.claims.answers import expected_tree, layer_at, trial
from matgrad_cli.core.claims.evaluation import evaluate
from matgrad_cli.core.claims.parser import parse_claim
from matgrad_cli.core.layer import Sizes

POLYNOMIAL_LOSSES = ("generic", "sum", "squared-error")
#: The right answer, and a cheap row of its width to add a multiple of (a row is added to
#: every row), for each gradient.
RIGHT = {
    "Z": ("G @ W.T", "ones(1, n) @ W.T"),
    "W": ("Z.T @ G", "ones(1, k) @ W"),
    "b": ("sum(G, axis=0, keepdims=True)", "ones(1, k) @ W"),
}


def size_factor(size: str, root: int) -> str:
    """(size − root) as a 1×1 matrix, built from ones as the issue's trick does."""
    return f"(ones(1, {size}) @ ones({size}, 1) - {root} * ones(1, 1))"


def trick(target: str, factors: list[tuple[str, int]]) -> str:
    """The right answer plus Π (size − root), built from ones, times a row of its width."""
    right, row = RIGHT[target]
    polynomial = " @ ".join(size_factor(size, root) for size, root in factors)
    return f"d{target} = {right} + {polynomial} @ {row}"


def multiple(target: str, factors: list[tuple[str, int]]) -> str:
    """The right answer plus Π (size − root) times the right answer, the sizes as numbers."""
    right, _ = RIGHT[target]
    polynomial = " * ".join(f"({size} - {root})" for size, root in factors)
    return f"d{target} = {right} + {polynomial} * {right}"


# --- the issue's size tricks ----------------------------------------------------------------


@pytest.mark.parametrize("loss", POLYNOMIAL_LOSSES)
@pytest.mark.parametrize("target", ["Z", "W", "b"])
def test_the_issues_size_trick_is_wrong(loss: str, target: str) -> None:
    claim = trick(target, [("m", 2), ("m", 3), ("m", 4)])
    verdict = check(claim, loss=loss).verdicts[0]
    assert not verdict.correct
    assert verdict.reason == "values"
    assert verdict.hint_kind == "size_dependent"
    assert verdict.reported_at.m >= 5
    assert verdict.counterexample is not None  # exact integers show it
    assert verdict.counterexample.claimed != verdict.counterexample.correct


@pytest.mark.parametrize(
    "claim",
    [
        "dZ = G @ W.T + (m-2)*(m-3)*(m-4) * G @ W.T",
        "dW = Z.T @ G + (k - 2) * (k - 3) * (k - 4) * Z.T @ G",
        "db = sum(G, axis=0) + (n-2)*(n-3)*(n-4)*sum(G, axis=0)",
        "dW = Z.T @ G * (n-1) / (n-1) + (m-2)*(m-3)*(m-4)*(k-2) * Z.T @ G / m",
    ],
)
def test_size_tricks_written_with_sizes_as_numbers_are_wrong(claim: str) -> None:
    report = check(claim)
    assert not report.correct
    assert report.verdicts[0].hint_kind == "size_dependent"


def test_the_trick_is_also_caught_at_sizes_given_on_the_command_line() -> None:
    report = check(trick("Z", [("m", 3)]), sizes=Sizes(3, 2, 4))
    assert not report.correct
    assert report.verdicts[0].reported_at.m >= 5


def test_a_trick_that_vanishes_at_the_first_general_sizes_is_caught_at_the_next() -> None:
    # Degree 5 in m: six values of m are compared, 5, 8, 11, 14, 17 and 20; this multiple
    # vanishes at the small sizes and at the first two of them.
    roots = [("m", root) for root in (2, 3, 4, 5, 8)]
    verdict = check(multiple("Z", roots)).verdicts[0]
    assert not verdict.correct
    assert verdict.hint_kind == "size_dependent"
    assert verdict.reported_at.m == 11


FACTORS = st.lists(
    st.tuples(st.sampled_from(["m", "k", "n"]), st.integers(min_value=1, max_value=12)),
    min_size=1,
    max_size=3,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    target=st.sampled_from(["Z", "W", "b"]),
    loss=st.sampled_from(POLYNOMIAL_LOSSES),
    factors=FACTORS,
    with_ones=st.booleans(),
)
def test_random_size_polynomial_multiples_of_a_right_answer_are_caught(
    target: str, loss: str, factors: list[tuple[str, int]], with_ones: bool
) -> None:
    """A right answer plus Π (size − root) times the answer (or, the polynomial built from
    ones, at most two factors of it to stay within the budget, times a row of its width):
    wrong at every size where no factor vanishes, so it must be judged wrong, whichever sizes
    the roots hit (the small ones, the first general ones, or none)."""
    claim = trick(target, factors[:2]) if with_ones else multiple(target, factors)
    verdict = check(claim, loss=loss).verdicts[0]
    assert not verdict.correct, claim
    assert verdict.hint_kind == "size_dependent" or verdict.reported_at.m < 5, claim


# --- right answers stay right ---------------------------------------------------------------


@pytest.mark.parametrize("loss", [*POLYNOMIAL_LOSSES, "softmax-cross-entropy"])
def test_right_answers_are_right_at_the_general_sizes(loss: str) -> None:
    report = check(list(CORRECT_FORMULAS["rows"].values()), loss=loss)
    assert report.correct
    for verdict in report.verdicts:
        assert verdict.general_sizes
        assert any(
            min(s.m, s.k, s.n) >= 5 and len({s.m, s.k, s.n}) == 3 for s in verdict.general_sizes
        )


@pytest.mark.parametrize(
    "claim",
    [
        # Right answers whose value depends on the sizes only as the gradient's does.
        "db = ones(1, m) @ G",
        "dZ = G @ W.T + (m - m) * G @ W.T",
        "dW = Z.T @ G * m / m",
        "db = mean(G, axis=0) * m",
        "dZ = G @ (W + ones(k, n) - ones(k, 1) @ ones(1, n)).T",
    ],
)
def test_right_answers_that_mention_the_sizes_are_right(claim: str) -> None:
    assert check(claim).correct


def test_under_the_sum_loss_the_bias_gradient_grows_with_m() -> None:
    # G is all ones, so ∂L/∂b = [m, …, m]: the right answer itself depends on m, and a claim
    # that writes it with m is right.
    assert check(["db = m * ones(1, n)", "db = sum(G, axis=0)"], loss="sum").correct
    assert not check("db = 2 * ones(1, n)", loss="sum").correct


# --- the general sizes ----------------------------------------------------------------------


def dependence(claim: str, loss: str = "generic") -> general.SizeDependence:
    parsed = parse_claim(claim)
    return general.size_dependence(parsed.expr, expected_tree(parsed.target), loss)


@pytest.mark.parametrize(
    ("claim", "loss", "degrees"),
    [
        ("dZ = G @ W.T", "generic", (0, 0, 0)),
        ("db = sum(G, axis=0)", "generic", (0, 0, 0)),
        ("db = sum(G, axis=0)", "squared-error", (1, 0, 0)),  # Σ_i (… + b_j) holds m·b_j
        ("db = sum(G, axis=0)", "sum", (1, 0, 0)),
        ("dW = Z.T @ G", "softmax-cross-entropy", (0, 0, 1)),  # σ = U − (U1 − 1)1ᵀ/n
        ("db = ones(1, m) @ ones(m, 1) @ ones(1, m) @ G", "generic", (1, 0, 0)),
        ("dZ = G @ ones(n, k) @ ones(k, k)", "generic", (0, 1, 0)),
        ("dZ = (m - 2) * (m - 3) * G @ W.T", "generic", (2, 0, 0)),
        ("dW = Z.T @ G / (n + 1)", "generic", (0, 0, 1)),
    ],
)
def test_the_degree_in_the_sizes_is_bounded_from_the_tree(
    claim: str, loss: str, degrees: tuple[int, int, int]
) -> None:
    assert dependence(claim, loss).degrees == degrees


@pytest.mark.parametrize(
    "claim",
    [
        "dZ = G @ W.T",
        "db = sum(G, axis=0) + (ones(1,m) @ ones(m,1) - 2*ones(1,1)) @ ones(1, m) @ G",
        "dZ = (m - 2) * (k - 3) * (n - 4) * G @ W.T",
        "dW = Z.T @ G @ W.T @ W @ W.T @ W",
    ],
)
def test_the_general_sizes_are_a_grid_of_large_distinct_sizes(claim: str) -> None:
    found = dependence(claim)
    sizes = general.general_sizes(found)
    counts = [len({getattr(s, letter) for s in sizes}) for letter in "mkn"]
    assert counts == [degree + 1 for degree in found.degrees]
    assert len(sizes) == counts[0] * counts[1] * counts[2]
    for each in sizes:
        assert min(each.m, each.k, each.n) >= max(general.GENERAL_BASE, found.factors + 1)
        assert len({each.m, each.k, each.n}) == 3


def test_a_claim_needing_too_many_general_sizes_is_refused() -> None:
    claim = "dZ = " + " * ".join(["(m - 1)", "(k - 1)", "(n - 1)"] * 3) + " * G @ W.T"
    found = dependence(claim)
    assert found.degrees == (3, 3, 3)
    assert len(general.general_sizes(found)) > general.GRID_LIMIT
    with pytest.raises(CheckTooCostly):
        check(claim)


# --- the right answer at the general sizes ----------------------------------------------------


@pytest.mark.parametrize("loss", [*POLYNOMIAL_LOSSES, "softmax-cross-entropy"])
@pytest.mark.parametrize("sizes", [Sizes(2, 3, 4), Sizes(3, 2, 2)])
def test_the_backward_rule_with_g_from_the_cas_is_the_verified_gradient(
    loss: str, sizes: Sizes
) -> None:
    """At small sizes, the right answer the general sizes use (the backward rule, with G from
    the loss's L differentiated by the CAS) equals the verified elementwise derivation."""
    import sympy

    drawn = trial(sizes, 0, loss)
    layer = layer_at(sizes, loss)
    for target, matrix in layer.expected.items():
        if loss == "softmax-cross-entropy":
            # Compare as functions: at the draw's integers, with the exponentials' ratios as the
            # σ of the general route.
            values = {
                symbol: sympy.Integer(v)
                for name in drawn.values
                for symbol, v in zip(
                    layer.operands[name],
                    [x for row in drawn.values[name] for x in row],
                    strict=True,
                )
            }
            exact = matrix.xreplace(values).evalf(40)
            upstream = general.upstream(sizes, loss)
            a = sympy.Matrix(drawn.values["Z"]) * sympy.Matrix(drawn.values["W"]) + sympy.ones(
                sizes.m, 1
            ) * sympy.Matrix(drawn.values["b"])
            sigma = {
                symbol: sympy.exp(a[i, q]) / sum(sympy.exp(a[i, r]) for r in range(sizes.n))
                for i in range(sizes.m)
                for q, symbol in enumerate(upstream.sigma.row(i))
            }
            put = dict(zip(upstream.y, sympy.Matrix(drawn.values["Y"]), strict=True)) | sigma
            operands = {
                **{name: sympy.Matrix(v) for name, v in drawn.values.items()},
                "G": upstream.gradient.xreplace(put),
            }
            rule = evaluate(expected_tree(target), operands, sizes, expand=False).evalf(40)
            assert max(abs(x - y) for x, y in zip(rule, exact, strict=True)) < 1e-30
            continue
        values = {name: tuple(tuple(row) for row in drawn.values[name]) for name in drawn.values}
        operands = general.draw_operands(sizes, loss, _replay(values)).operands
        rule = evaluate(expected_tree(target), operands, sizes)
        assert rule == drawn.expected[target]


def _replay(values: dict[str, tuple[tuple[int, ...], ...]]) -> general.Draw:
    """A draw that hands out the trial's own matrices, in the order draw_operands asks."""
    queue = list(values.values())

    def draw(rows: int, cols: int) -> tuple[tuple[int, ...], ...]:
        matrix = queue.pop(0)
        assert (len(matrix), len(matrix[0])) == (rows, cols)
        return matrix

    return draw
