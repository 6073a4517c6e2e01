"""A check report as a document, for LaTeX and Markdown, and the phrases it shares with the
terminal view (check_text.py): the gradient claimed, what it was compared with, and what G stands
for under a concrete loss."""

from __future__ import annotations

import re

from ..core.claims import (
    GRADIENT_NAMES,
    LEADING_HINTS,
    CheckReport,
    ClaimVerdict,
    Mark,
    NumberMatrix,
    RefusedClaim,
    convention_line,
    number_text,
    shape_text,
)
from ..core.layer import LAYERS, Samples, Sizes
from ..core.losses import ConcreteLoss, loss_named
from .document import Block, Display, Document, Paragraph, Section, Table
from .layer_latex import forward_latex
from .mathtex import bmatrix, expr_latex, shape_latex, slashed

#: A verdict's reason, as its heading says it.
STATUS = {"ok": "correct", "shape": "wrong shape", "values": "wrong values"}


def gradient_name(verdict: ClaimVerdict) -> str:
    """The gradient claimed, e.g. ``∂L/∂W``."""
    return GRADIENT_NAMES[verdict.target]


#: The layer in a few symbols, in each convention.
LAYER_TEXT: dict[Samples, str] = {"rows": "A = ZW + b", "columns": "A = WX + b"}


def compared_with(verdict: ClaimVerdict, loss: str = "L", layer: str | None = None) -> str:
    """What the claim was compared with, in words (plain text unless ``loss`` and ``layer`` are
    given as math)."""
    layer = LAYER_TEXT[verdict.samples] if layer is None else layer
    if verdict.loss == "generic":
        return f"the elementwise chain rule through {layer}"
    return f"{loss} = {loss_named(verdict.loss).title} differentiated through {layer}"


def upstream_note(verdict: ClaimVerdict) -> str | None:
    """What G stands for under a concrete loss, or None for the generic one."""
    loss = loss_named(verdict.loss, verdict.samples)
    if not isinstance(loss, ConcreteLoss):
        return None
    condition = loss.condition
    closed = loss.closed_form_text + (f", {condition.text}" if condition else "")
    return f"here G = ∂L/∂A = {closed}"


def every_size(verdict: ClaimVerdict, math: bool = False) -> str | None:
    """For a right claim, that it was also compared at its general sizes, which show that it is
    right at every size (None when it was not compared there); ``math`` for a document."""
    if not verdict.correct or not verdict.general_sizes:
        return None
    triples = [f"{s.m}×{s.k}×{s.n}" for s in verdict.general_sizes]
    where = ", ".join(triples[:-1]) + " and " + triples[-1] if len(triples) > 1 else triples[0]
    sizes = "$m \\times k \\times n$" if math else "m×k×n"
    return (
        f"It is right at every size, too: it also agrees at {sizes} = {where}, "
        "where any dependence on the sizes that the gradient does not have would show."
    )


#: What the letters of a first differing entry stand for: (the symbols' prefix, in text, in
#: a document's maths, where ∂L/∂a_{i,j} is written out).
_LETTERS = (
    ("dA_", "g_{i,j} = ∂L/∂a_{i,j} is entry (i,j) of G", None),
    ("a_", "a_{i,j} is entry (i,j) of A = ZW + b", r"$a_{i,j}$ is entry $(i,j)$ of $A = ZW + b$"),
    (
        "sigma_",
        "σ_{i,j} = softmax(a_{i,:})_j",
        r"$\sigma_{i,j} = \operatorname{softmax}(a_{i,:})_j$",
    ),
)


def entry_note(verdict: ClaimVerdict, math: bool = False) -> str | None:
    """What the letters of a first differing entry stand for, beyond Z, W, b and Y, and for
    which targets it is shown; ``math`` for a document."""
    difference = verdict.first_difference
    if difference is None:
        return None
    words = set(re.findall(r"[A-Za-z]+_", difference.claimed + " " + difference.correct))
    shown = [(latex if math else text) for prefix, text, latex in _LETTERS if prefix in words]
    notes = [note for note in shown if note is not None]
    if verdict.samples == "columns":
        notes = [note.replace("ZW", "WX").replace("a_{i,:})_j", "a_{:,j})_i") for note in notes]
    if difference.condition:
        notes.append(f"shown for {difference.condition}")
    return "; ".join(notes) if notes else None


