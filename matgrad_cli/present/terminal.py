"""The pieces every terminal view is built from, as small rich renderables and text blocks.

Blocks of text set side by side like the parts of a formula; matrices in unicode brackets,
elided with ⋯ ⋮ ⋱ beyond ``MATRIX_SIDE`` rows or columns (present/limits.py); equations broken
to the console's width; numbered sections under a rule; verdict lines and result tables; and the
one console set-up every text view is printed through. The views compose these pieces, each at
the width rich gives it, so the layout is written once.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from .limits import ENTRY_LIST
from .notation import all_entries, elide, pretty_expr, product_term, sampled
from .notation import matrix_cells as matrix_cells  # re-exported: a piece of every view

if TYPE_CHECKING:
    from ..core.checks import Check
    from ..core.jacobians import JacobianCheck
    from ..core.model import MatrixForm, Symbols

STYLE_HEADING = "bold cyan"
STYLE_GOOD = "bold green"
STYLE_BAD = "bold red"
STYLE_NOTE = "dim"

_MARKERS = frozenset({"⋯", "⋮", "⋱"})


# --- Text blocks: lines of fixed width with a baseline, set side by side like a formula ---------


@dataclass(frozen=True)
class Block:
    """Lines of text that sit beside other blocks, aligned on their ``baseline`` line."""

    lines: tuple[str, ...]
    baseline: int

    @property
    def width(self) -> int:
        """The columns of the widest line."""
        return max((cell_len(line) for line in self.lines), default=0)


def text_block(text: str) -> Block:
    """One line of text as a block."""
    return Block((text,), 0)


def beside(*blocks: Block, gap: int = 0) -> Block:
    """The blocks side by side, ``gap`` spaces apart, their baselines on one line."""
    parts: list[Block] = []
    for block in blocks:
        if parts and gap:
            parts.append(text_block(" " * gap))
        parts.append(block)
    above = max(block.baseline for block in parts)
    below = max(len(block.lines) - block.baseline for block in parts)
    rows = [""] * (above + below)
    for block in parts:
        width = block.width
        start = above - block.baseline
        for row in range(above + below):
            inside = start <= row < start + len(block.lines)
            line = block.lines[row - start] if inside else ""
            rows[row] += line + " " * (width - cell_len(line))
    return Block(tuple(row.rstrip() for row in rows), above)


def labelled(label: str, block: Block) -> Block:
    """``label`` before the block, on its baseline: ``Z = ⎡…⎤``."""
    return beside(text_block(label), block)


def rows_of_blocks(blocks: Sequence[Block], width: int, gap: int = 4) -> list[Block]:
    """The blocks side by side, ``gap`` apart, a new row begun whenever the next would not fit."""
    rows: list[Block] = []
    current: list[Block] = []
    for block in blocks:
        if current and beside(*current, block, gap=gap).width > width:
            rows.append(beside(*current, gap=gap))
            current = []
        current.append(block)
    if current:
        rows.append(beside(*current, gap=gap))
    return rows


# --- Matrices ------------------------------------------------------------------------------------


def bracketed(bodies: Sequence[str]) -> list[str]:
    """Rows in unicode brackets: ⎡ ⎤ ⎢ ⎥ ⎣ ⎦, or [ ] around a single row."""
    if len(bodies) == 1:
        return [f"[{bodies[0]}]"]
    sides = ["⎡⎤", *["⎢⎥"] * (len(bodies) - 2), "⎣⎦"]
    return [f"{side[0]}{body}{side[1]}" for side, body in zip(sides, bodies, strict=True)]


def matrix_block(cells: list[list[str]], align: Literal["left", "right"] = "left") -> Block:
    """A matrix in unicode brackets with aligned columns: expressions to the left (the elision
    marks centred), numbers to the right."""
    gap = "   " if any(" " in cell for row in cells for cell in row) else "  "
    widths = [max(cell_len(row[col]) for row in cells) for col in range(len(cells[0]))]

    def fit(cell: str, width: int) -> str:
        padding = width - cell_len(cell)
        if align == "right":
            return " " * padding + cell
        if cell in _MARKERS:
            left = (width - 1) // 2
            return " " * left + cell + " " * (width - 1 - left)
        return cell + " " * padding

    bodies = [
        gap.join(fit(cell, width) for cell, width in zip(row, widths, strict=True)) for row in cells
    ]
    lines = bracketed(bodies)
    return Block(tuple(lines), (len(lines) - 1) // 2)


def symbol_matrix(entries: Sequence[Sequence[Any]], full: bool, transpose: bool = False) -> Block:
    """A matrix of engine symbols (Z, W, G or a transpose), elided when large."""
    shown = list(zip(*entries, strict=True)) if transpose else entries
    cells = matrix_cells(len(shown), len(shown[0]), lambda i, j: pretty_expr(shown[i][j]), full)
    return matrix_block(cells)


# --- Lines and paragraphs ------------------------------------------------------------------------


def line(text: str, style: str = "") -> Text:
    """A line laid out by the view; rich folds it only if it would not fit anyway."""
    return Text(text, style=style, overflow="fold")


def blank() -> Text:
    """An empty line."""
    return Text("")


def prose(text: str, style: str = "", indent: int = 0) -> RenderableType:
    """A paragraph, wrapped by rich at word boundaries (every line indented by ``indent``)."""
    paragraph = Text(text, style=style)
    return Padding(paragraph, (0, 0, 0, indent)) if indent else paragraph


#: A relation or product sign between two spaces; the three are kept on one line.
_GLUED = re.compile(r" ([≤×=]) ")
_GLUE = "\u00a0"


def hanging_lines(prefix: str, body: str, width: int) -> list[str]:
    """``prefix`` then ``body``, broken at spaces to fit ``width``; continuation lines are
    indented to where the body starts. ``1 ≤ r ≤ k`` and ``m × k`` are never broken."""
    first, *rest = _GLUED.sub(f"{_GLUE}\\1{_GLUE}", body).split(" ")
    lines = _filled(prefix + first, rest, " " * cell_len(prefix), width)
    return [text.replace(_GLUE, " ") for text in lines]


def _filled(first: str, pieces: Iterable[str], indent: str, width: int) -> list[str]:
    """``first``, then each piece after a space while the line fits ``width``, else at the start
    of a new line after ``indent``."""
    lines: list[str] = []
    current = first
    for piece in pieces:
        candidate = f"{current} {piece}"
        if cell_len(candidate) <= width:
            current = candidate
        else:
            lines.append(current)
            current = indent + piece
    lines.append(current)
    return lines


@dataclass(frozen=True)
class Hanging:
    """A paragraph after ``prefix`` (a step number, a verdict), wrapped to the width by
    ``hanging_lines``: its continuation lines hang under the start of the body."""

    body: str
    prefix: str = ""
    style: str = ""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = hanging_lines(self.prefix, self.body, options.max_width)
        yield Text("\n".join(lines), style=self.style, overflow="fold")


@dataclass(frozen=True)
class Figure:
    """A block indented by ``indent``, or, when it is wider than the console, a note saying so
    (folding would break a matrix's rows apart); the note names ``what`` when it is given."""

    block: Block
    indent: int = 0
    what: str = ""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        block, indent, width = self.block, self.indent, options.max_width
        if indent + block.width <= width:
            for text in block.lines:
                yield line(" " * indent + text if text else "")
        elif self.what:
            yield prose(
                f"({self.what} is too wide for {width} columns; --format latex prints it, or run "
                "without --full to elide it)",
                style=STYLE_NOTE,
                indent=indent,
            )
        else:
            yield line(
                " " * indent + f"(this matrix is {block.width} columns wide, too wide for this "
                f"terminal; --format latex or markdown shows it whole)",
                style=STYLE_NOTE,
            )


@dataclass(frozen=True)
class BlockRows:
    """Blocks side by side as far as the width allows, then on the next rows, a line apart."""

    blocks: Sequence[Block]
    gap: int = 4

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for number, row in enumerate(rows_of_blocks(self.blocks, options.max_width, self.gap)):
            if number:
                yield blank()
            yield Figure(row)


def layer_matrices(symbols: Symbols, names: Iterable[str], full: bool) -> BlockRows:
    """``Z = ⎡…⎤    W = ⎡…⎤``: the symbols of the layer's matrices, side by side as they fit."""
    matrices = [labelled(f"{name} = ", symbol_matrix(symbols.rows(name), full)) for name in names]
    return BlockRows(matrices)


@dataclass(frozen=True)
class Equation:
    """``lhs = t₁ + t₂ + …``, broken before a + (or ``join``) under the =, to fit the width;
    ``lhs`` padded to ``lhs_width`` lines up the = of a list of equations. An empty sum is 0."""

    prefix: str
    lhs: str
    terms: Sequence[str]
    join: str = "+"
    lhs_width: int = 0

    def lines(self, width: int) -> list[str]:
        """The equation's lines at ``width`` columns."""
        lhs = self.prefix + self.lhs + " " * (self.lhs_width - cell_len(self.lhs))
        first, *rest = list(self.terms) or ["0"]
        pieces = [f"{self.join} {term}" for term in rest]
        return _filled(f"{lhs} = {first}", pieces, " " * (cell_len(lhs) + 1), width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for text in self.lines(options.max_width):
            yield line(text)


@dataclass(frozen=True)
class Listing:
    """Items 0…count−1, or, beyond ``limit`` (unless ``full``), the first three, a ⋮ line
    saying what ``more`` of them are not shown (entries of the same form), and the last."""

    count: int
    show: Callable[[int], Iterable[RenderableType]]
    more: Callable[[int], str] | None = None
    _: KW_ONLY
    full: bool
    limit: int = ENTRY_LIST

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for number in sampled(self.count, self.full, self.limit):
            if number is not None:
                yield from self.show(number)
                continue
            hidden = self.count - 4
            more = self.more(hidden) if self.more else f"{hidden} more entries of the same form"
            yield line(f"    ⋮   {more}", style=STYLE_NOTE)


def entry_listing(
    form: MatrixForm,
    label: Callable[[int, int], str],
    upstream_first: bool,
    full: bool,
    indent: str = "  ",
) -> Listing:
    """A product with G entry by entry, ``label(i, j) = t₁ + t₂ + …``, the = signs aligned."""
    rows, cols = form.shape
    flat = [(i, j) for i in range(rows) for j in range(cols)]
    lhs_width = cell_len(label(rows - 1, cols - 1))

    def show(number: int) -> list[RenderableType]:
        i, j = flat[number]
        terms = [product_term(term, upstream_first) for term in form.entries[i][j]]
        return [Equation(indent, label(i, j), elide(terms, full), lhs_width=lhs_width)]

    return Listing(len(flat), show, full=full)


# --- Sections ------------------------------------------------------------------------------------


class Section(NamedTuple):
    """A section of a view: its title and its renderables."""

    title: str
    body: Sequence[RenderableType]


@dataclass(frozen=True)
class Sections:
    """The sections numbered from 1, each under its heading, a blank line apart (and apart from
    the ``lead`` line above them, when there is one)."""

    sections: Sequence[Section]
    lead: RenderableType | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.lead is not None:
            yield self.lead
        for number, section in enumerate(self.sections, start=1):
            if number > 1 or self.lead is not None:
                yield blank()
            yield Rule(Text(f"{number}. {section.title}", style=STYLE_HEADING), align="left")
            yield from section.body


# --- Verdicts ------------------------------------------------------------------------------------


def verified(count: int, statement: str) -> Text:
    """``✓ Verified at all 4 entries: statement.``"""
    return Text.assemble((f"✓ Verified at {all_entries(count)}: ", STYLE_GOOD), f"{statement}.")


def fails(detail: str) -> Text:
    """``✗ FAILS: detail``."""
    return Text.assemble(("✗ FAILS: ", STYLE_BAD), detail)


def marked(holds: bool, text: str) -> Text:
    """The text after a ✓ or a ✗."""
    return Text.assemble(("✓ " if holds else "✗ ", STYLE_GOOD if holds else STYLE_BAD), text)


def outcome(text: str, holds: bool) -> Text:
    """A result in the colour of its verdict."""
    return Text(text, style=STYLE_GOOD if holds else STYLE_BAD)


def summary_result(check: Check | JacobianCheck, differing: str | None) -> str:
    """The result column of a summary: ``✓ holds, 4/4 entries`` or ``✗ fails at 2/4 entries``;
    ``differing`` is how many entries differ, or None when the check kept none of them."""
    entries = check.entries_checked
    if check.holds:
        return f"✓ holds, {entries}/{entries} entries"
    if check.claimed_shape != check.shape:
        shape, claimed = check.shape, check.claimed_shape
        return f"✗ fails: shape {claimed[0]}×{claimed[1]}, not {shape[0]}×{shape[1]}"
    if differing is None:
        return "✗ fails"
    return f"✗ fails at {differing}/{entries} entries"


def results_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[RenderableType]],
    no_wrap: Collection[str] = (),
) -> Table:
    """A table under a ruled head, as the summaries print their identities and results."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for column in columns:
        table.add_column(column, no_wrap=column in no_wrap)
    for row in rows:
        table.add_row(*row)
    return table


# --- The console ---------------------------------------------------------------------------------


def render_to_text(renderable: Any, *, width: int = 80, color: bool = False) -> str:
    """Any rich renderable as a string laid out for ``width`` columns, with ANSI colours if
    ``color``; every text view of matgrad is printed through this one console set-up."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
    )
    console.print(renderable)
    output = buffer.getvalue()
    if color:
        return output
    # rich leaves the space it broke a line at; plain text should not end lines in spaces.
    return "".join(text.rstrip() + "\n" for text in output.splitlines())
