"""The numeric check's results as data, for the generic loss (numeric.py) and the concrete losses
(numeric_losses.py) alike: what was compared for each identity, and where it failed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from .checks import Mismatch
from .layer import Shape, Sizes, Variable

Matrix = npt.NDArray[np.float64]

#: Entries of Z, W, b and G (and of the squared error's targets Y) are drawn uniformly from
#: −ENTRY_RANGE..ENTRY_RANGE.
ENTRY_RANGE = 9

#: The description every exact result carries.
METHOD = "numeric check (exact integer arithmetic), not a symbolic proof"
#: The description of a result whose figures are enclosed in intervals (the softmax).
BOUNDED_METHOD = (
    "numeric check (interval arithmetic, to within a computed bound), not a symbolic proof"
)

#: What a numeric check compares: a gradient, or ∂L/∂A itself with a loss's closed form.
Checked = Variable | Literal["A"]

#: A matrix form: a function of Z, W and G (float64 arrays) giving a matrix.
FormFunction = Callable[[Matrix, Matrix, Matrix], Any]


def vector_as_matrix(values: Any, shape: Shape) -> Any:
    """A one-dimensional array as the matrix it stands for: a column when ``shape`` has one
    column and more than one row (b, n×1, with samples as columns), else a row (b, 1×n); an
    array of two or more dimensions as it is."""
    if values.ndim >= 2:
        return values
    return values.reshape(-1, 1) if shape[1] == 1 and shape[0] != 1 else values.reshape(1, -1)


class Formula(NamedTuple):
    """A matrix form under test: its formula as text and the function computing it."""

    text: str
    compute: FormFunction


@dataclass(frozen=True)
class NumericCheck:
    """One identity checked numerically: what was compared, and where it failed.

    For the generic loss, ``entries_by_difference`` entries were compared with one-entry
    difference quotients, and the whole matrix along ``directions`` random directions.
    ``escape_probability`` bounds the chance that a claimed matrix that differs from the true
    gradient *at this draw* passes every comparison made (0 when every entry was compared). A
    formula that is wrong in general but happens to agree at this draw is a separate risk: an entry
    that differs by a polynomial of degree ≤ 2 agrees with probability at most 2/(2·ENTRY_RANGE + 1)
    (Schwartz–Zippel). For a concrete loss every entry is compared with its chain-rule sum.
    ``mismatch_count`` counts the wrong entries found, all of them when every entry was compared.
    ``bound`` is 0 for an exact comparison; otherwise, when the check holds, the two sides' true
    values differ by at most ``bound`` at every entry (computed from the enclosures' widths).
    """

    variable: Checked
    formula: str
    shape: Shape
    claimed_shape: Shape
    holds: bool
    entries_by_difference: int
    directions: int
    failed_directions: int
    escape_probability: float
    mismatch_count: int
    mismatches: tuple[Mismatch, ...] = ()
    bound: float = 0.0

    @property
    def entries(self) -> int:
        """The number of entries of the gradient."""
        return self.shape[0] * self.shape[1]

    @property
    def every_entry(self) -> bool:
        """True when every entry was compared with its difference quotient or chain-rule sum."""
        return self.entries_by_difference == self.entries

    @property
    def identity(self) -> str:
        """The identity in plain text, e.g. ``∂L/∂Z = ∂L/∂A · Wᵀ``."""
        return f"∂L/∂{self.variable} = {self.formula}"


@dataclass(frozen=True)
class NumericResult:
    """The numeric check of every identity at one draw of random integer matrices.

    ``loss`` names the loss (``generic`` or a concrete one); for a concrete loss
    ``closed_form`` compares ∂L/∂A, differentiated from L's definition, with the loss's closed
    form. ``exact`` is False when the figures are enclosed in intervals (the softmax), and then
    ``bound`` is the largest difference between the two sides that any check allows.
    """

    sizes: Sizes
    bias: bool
    seed: int
    checks: tuple[NumericCheck, ...]
    entry_range: int = ENTRY_RANGE
    direction_range: int = 0
    method: str = METHOD
    loss: str = "generic"
    exact: bool = True
    closed_form: NumericCheck | None = None
    #: The fixed-point grid 2^-grid_bits on which interval figures are added up exactly.
    grid_bits: int = 0
    #: How the targets Y were drawn: "integers" (from the entry range), "one-hot" (one 1 per
    #: row at a random class), or "" when the loss has none.
    targets: str = ""

    @property
    def verified(self) -> bool:
        """True when every identity (and the closed form of ∂L/∂A) held in every comparison."""
        closed = self.closed_form is None or self.closed_form.holds
        return closed and all(check.holds for check in self.checks)

    @property
    def bound(self) -> float:
        """The largest difference any comparison allowed between its two sides (0 when exact)."""
        checks = (*self.checks, *(() if self.closed_form is None else (self.closed_form,)))
        return max((check.bound for check in checks), default=0.0)