def refusal(entry: RefusedClaim) -> str:
    """Why a claim was not judged, with where it came from."""
    where = f"{entry.where}: " if entry.where else ""
    return f"{where}{entry.message}"


#: Where a claim that does not parse is pointed to.
GRAMMAR_POINTER = "the claim language: matgrad check --grammar"


def _sizes(sizes: Sizes) -> str:
    return f"$m = {sizes.m}$, $k = {sizes.k}$, $n = {sizes.n}$"


def _numbers(matrix: NumberMatrix) -> str:
    rows, cols = len(matrix), len(matrix[0])
    return bmatrix(rows, cols, lambda i, j: number_text(matrix[i][j]))


def _shapes(verdict: ClaimVerdict) -> list[Block]:
    """A claim of the wrong shape: the shapes of its parts, step by step, and what does not fit."""
    rows = tuple(
        (f"`{step.text}`", f"${shape_latex(*step.shape)}$") for step in verdict.shape_steps
    )
    blocks: list[Block] = [
        Paragraph(f"Wrong shape. The shapes, step by step, at {_sizes(verdict.reported_at)}:")
    ]
    if rows:
        blocks.append(Table(("part of the claim", "shape"), rows))
    if verdict.shape_message:
        blocks.append(Paragraph(verdict.shape_message + "."))
    return blocks


def _values(verdict: ClaimVerdict) -> list[Block]:
    """A claim of the right shape and wrong values: its first differing entry, a counterexample."""
    blocks: list[Block] = [
        Paragraph(
            f"The shape is right ({shape_text(verdict.expected_shape)}, the shape of "
            f"${verdict.target}$), but the values are not."
        )
    ]
    difference = verdict.first_difference
    if difference is not None:
        i, j = difference.index
        claimed, right = difference.claimed_value, difference.correct_value
        blocks += [
            Paragraph(
                f"At {_sizes(verdict.reported_at)}, entry $({i},{j})$ is the first that differs:"
            ),
            Display(
                (
                    rf"\text{{your claim}} &= {expr_latex(claimed)}",
                    rf"\text{{right}} &= {expr_latex(right)}",
                ),
                aligned=True,
            ),
        ]
        note = entry_note(verdict, math=True)
        if note:
            blocks.append(Paragraph(f"({note})"))
    example = verdict.counterexample
    if example is not None:
        operands = ",\\quad ".join(
            f"{name} = {_numbers(matrix)}" for name, matrix in example.operands
        )
        blocks += [
            Paragraph("A counterexample in small integers:"),
            Display((operands,)),
            Display(
                (
                    rf"\text{{your claim}} = {_numbers(example.claimed)} \quad\text{{but}}\quad "
                    rf"{slashed(verdict.target)} = {_numbers(example.correct)}",
                )
            ),
        ]
    return blocks


def convention_first(verdict: ClaimVerdict) -> str | None:
    """The other convention a wrong claim is right in, as the sentence its report starts with."""
    if verdict.convention is None:
        return None
    return verdict.convention[0].upper() + verdict.convention[1:] + "."


def _reading(verdict: ClaimVerdict) -> list[Block]:
    """The other convention the claim is right in, a hint that explains its first problem, then
    how the claim was read."""
    first = convention_first(verdict)
    blocks: list[Block] = [] if first is None else [Paragraph(first)]
    if verdict.hint and verdict.hint_kind in LEADING_HINTS:
        blocks.append(Paragraph(f"Hint: {verdict.hint}."))
    blocks += [Paragraph(f"Read: {note}.") for note in verdict.notes]
    return blocks


