"""Interval arithmetic on arrays, and forward-mode differentiation (dual numbers) over it or over
exact numbers: the arithmetic of the concrete losses' numeric check (numeric_losses.py).

An ``Interval`` holds float64 bounds ``lo ≤ x ≤ hi`` for every entry. Each operation computes its
bounds in IEEE arithmetic, whose +, −, × and ÷ are correctly rounded, and then moves each bound one
step outward (``numpy.nextafter``), so that the true value stays enclosed whatever the rounding.
Exponentials and logarithms come from mpmath's interval context, which rounds outward at every
step, and are read back into float64 rounded outward again. Sums run one term at a time, each
partial sum rounded outward, never through numpy's pairwise summation.

A ``Dual`` carries a value and its tangent: the derivative by the one entry of its row of A that
is seeded. The values of a dual are either an array of entries (m×n, the tangent of entry (p, q)
being its derivative by a_{p,q}) or a column of one number per row (m×1, the tangent m×n holding
its derivative by each a_{p,s}); ``row_sum`` turns the first kind into the second. The operations
apply the sum, product and chain rules and nothing else, so the tangent of a row loss is its
derivative by each entry of A, found from L's definition alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath  # type: ignore[import-untyped]
import numpy as np
from mpmath.libmp import round_ceiling, round_floor, to_float  # type: ignore[import-untyped]

from .numeric_model import Matrix

#: Below this exponent e^u is not worth an mpmath call: it is enclosed in [0, e^−700], and e^−700
#: is still a normal float64 (about 9.9·10^−305).
_EXP_FLOOR = -700
#: Integers of magnitude below 2^53 are exact in float64.
_EXACT = 2.0**53


def _down(values: Any) -> Any:
    return np.nextafter(values, -np.inf)


def _up(values: Any) -> Any:
    return np.nextafter(values, np.inf)


class Interval:
    """Float64 bounds ``lo ≤ x ≤ hi`` of each entry of an array, kept outward-rounded."""

    def __init__(self, lo: Any, hi: Any) -> None:
        self.lo = np.asarray(lo, dtype=np.float64)
        self.hi = np.asarray(hi, dtype=np.float64)

    @classmethod
    def exact(cls, values: Any) -> Interval:
        """An interval of width 0 around values that float64 holds exactly."""
        values = np.asarray(values, dtype=np.float64)
        return cls(values, values)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the array of entries."""
        return tuple(self.lo.shape)

    def __add__(self, other: Interval | Any) -> Interval:
        other = _as_interval(other)
        return Interval(_sum_bound(self.lo, other.lo, -1), _sum_bound(self.hi, other.hi, 1))

    __radd__ = __add__

    def __neg__(self) -> Interval:
        return Interval(-self.hi, -self.lo)

    def __sub__(self, other: Interval | Any) -> Interval:
        return self + (-_as_interval(other))

    def __rsub__(self, other: Any) -> Interval:
        return _as_interval(other) + (-self)

    def __mul__(self, other: Interval | Any) -> Interval:
        if not isinstance(other, Interval):
            # By exact numbers the products of the two bounds are the only corners.
            other = np.asarray(other, dtype=np.float64)
            corners: tuple[Any, ...] = (self.lo * other, self.hi * other)
            other = Interval.exact(other)
        else:
            corners = (
                self.lo * other.lo,
                self.lo * other.hi,
                self.hi * other.lo,
                self.hi * other.hi,
            )
        lower, upper = np.minimum.reduce(corners), np.maximum.reduce(corners)
        # A product of integers below 2^53 is exact: such bounds are kept as they are.
        exact = _integral(self.lo, self.hi, other.lo, other.hi) & (np.abs(upper) < _EXACT)
        exact &= np.abs(lower) < _EXACT
        return Interval(np.where(exact, lower, _down(lower)), np.where(exact, upper, _up(upper)))

    __rmul__ = __mul__

    def __truediv__(self, other: Interval | Any) -> Interval:
        """Division by an interval of positive numbers."""
        other = _as_interval(other)
        if not np.all(other.lo > 0):
            raise ArithmeticError("an interval divides only by positive numbers here")
        corners = (
            self.lo / other.lo,
            self.lo / other.hi,
            self.hi / other.lo,
            self.hi / other.hi,
        )
        return Interval(_down(np.minimum.reduce(corners)), _up(np.maximum.reduce(corners)))

    def __rtruediv__(self, other: Any) -> Interval:
        return _as_interval(other) / self


