"""Exact equality of SymPy expressions built from polynomials, exp and log, entry by entry.

Used wherever a concrete loss is involved: ∂L/∂A against its closed form, L differentiated through
the layer against the matrix forms, and a claim against the right answer. SymPy is imported
inside the functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .checks import Check, Comparand, checked
from .layer import Variable


def expressions_equal(left: Any, right: Any) -> bool:
    """Exact equality of two expressions built from polynomials, exp and log: quickly_equal,
    and where it cannot tell, completely_equal."""
    quick = quickly_equal(left, right)
    return quick if quick is not None else completely_equal(left, right)


def quickly_equal(left: Any, right: Any) -> bool | None:
    """Exact equality, decided quickly where it can be: of polynomials by expanding the
    difference; with exponentials (a softmax), True when the difference expands to zero once
    each sum of exponentials (a denominator), exponential and logarithm is a fresh symbol, and
    None otherwise, for an equality may need a denominator to be its sum."""
    import sympy

    difference = left - right
    if not difference.atoms(sympy.exp, sympy.log):
        return bool(sympy.expand(difference) == 0)
    sums = {
        atom: sympy.Dummy(f"s{index}")
        for index, atom in enumerate(
            a
            for a in difference.atoms(sympy.Add)
            if a.args and all(isinstance(term, sympy.exp) for term in a.args)
        )
    }
    fast = difference.xreplace(sums)
    if sympy.expand(fast.xreplace(_exponential_symbols(fast))) == 0:
        return True
    return None


def completely_equal(left: Any, right: Any) -> bool:
    """Exact equality of expressions with exponentials: only each exp(±u) becomes a symbol (the
    u are distinct linear forms, so their exponentials are independent), and the numerator of
    the difference over a common denominator is expanded."""
    import sympy

    difference = left - right
    complete = difference.xreplace(_exponential_symbols(difference))
    numerator, _ = sympy.together(complete).as_numer_denom()
    return bool(sympy.expand(numerator) == 0)


def _exponential_symbols(expr: Any) -> dict[Any, Any]:
    """A symbol for each exp(u), with exp(−u) as its reciprocal, and one for each log(…)."""
    import sympy

    atoms = sorted(expr.atoms(sympy.exp, sympy.log), key=sympy.default_sort_key)
    exponentials: dict[Any, Any] = {}
    symbols: dict[Any, Any] = {}
    for atom in atoms:
        if isinstance(atom, sympy.exp):
            argument = atom.args[0]
            negated = argument.could_extract_minus_sign()
            key = -argument if negated else argument
            symbol = exponentials.setdefault(key, sympy.Dummy(f"e{len(exponentials)}"))
            symbols[atom] = 1 / symbol if negated else symbol
        else:
            symbols[atom] = sympy.Dummy(f"g{len(symbols)}")
    return symbols


def compare_expressions(
    variable: Variable,
    against: Comparand,
    bias: bool,
    elementwise: Any,
    claimed: Any,
    loss: str | None = None,
    equal: Callable[[Any, Any], bool] = expressions_equal,
) -> Check:
    """Every entry of ``elementwise`` against ``claimed`` (the matrix of ``against``), with
    ``equal``; ``loss`` names the concrete loss both sides were differentiated under, if any."""
    shape, claimed_shape = elementwise.shape, claimed.shape
    differing = (
        ((i + 1, j + 1), elementwise[i, j], claimed[i, j])
        for i in range(shape[0])
        for j in range(shape[1])
        if not equal(elementwise[i, j], claimed[i, j])
    )
    return checked(variable, against, bias, shape, claimed_shape, differing, loss)
