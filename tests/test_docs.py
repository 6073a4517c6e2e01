"""The documentation cannot drift from the code: its examples run, its reference is generated.

- docs/reference.md is generated from the typer app by scripts/gen_reference.py and must be
  what the script writes now.
- Every example command in README.md and docs/*.md runs, by the rules that tests/docs_harness.py
  states and implements, and its output is compared where a page shows it.
- Python examples run: ```python blocks are executed and ```pycon blocks are doctests, in page
  order, one namespace per page.
- The gallery's commands still produce its PDFs; shell completion works as docs/completion.md
  says; every page is linked from the README, and every relative link resolves.

README.md, "Documentation conventions", gives the same rules to the pages' writers.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from .docs_harness import (
    COMPLETION,
    DOCS,
    ENTRY_POINT,
    PAGES,
    PYTHON_LANGUAGES,
    ROOT,
    SHELL_LANGUAGES,
    SKIPPED,
    CodeBlock,
    Part,
    all_blocks,
    block_commands,
    cli_commands,
    complete_in_bash,
    completion_environment,
    completion_table,
    example_environment,
    find_synopses,
    gallery_images,
    heading_anchors,
    is_absolute_url,
    linked_pages,
    links,
    load_script,
    looks_like_synopsis,
    page_name,
    parameter_spellings,
    parse_command,
    png_size,
    python_pages,
    run_matgrad,
    run_python_blocks,
    run_shell_block,
    run_tool,
    shell_blocks,
)

# ---------------------------------------------------------------------------------------------
# Shell examples


@pytest.mark.parametrize("block", shell_blocks(gallery=False), ids=lambda block: block.where)
def test_documented_commands_run_as_shown(block: CodeBlock, tmp_path: Path) -> None:
    run_shell_block(block, tmp_path)


# ---------------------------------------------------------------------------------------------
# Python examples


@pytest.mark.parametrize("page", python_pages(), ids=page_name)
def test_python_examples_run_as_shown(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in example_environment().items():
        monkeypatch.setenv(name, value)
    run_python_blocks(page)


# ---------------------------------------------------------------------------------------------
# Blocks that do not run, and the rules themselves


def test_no_example_command_hides_in_a_block_that_does_not_run() -> None:
    hiding = [
        f"{block.where}: {line.strip()}"
        for block in all_blocks()
        if block.language not in SHELL_LANGUAGES | PYTHON_LANGUAGES
        for line in block.text.splitlines()
        if re.match(r"^\s*(\$ )?matgrad\s", line) and not looks_like_synopsis(line)
    ]
    assert not hiding, (
        "example commands in blocks that never run: tag the block ```sh or ```console so "
        "tests/test_docs.py runs them\n" + "\n".join(hiding)
    )


def test_synopses_list_the_real_options_and_choices() -> None:
    spellings = parameter_spellings()
    synopses = find_synopses()
    assert synopses, (
        "no synopsis found: the pattern in tests/docs_harness.py find_synopses() no longer "
        "matches the pages"
    )
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
    first, second, third = block_commands(CodeBlock(ROOT / "README.md", 10, "console", text))
    assert first.parts == (Part(("matgrad", "derive"), (("X", "1"),), "a.tex"),)
    assert (first.exit_code, first.output) == (2, None)
    assert second.output == "✓ dZ = G @ W.T   correct\n  \\\\"
    assert (third.line, third.parts[0].words) == (16, ("matgrad", "prove", "--format", "text"))


# ---------------------------------------------------------------------------------------------
# The generated command reference


def test_command_reference_is_up_to_date() -> None:
    generator = load_script("gen_reference")
    expected: str = generator.render_reference()
    reference = DOCS / "reference.md"
    actual = reference.read_text(encoding="utf-8") if reference.exists() else ""
    assert actual == expected, (
        "docs/reference.md is out of date with the CLI: regenerate it with "
        "`.venv/bin/python scripts/gen_reference.py` and review the diff"
    )


def test_command_reference_covers_every_command_and_option() -> None:
    reference = (DOCS / "reference.md").read_text(encoding="utf-8")
    for name, options in cli_commands():
        assert f"## `{('matgrad ' + name).strip()}`" in reference, name
        for option in options:
            assert f"`{option}`" in reference, (name, option)


def test_every_option_is_explained_in_a_hand_written_page() -> None:
    written = "\n".join(
        page.read_text(encoding="utf-8") for page in PAGES if page.name != "reference.md"
    )
    missing = [
        f"matgrad {name} {option}".replace("  ", " ")
        for name, options in cli_commands()
        for option in options
        if option.startswith("--") and option not in written
    ]
    assert not missing, f"options that no hand-written page mentions: {missing}"


# ---------------------------------------------------------------------------------------------
# The gallery

#: A gallery image is a page at about 90 dpi: small enough to commit.
PNG_LIMIT = 250_000


def _assert_renders_as_committed(
    folder: Path, pdf: str, words: tuple[str, ...], pdftoppm: str | None
) -> None:
    """The block's PDF is a PDF and, rendered as the page says into the temporary folder, has
    the same pages as are committed, of the same size in pixels (so the same resolution)."""
    path = folder / pdf
    if not path.exists():  # written by a pdflatex that the examples skip: compile it here
        pdflatex = shutil.which("pdflatex")
        if pdflatex is None:
            pytest.skip("pdflatex is not installed (.ci/run installs texlive-latex-base)")
        run_tool(
            [pdflatex, "-interaction=nonstopmode", "-halt-on-error", path.stem + ".tex"], folder
        )
    assert path.read_bytes().startswith(b"%PDF-"), f"{pdf} is not a PDF"
    if pdftoppm is None:
        return
    prefix = words[-1]
    rendered = folder / "rendered" / Path(prefix).name
    rendered.parent.mkdir(exist_ok=True)
    run_tool([pdftoppm, *words[1:-1], str(rendered)], folder)
    pages = sorted(rendered.parent.glob(f"{rendered.name}-*.png"))
    assert pages, f"pdftoppm rendered no page of {pdf}"
    for page_image in pages:
        committed_image = ROOT / Path(prefix).parent / page_image.name
        name = committed_image.relative_to(ROOT)
        assert committed_image.exists(), f"{name} is rendered but not committed"
        assert png_size(page_image) == png_size(committed_image), (
            f"{name} is not what the gallery's command renders now: "
            "rerun the commands of docs/gallery.md from the repository root"
        )


def test_gallery_commands_still_produce_their_pdfs(tmp_path: Path) -> None:
    blocks = shell_blocks(gallery=True)
    assert blocks, "docs/gallery.md shows no commands"
    renders: list[tuple[Path, str, tuple[str, ...]]] = []
    for index, block in enumerate(blocks):
        folder = tmp_path / f"block-{index}"
        folder.mkdir()
        session = run_shell_block(block, folder)
        renders += [(folder, pdf, words) for pdf, words in session.renders]
    assert renders, "docs/gallery.md renders no PDF with pdftoppm"

    shown = gallery_images()
    committed = sorted(path.name for path in (DOCS / "gallery").glob("*.png"))
    assert sorted(Path(image).name for image in shown) == committed, (
        "docs/gallery.md should show every PNG in docs/gallery/, and only those"
    )
    for image in shown:
        path = DOCS / image
        assert path.stat().st_size < PNG_LIMIT, f"{image} is larger than {PNG_LIMIT} bytes"
        png_size(path)

    pdftoppm = shutil.which("pdftoppm")
    for folder, pdf, words in renders:
        _assert_renders_as_committed(folder, pdf, words, pdftoppm)


# ---------------------------------------------------------------------------------------------
# Shell completion (typer's --install-completion and --show-completion)

SHELLS = ("bash", "zsh", "fish")
#: Where typer installs each shell's completion, relative to HOME; docs/completion.md names them.
INSTALLED = {
    "bash": (".bash_completions/matgrad.sh", ".bashrc"),
    "zsh": (".zfunc/_matgrad", ".zshrc"),
    "fish": (".config/fish/completions/matgrad.fish",),
}


@pytest.mark.skipif(not ENTRY_POINT.exists(), reason="completion needs the installed `matgrad`")
@pytest.mark.parametrize("shell", SHELLS)
def test_show_completion_prints_a_script_for_each_shell(shell: str, tmp_path: Path) -> None:
    result = run_matgrad(["--show-completion", shell], completion_environment(), tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"_MATGRAD_COMPLETE=complete_{shell}" in result.stdout
    assert "matgrad" in result.stdout
    assert result.stderr == ""


@pytest.mark.skipif(not ENTRY_POINT.exists(), reason="completion needs the installed `matgrad`")
@pytest.mark.parametrize("shell", SHELLS)
def test_install_completion_writes_the_files_the_page_names(shell: str, tmp_path: Path) -> None:
    result = run_matgrad(
        ["--install-completion", shell], completion_environment(home=tmp_path), tmp_path
    )
    assert result.returncode == 0, result.stderr
    page = COMPLETION.read_text(encoding="utf-8")
    script = tmp_path / INSTALLED[shell][0]
    assert f"_MATGRAD_COMPLETE=complete_{shell}" in script.read_text(encoding="utf-8")
    for relative in INSTALLED[shell]:
        assert (tmp_path / relative).exists(), relative
        assert f"~/{relative}" in page, f"docs/completion.md should name ~/{relative}"


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.skipif(not ENTRY_POINT.exists(), reason="completion needs the installed `matgrad`")
def test_bash_completes_what_the_page_says(tmp_path: Path) -> None:
    rows = completion_table()
    assert rows, "docs/completion.md has no table under 'What it completes'"
    result = complete_in_bash([typed for typed, _ in rows], tmp_path)
    assert result.returncode == 0, result.stderr
    offered = result.stdout.splitlines()
    for (typed, expected), line in zip(rows, offered, strict=True):
        assert line.split() == expected, f"bash offers {line!r} for {typed!r}"


# ---------------------------------------------------------------------------------------------
# Links


@pytest.mark.parametrize("page", PAGES, ids=page_name)
def test_relative_links_and_anchors_resolve(page: Path) -> None:
    broken = []
    for target in links(page):
        if is_absolute_url(target):
            continue  # an absolute URL: not checked offline
        path_text, _, anchor = target.partition("#")
        path = (page.parent / path_text).resolve() if path_text else page
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in heading_anchors(path):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, f"{page_name(page)}: " + "; ".join(broken)


@pytest.mark.parametrize("index", [ROOT / "README.md", DOCS / "usage.md"], ids=page_name)
def test_every_page_is_linked_from_the_readme_and_the_usage_guide(index: Path) -> None:
    pages = {*DOCS.glob("*.md"), *DOCS.glob("*.ipynb")} - {index}
    missing = sorted(page_name(page) for page in pages - linked_pages(index))
    assert not missing, f"{page_name(index)} does not link {missing}"
