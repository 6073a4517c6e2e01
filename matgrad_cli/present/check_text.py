"""The verdicts of ``matgrad check`` for a person at a terminal, rendered with rich.

One block per claim: a ✓ or ✗ line, then what a tutor would say: where it was verified, or the
shape algebra up to the first misfit, or the first differing entry and a counterexample with
small integers, a hint and the right answer. Laid out for 80 columns; colour is optional.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..core.claims import (
    CheckReport,
    ClaimVerdict,
    Counterexample,
    NumberMatrix,
    number_text,
    shape_text,
)
from ..core.model import DISPLAY_LIMIT, Sizes
from ..errors import ClaimSyntaxError
from .text import pretty_expr, render_to_text

_STYLE_GOOD = "bold green"
_STYLE_BAD = "bold red"
_STYLE_CLAIM = "bold"
_STYLE_HINT = "yellow"
_STYLE_NOTE = "dim"
#: At most this many shape steps are listed; earlier ones are summarised in one line.
STEP_LIMIT = 12
#: Indent of the text under a claim's ✓/✗ line, and of the material under that text.
INDENT = 2
DETAIL = 4


def _sizes_text(sizes: Sizes) -> str:
    return f"m = {sizes.m}, k = {sizes.k}, n = {sizes.n}"


def _listed(items: Sequence[str]) -> str:
    """a, b and c."""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _one_line(text: str) -> str:
    """A claim with its runs of whitespace (line breaks, tabs) shown as single spaces."""
    return " ".join(text.split())


# --- matrices of numbers, side by side ------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """Lines of text that sit side by side with others, aligned on their ``middle`` line."""

    lines: tuple[str, ...]
    middle: int

    @property
    def width(self) -> int:
        return max((cell_len(line) for line in self.lines), default=0)


def _number(value: Fraction) -> str:
    """An exact number as a person writes it: 3, −2, 0.5 (claims only hold decimals)."""
    return number_text(value).replace("-", "−")


def _shown(count: int) -> list[int | None]:
    """The indices to display along a dimension; None marks an elided stretch."""
    if count <= DISPLAY_LIMIT:
        return list(range(count))
    return [0, 1, 2, None, count - 2, count - 1]


def _matrix(matrix: NumberMatrix) -> _Block:
    """Numbers right-aligned in unicode brackets, elided beyond DISPLAY_LIMIT rows or columns."""
    cols = _shown(len(matrix[0]))
    rows = [
        [("⋮" if col is not None else "⋱") for col in cols]
        if row is None
        else [_number(matrix[row][col]) if col is not None else "⋯" for col in cols]
        for row in _shown(len(matrix))
    ]
    widths = [max(cell_len(row[col]) for row in rows) for col in range(len(cols))]
    bodies = [
        "  ".join(
            " " * (width - cell_len(cell)) + cell for cell, width in zip(row, widths, strict=True)
        )
        for row in rows
    ]
    if len(bodies) == 1:
        return _Block((f"[{bodies[0]}]",), 0)
    lines = []
    for number, body in enumerate(bodies):
        left, right = ("⎡", "⎤") if number == 0 else ("⎣", "⎦")
        if 0 < number < len(bodies) - 1:
            left, right = "⎢", "⎥"
        lines.append(f"{left}{body}{right}")
    return _Block(tuple(lines), (len(lines) - 1) // 2)


def _labelled(label: str, matrix: NumberMatrix) -> _Block:
    """``label`` on the middle line of the matrix, e.g. ``W = ⎡…⎤``."""
    block = _matrix(matrix)
    pad = " " * cell_len(label)
    lines = tuple(
        (label if number == block.middle else pad) + line for number, line in enumerate(block.lines)
    )
    return _Block(lines, block.middle)


def _beside(blocks: Sequence[_Block], gap: int = 4) -> _Block:
    """The blocks side by side, their middle lines on one line."""
    above = max(block.middle for block in blocks)
    below = max(len(block.lines) - block.middle for block in blocks)
    rows = [""] * (above + below)
    for position, block in enumerate(blocks):
        start = above - block.middle
        spacer = " " * gap if position else ""
        for row in range(above + below):
            inside = start <= row < start + len(block.lines)
            line = block.lines[row - start] if inside else ""
            rows[row] += spacer + line + " " * (block.width - cell_len(line))
    return _Block(tuple(row.rstrip() for row in rows), above)


def _rows_of_blocks(blocks: Sequence[_Block], width: int) -> list[_Block]:
    """The blocks side by side, starting a new row whenever the next would not fit."""
    rows: list[_Block] = []
    current: list[_Block] = []
    for block in blocks:
        if current and _beside([*current, block]).width > width:
            rows.append(_beside(current))
            current = []
        current.append(block)
    if current:
        rows.append(_beside(current))
    return rows


def _block_text(block: _Block) -> Text:
    return Text("\n".join(block.lines), no_wrap=True, overflow="ellipsis")


def _detail(renderable: RenderableType) -> Padding:
    """Material under a sentence of the verdict: the shape steps, the entries, the matrices."""
    return Padding(renderable, (0, 0, 0, DETAIL - INDENT))


# --- one verdict ---------------------------------------------------------------------------


class VerdictView:
    """One claim's verdict as a rich renderable."""

    def __init__(self, verdict: ClaimVerdict) -> None:
        self.verdict = verdict

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        verdict = self.verdict
        yield self._heading()
        body: list[RenderableType]
        if verdict.reason == "ok":
            body = self._correct()
        elif verdict.reason == "shape":
            body = self._shapes()
        else:
            body = self._values(options.max_width - INDENT - DETAIL)
        if not verdict.correct:
            body += self._advice()
        yield Padding(Group(*body), (0, 0, 0, INDENT))

    def _heading(self) -> Text:
        verdict = self.verdict
        heading = Text()
        if verdict.correct:
            heading.append("✓ ", style=_STYLE_GOOD)
        else:
            heading.append("✗ ", style=_STYLE_BAD)
        heading.append(_one_line(verdict.claim), style=_STYLE_CLAIM)
        status = {"ok": "correct", "shape": "wrong shape", "values": "wrong values"}
        heading.append(
            "   " + status[verdict.reason], style=_STYLE_GOOD if verdict.correct else _STYLE_BAD
        )
        return heading

    def _correct(self) -> list[RenderableType]:
        verdict = self.verdict
        # m×k×n triples contain no spaces, so a line never breaks inside one.
        triples = [f"{s.m}×{s.k}×{s.n}" for s in verdict.sizes_checked]
        where = (
            f"m×k×n = {_listed(triples)}"
            if len(triples) > 1
            else _sizes_text(verdict.sizes_checked[0])
        )
        return [
            Text(
                f"Correct: it equals {verdict.gradient} entry by entry, compared with "
                f"{verdict.compared_with} at {where}."
            )
        ]

    def _shapes(self) -> list[RenderableType]:
        verdict = self.verdict
        steps = verdict.shape_steps
        grid = Table.grid(padding=(0, 3))
        grid.add_column(overflow="fold")
        grid.add_column(no_wrap=True)
        if len(steps) > STEP_LIMIT:
            hidden = len(steps) - STEP_LIMIT + 1
            grid.add_row(Text(f"⋮ {hidden} earlier parts", style=_STYLE_NOTE), "")
            steps = steps[-(STEP_LIMIT - 1) :]
        for step in steps:
            grid.add_row(step.text, f"({shape_text(step.shape)})")
        return [
            Text(f"The shapes, step by step, at {_sizes_text(verdict.reported_at)}:"),
            _detail(grid),
            _detail(Text(verdict.shape_message or "", style=_STYLE_BAD)),
        ]

    def _values(self, width: int) -> list[RenderableType]:
        verdict = self.verdict
        shape = f"{shape_text(verdict.expected_shape)}, the shape of {verdict.target}"
        items: list[RenderableType] = [
            Text(f"The shape is right ({shape}), but the values are not.")
        ]
        difference = verdict.first_difference
        if difference is not None:
            i, j = difference.index
            where = _sizes_text(verdict.reported_at)
            items.append(Text(f"At {where}, entry ({i},{j}) is the first that differs:"))
            grid = Table.grid(padding=(0, 2))
            grid.add_column(no_wrap=True)
            grid.add_column(overflow="fold")
            claimed = pretty_expr(difference.claimed_value)
            correct = pretty_expr(difference.correct_value)
            grid.add_row("your claim", claimed)
            grid.add_row("right", correct)
            items.append(_detail(grid))
            if "g" in claimed + correct:
                note = "(g_{i,j} = ∂L/∂a_{i,j} is entry (i,j) of G)"
                items.append(_detail(Text(note, style=_STYLE_NOTE)))
        if verdict.counterexample is not None:
            items += self._counterexample(verdict.counterexample, width)
        return items

    def _counterexample(self, example: Counterexample, width: int) -> list[RenderableType]:
        verdict = self.verdict
        inputs = [_labelled(f"{name} = ", matrix) for name, matrix in example.operands]
        results = [
            _labelled("your claim = ", example.claimed),
            _Block(("but",), 0),
            _labelled(f"{verdict.gradient} = ", example.correct),
        ]
        items: list[RenderableType] = [Text(""), Text("A counterexample in small integers:")]
        for row in [*_rows_of_blocks(inputs, width), *_rows_of_blocks(results, width)]:
            items.append(_detail(_block_text(row)))
        return items

    def _advice(self) -> list[RenderableType]:
        verdict = self.verdict
        items: list[RenderableType] = [Text("")]
        if verdict.hint is not None:
            hint = Text()
            hint.append("Hint: ", style="bold " + _STYLE_HINT)
            hint.append(verdict.hint + ".", style=_STYLE_HINT)
            items.append(hint)
        answer = Text()
        answer.append("Right answer: ", style="bold")
        answer.append(verdict.correct_formula)
        if verdict.upstream_note is not None:
            answer.append(f" ({verdict.upstream_note})")
        items.append(answer)
        return items


