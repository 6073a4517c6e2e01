"""The right answers a claim is judged against: the verified derivation of A = ZW + 1_m b (or, with
samples as columns, A = WX + b1ᵀ) at one size, integer trials of it, and the test whether an
expression equals it at every size.

For the generic loss the right answer is the elementwise chain rule (derive.derive_layer); for a
concrete loss it is L differentiated through the whole layer (losses.derive_loss). Neither is
taken from a formula: CORRECT_FORMULAS is only what a wrong claim is shown, and it is checked
like any claim in the tests.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from ..checks import Check
from ..derive import build_symbols, derive_layer
from ..engine import get_engine
from ..equality import compare_expressions, completely_equal, expressions_equal, quickly_equal
from ..layer import LAYERS, BackwardRule, Layer, Samples, Shape, Sizes
from ..losses import LOSSES
from .cost import (
    NODE_OVERHEAD,
    CheckTooCostly,
    Measure,
    Meter,
    compared_operations,
    size_cost,
)
from .evaluation import evaluate
from .parser import parse_claim
from .shapes import ShapeMismatch, ShapeStep, operand_shape, shape_of, shape_text
from .tree import LOSS_TARGETS, UPSTREAM, Node, Target, subtrees, to_text

#: The entries of counterexample matrices are drawn from this range, from a fixed seed.
ENTRY_RANGE = (-3, 3)
COUNTEREXAMPLE_SEED = 20240601
COUNTEREXAMPLE_ATTEMPTS = 50


def _in_claim_syntax(rule: BackwardRule, layer: Layer) -> str:
    """A backward rule of the layer as a claim, e.g. ``dZ = G @ W.T``; 1ᵀ·G, which adds up each
    column of G, is written ``sum(G, axis=0)``, and G·1, which adds up each row,
    ``sum(G, axis=1, keepdims=True)``."""
    left, right = (factor.matrix + (".T" if factor.transposed else "") for factor in rule.factors)
    ones = layer.role("ones").name
    if rule.left.matrix == ones:
        return f"d{rule.variable} = sum({right}, axis=0)"
    if rule.right.matrix == ones:
        return f"d{rule.variable} = sum({left}, axis=1, keepdims=True)"
    return f"d{rule.variable} = {left} @ {right}"


#: The right answers in each convention, in the claim syntax: what a wrong claim is shown. The
#: judge never reads them; the tests check them like any claim.
CORRECT_FORMULAS: dict[Samples, dict[Target, str]] = {
    samples: {rule.variable: _in_claim_syntax(rule, layer) for rule in layer.backward}
    for samples, layer in LAYERS.items()
}


@cache
def expected_tree(target: Target, samples: Samples = "rows") -> Node:
    """The right answer for ``target`` as a claim's tree: what a claim's cost is weighed with."""
    return parse_claim(CORRECT_FORMULAS[samples][target], samples=samples).expr


#: ∂L/∂Z, ∂L/∂X, ∂L/∂W, ∂L/∂b.
GRADIENT_NAMES: dict[Target, str] = {
    name: f"∂L/∂{name}" for layer in LAYERS.values() for name in layer.variables(bias=True)
}


def operand_order(layer: Layer) -> tuple[str, ...]:
    """The operands drawn for a trial under the generic loss, in the order a counterexample
    shows them: the layer's variables and G = ∂L/∂A."""
    return (*layer.variables(bias=True), UPSTREAM)


def forward(layer: Layer, operands: Mapping[str, Any]) -> Any:
    """A = ZW + 1ₘb (or WX + b1ₘᵀ) of SymPy matrices of the layer's variables."""
    import sympy

    weights, bias = operands["W"], operands["b"]
    data = operands[layer.role("input").name]
    if layer.samples == "columns":
        return weights * data + bias * sympy.ones(1, data.cols)
    return data * weights + sympy.ones(data.rows, 1) * bias


#: The concrete losses that have targets Y.
LOSSES_WITH_TARGETS = frozenset(name for name, loss in LOSSES.items() if loss.has_targets)
#: Losses whose values at integers are exact rationals, so that counterexamples can be shown.
POLYNOMIAL_LOSSES = frozenset(name for name, loss in LOSSES.items() if loss.polynomial)


# --- the layer at one size -----------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedLayer:
    """The verified ∂L/∂Z, ∂L/∂W, ∂L/∂b at one size as SymPy matrices, over the ``operands`` a
    claim is evaluated on: the layer's symbols, and under a concrete loss its targets Y and G, its
    ∂L/∂A with A = ZW + 1_m b substituted."""

    operands: Mapping[str, Any]
    expected: Mapping[Target, Any]


