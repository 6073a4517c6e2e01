"""The matrix route: the backward rules of the layer (G·Wᵀ, Zᵀ·G, 1ᵀ·G) multiplied out.

A product with G = ∂L/∂A is linear in G's entries, so each of its entries is kept as a linear
form Σ ∂L/∂a_{p,q} · coefficient, the same shape the chain rule gives. The products are computed
here from the symbols and the layer's rules alone, never from the elementwise route
(elementwise.py), which this module does not import: the two meet only in compare.py, so a wrong
rule shows up as a mismatch (SPEC section 1: a verification that could not fail is worthless).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .checks import Comparand, comparand_text
from .engine import Engine, add_by_key
from .layer import Factor, Sizes, Variable
from .model import LinearForm, MatrixForm, Symbols, UpstreamTerm

#: A matrix route: the forms under test for one layer, from its symbols alone.
MatrixRoute = Callable[[Symbols, Sizes, bool, Engine], dict[Variable, MatrixForm]]


def upstream_form(sizes: Sizes) -> MatrixForm:
    """G = ∂L/∂A itself: entry (i,j) is the single term ∂L/∂a_{i,j} · 1."""
    upstream = sizes.layer.role("upstream")
    rows, cols = upstream.shape(sizes)
    return MatrixForm(
        upstream.text,
        (rows, cols),
        tuple(tuple((((i, j), 1),) for j in range(1, cols + 1)) for i in range(1, rows + 1)),
    )


def transpose(form: MatrixForm) -> MatrixForm:
    """The transpose of a matrix form."""
    rows, cols = form.shape
    return MatrixForm(
        f"({form.formula})ᵀ",
        (cols, rows),
        tuple(tuple(form.entries[i][j] for i in range(rows)) for j in range(cols)),
    )


def _linear_sum(
    pieces: Sequence[tuple[LinearForm, Any]], engine: Engine, scale_left: bool
) -> LinearForm:
    """Σ scalar·form (or form·scalar) over ``pieces``, merging terms of the same ∂L/∂a_{p,q}:
    a None scalar (a zero of the constant matrix) and a coefficient that cancels are dropped, and
    products with the integer 1 skipped (a 64³ product form has half a million such terms)."""
    pairs: list[UpstreamTerm] = []
    for form, scalar in pieces:
        if scalar is None:
            continue
        scalar_is_one = scalar.__class__ is int and scalar == 1
        for output, factor in form:
            if scalar_is_one:
                term = factor
            elif factor.__class__ is int and factor == 1:
                term = scalar
            else:
                term = scalar * factor if scale_left else factor * scalar
            pairs.append((output, term))
    return tuple(add_by_key(pairs, engine.is_zero).items())


class ConstantMatrix:
    """A matrix of the layer's own symbol objects, as nested tuples, with ``shape``, ``[i, j]``
    and ``.T``: the products then hold the very objects the chain rule's partials are mapped to
    (see elementwise.Differentiator), and equal entries compare by identity first."""

    def __init__(self, rows: Sequence[Sequence[Any]]) -> None:
        self.rows = tuple(tuple(row) for row in rows)
        self.shape = (len(self.rows), len(self.rows[0]) if self.rows else 0)

    def __getitem__(self, index: tuple[int, int]) -> Any:
        return self.rows[index[0]][index[1]]

    @property
    def T(self) -> ConstantMatrix:
        """The transpose."""
        return ConstantMatrix(tuple(zip(*self.rows, strict=True)))


def _constant_entries(matrix: Any, engine: Engine) -> list[list[Any]]:
    """The entries of a constant matrix, with None standing for each zero entry."""
    rows, cols = matrix.shape
    entries = [[matrix[i, j] for j in range(cols)] for i in range(rows)]
    return [[None if _is_zero(entry, engine) else entry for entry in row] for row in entries]


def _is_zero(entry: Any, engine: Engine) -> bool:
    return entry == 0 if isinstance(entry, int) else engine.is_zero(entry)


def matmul(left: Any, right: Any, engine: Engine, of: Comparand) -> MatrixForm:
    """A matrix form times a constant (engine) matrix, or a constant matrix times a matrix form;
    ValueError when the inner sizes differ."""
    if isinstance(left, MatrixForm) == isinstance(right, MatrixForm):
        raise TypeError("matmul multiplies one matrix form by one constant matrix")
    left_shape = left.shape if isinstance(left, MatrixForm) else tuple(map(int, left.shape))
    right_shape = right.shape if isinstance(right, MatrixForm) else tuple(map(int, right.shape))
    if left_shape[1] != right_shape[0]:
        raise ValueError(
            f"{comparand_text(of)}: inner sizes {left_shape[1]} and {right_shape[0]} differ"
        )
    rows, inner, cols = left_shape[0], left_shape[1], right_shape[1]
    form_left = isinstance(left, MatrixForm)
    form = left.entries if form_left else right.entries
    constant = _constant_entries(right if form_left else left, engine)
    entries = tuple(
        tuple(
            _linear_sum(
                [(form[i][s], constant[s][c]) for s in range(inner)]
                if form_left
                else [(form[s][c], constant[i][s]) for s in range(inner)],
                engine,
                not form_left,
            )
            for c in range(cols)
        )
        for i in range(rows)
    )
    return MatrixForm(of, (rows, cols), entries)


def _factor(factor: Factor, symbols: Symbols, sizes: Sizes) -> MatrixForm | ConstantMatrix:
    """The value of one factor of a backward rule: G as a matrix form, any other matrix of the
    layer as a constant matrix of its own symbols (ones for the column of ones)."""
    matrix = sizes.layer.matrix(factor.matrix)
    if matrix.role == "upstream":
        form = upstream_form(sizes)
        return transpose(form) if factor.transposed else form
    if matrix.role == "ones":
        constant = ConstantMatrix([[1]] * sizes.size(matrix.rows))
    else:
        constant = ConstantMatrix(symbols.rows(matrix.name))
    return constant.T if factor.transposed else constant


def matrix_forms(
    symbols: Symbols, sizes: Sizes, bias: bool, engine: Engine
) -> dict[Variable, MatrixForm]:
    """The backward rules of the layer multiplied out: G·Wᵀ, Zᵀ·G and, with the bias, 1_mᵀ·G (or
    Wᵀ·G, G·Xᵀ and G·1_m with samples as columns)."""
    forms: dict[Variable, MatrixForm] = {}
    for name in sizes.layer.variables(bias):
        rule = sizes.layer.rule(name)
        left, right = (_factor(factor, symbols, sizes) for factor in rule.factors)
        forms[name] = matmul(left, right, engine, rule)
    return forms
