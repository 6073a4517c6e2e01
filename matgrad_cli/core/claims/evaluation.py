"""The value of a claim on given matrices: Z, W, b, G and Y as SymPy matrices, numbers exact.

Shapes are checked first (shapes.py), so evaluation never starts on a claim that cannot be
computed. SymPy is imported only when a claim is evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, assert_never

from ..layer import Sizes
from . import tree
from .shapes import resolve, shape_of
from .tree import Node


class _Evaluator:
    """Computes values bottom-up: a sympy Rational for number-only parts, otherwise a matrix."""

    def __init__(self, sympy: Any, operands: Mapping[str, Any], sizes: Sizes) -> None:
        self._sympy = sympy
        self._operands = operands
        self._sizes = sizes

    def value(self, node: Node) -> Any:
        sympy = self._sympy
        match node:
            case tree.Name(name=name):
                if name not in self._operands:
                    raise ValueError(f"evaluate needs a value for {name}")
                return sympy.ImmutableMatrix(self._operands[name])
            case tree.Number(value=value):
                return sympy.Rational(value.numerator, value.denominator)
            case tree.Ones(rows=rows, cols=cols):
                return sympy.ones(resolve(rows, self._sizes), resolve(cols, self._sizes))
            case tree.SumAxis(arg=arg, axis=axis):
                matrix = self.value(arg)
                if axis == 0:
                    return sympy.ones(1, matrix.rows) @ matrix
                return matrix @ sympy.ones(matrix.cols, 1)
            case tree.Transpose(arg=arg):
                inner = self.value(arg)
                return inner.T if self._is_matrix(inner) else inner
            case tree.Neg(arg=arg):
                return -self.value(arg)
            case tree.MatMul(left=left, right=right):
                return self.value(left) @ self.value(right)
            case tree.ScalarMul(left=left, right=right):
                return self.value(left) * self.value(right)
            case tree.Add(left=left, right=right):
                augend, addend = self._rows_matched(self.value(left), self.value(right))
                return augend + addend
            case tree.Sub(left=left, right=right):
                minuend, subtrahend = self._rows_matched(self.value(left), self.value(right))
                return minuend - subtrahend
            case _:
                assert_never(node)

    def _is_matrix(self, value: Any) -> bool:
        return isinstance(value, self._sympy.MatrixBase)

    def _rows_matched(self, left: Any, right: Any) -> tuple[Any, Any]:
        """Repeat a 1×c row to the other side's height (the only broadcast shape_of allows)."""
        if not (self._is_matrix(left) and self._is_matrix(right)) or left.shape == right.shape:
            return left, right
        if left.rows == 1:
            return self._sympy.ones(right.rows, 1) @ left, right
        return left, self._sympy.ones(left.rows, 1) @ right


def evaluate(node: Node, operands: Mapping[str, Any], sizes: Sizes, *, expand: bool = True) -> Any:
    """Compute ``node`` on sympy matrices named Z, W, b, G, Y; returns a Matrix, entries expanded.

    Shapes are checked first (against the operands' own shapes), so a wrong claim raises
    ShapeMismatch before any arithmetic; a number-only claim becomes a 1×1 matrix.
    """
    import sympy

    operand_shapes = {
        name: (int(value.shape[0]), int(value.shape[1])) for name, value in operands.items()
    }
    shape_of(node, sizes, operand_shapes)
    result = _Evaluator(sympy, operands, sizes).value(node)
    if not isinstance(result, sympy.MatrixBase):
        result = sympy.Matrix([[result]])
    # Expanded entries compare structurally for polynomials; a caller comparing expressions with
    # exponentials asks for them as computed, so that exp(a + b) is not split into exp(a)·exp(b).
    return sympy.Matrix(result).applyfunc(sympy.expand) if expand else sympy.Matrix(result)
