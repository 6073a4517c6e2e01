"""The activations at numbers, for the numeric check of a network (numeric_network.py).

Each activation gives, at the entries of Aℓ:

- ``forward(A)``: Hℓ = σ(A) and the local derivative that forward-mode differentiation (dual
  numbers) takes from σ's definition: the tangent of σ(a + ε·t) is ``slope``·t. This is the
  elementwise side's, and it is found from the definition alone: the derivative of max(0, x), of
  x or α·x, of the polynomial by the product rule, of 1/(1 + e⁻ˣ) and (1 − e⁻²ˣ)/(1 + e⁻²ˣ) by the
  quotient rule and (eᵘ)′ = eᵘ;
- ``stated(A, H)``: σ′(A) as the activation states it (activations.py), the factor ⊙ σ′(Aℓ) of
  the backward recursion under test: the step Heaviside(a, 0), α + (1 − α)·step, c₁ + 2c₂a,
  σ(1 − σ) and 1 − tanh², computed from H.

``identity``, ``relu``, ``leaky-relu`` and the generic σ are exact: their figures are Python
integers (and fractions, for leaky-relu's slope) in numpy arrays of objects. relu′(0) = 0 and
leaky-relu′(0) = α, the values matgrad takes at the kink (an integer draw does hit 0). The generic
σ, which is unknown, is stood in for by a random quadratic polynomial c₀ + c₁x + c₂x² with c₂ ≠ 0:
the backward recursion is right for every differentiable σ, so it must hold for this one, and a
recursion that is wrong for σ in general is wrong for almost every quadratic as well (its σ′ is not
constant, so σ′ at the wrong layer is told apart). ``sigmoid`` and ``tanh`` are enclosed in
verified balls (numeric_balls.py): their exponentials from mpmath, rounded outward.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .activations import Activation, Generic, Identity, LeakyRelu, Relu, Sigmoid, Tanh
from .numeric_balls import Ball, down, exp_down, exp_up, up
from .numeric_exact import Exact


@dataclass(frozen=True)
class Polynomial:
    """The quadratic c₀ + c₁x + c₂x² that stands in for the generic σ."""

    c0: int
    c1: int
    c2: int

    @property
    def text(self) -> str:
        """The polynomial as plain text, e.g. ``σ(x) = 2 − x + 3x²``."""
        return f"σ(x) = {_terms(self, '²', '−')}"

    @property
    def latex(self) -> str:
        """The polynomial in LaTeX."""
        return f"\\sigma(x) = {_terms(self, '^2', '-')}"


def _terms(poly: Polynomial, square: str, minus: str) -> str:
    text = str(poly.c0).replace("-", minus)
    for coefficient, power in ((poly.c1, "x"), (poly.c2, f"x{square}")):
        sign = minus if coefficient < 0 else "+"
        magnitude = "" if abs(coefficient) == 1 else str(abs(coefficient))
        text += f" {sign} {magnitude}{power}"
    return text


def exact_forward(
    activation: Activation, pre: Exact, polynomial: Polynomial | None
) -> tuple[Exact, Exact]:
    """(σ(A), the forward-mode slope) for an exact activation at exact A."""
    ones = Exact(np.ones(pre.shape, dtype=np.int64))
    if isinstance(activation, Identity):
        return pre, ones
    positive = pre.positive()
    if isinstance(activation, Relu):
        value = Exact(np.where(positive, pre.numerators, 0), pre.denominator)
        return value, Exact(np.where(positive, 1, 0))
    if isinstance(activation, LeakyRelu):
        # α = p/q: x for x > 0 and p·x/q otherwise, all over the denominator q.
        p, q = activation.slope.numerator, activation.slope.denominator
        value = Exact(np.where(positive, pre.scaled(q), pre.scaled(p)), pre.denominator * q)
        # Objects: a slope written with many digits has numerators beyond int64.
        return value, Exact(np.where(positive, _number(q), _number(p)), q)
    if isinstance(activation, Generic) and polynomial is not None:
        # The dual number x + ε: c₀ + c₁(x + ε) + c₂(x + ε)(x + ε), its ε part by the product rule.
        value = pre * pre * polynomial.c2 + pre * polynomial.c1 + polynomial.c0
        return value, (pre + pre) * polynomial.c2 + ones * polynomial.c1
    raise ValueError(f"{activation.name} has no exact numeric form")


def exact_stated(activation: Activation, pre: Exact, polynomial: Polynomial | None) -> Exact:
    """σ′(A) as the activation states it, for an exact activation."""
    ones = Exact(np.ones(pre.shape, dtype=np.int64))
    if isinstance(activation, Identity):
        return ones
    # Heaviside(a, 0): (sign(a) + 1) // 2 is 1 for a > 0 and 0 for a ≤ 0.
    step = Exact((np.sign(pre.numerators) + 1) // 2)
    if isinstance(activation, Relu):
        return step
    if isinstance(activation, LeakyRelu):
        alpha = Fraction(activation.slope)
        return ones * alpha + step * (1 - alpha)
    if isinstance(activation, Generic) and polynomial is not None:
        return pre * (2 * polynomial.c2) + ones * polynomial.c1
    raise ValueError(f"{activation.name} has no exact numeric form")


def _number(value: int) -> Any:
    """A Python integer as a 0-d array of objects, of any size."""
    return np.array(value, dtype=object)


def is_exact(activation: Activation) -> bool:
    """Whether the activation's figures are exact numbers (else verified balls)."""
    return not isinstance(activation, Sigmoid | Tanh)


