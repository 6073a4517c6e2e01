"""``matgrad check --file``: one bad line no longer stops the others; each line gets its own
verdict, parse errors with their caret, and the run exits with the worst (2 > 1 > 0). Run
through the installed ``matgrad`` command on real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

MATGRAD = Path(sys.executable).parent / "matgrad"


def matgrad(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MATGRAD), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )


ANSWERS = """\
# week 3, every kind of line
dZ = G @ W.T          # right
dW = G.T @ Z          # wrong: the transpose
db = sum(G, axis=0 +  # does not parse
dZ = G @ Q            # an unknown name
dW = Z.T @ G          # right
"""


def test_every_line_gets_its_own_verdict_and_the_worst_exit_code(tmp_path: Path) -> None:
    (tmp_path / "answers.txt").write_text(ANSWERS, encoding="utf-8")
    run = matgrad("check", "--file", "answers.txt", cwd=tmp_path)
    assert run.returncode == 2
    headings = [line for line in run.stdout.splitlines() if line[:2] in ("✓ ", "✗ ")]
    assert headings == [
        "✓ dZ = G @ W.T   correct",
        "✗ dW = G.T @ Z   wrong shape",
        "✗ db = sum(G, axis=0 +   not checked",
        "✗ dZ = G @ Q   not checked",
        "✓ dW = Z.T @ G   correct",
    ]
    # Each refusal says where, shows the caret, and points to the grammar.
    assert "Not checked: answers.txt, line 4: " in run.stdout
    assert "Not checked: answers.txt, line 5: unknown name 'Q'" in run.stdout
    assert "    dZ = G @ Q\n             ^\n" in run.stdout
    assert run.stdout.count("See the claim language: matgrad check --grammar.") == 2
    assert "2 of 5 claims correct (2 not checked)." in run.stdout
    assert len(run.stderr.splitlines()) == 1
    assert run.stderr.startswith(
        "matgrad: error: 2 of 5 claims could not be checked (the first: answers.txt, line 4: "
    )
    assert run.stderr.rstrip().endswith("; the claim language: matgrad check --grammar")
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        (["dZ = G @ W.T", "dW = Z.T @ G"], 0),
        (["dZ = G @ W.T", "dW = G.T @ Z"], 1),
        (["dZ = G @ W.T", "dW = Z.T @@ G"], 2),
        (["dW = G.T @ Z", "dW = Z.T @@ G"], 2),
        (["dW = G.T @ Z", "db = G"], 1),
    ],
)
def test_the_exit_code_is_the_worst_of_the_lines(
    tmp_path: Path, lines: list[str], code: int
) -> None:
    (tmp_path / "answers.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = matgrad("check", "--file", "answers.txt", cwd=tmp_path)
    assert run.returncode == code, run.stderr
    headings = [line for line in run.stdout.splitlines() if line[:2] in ("✓ ", "✗ ")]
    assert len(headings) == len(lines)


def test_when_no_line_can_be_checked_it_is_one_error_and_nothing_on_stdout(
    tmp_path: Path,
) -> None:
    (tmp_path / "answers.txt").write_text("dZ = G @@ W\ndW = ((Z\n", encoding="utf-8")
    run = matgrad("check", "--file", "answers.txt", cwd=tmp_path)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.splitlines() == [
        "matgrad: error: answers.txt, line 1: expected a name, number or '(', found '@'; "
        "the claim language: matgrad check --grammar",
        "dZ = G @@ W",
        "        ^",
    ]


def test_json_lists_the_lines_that_were_not_checked_in_their_place(tmp_path: Path) -> None:
    (tmp_path / "answers.txt").write_text(ANSWERS, encoding="utf-8")
    run = matgrad("check", "--file", "answers.txt", "--format", "json", cwd=tmp_path)
    assert run.returncode == 2
    data = json.loads(run.stdout)
    assert data["counts"] == {"claims": 5, "correct": 2, "wrong": 1, "not_checked": 2}
    checked = [claim.get("checked", True) for claim in data["claims"]]
    assert checked == [True, True, False, False, True]
    unknown = data["claims"][3]
    assert unknown["where"] == "answers.txt, line 5"
    assert unknown["position"] == len("dZ = G @ ")
    assert unknown["message"].startswith("unknown name 'Q'")


def test_a_claim_too_costly_to_check_is_refused_on_its_own(tmp_path: Path) -> None:
    costly = "dW = Z.T @ G @ " + " @ ".join(["W.T @ W"] * 12)
    (tmp_path / "answers.txt").write_text(f"dZ = G @ W.T\n{costly}\n", encoding="utf-8")
    run = matgrad("check", "--file", "answers.txt", cwd=tmp_path)
    assert run.returncode == 2
    assert "✓ dZ = G @ W.T   correct" in run.stdout
    assert "over the budget" in " ".join(run.stdout.split())
    assert "could not be checked (the first: answers.txt, line 2: the claim" in run.stderr


def test_the_api_keeps_going_past_a_bad_claim_only_when_asked() -> None:
    from matgrad_cli.core.claims import RefusedClaim, check
    from matgrad_cli.errors import ArgumentError, ClaimSyntaxError

    claims = ["dZ = G @ W.T", "dZ = G @@ W", "dW = G.T @ Z"]
    with pytest.raises(ClaimSyntaxError):
        check(claims)
    report = check(claims, keep_going=True)
    assert [type(entry).__name__ for entry in report.entries] == [
        "ClaimVerdict",
        "RefusedClaim",
        "ClaimVerdict",
    ]
    refused = report.entries[1]
    assert isinstance(refused, RefusedClaim)
    assert (refused.order, refused.position) == (1, len("dZ = G @"))
    assert (report.correct, report.exit_code) == (False, 2)
    assert check(claims[::2], keep_going=True).exit_code == 1
    with pytest.raises(ArgumentError, match="keep_going must be True or False"):
        check(claims, keep_going="yes")  # type: ignore[arg-type]
