"""The value of a claim on given matrices: Z, W, b, G and Y as SymPy matrices, numbers exact.

Shapes are checked first (shapes.py), so evaluation never starts on a claim that cannot be
computed. Each value built is measured and charged to a meter, when one is given (cost.py), in
the unit the estimate of the claim's cost bounds. SymPy is imported only when a claim is
evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, assert_never

from ..layer import BiasBroadcast, MatrixProduct, Sizes
from . import tree
from .cost import Measure, Meter, measure, node_operations
from .shapes import resolve, shape_of
from .tree import LOSS_TARGETS, OUTPUT, Node, flat_parts


class _Evaluator:
    """Computes values bottom-up: a sympy Rational for number-only parts, otherwise a matrix;
    with a meter, charges each value's operations to it as it is built."""

    def __init__(
        self,
        sympy: Any,
        operands: Mapping[str, Any],
        sizes: Sizes,
        meter: Meter | None,
        flat: set[int],
    ) -> None:
        self._sympy = sympy
        self._operands = operands
        self._sizes = sizes
        self._meter = meter
        self._flat = flat
        self._measured: dict[Any, Measure] = {}
        #: The products of entries the value just built took (by @ or *), read once by value().
        self._products = 0

    def value(self, node: Node) -> Any:
        result = self._value(node)
        products, self._products = self._products, 0
        if self._meter is not None:
            entries = list(result) if self._is_matrix(result) else [result]
            parts = [measure(entry, self._measured) for entry in entries]
            terms = sum(part.terms for part in parts)
            degree = max(part.degree for part in parts)
            self._meter.charge(node_operations(1, terms, degree, products))
        return result

    def _value(self, node: Node) -> Any:
        sympy = self._sympy
        match node:
            case tree.Name(name=name):
                return self._operand(name)
            case tree.Number(value=value):
                return sympy.Rational(value.numerator, value.denominator)
            case tree.Size(name=name):
                return sympy.Integer(self._sizes.size(name))
            case tree.Ones(rows=rows, cols=cols):
                return sympy.ones(resolve(rows, self._sizes), resolve(cols, self._sizes))
            case tree.Softmax():
                return self._softmax()
            case tree.SumAxis():
                return self._summed(node)
            case tree.Transpose(arg=arg):
                inner = self.value(arg)
                flat = id(arg) in self._flat
                return inner.T if self._is_matrix(inner) and not flat else inner
            case tree.Neg(arg=arg):
                return -self.value(arg)
            case tree.OnesLike(arg=arg):
                return sympy.ones(*self.value(arg).shape)
            case tree.Applied() | tree.Positive():
                raise ValueError("activations are evaluated in a network (network_evaluation.py)")
            case tree.MatMul(left=left, right=right):
                return self._matmul(left, right)
            case tree.ScalarMul(left=left, right=right):
                product = self.value(left) * self.value(right)
                self._products = len(product) if self._is_matrix(product) else 1
                return product
            case tree.Hadamard(left=left, right=right):
                first, second = self._broadcast(self.value(left), self.value(right))
                self._products = len(first)
                return first.multiply_elementwise(second)
            case tree.Div(left=left, right=right):
                quotient = self.value(left) * (1 / self.value(right))
                self._products = len(quotient) if self._is_matrix(quotient) else 1
                return quotient
            case tree.Add(left=left, right=right):
                augend, addend = self._rows_matched(self.value(left), self.value(right))
                return augend + addend
            case tree.Sub(left=left, right=right):
                minuend, subtrahend = self._rows_matched(self.value(left), self.value(right))
                return minuend - subtrahend
            case _:
                assert_never(node)

    def _operand(self, name: str) -> Any:
        """An operand's matrix; the output A, when not given, computed from the layer's
        variables by its operations (ZW + 1b, or WX + b1ᵀ)."""
        sympy = self._sympy
        if name == OUTPUT and name not in self._operands:
            output, products = None, 0
            for operation in self._sizes.layer.operations:
                if isinstance(operation, MatrixProduct):
                    left, right = self._operand(operation.left), self._operand(operation.right)
                    term, products = left @ right, products + left.rows * left.cols * right.cols
                else:
                    term = self._broadcast_bias(operation)
                    products += len(term)
                output = term if output is None else output + term
            self._products = products
            return sympy.ImmutableMatrix(output)
        if name not in self._operands:
            raise ValueError(f"evaluate needs a value for {name}")
        return sympy.ImmutableMatrix(self._operands[name])

    def _broadcast_bias(self, operation: BiasBroadcast) -> Any:
        """The bias repeated over the samples: 1ₘb (rows of b), or b1ₘᵀ (columns of b)."""
        bias = self._operand(operation.bias)
        ones = self._sympy.ones(self._sizes.m, 1)
        return bias @ ones.T if operation.bias_first else ones @ bias

    def _softmax(self) -> Any:
        """softmax(A) times the sum of each row of Y, that is G + Y under the softmax loss
        (∂L/∂A = (Σ_q y_iq)·softmax(A) − Y): softmax(A) itself where the rows of Y sum to 1,
        the condition under which the loss's closed form softmax(A) − Y holds."""
        self._products = len(self._operand("G"))
        return self._operand("G") + self._operand(LOSS_TARGETS)

    def _summed(self, node: tree.SumAxis) -> Any:
        sympy = self._sympy
        matrix = self.value(node.arg)
        if node.axis == 0 and id(node.arg) not in self._flat:
            count, total = matrix.rows, sympy.ones(1, matrix.rows) @ matrix
        else:
            count, total = matrix.cols, matrix @ sympy.ones(matrix.cols, 1)
            if not node.keepdims:
                total = total.T  # 1-D, held as a row
        self._products = len(matrix)
        return total / count if node.mean else total

    def _matmul(self, left: Node, right: Node) -> Any:
        """A matrix product; a 1-D array on the right is a column, and the result a row."""
        factor, other = self.value(left), self.value(right)
        if id(right) in self._flat:
            self._products = factor.rows * factor.cols
            return (factor @ other.T).T
        self._products = factor.rows * factor.cols * other.cols
        return factor @ other

    def _broadcast(self, left: Any, right: Any) -> tuple[Any, Any]:
        """Both sides of an elementwise product stretched to one shape, as numpy broadcasts."""
        sympy = self._sympy
        rows, cols = max(left.rows, right.rows), max(left.cols, right.cols)

        def stretched(matrix: Any) -> Any:
            if matrix.rows < rows:
                matrix = sympy.ones(rows, 1) @ matrix
            if matrix.cols < cols:
                matrix = matrix @ sympy.ones(1, cols)
            return matrix

        return stretched(left), stretched(right)

    def _is_matrix(self, value: Any) -> bool:
        return isinstance(value, self._sympy.MatrixBase)

    def _rows_matched(self, left: Any, right: Any) -> tuple[Any, Any]:
        """Repeat a 1×c row to the other side's height (the only broadcast shape_of allows), or
        with samples as columns an r×1 column to its width."""
        if not (self._is_matrix(left) and self._is_matrix(right)) or left.shape == right.shape:
            return left, right
        if self._sizes.samples == "columns":
            if left.cols == 1:
                return left @ self._sympy.ones(1, right.cols), right
            return left, right @ self._sympy.ones(1, left.cols)
        if left.rows == 1:
            return self._sympy.ones(right.rows, 1) @ left, right
        return left, self._sympy.ones(left.rows, 1) @ right


