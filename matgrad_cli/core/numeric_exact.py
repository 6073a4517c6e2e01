"""Exact rational matrices for the numeric check of a network: Python integer numerators in a
numpy array of objects over one common denominator.

A network of identity, relu or a polynomial has integer figures (denominator 1); leaky-relu's
slope α = p/q brings a power of q. Keeping one denominator per matrix makes every product and sum
integer arithmetic, never a fraction per term: a product of matrices is a product of numerators
(in float64 BLAS while every partial sum of integers stays below 2⁵³, which is then exact, else
with Python's integers), and the denominators multiply. Nothing is rounded, ever.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

#: Integers below this are exact in float64.
_EXACT = 2**53
#: Integers below this are held in int64 arrays; beyond, as Python integers.
_SMALL = 2**62


def _numerators(values: Any) -> Any:
    """Integers as int64, or as Python integers (an array of objects) when they are large."""
    array = np.asarray(values)
    if array.dtype == object:
        return array
    if array.dtype.kind not in "iub":
        raise TypeError(f"exact numerators must be integers, got {array.dtype}")
    return array.astype(np.int64)


def _largest(values: Any) -> int:
    """The largest magnitude, as a Python integer (0 for an empty array)."""
    if not values.size:
        return 0
    if values.dtype == object:
        return int(max(abs(values).max(), 0))
    return int(np.abs(values).max())


def _wide(values: Any) -> Any:
    values = np.asarray(values)
    return values if values.dtype == object else values.astype(object)


def times(left: Any, right: Any) -> Any:
    """left · right entry by entry, exactly: in int64 while the products stay below 2⁶², else
    with Python's integers."""
    left, right = np.asarray(left), np.asarray(right)
    if left.dtype != object and right.dtype != object and _largest(left) * _largest(right) < _SMALL:
        return np.asarray(left.astype(np.int64) * right.astype(np.int64))
    return np.asarray(_wide(left) * _wide(right), dtype=object)


def _plus(left: Any, right: Any) -> Any:
    left, right = np.asarray(left), np.asarray(right)
    if left.dtype != object and right.dtype != object and _largest(left) + _largest(right) < _SMALL:
        return np.asarray(left + right)
    return np.asarray(_wide(left) + _wide(right), dtype=object)


def _scalar(value: int) -> Any:
    """A Python integer as a 0-d array: int64 while it is small, else an object."""
    return np.array(value, dtype=np.int64 if abs(value) < _SMALL else object)


def integer_product(left: Any, right: Any) -> Any:
    """left @ right for integer arrays (stacks broadcast): by float64 BLAS when every partial sum
    stays below 2⁵³ (then exact), else with Python's integers."""
    big_left, big_right = _largest(left), _largest(right)
    if max(big_left, big_right) < _EXACT and big_left * big_right * left.shape[-1] < _EXACT:
        floats = left.astype(np.float64) @ right.astype(np.float64)
        return floats.astype(np.int64)
    return _wide(left) @ _wide(right)


