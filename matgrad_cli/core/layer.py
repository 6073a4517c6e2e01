"""The computation as data: the layer A = ZW (+ 1_m b), its matrices, operations and backward rules.

Every other module takes the names, shapes and notation of the layer from ``LAYER`` (SPEC
section 1), so the layer is stated once here. The backward rules are kept as factors, not text:
the matrix route multiplies them out, the numeric check evaluates them, and the plain notation
(``∂L/∂A · Wᵀ``) is read off them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import SizeError
from .arguments import integer

Variable = Literal["Z", "W", "b"]
Index = tuple[int, int]
Shape = tuple[int, int]

#: What a matrix is to the layer: a variable it is differentiated by (input, weights, bias), its
#: output, the upstream gradient ∂L/∂A, or the column of ones that broadcasts the bias.
Role = Literal["input", "weights", "bias", "output", "upstream", "ones"]

#: The roles of the matrices the loss is differentiated by.
VARIABLE_ROLES: tuple[Role, ...] = ("input", "weights", "bias")


@dataclass(frozen=True)
class Sizes:
    """The sizes of the layer: Z is m×k, W is k×n, b is 1×n, A is m×n."""

    m: int
    k: int
    n: int

    def size(self, letter: str) -> int:
        """The size a letter of the description stands for: m, k, n, or 1 for the literal 1."""
        return 1 if letter == "1" else int(getattr(self, letter))

    def shape_of(self, name: str) -> Shape:
        """The shape of the matrix called ``name`` (Z, W, b, A or G)."""
        return LAYER.matrix(name).shape(self)


def positive_sizes(m: object, k: object, n: object, limit: tuple[str, int] | None = None) -> Sizes:
    """The sizes when each is a positive integer, and at most a ``limit`` per dimension given by
    its name and value; else a SizeError naming the first that is not."""
    values = []
    for name, given in (("m", m), ("k", k), ("n", n)):
        value = integer(given)  # a NumPy integer is a size too
        if value is None:
            raise SizeError(f"size {name} must be a positive integer, got {given!r}")
        if value < 1:
            raise SizeError(f"size {name} must be a positive integer, got {value}")
        if limit is not None and value > limit[1]:
            raise SizeError(
                f"size {name} = {value} is above the {limit[0]} of {limit[1]} per dimension"
            )
        values.append(value)
    return Sizes(*values)


@dataclass(frozen=True)
class LayerMatrix:
    """One matrix of the layer: its name, its entries' letter and indices, its role and shape.

    ``rows`` and ``cols`` are size letters (m, k, n, or 1). ``symbol`` is the stem of its entries'
    symbols, joined to the 1-based indices with underscores (z_1_2, b_3, dA_2_1). ``text`` is how
    a formula writes the matrix in plain text (∂L/∂A for G).
    """

    name: str
    entry: str
    indices: tuple[str, ...]
    role: Role
    rows: str
    cols: str
    symbol: str
    text: str

    def shape(self, sizes: Sizes) -> Shape:
        return (sizes.size(self.rows), sizes.size(self.cols))

    def symbol_name(self, row: int, col: int) -> str:
        """The name of the symbol of entry (row, col), 1-based; a row vector keeps one index."""
        return f"{self.symbol}_{col}" if self.rows == "1" else f"{self.symbol}_{row}_{col}"


@dataclass(frozen=True)
class MatrixProduct:
    """``output = left · right``, the matrix product."""

    left: str
    right: str
    output: str


@dataclass(frozen=True)
class BiasBroadcast:
    """``output += ones · bias``: the row ``bias`` added to every row of ``output``."""

    ones: str
    bias: str
    output: str


Operation = MatrixProduct | BiasBroadcast


@dataclass(frozen=True)
class Factor:
    """A factor of a backward rule: a matrix of the layer, transposed or not."""

    matrix: str
    transposed: bool = False

    @property
    def text(self) -> str:
        """The factor in plain text, e.g. ``Wᵀ``."""
        return LAYER.matrix(self.matrix).text + ("ᵀ" if self.transposed else "")

    def shape(self, sizes: Sizes) -> Shape:
        """The factor's shape at ``sizes``, transposed when it is."""
        rows, cols = LAYER.matrix(self.matrix).shape(sizes)
        return (cols, rows) if self.transposed else (rows, cols)


