"""matgrad check in both conventions: samples as rows (A = ZW + 1b) and as columns (A = WX + b1ᵀ),
the two namings of the input, and the answers right in another convention (the other samples,
numerator layout), which stay wrong and say so first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matgrad_cli.core.claims import CORRECT_FORMULAS, check, default_sizes
from matgrad_cli.core.claims.parser import parse_claim
from matgrad_cli.core.layer import Sizes
from matgrad_cli.errors import ArgumentError, ClaimSyntaxError, MixedNamingError

from .test_check import run
from .test_check_file import matgrad

# --- the right answers with samples as columns --------------------------------------------------


def test_the_right_answers_by_columns_are_the_layer_s_rules_and_are_judged_right() -> None:
    assert CORRECT_FORMULAS["columns"] == {
        "X": "dX = W.T @ G",
        "W": "dW = G @ X.T",
        "b": "db = sum(G, axis=1, keepdims=True)",
    }
    report = check(list(CORRECT_FORMULAS["columns"].values()), samples="columns")
    assert report.correct
    assert report.samples == "columns"
    assert {verdict.expected_shape for verdict in report.verdicts} == {(3, 2), (4, 3), (4, 1)}
    assert all(v.reported_at.samples == "columns" for v in report.verdicts)
    assert all(s.samples == "columns" for v in report.verdicts for s in v.general_sizes)


@pytest.mark.parametrize(
    "claim",
    [
        "dW = G @ X",  # the missing transpose, square at 2×2×2 only
        "dX = W @ G",
        "dW = X.T @ G",
        "db = sum(G, axis=0)",
        "db = sum(G, axis=1, keepdims=True) / m",
        "dX = W.T @ G + W.T @ G",
    ],
)
def test_wrong_answers_by_columns_are_rejected(claim: str) -> None:
    assert not check(claim, samples="columns").correct


def test_the_rows_answers_are_wrong_by_columns_and_the_columns_answers_by_rows() -> None:
    rows = list(CORRECT_FORMULAS["rows"].values())
    columns = list(CORRECT_FORMULAS["columns"].values())
    assert not any(verdict.correct for verdict in check(rows, samples="columns").verdicts)
    assert not any(verdict.correct for verdict in check(columns, samples="rows").verdicts)


def test_a_one_dimensional_sum_is_the_column_by_columns_and_the_row_by_rows() -> None:
    by_columns = check("db = np.sum(G, 1)", samples="columns").verdicts[0]
    assert by_columns.correct
    assert any("n×1 column" in note for note in by_columns.notes)
    by_rows = check("db = np.sum(G, 0)").verdicts[0]
    assert by_rows.correct
    assert any("1×n row" in note for note in by_rows.notes)


def test_sizes_and_the_softmax_axis_are_read_in_the_convention() -> None:
    # G.shape[0] is n by columns: G @ ones((G.shape[1], 1)) adds up each row of G.
    assert check("db = G @ ones((G.shape[1], 1))", samples="columns").correct
    with pytest.raises(ClaimSyntaxError, match="along each column"):
        check(
            "dW = (softmax(A, axis=1) - Y) @ X.T", samples="columns", loss="softmax-cross-entropy"
        )


@pytest.mark.parametrize("loss", ["sum", "squared-error", "softmax-cross-entropy"])
def test_the_concrete_losses_by_columns(loss: str) -> None:
    report = check(["dW = G @ X.T", "dX = W.T @ G", "dW = X @ G.T"], samples="columns", loss=loss)
    assert [verdict.correct for verdict in report.verdicts] == [True, True, False]


# --- the two namings ------------------------------------------------------------------------


def test_a_claim_in_the_other_naming_is_read_as_the_input_and_the_note_says_so() -> None:
    claim = parse_claim("dZ = W.T @ G", samples="columns")
    assert (claim.target, claim.naming, claim.samples) == ("X", "rows", "columns")
    assert "was read as X" in claim.notes[0]
    claim = parse_claim("dW = G @ X.T", samples="rows")
    assert claim.expr == parse_claim("dW = G @ Z.T").expr


@pytest.mark.parametrize(
    ("claim", "position"),
    [("dX = G @ Z.T", 9), ("dZ = W.T @ X", 11), ("dW = Z.T @ G + X.T @ G", 15)],
)
def test_a_claim_naming_the_input_both_ways_is_refused_at_the_second_naming(
    claim: str, position: int
) -> None:
    for samples in ("rows", "columns"):
        with pytest.raises(MixedNamingError) as caught:
            check(claim, samples=samples)
        assert caught.value.position == position
        assert "names the input both" in caught.value.message


def test_the_cli_refuses_a_mixed_claim_with_exit_2_and_nothing_on_stdout() -> None:
    code, stdout, stderr = run("check", "--samples", "columns", "dX = G @ Z.T")
    assert (code, stdout) == (2, "")
    first, source, caret = stderr.splitlines()
    assert first.startswith("matgrad: error: the claim names the input both X")
    assert (source, caret) == ("dX = G @ Z.T", "         ^")


# --- bad conventions ------------------------------------------------------------------------


def test_an_unknown_convention_is_an_argument_error() -> None:
    with pytest.raises(ArgumentError, match="samples must be 'rows' or 'columns'"):
        check("dW = G @ X.T", samples="diagonal")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="but the sizes are"):
        check("dW = G @ X.T", sizes=Sizes(2, 3, 4), samples="columns")


def test_the_cli_refuses_an_unknown_convention_on_one_line(tmp_path: Path) -> None:
    result = matgrad("check", "--samples", "diagonal", "dW = G @ X.T", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("matgrad: error: ")
    assert "'diagonal' is not one of 'rows', 'columns'" in result.stderr


def test_given_sizes_carry_the_convention() -> None:
    report = check("dW = G @ X.T", sizes=Sizes(3, 2, 4, "columns"))
    assert report.correct
    assert report.verdicts[0].expected_shape == (4, 2)
    assert default_sizes("columns")[0] == Sizes(2, 3, 4, "columns")


# --- answers right in another convention ------------------------------------------------------


@pytest.mark.parametrize(
    ("samples", "claim", "kind", "phrase"),
    [
        ("rows", "dW = G @ Z.T", "samples", "right answer if samples are columns"),
        ("rows", "dX = W.T @ G", "samples", "use --samples columns"),
        ("rows", "db = sum(G, axis=1, keepdims=True)", "samples", "you are checking against rows"),
        ("rows", "dW = G.T @ Z", "layout", "∂L/∂W in numerator layout"),
        ("rows", "dZ = W @ G.T", "layout", "the shape of Z"),
        ("rows", "dW = X @ G.T", "samples_layout", "with samples as columns (A = WX + b1ᵀ) in"),
        ("columns", "dZ = G @ W.T", "samples", "right answer if samples are rows"),
        ("columns", "dW = Z.T @ G", "samples", "use --samples rows"),
        ("columns", "dW = X @ G.T", "layout", "numerator layout, the transpose of the gradient"),
        ("columns", "dW = G.T @ X", "samples_layout", "with samples as rows (A = ZW + 1b) in"),
    ],
)
def test_an_answer_right_in_another_convention_stays_wrong_and_says_so_first(
    samples: str, claim: str, kind: str, phrase: str
) -> None:
    report = check(claim, samples=samples)  # type: ignore[arg-type]
    verdict = report.verdicts[0]
    assert not verdict.correct
    assert report.exit_code == 1
    assert verdict.convention_kind == kind
    assert verdict.convention is not None
    assert phrase in verdict.convention
    lines = report.to_text(width=1000).splitlines()
    heading = next(number for number, line in enumerate(lines) if line.startswith("✗ "))
    assert lines[heading + 1].strip().startswith("This is "), lines


@pytest.mark.parametrize(
    ("samples", "claim"),
    [
        ("rows", "dW = 2 * G @ Z.T"),  # right nowhere: twice the columns answer
        ("rows", "dZ = G @ W"),
        ("columns", "dW = G @ X"),
        ("columns", "dW = -(X @ G.T)"),
    ],
)
def test_an_answer_right_in_no_convention_is_not_said_to_be(samples: str, claim: str) -> None:
    verdict = check(claim, samples=samples).verdicts[0]  # type: ignore[arg-type]
    assert not verdict.correct
    assert verdict.convention is None


def test_a_right_answer_is_never_said_to_be_in_another_convention() -> None:
    report = check(list(CORRECT_FORMULAS["rows"].values()))
    assert all(verdict.convention is None for verdict in report.verdicts)


# --- the report states its convention ------------------------------------------------------------

LINE = "Judged with samples as columns: A = WX + b1ᵀ, X is k×m."


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "html"])
def test_every_report_by_columns_states_the_convention(fmt: str) -> None:
    code, stdout, _ = run("check", "--samples", "columns", "dW = G @ X.T", "-f", fmt)
    assert code == 0
    if fmt == "latex":
        assert "Judged with samples as columns" in stdout
    else:
        assert LINE in stdout


def test_json_and_gradescope_by_columns_state_the_convention() -> None:
    _, stdout, _ = run("check", "--samples", "columns", "dW = X @ G.T", "-f", "json")
    data = json.loads(stdout)
    assert data["samples"] == "columns"
    assert data["claims"][0]["convention"]["kind"] == "layout"
    _, stdout, _ = run("check", "--samples", "columns", "dW = G @ X.T", "-f", "gradescope")
    assert json.loads(stdout)["output"].startswith(LINE)


def test_a_rows_report_is_as_before() -> None:
    _, stdout, _ = run("check", "dW = Z.T @ G", "-f", "json")
    assert "samples" not in json.loads(stdout)
    _, stdout, _ = run("check", "dW = Z.T @ G")
    assert "Judged with" not in stdout


# --- an answer key for a columns course ------------------------------------------------------

COLUMNS_KEY = """\
samples = "columns"

