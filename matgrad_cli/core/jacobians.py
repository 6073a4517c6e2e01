"""The Jacobians ∂A/∂W and ∂A/∂Z of A = ZW (or ∂A/∂W and ∂A/∂X of A = WX, with samples as
columns), computed entry by entry and verified (SPEC §5).

∂A/∂W is a fourth-order object, ∂a_{i,j}/∂w_{r,q} = z_{i,r} δ_{j,q}. Laid out with the
column-major vec operator it is the (mn)×(kn) matrix J_W = ∂vec(A)/∂vec(W)ᵀ (numerator layout:
one row per entry of vec(A)), and likewise J_Z = ∂vec(A)/∂vec(Z)ᵀ is (mn)×(mk). Denominator
layout prints their transposes, ∂vec(A)ᵀ/∂vec(W) and ∂vec(A)ᵀ/∂vec(Z). With samples as columns,
vec(WX) = (I_m ⊗ W) vec(X) = (Xᵀ ⊗ I_n) vec(W): J_X = I_m ⊗ W and J_W = Xᵀ ⊗ I_n.

Two routes meet in every check and never share code:

- the Jacobians are the engine's derivatives of the expanded entries of A (elementwise.forward);
- the Kronecker products (I_n ⊗ Z and Wᵀ ⊗ I_m, or I_m ⊗ W and Xᵀ ⊗ I_n) are built block by
  block from the definition A ⊗ B = [a_{s,t} B] (Matrix Cookbook §10.2.1, ``kronecker``), their
  factors read off the layer's product by vec(PVQ) = (Qᵀ ⊗ P) vec(V) (§10.2.2), and the
  gradients are the matrix products of the layer's backward rules (matrix.matrix_forms).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, get_args

from ..errors import InputError, SizeError
from . import bridge
from .arguments import optional_name
from .checks import Mismatch, kept_mismatches
from .compare import exactly_equal
from .derive import build_symbols
from .elementwise import forward
from .engine import Engine, get_engine, linear_value
from .layer import Index, Layer, MatrixProduct, Shape, Sizes, Variable, positive_sizes
from .matrix import matrix_forms
from .model import MatrixForm, Outputs, Symbols

Layout = Literal["numerator", "denominator"]
LAYOUTS: tuple[Layout, ...] = get_args(Layout)

#: The variables A is differentiated with respect to: the weights and the input (Z, or X with
#: samples as columns).
JacobianVariable = Literal["W", "Z", "X"]

#: A matrix as nested tuples of engine expressions (or the Python integers 0 and 1).
Matrix = tuple[tuple[Any, ...], ...]

#: Which entry a row or column of a Jacobian stands for: ("a", i, j), ("w", r, q), ("z", i, r).
VecEntry = tuple[str, int, int]

#: Largest number of Jacobian entries, (mn)·(kn) + (mn)·(mk), computed and compared: the view
#: is for sizes a person reads (a few seconds of work at this limit).
ENTRY_LIMIT = 200_000
#: Every a_{i,j} is differentiated by every variable, so a thin layer's cost grows with the
#: square of its longest side: cap each side as well (500 takes under a second).
SIDE_LIMIT = 500

#: The kinds of check, in document order.
CheckKind = Literal["jacobian", "vec", "contraction", "claim"]


@dataclass(frozen=True)
class JacobianCheck:
    """One verified (or refuted) statement about a Jacobian, compared entry by entry: ``shape``
    is the computed side's, ``claimed_shape`` the independent side's; mismatch indices are 1-based
    (row, column) of the matrices compared, a vector's entries (position, 1)."""

    kind: CheckKind
    variable: JacobianVariable
    identity: str
    shape: Shape
    claimed_shape: Shape
    holds: bool
    entries_checked: int
    mismatches: tuple[Mismatch, ...] = ()
    mismatch_count: int = 0


