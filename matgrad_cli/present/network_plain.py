"""The plain-text notation of a network's terminal view: its entry symbols with subscripts and the
layer as a superscript, and each activation's value and derivative by name.

x_1_2 is written x₁,₂, w1_1_2 w¹₁,₂, b2_1 b²₁, a1_1_2 a¹₁,₂ and the upstream dA2_1_1 (or dH2_1_1)
g₁,₁. In the gradients shown, every σ(e) of the forward pass is named hℓ_{i,j} (the entry of Hℓ it
is) and every σ′(e) is written σ′(aℓ_{i,j}), so that an entry reads as the chain rule writes it:
g₁,₁ x₁,₁ w²₁,₁ relu′(a¹₁,₁). A sigmoid's σ′ is then h(1 − h), a tanh's 1 − h², as the CAS
differentiated them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..core.activations import (
    Activation,
    Sigmoid,
    Tanh,
    Undefined,
    cas_module,
    engine_derivative,
)
from ..core.engine import Engine, get_engine
from ..core.network import forward_pass
from .limits import SUM_TERMS
from .notation import subscript

if TYPE_CHECKING:
    from ..core.network_derive import NetworkDerivation

_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SYMBOL = re.compile(
    r"(?<![A-Za-z0-9_])(?:(x|y)|(w|b|a|h|dsig)([0-9]+)|d[AH]([0-9]+))((?:_[0-9]+)+)(?![A-Za-z0-9_])"
)
#: How each activation is called in a formula.
FUNCTION_NAMES = {
    "generic": "σ",
    "relu": "relu",
    "leaky-relu": "lrelu",
    "sigmoid": "σ",
    "tanh": "tanh",
    "identity": "id",
}


def superscript(layer: int) -> str:
    """``12`` → ``¹²``."""
    return str(layer).translate(_SUPERSCRIPTS)


def entry(letter: str, layer: int | None, index: tuple[int, ...]) -> str:
    """``w``, 1, (1, 2) → ``w¹₁,₂``; no layer for x and g."""
    top = "" if layer is None else superscript(layer)
    return f"{letter}{top}" + ",".join(subscript(i) for i in index)


class Namer:
    """Writes a network's expressions in the view's notation (the module docstring)."""

    def __init__(self, derivation: NetworkDerivation, full: bool = False) -> None:
        #: Long sums inside an expression are elided unless ``full``.
        self.full = full
        #: Each expression named once (a gradient's entries are listed and then assembled).
        self._named: dict[Any, Any] = {}
        self.network = network = derivation.network
        engine = self._engine = get_engine(derivation.engine)
        symbols = derivation.symbols
        passes = [derivation.forward]
        passes += [forward_pass(network, symbols, engine, s) for s in range(1, network.depth + 1)]
        pairs: dict[Any, Any] = {}
        self._derivative_of: dict[str, str] = {}
        #: (e, σ(e)'s name) for every argument of a sigmoid, to split merged exponentials.
        self._sigmoids: list[tuple[Any, Any]] = []
        for forward in passes:
            for layer, i, j, argument in forward.arguments():
                activation = network.activation_of(layer)
                value = engine.symbol(f"h{layer}_{i}_{j}")
                slope = engine.symbol(f"dsig{layer}_{i}_{j}")
                for key, name in _names(engine, activation, argument, value, slope):
                    pairs.setdefault(key, name)
                self._derivative_of[f"{layer}_{i}_{j}"] = FUNCTION_NAMES[activation.name]
                if isinstance(activation, Sigmoid):
                    self._sigmoids.append((argument, value))
        self._mapping = engine.mapping(pairs) if pairs else None
        self._pairs = pairs
        self._sympy_mapping: dict[Any, Any] | None = None
        if self._mapping is not None:
            mapping = self._mapping
            self._sigmoids = [
                (engine.expand(engine.substitute(e, mapping)), h) for e, h in self._sigmoids
            ]
        #: Each sigmoid's argument (named and expanded) by its first term.
        self._by_first: dict[Any, list[tuple[Any, Any]]] = {}
        for argument, value in self._sigmoids:
            first = min(_addends(argument), key=str)
            self._by_first.setdefault(first, []).append((argument, value))

    def named(self, value: Any) -> Any:
        """``value`` with every activation's value and derivative named (a SymPy expression)."""
        if not hasattr(value, "args"):
            return value
        known = self._named.get(value)
        if known is None:
            named = value
            if self._engine.name != "sympy" and not hasattr(value, "_sympy_"):
                # A concrete loss's differing entry comes as SymPy: named by SymPy's own mapping.
                known = self._named[value] = value.xreplace(self._sympy_pairs())
                return known
            if self._mapping is not None:
                named = self._engine.substitute(named, self._mapping)
            if self._sigmoids:
                named = self._split_exponentials(named)
            known = self._named[value] = self._engine.to_sympy(named)
        return known

    def _sympy_pairs(self) -> dict[Any, Any]:
        """The names' mapping with SymPy keys and values, made once when first asked for."""
        if self._sympy_mapping is None:
            to_sympy = self._engine.to_sympy
            self._sympy_mapping = {to_sympy(k): to_sympy(v) for k, v in self._pairs.items()}
        return self._sympy_mapping

    def _split_exponentials(self, value: Any) -> Any:
        """Each exp(−e₁ − e₂ − …) the CAS merged from the sigmoids' exp(−eℓ) written as the
        product of (1 − h)/h, one per argument (exp(e) as h/(1 − h)), when its exponent is such
        a sum of whole arguments (each written with the names already); any other exponential
        is left as it is."""
        engine = self._engine
        replaced = {}
        for atom, exponent in _exponentials(engine, value):
            product = self._exponent_product(exponent)
            if product is not None:
                replaced[atom] = product
        return engine.substitute(value, engine.mapping(replaced)) if replaced else value

    def _exponent_product(self, exponent: Any) -> Any:
        """∏ (1 − h)/h over the arguments −e the expanded ``exponent`` is the sum of (h/(1 − h)
        for +e), or None when it is not such a sum. Each argument is found by its first term."""
        rest, product = self._engine.expand(exponent), 1
        while _terms(rest):
            for term in _addends(rest):
                found = self._take(rest, term)
                if found is not None:
                    rest, factor = found
                    product = product * factor
                    break
            else:
                return None
        return product

    def _take(self, rest: Any, term: Any) -> tuple[Any, Any] | None:
        """``rest`` without a whole argument ±e whose first term is ``term``, and the factor
        exp(±e) is named by; None when there is none."""
        for sign, key in ((1, term), (-1, -term)):
            for argument, value in self._by_first.get(key, ()):
                remaining = rest - sign * argument
                if _terms(remaining) == _terms(rest) - _terms(argument):
                    factor = value / (1 - value) if sign == 1 else (1 - value) / value
                    return remaining, factor
        return None

    def text(self, value: Any) -> str:
        """``value`` in the view's notation."""
        return self.pretty(self.named(value))

    def pretty(self, expr: Any) -> str:
        """A SymPy expression in the view's notation."""
        if getattr(expr, "is_Symbol", False):
            return self.symbol(str(expr.name))
        if isinstance(expr, int) or getattr(expr, "is_Number", False):
            return _number(expr)
        if expr.is_Add:
            return self._sum(expr)
        if expr.is_Mul:
            return self._product(expr)
        if expr.is_Pow:
            return self._power(expr)
        name = getattr(expr.func, "__name__", "")
        if name in ("exp", "tanh") and len(expr.args) == 1:
            return f"{name}({self.pretty(expr.args[0])})"
        return _SYMBOL.sub(lambda match: self.symbol(match.group(0)), str(expr))

    def symbol(self, name: str) -> str:
        """An entry symbol's name as the view writes it; other names as they are."""
        match = _SYMBOL.fullmatch(name)
        if match is None:
            return name
        index = tuple(int(i) for i in match.group(5).split("_")[1:])
        if match.group(1):
            return entry(match.group(1), None, index)
        if match.group(4):
            return entry("g", None, index)
        letter, layer = match.group(2), int(match.group(3))
        if letter == "dsig":
            at = "_".join(map(str, (layer, *index)))
            return f"{self._derivative_of.get(at, 'σ')}′({entry('a', layer, index)})"
        return entry(letter, layer, index)

    def _sum(self, expr: Any) -> str:
        """The terms with + and −; beyond SUM_TERMS (unless ``full``) the first two, ⋯ and the
        last, so that a factor that is itself a long sum stays short."""
        terms = expr.as_ordered_terms()
        shown: list[Any] = list(terms)
        if not self.full and len(terms) > SUM_TERMS:
            shown = [terms[0], terms[1], None, terms[-1]]
        text = self.pretty(shown[0])
        for term in shown[1:]:
            if term is None:
                text += " + ⋯"
            elif term.could_extract_minus_sign():
                text += " − " + self.pretty(-term)
            else:
                text += " + " + self.pretty(term)
        return text

    def _product(self, expr: Any) -> str:
        numerator, denominator = expr.as_numer_denom()
        if denominator != 1:
            top, bottom = self.pretty(numerator), self.pretty(denominator)
            top = f"({top})" if numerator.is_Add else top
            bottom = f"({bottom})" if denominator.is_Add or denominator.is_Mul else bottom
            return f"{top} / {bottom}"
        coefficient, factors = expr.as_coeff_mul()
        pieces = [
            f"({self.pretty(factor)})" if factor.is_Add else self.pretty(factor)
            for factor in sorted(factors, key=_factor_key)
        ]
        body = " ".join(pieces)
        if coefficient == 1:
            return body
        if coefficient == -1:
            return "−" + body
        return f"{_number(coefficient)} {body}"

    def _power(self, expr: Any) -> str:
        base, exponent = expr.args
        text = self.pretty(base)
        if not (base.is_Symbol or (base.is_Integer and base >= 0)):
            text = f"({text})"
        if exponent.is_Integer and exponent > 0:
            return text + str(exponent).translate(_SUPERSCRIPTS)
        return f"{text}^({self.pretty(exponent)})"


