"""The one document model: what every document matgrad prints is made of.

One builder per kind of result (derivation_doc, check_doc, prove_doc, jacobian_doc, numeric_doc,
exercise_doc, exercise_solutions) makes a Document of these blocks; one printer per format
(latex.py, markdown.py) prints any Document, so every format says the same things. Text may
hold inline math between single dollar signs; display lines are LaTeX math.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Paragraph:
    """Prose, with inline math between $ signs."""

    text: str


@dataclass(frozen=True)
class Lead:
    """A paragraph opened by a bold label, such as "Task." (text may hold $…$ math)."""

    label: str
    text: str


@dataclass(frozen=True)
class Display:
    """Display math: one equation, or with ``aligned`` several lines aligned at their &.

    ``slide_lines`` (0: no limit) is the most lines of it one slide may hold; a printer of
    slides takes a longer display over continued slides. A ``listing`` (entries one per line,
    not a story told line by line) is shown whole on each of its slides, on at most
    ``most_slides`` of them (0: no limit), the lines left off the slides counted there.
    """

    lines: tuple[str, ...]
    aligned: bool = False
    slide_lines: int = 0
    listing: bool = False
    most_slides: int = 0


@dataclass(frozen=True)
class Table:
    """A small table; cells may hold inline math between $ signs."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Block = Paragraph | Lead | Display | Table


@dataclass(frozen=True)
class Section:
    """A titled section; ``kept_together`` keeps it on one page when it fits, as a problem of an
    exercise sheet is (a section longer than a page still breaks across pages)."""

    title: str
    blocks: tuple[Block, ...]
    kept_together: bool = False


@dataclass(frozen=True)
class Heading:
    """The centred heading of a handout, under its title: a subtitle, and a line in typewriter
    type (the command that makes the document again), empty when the handout must not show it."""

    subtitle: str
    command: str


@dataclass(frozen=True)
class Document:
    """A whole document, ready to print. With a ``heading`` it is a handout (an exercise sheet):
    the heading stands in for a title block, and its sections sit one level down."""

    title: str
    sections: tuple[Section, ...]
    #: The most columns any matrix has, when the builder knows it (else the LaTeX printer counts
    #: the columns it printed), for amsmath's MaxMatrixCols.
    matrix_columns: int | None = None
    heading: Heading | None = None


#: A strut that keeps consecutive aligned lines of display fractions from touching.
LINE_STRUT = r"\rule[-1.6ex]{0pt}{5ex}"
