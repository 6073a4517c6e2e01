"""The kinds of loss and what differentiating a concrete one through the layer gives.

``Loss`` and ``ConcreteLoss`` are the classes every loss of matgrad_cli.core.losses derives
from; ``LossDerivation`` is the verified result of ``losses.derive_loss``. Nothing here computes a
derivative: this module is what the rest of core names, without reaching either route.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from ..errors import SizeError
from .checks import Check
from .engine import get_engine
from .layer import BackwardRule, Layer, Shape, Sizes, Variable

#: A matrix form (G, Z, W) ↦ matrix, G being ∂L/∂A with A = ZW (+ 1_m b) substituted.
MatrixForm = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class Condition:
    """What the targets must satisfy for a closed form of ∂L/∂A to hold, in words, and how it is
    imposed on the symbolic targets (``substitution(Y)``) before the closed form is compared."""

    text: str
    latex: str
    #: The condition as a noun phrase, for a remark in parentheses.
    latex_noun: str
    #: The substitution that imposes it, in LaTeX.
    substitution_latex: str
    substitution: Callable[[Any], dict[Any, Any]]


@dataclass(frozen=True)
class Loss:
    """A scalar loss L of the layer's output A, as ``--loss`` and ``derive(loss=…)`` name it."""

    name: ClassVar[str]
    #: The name in prose and headings, such as ``softmax cross entropy``.
    title: ClassVar[str]
    #: L depends on targets Y, which a claim may then use.
    has_targets: ClassVar[bool] = False
    #: L and ∂L/∂A are polynomials in the entries: their values at integers are exact rationals
    #: (so counterexamples can be shown) and expanding decides their equality.
    polynomial: ClassVar[bool] = True
    #: The largest m·k·n at which claims are checked under this loss (matgrad check); None for
    #: no limit of its own.
    claims_limit: ClassVar[int | None] = None

    @property
    def concrete(self) -> bool:
        """True when L is written out and also differentiated through the whole layer."""
        return isinstance(self, ConcreteLoss)

    def validate(self, sizes: Sizes) -> None:
        """Refuse sizes too large to differentiate this loss at, before any work."""


class ConcreteLoss(Loss):
    """A loss written out: L(A, Y), its ∂L/∂A in closed form, its names and its size limit. A new
    loss is one subclass listed in LOSSES (docs/how-it-works.md, "Adding a loss")."""

    #: The right-hand side of L's definition in LaTeX, and the whole line ``L = …`` in plain text.
    definition_latex: ClassVar[str]
    text: ClassVar[str]
    #: ∂L/∂A in closed form, in LaTeX and in plain text.
    closed_form_latex: ClassVar[str]
    closed_form_text: ClassVar[str]
    #: What the targets must satisfy for the closed form to hold; None when nothing.
    condition: ClassVar[Condition | None] = None
    #: The largest m·k·n L is derived at symbolically (benchmarks/scale.py measures the time
    #: there): each row's loss is differentiated once by each entry of its row of A, and the chain
    #: rule through A takes one product per term of the layer, about m·k·n of them.
    size_limit: ClassVar[int]
    #: The numbers of columns at which an exercise sheet states this loss; None for any.
    exercise_columns: ClassVar[range | None] = None
    #: The loss in words on an exercise sheet (LaTeX), and what its targets are, with
    #: ``{parameters}`` for the matrices they do not depend on.
    sheet_words: ClassVar[str]
    sheet_targets: ClassVar[str] = ""
    #: The definition of a symbol the shown closed form uses, in LaTeX; None when it uses none.
    shorthand_latex: ClassVar[str | None] = None
    #: ∂L/∂A is a constant matrix, so that products with it multiply out short.
    constant_gradient: ClassVar[bool] = False
    #: Every entry of a row of A appears in every entry of that row of ∂L/∂A (the softmax's
    #: normaliser), which makes ∂L/∂Z, ∂L/∂W and ∂L/∂b written out in Z, W and b n² times longer.
    row_coupled: ClassVar[bool] = False

    @property
    def latex(self) -> str:
        """L's definition in LaTeX, as a display line ``L = …``."""
        return f"L = {self.definition_latex}"

    def expression(self, a: Any, y: Any) -> Any:
        """L as a SymPy expression in the entries of ``a`` (and of the targets ``y``), each with
        one row per sample: A and Y themselves, or their transposes with samples as columns
        (``closed_form`` likewise)."""
        raise NotImplementedError

    def closed_form(self, a: Any, y: Any) -> Any:
        """The textbook ∂L/∂A, built from its definition, not from the CAS derivative."""
        raise NotImplementedError

    def closed_form_shown(self, closed_form: Any, a: Any) -> Any:
        """The closed form as a sheet shows it, entry by entry: as it is, unless a loss names a
        part of it (``shorthand_latex``)."""
        return closed_form

    def validate(self, sizes: Sizes) -> None:
        """Refuse m·k·n above ``size_limit``."""
        volume = sizes.m * sizes.k * sizes.n
        if volume > self.size_limit:
            raise SizeError(
                f"m·k·n = {volume} is above the symbolic limit of {self.size_limit} for "
                f"--loss {self.name}; --numeric checks larger layers"
            )


