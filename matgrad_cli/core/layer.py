"""The computation as data: the layer A = ZW (+ 1_m b), its matrices, operations and backward rules.

The layer is stated once here, in each of the two conventions students meet: ``ROWS`` (samples as
the rows of Z, A = ZW + 1_m b, SPEC section 1) and ``COLUMNS`` (samples as the columns of X,
A = WX + b 1_mᵀ). Every other module takes the names, shapes and notation of the layer from the
``Sizes`` it is given (``sizes.layer``), which carry the convention. The backward rules are kept
as factors, not text: the matrix route multiplies them out, the numeric check evaluates them, and
the plain notation (``∂L/∂A · Wᵀ``) is read off them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import ArgumentError, SizeError
from .arguments import integer

Variable = Literal["Z", "X", "W", "b"]
#: How a batch is laid out: samples as the rows of the input (Z) or as its columns (X).
Samples = Literal["rows", "columns"]
SAMPLES: tuple[Samples, ...] = ("rows", "columns")
Index = tuple[int, int]
Shape = tuple[int, int]

#: What a matrix is to the layer: a variable it is differentiated by (input, weights, bias), its
#: output, the upstream gradient ∂L/∂A, or the column of ones that broadcasts the bias.
Role = Literal["input", "weights", "bias", "output", "upstream", "ones"]

#: The roles of the matrices the loss is differentiated by.
VARIABLE_ROLES: tuple[Role, ...] = ("input", "weights", "bias")


@dataclass(frozen=True)
class Sizes:
    """The sizes of the layer and its convention: m samples, k inputs and n outputs each.

    Samples as rows: Z is m×k, W is k×n, b is 1×n, A is m×n. Samples as columns: X is k×m, W is
    n×k, b is n×1, A is n×m.
    """

    m: int
    k: int
    n: int
    samples: Samples = "rows"

    @property
    def layer(self) -> Layer:
        """The layer in this convention."""
        return LAYERS[self.samples]

    def size(self, letter: str) -> int:
        """The size a letter of the description stands for: m, k, n, or 1 for the literal 1."""
        return 1 if letter == "1" else int(getattr(self, letter))

    def shape_of(self, name: str) -> Shape:
        """The shape of the matrix called ``name`` (Z or X, W, b, A or G)."""
        return self.layer.matrix(name).shape(self)


def positive_sizes(
    m: object,
    k: object,
    n: object,
    limit: tuple[str, int] | None = None,
    samples: object = "rows",
) -> Sizes:
    """The sizes when each is a positive integer, and at most a ``limit`` per dimension given by
    its name and value, in the convention ``samples``; else a SizeError naming the first that is
    not (an ArgumentError for an unknown convention)."""
    convention = samples_convention(samples)
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
    return Sizes(values[0], values[1], values[2], convention)


def samples_convention(samples: object) -> Samples:
    """``samples`` when it names a convention (rows or columns); else an ArgumentError."""
    for name in SAMPLES:
        if samples == name:
            return name
    raise ArgumentError(f"samples must be 'rows' or 'columns', got {samples!r}")


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

    @property
    def vector(self) -> bool:
        """True for a row or column vector (the bias), whose entries keep one index."""
        return "1" in (self.rows, self.cols)

    def symbol_name(self, row: int, col: int) -> str:
        """The name of the symbol of entry (row, col), 1-based; a vector keeps one index."""
        if self.vector:
            return f"{self.symbol}_{col if self.rows == '1' else row}"
        return f"{self.symbol}_{row}_{col}"


@dataclass(frozen=True)
class MatrixProduct:
    """``output = left · right``, the matrix product."""

    left: str
    right: str
    output: str


@dataclass(frozen=True)
class BiasBroadcast:
    """``output += ones · bias`` (the row ``bias`` added to every row of ``output``) or, with
    ``bias_first``, ``output += bias · onesᵀ`` (the column ``bias`` added to every column)."""

    ones: str
    bias: str
    output: str
    bias_first: bool = False


Operation = MatrixProduct | BiasBroadcast


@dataclass(frozen=True)
class Factor:
    """A factor of a backward rule: a matrix of the layer in the convention ``samples``,
    transposed or not."""

    matrix: str
    transposed: bool = False
    samples: Samples = "rows"

    @property
    def text(self) -> str:
        """The factor in plain text, e.g. ``Wᵀ``."""
        return LAYERS[self.samples].matrix(self.matrix).text + ("ᵀ" if self.transposed else "")

    def shape(self, sizes: Sizes) -> Shape:
        """The factor's shape at ``sizes``, transposed when it is."""
        rows, cols = sizes.layer.matrix(self.matrix).shape(sizes)
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
ROWS = Layer(
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

#: The same layer with samples as the columns of X: A = WX + b 1_mᵀ, W n×k, X k×m, b n×1. Its
#: backward rules are the transposes of the rows ones: ∂L/∂X = Wᵀ·G, ∂L/∂W = G·Xᵀ, ∂L/∂b = G·1_m.
COLUMNS = Layer(
    matrices=(
        LayerMatrix("X", "x", ("r", "i"), "input", "k", "m", "x", "X"),
        LayerMatrix("W", "w", ("j", "r"), "weights", "n", "k", "w", "W"),
        LayerMatrix("b", "b", ("j",), "bias", "n", "1", "b", "b"),
        LayerMatrix("A", "a", ("j", "i"), "output", "n", "m", "a", "A"),
        LayerMatrix("G", "∂L/∂a", ("j", "i"), "upstream", "n", "m", "dA", "∂L/∂A"),
        LayerMatrix("1", "1", ("i",), "ones", "m", "1", "one", "1"),
    ),
    operations=(MatrixProduct("W", "X", "A"), BiasBroadcast("1", "b", "A", bias_first=True)),
    samples="columns",
    backward=(
        BackwardRule("X", Factor("W", True, "columns"), Factor("G", samples="columns")),
        BackwardRule("W", Factor("G", samples="columns"), Factor("X", True, "columns")),
        BackwardRule("b", Factor("G", samples="columns"), Factor("1", samples="columns")),
    ),
)

LAYERS: dict[Samples, Layer] = {"rows": ROWS, "columns": COLUMNS}
