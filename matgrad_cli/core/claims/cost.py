"""What checking a claim costs, estimated from its tree and the sizes before any arithmetic, and
what the meter (meter.py) counts against.

The unit is one *operation*: one term of an entry once multiplied out, times its degree plus one.
An entry of X @ Y has at most inner × terms(X) × terms(Y) terms, of degree deg(X) + deg(Y), so
bounding every node of the claim bottom-up bounds the expansion that evaluating it performs, and
the comparison with the right answer after it. Under the softmax, a term costs more to compare,
and where the quick test cannot tell, the complete one works over a common denominator, a sum
of n exponentials for each row of G involved, which multiplies the terms by n for every such
factor it adds. At integers (the counterexamples, and the first test of each repair) numbers
are multiplied, TRIAL_DISCOUNT times cheaper.

The judge refuses, before any arithmetic, a claim whose numbers would grow past MAX_DIGITS and
claims whose estimates add up to more than BUDGET. As the work goes on, the Meter counts what is
actually spent, measured on the values built (evaluation.py); the estimate bounds it, and the
search for a hint stops where its share ends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from typing import Literal, assert_never

from ..layer import Sizes
from ..losses import loss_named
from . import tree
from .meter import (
    BUDGET,
    CheckTooCostly,
    Measure,
    Meter,
    amount,
    compared_operations,
    comparison_operations,
    measure,
)
from .meter import capped as _capped
from .shapes import held_as, operand_shape, resolve
from .tree import OUTPUT, Node, flat_parts, subtrees

__all__ = [
    "BUDGET",
    "CLAIM_OVERHEAD",
    "MAX_DIGITS",
    "NODE_OVERHEAD",
    "TRIALS",
    "CheckTooCostly",
    "ClaimCost",
    "Measure",
    "Meter",
    "SizeCost",
    "amount",
    "claim_cost",
    "compared_operations",
    "measure",
    "node_operations",
    "repairs_bound",
    "size_cost",
]

#: What every claim costs besides arithmetic (parsing, shapes, its verdict and report), and each
#: node of it at each size (the shapes of the claim and of its repairs).
CLAIM_OVERHEAD = 60
NODE_OVERHEAD = 1
#: How many times cheaper an operation on numbers is than on symbols.
TRIAL_DISCOUNT = 16
#: The most decimal digits a number in a claim's value or counterexample may have.
MAX_DIGITS = 1_000
#: The counterexample search draws at most this many integer trials (answers.py draws them).
TRIALS = 50
#: The candidates a wrong claim is tried as in other conventions (conventions.py): its
#: transpose, itself read with the other samples, and that one's transpose.
RECOGNITION_TRIES = 3


# --- bounds on a claim's entries ------------------------------------------------------------


#: Which rows of G (so which softmax denominators) an entry (i, j) involves: row i, row j, or
#: all of them; at most two, or m.
GRows = frozenset[Literal["i", "j", "all"]]
_NO_ROWS: GRows = frozenset()


def _g_rows_mapped(rows: GRows, i: Literal["i", "all"], j: Literal["j", "all"]) -> GRows:
    """``rows`` of an entry (r, c) read where r is ``i`` and c is ``j`` (or runs over all)."""
    return frozenset(i if index == "i" else j if index == "j" else "all" for index in rows)


def _g_rows_transposed(rows: GRows) -> GRows:
    return frozenset("j" if index == "i" else "i" if index == "j" else "all" for index in rows)


def g_rows_count(rows: GRows, m: int) -> int:
    """How many rows of G: m when all of them, else one for row i, one for row j."""
    return m if "all" in rows else min(m, len(rows))


@dataclass(frozen=True)
class Bound:
    """Upper bounds for every entry of a node's value at one size: its terms once multiplied out,
    their degree (factors per term) and how many of those factors are softmax denominators, the
    rows of G involved; and, for its numbers, a power of ten ``places`` that each denominator
    divides and log10 of the numerator over it (operands being a trial's integers)."""

    rows: int
    cols: int
    terms: int
    degree: int
    denominators: int
    numerator: float
    places: int
    number: bool = False
    g_rows: GRows = _NO_ROWS
    #: Whether a denominator may be other than a power of ten (after a division by 3, or by m):
    #: then a sum's denominators multiply, rather than the larger dividing the other.
    fractional: bool = False

    @property
    def entries(self) -> int:
        return self.rows * self.cols

    @property
    def digits(self) -> int:
        """Decimal digits of the largest numerator or denominator."""
        return math.floor(max(self.numerator, self.places)) + 1


def node_operations(entries: int, terms: int, degree: int, products: int) -> int:
    """The operations of building one node's value: its entries' terms, times degree plus one,
    and the products of entries of a matrix product; numbers (degree 0) at TRIAL_DISCOUNT."""
    if degree == 0:
        return _capped(1 + (entries * terms + products) // TRIAL_DISCOUNT)
    return _capped(entries * terms * (degree + 1) + products)


def _operand(name: str, sizes: Sizes, loss: str) -> Bound:
    """Z, W, b and Y are symbols (a trial's integers are at most 3); G is one too under the
    generic loss, and under a concrete loss its ∂L/∂A with A = ZW + 1_m b put in: constant (the
    sum), A − Y, k + 2 terms of degree 2 (the squared error), or Σ_q y_iq · e_ij / S_i − y_ij,
    n + 1 terms with one softmax denominator S_i (the softmax)."""
    rows, cols = operand_shape(name, sizes)
    definition = loss_named(loss)
    symbol = Bound(rows, cols, 1, 1, 0, math.log10(3), 0)
    if name == OUTPUT:
        # Σ_r z_ir w_rj + b_j: k + 1 terms of degree 2, at most 9k + 3 at a trial's integers.
        return replace(symbol, terms=sizes.k + 1, degree=2, numerator=math.log10(9 * sizes.k + 3))
    if name != "G" or not definition.concrete:
        return symbol
    if getattr(definition, "constant_gradient", False):
        return replace(symbol, degree=0, numerator=0.0)
    if definition.polynomial:
        # |Σ_r z w + b − y| ≤ 9k + 6 at integers from −3 to 3.
        return replace(symbol, terms=sizes.k + 2, degree=2, numerator=math.log10(9 * sizes.k + 6))
    # A sample's denominator: row i of G, or column j with samples as columns.
    sample: GRows = frozenset({"j" if sizes.samples == "columns" else "i"})
    return replace(symbol, terms=sizes.n + 1, degree=3, denominators=1, g_rows=sample)


def _number(value: Fraction) -> Bound:
    places, denominator = 0, value.denominator
    while denominator != 1:  # a decimal's denominator divides a power of ten
        places += 1
        denominator //= math.gcd(denominator, 10)
    numerator = abs(value.numerator) * 10**places // value.denominator
    return Bound(1, 1, 1, 0, 0, math.log10(numerator) if numerator else 0.0, places, True)


def _product(a: Bound, b: Bound, rows: int, cols: int, inner: int, g_rows: GRows) -> Bound:
    """Each entry a sum of ``inner`` products of an entry of ``a`` and one of ``b``."""
    return Bound(
        rows,
        cols,
        _capped(inner * a.terms * b.terms),
        a.degree + b.degree,
        a.denominators + b.denominators,
        a.numerator + b.numerator + math.log10(inner),
        a.places + b.places,
        a.number and b.number,
        g_rows,
        a.fractional or b.fractional,
    )


def _reciprocal(b: Bound) -> Bound:
    """1/x for a number x of the bound ``b``: its denominator becomes the numerator."""
    return replace(
        b, numerator=float(b.places), places=math.floor(b.numerator) + 1, fractional=True
    )


def _divided(a: Bound, count: int) -> Bound:
    """``a`` divided by a whole number ``count`` (a mean)."""
    return replace(a, places=a.places + len(str(count)), fractional=True)


def _stretched(a: Bound, b: Bound, columns: bool) -> GRows:
    """The rows of G an entry of ``a`` involves once ``a`` is stretched to ``b``'s shape: a 1×c
    row repeated down the rows (its row of G, a fixed one, counted as any), or with samples as
    ``columns`` an r×1 column across the columns."""
    if a.rows == 1 < b.rows:
        return _g_rows_mapped(a.g_rows, "all", "j")
    if columns and a.cols == 1 < b.cols:
        return _g_rows_mapped(a.g_rows, "i", "all")
    return a.g_rows


def _sum(a: Bound, b: Bound, columns: bool = False) -> Bound:
    """Entry by entry, a 1×c row repeated down the rows of the other side, or with samples as
    ``columns`` an r×1 column across its columns."""
    fractional = a.fractional or b.fractional
    places = a.places + b.places if fractional else max(a.places, b.places)
    numerator = max(a.numerator + places - a.places, b.numerator + places - b.places)
    g_a, g_b = _stretched(a, b, columns), _stretched(b, a, columns)
    return Bound(
        max(a.rows, b.rows),
        max(a.cols, b.cols),
        _capped(a.terms + b.terms),
        max(a.degree, b.degree),
        max(a.denominators, b.denominators),
        numerator + math.log10(2),
        places,
        a.number and b.number,
        g_a | g_b,
        fractional,
    )


class _Misfit(Exception):
    """The shapes of a claim do not fit at a size, so it is not evaluated there."""


def _addable(a: Bound, b: Bound, columns: bool = False) -> bool:
    """Two numbers, equal shapes, or a 1×c row and an r×c matrix (the rule of shapes.py); with
    samples as ``columns``, an r×1 column and an r×c matrix."""
    if a.number or b.number:
        return a.number and b.number
    if columns:
        return a.rows == b.rows and (a.cols == b.cols or 1 in (a.cols, b.cols))
    return (a.rows, a.cols) == (b.rows, b.cols) or (a.cols == b.cols and 1 in (a.rows, b.rows))


class _Estimator:
    """Bounds every node bottom-up at one size, adding up the operations of building each node's
    value symbolically (``work``) and at integers (``trial_work``). Where the shapes do not fit
    it raises _Misfit, or, ``relaxed``, goes on as if they did, the larger size winning: what
    a repair of the claim that makes them fit may cost."""

    def __init__(self, sizes: Sizes, loss: str, root: Node, relaxed: bool = False) -> None:
        self._sizes = sizes
        self._loss = loss
        self._relaxed = relaxed
        self._flat = flat_parts(root)
        self.work = 0
        self.trial_work = 0
        self.nodes = 0

    def bound(self, node: Node) -> Bound:
        result, products = self._bound(node)
        self.nodes += 1
        work = node_operations(result.entries, result.terms, result.degree, products)
        self.work = _capped(self.work + work)
        self.trial_work = _capped(self.trial_work + node_operations(result.entries, 1, 0, products))
        return result

    def _bound(self, node: Node) -> tuple[Bound, int]:
        """The node's bound, and the products of entries that building it takes."""
        match node:
            case tree.Name(name=name):
                return _operand(name, self._sizes, self._loss), 0
            case tree.Number(value=value):
                return _number(value), 0
            case tree.Size(name=name):
                return _number(Fraction(self._sizes.size(name))), 0
            case tree.Ones(rows=rows, cols=cols):
                shape = resolve(rows, self._sizes), resolve(cols, self._sizes)
                return Bound(*shape, 1, 0, 0, 0.0, 0), 0
            case tree.Softmax():
                # G + Y under the softmax loss: G's n + 1 terms and y_ij.
                upstream = _operand("G", self._sizes, self._loss)
                return replace(upstream, terms=upstream.terms + 1), upstream.entries
            case tree.SumAxis(arg=arg, axis=axis, mean=mean):
                inner = self.bound(arg)
                if id(arg) in self._flat:
                    axis = 1  # a 1-D array, held as a row, adds up along it
                summed = self._summed(inner, axis)
                if not node.keepdims and summed.cols == 1 < summed.rows:
                    g_rows = _g_rows_transposed(summed.g_rows)
                    summed = replace(summed, rows=1, cols=summed.rows, g_rows=g_rows)
                count = inner.rows if axis == 0 else inner.cols
                return (_divided(summed, count) if mean else summed), inner.entries
            case tree.Transpose(arg=arg):
                inner = self.bound(arg)
                if id(arg) in self._flat:
                    return inner, 0
                g_rows = _g_rows_transposed(inner.g_rows)
                return replace(inner, rows=inner.cols, cols=inner.rows, g_rows=g_rows), 0
            case tree.Neg(arg=arg):
                return self.bound(arg), 0
            case tree.OnesLike(arg=arg):
                inner = self.bound(arg)
                return Bound(inner.rows, inner.cols, 1, 0, 0, 0.0, 0), 0
            case tree.Applied() | tree.Positive():
                raise ValueError("a network's claim is weighed by network_cost.py")
            case tree.MatMul(left=left, right=right):
                a, b = self.bound(left), self.bound(right)
                if id(right) in self._flat and not b.number:
                    column = replace(b, rows=b.cols, cols=1, g_rows=_g_rows_transposed(b.g_rows))
                    product, products = self._matmul(a, column)
                    return replace(product, rows=1, cols=product.rows), products
                return self._matmul(a, b)
            case tree.ScalarMul(left=left, right=right):
                return self._scaled(self.bound(left), self.bound(right))
            case tree.Hadamard(left=left, right=right):
                return self._elementwise(self.bound(left), self.bound(right))
            case tree.Div(left=left, right=right):
                a, b = self.bound(left), self.bound(right)
                if not b.number:
                    self._misfit()
                return self._scaled(a, _reciprocal(b) if b.number else b)
            case tree.Add(left=left, right=right) | tree.Sub(left=left, right=right):
                return self._added(self.bound(left), self.bound(right)), 0
            case _:
                assert_never(node)

    def _added(self, a: Bound, b: Bound) -> Bound:
        """``a + b`` or ``a - b``, with the layer's broadcast of the bias (a row, or a column)."""
        columns = self._sizes.samples == "columns"
        if not _addable(a, b, columns):
            self._misfit()
        return _sum(a, b, columns)

    def _elementwise(self, a: Bound, b: Bound) -> tuple[Bound, int]:
        """Entry by entry, numpy's broadcasting stretching a side of 1 row or column."""
        if a.number or b.number:
            return self._scaled(a, b)
        if not all(x == y or 1 in (x, y) for x, y in ((a.rows, b.rows), (a.cols, b.cols))):
            self._misfit()
        rows, cols = max(a.rows, b.rows), max(a.cols, b.cols)
        return _product(a, b, rows, cols, 1, a.g_rows | b.g_rows), rows * cols

    def _misfit(self) -> None:
        if not self._relaxed:
            raise _Misfit

    def _scaled(self, a: Bound, b: Bound) -> tuple[Bound, int]:
        """``c * X``; relaxed, two matrices multiply entry by entry."""
        if not (a.number or b.number):
            self._misfit()
        rows, cols = max(a.rows, b.rows), max(a.cols, b.cols)
        return _product(a, b, rows, cols, 1, a.g_rows | b.g_rows), rows * cols

    def _summed(self, inner: Bound, axis: int) -> Bound:
        """``sum(X, axis)``: the rows (axis 0) or the columns (axis 1) of X added up."""
        if inner.number:
            self._misfit()
        if axis == 0:  # entry (1, j) adds up column j
            count, rows, cols = inner.rows, 1, inner.cols
            g_rows = _g_rows_mapped(inner.g_rows, "all", "j")
        else:
            count, rows, cols = inner.cols, inner.rows, 1
            g_rows = _g_rows_mapped(inner.g_rows, "i", "all")
        return replace(
            inner,
            rows=rows,
            cols=cols,
            terms=_capped(inner.terms * count),
            numerator=inner.numerator + math.log10(count),
            g_rows=g_rows,
        )

    def _matmul(self, a: Bound, b: Bound) -> tuple[Bound, int]:
        if a.number or b.number:
            self._misfit()
            return self._scaled(a, b)
        if a.cols != b.rows:
            self._misfit()
            inner = max(a.cols, b.rows)
            a, b = replace(a, cols=inner), replace(b, rows=inner)
        # Entry (i, j) adds up a_il b_lj over l.
        g_rows = _g_rows_mapped(a.g_rows, "i", "all") | _g_rows_mapped(b.g_rows, "all", "j")
        return _product(a, b, a.rows, b.cols, a.cols, g_rows), a.rows * a.cols * b.cols


# --- what a claim costs ---------------------------------------------------------------------


@dataclass(frozen=True)
class SizeCost:
    """A claim at one size: whether its shapes fit (and give the gradient's); the operations of
    one symbolic check (its evaluation, then the comparison with the right answer, completely
    where the quick test cannot tell); of one where the quick test tells, of the claim or of a
    repair that makes the shapes fit (``relaxed``); of one evaluation at integers; the digits
    its numbers may reach, and the terms and degree of its entries."""

    fits: bool
    symbolic: int
    relaxed: int
    trial: int
    digits: int
    terms: int
    degree: int


@lru_cache(maxsize=64)
def _bound_of(expected: Node, sizes: Sizes, loss: str) -> Bound:
    """The bound of a right answer, the same for every claim about its gradient."""
    return _Estimator(sizes, loss, expected).bound(expected)


def size_cost(expr: Node, expected: Node, sizes: Sizes, loss: str) -> SizeCost:
    """The cost of checking ``expr`` against the right answer ``expected`` at ``sizes``."""
    right = _bound_of(expected, sizes, loss)
    estimator = _Estimator(sizes, loss, expr)
    try:
        claimed = estimator.bound(expr)
        shape = held_as(expr, (claimed.rows, claimed.cols), sizes.samples)
        fits = shape == (right.rows, right.cols)
    except _Misfit:
        estimator = _Estimator(sizes, loss, expr, relaxed=True)
        claimed, fits = estimator.bound(expr), False
    rows = g_rows_count(claimed.g_rows | right.g_rows, sizes.m)
    denominators = max(claimed.denominators, right.denominators)
    degree = max(claimed.degree, right.degree)
    entries = right.entries
    quick, complete = comparison_operations(
        entries, claimed.terms + right.terms, degree, rows, denominators, sizes.n
    )
    overhead = estimator.nodes * NODE_OVERHEAD
    relaxed = estimator.work + quick + overhead
    trial = estimator.trial_work + entries + overhead
    return SizeCost(
        fits,
        relaxed + complete if fits else 0,
        relaxed,
        trial if fits else overhead,
        claimed.digits,
        claimed.terms,
        claimed.degree,
    )


def repairs_bound(expr: Node) -> int:
    """How many one-step repairs the search for a hint may try (the rules of repairs.py): one
    per node and kind of slip at most, two for each + or −, and the scaled claim."""
    nodes = sums = 0
    for _, node in subtrees(expr):
        nodes += 1
        sums += isinstance(node, tree.Add | tree.Sub)
    return 6 + 2 * nodes + 3 * sums


@dataclass(frozen=True)
class ClaimCost:
    """The operations checking one claim may take: its symbolic checks at every size, the share
    of its search for a hint and of its counterexample; and the most digits its numbers reach."""

    symbolic: int
    hints: int
    counterexample: int
    digits: int
    #: Where the claim's entries have the most terms: the sizes, the terms and their degree.
    largest: tuple[Sizes, int, int]
    #: The share of the search for another convention the claim is right in (conventions.py):
    #: RECOGNITION_TRIES candidates at integers, and one symbolic check.
    recognition: int = 0

    @property
    def operations(self) -> int:
        return CLAIM_OVERHEAD + self.symbolic + self.hints + self.recognition + self.counterexample


def claim_cost(
    expr: Node, expected: Node, sizes_list: Sequence[Sizes], loss: str, hinted: bool
) -> ClaimCost:
    """What checking ``expr`` may cost at every size in ``sizes_list``, before any arithmetic.

    A claim whose shapes do not fit at some size is never evaluated, only its repairs are. Each
    repair is tried at integers first, and one that passes there is checked symbolically, as
    is a scaled answer: the share of the hint search affords one such check, of up to twice
    the claim's own (a repair wraps the claim, or changes one part of it). ``hinted`` is False
    for a claim too large for a hint search.
    """
    costs = [size_cost(expr, expected, sizes, loss) for sizes in sizes_list]
    fits = all(cost.fits for cost in costs)
    symbolic = sum(cost.symbolic for cost in costs) if fits else 0
    relaxed = sum(cost.relaxed for cost in costs)
    trial = sum(cost.trial for cost in costs)
    repairs = repairs_bound(expr) if hinted else 0
    hints = repairs * trial + 2 * relaxed if repairs else 0
    # The candidates wrap the claim, or read it again with the same operands: one symbolic check
    # of one of them costs about the claim's own, made to fit, and a transpose more.
    recognition = RECOGNITION_TRIES * trial + relaxed + relaxed // 2 if repairs else 0
    counterexample = 0
    if loss_named(loss).polynomial and fits:
        counterexample = TRIALS * max(cost.trial for cost in costs)
    largest = max(
        ((sizes, cost.terms, cost.degree) for sizes, cost in zip(sizes_list, costs, strict=True)),
        key=lambda item: item[1] * (item[2] + 1),
    )
    digits = max(cost.digits for cost in costs)
    return ClaimCost(symbolic, hints, counterexample, digits, largest, recognition)
