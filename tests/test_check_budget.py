"""``matgrad check`` does bounded work: every claim's cost is estimated from its tree and the
sizes before any arithmetic, a run over its budget is refused in one line (exit 2), and what a
run spends, counted in operations by the evaluator and the comparisons, stays within both the
estimate and the budget. Operations, not seconds, so that nothing here depends on the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st
from typer.testing import CliRunner

from matgrad_cli.cli import app
from matgrad_cli.core.claims import CheckTooCostly, check
from matgrad_cli.core.claims.answers import expected_tree
from matgrad_cli.core.claims.cost import BUDGET, MAX_DIGITS, Meter, claim_cost
from matgrad_cli.core.claims.judge import DEFAULT_SIZES, judge_claims
from matgrad_cli.core.claims.parser import parse_claim
from matgrad_cli.core.claims.repairs import hinted
from matgrad_cli.core.layer import Sizes

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> tuple[int, str, str]:
    """The CLI's exit code, stdout and stderr."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def assert_refused(args: Sequence[str], *words: str) -> str:
    """``matgrad check ARGS`` refuses: exit 2, nothing on stdout, one line naming ``words``."""
    code, stdout, stderr = run("check", *args)
    assert (code, stdout) == (2, ""), stderr
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("matgrad: error: ")
    assert "Traceback" not in stderr
    for word in words:
        assert word in stderr
    return stderr


def balanced(factor: str, depth: int) -> str:
    """``factor`` multiplied by itself 2^depth times, as a balanced tree of parentheses."""
    if depth == 0:
        return factor
    half = balanced(factor, depth - 1)
    return f"({half} @ {half})"


# --- the inputs of the issue, each refused before any arithmetic ----------------------------


def test_a_short_product_at_the_largest_sizes_is_refused() -> None:
    stderr = assert_refused(
        ["dZ = G @ W.T @ W @ W.T @ W @ W.T", "--m", "10", "--k", "10", "--n", "10"],
        f"over the budget of {BUDGET:,}",
        "smaller --m/--k/--n",
    )
    assert "m=10, k=10, n=10" in stderr


def test_a_product_of_softmax_gradients_is_refused() -> None:
    assert_refused(["--loss", "softmax-cross-entropy", "dW = Z.T @ G @ G.T @ G"], "over the budget")


def test_a_balanced_product_of_900_characters_is_refused() -> None:
    claim = "dW = W @ " + balanced("(W.T @ W)", 6)
    assert 890 <= len(claim) <= 910
    stderr = assert_refused([claim], "over the budget", "terms of degree")
    assert claim not in stderr  # the claim is shown cut short, on the one line


def test_a_file_of_48000_distinct_wrong_claims_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "answers.txt"
    path.write_text("".join(f"dZ = {index} * G @ W\n" for index in range(2, 48_002)))
    assert path.stat().st_size < 1_000_000
    stderr = assert_refused(["--file", str(path)], "48,000 claims", "in parts of at most")
    assert stderr.startswith(f"matgrad: error: {path}: ")


def test_a_claim_whose_numbers_would_pass_python_s_digit_limit_is_refused() -> None:
    number = "9" * 100
    claim = "dZ = " + " * ".join([number] * 43) + " * G @ W.T"
    assert_refused([claim], f"over the limit of {MAX_DIGITS:,}", "use smaller numbers")


def test_a_costly_claim_in_a_file_is_named_by_its_line(tmp_path: Path) -> None:
    path = tmp_path / "answers.txt"
    path.write_text("dZ = G @ W.T\n\ndW = W @ " + balanced("(W.T @ W)", 4) + "\n")
    code, stdout, stderr = run("check", "--file", str(path))
    # The other claim is judged; the costly one is refused on its own, named by its line.
    assert code == 2
    assert "✓ dZ = G @ W.T   correct" in stdout
    assert "over the budget" in " ".join(stdout.split())
    assert stderr.startswith(
        f"matgrad: error: 1 of 2 claims could not be checked (the first: {path}, line 3: the claim "
    )


def test_the_refusal_spends_nothing() -> None:
    meter = Meter()
    claim = "dZ = G @ W.T @ W @ W.T @ W @ W.T"
    with pytest.raises(CheckTooCostly) as refused:
        judge_claims([claim], (Sizes(10, 10, 10),), "generic", meter)
    assert refused.value.source == claim
    assert meter.spent == 0


# --- the corpus stays well under the budget -------------------------------------------------

CORPUS = {
    "generic": [
        "dZ = G @ W.T",
        "dW = Z.T @ G",
        "db = sum(G, axis=0)",
        "dL/dW = Z' @ dL/dA",
        "db = ones(m, 1).T @ G",
        "dZ = 0.5 * (G + G) @ W.T",
        "dZ = -(-G @ W.T)",
        "dW = G.T @ Z",
        "dZ = G @ W",
        "dZ = -G @ W.T",
        "dZ = 2 * G @ W.T",
        "db = sum(G, axis=1)",
        "db = sum(G, axis=0) + b - 2 * b",
    ],
    "squared-error": [
        "dW = Z.T @ (Z @ W + ones(m,1) @ b - Y)",
        "dZ = (Z @ W + ones(m,1) @ b - Y) @ W.T",
        "db = sum(Z @ W + ones(m,1) @ b - Y, axis=0)",
        "dZ = (Z @ W - Y) @ W.T",
    ],
    "softmax-cross-entropy": [
        "dZ = G @ W.T",
        "dW = Z.T @ G",
        "db = sum(G, axis=0)",
        "dZ = -G @ W.T",
        "dZ = G @ (W + ones(k, n)).T",
        "dZ = G @ W.T + sum(G, axis=1) @ ones(1, k)",
    ],
}


