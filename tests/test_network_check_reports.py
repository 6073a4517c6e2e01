"""The reports of `matgrad check` on a network, in every format: the network stated first, the
hint of the slip a wrong claim is, the right answer in claim syntax."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from matgrad_cli.core.claims.network_judge import check_network
from matgrad_cli.core.claims.network_verdict import NetworkCheckReport
from matgrad_cli.present import formats, render
from matgrad_cli.present.check_grammar import NETWORK_EXAMPLES
from matgrad_cli.present.network_check_doc import safe
from tests.conftest import run_cli, run_pdflatex

FORGOTTEN = "dW1 = X.T @ (G @ W2.T)"
RIGHT = "dW1 = X.T @ ((G @ W2.T) * relu'(A1))"
CLAIMS = (
    FORGOTTEN,
    RIGHT,
    "dW1 = X @ G",
    "dA1 = dH1 * relu(A1)",
    "db1 = sum(dA1, axis=1)",
    "dW1 = X.T @ ((G @ W2.T) * relu'(",
)


@cache
def _report(activation: str = "relu", output_activation: str = "identity") -> NetworkCheckReport:
    return check_network(
        CLAIMS if activation == "relu" else CLAIMS[:5],
        hidden=3,
        activation=activation,
        output_activation=output_activation,
        keep_going=True,
    )


def test_a_forgotten_sigma_prime_is_told_as_such_with_the_right_answer() -> None:
    report = _report()
    verdicts = {verdict.claim: verdict for verdict in report.verdicts}
    forgotten = verdicts[FORGOTTEN]
    assert (forgotten.correct, forgotten.hint_kind) == (False, "forgotten_derivative")
    assert verdicts[RIGHT].correct
    assert verdicts["dA1 = dH1 * relu(A1)"].hint_kind == "value_not_derivative"
    text = render(report, "text", width=80)
    lines = text.splitlines()
    assert lines[0].startswith("Judged on the network X → A1 → H1 = relu(A1) → A2")
    assert all(len(line) <= 80 for line in lines)
    assert "Hint: forgotten σ′: H1 = relu(A1)" in text
    assert "Right answer: dW1 = X.T @ dA1" in text
    assert "In G alone: dW1 = X.T @ ((G @ W2.T) * relu'(A1))" in text
    # The first differing entry is written with the activations named.
    assert "relu'(a1_1_1)" in text
    assert "1 of 6 claims correct (1 not checked)." in text
    assert "Not checked:" in text


def test_every_check_format_renders_the_network_report() -> None:
    report = _report()
    assert set(formats("NetworkCheckReport")) >= {
        "text",
        "latex",
        "markdown",
        "html",
        "json",
        "gradescope",
    }
    markdown = render(report, "markdown")
    assert markdown.index("## Network") < markdown.index("## Claim 1")
    assert "Hint: forgotten $\\sigma$′" in markdown
    assert "In G alone: `dW1 = X.T @ ((G @ W2.T) * relu'(A1))`" in markdown
    html = render(report, "html")
    assert "forgotten" in html
    assert "<math" in html


def test_the_json_report_states_the_network_and_the_slip() -> None:
    data = json.loads(render(_report(), "json"))
    assert data["network"]["hidden"] == [3]
    assert data["network"]["activation"] == "relu"
    assert data["network"]["G"] == "dL/dA2"
    assert data["counts"] == {"claims": 6, "correct": 1, "wrong": 4, "not_checked": 1}
    first = data["claims"][0]
    assert first["hint_kind"] == "forgotten_derivative"
    assert first["correct_formula"] == "dW1 = X.T @ dA1"
    assert first["correct_formula_in_G"] == "dW1 = X.T @ ((G @ W2.T) * relu'(A1))"
    assert first["first_difference"]["index"] == [1, 1]
    assert first["sizes_checked"][0]["hidden"] == [3]
    assert data["claims"][5]["checked"] is False


def test_gradescope_gives_one_test_per_claim_with_the_network_first() -> None:
    data = json.loads(render(_report(), "gradescope"))
    assert data["score"] == 1
    assert data["output"].startswith("Judged on the network X → A1")
    assert [test["score"] for test in data["tests"]] == [0, 1, 0, 0, 0, 0]
    assert "forgotten σ′" in data["tests"][0]["output"]
    assert all(len(line) <= 80 for test in data["tests"] for line in test["output"].splitlines())


@pytest.mark.parametrize(
    ("activation", "output_activation"),
    [("relu", "identity"), ("generic", "sigmoid"), ("tanh", "identity"), ("leaky-relu", "tanh")],
)
def test_the_latex_report_compiles(activation: str, output_activation: str, tmp_path: Path) -> None:
    report = _report(activation, output_activation)
    latex = render(report, "latex", standalone=True)
    result = run_pdflatex(latex, tmp_path, "report")
    assert result.returncode == 0, result.stdout[-2000:]
    log = (tmp_path / "report.log").read_text(encoding="utf-8", errors="replace")
    assert "Overfull \\hbox" not in log


def test_signs_pdflatex_cannot_set_are_spelled_out() -> None:
    assert safe("forgotten σ′ in `σ'(A1) ⊙ H1`") == "forgotten $\\sigma$′ in `sigma'(A1) .* H1`"


def test_the_single_layer_report_is_unchanged_by_the_network_renderers() -> None:
    from matgrad_cli.core.claims import check

    single = check("dW = Z.T @ G")
    assert "Judged on the network" not in render(single, "text")
    assert json.loads(render(single, "gradescope"))["output"] == "1 of 1 claims correct."


@pytest.mark.parametrize(("claim", "meaning", "options"), NETWORK_EXAMPLES)
def test_every_network_example_of_the_grammar_is_judged_as_it_says(
    claim: str, meaning: str, options: tuple[str, ...]
) -> None:
    given = dict(zip(options[::2], options[1::2], strict=True))
    report = check_network(claim, hidden=int(given["--hidden"]), activation=given["--activation"])
    verdict = report.verdicts[0]
    wrong = "wrong" in meaning
    assert verdict.correct is not wrong, claim
    if wrong:
        assert verdict.hint_kind == "forgotten_derivative"


# --- docs/claims.md, "Claims about a network" ------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
#: The sizes (m, k, n) at which each example of the slips' table has shapes that fit, as the
#: table's "(where …)" says; None for the default sizes.
_TABLE_SIZES = {"h = n": (2, 4, 3), "k = h": (2, 3, 5), "m = n": (2, 4, 2)}
#: The activation of a row that names one (relu otherwise).
_TABLE_ACTIVATIONS = {"σ = tanh": "tanh"}


def _network_section() -> str:
    page = (ROOT / "docs" / "claims.md").read_text(encoding="utf-8")
    start = page.index("## Claims about a network")
    return page[start : page.index("\n## ", start + 1)]


def _slip_rows() -> list[tuple[str, str, str]]:
    rows = re.findall(
        r"^\| `(\w+)` \| [^|]+ \| `([^`]+)`(?: \(where ([^)]+)\))? \|$", _network_section(), re.M
    )
    return [(kind, claim, where) for kind, claim, where in rows]


def test_the_docs_table_lists_every_slip() -> None:
    from typing import get_args

    from matgrad_cli.core.claims.network_slips import SlipKind

    assert {kind for kind, _, _ in _slip_rows()} == set(get_args(SlipKind))


@pytest.mark.parametrize(("kind", "claim", "where"), _slip_rows())
def test_each_slip_of_the_docs_table_is_hinted_as_it_says(
    kind: str, claim: str, where: str
) -> None:
    sizes = _TABLE_SIZES.get(where)
    activation = _TABLE_ACTIVATIONS.get(where, "relu")
    verdict = check_network(claim, hidden=3, activation=activation, sizes=sizes).verdicts[0]
    assert (verdict.correct, verdict.hint_kind) == (False, kind)


def test_the_console_example_of_the_docs_is_what_matgrad_prints() -> None:
    block = _network_section().split("```console\n", 1)[1].split("```", 1)[0]
    command, printed = block.split("\n", 1)
    claim = command.split("'")[1]
    assert "--hidden 3 --activation relu" in command
    report = check_network(claim, hidden=3, activation="relu")
    assert report.exit_code == 1
    assert render(report, "text", width=80) == printed


# --- through the command line ----------------------------------------------------------------


def test_the_command_line_tells_a_forgotten_sigma_prime(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, stdout, stderr = run_cli(
        ["check", "--hidden", "3", "--activation", "relu", FORGOTTEN], capsys
    )
    assert code == 1
    assert stdout.startswith("Judged on the network X → A1 → H1 = relu(A1) → A2")
    assert "Hint: forgotten σ′: H1 = relu(A1)" in stdout
    assert "Right answer: dW1 = X.T @ dA1" in stdout
    assert "Traceback" not in stderr


@pytest.mark.parametrize("output_format", ["latex", "markdown", "html", "json", "gradescope"])
def test_every_format_of_the_command_line_holds_the_hint(
    output_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stdout, _ = run_cli(
        ["check", "--hidden", "3", "--activation", "relu", FORGOTTEN, "-f", output_format], capsys
    )
    assert code == 1
    assert "forgotten" in stdout


def test_the_beamer_slides_compile(tmp_path: Path) -> None:
    result = run_pdflatex(render(_report(), "beamer"), tmp_path, "slides")
    assert result.returncode == 0, result.stdout[-2000:]
