"""The two routes of a network's numeric check at one random draw (numeric_network.py).

Every figure is a ``Value``: an ``Exact`` array of rationals (numeric_exact.py), or a verified
``Ball`` (numeric_balls.py) once a sigmoid or tanh has made it irrational.

- ``forward_pass``: Aℓ = H₍ℓ₋₁₎Wℓ + 1bℓ and Hℓ = σℓ(Aℓ), with, at each layer, the slope of σℓ
  that forward-mode differentiation takes from σ's definition and σ′ as the activation states it
  (numeric_activations.py).
- The matrix route, ``recursion``: the backward rules under test (network_matrix.BackwardRules,
  the same data the symbolic route runs on) evaluated at the draw, from the top down.
- The elementwise route, ``directional``: forward-mode differentiation (dual numbers) of the
  generic loss L = Σ G_{p,q}·o_{p,q} of the network's output O, along a tangent of one Aℓ,
  layer by layer up to the output: dH = slope ⊙ dA, dA₍ℓ₊₁₎ = dH·W₍ℓ₊₁₎. It takes the slopes from
  the definitions and never uses the recursion, its rules or the stated σ′.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .activations import Activation, Identity, LeakyRelu, Relu
from .network import Network
from .network_matrix import BackwardRules, LocalRule, Operand, ProductRule
from .numeric_activations import (
    Polynomial,
    ball_forward,
    ball_stated,
    exact_forward,
    exact_stated,
    is_exact,
)
from .numeric_balls import Ball, down, exp_of, overlap, up
from .numeric_balls import matmul as ball_matmul
from .numeric_exact import Exact
from .numeric_network_loss import loss_slope as loss_from_formula

#: A matrix (or a stack of them) of exact numbers or of balls.
Value = Any


def exact(values: Any) -> Exact:
    """Integers as an exact array (Python integers, over the denominator 1)."""
    return Exact(values)


def shape_of(value: Value) -> tuple[int, ...]:
    return tuple(value.shape)


def product(left: Value, right: Value) -> Value:
    """left @ right (stacks broadcast): exact when both are exact, a ball otherwise."""
    if isinstance(left, Ball) or isinstance(right, Ball):
        return ball_matmul(left, right)
    return Exact.of(left) @ Exact.of(right)


def total(values: Value) -> Value:
    """The sum over the last two axes: one figure per leading index."""
    return values.total()


def differ(found: Value, claimed: Value) -> tuple[Any, Any]:
    """(where the two sides are shown to differ, the largest difference allowed where they are
    not): exact figures compared exactly (bound 0), balls by the overlap of their enclosures."""
    if isinstance(found, Ball) or isinstance(claimed, Ball):
        agree, bound = overlap(found, claimed)
        return ~agree, np.where(agree, bound, 0.0)
    wrong = Exact.of(found).differs(Exact.of(claimed))
    return wrong, np.zeros(wrong.shape)


def shown(value: Value) -> list[Any]:
    """Entries of a value for a person: integers, fractions as text, balls' midpoints."""
    if isinstance(value, Ball):
        return list(value.mid.ravel().tolist())
    return [entry if isinstance(entry, int) else str(entry) for entry in value.entries()]


@dataclass(frozen=True)
class Draw:
    """The random integer matrices: X, each Wℓ, each bℓ (1×dℓ), G = ∂L/∂(output), and the
    polynomial that stands in for a generic σ (None when there is none). Wℓ is its integers over
    ``weight_denominators[ℓ − 1]`` and bℓ its integers over ``bias_denominator`` (1 but for
    networks with a sigmoid or tanh)."""

    inputs: Any
    weights: tuple[Any, ...]
    biases: tuple[Any, ...]
    upstream: Any
    polynomial: Polynomial | None
    weight_denominators: tuple[int, ...] = ()
    bias_denominator: int = 1
    #: The loss (numeric_network.NUMERIC_LOSSES) and its targets Y: integers for the squared
    #: error, one-hot rows for the softmax cross-entropy.
    loss: str = "generic"
    targets: Any = None

    def weight(self, layer: int) -> Exact:
        """Wℓ, exactly."""
        denominators = self.weight_denominators or (1,) * len(self.weights)
        return Exact(self.weights[layer - 1], denominators[layer - 1])

    def bias(self, layer: int) -> Exact:
        """bℓ (1×dℓ), exactly."""
        return Exact(self.biases[layer - 1], self.bias_denominator)


@dataclass(frozen=True)
class Forward:
    """The forward pass: ``pre[ℓ]`` = Aℓ and ``post[ℓ]`` = Hℓ (``post[0]`` = X, ``pre[0]``
    unused), ``slope[ℓ]`` the definition's derivative of σℓ at Aℓ and ``stated[ℓ]`` σℓ′(Aℓ) as
    the activation states it; ``loss_slope`` is the tangent of L per unit tangent of each entry
    of the output, from L's definition (``loss_slope``), made once for every tangent."""

    pre: tuple[Value, ...]
    post: tuple[Value, ...]
    slope: tuple[Value, ...]
    stated: tuple[Value, ...]
    loss_slope: Value = None


