"""Concrete losses differentiated through the layer, and the losses themselves (re-exported from
loss_definitions.py, where each is one class).

For a concrete loss (``sum``, ``squared-error``, ``softmax-cross-entropy``) matgrad builds L(A)
with symbolic targets y, and then:

- differentiates L with respect to each entry of A to get ∂L/∂A, and checks it against the
  loss's closed form (all ones, A − Y, softmax(A) − Y for targets of each sample that sum to 1);
- differentiates L with respect to every entry of the input, W and b by the chain rule through
  A = ZW (+ 1_m b) (or A = WX (+ b 1_mᵀ)), Σ_q ∂ℓ_p/∂a_{p,q} · ∂a_{p,q}/∂x, each factor the
  engine's derivative (elementwise.loss_gradients);
- compares those with the layer's backward rules at G = ∂L/∂A ((∂L/∂A)·Wᵀ, Zᵀ·(∂L/∂A) and
  1ᵀ·(∂L/∂A) with samples as rows), entry by entry.

L is a sum over the samples, L = Σ_p ℓ_p(a_p), a sample being a row of A or, with samples as
columns, a column: it is written, differentiated and compared sample by sample.

This runs on SymPy: the softmax needs exp and log, and deciding that two such expressions are
equal needs rational-function cancellation, which symengine does not offer. SymPy is imported
inside the functions, so that the command line can list the losses without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .checks import Check
from .compare import compare_row_totals, compare_rows
from .elementwise import forward, loss_gradients
from .engine import Engine, get_engine
from .equality import RowExponentials
from .layer import Role, Sizes, Variable
from .loss_base import (
    ConcreteLoss,
    Condition,
    Loss,
    LossDerivation,
    LossSymbols,
    MatrixForm,
    RowGradient,
    layer_output,
)
from .loss_definitions import (
    LOSS_NAMES,
    LOSSES,
    ROWS_SUM_TO_ONE,
    GenericLoss,
    SoftmaxCrossEntropy,
    SquaredError,
    SumLoss,
    concrete_loss,
    loss_named,
    validate_loss,
)
from .matrix import matrix_forms
from .model import Gradient, Outputs, Symbols, build_symbols
from .model import MatrixForm as ModelMatrixForm

__all__ = [
    "LOSSES",
    "LOSS_NAMES",
    "ROWS_SUM_TO_ONE",
    "ConcreteLoss",
    "Condition",
    "GenericLoss",
    "Layer",
    "Loss",
    "LossDerivation",
    "LossSymbols",
    "MatrixForm",
    "RowGradient",
    "SoftmaxCrossEntropy",
    "SquaredError",
    "SumLoss",
    "closed_form_shown",
    "concrete_loss",
    "derive_loss",
    "loss_named",
    "loss_symbols",
    "validate_loss",
]


def loss_symbols(sizes: Sizes) -> LossSymbols:
    """The layer's symbols, named as everywhere in matgrad (z_i_r, w_r_j, b_j, a_i_j; or x_r_i,
    w_j_r, b_j, a_j_i with samples as columns), and the targets y, which have the shape of A."""
    import sympy

    layer = sizes.layer

    def symbols_of(role: Role) -> Any:
        matrix = layer.role(role)
        rows, cols = matrix.shape(sizes)
        return sympy.Matrix(rows, cols, lambda i, j: sympy.Symbol(matrix.symbol_name(i + 1, j + 1)))

    rows, cols = sizes.shape_of(layer.role("output").name)
    targets = sympy.Matrix(rows, cols, lambda i, j: sympy.Symbol(f"y_{i + 1}_{j + 1}"))
    return LossSymbols(
        symbols_of("input"),
        symbols_of("weights"),
        symbols_of("bias"),
        targets,
        symbols_of("output"),
    )


def _by_sample(matrix: Any, sizes: Sizes) -> Any:
    """A matrix in the shape of A (or the rows of one) with one row per sample: itself with samples
    as rows, its transpose with samples as columns. A loss is a sum over the samples (L =
    Σ_p ℓ_p(a_p)), and it is written, differentiated and compared sample by sample."""
    if sizes.samples == "rows":
        return matrix
    if isinstance(matrix, tuple):
        return tuple(zip(*matrix, strict=True))
    return matrix.T


def _form_by_sample(form: ModelMatrixForm, sizes: Sizes) -> ModelMatrixForm:
    """A matrix form whose terms name the entries of A by (sample, output): the same form, its
    terms' indices (j, i) of A turned to (i, j) with samples as columns."""
    if sizes.samples == "rows":
        return form
    entries = tuple(
        tuple(tuple(((q, p), factor) for (p, q), factor in terms) for terms in row)
        for row in form.entries
    )
    return ModelMatrixForm(form.of, form.shape, entries)