def evaluate(
    node: Node,
    operands: Mapping[str, Any],
    sizes: Sizes,
    *,
    expand: bool = True,
    meter: Meter | None = None,
) -> Any:
    """Compute ``node`` on sympy matrices named Z (or X), W, b, G, Y; returns a Matrix, entries
    expanded.

    Shapes are checked first (against the operands' own shapes), so a wrong claim raises
    ShapeMismatch before any arithmetic; a number-only claim becomes a 1×1 matrix. Each value
    built is charged to ``meter``, when given, before the entries are multiplied out.
    """
    import sympy

    operand_shapes = {
        name: (int(value.shape[0]), int(value.shape[1])) for name, value in operands.items()
    }
    shape_of(node, sizes, operand_shapes)
    flat = flat_parts(node)
    result = _Evaluator(sympy, operands, sizes, meter, flat).value(node)
    if not isinstance(result, sympy.MatrixBase):
        result = sympy.Matrix([[result]])
    elif id(node) in flat and sizes.samples == "columns":
        result = result.T  # a 1-D result, compared as the column (shapes.held_as)
    # Expanded entries compare structurally for polynomials; a caller comparing expressions with
    # exponentials asks for them as computed, so that exp(a + b) is not split into exp(a)·exp(b).
    return sympy.Matrix(result).applyfunc(sympy.expand) if expand else sympy.Matrix(result)
