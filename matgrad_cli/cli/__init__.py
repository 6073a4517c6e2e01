"""The `matgrad` command: each command parses its options, calls the mathematics once, renders
the result through present's door and writes it (deliver.py, over files.py). Library errors
become one line on stderr and their exit code in one place, ``Commands.invoke``, by their type
(SPEC section 4): 0 verified or correct, 1 a verification failed or an answer is wrong, 2 bad
input. ``main`` adds what only a process has: usage errors, interrupts, a closed pipe.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from .. import __version__
from ..errors import ClaimSyntaxError, MatgradError
from . import commands, exercise

if TYPE_CHECKING:
    from typer._click import Context

__all__ = ["app", "main"]


class Commands(TyperGroup):
    """matgrad's commands, whose library errors are reported here, whoever runs them (the
    installed command, ``python -m matgrad_cli`` or a test's CliRunner): their one line, then
    what their type carries to show where they are (a claim with a caret under the culprit, a
    LaTeX log's excerpt)."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except MatgradError as error:
            sys.stderr.write(f"matgrad: error: {error}\n")
            if isinstance(error, ClaimSyntaxError):
                from ..present.check_text import caret_excerpt

                sys.stderr.write("".join(f"{line}\n" for line in caret_excerpt(error)))
            # Indented as a block, so that the l.NN context keeps its column under the error.
            sys.stderr.write("".join(f"  {line}\n" for line in error.details.splitlines()))
            raise typer.Exit(error.exit_code) from None


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
        sys.stdout.write(f"matgrad {__version__}\n")
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


for command in (commands.derive, commands.check, commands.prove, commands.jacobian):
    app.command()(command)
app.command()(exercise.exercise)


def main() -> None:
    """Entry point of the `matgrad` command: one line on stderr for every usage error."""
    # A short-lived process has no use for the cycle collector, and a large derivation makes
    # millions of acyclic objects that it would otherwise rescan (about a second at 64³).
    gc.disable()
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as error:
        if type(error).__name__ == "NoArgsIsHelpError":
            error.show()  # type: ignore[attr-defined]  # a UsageError: prints the help
            sys.exit(0)
        lines = error.format_message().strip().splitlines()
        sys.stderr.write(f"matgrad: error: {lines[0] if lines else 'bad usage'}\n")
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("matgrad: interrupted\n")
        sys.exit(130)
    except OSError as error:
        _silence_stdout()
        # A reader that went away (``matgrad derive | head``) is told nothing more.
        if not isinstance(error, BrokenPipeError):
            reason = error.strerror or error
            sys.stderr.write(f"matgrad: error: cannot write the output: {reason}\n")
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
