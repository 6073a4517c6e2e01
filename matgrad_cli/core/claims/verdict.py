"""What ``matgrad check`` found, as data: one verdict per claim and the report over all of them.

The verdicts are frozen dataclasses; the report renders itself through the bridge to present/,
as every result does, so that this module holds no display logic of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal, TypeAlias

from ...errors import MatgradError
from .. import bridge
from ..layer import Index, Samples, Shape, Sizes
from .conventions import ConventionKind
from .repairs import HintKind
from .shapes import ShapeStep
from .tree import Target

Reason: TypeAlias = Literal["ok", "shape", "values"]
#: A small matrix of exact numbers, row by row.
NumberMatrix: TypeAlias = tuple[tuple[Fraction, ...], ...]


@dataclass(frozen=True)
class EntryDifference:
    """The first entry (1-based, row by row) where the claim and the chain rule differ.

    ``claimed`` and ``correct`` are SymPy text over z_i_j, w_i_j, b_j and dA_i_j (the entries
    of G); the expressions themselves are kept for renderers that print them their own way.
    """

    index: Index
    claimed: str
    correct: str
    claimed_value: Any = field(compare=False, repr=False)
    correct_value: Any = field(compare=False, repr=False)
    #: When the entries are shown only for some targets (the softmax's σ − Y form for rows of
    #: Y that sum to 1), what they are: ``rows of Y that sum to 1``.
    condition: str | None = None


@dataclass(frozen=True)
class Counterexample:
    """Small integer matrices on which the claim and the right answer give different numbers.

    ``operands`` holds the matrices the claim or the right answer uses, in the order Z, W, b, G.
    """

    sizes: Sizes
    operands: tuple[tuple[str, NumberMatrix], ...]
    claimed: NumberMatrix
    correct: NumberMatrix


@dataclass(frozen=True)
class ClaimVerdict:
    """What matgrad found about one claim.

    ``reported_at`` is where the shapes, the first difference and the counterexample were taken:
    the smallest size at which the claim fails, or the first size checked when it is correct.
    ``shape_steps`` are the shapes of the claim's parts there, innermost first, up to the first
    part that does not fit; ``shape_message`` says what does not fit (None when nothing).
    """

    claim: str
    target: Target
    correct: bool
    reason: Reason
    sizes_checked: tuple[Sizes, ...]
    reported_at: Sizes
    expected_shape: Shape
    claimed_shape: Shape | None
    shape_steps: tuple[ShapeStep, ...]
    shape_message: str | None
    first_difference: EntryDifference | None
    counterexample: Counterexample | None
    hint: str | None
    hint_kind: HintKind | None
    correct_formula: str
    #: ``generic``, or the concrete loss whose G = ∂L/∂A and targets Y the claim was read with.
    loss: str = "generic"
    #: How notation that could be read more than one way was read (a 1-D result compared as a
    #: row, ``*`` as the matrix product, the size of a ``1``), one sentence each.
    notes: tuple[str, ...] = ()
    #: The general sizes at which the claim was compared too, which show that a claim right
    #: there is right at every size (generality.py); empty when it failed before them.
    general_sizes: tuple[Sizes, ...] = ()
    #: For a wrong claim right in another convention (conventions.py): which, and the sentence
    #: that says so, the first thing its report says.
    convention_kind: ConventionKind | None = None
    convention: str | None = None

    @property
    def samples(self) -> Samples:
        """The convention the claim was judged in."""
        return self.reported_at.samples


@dataclass(frozen=True)
class RefusedClaim:
    """A claim that was not judged: it cannot be read (``position`` is then the offending
    character), or checking it would cost too much. ``order`` is its place among the claims
    given, ``where`` what the command line adds to say where it came from (a file and line)."""

    order: int
    claim: str
    message: str
    position: int | None
    error: MatgradError = field(compare=False, repr=False)
    where: str | None = None


@dataclass(frozen=True)
class Mark:
    """What one question of an answer key earned (key.py): its ``points``, the ``score`` the
    answer earned, the place of the answer among the report's entries (None when the question
    was not answered) and why, in a few words."""

    question: str
    target: Target
    points: float
    score: float
    order: int | None
    why: str


@dataclass(frozen=True)
class CheckReport(bridge.Rendered):
    """The verdicts on every claim, in the order given."""

    verdicts: tuple[ClaimVerdict, ...]
    #: The claims that were not judged (check(..., keep_going=True)), each with its place.
    refused: tuple[RefusedClaim, ...] = ()
    #: With an answer key, each question's mark, in the key's order.
    marks: tuple[Mark, ...] = ()
    #: The convention every claim was judged in: samples as rows or as columns.
    samples: Samples = "rows"

    @property
    def score(self) -> tuple[float, float]:
        """With an answer key: the points earned and the points there are."""
        return sum(mark.score for mark in self.marks), sum(mark.points for mark in self.marks)

    @property
    def correct(self) -> bool:
        """True when every claim was judged, and is right."""
        return not self.refused and all(verdict.correct for verdict in self.verdicts)

    @property
    def exit_code(self) -> int:
        """The worst of the claims (SPEC section 4): 2 when one was refused, 1 when one is
        wrong, else 0; graded against a key, 0 for full marks and 1 otherwise (an answer that
        cannot be checked earns no points, like a wrong one)."""
        if self.marks:
            earned, total = self.score
            return 0 if earned == total else 1
        return 2 if self.refused else 0 if self.correct else 1

    @property
    def entries(self) -> tuple[ClaimVerdict | RefusedClaim, ...]:
        """Every claim's verdict or refusal, in the order the claims were given."""
        verdicts = iter(self.verdicts)
        refused = {entry.order: entry for entry in self.refused}
        total = len(self.verdicts) + len(self.refused)
        return tuple(refused[i] if i in refused else next(verdicts) for i in range(total))

    @property
    def _first_finding(self) -> ClaimVerdict:
        """The first wrong verdict, or the first verdict when all are right."""
        return next((v for v in self.verdicts if not v.correct), self.verdicts[0])

    @property
    def reason(self) -> Reason:
        """``ok``, ``shape`` or ``values``: of the only claim, or of the first wrong one."""
        return self._first_finding.reason

    @property
    def hint(self) -> str | None:
        """The hint for the only claim, or for the first wrong one."""
        return self._first_finding.hint

    @property
    def counterexample(self) -> Counterexample | None:
        """The counterexample for the only claim, or for the first wrong one."""
        return self._first_finding.counterexample

    # Views, each the same text as `matgrad check` with the same options; renderers are
    # imported on first use.

    def to_text(self, *, width: int = 80) -> str:
        """The terminal view, as `matgrad check` prints it when piped."""
        return bridge.render(self, "text", width=width)

    def to_latex(self, *, standalone: bool = False) -> str:
        """The report as LaTeX, as `matgrad check --format latex` prints it."""
        return bridge.render(self, "latex", standalone=standalone)

    def to_markdown(self) -> str:
        """The report as Markdown, as `matgrad check --format markdown` prints it."""
        return bridge.render(self, "markdown")