#: One row's share (p, ∂ℓ_p/∂x) of the derivative of a concrete loss L = Σ_p ℓ_p(a_p) by an
#: entry x: p is the 1-based row of A, ∂ℓ_p/∂x = Σ_q ∂ℓ_p/∂a_{p,q} · ∂a_{p,q}/∂x that row's loss
#: differentiated through the layer by the chain rule, each factor the engine's derivative.
RowTerm = tuple[int, Any]


@dataclass(frozen=True)
class RowGradient:
    """∂L/∂X of a concrete loss, each entry kept as its rows' shares Σ_p ∂ℓ_p/∂x, in row order
    (denominator layout): the elementwise route's result, which compare.py compares row by row
    with the matrix forms."""

    variable: Variable
    shape: Shape
    entries: tuple[tuple[tuple[RowTerm, ...], ...], ...]


class LayerGradient:
    """∂L/∂X of a concrete loss as SymPy expressions of Z, W, b and Y, each entry made from its
    rows' shares when first read and then kept: at layer size the whole gradient holds millions
    of terms, and a document shows a few entries. Read as a SymPy matrix is: ``[i, j]``, a flat
    index, ``shape``; SymPy's and NumPy's matrix constructors take it whole."""

    def __init__(self, gradient: RowGradient, composed: Callable[[tuple[RowTerm, ...]], Any]):
        self.shape = gradient.shape
        self._entries = gradient.entries
        self._composed = composed
        self._made: dict[tuple[int, int], Any] = {}

    def __getitem__(self, index: int | tuple[int, int]) -> Any:
        i, j = index if isinstance(index, tuple) else divmod(index, self.shape[1])
        made = self._made.get((i, j))
        if made is None:
            made = self._made[i, j] = self._composed(self._entries[i][j])
        return made

    def tolist(self) -> list[list[Any]]:
        """Every entry, row by row."""
        return [[self[i, j] for j in range(self.shape[1])] for i in range(self.shape[0])]

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        import numpy

        array = numpy.empty(self.shape, dtype=object)
        for i, row in enumerate(self.tolist()):
            for j, entry in enumerate(row):
                array[i, j] = entry
        return array


@dataclass(frozen=True)
class LossSymbols:
    """SymPy matrices of the layer's symbols; ``A`` holds the symbols a_i_j, ``Y`` the targets."""

    input: Any
    weights: Any
    bias: Any
    Y: Any
    A: Any


