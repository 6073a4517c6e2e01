"""The derivation document's section on a concrete loss: L, its ∂L/∂A, and the checks of L itself.

∂L/∂A is the CAS's derivative of L, compared with the loss's closed form; L is then differentiated
through the whole layer and compared with the matrix forms. Every result is read off the
LossDerivation and its Checks.
"""

from __future__ import annotations

from typing import Any

from ..core.losses import LossDerivation
from ..core.model import Derivation
from .derivation_notation import (
    GAP_LINE,
    forward_entries,
    grad,
    rule_claim,
    verdict,
)
from .document import LINE_STRUT, Block, Display, Paragraph, Section
from .layer_latex import forward_latex
from .mathtex import bmatrix, expr_latex, partial_latex

_DIFFERENTIATING = "Differentiating $L$ with respect to each $a_{i,j}$"


def _upstream(loss: LossDerivation, rows: int, cols: int, full: bool) -> list[Block]:
    """∂L/∂A from the CAS: a matrix, or one entry a line when the entries are wide."""
    definition = loss.definition
    upstream = loss.upstream
    lead = Paragraph(f"{_DIFFERENTIATING}:")
    if not definition.polynomial:
        import sympy

        # The CAS's own result, brought over a common denominator by the CAS for legibility.
        upstream = upstream.applyfunc(sympy.together)
        lead = Paragraph(f"{_DIFFERENTIATING} (each result brought over a common denominator):")
    if definition.polynomial and cols <= 3:
        matrix = bmatrix(rows, cols, lambda i, j: expr_latex(upstream[i, j]), full)
        return [lead, Display((f"{grad('A')} = {matrix}",))]
    lines: list[str] = []
    for entry in forward_entries(rows, cols, full):
        if entry is None:
            lines.append(GAP_LINE)
            continue
        i, j = entry
        left = partial_latex("L", f"a_{{{i + 1},{j + 1}}}")
        lines.append(f"{LINE_STRUT} {left} &= {expr_latex(upstream[i, j])}")
    return [lead, Display(tuple(lines), aligned=True)]


def _closed_form(loss: LossDerivation) -> Paragraph:
    """The closed form of ∂L/∂A, verified or not, with the condition it holds under."""
    definition = loss.definition
    closed = f"\\partial L/\\partial A = {definition.closed_form_latex}"
    if not loss.closed_form_holds:
        return Paragraph(f"NOT verified: the closed form ${closed}$ does not match.")
    condition = (
        f" {definition.condition.latex} (checked after substituting "
        f"${definition.condition.substitution_latex}$)"
        if definition.condition is not None
        else ""
    )
    return Paragraph(f"In closed form, ${closed}${condition}: verified entry by entry.")


def _through_the_layer(bias: bool) -> Paragraph:
    """How L itself was differentiated through the whole layer."""
    return Paragraph(
        f"Through the whole layer: with ${forward_latex(bias)}$ substituted into $L$, the CAS "
        "differentiated $L$ itself with respect to every "
        "entry of "
        + ("$Z$, $W$ and $b$" if bias else "$Z$ and $W$")
        + ", with no chain rule written by matgrad, and compared the results with the "
        "matrix forms built from the $\\partial L/\\partial A$ above."
    )


def _example(example: Any) -> list[Block]:
    """∂L/∂z_{1,1} written out, two terms a line: each is a whole entry of A minus its target,
    wide on the page."""
    terms = [expr_latex(term) for term in example.as_ordered_terms()]
    chunks = [" + ".join(terms[start : start + 2]) for start in range(0, len(terms), 2)]
    first, *more = [chunks[0], *(rf"&\quad + {chunk}" for chunk in chunks[1:])]
    return [
        Paragraph("For example:"),
        Display((f"{grad('z_{1,1}')} &= {first}", *more), aligned=True),
    ]


def loss_section(derivation: Derivation, full: bool) -> Section | None:
    """A concrete loss: L, its ∂L/∂A from the CAS and in closed form, and the checks made by
    differentiating L itself through the whole layer; None for the generic loss."""
    loss = derivation.loss
    if loss is None:
        return None
    definition = loss.definition
    targets = (
        ", with symbolic targets $y_{i,j}$ (the $m \\times n$ matrix $Y$)"
        if definition.has_targets
        else ""
    )
    blocks: list[Block] = [
        Paragraph(f"The loss is {definition.title}{targets}:"),
        Display((definition.latex,)),
        *_upstream(loss, derivation.sizes.m, derivation.sizes.n, full),
        _closed_form(loss),
        _through_the_layer(derivation.bias),
    ]
    if definition.polynomial:
        blocks += _example(loss.elementwise["Z"][0, 0])
    blocks += [verdict(check, rule_claim(check.variable)) for check in loss.checks]
    blocks.append(
        Paragraph(
            "The chain-rule derivation that follows holds for any loss, this one included: "
            "read $\\partial L/\\partial a_{i,j}$ as the entries above."
        )
    )
    return Section(f"The loss: {definition.title}", tuple(blocks))