class Exact:
    """An array of rationals: ``numerators / denominator``, the denominator a positive int."""

    # numpy defers to the reflected operators instead of treating an Exact as a scalar.
    __array_ufunc__ = None

    def __init__(self, numerators: Any, denominator: int = 1) -> None:
        self.numerators = _numerators(numerators)
        self.denominator = denominator

    @classmethod
    def of(cls, value: Exact | Any) -> Exact:
        """An Exact from an Exact, an integer array, or a Python int or Fraction."""
        if isinstance(value, Exact):
            return value
        if isinstance(value, Fraction):
            return cls(_scalar(value.numerator), value.denominator)
        if isinstance(value, int):
            return cls(_scalar(value))
        return cls(value)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.numerators.shape)

    @property
    def T(self) -> Exact:  # as numpy names the transpose
        return Exact(self.numerators.T, self.denominator)

    def __getitem__(self, index: Any) -> Exact:
        return Exact(self.numerators[index], self.denominator)

    def reshape(self, *shape: int) -> Exact:
        return Exact(self.numerators.reshape(*shape), self.denominator)

    def positive(self) -> Any:
        """Where the entries are > 0."""
        return np.asarray(self.numerators > 0, dtype=bool)

    def _common(self, other: Exact) -> tuple[Any, Any, int]:
        common = math.lcm(self.denominator, other.denominator)
        return (
            self.scaled(common // self.denominator),
            other.scaled(common // other.denominator),
            common,
        )

    def scaled(self, factor: int) -> Any:
        """The numerators times ``factor``, exactly."""
        return self.numerators if factor == 1 else times(self.numerators, factor)

    def __neg__(self) -> Exact:
        return Exact(-self.numerators, self.denominator)

    def __add__(self, other: Exact | Any) -> Exact:
        if _foreign(other):
            return NotImplemented
        mine, theirs, common = self._common(Exact.of(other))
        return Exact(_plus(mine, theirs), common)

    __radd__ = __add__

    def __sub__(self, other: Exact | Any) -> Exact:
        if _foreign(other):
            return NotImplemented
        return self + (-Exact.of(other))

    def __rsub__(self, other: Any) -> Exact:
        return (-self) + Exact.of(other)

    def __mul__(self, other: Exact | Any) -> Exact:
        if _foreign(other):
            return NotImplemented
        other = Exact.of(other)
        return Exact(times(self.numerators, other.numerators), self.denominator * other.denominator)

    __rmul__ = __mul__

    def __matmul__(self, other: Exact | Any) -> Exact:
        if _foreign(other):
            return NotImplemented
        other = Exact.of(other)
        return Exact(
            integer_product(self.numerators, other.numerators),
            self.denominator * other.denominator,
        )

    def __rmatmul__(self, other: Any) -> Exact:
        return Exact.of(other) @ self

    def total(self) -> Exact:
        """The sum over the last two axes."""
        numerators = self.numerators
        count = numerators.shape[-1] * numerators.shape[-2]
        if numerators.dtype != object and _largest(numerators) * count >= _SMALL:
            numerators = _wide(numerators)
        return Exact(numerators.sum(axis=(-2, -1)), self.denominator)

    def differs(self, other: Exact) -> Any:
        """Where the entries of the two differ (exactly)."""
        return np.asarray(
            self.scaled(other.denominator) != other.scaled(self.denominator), dtype=bool
        )

    def entries(self) -> list[int | Fraction]:
        """The entries in order (flattened) as Python integers or Fractions."""
        return [
            int(value)
            if self.denominator == 1
            else _reduced(Fraction(int(value), self.denominator))
            for value in self.numerators.ravel().tolist()
        ]

    def floats(self) -> tuple[Any, Any]:
        """The nearest float64 of each entry, and a bound on the rounding (0 where exact)."""
        if self.denominator == 1 and _largest(self.numerators) < _EXACT:
            return self.numerators.astype(np.float64), np.float64(0.0)
        # At most three roundings (the numerator and the denominator to float64, the
        # division), each at most u·|x|.
        mid = self.numerators.astype(np.float64) / float(self.denominator)
        return mid, np.abs(mid) * 2.0**-50 + 2.0**-1000


def _reduced(value: Fraction) -> int | Fraction:
    return value.numerator if value.denominator == 1 else value


def _foreign(value: object) -> bool:
    """Whether ``value`` is a Ball (or anything but exact numbers): its own operators take it."""
    return not isinstance(value, Exact | int | Fraction | np.ndarray)


def joined(parts: list[Exact]) -> Exact:
    """Exact arrays joined along their first axis, over their common denominator."""
    common = math.lcm(*(part.denominator for part in parts))
    return Exact(
        np.concatenate([part.numerators * (common // part.denominator) for part in parts]), common
    )