def activate(
    activation: Activation, pre: Value, polynomial: Polynomial | None
) -> tuple[Value, Value, Value]:
    """(σ(A), the definition's slope, the stated σ′) at A, exact or enclosed."""
    if not is_exact(activation):
        ball = pre if isinstance(pre, Ball) else Ball(*pre.floats())
        enclosed, enclosed_slope = ball_forward(activation, ball)
        return enclosed, enclosed_slope, ball_stated(activation, enclosed)
    if not isinstance(pre, Ball):
        value, slope = exact_forward(activation, pre, polynomial)
        return value, slope, exact_stated(activation, pre, polynomial)
    return _exact_on_ball(activation, pre, polynomial)


def _exact_on_ball(
    activation: Activation, pre: Ball, polynomial: Polynomial | None
) -> tuple[Value, Value, Value]:
    """An exact activation after a sigmoid or tanh: its figures enclosed. Where a ball holds 0
    and positive numbers, the step's value is unknown and enclosed in [0, 1] (relu) or [α, 1]."""
    if isinstance(activation, Identity):
        ones = Exact(np.ones(pre.shape, dtype=np.int64))
        return pre, ones, ones
    if polynomial is not None and not isinstance(activation, Relu | LeakyRelu):
        c0, c1, c2 = (float(c) for c in (polynomial.c0, polynomial.c1, polynomial.c2))
        value = pre * pre * c2 + pre * c1 + c0
        return value, (pre + pre) * c2 + c1, pre * (2.0 * c2) + c1
    alpha = float(activation.slope) if isinstance(activation, LeakyRelu) else 0.0
    alpha_low, alpha_high = (down(alpha), up(alpha)) if alpha else (0.0, 0.0)
    lower, upper = pre.lower, pre.upper
    value = Ball.from_bounds(
        np.where(lower > 0, lower, down(alpha_high * lower)),
        np.where(upper > 0, upper, up(alpha_low * upper)),
    )
    slope = Ball.from_bounds(
        np.where(lower > 0, 1.0, alpha_low), np.where(upper <= 0, alpha_high, 1.0)
    )
    return value, slope, slope


def forward_pass(network: Network, draw: Draw) -> Forward:
    """The forward pass at the draw, layer by layer."""
    pre: list[Value] = [None]
    post: list[Value] = [exact(draw.inputs)]
    slope: list[Value] = [None]
    stated: list[Value] = [None]
    for layer in range(1, network.depth + 1):
        values = product(post[-1], draw.weight(layer))
        if network.bias:
            values = values + draw.bias(layer)
        made = activate(network.activation_of(layer), values, draw.polynomial)
        pre.append(values)
        post.append(made[0])
        slope.append(made[1])
        stated.append(made[2])
    made_slope = loss_slope(draw, post[-1])
    return Forward(tuple(pre), tuple(post), tuple(slope), tuple(stated), made_slope)


# --- The matrix route: the rules under test -------------------------------------------------


@dataclass(frozen=True)
class _Route:
    network: Network
    draw: Draw
    forward: Forward


def _operand(operand: Operand, layer: int, gradient: Value, route: _Route) -> Value | None:
    """A factor of a rule at ``layer``; None for a layer the network does not have."""
    at, depth = layer + operand.offset, route.network.depth
    matrix: Value | None
    if operand.letter == "G":
        matrix = gradient
    elif operand.letter == "H":
        matrix = route.forward.post[at] if 0 <= at <= depth else None
    elif operand.letter == "W":
        matrix = route.draw.weight(at) if 1 <= at <= depth else None
    else:
        rows, cols = shape_of(gradient)
        matrix = exact(np.ones((rows if operand.along == "samples" else cols, 1), np.int64))
    if matrix is None:
        return None
    return matrix.T if operand.transposed else matrix


def _apply_product(
    rule: ProductRule, layer: int, gradient: Value | None, route: _Route
) -> Value | None:
    """left · right at ``layer``; None when a factor is missing or the inner sizes differ."""
    if gradient is None:
        return None
    left = _operand(rule.left, layer, gradient, route)
    right = _operand(rule.right, layer, gradient, route)
    if left is None or right is None or shape_of(left)[1] != shape_of(right)[0]:
        return None
    return product(left, right)


