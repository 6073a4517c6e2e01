"""Why a claim found right at the sizes checked is right at every size, and the sizes that show it.

A claim is compared with the right answer at a few small sizes, where its report is easy to read.
That alone proves nothing about other sizes: ``ones(1, m) @ ones(m, 1)`` is the 1×1 matrix [[m]],
so a claim may add (m − 2)(m − 3)(m − 4) times anything to a right answer and be right at m = 2,
3 and 4 only. So a claim right at the small sizes is compared once more, at the *general sizes*
chosen here. The argument that this suffices (docs/claims.md, "Right at every size"):

1. *Polynomials.* Take the difference F = claim − right answer, with Z, W, b, Y (and G under the
   generic loss) as free symbols. Under the sum loss G is the matrix of ones and under the
   squared error ZW + 1_m b − Y. Under the softmax, G = diag(Y1)·σ − Y, where the exponentials
   of the distinct linear forms a_{i,j} are algebraically independent (Ax's theorem), so the
   only relation among the σ_{i,j} is that each row sums to 1: F vanishes for every Z, W, b, Y
   exactly when it vanishes with σ = U − (U1 − 1)1ᵀ/n for a free matrix U. In each case, after
   multiplying by a power of the sizes (1/n here, a division by a size in a claim), every entry
   of F is a polynomial in free symbols whose coefficients are polynomials in m, k and n.
2. *Symmetry.* Nothing in the claim language refers to one row or column: permuting the rows of
   every m-sized side (and so for k and n) permutes the entries of F the same way. So the
   coefficient of a monomial in entry (i, j) depends only on the pattern of equal indices in
   the monomial and (i, j): a polynomial p(m, k, n), the same at every size at which that
   pattern has room. A monomial has at most one index of each size per factor (Z is m×k, W k×n,
   G, Y and U m×n, b 1×n), so with d factors a pattern uses at most d + 1 distinct values of
   each size, the entry's own index included: every pattern has room once m, k, n ≥ d + 1.
3. *Degree.* A coefficient grows with the sizes only where an index runs over its whole range
   without touching a factor: an inner index of ``@`` that neither side ties to an operand (as
   in ``ones(1, m) @ ones(m, 1)``), a ``sum`` over such an index, or a size written as a number.
   Counting them bottom-up on the tree (``size_dependence``) bounds the degree of p in each of
   m, k and n, for the claim and the right answer alike (∂L/∂b = 1ᵀG is m·b_j + … under the
   squared error).
4. *Interpolation.* A polynomial of degree at most D_m in m, D_k in k and D_n in n that vanishes
   on a grid of D_m + 1 values of m times D_k + 1 of k times D_n + 1 of n is zero. So the claim
   is compared on such a grid (``general_sizes``), every value at least d + 1 and at least
   GENERAL_BASE, m, k and n taken from disjoint progressions so that they always differ.
5. *Comparison.* At each general size the claim and the backward rule (G·Wᵀ, Zᵀ·G, 1ᵀ·G, with G
   as above, differentiated from the loss's own L by the CAS) are evaluated exactly at DRAWS
   points of DRAW_BITS-bit integers drawn afresh on every run: a nonzero polynomial of degree d
   vanishes at one with probability at most d / 2^DRAW_BITS (Schwartz–Zippel), and no claim can
   be written for points it cannot know. The small sizes verify the backward rule against the
   elementwise chain rule, and ``matgrad prove`` proves it at every size.
"""

from __future__ import annotations

import functools
import itertools
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from typing import Any, assert_never

from ..layer import Samples, Sizes
from ..losses import loss_named
from . import tree
from .tree import INPUTS, LOSS_TARGETS, OUTPUT, UPSTREAM, Dim, Node
from .verdict import Counterexample, NumberMatrix

#: The smallest general size: every dimension at least 5, so a slip that vanishes at 2, 3 and 4
#: (the small sizes) shows.
GENERAL_BASE = 5
#: m, k and n of the general sizes step by this much from GENERAL_BASE, GENERAL_BASE + 1 and
#: GENERAL_BASE + 2, so that they never coincide.
GENERAL_STEP = 3
_SIZE_NAMES: tuple[str, str, str] = ("m", "k", "n")

Degrees = tuple[int, int, int]
_ZERO: Degrees = (0, 0, 0)
#: A dimension of a part: a literal, a size, or None where it is not followed (a 1-D part):
#: growth there counts in every size.
Side = Dim | None


