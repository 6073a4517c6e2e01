"""PDF output: compiling with pdflatex, the log excerpt of a LaTeX error, a missing TeX engine."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from matgrad_cli.core.derive import derive
from matgrad_cli.errors import InputError, MatgradError
from matgrad_cli.present import pdf, render
from matgrad_cli.present.pdf import (
    EXCERPT_LINES,
    LatexFailedError,
    TexMissingError,
    check_pdf_destination,
    compile_pdf,
    find_tex_engine,
    log_excerpt,
)

from .conftest import require_pdflatex
from .conftest import run_cli as run

MINIMAL = "\\documentclass{article}\n\\begin{document}\nHello $x^2$.\n\\end{document}\n"

UNDEFINED = (
    "\\documentclass{article}\n"
    "\\usepackage{amsmath}\n"
    "\\begin{document}\n"
    "Some text.\n"
    "\\[ \\frac{1}{2} \\undefinedmacro{x} \\]\n"
    "More text.\n"
    "\\end{document}\n"
)


@pytest.fixture
def private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of its own for tempfile, to see what a compile leaves behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_find_tex_engine_is_pdflatex_on_the_path() -> None:
    assert find_tex_engine() == shutil.which("pdflatex")


def test_a_document_compiles_to_pdf_bytes(private_tempdir: Path) -> None:
    require_pdflatex()
    data = compile_pdf(MINIMAL)
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert list(private_tempdir.iterdir()) == []  # the work folder and its aux files are gone


def test_the_same_latex_gives_the_same_pdf_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    require_pdflatex()
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert compile_pdf(MINIMAL) == compile_pdf(MINIMAL)


def test_the_derivation_document_compiles_to_pdf() -> None:
    require_pdflatex()
    data = compile_pdf(render(derive(2, 3, 2), "latex", standalone=True))
    assert data.startswith(b"%PDF-")
    assert len(data) > 10_000


def test_a_latex_error_gives_one_line_and_a_short_excerpt(private_tempdir: Path) -> None:
    require_pdflatex()
    with pytest.raises(LatexFailedError) as raised:
        compile_pdf(UNDEFINED)
    error = raised.value
    message = str(error)
    assert "\n" not in message
    assert message == (
        "pdflatex could not compile the document: Undefined control sequence (line 5 of the LaTeX)"
    )
    lines = error.details.splitlines()
    assert lines[0] == "! Undefined control sequence."
    assert lines[1].startswith("l.5 \\[ \\frac{1}{2} \\undefinedmacro")
    assert lines[2].strip() == "{x} \\]"
    assert len(lines) <= EXCERPT_LINES
    assert "Here is how much" not in error.details  # not the wall of the log
    assert error.exit_code == 2
    assert list(private_tempdir.iterdir()) == []


def test_a_missing_package_excerpt_stays_short() -> None:
    require_pdflatex()
    broken = (
        "\\documentclass{article}\n\\usepackage{nosuchpackagexyz}\n"
        "\\begin{document}x\\end{document}\n"
    )
    with pytest.raises(LatexFailedError) as raised:
        compile_pdf(broken)
    assert "nosuchpackagexyz.sty' not found" in str(raised.value)
    assert raised.value.details.startswith("! LaTeX Error: File `nosuchpackagexyz.sty' not found.")
    assert len(raised.value.details.splitlines()) <= EXCERPT_LINES


def test_a_document_without_pages_is_an_error() -> None:
    require_pdflatex()
    with pytest.raises(LatexFailedError, match="no PDF"):
        compile_pdf("\\documentclass{article}\n\\begin{document}\n\\end{document}\n")


def test_log_excerpt_keeps_the_error_and_its_context() -> None:
    log = "\n".join(
        [
            "This is pdfTeX, Version 3.14",
            "(./document.tex LaTeX2e",
            "! Missing } inserted.",
            "<inserted text> ",
            "                }",
            "l.3 $x^{2$",
            "           ",
            "Here is how much of TeX's memory you used:",
            " 420 strings out of 478051",
            "!  ==> Fatal error occurred, no output PDF file produced!",
        ]
    )
    message, details = log_excerpt(log)
    assert message == "Missing } inserted (line 3 of the LaTeX)"
    assert details.splitlines() == [
        "! Missing } inserted.",
        "<inserted text>",
        "                }",
        "l.3 $x^{2$",
    ]


def test_log_excerpt_without_an_error_line_gives_the_last_lines() -> None:
    log = "\n".join(f"line {number}" for number in range(40))
    message, details = log_excerpt(log)
    assert message == "see the log below"
    assert details.splitlines() == [f"line {number}" for number in range(32, 40)]


def test_log_excerpt_of_a_long_error_is_cut_in_the_middle() -> None:
    log = "\n".join(["! Emergency stop.", *(f"context {n}" for n in range(12)), "l.9 x", "  y"])
    _, details = log_excerpt(log)
    lines = details.splitlines()
    assert len(lines) == EXCERPT_LINES
    assert lines[0] == "! Emergency stop."
    assert "…" in lines
    assert lines[-2:] == ["l.9 x", "  y"]


def _bin_folder(folder: Path, script: str | None = None) -> Path:
    """A folder for a search path: empty, as on a machine without TeX, or holding a pdflatex
    that runs ``script`` (a shell script)."""
    bin_folder = folder / "bin"
    bin_folder.mkdir()
    if script is not None:
        engine = bin_folder / "pdflatex"
        engine.write_text(f"#!/bin/sh\n{script}", encoding="utf-8")
        engine.chmod(0o755)
    return bin_folder


#: A pdflatex that fails as on a LaTeX error: it writes the log of the error and its line.
BROKEN_TEX = (
    "for last; do :; done\n"
    "printf '! Undefined control sequence.\\nl.5 \\\\undefinedmacro\\n' > \"${last%.tex}.log\"\n"
    "exit 1\n"
)


def test_missing_tex_engine_says_how_to_install_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(TexMissingError) as raised:
        pdf.require_tex_engine(path=str(_bin_folder(tmp_path)))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(TexMissingError) as compiling:
        compile_pdf(MINIMAL)
    assert str(compiling.value) == str(raised.value)
    message = str(raised.value)
    assert isinstance(raised.value, InputError)
    assert raised.value.exit_code == 2
    assert "\n" not in message
    assert "apt-get install texlive-latex-base" in message
    assert "`--format latex --standalone` works without it" in message


def test_a_pdf_is_refused_on_a_terminal_but_not_to_a_file_or_a_pipe(tmp_path: Path) -> None:
    tex = str(_bin_folder(tmp_path, "exit 0\n"))
    with pytest.raises(InputError, match="refusing to write a binary PDF to the terminal"):
        check_pdf_destination(None, stdout_is_terminal=True, path=tex)
    engine = str(tmp_path / "bin" / "pdflatex")
    assert check_pdf_destination(None, stdout_is_terminal=False, path=tex) == engine
    assert check_pdf_destination(tmp_path / "x.pdf", stdout_is_terminal=True, path=tex) == engine
    (tmp_path / "empty").mkdir()
    with pytest.raises(TexMissingError):
        check_pdf_destination(tmp_path / "x.pdf", False, path=str(tmp_path / "empty"))


def test_a_pdflatex_that_hangs_is_stopped(tmp_path: Path) -> None:
    hanging = str(_bin_folder(tmp_path, "exec sleep 60\n") / "pdflatex")
    with pytest.raises(LatexFailedError, match="did not finish within 1 seconds"):
        compile_pdf(MINIMAL, timeout=1.0, engine=hanging)


def test_library_errors_are_matgrad_errors() -> None:
    assert issubclass(TexMissingError, MatgradError)
    assert issubclass(LatexFailedError, MatgradError)
    assert LatexFailedError("x").details == ""


# The command line, once cli.py has `--format pdf`.


def test_derive_writes_a_pdf_file_and_a_verified_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_pdflatex()
    target = tmp_path / "layer.pdf"
    code, out, err = run(["derive", "--format", "pdf", "-o", str(target)], capsys)
    assert code == 0
    assert out == ""
    assert err.startswith("matgrad: verified (m=2, k=2, n=2, with and without the bias)")
    assert target.read_bytes().startswith(b"%PDF-")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["layer.pdf"]
    code, _, err = run(["derive", "--format", "pdf", "-o", str(target)], capsys)
    assert code == 2
    assert err == f"matgrad: error: {target} already exists; use --force to replace it\n"


def test_derive_pdf_without_tex_exits_2_with_the_install_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(_bin_folder(tmp_path)))
    target = tmp_path / "layer.pdf"
    code, out, err = run(["derive", "--format", "pdf", "-o", str(target)], capsys)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert "apt-get install texlive-latex-base" in err
    assert "--format latex --standalone" in err
    assert not target.exists()


def test_derive_pdf_shows_the_log_excerpt_of_a_latex_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(_bin_folder(tmp_path, BROKEN_TEX)))
    target = tmp_path / "layer.pdf"
    code, _, err = run(["derive", "--format", "pdf", "-o", str(target)], capsys)
    assert code == 2
    lines = err.splitlines()
    assert lines[0] == (
        "matgrad: error: pdflatex could not compile the document: Undefined control sequence "
        "(line 5 of the LaTeX)"
    )
    assert lines[1] == "  ! Undefined control sequence."
    assert len(lines) <= 1 + EXCERPT_LINES
    assert not target.exists()
