"""The losses, one class each: what L is, its ∂L/∂A in closed form, its names and its limits.

``LOSSES`` holds every loss the single layer accepts, by name, and ``NETWORK_LOSSES`` those of a
network: the same and the binary cross-entropy, whose argument must be probabilities (a
sigmoid's output). ``loss_named`` looks one up for the single layer, in the convention of the
layer: with samples as columns a loss is the same function of the samples (each a column of A
instead of a row), and only its notation differs, so each concrete loss has a subclass that
writes it with A's indices (j, i). ``expression`` and ``closed_form`` always take the matrices
with one row per sample. SymPy is imported inside the methods, so that the command line can list
the losses without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..errors import InputError, SizeError
from .layer import Samples, Sizes
from .loss_base import ConcreteLoss, Condition, Loss


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


class BinaryCrossEntropy(ConcreteLoss):
    """L = −Σ (y_{i,j} log p_{i,j} + (1 − y_{i,j}) log(1 − p_{i,j})) of probabilities P, each
    entry its own two-class problem: ∂L/∂P = (P − Y) / (P ⊙ (1 − P)), entry by entry.

    Its argument must lie in (0, 1), so it is a loss of a network whose output activation is the
    sigmoid, P = σ(A_L), and then ∂L/∂A_L = P − Y (the factor σ′ = P ⊙ (1 − P) cancels). The
    single layer's A is no probability: ``loss_named`` refuses it there, with that fix."""

    name = "binary-cross-entropy"
    title = "binary cross entropy"
    has_targets = True
    polynomial = False
    definition_latex = (
        r"-\sum_{i=1}^{m} \sum_{j=1}^{n} \bigl(y_{i,j} \log p_{i,j} "
        r"+ (1 - y_{i,j}) \log(1 - p_{i,j})\bigr)"
    )
    text = "L = −Σ_{i,j} (y_{i,j} log p_{i,j} + (1 − y_{i,j}) log(1 − p_{i,j}))"
    closed_form_latex = r"(P - Y) \oslash \bigl(P \odot (\mathbf{1}\mathbf{1}^\top - P)\bigr)"
    closed_form_text = "(P − Y) / (P ⊙ (1 − P)), entry by entry"
    #: ∂L/∂A_L after a sigmoid, P = σ(A_L), in LaTeX and in plain text.
    after_sigmoid_latex = "P - Y"
    after_sigmoid_text = "P − Y"
    #: Never reached: the single layer refuses this loss (loss_named), and a network is bounded by
    #: its chain-rule terms (network.py).
    size_limit = 16384
    sheet_words = "the binary cross-entropy"
    sheet_targets = ", with targets $y_{{i,j}}$ in $[0, 1]$ that do not depend on {parameters}"

    def expression(self, a: Any, y: Any) -> Any:
        import sympy

        return -sympy.Add(
            *(
                y[i, j] * sympy.log(a[i, j]) + (1 - y[i, j]) * sympy.log(1 - a[i, j])
                for i, j in _cells(a)
            )
        )

    def closed_form(self, a: Any, y: Any) -> Any:
        import sympy

        return sympy.Matrix(*a.shape, lambda i, j: (a[i, j] - y[i, j]) / (a[i, j] * (1 - a[i, j])))


#: Targets that are a probability distribution per column, with samples as columns.
COLUMNS_SUM_TO_ONE = Condition(
    text="for columns of Y that sum to 1",
    latex="for columns of $Y$ that sum to 1",
    latex_noun="the columns of $Y$ summing to 1",
    substitution_latex=r"y_{n,i} = 1 - \sum_{j<n} y_{j,i}",
    # Imposed on the targets with one row per sample, their transpose (losses.py).
    substitution=_row_sums_one,
)


class SumLossByColumns(SumLoss):
    """The sum, written with samples as columns: L = Σ a_{j,i}, ∂L/∂A = 1_n 1_mᵀ."""

    definition_latex = r"\sum_{i=1}^{m} \sum_{j=1}^{n} a_{j,i}"
    text = "L = Σ_{i,j} a_{j,i}"
    closed_form_latex = r"\mathbf{1}_n \mathbf{1}_m^\top"


class SquaredErrorByColumns(SquaredError):
    """The squared error, written with samples as columns: L = ½ Σ (a_{j,i} − y_{j,i})²."""

    definition_latex = r"\frac{1}{2} \sum_{i=1}^{m} \sum_{j=1}^{n} (a_{j,i} - y_{j,i})^2"
    text = "L = ½ Σ_{i,j} (a_{j,i} − y_{j,i})²"
    sheet_targets = ", with targets $y_{{j,i}}$ that do not depend on {parameters}"


