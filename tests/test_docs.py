"""The documentation cannot drift from the code: its examples run, its reference is generated.

- docs/reference.md is generated from the typer app by scripts/gen_reference.py and must be
  what the script writes now.
- Every example command in README.md and docs/*.md runs, by the rules below, and its output is
  compared where a page shows it.
- Python examples run: ```python blocks are executed and ```pycon blocks are doctests, in page
  order, one namespace per page.
- The gallery's commands still produce its PDFs; shell completion works as docs/completion.md
  says; every page is linked from the README, and every relative link resolves.

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
"""

from __future__ import annotations

import doctest
import importlib.util
import io
import itertools
import os
import re
import shlex
import shutil
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


def _page_name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


# ---------------------------------------------------------------------------------------------
# Reading the pages


@dataclass(frozen=True)
class Block:
    """A fenced code block: where it is, its language, its text and the directives before it."""

    page: Path
    line: int
    language: str
    text: str
    directives: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"{_page_name(self.page)}:{self.line}"

    def directive(self, name: str) -> str | None:
        """The value of ``<!-- name: value -->`` right before the block, if there is one."""
        for directive in self.directives:
            key, _, value = directive.partition(":")
            if key.strip() == name:
                return value.strip()
        return None


_MARKDOWN = MarkdownIt("commonmark")


def read_blocks(page: Path) -> list[Block]:
    """Every fenced block of a page, in order, with the HTML comments just before it."""
    blocks: list[Block] = []
    pending: list[str] = []
    for token in _MARKDOWN.parse(page.read_text(encoding="utf-8")):
        if token.type == "html_block":
            pending += [m.strip() for m in re.findall(r"<!--(.*?)-->", token.content, re.S)]
            continue
        if token.type == "fence" and token.map is not None:
            language = token.info.split()[0].lower() if token.info.strip() else ""
            blocks.append(Block(page, token.map[0] + 1, language, token.content, tuple(pending)))
        if token.nesting >= 0:
            pending = []
    return blocks


def _all_blocks() -> list[Block]:
    return [block for page in PAGES for block in read_blocks(page)]


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


def parse_command(source: str, line: int, where: str) -> Command:
    """A documented command line as parts, with the exit code its comment promises."""
    code, comment = split_comment(source)
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
    parts = []
    for words in groups:
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
        parts.append(Part(tuple(words), tuple(environment), stdout_to))
    marked = _EXIT_MARK.match(comment)
    return Command(source, line, tuple(parts), int(marked.group(1)) if marked else 0)


def _logical_lines(block: Block) -> Iterator[tuple[int, str]]:
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


def block_commands(block: Block) -> list[Command]:
    """The commands of a shell block, each with the output shown under it (console blocks)."""
    commands: list[Command] = []
    if block.language != "console":
        for line, text in _logical_lines(block):
            if text.strip() and not text.lstrip().startswith("#"):
                commands.append(
                    parse_command(text.strip(), line, f"{_page_name(block.page)}:{line}")
                )
        return commands
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
                parse_command(text[2:].strip(), line, f"{_page_name(block.page)}:{line}")
            )
        elif commands:
            output.append(text)
        elif text.strip():
            pytest.fail(f"{_page_name(block.page)}:{line}: output before any '$ ' command")
    close()
    return commands


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


def _skip_rule(part: Part) -> SkipRule | None:
    words = part.words
    named = ("matgrad", *words[1:]) if words and _is_matgrad(words[0]) else words
    return next((rule for rule in SKIPPED if rule.matches(Part(named, part.environment))), None)


# ---------------------------------------------------------------------------------------------
# Shell examples: running them


def _matgrad_argv() -> list[str]:
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
    argv = [*_matgrad_argv(), *part.words[1:]]
    if part.stdout_to is None:
        result = subprocess.run(argv, stdout=subprocess.PIPE, **options)
        stdout = result.stdout.decode("utf-8", "replace")
    else:
        with (session.folder / part.stdout_to).open("wb") as sink:
            result = subprocess.run(argv, stdout=sink, **options)
        stdout = ""
    return result.returncode, stdout, result.stderr.decode("utf-8", "replace")