def closed_form_shown(loss: LossDerivation) -> Any:
    """The closed form of ∂L/∂A as a sheet shows it (ConcreteLoss.closed_form_shown)."""
    return loss.definition.closed_form_shown(loss.closed_form, loss.symbols.A)


@dataclass(frozen=True)
class Layer:
    """The layer a loss is differentiated through, on an engine: its symbols, its forward pass
    and the matrix forms under test (matgrad's derive hands over its own), and the elementwise
    gradients where the layer was derived already (their chain rule's local partials)."""

    symbols: Symbols
    outputs: Outputs
    products: Mapping[Variable, ModelMatrixForm]
    gradients: Mapping[Variable, Gradient] | None = None


def derive_loss(
    loss: str | ConcreteLoss,
    sizes: Sizes,
    bias: bool,
    forms: Mapping[Variable, MatrixForm] | None = None,
    *,
    engine: str | None = None,
    layer: Layer | None = None,
) -> LossDerivation:
    """Differentiate a concrete loss (named in LOSSES, or itself) through the layer and verify the
    three identities on ``engine``; ``forms`` replaces matrix forms by SymPy ones (G, input, W) ↦
    matrix, for tests to show a wrong one rejected; ``layer`` hands over the layer's forward pass
    and matrix forms (the matrix route's, or those a test puts in their place).

    L = Σ_p ℓ_p(a_p) over the samples p (checked). The elementwise route (loss_gradients)
    differentiates each ℓ_p through the layer, ∂L/∂A is ∂ℓ_p/∂a_{p,q} by the engine, and
    compare.py compares the two sample by sample with equality.RowExponentials's exact test."""
    definition = loss if isinstance(loss, ConcreteLoss) else concrete_loss(loss, sizes.samples)
    definition.validate(sizes)
    cas = get_engine(engine)
    if layer is None:
        layer = _layer(sizes, bias, cas)
    symbols = loss_symbols(sizes)
    a, y, outputs = (_by_sample(rows, sizes) for rows in (symbols.A, symbols.Y, layer.outputs))
    entries = [[cas.from_sympy(entry) for entry in a.row(p)] for p in range(sizes.m)]
    row_losses = _row_losses(definition, a, y, cas)
    upstream_rows = tuple(
        _upstream_row(row_loss, row, cas) for row_loss, row in zip(row_losses, entries, strict=True)
    )
    textbook = definition.closed_form(a, y)
    holds = _closed_form_holds(definition, y, entries, upstream_rows, textbook, cas)
    gradients = loss_gradients(layer, row_losses, entries, sizes, bias, cas)
    through = {
        entry: output.value
        for row, sample in zip(entries, outputs, strict=True)
        for entry, output in zip(row, sample, strict=True)
    }
    upstream = _by_sample(upstream_rows, sizes)  # in the shape of A again
    given = _given_products(forms, symbols, upstream, sizes, bias, cas)
    comparison = _Comparison(definition, sizes, bias, cas, entries, through)
    checks = tuple(
        comparison.with_matrix(gradients[name], given[name][1])
        if name in given
        else comparison.with_form(gradients[name], layer.products[name], upstream_rows)
        for name in gradients
    )
    return LossDerivation(
        definition,
        sizes,
        bias,
        symbols,
        _by_sample(textbook, sizes),
        holds,
        checks,
        cas.name,
        upstream,
        gradients,
        through,
        {name: matrix for name, (matrix, _) in given.items()},
    )


class _Comparison:
    """How a concrete loss's two sides are compared on the engine: row by row over the entries
    of A, and as wholes with the layer put in for A (compare.compare_rows)."""

    def __init__(
        self,
        definition: ConcreteLoss,
        sizes: Sizes,
        bias: bool,
        engine: Engine,
        entries: list[list[Any]],
        through: dict[Any, Any],
    ) -> None:
        self._named = (definition.name, bias, self.shown)
        self._sizes = sizes
        self._engine = engine
        exponentials = not definition.polynomial
        self._equal = RowExponentials(engine, entries if exponentials else ()).equal
        sums = [[through[a] for a in row] for row in entries]
        self._equal_composed = RowExponentials(engine, sums if exponentials else ()).equal
        self._layer = engine.mapping(through)

    def through_layer(self, left: Any, right: Any) -> bool:
        """left = right, proved with A = ZW (+ 1_m b) put in."""
        engine, layer = self._engine, self._layer
        return self._equal_composed(engine.substitute(left, layer), engine.substitute(right, layer))

    def shown(self, expr: Any) -> Any:
        """An expression over the entries of A as a SymPy expression of the layer."""
        return self._engine.to_sympy(self._engine.substitute(expr, self._layer))

    def with_form(self, gradient: RowGradient, form: ModelMatrixForm, upstream: Any) -> Check:
        """The check of ``gradient`` against a matrix form at G = ``upstream`` (one row per
        sample)."""
        by_sample = _form_by_sample(form, self._sizes)
        return compare_rows(
            gradient,
            by_sample,
            upstream,
            self._equal,
            self.through_layer,
            self._engine,
            *self._named,
        )

    def with_matrix(self, gradient: RowGradient, claimed: Any) -> Check:
        """The check of ``gradient`` against a matrix of expressions on the engine."""
        rule = self._sizes.layer.rule(gradient.variable)
        return compare_row_totals(
            gradient, claimed, rule, self.through_layer, self._engine, *self._named
        )


