"""Losses, one class each: what L is, its ∂L/∂A in closed form, its names and its limits.

``LOSSES`` holds every loss the command line and the library accept, by name; ``loss_named``
looks one up. The generic loss is any scalar L, with ∂L/∂A left as symbols. For a concrete loss
(``sum``, ``squared-error``, ``softmax-cross-entropy``) matgrad builds L(A) with symbolic
targets y_{i,j}, and then:

- differentiates L with respect to each a_{i,j} to get ∂L/∂A, and checks it against the
  loss's closed form (all ones, A − Y, softmax(A) − Y for rows of Y that sum to 1);
- substitutes A = ZW (+ 1_m b) into L and differentiates L itself with respect to every entry of
  Z, W and b, through the whole composition, with no chain rule written by matgrad;
- compares those with (∂L/∂A)·Wᵀ, Zᵀ·(∂L/∂A) and 1ᵀ·(∂L/∂A), entry by entry.

This runs on SymPy: the softmax needs exp and log, and deciding that two such expressions are
equal needs rational-function cancellation, which symengine does not offer. SymPy is imported
inside the functions, so that the command line can list the losses without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..errors import InputError, SizeError
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
from .matrix import matrix_forms
from .model import MatrixForm as ModelMatrixForm
from .model import Outputs, Symbols, build_symbols

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


def _row_sums_one(y: Any) -> dict[Any, Any]:
    """y_{i,n} = 1 − Σ_{j<n} y_{i,j}: every row of Y sums to 1."""
    rows, cols = y.shape
    return {y[i, cols - 1]: 1 - sum(y[i, j] for j in range(cols - 1)) for i in range(rows)}


#: Targets that are a probability distribution per row, such as one-hot labels.
ROWS_SUM_TO_ONE = Condition(
    text="for rows of Y that sum to 1",
    latex="for rows of $Y$ that sum to 1",
    latex_noun="the rows of $Y$ summing to 1",
    substitution_latex=r"y_{i,n} = 1 - \sum_{j<n} y_{i,j}",
    substitution=_row_sums_one,
)


class GenericLoss(Loss):
    """Any scalar L: ∂L/∂A stays the matrix of symbols g_{i,j}, and the chain rule is all."""

    name = "generic"
    title = "generic"


def _cells(a: Any) -> list[tuple[int, int]]:
    rows, cols = a.shape
    return [(i, j) for i in range(rows) for j in range(cols)]


class SumLoss(ConcreteLoss):
    """L = Σ a_{i,j}: ∂L/∂A is all ones, the upstream gradient of a plain sum."""

    name = "sum"
    title = "sum"
    definition_latex = r"\sum_{i=1}^{m} \sum_{j=1}^{n} a_{i,j}"
    text = "L = Σ_{i,j} a_{i,j}"
    closed_form_latex = r"\mathbf{1}_m \mathbf{1}_n^\top"
    closed_form_text = "all ones"
    size_limit = 64**3
    #: matgrad check judges each claim with SymPy, entry by entry: it keeps its own limit.
    claims_limit = 216
    sheet_words = "the sum of the entries of $A$"
    constant_gradient = True

    def expression(self, a: Any, y: Any) -> Any:
        import sympy

        return sympy.Add(*(a[i, j] for i, j in _cells(a)))

    def closed_form(self, a: Any, y: Any) -> Any:
        import sympy

        return sympy.ones(*a.shape)


class SquaredError(ConcreteLoss):
    """L = ½ Σ (a_{i,j} − y_{i,j})²: ∂L/∂A = A − Y."""

    name = "squared-error"
    title = "squared error"
    has_targets = True
    definition_latex = r"\frac{1}{2} \sum_{i=1}^{m} \sum_{j=1}^{n} (a_{i,j} - y_{i,j})^2"
    text = "L = ½ Σ_{i,j} (a_{i,j} − y_{i,j})²"
    closed_form_latex = "A - Y"
    closed_form_text = "A − Y"
    size_limit = 64**3
    #: matgrad check judges each claim with SymPy, entry by entry: it keeps its own limit.
    claims_limit = 216
    sheet_words = "the squared error"
    sheet_targets = ", with targets $y_{{i,j}}$ that do not depend on {parameters}"

    def expression(self, a: Any, y: Any) -> Any:
        import sympy

        return sympy.Rational(1, 2) * sympy.Add(*((a[i, j] - y[i, j]) ** 2 for i, j in _cells(a)))

    def closed_form(self, a: Any, y: Any) -> Any:
        return a - y


def _softmax_denominators(a: Any) -> list[Any]:
    """Σ_q exp(a_{i,q}) for each row i."""
    import sympy

    rows, cols = a.shape
    return [sympy.Add(*(sympy.exp(a[i, q]) for q in range(cols))) for i in range(rows)]


class SoftmaxCrossEntropy(ConcreteLoss):
    """L = −Σ y_{i,j} log softmax(a_{i,:})_j: ∂L/∂A = softmax(A) − Y when each row of Y sums
    to 1 (the softmax of each row of A)."""

    name = "softmax-cross-entropy"
    title = "softmax cross entropy"
    has_targets = True
    polynomial = False
    definition_latex = (
        r"-\sum_{i=1}^{m} \sum_{j=1}^{n} y_{i,j} \log \operatorname{softmax}(a_{i,:})_j"
        r" = -\sum_{i=1}^{m} \sum_{j=1}^{n} y_{i,j} "
        r"\Bigl(a_{i,j} - \log \sum_{q=1}^{n} e^{a_{i,q}}\Bigr)"
    )
    text = "L = −Σ_{i,j} y_{i,j} log softmax(a_{i,:})_j"
    closed_form_latex = r"\operatorname{softmax}(A) - Y"
    closed_form_text = "softmax(A) − Y (softmax of each row)"
    condition = ROWS_SUM_TO_ONE
    size_limit = 16384
    #: Its cost grows with the square of the columns as well: every entry of a row feeds every
    #: exponential of that row, so each derivative has n terms; m·k·n·n is capped too.
    column_limit = 128
    cost_limit = 2**18
    row_coupled = True
    #: The default sizes of matgrad check reach 24; each hint is a full symbolic check.
    claims_limit = 24
    #: A row of more than 3 exponentials is too long to work with by hand, and a row of one is
    #: the constant 1 (L = 0 when the row of Y sums to 1).
    exercise_columns = range(2, 4)
    sheet_words = "the softmax cross-entropy"
    sheet_targets = (
        ", the softmax taken along each row of $A$, with targets $y_{{i,j}}$ that do not depend "
        "on {parameters} and whose rows sum to 1 (such as one-hot labels)"
    )
    shorthand_latex = r"\sigma_{i,j} = \frac{e^{a_{i,j}}}{\sum_{q=1}^{n} e^{a_{i,q}}}"

    def expression(self, a: Any, y: Any) -> Any:
        import sympy

        # −Σ y log softmax, written as log-sum-exp: the same function for real a, and the form
        # whose derivative the CAS keeps free of logarithms.
        log_sums = [sympy.log(denominator) for denominator in _softmax_denominators(a)]
        return -sympy.Add(*(y[i, j] * (a[i, j] - log_sums[i]) for i, j in _cells(a)))

    def closed_form(self, a: Any, y: Any) -> Any:
        import sympy

        denominators = _softmax_denominators(a)
        return sympy.Matrix(*a.shape, lambda i, j: sympy.exp(a[i, j]) / denominators[i]) - y

    def closed_form_shown(self, closed_form: Any, a: Any) -> Any:
        """Each exp(a_{i,j}) / Σ_q exp(a_{i,q}) becomes the symbol sigma_i_j (σ_{i,j},
        ``shorthand_latex``)."""
        rows, cols = a.shape
        if cols < 2:
            # With one column the softmax is 1 and the closed form already reads 1 − y_{i,1}.
            return closed_form
        import sympy

        denominators = _softmax_denominators(a)
        ratios = {
            sympy.exp(a[i, j]) / denominators[i]: sympy.Symbol(f"sigma_{i + 1}_{j + 1}")
            for i, j in _cells(a)
        }
        shown = closed_form.xreplace(ratios)
        if len(ratios) != rows * cols or shown.atoms(sympy.exp):
            raise ValueError("the softmax closed form is not in the form σ − Y")
        return shown

    def validate(self, sizes: Sizes) -> None:
        """Refuse more than ``column_limit`` columns, then m·k·n above ``size_limit``, then
        m·k·n·n above ``cost_limit``."""
        if sizes.n > self.column_limit:
            raise SizeError(
                f"n = {sizes.n} is above the limit of {self.column_limit} columns for --loss "
                f"{self.name}: every entry of a row feeds every exponential of that row"
            )
        super().validate(sizes)
        cost = sizes.m * sizes.k * sizes.n * sizes.n
        if cost > self.cost_limit:
            raise SizeError(
                f"m·k·n·n = {cost} is above the symbolic limit of {self.cost_limit} for --loss "
                f"{self.name} (every entry of a row feeds every exponential of that row); "
                "--numeric checks larger layers"
            )


#: Every loss by name, in the order the command line lists them (and exercise sheets draw the
#: concrete ones).
LOSSES: Mapping[str, Loss] = MappingProxyType(
    {loss.name: loss for loss in (GenericLoss(), SumLoss(), SquaredError(), SoftmaxCrossEntropy())}
)
LOSS_NAMES = tuple(LOSSES)


def loss_named(name: str) -> Loss:
    """The loss called ``name``; InputError for an unknown name."""
    loss = LOSSES.get(name) if isinstance(name, str) else None
    if loss is None:
        raise InputError(f"unknown loss {name!r} (choose from {', '.join(LOSS_NAMES)})")
    return loss


def concrete_loss(name: str) -> ConcreteLoss:
    """The concrete loss called ``name``; InputError for the generic loss or an unknown name."""
    loss = loss_named(name)
    if not isinstance(loss, ConcreteLoss):
        raise InputError(f"the {name} loss has no explicit L: derive it with derive()")
    return loss


def validate_loss(loss: str, sizes: Sizes) -> None:
    """Refuse an unknown loss, or sizes too large to differentiate it at, before any work."""
    loss_named(loss).validate(sizes)


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
    and the matrix forms under test (matgrad's derive hands over its own)."""

    symbols: Symbols
    outputs: Outputs
    products: Mapping[Variable, ModelMatrixForm]


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
    three identities on ``engine``; ``forms`` replaces matrix forms by SymPy ones (G, Z, W) ↦
    matrix, for tests to show a wrong one rejected, and ``layer`` hands over the layer's forward
    pass and matrix forms (the matrix route's, or those a test puts in their place).

    L = Σ_p ℓ_p(a_p) (checked: L is the sum of its rows' losses). The elementwise route
    (elementwise.loss_gradients) differentiates each ℓ_p through the layer; ∂L/∂A is ∂ℓ_p/∂a_{p,q}
    by the engine; compare.py compares the two, row by row, with the exact test of
    equality.RowExponentials."""
    definition = loss if isinstance(loss, ConcreteLoss) else concrete_loss(loss)
    definition.validate(sizes)
    cas = get_engine(engine)
    if layer is None:
        layer = _layer(sizes, bias, cas)
    symbols = loss_symbols(sizes)
    # Row p of these is sample p: a row of A, or a column of A with samples as columns.
    a, y = _by_sample(symbols.A, sizes), _by_sample(symbols.Y, sizes)
    outputs = _by_sample(layer.outputs, sizes)
    entries = [[cas.from_sympy(entry) for entry in a.row(p)] for p in range(sizes.m)]
    row_losses = _row_losses(definition, a, y, cas)
    upstream_rows = tuple(
        _upstream_row(row_loss, row, cas) for row_loss, row in zip(row_losses, entries, strict=True)
    )
    textbook = definition.closed_form(a, y)
    holds = _closed_form_holds(definition, y, entries, upstream_rows, textbook, cas)
    gradients = loss_gradients(outputs, row_losses, entries, layer.symbols, sizes, bias, cas)
    through = {
        entry: output.value
        for row, outputs_row in zip(entries, outputs, strict=True)
        for entry, output in zip(row, outputs_row, strict=True)
    }
    upstream = _by_sample(upstream_rows, sizes)  # in the shape of A again
    given = _given_products(forms, symbols, upstream, sizes, bias, cas)
    comparison = _Comparison(definition, sizes, bias, cas, entries, through)
    checks = tuple(
        comparison.with_matrix(gradients[name], given[name][1])
        if name in given
        else comparison.with_form(
            gradients[name], _form_by_sample(layer.products[name], sizes), upstream_rows
        )
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
        self._layer_rules = sizes.layer
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
        """The check of ``gradient`` against a matrix form at G = ``upstream``."""
        return compare_rows(
            gradient, form, upstream, self._equal, self.through_layer, self._engine, *self._named
        )

    def with_matrix(self, gradient: RowGradient, claimed: Any) -> Check:
        """The check of ``gradient`` against a matrix of expressions on the engine."""
        rule = self._layer_rules.rule(gradient.variable)
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
