"""The comparison of the two routes, entry by entry, each recorded as a Check.

The elementwise partials (elementwise.py) and the matrix forms (matrix.py) are both linear forms
in the entries of G = ∂L/∂A; this module compares them and imports neither route.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .checks import Check, WithoutBias, checked
from .engine import Engine, linear_value
from .layer import Index, Variable
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