def _layer(sizes: Sizes, bias: bool, engine: Engine) -> Layer:
    """The layer on ``engine``: its symbols, its forward pass and the matrix route's forms."""
    symbols = build_symbols(sizes, engine)
    return Layer(
        symbols, forward(symbols, sizes, bias, engine), matrix_forms(symbols, sizes, bias, engine)
    )


def _row_losses(definition: ConcreteLoss, a: Any, y: Any, engine: Engine) -> list[Any]:
    """ℓ_p, the loss of sample p alone (row p of ``a``, one row per sample), on the engine:
    ``expression`` of row 1, converted once, with each row's symbols put in. ValueError unless L
    of the first two rows is the sum of their losses (the same SymPy expression once the sum is
    flattened), as a loss defined as Σ_i Σ_j … is: L = Σ_p ℓ_p(a_p) is what the route stands
    on."""
    import sympy

    first = definition.expression(a[0, :], y[0, :])
    if a.rows > 1:
        second = definition.expression(a[1, :], y[1, :])
        if sympy.Add(first, second) != definition.expression(a[:2, :], y[:2, :]):
            raise ValueError(f"the {definition.name} loss is not the sum of its rows' losses")
    template = engine.from_sympy(first)
    named = [engine.from_sympy(entry) for entry in (*a[0, :], *y[0, :])]
    return [
        engine.substitute(
            template,
            engine.mapping(
                dict(zip(named, (engine.from_sympy(e) for e in (*a[p, :], *y[p, :])), strict=True))
            ),
        )
        for p in range(a.rows)
    ]


def _upstream_row(row_loss: Any, row: list[Any], engine: Engine) -> tuple[Any, ...]:
    """∂ℓ_p/∂a_{p,q} for each entry of row p by the engine, from the terms of ℓ_p that hold
    a_{p,q} (the others have derivative 0): a squared error's row has n terms, one per entry."""
    holding: dict[Any, list[Any]] = {a: [] for a in row}
    for term in row_loss.args if row_loss.is_Add else (row_loss,):
        for symbol in term.free_symbols:
            if symbol in holding:
                holding[symbol].append(term)
    return tuple(engine.diff(engine.add(holding[a]), a) for a in row)


def _closed_form_holds(
    definition: ConcreteLoss,
    targets: Any,
    entries: list[list[Any]],
    upstream_rows: tuple[tuple[Any, ...], ...],
    textbook: Any,
    engine: Engine,
) -> bool:
    """The CAS's ∂L/∂A equals the closed form at every entry, under the condition if any."""
    condition = definition.condition
    substitution = engine.mapping(
        {
            engine.from_sympy(target): engine.from_sympy(value)
            for target, value in (condition.substitution(targets) if condition else {}).items()
        }
    )
    equal = RowExponentials(engine, () if definition.polynomial else entries).equal

    def imposed(expr: Any) -> Any:
        return engine.substitute(expr, substitution) if condition else expr

    return all(
        equal(imposed(found), imposed(engine.from_sympy(textbook[p, q])))
        for p, row in enumerate(upstream_rows)
        for q, found in enumerate(row)
    )


def _given_products(
    forms: Mapping[Variable, MatrixForm] | None,
    symbols: LossSymbols,
    upstream_rows: tuple[tuple[Any, ...], ...],
    sizes: Sizes,
    bias: bool,
    engine: Engine,
) -> dict[Variable, tuple[Any, Any]]:
    """The matrix forms given in place of the layer's, as (SymPy matrix, engine matrix)."""
    if not forms:
        return {}
    import sympy

    to_sympy = engine.to_sympy
    upstream = sympy.Matrix([[to_sympy(entry) for entry in row] for row in upstream_rows])
    through_layer = upstream.xreplace(layer_output(symbols, sizes.layer, bias))
    given = {}
    for name in sizes.layer.variables(bias):
        if name in forms:
            matrix = forms[name](through_layer, symbols.input, symbols.weights)
            given[name] = (matrix, _EngineMatrix(matrix, engine))
    return given


class _EngineMatrix:
    """A SymPy matrix's entries on the engine, with ``shape`` and ``[i, j]``."""

    def __init__(self, matrix: Any, engine: Engine) -> None:
        self.shape = matrix.shape
        self._rows = [[engine.from_sympy(entry) for entry in row] for row in matrix.tolist()]

    def __getitem__(self, index: tuple[int, int]) -> Any:
        return self._rows[index[0]][index[1]]
