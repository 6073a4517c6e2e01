"""The shapes of a claim's parts at given sizes, and the first part whose shapes do not fit.

Shapes are checked before any value is computed, so that a wrong claim is explained in the
algebra of shapes (``(3×2) @ (3×4), and 2 ≠ 3``) rather than by a failed computation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import NoReturn, assert_never

from ..layer import Samples, Shape, Sizes
from . import tree
from .tree import LOSS_TARGETS, OUTPUT, Dim, Node, operands, to_text


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


def _shape_text(shape: Shape | None, flat: bool = False) -> str:
    if shape is None:
        return "a number"
    return f"({shape[1]},)" if flat else f"({shape[0]}×{shape[1]})"


def resolve(dim: Dim, sizes: Sizes) -> int:
    """A size in ``ones(r, c)``, a literal or m, k, n, as a number at these sizes."""
    return dim if isinstance(dim, int) else sizes.size(dim)


def operand_shape(name: str, sizes: Sizes) -> Shape:
    """The shape of an operand at ``sizes``: its own in the layer, the output's for the targets."""
    return sizes.shape_of(OUTPUT if name == LOSS_TARGETS else name)


def scalar_value(node: Node, sizes: Sizes) -> Fraction:
    """The value of a part made of numbers and sizes only (tree.is_scalar); a division by zero
    is ZeroDivisionError."""
    match node:
        case tree.Number(value=value):
            return value
        case tree.Size(name=name):
            return Fraction(sizes.size(name))
        case tree.Neg(arg=arg):
            return -scalar_value(arg, sizes)
        case tree.Transpose(arg=arg):
            return scalar_value(arg, sizes)
        case tree.Add(left=left, right=right):
            return scalar_value(left, sizes) + scalar_value(right, sizes)
        case tree.Sub(left=left, right=right):
            return scalar_value(left, sizes) - scalar_value(right, sizes)
        case tree.Div(left=left, right=right):
            return scalar_value(left, sizes) / scalar_value(right, sizes)
        case (
            tree.ScalarMul(left=l, right=r)
            | tree.MatMul(left=l, right=r)
            | tree.Hadamard(left=l, right=r)
        ):
            return scalar_value(l, sizes) * scalar_value(r, sizes)
        case _:
            raise ValueError(f"{to_text(node)} is not a number")


