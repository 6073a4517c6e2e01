"""The verdicts of ``matgrad check`` for a person at a terminal, rendered with rich.

One block per claim: a ✓ or ✗ line, then what a tutor would say: where it was verified, or the
shape algebra up to the first misfit, or the first differing entry and a counterexample with
small integers, a hint and the right answer. Laid out for 80 columns; colour is optional.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..core.claims import (
    LEADING_HINTS,
    CheckReport,
    ClaimVerdict,
    NumberMatrix,
    RefusedClaim,
    convention_line,
    number_text,
    shape_text,
)
from ..errors import ClaimSyntaxError
from . import check_doc as doc
from . import notation as plain
from . import terminal as ui
from .limits import SHAPE_STEPS

_STYLE_CLAIM = "bold"
_STYLE_HINT = "yellow"
#: Indent of the text under a claim's ✓/✗ line, and of the material under that text.
INDENT = 2
DETAIL = 4


# --- matrices of numbers, side by side ------------------------------------------------------


def _number(value: Fraction) -> str:
    """An exact number as a person writes it: 3, −2, 0.5 (claims only hold decimals)."""
    return number_text(value).replace("-", "−")


def _labelled(label: str, matrix: NumberMatrix) -> ui.Block:
    """``label`` on the middle line of the matrix, e.g. ``W = ⎡…⎤``: the numbers right-aligned
    in unicode brackets, elided beyond MATRIX_SIDE rows or columns."""
    cells = ui.matrix_cells(len(matrix), len(matrix[0]), lambda i, j: _number(matrix[i][j]), False)
    return ui.labelled(label, ui.matrix_block(cells, align="right"))


def _detail(renderable: RenderableType) -> Padding:
    """Material under a sentence of the verdict: the shape steps, the entries, the matrices."""
    return Padding(renderable, (0, 0, 0, DETAIL - INDENT))


# --- one verdict ---------------------------------------------------------------------------


def _heading(verdict: ClaimVerdict) -> Text:
    """``✓ claim   correct``, or ✗ and what is wrong with it."""
    style = ui.STYLE_GOOD if verdict.correct else ui.STYLE_BAD
    return Text.assemble(
        ("✓ " if verdict.correct else "✗ ", style),
        (" ".join(verdict.claim.split()), _STYLE_CLAIM),  # line breaks and tabs as single spaces
        ("   " + doc.STATUS[verdict.reason], style),
    )


def _correct(verdict: ClaimVerdict) -> Iterator[RenderableType]:
    """Where the claim was found to equal the gradient."""
    # m×k×n triples contain no spaces, so a line never breaks inside one.
    triples = [f"{s.m}×{s.k}×{s.n}" for s in verdict.sizes_checked]
    where = (
        f"m×k×n = {plain.listed(triples)}"
        if len(triples) > 1
        else plain.sizes_text(verdict.sizes_checked[0])
    )
    yield Text(
        f"Correct: it equals {doc.gradient_name(verdict)} entry by entry, compared with "
        f"{doc.compared_with(verdict)} at {where}."
    )
    general = doc.every_size(verdict)
    if general:
        yield Text(general)


def _shapes(verdict: ClaimVerdict) -> Iterator[RenderableType]:
    """The shape algebra, step by step, up to the first misfit."""
    steps = verdict.shape_steps
    grid = Table.grid(padding=(0, 3))
    grid.add_column(overflow="fold")
    grid.add_column(no_wrap=True)
    if len(steps) > SHAPE_STEPS:
        hidden = len(steps) - SHAPE_STEPS + 1
        grid.add_row(Text(f"⋮ {hidden} earlier parts", style=ui.STYLE_NOTE), "")
        steps = steps[-(SHAPE_STEPS - 1) :]
    for step in steps:
        grid.add_row(step.text, f"({shape_text(step.shape)})")
    yield Text(f"The shapes, step by step, at {plain.sizes_text(verdict.reported_at)}:")
    yield _detail(grid)
    yield _detail(Text(verdict.shape_message or "", style=ui.STYLE_BAD))


def _values(verdict: ClaimVerdict, width: int) -> Iterator[RenderableType]:
    """The first differing entry, both sides, and a counterexample in small integers."""
    shape = f"{shape_text(verdict.expected_shape)}, the shape of {verdict.target}"
    yield Text(f"The shape is right ({shape}), but the values are not.")
    difference = verdict.first_difference
    if difference is not None:
        i, j = difference.index
        where = plain.sizes_text(verdict.reported_at)
        yield Text(f"At {where}, entry ({i},{j}) is the first that differs:")
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        claimed = plain.pretty_expr(difference.claimed_value)
        correct = plain.pretty_expr(difference.correct_value)
        grid.add_row("your claim", claimed)
        grid.add_row("right", correct)
        yield _detail(grid)
        note = doc.entry_note(verdict)
        if note:
            yield _detail(Text(f"({note})", style=ui.STYLE_NOTE))
    example = verdict.counterexample
    if example is not None:
        inputs = [_labelled(f"{name} = ", matrix) for name, matrix in example.operands]
        results = [
            _labelled("your claim = ", example.claimed),
            ui.text_block("but"),
            _labelled(f"{doc.gradient_name(verdict)} = ", example.correct),
        ]
        yield Text("")
        yield Text("A counterexample in small integers:")
        for row in [*ui.rows_of_blocks(inputs, width), *ui.rows_of_blocks(results, width)]:
            yield _detail(Text("\n".join(row.lines), no_wrap=True, overflow="ellipsis"))


def _hint(verdict: ClaimVerdict) -> Text:
    return Text.assemble(("Hint: ", "bold " + _STYLE_HINT), (f"{verdict.hint}.", _STYLE_HINT))


def _reading(verdict: ClaimVerdict) -> Iterator[RenderableType]:
    """The other convention the claim is right in, a hint that explains its first problem, then
    how the claim was read."""
    first = doc.convention_first(verdict)
    if first is not None:
        yield Text(first, style="bold " + _STYLE_HINT)
    if verdict.hint is not None and verdict.hint_kind in LEADING_HINTS:
        yield _hint(verdict)
    for note in verdict.notes:
        yield Text(f"Read: {note}.", style=ui.STYLE_NOTE)


def _advice(verdict: ClaimVerdict) -> Iterator[RenderableType]:
    """A hint, unless it came first, and the right answer."""
    yield Text("")
    if verdict.hint is not None and verdict.hint_kind not in LEADING_HINTS:
        yield _hint(verdict)
    note = doc.upstream_note(verdict)
    answer = verdict.correct_formula + (f" ({note})" if note is not None else "")
    yield Text.assemble(("Right answer: ", "bold"), answer)


@dataclass(frozen=True)
class VerdictView:
    """One claim's verdict: its heading, then what a tutor would say, indented under it."""

    verdict: ClaimVerdict

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        verdict = self.verdict
        yield _heading(verdict)
        body = [*_reading(verdict)]
        if verdict.reason == "ok":
            body += _correct(verdict)
        elif verdict.reason == "shape":
            body += _shapes(verdict)
        else:
            body += _values(verdict, options.max_width - INDENT - DETAIL)
        if not verdict.correct:
            body += _advice(verdict)
        yield Padding(Group(*body), (0, 0, 0, INDENT))


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckView:
    """Every verdict, a blank line apart, and a one-line tally when there are several."""

    report: CheckReport

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.report.samples != "rows":
            yield Text(convention_line(self.report.samples), style="bold")
            yield Text("")
        if self.report.marks:
            yield from self._graded()
            return
        entries = self.report.entries
        for number, entry in enumerate(entries):
            if number:
                yield Text("")
            yield RefusedView(entry) if isinstance(entry, RefusedClaim) else VerdictView(entry)
        if len(entries) > 1:
            yield Text("")
            yield Text(
                doc.summary_count(self.report),
                style=ui.STYLE_GOOD if self.report.correct else ui.STYLE_BAD,
            )

    def _graded(self) -> Iterator[RenderableType]:
        """Graded against a key: each question's mark, then its answer's verdict, and the
        score."""
        entries = self.report.entries
        for number, mark in enumerate(self.report.marks):
            if number:
                yield Text("")
            style = ui.STYLE_GOOD if mark.score >= mark.points else ui.STYLE_BAD
            yield Text(doc.mark_line(mark), style="bold " + style)
            if mark.order is None:
                yield Padding(Text("No answer."), (0, 0, 0, INDENT))
                continue
            entry = entries[mark.order]
            yield RefusedView(entry) if isinstance(entry, RefusedClaim) else VerdictView(entry)
        yield Text("")
        earned, points = self.report.score
        style = ui.STYLE_GOOD if earned >= points else ui.STYLE_BAD
        yield Text(
            f"Score: {doc.points_text(earned)} of {doc.points_text(points)} points.", style=style
        )


@dataclass(frozen=True)
class RefusedView:
    """A claim that was not judged: why, with a caret under the character that does not parse,
    and where the claim language is described."""

    entry: RefusedClaim

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        entry = self.entry
        yield Text.assemble(
            ("✗ ", ui.STYLE_BAD),
            (" ".join(entry.claim.split()), _STYLE_CLAIM),
            ("   not checked", ui.STYLE_BAD),
        )
        body: list[RenderableType] = [Text(f"Not checked: {doc.refusal(entry)}.")]
        if isinstance(entry.error, ClaimSyntaxError):
            width = options.max_width - DETAIL
            line, caret = caret_excerpt(entry.error, width)
            body.append(_detail(Text(f"{line}\n{caret}", no_wrap=True, overflow="ellipsis")))
        body.append(Text(f"See {doc.GRAMMAR_POINTER}.", style=ui.STYLE_NOTE))
        yield Padding(Group(*body), (0, 0, 0, INDENT))


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
