"""PDF output: a standalone LaTeX document compiled with pdflatex in a temporary folder.

The TeX engine is an external program, so its absence and its failures are reported as library
errors with one-line messages (SPEC section 4); a LaTeX error keeps a short excerpt of the log
in ``details`` for the command line to print under that line. The PDF is reproducible: its
dates come from SOURCE_DATE_EPOCH (0 unless already set), so the same LaTeX gives the same bytes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import InputError, MatgradError

#: What to install: texlive-latex-base brings pdflatex and every package matgrad's documents
#: use (amsmath, amssymb, geometry) on Debian and Ubuntu.
INSTALL_HINT = "install one, e.g. `apt-get install texlive-latex-base` on Debian or Ubuntu"

#: How long one pdflatex run may take, in seconds; matgrad's largest documents need a few.
TIMEOUT = 120.0

#: At most this many lines of the log are kept for a person to read.
EXCERPT_LINES = 8

_PASSES = 3
_JOB = "document"
_LINE_REFERENCE = re.compile(r"^l\.(\d+)")


class TexMissingError(InputError):
    """No TeX engine is installed: PDF output is impossible (exit code 2)."""


class LatexFailedError(MatgradError):
    """pdflatex could not compile the document.

    Exit code 2, not 1: SPEC section 4 keeps 1 for a verification that failed, and scripts read
    it that way; a document that does not compile is a failure to write the output. ``details``
    holds the relevant lines of the log (the ``!`` error line and its ``l.NN`` context).
    """

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


def find_tex_engine(path: str | None = None) -> str | None:
    """The path of pdflatex on the search ``path`` (PATH when None), or None."""
    return shutil.which("pdflatex", path=path)


def require_tex_engine(
    without: str = "--format latex --standalone", path: str | None = None
) -> str:
    """The path of pdflatex on ``path``, or a TexMissingError that says how to install it and
    names the option (``without``) that writes the LaTeX instead; called before any work."""
    engine = find_tex_engine(path)
    if engine is None:
        raise TexMissingError(
            f"no TeX engine found (pdflatex is not on PATH): {INSTALL_HINT}; "
            f"`{without}` works without it"
        )
    return engine


def check_pdf_destination(
    output: Path | None, stdout_is_terminal: bool, path: str | None = None
) -> str:
    """The path of pdflatex on ``path``, or a refusal, before any work, of a PDF that cannot be
    made or would go to a terminal (as gzip refuses to write compressed data to one)."""
    if output is None and stdout_is_terminal:
        raise InputError(
            "refusing to write a binary PDF to the terminal: use -o FILE.pdf, or redirect stdout"
        )
    return require_tex_engine(path=path)


def compile_pdf(latex: str, *, timeout: float = TIMEOUT, engine: str | None = None) -> bytes:
    """The PDF of a standalone LaTeX document, made by ``engine`` (pdflatex on PATH when None)
    in a temporary folder removed with every auxiliary file, whatever happens."""
    engine = engine if engine is not None else require_tex_engine()
    with tempfile.TemporaryDirectory(prefix="matgrad-pdf-") as folder:
        work = Path(folder)
        (work / f"{_JOB}.tex").write_text(latex, encoding="utf-8")
        for _ in range(_PASSES):
            log = _run(engine, work, timeout)
            # matgrad's documents have no cross-references; a document that has them is rerun.
            if "Rerun to get" not in log and "Label(s) may have changed" not in log:
                break
        pdf = work / f"{_JOB}.pdf"
        if not pdf.is_file():
            raise LatexFailedError("pdflatex produced no PDF (the document has no pages)")
        return pdf.read_bytes()


def _run(engine: str, work: Path, timeout: float) -> str:
    """One pdflatex pass in ``work``; the text of its log, or a LatexFailedError."""
    environment = dict(os.environ)
    # Reproducible dates and /ID (pdfTeX honours SOURCE_DATE_EPOCH), and unwrapped log lines.
    environment.setdefault("SOURCE_DATE_EPOCH", "0")
    environment["FORCE_SOURCE_DATE"] = "1"
    environment["max_print_line"] = "1000"
    options = ["-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape"]
    try:
        result = subprocess.run(
            [engine, *options, f"{_JOB}.tex"],
            cwd=work,
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as error:
        raise LatexFailedError(f"pdflatex did not finish within {timeout:g} seconds") from error
    except OSError as error:
        raise LatexFailedError(f"cannot run {engine}: {error.strerror}") from error
    log_path = work / f"{_JOB}.log"
    log = log_path.read_text(encoding="latin-1") if log_path.is_file() else ""
    if result.returncode != 0:
        if not log:
            log = result.stdout.decode("latin-1", errors="replace")
        message, details = log_excerpt(log)
        raise LatexFailedError(f"pdflatex could not compile the document: {message}", details)
    return log


def log_excerpt(log: str) -> tuple[str, str]:
    """The first ``! …`` error of a pdflatex log as one line (with its source line number), and
    the log from it to its ``l.NN`` context and the line after (at most EXCERPT_LINES lines); the
    last lines of a log with no ``!`` line."""
    lines = log.splitlines()
    fatal = "!  ==>"  # pdflatex's last word, not an error in the document
    errors = [at for at, line in enumerate(lines) if line[:1] == "!" and not line.startswith(fatal)]
    if not errors:
        tail = [line for line in lines if line.strip()][-EXCERPT_LINES:]
        return "see the log below", "\n".join(tail)
    start = errors[0]
    excerpt: list[str] = []
    source_line: str | None = None
    for line in lines[start : start + 20]:
        if line.startswith(("Here is how much", fatal)):
            break
        if line.strip():
            excerpt.append(line.rstrip())
        if source_line is not None:
            break  # the continuation of the l.NN context, shown under it
        match = _LINE_REFERENCE.match(line)
        if match is not None:
            source_line = match.group(1)
    if len(excerpt) > EXCERPT_LINES:
        excerpt = [*excerpt[:2], "…", *excerpt[-(EXCERPT_LINES - 3) :]]
    message = lines[start][1:].strip().rstrip(".").rstrip()
    if source_line is not None:
        message += f" (line {source_line} of the LaTeX)"
    return message, "\n".join(excerpt)