class _ShapeChecker:
    """Computes shapes bottom-up and records every matrix-valued step; None marks a number. A
    one-dimensional part (tree.flat_parts) is held as the row it is compared as."""

    def __init__(
        self,
        sizes: Sizes,
        operand_shapes: Mapping[str, Shape],
        root: Node,
        record: bool = True,
        network: bool = False,
    ) -> None:
        self._sizes = sizes
        self._network = network
        self._operand_shapes = operand_shapes
        self._flat = tree.flat_parts(root)
        self._record = record
        self.steps: list[ShapeStep] = []

    def visit(self, node: Node) -> Shape | None:
        shape = self._shape(node)
        if shape is not None and self._record:
            self.steps.append(ShapeStep(to_text(node), shape))
        return shape

    def _fail(self, node: Node, detail: str) -> NoReturn:
        raise ShapeMismatch(f"{to_text(node)}: {detail}", node, tuple(self.steps))

    def _shape(self, node: Node) -> Shape | None:
        match node:
            case tree.Name(name=name):
                return self._operand_shapes[name]
            case tree.Number() | tree.Size():
                return None
            case tree.Ones(rows=rows, cols=cols):
                return resolve(rows, self._sizes), resolve(cols, self._sizes)
            case tree.Softmax():
                return self._operand_shapes[OUTPUT]
            case tree.SumAxis():
                return self._summed(node, self.visit(node.arg))
            case tree.Transpose(arg=arg):
                inner = self.visit(arg)
                if inner is None or id(arg) in self._flat:
                    return inner  # numpy leaves a 1-D array as it is
                return inner[1], inner[0]
            case tree.Neg(arg=arg):
                return self.visit(arg)
            case tree.OnesLike(arg=arg):
                inner = self.visit(arg)
                if inner is None:
                    self._fail(node, "ones_like needs a matrix, not a number")
                return inner
            case tree.Applied(arg=arg) | tree.Positive(arg=arg):
                inner = self.visit(arg)
                if inner is None:
                    self._fail(node, "an activation is applied to a matrix, not to a number")
                return inner
            case tree.MatMul(left=left, right=right):
                return self._product_shape(node, self.visit(left), self.visit(right))
            case tree.ScalarMul(left=left, right=right):
                left_shape, right_shape = self.visit(left), self.visit(right)
                if left_shape is not None and right_shape is not None:
                    self._fail(node, "scaling by * needs a number on one side")
                return right_shape if left_shape is None else left_shape
            case tree.Hadamard(left=left, right=right):
                return self._elementwise(node, self.visit(left), self.visit(right))
            case tree.Div(left=left, right=right):
                return self._quotient(node, self.visit(left), self.visit(right))
            case tree.Add(left=left, right=right):
                return self._sum_shape(node, "+", self.visit(left), self.visit(right))
            case tree.Sub(left=left, right=right):
                return self._sum_shape(node, "-", self.visit(left), self.visit(right))
            case _:
                assert_never(node)

    def _summed(self, node: tree.SumAxis, inner: Shape | None) -> Shape:
        word = "mean" if node.mean else "sum"
        if inner is None:
            self._fail(node, f"{word} needs a matrix, not a number")
        if id(node.arg) in self._flat:
            if node.axis == 1:
                self._fail(node, "a 1-D array has only axis 0")
            return 1, 1
        if node.axis == 0:
            return 1, inner[1]
        return (inner[0], 1) if node.keepdims else (1, inner[0])

    def _product_shape(self, node: Node, left: Shape | None, right: Shape | None) -> Shape:
        """A matrix product; a 1-D array is a row on the left, a column on the right (numpy)."""
        if left is None or right is None:
            self._fail(node, "@ is the matrix product; use * to scale by a number")
        assert isinstance(node, tree.MatMul)
        left_flat, right_flat = id(node.left) in self._flat, id(node.right) in self._flat
        inner_right = right[1] if right_flat else right[0]
        if left[1] != inner_right:
            detail = (
                f"{_shape_text(left, left_flat)} @ {_shape_text(right, right_flat)}, "
                f"and {left[1]} ≠ {inner_right}"
            )
            self._fail(node, detail)
        if right_flat:
            return 1, left[0] if not left_flat else 1
        return left[0], right[1]

    def _elementwise(self, node: Node, left: Shape | None, right: Shape | None) -> Shape | None:
        """Entry by entry, with numpy's broadcasting: each dimension equal, or 1 on one side."""
        if left is None or right is None:
            return right if left is None else left
        if all(a == b or 1 in (a, b) for a, b in zip(left, right, strict=True)):
            return max(left[0], right[0]), max(left[1], right[1])
        self._fail(
            node,
            f"{_shape_text(left)} * {_shape_text(right)}: * multiplies entry by entry in NumPy, "
            "and these shapes do not match",
        )

    def _quotient(self, node: Node, left: Shape | None, right: Shape | None) -> Shape | None:
        assert isinstance(node, tree.Div)
        if right is not None:
            self._fail(node, "/ divides by a number or a size, not by a matrix")
        try:
            zero = scalar_value(node.right, self._sizes) == 0
        except ZeroDivisionError:
            zero = True
        if zero:
            sizes = self._sizes
            self._fail(node, f"division by zero at m = {sizes.m}, k = {sizes.k}, n = {sizes.n}")
        return left

    def _sum_shape(
        self, node: Node, symbol: str, left: Shape | None, right: Shape | None
    ) -> Shape | None:
        """Equal shapes, or a 1×c row broadcast down an r×c matrix (how A = ZW + b adds b); with
        samples as columns, an r×1 column broadcast across one instead (A = WX + b)."""
        pair = f"{_shape_text(left)} {symbol} {_shape_text(right)}"
        if self._network:
            return self._broadcast_sum(node, pair, left, right)
        if left is None or right is None:
            if left is None and right is None:
                return None
            self._fail(node, f"{pair}; a number cannot be added to or subtracted from a matrix")
        axis = 1 if self._sizes.samples == "columns" else 0
        if left == right or (right[axis] == 1 and right[1 - axis] == left[1 - axis]):
            return left
        if left[axis] == 1 and left[1 - axis] == right[1 - axis]:
            return right
        self._fail(node, f"{pair}, the shapes differ")

    def _broadcast_sum(
        self, node: Node, pair: str, left: Shape | None, right: Shape | None
    ) -> Shape | None:
        """A network's sum, as NumPy adds: a number to every entry (``1 - H1``), a row down the
        rows or a column across the columns, or equal shapes."""
        if left is None or right is None:
            return right if left is None else left
        if all(a == b or 1 in (a, b) for a, b in zip(left, right, strict=True)):
            return max(left[0], right[0]), max(left[1], right[1])
        self._fail(node, f"{pair}, the shapes differ")