@lru_cache(maxsize=32)
def layer_at(sizes: Sizes, loss: str = "generic") -> VerifiedLayer:
    """Derived once per size: with the bias, so that claims about ∂L/∂b have b in the layer
    (∂L/∂Z and ∂L/∂W are the same with or without it, SPEC section 1)."""
    import sympy

    if loss != "generic":
        return _loss_layer_at(sizes, loss)
    engine = get_engine("sympy")
    symbols = build_symbols(sizes, engine)
    derivation = derive_layer(symbols, sizes, True, engine)
    if not all(identity.holds for identity in derivation.checks):
        # The right answers are only as good as this verification.
        raise RuntimeError(f"the derivation at {sizes} did not verify; check cannot judge claims")
    names = operand_order(sizes.layer)
    operands = {name: sympy.ImmutableMatrix(symbols.rows(name)) for name in names}
    expected = {
        target: sympy.ImmutableMatrix(gradient.values(symbols.upstream, engine))
        for target, gradient in derivation.gradients.items()
    }
    return VerifiedLayer(operands, expected)


def _loss_layer_at(sizes: Sizes, loss: str) -> VerifiedLayer:
    """The layer under a concrete loss, differentiated through the whole layer."""
    import sympy

    from ..losses import derive_loss

    concrete = derive_loss(loss, sizes, bias=True)
    if not concrete.verified:
        raise RuntimeError(f"the {loss} loss at {sizes} did not verify; check cannot judge claims")
    symbols, layer = concrete.symbols, sizes.layer
    operands = {
        layer.role("input").name: sympy.ImmutableMatrix(symbols.input),
        "W": sympy.ImmutableMatrix(symbols.weights),
        "b": sympy.ImmutableMatrix(symbols.bias),
        LOSS_TARGETS: sympy.ImmutableMatrix(symbols.Y),
    }
    output = dict(zip(symbols.A, forward(layer, operands), strict=True))
    operands[UPSTREAM] = sympy.ImmutableMatrix(concrete.upstream.xreplace(output))
    expected = {name: sympy.ImmutableMatrix(m) for name, m in concrete.elementwise.items()}
    return VerifiedLayer(operands, expected)


@dataclass(frozen=True)
class Trial:
    """Integer values for the operands, and the right answers at those values."""

    values: Mapping[str, tuple[tuple[int, ...], ...]]
    operands: Mapping[str, Any]
    expected: Mapping[Target, Any]


def _draw(rng: random.Random, rows: int, cols: int) -> tuple[tuple[int, ...], ...]:
    """A matrix of integers from ENTRY_RANGE that is not all zero."""
    while True:
        matrix = tuple(tuple(rng.randint(*ENTRY_RANGE) for _ in range(cols)) for _ in range(rows))
        if any(any(row) for row in matrix):
            return matrix


@lru_cache(maxsize=256)
def trial(sizes: Sizes, attempt: int, loss: str = "generic") -> Trial:
    """The ``attempt``-th deterministic draw at these sizes, from a fixed seed: Z, W, b and G, or
    under a concrete loss Z, W, b and Y with G that loss's ∂L/∂A there (X for Z with samples as
    columns). The right answer at these numbers comes from the verified derivation, not from a
    formula."""
    import sympy

    layer = layer_at(sizes, loss)
    rng = random.Random(COUNTEREXAMPLE_SEED + attempt)
    variables = sizes.layer.variables(bias=True)
    drawn = (*variables, UPSTREAM) if loss == "generic" else (*variables, LOSS_TARGETS)
    values = {name: _draw(rng, *operand_shape(name, sizes)) for name in drawn}
    substitution = {
        symbol: sympy.Integer(value)
        for name in drawn
        for symbol, value in zip(
            layer.operands[name], [v for row in values[name] for v in row], strict=True
        )
    }
    operands = {name: sympy.ImmutableMatrix(values[name]) for name in drawn}
    if loss != "generic":
        operands["G"] = layer.operands["G"].xreplace(substitution)
    expected = {target: matrix.xreplace(substitution) for target, matrix in layer.expected.items()}
    return Trial(values, operands, expected)


#: Under the softmax, whose values at integers are not exact numbers, a repair is first tried at
#: the integers of the first draw with G and the right answer evaluated to this many digits.
NUMERIC_DIGITS = 60
#: A repair is ruled out there when an entry differs by more than 10^-NUMERIC_MARGIN relative to
#: the largest number the claim may hold: far more than rounding at NUMERIC_DIGITS, far less
#: than a wrong answer differs by. A survivor is checked symbolically, like any.
NUMERIC_MARGIN = 30


@lru_cache(maxsize=64)
def numeric_trial(sizes: Sizes, loss: str) -> Trial:
    """The first draw of ``trial``, with G and the right answers evaluated to NUMERIC_DIGITS."""
    exact = trial(sizes, 0, loss)
    operands = dict(exact.operands)
    operands["G"] = exact.operands["G"].evalf(NUMERIC_DIGITS)
    expected = {name: matrix.evalf(NUMERIC_DIGITS) for name, matrix in exact.expected.items()}
    return Trial(exact.values, operands, expected)


