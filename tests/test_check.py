"""``matgrad check``: right answers pass, every classic slip is rejected with its hint, wrong
answers come with a genuine counterexample, and the CLI keeps its exit codes on any input.

Golden files live in tests/golden/check/. After an intended change of the output, regenerate
them with ``MATGRAD_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_check.py -k golden`` and read
the diff before committing it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from typer.testing import CliRunner

from matgrad_cli.cli import app
from matgrad_cli.core.claims import (
    CORRECT_FORMULAS,
    DEFAULT_SIZES,
    ClaimLine,
    ClaimVerdict,
    NumberMatrix,
    check,
    read_claims_file,
)
from matgrad_cli.core.claims.answers import ENTRY_RANGE
from matgrad_cli.core.claims.cost import BUDGET, CheckTooCostly
from matgrad_cli.core.layer import Sizes
from matgrad_cli.errors import ClaimSyntaxError, InputError, SizeError
from matgrad_cli.present import render
from matgrad_cli.present.check_doc import upstream_note
from matgrad_cli.present.check_text import caret_excerpt
from matgrad_cli.present.json import render_json

GOLDEN = Path(__file__).resolve().parent / "golden" / "check"
UPDATE_GOLDEN = os.environ.get("MATGRAD_UPDATE_GOLDEN") == "1"
SQUARE = Sizes(2, 2, 2)


def verdict_of(claim: str, sizes: Sizes | None = None) -> ClaimVerdict:
    (verdict,) = check(claim, sizes=sizes).verdicts
    return verdict


def run(*args: str) -> tuple[int, str, str]:
    """The CLI's exit code, stdout and stderr."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


# --- right answers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "claim",
    [
        *CORRECT_FORMULAS["rows"].values(),
        "dL/dW = Z' @ dL/dA",
        "∂L/∂Z = ∂L/∂A @ Wᵀ",
        "dZ = (W @ G.T).T",
        "db = ones(m, 1).T @ G",
        "db = ones(1, m) @ G",
        "dZ = 0.5 * (G + G) @ W.T",
        "dZ = -(-G @ W^T)",
    ],
)
def test_right_answers_are_correct_at_every_default_size(claim: str) -> None:
    verdict = verdict_of(claim)
    assert verdict.correct
    assert verdict.reason == "ok"
    assert verdict.sizes_checked == DEFAULT_SIZES
    assert verdict.hint is None
    assert verdict.first_difference is None
    assert verdict.counterexample is None


def test_default_sizes_include_distinct_non_square_triples() -> None:
    assert Sizes(2, 3, 4) in DEFAULT_SIZES
    distinct = [sizes for sizes in DEFAULT_SIZES if len({sizes.m, sizes.k, sizes.n}) == 3]
    assert len(distinct) >= 3
    # Every pair of m, k, n differs at some size, so no transpose can hide behind a square.
    for first, second in (("m", "k"), ("k", "n"), ("m", "n")):
        assert any(getattr(s, first) != getattr(s, second) for s in DEFAULT_SIZES)


def test_given_sizes_are_the_only_sizes_checked() -> None:
    report = check(["dZ = G @ W.T", "dW = Z.T @ G", "db = sum(G, axis=0)"], sizes=Sizes(3, 1, 5))
    assert report.correct
    assert all(verdict.sizes_checked == (Sizes(3, 1, 5),) for verdict in report.verdicts)
    assert [verdict.expected_shape for verdict in report.verdicts] == [(3, 1), (1, 5), (1, 5)]


def test_report_is_correct_only_when_every_claim_is() -> None:
    assert check(["dZ = G @ W.T", "dW = Z.T @ G"]).correct
    report = check(["dZ = G @ W.T", "dW = G.T @ Z"])
    assert not report.correct
    assert [verdict.correct for verdict in report.verdicts] == [True, False]


# --- slips and their hints -----------------------------------------------------------------

