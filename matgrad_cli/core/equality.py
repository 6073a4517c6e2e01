"""Exact equality of expressions built from polynomials, exp and log, entry by entry.

Two tests. ``expressions_equal`` takes any two SymPy expressions of that kind and is complete for
them; matgrad check compares a claim with the right answer with it. ``RowExponentials`` is the
test of a derivation of a concrete loss at layer size: it runs on the derivation's engine and
knows the exponentials the softmax of each row makes, so it never needs a common denominator
(whose numerator would grow as the product of every row's normaliser). Both are sound: each
says True only for an equality it has proved. SymPy is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .checks import Check, Comparand, checked
from .engine import Engine
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


class RowExponentials:
    """Exact equality of a concrete loss's expressions at layer size, on the engine.

    ``arguments`` are the entries u_{p,q} of A, row by row (symbols a_{p,q}, or the layer's
    Σ_r z_{p,r} w_{r,q} + b_q), whose exponentials a softmax takes; none for a polynomial loss.
    Each exp(u_{p,q}) is named by a fresh symbol e_{p,q} and each row's normaliser
    S_p = Σ_q exp(u_{p,q}), as one subexpression, by a fresh symbol s_p. ``equal`` then decides
    left = right in at most three steps, each an identity of the engine:

    1. the two are the same expression;
    2. the difference, named, expands to 0. Replacing subexpressions by fresh symbols can only
       lose relations, never make one: if the named difference is 0 for all values of its
       symbols, it is 0 for the values exp(u) and Σ_q exp(u) too. This step is complete for
       polynomials (the sum and the squared error) and proves every softmax identity whose two
       sides agree with S_p left as a symbol;
    3. the named difference with e_{p,n} replaced by s_p − Σ_{q<n} e_{p,q} in every row expands
       to 0. (e_{p,1}, …, e_{p,n-1}, s_p) are independent variables for (e_{p,1}, …, e_{p,n})
       (an invertible linear change of variables), so this is the relation S_p = Σ_q exp(u_{p,q})
       used in full, and again a substitution that only proves.

    Complete (never says False for a true equality) for expressions that, once named, are
    polynomials in the layer's symbols, the targets, the e_{p,q}, their inverses and the inverse
    powers of the s_p: every expression the two routes make for the sum, the squared error and
    the softmax cross-entropy. This rests on the exp(u_{p,q}) being algebraically independent
    over the polynomials, which holds because the u_{p,q} are linearly independent over the
    rationals (each holds the product z_{p,1} w_{1,q}, which no other has), and on expand being
    canonical for such Laurent polynomials. For anything else (another denominator, or an
    exponential of something else) the test is only sufficient: False then means "not proved",
    and the entry is reported as differing.
    """

    def __init__(self, engine: Engine, arguments: Sequence[Sequence[Any]] = ()) -> None:
        self._engine = engine
        self._names: dict[Any, Any] = {}
        self._elimination: dict[Any, Any] = {}
        for p, row in enumerate(arguments, start=1):
            exponentials = [engine.exp(u) for u in row]
            named = [engine.symbol(f"matgrad_e_{p}_{q}") for q in range(1, len(row) + 1)]
            self._names.update(zip(exponentials, named, strict=True))
            if len(row) > 1:  # with one column, S_p is the exponential itself
                normaliser = engine.symbol(f"matgrad_s_{p}")
                self._names[engine.add(exponentials)] = normaliser
                self._elimination[named[-1]] = normaliser - engine.add(named[:-1])
        self._named = engine.mapping(self._names)
        self._eliminated = engine.mapping(self._elimination)

    def equal(self, left: Any, right: Any) -> bool:
        """True when left = right is proved (the steps above), False when it is not."""
        if left == right:
            return True
        engine = self._engine
        named = engine.substitute(left - right, self._named) if self._names else left - right
        if engine.is_zero(engine.expand(named)):
            return True
        if not self._elimination:
            return False
        return engine.is_zero(engine.expand(engine.substitute(named, self._eliminated)))
