"""The elementwise route: the forward pass and the chain rule, entry by entry, by the CAS.

Nothing here knows the matrix identities under test, and nothing here imports the matrix route
(matrix.py): the two meet only in compare.py. Each partial ∂a_{p,q}/∂x is computed by the engine
from the expanded entry a_{p,q} (the list of its terms), term by term, and summed by the chain rule
∂L/∂x = Σ_{p,q} ∂L/∂a_{p,q} · ∂a_{p,q}/∂x (SPEC section 1).

A concrete loss L = Σ_p ℓ_p(a_p) is differentiated by the engine itself, through the layer
(``loss_gradients``): no chain rule is written here, and ∂L/∂A is never used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

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


def loss_gradients(
    outputs: Outputs,
    row_losses: Sequence[Any],
    entries: Sequence[Sequence[Any]],
    symbols: Symbols,
    sizes: Sizes,
    bias: bool,
    engine: Engine,
) -> dict[Variable, RowGradient]:
    """∂L/∂x for every entry x of Z, W (and b), by the engine, of L = Σ_p ℓ_p(a_p) through the
    layer: ``row_losses`` are the ℓ_p over the symbols ``entries`` (a_{p,q}) and the targets.

    Which entries a_{p,q} hold x, and in which of their terms, is read off the forward pass (as
    ``elementwise_gradients`` does): z_{p,r} is in every entry of row p, w_{r,q} and b_q in column
    q of every row. For each row p that x is in, the engine differentiates by x the terms of ℓ_p
    that hold such an a_{p,q}, with each of those a_{p,q} written as the layer's terms that hold x
    plus ν_{p,q}, a fresh symbol for the rest of the entry (which does not depend on x); the
    result is read at ν_{p,q} = a_{p,q} − (those terms). So each share ∂ℓ_p/∂x is the derivative
    of ℓ_p composed with the layer, as the engine's own chain rule gives it, written over the
    entries of A (the comparison puts A = ZW (+ 1_m b) in where it needs to). ℓ_p's other terms
    and entries do not depend on x, and the other rows not at all."""
    fed = _entries_fed(outputs, symbols, bias, engine)
    rows = _RowLosses(row_losses, entries, engine)
    return {
        name: RowGradient(
            name,
            sizes.shape_of(name),
            tuple(
                tuple(rows.shares(symbol, fed[str(symbol)]) for symbol in row)
                for row in symbols.rows(name)
            ),
        )
        for name in sizes.layer.variables(bias)
    }


#: For one entry x: the rows p (0-based) of A it is in and, in each, the columns q of the entries
#: a_{p,q} that hold it, with the sum of the terms of a_{p,q} that hold it.
EntriesFed = dict[int, list[tuple[int, Any]]]


def _entries_fed(
    outputs: Outputs, symbols: Symbols, bias: bool, engine: Engine
) -> dict[str, EntriesFed]:
    """EntriesFed for each symbol of Z, W (and b), by name, from the terms of the forward pass."""
    holding: dict[str, dict[int, dict[int, list[Any]]]] = {
        str(symbol): {}
        for name in symbols.layer.variables(bias)
        for row in symbols.rows(name)
        for symbol in row
    }
    for p, row in enumerate(outputs):
        for q, output in enumerate(row):
            for term in output.terms:
                for symbol in term.free_symbols:
                    holding[str(symbol)].setdefault(p, {}).setdefault(q, []).append(term)
    return {
        name: {
            p: [
                (q, terms[0] if len(terms) == 1 else engine.add(terms))
                for q, terms in columns.items()
            ]
            for p, columns in rows.items()
        }
        for name, rows in holding.items()
    }


class _RowLosses:
    """The rows' losses ℓ_p split into their terms once, each term with the columns of the
    entries a_{p,q} it holds, and the fresh symbols ν_{p,q}."""

    def __init__(
        self, row_losses: Sequence[Any], entries: Sequence[Sequence[Any]], engine: Engine
    ) -> None:
        self._engine = engine
        self._entries = entries
        self._rests = [
            [engine.symbol(f"matgrad_nu_{p}_{q}") for q in range(1, len(row) + 1)]
            for p, row in enumerate(entries, start=1)
        ]
        self._terms: list[list[tuple[Any, frozenset[int]]]] = []
        for p, loss in enumerate(row_losses):
            index = {entry: q for q, entry in enumerate(entries[p])}
            terms = loss.args if loss.is_Add else (loss,)
            self._terms.append(
                [
                    (term, frozenset(index[s] for s in term.free_symbols if s in index))
                    for term in terms
                ]
            )
        self._parts: dict[tuple[int, tuple[int, ...]], Any] = {}
        self._logarithms = [sorted(engine.logarithms(loss), key=str) for loss in row_losses]

    def _part(self, p: int, columns: tuple[int, ...]) -> Any:
        """The sum of the terms of ℓ_p that hold an a_{p,q} of ``columns``."""
        key = (p, columns)
        part = self._parts.get(key)
        if part is None:
            chosen = set(columns)
            part = self._engine.add([term for term, held in self._terms[p] if held & chosen])
            self._parts[key] = part
        return part

    def shares(self, symbol: Any, fed: EntriesFed) -> tuple[RowTerm, ...]:
        """(p, ∂ℓ_p/∂x) for each row p that the entry ``symbol`` is in, 1-based, in row order."""
        engine = self._engine
        mapping, substitute, diff = engine.mapping, engine.substitute, engine.diff
        shares: list[RowTerm] = []
        for p, columns in sorted(fed.items()):
            entries, rests = self._entries[p], self._rests[p]
            part = self._part(p, tuple(q for q, _ in columns))
            through, back = {}, {}
            for q, held in columns:
                composed = held + rests[q]
                through[entries[q]] = composed
                back[composed] = entries[q]  # where the entry stands whole, as in exp(a)
                back[rests[q]] = entries[q] - held
            # A logarithm of the row (the softmax's log Σ_q exp(a_{p,q})) occurs in every term:
            # its argument is composed once here, not once per occurrence, and named back.
            logarithms = self._logarithms[p]
            if logarithms:
                inner = mapping(through)
                for logarithm in logarithms:
                    argument = substitute(logarithm.args[0], inner)
                    through[logarithm] = engine.log(argument)
                    back[argument] = logarithm.args[0]
            derivative = diff(substitute(part, mapping(through)), symbol)
            shares.append((p + 1, substitute(derivative, mapping(back))))
        return tuple(shares)