@dataclass(frozen=True)
class LossDerivation:
    """A concrete loss differentiated through the layer and verified on the engine ``engine``.

    ``upstream`` is ∂L/∂A from the CAS (over a_i_j and y_i_j), ``closed_form`` the textbook form
    it was compared with, ``elementwise`` ∂L/∂Z, ∂L/∂W (∂L/∂b) of L(Z, W, b) itself and
    ``products`` the matrix forms built from ``upstream`` with A = ZW (+ 1_m b) substituted, all
    as SymPy matrices, made from the verified results when first asked for (at layer size they
    are large, and a check needs none of them)."""

    #: The loss itself: its expression, closed form, names and limits.
    definition: ConcreteLoss
    sizes: Sizes
    bias: bool
    symbols: LossSymbols
    closed_form: Any
    closed_form_holds: bool
    checks: tuple[Check, ...]
    engine: str
    #: ∂ℓ_p/∂a_{p,q} on the engine, row by row.
    upstream_rows: tuple[tuple[Any, ...], ...] = field(repr=False, compare=False)
    #: The engine's ∂L/∂X, each entry as its rows' shares over the entries of A.
    gradients: Mapping[Variable, RowGradient] = field(repr=False, compare=False)
    #: a_{p,q} ↦ Σ_r z_{p,r} w_{r,q} (+ b_q) on the engine: the layer.
    through_layer: Mapping[Any, Any] = field(repr=False, compare=False)
    #: Matrix forms given in place of the layer's (tests show a wrong one rejected).
    given_products: Mapping[Variable, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def loss(self) -> str:
        """The name of the loss, as ``--loss`` takes it."""
        return self.definition.name

    @property
    def condition(self) -> str | None:
        """What the targets must satisfy for the closed form to hold, or None."""
        condition = self.definition.condition
        return condition.text if condition is not None else None

    @property
    def verified(self) -> bool:
        """True when the closed form and every identity held at every entry."""
        return self.closed_form_holds and all(check.holds for check in self.checks)

    @cached_property
    def upstream(self) -> Any:
        """∂L/∂A over a_i_j and y_i_j, as a SymPy matrix."""
        import sympy

        to_sympy = get_engine(self.engine).to_sympy
        return sympy.Matrix([[to_sympy(entry) for entry in row] for row in self.upstream_rows])

    @cached_property
    def elementwise(self) -> dict[Variable, LayerGradient]:
        """∂L/∂Z, ∂L/∂W (∂L/∂b) of L(Z, W, b) as SymPy expressions, each entry made from its
        rows' shares when first read (LayerGradient)."""
        engine = get_engine(self.engine)
        layer = engine.mapping(dict(self.through_layer))

        def composed(shares: tuple[RowTerm, ...]) -> Any:
            import sympy

            return sympy.Add(
                *(engine.to_sympy(engine.substitute(share, layer)) for _, share in shares)
            )

        return {
            name: LayerGradient(gradient, composed) for name, gradient in self.gradients.items()
        }

    @cached_property
    def products(self) -> dict[Variable, Any]:
        """The matrix forms (G·Wᵀ, Zᵀ·G, 1ᵀ·G) at G = ∂L/∂A with the layer substituted, as SymPy
        matrices (those given in place of the layer's, where given)."""
        import sympy

        symbols, layer = self.symbols, self.sizes.layer
        operands = {
            layer.role("input").name: symbols.input,
            layer.role("weights").name: symbols.weights,
            layer.role("upstream").name: self.upstream.xreplace(
                layer_output(symbols, layer, self.bias)
            ),
            layer.role("ones").name: sympy.ones(self.sizes.m, 1),
        }
        return {
            name: self.given_products.get(name, multiplied(layer.rule(name), operands))
            for name in layer.variables(self.bias)
        }


def layer_output(symbols: LossSymbols, layer: Layer, bias: bool) -> dict[Any, Any]:
    """a_i_j ↦ entry (i, j) of ZW (+ 1_m b), or of WX (+ b 1_mᵀ) with samples as columns, over
    SymPy symbols."""
    import sympy

    if layer.samples == "rows":
        output = symbols.input * symbols.weights
        broadcast = sympy.ones(symbols.A.rows, 1) * symbols.bias
    else:
        output = symbols.weights * symbols.input
        broadcast = symbols.bias * sympy.ones(1, symbols.A.cols)
    if bias:
        output += broadcast
    return dict(zip(symbols.A, output, strict=True))


def multiplied(rule: BackwardRule, operands: Mapping[str, Any]) -> Any:
    """The layer's backward rule (G·Wᵀ, Zᵀ·G, 1ᵀ·G) as a product of SymPy matrices."""
    left, right = (
        operands[factor.matrix].T if factor.transposed else operands[factor.matrix]
        for factor in rule.factors
    )
    return left * right
