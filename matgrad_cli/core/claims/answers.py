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
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..checks import Check
from ..compare import compare_matrix
from ..derive import build_symbols, derive_layer
from ..engine import Engine, get_engine, linear_value
from ..equality import compare_expressions
from ..layer import Shape, Sizes
from ..losses import LOSSES
from ..model import Gradient, Symbols
from .evaluation import evaluate
from .shapes import ShapeMismatch, ShapeStep, shape_of, shape_text
from .tree import Node, Target, to_text

#: The entries of counterexample matrices are drawn from this range, from a fixed seed.
ENTRY_RANGE = (-3, 3)
COUNTEREXAMPLE_SEED = 20240601
COUNTEREXAMPLE_ATTEMPTS = 50

#: The right answers, in the claim syntax, each verified by derive.py at every size checked.
CORRECT_FORMULAS: dict[Target, str] = {
    "Z": "dZ = G @ W.T",
    "W": "dW = Z.T @ G",
    "b": "db = sum(G, axis=0)",
}
GRADIENT_NAMES: dict[Target, str] = {"Z": "∂L/∂Z", "W": "∂L/∂W", "b": "∂L/∂b"}
#: The operands drawn for a trial, in the order a counterexample shows them (then Y).
OPERAND_ORDER = ("Z", "W", "b", "G")
#: The concrete losses that have targets Y.
LOSSES_WITH_TARGETS = frozenset(name for name, loss in LOSSES.items() if loss.has_targets)
#: Losses whose values at integers are exact rationals, so that counterexamples can be shown.
POLYNOMIAL_LOSSES = frozenset(name for name, loss in LOSSES.items() if loss.polynomial)


# --- the layer at one size -----------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedLayer:
    """The elementwise derivation of A = ZW + 1_m b at one size, and its symbols as matrices.

    For the generic loss the gradients are the chain rule's linear forms in G; for a concrete
    loss ``expected`` holds ∂L/∂Z, ∂L/∂W, ∂L/∂b from differentiating L through the whole layer,
    and the operand G is that loss's ∂L/∂A with A = ZW + 1_m b substituted.
    """

    sizes: Sizes
    engine: Engine
    symbols: Symbols
    gradients: Mapping[Target, Gradient]
    operands: Mapping[str, Any]
    loss: str = "generic"
    expected: Mapping[Target, Any] = field(default_factory=dict)


@lru_cache(maxsize=32)
def layer_at(sizes: Sizes, loss: str = "generic") -> VerifiedLayer:
    """Derived once per size: with the bias, so that claims about ∂L/∂b have b in the layer
    (∂L/∂Z and ∂L/∂W are the same with or without it, SPEC section 1)."""
    import sympy

    engine = get_engine("sympy")
    symbols = build_symbols(sizes, engine)
    derivation = derive_layer(symbols, sizes, True, engine)
    if not all(identity.holds for identity in derivation.checks):
        # The right answers (CORRECT_FORMULAS) are only as good as this verification.
        raise RuntimeError(f"the derivation at {sizes} did not verify; check cannot judge claims")
    operands = {
        "Z": sympy.ImmutableMatrix(symbols.Z),
        "W": sympy.ImmutableMatrix(symbols.W),
        "b": sympy.ImmutableMatrix([symbols.b]),
        "G": sympy.ImmutableMatrix(symbols.upstream),
    }
    if loss == "generic":
        return VerifiedLayer(sizes, engine, symbols, derivation.gradients, operands)
    from ..losses import derive_loss

    concrete = derive_loss(loss, sizes, bias=True)
    if not concrete.verified:
        raise RuntimeError(f"the {loss} loss at {sizes} did not verify; check cannot judge claims")
    forward = {
        concrete.symbols.A[i, j]: (concrete.symbols.Z * concrete.symbols.W)[i, j]
        + concrete.symbols.b[j]
        for i in range(sizes.m)
        for j in range(sizes.n)
    }
    operands = {
        "Z": sympy.ImmutableMatrix(concrete.symbols.Z),
        "W": sympy.ImmutableMatrix(concrete.symbols.W),
        "b": sympy.ImmutableMatrix(concrete.symbols.b),
        "Y": sympy.ImmutableMatrix(concrete.symbols.Y),
        "G": sympy.ImmutableMatrix(concrete.upstream.xreplace(forward)),
    }
    expected = {name: sympy.ImmutableMatrix(m) for name, m in concrete.elementwise.items()}
    return VerifiedLayer(sizes, engine, symbols, derivation.gradients, operands, loss, expected)


