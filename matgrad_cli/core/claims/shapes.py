"""The shapes of a claim's parts at given sizes, and the first part whose shapes do not fit.

Shapes are checked before any value is computed, so that a wrong claim is explained in the
algebra of shapes (``(3×2) @ (3×4), and 2 ≠ 3``) rather than by a failed computation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn, assert_never

from ..layer import LAYER, Shape, Sizes
from . import tree
from .tree import LOSS_TARGETS, OPERANDS, Dim, Node, to_text


@dataclass(frozen=True)
class ShapeStep:
    """One sub-expression (as ``to_text``) and the shape it was found to have."""

    text: str
    shape: tuple[int, int]


class ShapeMismatch(Exception):
    """A claim whose shapes do not fit: a wrong answer, not bad input, so not a MatgradError."""

    def __init__(self, message: str, node: Node, steps: tuple[ShapeStep, ...]) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.steps = steps


def _shape_text(shape: Shape | None) -> str:
    return "a number" if shape is None else f"({shape[0]}×{shape[1]})"


def resolve(dim: Dim, sizes: Sizes) -> int:
    """A size in ``ones(r, c)``, a literal or m, k, n, as a number at these sizes."""
    return dim if isinstance(dim, int) else sizes.size(dim)


def operand_shape(name: str, sizes: Sizes) -> Shape:
    """The shape of an operand at ``sizes``: its own in the layer, the output's for the targets."""
    return sizes.shape_of(LAYER.role("output").name if name == LOSS_TARGETS else name)


class _ShapeChecker:
    """Computes shapes bottom-up and records every matrix-valued step; None marks a number."""

    def __init__(self, sizes: Sizes, operand_shapes: Mapping[str, Shape]) -> None:
        self._sizes = sizes
        self._operand_shapes = operand_shapes
        self.steps: list[ShapeStep] = []

    def visit(self, node: Node) -> Shape | None:
        shape = self._shape(node)
        if shape is not None:
            self.steps.append(ShapeStep(to_text(node), shape))
        return shape

    def _fail(self, node: Node, detail: str) -> NoReturn:
        raise ShapeMismatch(f"{to_text(node)}: {detail}", node, tuple(self.steps))

    def _shape(self, node: Node) -> Shape | None:
        match node:
            case tree.Name(name=name):
                return self._operand_shapes[name]
            case tree.Number():
                return None
            case tree.Ones(rows=rows, cols=cols):
                return resolve(rows, self._sizes), resolve(cols, self._sizes)
            case tree.SumAxis(arg=arg, axis=axis):
                inner = self.visit(arg)
                if inner is None:
                    self._fail(node, "sum needs a matrix, not a number")
                return (1, inner[1]) if axis == 0 else (inner[0], 1)
            case tree.Transpose(arg=arg):
                inner = self.visit(arg)
                return None if inner is None else (inner[1], inner[0])
            case tree.Neg(arg=arg):
                return self.visit(arg)
            case tree.MatMul(left=left, right=right):
                return self._product_shape(node, self.visit(left), self.visit(right))
            case tree.ScalarMul(left=left, right=right):
                left_shape, right_shape = self.visit(left), self.visit(right)
                if left_shape is not None and right_shape is not None:
                    self._fail(node, "* is the scalar product; one side must be a number")
                return right_shape if left_shape is None else left_shape
            case tree.Add(left=left, right=right):
                return self._sum_shape(node, "+", self.visit(left), self.visit(right))
            case tree.Sub(left=left, right=right):
                return self._sum_shape(node, "-", self.visit(left), self.visit(right))
            case _:
                assert_never(node)

    def _product_shape(self, node: Node, left: Shape | None, right: Shape | None) -> Shape:
        if left is None or right is None:
            self._fail(node, "@ is the matrix product; use * to scale by a number")
        if left[1] != right[0]:
            detail = f"{_shape_text(left)} @ {_shape_text(right)}, and {left[1]} ≠ {right[0]}"
            self._fail(node, detail)
        return left[0], right[1]

    def _sum_shape(
        self, node: Node, symbol: str, left: Shape | None, right: Shape | None
    ) -> Shape | None:
        """Equal shapes, or a 1×c row broadcast down an r×c matrix (how A = ZW + b adds b)."""
        pair = f"{_shape_text(left)} {symbol} {_shape_text(right)}"
        if left is None or right is None:
            if left is None and right is None:
                return None
            self._fail(node, f"{pair}; a number cannot be added to or subtracted from a matrix")
        if left == right or (right[0] == 1 and right[1] == left[1]):
            return left
        if left[0] == 1 and left[1] == right[1]:
            return right
        self._fail(node, f"{pair}, the shapes differ")


def shape_of(
    node: Node, sizes: Sizes, shapes: Mapping[str, tuple[int, int]] | None = None
) -> tuple[tuple[int, int], tuple[ShapeStep, ...]]:
    """The shape of ``node`` and every matrix-valued step, innermost first; a number is 1×1.

    ``shapes`` overrides the operand shapes of the layer (Z m×k, W k×n, b 1×n, G and Y m×n).
    Raises ShapeMismatch, naming the failing sub-expression, when the claim cannot be computed.
    """
    operand_shapes = {name: operand_shape(name, sizes) for name in OPERANDS}
    operand_shapes.update(shapes or {})
    checker = _ShapeChecker(sizes, operand_shapes)
    shape = checker.visit(node)
    return (shape or (1, 1)), tuple(checker.steps)


def shape_text(shape: Shape) -> str:
    """``(4, 3)`` → ``4×3``."""
    return f"{shape[0]}×{shape[1]}"
