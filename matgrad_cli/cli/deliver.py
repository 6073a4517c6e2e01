"""From a result to where it goes, the one way every command takes: rendered through present's
door (``render``), then written by files.py or printed on stdout, and its verdict on stderr.
files.py is imported when a file is named, so that ``matgrad --help`` does not pay for it.
A PDF is the standalone LaTeX compiled with pdflatex. On a terminal the text view is laid out for
its width, in colour, and the other formats are highlighted; anything else gets the plain bytes,
in the ASCII notation (JSON with ``\\u`` escapes) if stdout cannot encode them (streams.py).
A stdout that cannot be written is an error (exit code 2), so no verdict follows it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from ..errors import OutputError
from ..present import render, summary
from . import streams

if TYPE_CHECKING:
    from rich.console import Console

#: Above this many characters a document on a terminal is printed plain, not highlighted: rich
#: takes 1 to 3 µs a character (about a second here on a terminal 10 columns wide).
HIGHLIGHT_LIMIT = 1 << 19


def prepare_output(text: str | None, output_format: str, force: bool) -> Path | None:
    """The file ``-o TEXT`` names (None for stdout: no -o, or ``-o -``), refused before any work
    if it may not be written: a file in use without --force, a PDF without pdflatex or to a tty."""
    destination = None
    if text is not None and text != "-":
        from ..files import check_writable, parse_output_path

        destination = parse_output_path(text)
        check_writable(destination, force)
    elif streams.stdout_closed():
        raise OutputError(streams.CLOSED)
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
    chosen: dict[str, Any] | None = None,
) -> None:
    """``result`` in ``output_format`` to ``destination`` (atomically), or to stdout if None;
    ``full`` (every entry, or an elided view) is None for results that have no elided view;
    ``chosen`` what goes into the document (a derivation's ``sections`` and ``brief``)."""
    options: dict[str, Any] = {} if full is None or output_format == "json" else {"full": full}
    options.update(chosen or {})
    if output_format == "pdf":
        from ..present.pdf import compile_pdf

        latex = render(result, "latex", standalone=True, **options)
        write(compile_pdf(latex), destination, force)
        return
    on_terminal = destination is None and sys.stdout.isatty()
    if output_format == "latex":
        options["standalone"] = standalone
    elif output_format == "text":
        import shutil

        width = shutil.get_terminal_size((80, 24)).columns if on_terminal else 80
        options.update(color=on_terminal, width=width)
    text = render(result, output_format, **options)
    if on_terminal and output_format != "text" and len(text) <= HIGHLIGHT_LIMIT:
        from rich.console import Console

        print_highlighted(streams.output_text(text, output_format), output_format, Console())
    else:
        if destination is None:
            text = streams.output_text(text, output_format)
        write(text, destination, force)


def print_highlighted(text: str, output_format: str, console: Console) -> None:
    """``text`` highlighted as ``output_format`` on ``console``, line for line as it is: never
    wrapped, cropped or padded (soft wrap), so that the terminal folds a long line only on the
    screen and what is copied from it is the text a pipe gets, and compiles the same."""
    from rich.syntax import Syntax

    lexer = "latex" if output_format == "beamer" else output_format  # a deck is LaTeX
    highlighted = Syntax(text, lexer, theme="ansi_dark").highlight(text)
    console.print(highlighted, soft_wrap=True, end="")


def conclude(result: object, holds: bool, *, told: bool = False) -> NoReturn:
    """Exit 0 if ``holds``, else 1, after ``result``'s one-line verdict on stderr, unless
    ``told``: its text view, which tells the verdict, went to stdout."""
    if not told:
        sys.stderr.write(f"matgrad: {summary(result)}\n")
    raise typer.Exit(0 if holds else 1)


def write(content: str | bytes, destination: Path | None, force: bool) -> None:
    """``content`` to its file, atomically, or to stdout (a PDF as bytes, to a stdout that
    prepare_output has checked is not a terminal). A reader that went away is left to the
    command line (BrokenPipeError: a quiet exit); any other failure is an OutputError."""
    if destination is not None:
        from ..files import write_atomic

        write_atomic(destination, content, force)
        return
    try:
        _put(content)
    except BrokenPipeError:
        raise
    except OSError as error:
        raise OutputError(f"cannot write to stdout: {error.strerror or error}") from error


def _put(content: str | bytes) -> None:
    """All of ``content`` on stdout, or an OSError. Through the binary stream, whose count of
    bytes written is checked: when the reader of a pipe goes away during a write, the write
    returns short, and a text stream would drop the rest without a word."""
    stream = sys.stdout
    binary = getattr(stream, "buffer", None)
    if binary is None:  # a stream without bytes underneath (a notebook's, a test's)
        stream.write(content if isinstance(content, str) else content.decode("utf-8"))
        stream.flush()
        return
    if isinstance(content, str):
        content = content.encode(stream.encoding or "utf-8", stream.errors or "strict")
    stream.flush()
    view = memoryview(content)
    while view:
        written = binary.write(view)
        view = view[len(view) if written is None else written :]
    binary.flush()
