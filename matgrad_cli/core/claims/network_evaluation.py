"""The value of a claim about a network, entry by entry, on the engine the network was derived on.

The operands are the network's own matrices (X, Wℓ and bℓ as symbols, Aℓ and Hℓ as the forward
pass writes them, G's symbols, and the gradients found before the one claimed as the matrix route
found them), so that the claim's entries are made of the same objects as the verified gradient
and the exact equality test of network_compare.py applies to them. Activations are the core's:
``relu'(A1)`` is ``Relu().derivative`` at each entry of A1, ``(A1 > 0)`` the step
Heaviside(e, 0), relu′ with relu′(0) = 0. Shapes are checked first (shapes.py), so evaluation
never starts on a claim that cannot be computed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, assert_never

from ..activations import Activation, activation_named, cas_module, step
from ..engine import Engine
from ..layer import Sizes
from ..network import Matrix, Network
from . import tree
from .network_names import ACTIVATION_WORDS
from .shapes import resolve, shape_of
from .tree import Node, flat_parts


def activation_of(network: Network, node: tree.Applied) -> Activation:
    """The activation ``node`` applies: the network's own for ``σ`` (of the layer whose A it is
    applied to; else the hidden layers', or the output's in a network of one layer), the
    network's when it has the one named (with its slope), else the one named."""
    if node.function == "σ":
        arg = node.arg
        if isinstance(arg, tree.Name) and arg.name[0] == "A" and arg.name[1:].isdigit():
            return network.activation_of(int(arg.name[1:]))
        return network.activation if network.depth > 1 else network.output_activation
    name = ACTIVATION_WORDS[node.function]
    for own in (network.activation, network.output_activation):
        if own.name == name:
            return own
    return activation_named(name)


