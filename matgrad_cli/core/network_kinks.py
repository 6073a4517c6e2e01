"""The exact identities of relu and leaky-relu that naming their values alone cannot see.

The equality test (network_compare.py) names relu(e) by a fresh symbol s and its step
Heaviside(e, 0) by t. That proves every identity that holds for any function in place of relu,
but not those of relu itself, which a claim may well use: relu(e) > 0 exactly when e > 0, so
``(H1 > 0)`` is relu′(A1); relu(e) = e·t, so ``A1 * (A1 > 0)`` is H1; and t² = t. Here, for each
argument e of a relu or leaky-relu (entries of Aℓ, as the forward pass writes them):

* relu(e) is written e·t and leaky-relu(e) e·(α + (1 − α)t), with e itself so written;
* Heaviside(x, 0) is t when x is, so written, e·t, e·(α + (1 − α)t) or t itself (each positive
  exactly when e is, as α > 0 and t ∈ {0, 1}); relu(x) is x when x is e·t or t (x ≥ 0 there);
* after expanding, every power tᵖ (p ≥ 1) is t, as t ∈ {0, 1}.

Each is an identity of real numbers, so a difference that becomes the zero polynomial in the
remaining free symbols is zero: the test stays sound. It decides every identity between
expressions built from the arguments, their steps and relu values by products, sums and these
functions whose rewritten forms agree as polynomials in e's symbols and the steps.
"""

from __future__ import annotations

from typing import Any

from .activations import LeakyRelu, Relu, cas_module
from .engine import Engine
from .network import ForwardPass, Network

__all__ = ["Kinks"]


def _function_name(expr: Any) -> str | None:
    getter = getattr(expr, "get_name", None)
    if callable(getter):
        return str(getter())
    func = getattr(expr, "func", None)
    name = getattr(func, "__name__", None)
    return name if isinstance(name, str) else None


class Kinks:
    """The identities of the module docstring for one network's forward pass."""

    def __init__(self, network: Network, engine: Engine, forward: ForwardPass) -> None:
        self._engine = engine
        self._cas = cas_module(engine)
        self._known: dict[Any, Any] = {}  # relu(e), σ′(e) and Heaviside(e, 0) → their forms
        self._positive: dict[Any, Any] = {}  # a form positive exactly where e is → its t
        self._nonnegative: set[Any] = set()  # relu(e) = e·t and t
        self._relus: set[str] = set()
        self._steps: set[Any] = set()
        self._memo: dict[Any, Any] = {}
        for layer, i, j, argument in forward.arguments():
            activation = network.activation_of(layer)
            if not isinstance(activation, Relu | LeakyRelu):
                continue
            t = engine.symbol(f"matgrad_kink{layer}_{i}_{j}")
            self._steps.add(t)
            e = self.rewritten(argument)
            factor: Any = t
            if isinstance(activation, LeakyRelu):
                slope = activation.slope
                alpha = self._cas.Integer(slope.numerator) / self._cas.Integer(slope.denominator)
                factor = alpha + (1 - alpha) * t
            else:
                self._relus.add(activation.function_name)
                self._nonnegative.update({engine.expand(e * t), t})
            # relu(e) → e·t (leaky: e·factor), the engine's σ′(e) → factor, Heaviside(e, 0) → t
            for key, form in activation.names(engine, argument, e * factor, t):
                self._known.setdefault(key, form)
            self._positive[engine.expand(e * factor)] = t
            self._positive[t] = t

    def rewritten(self, expr: Any) -> Any:
        """``expr`` with relu values, steps and derivatives written as the module says; any
        other function application is kept whole, as a free symbol would be."""
        if not getattr(expr, "args", None):
            return expr
        if expr in self._memo:
            return self._memo[expr]
        result: Any = self._known.get(expr)
        if result is None:
            result = self._rebuilt(expr)
        self._memo[expr] = result
        return result

    def _rebuilt(self, expr: Any) -> Any:
        cas, engine = self._cas, self._engine
        if expr.is_Add or expr.is_Mul or expr.is_Pow:
            parts = [self.rewritten(part) for part in expr.args]
            if expr.is_Pow:
                return parts[0] ** parts[1]
            return cas.Add(*parts) if expr.is_Add else cas.Mul(*parts)
        name = _function_name(expr)
        if name == "Heaviside" and len(expr.args) == 2 and expr.args[1] == 0:
            inner = engine.expand(self.rewritten(expr.args[0]))
            return self._positive.get(inner, expr)
        if name in self._relus and len(expr.args) == 1:
            inner = self.rewritten(expr.args[0])
            return inner if engine.expand(inner) in self._nonnegative else expr
        return expr

    def zero(self, difference: Any) -> bool:
        """True when ``difference`` is proved 0 by these identities."""
        if not self._steps:
            return False
        engine = self._engine
        expanded = engine.expand(self.rewritten(difference))
        powers = {
            atom: atom.args[0]
            for atom in expanded.atoms(self._cas.Pow)
            if atom.args[0] in self._steps and atom.args[1].is_Integer and atom.args[1] > 0
        }
        if powers:
            expanded = engine.expand(engine.substitute(expanded, engine.mapping(powers)))
        return bool(engine.is_zero(expanded))