SLIPS: list[tuple[str, Sizes | None, str, str]] = [
    # claim, sizes, reason, hint kind
    ("dW = G.T @ Z", None, "shape", "transposed_result"),
    ("dZ = W @ G.T", None, "shape", "transposed_result"),
    ("db = G.T @ ones(m, 1)", None, "shape", "transposed_result"),
    ("dW = (Z.T @ G).T", None, "shape", "transposed_result"),
    ("dW = G.T @ Z", SQUARE, "values", "transposed_result"),
    ("dZ = W.T @ G", None, "shape", "swapped_factors"),
    ("dW = G @ Z.T", None, "shape", "swapped_factors"),
    ("dZ = G @ W", None, "shape", "missing_transpose"),
    ("dW = Z @ G", None, "shape", "missing_transpose"),
    ("dZ = G @ W", SQUARE, "values", "missing_transpose"),
    ("db = ones(m, 1) @ G", None, "shape", "missing_transpose"),
    ("dW = Z.T @ G.T", None, "shape", "extra_transpose"),
    ("dZ = G @ W.T.T", None, "shape", "extra_transpose"),
    ("db = sum(G, axis=1)", None, "shape", "wrong_sum_axis"),
    ("dZ = -G @ W.T", None, "values", "sign_error"),
    ("dW = Z.T @ -G", None, "values", "sign_error"),
    ("dZ = G @ W.T - 2 * G @ W.T", None, "values", "sign_error"),
    ("dZ = G @ W.T + b", None, "shape", "extra_bias_term"),
    ("dZ = G @ W.T + b", SQUARE, "values", "extra_bias_term"),
    ("db = sum(G, axis=0) + b", None, "values", "extra_bias_term"),
    ("db = sum(G - b, axis=0)", None, "values", "extra_bias_term"),
    ("db = G", None, "shape", "missing_sum"),
    ("db = sum(G, axis=0) + b - 2 * b", None, "values", "missing_bias_term"),
    ("dZ = 2 * G @ W.T", None, "values", "scaled"),
    ("dZ = G @ W.T * 0.5", None, "values", "scaled"),
    ("dW = Z.T @ G + Z.T @ G", None, "values", "scaled"),
]


@pytest.mark.parametrize(("claim", "sizes", "reason", "kind"), SLIPS)
def test_each_slip_is_rejected_with_its_hint(
    claim: str, sizes: Sizes | None, reason: str, kind: str
) -> None:
    verdict = verdict_of(claim, sizes)
    assert not verdict.correct
    assert verdict.reason == reason
    assert verdict.hint_kind == kind
    assert verdict.hint
    assert verdict.correct_formula == CORRECT_FORMULAS[verdict.samples][verdict.target]


@pytest.mark.parametrize(
    ("claim", "words"),
    [
        ("dW = G.T @ Z", "Gᵀ @ Z is the transpose of the right answer"),
        ("dZ = W.T @ G", "Wᵀ @ G should be G @ Wᵀ"),
        ("dZ = G @ W", "W should be Wᵀ"),
        ("db = sum(G, axis=1)", "column j of G, since b_j is added to every row, so use axis=0"),
        ("dZ = -G @ W.T", "the negative of the right answer"),
        ("dZ = 2 * G @ W.T", "2 * G @ Wᵀ is 2 times the right answer"),
        ("dZ = 0.5 * G @ W.T", "0.5 times the right answer"),
        ("dZ = G @ W.T + b", "drop b"),
    ],
)
def test_hints_name_the_slip_in_words(claim: str, words: str) -> None:
    hint = verdict_of(claim).hint
    assert hint is not None
    assert words in hint


@pytest.mark.parametrize(
    "claim",
    ["dZ = G.T @ W", "dZ = G @ W.T - G @ W.T", "dZ = G @ W.T - b + b - b", "dW = Z.T"],
)
def test_no_hint_when_no_single_repair_makes_the_claim_right(claim: str) -> None:
    verdict = verdict_of(claim)
    assert not verdict.correct
    assert verdict.hint is None
    assert verdict.hint_kind is None


def test_a_hint_is_never_the_claim_itself_being_right() -> None:
    """Repairs are only offered for wrong claims: a right answer gets no hint at any size."""
    for sizes in (*DEFAULT_SIZES, Sizes(1, 1, 1), Sizes(3, 1, 5)):
        assert verdict_of("dZ = G @ W.T", sizes).hint is None


# --- SPEC section 5: the notes' mistakes, written as claims ----------------------------------


