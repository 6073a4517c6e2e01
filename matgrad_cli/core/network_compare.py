"""The comparison of a network's two routes, entry by entry, each recorded as a Check.

Both routes give every gradient as linear forms in G (the symbols of ∂L/∂(output)); two forms are
equal when every G_{p,q} has equal factors. Two factors are compared by ``NetworkEquality``, an
exact test that never imports either route and says True only for an equality it has proved:

1. the two factors are the same expression (the usual case: both routes hold the forward pass's
   own objects, and the engine's canonical sums and products);
2. otherwise their difference, with every activation's value and derivative named, expands to 0.
   For each argument e of an activation (each entry of each Aℓ, as the forward pass writes it
   from X and from the symbols of each Aℓ), σ(e) becomes a fresh symbol s and σ′(e), in every
   form the routes write it, an expression in fresh symbols: the engine's σ′(e) of an unknown
   function and the activation's own σ′(e) become d (generic); the engine's relu′(e), leaky-relu′
   and Heaviside(e, 0) become the step t, by the activations' definition (relu′ = t,
   leaky-relu′ = α + (1 − α)t); for the sigmoid, 1 + exp(−e) = 1/s, exp(−e) = (1 − s)/s and
   exp(e) = s/(1 − s); tanh(e) = s. Each replacement is an identity of the subexpression it
   replaces, or a fresh symbol for it: a named difference that expands to 0 for all values of its
   symbols is 0 at the values they stand for, so the test is sound.
3. with relu or leaky-relu, otherwise the difference with relu(e) written e·t, a step or
   relu′ of relu(e) (or of the step) written t, and tᵖ written t (network_kinks.py): identities
   of those functions themselves, which step 2, naming their values as any function's, cannot
   see (``(H1 > 0)`` is relu′(A1)).

What it decides completely: with the identity, the named difference is a polynomial, and expand
is a canonical form of polynomials. With generic σ, relu and leaky-relu, the names stand for values
of a function about which nothing else is used, so, the arguments being written as the forward
pass writes them, the test decides every identity that holds for every σ; for relu and leaky-relu,
moreover, every one that step 3's forms make a polynomial identity. For the sigmoid and tanh
the named difference is a Laurent polynomial in the names, and the test decides every identity
that follows from σ′ = σ(1 − σ) and tanh′ = 1 − tanh² alone: that is every identity between the
two routes, which compute the same polynomial in the names. Anything else (an argument written
otherwise, a relation between the values at different arguments) it can only fail to prove, and
the check then fails; it never passes wrongly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, cast

from .activations import LeakyRelu, Relu, cas_module
from .checks import Check, checked
from .engine import Engine
from .layer import Index, Variable
from .model import LinearForm
from .network import ForwardPass, GradientForms, Matrix, Network
from .network_kinks import Kinks


class NetworkEquality:
    """Exact equality of the factors of a network's two routes (module docstring)."""

    def __init__(self, network: Network, engine: Engine, passes: Sequence[ForwardPass]) -> None:
        self._engine = engine
        pairs: dict[Any, Any] = {}
        self._exponent_terms: dict[Any, Any] = {}
        for forward in passes:
            for layer, i, j, argument in forward.arguments():
                activation = network.activation_of(layer)
                value = engine.symbol(f"matgrad_s{layer}_{i}_{j}")
                slope = engine.symbol(f"matgrad_t{layer}_{i}_{j}")
                for key, name in activation.names(engine, argument, value, slope):
                    pairs.setdefault(key, name)
                for key, name in activation.exponent_names(engine, argument, value):
                    self._exponent_terms.setdefault(key, name)
        self._pairs = pairs
        self._mapping = engine.mapping(pairs)
        self._cas = cas_module(engine)
        self._memo: dict[Any, Any] = {}
        kinked = any(
            isinstance(network.activation_of(layer), Relu | LeakyRelu)
            for layer in range(1, network.depth + 1)
        )
        self._kinks = [Kinks(network, engine, forward) for forward in passes] if kinked else []

    def named(self, expr: Any) -> Any:
        """``expr`` with every activation's value and derivative named: as the engine's
        substitution of whole subexpressions would, each distinct subexpression once (the
        factors of a gradient's entries recur in many entries)."""
        if not self._pairs or not hasattr(expr, "args"):
            return expr
        known = self._memo.get(expr)
        if known is not None:
            return known
        replaced = self._pairs.get(expr)
        if replaced is None:
            if expr.is_Add or expr.is_Mul or expr.is_Pow:
                parts = [self.named(part) for part in expr.args]
                cas = self._cas
                if expr.is_Pow:
                    replaced = parts[0] ** parts[1]
                else:
                    replaced = cas.Add(*parts) if expr.is_Add else cas.Mul(*parts)
            else:
                replaced = self._engine.substitute(expr, self._mapping)
        self._memo[expr] = replaced
        return replaced

    def equal(self, left: Any, right: Any) -> bool:
        """True when left = right is proved (the steps of the module docstring)."""
        if left is right or left == right:
            return True
        engine = self._engine
        difference = left - right
        if engine.is_zero(engine.expand(self.named(difference))):
            return True
        if any(kinks.zero(difference) for kinks in self._kinks):
            return True
        if not self._exponent_terms:
            return False
        split = self._split_exponentials(difference)
        return split is not difference and engine.is_zero(engine.expand(self.named(split)))

    def _split_exponentials(self, expr: Any) -> Any:
        """``expr`` with each exp(t₁ + … + t_r) the engine merged from the sigmoids' exponentials
        written ∏ exp(t_i), each named: exp(−u) = (1 − s)/s, exp(u) = s/(1 − s). An exponent
        with any other term is left alone."""
        engine, terms = self._engine, self._exponent_terms
        replaced: dict[Any, Any] = {}
        for atom, exponent in _exponentials(engine, expr):
            # Only a merged exponent, a sum of several; a single exp(±u) is named as it is.
            parts = exponent.args if exponent.is_Add else ()
            if len(parts) > 1 and all(part in terms for part in parts):
                product = 1
                for part in parts:
                    product = product * terms[part]
                replaced[atom] = product
        if not replaced:
            return expr
        return engine.substitute(expr, engine.mapping(replaced))

    def forms_equal(self, left: LinearForm, right: LinearForm) -> bool:
        """Two linear forms in G are equal when every G_{p,q} has equal factors (a G_{p,q}
        missing on one side has the factor 0 there)."""
        if left == right:
            return True
        left_terms, right_terms = dict(left), dict(right)
        return all(
            self.equal(left_terms.get(key, 0), right_terms.get(key, 0))
            for key in left_terms.keys() | right_terms.keys()
        )