def _differs(claimed: Any, expected: Any, digits: int) -> bool:
    """Whether two numeric matrices certainly differ: by more than rounding at NUMERIC_DIGITS
    could make numbers of up to ``digits`` digits differ."""
    margin = 10 ** (digits - NUMERIC_MARGIN)
    return any(
        abs(left - right) > margin * (1 + abs(right))
        for left, right in zip(claimed, expected, strict=True)
    )


@dataclass(frozen=True)
class ShapeFailure:
    """Why a claim has no shape, or the wrong one: its shape (None when it has none), the shapes
    of its parts up to the misfit, and what does not fit."""

    claimed_shape: Shape | None
    steps: tuple[ShapeStep, ...]
    message: str


def shape_failure(expr: Node, target: Target, sizes: Sizes) -> ShapeFailure | None:
    """Why the claim has no shape, or the wrong one, at these sizes; None when it fits."""
    try:
        shape, steps = shape_of(expr, sizes)
    except ShapeMismatch as mismatch:
        return ShapeFailure(None, mismatch.steps, mismatch.message)
    expected = sizes.shape_of(target)
    if shape == expected:
        return None
    message = (
        f"the claim is {shape_text(shape)} but {GRADIENT_NAMES[target]} is "
        f"{shape_text(expected)}, the shape of {target}"
    )
    return ShapeFailure(shape, steps, message)


def symbolic_check(
    expr: Node,
    target: Target,
    sizes: Sizes,
    scale: Any = 1,
    loss: str = "generic",
    meter: Meter | None = None,
) -> Check:
    """The claim (divided by ``scale``) against the elementwise derivatives, entry by entry; the
    evaluation and then the comparison are charged to ``meter``, when given."""
    layer = layer_at(sizes, loss)
    claimed = evaluate(expr, layer.operands, sizes, expand=loss in POLYNOMIAL_LOSSES, meter=meter)
    compared = claimed if scale == 1 else claimed / scale
    expected = layer.expected[target]
    equal = expressions_equal if meter is None else _metered(meter, sizes.n)
    return compare_expressions(target, to_text(expr), True, expected, compared, equal=equal)


def _metered(meter: Meter, n: int) -> Callable[[Any, Any], bool]:
    """``expressions_equal`` charging ``meter`` as it goes: the quick test, and the complete
    one, where needed, once the meter affords it (else OutOfShare)."""
    measured: dict[Any, Measure] = {}

    def equal(left: Any, right: Any) -> bool:
        quick, complete = compared_operations(left, right, n, measured)
        meter.charge(quick)
        decided = quickly_equal(left, right)
        if decided is not None:
            return decided
        _afford(meter, complete)
        meter.charge(complete)
        return completely_equal(left, right)

    return equal


class OutOfShare(CheckTooCostly):
    """A step that the meter's current share cannot afford: a search stops there. Met anywhere
    else, it means an estimate was wrong, and it is reported as the refusal it is."""

    def __init__(self) -> None:
        super().__init__(
            "checking this claim would take more than its estimate; check it at smaller "
            "--m/--k/--n, or shorten it"
        )


def right_everywhere(
    expr: Node,
    target: Target,
    sizes_list: Sequence[Sizes],
    scale: Any = 1,
    loss: str = "generic",
    meter: Meter | None = None,
) -> bool:
    """True when ``expr`` (divided by ``scale``) is the right answer at every size: values at
    integers rule most candidates out cheaply (exactly, or under the softmax to NUMERIC_DIGITS),
    and a survivor is confirmed by the same symbolic comparison as the claim itself. With a
    meter, each step is first estimated, and OutOfShare raised when its share cannot afford
    it."""
    costs = [
        size_cost(expr, expected_tree(target, sizes.samples), sizes, loss) for sizes in sizes_list
    ]
    _afford(meter, sum(cost.trial for cost in costs))
    if meter is not None:
        meter.charge(sum(NODE_OVERHEAD * sum(1 for _ in subtrees(expr)) for _ in sizes_list))
    if any(shape_failure(expr, target, sizes) is not None for sizes in sizes_list):
        return False
    for sizes, cost in zip(sizes_list, costs, strict=True):
        if loss in POLYNOMIAL_LOSSES:
            drawn = trial(sizes, 0, loss)
            claimed = evaluate(expr, drawn.operands, sizes, meter=meter)
            if claimed != drawn.expected[target] * scale:
                return False
        else:
            drawn = numeric_trial(sizes, loss)
            claimed = evaluate(expr, drawn.operands, sizes, expand=False, meter=meter)
            if _differs(claimed, drawn.expected[target] * scale, cost.digits):
                return False
    _afford(meter, sum(cost.relaxed for cost in costs))
    return all(
        symbolic_check(expr, target, sizes, scale, loss, meter).holds for sizes in sizes_list
    )


def _afford(meter: Meter | None, operations: int) -> None:
    if meter is not None and not meter.affords(operations):
        raise OutOfShare