def _sum_bound(left: Any, right: Any, direction: int) -> Any:
    """left + right rounded down (``direction`` −1) or up (+1): the rounding error of the float
    sum is found exactly by Knuth's TwoSum, and the bound moves one step only when it is not 0."""
    total = left + right
    left_part = total - right
    right_part = total - left_part
    error = (left - left_part) + (right - right_part)
    if direction < 0:
        return np.where(error < 0, _down(total), total)
    return np.where(error > 0, _up(total), total)


def _integral(*arrays: Any) -> Any:
    """Where every one of ``arrays`` holds an integer."""
    result = np.ones(np.broadcast_shapes(*(np.shape(array) for array in arrays)), dtype=bool)
    for array in arrays:
        result &= np.asarray(array) == np.round(array)
    return result


def _as_interval(value: Interval | Any) -> Interval:
    return value if isinstance(value, Interval) else Interval.exact(value)


def _mpmath_bounds(result: Any) -> tuple[float, float]:
    """An mpmath interval read into float64, rounded outward."""
    lower, upper = result._mpi_
    return to_float(lower, rnd=round_floor), to_float(upper, rnd=round_ceiling)


def exp_of_integers(exponents: Matrix) -> Interval:
    """Enclosures of e^u for integer exponents u ≤ 0, one mpmath interval per distinct value."""
    if not np.array_equal(exponents, np.round(exponents)) or np.any(exponents > 0):
        raise ArithmeticError("the exponentials are taken of integers at most 0 only")
    clipped = np.maximum(exponents, _EXP_FLOOR)
    distinct, where = np.unique(clipped, return_inverse=True)
    bounds = np.array([_mpmath_bounds(mpmath.iv.exp(int(u))) for u in distinct.tolist()])
    lower = bounds[:, 0][where].reshape(exponents.shape)
    upper = bounds[:, 1][where].reshape(exponents.shape)
    # e^u < e^−700 below the floor: only the upper bound holds there, so the lower one is 0.
    return Interval(np.where(exponents < _EXP_FLOOR, 0.0, lower), upper)


def log_of_interval(values: Interval) -> Interval:
    """Enclosures of log x for an interval of positive numbers, one mpmath call per entry."""
    if not np.all(values.lo > 0):
        raise ArithmeticError("the logarithm is taken of positive numbers only")
    bounds = [
        _mpmath_bounds(mpmath.iv.log(mpmath.iv.mpf([lower, upper])))
        for lower, upper in zip(values.lo.ravel().tolist(), values.hi.ravel().tolist(), strict=True)
    ]
    pairs = np.array(bounds).reshape(*values.shape, 2)
    return Interval(pairs[..., 0], pairs[..., 1])


def sum_of_columns(values: Any) -> Any:
    """Σ_q x_{p,q} for each row p, as a column: term by term and outward-rounded for an
    interval; for exact numbers (integers and halves far below 2^53) numpy's sum is exact."""
    if not isinstance(values, Interval):
        return np.asarray(values).sum(axis=1, keepdims=True)
    if values.shape[1] <= _TERMWISE_COLUMNS:
        total = Interval.exact(np.zeros((values.shape[0], 1)))
        for column in range(values.shape[1]):
            total = total + Interval(
                values.lo[:, column : column + 1], values.hi[:, column : column + 1]
            )
        return total
    return _fixed_point_sum(values)


#: Up to this many columns an interval's rows are summed term by term; above it in fixed point.
_TERMWISE_COLUMNS = 32


