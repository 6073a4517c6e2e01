"""Any document as a beamer deck: one frame per section, its steps revealed one by one.

A frame opens with the section's prose up to its first formula, which stays on screen. Then
each step (the prose that leads to a formula, and the formula) is shown in turn in the same
place, and the lines of an aligned formula appear one after another, so the chain rule of an
entry unfolds line by line. A derivation's frame for a gradient thus walks through its entries,
the assembled matrix and the matrix product, and ends on the boxed identity. A formula too
wide or too tall for the slide is scaled down to fit (graphicx, which beamer loads), so no slide
overflows. The deck compiles with pdflatex and beamer (Debian's texlive-latex-recommended).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import assert_never

from .document import Block, Display, Document, Lead, Paragraph, Section, Table
from .latex import escape_text, matrix_columns

#: The height a frame's content may take under its title; each paragraph on a slide takes its
#: own height from it, and a formula is scaled down to fit what is left.
_ROOM = "0.78\\textheight"

_PREAMBLE = r"""\documentclass[12pt,aspectratio=169]{beamer}
\usepackage{amsmath}
\usepackage{amssymb}
\setbeamertemplate{navigation symbols}{}
\setbeamerfont{frametitle}{size=\large}
\setcounter{MaxMatrixCols}{COLUMNS}
% \matgradroom: the height left on every slide of a frame under its opening prose;
% \matgradleft: the height left on the current slide for its formula.
\newlength{\matgradroom}
\newlength{\matgradleft}
\newsavebox{\matgradbox}
% \matgradprose{length}{text}: a paragraph, its height taken from the length.
\newcommand{\matgradprose}[2]{%
  \sbox{\matgradbox}{\parbox[b]{\linewidth}{\raggedright #2}}%
  \addtolength{#1}{-\ht\matgradbox}\addtolength{#1}{-\dp\matgradbox}%
  \addtolength{#1}{-\baselineskip}%
  \par\noindent\usebox{\matgradbox}\par}
% \fitdisplay{formula}: centred, scaled down when it is wider than the line or taller than
% the height left on the slide (never below a fifth of the text height).
\newcommand{\fitdisplay}[1]{%
  \ifdim\matgradleft<0.2\textheight\setlength{\matgradleft}{0.2\textheight}\fi
  \sbox{\matgradbox}{$\displaystyle #1$}%
  \ifdim\wd\matgradbox>\linewidth
    \sbox{\matgradbox}{\resizebox{\linewidth}{!}{\usebox{\matgradbox}}}\fi
  \ifdim\dimexpr\ht\matgradbox+\dp\matgradbox\relax>\matgradleft
    \sbox{\matgradbox}{\resizebox*{!}{\matgradleft}{\usebox{\matgradbox}}}\fi
  \par\smallskip{\centering\usebox{\matgradbox}\par}\smallskip}
"""


@dataclass(frozen=True)
class _Step:
    """Blocks shown together on one or more slides of a frame: ``slides`` of them, from
    ``first`` on (an aligned formula takes one slide per line)."""

    blocks: tuple[Block, ...]
    first: int
    slides: int


def _steps(blocks: tuple[Block, ...]) -> tuple[tuple[Block, ...], list[_Step]]:
    """The blocks that open a frame (its prose before the paragraph that introduces its first
    formula or table) and the steps that follow: a paragraph with the formula it introduces, or
    a paragraph by itself."""
    opening = 0
    while opening < len(blocks) and isinstance(blocks[opening], Paragraph | Lead):
        opening += 1
    # The paragraph just before the first formula introduces it, and goes with it.
    opening = max(opening - 1, 0) if opening < len(blocks) else 0
    steps, pending, slide = [], list[Block](), 1
    for block in [part for shown in _merged(blocks[opening:]) for part in _parts(shown)]:
        if pending and not isinstance(block, Display | Table):
            # Prose not followed by its formula: a slide of its own, so that no slide overflows.
            steps.append(_Step(tuple(pending), slide, 1))
            slide, pending = slide + 1, []
        pending.append(block)
        if isinstance(block, Display | Table):
            slides = 1 if not isinstance(block, Display) else _slides(block)
            steps.append(_Step(tuple(pending), slide, slides))
            slide, pending = slide + slides, []
    if pending:
        steps.append(_Step(tuple(pending), slide, 1))
    return blocks[:opening], steps


def _merged(blocks: tuple[Block, ...]) -> list[Block]:
    """The blocks, consecutive listings joined into one (a list the article sets as several
    displays, so that its pages may break between them, is one list on the slides)."""
    merged: list[Block] = []
    for block in blocks:
        last = merged[-1] if merged else None
        joins = isinstance(last, Display) and last.listing and last.aligned
        if joins and isinstance(block, Display) and block.listing and block.aligned:
            assert isinstance(last, Display)
            merged[-1] = replace(last, lines=last.lines + block.lines)
        else:
            merged.append(block)
    return merged


def _parts(block: Block) -> list[Block]:
    """A display longer than its ``slide_lines`` as the displays of its slides, each its own
    step, the later ones marked as continued; any other block as it is."""
    if not isinstance(block, Display) or not 0 < block.slide_lines < len(block.lines):
        return [block]
    starts = [index for index, line in enumerate(block.lines) if _cells(line)[0].strip()]
    ends = [*starts[1:], len(block.lines)]
    lengths = {start: end - start for start, end in zip(starts, ends, strict=True)}
    groups: list[list[str]] = [[]]
    for index, line in enumerate(block.lines):
        # A slide ends when it is full, or before an equation that would not fit on it whole.
        full = len(groups[-1]) >= block.slide_lines
        spill = len(groups[-1]) + lengths.get(index, 0) > block.slide_lines
        if groups[-1] and (full or (index in lengths and spill)):
            groups.append([])
        groups[-1].append(line)
    # A story longer than a slide is shown a slide at a time, not a line at a time.
    parts: list[Block] = [Display(tuple(groups[0]), block.aligned, 0, True)]
    shown = groups[: block.most_slides] if block.most_slides else groups
    for group in shown[1:]:
        parts += [Paragraph("(continued)"), Display(tuple(group), block.aligned, 0, True)]
    left = sum(len(group) for group in groups[len(shown) :])
    if left:
        lines = "line" if left == 1 else f"{left} lines"
        note = Paragraph(
            f"(continued; the list goes on for {lines} more, left off the slides: the article, "
            "--format latex, prints it whole, and --full keeps it on the slides)"
        )
        # Said on the last slide shown, above its lines, or after the list.
        if len(parts) > 1:
            parts[-2] = note
        else:
            parts.append(note)
    return parts


def _slides(block: Display) -> int:
    """The slides a display takes: one per line of an aligned story, one for anything else."""
    return len(block.lines) if block.aligned and not block.listing else 1


#: What an aligned line's & may be inside of: an environment, a group; and escapes such as \&.
_TOKEN = re.compile(r"\\begin\{[^}]*\}|\\end\{[^}]*\}|\\[A-Za-z]+|\\.|[{}&]")


def _cells(line: str) -> list[str]:
    """The cells of an aligned line: split at its own &, not at those of a matrix inside it or
    within braces."""
    cells, start, depth = [], 0, 0
    for token in _TOKEN.finditer(line):
        text = token.group()
        if text == "{" or text.startswith("\\begin{"):
            depth += 1
        elif text == "}" or text.startswith("\\end{"):
            depth -= 1
        elif text == "&" and depth == 0:
            cells.append(line[start : token.start()])
            start = token.end()
    return [*cells, line[start:]]


def _aligned(block: Display, first: int) -> str:
    """Aligned lines, the i-th uncovered from slide ``first + i`` on, cell by cell (an overlay
    command cannot span an &)."""
    lines = []
    for index, line in enumerate(block.lines):
        cells = _cells(line)
        shown = [f"\\uncover<{first + index}->{{{cell}}}" for cell in cells[:1]] + [
            f"\\uncover<{first + index}->{{{{}}{cell}}}" for cell in cells[1:]
        ]
        lines.append(" & ".join(shown))
    return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"


def _table(block: Table) -> str:
    """A table, scaled down with the formulas when it is too wide."""
    columns = "l" * len(block.header)
    header = " & ".join(rf"\textbf{{{escape_text(cell)}}}" for cell in block.header)
    rows = [" & ".join(escape_text(cell) for cell in row) + r" \\" for row in block.rows]
    body = "\n".join([header + r" \\", r"\hline", *rows])
    return f"\\fitdisplay{{\\begin{{tabular}}{{{columns}}}\n{body}\n\\end{{tabular}}}}"


def _block(block: Block, first: int, room: str = "\\matgradleft") -> str:
    """One block of the model on a slide: prose takes its height from ``room``, an aligned
    formula's lines are uncovered from slide ``first`` on."""
    if isinstance(block, Paragraph):
        return f"\\matgradprose{{{room}}}{{{escape_text(block.text)}}}"
    if isinstance(block, Lead):
        lead = f"\\textbf{{{escape_text(block.label)}}} {escape_text(block.text)}"
        return f"\\matgradprose{{{room}}}{{{lead}}}"
    if isinstance(block, Display):
        if block.aligned and block.listing:
            body = "\\begin{aligned}\n" + " \\\\\n".join(block.lines) + "\n\\end{aligned}"
        else:
            body = _aligned(block, first) if block.aligned else "\n".join(block.lines)
        return f"\\fitdisplay{{{body}}}"
    if isinstance(block, Table):
        return _table(block)
    assert_never(block)


def _frame(section: Section) -> str:
    """A section as one frame: its opening prose, then each step in turn."""
    opening, steps = _steps(section.blocks)
    parts = [f"\\setlength{{\\matgradroom}}{{{_ROOM}}}"]
    parts += [_block(block, 1, "\\matgradroom") for block in opening]
    parts += ["\\medskip\\addtolength{\\matgradroom}{-\\medskipamount}"] if opening else []
    for step in steps:
        body = "\n".join(_block(block, step.first) for block in step.blocks)
        last = step.first + step.slides - 1
        span = f"{step.first}" if step.slides == 1 else f"{step.first}-{last}"
        parts.append(f"\\only<{span}>{{\\setlength{{\\matgradleft}}{{\\matgradroom}}%\n{body}}}")
    title = escape_text(section.title)
    # Top-aligned, so that what stays on screen does not move as the steps come and go.
    return f"\\begin{{frame}}[t]{{{title}}}\n" + "\n".join(parts) + "\n\\end{frame}"


def beamer_text(document: Document) -> str:
    """Any matgrad document as a beamer deck that compiles with pdflatex: a title slide, then
    one frame per section."""
    frames = "\n\n".join(_frame(section) for section in document.sections)
    columns = max(10, matrix_columns(frames))
    subtitle = (
        f"\\subtitle{{{escape_text(document.heading.subtitle)}}}\n"
        if document.heading is not None
        else ""
    )
    # The PDF's title (its metadata) is the title's prose: a PDF string holds no maths.
    prose = " ".join(document.title.split("$")[::2]).replace(" ,", ",").strip(" ,")
    title = f"\\texorpdfstring{{{escape_text(document.title)}}}{{{escape_text(prose)}}}"
    return (
        f"% {document.title.replace('$', '')}\n% Generated by matgrad.\n"
        + _PREAMBLE.replace("COLUMNS", str(columns))
        + f"\\title{{{title}}}\n{subtitle}\\author{{}}\n\\date{{}}\n\n"
        "\\begin{document}\n\n\\begin{frame}\n\\titlepage\n\\end{frame}\n\n"
        f"{frames}\n\n\\end{{document}}\n"
    )
