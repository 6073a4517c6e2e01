"""The verdicts of ``matgrad check`` on a network for a person at a terminal, rendered with rich.

The network judged comes first, in one line; then one block per claim, as for the single layer
(check_text.py): a ✓ or ✗ line, where it was verified, or the shape algebra up to the first
misfit, or the first differing entry; for a wrong claim, the hint of the slip it is and the right
answer in claim syntax. Laid out for 80 columns; colour is optional.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..core.claims import RefusedClaim, shape_text
from ..core.claims.network_verdict import NetworkCheckReport, NetworkVerdict
from ..core.network import Network
from . import check_doc
from . import network_check_doc as doc
from . import terminal as ui
from .check_text import DETAIL, INDENT, RefusedView
from .limits import SHAPE_STEPS

_STYLE_CLAIM = "bold"
_STYLE_HINT = "yellow"


def _detail(renderable: RenderableType) -> Padding:
    return Padding(renderable, (0, 0, 0, DETAIL - INDENT))


def _heading(verdict: NetworkVerdict) -> Text:
    style = ui.STYLE_GOOD if verdict.correct else ui.STYLE_BAD
    return Text.assemble(
        ("✓ " if verdict.correct else "✗ ", style),
        (" ".join(verdict.claim.split()), _STYLE_CLAIM),
        ("   " + check_doc.STATUS[verdict.reason], style),
    )


def _correct(verdict: NetworkVerdict) -> Iterator[RenderableType]:
    yield Text(
        f"Correct: it equals {doc.gradient_name(verdict)} entry by entry, "
        f"{doc.compared_with(verdict)}."
    )


def _shapes(verdict: NetworkVerdict) -> Iterator[RenderableType]:
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
    yield Text(f"The shapes, step by step, at {doc.sizes_text(verdict.reported_at)}:")
    yield _detail(grid)
    yield _detail(Text(verdict.shape_message or "", style=ui.STYLE_BAD))


def _values(verdict: NetworkVerdict, network: Network) -> Iterator[RenderableType]:
    shape = f"{shape_text(verdict.expected_shape)}, the shape of {verdict.target}"
    yield Text(f"The shape is right ({shape}), but the values are not.")
    difference = verdict.first_difference
    if difference is None:
        return
    i, j = difference.index
    where = doc.sizes_text(verdict.reported_at)
    there = doc.at_reported(verdict, network)
    claimed = doc.entry_text(difference.claimed_value, there)
    right = doc.entry_text(difference.correct_value, there)
    if claimed is None or right is None:
        yield Text(
            f"At {where}, entry ({i},{j}) is the first that differs (too long to write out "
            "here; --format json has both in full)."
        )
        return
    yield Text(f"At {where}, entry ({i},{j}) is the first that differs:")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("your claim", claimed)
    grid.add_row("right", right)
    yield _detail(grid)
    note = doc.entry_note(verdict, network)
    if note:
        yield _detail(Text(f"({note})", style=ui.STYLE_NOTE))


def _advice(verdict: NetworkVerdict, network: Network) -> Iterator[RenderableType]:
    yield Text("")
    if verdict.hint is not None:
        yield Text.assemble(("Hint: ", "bold " + _STYLE_HINT), (f"{verdict.hint}.", _STYLE_HINT))
    yield Text.assemble(("Right answer: ", "bold"), verdict.correct_formula)
    expanded = doc.in_upstream(verdict, network)
    if expanded is not None:
        yield Text.assemble(("In G alone: ", "bold"), expanded)


@dataclass(frozen=True)
class NetworkVerdictView:
    """One claim's verdict on ``network``: its heading, then what a tutor would say."""

    verdict: NetworkVerdict
    network: Network

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        verdict, network = self.verdict, self.network
        yield _heading(verdict)
        body: list[RenderableType] = [
            Text(f"Read: {note}.", style=ui.STYLE_NOTE) for note in verdict.notes
        ]
        if verdict.reason == "ok":
            body += _correct(verdict)
        elif verdict.reason == "shape":
            body += _shapes(verdict)
        else:
            body += _values(verdict, network)
        if not verdict.correct:
            body += _advice(verdict, network)
        yield Padding(Group(*body), (0, 0, 0, INDENT))


def entry_view(
    entry: NetworkVerdict | RefusedClaim, network: Network
) -> NetworkVerdictView | RefusedView:
    """The view of one claim's verdict, or of its refusal."""
    if isinstance(entry, RefusedClaim):
        return RefusedView(entry)
    return NetworkVerdictView(entry, network)


@dataclass(frozen=True)
class NetworkCheckView:
    """The network judged, then every verdict, a blank line apart, and a one-line tally when
    there are several."""

    report: NetworkCheckReport

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        report = self.report
        yield Text(report.network_line, style="bold")
        entries = report.entries
        for entry in entries:
            yield Text("")
            yield entry_view(entry, report.network)
        if len(entries) > 1:
            yield Text("")
            style = ui.STYLE_GOOD if report.correct else ui.STYLE_BAD
            yield Text(doc.summary_count(report), style=style)