@dataclass(frozen=True)
class BackwardRule:
    """∂L/∂variable = left · right, in gradient (denominator) layout.

    The Matrix Cookbook, eqs. 69-71, written in gradient layout: ∂L/∂Z = G·Wᵀ, ∂L/∂W = Zᵀ·G and,
    for the bias broadcast over the rows, ∂L/∂b = 1_mᵀ·G.
    """

    variable: Variable
    left: Factor
    right: Factor

    @property
    def factors(self) -> tuple[Factor, Factor]:
        return (self.left, self.right)

    @property
    def text(self) -> str:
        """The right side in plain text, e.g. ``∂L/∂A · Wᵀ``."""
        return f"{self.left.text} · {self.right.text}"

    @property
    def identity(self) -> str:
        """The whole identity in plain text, e.g. ``∂L/∂Z = ∂L/∂A · Wᵀ``."""
        return f"∂L/∂{self.variable} = {self.text}"

    def inner_size(self, sizes: Sizes) -> int:
        """The length of the sum in each entry of the product: the chain rule's terms."""
        return self.left.shape(sizes)[1]


@dataclass(frozen=True)
class Layer:
    """A layer as data: its matrices, its operations in order, its convention, its backward rules.

    ``samples`` says how a batch is laid out: as the rows of Z (A = ZW + 1b) or as columns.
    """

    matrices: tuple[LayerMatrix, ...]
    operations: tuple[Operation, ...]
    samples: Literal["rows", "columns"]
    backward: tuple[BackwardRule, ...]

    def matrix(self, name: str) -> LayerMatrix:
        """The matrix called ``name``; KeyError for a name the layer does not have."""
        return {matrix.name: matrix for matrix in self.matrices}[name]

    def role(self, role: Role) -> LayerMatrix:
        """The matrix with ``role``; KeyError when the layer has none."""
        return {matrix.role: matrix for matrix in self.matrices}[role]

    def rule(self, variable: str) -> BackwardRule:
        """The backward rule for ∂L/∂``variable``; KeyError for a matrix that has none."""
        rules: dict[str, BackwardRule] = {rule.variable: rule for rule in self.backward}
        return rules[variable]

    def variables(self, bias: bool) -> tuple[Variable, ...]:
        """The names of the matrices differentiated by, in order; the bias only with ``bias``."""
        return tuple(
            self.rule(matrix.name).variable
            for matrix in self.matrices
            if matrix.role in VARIABLE_ROLES and (bias or matrix.role != "bias")
        )


#: The layer of SPEC section 1: A = ZW + 1_m b, samples as the rows of Z.
LAYER = Layer(
    matrices=(
        LayerMatrix("Z", "z", ("i", "r"), "input", "m", "k", "z", "Z"),
        LayerMatrix("W", "w", ("r", "j"), "weights", "k", "n", "w", "W"),
        LayerMatrix("b", "b", ("j",), "bias", "1", "n", "b", "b"),
        LayerMatrix("A", "a", ("i", "j"), "output", "m", "n", "a", "A"),
        LayerMatrix("G", "∂L/∂a", ("i", "j"), "upstream", "m", "n", "dA", "∂L/∂A"),
        LayerMatrix("1", "1", ("i",), "ones", "m", "1", "one", "1"),
    ),
    operations=(MatrixProduct("Z", "W", "A"), BiasBroadcast("1", "b", "A")),
    samples="rows",
    backward=(
        BackwardRule("Z", Factor("G"), Factor("W", transposed=True)),
        BackwardRule("W", Factor("Z", transposed=True), Factor("G")),
        BackwardRule("b", Factor("1", transposed=True), Factor("G")),
    ),
)
