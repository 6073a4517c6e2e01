"""The elementwise route for a network: the CAS differentiates the composition, entry by entry.

∂L/∂v = Σ_{p,q} G_{p,q} · ∂O_{p,q}/∂v for every entry v of X, every Wℓ and bℓ, where O is the
network's output written out in full: O_{p,q} = Σ_s h_{p,s} w_{s,q} (+ b_q) of the last layer,
each h_{p,s} = σ(a_{p,s}) the whole composition below it as one expression of the engine (or, with
an output activation, O_{p,q} = σ(a_{p,q}) itself). The derivative being linear, ∂O_{p,q}/∂v is
the sum over O_{p,q}'s terms, and a term's derivative is the product rule over its factors; each
factor's partials are the engine's derivatives of that factor, through every layer below it by
the engine's own chain rule, each computed once and remembered (a hidden unit h_{p,s} is a factor
of every O_{p,q} in its row).

Every intermediate ∂L/∂Aℓ is obtained the same way from the composition above Aℓ, with Aℓ's
entries as the symbols aℓ_i_j. Nothing here knows the backward recursion or imports the matrix
route (network_matrix.py); the two meet only in network_compare.py.
"""

from __future__ import annotations

from typing import Any

from .engine import Engine
from .model import UpstreamTerm
from .network import ForwardPass, GradientForms, Network, NetworkSymbols

#: The factors of each term of each O_{p,q}, row by row.
OutputTerms = tuple[tuple[tuple[tuple[Any, ...], ...], ...], ...]

#: Where each variable's symbol sits: its name → (matrix name, row, column), 0-based.
Variables = dict[str, tuple[str, int, int]]


def output_terms(network: Network, symbols: NetworkSymbols, forward: ForwardPass) -> OutputTerms:
    """O_{p,q} as its terms, each a tuple of factors: (h_{p,s}, w_{s,q}) and (b_q,) for the
    last layer's affine map, or the single factor σ(a_{p,q}) with an output activation (or
    a_{p,q} itself when the pass starts at the last layer)."""
    depth = network.depth
    top = forward.post[depth]
    if network.output_activated or forward.start == depth:
        assert top is not None
        return tuple(tuple(((entry,),) for entry in row) for row in top)
    below = forward.post[depth - 1]
    assert below is not None
    weights, biases = symbols.weights[depth - 1], symbols.biases[depth - 1]
    inner, cols = len(weights), len(weights[0])
    return tuple(
        tuple(
            tuple((row[s], weights[s][q]) for s in range(inner))
            + (((biases[q],),) if network.bias else ())
            for q in range(cols)
        )
        for row in below
    )


#: A factor's partial: (variable's name, ∂factor/∂variable, whether that partial is 1).
Partial = tuple[str, Any, bool]


class FactorPartials:
    """The engine's partials of each factor by the variables it holds, each factor once."""

    def __init__(self, engine: Engine, variables: Variables) -> None:
        self._engine = engine
        self._variables = variables
        self._known: dict[Any, tuple[Partial, ...]] = {}

    def of(self, factor: Any) -> tuple[Partial, ...]:
        """(variable's name, ∂factor/∂variable, is it 1) for each variable in ``factor``."""
        known = self._known.get(factor)
        if known is not None:
            return known
        diff, variables = self._engine.diff, self._variables
        free = getattr(factor, "free_symbols", ())
        partials = []
        for symbol in sorted(free, key=str):
            name = str(symbol)
            if name in variables:
                partial = diff(factor, symbol)
                partials.append((name, partial, _is_one(partial)))
        result = tuple(partials)
        self._known[factor] = result
        return result


def _term_partials(
    term: tuple[Any, ...], partials: FactorPartials, into: dict[str, list[Any]]
) -> None:
    """The product rule: ∂(f₁⋯f_r)/∂v = Σ_i (∏_{j≠i} f_j) · ∂f_i/∂v, filed by v's name (a
    partial that is 1 contributes the other factors alone)."""
    for index, factor in enumerate(term):
        own = partials.of(factor)
        if not own:
            continue
        others = term[:index] + term[index + 1 :]
        rest = others[0] if len(others) == 1 else None
        for name, partial, one in own:
            if rest is not None:
                value = rest if one else partial * rest
            else:
                value = partial
                for other in others:
                    value = other if _is_one(value) else value * other
            pieces = into.get(name)
            if pieces is None:
                into[name] = [value]
            else:
                pieces.append(value)


def _is_one(value: Any) -> bool:
    if value.__class__ is int:
        return bool(value == 1)
    return bool(getattr(value, "is_Number", False) and value == 1)


def chain_rule(
    terms: OutputTerms, variables: Variables, shapes: dict[str, tuple[int, int]], engine: Engine
) -> dict[str, GradientForms]:
    """∂L/∂v = Σ_{p,q} G_{p,q} · ∂O_{p,q}/∂v for every variable v, as linear forms in G, filed
    into the matrices of ``shapes``."""
    partials = FactorPartials(engine, variables)
    collected: dict[str, list[UpstreamTerm]] = {name: [] for name in variables}
    add, is_zero = engine.add, engine.is_zero
    for p, row in enumerate(terms, start=1):
        for q, entry_terms in enumerate(row, start=1):
            local: dict[str, list[Any]] = {}
            for term in entry_terms:
                _term_partials(term, partials, local)
            output = (p, q)  # one index object for every variable's term
            for name, pieces in local.items():
                if len(pieces) == 1:
                    collected[name].append((output, pieces[0]))
                    continue
                value = add(pieces)
                if not is_zero(value):
                    collected[name].append((output, value))
    entries: dict[str, list[list[Any]]] = {
        name: [[() for _ in range(cols)] for _ in range(rows)]
        for name, (rows, cols) in shapes.items()
    }
    for symbol, (name, i, j) in variables.items():
        entries[name][i][j] = tuple(collected[symbol])
    return {
        name: GradientForms(name, shapes[name], tuple(tuple(row) for row in rows), "chain rule")
        for name, rows in entries.items()
    }


def _variables(symbols: NetworkSymbols, names: tuple[str, ...]) -> Variables:
    return {
        str(symbol): (name, i, j)
        for name in names
        for i, row in enumerate(symbols.matrix(name))
        for j, symbol in enumerate(row)
    }


def parameter_gradients(
    network: Network, symbols: NetworkSymbols, forward: ForwardPass, engine: Engine
) -> dict[str, GradientForms]:
    """∂L/∂X, ∂L/∂Wℓ and ∂L/∂bℓ by the chain rule through the whole composition (``forward``
    from X)."""
    names = network.parameters()
    terms = output_terms(network, symbols, forward)
    shapes = {name: network.shape_of(name) for name in names}
    return chain_rule(terms, _variables(symbols, names), shapes, engine)


def intermediate_gradient(
    network: Network, symbols: NetworkSymbols, forward: ForwardPass, engine: Engine
) -> GradientForms:
    """∂L/∂Aℓ for ℓ = ``forward.start``: the composition above Aℓ (``forward`` from Aℓ's symbols)
    differentiated by each entry of Aℓ."""
    name = f"A{forward.start}"
    terms = output_terms(network, symbols, forward)
    shapes = {name: network.shape_of(name)}
    return chain_rule(terms, _variables(symbols, (name,)), shapes, engine)[name]
