"""LaTeX fragments that work anywhere: pasted into an article that loads only amsmath and amssymb,
a derivation compiles without errors and without overfull boxes at every size up to the elision
threshold and elided, for every loss; the log is read, not just the exit code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from matgrad_cli import derive
from matgrad_cli.present import render
from matgrad_cli.present.document import Display
from matgrad_cli.present.latex import FRAGMENT_NEEDS, display_latex
from matgrad_cli.present.limits import DISPLAY_LINES

from .conftest import run_pdflatex

#: The plainest host document: LaTeX's article with what the fragment says it needs, nothing else.
_ARTICLE = (
    "\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage{amssymb}\n"
    "\\begin{document}\n%s\\end{document}\n"
)

#: Every loss at 2, 3, 4 and 6 (up to the elision threshold), and at 12³, elided.
_CASES = [
    (loss, size)
    for loss in ("generic", "sum", "squared-error", "softmax-cross-entropy")
    for size in (2, 3, 4, 6, 12)
]


def _problems(log: str) -> list[str]:
    """The overfull boxes (hbox and vbox) and the errors a pdflatex log reports."""
    return re.findall(r"^(?:Overfull \\[hv]box .*|! .*)$", log, flags=re.MULTILINE)


@pytest.mark.parametrize(("loss", "size"), _CASES)
def test_a_fragment_compiles_in_a_plain_article_without_overfull_boxes(
    loss: str, size: int, tmp_path: Path
) -> None:
    fragment = render(derive(size, size, size, loss=loss), "latex")
    assert fragment.splitlines()[2] == FRAGMENT_NEEDS
    assert "\\allowdisplaybreaks" not in fragment
    result = run_pdflatex(_ARTICLE % fragment, tmp_path, "host")
    log = (tmp_path / "host.log").read_text(encoding="utf-8", errors="replace")
    assert result.returncode == 0, result.stdout[-2000:]
    assert _problems(log) == []
    pages = re.search(r"Output written on host\.pdf \((\d+) pages?", log)
    assert pages is not None
    assert int(pages.group(1)) > 1  # long enough to break across pages


_JACOBIAN_CASES = [(2, "numerator"), (3, "denominator"), (4, "numerator"), (6, "numerator"),
                   (12, "denominator")]  # fmt: skip


@pytest.mark.parametrize(("size", "layout"), _JACOBIAN_CASES)
def test_a_jacobian_fragment_compiles_in_a_plain_article_without_overfull_boxes(
    size: int, layout: str, tmp_path: Path
) -> None:
    from matgrad_cli.core.jacobians import jacobian

    fragment = render(jacobian(size, size, size, layout=layout), "latex")
    assert fragment.splitlines()[2] == FRAGMENT_NEEDS
    result = run_pdflatex(_ARTICLE % fragment, tmp_path, "host")
    log = (tmp_path / "host.log").read_text(encoding="utf-8", errors="replace")
    assert result.returncode == 0, result.stdout[-2000:]
    assert _problems(log) == []


def test_the_log_reader_finds_overfull_boxes_and_errors(tmp_path: Path) -> None:
    """The check above can fail: a rule wider than the page and one taller than it are found."""
    too_wide = "\\noindent\\rule{500pt}{1pt}\\par\n"
    too_tall = "\\[\n\\rule{1pt}{900pt}\n\\]\n"
    run_pdflatex(_ARTICLE % (too_wide + too_tall), tmp_path, "bad")
    log = (tmp_path / "bad.log").read_text(encoding="utf-8", errors="replace")
    found = _problems(log)
    assert any(line.startswith("Overfull \\hbox") for line in found)
    assert any(line.startswith("Overfull \\vbox") for line in found)
    assert _problems("! Undefined control sequence.\n") == ["! Undefined control sequence."]


def test_a_long_aligned_display_is_split_between_equations_only() -> None:
    """Equations (lines that do not start with &) open a new align* once one holds
    DISPLAY_LINES lines, so that the page may break there; a line that goes on with & stays
    with its equation, so one entry's steps are never split."""
    lines = []
    for number in range(DISPLAY_LINES):
        lines += [f"x_{number} &= 1", "&\\quad + 2"]
    latex = display_latex(Display(tuple(lines), aligned=True))
    groups = re.findall(r"\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}", latex, flags=re.DOTALL)
    assert len(groups) == 2
    for group in groups:
        rows = group.split(" \\\\\n")
        assert not rows[0].startswith("&")
        assert len(rows) <= DISPLAY_LINES + 1
    assert [row for group in groups for row in group.split(" \\\\\n")] == lines
    short = display_latex(Display(("a &= b", "&= c"), aligned=True))
    assert short.count("\\begin{align*}") == 1


def test_one_entrys_chain_rule_steps_stay_together() -> None:
    """Each entry's sentence is followed at once (no blank line, so no page break) by one align*
    that holds its partials and their values; no document allows breaks inside a display."""
    latex = render(derive(4, 4, 4), "latex", standalone=True, full=True)
    assert "\\allowdisplaybreaks" not in latex
    entries = re.findall(
        r"appears in [^\n]*:\n(\\begin\{align\*\}\n.*?\n\\end\{align\*\})(\n?)", latex, re.DOTALL
    )
    assert len(entries) == 16 + 16 + 4  # every entry of Z, W and b
    for display, _ in entries:
        assert display.count("\\begin{align*}") == 1
        assert display.count("&= ") == 2  # the partials, then their values