def _fixed_point_sum(values: Interval) -> Interval:
    """Row sums of an interval in fixed point: each lower bound rounded down and each upper bound
    up to a multiple of 2^−shift, with shift chosen so that a row's n terms add up below 2^62 in
    int64, exactly; the integer sums are read back into float64 rounded outward."""
    magnitude = float(max(np.abs(values.lo).max(), np.abs(values.hi).max()))
    if not magnitude:
        return Interval.exact(np.zeros((values.shape[0], 1)))
    _, exponent = math.frexp(magnitude)  # magnitude < 2^exponent
    shift = 62 - exponent - math.ceil(math.log2(values.shape[1] + 1))
    scale = 2.0**shift
    # Scaling by a power of two is exact, and float64 values of 2^53 or more are integers.
    lower = np.floor(values.lo * scale).astype(np.int64).sum(axis=1, keepdims=True)
    upper = np.ceil(values.hi * scale).astype(np.int64).sum(axis=1, keepdims=True)
    return Interval(_down(lower.astype(np.float64)) / scale, _up(upper.astype(np.float64)) / scale)


@dataclass(frozen=True)
class Dual:
    """A value and its tangent, the derivative by the seeded entry of its row of A; ``per_row``
    when the value is one number per row (m×1) rather than one per entry (m×n)."""

    value: Any
    tangent: Any
    per_row: bool = False

    def __add__(self, other: Dual | Any) -> Dual:
        if isinstance(other, Dual):
            _same_kind(self, other)
            return Dual(self.value + other.value, self.tangent + other.tangent, self.per_row)
        return Dual(self.value + other, self.tangent, self.per_row)

    def __sub__(self, other: Dual | Any) -> Dual:
        return self + _negated(other)

    def __mul__(self, other: Dual | Any) -> Dual:
        """The product rule; a constant scales the tangent."""
        if isinstance(other, Dual):
            _same_kind(self, other)
            tangent = self.tangent * other.value + self.value * other.tangent
            return Dual(self.value * other.value, tangent, self.per_row)
        return Dual(self.value * other, self.tangent * other, self.per_row)

    def __rmul__(self, other: Any) -> Dual:
        return self.__mul__(other)


def _same_kind(left: Dual, right: Dual) -> None:
    if left.per_row != right.per_row:
        raise ValueError("a dual of entries and a dual of rows do not combine entry by entry")


def _negated(value: Dual | Any) -> Dual | Any:
    if isinstance(value, Dual):
        return Dual(-value.value, -value.tangent, value.per_row)
    return -value


def seed(values: Any) -> Dual:
    """The entries of A as duals: each entry's derivative by itself is 1."""
    ones = np.ones(values.shape)
    return Dual(values, Interval.exact(ones) if isinstance(values, Interval) else ones)


def row_sum(entries: Dual) -> Dual:
    """Σ_q x_{p,q} per row: the derivative of row p's sum by a_{p,s} is that of x_{p,s}."""
    if entries.per_row:
        raise ValueError("row_sum takes a dual of entries")
    return Dual(sum_of_columns(entries.value), entries.tangent, per_row=True)


def _chain(
    function: Callable[[Any], Any], derivative: Callable[[Any, Any], Any], argument: Dual
) -> Dual:
    """f(x) with tangent f′(x)·x′ (the chain rule); ``derivative(x, f(x))`` gives f′(x)."""
    value = function(argument.value)
    return Dual(value, derivative(argument.value, value) * argument.tangent, argument.per_row)


def exp(argument: Dual) -> Dual:
    """e^x of integers x ≤ 0 (exact, as Interval bounds), with (e^x)′ = e^x."""
    return _chain(lambda x: exp_of_integers(_exact_values(x)), lambda _, e: e, argument)


def log(argument: Dual) -> Dual:
    """log x of positive x, with (log x)′ = 1/x."""
    return _chain(log_of_interval, lambda x, _: 1.0 / x, argument)


def _exact_values(values: Interval) -> Matrix:
    """The values of a width-0 interval."""
    if not np.array_equal(values.lo, values.hi):
        raise ArithmeticError("expected exact values")
    return values.lo
