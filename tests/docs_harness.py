"""The harness of tests/test_docs.py: read the pages' code blocks and run them by the rules.

Runnable examples (README.md, "Documentation conventions", says the same for writers):

1. Fenced blocks tagged ``sh``, ``bash``, ``shell`` or ``console`` run. In a ``console`` block a
   command is a line starting with ``$ ``; the lines under it, up to the next ``$ `` line, are
   its output: stdout followed by stderr, compared exactly apart from trailing whitespace. A
   command with nothing under it shows no output and is not compared. In the other shell
   blocks every line is a command, except blank lines and ``#`` comments. A trailing ``\\``
   continues a command on the next line.
2. A command is split at ``&&``. A part whose program is ``matgrad`` (or a path ending in
   ``/matgrad``, such as ``.venv/bin/matgrad``) runs the installed entry point, in a temporary
   folder that the commands of one block share in order, with ``COLUMNS=80`` and a timeout;
   ``> FILE`` writes its stdout to FILE there. Any other part must match one of SKIPPED, a
   named rule with its reason (setup such as ``python3 -m venv`` and ``pip install``,
   ``pdflatex``...), or the test fails: a command nobody classified is a bug in the page.
3. A command must exit with 0, unless its ``#`` comment starts with ``exit N``: ``exit 1`` for
   an example that shows a wrong answer, ``exit 2`` for bad input, which must also print
   ``matgrad: error: …`` on stderr. No command may print a traceback.
4. ``<!-- file: NAME -->`` right before a fenced block writes that block to NAME in the folder
   of every shell block of the page (a claims file for ``--file``, for example).
5. ``<!-- requires: sympy X.Y -->`` right before a Python block runs it only with that SymPy
   release (it documents that release's behaviour); with another the page's Python is skipped,
   saying so.
6. Other blocks (``text``, ``json``, untagged) never run, so a line in them that starts with
   ``matgrad`` must be a synopsis (with ``[`` or an upper-case placeholder), not an example
   hiding from these tests.

The package is reached only through the installed ``matgrad`` command and, lazily inside the
functions that need it, ``matgrad_cli.cli``: its other modules may move.
"""

from __future__ import annotations

import doctest
import importlib.util
import io
import itertools
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import typer
import typer.main
from markdown_it import MarkdownIt
from typer.core import TyperGroup, TyperOption

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = (ROOT / "README.md", *sorted(DOCS.glob("*.md")))
GALLERY = DOCS / "gallery.md"
COMPLETION = DOCS / "completion.md"
#: typer's switch that makes --show-completion and --install-completion take the shell's name.
SHELL_DETECTION_SWITCH = "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"

SHELL_LANGUAGES = frozenset({"sh", "bash", "shell", "console"})
PYTHON_LANGUAGES = frozenset({"python", "py", "pycon"})
#: Seconds a single documented command may take; the whole suite of examples takes far less.
COMMAND_TIMEOUT = 120
BIN = Path(sys.executable).parent
ENTRY_POINT = BIN / "matgrad"


def page_name(page: Path) -> str:
    """A page's path relative to the repository, as the test ids and messages show it."""
    return page.relative_to(ROOT).as_posix()