def test_notes_dw_equals_zt_dw_is_not_a_claim_it_names_dw_on_the_right() -> None:
    """ "∂L/∂W = Zᵀ ∂L/∂W": dW is not a name the right side may use, so it does not parse."""
    with pytest.raises(ClaimSyntaxError) as caught:
        check("dW = Z.T @ dW")
    assert "not ∂L/∂W, one of the gradients sought" in caught.value.message
    assert caught.value.caret_lines() == ("dW = Z.T @ dW", " " * 11 + "^")


@pytest.mark.parametrize(
    "claim",
    [
        # What the notes assembled for ∂L/∂W: the transpose of Zᵀ·∂L/∂A (SPEC §5, item 2).
        "dW = (Z.T @ G).T",
        # The same with the transposed general indices, Σ_i z_{i,j} g_{i,r} (SPEC §5, item 4).
        "dW = G.T @ Z",
        # The nearest matrix slip to the misplaced entries of the assembled ∂L/∂Z (item 1).
        "dZ = (G @ W.T).T",
        # The bias gradient drawn as a column, as the notes drew b (item 5).
        "db = sum(G, axis=1)",
        "db = G.T @ ones(m, 1)",
        # "∂Y/∂W = Xᵀ" read as the gradient itself (item 7): Zᵀ alone is not ∂L/∂W.
        "dW = Z.T",
    ],
)
def test_each_mistake_of_the_notes_is_rejected(claim: str) -> None:
    assert not verdict_of(claim).correct
    assert not verdict_of(claim, SQUARE).correct


# --- what a wrong verdict says -------------------------------------------------------------


def test_shape_error_lists_the_steps_up_to_the_first_misfit() -> None:
    verdict = verdict_of("dZ = W.T @ G")
    assert verdict.reason == "shape"
    assert verdict.reported_at == Sizes(2, 3, 4)
    assert [(step.text, step.shape) for step in verdict.shape_steps] == [
        ("W", (3, 4)),
        ("Wᵀ", (4, 3)),
        ("G", (2, 4)),
    ]
    assert verdict.shape_message == "Wᵀ @ G: (4×3) @ (2×4), and 3 ≠ 2"
    assert verdict.claimed_shape is None
    assert verdict.expected_shape == (2, 3)


def test_result_of_the_wrong_shape_is_a_shape_error() -> None:
    verdict = verdict_of("dW = G.T @ Z")
    assert verdict.reason == "shape"
    assert verdict.claimed_shape == (4, 3)
    assert verdict.expected_shape == (3, 4)
    assert verdict.shape_message == "the claim is 4×3 but ∂L/∂W is 3×4, the shape of W"
    assert verdict.counterexample is None


def test_values_error_gives_the_first_differing_entry_symbolically() -> None:
    verdict = verdict_of("dZ = -G @ W.T")
    assert verdict.reason == "values"
    assert verdict.reported_at == SQUARE
    difference = verdict.first_difference
    assert difference is not None
    assert difference.index == (1, 1)
    assert difference.claimed == "-dA_1_1*w_1_1 - dA_1_2*w_1_2"
    assert difference.correct == "dA_1_1*w_1_1 + dA_1_2*w_1_2"


def _product(left: NumberMatrix, right: NumberMatrix) -> NumberMatrix:
    return tuple(
        tuple(
            sum((left[i][s] * right[s][j] for s in range(len(right))), Fraction(0))
            for j in range(len(right[0]))
        )
        for i in range(len(left))
    )


def _transpose(matrix: NumberMatrix) -> NumberMatrix:
    return tuple(zip(*matrix, strict=True))


def test_counterexample_is_genuine_small_and_deterministic() -> None:
    verdict = verdict_of("dZ = -G @ W.T")
    example = verdict.counterexample
    assert example is not None
    assert example == verdict_of("dZ = -G @ W.T").counterexample
    operands = dict(example.operands)
    assert list(operands) == ["W", "G"]
    low, high = ENTRY_RANGE
    for matrix in operands.values():
        assert all(low <= entry <= high for row in matrix for entry in row)
        assert any(entry != 0 for row in matrix for entry in row)
    # Recomputed here by hand, independently of sympy: G·Wᵀ, and the claim -G·Wᵀ.
    right = _product(operands["G"], _transpose(operands["W"]))
    assert example.correct == right
    assert example.claimed == tuple(tuple(-entry for entry in row) for row in right)
    assert example.claimed != example.correct


