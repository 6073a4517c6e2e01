"""Answers right in another convention: samples as the other of rows and columns, or the
gradient in numerator layout (its transpose).

Students learn from sources that disagree: PyTorch, NumPy code and cs231n put samples in rows
(A = ZW + 1b), most slides and Andrew Ng's courses in columns (A = WX + b1ᵀ), and some texts
write ∂L/∂W in numerator layout, the shape of Wᵀ. An answer right in one of those is still wrong
in the convention it is checked in, but the student is told so first. As with the hints
(repairs.py), nothing is guessed from the text: the claim is read again in the other
convention (its names there, its 1-D results and columns of ones sized there) and checked there
at the same m, k, n, or its transpose is checked, by the same test that judged it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from ...errors import ClaimSyntaxError
from ..layer import Samples, Sizes
from .answers import GRADIENT_NAMES, OutOfShare, right_everywhere
from .cost import Meter
from .naming import FORWARD
from .parser import check_notation, parse_claim
from .spellings import Dialect
from .tree import Claim, Transpose

#: Which other convention a wrong answer is right in.
ConventionKind: TypeAlias = Literal["samples", "layout", "samples_layout"]


@dataclass(frozen=True)
class Recognition:
    """The other convention a wrong claim is right in, and the sentence that says so."""

    kind: ConventionKind
    message: str


def other(samples: Samples) -> Samples:
    """The other convention."""
    return "columns" if samples == "rows" else "rows"


def _layout(target: str) -> str:
    gradient = GRADIENT_NAMES[target]  # type: ignore[index]
    return (
        f"{gradient} in numerator layout, the transpose of the gradient (denominator layout, "
        f"the shape of {target})"
    )


def _samples_message(claim: Claim, other_target: str, layout: bool) -> str:
    there, here = other(claim.samples), claim.samples
    if layout:
        gradient = GRADIENT_NAMES[other_target]  # type: ignore[index]
        return (
            f"this is {gradient} with samples as {there} ({FORWARD[there]}) in numerator "
            f"layout, the transpose of the gradient: you are checking against {here} "
            f"({FORWARD[here]}) in denominator layout, the shape of {claim.target}"
        )
    return (
        f"this is the right answer if samples are {there} ({FORWARD[there]}): you are checking "
        f"against {here} ({FORWARD[here]}); use --samples {there}"
    )


def _read_there(claim: Claim, loss: str) -> Claim | None:
    """The claim read in the other convention, None when it cannot be read there."""
    dialect: Dialect = claim.dialect  # type: ignore[assignment]
    try:
        there = parse_claim(claim.text, dialect, other(claim.samples))
        check_notation(there, loss)
    except ClaimSyntaxError:
        return None
    return there


def recognised(
    claim: Claim, sizes_list: Sequence[Sizes], loss: str, meter: Meter | None = None
) -> Recognition | None:
    """The other convention a wrong claim is right in at every size of ``sizes_list`` (the
    same m, k, n read in the other convention for the other samples); None when it is right
    in none of them, or when the meter's share affords no further try."""
    expr = claim.expr
    try:
        if right_everywhere(Transpose(expr, expr.span), claim.target, sizes_list, 1, loss, meter):
            return Recognition("layout", f"this is {_layout(claim.target)}")
        there = _read_there(claim, loss)
        if there is None:
            return None
        other_sizes = [Sizes(s.m, s.k, s.n, other(claim.samples)) for s in sizes_list]
        for kind, candidate in (
            ("samples", there.expr),
            ("samples_layout", Transpose(there.expr, there.expr.span)),
        ):
            if right_everywhere(candidate, there.target, other_sizes, 1, loss, meter):
                message = _samples_message(claim, there.target, kind == "samples_layout")
                return Recognition(kind, message)  # type: ignore[arg-type]
    except OutOfShare:
        pass
    return None