# ---------------------------------------------------------------------------------------------
# Reading the pages


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block: where it is, its language, its text and the directives before it."""

    page: Path
    line: int
    language: str
    text: str
    directives: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"{page_name(self.page)}:{self.line}"

    def directive(self, name: str) -> str | None:
        """The value of ``<!-- name: value -->`` right before the block, if there is one."""
        for directive in self.directives:
            key, _, value = directive.partition(":")
            if key.strip() == name:
                return value.strip()
        return None


MARKDOWN = MarkdownIt("commonmark")


def extract_blocks(page: Path) -> list[CodeBlock]:
    """Every fenced block of a page, in order, with the HTML comments just before it."""
    blocks: list[CodeBlock] = []
    pending: list[str] = []
    for token in MARKDOWN.parse(page.read_text(encoding="utf-8")):
        if token.type == "html_block":
            pending += [m.strip() for m in re.findall(r"<!--(.*?)-->", token.content, re.S)]
            continue
        if token.type == "fence" and token.map is not None:
            language = token.info.split()[0].lower() if token.info.strip() else ""
            blocks.append(
                CodeBlock(page, token.map[0] + 1, language, token.content, tuple(pending))
            )
        if token.nesting >= 0:
            pending = []
    return blocks


def all_blocks() -> list[CodeBlock]:
    """The fenced blocks of every page."""
    return [block for page in PAGES for block in extract_blocks(page)]


def shell_blocks(*, gallery: bool) -> list[CodeBlock]:
    """The shell blocks of the gallery (``gallery=True``) or of every other page."""
    return [
        block
        for block in all_blocks()
        if block.language in SHELL_LANGUAGES and (block.page == GALLERY) == gallery
    ]


def python_pages() -> list[Path]:
    """The pages with at least one Python block."""
    return [
        page
        for page in PAGES
        if any(block.language in PYTHON_LANGUAGES for block in extract_blocks(page))
    ]


def page_files(page: Path) -> dict[str, str]:
    """The files a page's blocks declare with ``<!-- file: NAME -->``."""
    return {
        name: block.text
        for block in extract_blocks(page)
        if (name := block.directive("file")) is not None
    }


# ---------------------------------------------------------------------------------------------
# Shell examples: parsing


@dataclass(frozen=True)
class Part:
    """One part of a command line between ``&&``: its words and where its stdout goes."""

    words: tuple[str, ...]
    environment: tuple[tuple[str, str], ...] = ()
    stdout_to: str | None = None


@dataclass(frozen=True)
class Command:
    """A command line of a page, with the exit status and output the page promises."""

    source: str
    line: int
    parts: tuple[Part, ...]
    exit_code: int = 0
    output: str | None = None