def test_counterexample_for_a_bias_claim_shows_b() -> None:
    example = verdict_of("db = sum(G, axis=0) + b").counterexample
    assert example is not None
    operands = dict(example.operands)
    assert list(operands) == ["b", "G"]
    column_sums = tuple(sum(column, Fraction(0)) for column in _transpose(operands["G"]))
    assert example.correct == (column_sums,)
    bias = operands["b"][0]
    assert example.claimed == (tuple(s + b for s, b in zip(column_sums, bias, strict=True)),)


def test_counterexample_with_decimals_is_exact() -> None:
    example = verdict_of("dZ = 0.5 * G @ W.T").counterexample
    assert example is not None
    assert example.claimed == tuple(tuple(entry / 2 for entry in row) for row in example.correct)


# --- refusals ------------------------------------------------------------------------------


def test_claims_using_y_need_a_loss_with_targets() -> None:
    with pytest.raises(ClaimSyntaxError) as caught:
        check("dZ = (G - Y) @ W.T")
    assert caught.value.message == (
        "Y, the targets, needs a loss that has them: --loss squared-error or softmax-cross-entropy"
    )
    assert caught.value.position == 10
    with pytest.raises(ClaimSyntaxError, match="the sum loss has no targets Y"):
        check("dZ = (G - Y) @ W.T", loss="sum")


SQUARED = "Z @ W + ones(m,1) @ b - Y"


@pytest.mark.parametrize(
    ("claim", "correct", "hint_kind"),
    [
        (f"dW = Z.T @ ({SQUARED})", True, None),
        (f"dZ = ({SQUARED}) @ W.T", True, None),
        (f"db = sum({SQUARED}, axis=0)", True, None),
        ("dW = Z.T @ G", True, None),
        (f"dW = ({SQUARED}).T @ Z", False, "transposed_result"),
        (f"db = sum({SQUARED}, axis=1)", False, "wrong_sum_axis"),
        (f"dZ = ({SQUARED}) @ W", False, "missing_transpose"),
        (f"dZ = -({SQUARED}) @ W.T", False, "sign_error"),
        (f"db = sum({SQUARED}, axis=0) + b", False, "extra_bias_term"),
        ("dZ = (Z @ W - Y) @ W.T", False, None),
    ],
)
def test_claims_under_the_squared_error_loss(
    claim: str, correct: bool, hint_kind: str | None
) -> None:
    verdict = check(claim, loss="squared-error").verdicts[0]
    assert verdict.correct is correct
    assert verdict.hint_kind == hint_kind
    assert verdict.loss == "squared-error"
    if not correct and verdict.reason == "values":
        example = verdict.counterexample
        assert example is not None
        assert example.claimed != example.correct
        assert [name for name, _ in example.operands][-1] == "Y"


def test_claims_under_the_sum_and_softmax_losses() -> None:
    assert check("dZ = ones(m, n) @ W.T", loss="sum").correct
    assert not check("dZ = ones(m, n) @ W.T + 0.5 * ones(m, k)", loss="sum").correct
    softmax = check(["dZ = G @ W.T", "dZ = -G @ W.T"], loss="softmax-cross-entropy")
    right, wrong = softmax.verdicts
    assert right.correct
    assert not wrong.correct
    assert wrong.hint_kind == "sign_error"
    assert wrong.counterexample is None  # softmax values at integers are not exact numbers
    assert upstream_note(wrong) == (
        "here G = ∂L/∂A = softmax(A) − Y (softmax of each row), for rows of Y that sum to 1"
    )


def test_every_claim_is_parsed_before_any_is_checked_and_the_first_error_wins() -> None:
    with pytest.raises(ClaimSyntaxError) as caught:
        check(["dZ = G @ W.T", "dZ = G @ X", "dW = (Z"])
    assert caught.value.source == "dZ = G @ X"