def _exponentials(engine: Engine, expr: Any) -> list[tuple[Any, Any]]:
    """(exp(z), z) for every exponential in ``expr``; symengine writes exp(z) as E**z."""
    cas = cas_module(engine)
    if engine.name == "symengine":
        return [(atom, atom.args[1]) for atom in expr.atoms(cas.Pow) if atom.args[0] == cas.E]
    return [(atom, atom.args[0]) for atom in expr.atoms(cas.exp)]


def compare_forms(
    elementwise: GradientForms,
    matrix: GradientForms,
    equality: NetworkEquality,
    upstream: Matrix,
    engine: Engine,
    bias: bool,
) -> Check:
    """Every entry of the elementwise ∂L/∂(name) against the same entry of the matrix route's.

    The Check's ``variable`` carries the network's name (X, W1, b1, A1, …), ``against`` the
    matrix formula in plain text."""
    from .engine import linear_value

    def differing() -> Iterator[tuple[Index, Any, Any]]:
        for i, (row, other_row) in enumerate(zip(elementwise.entries, matrix.entries, strict=True)):
            for j, (form, other) in enumerate(zip(row, other_row, strict=True)):
                if not equality.forms_equal(form, other):
                    yield (i + 1, j + 1), form, other

    # The Check's type names the single layer's matrices; a network's names are the same kind
    # of thing, a matrix's name, written with its layer.
    variable = cast(Variable, elementwise.name)
    if matrix.shape != elementwise.shape:
        return checked(variable, matrix.of, bias, elementwise.shape, matrix.shape, iter(()))
    return checked(
        variable,
        matrix.of,
        bias,
        elementwise.shape,
        matrix.shape,
        differing(),
        shown=lambda form: linear_value(form, upstream, engine),
    )