class _Evaluator:
    def __init__(
        self, network: Network, engine: Engine, operands: Mapping[str, Matrix], sizes: Sizes
    ) -> None:
        self._network = network
        self._engine = engine
        self._operands = operands
        self._sizes = sizes
        self._cas = cas_module(engine)
        self._flat: set[int] = set()

    def run(self, node: Node) -> Matrix | Any:
        self._flat = flat_parts(node)
        return self.value(node)

    def _number(self, value: Any) -> Any:
        return self._cas.Rational(value.numerator, value.denominator)

    def value(self, node: Node) -> Any:
        """A matrix (a tuple of rows) or, for a part made of numbers alone, a number."""
        match node:
            case tree.Name(name=name):
                return self._operands[name]
            case tree.Number(value=value):
                return self._number(value)
            case tree.Size(name=name):
                return self._cas.Integer(self._sizes.size(name))
            case tree.Ones(rows=rows, cols=cols):
                one = self._cas.Integer(1)
                size = resolve(rows, self._sizes), resolve(cols, self._sizes)
                return tuple(tuple(one for _ in range(size[1])) for _ in range(size[0]))
            case tree.Softmax():
                raise ValueError("softmax is not part of a network's claims")
            case tree.SumAxis():
                return self._summed(node)
            case tree.Transpose(arg=arg):
                inner = self.value(arg)
                if not _is_matrix(inner) or id(arg) in self._flat:
                    return inner
                return tuple(zip(*inner, strict=True))
            case tree.Neg(arg=arg):
                return self._map(self.value(arg), lambda e: -e)
            case tree.OnesLike(arg=arg):
                inner = self.value(arg)
                return self._map(inner, lambda e: self._cas.Integer(1))
            case tree.Applied():
                return self._applied(node)
            case tree.Positive(arg=arg):
                return self._map(self.value(arg), lambda e: step(self._engine, e))
            case tree.MatMul(left=left, right=right):
                return self._matmul(left, right)
            case tree.ScalarMul(left=left, right=right) | tree.Hadamard(left=left, right=right):
                return self._elementwise(self.value(left), self.value(right), lambda a, b: a * b)
            case tree.Div(left=left, right=right):
                divisor = self.value(right)
                return self._map(self.value(left), lambda e: e / divisor)
            case tree.Add(left=left, right=right):
                return self._elementwise(self.value(left), self.value(right), lambda a, b: a + b)
            case tree.Sub(left=left, right=right):
                return self._elementwise(self.value(left), self.value(right), lambda a, b: a - b)
            case _:
                assert_never(node)

    def _map(self, value: Any, function: Any) -> Any:
        if not _is_matrix(value):
            return function(value)
        return tuple(tuple(function(entry) for entry in row) for row in value)

    def _applied(self, node: tree.Applied) -> Any:
        activation = activation_of(self._network, node)
        engine = self._engine
        if node.derivative:
            return self._map(self.value(node.arg), lambda e: activation.derivative(engine, e))
        return self._map(self.value(node.arg), lambda e: activation.forward(engine, e))

    def _elementwise(self, left: Any, right: Any, operation: Any) -> Any:
        """Entry by entry, as NumPy broadcasts: a number to every entry, a row down the rows,
        a column across the columns."""
        if not _is_matrix(left) and not _is_matrix(right):
            return operation(left, right)
        if not _is_matrix(left):
            return self._map(right, lambda e: operation(left, e))
        if not _is_matrix(right):
            return self._map(left, lambda e: operation(e, right))
        rows, cols = max(len(left), len(right)), max(len(left[0]), len(right[0]))

        def entry(matrix: Matrix, i: int, j: int) -> Any:
            return matrix[i if len(matrix) > 1 else 0][j if len(matrix[0]) > 1 else 0]

        return tuple(
            tuple(operation(entry(left, i, j), entry(right, i, j)) for j in range(cols))
            for i in range(rows)
        )

    def _matmul(self, left: Node, right: Node) -> Matrix:
        factor, other = self.value(left), self.value(right)
        if id(right) in self._flat:
            other = tuple(zip(*other, strict=True))  # a 1-D array on the right is a column
        add = self._engine.add
        inner = range(len(other))
        product = tuple(
            tuple(add([row[s] * other[s][c] for s in inner]) for c in range(len(other[0])))
            for row in factor
        )
        return tuple(zip(*product, strict=True)) if id(right) in self._flat else product

    def _summed(self, node: tree.SumAxis) -> Matrix:
        matrix = self.value(node.arg)
        add = self._engine.add
        if node.axis == 0 and id(node.arg) not in self._flat:
            count = len(matrix)
            total: Matrix = (tuple(add(list(column)) for column in zip(*matrix, strict=True)),)
        else:
            count = len(matrix[0])
            total = tuple((add(list(row)),) for row in matrix)
            if not node.keepdims:
                total = tuple(zip(*total, strict=True))  # 1-D, held as a row
        if node.mean:
            total = tuple(tuple(e / count for e in row) for row in total)
        return total


def _is_matrix(value: Any) -> bool:
    return isinstance(value, tuple)


def network_shapes(network: Network, names: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """The shape of each name a network's claim may use: its matrices, G, and the gradients
    ``dAℓ``, ``dHℓ`` (their matrix's shape)."""
    shapes = {"G": (network.sizes.m, network.sizes.n)}
    for name in names:
        plain = name[1:] if name.startswith("d") else name
        shapes[name] = network.shape_of(plain)
    return shapes


def evaluate_network_claim(
    node: Node,
    network: Network,
    engine: Engine,
    operands: Mapping[str, Matrix],
) -> Matrix:
    """The claim's value as a matrix of engine expressions; a number is a 1×1 matrix. Raises
    ShapeMismatch (before any arithmetic) when the shapes do not fit."""
    sizes = Sizes(network.sizes.m, network.sizes.k, network.sizes.n)
    shapes = network_shapes(network, tuple(name for name in operands if name != "G"))
    shape_of(node, sizes, shapes, network=True)
    result = _Evaluator(network, engine, operands, sizes).run(node)
    matrix: Matrix = result if _is_matrix(result) else ((result,),)
    return matrix