def run_command(command: Command, session: Session, where: str) -> None:
    """Run one documented command line as the page promises, or fail saying what differs."""
    shown: list[str] = []
    for index, part in enumerate(command.parts):
        last = index == len(command.parts) - 1
        rule = _skip_rule(part)
        if rule is not None:
            problem = rule.check(part.words, session) if rule.check else None
            if problem:
                pytest.fail(f"{where}: {command.source!r}: {problem}")
            continue
        if not part.words or not _is_matgrad(part.words[0]):
            pytest.fail(
                f"{where}: {command.source!r}: {' '.join(part.words)!r} is neither a matgrad "
                "command nor one that a rule in tests/test_docs.py SKIPPED skips, with its "
                "reason: fix the page or add a rule"
            )
        returncode, stdout, stderr = _run_matgrad_part(part, session)
        expected = command.exit_code if last else 0
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
        shown += [stdout, stderr]
    if command.output is not None:
        actual = _normalised(
            "".join(text if text.endswith("\n") else text + "\n" for text in shown if text)
        )
        assert actual == _normalised(command.output), (
            f"{where}: the output of {command.source!r} differs from the page (stdout, then "
            f"stderr, trailing whitespace ignored)\n--- page ---\n{command.output}\n"
            f"--- actual ---\n{actual}"
        )


def _fixtures(page: Path) -> dict[str, str]:
    """The files a page's blocks declare with ``<!-- file: NAME -->``."""
    return {
        name: block.text
        for block in read_blocks(page)
        if (name := block.directive("file")) is not None
    }


def run_block(block: Block, folder: Path) -> Session:
    """Run every command of a shell block, in order, in ``folder``."""
    session = Session(folder, example_environment())
    for name, text in _fixtures(block.page).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    for command in block_commands(block):
        run_command(command, session, f"{_page_name(block.page)}:{command.line}")
    return session


def _shell_blocks(*, gallery: bool) -> list[Block]:
    return [
        block
        for block in _all_blocks()
        if block.language in SHELL_LANGUAGES and (block.page == GALLERY) == gallery
    ]


@pytest.mark.parametrize("block", _shell_blocks(gallery=False), ids=lambda block: block.where)
def test_documented_commands_run_as_shown(block: Block, tmp_path: Path) -> None:
    run_block(block, tmp_path)


# ---------------------------------------------------------------------------------------------
# Python examples


def _python_pages() -> list[Path]:
    return [
        page
        for page in PAGES
        if any(block.language in PYTHON_LANGUAGES for block in read_blocks(page))
    ]


def _required_sympy(block: Block) -> str | None:
    required = block.directive("requires")
    if required is None:
        return None
    name, _, version = required.partition(" ")
    if name != "sympy" or not version:
        pytest.fail(f"{block.where}: unknown requirement {required!r} (only 'sympy X.Y')")
    return version.strip()


def run_python_blocks(page: Path) -> dict[str, Any]:
    """Execute a page's Python blocks in order in one namespace; pycon blocks are doctests."""
    import sympy

    namespace: dict[str, Any] = {"__name__": "__docs__"}
    for block in read_blocks(page):
        if block.language not in PYTHON_LANGUAGES:
            continue
        required = _required_sympy(block)
        if required is not None and not (
            sympy.__version__ == required or sympy.__version__.startswith(required + ".")
        ):
            pytest.skip(
                f"{block.where} documents SymPy {required}; SymPy {sympy.__version__} is "
                f"installed: check what {_page_name(page)} says against it and update the page"
            )
        if block.language != "pycon":
            exec(compile(block.text, block.where, "exec"), namespace)  # the repository's docs
            continue
        parser = doctest.DocTestParser()
        test = parser.get_doctest(block.text, namespace, block.where, str(page), block.line)
        report = io.StringIO()
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        runner.run(test, out=report.write, clear_globs=False)
        namespace.update(test.globs)
        if runner.failures:
            pytest.fail(f"{block.where}: the example's output differs\n{report.getvalue()}")
    return namespace


@pytest.mark.parametrize("page", _python_pages(), ids=_page_name)
def test_python_examples_run_as_shown(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in example_environment().items():
        monkeypatch.setenv(name, value)
    run_python_blocks(page)


# ---------------------------------------------------------------------------------------------
# Blocks that do not run, and the rules themselves


def _looks_like_synopsis(line: str) -> bool:
    return "[" in line or re.search(r"\b[A-Z]{3,}\b", line) is not None


def test_no_example_command_hides_in_a_block_that_does_not_run() -> None:
    hiding = [
        f"{block.where}: {line.strip()}"
        for block in _all_blocks()
        if block.language not in SHELL_LANGUAGES | PYTHON_LANGUAGES
        for line in block.text.splitlines()
        if re.match(r"^\s*(\$ )?matgrad\s", line) and not _looks_like_synopsis(line)
    ]
    assert not hiding, (
        "example commands in blocks that never run: tag the block ```sh or ```console so "
        "tests/test_docs.py runs them\n" + "\n".join(hiding)
    )


def _synopses() -> list[tuple[str, str, str]]:
    """(where, command, text) of every synopsis such as ``matgrad derive [--m INT] …``, with
    its indented continuation lines."""
    found = []
    for block in _all_blocks():
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


def _parameter_spellings() -> dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]:
    """For each command, each option's spellings (long, short, --no-…) and its choices."""
    from matgrad_cli.cli import app

    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    context = typer.Context(root, info_name="matgrad")
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


