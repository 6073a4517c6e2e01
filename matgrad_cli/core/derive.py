"""The elementwise derivation: symbols, the forward pass and the chain rule, entry by entry.

Nothing here knows the matrix identities under test. Each partial ∂a_{p,q}/∂x is computed by the
engine from the expanded entry a_{p,q} (the list of its terms), term by term, and summed by the
chain rule ∂L/∂x = Σ_{p,q} ∂L/∂a_{p,q} · ∂a_{p,q}/∂x (SPEC section 1). The matrix side lives in
verify.py.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import SizeError
from .engine import Engine, add_by_key, get_engine
from .layer import Shape, Sizes, Variable
from .model import (
    ChainRule,
    Derivation,
    Gradient,
    LayerDerivation,
    MatrixForm,
    OutputEntry,
    Symbols,
    UpstreamTerm,
)

#: Largest m·k·n the symbolic engines take; beyond it a run would not finish in about a minute.
SYMBOLIC_LIMITS = {"symengine": 96**3, "sympy": 32**3}

Progress = Callable[[str, int, int], None]


def validate_sizes(m: object, k: object, n: object, engine: str | None = None) -> Sizes:
    """Check that the sizes are positive integers the engine can finish with, before any work."""
    for name, value in (("m", m), ("k", k), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SizeError(f"size {name} must be a positive integer, got {value!r}")
        if value < 1:
            raise SizeError(f"size {name} must be a positive integer, got {value}")
    sizes = Sizes(m, k, n)  # type: ignore[arg-type]  # checked to be ints just above
    engine_name = get_engine(engine).name
    limit = SYMBOLIC_LIMITS[engine_name]
    if sizes.m * sizes.k * sizes.n > limit:
        raise SizeError(
            f"m·k·n = {sizes.m * sizes.k * sizes.n} is above the symbolic limit of {limit} for "
            f"the {engine_name} engine (about a minute of work); --numeric checks larger layers "
            "with exact integer arithmetic"
        )
    # A thin layer does little work per entry but still makes every symbol: cap the entries of
    # Z, W and A as well, at what the cube at the limit has.
    entries = sizes.m * sizes.k + sizes.k * sizes.n + sizes.m * sizes.n
    entry_limit = 3 * round(limit ** (2 / 3))
    if entries > entry_limit:
        raise SizeError(
            f"Z, W and A have {entries} entries in all, above the symbolic limit of "
            f"{entry_limit} for the {engine_name} engine; --numeric checks larger layers "
            "with exact integer arithmetic"
        )
    return sizes


def build_symbols(sizes: Sizes, engine: Engine) -> Symbols:
    """One symbol per entry, named so that no two indices collide (z_1_11 is not z_11_1)."""
    m, k, n = sizes.m, sizes.k, sizes.n
    return Symbols(
        Z=tuple(
            tuple(engine.symbol(f"z_{i}_{r}") for r in range(1, k + 1)) for i in range(1, m + 1)
        ),
        W=tuple(
            tuple(engine.symbol(f"w_{r}_{j}") for j in range(1, n + 1)) for r in range(1, k + 1)
        ),
        b=tuple(engine.symbol(f"b_{j}") for j in range(1, n + 1)),
        upstream=tuple(
            tuple(engine.symbol(f"dA_{i}_{j}") for j in range(1, n + 1)) for i in range(1, m + 1)
        ),
    )


def products_of_entries(symbols: Symbols, sizes: Sizes) -> tuple[tuple[tuple[Any, ...], ...], ...]:
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
    entry_products: tuple[tuple[tuple[Any, ...], ...], ...] | None = None,
) -> tuple[tuple[OutputEntry, ...], ...]:
    """Every a_{p,q} = Σ_s z_{p,s} w_{s,q} (+ b_q), kept as its ordered terms (summed on demand)."""
    if entry_products is None:
        entry_products = products_of_entries(symbols, sizes)
    rows = []
    add = engine.add
    for p in range(sizes.m):
        row = []
        for q in range(sizes.n):
            terms = entry_products[p][q] + ((symbols.b[q],) if bias else ())
            row.append(OutputEntry((p + 1, q + 1), terms, add))
        rows.append(tuple(row))
    return tuple(rows)


def _entry_positions(symbols: Symbols, sizes: Sizes) -> dict[str, tuple[Variable, int, int]]:
    """Where each differentiable symbol sits, by name: its matrix and 0-based row and column.

    Keyed by name because comparing engine objects costs ten times more than comparing strings,
    and this is looked up once per term of the layer.
    """
    positions: dict[str, tuple[Variable, int, int]] = {}
    for i in range(sizes.m):
        for r in range(sizes.k):
            positions[str(symbols.Z[i][r])] = ("Z", i, r)
    for r in range(sizes.k):
        for j in range(sizes.n):
            positions[str(symbols.W[r][j])] = ("W", r, j)
    for j in range(sizes.n):
        positions[str(symbols.b[j])] = ("b", 0, j)
    return positions


class Differentiator:
    """The engine's partial derivatives of single terms, remembered.

    A term such as z_{1,2}·w_{2,3} occurs in the layer with and without the bias; its partials
    are the same objects both times, so they are asked of the engine once.
    """

    def __init__(self, engine: Engine, symbols: Symbols | None = None) -> None:
        self._engine = engine
        # Keyed by the engine's hash, which is cheap; a hit is confirmed by identity (the two
        # layers share their term objects) or else by comparing the terms.
        self._known: dict[int, tuple[Any, tuple[tuple[str, Any], ...]]] = {}
        # A partial that is one of the layer's symbols is replaced by the layer's own object
        # for that symbol (equal symbols are the same value): the matrix forms are built from
        # those objects, so equal entries then compare by identity, ten times faster.
        self._canonical: dict[str, Any] = {}
        if symbols is not None:
            for matrix in (symbols.Z, symbols.W, (symbols.b,), symbols.upstream):
                for row in matrix:
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
        for symbol in self._engine.free_symbols(term):
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


def elementwise_gradients(
    outputs: tuple[tuple[OutputEntry, ...], ...],
    symbols: Symbols,
    sizes: Sizes,
    bias: bool,
    differentiator: Differentiator,
    engine: Engine,
    progress: Progress | None = None,
) -> dict[Variable, Gradient]:
    """∂L/∂x for every entry x of Z, W (and b), by the chain rule through every a_{p,q}.

    Each a_{p,q} is differentiated term by term, the derivative being linear: ∂a_{p,q}/∂x is the
    sum of the engine's partials ∂t/∂x over the terms t of a_{p,q}, so which a's an entry feeds
    is read off the terms it occurs in. The result for x is the sum
    Σ_{p,q} ∂L/∂a_{p,q} · ∂a_{p,q}/∂x, kept as its ordered terms.
    """
    positions = _entry_positions(symbols, sizes)
    collected: dict[str, list[UpstreamTerm]] = {name: [] for name in positions}
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

    shapes: dict[Variable, Shape] = {"Z": (sizes.m, sizes.k), "W": (sizes.k, sizes.n)}
    if bias:
        shapes["b"] = (1, sizes.n)
    cells: dict[Variable, list[list[ChainRule | None]]] = {
        name: [[None] * cols for _ in range(rows)] for name, (rows, cols) in shapes.items()
    }
    for symbol_name, (name, row_index, col_index) in positions.items():
        if name in cells:
            cells[name][row_index][col_index] = ChainRule(
                name, (row_index + 1, col_index + 1), tuple(collected[symbol_name])
            )
    return {
        name: Gradient(
            name,
            shapes[name],
            tuple(tuple(rule for rule in row if rule is not None) for row in cells[name]),
        )
        for name in shapes
    }


def derive_layer(
    symbols: Symbols,
    sizes: Sizes,
    bias: bool,
    engine: Engine,
    differentiator: Differentiator | None = None,
    entry_products: tuple[tuple[tuple[Any, ...], ...], ...] | None = None,
    forms: dict[Variable, MatrixForm] | None = None,
    progress: Progress | None = None,
) -> LayerDerivation:
    """The forward pass, the elementwise gradients and their checks for one layer."""
    from .verify import matrix_forms, verify_gradients

    if differentiator is None:
        differentiator = Differentiator(engine, symbols)
    with _without_cycle_collector():
        outputs = forward(symbols, sizes, bias, engine, entry_products)
        gradients = elementwise_gradients(
            outputs, symbols, sizes, bias, differentiator, engine, progress
        )
        if forms is None:
            forms = matrix_forms(symbols, sizes, bias, engine)
        products = {name: forms[name] for name in gradients}
        checks = verify_gradients(gradients, products, bias, symbols, engine)
        if progress is not None:
            progress("verify", 1, 1)
    return LayerDerivation(sizes, bias, outputs, gradients, products, checks)


def _labelled(progress: Progress | None, label: str) -> Progress | None:
    """A progress callback whose phases name the layer they belong to."""
    if progress is None:
        return None
    report = progress
    return lambda phase, done, total: report(f"{label}: {phase}", done, total)


@contextmanager
def _without_cycle_collector() -> Iterator[None]:
    """Pause Python's cycle collector: a large layer makes millions of acyclic objects, and
    the collector would rescan them again and again (a 64³ layer runs twice as fast without)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            # Everything made while paused sits in the youngest generation, and the first
            # collection after resuming would scan it all (about a second at 64³). Freezing
            # and at once unfreezing moves every tracked object to the oldest generation
            # without a scan, where a collection that found them alive would have put them;
            # they stay collectable, by the full collections. (Not when the program froze
            # objects of its own: unfreezing would undo that.)
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def derive(
    m: int = 2,
    k: int = 2,
    n: int = 2,
    *,
    bias: bool = True,
    engine: str | None = None,
    loss: str = "generic",
    progress: Progress | None = None,
) -> Derivation:
    """Derive and verify ∂L/∂Z, ∂L/∂W (and ∂L/∂b) for A = ZW (+ b) at the given sizes.

    ``loss`` is ``generic`` (any L, with ∂L/∂A as symbols) or a concrete loss from
    matgrad_cli.core.losses, which is then also differentiated through the whole layer.

    With the bias, the layer is derived twice, without and with b, and the check that the bias
    leaves ∂L/∂Z and ∂L/∂W unchanged compares the two elementwise results. The matrix forms
    G·Wᵀ and Zᵀ·G do not involve b, so both layers are checked against the same products.
    """
    from .losses import validate_loss
    from .verify import compare_unchanged, matrix_forms

    sizes = validate_sizes(m, k, n, engine)
    validate_loss(loss, sizes)
    cas = get_engine(engine)
    with _without_cycle_collector():
        symbols = build_symbols(sizes, cas)
        differentiator = Differentiator(cas, symbols)
        entry_products = products_of_entries(symbols, sizes)
        forms = matrix_forms(symbols, sizes, bias, cas)
        plain = derive_layer(
            symbols,
            sizes,
            False,
            cas,
            differentiator,
            entry_products,
            forms,
            _labelled(progress, "without the bias" if bias else "the layer"),
        )
        if not bias:
            return _with_loss(Derivation(sizes, False, cas.name, symbols, plain, None), loss)
        biased = derive_layer(
            symbols,
            sizes,
            True,
            cas,
            differentiator,
            entry_products,
            forms,
            _labelled(progress, "with the bias"),
        )
        unchanged = tuple(
            compare_unchanged(biased.gradients[name], plain.gradients[name], symbols, cas)
            for name in ("Z", "W")
        )
    return _with_loss(Derivation(sizes, True, cas.name, symbols, plain, biased, unchanged), loss)


def _with_loss(derivation: Derivation, loss: str) -> Derivation:
    """The derivation, with a concrete loss differentiated through the layer when one is asked."""
    if loss == "generic":
        return derivation
    from dataclasses import replace

    from .losses import derive_loss

    return replace(derivation, loss=derive_loss(loss, derivation.sizes, derivation.bias))