_OPERATORS = frozenset({"|", "||", ";", "&", "<", ">>", "<<", "(", ")", ";;", "|&", "&>"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_EXIT_MARK = re.compile(r"^exit (\d+)\b")


def split_comment(line: str) -> tuple[str, str]:
    """The code of a shell line and its ``#`` comment (outside quotes, after a blank)."""
    quote: str | None = None
    escaped = False
    for position, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (position == 0 or line[position - 1].isspace()):
            return line[:position].rstrip(), line[position + 1 :].strip()
    return line.rstrip(), ""


def _split_at_and(code: str, source: str, where: str) -> list[list[str]]:
    """The words of each part of a command line between ``&&``."""
    lexer = shlex.shlex(code, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError as error:
        pytest.fail(f"{where}: cannot read the command {source!r}: {error}")
    groups: list[list[str]] = [[]]
    for token in tokens:
        if token == "&&":
            groups.append([])
        else:
            groups[-1].append(token)
    return groups


def _parse_part(words: list[str], source: str, where: str) -> Part:
    """One part's environment assignments, words and ``> FILE``."""
    if not words:
        pytest.fail(f"{where}: an empty command around '&&' in {source!r}")
    unsupported = [word for word in words if word in _OPERATORS]
    if unsupported:
        pytest.fail(
            f"{where}: {unsupported[0]!r} in {source!r}: documented commands may use only "
            "'&&' and '> FILE' (tests/test_docs.py runs them without a shell)"
        )
    stdout_to = None
    if ">" in words:
        at = words.index(">")
        if at != len(words) - 2:
            pytest.fail(f"{where}: '> FILE' must end the command in {source!r}")
        stdout_to = words[-1]
        words = words[:at]
    environment = []
    while words and _ASSIGNMENT.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        environment.append((name, value))
    return Part(tuple(words), tuple(environment), stdout_to)


def parse_command(source: str, line: int, where: str) -> Command:
    """A documented command line as parts, with the exit code its comment promises."""
    code, comment = split_comment(source)
    parts = [_parse_part(words, source, where) for words in _split_at_and(code, source, where)]
    marked = _EXIT_MARK.match(comment)
    return Command(source, line, tuple(parts), int(marked.group(1)) if marked else 0)


def _logical_lines(block: CodeBlock) -> Iterator[tuple[int, str]]:
    """The block's lines with their page line numbers, a command's backslash continuations
    joined (not an output line's: LaTeX output ends lines with backslashes)."""
    pending: list[str] = []
    start = 0
    for offset, raw in enumerate(block.text.splitlines()):
        if not pending:
            start = block.line + 1 + offset
        is_command = block.language != "console" or (pending or [raw])[0].startswith("$ ")
        if is_command and raw.endswith("\\") and not raw.endswith("\\\\"):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        yield start, " ".join(pending)
        pending = []
    if pending:
        yield start, " ".join(pending)


def _shell_commands(block: CodeBlock) -> list[Command]:
    """The commands of an ``sh``, ``bash`` or ``shell`` block: every line but comments."""
    return [
        parse_command(text.strip(), line, f"{page_name(block.page)}:{line}")
        for line, text in _logical_lines(block)
        if text.strip() and not text.lstrip().startswith("#")
    ]


def _console_commands(block: CodeBlock) -> list[Command]:
    """The ``$ `` commands of a console block, each with the output shown under it."""
    commands: list[Command] = []
    output: list[str] = []

    def close() -> None:
        if commands and any(text.strip() for text in output):
            last = commands[-1]
            shown = "\n".join(output).rstrip("\n")
            commands[-1] = Command(last.source, last.line, last.parts, last.exit_code, shown)
        output.clear()

    for line, text in _logical_lines(block):
        if text.startswith("$ "):
            close()
            commands.append(
                parse_command(text[2:].strip(), line, f"{page_name(block.page)}:{line}")
            )
        elif commands:
            output.append(text)
        elif text.strip():
            pytest.fail(f"{page_name(block.page)}:{line}: output before any '$ ' command")
    close()
    return commands


def block_commands(block: CodeBlock) -> list[Command]:
    """The commands of a shell block, each with the output shown under it (console blocks)."""
    if block.language != "console":
        return _shell_commands(block)
    return _console_commands(block)


# ---------------------------------------------------------------------------------------------
# Shell examples: the commands that are not run, each with its reason


@dataclass
class Session:
    """The folder one block runs in, and what its commands wrote or would have written."""

    folder: Path
    environment: dict[str, str]
    #: Files that a skipped command (pdflatex) would have written: a later pdftoppm may read them.
    would_write: set[str] = field(default_factory=set)
    #: The pdftoppm calls met, as (input PDF, the whole command), for the gallery test.
    renders: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)


def _reads_latex(words: tuple[str, ...], session: Session) -> str | None:
    """pdflatex FILE: FILE must have been written by an earlier command of the block."""
    sources = [word for word in words[1:] if not word.startswith("-")]
    if len(sources) != 1 or not (session.folder / sources[0]).is_file():
        return f"pdflatex reads {sources}, which no earlier command of the block wrote"
    session.would_write.add(str(Path(sources[0]).with_suffix(".pdf")))
    return None


def _reads_pdf(words: tuple[str, ...], session: Session) -> str | None:
    """pdftoppm … FILE.pdf PREFIX: the PDF must have been written (or be pdflatex's)."""
    pdfs = [word for word in words[1:] if word.endswith(".pdf")]
    if len(pdfs) != 1:
        return f"pdftoppm should read exactly one .pdf, not {pdfs}"
    pdf = pdfs[0]
    if not (session.folder / pdf).is_file() and pdf not in session.would_write:
        return f"pdftoppm reads {pdf}, which no earlier command of the block wrote"
    session.renders.append((pdf, words))
    return None


@dataclass(frozen=True)
class SkipRule:
    """Commands starting with ``prefix`` are not run, for ``reason``; ``check`` may still
    require that the files they read exist."""

    prefix: tuple[str, ...]
    reason: str
    check: Callable[[tuple[str, ...], Session], str | None] | None = None
    #: The rule does not apply to a command that sets this environment variable.
    unless_set: str | None = None

    def matches(self, part: Part) -> bool:
        if self.unless_set is not None and self.unless_set in dict(part.environment):
            return False
        return part.words[: len(self.prefix)] == self.prefix


SKIPPED = (
    SkipRule(("python3", "-m", "venv"), "creates a virtual environment: setup"),
    SkipRule((".venv/bin/pip",), "installs packages: setup"),
    SkipRule(("pip",), "installs packages: setup"),
    SkipRule(("apt-get",), "installs system packages: setup"),
    SkipRule(("bash", ".ci/run"), "the whole CI run, tests included"),
    SkipRule(
        (".venv/bin/python",),
        "a development command of this repository (the tests, the benchmarks, the reference "
        "generator): not a matgrad example, and CI runs it",
    ),
    SkipRule(
        ("pdflatex",),
        "compiles LaTeX: the LaTeX compile tests cover matgrad's documents; here the .tex it "
        "reads must have been written by the commands before it",
        _reads_latex,
    ),
    SkipRule(
        ("pdftoppm",),
        "renders the gallery's PNGs: test_gallery_commands_still_produce_their_pdfs renders "
        "them; here the PDF it reads must have been written before it",
        _reads_pdf,
    ),
    SkipRule(
        ("chromium",),
        "takes the gallery's browser screenshots: tests/test_html.py opens every kind of HTML "
        "page in headless chromium",
    ),
    SkipRule(
        ("matgrad", "--install-completion"),
        "changes the shell's start-up files in $HOME, for the shell that runs it: "
        "test_install_completion_writes_the_files_the_page_names runs it in a temporary HOME",
    ),
    SkipRule(
        ("matgrad", "--show-completion"),
        "typer picks the shell from the process that runs matgrad: "
        "test_show_completion_prints_a_script_for_each_shell names the shell instead",
        unless_set=SHELL_DETECTION_SWITCH,
    ),
)


def _is_matgrad(program: str) -> bool:
    return program == "matgrad" or program.endswith("/matgrad")


def skip_rule(part: Part) -> SkipRule | None:
    """The rule of SKIPPED that skips this part, if one does."""
    words = part.words
    named = ("matgrad", *words[1:]) if words and _is_matgrad(words[0]) else words
    return next((rule for rule in SKIPPED if rule.matches(Part(named, part.environment))), None)


# ---------------------------------------------------------------------------------------------
# Shell examples: running them


def matgrad_argv() -> list[str]:
    """The installed entry point, or the module when the console script is missing."""
    if ENTRY_POINT.exists():
        return [str(ENTRY_POINT)]
    return [sys.executable, "-m", "matgrad_cli"]


def example_environment() -> dict[str, str]:
    """The environment of every documented command: 80 columns, matgrad on PATH, no
    completion or test switches from the caller."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("_MATGRAD_", "_TYPER_")) and name != "MATGRAD_UPDATE_GOLDEN"
    }
    environment.update(
        COLUMNS="80",
        LINES="24",
        PYTHONIOENCODING="utf-8",
        PATH=os.pathsep.join([str(BIN), environment.get("PATH", "")]),
    )
    return environment


def _normalised(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


def _run_matgrad_part(part: Part, session: Session) -> tuple[int, str, str]:
    """Run one matgrad part in the block's folder: exit code, stdout (empty when redirected
    to a file) and stderr."""
    options: dict[str, Any] = {
        "cwd": session.folder,
        "env": {**session.environment, **dict(part.environment)},
        "stdin": subprocess.DEVNULL,
        "stderr": subprocess.PIPE,
        "timeout": COMMAND_TIMEOUT,
        "check": False,
    }
    argv = [*matgrad_argv(), *part.words[1:]]
    if part.stdout_to is None:
        result = subprocess.run(argv, stdout=subprocess.PIPE, **options)
        stdout = result.stdout.decode("utf-8", "replace")
    else:
        with (session.folder / part.stdout_to).open("wb") as sink:
            result = subprocess.run(argv, stdout=sink, **options)
        stdout = ""
    return result.returncode, stdout, result.stderr.decode("utf-8", "replace")


def _skips(part: Part, command: Command, session: Session, where: str) -> bool:
    """Whether a rule skips the part (failing if its check does); fail if it is neither
    skipped nor a matgrad command."""
    rule = skip_rule(part)
    if rule is not None:
        problem = rule.check(part.words, session) if rule.check else None
        if problem:
            pytest.fail(f"{where}: {command.source!r}: {problem}")
        return True
    if not part.words or not _is_matgrad(part.words[0]):
        pytest.fail(
            f"{where}: {command.source!r}: {' '.join(part.words)!r} is neither a matgrad "
            "command nor one that a rule in tests/docs_harness.py SKIPPED skips, with its "
            "reason: fix the page or add a rule"
        )
    return False


def _assert_ran_as_promised(
    command: Command, expected: int, result: tuple[int, str, str], where: str
) -> None:
    """No traceback, the promised exit code, and ``matgrad: error:`` for bad input."""
    returncode, stdout, stderr = result
    details = f"\n--- stdout ---\n{stdout[-2000:]}\n--- stderr ---\n{stderr[-2000:]}"
    assert "Traceback (most recent call last)" not in stderr, (
        f"{where}: {command.source!r} printed a traceback{details}"
    )
    assert returncode == expected, (
        f"{where}: {command.source!r} exited with {returncode}, the page promises "
        f"{expected} (mark an intended failure with '# exit N' in the command's comment)"
        f"{details}"
    )
    if expected == 2:
        assert stderr.startswith("matgrad: error: "), (
            f"{where}: {command.source!r}: bad input must say 'matgrad: error: …'{details}"
        )


def _assert_shows(command: Command, shown: list[str], where: str) -> None:
    """The command's stdout and stderr are what the page shows under it, if it shows any."""
    if command.output is None:
        return
    actual = _normalised(
        "".join(text if text.endswith("\n") else text + "\n" for text in shown if text)
    )
    assert actual == _normalised(command.output), (
        f"{where}: the output of {command.source!r} differs from the page (stdout, then "
        f"stderr, trailing whitespace ignored)\n--- page ---\n{command.output}\n"
        f"--- actual ---\n{actual}"
    )


def run_command(command: Command, session: Session, where: str) -> None:
    """Run one documented command line as the page promises, or fail saying what differs."""
    shown: list[str] = []
    for index, part in enumerate(command.parts):
        last = index == len(command.parts) - 1
        if _skips(part, command, session, where):
            continue
        returncode, stdout, stderr = _run_matgrad_part(part, session)
        expected = command.exit_code if last else 0
        _assert_ran_as_promised(command, expected, (returncode, stdout, stderr), where)
        shown += [stdout, stderr]
    _assert_shows(command, shown, where)


def run_shell_block(block: CodeBlock, folder: Path) -> Session:
    """Run every command of a shell block, in order, in ``folder``."""
    session = Session(folder, example_environment())
    for name, text in page_files(block.page).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    for command in block_commands(block):
        run_command(command, session, f"{page_name(block.page)}:{command.line}")
    return session


# ---------------------------------------------------------------------------------------------
# Python examples


def _required_sympy(block: CodeBlock) -> str | None:
    required = block.directive("requires")
    if required is None:
        return None
    name, _, version = required.partition(" ")
    if name != "sympy" or not version:
        pytest.fail(f"{block.where}: unknown requirement {required!r} (only 'sympy X.Y')")
    return version.strip()


def _skip_unless_sympy_matches(block: CodeBlock) -> None:
    """Skip the page's Python when the block documents another SymPy release."""
    import sympy

    required = _required_sympy(block)
    if required is not None and not (
        sympy.__version__ == required or sympy.__version__.startswith(required + ".")
    ):
        pytest.skip(
            f"{block.where} documents SymPy {required}; SymPy {sympy.__version__} is "
            f"installed: check what {page_name(block.page)} says against it and update the page"
        )


def _run_doctest(block: CodeBlock, namespace: dict[str, Any]) -> None:
    """Run a pycon block as a doctest in ``namespace``, keeping what it defines."""
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.text, namespace, block.where, str(block.page), block.line)
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test, out=report.write, clear_globs=False)
    namespace.update(test.globs)
    if runner.failures:
        pytest.fail(f"{block.where}: the example's output differs\n{report.getvalue()}")


