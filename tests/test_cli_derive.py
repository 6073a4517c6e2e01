"""The `matgrad derive` command as a user meets it: options, output, files, errors, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main

from .conftest import run_cli as run


def test_default_derive_prints_latex_and_a_verified_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["derive"], capsys)
    assert code == 0
    assert out.startswith("% Gradients of the matrix-multiplication layer A = ZW + \\mathbf{1}_m b")
    assert r"\section*{Setup}" in out
    assert "\x1b[" not in out  # piped: the plain LaTeX alone, no colour codes
    assert err.startswith("matgrad: verified (m=2, k=2, n=2, with and without the bias)")
    assert len(err.strip().splitlines()) == 1


def test_output_is_byte_identical_across_runs(capsys: pytest.CaptureFixture[str]) -> None:
    for output_format in ("latex", "markdown", "json"):
        first = run(["derive", "-f", output_format, "--m", "3"], capsys)[1]
        second = run(["derive", "-f", output_format, "--m", "3"], capsys)[1]
        assert first == second


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--m", "0"], "size m must be a positive integer, got 0"),
        (["--k", "-3"], "size k must be a positive integer, got '-3'"),
        (["--n", "2.5"], "size n must be a positive integer, got '2.5'"),
        (["--m", "two"], "size m must be a positive integer, got 'two'"),
        (["--m", ""], "size m must be a positive integer, got ''"),
        (["--m", "99999999999999999999"], "size m = 99999999999999999999 is far too large"),
        (["--m", "5000", "--k", "300", "--n", "300"], "above the numeric limit of 1024"),
        (["--seed", "-1", "--numeric"], "--seed"),
        (["--frobnicate"], "No such option: --frobnicate"),
        (["--m"], "requires an argument"),
        (["extra"], "unexpected extra argument"),
        (["--standalone", "--format", "json"], "--standalone applies to --format latex only"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["derive", *args], capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("matgrad: error: ")
    assert message in lines[0]
    assert "Traceback" not in err


def test_output_file_is_written_and_not_clobbered_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "layer.tex"
    code, out, _ = run(["derive", "-o", str(target)], capsys)
    assert code == 0
    assert out == ""
    written = target.read_text(encoding="utf-8")
    assert r"\section*{Summary}" in written

    target.write_text("my notes", encoding="utf-8")
    code, _, err = run(["derive", "-o", str(target)], capsys)
    assert code == 2
    assert "already exists; use --force" in err
    assert target.read_text(encoding="utf-8") == "my notes"

    code, _, _ = run(["derive", "-o", str(target), "--force", "--no-bias"], capsys)
    assert code == 0
    assert "Adding the bias" not in target.read_text(encoding="utf-8")
    assert [path.name for path in tmp_path.iterdir()] == ["layer.tex"]  # no temporary left


@pytest.mark.parametrize(
    "target_name", ["missing-folder/layer.tex", "."], ids=["missing folder", "a directory"]
)
def test_unwritable_output_exits_2_before_any_work(
    target_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["derive", "-o", str(tmp_path / target_name)], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("matgrad: error: ")
    assert "cannot write" in err or "is a directory" in err
    assert len(err.strip().splitlines()) == 1


def test_bad_input_leaves_an_existing_file_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "layer.tex"
    target.write_text("keep me", encoding="utf-8")
    code, _, _ = run(["derive", "--m", "0", "-o", str(target), "--force"], capsys)
    assert code == 2
    assert target.read_text(encoding="utf-8") == "keep me"


def test_json_has_the_documented_fields(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["derive", "--format", "json", "--m", "3", "--k", "2", "--n", "4"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["sizes"] == {"m": 3, "k": 2, "n": 4}
    assert data["bias"] is True
    assert data["loss"] == "generic"
    assert data["verified"] is True
    assert {"identity", "holds", "shape"} <= set(data["checks"][0])
    assert all(check["holds"] for check in data["checks"])
    assert sorted(data["gradients"]) == ["W", "Z", "b"]
    assert len(data["gradients"]["Z"]) == 3
    assert len(data["gradients"]["Z"][0]) == 2
    assert data["gradients"]["Z"][0][1] == (
        "dA_1_1*w_2_1 + dA_1_2*w_2_2 + dA_1_3*w_2_3 + dA_1_4*w_2_4"
    )
    assert data["gradients"]["W"][1][0] == "z_1_2*dA_1_1 + z_2_2*dA_2_1 + z_3_2*dA_3_1"
    assert data["gradients"]["b"] == [
        [
            "dA_1_1 + dA_2_1 + dA_3_1",
            "dA_1_2 + dA_2_2 + dA_3_2",
            "dA_1_3 + dA_2_3 + dA_3_3",
            "dA_1_4 + dA_2_4 + dA_3_4",
        ]
    ]


def test_json_without_bias_has_no_bias_gradient(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["derive", "--format", "json", "--no-bias"], capsys)
    data = json.loads(out)
    assert data["bias"] is False
    assert sorted(data["gradients"]) == ["W", "Z"]


def test_version_and_help_explain_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--version"], capsys)
    assert code == 0
    assert out.startswith("matgrad ")
    code, out, _ = run(["derive", "--help"], capsys)
    assert code == 0
    for option in ("--m", "--k", "--n", "--no-bias", "--format", "--standalone", "--output"):
        assert option in out
    for option in ("--force", "--full", "--engine"):
        assert option in out


def test_installed_entry_point_runs_as_a_subprocess(tmp_path: Path) -> None:
    executable = Path(sys.executable).parent / "matgrad"
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "matgrad_cli"]
    result = subprocess.run(
        [*command, "derive", "--format", "markdown"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "80"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Gradients of the matrix-multiplication layer")
    assert "matgrad: verified" in result.stderr


def test_module_entry_point_matches_the_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "matgrad_cli", "derive", "--m", "0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == "matgrad: error: size m must be a positive integer, got 0\n"


def test_help_does_not_import_sympy() -> None:
    code = (
        "import sys; sys.argv = ['matgrad', '--help']\n"
        "from matgrad_cli.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'sympy' not in sys.modules and 'symengine' not in sys.modules, 'imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_numeric_check_says_it_is_not_a_symbolic_proof(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["derive", "--numeric", "--m", "40", "--k", "30", "-n", "20"], capsys)
    assert code == 0
    assert "numeric check (exact integer arithmetic), not a symbolic proof" in out
    assert r"\section*{Result}" in out
    assert "verified by numeric check" in err
    code, out, _ = run(["derive", "--numeric", "-f", "json", "--no-bias"], capsys)
    data = json.loads(out)
    assert data["kind"] == "numeric"
    assert data["verified"] is True
    assert [check["variable"] for check in data["checks"]] == ["Z", "W"]


def test_sizes_above_the_symbolic_limit_switch_to_the_numeric_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["derive", "--m", "200", "--k", "200", "--n", "200", "-f", "text"], capsys)
    assert code == 0
    assert out.startswith("matgrad: numeric check (exact integer arithmetic), not a symbolic proof")
    assert "above the symbolic limit; running the exact numeric check instead" in err
    assert all(len(line) <= 80 for line in out.splitlines())


def test_sizes_above_the_numeric_limit_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["derive", "--m", "2000", "--k", "2", "--n", "2", "--numeric"], capsys)
    assert code == 2
    assert out == ""
    assert err == "matgrad: error: size m = 2000 is above the numeric limit of 1024 per dimension\n"


@pytest.mark.parametrize("command", [["derive"], ["prove"], ["jacobian"]])
def test_an_output_name_ending_in_a_separator_is_refused_with_one_line(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `-o x.tex/` names a folder: it is not quietly written to x.tex.
    target = f"{tmp_path / 'x.tex'}/"
    code, out, err = run([*command, "-o", target], capsys)
    assert code == 2
    assert out == ""
    assert err == f"matgrad: error: cannot write {target}: a file name cannot end with /\n"
    assert list(tmp_path.iterdir()) == []


def test_dash_as_output_is_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["derive", "-o", "-", "-f", "markdown"], capsys)
    assert code == 0
    assert out.startswith("# Gradients of the matrix-multiplication layer")
    assert "matgrad: verified" in err


def test_a_folder_through_a_file_is_a_missing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes").write_text("a file, not a folder", encoding="utf-8")
    code, _, err = run(["derive", "-o", str(tmp_path / "notes" / "layer.tex")], capsys)
    assert code == 2
    assert err == (
        f"matgrad: error: cannot write {tmp_path / 'notes' / 'layer.tex'}: "
        f"the folder {tmp_path / 'notes'} does not exist\n"
    )


def test_a_symlinked_output_is_written_through_keeping_the_link_and_the_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "kept.tex"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o600)
    link = tmp_path / "layer.tex"
    link.symlink_to(target)
    code, _, _ = run(["derive", "-o", str(link), "--force"], capsys)
    assert code == 0
    assert link.is_symlink()
    assert (target.stat().st_mode & 0o777) == 0o600
    assert r"\section*{Summary}" in target.read_text(encoding="utf-8")


def test_the_entry_limit_too_switches_to_the_numeric_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # m·k·n = 4000 is within SymPy's symbolic limit, but Z, W and A have 4004 entries, above
    # its limit of 3072 entries: the same kind of error, so the same fallback.
    args = ["derive", "--engine", "sympy", "-m", "2", "-k", "2", "-n", "1000", "-f", "json"]
    code, out, err = run(args, capsys)
    assert code == 0
    assert json.loads(out)["kind"] == "numeric"
    assert err.startswith(
        "matgrad: m·k·n = 4000 is above the symbolic limit; running the exact numeric check "
        "instead\n"
    )


def test_the_format_choices_are_the_formats_of_the_door() -> None:
    # A format registered in present's door is offered by every command that prints a kind of
    # result it renders, the command's default first; derive and exercise also compile a PDF.
    from matgrad_cli.cli import app
    from matgrad_cli.present import formats

    root = typer.main.get_command(app)
    context = typer.Context(root)

    def choices(name: str) -> list[str]:
        command = root.get_command(context, name)  # type: ignore[attr-defined]
        option = next(p for p in command.params if p.name == "output_format")
        return list(option.type_descriptor.choices)

    assert choices("derive") == [*formats("Derivation"), "pdf"]
    assert formats("Derivation") == formats("NumericResult")
    assert choices("check") == ["text", "latex", "markdown", "html", "beamer", "json", "gradescope"]
    assert set(choices("check")) == set(formats("CheckReport"))
    assert choices("prove") == list(formats("ProofReport"))
    assert choices("jacobian") == list(formats("JacobianDerivation"))
    assert choices("exercise") == ["latex", "pdf", "html"]