def _add(left: Degrees, right: Degrees) -> Degrees:
    return (left[0] + right[0], left[1] + right[1], left[2] + right[2])


def _most(left: Degrees, right: Degrees) -> Degrees:
    return (max(left[0], right[0]), max(left[1], right[1]), max(left[2], right[2]))


def _unit(dim: Side) -> Degrees:
    """One more power of the size ``dim``: none for a literal, every size for an unknown one."""
    if dim is None:
        return (1, 1, 1)
    if isinstance(dim, int):
        return _ZERO
    return (int(dim == "m"), int(dim == "k"), int(dim == "n"))


@dataclass(frozen=True)
class _Part:
    """Bounds for the entries of one node's value: its shape in sizes; whether every term ties
    the row (column) index to a factor; the degree in m, k, n of the coefficients' numerator
    and of their denominator, which is a power of the sizes (``pure``) or, after a division by
    a sum of sizes, any polynomial; the most factors (operand entries) in a monomial."""

    rows: Side
    cols: Side
    rows_tied: bool
    cols_tied: bool
    top: Degrees = _ZERO
    bottom: Degrees = _ZERO
    factors: int = 0
    number: bool = False
    pure: bool = True
    #: For a number: whether it is a monomial in the sizes (``2 * m``, not ``m + 1``).
    monomial: bool = True

    def transposed(self) -> _Part:
        return replace(
            self, rows=self.cols, cols=self.rows, rows_tied=self.cols_tied, cols_tied=self.rows_tied
        )


def _tied(dim: Side, tied: bool) -> bool:
    """An index of a literal size never grows with the sizes, so it counts as tied."""
    return tied or isinstance(dim, int)


def _matrix(rows: Side, cols: Side, rows_tied: bool, cols_tied: bool, **rest: Any) -> _Part:
    return _Part(rows, cols, _tied(rows, rows_tied), _tied(cols, cols_tied), **rest)


def _operand(name: str, loss: str, samples: Samples = "rows") -> _Part:
    """An operand as free symbols, and G (A, softmax(A)) as it is under ``loss`` (step 1). With
    samples as columns each operand is the transpose of its counterpart with samples as rows
    (X = Zᵀ, and W, b, A, G, Y likewise), and so is its bound."""
    if samples == "columns":
        return _operand(INPUTS["rows"] if name == INPUTS[samples] else name, loss).transposed()
    shapes: dict[str, tuple[Dim, Dim]] = {"Z": ("m", "k"), "W": ("k", "n"), "b": (1, "n")}
    rows, cols = shapes.get(name, ("m", "n"))
    if name == OUTPUT:
        # ZW + 1_m b: the term b_j leaves the row index free.
        return _matrix(rows, cols, False, True, factors=2)
    if name != "G" or loss == "generic":
        return _matrix(rows, cols, True, True, factors=1)
    definition = loss_named(loss)
    if getattr(definition, "constant_gradient", False):
        return _matrix(rows, cols, False, False)  # the matrix of ones
    if definition.polynomial:
        return _matrix(rows, cols, False, True, factors=2)  # ZW + 1_m b − Y
    # diag(Y1)(U − (U1 − 1)1ᵀ/n) − Y, times n: y·u terms, the column index free in (U1)1ᵀ.
    return _matrix(rows, cols, True, False, top=(0, 0, 1), bottom=(0, 0, 1), factors=2)


def _over(top: Degrees, own: Degrees, extra: Degrees) -> Degrees:
    return _add(top, _add(extra, tuple(-x for x in own)))  # type: ignore[arg-type]


def _common(left: _Part, right: _Part) -> tuple[Degrees, Degrees, bool]:
    """The numerator and denominator degrees of ``left`` and ``right`` over one denominator:
    the larger power of the sizes, or the product of two other polynomials."""
    pure = left.pure and right.pure
    bottom = _most(left.bottom, right.bottom) if pure else _add(left.bottom, right.bottom)
    if pure:
        top = _most(_over(left.top, left.bottom, bottom), _over(right.top, right.bottom, bottom))
    else:
        top = _most(_add(left.top, right.bottom), _add(right.top, left.bottom))
    return top, bottom, pure