def shape_of(
    node: Node,
    sizes: Sizes,
    shapes: Mapping[str, tuple[int, int]] | None = None,
    network: bool = False,
) -> tuple[tuple[int, int], tuple[ShapeStep, ...]]:
    """The shape of ``node`` and every matrix-valued step, innermost first; a number is 1×1.

    ``shapes`` overrides the operand shapes of the layer (Z m×k, W k×n, b 1×n, G and Y m×n; with
    samples as columns X k×m, W n×k, b n×1, G and Y n×m). A 1-D result is the row it is held as,
    or with samples as columns the column it is compared as (``held_as``). Raises ShapeMismatch,
    naming the failing sub-expression, when the claim cannot be computed.
    """
    operand_shapes = {name: operand_shape(name, sizes) for name in operands(sizes.layer)}
    operand_shapes.update(shapes or {})
    checker = _ShapeChecker(sizes, operand_shapes, node, network=network)
    shape = checker.visit(node) or (1, 1)
    held = held_as(node, shape, sizes.samples)
    if held != shape:  # the steps end at the shape compared
        checker.steps.append(ShapeStep(f"{to_text(node)}, as the column", held))
    return held, tuple(checker.steps)


def held_as(root: Node, shape: Shape, samples: Samples) -> Shape:
    """The shape a whole claim of ``shape`` is compared as: a 1-D result (held as a row) is
    compared as the column with samples as columns, where ∂L/∂b is the n×1 column."""
    if samples == "columns" and id(root) in tree.flat_parts(root):
        return shape[1], shape[0]
    return shape


def shape_text(shape: Shape) -> str:
    """``(4, 3)`` → ``4×3``."""
    return f"{shape[0]}×{shape[1]}"


# --- reading notation: the size of 1, and what to tell about the reading ---------------------

#: Sizes no literal reaches (ones(r, c) takes at most 100), so that a shape there tells which
#: of m, k, n each of its dimensions is; in each convention.
_PROBES: dict[Samples, Sizes] = {
    "rows": Sizes(1009, 1013, 1019, "rows"),
    "columns": Sizes(1009, 1013, 1019, "columns"),
}
_PROBE_NAMES: dict[int, Dim] = {1009: "m", 1013: "k", 1019: "n"}


def _probe_dim(value: int) -> Dim:
    return _PROBE_NAMES.get(value, value)


def _inferred_ones(node: Node) -> tree.Ones | None:
    """The column of ones of unknown size at the top of ``node`` (under transposes and signs),
    and whether it is read as a row there."""
    while isinstance(node, tree.Transpose | tree.Neg):
        node = node.arg
    return node if isinstance(node, tree.Ones) and node.inferred else None


def _transposes(node: Node) -> int:
    count = 0
    while isinstance(node, tree.Transpose | tree.Neg):
        count += isinstance(node, tree.Transpose)
        node = node.arg
    return count


def _sized(node: Node, length: Dim) -> Node:
    """``node`` with its column of ones of unknown size given ``length`` rows."""
    if isinstance(node, tree.Transpose | tree.Neg):
        return replace(node, arg=_sized(node.arg, length))
    assert isinstance(node, tree.Ones)
    return replace(node, rows=length)