[[question]]
name = "1a"
gradient = "dW"
points = 2

[[question]]
name = "1b"
gradient = "dX"
"""


def test_a_key_with_samples_as_columns_grades_in_that_convention(tmp_path: Path) -> None:
    key, answers = tmp_path / "key.toml", tmp_path / "answers.txt"
    key.write_text(COLUMNS_KEY, encoding="utf-8")
    answers.write_text("1a: dW = G @ X.T\n1b: dZ = G @ W.T\n", encoding="utf-8")
    code, stdout, _ = run("check", "--key", str(key), str(answers), "-f", "json")
    data = json.loads(stdout)
    assert code == 1
    assert data["samples"] == "columns"
    assert data["score"] == {"earned": 2, "points": 3}
    assert data["claims"][1]["convention"]["kind"] == "samples"


def test_a_key_asking_for_another_convention_s_gradient_is_refused(tmp_path: Path) -> None:
    key, answers = tmp_path / "key.toml", tmp_path / "answers.txt"
    key.write_text(COLUMNS_KEY.replace('"dX"', '"dZ"'), encoding="utf-8")
    answers.write_text("1a: dW = G @ X.T\n", encoding="utf-8")
    code, stdout, stderr = run("check", "--key", str(key), str(answers))
    assert (code, stdout) == (2, "")
    assert "gradient must be dX, dW or db" in stderr
    key.write_text('samples = "diagonal"\n' + COLUMNS_KEY.split("\n", 1)[1], encoding="utf-8")
    code, _, stderr = run("check", "--key", str(key), str(answers))
    assert code == 2
    assert "unknown samples 'diagonal'" in stderr


def test_the_right_answer_under_the_softmax_by_columns_names_the_softmax_of_each_column() -> None:
    code, stdout, _ = run(
        "check", "--samples", "columns", "--loss", "softmax-cross-entropy", "dW = 2 * G @ X.T"
    )
    assert code == 1
    note = " ".join(stdout.split())
    assert "softmax of each column" in note
    assert "for columns of Y that sum to 1" in note
    assert "each row" not in note