def _sum(left: _Part, right: _Part, samples: Samples = "rows") -> _Part:
    """Entry by entry, a 1×c row repeated down the other side's rows (its row index free); with
    samples as columns, an r×1 column across the other side's columns (the transposed case)."""
    if samples == "columns":
        return _sum(left.transposed(), right.transposed()).transposed()
    top, bottom, pure = _common(left, right)
    rows = right.rows if left.rows == 1 else left.rows
    rows_tied = all(p.rows_tied and p.rows == rows for p in (left, right))
    cols_tied = left.cols_tied and right.cols_tied
    return replace(
        _matrix(rows, left.cols, rows_tied, cols_tied, top=top, bottom=bottom, pure=pure),
        factors=max(left.factors, right.factors),
        number=left.number and right.number,
        monomial=top == _ZERO,
    )


def _times(left: _Part, right: _Part, **shape: Any) -> _Part:
    """The numbers of a product: degrees and factors added."""
    return _Part(
        **shape,
        top=_add(left.top, right.top),
        bottom=_add(left.bottom, right.bottom),
        factors=left.factors + right.factors,
        number=left.number and right.number,
        pure=left.pure and right.pure,
        monomial=left.monomial and right.monomial,
    )


def _product(left: _Part, right: _Part, right_flat: bool) -> _Part:
    """``left @ right``: the inner index grows the coefficients when neither side ties it. A
    1-D right side is a column, and the result a row."""
    if left.number or right.number:
        return _scaled(left, right)
    inner_tied = right.cols_tied if right_flat else right.rows_tied
    grows = _unit(left.cols) if not (left.cols_tied or inner_tied) else _ZERO
    if right_flat:
        shape = {"rows": 1, "cols": left.rows, "rows_tied": True, "cols_tied": left.rows_tied}
    else:
        shape = {
            "rows": left.rows,
            "cols": right.cols,
            "rows_tied": left.rows_tied,
            "cols_tied": right.cols_tied,
        }
    product = _times(left, right, **shape)
    return replace(product, top=_add(product.top, grows))


def _scaled(left: _Part, right: _Part) -> _Part:
    """A number times a matrix, or two matrices entry by entry (an index tied by either side,
    unless that side is stretched along it)."""
    if left.number or right.number:
        matrix = right if left.number else left
        shape = {k: getattr(matrix, k) for k in ("rows", "cols", "rows_tied", "cols_tied")}
        return _times(left, right, **shape)
    rows = right.rows if left.rows == 1 else left.rows
    cols = right.cols if left.cols == 1 else left.cols
    rows_tied = any(p.rows_tied and p.rows == rows for p in (left, right))
    cols_tied = any(p.cols_tied and p.cols == cols for p in (left, right))
    return _times(
        left, right, rows=rows, cols=cols, rows_tied=_tied(rows, rows_tied), cols_tied=cols_tied
    )


def _divided(left: _Part, right: _Part) -> _Part:
    """``left / right`` for a number or size ``right``: its degrees move to the denominator."""
    return replace(
        left,
        top=_add(left.top, right.bottom),
        bottom=_add(left.bottom, right.top),
        pure=left.pure and right.pure and right.monomial,
        monomial=left.monomial and right.monomial,
    )


def _summed(part: _Part, axis: int, flat: bool, keepdims: bool, mean: bool) -> _Part:
    """``sum`` (or ``mean``) along ``axis``: the index summed grows the coefficients when no
    factor ties it, and a mean divides by its size. A 1-D part (a row) adds up its length; a
    sum along axis 1 without keepdims is 1-D, the row of the row sums."""
    shape: tuple[Side, Side, bool, bool]
    if flat:
        dim, tied, shape = part.cols, part.cols_tied, (1, 1, True, True)
    elif axis == 0:
        dim, tied, shape = part.rows, part.rows_tied, (1, part.cols, True, part.cols_tied)
    elif keepdims:
        dim, tied, shape = part.cols, part.cols_tied, (part.rows, 1, part.rows_tied, True)
    else:
        dim, tied, shape = part.cols, part.cols_tied, (1, part.rows, True, part.rows_tied)
    rows, cols, rows_tied, cols_tied = shape
    top = _add(part.top, _ZERO if tied else _unit(dim))
    bottom = _add(part.bottom, _unit(dim)) if mean else part.bottom
    return replace(
        _matrix(rows, cols, rows_tied, cols_tied, top=top, bottom=bottom, factors=part.factors),
        pure=part.pure,
    )