def _probe_shape(node: Node, samples: Samples) -> Shape | None:
    """The shape of ``node`` at the probe sizes, None when it does not fit; no steps are
    written down, so that this stays linear in the size of the tree."""
    probe = _PROBES[samples]
    operand_shapes = {name: operand_shape(name, probe) for name in operands(probe.layer)}
    try:
        return _ShapeChecker(probe, operand_shapes, node, record=False).visit(node) or (1, 1)
    except ShapeMismatch:
        return None


def _neighbour_dim(sibling: Node, axis: int, samples: Samples) -> Dim | None:
    shape = _probe_shape(sibling, samples)
    return None if shape is None else _probe_dim(shape[axis])


def inferred_ones(node: Node, samples: Samples = "rows") -> Node:
    """The tree with each column of ones written without a size (``1ᵀ G``, ``\\mathbf{1}^\\top
    G``) given the size its neighbour in a product needs in the convention ``samples``: as a row
    on the left, the rows of its neighbour; as a column on the right, the columns. Where no
    neighbour tells, it is m long."""
    if not any(isinstance(sub, tree.Ones) and sub.inferred for _, sub in tree.subtrees(node)):
        return node
    if isinstance(node, tree.SumAxis | tree.Transpose | tree.Neg | tree.OnesLike):
        return replace(node, arg=inferred_ones(node.arg, samples))
    if not isinstance(node, tree.MatMul | tree.ScalarMul | tree.Hadamard | tree.Div):
        if isinstance(node, tree.Add | tree.Sub):
            left, right = inferred_ones(node.left, samples), inferred_ones(node.right, samples)
            return replace(node, left=left, right=right)
        return node
    left, right = inferred_ones(node.left, samples), inferred_ones(node.right, samples)
    if isinstance(node, tree.MatMul):
        if _inferred_ones(left) is not None and _transposes(left) % 2 == 1:
            dim = _neighbour_dim(right, 0, samples)
            left = _sized(left, dim) if dim is not None else left
        if _inferred_ones(right) is not None and _transposes(right) % 2 == 0:
            dim = _neighbour_dim(left, 1, samples)
            right = _sized(right, dim) if dim is not None else right
    return replace(node, left=left, right=right)


def reading_notes(
    expr: Node, marks: frozenset[str] | set[str], dialect: str, samples: Samples = "rows"
) -> tuple[str, ...]:
    """How notation that could be read more than one way was read: a 1-D result compared as a
    row (as a column with samples as columns), ``*`` as the matrix product, a ``1`` of inferred
    size, the softmax's targets."""
    notes = []
    shape = _probe_shape(expr, samples) if id(expr) in tree.flat_parts(expr) else None
    if shape is not None and shape != (1, 1):
        length = _probe_dim(shape[1])
        compared = f"{length}×1 column" if samples == "columns" else f"1×{length} row"
        notes.append(
            f"{to_text(expr)} is a 1-D array in NumPy (no keepdims=True); "
            f"it was compared as the {compared}"
        )
    for _, sub in tree.subtrees(expr):
        if isinstance(sub, tree.Ones) and sub.inferred:
            notes.append(f"1 was read as the column of {sub.rows} ones, ones({sub.rows}, 1)")
            break
    if "star-matmul" in marks:
        notes.append(f"* between matrices was read as the matrix product (--dialect {dialect})")
    for mark, word in (("total-sum", "sum"), ("total-mean", "mean")):
        if mark in marks:
            notes.append(
                f"{word}(X) without an axis takes every entry into one number (read as the "
                f"{word} of the column {word}s); {word}(X, axis=0) gives one for each column"
            )
    if "matlab-axis" in marks:
        notes.append("a sum's dimension was counted from 1, as in MATLAB: 1 adds down each column")
    if "softmax" in marks:
        along = "columns" if samples == "columns" else "rows"
        notes.append(
            f"softmax(A) was read for targets whose {along} sum to 1, where ∂L/∂A = softmax(A) − Y"
        )
    return tuple(notes)
