"""Write docs/reference.md, the command reference, from the typer app itself.

Every command, argument and option of `matgrad` comes from walking the click command that typer
builds (``typer.main.get_command``): names, option strings, value types and choices, defaults,
and the help texts that ``--help`` prints. The output depends on nothing but the app, so the
same code always gives the same bytes; tests/test_docs.py fails when the page is out of date.

    .venv/bin/python scripts/gen_reference.py          # rewrite docs/reference.md
    .venv/bin/python scripts/gen_reference.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path

# The reference is generated from the typer app, so this script reads typer's command objects.
import typer
import typer.main
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference.md"
REGENERATE = ".venv/bin/python scripts/gen_reference.py"
PROGRAM = "matgrad"

#: typer reads this variable when it builds the completion options, and changes their type;
#: the reference describes the options as a person's shell sees them, so it is unset meanwhile.
_SHELL_DETECTION_SWITCH = "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"

Parameter = TyperOption | TyperArgument
Command = TyperCommand | TyperGroup


def _escape(text: str) -> str:
    """Text as literal Markdown: no emphasis, code, links, HTML or table cells from its
    characters, and no list, heading or quote from its first one."""
    for special in ("\\", "`", "*", "_", "<", "[", "]", "|"):
        text = text.replace(special, "\\" + special)
    if text[:1] in ("#", "-", "+", ">", "=") or text.split(".", 1)[0].isdigit():
        text = "\\" + text
    return text


def _paragraphs(help_text: str | None) -> list[str]:
    """A docstring as paragraphs, each joined into one line (Markdown rewraps them anyway)."""
    cleaned = inspect.cleandoc(help_text or "")
    return [" ".join(block.split()) for block in cleaned.split("\n\n") if block.strip()]


def _code(text: str) -> str:
    return f"`{text}`"


def _options(parameter: Parameter) -> str:
    """The option strings, `--bias` / `--no-bias` for a pair of flags; an argument's metavar."""
    if isinstance(parameter, TyperArgument):
        return _code(parameter.metavar or (parameter.name or "").upper())
    names = ", ".join(_code(option) for option in parameter.opts)
    if parameter.secondary_opts:
        names += " / " + ", ".join(_code(option) for option in parameter.secondary_opts)
    return names


def _metavar(metavar: str) -> str:
    """A metavar as the reference writes it: a type in angle brackets, as typer spells the type
    of a value in ``--help`` (``<file>``), in capitals like every other type (``FILE``)."""
    if metavar.startswith("<") and metavar.endswith(">"):
        return metavar[1:-1].upper()
    return metavar


def _value(parameter: Parameter, context: typer.Context) -> str:
    """What the parameter takes: a flag, one of its choices, or a value with its metavar."""
    if isinstance(parameter, TyperOption) and parameter.is_flag:
        return "flag"
    if isinstance(parameter, TyperArgument) and parameter.nargs == -1:
        return "any number of values"
    descriptor = parameter.type_descriptor
    if descriptor.is_choice and descriptor.choices is not None:
        names = [
            _code(str(choice.value if isinstance(choice, Enum) else choice))
            for choice in descriptor.choices
        ]
        listed = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
        return listed if descriptor.case_sensitive else f"{listed} (case-insensitive)"
    if parameter.metavar is not None:
        value = _code(_metavar(parameter.metavar))
    elif descriptor.is_path:
        value = _code("FILE" if descriptor.path_type == "file" else "PATH")
    else:
        value = _code(parameter.display_type(context).strip("<>").upper())
    if parameter.min is not None and parameter.max is not None:
        value = f"{_code('INT')}, {parameter.min} to {parameter.max}"
    return value


def _default(parameter: Parameter) -> str:
    """The default as the command line spells it; required, off, or none when there is none."""
    if parameter.required:
        return "required"
    default = parameter.default
    if isinstance(parameter, TyperOption) and parameter.is_flag:
        if parameter.secondary_opts:
            return _code(parameter.opts[0] if default else parameter.secondary_opts[0])
        return "on" if default else "off"
    if default is None or not parameter.show_default:
        return "none"
    if isinstance(default, Enum):
        return _code(str(default.value))
    return _code(str(default))


