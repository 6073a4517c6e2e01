"""What a run of ``matgrad check`` spends, and may spend: the budget, the meter that counts the
operations as the evaluator and the comparisons report them, and what a value built costs,
measured on its SymPy tree. The estimates that bound it are cost.py's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ...errors import InputError

#: Operations one run of check may spend on its claims, together. Measured, a run takes at most
#: some 10 µs an estimated operation (4 s here), and spends under half its estimate, at some
#: 30 µs an operation spent; the layer's own derivation, bounded by the sizes, comes on top.
#: A single claim over it is refused on its own.
BUDGET = 400_000
#: How many times costlier comparing a term with softmax denominators is (measured): quickly,
#: and completely, over a common denominator.
QUICK_WEIGHT = 3
SOFTMAX_WEIGHT = 8
#: Counts stop growing here: far over any budget, and short enough to print.
CEILING = 10**30


def capped(count: int) -> int:
    """``count``, or CEILING when it is larger."""
    return min(count, CEILING)


def amount(count: int) -> str:
    """A count for a message: ``123,456``, or ``10^31`` once it is that large."""
    return f"{count:,}" if count < 10**12 else f"10^{len(str(count)) - 1}"


class CheckTooCostly(InputError):
    """Claims whose estimated cost is over the budget, or whose numbers would be too long to
    print: refused before any arithmetic. ``source`` is the claim, or None for a whole run."""

    def __init__(self, message: str, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source


def comparison_operations(
    entries: int, terms: int, degree: int, rows: int, denominators: int, n: int
) -> tuple[int, int]:
    """The operations of comparing ``entries`` entries of ``terms`` terms in all (both sides):
    quickly, and completely where the quick test cannot tell (equality.py).

    Without softmax denominators the quick test decides. With them (up to ``denominators`` a
    term, from ``rows`` rows of G) it costs QUICK_WEIGHT times more a term, and the complete
    test, over a common denominator whose other rows' sums of n exponentials multiply into
    every term, SOFTMAX_WEIGHT times more, and more again with each row (measured: about four
    times at m = 4, n = 3 for one denominator a term).
    """
    operations = capped(entries * terms * (degree + 1))
    if denominators == 0:
        return operations, 0
    exponent = (rows - 1) * denominators
    spread = CEILING if exponent * math.log10(n) > 30 else int(n**exponent)
    complete = capped(operations * (SOFTMAX_WEIGHT + 3 * spread // 2))
    return capped(operations * QUICK_WEIGHT), complete


# --- what a value costs, measured -----------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """An expression's terms once multiplied out, their degree (the most factors of a term), the
    most softmax denominators of a term, and the distinct denominators."""

    terms: int
    degree: int
    denominators: int = 0
    bases: frozenset[Any] = frozenset()


_NUMBER = Measure(1, 0)
_SYMBOL = Measure(1, 1)


def measure(expr: Any, memo: dict[Any, Measure]) -> Measure:
    """What the estimate bounds, read off a SymPy expression's tree without expanding it;
    ``memo`` keeps the parts that a claim's entries share counted once."""
    known = memo.get(expr)
    if known is not None:
        return known
    if expr.is_Add or expr.is_Mul:
        parts = [measure(arg, memo) for arg in expr.args]
        bases = frozenset().union(*(part.bases for part in parts))
        if expr.is_Add:
            result = Measure(
                sum(part.terms for part in parts),
                max(part.degree for part in parts),
                max(part.denominators for part in parts),
                bases,
            )
        else:
            result = Measure(
                capped(math.prod(part.terms for part in parts)),
                sum(part.degree for part in parts),
                sum(part.denominators for part in parts),
                bases,
            )
    elif expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        base, power = measure(expr.base, memo), int(expr.exp)
        result = Measure(
            capped(base.terms**power), base.degree * power, base.denominators * power, base.bases
        )
    elif expr.is_Pow and expr.exp.is_Integer:
        # 1/S for S a sum of exponentials: one factor that a common denominator takes out.
        result = Measure(1, 1, -int(expr.exp), frozenset({expr.base}))
    else:
        result = _NUMBER if expr.is_Number else _SYMBOL
    memo[expr] = result
    return result


def compared_operations(left: Any, right: Any, n: int, memo: dict[Any, Measure]) -> tuple[int, int]:
    """The operations of comparing two entries, quickly and completely, measured on them."""
    a, b = measure(left, memo), measure(right, memo)
    rows, denominators = len(a.bases | b.bases), max(a.denominators, b.denominators)
    degree = max(a.degree, b.degree)
    return comparison_operations(1, a.terms + b.terms, degree, rows, denominators, n)


# --- the meter ------------------------------------------------------------------------------


class Meter:
    """Counts the operations a run of check spends, as the evaluator and the comparisons report
    them; ``budget`` is the most the run may spend. A share (the search for a hint) is a part of
    the budget a search may use: it asks ``affords`` before each step, and stops when not."""

    def __init__(self, budget: int = BUDGET) -> None:
        self.budget = budget
        self.spent = 0
        self._ceiling = budget

    def charge(self, operations: int) -> None:
        """Count ``operations`` as spent. Spending past the budget would mean that an estimate
        was wrong; it is refused rather than run on."""
        self.spent += operations
        if self.spent > self.budget:
            raise CheckTooCostly(
                f"checking these claims took more than the budget of {self.budget:,} operations; "
                "check fewer claims at a time, or at smaller --m/--k/--n"
            )

    def affords(self, operations: int) -> bool:
        """Whether ``operations`` more fit in the current share."""
        return self.spent + operations <= self._ceiling

    @contextmanager
    def share(self, operations: int) -> Iterator[None]:
        """At most ``operations`` more may be spent inside the block, as ``affords`` tells."""
        outer = self._ceiling
        self._ceiling = min(outer, self.spent + operations)
        try:
            yield
        finally:
            self._ceiling = outer
