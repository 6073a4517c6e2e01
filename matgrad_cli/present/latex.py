"""Any document as LaTeX: a fragment to paste into notes, or a standalone document.

The standalone document compiles with pdflatex using only amsmath, amssymb and geometry, all in
Debian's texlive-latex-base (SPEC section 3). Nothing time-dependent is written, so the same
arguments give byte-identical output.
"""

from __future__ import annotations

import re
from typing import assert_never

from .document import Block, Display, Document, Heading, Lead, Paragraph, Section, Table
from .limits import DISPLAY_LINES

_TEXT_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "…": r"\ldots{}",
    "--": "-{}-",
    # The few non-ASCII signs matgrad's prose and claims use, which pdflatex cannot take as text.
    "∂": r"$\partial$",
    "ᵀ": r"$^{\top}$",
    "×": r"$\times$",
    "≠": r"$\neq$",
    "·": r"$\cdot$",
    "−": "-",
    "Σ": r"$\Sigma$",
    "′": "'",
}
_TEXT_SPECIAL = re.compile("|".join(re.escape(key) for key in _TEXT_SPECIALS))

#: amsmath's bmatrix takes at most this many columns unless MaxMatrixCols is raised.
AMSMATH_MATRIX_COLUMNS = 10

#: The standalone preamble allows at least this many columns in a matrix.
STANDALONE_MATRIX_COLUMNS = 40

#: The environment that keeps a section on one page when it fits (Section.kept_together): its
#: body is set in a box first, and a new page starts when the box is taller than what is left.
KEPT_TOGETHER = "sheetpart"

_KEPT_TOGETHER_DEFINITION = (
    "% A part starts a new page when it does not fit on what is left of the current one; a part\n"
    "% longer than a page still breaks across pages.\n"
    f"\\newenvironment{{{KEPT_TOGETHER}}}{{\\par\\setbox0=\\vbox\\bgroup}}{{\\par\\egroup\n"
    "  \\ifdim\\dimexpr\\ht0+\\dp0\\relax>\\dimexpr\\pagegoal-\\pagetotal\\relax\\newpage\\fi\n"
    "  \\unvbox0\\par}\n"
)


def preamble(matrix_columns: int = STANDALONE_MATRIX_COLUMNS, kept_together: bool = False) -> str:
    """The preamble of a standalone document: the packages, matrices of up to ``matrix_columns``
    columns, and with ``kept_together`` the environment that keeps a section on one page."""
    return (
        "\\documentclass[11pt]{article}\n"
        "\\usepackage[a4paper,margin=2cm]{geometry}\n"
        "\\usepackage{amsmath}\n"
        "\\usepackage{amssymb}\n"
        f"\\setcounter{{MaxMatrixCols}}{{{matrix_columns}}}\n"
        "\\setlength{\\parindent}{0pt}\n"
        "\\setlength{\\parskip}{0.6em}\n"
    ) + (_KEPT_TOGETHER_DEFINITION if kept_together else "")


def _escape_prose(text: str) -> str:
    """Prose with `code spans` set in typewriter type, everything escaped."""
    pieces = text.split("`")
    out = []
    for index, piece in enumerate(pieces):
        escaped = _TEXT_SPECIAL.sub(lambda match: _TEXT_SPECIALS[match.group()], piece)
        out.append(rf"\texttt{{{escaped}}}" if index % 2 == 1 else escaped)
    return "".join(out)


def escape_text(text: str) -> str:
    """Prose made safe for LaTeX; math between $ signs is kept as it is."""
    pieces = text.split("$")
    for index in range(0, len(pieces), 2):
        pieces[index] = _escape_prose(pieces[index])
    return "$".join(pieces)


def display_latex(block: Display) -> str:
    """Display math: \\[ … \\] for one equation, align* for aligned lines; a long aligned
    display as several align*, split only before an equation (never before a line that goes on
    with ``&``), so that a page may break between them while one equation stays whole."""
    if not block.aligned:
        return "\\[\n" + "\n".join(block.lines) + "\n\\]"
    groups: list[list[str]] = []
    for line in block.lines:
        starts_equation = not line.lstrip().startswith("&")
        if not groups or (starts_equation and len(groups[-1]) >= DISPLAY_LINES):
            groups.append([])
        groups[-1].append(line)
    return "\n".join(
        "\\begin{align*}\n" + " \\\\\n".join(group) + "\n\\end{align*}" for group in groups
    )