@dataclass(frozen=True)
class Jacobian:
    """∂A/∂X as a matrix in ``layout``, each entry the engine's derivative: rows follow vec(A)
    and columns vec(X) in numerator layout, the transpose in denominator layout. ``kronecker`` is
    the same matrix built independently as ``formula``, in blocks of ``block_shape``."""

    variable: JacobianVariable
    layout: Layout
    entries: Matrix
    rows: tuple[VecEntry, ...]
    columns: tuple[VecEntry, ...]
    formula: str
    kronecker: Matrix
    block_shape: Shape

    @property
    def shape(self) -> Shape:
        return (len(self.rows), len(self.columns))

    @property
    def block_grid(self) -> Shape:
        """How many blocks there are down and across."""
        return (self.shape[0] // self.block_shape[0], self.shape[1] // self.block_shape[1])

    def block(self, down: int, across: int) -> Matrix:
        """Block (down, across), 0-based, of the computed Jacobian."""
        height, width = self.block_shape
        return tuple(
            tuple(self.entries[down * height + row][across * width : (across + 1) * width])
            for row in range(height)
        )


@dataclass(frozen=True)
class VecProduct:
    """A vec identity multiplied out: entry p of (Kronecker product)·vec(X), kept as its nonzero
    products in column order, against the expanded entry of vec(A) from the forward pass."""

    variable: JacobianVariable
    formula: str
    terms: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class JacobianDerivation(bridge.RenderedInFull):
    """The Jacobian view of A = ZW at explicit sizes: both Jacobians, the vec identities, the
    contractions with G = ∂L/∂A, and every check made."""

    sizes: Sizes
    layout: Layout
    engine: str
    symbols: Symbols
    jacobians: dict[JacobianVariable, Jacobian]
    vec_products: dict[JacobianVariable, VecProduct]
    #: The Jacobian contracted with vec(G), reshaped into the shape of the variable.
    contractions: dict[JacobianVariable, MatrixForm]
    checks: tuple[JacobianCheck, ...]
    #: The original notes' "∂Y/∂W = Xᵀ", checked as a claim about the Jacobian (SPEC §5).
    notes_claim: JacobianCheck

    @property
    def verified(self) -> bool:
        """True when every identity held at every entry."""
        return all(check.holds for check in self.checks)

    @property
    def variables(self) -> tuple[JacobianVariable, JacobianVariable]:
        """W and the input, in the order the view shows them."""
        return jacobian_variables(self.sizes.layer)

    @property
    def degenerate(self) -> str:
        """The sizes at which ∂A/∂W as a matrix is the transposed input, as the notes' claim has
        it: n = 1 when its Kronecker product has the factor I_n beside that transpose (I_n ⊗ Zᵀ,
        Xᵀ ⊗ I_n), else only m = k = n = 1."""
        factors = kronecker_factors(self.sizes.layer, "W", self.layout)
        transposed_input = KroneckerFactor(self.sizes.layer.role("input").name, True)
        return "n = 1" if transposed_input in factors else "m = k = n = 1"

    def check(self, kind: CheckKind, variable: JacobianVariable) -> JacobianCheck:
        return next(c for c in self.checks if c.kind == kind and c.variable == variable)


def _shape(matrix: Matrix) -> Shape:
    return (len(matrix), len(matrix[0]) if matrix else 0)


def compare_matrices(
    kind: CheckKind,
    variable: JacobianVariable,
    identity_text: str,
    computed: Matrix,
    claimed: Matrix,
    engine: Engine,
) -> JacobianCheck:
    """Compare two matrices entry by entry; different shapes fail without comparing entries."""
    shape, claimed_shape = _shape(computed), _shape(claimed)
    if shape != claimed_shape:
        return JacobianCheck(kind, variable, identity_text, shape, claimed_shape, False, 0)
    kept, count = kept_mismatches(
        ((row + 1, col + 1), value, other)
        for row, (computed_row, claimed_row) in enumerate(zip(computed, claimed, strict=True))
        for col, (value, other) in enumerate(zip(computed_row, claimed_row, strict=True))
        if not exactly_equal(value, other, engine)
    )
    entries = shape[0] * shape[1]
    return JacobianCheck(
        kind, variable, identity_text, shape, claimed_shape, count == 0, entries, kept, count
    )


# The independent route: vec, identity matrices and Kronecker products, each built from its
# definition on nested tuples (vec stacks the columns); none of them differentiates anything.
def vec_order(rows: int, cols: int) -> tuple[Index, ...]:
    """The 1-based (row, column) of each entry of vec(X), column by column (column-major)."""
    return tuple((i, j) for j in range(1, cols + 1) for i in range(1, rows + 1))


def vec(matrix: Matrix) -> tuple[Any, ...]:
    """The columns of ``matrix`` stacked into one vector."""
    rows, cols = len(matrix), len(matrix[0])
    return tuple(matrix[i - 1][j - 1] for i, j in vec_order(rows, cols))


def identity(size: int) -> Matrix:
    """I_size with the integers 0 and 1."""
    return tuple(tuple(int(i == j) for j in range(size)) for i in range(size))


def transposed(matrix: Matrix) -> Matrix:
    """The transpose of a nested-tuple matrix."""
    return tuple(zip(*matrix, strict=True))


def _scaled(scale: Any, entry: Any) -> Any:
    """scale·entry, the integer 0 when either is exactly 0: zero blocks stay visibly zero."""
    if scale == 0 or entry == 0:
        return 0
    if bool(scale == 1):
        return entry
    return scale if bool(entry == 1) else scale * entry


def kronecker(left: Matrix, right: Matrix) -> Matrix:
    """left ⊗ right: block (s, t) is left[s][t]·right (Matrix Cookbook §10.2.1)."""
    return tuple(
        tuple(_scaled(scale, entry) for scale in left_row for entry in right_row)
        for left_row in left
        for right_row in right
    )


def vec_labels(letter: str, rows: int, cols: int) -> tuple[VecEntry, ...]:
    """Which entry each position of vec(X) holds: (letter, i, j), column by column."""
    return tuple((letter, i, j) for i, j in vec_order(rows, cols))


@dataclass(frozen=True)
class KroneckerFactor:
    """A factor of a Kronecker product: a matrix of the layer (Z, X or W), transposed or not, or
    the identity matrix of the size letter ``identity`` (I_m, I_n)."""

    name: str
    transposed: bool = False
    identity: str = ""

    @property
    def text(self) -> str:
        """``I_n``, ``Z`` or ``Wᵀ``."""
        if self.identity:
            return f"I_{self.identity}"
        return self.name + ("ᵀ" if self.transposed else "")

    @property
    def T(self) -> KroneckerFactor:
        """The transpose: an identity matrix is its own."""
        if self.identity:
            return self
        return KroneckerFactor(self.name, not self.transposed)

    def matrix(self, symbols: Symbols, sizes: Sizes) -> Matrix:
        """The factor's entries: the layer's symbols, or the integers of an identity matrix."""
        if self.identity:
            return identity(sizes.size(self.identity))
        entries = symbols.rows(self.name)
        return transposed(entries) if self.transposed else entries


def jacobian_variables(layer: Layer) -> tuple[JacobianVariable, JacobianVariable]:
    """W, then the input (Z or X): the matrices of the layer's product."""
    return ("W", "X" if layer.role("input").name == "X" else "Z")


def kronecker_factors(
    layer: Layer, variable: str, layout: Layout
) -> tuple[KroneckerFactor, KroneckerFactor]:
    """The two factors of ∂vec(A)/∂vec(V)ᵀ as a Kronecker product, read off the layer's product
    A = PVQ by vec(PVQ) = (Qᵀ ⊗ P) vec(V) (Matrix Cookbook §10.2.2): for V on the right of the
    product, P is the matrix on its left and Q the identity over A's columns; for V on the left,
    P is the identity over A's rows and Q the matrix on its right. Numerator layout: Qᵀ ⊗ P;
    denominator layout: its transpose, Q ⊗ Pᵀ."""
    product = next(op for op in layer.operations if isinstance(op, MatrixProduct))
    output = layer.matrix(product.output)
    if variable == product.right:
        left, right = KroneckerFactor(product.left), KroneckerFactor("I", identity=output.cols)
    else:
        left, right = KroneckerFactor("I", identity=output.rows), KroneckerFactor(product.right)
    return (right.T, left) if layout == "numerator" else (right, left.T)


def kronecker_formula(layer: Layer, variable: str, layout: Layout) -> str:
    """The Jacobian's Kronecker product in plain text: ``I_n ⊗ Z``, ``Xᵀ ⊗ I_n``."""
    left, right = kronecker_factors(layer, variable, layout)
    return f"{left.text} ⊗ {right.text}"


def vec_identity(layer: Layer, variable: str) -> str:
    """vec(A) as the numerator-layout Kronecker product times vec(V) (Matrix Cookbook §10.2.2):
    ``(I_n ⊗ Z) vec(W)``."""
    return f"({kronecker_formula(layer, variable, 'numerator')}) vec({variable})"


def jacobian_name(variable: JacobianVariable, layout: Layout) -> str:
    """∂vec(A)/∂vec(W)ᵀ (numerator layout) or ∂vec(A)ᵀ/∂vec(W) (denominator layout)."""
    return f"∂vec(A)/∂vec({variable})ᵀ" if layout == "numerator" else f"∂vec(A)ᵀ/∂vec({variable})"


def _build_jacobian(
    variable: JacobianVariable,
    layout: Layout,
    outputs: Outputs,
    symbols: Symbols,
    sizes: Sizes,
    engine: Engine,
) -> Jacobian:
    """∂vec(A)/∂vec(X)ᵀ from the engine's derivatives (row p is a_{i,j} at position p of vec(A),
    column c the c-th entry of vec(X)), and its Kronecker product; in denominator layout the
    transpose, its Kronecker product built from its own factors, not by transposing."""
    factors = kronecker_factors(sizes.layer, variable, layout)
    left, right = (factor.matrix(symbols, sizes) for factor in factors)
    entries = vec(symbols.rows(variable))
    computed = tuple(
        tuple(engine.diff(outputs[i - 1][j - 1].value, x) for x in entries)
        for i, j in vec_order(*sizes.shape_of("A"))
    )
    rows = vec_labels("a", *sizes.shape_of("A"))
    columns = vec_labels(variable.lower(), *sizes.shape_of(variable))
    if layout == "denominator":
        computed, rows, columns = transposed(computed), columns, rows
    formula = f"{factors[0].text} ⊗ {factors[1].text}"
    return Jacobian(
        variable, layout, computed, rows, columns, formula, kronecker(left, right), _shape(right)
    )


def _vec_product(jacobian: Jacobian, symbols: Symbols) -> VecProduct:
    """(I_n ⊗ Z) vec(W), (Wᵀ ⊗ I_m) vec(Z) or their columns counterparts, multiplied out from the
    numerator-layout Kronecker product (built independently of the derivatives)."""
    variable, product = jacobian.variable, jacobian.kronecker
    factor = product if jacobian.layout == "numerator" else transposed(product)
    vector = vec(symbols.rows(variable))
    terms = tuple(
        tuple(entry * x for entry, x in zip(row, vector, strict=True) if entry != 0)
        for row in factor
    )
    return VecProduct(variable, vec_identity(symbols.layer, variable), terms)


def _contraction(jacobian: Jacobian, sizes: Sizes) -> MatrixForm:
    """vec(∂L/∂X) = J_Xᵀ vec(G), entry c = Σ_p J[p][c] ∂L/∂(vec(A))_p, reshaped into the shape
    of X column by column. Only the computed Jacobian enters."""
    variable, layout = jacobian.variable, jacobian.layout
    # Column c of the numerator layout: ∂(vec A)_p/∂(vec X)_c for every p.
    columns = transposed(jacobian.entries) if layout == "numerator" else jacobian.entries
    outputs, shape = vec_order(*sizes.shape_of("A")), sizes.shape_of(variable)
    terms = {
        index: tuple((output, d) for output, d in zip(outputs, column, strict=True) if d != 0)
        for index, column in zip(vec_order(*shape), columns, strict=True)
    }
    entries = tuple(
        tuple(terms[(row, col)] for col in range(1, shape[1] + 1)) for row in range(1, shape[0] + 1)
    )
    name = f"J_{variable}ᵀ" if layout == "numerator" else jacobian_name(variable, layout)
    return MatrixForm(f"{name} vec(G)", shape, entries)


def check_claim(
    derivation: JacobianDerivation, variable: JacobianVariable, claimed: Matrix, formula: str
) -> JacobianCheck:
    """Check a claimed matrix for ∂A/∂X (in the derivation's layout) against the computed one, as
    a wrong form is rejected: Z ⊗ I_n, I_n ⊗ Zᵀ in numerator layout, or Zᵀ, of another shape
    (with samples as columns: W ⊗ I_m for ∂A/∂X, I_n ⊗ Xᵀ for ∂A/∂W …)."""
    text = f"{jacobian_name(variable, derivation.layout)} = {formula}"
    found, engine = derivation.jacobians[variable].entries, get_engine(derivation.engine)
    return compare_matrices("claim", variable, text, found, claimed, engine)


@dataclass(frozen=True)
class BlockForm:
    """How one block of a Jacobian reads, found by comparing its computed entries: all zero, the
    named matrix of its Kronecker product (``Z``, ``Zᵀ``, ``W`` …), ``scale`` times an identity
    matrix, or none of these."""

    kind: Literal["zero", "matrix", "scaled identity", "entries"]
    factor: KroneckerFactor | None = None
    scale: Any = None


def read_block(jacobian: Jacobian, down: int, across: int, symbols: Symbols) -> BlockForm:
    """The form of block (down, across), 0-based, read off the computed entries (for display;
    the verification compares every entry)."""
    block = jacobian.block(down, across)
    if all(value == 0 for row in block for value in row):
        return BlockForm("zero")
    factor = kronecker_factors(symbols.layer, jacobian.variable, jacobian.layout)[1]
    if not factor.identity:
        named = symbols.rows(factor.name)
        if block == (transposed(named) if factor.transposed else named):
            return BlockForm("matrix", factor)
    diagonal = block[0][0]
    if len(block) == len(block[0]) and block == kronecker(((diagonal,),), identity(len(block))):
        return BlockForm("scaled identity", scale=diagonal)
    return BlockForm("entries")


def _verify(
    jacobians: dict[JacobianVariable, Jacobian],
    vec_products: dict[JacobianVariable, VecProduct],
    contractions: dict[JacobianVariable, MatrixForm],
    products: Mapping[Variable, MatrixForm],
    vec_a: Matrix,
    symbols: Symbols,
    engine: Engine,
) -> tuple[JacobianCheck, ...]:
    """Every check, by kind: each Jacobian against its Kronecker product (vec(ZW) = (I_n ⊗ Z) vec(W)
    = (Wᵀ ⊗ I_m) vec(Z), or vec(WX) = (I_m ⊗ W) vec(X) = (Xᵀ ⊗ I_n) vec(W), Matrix Cookbook
    §10.2.2), vec(A) against each vec identity multiplied out, each contraction with vec(G)
    against the layer's backward rule (matrix.matrix_forms)."""
    compare = partial(compare_matrices, engine=engine)

    def values(form: MatrixForm) -> Matrix:
        return tuple(
            tuple(linear_value(entry, symbols.upstream, engine) for entry in row)
            for row in form.entries
        )

    checks: list[JacobianCheck] = []
    for v, found in jacobians.items():
        name, product = jacobian_name(v, found.layout), vec_products[v]
        rule = symbols.layer.rule(v)
        multiplied = tuple((engine.add(terms),) for terms in product.terms)
        checks += [
            compare("jacobian", v, f"{name} = {found.formula}", found.entries, found.kronecker),
            compare("vec", v, f"vec(A) = {product.formula}", vec_a, multiplied),
            compare("contraction", v, rule.identity, values(contractions[v]), values(products[v])),
        ]
    kinds = get_args(CheckKind)
    return tuple(sorted(checks, key=lambda check: kinds.index(check.kind)))


def validate_jacobian_sizes(m: object, k: object, n: object, samples: object = "rows") -> Sizes:
    """Positive integer sizes, in the convention ``samples``, whose Jacobians are small enough to
    compute and read."""
    sizes = positive_sizes(m, k, n, samples=samples)
    longest = max(sizes.m, sizes.k, sizes.n)
    if longest > SIDE_LIMIT:
        raise SizeError(
            f"a side of {longest} is above the limit of {SIDE_LIMIT} for the Jacobian view, "
            "which is for small layers"
        )
    # (mn)·(kn) entries of ∂A/∂W plus (mn)·(mk) of ∂A/∂Z (or ∂A/∂X), in either convention.
    entries = sizes.m * sizes.n * sizes.k * (sizes.n + sizes.m)
    if entries > ENTRY_LIMIT:
        raise SizeError(
            f"the Jacobians at m={sizes.m}, k={sizes.k}, n={sizes.n} have {entries} entries, "
            f"above the limit of {ENTRY_LIMIT}; the Jacobian view is for small layers "
            "(matgrad derive verifies the gradients at larger sizes)"
        )
    return sizes


def jacobian(
    m: int = 2,
    k: int = 2,
    n: int = 2,
    *,
    layout: str = "numerator",
    engine: str | None = None,
    samples: str = "rows",
) -> JacobianDerivation:
    """Compute and verify ∂A/∂W and ∂A/∂Z of A = ZW (with samples as ``columns``, ∂A/∂W and
    ∂A/∂X of A = WX) at the given sizes, in ``layout``. The bias plays no part: it is a constant
    with respect to W and the input."""
    if layout not in LAYOUTS:
        raise InputError(f"unknown layout {layout!r} (choose from {', '.join(LAYOUTS)})")
    sizes = validate_jacobian_sizes(m, k, n, samples)
    optional_name("engine", engine)
    cas = get_engine(engine)
    symbols = build_symbols(sizes, cas)
    outputs = forward(symbols, sizes, False, cas)
    variables = jacobian_variables(sizes.layer)
    jacobians = {v: _build_jacobian(v, layout, outputs, symbols, sizes, cas) for v in variables}
    vec_products = {v: _vec_product(jacobians[v], symbols) for v in variables}
    contractions = {v: _contraction(jacobians[v], sizes) for v in variables}
    vec_a = tuple((outputs[i - 1][j - 1].value,) for i, j in vec_order(*sizes.shape_of("A")))
    products = matrix_forms(symbols, sizes, False, cas)
    checks = _verify(jacobians, vec_products, contractions, products, vec_a, symbols, cas)
    # The notes' ∂Y/∂W = Xᵀ (SPEC §5): the transposed input claimed for the Jacobian.
    given = variables[1]
    notes_text = f"{jacobian_name('W', layout)} = {given}ᵀ"
    notes = compare_matrices(
        "claim", "W", notes_text, jacobians["W"].entries, transposed(symbols.rows(given)), cas
    )
    return JacobianDerivation(
        sizes, layout, cas.name, symbols, jacobians, vec_products, contractions, checks, notes
    )