def test_claims_too_costly_to_evaluate_are_refused() -> None:
    huge = " @ ".join(["ones(100, 100)"] * 3)
    claim = f"dZ = ones(m, 100) @ ({huge}) @ ones(100, k)"
    with pytest.raises(CheckTooCostly) as caught:
        check(claim)
    assert f"over the budget of {BUDGET:,}" in caught.value.message
    assert caught.value.source == claim


@pytest.mark.parametrize("sizes", [Sizes(0, 2, 2), Sizes(11, 10, 10)])
def test_bad_or_too_large_sizes_are_refused(sizes: Sizes) -> None:
    with pytest.raises(SizeError):
        check("dZ = G @ W.T", sizes=sizes)


def test_no_claims_is_an_input_error() -> None:
    with pytest.raises(InputError):
        check([])


# --- claims files --------------------------------------------------------------------------


def test_claims_file_skips_blank_lines_and_comments_and_keeps_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "answers.txt"
    path.write_text(
        "\ufeff# my answers\n\ndZ = G @ W.T   # chain rule\n   \r\n  dW = Z.T @ G\n# end\n",
        encoding="utf-8",
    )
    assert read_claims_file(path) == [ClaimLine(3, "dZ = G @ W.T"), ClaimLine(5, "dW = Z.T @ G")]


@pytest.mark.parametrize("separator", ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028"])
def test_claims_file_lines_end_at_newlines_only(tmp_path: Path, separator: str) -> None:
    # str.splitlines() would split at each of these too, and shift every line number after it.
    path = tmp_path / "answers.txt"
    path.write_text(f"dZ = G @ W.T\n{separator}\ndW = Z.T @ G\r\ndb = G{separator}\n")
    assert read_claims_file(path) == [
        ClaimLine(1, "dZ = G @ W.T"),
        ClaimLine(3, "dW = Z.T @ G"),
        ClaimLine(4, f"db = G{separator}".strip()),
    ]


def test_cli_names_the_right_line_after_a_form_feed(tmp_path: Path) -> None:
    path = tmp_path / "answers.txt"
    path.write_text("dZ = G @ W.T\n\f\ndW = Z.T @ G\ndW = Z.T @\fG\n")
    code, stdout, stderr = run("check", "--file", str(path))
    # The other lines are judged; the bad one is named by its line, and the run exits 2.
    assert code == 2
    flat = " ".join(stdout.split())  # long paths wrap
    assert f"Not checked: {path}, line 4: non-printable character U+000C" in flat
    assert stdout.count("   correct") == 2
    assert stderr.startswith("matgrad: error: 1 of 3 claims could not be checked (the first: ")


def test_cli_shows_the_escape_sequences_of_a_file_name_escaped(tmp_path: Path) -> None:
    path = tmp_path / "\x1b[31mred\x07.txt"
    code, stdout, stderr = run("check", "--file", str(path))
    assert (code, stdout) == (2, "")
    assert stderr == f"matgrad: error: {tmp_path}/\\x1b[31mred\\x07.txt: no such file\n"
    path.write_text("dZ = G @ X\n")
    _, _, stderr = run("check", "--file", str(path))
    assert "\x1b" not in stderr
    assert "\x07" not in stderr
    assert stderr.startswith(f"matgrad: error: {tmp_path}/\\x1b[31mred\\x07.txt, line 1: ")
    path.write_text("# nothing\n")
    _, _, stderr = run("check", "--file", str(path))
    assert stderr == (
        f"matgrad: error: {tmp_path}/\\x1b[31mred\\x07.txt holds no claims, only blank lines "
        "and comments\n"
    )


def test_claims_file_problems_are_one_line_input_errors(tmp_path: Path) -> None:
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"dZ = G @ W.T\n\xff\xfe\n")
    huge = tmp_path / "huge.txt"
    huge.write_text("dZ = G @ W.T\n" * 100_000)
    for path, words in (
        (tmp_path / "missing.txt", "no such file"),
        (tmp_path, "is a directory"),
        (binary, "is not UTF-8"),
        (huge, "is larger than 1,000,000 bytes"),
    ):
        with pytest.raises(InputError) as caught:
            read_claims_file(path)
        assert words in str(caught.value)
        assert "\n" not in str(caught.value)


# --- text and JSON -------------------------------------------------------------------------

