"""From a result to where it goes, the one way every command takes: rendered through present's
door (``render``), then written by files.py or printed on stdout. files.py is imported when a file
is named, so that ``matgrad --help`` does not pay for it.

A PDF is the standalone LaTeX compiled with pdflatex. On a terminal the text view is laid out for
its width, in colour, and the other formats are highlighted; anything else gets the plain bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import typer

from ..present import render, summary


def _output_path(text: str | None) -> Path | None:
    """The file ``-o TEXT`` names, or None for stdout (no -o, or ``-o -`` as in most tools)."""
    from ..files import parse_output_path

    return None if text is None or text == "-" else parse_output_path(text)


def prepare_output(text: str | None, output_format: str, force: bool) -> Path | None:
    """The destination of ``-o TEXT``, refused before any work if it cannot or may not be
    written: a file in use without --force, or a PDF without pdflatex or bound for a terminal."""
    from ..files import check_writable

    destination = _output_path(text)
    if destination is not None:
        check_writable(destination, force)
    if output_format == "pdf":
        from ..present.pdf import check_pdf_destination

        check_pdf_destination(destination, sys.stdout.isatty())
    return destination


def _render_options(output_format: str, standalone: bool, full: bool | None) -> dict[str, Any]:
    """The options ``render`` takes for ``output_format``: LaTeX standalone or a fragment, and
    (for the results that elide, ``full`` given) every entry or an elided view; JSON takes none."""
    options: dict[str, Any] = {}
    if output_format == "latex":
        options["standalone"] = standalone
    if full is not None and output_format != "json":
        options["full"] = full
    return options


def deliver(
    result: object,
    output_format: str,
    destination: Path | None,
    force: bool,
    *,
    standalone: bool = False,
    full: bool | None = None,
) -> None:
    """``result`` in ``output_format`` to ``destination`` (atomically), or to stdout if None.

    ``full`` is None for results that have no elided view.
    """
    if output_format == "pdf":
        from ..present.pdf import compile_pdf

        latex = render(result, "latex", **_render_options("latex", True, full))
        _write(compile_pdf(latex), destination, force)
        return
    options = _render_options(output_format, standalone, full)
    on_terminal = destination is None and sys.stdout.isatty()
    if output_format == "text":
        options.update(_terminal_layout() if on_terminal else {"color": False, "width": 80})
    text = render(result, output_format, **options)
    if on_terminal and output_format != "text":
        _highlight(text, output_format)
        return
    _write(text, destination, force)


def conclude(result: object, holds: bool, *, told: bool = False) -> NoReturn:
    """Exit 0 if ``holds``, else 1, after ``result``'s one-line verdict on stderr, unless
    ``told``: its text view, which tells the verdict, went to stdout."""
    if not told:
        sys.stderr.write(f"matgrad: {summary(result)}\n")
    raise typer.Exit(0 if holds else 1)


def _terminal_layout() -> dict[str, Any]:
    """Colour, and the terminal's width, for a text view printed to a terminal."""
    import shutil

    return {"color": True, "width": shutil.get_terminal_size((80, 24)).columns}


def _highlight(text: str, syntax: str) -> None:
    """The document on the terminal, highlighted as ``syntax``."""
    from rich.console import Console
    from rich.syntax import Syntax

    Console().print(Syntax(text, syntax, theme="ansi_dark", word_wrap=True))


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
