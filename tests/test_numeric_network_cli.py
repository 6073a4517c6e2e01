"""`matgrad derive` for a network above the symbolic limits, or with --numeric: the numeric check
runs, says so, and is delivered in every format; sizes beyond both limits are refused with one
line naming both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import run_cli as run
from .conftest import run_pdflatex

LARGE = ["--hidden", "64", "--activation", "relu", "--m", "64", "--k", "64", "--n", "64"]


def test_above_the_symbolic_limit_derive_turns_to_the_numeric_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["derive", *LARGE, "-f", "json"], capsys)
    assert code == 0
    notice, verdict = err.strip().splitlines()
    assert "above the symbolic limit of 3000000" in notice
    assert notice.endswith("running the exact numeric check instead")
    assert verdict.startswith("matgrad: verified by numeric check (exact rational arithmetic)")
    data = json.loads(out)
    assert data["kind"] == "numeric-network"
    assert data["verified"] is True
    assert data["network"]["sizes"] == {"m": 64, "k": 64, "hidden": [64], "n": 64}
    names = [check["name"] for check in data["checks"]]
    assert names == ["X", "W1", "b1", "W2", "b2", "A1", "A2"]
    sampled = {check["name"] for check in data["checks"] if not check["every_entry"]}
    assert sampled == {"X", "W1", "b1", "W2", "A1"}
    assert all(0 < check["escape_probability"] < 1e-12 for check in data["checks"][:3])


def test_a_sigmoid_network_says_it_is_checked_to_within_a_bound(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["derive", "--hidden", "40", "--activation", "sigmoid", "--m", "40", "--k", "40"]
    code, out, err = run([*args, "--n", "40", "-f", "text"], capsys)
    assert code == 0
    assert "running the numeric check to within a bound instead" in err
    assert "holds to within" in out
    assert "Every identity held at this draw, to within" in out


@pytest.mark.parametrize("output_format", ["text", "latex", "markdown", "json", "html", "beamer"])
def test_numeric_is_offered_in_every_format(
    output_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["derive", "--hidden", "3", "--activation", "tanh", "--numeric", "-f", output_format]
    code, out, err = run(args, capsys)
    assert code == 0
    assert "∂L/∂W1" in out or "Numeric check of the backward pass" in out
    assert err.startswith("matgrad: verified by numeric check (verified interval enclosures")


@pytest.mark.parametrize("activation", ["leaky-relu", "generic", "sigmoid"])
def test_the_standalone_document_compiles(
    activation: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["derive", "--hidden", "3,2", "--activation", activation, "--numeric", "--standalone"]
    code, out, _ = run(args, capsys)
    assert code == 0
    compiled = run_pdflatex(out, tmp_path, "numeric_network")
    assert compiled.returncode == 0, compiled.stdout[-2000:]


def test_the_pdf_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from .conftest import require_pdflatex

    require_pdflatex()
    target = tmp_path / "check.pdf"
    args = ["derive", "--hidden", "2", "--activation", "relu", "--numeric", "-f", "pdf"]
    code, _, err = run([*args, "-o", str(target)], capsys)
    assert code == 0, err
    assert target.read_bytes().startswith(b"%PDF")


def test_a_wrong_seed_draw_is_a_different_draw(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["derive", "--hidden", "2", "--activation", "relu", "--numeric", "-f", "json"]
    first = json.loads(run([*base, "--seed", "1"], capsys)[1])
    second = json.loads(run([*base, "--seed", "2"], capsys)[1])
    assert first["seed"] == 1
    assert second["seed"] == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--hidden", "2000", "--activation", "relu"],
            [
                "size hidden width 1 = 2000 is above the numeric limit of 1024 per dimension",
                "the symbolic limit: size hidden width 1 = 2000 is above the limit of 64",
            ],
        ),
        (
            ["--hidden", "1024", "--m", "1024", "--k", "1024", "--n", "8", "--numeric"],
            ["above the numeric limit of 4194304", "the symbolic limit: size m = 1024"],
        ),
        (
            [*LARGE, "--output-activation", "sigmoid", "--loss", "binary-cross-entropy"],
            [
                "above the symbolic limit",
                "takes the losses generic, sum, squared-error, softmax-cross-entropy, not --loss "
                "binary-cross-entropy",
            ],
        ),
        (
            [*LARGE, "--output-activation", "tanh", "--loss", "softmax-cross-entropy"],
            ["--loss softmax-cross-entropy is not allowed with the output activation tanh"],
        ),
        (
            [
                "--hidden",
                "2",
                "--numeric",
                "--output-activation",
                "sigmoid",
                "--loss",
                "binary-cross-entropy",
            ],
            ["--numeric: the numeric check"],
        ),
        (["--hidden", "0", "--numeric"], ["size hidden width 1 must be a positive integer"]),
        (["--hidden", "2", "--activation", "softplus", "--numeric"], ["is not one of"]),
    ],
)
def test_refusals_are_one_line_and_write_nothing(
    args: list[str], expected: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.json"
    code, out, err = run(["derive", *args, "-f", "json", "-o", str(target)], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("matgrad: error: ")
    for text in expected:
        assert text in err
    assert not target.exists()


def test_the_json_keys_are_those_json_md_documents(capsys: pytest.CaptureFixture[str]) -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "json.md").read_text("utf-8")
    section = page[page.index("### The numeric check of a network") :]
    section = section[: section.index("\n## ")]
    args = ["derive", "--hidden", "2", "--activation", "leaky-relu", "--numeric", "-f", "json"]
    data = json.loads(run(args, capsys)[1])
    listed = (
        '{"kind": "numeric-network", "method", "loss", "exact", "bound", "network", "seed",\n'
        '"entry_range", "direction_range", "scaled", "polynomial", "verified", "checks"}'
    )
    assert listed in section
    assert list(data) == [
        "kind", "method", "loss", "exact", "bound", "network", "seed", "entry_range",
        "direction_range", "scaled", "polynomial", "verified", "checks",
    ]  # fmt: skip
    for key in [*data["network"], *data["checks"][0]]:
        assert f"`{key}`" in section, key
    assert data["network"]["slope"] == "1/100"


@pytest.mark.parametrize(
    ("loss", "exact"), [("sum", True), ("squared-error", True), ("softmax-cross-entropy", False)]
)
def test_a_concrete_loss_above_the_symbolic_limit_is_checked(
    loss: str, exact: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["derive", *LARGE, "--loss", loss, "-f", "json"], capsys)
    assert code == 0
    kind = "exact numeric check" if exact else "numeric check to within a bound"
    assert f"running the {kind} instead" in err
    data = json.loads(out)
    assert data["loss"] == loss
    assert data["verified"] is True
    assert data["exact"] is exact