def _table(parameters: Sequence[Parameter], context: typer.Context) -> list[str]:
    lines = [
        "| option | value | default | description |",
        "|---|---|---|---|",
    ]
    for parameter in parameters:
        cells = (
            _options(parameter),
            _value(parameter, context),
            _default(parameter),
            _escape(" ".join(str(parameter.help or "").split())),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _parameters(command: Command, context: typer.Context) -> list[Parameter]:
    """The command's visible parameters, in the order ``--help`` lists them."""
    found: list[Parameter] = []
    for parameter in command.get_params(context):
        if not isinstance(parameter, TyperOption | TyperArgument):
            raise TypeError(f"{parameter!r} is not a typer parameter")
        if not parameter.hidden:
            found.append(parameter)
    return found


def _section(command: Command, context: typer.Context, title: str) -> list[str]:
    """One command: heading, usage line, help text, then its arguments and options."""
    usage = " ".join([context.command_path, *command.collect_usage_pieces(context)])
    lines = [f"## {_code(title)}", "", "```text", f"Usage: {usage}", "```", ""]
    for paragraph in _paragraphs(command.help):
        lines += [_escape(paragraph), ""]
    parameters = _parameters(command, context)
    arguments = [p for p in parameters if isinstance(p, TyperArgument)]
    options = [p for p in parameters if isinstance(p, TyperOption)]
    if arguments:
        lines += ["Arguments:", ""]
        lines += [
            line.replace("| option |", "| argument |", 1) for line in _table(arguments, context)
        ]
        lines.append("")
    lines += ["Options:", "", *_table(options, context), ""]
    return lines


def _anchor(title: str) -> str:
    """GitHub's anchor for a heading that is one code span, such as `matgrad derive`."""
    return "#" + title.lower().replace(" ", "-")


@contextmanager
def _shell_detection_as_for_users() -> Iterator[None]:
    saved = os.environ.pop(_SHELL_DETECTION_SWITCH, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[_SHELL_DETECTION_SWITCH] = saved


def render_reference() -> str:
    """The whole of docs/reference.md, from the typer app, matgrad_cli.cli.app."""
    from matgrad_cli.cli import app

    with _shell_detection_as_for_users():
        root = typer.main.get_command(app)
    if not isinstance(root, TyperGroup):
        raise TypeError("the matgrad app is expected to be a group of commands")
    root_context = typer.Context(root, info_name=PROGRAM)
    names = root.list_commands(root_context)

    lines = [
        "# Command reference",
        "",
        "<!-- Generated by scripts/gen_reference.py from the typer app in matgrad_cli/cli/."
        " Do not edit by hand. -->",
        "",
        "This page is generated from the command-line interface itself: every command, option,",
        "choice, default and help text below is read from the typer app, as `--help` prints it.",
        "`tests/test_docs.py` fails when the page is out of date; regenerate it with",
        f"`{REGENERATE}`.",
        "",
        "For explanations and examples, see [usage.md](usage.md); for the completion options,",
        "[completion.md](completion.md).",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    sections: list[str] = []
    sections += _section(root, root_context, PROGRAM)
    for name in names:
        command = root.get_command(root_context, name)
        if not isinstance(command, TyperCommand | TyperGroup):
            raise TypeError(f"{name!r} is not a typer command")
        if command.hidden:
            continue
        title = f"{PROGRAM} {name}"
        summary = _paragraphs(command.help)[0] if command.help else ""
        lines.append(f"| [{_code(title)}]({_anchor(title)}) | {_escape(summary)} |")
        context = typer.Context(command, info_name=name, parent=root_context)
        sections += _section(command, context, title)
    lines.append("")
    return "\n".join(lines + sections).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write: exit 1 if docs/reference.md differs from what would be written",
    )
    arguments = parser.parse_args(argv)
    text = render_reference()
    current = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else None
    if arguments.check:
        if current != text:
            sys.stderr.write(f"{REFERENCE} is out of date: run {REGENERATE}\n")
            return 1
        return 0
    if current != text:
        REFERENCE.write_text(text, encoding="utf-8")
        sys.stderr.write(f"wrote {REFERENCE.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
