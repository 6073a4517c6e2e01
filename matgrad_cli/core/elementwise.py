"""The elementwise route: the forward pass and the chain rule, entry by entry, by the CAS.

Nothing here knows the matrix identities under test, and nothing here imports the matrix route
(matrix.py): the two meet only in compare.py. Each partial ∂a_{p,q}/∂x is computed by the engine
from the expanded entry a_{p,q} (the list of its terms), term by term, and summed by the chain rule
∂L/∂x = Σ_{p,q} ∂L/∂a_{p,q} · ∂a_{p,q}/∂x (SPEC section 1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .engine import Engine, add_by_key
from .layer import LAYER, Sizes, Variable
from .model import ChainRule, Gradient, OutputEntry, Outputs, Progress, Symbols, UpstreamTerm

#: The products z_{p,s}·w_{s,q} of every a_{p,q}, in s order.
EntryProducts = tuple[tuple[tuple[Any, ...], ...], ...]


def products_of_entries(symbols: Symbols, sizes: Sizes) -> EntryProducts:
    """The products z_{p,s}·w_{s,q} of every a_{p,q}, in s order, built once for both layers."""
    return tuple(
        tuple(
            tuple(symbols.Z[p][s] * symbols.W[s][q] for s in range(sizes.k)) for q in range(sizes.n)
        )
        for p in range(sizes.m)
    )


def forward(
    symbols: Symbols,
    sizes: Sizes,
    bias: bool,
    engine: Engine,
    entry_products: EntryProducts | None = None,
) -> Outputs:
    """Every a_{p,q} = Σ_s z_{p,s} w_{s,q} (+ b_q), kept as its ordered terms (summed on demand)."""
    if entry_products is None:
        entry_products = products_of_entries(symbols, sizes)
    add = engine.add
    bias_terms = tuple((term,) if bias else () for term in symbols.b)
    return tuple(
        tuple(OutputEntry((p + 1, q + 1), products[q] + bias_terms[q], add) for q in range(sizes.n))
        for p, products in enumerate(entry_products)
    )


class Differentiator:
    """The engine's partial derivatives of single terms, remembered: a term such as z_{1,2}·w_{2,3}
    occurs in the layer with and without the bias, and its partials are asked of the engine once."""

    def __init__(self, engine: Engine, symbols: Symbols | None = None) -> None:
        self._engine = engine
        # Keyed by the engine's hash, which is cheap; a hit is confirmed by identity (the two
        # layers share their term objects) or else by comparing the terms.
        self._known: dict[int, tuple[Any, tuple[tuple[str, Any], ...]]] = {}
        # A partial that is one of the layer's symbols is replaced by the layer's own object
        # for that symbol (equal symbols are the same value): the matrix route builds its forms
        # from those objects, so equal entries then compare by identity, ten times faster.
        self._canonical: dict[str, Any] = {}
        if symbols is not None:
            for name in (*LAYER.variables(bias=True), LAYER.role("upstream").name):
                for row in symbols.rows(name):
                    self._canonical.update((str(symbol), symbol) for symbol in row)

    def partials(self, term: Any) -> tuple[tuple[str, Any], ...]:
        """(symbol name, ∂term/∂symbol) for every symbol in ``term``, derived by the engine."""
        key = hash(term)
        known = self._known.get(key)
        if known is not None and (known[0] is term or known[0] == term):
            return known[1]
        diff = self._engine.diff
        canonical = self._canonical
        partials = []
        for symbol in term.free_symbols:
            partial = diff(term, symbol)
            if partial.is_Symbol:
                partial = canonical.get(str(partial), partial)
            partials.append((str(symbol), partial))
        result = tuple(partials)
        self._known[key] = (term, result)
        return result

    def entry_partials(self, terms: tuple[Any, ...]) -> list[tuple[str, Any]]:
        """The partials of every term of one a_{p,q}, one after the other (the chain rule's
        inner loop, so the remembered partials are looked up here without a call)."""
        known = self._known
        pairs: list[tuple[str, Any]] = []
        for term in terms:
            hit = known.get(hash(term))
            pairs.extend(hit[1] if hit is not None and hit[0] is term else self.partials(term))
        return pairs


#: An elementwise route: the gradients of one layer from its forward pass, by the chain rule.
ElementwiseRoute = Callable[
    [Outputs, Symbols, Sizes, bool, Differentiator, Engine, Progress | None],
    dict[Variable, Gradient],
]


def elementwise_gradients(
    outputs: Outputs,
    symbols: Symbols,
    sizes: Sizes,
    bias: bool,
    differentiator: Differentiator,
    engine: Engine,
    progress: Progress | None = None,
) -> dict[Variable, Gradient]:
    """∂L/∂x = Σ_{p,q} ∂L/∂a_{p,q} · ∂a_{p,q}/∂x for every entry x of Z, W (and b), kept as its
    ordered terms. The derivative being linear, ∂a_{p,q}/∂x is the sum of the engine's partials
    ∂t/∂x over the terms t of a_{p,q}: which a's an entry feeds is read off the terms it is in."""
    # Each symbol's terms are filed by its name: comparing engine objects costs ten times more
    # than comparing strings, and this is looked up once per term of the layer.
    names = {
        name: [[str(symbol) for symbol in row] for row in symbols.rows(name)]
        for name in LAYER.variables(bias=True)
    }
    collected: dict[str, list[UpstreamTerm]] = {
        key: [] for rows in names.values() for row in rows for key in row
    }
    partials_of = differentiator.entry_partials
    is_zero = engine.is_zero
    total = sizes.m * sizes.n
    for p, row in enumerate(outputs):
        for q, output in enumerate(row):
            # ∂a_{p,q}/∂x is the sum of the partials of the terms that contain x: usually one
            # term does, and when several do, their partials are added.
            local_partials = add_by_key(partials_of(output.terms), is_zero)
            output_index = (p + 1, q + 1)
            for name, local in local_partials.items():
                collected[name].append((output_index, local))
        if progress is not None:
            progress("chain rule", (p + 1) * sizes.n, total)

    return {
        name: Gradient(
            name,
            sizes.shape_of(name),
            tuple(
                tuple(
                    ChainRule(name, (i + 1, j + 1), tuple(collected[key]))
                    for j, key in enumerate(row)
                )
                for i, row in enumerate(names[name])
            ),
        )
        for name in LAYER.variables(bias)
    }
