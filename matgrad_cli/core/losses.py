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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

from ..errors import InputError, SizeError
from .checks import Check
from .equality import compare_expressions, expressions_equal
from .layer import LAYER, BackwardRule, Sizes, Variable

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


class GenericLoss(Loss):
    """Any scalar L: ∂L/∂A stays the matrix of symbols g_{i,j}, and the chain rule is all."""

    name = "generic"
    title = "generic"


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
    #: The largest m·k·n L is derived at: L is differentiated through the whole composition
    #: once per entry of Z, W and b, which grows as (mkn)².
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

    @property
    def latex(self) -> str:
        """L's definition in LaTeX, as a display line ``L = …``."""
        return f"L = {self.definition_latex}"

    def expression(self, a: Any, y: Any) -> Any:
        """L as a SymPy expression in the entries of ``a`` (and of the targets ``y``)."""
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
                f"m·k·n = {volume} is above the limit of {self.size_limit} for "
                f"--loss {self.name}, which differentiates L through the whole layer per entry; "
                "the generic loss goes much further"
            )


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
    size_limit = 216
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
    size_limit = 216
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
    # The softmax's expressions grow fastest.
    size_limit = 64
    #: Its cost grows with the square of the columns as well (each row's denominator holds n
    #: exponentials): a 1×1×64 layer would take minutes.
    column_limit = 6
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
        """Refuse more than ``column_limit`` columns, then m·k·n above ``size_limit``."""
        if sizes.n > self.column_limit:
            raise SizeError(
                f"n = {sizes.n} is above the limit of {self.column_limit} columns for --loss "
                f"{self.name}: every entry of a row feeds every exponential of that row"
            )
        super().validate(sizes)


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


@dataclass(frozen=True)
class LossSymbols:
    """SymPy matrices of the layer's symbols; ``A`` holds the symbols a_i_j, ``Y`` the targets."""

    Z: Any
    W: Any
    b: Any
    Y: Any
    A: Any


@dataclass(frozen=True)
class LossDerivation:
    """A concrete loss differentiated through the layer: ``upstream`` is ∂L/∂A from the CAS (over
    a_i_j and y_i_j), ``closed_form`` the textbook form it was compared with, ``elementwise`` ∂L/∂Z,
    ∂L/∂W (∂L/∂b) of L(Z, W, b) itself, and ``products`` the matrix forms built from ``upstream``
    with A = ZW (+ 1_m b) substituted."""

    #: The loss itself: its expression, closed form, names and limits.
    definition: ConcreteLoss
    sizes: Sizes
    bias: bool
    symbols: LossSymbols
    upstream: Any
    closed_form: Any
    closed_form_holds: bool
    elementwise: dict[Variable, Any]
    products: dict[Variable, Any]
    checks: tuple[Check, ...]

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


def loss_symbols(sizes: Sizes) -> LossSymbols:
    """The layer's symbols, named as everywhere in matgrad (z_i_r, w_r_j, b_j, a_i_j), and the
    targets y_i_j, which have the shape of A."""
    import sympy

    def symbols_of(name: str) -> Any:
        matrix = LAYER.matrix(name)
        rows, cols = matrix.shape(sizes)
        return sympy.Matrix(rows, cols, lambda i, j: sympy.Symbol(matrix.symbol_name(i + 1, j + 1)))

    targets = sympy.Matrix(sizes.m, sizes.n, lambda i, j: sympy.Symbol(f"y_{i + 1}_{j + 1}"))
    return LossSymbols(symbols_of("Z"), symbols_of("W"), symbols_of("b"), targets, symbols_of("A"))


def closed_form_shown(loss: LossDerivation) -> Any:
    """The closed form of ∂L/∂A as a sheet shows it (ConcreteLoss.closed_form_shown)."""
    return loss.definition.closed_form_shown(loss.closed_form, loss.symbols.A)


def derive_loss(
    loss: str | ConcreteLoss,
    sizes: Sizes,
    bias: bool,
    forms: Mapping[Variable, MatrixForm] | None = None,
) -> LossDerivation:
    """Differentiate a concrete loss (named in LOSSES, or itself) through the layer and verify the
    three identities; ``forms`` replaces matrix forms, for tests to show a wrong one rejected."""
    import sympy

    definition = loss if isinstance(loss, ConcreteLoss) else concrete_loss(loss)
    definition.validate(sizes)
    symbols = loss_symbols(sizes)
    expression = definition.expression(symbols.A, symbols.Y)
    upstream = symbols.A.applyfunc(lambda entry: sympy.diff(expression, entry))
    textbook = definition.closed_form(symbols.A, symbols.Y)
    holds = _closed_form_holds(definition.condition, symbols, upstream, textbook)
    elementwise, products = _through_the_layer(expression, upstream, symbols, bias, forms)
    checks = tuple(
        compare_expressions(
            name, LAYER.rule(name), bias, elementwise[name], products[name], definition.name
        )
        for name in elementwise
    )
    return LossDerivation(
        definition, sizes, bias, symbols, upstream, textbook, holds, elementwise, products, checks
    )


def _closed_form_holds(
    condition: Condition | None, symbols: LossSymbols, upstream: Any, textbook: Any
) -> bool:
    """The CAS's ∂L/∂A equals the closed form at every entry, under the condition if any."""
    substitution = condition.substitution(symbols.Y) if condition is not None else {}
    return all(
        expressions_equal(found.xreplace(substitution), closed.xreplace(substitution))
        for found, closed in zip(upstream, textbook, strict=True)
    )


def _through_the_layer(
    expression: Any,
    upstream: Any,
    symbols: LossSymbols,
    bias: bool,
    forms: Mapping[Variable, MatrixForm] | None,
) -> tuple[dict[Variable, Any], dict[Variable, Any]]:
    """With A = ZW (+ 1_m b) substituted: L differentiated by each entry of Z, W (and b), and
    the matrix forms built from ∂L/∂A, as (elementwise, products)."""
    import sympy

    ones = sympy.ones(symbols.A.rows, 1)
    layer_output = symbols.Z * symbols.W + ones * symbols.b if bias else symbols.Z * symbols.W
    forward = dict(zip(symbols.A, layer_output, strict=True))
    composed = expression.xreplace(forward)
    matrices = {"Z": symbols.Z, "W": symbols.W, "b": symbols.b}
    variables = LAYER.variables(bias)
    elementwise = {
        name: matrices[name].applyfunc(lambda entry: sympy.diff(composed, entry))
        for name in variables
    }
    operands = {**matrices, "G": upstream.xreplace(forward), "1": ones}
    products = {
        name: forms[name](operands["G"], symbols.Z, symbols.W)
        if forms is not None and name in forms
        else _multiplied(LAYER.rule(name), operands)
        for name in variables
    }
    return elementwise, products


def _multiplied(rule: BackwardRule, operands: Mapping[str, Any]) -> Any:
    """The layer's backward rule (G·Wᵀ, Zᵀ·G, 1ᵀ·G) as a product of SymPy matrices."""
    left, right = (
        operands[factor.matrix].T if factor.transposed else operands[factor.matrix]
        for factor in rule.factors
    )
    return left * right