def estimate(claim: str, sizes: Sequence[Sizes], loss: str) -> int:
    """The operations checking ``claim`` may take, estimated before any arithmetic."""
    parsed = parse_claim(claim)
    target = expected_tree(parsed.target)
    return claim_cost(parsed.expr, target, sizes, loss, hinted(parsed.expr)).operations


@pytest.mark.parametrize(
    ("loss", "claim"), [(loss, claim) for loss, claims in CORPUS.items() for claim in claims]
)
def test_a_typical_claim_costs_well_under_the_budget(loss: str, claim: str) -> None:
    assert estimate(claim, DEFAULT_SIZES, loss) < BUDGET // 3


def test_the_right_answers_are_checked_together_under_every_loss() -> None:
    for loss, claims in CORPUS.items():
        assert check(claims[:3], loss=loss).correct


# --- every run ends within the budget, counted in operations --------------------------------

#: Factors by the sizes of their rows and columns.
_FACTORS: dict[tuple[str, str], list[str]] = {
    ("m", "n"): ["G", "ones(m, n)"],
    ("n", "m"): ["G.T"],
    ("k", "n"): ["W"],
    ("n", "k"): ["W.T"],
    ("m", "k"): ["Z"],
    ("k", "m"): ["Z.T", "ones(k, m)"],
    ("m", "m"): ["G @ G.T", "Z @ Z.T"],
    ("n", "n"): ["W.T @ W", "G.T @ G"],
    ("k", "k"): ["W @ W.T", "Z.T @ Z"],
}
_TARGETS = {"dZ": ("m", "k"), "dW": ("k", "n"), "db": ("1", "n")}


@st.composite
def fitting_claims(draw: st.DrawFn) -> str:
    """A claim whose shapes fit at every size, of growing cost: a chain of up to 7 factors from
    the gradient's rows to its columns, some of them sums or scaled, perhaps summed or negated."""
    target = draw(st.sampled_from(sorted(_TARGETS)))
    rows, cols = _TARGETS[target]
    start = "m" if rows == "1" else rows
    parts, at = [], start
    for _ in range(draw(st.integers(0, 6))):
        (shape, choices) = draw(
            st.sampled_from(
                [(shape, options) for shape, options in _FACTORS.items() if shape[0] == at]
            )
        )
        part = draw(st.sampled_from(choices))
        if draw(st.integers(0, 3)) == 0:
            part = f"({part} + {draw(st.sampled_from(choices))})"
        elif draw(st.integers(0, 3)) == 0:
            part = f"0.5 * {part}"
        parts.append(f"({part})")
        at = shape[1]
    last = [
        option for shape, options in _FACTORS.items() if shape == (at, cols) for option in options
    ]
    parts.append(f"({draw(st.sampled_from(last or [f'ones({at}, {cols})']))})")
    expression = " @ ".join(parts)
    if rows == "1":
        expression = f"sum({expression}, axis=0)"
    wrap = draw(st.sampled_from(["{}", "-({})", "2 * ({})", "({}) + ({})"]))
    return f"{target} = {wrap.format(expression, expression)}"


@st.composite
def misfit_claims(draw: st.DrawFn) -> str:
    """A chain of factors whatever their shapes: mostly wrong shapes, each repair tried."""
    names = ["G", "W", "W.T", "Z", "Z.T", "G.T", "b", "ones(n, n)", "2"]
    parts = draw(st.lists(st.sampled_from(names), min_size=1, max_size=8))
    target = draw(st.sampled_from(sorted(_TARGETS)))
    return f"{target} = {' @ '.join(parts)}"


def growing_claims() -> st.SearchStrategy[str]:
    return st.one_of(fitting_claims(), misfit_claims())


SIZES = st.sampled_from([DEFAULT_SIZES, (Sizes(3, 2, 2),), (Sizes(5, 4, 3),), (Sizes(6, 6, 6),)])
#: Budgets small enough for the examples that run to stay quick; the bounds hold at any budget.
SMALL_BUDGET = 50_000
SOFTMAX_BUDGET = 120_000


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    claims=st.lists(growing_claims(), min_size=1, max_size=3),
    sizes=SIZES,
    loss=st.sampled_from(["generic", "sum", "squared-error"]),
)
def test_every_run_ends_within_its_estimate_and_the_budget(
    claims: list[str], sizes: tuple[Sizes, ...], loss: str
) -> None:
    meter = Meter(SMALL_BUDGET)
    try:
        judge_claims(claims, sizes, loss, meter)
    except CheckTooCostly:
        assert meter.spent == 0  # refused before any arithmetic
        return
    target(meter.spent)  # towards the costliest runs the budget lets through
    assert meter.spent <= sum(estimate(claim, sizes, loss) for claim in set(claims))
    assert meter.spent <= SMALL_BUDGET


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claim=fitting_claims())
def test_every_softmax_run_ends_within_its_estimate_and_the_budget(claim: str) -> None:
    meter = Meter(SOFTMAX_BUDGET)
    try:
        judge_claims([claim], DEFAULT_SIZES, "softmax-cross-entropy", meter)
    except CheckTooCostly:
        assert meter.spent == 0
        return
    cost = estimate(claim, DEFAULT_SIZES, "softmax-cross-entropy")
    assert meter.spent <= cost <= SOFTMAX_BUDGET


# --- claims files that are not regular files ------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "answers"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "matgrad_cli", "check", "--file", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"matgrad: error: {fifo} is not a regular file (a pipe, device or socket); "
        "save the claims to a file and give that\n"
    )