SHOWCASE = [
    "dZ = G @ W.T",
    "dW = G.T @ Z",
    "db = sum(G, axis=1)",
    "dZ = -G @ W.T",
    "dZ = 1000000000000000000000 * G @ W.T",
    "dZ = W.T @ G + " + " + ".join(["G @ W.T"] * 12),
]


def test_text_fits_80_columns_and_has_no_colour_by_default() -> None:
    text = render(check(SHOWCASE), "text")
    assert "\x1b[" not in text
    for line in text.splitlines():
        assert cell_len(line) <= 80, line
    assert text.endswith("\n")


def test_text_has_colour_when_asked() -> None:
    assert "\x1b[" in render(check("dZ = -G @ W.T"), "text", color=True)


def test_large_counterexamples_are_elided() -> None:
    text = render(check("dZ = -G @ W.T", sizes=Sizes(8, 1, 1)), "text")
    assert "⋮" in text
    for line in text.splitlines():
        assert cell_len(line) <= 80, line


def test_json_has_the_documented_keys_in_a_stable_order() -> None:
    data = json.loads(render_json(check(["dZ = G @ W.T", "dZ = -G @ W.T"])))
    assert list(data) == ["schema", "correct", "counts", "claims"]
    assert data["correct"] is False
    assert data["counts"] == {"claims": 2, "correct": 1, "wrong": 1}
    right, wrong = data["claims"]
    assert list(right) == [
        "claim",
        "target",
        "loss",
        "correct",
        "reason",
        "sizes_checked",
        "reported_at",
        "expected_shape",
        "claimed_shape",
        "shape_steps",
        "shape_message",
        "first_difference",
        "counterexample",
        "hint_kind",
        "hint",
        "correct_formula",
        "notes",
        "general_sizes",
    ]
    assert right["reason"] == "ok"
    assert right["sizes_checked"][0] == {"m": 2, "k": 3, "n": 4}
    assert wrong["reason"] == "values"
    assert wrong["hint_kind"] == "sign_error"
    assert wrong["first_difference"]["index"] == [1, 1]
    assert set(wrong["counterexample"]["operands"]) == {"W", "G"}
    assert wrong["correct_formula"] == "dZ = G @ W.T"


def test_json_example_in_the_docs_is_what_matgrad_prints() -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "claims.md").read_text()
    section = docs.split("## Checking claims: `matgrad check`", 1)[1]
    example = section.split("```json\n", 1)[1].split("```", 1)[0]
    documented = json.loads(example)
    actual = json.loads(render_json(check(documented["claims"][0]["claim"])))
    assert documented == actual
    assert list(documented["claims"][0]) == list(actual["claims"][0])


def test_json_writes_decimal_results_as_exact_strings() -> None:
    data = json.loads(render_json(check("dZ = 0.5 * G @ W.T")))
    entries = [entry for row in data["claims"][0]["counterexample"]["claimed"] for entry in row]
    assert all(isinstance(entry, int) or Fraction(entry) * 2 % 1 == 0 for entry in entries)
    assert any(isinstance(entry, str) for entry in entries)


def test_caret_excerpt_windows_long_and_multi_line_claims() -> None:
    long_claim = "dZ = " + " + ".join(["G @ W.T"] * 40) + " + X"
    with pytest.raises(ClaimSyntaxError) as caught:
        check(long_claim)
    source, caret = caret_excerpt(caught.value)
    assert len(source) <= 80
    assert source[len(caret) - 1] == "X"
    with pytest.raises(ClaimSyntaxError) as caught:
        check("dZ = G @\n\tW.T @ X")
    source, caret = caret_excerpt(caught.value)
    assert source == " W.T @ X"
    assert source[len(caret) - 1] == "X"


# --- golden outputs ------------------------------------------------------------------------

GOLDEN_CASES = {
    "correct": "dZ = G @ W.T",
    "wrong_values": "dZ = -G @ W.T",
    "wrong_shape": "dW = G.T @ Z",
}