def test_synopses_list_the_real_options_and_choices() -> None:
    spellings = _parameter_spellings()
    synopses = _synopses()
    assert synopses, "no synopsis found: the pattern in _synopses() no longer matches the pages"
    problems = []
    for where, name, text in synopses:
        if name not in spellings:
            problems.append(f"{where}: there is no command matgrad {name}")
            continue
        words = set(re.findall(r"(?<![\w-])(-{1,2}[a-z][a-z-]*)", text))
        known = {spelling for options, _ in spellings[name] for spelling in options}
        problems += [f"{where}: matgrad {name} has no option {word}" for word in words - known]
        for options, choices in spellings[name]:
            if not words & set(options):
                problems.append(f"{where}: {options[0]} is missing from the synopsis")
            for listed in re.findall(rf"(?:{'|'.join(options)}) ([a-z-]+(?:\|[a-z-]+)+)", text):
                if set(listed.split("|")) != set(choices):
                    problems.append(f"{where}: {options[0]} takes {'|'.join(choices)}")
    assert not problems, "synopses that differ from the command line:\n" + "\n".join(problems)


def test_every_skipped_command_says_why() -> None:
    for rule in SKIPPED:
        assert rule.prefix, rule
        assert len(rule.reason) > 20, rule


@pytest.mark.parametrize(
    ("line", "exit_code", "parts"),
    [
        (
            'matgrad check "dW = G.T @ Z"  # exit 1: wrong',
            1,
            [("matgrad", "check", "dW = G.T @ Z")],
        ),
        (
            "matgrad derive -o a.tex && pdflatex a.tex",
            0,
            [("matgrad", "derive", "-o", "a.tex"), ("pdflatex", "a.tex")],
        ),
        (
            "matgrad derive --format pdf > x.pdf   # the # in a comment",
            0,
            [("matgrad", "derive", "--format", "pdf")],
        ),
        (
            "matgrad check 'db = sum(G, axis=0) # not a comment'",
            0,
            [("matgrad", "check", "db = sum(G, axis=0) # not a comment")],
        ),
    ],
)
def test_command_lines_are_read_like_a_shell_reads_them(
    line: str, exit_code: int, parts: list[tuple[str, ...]]
) -> None:
    command = parse_command(line, 1, "example")
    assert command.exit_code == exit_code
    assert [part.words for part in command.parts] == parts


def test_a_console_block_pairs_each_command_with_the_output_under_it() -> None:
    text = (
        "$ X=1 matgrad derive > a.tex  # exit 2: bad\n"
        "$ matgrad check 'dZ = G @ W.T'\n"
        "✓ dZ = G @ W.T   correct\n"
        "  \\\\\n"
        "\n"
        "$ matgrad prove \\\n"
        "    --format text\n"
    )
    first, second, third = block_commands(Block(ROOT / "README.md", 10, "console", text))
    assert first.parts == (Part(("matgrad", "derive"), (("X", "1"),), "a.tex"),)
    assert (first.exit_code, first.output) == (2, None)
    assert second.output == "✓ dZ = G @ W.T   correct\n  \\\\"
    assert (third.line, third.parts[0].words) == (16, ("matgrad", "prove", "--format", "text"))


# ---------------------------------------------------------------------------------------------
# The generated command reference


def _load_script(name: str) -> ModuleType:
    path = ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_command_reference_is_up_to_date() -> None:
    generator = _load_script("gen_reference")
    expected: str = generator.render_reference()
    reference = DOCS / "reference.md"
    actual = reference.read_text(encoding="utf-8") if reference.exists() else ""
    assert actual == expected, (
        "docs/reference.md is out of date with the CLI: regenerate it with "
        "`.venv/bin/python scripts/gen_reference.py` and review the diff"
    )


def _commands() -> list[tuple[str, list[str]]]:
    """Every command of the app with its long and short option strings, from typer itself."""
    from matgrad_cli.cli import app

    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    context = typer.Context(root, info_name="matgrad")
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


