"""The computer-algebra back ends matgrad computes with.

Both engines offer the same few operations, so the derivation is written once. symengine (SymPy's
C++ core) is the default because it is about ten times faster; the pure-SymPy engine is the
fallback on platforms without a symengine wheel, and tests run both against each other.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from functools import cache
from typing import Any, Protocol, TypeVar

from ..errors import InputError

ENGINE_NAMES = ("symengine", "sympy")

Key = TypeVar("Key", bound=Hashable)


class Engine(Protocol):
    """The operations the derivation needs from a computer algebra system."""

    name: str

    def symbol(self, name: str) -> Any: ...
    def add(self, terms: Sequence[Any]) -> Any: ...
    def diff(self, expr: Any, symbol: Any) -> Any: ...
    def is_zero(self, expr: Any) -> bool: ...
    def matrix(self, rows: Sequence[Sequence[Any]]) -> Any: ...
    def expand(self, expr: Any) -> Any: ...
    def to_sympy(self, expr: Any) -> Any: ...
    def from_sympy(self, expr: Any) -> Any: ...
    def exp(self, expr: Any) -> Any: ...
    def log(self, expr: Any) -> Any: ...
    def logarithms(self, expr: Any) -> set[Any]: ...
    def substitute(self, expr: Any, mapping: Any) -> Any: ...
    def mapping(self, pairs: dict[Any, Any]) -> Any: ...


class SymengineEngine:
    """symengine: the compiled engine, used whenever its wheel is installed."""

    name = "symengine"

    def __init__(self) -> None:
        import symengine

        self._se = symengine
        self._fast_diff = hasattr(self._se.Symbol("x"), "_diff")
        from symengine.lib.symengine_wrapper import DictBasic

        self._dict_basic = DictBasic

    def symbol(self, name: str) -> Any:
        return self._se.Symbol(name)

    def add(self, terms: Sequence[Any]) -> Any:
        return self._se.Add(*terms) if terms else self._se.Integer(0)

    def diff(self, expr: Any, symbol: Any) -> Any:
        # Basic._diff is the one-symbol derivative without diff()'s argument handling: half
        # the cost, which matters at a million calls.
        return expr._diff(symbol) if self._fast_diff else self._se.diff(expr, symbol)

    def is_zero(self, expr: Any) -> bool:
        return bool(expr.is_zero)

    def matrix(self, rows: Sequence[Sequence[Any]]) -> Any:
        return self._se.DenseMatrix([list(row) for row in rows])

    def expand(self, expr: Any) -> Any:
        return self._se.expand(expr)

    def to_sympy(self, expr: Any) -> Any:
        return expr._sympy_()

    def from_sympy(self, expr: Any) -> Any:
        return self._se.sympify(expr)

    def exp(self, expr: Any) -> Any:
        return self._se.exp(expr)

    def log(self, expr: Any) -> Any:
        return self._se.log(expr)

    def logarithms(self, expr: Any) -> set[Any]:
        return set(expr.atoms(type(self._se.log(self._se.Symbol("x")))))

    def substitute(self, expr: Any, mapping: Any) -> Any:
        # Whole subexpressions equal to a key are replaced, never a part of a sum or product.
        return expr.xreplace(mapping)

    def mapping(self, pairs: dict[Any, Any]) -> Any:
        # Made once: a Python dict would be converted on every substitution.
        return self._dict_basic(pairs)


class SympyEngine:
    """Pure SymPy: slower, but needs nothing compiled."""

    name = "sympy"

    def __init__(self) -> None:
        import sympy

        self._sp = sympy

    def symbol(self, name: str) -> Any:
        return self._sp.Symbol(name)

    def add(self, terms: Sequence[Any]) -> Any:
        return self._sp.Add(*terms)

    def diff(self, expr: Any, symbol: Any) -> Any:
        return self._sp.diff(expr, symbol)

    def is_zero(self, expr: Any) -> bool:
        return bool(expr == 0)

    def matrix(self, rows: Sequence[Sequence[Any]]) -> Any:
        return self._sp.Matrix([list(row) for row in rows])

    def expand(self, expr: Any) -> Any:
        return self._sp.expand(expr)

    def to_sympy(self, expr: Any) -> Any:
        return expr

    def from_sympy(self, expr: Any) -> Any:
        return expr

    def exp(self, expr: Any) -> Any:
        return self._sp.exp(expr)

    def log(self, expr: Any) -> Any:
        return self._sp.log(expr)

    def logarithms(self, expr: Any) -> set[Any]:
        return set(expr.atoms(self._sp.log))

    def substitute(self, expr: Any, mapping: Any) -> Any:
        return expr.xreplace(mapping)

    def mapping(self, pairs: dict[Any, Any]) -> Any:
        return pairs


def add_by_key(pairs: Sequence[tuple[Key, Any]], is_zero: Callable[[Any], bool]) -> dict[Key, Any]:
    """The values of (key, value) ``pairs`` added up per key, keys in first-seen order; a sum
    that cancels to zero is dropped. Both sides of every identity are made this way: the local
    partials of a term's symbols, and the coefficients of a product's ∂L/∂a_{p,q}."""
    merged = dict(pairs)
    if len(merged) == len(pairs):
        return merged  # each key once, as almost always: nothing to add
    merged = {}
    summed: list[Key] = []
    for key, value in pairs:
        if key in merged:
            merged[key] = merged[key] + value
            summed.append(key)
        else:
            merged[key] = value
    for key in summed:
        if key in merged and is_zero(merged[key]):
            del merged[key]
    return merged


def _times(symbol: Any, factor: Any) -> Any:
    """symbol·factor, skipping a factor of the integer 1, the coefficient of G's own entries."""
    return symbol if isinstance(factor, int) and factor == 1 else symbol * factor


def linear_value(
    form: Iterable[tuple[tuple[int, int], Any]], upstream: Sequence[Sequence[Any]], engine: Engine
) -> Any:
    """The expression Σ ∂L/∂a_{p,q} · factor of a linear form in G (1-based (p, q)), with
    ``upstream`` the symbols of G: for display, and for comparing with claims."""
    return engine.add([_times(upstream[p - 1][q - 1], factor) for (p, q), factor in form])


@cache
def get_engine(name: str | None = None) -> Engine:
    """The engine called ``name``; by default symengine, or SymPy where symengine is missing."""
    if name in (None, "symengine"):
        try:
            return SymengineEngine()
        except ImportError as error:
            if name is None:
                return SympyEngine()
            raise InputError(
                "the symengine engine is not installed here (pip install symengine), "
                "or use --engine sympy"
            ) from error
    if name == "sympy":
        return SympyEngine()
    raise InputError(f"unknown engine {name!r} (choose from {', '.join(ENGINE_NAMES)})")
