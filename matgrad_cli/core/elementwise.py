"""The elementwise route: the forward pass and the chain rule, entry by entry, by the CAS.

Nothing here knows the matrix identities under test, and nothing here imports the matrix route
(matrix.py): the two meet only in compare.py. Each partial ∂a_{p,q}/∂x is computed by the engine
from the expanded entry a_{p,q} (the list of its terms), term by term, and summed by the chain rule
∂L/∂x = Σ_{p,q} ∂L/∂a_{p,q} · ∂a_{p,q}/∂x (SPEC section 1).

A concrete loss L = Σ_p ℓ_p(a_p) takes the same chain rule (``loss_gradients``), with
∂L/∂a_{p,q} = ∂ℓ_p/∂a_{p,q} the engine's derivative of the row's loss: neither a matrix form nor a
closed form of ∂L/∂A is used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from .engine import Engine, add_by_key
from .layer import BiasBroadcast, MatrixProduct, Sizes, Variable
from .loss_base import RowGradient, RowTerm
from .model import (
    ChainRule,
    Gradient,
    OutputEntry,
    Outputs,
    Progress,
    Symbols,
    UpstreamTerm,
)

#: The products of every a_{p,q}, in s order: z_{p,s}·w_{s,q} (samples as rows) or w_{p,s}·x_{s,q}
#: (samples as columns).
EntryProducts = tuple[tuple[tuple[Any, ...], ...], ...]


def products_of_entries(symbols: Symbols, sizes: Sizes) -> EntryProducts:
    """The products of the layer's matrix product (ZW, or WX) in every a_{p,q}, in s order, built
    once for both layers."""
    layer = sizes.layer
    product = next(op for op in layer.operations if isinstance(op, MatrixProduct))
    left, right = symbols.rows(product.left), symbols.rows(product.right)
    rows, cols = layer.matrix(product.output).shape(sizes)
    inner = len(right)
    return tuple(
        tuple(tuple(left[p][s] * right[s][q] for s in range(inner)) for q in range(cols))
        for p in range(rows)
    )


def forward(
    symbols: Symbols,
    sizes: Sizes,
    bias: bool,
    engine: Engine,
    entry_products: EntryProducts | None = None,
) -> Outputs:
    """Every a_{p,q} = Σ_s z_{p,s} w_{s,q} (+ b_q), or Σ_s w_{p,s} x_{s,q} (+ b_p) with samples as
    columns, kept as its ordered terms (summed on demand)."""
    if entry_products is None:
        entry_products = products_of_entries(symbols, sizes)
    add = engine.add
    broadcast = next(op for op in sizes.layer.operations if isinstance(op, BiasBroadcast))
    by_row = broadcast.bias_first  # a column b: b_p in every entry of row p

    def bias_terms(p: int, q: int) -> tuple[Any, ...]:
        return (symbols.bias[p if by_row else q],) if bias else ()

    return tuple(
        tuple(
            OutputEntry((p + 1, q + 1), products[q] + bias_terms(p, q), add)
            for q in range(len(products))
        )
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
            for name in (*symbols.layer.variables(bias=True), symbols.layer.role("upstream").name):
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
        for name in sizes.layer.variables(bias=True)
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
        for name in sizes.layer.variables(bias)
    }


class DerivedLayer(Protocol):
    """What the chain rule under a concrete loss takes from the layer: its symbols and forward
    pass, and its elementwise gradients where the layer was derived already (None otherwise)."""

    @property
    def symbols(self) -> Symbols: ...
    @property
    def outputs(self) -> Outputs: ...
    @property
    def gradients(self) -> Mapping[Variable, Gradient] | None: ...


def loss_gradients(
    layer: DerivedLayer,
    row_losses: Sequence[Any],
    entries: Sequence[Sequence[Any]],
    sizes: Sizes,
    bias: bool,
    engine: Engine,
) -> dict[Variable, RowGradient]:
    """∂L/∂x for every entry x of Z, W (and b) of L = Σ_p ℓ_p(a_p) over the samples p, by the
    chain rule through A (SPEC section 1): ``row_losses`` are the ℓ_p over the symbols
    ``entries`` (sample p's entries of A) and the targets, and each sample's share is
    ∂ℓ_p/∂x = Σ ∂ℓ_p/∂a · ∂a/∂x over the entries a of sample p that x feeds.

    Both factors are the engine's derivatives: ∂ℓ_p/∂a of the sample's loss by the symbol a, once
    per entry of A (``_row_partials``), and ∂a/∂x, the local partials of the elementwise route's
    chain rule (``elementwise_gradients``, from the terms of the expanded entries), which also
    say which entries x feeds: the layer's own where it was derived, else made here. The other
    samples do not depend on x. The shares are written over the entries of A (the comparison
    puts the layer in for A where it needs to)."""
    gradients = layer.gradients
    if gradients is None:
        differentiator = Differentiator(engine, layer.symbols)
        gradients = elementwise_gradients(
            layer.outputs, layer.symbols, sizes, bias, differentiator, engine
        )
    upstream = [
        _row_partials(row_loss, row, engine)
        for row_loss, row in zip(row_losses, entries, strict=True)
    ]
    by_rows = sizes.samples == "rows"
    return {
        name: RowGradient(
            name,
            gradients[name].shape,
            tuple(
                tuple(_shares(rule.terms, upstream, by_rows, engine) for rule in row)
                for row in gradients[name].entries
            ),
        )
        for name in sizes.layer.variables(bias)
    }


def _shares(
    terms: Sequence[UpstreamTerm], upstream: Sequence[Sequence[Any]], by_rows: bool, engine: Engine
) -> tuple[RowTerm, ...]:
    """(p, ∂ℓ_p/∂x) for each sample p (1-based) of the chain rule's ``terms`` ((p, q) of A,
    ∂a_{p,q}/∂x): each ∂a/∂x times its entry's ∂ℓ_p/∂a, summed by sample. A sample is a row of A
    (``by_rows``) or a column."""
    products: dict[int, list[Any]] = {}
    for (p, q), local in terms:
        sample, column = (p, q) if by_rows else (q, p)
        found = products.get(sample)
        if found is None:
            found = products[sample] = []
        found.append(upstream[sample - 1][column - 1] * local)
    return tuple(
        (sample, values[0] if len(values) == 1 else engine.add(values))
        for sample, values in products.items()
    )


def _row_partials(row_loss: Any, row: Sequence[Any], engine: Engine) -> list[Any]:
    """∂ℓ_p/∂a_{p,q} for each entry a_{p,q} of the row, by the engine, in q order: of the terms
    of ℓ_p that hold a_{p,q}, the others having derivative 0 (a squared error's row has n terms,
    one per entry, and differentiating all of them by each entry would cost n times more)."""
    holding: dict[Any, list[Any]] = {a: [] for a in row}
    for term in row_loss.args if row_loss.is_Add else (row_loss,):
        for symbol in term.free_symbols:
            terms = holding.get(symbol)
            if terms is not None:
                terms.append(term)
    return [engine.diff(engine.add(holding[a]), a) for a in row]