def test_command_reference_covers_every_command_and_option() -> None:
    reference = (DOCS / "reference.md").read_text(encoding="utf-8")
    for name, options in _commands():
        assert f"## `{('matgrad ' + name).strip()}`" in reference, name
        for option in options:
            assert f"`{option}`" in reference, (name, option)


def test_every_option_is_explained_in_a_hand_written_page() -> None:
    written = "\n".join(
        page.read_text(encoding="utf-8") for page in PAGES if page.name != "reference.md"
    )
    missing = [
        f"matgrad {name} {option}".replace("  ", " ")
        for name, options in _commands()
        for option in options
        if option.startswith("--") and option not in written
    ]
    assert not missing, f"options that no hand-written page mentions: {missing}"


# ---------------------------------------------------------------------------------------------
# The gallery


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: A gallery image is a page at about 90 dpi: small enough to commit.
PNG_LIMIT = 250_000


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    header = path.read_bytes()[:24]
    assert header[:8] == _PNG_SIGNATURE, f"{path} is not a PNG"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def _gallery_images() -> list[str]:
    text = GALLERY.read_text(encoding="utf-8")
    return re.findall(r"!\[[^\]]*\]\(([^)\s]+\.png)\)", text)


def test_gallery_commands_still_produce_their_pdfs(tmp_path: Path) -> None:
    blocks = _shell_blocks(gallery=True)
    assert blocks, "docs/gallery.md shows no commands"
    renders: list[tuple[Path, str, tuple[str, ...]]] = []
    for index, block in enumerate(blocks):
        folder = tmp_path / f"block-{index}"
        folder.mkdir()
        session = run_block(block, folder)
        renders += [(folder, pdf, words) for pdf, words in session.renders]
    assert renders, "docs/gallery.md renders no PDF with pdftoppm"

    shown = _gallery_images()
    committed = sorted(path.name for path in (DOCS / "gallery").glob("*.png"))
    assert sorted(Path(image).name for image in shown) == committed, (
        "docs/gallery.md should show every PNG in docs/gallery/, and only those"
    )
    for image in shown:
        path = DOCS / image
        assert path.stat().st_size < PNG_LIMIT, f"{image} is larger than {PNG_LIMIT} bytes"
        _png_size(path)

    pdftoppm = shutil.which("pdftoppm")
    for folder, pdf, words in renders:
        path = folder / pdf
        if not path.exists():  # written by a pdflatex that the examples skip: compile it here
            pdflatex = shutil.which("pdflatex")
            if pdflatex is None:
                pytest.skip("pdflatex is not installed (.ci/run installs texlive-latex-base)")
            subprocess.run(
                [pdflatex, "-interaction=nonstopmode", "-halt-on-error", path.stem + ".tex"],
                cwd=folder,
                capture_output=True,
                timeout=COMMAND_TIMEOUT,
                check=True,
            )
        assert path.read_bytes().startswith(b"%PDF-"), f"{pdf} is not a PDF"
        if pdftoppm is None:
            continue
        # Render as the page says, into the temporary folder, and compare with what is
        # committed: the same pages, the same size in pixels (so the same resolution).
        prefix = words[-1]
        rendered = folder / "rendered" / Path(prefix).name
        rendered.parent.mkdir(exist_ok=True)
        subprocess.run(
            [pdftoppm, *words[1:-1], str(rendered)],
            cwd=folder,
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
            check=True,
        )
        pages = sorted(rendered.parent.glob(f"{rendered.name}-*.png"))
        assert pages, f"pdftoppm rendered no page of {pdf}"
        for page_image in pages:
            committed_image = ROOT / Path(prefix).parent / page_image.name
            name = committed_image.relative_to(ROOT)
            assert committed_image.exists(), f"{name} is rendered but not committed"
            assert _png_size(page_image) == _png_size(committed_image), (
                f"{name} is not what the gallery's command renders now: "
                "rerun the commands of docs/gallery.md from the repository root"
            )


# ---------------------------------------------------------------------------------------------
# Shell completion (typer's --install-completion and --show-completion)

SHELLS = ("bash", "zsh", "fish")
#: Where typer installs each shell's completion, relative to HOME; docs/completion.md names them.
INSTALLED = {
    "bash": (".bash_completions/matgrad.sh", ".bashrc"),
    "zsh": (".zfunc/_matgrad", ".zshrc"),
    "fish": (".config/fish/completions/matgrad.fish",),
}