def fractions_needed(activation: Activation) -> bool:
    """Whether the figures are fractions, not integers (leaky-relu's slope)."""
    return isinstance(activation, LeakyRelu) and Fraction(activation.slope).denominator != 1


# --- sigmoid and tanh in balls -------------------------------------------------------------------


def _exponentials(exponents: Any) -> tuple[Any, Any]:
    """Lower and upper bounds of e^u for each u ≤ 0 (one mpmath call per distinct u and side)."""
    distinct, where = np.unique(exponents, return_inverse=True)
    lower = np.array([exp_down(u) for u in distinct.tolist()])
    upper = np.array([exp_up(u) for u in distinct.tolist()])
    return lower[where].reshape(exponents.shape), upper[where].reshape(exponents.shape)


def _sigmoid_points(x: Any) -> tuple[Any, Any, Any, Any]:
    """Bounds of σ(x) and of its derivative e⁻ˣ/(1 + e⁻ˣ)² at the points x, from E = e^−|x|:
    σ(|x|) = 1/(1 + E), σ(−|x|) = 1 − σ(|x|); the derivative is even and increasing in E ≤ 1."""
    low_e, high_e = _exponentials(-np.abs(x))
    value_low = down(1.0 / up(1.0 + high_e))
    value_high = up(1.0 / down(1.0 + low_e))
    negative = x < 0
    value_low, value_high = (
        np.where(negative, down(1.0 - value_high), value_low),
        np.where(negative, up(1.0 - value_low), value_high),
    )
    slope_low = down(low_e / up(up(1.0 + low_e) ** 2))
    slope_high = up(high_e / down(down(1.0 + high_e) ** 2))
    return value_low, value_high, slope_low, slope_high


def _tanh_points(x: Any) -> tuple[Any, Any, Any, Any]:
    """Bounds of tanh(x) and of its derivative 4e⁻²ˣ/(1 + e⁻²ˣ)² at the points x, from
    E = e^−2|x|: tanh(|x|) = (1 − E)/(1 + E), tanh odd; the derivative even, increasing in E."""
    low_e, high_e = _exponentials(-2.0 * np.abs(x))
    value_low = down(down(1.0 - high_e) / up(1.0 + high_e))
    value_high = up(up(1.0 - low_e) / down(1.0 + low_e))
    negative = x < 0
    value_low, value_high = (
        np.where(negative, -value_high, value_low),
        np.where(negative, -value_low, value_high),
    )
    slope_low = down(4.0 * low_e / up(up(1.0 + low_e) ** 2))
    slope_high = up(4.0 * high_e / down(down(1.0 + high_e) ** 2))
    return value_low, value_high, slope_low, slope_high


def ball_forward(activation: Activation, pre: Ball) -> tuple[Ball, Ball]:
    """(σ(A), its derivative from the definition) enclosed, for A enclosed in ``pre``: σ is
    increasing, and its derivative falls with |x| from its value at 0 (1/4, or 1 for tanh)."""
    points = _sigmoid_points if isinstance(activation, Sigmoid) else _tanh_points
    peak = 0.25 if isinstance(activation, Sigmoid) else 1.0
    lower, upper = pre.lower, pre.upper
    value_low, _, slope_low_l, slope_high_l = points(lower)
    _, value_high, slope_low_u, slope_high_u = points(upper)
    slope_high = np.where(lower >= 0, slope_high_l, np.where(upper <= 0, slope_high_u, peak))
    value = Ball.from_bounds(value_low, value_high)
    return value, Ball.from_bounds(np.minimum(slope_low_l, slope_low_u), slope_high)


def ball_stated(activation: Activation, value: Ball) -> Ball:
    """σ′ = σ(1 − σ) for the sigmoid, 1 − tanh² for tanh, from the enclosed values."""
    if isinstance(activation, Sigmoid):
        return value * (1.0 - value)
    if isinstance(activation, Tanh):
        return 1.0 - value * value
    raise ValueError(f"{activation.name} is exact: it needs no ball")
