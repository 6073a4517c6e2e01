"""From a result to where it goes, the one way every command takes: rendered through present's
door (``render``), then written by files.py or printed on stdout, and its verdict on stderr.
files.py is imported when a file is named, so that ``matgrad --help`` does not pay for it.
A PDF is the standalone LaTeX compiled with pdflatex. On a terminal the text view is laid out for
its width, in colour, and the other formats are highlighted; anything else gets the plain bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import typer

from ..present import render, summary


def prepare_output(text: str | None, output_format: str, force: bool) -> Path | None:
    """The file ``-o TEXT`` names (None for stdout: no -o, or ``-o -``), refused before any work
    if it may not be written: a file in use without --force, a PDF without pdflatex or to a tty."""
    destination = None
    if text is not None and text != "-":
        from ..files import check_writable, parse_output_path

        destination = parse_output_path(text)
        check_writable(destination, force)
    if output_format == "pdf":
        from ..present.pdf import check_pdf_destination

        check_pdf_destination(destination, sys.stdout.isatty())
    return destination


def deliver(
    result: object,
    output_format: str,
    destination: Path | None,
    force: bool,
    *,
    standalone: bool = False,
    full: bool | None = None,
) -> None:
    """``result`` in ``output_format`` to ``destination`` (atomically), or to stdout if None;
    ``full`` (every entry, or an elided view) is None for results that have no elided view."""
    options: dict[str, Any] = {} if full is None or output_format == "json" else {"full": full}
    if output_format == "pdf":
        from ..present.pdf import compile_pdf

        latex = render(result, "latex", standalone=True, **options)
        _write(compile_pdf(latex), destination, force)
        return
    on_terminal = destination is None and sys.stdout.isatty()
    if output_format == "latex":
        options["standalone"] = standalone
    elif output_format == "text":
        import shutil

        width = shutil.get_terminal_size((80, 24)).columns if on_terminal else 80
        options.update(color=on_terminal, width=width)
    text = render(result, output_format, **options)
    if on_terminal and output_format != "text":
        from rich.console import Console
        from rich.syntax import Syntax

        Console().print(Syntax(text, output_format, theme="ansi_dark", word_wrap=True))
    else:
        _write(text, destination, force)


def conclude(result: object, holds: bool, *, told: bool = False) -> NoReturn:
    """Exit 0 if ``holds``, else 1, after ``result``'s one-line verdict on stderr, unless
    ``told``: its text view, which tells the verdict, went to stdout."""
    if not told:
        sys.stderr.write(f"matgrad: {summary(result)}\n")
    raise typer.Exit(0 if holds else 1)


def _write(content: str | bytes, destination: Path | None, force: bool) -> None:
    """``content`` to its file, atomically, or to stdout as it is (a PDF as bytes, to a stdout
    that prepare_output has checked is not a terminal)."""
    if destination is not None:
        from ..files import write_atomic

        write_atomic(destination, content, force)
    elif isinstance(content, bytes):
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(content)
        sys.stdout.flush()
