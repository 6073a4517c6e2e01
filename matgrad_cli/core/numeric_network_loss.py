"""The elementwise route's start: ∂L/∂o_{p,q} differentiated from L's own formula, never from the
closed form the recursion starts from (numeric_network_routes.closed_form).

- The generic loss Σ G_{p,q}·o_{p,q}, the sum Σ o_{p,q} and the squared error
  ½ Σ (o_{p,q} − y_{p,q})² are sums of one term per entry, each a polynomial of degree at most 2
  in its entry. L is evaluated with the entry moved by +1 and by −1 (only that entry's term
  changes), and the symmetric difference quotient (L(o + e) − L(o − e))/2, exact for a polynomial
  of degree 2, is its derivative; the squared error's terms are computed as squares,
  ½·(o ± 1 − y)·(o ± 1 − y).
- The softmax cross-entropy, log Σ_s e^(o_s) − Σ_s y_s·o_s for each row, by forward mode (dual
  numbers) through that formula: the exponentials e^(o_s − c) carry the tangent e^(o_q − c) along
  o_q, their sum S carries the same, log S carries dS/S, and the targets' term carries y_q.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from .numeric_balls import Ball, exp_of
from .numeric_exact import Exact

__all__ = ["loss_slope"]

#: Exponents below this are taken as it: e^x only grows, and e^(−10³⁰⁰) encloses as [0, e^−708].
_LOWEST = -(10**300)


def _terms(loss: str, output: Any, targets: Any, upstream: Any) -> Any:
    """L's term of each entry, as L's formula writes it."""
    if loss == "sum":
        return output
    if loss == "squared-error":
        difference = output - Exact(targets)
        return difference * difference * Fraction(1, 2)
    return output * Exact(upstream)


def _shifted(output: Any) -> Ball:
    """o − c for each entry, c its row's largest entry (midpoint), enclosed, floored at _LOWEST."""
    if isinstance(output, Ball):
        moved: Ball = output - output.mid.max(axis=1, keepdims=True)
        return moved
    numerators = output.numerators
    below = numerators - numerators.max(axis=1, keepdims=True)
    if below.dtype == object:
        floor = _LOWEST * output.denominator
        below = np.array([[max(entry, floor) for entry in row] for row in below], dtype=object)
    return Ball(*Exact(below, output.denominator).floats())


def _softmax_cross_entropy(output: Any, targets: Any) -> Ball:
    """The tangent of log Σ_s e^(o_s) − Σ_s y_s·o_s along each o_q of its row, by dual numbers."""
    exponentials = exp_of(_shifted(output))
    # (value, tangent along o_q) of S = Σ_s e^(o_s − c): the tangent is e^(o_q − c) alone.
    total, total_tangent = exponentials.row_sums(), exponentials
    # log S: tangent dS / S; − Σ_s y_s·o_s: tangent − y_q.
    slope: Ball = total_tangent * total.reciprocal() - Exact(targets)
    return slope


def loss_slope(loss: str, output: Any, targets: Any, upstream: Any) -> Any:
    """∂L/∂o for each entry of the output O, from L's formula (see the module's note)."""
    if loss == "softmax-cross-entropy":
        return _softmax_cross_entropy(output, targets)
    ahead, behind = output + 1, output - 1
    difference = _terms(loss, ahead, targets, upstream) - _terms(loss, behind, targets, upstream)
    return difference * Fraction(1, 2)
