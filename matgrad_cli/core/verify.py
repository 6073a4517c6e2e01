"""The matrix side: ∂L/∂A·Wᵀ, Zᵀ·∂L/∂A and 1ᵀ·∂L/∂A, multiplied out and compared entry by entry with
the elementwise partials from derive.py.

A product with G = ∂L/∂A is linear in G's entries, so each of its entries is kept as a linear
form Σ ∂L/∂a_{p,q} · coefficient, the same shape the chain rule gives. The products are computed
here from the symbols alone, never from the elementwise results, so a wrong formula shows up as a
mismatch (SPEC section 1: a verification that could not fail is worthless). Claims written as
ordinary matrices of expressions (``matgrad check``) are compared through ``compare_matrix``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .checks import MISMATCHES_KEPT, Check, Comparand, Mismatch, WithoutBias, comparand_text
from .engine import Engine, add_by_key, linear_value
from .layer import LAYER, Shape, Sizes, Variable
from .model import Gradient, LinearForm, MatrixForm, Symbols, UpstreamTerm

#: The matrix forms under test (Matrix Cookbook eqs. 69-71, written in gradient layout).
FORMULAS: dict[Variable, str] = {rule.variable: rule.text for rule in LAYER.backward}


def upstream_form(sizes: Sizes) -> MatrixForm:
    """G = ∂L/∂A itself: entry (i,j) is the single term ∂L/∂a_{i,j} · 1."""
    return MatrixForm(
        "∂L/∂A",
        (sizes.m, sizes.n),
        tuple(tuple((((i, j), 1),) for j in range(1, sizes.n + 1)) for i in range(1, sizes.m + 1)),
    )


def transpose(form: MatrixForm, of: Comparand | None = None) -> MatrixForm:
    """The transpose of a matrix form."""
    rows, cols = form.shape
    return MatrixForm(
        of or f"({form.formula})ᵀ",
        (cols, rows),
        tuple(tuple(form.entries[i][j] for i in range(rows)) for j in range(cols)),
    )


def _linear_sum(
    pieces: Sequence[tuple[LinearForm, Any]], engine: Engine, scale_left: bool
) -> LinearForm:
    """Σ scalar·form (or form·scalar) over ``pieces``, merging terms of the same ∂L/∂a_{p,q}.

    Pieces whose scalar is None (a zero entry of the constant matrix) are skipped; a merged
    coefficient that cancels to zero is dropped. Multiplying by the integer 1 (the coefficient
    of G's own entries) is skipped: a 64³ product form has half a million such terms.
    """
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
    (see derive.Differentiator), and equal entries compare by identity first."""

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
    """A matrix form times a constant matrix, or a constant matrix times a matrix form.

    The constant is an engine matrix (entries such as z_{i,r}); exactly one side is a MatrixForm.
    Raises ValueError when the inner sizes differ.
    """
    if isinstance(left, MatrixForm) == isinstance(right, MatrixForm):
        raise TypeError("matmul multiplies one matrix form by one constant matrix")
    left_shape = left.shape if isinstance(left, MatrixForm) else tuple(map(int, left.shape))
    right_shape = right.shape if isinstance(right, MatrixForm) else tuple(map(int, right.shape))
    if left_shape[1] != right_shape[0]:
        raise ValueError(
            f"{comparand_text(of)}: inner sizes {left_shape[1]} and {right_shape[0]} differ"
        )
    rows, inner, cols = left_shape[0], left_shape[1], right_shape[1]
    if isinstance(left, MatrixForm):
        constant = _constant_entries(right, engine)
        entries = tuple(
            tuple(
                _linear_sum(
                    [(left.entries[i][s], constant[s][c]) for s in range(inner)], engine, False
                )
                for c in range(cols)
            )
            for i in range(rows)
        )
    else:
        constant = _constant_entries(left, engine)
        entries = tuple(
            tuple(
                _linear_sum(
                    [(right.entries[s][c], constant[i][s]) for s in range(inner)], engine, True
                )
                for c in range(cols)
            )
            for i in range(rows)
        )
    return MatrixForm(of, (rows, cols), entries)


def matrix_forms(
    symbols: Symbols, sizes: Sizes, bias: bool, engine: Engine
) -> dict[Variable, MatrixForm]:
    """The three matrix forms under test: G·Wᵀ, Zᵀ·G and 1_mᵀ·G."""
    upstream = upstream_form(sizes)
    weights = ConstantMatrix(symbols.W)
    inputs = ConstantMatrix(symbols.Z)
    forms: dict[Variable, MatrixForm] = {
        "Z": matmul(upstream, weights.T, engine, LAYER.rule("Z")),
        "W": matmul(inputs.T, upstream, engine, LAYER.rule("W")),
    }
    if bias:
        forms["b"] = matmul(ConstantMatrix([[1] * sizes.m]), upstream, engine, LAYER.rule("b"))
    return forms


def _factors_equal(left: Any, right: Any, engine: Engine) -> bool:
    """Exact equality: canonical forms first, then the expanded difference."""
    return bool(left == right) or engine.is_zero(engine.expand(left - right))


def _forms_equal(left: LinearForm, right: LinearForm, engine: Engine) -> bool:
    """Two linear forms in G are equal when every ∂L/∂a_{p,q} has equal coefficients."""
    if left == right:
        return True
    # A ∂L/∂a_{p,q} missing on one side has coefficient 0 there.
    left_terms, right_terms = dict(left), dict(right)
    return all(
        _factors_equal(left_terms.get(output, 0), right_terms.get(output, 0), engine)
        for output in left_terms.keys() | right_terms.keys()
    )


def compare(
    gradient: Gradient,
    form: MatrixForm,
    bias: bool,
    symbols: Symbols,
    engine: Engine,
) -> Check:
    """Compare every elementwise partial of ``gradient`` with the same entry of ``form``.

    A form of the wrong shape fails without comparing entries.
    """
    if form.shape != gradient.shape:
        return Check(gradient.variable, form.of, bias, gradient.shape, form.shape, False, 0)
    mismatches: list[Mismatch] = []
    mismatch_count = 0
    for rule_row, form_row in zip(gradient.entries, form.entries, strict=True):
        for rule, claimed in zip(rule_row, form_row, strict=True):
            if not _forms_equal(rule.terms, claimed, engine):
                mismatch_count += 1
                if len(mismatches) < MISMATCHES_KEPT:
                    mismatches.append(
                        Mismatch(
                            rule.index,
                            linear_value(rule.terms, symbols.upstream, engine),
                            linear_value(claimed, symbols.upstream, engine),
                        )
                    )
    rows, cols = gradient.shape
    return Check(
        gradient.variable,
        form.of,
        bias,
        gradient.shape,
        form.shape,
        mismatch_count == 0,
        rows * cols,
        tuple(mismatches),
        mismatch_count,
    )


def compare_matrix(
    gradient: Gradient,
    claimed: Any,
    formula: str,
    bias: bool,
    symbols: Symbols,
    engine: Engine,
) -> Check:
    """Compare the elementwise partials with a claimed matrix of expressions, entry by entry."""
    claimed_shape: Shape = (int(claimed.shape[0]), int(claimed.shape[1]))
    if claimed_shape != gradient.shape:
        return Check(gradient.variable, formula, bias, gradient.shape, claimed_shape, False, 0)
    mismatches: list[Mismatch] = []
    mismatch_count = 0
    for row in gradient.entries:
        for rule in row:
            value = linear_value(rule.terms, symbols.upstream, engine)
            other = claimed[rule.index[0] - 1, rule.index[1] - 1]
            if not _factors_equal(value, other, engine):
                mismatch_count += 1
                if len(mismatches) < MISMATCHES_KEPT:
                    mismatches.append(Mismatch(rule.index, value, other))
    rows, cols = gradient.shape
    return Check(
        gradient.variable,
        formula,
        bias,
        gradient.shape,
        claimed_shape,
        mismatch_count == 0,
        rows * cols,
        tuple(mismatches),
        mismatch_count,
    )


def verify_gradients(
    gradients: dict[Variable, Gradient],
    products: dict[Variable, MatrixForm],
    bias: bool,
    symbols: Symbols,
    engine: Engine,
) -> tuple[Check, ...]:
    """The identities of SPEC section 1 for one layer, one check per gradient."""
    return tuple(
        compare(gradients[name], products[name], bias, symbols, engine) for name in gradients
    )


def compare_unchanged(biased: Gradient, plain: Gradient, symbols: Symbols, engine: Engine) -> Check:
    """The check that adding the bias leaves an elementwise gradient unchanged."""
    without_bias = MatrixForm(
        WithoutBias(plain.variable),
        plain.shape,
        tuple(tuple(rule.terms for rule in row) for row in plain.entries),
    )
    return compare(biased, without_bias, True, symbols, engine)