def _completion_environment(home: Path | None = None) -> dict[str, str]:
    """Name the shell on the command line instead of detecting it (typer's switch for that)."""
    environment = example_environment()
    environment[SHELL_DETECTION_SWITCH] = "1"
    if home is not None:
        environment["HOME"] = str(home)
    return environment


def _run_matgrad(
    arguments: list[str], environment: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_matgrad_argv(), *arguments],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


@pytest.mark.skipif(not ENTRY_POINT.exists(), reason="completion needs the installed `matgrad`")
@pytest.mark.parametrize("shell", SHELLS)
def test_show_completion_prints_a_script_for_each_shell(shell: str, tmp_path: Path) -> None:
    result = _run_matgrad(["--show-completion", shell], _completion_environment(), tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"_MATGRAD_COMPLETE=complete_{shell}" in result.stdout
    assert "matgrad" in result.stdout
    assert result.stderr == ""


@pytest.mark.skipif(not ENTRY_POINT.exists(), reason="completion needs the installed `matgrad`")
@pytest.mark.parametrize("shell", SHELLS)
def test_install_completion_writes_the_files_the_page_names(shell: str, tmp_path: Path) -> None:
    result = _run_matgrad(
        ["--install-completion", shell], _completion_environment(home=tmp_path), tmp_path
    )
    assert result.returncode == 0, result.stderr
    page = COMPLETION.read_text(encoding="utf-8")
    script = tmp_path / INSTALLED[shell][0]
    assert f"_MATGRAD_COMPLETE=complete_{shell}" in script.read_text(encoding="utf-8")
    for relative in INSTALLED[shell]:
        assert (tmp_path / relative).exists(), relative
        assert f"~/{relative}" in page, f"docs/completion.md should name ~/{relative}"


def _completion_table() -> list[tuple[str, list[str]]]:
    """The rows of docs/completion.md's "What it completes": what you type, what Tab offers."""
    section = COMPLETION.read_text(encoding="utf-8").split("## What it completes", 1)[1]
    rows = []
    for line in section.split("\n## ", 1)[0].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`matgrad"):
            rows.append((cells[0].strip("`"), re.findall(r"`([^`]+)`", cells[1])))
    return rows


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.skipif(not ENTRY_POINT.exists(), reason="completion needs the installed `matgrad`")
def test_bash_completes_what_the_page_says(tmp_path: Path) -> None:
    rows = _completion_table()
    assert rows, "docs/completion.md has no table under 'What it completes'"
    calls = []
    for typed, _ in rows:
        words = typed.split(" ")  # a trailing space starts a new, empty word
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
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        cwd=tmp_path,
        env=_completion_environment(),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    offered = result.stdout.splitlines()
    for (typed, expected), line in zip(rows, offered, strict=True):
        assert line.split() == expected, f"bash offers {line!r} for {typed!r}"


# ---------------------------------------------------------------------------------------------
# Links


def _heading_anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings (lower case, punctuation dropped, - for spaces)."""
    anchors: set[str] = set()
    tokens = _MARKDOWN.parse(page.read_text(encoding="utf-8"))
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


def _links(page: Path) -> list[str]:
    targets: list[str] = []
    for token in _MARKDOWN.parse(page.read_text(encoding="utf-8")):
        for child in token.children or []:
            if child.type == "link_open":
                targets.append(str(child.attrs.get("href", "")))
            elif child.type == "image":
                targets.append(str(child.attrs.get("src", "")))
    return targets


@pytest.mark.parametrize("page", PAGES, ids=_page_name)
def test_relative_links_and_anchors_resolve(page: Path) -> None:
    broken = []
    for target in _links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # an absolute URL: not checked offline
        path_text, _, anchor = target.partition("#")
        path = (page.parent / path_text).resolve() if path_text else page
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in _heading_anchors(path):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, f"{_page_name(page)}: " + "; ".join(broken)


def _linked_pages(page: Path) -> set[Path]:
    return {
        (page.parent / target.partition("#")[0]).resolve()
        for target in _links(page)
        if target and not re.match(r"^[a-z][a-z0-9+.-]*:", target) and not target.startswith("#")
    }


@pytest.mark.parametrize("index", [ROOT / "README.md", DOCS / "usage.md"], ids=_page_name)
def test_every_page_is_linked_from_the_readme_and_the_usage_guide(index: Path) -> None:
    pages = {*DOCS.glob("*.md"), *DOCS.glob("*.ipynb")} - {index}
    missing = sorted(_page_name(page) for page in pages - _linked_pages(index))
    assert not missing, f"{_page_name(index)} does not link {missing}"