class _Bounds:
    """The bound of every node of one tree, bottom-up, under one loss."""

    def __init__(self, root: Node, loss: str, samples: Samples = "rows") -> None:
        self._flat = tree.flat_parts(root)
        self._loss = loss
        self._samples = samples

    def of(self, node: Node) -> _Part:
        match node:
            case tree.Name(name=name):
                return _operand(name, self._loss, self._samples)
            case tree.Number():
                return _Part(1, 1, True, True, number=True)
            case tree.Size(name=name):
                return _Part(1, 1, True, True, top=_unit(name), number=True)
            case tree.Ones(rows=rows, cols=cols):
                return _matrix(rows, cols, False, False)
            case tree.Softmax():
                # G + Y under the softmax: diag(Y1)·σ, times n (its transpose by columns).
                part = _matrix("m", "n", True, False, top=(0, 0, 1), bottom=(0, 0, 1), factors=2)
                return part.transposed() if self._samples == "columns" else part
            case tree.SumAxis(arg=arg, axis=axis, keepdims=keepdims, mean=mean):
                flat = id(arg) in self._flat
                return _summed(self.of(arg), axis, flat, keepdims, mean)
            case tree.Transpose(arg=arg):
                inner = self.of(arg)
                return inner if id(arg) in self._flat else inner.transposed()
            case tree.Neg(arg=arg):
                return self.of(arg)
            case tree.OnesLike(arg=arg):
                inner = self.of(arg)
                return _matrix(inner.rows, inner.cols, False, False)
            case tree.Applied() | tree.Positive():
                raise ValueError("a network's claim has no general sizes here")
            case tree.MatMul(left=left, right=right):
                return _product(self.of(left), self.of(right), id(right) in self._flat)
            case tree.ScalarMul(left=left, right=right) | tree.Hadamard(left=left, right=right):
                return _scaled(self.of(left), self.of(right))
            case tree.Div(left=left, right=right):
                return _divided(self.of(left), self.of(right))
            case tree.Add(left=left, right=right) | tree.Sub(left=left, right=right):
                return _sum(self.of(left), self.of(right), self._samples)
            case _:
                assert_never(node)


@dataclass(frozen=True)
class SizeDependence:
    """How claim − right answer may depend on the sizes: the degree in m, k and n of the
    coefficients (over a common power of the sizes), and the most factors in a monomial."""

    degrees: Degrees
    factors: int


def size_dependence(
    expr: Node, expected: Node, loss: str, samples: Samples = "rows"
) -> SizeDependence:
    """The bound of the module's step 3 for ``expr`` − ``expected`` under ``loss``, in the
    convention ``samples``."""
    claimed = _Bounds(expr, loss, samples).of(expr)
    right = _Bounds(expected, loss, samples).of(expected)
    degrees, _, _ = _common(claimed, right)
    return SizeDependence(degrees, max(claimed.factors, right.factors))


def general_sizes(dependence: SizeDependence, samples: Samples = "rows") -> tuple[Sizes, ...]:
    """The grid of the module's step 4: degree + 1 values of each size, each at least
    GENERAL_BASE and the factors + 1, m, k and n always distinct; the smallest first; in the
    convention ``samples``."""
    base = max(GENERAL_BASE, dependence.factors + 1)
    values = [
        [base + offset + GENERAL_STEP * step for step in range(degree + 1)]
        for offset, degree in enumerate(dependence.degrees)
    ]
    return tuple(Sizes(m, k, n, samples) for m, k, n in itertools.product(*values))


# --- the comparison at a general size -----------------------------------------------------------

#: Two draws of integers of DRAW_BITS bits each, fresh on every run (module step 5).
DRAWS = 2
DRAW_BITS = 62
#: The most general sizes one claim is compared at, and the largest value of m, k or n among
#: them: a claim whose dependence on the sizes needs more is refused as too costly.
GRID_LIMIT = 27
SIZE_LIMIT = 20
#: The most work the derivatives of a concrete loss's L at the general sizes may take, counted
#: as upstream_work counts it (about a second of the engine's time here).
UPSTREAM_LIMIT = 6_000


def upstream_work(sizes_list: tuple[Sizes, ...], loss: str) -> int:
    """The terms differentiated for ∂L/∂A at each distinct m×n of ``sizes_list``: m·n, and m·n²
    under the softmax, whose every term holds a row's n exponentials; none for the generic
    loss, whose G is free."""
    if loss == "generic":
        return 0
    spread = 1 if loss_named(loss).polynomial else 0
    return sum(m * n * (1 if spread else n) for m, n in {(s.m, s.n) for s in sizes_list})


