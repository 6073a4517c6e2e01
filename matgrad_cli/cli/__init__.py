"""The `matgrad` command: each command parses its options, calls the mathematics once, renders
the result through present's door and writes it (deliver.py, over files.py). How a run ends is
decided in one place, ``Commands``, whoever runs it (the installed command, ``python -m
matgrad_cli`` or a test's CliRunner), by what stopped it (SPEC section 4, docs/usage.md "Exit
codes and signals"): 0 verified or correct, 1 a verification failed or an answer is wrong, 2
bad input (a library error, as one line on stderr), 130 Ctrl-C (``matgrad: interrupted``), 141 a
reader that went away (``matgrad derive | head``: quietly, as ``seq`` in a shell). ``main``
makes the standard streams safe first (streams.py) and turns usage errors into one line.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from .. import __version__
from ..errors import ClaimSyntaxError, MatgradError
from . import check, commands, deliver, exercise, streams

if TYPE_CHECKING:
    from typer._click import Context

__all__ = ["BROKEN_PIPE", "INTERRUPTED", "app", "main", "report"]

#: Exit status after Ctrl-C (128 + SIGINT), as a shell reports a process the signal ended.
INTERRUPTED = 130
#: Exit status when the reader of stdout went away (128 + SIGPIPE), as for ``seq | head``.
BROKEN_PIPE = 141


class Commands(TyperGroup):
    """matgrad's commands, whose ends are told here: a library error as its one line, then what
    its type carries to show where it is (a claim with a caret under the culprit, a LaTeX log's
    excerpt); Ctrl-C and a closed pipe as the process's status. Both the parsing
    (``make_context``, where --help and --version print) and the run (``invoke``) are covered,
    before typer would turn them into a silent exit code of its own."""

    def make_context(self, *args: Any, **kwargs: Any) -> Context:
        with _ended():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Context) -> Any:
        with _ended():
            return super().invoke(ctx)


def report(error: MatgradError) -> None:
    """A library error's line on stderr, and what its type carries to show where it is."""
    sys.stderr.write(f"matgrad: error: {error}\n")
    if isinstance(error, ClaimSyntaxError):
        from ..present.check_text import caret_excerpt

        sys.stderr.write("".join(f"{line}\n" for line in caret_excerpt(error)))
    # Indented as a block, so that the l.NN context keeps its column under the error.
    sys.stderr.write("".join(f"  {line}\n" for line in error.details.splitlines()))


@contextlib.contextmanager
def _ended() -> Iterator[None]:
    """Turn what ends a command early into its exit code (raised as typer.Exit)."""
    try:
        yield
    except MatgradError as error:
        report(error)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        sys.stderr.write("matgrad: interrupted\n")
        raise typer.Exit(INTERRUPTED) from None
    except BrokenPipeError:
        # The reader of stdout went away (``| head``): nothing more to say, to anyone.
        streams.silence_stdout()
        raise typer.Exit(BROKEN_PIPE) from None


app = typer.Typer(
    name="matgrad",
    cls=Commands,
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help text: rich's Markdown renderer would double the start-up time of --help.
    rich_markup_mode=None,
)


def _version_callback(value: bool) -> None:
    if value:
        deliver.write(f"matgrad {__version__}\n", None, force=False)
        raise typer.Exit(0)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            callback=_version_callback,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Derive and verify the gradients of a matrix-multiplication layer A = ZW (+ b), entry by
    entry, and write the derivation as LaTeX, text, Markdown or JSON."""


for command in (commands.derive, check.check, commands.prove, commands.jacobian):
    app.command()(command)
app.command()(exercise.exercise)


def main() -> None:
    """Entry point of the `matgrad` command: one line on stderr for every usage error."""
    # A short-lived process has no use for the cycle collector, and a large derivation makes
    # millions of acyclic objects that it would otherwise rescan (about a second at 64³).
    gc.disable()
    try:
        streams.prepare()
        code = app(standalone_mode=False)
    except typer.TyperException as error:
        code = _usage(error)
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("matgrad: interrupted\n")
        code = INTERRUPTED
    except OSError as error:
        reason = error.strerror or error
        sys.stderr.write(f"matgrad: error: cannot write the output: {reason}\n")
        code = 2
    sys.exit(code if isinstance(code, int) else 0)


def _usage(error: typer.TyperException) -> int:
    """A usage error as one line on stderr, its user text escaped (exit code 2); no arguments
    at all print the help (0)."""
    if type(error).__name__ == "NoArgsIsHelpError":
        try:
            with _ended():
                error.show()  # type: ignore[attr-defined]  # a UsageError: prints the help
        except typer.Exit as ended:
            return ended.exit_code
        return 0
    from ..files import shown

    lines = error.format_message().strip().splitlines()
    # A choice's validator prefixes its reason with its own category, which says nothing here.
    first = lines[0].replace(": Value error, ", ": ") if lines else "bad usage"
    sys.stderr.write(f"matgrad: error: {shown(first)}\n")
    return 2