# --- the report ----------------------------------------------------------------------------


class CheckView:
    """Every verdict, a blank line apart, and a one-line tally when there are several."""

    def __init__(self, report: CheckReport) -> None:
        self.report = report

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        verdicts = self.report.verdicts
        for number, verdict in enumerate(verdicts):
            if number:
                yield Text("")
            yield VerdictView(verdict)
        if len(verdicts) > 1:
            right = sum(1 for verdict in verdicts if verdict.correct)
            yield Text("")
            yield Text(
                f"{right} of {len(verdicts)} claims correct.",
                style=_STYLE_GOOD if right == len(verdicts) else _STYLE_BAD,
            )


def render_check_text(report: CheckReport, *, width: int = 80, color: bool = False) -> str:
    """The report as text laid out for ``width`` columns, with ANSI colours if ``color``."""
    return render_to_text(CheckView(report), width=width, color=color)


#: Unicode categories shown as a replacement character: controls, formats, surrogates, unassigned.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def caret_excerpt(error: ClaimSyntaxError, width: int = 80) -> tuple[str, str]:
    """The claim and a caret under the offending character, as ``caret_lines`` gives them, cut
    to the line of the claim that holds it and to a window of ``width`` columns around it."""
    source, _ = error.caret_lines()
    position = min(error.position, len(source))
    line_start = source.rfind("\n", 0, position) + 1
    line_end = source.find("\n", position)
    line = source[line_start : line_end if line_end != -1 else len(source)]
    column = position - line_start
    # Never echo control characters (an escape sequence could rewrite the terminal): each
    # becomes one visible replacement character, so the caret stays in its column.
    line = "".join(
        " " if char == "\t" else "\ufffd" if unicodedata.category(char) in _HIDDEN else char
        for char in line
    )
    # Characters that take no column (combining accents) are dropped from the excerpt for the
    # same reason: the caret counts one column per character shown.
    column -= sum(1 for char in line[:column] if unicodedata.combining(char))
    line = "".join(char for char in line if not unicodedata.combining(char))
    if len(line) >= width:
        start = max(0, min(column - width // 2, len(line) - (width - 2)))
        end = start + width - 2
        shown = ("…" if start else "") + line[start:end] + ("…" if end < len(line) else "")
        column = column - start + (1 if start else 0)
        line = shown
    return line, " " * column + "^"