def run_python_blocks(page: Path) -> dict[str, Any]:
    """Execute a page's Python blocks in order in one namespace; pycon blocks are doctests."""
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    for block in extract_blocks(page):
        if block.language not in PYTHON_LANGUAGES:
            continue
        _skip_unless_sympy_matches(block)
        if block.language != "pycon":
            exec(compile(block.text, block.where, "exec"), namespace)  # the repository's docs
            continue
        _run_doctest(block, namespace)
    return namespace


# ---------------------------------------------------------------------------------------------
# Blocks that do not run, and the command line they describe


def looks_like_synopsis(line: str) -> bool:
    """A ``matgrad`` line with ``[`` or an upper-case placeholder."""
    return "[" in line or re.search(r"\b[A-Z]{3,}\b", line) is not None


def find_synopses() -> list[tuple[str, str, str]]:
    """(where, command, text) of every synopsis such as ``matgrad derive [--m INT] …``, with
    its indented continuation lines."""
    found = []
    for block in all_blocks():
        if block.language in SHELL_LANGUAGES | PYTHON_LANGUAGES:
            continue
        lines = block.text.splitlines()
        for index, line in enumerate(lines):
            start = re.match(r"^matgrad ([a-z]+) .*\[", line)
            if not start:
                continue
            text = [line]
            for following in lines[index + 1 :]:
                if not following.startswith(" "):
                    break
                text.append(following)
            found.append((f"{block.where}+{index + 1}", start.group(1), " ".join(text)))
    return found


