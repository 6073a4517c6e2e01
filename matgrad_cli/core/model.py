"""The objects of the mathematics, named after it. No rendering and no computation lives here.

Indices are 1-based, as in SPEC section 1. Expressions are those of the engine that computed them
(symengine or SymPy); renderers convert the few they display.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..errors import ArgumentError, InputError
from . import bridge
from .checks import Check, Comparand, comparand_text
from .engine import Engine, get_engine, linear_value
from .layer import ROWS, Index, Layer, Role, Shape, Sizes, Variable

if TYPE_CHECKING:
    from .loss_base import LossDerivation

#: A progress callback, progress(phase, done, total), for long derivations and checks.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Symbols:
    """The symbolic matrices of ``layer`` as nested tuples of engine symbols, row by row: the
    input (Z, or X with samples as columns), the weights W, the bias b (its entries in order) and
    ``upstream``, the entries of G = ∂L/∂A, the symbols dA_i_j."""

    input: tuple[tuple[Any, ...], ...]
    weights: tuple[tuple[Any, ...], ...]
    bias: tuple[Any, ...]
    upstream: tuple[tuple[Any, ...], ...]
    layer: Layer = field(default=ROWS, repr=False)

    def rows(self, name: str) -> tuple[tuple[Any, ...], ...]:
        """The symbols of the layer's matrix called ``name`` (Z or X, W, b or G), row by row."""
        role = self.layer.matrix(name).role
        if role == "bias":
            return (
                (self.bias,)
                if self.layer.matrix(name).rows == "1"
                else tuple((entry,) for entry in self.bias)
            )
        by_role = {"input": self.input, "weights": self.weights, "upstream": self.upstream}
        return by_role[role]


def build_symbols(sizes: Sizes, engine: Engine) -> Symbols:
    """One symbol per entry, named so that no two indices collide (z_1_11 is not z_11_1)."""
    layer = sizes.layer

    def symbols_of(role: Role) -> tuple[tuple[Any, ...], ...]:
        matrix = layer.role(role)
        rows, cols = matrix.shape(sizes)
        return tuple(
            tuple(engine.symbol(matrix.symbol_name(i, j)) for j in range(1, cols + 1))
            for i in range(1, rows + 1)
        )

    bias = tuple(entry for row in symbols_of("bias") for entry in row)
    return Symbols(symbols_of("input"), symbols_of("weights"), bias, symbols_of("upstream"), layer)


@dataclass(frozen=True)
class OutputEntry:
    """One entry a_{p,q} of A: its terms in summation order and, on demand, their sum by the
    engine's ``add`` (the chain rule differentiates the terms one by one and needs no sum)."""

    index: Index
    terms: tuple[Any, ...]
    add: Callable[[Sequence[Any]], Any] = field(repr=False, compare=False)

    @cached_property
    def value(self) -> Any:
        """a_{p,q} as one expression of the engine: the sum of its terms."""
        return self.add(self.terms)


#: The entries of A, row by row.
Outputs = tuple[tuple[OutputEntry, ...], ...]

#: One term ∂L/∂a_{p,q} · factor of a sum that is linear in the entries of G = ∂L/∂A, as the pair
#: (output, factor): ``output`` is the index (p, q) of the entry of A, ``factor`` the expression
#: it is multiplied by. Both sides of every identity are such sums: the chain rule
#: ∂L/∂x = Σ ∂L/∂a_{p,q} · ∂a_{p,q}/∂x (factor = the local partial, from the CAS) and the entries
#: of the matrix products ((G·Wᵀ)_{i,r} = Σ_q ∂L/∂a_{i,q} · w_{r,q}). A plain pair, not a class:
#: a 64³ derivation makes a million and a half of them, and a pair is made five times faster.
UpstreamTerm = tuple[Index, Any]

#: A sum of UpstreamTerms in summation-index order: an exact linear form in the entries of G.
LinearForm = tuple[UpstreamTerm, ...]


@dataclass(frozen=True)
class ChainRule:
    """The elementwise partial ∂L/∂x of one entry x: its chain-rule sum over the a's it feeds."""

    variable: Variable
    index: Index
    terms: LinearForm


@dataclass(frozen=True)
class Gradient:
    """All elementwise partials of one variable, arranged in its shape (denominator layout)."""

    variable: Variable
    shape: Shape
    entries: tuple[tuple[ChainRule, ...], ...]

    def values(self, upstream: Sequence[Sequence[Any]], engine: Engine) -> list[list[Any]]:
        """Each partial as one expression, Σ ∂L/∂a_{p,q} · ∂a_{p,q}/∂x over the symbols of G."""
        return [
            [linear_value(rule.terms, upstream, engine) for rule in row] for row in self.entries
        ]


@dataclass(frozen=True)
class MatrixForm:
    """A matrix form such as G·Wᵀ, multiplied out: each entry a linear form in G's entries.
    ``of`` is what it is the form of: a backward rule, the gradient without the bias, or a text."""

    of: Comparand
    shape: Shape
    entries: tuple[tuple[LinearForm, ...], ...]

    @property
    def formula(self) -> str:
        """The form in plain text, e.g. ``∂L/∂A · Wᵀ``."""
        return comparand_text(self.of)


@dataclass(frozen=True)
class LayerDerivation:
    """The elementwise derivation for one layer, A = ZW or A = ZW + 1_m b."""

    sizes: Sizes
    bias: bool
    outputs: Outputs
    gradients: dict[Variable, Gradient]
    products: dict[Variable, MatrixForm]
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class Derivation(bridge.RenderedInFull):
    """The whole derivation: the layer without bias and, when asked for, with it (SPEC §2)."""

    sizes: Sizes
    bias: bool
    engine: str
    symbols: Symbols
    plain: LayerDerivation
    biased: LayerDerivation | None
    extra_checks: tuple[Check, ...] = field(default=())
    #: A concrete loss differentiated through the layer, or None for the generic loss.
    loss: LossDerivation | None = None

    @property
    def loss_name(self) -> str:
        """``generic``, or the name of the concrete loss."""
        return "generic" if self.loss is None else self.loss.loss

    @property
    def checks(self) -> tuple[Check, ...]:
        """Every check made, in document order."""
        biased = self.biased.checks if self.biased is not None else ()
        loss = self.loss.checks if self.loss is not None else ()
        return self.plain.checks + biased + self.extra_checks + loss

    @property
    def verified(self) -> bool:
        """True when every identity held at every entry (and a loss's closed form too)."""
        closed_form = self.loss is None or self.loss.closed_form_holds
        return closed_form and all(check.holds for check in self.checks)

    def gradient_matrix(self, variable: Variable) -> Any:
        """∂L/∂X as a SymPy Matrix of the elementwise results (with the bias when there is one)."""
        import sympy

        layer = self.biased if self.biased is not None else self.plain
        if variable not in layer.gradients:  # Z, W, and b with the bias
            names = ", ".join(layer.gradients)
            error = InputError if isinstance(variable, str) else ArgumentError
            raise error(f"no gradient with respect to {variable!r} (choose from {names})")
        values = layer.gradients[variable].values(self.symbols.upstream, get_engine(self.engine))
        return sympy.Matrix([[sympy.sympify(value) for value in row] for row in values])