@dataclass(frozen=True)
class Trial:
    """Integer values for Z, W, b and G, and the chain rule's gradients at those values."""

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
    """The ``attempt``-th deterministic draw at these sizes, from a fixed seed."""
    import sympy

    if loss != "generic":
        return _loss_trial(sizes, attempt, loss)
    layer = layer_at(sizes)
    rng = random.Random(COUNTEREXAMPLE_SEED + attempt)
    values = {name: _draw(rng, *sizes.shape_of(name)) for name in OPERAND_ORDER}
    symbol_rows = {
        "Z": layer.symbols.Z,
        "W": layer.symbols.W,
        "b": (layer.symbols.b,),
        "G": layer.symbols.upstream,
    }
    substitution = {
        symbol: sympy.Integer(value)
        for name, rows in symbol_rows.items()
        for symbol_row, value_row in zip(rows, values[name], strict=True)
        for symbol, value in zip(symbol_row, value_row, strict=True)
    }
    # The right answer at these numbers comes from the chain rule, not from a formula.
    expected = {
        target: sympy.ImmutableMatrix(
            [
                [
                    linear_value(rule.terms, layer.symbols.upstream, layer.engine).xreplace(
                        substitution
                    )
                    for rule in row
                ]
                for row in gradient.entries
            ]
        )
        for target, gradient in layer.gradients.items()
    }
    operands = {name: sympy.ImmutableMatrix(matrix) for name, matrix in values.items()}
    return Trial(values, operands, expected)


def _loss_trial(sizes: Sizes, attempt: int, loss: str) -> Trial:
    """A draw of Z, W, b and Y for a polynomial loss; the right answer is L's own derivative at
    those numbers, and the operand G is that loss's ∂L/∂A there."""
    import sympy

    layer = layer_at(sizes, loss)
    rng = random.Random(COUNTEREXAMPLE_SEED + attempt)
    names = ("Z", "W", "b", "Y")
    shapes = {"Z": sizes.shape_of("Z"), "W": sizes.shape_of("W"), "b": (1, sizes.n)}
    shapes["Y"] = (sizes.m, sizes.n)
    values = {name: _draw(rng, *shapes[name]) for name in names}
    substitution = {
        symbol: sympy.Integer(value)
        for name in names
        for symbol, value in zip(
            layer.operands[name], [v for row in values[name] for v in row], strict=True
        )
    }
    operands = {name: sympy.ImmutableMatrix(values[name]) for name in names}
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
    if loss == "generic":
        return compare_matrix(
            layer.gradients[target], compared, to_text(expr), True, layer.symbols, layer.engine
        )
    return compare_expressions(target, to_text(expr), True, layer.expected[target], compared)


def right_everywhere(
    expr: Node, target: Target, sizes_list: Sequence[Sizes], scale: Any = 1, loss: str = "generic"
) -> bool:
    """True when ``expr`` (divided by ``scale``) is the right answer at every size.

    Integer values rule most candidates out cheaply (for losses whose values at integers are
    exact); a survivor is confirmed symbolically by the same entry-by-entry comparison as the
    claim itself.
    """
    if any(shape_failure(expr, target, sizes) is not None for sizes in sizes_list):
        return False
    if loss in POLYNOMIAL_LOSSES:
        for sizes in sizes_list:
            drawn = trial(sizes, 0, loss)
            if evaluate(expr, drawn.operands, sizes) != drawn.expected[target] * scale:
                return False
    return all(symbolic_check(expr, target, sizes, scale, loss).holds for sizes in sizes_list)