def _root_command() -> tuple[TyperGroup, typer.Context]:
    """The typer app as a click group, with a context to look its commands up in."""
    from matgrad_cli.cli import app

    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    return root, typer.Context(root, info_name="matgrad")


def parameter_spellings() -> dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]:
    """For each command, each option's spellings (long, short, --no-…) and its choices."""
    root, context = _root_command()
    spellings: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
    for name in root.list_commands(context):
        command = root.get_command(context, name)
        assert command is not None
        spellings[name] = []
        for parameter in command.params:
            if not isinstance(parameter, TyperOption) or parameter.name == "help":
                continue
            choices = parameter.type_descriptor.choices or ()
            values = tuple(str(getattr(choice, "value", choice)) for choice in choices)
            spellings[name].append(((*parameter.opts, *parameter.secondary_opts), values))
    return spellings


def cli_commands() -> list[tuple[str, list[str]]]:
    """Every command of the app with its long and short option strings, from typer itself."""
    root, context = _root_command()
    found = [("", [option for parameter in root.params for option in parameter.opts])]
    for name in root.list_commands(context):
        command = root.get_command(context, name)
        assert command is not None
        options = [
            option
            for parameter in command.params
            if isinstance(parameter, TyperOption)
            for option in (*parameter.opts, *parameter.secondary_opts)
        ]
        found.append((name, options))
    return found