def _terms(expr: Any) -> int:
    """How many terms a sum has (1 for any other expression, 0 for zero)."""
    if getattr(expr, "is_Add", False):
        return len(expr.args)
    return 0 if expr == 0 else 1


def _addends(expr: Any) -> tuple[Any, ...]:
    """The terms of a sum (the expression itself when it is not a sum)."""
    return tuple(expr.args) if getattr(expr, "is_Add", False) else (expr,)


def _exponentials(engine: Engine, expr: Any) -> list[tuple[Any, Any]]:
    """(exp(z), z) for every exponential in ``expr``; symengine writes exp(z) as E**z."""
    cas = cas_module(engine)
    if engine.name == "symengine":
        return [(atom, atom.args[1]) for atom in expr.atoms(cas.Pow) if atom.args[0] == cas.E]
    return [(atom, atom.args[0]) for atom in expr.atoms(cas.exp)]


def _number(number: Any) -> str:
    text = str(number)
    return "−" + text[1:] if text.startswith("-") else text


#: The order of factors in a product: g, then x, then the layers' symbols from the bottom up, and
#: the activations' derivatives last.
_RANK = {"g": 0, "x": 1}


def _factor_key(factor: Any) -> tuple[int, int, str]:
    name = str(factor.name) if getattr(factor, "is_Symbol", False) else str(factor)
    match = _SYMBOL.fullmatch(name)
    if match is None:
        return (9, 0, name)
    if match.group(1):
        return (1, 0, name)
    if match.group(4):
        return (0, 0, name)
    letter, layer = match.group(2), int(match.group(3))
    return (8 if letter == "dsig" else 2, layer, name)


def _names(
    engine: Engine, activation: Activation, argument: Any, value: Any, slope: Any
) -> list[tuple[Any, Any]]:
    """(subexpression, its name) for σ(e) and σ′(e) as the routes write them: σ(e) is ``value``
    (hℓ_{i,j}); σ′(e) is ``slope`` for relu, leaky-relu and generic σ, and for the sigmoid and
    tanh written with ``value`` as the CAS's derivative is (h(1 − h), 1 − h²)."""
    if isinstance(activation, Undefined):
        return [
            (activation.forward(engine, argument), value),
            (engine_derivative(engine, activation.function(engine), argument), slope),
            (activation.derivative(engine, argument), slope),
        ]
    if isinstance(activation, Sigmoid):
        return activation.names(engine, argument, value, slope)
    if isinstance(activation, Tanh):
        return [(activation.forward(engine, argument), value)]
    return []
