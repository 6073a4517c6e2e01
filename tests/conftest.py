"""Shared test helpers: golden files and running the command line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(actual: str, relative: str) -> None:
    """Compare ``actual`` with the golden file; MATGRAD_UPDATE_GOLDEN=1 rewrites it instead."""
    path = GOLDEN / relative
    if os.environ.get("MATGRAD_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"golden file {path} is missing; run with MATGRAD_UPDATE_GOLDEN=1")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"output differs from {path} (MATGRAD_UPDATE_GOLDEN=1 to update)"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `matgrad ARGS` in-process and return (exit code, stdout, stderr)."""
    import sys

    from matgrad_cli.cli import main

    old_argv = sys.argv
    sys.argv = ["matgrad", *args]
    try:
        with pytest.raises(SystemExit) as exited:
            main()
    finally:
        sys.argv = old_argv
    captured = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), captured.out, captured.err


def pdflatex() -> str | None:
    """The pdflatex on the path, or None; in CI (CI=true) a missing pdflatex fails the test."""
    import shutil

    found = shutil.which("pdflatex")
    if found is None and os.environ.get("CI") == "true":
        pytest.fail("pdflatex is required in CI (.ci/run installs texlive-latex-base)")
    return found


def require_pdflatex() -> str:
    """The pdflatex on the path; skips the test without one (fails it in CI)."""
    found = pdflatex()
    if found is None:
        pytest.skip("pdflatex is not installed")
    return found


def run_pdflatex(latex: str, folder: Path, name: str) -> subprocess.CompletedProcess[str]:
    """Write ``latex`` to ``folder/name.tex`` and compile it as a user would; skips without
    pdflatex (fails in CI). The caller asserts on the result and on ``name.log``."""
    found = require_pdflatex()
    (folder / f"{name}.tex").write_text(latex, encoding="utf-8")
    return subprocess.run(
        [found, "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