def _verdict_section(number: int, verdict: ClaimVerdict) -> Section:
    """One claim: what was found, and for a wrong one the hint and the right answer."""
    status = STATUS[verdict.reason]
    blocks = _reading(verdict)
    if verdict.reason == "ok":
        where = ", ".join(f"{s.m}×{s.k}×{s.n}" for s in verdict.sizes_checked)
        blocks += [
            Paragraph(
                f"Correct: it equals ${slashed(verdict.target)}$ entry by entry, compared with "
                f"{compared_with(verdict, '$L$', f'${_forward(verdict)}$')} at "
                f"$m \\times k \\times n$ = {where}."
            )
        ]
        general = every_size(verdict, math=True)
        if general:
            blocks.append(Paragraph(general))
    else:
        blocks += _shapes(verdict) if verdict.reason == "shape" else _values(verdict)
        if verdict.hint and verdict.hint_kind not in LEADING_HINTS:
            blocks.append(Paragraph(f"Hint: {verdict.hint}."))
        upstream = upstream_note(verdict)
        note = f" ({upstream})" if upstream else ""
        blocks.append(Paragraph(f"Right answer: `{verdict.correct_formula}`{note}"))
    return Section(f"Claim {number}: `{verdict.claim}`, {status}", tuple(blocks))


def _forward(verdict: ClaimVerdict) -> str:
    """The forward pass in LaTeX, in the verdict's convention."""
    return forward_latex(True, LAYERS[verdict.samples])


def points_text(points: float) -> str:
    """``2``, ``1.5``: points as people write them."""
    return f"{points:g}"


def mark_line(mark: Mark) -> str:
    """``Question 1a (∂L/∂W): 1 of 2 points, wrong values``."""
    unit = "point" if mark.points == 1 else "points"
    return (
        f"Question {mark.question} ({GRADIENT_NAMES[mark.target]}): {points_text(mark.score)} "
        f"of {points_text(mark.points)} {unit}, {mark.why}"
    )


def summary_count(report: CheckReport) -> str:
    """``3 of 4 claims correct.``, and how many could not be checked."""
    right = sum(verdict.correct for verdict in report.verdicts)
    total = len(report.verdicts) + len(report.refused)
    refused = f" ({len(report.refused)} not checked)" if report.refused else ""
    if report.marks:
        earned, points = report.score
        return f"Score: {points_text(earned)} of {points_text(points)} points."
    return f"{right} of {total} claims correct{refused}."


def _refused_section(number: int, entry: RefusedClaim) -> Section:
    """A claim that was not judged: why, and where the claim language is described."""
    blocks = (Paragraph(f"Not checked: {refusal(entry)}."), Paragraph(f"See {GRAMMAR_POINTER}."))
    return Section(f"Claim {number}: `{' '.join(entry.claim.split())}`, not checked", blocks)


def _graded_sections(report: CheckReport, answered: list[Section]) -> list[Section]:
    """Graded against a key: a section per question, its mark first, then its answer's."""
    sections = []
    for mark in report.marks:
        if mark.order is None:
            blocks: tuple[Block, ...] = (Paragraph("No answer."),)
        else:
            claim = " ".join(report.entries[mark.order].claim.split())
            blocks = (Paragraph(f"Answer: `{claim}`"), *answered[mark.order].blocks)
        sections.append(Section(mark_line(mark), blocks))
    return sections


def check_document(report: CheckReport, full: bool = False) -> Document:
    """Every verdict (or refusal) of a report, one section each, and a closing count."""
    sections = [
        _refused_section(number, entry)
        if isinstance(entry, RefusedClaim)
        else _verdict_section(number, entry)
        for number, entry in enumerate(report.entries, 1)
    ]
    if report.marks:
        sections = _graded_sections(report, sections)
    if report.samples != "rows":
        sections.insert(0, Section("Convention", (Paragraph(convention_line(report.samples)),)))
    count = Paragraph(summary_count(report))
    sections.append(Section("Summary", (count,)))
    return Document("Checking gradient claims against the verified derivation", tuple(sections))
