"""A comparison of the elementwise partials with what they should equal, recorded as data.

A ``Check`` says which gradient was compared, against what (a backward rule of the layer, the same
gradient without the bias, or a form known only by its written text such as a claim), under which
loss, and where the two sides differed. Presenters read these fields; the plain-text ``formula``
and ``identity`` are computed from them for the JSON output and the Python API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .layer import BackwardRule, Index, Shape, Variable

#: How many differing entries a failed check keeps, to show a person.
MISMATCHES_KEPT = 5


@dataclass(frozen=True)
class WithoutBias:
    """The elementwise ∂L/∂``variable`` of the layer without b: the bias must leave it unchanged."""

    variable: Variable

    @property
    def text(self) -> str:
        """In plain text, e.g. ``∂L/∂Z without the bias``."""
        return f"∂L/∂{self.variable} without the bias"


#: What an elementwise gradient is compared with: a backward rule, the gradient without the bias,
#: or a form known only by its written text (a claim, or a form a test supplies).
Comparand = BackwardRule | WithoutBias | str


def comparand_text(comparand: Comparand) -> str:
    """The comparand in plain text, e.g. ``∂L/∂A · Wᵀ``."""
    return comparand if isinstance(comparand, str) else comparand.text


@dataclass(frozen=True)
class Mismatch:
    """An entry where the elementwise partial and a matrix form differ."""

    index: Index
    elementwise: Any
    claimed: Any


@dataclass(frozen=True)
class Check:
    """One verified (or refuted) identity: elementwise ∂L/∂X against ``against``, under the
    concrete ``loss`` (L differentiated through the whole layer) or, when None, the generic one."""

    variable: Variable
    against: Comparand
    bias: bool
    shape: Shape
    claimed_shape: Shape
    holds: bool
    entries_checked: int
    mismatches: tuple[Mismatch, ...] = ()
    #: How many entries differ in all; ``mismatches`` keeps only the first few.
    mismatch_count: int = 0
    loss: str | None = None

    @property
    def rule(self) -> BackwardRule | None:
        """The backward rule checked, or None for another comparison."""
        return self.against if isinstance(self.against, BackwardRule) else None

    @property
    def unchanged_by_bias(self) -> bool:
        """True for the check that the bias leaves ∂L/∂X unchanged."""
        return isinstance(self.against, WithoutBias)

    @property
    def formula(self) -> str:
        """The right side in plain text, e.g. ``∂L/∂A · Wᵀ`` or ``Zᵀ · ∂L/∂A, L = sum``."""
        text = comparand_text(self.against)
        return text if self.loss is None else f"{text}, L = {self.loss}"

    @property
    def identity(self) -> str:
        """The identity in plain text, e.g. ``∂L/∂Z = ∂L/∂A · Wᵀ``."""
        return f"∂L/∂{self.variable} = {self.formula}"


def checked(
    variable: Variable,
    against: Comparand,
    bias: bool,
    shape: Shape,
    claimed_shape: Shape,
    differing: Iterable[tuple[Index, Any, Any]],
    loss: str | None = None,
    shown: Callable[[Any], Any] | None = None,
) -> Check:
    """The check from the entries that differ, (index, elementwise, claimed), as kept_mismatches
    keeps them; a claimed matrix of the wrong shape fails without comparing entries."""
    if claimed_shape != shape:
        return Check(variable, against, bias, shape, claimed_shape, False, 0, loss=loss)
    kept, count = kept_mismatches(differing, shown)
    entries = shape[0] * shape[1]
    return Check(
        variable, against, bias, shape, claimed_shape, count == 0, entries, kept, count, loss
    )


def kept_mismatches(
    differing: Iterable[tuple[Index, Any, Any]], shown: Callable[[Any], Any] | None = None
) -> tuple[tuple[Mismatch, ...], int]:
    """The first MISMATCHES_KEPT of the entries that differ, each side through ``shown`` when
    given, and how many differ in all."""
    kept: list[Mismatch] = []
    count = 0
    for index, elementwise, claimed in differing:
        count += 1
        if len(kept) < MISMATCHES_KEPT:
            if shown is not None:
                elementwise, claimed = shown(elementwise), shown(claimed)
            kept.append(Mismatch(index, elementwise, claimed))
    return tuple(kept), count