@pytest.mark.parametrize("output_format", ["text", "json"])
@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_golden_output(case: str, output_format: str) -> None:
    code, stdout, stderr = run("check", GOLDEN_CASES[case], "--format", output_format)
    assert code == (0 if case == "correct" else 1)
    assert stderr == ""
    path = GOLDEN / f"{case}.{'txt' if output_format == 'text' else 'json'}"
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(stdout, encoding="utf-8")
    assert stdout == path.read_text(encoding="utf-8"), (
        f"{path.name} differs; if the change is intended, regenerate with "
        "MATGRAD_UPDATE_GOLDEN=1 and read the diff"
    )


# --- the command line ----------------------------------------------------------------------


def test_cli_exit_code_is_0_when_every_claim_is_correct() -> None:
    code, stdout, stderr = run("check", "dZ = G @ W.T", "dW = Z.T @ G", "db = sum(G, axis=0)")
    assert code == 0
    assert "3 of 3 claims correct." in stdout
    assert stderr == ""


def test_cli_exit_code_is_1_when_any_claim_is_wrong() -> None:
    code, stdout, _ = run("check", "dZ = G @ W.T", "db = sum(G, axis=1)")
    assert code == 1
    assert "wrong sum axis" in stdout
    assert "Right answer: db = sum(G, axis=0)" in stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dZ = G @ Q"], "matgrad: error: unknown name 'Q'"),
        (["dZ = G @ X"], "matgrad: error: the claim names the input both Z"),
        (["dW = Z.T @ dW"], "matgrad: error: the right side may use ∂L/∂A (G), not ∂L/∂W"),
        (["dZ = Y @ W.T"], "matgrad: error: Y, the targets, needs a loss that has them"),
        (["dZ = (G"], "matgrad: error: expected ')' to close '('"),
        ([], "matgrad: error: no claims to check"),
        (["dZ = G @ W.T", "--m", "3"], "matgrad: error: give all three of --m, --k and --n"),
        (["dZ = G @ W.T", "-m", "x", "-k", "1", "-n", "1"], "matgrad: error: size m must be"),
        (["dZ = G @ W.T", "-m", "20", "-k", "20", "-n", "20"], "matgrad: error: m·k·n = 8000"),
        (["dZ = G @ W.T", "-m", "1", "-k", "1", "-n", "2000"], "matgrad: error: m·k·n = 2000"),
        (["dZ = G @ W.T", "--file", "missing.txt"], "matgrad: error: missing.txt: no such file"),
    ],
)
def test_cli_exit_code_is_2_for_bad_input_with_nothing_on_stdout(
    args: list[str], message: str
) -> None:
    code, stdout, stderr = run("check", *args)
    assert code == 2
    assert stdout == ""
    assert stderr.startswith(message)
    assert "Traceback" not in stderr
    assert "--numeric" not in stderr  # derive's option; check has none


def test_cli_syntax_error_prints_the_claim_and_a_caret() -> None:
    _, _, stderr = run("check", "dZ = G @ Q")
    assert stderr.splitlines() == [
        "matgrad: error: unknown name 'Q' (names: Z, W, b, G, Y, A); "
        "the claim language: matgrad check --grammar",
        "dZ = G @ Q",
        "         ^",
    ]


def test_cli_reads_a_file_with_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "answers.txt"
    path.write_text("# week 3\n\ndZ = G @ W.T\n\n# the weights\ndW = Z.T @ G  # mine\n")
    code, stdout, _ = run("check", "--file", str(path))
    assert code == 0
    assert "2 of 2 claims correct." in stdout


def test_cli_names_the_line_of_a_bad_claim_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "answers.txt"
    path.write_text("dZ = G @ W.T\n\n# next\ndW = Z.T @ dW\n")
    code, stdout, stderr = run("check", "db = sum(G, axis=0)", "--file", str(path))
    assert code == 2
    assert stdout.count("   correct") == 2
    assert (
        f"Not checked: {path}, line 4: the right side may use ∂L/∂A (G), not ∂L/∂W, one of the "
        "gradients sought." in " ".join(stdout.split())
    )
    assert "    dW = Z.T @ dW\n               ^\n" in stdout
    assert stderr.splitlines() == [
        f"matgrad: error: 1 of 3 claims could not be checked (the first: {path}, line 4: the "
        "right side may use ∂L/∂A (G), not ∂L/∂W, one of the gradients sought); the claim "
        "language: matgrad check --grammar"
    ]


