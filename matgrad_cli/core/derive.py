"""The derivation, orchestrated: the symbols, the two routes to each gradient, their comparison.

The elementwise route (elementwise.py: the forward pass and the chain rule, entry by entry, by the
CAS) and the matrix route (matrix.py: the layer's backward rules multiplied out) never import
each other; compare.py compares them entry by entry (SPEC section 1). Either route can be replaced
through ``derive``'s parameters, so that tests can show that a wrong one is caught.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from ..errors import AboveSymbolicLimit
from .arguments import flag, optional_callable, optional_name
from .compare import compare_unchanged, verify_gradients
from .elementwise import (
    Differentiator,
    ElementwiseRoute,
    EntryProducts,
    elementwise_gradients,
    forward,
    products_of_entries,
)
from .engine import Engine, get_engine
from .layer import Sizes, Variable, positive_sizes
from .losses import Layer, derive_loss, validate_loss
from .matrix import MatrixRoute, matrix_forms
from .model import Derivation, LayerDerivation, MatrixForm, Progress, Symbols, build_symbols

__all__ = ["SYMBOLIC_LIMITS", "build_symbols", "derive", "derive_layer", "validate_sizes"]

#: Largest m·k·n the symbolic engines take: the bound on the work and memory any sizes can cause
#: (seconds at the limit, as benchmarks/scale.py measures).
SYMBOLIC_LIMITS = {"symengine": 96**3, "sympy": 32**3}


def validate_sizes(
    m: object, k: object, n: object, engine: str | None = None, samples: object = "rows"
) -> Sizes:
    """Check that the sizes are positive integers the engine can finish with, before any work, and
    that ``samples`` names a convention."""
    sizes = positive_sizes(m, k, n, samples=samples)
    engine_name = get_engine(engine).name
    limit = SYMBOLIC_LIMITS[engine_name]
    if sizes.m * sizes.k * sizes.n > limit:
        raise AboveSymbolicLimit(
            f"m·k·n = {sizes.m * sizes.k * sizes.n} is above the symbolic limit of {limit} for "
            f"the {engine_name} engine; --numeric checks larger layers "
            "with exact integer arithmetic"
        )
    # A thin layer does little work per entry but still makes every symbol: cap the entries of
    # Z, W and A as well, at what the cube at the limit has.
    entries = sizes.m * sizes.k + sizes.k * sizes.n + sizes.m * sizes.n
    entry_limit = 3 * round(limit ** (2 / 3))
    if entries > entry_limit:
        raise AboveSymbolicLimit(
            f"Z, W and A have {entries} entries in all, above the symbolic limit of "
            f"{entry_limit} for the {engine_name} engine; --numeric checks larger layers "
            "with exact integer arithmetic"
        )
    return sizes


def derive_layer(
    symbols: Symbols,
    sizes: Sizes,
    bias: bool,
    engine: Engine,
    differentiator: Differentiator | None = None,
    entry_products: EntryProducts | None = None,
    products: dict[Variable, MatrixForm] | None = None,
    progress: Progress | None = None,
    elementwise: ElementwiseRoute = elementwise_gradients,
) -> LayerDerivation:
    """One layer: the forward pass and the elementwise gradients (the elementwise route), the
    matrix forms (``products``, or the matrix route's own), and their comparison."""
    if differentiator is None:
        differentiator = Differentiator(engine, symbols)
    with _without_cycle_collector():
        outputs = forward(symbols, sizes, bias, engine, entry_products)
        gradients = elementwise(outputs, symbols, sizes, bias, differentiator, engine, progress)
        if products is None:
            products = matrix_forms(symbols, sizes, bias, engine)
        checked = {name: products[name] for name in gradients}
        checks = verify_gradients(gradients, checked, bias, symbols, engine)
        if progress is not None:
            progress("verify", 1, 1)
    return LayerDerivation(sizes, bias, outputs, gradients, checked, checks)


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
    samples: str = "rows",
    progress: Progress | None = None,
    elementwise: ElementwiseRoute = elementwise_gradients,
    forms: MatrixRoute = matrix_forms,
) -> Derivation:
    """Derive and verify ∂L/∂Z, ∂L/∂W (and ∂L/∂b) for A = ZW (+ b) at the given sizes; with
    ``samples="columns"``, ∂L/∂X, ∂L/∂W (and ∂L/∂b) for A = WX (+ b1ᵀ), X of size k×m.

    ``loss`` is ``generic`` (any L, with ∂L/∂A as symbols) or a concrete loss from
    matgrad_cli.core.losses, which is then also differentiated through the whole layer.
    ``elementwise`` and ``forms`` replace the two routes (to show that a wrong one is caught).

    With the bias, the layer is derived twice, without and with b, and the check that the bias
    leaves ∂L/∂Z and ∂L/∂W unchanged compares the two elementwise results. The matrix forms
    G·Wᵀ and Zᵀ·G do not involve b, so both layers are checked against the same products.
    """
    optional_name("engine", engine)
    sizes = validate_sizes(m, k, n, engine, samples)
    validate_loss(loss, sizes)
    bias = flag("bias", bias)
    for name, hook in (("progress", progress), ("elementwise", elementwise), ("forms", forms)):
        optional_callable(name, hook)
    cas = get_engine(engine)
    with _without_cycle_collector():
        symbols = build_symbols(sizes, cas)
        differentiator = Differentiator(cas, symbols)
        entry_products = products_of_entries(symbols, sizes)
        products = forms(symbols, sizes, bias, cas)

        def layer(with_bias: bool, label: str) -> LayerDerivation:
            return derive_layer(
                symbols,
                sizes,
                with_bias,
                cas,
                differentiator,
                entry_products,
                products,
                _labelled(progress, label),
                elementwise,
            )

        plain = layer(False, "without the bias" if bias else "the layer")
        if not bias:
            return _with_loss(Derivation(sizes, False, cas.name, symbols, plain, None), loss)
        biased = layer(True, "with the bias")
        unchanged = tuple(
            compare_unchanged(biased.gradients[name], plain.gradients[name], symbols, cas)
            for name in sizes.layer.variables(bias=False)
        )
    return _with_loss(Derivation(sizes, True, cas.name, symbols, plain, biased, unchanged), loss)


def _with_loss(derivation: Derivation, loss: str) -> Derivation:
    """The derivation, with a concrete loss differentiated through the layer when one is asked:
    through the layer just derived, its forward pass and its matrix forms."""
    if loss == "generic":
        return derivation
    derived = derivation.biased if derivation.biased is not None else derivation.plain
    layer = Layer(derivation.symbols, derived.outputs, derived.products, derived.gradients)
    with _without_cycle_collector():
        concrete = derive_loss(
            loss, derivation.sizes, derivation.bias, engine=derivation.engine, layer=layer
        )
    return replace(derivation, loss=concrete)
