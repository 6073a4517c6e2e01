"""Autograding with ``matgrad check``: Gradescope's results.json (``--format gradescope``), answer
keys (``--key``), the grammar (``--grammar``) and the run_autograder of docs/autograding.md."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from matgrad_cli.cli import app
from matgrad_cli.core.claims import check
from matgrad_cli.core.layer import samples_convention
from matgrad_cli.present.check_grammar import EXAMPLES, grammar_text
from tests.conftest import assert_golden, run_pdflatex

ROOT = Path(__file__).resolve().parent.parent
MATGRAD = Path(sys.executable).parent / "matgrad"

KEY = """\
# Homework 3
[[question]]
name = "1a"
gradient = "dW"
points = 2
shape_credit = 0.5

[[question]]
name = "1b"
gradient = "dZ"
points = 2

[[question]]
name = "1c"
gradient = "db"

[[question]]
name = "1d"
gradient = "dW"
points = 1.5
"""

ANSWERS = """\
# Ada
1a: dW = Z.T @ G @ W.T @ W
1b: dZ = G W^T
1d: dZ = G @ W.T
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def graded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with key.toml and answers.txt, made the current one."""
    (tmp_path / "key.toml").write_text(KEY, encoding="utf-8")
    (tmp_path / "answers.txt").write_text(ANSWERS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- Gradescope -------------------------------------------------------------------------------


def test_gradescope_results_have_one_test_per_claim() -> None:
    code, stdout, _ = run("check", "dZ = G @ W.T", "dW = G.T @ Z", "-f", "gradescope")
    assert code == 1
    results = json.loads(stdout)
    assert set(results) == {"score", "output", "visibility", "stdout_visibility", "tests"}
    assert results["score"] == 1
    assert results["output"] == "1 of 2 claims correct."
    right, wrong = results["tests"]
    assert right == {
        "name": "Claim 1: dZ = G @ W.T",
        "score": 1,
        "max_score": 1,
        "status": "passed",
        "output": right["output"],
        "visibility": "visible",
    }
    assert right["output"].startswith("✓ dZ = G @ W.T   correct\n")
    assert (wrong["score"], wrong["max_score"], wrong["status"]) == (0, 1, "failed")
    assert "Right answer: dW = Z.T @ G" in wrong["output"]
    # The output is the terminal's text without colour.
    assert "\x1b[" not in stdout


def test_gradescope_counts_a_claim_that_cannot_be_checked_as_failed() -> None:
    code, stdout, _ = run("check", "dZ = G @ W.T", "dZ = G @@ W", "-f", "gradescope")
    assert code == 2
    tests = json.loads(stdout)["tests"]
    assert [test["score"] for test in tests] == [1, 0]
    assert "not checked" in tests[1]["output"]
    assert "^" in tests[1]["output"]


def test_gradescope_is_a_format_of_check_only() -> None:
    code, _, stderr = run("derive", "-f", "gradescope")
    assert code == 2
    assert "'gradescope' is not one of" in stderr


def test_gradescope_golden(capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, stderr = run("check", "dZ = G @ W.T", "db = sum(G, axis=1)", "-f", "gradescope")
    assert_golden(stdout, "cli/check-several-gradescope.out")
    assert_golden(f"exit {code}\n{stderr}", "cli/check-several-gradescope.err")


# --- answer keys ------------------------------------------------------------------------------


def test_a_key_grades_each_question_with_partial_credit(graded: Path) -> None:
    code, stdout, stderr = run("check", "--key", "key.toml", "answers.txt", "-f", "json")
    assert (code, stderr) == (1, "")
    data = json.loads(stdout)
    marks = {mark["question"]: mark for mark in data["marks"]}
    # 1a: the right shape, wrong values: half of 2. 1b: right. 1c: no answer. 1d: another
    # gradient than the one asked for.
    assert (marks["1a"]["score"], marks["1a"]["why"]) == (1.0, "the right shape, but wrong values")
    assert (marks["1b"]["score"], marks["1b"]["why"]) == (2.0, "right")
    assert (marks["1c"]["score"], marks["1c"]["claim"], marks["1c"]["why"]) == (
        0,
        None,
        "no answer",
    )
    assert marks["1d"]["score"] == 0
    assert marks["1d"]["why"] == "the question asks for ∂L/∂W, the answer is about ∂L/∂Z"
    assert data["score"] == {"earned": 3.0, "points": 6.5}


def test_full_marks_exit_0(graded: Path) -> None:
    (graded / "answers.txt").write_text(
        "1a: dW = Z.T @ G\n1b: dZ = G @ W.T\n1c: db = 1ᵀ G\n1d: dW = np.matmul(Z.T, G)\n",
        encoding="utf-8",
    )
    code, stdout, _ = run("check", "--key", "key.toml", "answers.txt")
    assert code == 0
    assert stdout.rstrip().endswith("Score: 6.5 of 6.5 points.")


def test_an_answer_that_does_not_parse_earns_nothing_and_says_why(graded: Path) -> None:
    (graded / "answers.txt").write_text("1a: dW = Z.T @@ G\n1b: dZ = G @ W.T\n")
    code, stdout, stderr = run("check", "--key", "key.toml", "answers.txt")
    assert (code, stderr) == (1, "")
    assert "Question 1a (∂L/∂W): 0 of 2 points, the answer could not be checked" in stdout
    assert "Not checked: answers.txt, line 1: expected a name" in stdout
    assert "Question 1b (∂L/∂Z): 2 of 2 points, right" in stdout


def test_the_key_sets_the_loss_and_the_sizes(graded: Path) -> None:
    (graded / "key.toml").write_text(
        'loss = "squared-error"\nsizes = [3, 2, 4]\n[[question]]\nname = "q"\ngradient = "dW"\n'
    )
    (graded / "answers.txt").write_text("q: dW = Z.T @ (A - Y)\n")
    code, stdout, _ = run("check", "--key", "key.toml", "answers.txt", "-f", "json")
    assert code == 0
    verdict = json.loads(stdout)["claims"][0]
    assert verdict["loss"] == "squared-error"
    assert verdict["sizes_checked"] == [{"m": 3, "k": 2, "n": 4}]


def test_gradescope_with_a_key_has_a_test_per_question(graded: Path) -> None:
    code, stdout, _ = run("check", "--key", "key.toml", "answers.txt", "-f", "gradescope")
    assert code == 1
    results = json.loads(stdout)
    assert results["score"] == 3
    assert results["output"] == "3 of 6.5 points."
    names = [(t["name"], t["score"], t["max_score"], t["status"]) for t in results["tests"]]
    assert names == [
        ("1a: ∂L/∂W", 1, 2, "failed"),
        ("1b: ∂L/∂Z", 2, 2, "passed"),
        ("1c: ∂L/∂b", 0, 1, "failed"),
        ("1d: ∂L/∂W", 0, 1.5, "failed"),
    ]
    assert results["tests"][2]["output"].endswith("No answer.")


def test_key_goldens(graded: Path) -> None:
    for fmt in ("text", "gradescope"):
        code, stdout, stderr = run("check", "--key", "key.toml", "answers.txt", "-f", fmt)
        assert_golden(stdout, f"cli/check-key-{fmt}.out")
        assert_golden(f"exit {code}\n{stderr}", f"cli/check-key-{fmt}.err")


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("this is not toml", "key.toml: not a TOML answer key"),
        ('colour = "red"\n', "key.toml: unknown setting 'colour'"),
        ('loss = "hinge"\n[[question]]\nname="a"\ngradient="dW"\n', "unknown loss 'hinge'"),
        ('dialect = "r"\n[[question]]\nname="a"\ngradient="dW"\n', "unknown dialect 'r'"),
        ('sizes = [2, 0, 2]\n[[question]]\nname="a"\ngradient="dW"\n', "key.toml: size"),
        ('sizes = "2x2x2"\n[[question]]\nname="a"\ngradient="dW"\n', "three whole numbers"),
        ("", "key.toml: no questions"),
        ('[[question]]\nname="a"\ngradient="dA"\n', "question 'a': gradient must be"),
        ('[[question]]\ngradient="dW"\n', "question 1 needs a name"),
        ('[[question]]\nname="a:b"\ngradient="dW"\n', "question 1 needs a name"),
        ('[[question]]\nname="a"\ngradient="dW"\npoints=-1\n', "points must be a number"),
        ('[[question]]\nname="a"\ngradient="dW"\nshape_credit=2\n', "shape_credit must be"),
        ('[[question]]\nname="a"\ngradient="dW"\nhint="x"\n', "unknown field 'hint'"),
        ('[[question]]\nname="a"\ngradient="dW"\n[[question]]\nname="a"\ngradient="dZ"\n',
         "question 'a' is named twice"),
    ],
)  # fmt: skip
def test_a_bad_key_is_one_line_and_exit_2(graded: Path, key: str, message: str) -> None:
    (graded / "key.toml").write_text(key, encoding="utf-8")
    code, stdout, stderr = run("check", "--key", "key.toml", "answers.txt")
    assert (code, stdout) == (2, "")
    assert len(stderr.splitlines()) == 1
    assert stderr.startswith("matgrad: error: ")
    assert message in stderr


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ("dW = Z.T @ G\n", "answers.txt: line 1: an answer is NAME: CLAIM"),
        ("# fine\n\n2a: dW = Z.T @ G\n", "answers.txt: line 3: an answer is NAME: CLAIM"),
        ("1a: dW = Z.T @ G\n1a: dW = Z.T @ G\n", "line 2: question '1a' is answered twice"),
        (b"1a: dW = Z.T @ G\xff\n", "answers.txt is not UTF-8 text"),
    ],
)
def test_a_bad_answers_file_is_one_line_and_exit_2(
    graded: Path, answers: str | bytes, message: str
) -> None:
    path = graded / "answers.txt"
    path.write_bytes(answers if isinstance(answers, bytes) else answers.encode())
    code, stdout, stderr = run("check", "--key", "key.toml", "answers.txt")
    assert (code, stdout) == (2, "")
    assert len(stderr.splitlines()) == 1
    assert message in stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--key", "key.toml"],
        ["--key", "key.toml", "answers.txt", "answers.txt"],
        ["--key", "key.toml", "answers.txt", "--file", "answers.txt"],
        ["--key", "key.toml", "answers.txt", "--loss", "sum"],
        ["--key", "key.toml", "answers.txt", "-m", "2", "-k", "2", "-n", "2"],
        ["--key", "missing.toml", "answers.txt"],
        ["--key", "key.toml", "missing.txt"],
        ["--key", ".", "answers.txt"],
    ],
)
def test_a_key_is_used_one_way_only(graded: Path, args: list[str]) -> None:
    code, stdout, stderr = run("check", *args)
    assert (code, stdout) == (2, "")
    assert len(stderr.splitlines()) == 1
    assert stderr.startswith("matgrad: error: ")


# --- the grammar ------------------------------------------------------------------------------


def test_grammar_prints_the_claim_language() -> None:
    code, stdout, stderr = run("check", "--grammar")
    assert (code, stderr) == (0, "")
    assert stdout == grammar_text()
    for claim, _ in EXAMPLES:
        assert claim in stdout


@pytest.mark.parametrize(("claim", "meaning"), EXAMPLES)
def test_every_example_of_the_grammar_parses_and_is_judged(claim: str, meaning: str) -> None:
    samples = samples_convention("columns" if "--samples columns" in meaning else "rows")
    verdict = check(claim, samples=samples).verdicts[0]
    # The examples marked as wrong answers are wrong, every other one is right.
    assert verdict.correct is ("wrong" not in meaning), claim


def test_the_help_and_every_parse_error_point_to_the_grammar() -> None:
    _, help_text, _ = run("check", "--help")
    assert "--grammar" in help_text
    code, _, stderr = run("check", "dZ = G @ X")
    assert code == 2
    assert stderr.splitlines()[0].endswith("the claim language: matgrad check --grammar")


def test_the_grammar_comes_from_the_installed_package_not_from_docs() -> None:
    source = (ROOT / "matgrad_cli" / "present" / "check_grammar.py").read_text(encoding="utf-8")
    assert "docs/claims.md" not in re.sub(r"\(docs/claims\.md\)|docs/claims\.md\) has", "", source)
    assert "open(" not in source
    assert "read_text" not in source


# --- the run_autograder script of docs/autograding.md -----------------------------------------


def run_autograder_script() -> str:
    page = (ROOT / "docs" / "autograding.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- autograder: run_autograder -->\n```text\n(.*?)```", page, re.S)
    assert match, "docs/autograding.md lost its run_autograder"
    return match.group(1)


@pytest.mark.parametrize("answers", [ANSWERS, "not an answer\n"])
def test_the_documented_run_autograder_writes_results_json(tmp_path: Path, answers: str) -> None:
    """Gradescope's layout: the key in source/, the answers in submission/, results.json in
    results/; a bad answers file becomes a result of 0 points that says why."""
    (tmp_path / "source").mkdir()
    (tmp_path / "submission").mkdir()
    (tmp_path / "source" / "key.toml").write_text(KEY, encoding="utf-8")
    (tmp_path / "submission" / "answers.txt").write_text(answers, encoding="utf-8")
    script = tmp_path / "source" / "run_autograder"
    script.write_text(run_autograder_script(), encoding="utf-8")
    environment = {**os.environ, "AUTOGRADER_ROOT": str(tmp_path), "MATGRAD": str(MATGRAD)}
    done = subprocess.run(
        ["bash", str(script)], env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "results" / "results.json").read_text(encoding="utf-8"))
    if answers == ANSWERS:
        assert results["score"] == 3
        assert len(results["tests"]) == 4
    else:
        assert results["score"] == 0
        assert "an answer is NAME: CLAIM" in results["output"]


#: Each spelling the grammar's text lists (the fragment it shows), in a claim that uses it.
GRAMMAR_SPELLINGS = [
    ("X.T", "dZ = G @ W.T"),
    ("X^T", "dZ = G @ W^T"),
    ("X^{T}", "dZ = G @ W^{T}"),
    ("X'", "dZ = G @ W'"),
    ("Xᵀ", "dZ = G @ Wᵀ"),
    ("X^⊤", "dZ = G @ W^⊤"),
    ("X^\\top", "dZ = G @ W^\\top"),
    ("X.t()", "dZ = G @ W.t()"),
    ("X.transpose()", "dZ = G @ W.transpose()"),
    ("np.transpose(X)", "dZ = G @ np.transpose(W)"),
    ("−X", "dZ = −(G @ W.T)"),
    ("X Y (juxtaposition)", "dZ = G W.T"),
    ("X · Y", "dZ = G · W.T"),
    ("X ⋅ Y", "dZ = G ⋅ W.T"),
    ("X × Y", "dZ = G × W.T"),
    ("matmul(X, Y)", "dZ = matmul(G, W.T)"),
    ("X.dot(Y)", "dZ = G.dot(W.T)"),
    ("X ⊙ Y", "dZ = G ⊙ W.T"),
    ("X / c", "dZ = G @ W.T / 2"),
    ("X.sum(0)", "db = G.sum(0)"),
    ("sum(X, dim=0)", "db = sum(G, dim=0)"),
    ("keepdim=True", "db = sum(G, dim=0, keepdim=True)"),
    ("mean(X, axis=0)", "db = mean(G, axis=0)"),
    ("ones((r, c))", "db = ones((m, 1)).T @ G"),
    ("ones(m)", "db = ones(m) @ G"),
    ("ones_like(X)", "db = sum(ones_like(G) * G, axis=0)"),
    ("1e-3", "dZ = 1e-3 * G @ W.T"),
    ("delta", "dZ = delta @ W.T"),
    ("X .* Y", "dZ = (G .* G) @ W.T"),
    ("multiply(X, Y)", "dZ = multiply(G, G) @ W.T"),
    ("G 1 is a column of ones", "db = (G 1)ᵀ"),
    ("Z W + b", "dW = Z.T @ (Z W + b)"),
    ("\\nabla_W L", "\\nabla_Z L = G W^T"),
]


@pytest.mark.parametrize(("shown", "claim"), GRAMMAR_SPELLINGS)
def test_every_spelling_the_grammar_lists_is_read(shown: str, claim: str) -> None:
    assert shown in grammar_text()
    check(claim)  # parses and is judged, right or wrong


def test_graded_and_refused_reports_compile_with_pdflatex(graded: Path) -> None:
    (graded / "claims.txt").write_text("dZ = G @ W.T\ndZ = G @@ W\n", encoding="utf-8")
    for args in (
        ["--key", "key.toml", "answers.txt"],
        ["--file", "claims.txt"],
    ):
        code, latex, _ = run("check", *args, "-f", "latex", "--standalone")
        assert code in (1, 2)
        compiled = run_pdflatex(latex, graded, "report")
        assert compiled.returncode == 0, compiled.stdout[-2000:]