def _apply_local(
    rule: LocalRule, layer: int, upstream: Value | None, route: _Route
) -> Value | None:
    """upstream ⊙ σ′(A at ``layer`` + offset), the stated derivative; None when shapes differ."""
    if upstream is None or not rule.derivative:
        return upstream
    at = layer + rule.offset
    if not 1 <= at <= route.network.depth:
        return None
    factor = route.forward.stated[at]
    if shape_of(factor) != shape_of(upstream):
        return None
    return upstream * factor


def recursion(
    network: Network, draw: Draw, forward: Forward, rules: BackwardRules
) -> dict[str, tuple[str, Value | None]]:
    """Each matrix of the backward pass by the rules under test, with its formula as text, from
    the top down: every ∂L/∂Aℓ (named Aℓ), ∂L/∂Wℓ, ∂L/∂bℓ, and ∂L/∂X. None where a rule cannot
    be applied (sizes that do not fit)."""
    route, depth = _Route(network, draw, forward), network.depth
    gradient: Value | None = closed_form(draw, forward.post[depth])
    # G = ∂L/∂(the network's output), as the setup names it.
    text = "G"
    if network.output_activated:
        gradient = _apply_local(rules.output, depth, gradient, route)
        text = rules.output.text(text, depth)
    made: dict[str, tuple[str, Value | None]] = {}
    for layer in range(depth, 0, -1):
        made[f"A{layer}"] = (text, gradient)
        made[f"W{layer}"] = (
            rules.weights.text(layer),
            _apply_product(rules.weights, layer, gradient, route),
        )
        if network.bias:
            made[f"b{layer}"] = (
                rules.bias.text(layer),
                _apply_product(rules.bias, layer, gradient, route),
            )
        upstream = _apply_product(rules.inputs, layer, gradient, route)
        if layer == 1:
            made["X"] = (rules.inputs.text(layer), upstream)
        else:
            gradient = _apply_local(rules.local, layer, upstream, route)
            text = rules.local.text(f"({rules.inputs.text(layer)})", layer)
    return made


# --- The elementwise route: forward-mode differentiation -----------------------------------


def directional(
    network: Network, draw: Draw, forward: Forward, layer: int, tangent: Value, rows: Any
) -> Value:
    """The derivative of L = Σ G_{p,q}·o_{p,q} along tangents of A at ``layer``: ``tangent`` is
    a stack (B, R, dℓ) of changes to the rows ``rows`` (an index array of shape (B, R) or (1, R))
    of Aℓ; one figure per tangent. Rows of the network never mix, so only those rows are carried
    up: dH = slope ⊙ dA, then dA = dH·W for each layer above, up to the output."""
    depth = network.depth
    for at in range(layer, depth + 1):
        if at > layer:
            tangent = product(tangent, draw.weight(at))
        if at < depth or network.output_activated:
            tangent = forward.slope[at][rows] * tangent
    return total(forward.loss_slope[rows] * tangent)


def closed_form(draw: Draw, output: Value) -> Value:
    """∂L/∂O as the loss states it, where the recursion starts: G for the generic loss, all ones
    for the sum, O − Y for the squared error, softmax(O) − Y for the softmax cross-entropy."""
    if draw.loss == "sum":
        return exact(np.ones(shape_of(output), dtype=np.int64))
    if draw.loss == "squared-error":
        return output - exact(draw.targets)
    if draw.loss == "softmax-cross-entropy":
        exponentials, inverse_sums = _softmax_parts(output)
        return exponentials * inverse_sums - exact(draw.targets)
    return exact(draw.upstream)


def _as_ball(value: Value) -> Ball:
    return value if isinstance(value, Ball) else Ball(*value.floats())


#: Below −10³⁰⁰ an exact exponent is taken as −10³⁰⁰: e^x only grows, so the enclosure of e^x,
#: [0, e^−708], stays one, and the figure stays within float64's range.
_FLOOR = -(10**300)


def _softmax_parts(output: Value) -> tuple[Ball, Ball]:
    """e^(o − c) for each entry, and 1/Σ_q e^(o − c) for each row (a column), with c each row's
    largest entry (of an exact output, exactly; of a ball, its largest midpoint), so that no
    exponential overflows."""
    if isinstance(output, Ball):
        shifted = output - output.mid.max(axis=1, keepdims=True)
    else:
        numerators = output.numerators
        below = numerators - numerators.max(axis=1, keepdims=True)
        if below.dtype == object:  # int64 figures are far above the floor
            floor = _FLOOR * output.denominator
            below = np.where(below < floor, floor, below).astype(object)
        shifted = Ball(*Exact(below, output.denominator).floats())
    exponentials = exp_of(shifted)
    return exponentials, exponentials.row_sums().reciprocal()


def loss_slope(draw: Draw, output: Value) -> Value:
    """The tangent of L per unit tangent of each entry of O, differentiated from L's own formula
    (numeric_network_loss.py), never from ``closed_form``."""
    return loss_from_formula(draw.loss, output, draw.targets, draw.upstream)
