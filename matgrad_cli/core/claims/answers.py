"""The right answers a claim is judged against: the verified derivation of A = ZW + 1_m b at one
size, integer trials of it, and the test whether an expression equals it at every size.

For the generic loss the right answer is the elementwise chain rule (derive.derive_layer); for a
concrete loss it is L differentiated through the whole layer (losses.derive_loss). Neither is
taken from a formula: CORRECT_FORMULAS is only what a wrong claim is shown, and it is checked
like any claim in the tests.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..checks import Check
from ..derive import build_symbols, derive_layer
from ..engine import get_engine
from ..equality import compare_expressions
from ..layer import LAYER, BackwardRule, Shape, Sizes
from ..losses import LOSSES
from .evaluation import evaluate
from .shapes import ShapeMismatch, ShapeStep, operand_shape, shape_of, shape_text
from .tree import LOSS_TARGETS, Node, Target, to_text

#: The entries of counterexample matrices are drawn from this range, from a fixed seed.
ENTRY_RANGE = (-3, 3)
COUNTEREXAMPLE_SEED = 20240601
COUNTEREXAMPLE_ATTEMPTS = 50


def _in_claim_syntax(rule: BackwardRule) -> str:
    """A backward rule of the layer as a claim, e.g. ``dZ = G @ W.T``; 1ᵀ·G, which adds up each
    column of G, is written ``sum(G, axis=0)``."""
    left, right = (factor.matrix + (".T" if factor.transposed else "") for factor in rule.factors)
    ones = rule.left.matrix == LAYER.role("ones").name
    return f"d{rule.variable} = " + (f"sum({right}, axis=0)" if ones else f"{left} @ {right}")


#: The right answers, in the claim syntax: what a wrong claim is shown. The judge never reads
#: them; the tests check them like any claim.
CORRECT_FORMULAS: dict[Target, str] = {
    rule.variable: _in_claim_syntax(rule) for rule in LAYER.backward
}
GRADIENT_NAMES: dict[Target, str] = {name: f"∂L/∂{name}" for name in LAYER.variables(bias=True)}
#: The operands drawn for a trial under the generic loss, in the order a counterexample shows
#: them: the layer's variables and G = ∂L/∂A.
OPERAND_ORDER = (*LAYER.variables(bias=True), LAYER.role("upstream").name)
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
    operands = {name: sympy.ImmutableMatrix(symbols.rows(name)) for name in OPERAND_ORDER}
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
    symbols = concrete.symbols
    forward = dict(
        zip(symbols.A, symbols.Z * symbols.W + sympy.ones(sizes.m, 1) * symbols.b, strict=True)
    )
    operands = {
        "Z": sympy.ImmutableMatrix(symbols.Z),
        "W": sympy.ImmutableMatrix(symbols.W),
        "b": sympy.ImmutableMatrix(symbols.b),
        LOSS_TARGETS: sympy.ImmutableMatrix(symbols.Y),
        "G": sympy.ImmutableMatrix(concrete.upstream.xreplace(forward)),
    }
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
    under a concrete loss Z, W, b and Y with G that loss's ∂L/∂A there. The right answer at
    these numbers comes from the verified derivation, not from a formula."""
    import sympy

    layer = layer_at(sizes, loss)
    rng = random.Random(COUNTEREXAMPLE_SEED + attempt)
    drawn = OPERAND_ORDER if loss == "generic" else (*LAYER.variables(bias=True), LOSS_TARGETS)
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
    expr: Node, target: Target, sizes: Sizes, scale: Any = 1, loss: str = "generic"
) -> Check:
    """The claim (divided by ``scale``) against the elementwise derivatives, entry by entry."""
    layer = layer_at(sizes, loss)
    claimed = evaluate(expr, layer.operands, sizes, expand=loss in POLYNOMIAL_LOSSES)
    compared = claimed if scale == 1 else claimed / scale
    return compare_expressions(target, to_text(expr), True, layer.expected[target], compared)


def right_everywhere(
    expr: Node, target: Target, sizes_list: Sequence[Sizes], scale: Any = 1, loss: str = "generic"
) -> bool:
    """True when ``expr`` (divided by ``scale``) is the right answer at every size: integer values
    rule most candidates out cheaply (when they are exact), and a survivor is confirmed by the
    same symbolic comparison as the claim itself."""
    if any(shape_failure(expr, target, sizes) is not None for sizes in sizes_list):
        return False
    if loss in POLYNOMIAL_LOSSES:
        for sizes in sizes_list:
            drawn = trial(sizes, 0, loss)
            if evaluate(expr, drawn.operands, sizes) != drawn.expected[target] * scale:
                return False
    return all(symbolic_check(expr, target, sizes, scale, loss).holds for sizes in sizes_list)
