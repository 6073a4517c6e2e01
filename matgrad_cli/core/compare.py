"""The comparison of the two routes, entry by entry, each recorded as a Check.

The elementwise partials (elementwise.py) and the matrix forms (matrix.py) are both linear forms
in the entries of G = ∂L/∂A; this module compares them and imports neither route. Under a concrete
loss (``compare_rows``) the elementwise side is the chain rule through A of L = Σ_p ℓ_p(a_p), row by
row, and the matrix form is evaluated at G = ∂L/∂A, whose row p is ℓ_p's alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .checks import Check, Comparand, WithoutBias, checked
from .engine import Engine, linear_value
from .layer import Index, Variable
from .loss_base import RowGradient, RowTerm
from .model import Gradient, LinearForm, MatrixForm, Symbols


def exactly_equal(left: Any, right: Any, engine: Engine) -> bool:
    """Exact equality of two entries: canonical forms first, then the expanded difference."""
    return bool(left == right) or engine.is_zero(engine.expand(left - right))


def _forms_equal(left: LinearForm, right: LinearForm, engine: Engine) -> bool:
    """Two linear forms in G are equal when every ∂L/∂a_{p,q} has equal coefficients."""
    if left == right:
        return True
    # A ∂L/∂a_{p,q} missing on one side has coefficient 0 there.
    left_terms, right_terms = dict(left), dict(right)
    return all(
        exactly_equal(left_terms.get(output, 0), right_terms.get(output, 0), engine)
        for output in left_terms.keys() | right_terms.keys()
    )


def compare(
    gradient: Gradient, form: MatrixForm, bias: bool, symbols: Symbols, engine: Engine
) -> Check:
    """Compare every elementwise partial of ``gradient`` with the same entry of ``form``."""
    differing = (
        (rule.index, rule.terms, claimed)
        for rule_row, form_row in zip(gradient.entries, form.entries, strict=True)
        for rule, claimed in zip(rule_row, form_row, strict=True)
        if not _forms_equal(rule.terms, claimed, engine)
    )
    return checked(
        gradient.variable,
        form.of,
        bias,
        gradient.shape,
        form.shape,
        differing,
        shown=lambda terms: linear_value(terms, symbols.upstream, engine),
    )


def compare_matrix(
    gradient: Gradient, claimed: Any, formula: str, bias: bool, symbols: Symbols, engine: Engine
) -> Check:
    """Compare the elementwise partials with a claimed matrix of expressions, entry by entry."""
    claimed_shape = (int(claimed.shape[0]), int(claimed.shape[1]))

    def differing() -> Iterator[tuple[Index, Any, Any]]:
        for row in gradient.entries:
            for rule in row:
                value = linear_value(rule.terms, symbols.upstream, engine)
                other = claimed[rule.index[0] - 1, rule.index[1] - 1]
                if not exactly_equal(value, other, engine):
                    yield rule.index, value, other

    return checked(gradient.variable, formula, bias, gradient.shape, claimed_shape, differing())


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


def _row_values(
    form: LinearForm, upstream: Sequence[Sequence[Any]], engine: Engine
) -> dict[int, Any]:
    """A linear form in G evaluated at ``upstream``, split by rows: {p: Σ_q coefficient·G_{p,q}}
    (G's row p being the only one ℓ_p reaches)."""
    by_row: dict[int, list[Any]] = {}
    for (p, q), factor in form:
        value = upstream[p - 1][q - 1]
        by_row.setdefault(p, []).append(
            value if factor.__class__ is int and factor == 1 else factor * value
        )
    return {
        p: values[0] if len(values) == 1 else engine.add(values) for p, values in by_row.items()
    }


def compare_rows(
    gradient: RowGradient,
    form: MatrixForm,
    upstream: Sequence[Sequence[Any]],
    equal: Callable[[Any, Any], bool],
    equal_through_layer: Callable[[Any, Any], bool],
    engine: Engine,
    loss: str,
    bias: bool,
    shown: Callable[[Any], Any],
) -> Check:
    """Compare a concrete loss's elementwise ∂L/∂X with ``form`` at G = ``upstream`` (the
    engine's ∂L/∂A), entry by entry. Both sides are written over the entries a_{p,q} of A.

    Each entry is compared row by row first, with the exact test ``equal``: ∂ℓ_p/∂x against the
    form's terms in row p of G, the a_{p,q} taken as independent symbols. Equal as functions of
    independent a_{p,q}, they are equal at A = ZW (+ 1_m b) too, and equal rows make equal sums,
    so that proves the entry. Where a row differs, the two sums are compared as wholes with
    ``equal_through_layer``, which puts the layer in for A first: an entry is reported only
    when its two sides differ as functions of Z, W (and b) and the targets, each kept through
    ``shown``."""

    def differing() -> Iterator[tuple[Index, Any, Any]]:
        for i, (shares_row, form_row) in enumerate(
            zip(gradient.entries, form.entries, strict=True)
        ):
            for j, (shares, terms) in enumerate(zip(shares_row, form_row, strict=True)):
                expected = _row_values(terms, upstream, engine)
                if _rows_equal(shares, expected, equal):
                    continue
                found = engine.add([share for _, share in shares])
                claimed = engine.add(list(expected.values()))
                if not equal_through_layer(found, claimed):
                    yield (i + 1, j + 1), found, claimed

    return checked(
        gradient.variable,
        form.of,
        bias,
        gradient.shape,
        form.shape,
        differing(),
        loss,
        shown,
    )


def _rows_equal(
    shares: tuple[RowTerm, ...], expected: dict[int, Any], equal: Callable[[Any, Any], bool]
) -> bool:
    """Every row's share equals the form's value in that row, and no row is on one side only."""
    return len(shares) == len(expected) and all(
        p in expected and equal(share, expected[p]) for p, share in shares
    )


def compare_row_totals(
    gradient: RowGradient,
    claimed: Any,
    against: Comparand,
    equal: Callable[[Any, Any], bool],
    engine: Engine,
    loss: str,
    bias: bool,
    shown: Callable[[Any], Any],
) -> Check:
    """Compare a concrete loss's elementwise ∂L/∂X with a matrix of expressions ``claimed`` (the
    engine's), entry by entry, each sum of rows' shares as a whole, with ``equal``, which puts
    the layer in for A; a differing entry is kept through ``shown``."""
    claimed_shape = (int(claimed.shape[0]), int(claimed.shape[1]))

    def differing() -> Iterator[tuple[Index, Any, Any]]:
        for i, row in enumerate(gradient.entries):
            for j, shares in enumerate(row):
                found = engine.add([share for _, share in shares])
                other = claimed[i, j]
                if not equal(found, other):
                    yield (i + 1, j + 1), found, other

    shape = gradient.shape
    if claimed_shape != shape:
        return checked(gradient.variable, against, bias, shape, claimed_shape, iter(()), loss)
    return checked(gradient.variable, against, bias, shape, claimed_shape, differing(), loss, shown)
