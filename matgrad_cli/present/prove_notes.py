"""The vocabulary of a proof's story: words and mathematical objects, never their notation.

A ``Note`` is a sequence of parts. A ``str`` part is words; every other part is mathematics: a
SymPy expression (an index, an entry, a condition, a Kronecker delta) or one of the small objects
below, each named after what it states. prove_story.py tells each step in notes, and
prove_notation.py prints each kind of part in LaTeX and in plain text, so the proof is told once
and written in both notations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.proof_setting import Claim


@dataclass(frozen=True)
class Note:
    """A description or a reason: words (``str``) and mathematics (any other part), in order."""

    parts: tuple[Any, ...] = ()

    def __add__(self, other: Note) -> Note:
        return Note(self.parts + other.parts)

    def __bool__(self) -> bool:
        return bool(self.parts)


def note(*parts: Any) -> Note:
    """A Note of these parts, leaving out empty words."""
    return Note(tuple(part for part in parts if not (isinstance(part, str) and not part)))


@dataclass(frozen=True)
class LayerEquation:
    """The layer's definition, A = ZW + 1ₘb, or A = ZW without the bias."""

    bias: bool


@dataclass(frozen=True)
class Partial:
    """∂of/∂wrt: a fraction on the left of an equation, slashed in running text."""

    of: Any
    wrt: Any


@dataclass(frozen=True)
class Equation:
    """lhs = rhs, as stated (nothing is evaluated)."""

    lhs: Any
    rhs: Any


@dataclass(frozen=True)
class SymPyCall:
    """A call of a SymPy function, such as diff(a_{p,q}, z_{i,r})."""

    name: str
    arguments: tuple[Any, ...]


@dataclass(frozen=True)
class ChainRule:
    """The chain rule through every entry of A: ∂L/∂x = Σ_{p,q} ∂L/∂a_{p,q} · ∂a_{p,q}/∂x."""

    entry: Any
    upstream: Any
    output: Any


@dataclass(frozen=True)
class IndexRanges:
    """1 ≤ i ≤ m, 1 ≤ r ≤ k: each index with its upper bound."""

    ranges: tuple[tuple[Any, Any], ...]


@dataclass(frozen=True)
class EntryIndex:
    """Where an entry sits: (i, r), or j alone."""

    indices: tuple[Any, ...]


@dataclass(frozen=True)
class Shape:
    """The shape of a matrix, m × k."""

    sizes: tuple[Any, ...]


@dataclass(frozen=True)
class Assignments:
    """Values given to symbols, m = 2, k = 3, n = 4."""

    values: tuple[tuple[Any, int], ...]


@dataclass(frozen=True)
class ClaimedForm:
    """The claimed right side as its claim writes it in a sentence."""

    claim: Claim


@dataclass(frozen=True)
class ClaimedEntry:
    """The entry of the claimed matrix at the free indices, (∂L/∂A · Wᵀ)_{i,r}."""

    claim: Claim
    indices: tuple[Any, ...]


@dataclass(frozen=True)
class Unknown:
    """The right side of a step the CAS could not carry out."""
