"""Verified balls (midpoint and radius) on float64 arrays, for the numeric check of sigmoid and tanh
networks (numeric_network.py), whose figures are irrational.

A ``Ball`` holds ``mid`` and ``rad`` arrays: every true value x lies in [mid − rad, mid + rad].
Each operation computes the midpoint in float64 and a radius that covers both the radii of its
operands and every rounding error of the float64 arithmetic, by the standard bounds:

- a single +, −, × is correctly rounded: its error is at most u·|result|, u = 2⁻⁵³;
- a product of matrices with inner size k, in any order of summation (BLAS blocks and fuses as
  it likes), is within γ_k·(|A|·|B|) of the true product, γ_k = k·u/(1 − k·u) (Higham, Accuracy
  and Stability of Numerical Algorithms, section 3.1); the products of the absolute values that
  bound the radius are themselves within γ_k of theirs, which the factor (1 + 3γ_k) covers;
- every radius is finally enlarged by the factor 1 + 2⁻⁴⁸ and by 2⁻¹⁰⁰⁰, which covers the few
  roundings of the radius computation itself and any underflow (at most 2⁻¹⁰⁷⁴ per operation).

Exact operands are float64 arrays of integers below 2⁵³ (the check's random matrices), taken as
they are. The exponentials come from mpmath's correctly directed ``mpf_exp`` (the function its
interval context uses), rounded down for a lower bound and up for an upper one; every later
operation on a bound is moved one floating-point step outward (``numpy.nextafter``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mpmath.libmp import (  # type: ignore[import-untyped]
    from_float,
    mpf_exp,
    round_ceiling,
    round_floor,
    to_float,
)

from .numeric_exact import Exact

#: The unit roundoff of float64.
UNIT = 2.0**-53
#: The relative and absolute enlargement of every radius (see the module's docstring).
_GROW = 1.0 + 2.0**-48
_TINY = 2.0**-1000


def _grow(radius: Any) -> Any:
    return radius * _GROW + _TINY


def _gamma(inner: int) -> float:
    return inner * UNIT / (1.0 - inner * UNIT)


def down(values: Any) -> Any:
    """One floating-point step towards −∞."""
    return np.nextafter(values, -np.inf)


def up(values: Any) -> Any:
    """One floating-point step towards +∞."""
    return np.nextafter(values, np.inf)


class Ball:
    """Enclosures of the entries of an array: every true value is within ``rad`` of ``mid``."""

    # numpy defers to the Ball's reflected operators instead of treating it as a scalar.
    __array_ufunc__ = None

    def __init__(self, mid: Any, rad: Any) -> None:
        self.mid = np.asarray(mid, dtype=np.float64)
        self.rad = np.broadcast_to(np.asarray(rad, dtype=np.float64), self.mid.shape)

    @classmethod
    def from_bounds(cls, lower: Any, upper: Any) -> Ball:
        """The ball enclosing [lower, upper], entry by entry."""
        lower, upper = np.asarray(lower, np.float64), np.asarray(upper, np.float64)
        mid = lower * 0.5 + upper * 0.5
        return cls(mid, up(np.maximum(up(upper - mid), up(mid - lower))))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.mid.shape)

    @property
    def lower(self) -> Any:
        """A lower bound of every entry."""
        return down(self.mid - self.rad)

    @property
    def upper(self) -> Any:
        """An upper bound of every entry."""
        return up(self.mid + self.rad)

    @property
    def T(self) -> Ball:  # as numpy names the transpose
        return Ball(self.mid.T, self.rad.T)

    def __getitem__(self, index: Any) -> Ball:
        return Ball(self.mid[index], self.rad[index])

    def reshape(self, *shape: int) -> Ball:
        return Ball(self.mid.reshape(*shape), self.rad.reshape(*shape))

    def __neg__(self) -> Ball:
        return Ball(-self.mid, self.rad)

    def __add__(self, other: Ball | Any) -> Ball:
        other_mid, other_rad = _parts(other)
        mid = self.mid + other_mid
        return Ball(mid, _grow(self.rad + other_rad + UNIT * np.abs(mid)))

    __radd__ = __add__

    def __sub__(self, other: Ball | Any) -> Ball:
        other_mid, other_rad = _parts(other)
        mid = self.mid - other_mid
        return Ball(mid, _grow(self.rad + other_rad + UNIT * np.abs(mid)))

    def __rsub__(self, other: Any) -> Ball:
        return (-self).__add__(other)

    def __mul__(self, other: Ball | Any) -> Ball:
        other_mid, other_rad = _parts(other)
        mid = self.mid * other_mid
        spread = np.abs(self.mid) * other_rad + self.rad * (np.abs(other_mid) + other_rad)
        return Ball(mid, _grow(spread + UNIT * np.abs(mid)))

    __rmul__ = __mul__

    def __matmul__(self, other: Ball | Any) -> Ball:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Ball:
        return matmul(other, self)

    def reciprocal(self) -> Ball:
        """1/x for balls of positive numbers: 1/x falls as x grows."""
        lower, upper = self.lower, self.upper
        if not np.all(lower > 0):
            raise ArithmeticError("only a ball of positive numbers has a reciprocal here")
        return Ball.from_bounds(down(1.0 / upper), up(1.0 / lower))

    def row_sums(self) -> Ball:
        """Σ_q x_{p,q} for each row p, as a column."""
        return matmul(self, np.ones((self.shape[-1], 1)))

    def total(self) -> Ball:
        """The sum of the entries along the last two axes (one figure per leading index)."""
        flat = self.reshape(*self.shape[:-2], 1, self.shape[-2] * self.shape[-1])
        summed = matmul(flat, np.ones((flat.shape[-1], 1)))
        return summed.reshape(*self.shape[:-2])


def _parts(value: Ball | Any) -> tuple[Any, Any]:
    """The midpoint and radius of a ball; of float64 values, radius 0; of other exact numbers
    (Python integers and fractions, alone or in arrays of objects), their nearest float64 with
    the radius u·|x| that covers its rounding."""
    if isinstance(value, Ball):
        return value.mid, value.rad
    if isinstance(value, Exact):
        return value.floats()
    if isinstance(value, float) or (isinstance(value, np.ndarray) and value.dtype == np.float64):
        return np.asarray(value), np.float64(0.0)
    mid = np.asarray(value, dtype=object).astype(np.float64)
    return mid, _grow(UNIT * np.abs(mid))


def matmul(left: Ball | Any, right: Ball | Any) -> Ball:
    """left @ right for balls or exact arrays (numpy's broadcasting of stacked matrices), with
    the rounding of the product bounded by γ_k·(|A|·|B|)."""
    left_mid, left_rad = _parts(left)
    right_mid, right_rad = _parts(right)
    gamma = _gamma(left_mid.shape[-1] + 2)
    mid = left_mid @ right_mid
    left_abs, right_abs = np.abs(left_mid), np.abs(right_mid)
    spread = gamma * (left_abs @ right_abs)
    if np.ndim(right_rad) and right_rad.any():
        spread = spread + left_abs @ right_rad
    if np.ndim(left_rad) and left_rad.any():
        spread = spread + left_rad @ up(right_abs + right_rad)
    return Ball(mid, _grow(spread * (1.0 + 3.0 * gamma)))


def overlap(found: Ball | Any, claimed: Ball | Any) -> tuple[Any, Any]:
    """(where the two enclosures may hold the same value, the largest difference their true
    values can have): disjoint enclosures prove the two values differ."""
    found_mid, found_rad = _parts(found)
    claimed_mid, claimed_rad = _parts(claimed)
    gap = np.abs(found_mid - claimed_mid)
    reach = _grow(found_rad + claimed_rad + UNIT * (np.abs(found_mid) + np.abs(claimed_mid)))
    return gap <= reach, up(gap + reach)


#: Below this exponent e^u is enclosed in [0, e^_EXP_FLOOR]: mpmath's conversion to float64 does
#: not round subnormal results in the direction asked (e^−800 rounded up comes back as 0).
_EXP_FLOOR = -708.0


def exp_of(values: Ball) -> Ball:
    """Enclosures of e^x for x enclosed in ``values``: e^x grows with x, so its bounds are the
    exponentials of the bounds, each from mpmath rounded outward."""
    lower, upper = values.lower, values.upper
    low = np.array([exp_down(value) for value in lower.ravel().tolist()]).reshape(lower.shape)
    high = np.array([exp_up(value) for value in upper.ravel().tolist()]).reshape(upper.shape)
    return Ball.from_bounds(low, high)


def exp_down(value: float) -> float:
    """A float64 lower bound of e^value, for value ≤ 708."""
    if value < _EXP_FLOOR:
        return 0.0
    return float(to_float(mpf_exp(from_float(value), 53, round_floor), rnd=round_floor))


def exp_up(value: float) -> float:
    """A float64 upper bound of e^value, for value ≤ 708."""
    value = max(value, _EXP_FLOOR)
    return float(to_float(mpf_exp(from_float(value), 53, round_ceiling), rnd=round_ceiling))