def _table(block: Table) -> str:
    """A centred tabular, its header in bold."""
    columns = "l" * len(block.header)
    header = " & ".join(rf"\textbf{{{escape_text(cell)}}}" for cell in block.header)
    rows = [" & ".join(escape_text(cell) for cell in row) + r" \\" for row in block.rows]
    body = "\n".join([header + r" \\", r"\hline", *rows])
    return (
        "\\begin{center}\n\\renewcommand{\\arraystretch}{1.6}\n"
        f"\\begin{{tabular}}{{{columns}}}\n{body}\n\\end{{tabular}}\n\\end{{center}}"
    )


def _block(block: Block) -> str:
    """One block of the model in LaTeX."""
    if isinstance(block, Paragraph):
        return escape_text(block.text)
    if isinstance(block, Lead):
        return f"\\textbf{{{escape_text(block.label)}}} {escape_text(block.text)}"
    if isinstance(block, Display):
        return display_latex(block)
    if isinstance(block, Table):
        return _table(block)
    assert_never(block)


def _section(section: Section, handout: bool) -> str:
    """A section: its unnumbered heading (in a handout a subsection), then its blocks, each after
    a blank line but a display, which goes on the line after its paragraph: a blank line would end
    the paragraph, leave an empty line's height above the display, and let a page break between
    a sentence and the display it introduces."""
    level = "subsection" if handout else "section"
    title = f"\\{level}*{{{escape_text(section.title)}}}"
    body = "".join(
        ("\n" if isinstance(block, Display) else "\n\n") + _block(block) for block in section.blocks
    ).lstrip("\n")
    text = f"{title}\n\n{body}"
    if section.kept_together:
        return f"\\begin{{{KEPT_TOGETHER}}}\n{text}\n\\end{{{KEPT_TOGETHER}}}"
    return text


_MATRIX = re.compile(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", re.DOTALL)


def matrix_columns(body: str) -> int:
    """The most columns any bmatrix of ``body`` has (amsmath allows 10 unless told more)."""
    widest = 0
    for match in _MATRIX.finditer(body):
        for row in match.group(1).split("\\\\"):
            widest = max(widest, row.count("&") + 1)
    return widest


#: What a fragment needs of the document it is pasted into, in its first comment lines.
FRAGMENT_NEEDS = "% Needs \\usepackage{amsmath} and \\usepackage{amssymb} in the preamble."


def latex_text(document: Document, *, standalone: bool = False) -> str:
    """Any matgrad document as LaTeX; ``standalone`` wraps it in a document that compiles.

    An article (a derivation, report, proof) opens with its title, centred, when standalone; a
    handout (an exercise sheet, a Document with a ``heading``) opens with its centred heading.
    A fragment opens with comment lines that name it and say what it needs; with matrices wider
    than amsmath's 10 columns it raises that limit itself, to compile anywhere.
    """
    heading = document.heading
    sections = "\n\n".join(
        _section(section, handout=heading is not None) for section in document.sections
    )
    title = document.title.replace("$", "")
    if heading is None:
        comments, page = f"% {title}\n% Generated by matgrad.", sections
    else:
        made = f": {heading.command}" if heading.command else "."
        comments = f"% {title}. {heading.subtitle}.\n% Generated by matgrad{made}"
        page = _heading(document.title, heading) + f"\n\n{sections}"
    columns = document.matrix_columns
    if columns is None:
        columns = matrix_columns(sections)
    kept = any(section.kept_together for section in document.sections)
    if not standalone:
        setup = (
            f"\\setcounter{{MaxMatrixCols}}{{{columns}}}\n"
            if columns > AMSMATH_MATRIX_COLUMNS
            else ""
        )
        definitions = setup + (_KEPT_TOGETHER_DEFINITION if kept else "")
        return f"{comments}\n{FRAGMENT_NEEDS}\n{definitions}\n{page}\n"
    start = preamble(max(STANDALONE_MATRIX_COLUMNS, columns), kept)
    if heading is None:
        # The title set by hand: \\maketitle would leave the room of an empty author and date.
        top = f"\\begin{{center}}\n{{\\LARGE {escape_text(document.title)}\\par}}\n\\end{{center}}"
        return f"{start}\n\\begin{{document}}\n{top}\n\n{comments}\n\n{page}\n\n\\end{{document}}\n"
    return f"{start}\n{comments}\n\n\\begin{{document}}\n\n{page}\n\n\\end{{document}}\n"


def _heading(title: str, heading: Heading) -> str:
    """The centred heading of a handout: the title large, the subtitle and, when the handout
    has one, the command in typewriter type."""
    command = (
        f"\\\\[0.2em]\n{{\\small\\texttt{{{escape_text(heading.command)}}}}}"
        if heading.command
        else ""
    )
    return (
        "\\begin{center}\n"
        f"{{\\LARGE {escape_text(title)}}}\\\\[0.6em]\n"
        f"{escape_text(heading.subtitle)}{command}\n"
        "\\end{center}"
    )