def test_cli_file_without_claims_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("# nothing yet\n\n")
    code, stdout, stderr = run("check", "--file", str(path))
    assert (code, stdout) == (2, "")
    assert stderr == f"matgrad: error: {path} holds no claims, only blank lines and comments\n"


def test_cli_file_that_is_a_directory_or_not_utf8_exits_2(tmp_path: Path) -> None:
    binary = tmp_path / "latin1.txt"
    binary.write_bytes("dZ = G @ W.T  # é\n".encode("latin-1"))
    for path in (tmp_path, binary):
        code, stdout, stderr = run("check", "--file", str(path))
        assert code == 2
        assert stdout == ""
        assert len(stderr.splitlines()) == 1


def test_cli_checks_at_the_sizes_given() -> None:
    code, stdout, _ = run(
        "check", "dZ = G @ W.T", "dW = Z.T @ G", "--m", "3", "--k", "1", "--n", "5"
    )
    assert code == 0
    assert "m = 3, k = 1, n = 5" in stdout
    code, stdout, _ = run("check", "dW = G.T @ Z", "-m", "2", "-k", "2", "-n", "2", "-f", "json")
    assert code == 1
    (claim,) = json.loads(stdout)["claims"]
    assert claim["sizes_checked"] == [{"m": 2, "k": 2, "n": 2}]
    assert claim["reason"] == "values"
    assert claim["hint_kind"] == "transposed_result"


def test_installed_entry_point_checks_a_claim() -> None:
    script = Path(sys.executable).parent / "matgrad"
    result = subprocess.run(
        [str(script), "check", "dW = G.T @ Z"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "transpose of the right answer" in result.stdout
    assert result.stderr == ""


# --- hostile input -------------------------------------------------------------------------

_PIECES = [
    "dZ",
    "dW",
    "db",
    "dL/dZ",
    "∂L/∂b",
    "=",
    " ",
    "G",
    "W",
    "Z",
    "b",
    "Y",
    "X",
    "dA",
    "@",
    "*",
    "+",
    "-",
    ".T",
    "'",
    "ᵀ",
    "^T",
    "(",
    ")",
    "sum(",
    "ones(",
    ", axis=0)",
    ", 1)",
    "m",
    "k",
    "n",
    "0.5",
    "2",
    "1" * 120,
    "**",
    "/",
    "#",
    "[0]",
    "__import__('os')",
    "\x00",
    "\n",
    "\t",
    "import os",
    ";",
    "exec(",
    "eval(",
    "lambda",
    "--file",
    "--m",
    "-1",
    "\u202e",
    "💥",
]
hostile_claims = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(_PIECES), max_size=25).map("".join),
    st.lists(st.sampled_from(_PIECES), max_size=25).map(lambda parts: "dZ = " + "".join(parts)),
    st.integers(1, 80).map(lambda depth: "dZ = " + "(" * depth + "G" + ")" * depth + " @ W.T"),
    st.integers(9_990, 10_010).map(lambda length: "dZ = G @ W.T" + " " * (length - 12)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims=st.lists(hostile_claims, min_size=1, max_size=3))
def test_any_input_ends_in_exit_0_1_or_2_without_traceback_or_files(claims: Sequence[str]) -> None:
    with tempfile.TemporaryDirectory() as directory, contextlib.chdir(directory):
        result = CliRunner().invoke(app, ["check", *claims])
        assert result.exit_code in (0, 1, 2), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.stdout + result.stderr
        assert os.listdir(directory) == []
        if result.exit_code == 2:
            # Nothing on stdout, or the verdicts with the claims that could not be checked.
            assert result.stdout == "" or "could not be checked" in result.stderr


def test_softmax_claims_that_rely_on_rows_of_g_summing_to_zero_are_accepted() -> None:
    # Each row of the softmax's ∂L/∂A sums to 0, so these are right answers written differently.
    report = check(
        [
            "dZ = G @ (W + ones(k, n)).T",
            "dZ = G @ W.T + sum(G, axis=1, keepdims=True) @ ones(1, k)",
        ],
        loss="softmax-cross-entropy",
    )
    assert report.correct