class SoftmaxCrossEntropyByColumns(SoftmaxCrossEntropy):
    """The softmax cross-entropy with samples as columns: the softmax of each column of A, the
    targets of each column summing to 1."""

    definition_latex = (
        r"-\sum_{i=1}^{m} \sum_{j=1}^{n} y_{j,i} \log \operatorname{softmax}(a_{:,i})_j"
        r" = -\sum_{i=1}^{m} \sum_{j=1}^{n} y_{j,i} "
        r"\Bigl(a_{j,i} - \log \sum_{q=1}^{n} e^{a_{q,i}}\Bigr)"
    )
    text = "L = −Σ_{i,j} y_{j,i} log softmax(a_{:,i})_j"
    closed_form_text = "softmax(A) − Y (softmax of each column)"
    condition = COLUMNS_SUM_TO_ONE
    sheet_targets = (
        ", the softmax taken along each column of $A$, with targets $y_{{j,i}}$ that do not "
        "depend on {parameters} and whose columns sum to 1 (such as one-hot labels)"
    )
    shorthand_latex = r"\sigma_{j,i} = \frac{e^{a_{j,i}}}{\sum_{q=1}^{n} e^{a_{q,i}}}"

    def closed_form_shown(self, closed_form: Any, a: Any) -> Any:
        """Each exp(a_{j,i}) / Σ_q exp(a_{q,i}) becomes the symbol sigma_j_i (σ_{j,i})."""
        import sympy

        shown = super().closed_form_shown(closed_form.T, a.T).T
        rows, cols = a.shape
        named = {
            sympy.Symbol(f"sigma_{i + 1}_{j + 1}"): sympy.Symbol(f"sigma_{j + 1}_{i + 1}")
            for j in range(rows)
            for i in range(cols)
        }
        return shown.xreplace(named)


#: Every loss by name, in the order the command line lists them (and exercise sheets draw the
#: concrete ones).
LOSSES: Mapping[str, Loss] = MappingProxyType(
    {loss.name: loss for loss in (GenericLoss(), SumLoss(), SquaredError(), SoftmaxCrossEntropy())}
)
LOSS_NAMES = tuple(LOSSES)

#: The losses a network takes: the single layer's, and the binary cross-entropy of a sigmoid's
#: probabilities (network_losses.py says which output activation each allows).
NETWORK_LOSSES: Mapping[str, Loss] = MappingProxyType(
    {**LOSSES, "binary-cross-entropy": BinaryCrossEntropy()}
)
#: What ``--loss`` takes: every network loss (the single layer refuses the ones it has no use for).
LOSS_CHOICES = tuple(NETWORK_LOSSES)

#: The same losses written with samples as columns.
_BY_COLUMNS: Mapping[str, Loss] = MappingProxyType(
    {
        loss.name: loss
        for loss in (
            GenericLoss(),
            SumLossByColumns(),
            SquaredErrorByColumns(),
            SoftmaxCrossEntropyByColumns(),
        )
    }
)


def loss_named(name: str, samples: Samples = "rows") -> Loss:
    """The loss called ``name``, written in the convention ``samples``; InputError for an unknown
    name."""
    losses = LOSSES if samples == "rows" else _BY_COLUMNS
    loss = losses.get(name) if isinstance(name, str) else None
    if name == BinaryCrossEntropy.name:
        raise InputError(
            "the binary-cross-entropy loss takes probabilities, not the layer's A: put a sigmoid "
            "after the layer (use --output-activation sigmoid)"
        )
    if loss is None:
        raise InputError(f"unknown loss {name!r} (choose from {', '.join(LOSS_NAMES)})")
    return loss


def concrete_loss(name: str, samples: Samples = "rows") -> ConcreteLoss:
    """The concrete loss called ``name``, written in the convention ``samples``; InputError for
    the generic loss or an unknown name."""
    loss = loss_named(name, samples)
    if not isinstance(loss, ConcreteLoss):
        raise InputError(f"the {name} loss has no explicit L: derive it with derive()")
    return loss


def validate_loss(loss: str, sizes: Sizes) -> None:
    """Refuse an unknown loss, or sizes too large to differentiate it at, before any work."""
    loss_named(loss, sizes.samples).validate(sizes)


def network_loss_named(name: str) -> Loss:
    """The loss called ``name`` as a network takes it (NETWORK_LOSSES); InputError for an unknown
    name."""
    loss = NETWORK_LOSSES.get(name) if isinstance(name, str) else None
    if loss is None:
        raise InputError(f"unknown loss {name!r} (choose from {', '.join(LOSS_CHOICES)})")
    return loss