@dataclass(frozen=True)
class Upstream:
    """∂L/∂A at one size as the CAS differentiates the loss's own L, in the symbols ``a`` of A,
    ``y`` of Y and, under the softmax, ``sigma`` (each row's last σ is 1 minus the others)."""

    a: Any
    y: Any
    sigma: Any
    gradient: Any
    #: The same entries as the engine holds them, with its engine: put numbers in them quickly.
    engine_entries: tuple[Any, ...] = ()
    engine: Any = None

    def at(self, values: dict[Any, int]) -> Any:
        """The gradient with integers (or exact numbers) put for its symbols, as SymPy."""
        import sympy

        if self.engine is None:
            return self.gradient.xreplace({k: sympy.Integer(v) for k, v in values.items()})
        put = {
            self.engine.from_sympy(k): self.engine.from_sympy(sympy.Integer(v))
            for k, v in values.items()
        }
        entries = [
            self.engine.to_sympy(self.engine.substitute(e, put)) for e in self.engine_entries
        ]
        return sympy.ImmutableMatrix(*self.gradient.shape, entries)


@lru_cache(maxsize=16)
def upstream(sizes: Sizes, loss: str) -> Upstream:
    """∂L/∂A of a concrete ``loss`` at ``sizes``: L differentiated entry by entry by the default
    engine (symengine when installed); under the softmax each e^{a_{i,q}} then becomes σ_{i,q},
    whose rows sum to 1."""
    import sympy

    from ..engine import get_engine

    m, n = sizes.m, sizes.n
    definition = loss_named(loss)
    engine = get_engine()
    a = _symbols(sympy, "a", m, n)
    y = _symbols(sympy, "y", m, n)
    gradient = _differentiated(engine, definition.expression(a, y), a)  # type: ignore[attr-defined]
    sigma = sympy.zeros(m, 0)
    if not definition.polynomial:
        sigma = _symbols(sympy, "sigma", m, n - 1) if n > 1 else sigma
        ratios = _softmax_ratios(sympy, a, sigma)
        # An entry of row i holds only that row's exponentials: put in only theirs.
        rows = [
            {
                engine.from_sympy(sympy.exp(a[i, q])): engine.from_sympy(ratios[sympy.exp(a[i, q])])
                for q in range(n)
            }
            for i in range(m)
        ]
        gradient = [
            engine.substitute(entry, rows[index // n]) for index, entry in enumerate(gradient)
        ]
    matrix = sympy.ImmutableMatrix(m, n, [engine.to_sympy(entry) for entry in gradient])
    if matrix.atoms(sympy.exp, sympy.log):
        raise RuntimeError(f"∂L/∂A of the {loss} loss is not a function of softmax(A)")
    return Upstream(a, y, sigma, matrix, tuple(gradient), engine)


def _differentiated(engine: Any, value: Any, a: Any) -> list[Any]:
    """∂value/∂a_{i,j} for every entry, by the engine: each term of the sum differentiated only
    by the entries of A it contains (a term of the softmax holds one row's n of them), so the
    work grows as m·n² rather than (m·n)²."""
    import sympy

    place = {symbol: index for index, symbol in enumerate(a)}
    parts: list[list[Any]] = [[] for _ in place]
    for term in sympy.Add.make_args(value):
        converted = engine.from_sympy(term)
        for symbol in term.free_symbols & place.keys():
            parts[place[symbol]].append(engine.diff(converted, engine.from_sympy(symbol)))
    return [engine.add(part) if part else engine.from_sympy(sympy.Integer(0)) for part in parts]


def _symbols(sympy: Any, letter: str, rows: int, cols: int) -> Any:
    return sympy.ImmutableMatrix(rows, cols, lambda i, j: sympy.Symbol(f"{letter}_{i + 1}_{j + 1}"))


def _softmax_ratios(sympy: Any, a: Any, sigma: Any) -> dict[Any, Any]:
    """e^{a_{i,q}} ↦ σ_{i,q}, the last of each row 1 − Σ of the others: rows that sum to 1, on
    which the softmax's ∂L/∂A, a function of each row's ratios e^{a_{i,j}}/Σ_q e^{a_{i,q}},
    takes every value it takes (module step 1)."""
    rows, cols = a.shape
    ratios: dict[Any, Any] = {}
    for i in range(rows):
        last = sympy.Integer(1) - sympy.Add(*(sigma[i, q] for q in range(cols - 1)))
        for q in range(cols):
            ratios[sympy.exp(a[i, q])] = sigma[i, q] if q < cols - 1 else last
    return ratios


Draw = Callable[[int, int], tuple[tuple[int, ...], ...]]


@dataclass(frozen=True)
class Drawn:
    """Integer operands at one size, and G computed from them under the loss."""

    values: dict[str, tuple[tuple[int, ...], ...]]
    operands: dict[str, Any]


def draw_operands(sizes: Sizes, loss: str, draw: Draw) -> Drawn:
    """Z, W, b and G (generic), or Z, W, b, Y (and σ) with G = ∂L/∂A there, drawn by ``draw``
    (X for Z with samples as columns, each matrix in its shape there). With samples as columns
    L is the same function of the samples, the columns of A: its ∂L/∂A is the transpose of the
    one with samples as rows, at Aᵀ and Yᵀ."""
    import sympy

    from .answers import forward

    layer = sizes.layer
    names = (*layer.variables(bias=True), UPSTREAM if loss == "generic" else LOSS_TARGETS)
    values = {
        name: draw(*sizes.shape_of(OUTPUT if name == LOSS_TARGETS else name)) for name in names
    }
    operands = {name: sympy.ImmutableMatrix(value) for name, value in values.items()}
    if loss != "generic":
        columns = sizes.samples == "columns"
        form = upstream(Sizes(sizes.m, sizes.k, sizes.n), loss)
        output, targets = forward(layer, operands), operands[LOSS_TARGETS]
        output, targets = (output.T, targets.T) if columns else (output, targets)
        put = {symbol: int(value) for symbol, value in zip(form.a, output, strict=True)}
        put.update(zip(form.y, (int(v) for v in targets), strict=True))
        sigma = draw(*form.sigma.shape) if len(form.sigma) else ()
        put.update(zip(form.sigma, (v for row in sigma for v in row), strict=True))
        gradient = form.at(put)
        operands[UPSTREAM] = gradient.T if columns else gradient
    return Drawn(values, operands)


def _fresh(rows: int, cols: int) -> tuple[tuple[int, ...], ...]:
    bound = 1 << DRAW_BITS
    return tuple(
        tuple(secrets.randbelow(2 * bound + 1) - bound for _ in range(cols)) for _ in range(rows)
    )


def values_differ(expr: Node, expected: Node, sizes: Sizes, drawn: Drawn, meter: Any) -> bool:
    """Whether the claim and the backward rule differ on these operands."""
    from .evaluation import evaluate

    claimed = evaluate(expr, drawn.operands, sizes, meter=meter)
    right = evaluate(expected, drawn.operands, sizes, meter=meter)
    return bool(claimed != right)


def first_general_failure(
    expr: Node, expected: Node, sizes_list: tuple[Sizes, ...], loss: str, meter: Any = None
) -> Sizes | None:
    """The first general size at which the claim differs from the backward rule at one of DRAWS
    fresh draws (module step 5), or None when it agrees at all of them."""
    for sizes in sizes_list:
        for _ in range(DRAWS):
            if values_differ(expr, expected, sizes, draw_operands(sizes, loss, _fresh), meter):
                return sizes
    return None


def general_counterexample(
    expr: Node, expected: Node, sizes: Sizes, loss: str, shown: set[str], meter: Any = None
) -> Counterexample | None:
    """Small integers (deterministic draws, as for a counterexample at the small sizes) on which
    the claim and the backward rule differ at the general ``sizes``; None when none of the
    draws shows it, or the meter's share affords no more."""
    from .answers import COUNTEREXAMPLE_ATTEMPTS, COUNTEREXAMPLE_SEED, ENTRY_RANGE
    from .evaluation import evaluate

    for attempt in range(COUNTEREXAMPLE_ATTEMPTS):
        rng = random.Random(COUNTEREXAMPLE_SEED + attempt)
        drawn = draw_operands(sizes, loss, functools.partial(_small, rng, ENTRY_RANGE))
        claimed = evaluate(expr, drawn.operands, sizes, meter=meter)
        right = evaluate(expected, drawn.operands, sizes, meter=meter)
        if claimed != right:
            operands = tuple(
                (name, tuple(tuple(Fraction(v) for v in row) for row in values))
                for name, values in drawn.values.items()
                if name in shown
            )
            return Counterexample(sizes, operands, _exact(claimed), _exact(right))
    return None


def _small(
    rng: random.Random, entries: tuple[int, int], rows: int, cols: int
) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(rng.randint(*entries) for _ in range(cols)) for _ in range(rows))


def _exact(matrix: Any) -> NumberMatrix:
    return tuple(
        tuple(Fraction(int(entry.p), int(entry.q)) for entry in matrix.row(i))
        for i in range(matrix.rows)
    )