def load_script(name: str) -> ModuleType:
    """Import ``scripts/NAME.py`` of the repository."""
    path = ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------
# The gallery

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    header = path.read_bytes()[:24]
    assert header[:8] == _PNG_SIGNATURE, f"{path} is not a PNG"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def gallery_images() -> list[str]:
    """The PNGs docs/gallery.md shows, as the page spells their paths."""
    text = GALLERY.read_text(encoding="utf-8")
    return re.findall(r"!\[[^\]]*\]\(([^)\s]+\.png)\)", text)


def run_tool(argv: list[str], folder: Path) -> None:
    """Run pdflatex or pdftoppm in ``folder``; it must succeed."""
    subprocess.run(argv, cwd=folder, capture_output=True, timeout=COMMAND_TIMEOUT, check=True)


# ---------------------------------------------------------------------------------------------
# Shell completion (typer's --install-completion and --show-completion)


def completion_environment(home: Path | None = None) -> dict[str, str]:
    """Name the shell on the command line instead of detecting it (typer's switch for that)."""
    environment = example_environment()
    environment[SHELL_DETECTION_SWITCH] = "1"
    if home is not None:
        environment["HOME"] = str(home)
    return environment


def run_matgrad(
    arguments: list[str], environment: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``matgrad`` with ``arguments``, capturing its output as text."""
    return subprocess.run(
        [*matgrad_argv(), *arguments],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def completion_table() -> list[tuple[str, list[str]]]:
    """The rows of docs/completion.md's "What it completes": what you type, what Tab offers."""
    section = COMPLETION.read_text(encoding="utf-8").split("## What it completes", 1)[1]
    rows = []
    for line in section.split("\n## ", 1)[0].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`matgrad"):
            rows.append((cells[0].strip("`"), re.findall(r"`([^`]+)`", cells[1])))
    return rows


def complete_in_bash(typed: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Ask bash, with matgrad's completion script loaded, what Tab offers after each of
    ``typed``: one line of offers per entry on stdout."""
    calls = []
    for line in typed:
        words = line.split(" ")  # a trailing space starts a new, empty word
        calls.append("complete_words " + " ".join(shlex.quote(word) for word in words))
    script = "\n".join(
        [
            'eval "$(matgrad --show-completion bash)"',
            "complete_words() {",
            '    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()',
            "    _matgrad_completion matgrad",
            '    echo "${COMPREPLY[*]}"',
            "}",
            *calls,
        ]
    )
    return subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        cwd=cwd,
        env=completion_environment(),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


# ---------------------------------------------------------------------------------------------
# Links


def heading_anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings (lower case, punctuation dropped, - for spaces)."""
    anchors: set[str] = set()
    tokens = MARKDOWN.parse(page.read_text(encoding="utf-8"))
    for opening, inline in itertools.pairwise(tokens):
        if opening.type != "heading_open":
            continue
        text = "".join(
            child.content
            for child in inline.children or []
            if child.type in ("text", "code_inline")
        )
        slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
        anchor, count = slug, 1
        while anchor in anchors:
            anchor, count = f"{slug}-{count}", count + 1
        anchors.add(anchor)
    return anchors


def links(page: Path) -> list[str]:
    """The targets of a page's links and images, in order."""
    targets: list[str] = []
    for token in MARKDOWN.parse(page.read_text(encoding="utf-8")):
        for child in token.children or []:
            if child.type == "link_open":
                targets.append(str(child.attrs.get("href", "")))
            elif child.type == "image":
                targets.append(str(child.attrs.get("src", "")))
    return targets


def is_absolute_url(target: str) -> bool:
    """A link with a scheme (``https:``, ``mailto:``…): not checked offline."""
    return re.match(r"^[a-z][a-z0-9+.-]*:", target) is not None


def linked_pages(page: Path) -> set[Path]:
    """The files a page links to, resolved."""
    return {
        (page.parent / target.partition("#")[0]).resolve()
        for target in links(page)
        if target and not is_absolute_url(target) and not target.startswith("#")
    }
