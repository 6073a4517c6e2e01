"""Concrete losses: L is an explicit scalar, and the CAS differentiates it through the whole layer.

For ``--loss sum``, ``squared-error`` and ``softmax-cross-entropy`` matgrad builds L(A) with
symbolic targets y_{i,j}, and then:

- differentiates L with respect to each a_{i,j} to get ∂L/∂A, and checks it against the textbook
  closed form (all ones, A − Y, softmax(A) − Y for rows of Y that sum to 1);
- substitutes A = ZW (+ 1_m b) into L and differentiates L itself with respect to every entry of
  Z, W and b, through the whole composition, with no chain rule written by matgrad;
- compares those with (∂L/∂A)·Wᵀ, Zᵀ·(∂L/∂A) and 1ᵀ·(∂L/∂A), entry by entry.

This runs on SymPy: the softmax needs exp and log, and deciding that two such expressions are
equal needs rational-function cancellation, which symengine does not offer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import InputError, SizeError
from .model import Check, Mismatch, Sizes, Variable

LOSS_NAMES = ("generic", "sum", "squared-error", "softmax-cross-entropy")

#: The largest m·k·n each concrete loss is derived at: L is differentiated through the whole
#: composition once per entry of Z, W and b, which grows as (mkn)², and the softmax's
#: expressions grow fastest.
CONCRETE_LIMITS = {"sum": 216, "squared-error": 216, "softmax-cross-entropy": 64}
#: The softmax's cost grows with the square of the columns as well (each row's denominator
#: holds n exponentials): a 1×1×64 layer would take minutes.
SOFTMAX_COLUMN_LIMIT = 6

#: How each loss is written, in LaTeX and in plain text.
LOSS_LATEX = {
    "sum": r"L = \sum_{i=1}^{m} \sum_{j=1}^{n} a_{i,j}",
    "squared-error": r"L = \frac{1}{2} \sum_{i=1}^{m} \sum_{j=1}^{n} (a_{i,j} - y_{i,j})^2",
    "softmax-cross-entropy": (
        r"L = -\sum_{i=1}^{m} \sum_{j=1}^{n} y_{i,j} \log \operatorname{softmax}(a_{i,:})_j"
        r" = -\sum_{i=1}^{m} \sum_{j=1}^{n} y_{i,j} "
        r"\Bigl(a_{i,j} - \log \sum_{q=1}^{n} e^{a_{i,q}}\Bigr)"
    ),
}
LOSS_TEXT = {
    "sum": "L = Σ_{i,j} a_{i,j}",
    "squared-error": "L = ½ Σ_{i,j} (a_{i,j} − y_{i,j})²",
    "softmax-cross-entropy": "L = −Σ_{i,j} y_{i,j} log softmax(a_{i,:})_j",
}
#: The closed form of ∂L/∂A, and the condition it needs.
CLOSED_FORM_LATEX = {
    "sum": r"\mathbf{1}_m \mathbf{1}_n^\top",
    "squared-error": "A - Y",
    "softmax-cross-entropy": r"\operatorname{softmax}(A) - Y",
}
CLOSED_FORM_TEXT = {
    "sum": "all ones",
    "squared-error": "A − Y",
    "softmax-cross-entropy": "softmax(A) − Y (softmax of each row)",
}
CONDITIONS = {"softmax-cross-entropy": "for rows of Y that sum to 1"}


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
    """A concrete loss differentiated through the layer, and what was verified about it.

    ``upstream`` is ∂L/∂A from the CAS, over the symbols a_i_j and y_i_j; ``closed_form`` is the
    textbook form it was compared with; ``elementwise`` holds ∂L/∂Z, ∂L/∂W (∂L/∂b) from
    differentiating L(Z, W, b) itself, over z, w, b and y; ``products`` the matrix forms built
    from ``upstream`` with A = ZW (+ 1_m b) substituted.
    """

    loss: str
    sizes: Sizes
    bias: bool
    symbols: LossSymbols
    expression: Any
    upstream: Any
    closed_form: Any
    closed_form_holds: bool
    condition: str | None
    elementwise: dict[Variable, Any]
    products: dict[Variable, Any]
    checks: tuple[Check, ...]

    @property
    def verified(self) -> bool:
        """True when the closed form and every identity held at every entry."""
        return self.closed_form_holds and all(check.holds for check in self.checks)


def validate_loss(loss: str, sizes: Sizes) -> None:
    """Refuse an unknown loss, or sizes too large to differentiate it at, before any work."""
    if loss not in LOSS_NAMES:
        raise InputError(f"unknown loss {loss!r} (choose from {', '.join(LOSS_NAMES)})")
    if loss == "generic":
        return
    limit = CONCRETE_LIMITS[loss]
    if loss == "softmax-cross-entropy" and sizes.n > SOFTMAX_COLUMN_LIMIT:
        raise SizeError(
            f"n = {sizes.n} is above the limit of {SOFTMAX_COLUMN_LIMIT} columns for --loss "
            "softmax-cross-entropy: every entry of a row feeds every exponential of that row"
        )
    if sizes.m * sizes.k * sizes.n > limit:
        raise SizeError(
            f"m·k·n = {sizes.m * sizes.k * sizes.n} is above the limit of {limit} for "
            f"--loss {loss}, which differentiates L through the whole layer per entry; "
            "the generic loss goes much further"
        )


def loss_symbols(sizes: Sizes) -> LossSymbols:
    """The symbols, named as everywhere in matgrad (z_i_r, w_r_j, b_j, y_i_j, a_i_j)."""
    import sympy

    m, k, n = sizes.m, sizes.k, sizes.n
    return LossSymbols(
        Z=sympy.Matrix(m, k, lambda i, r: sympy.Symbol(f"z_{i + 1}_{r + 1}")),
        W=sympy.Matrix(k, n, lambda r, j: sympy.Symbol(f"w_{r + 1}_{j + 1}")),
        b=sympy.Matrix(1, n, lambda _, j: sympy.Symbol(f"b_{j + 1}")),
        Y=sympy.Matrix(m, n, lambda i, j: sympy.Symbol(f"y_{i + 1}_{j + 1}")),
        A=sympy.Matrix(m, n, lambda i, j: sympy.Symbol(f"a_{i + 1}_{j + 1}")),
    )


def loss_expression(loss: str, symbols: LossSymbols) -> Any:
    """L as a SymPy expression in the a_i_j (and y_i_j)."""
    import sympy

    a, y = symbols.A, symbols.Y
    rows, cols = a.shape
    cells = [(i, j) for i in range(rows) for j in range(cols)]
    if loss == "sum":
        return sympy.Add(*(a[i, j] for i, j in cells))
    if loss == "squared-error":
        return sympy.Rational(1, 2) * sympy.Add(*((a[i, j] - y[i, j]) ** 2 for i, j in cells))
    if loss == "softmax-cross-entropy":
        # −Σ y log softmax, written as log-sum-exp: the same function for real a, and the form
        # whose derivative the CAS keeps free of logarithms.
        log_sums = [
            sympy.log(sympy.Add(*(sympy.exp(a[i, q]) for q in range(cols)))) for i in range(rows)
        ]
        return -sympy.Add(*(y[i, j] * (a[i, j] - log_sums[i]) for i, j in cells))
    raise InputError(f"unknown loss {loss!r}")


def closed_form(loss: str, symbols: LossSymbols) -> Any:
    """The textbook ∂L/∂A, built from its definition, not from the CAS derivative."""
    import sympy

    a, y = symbols.A, symbols.Y
    rows, cols = a.shape
    if loss == "sum":
        return sympy.ones(rows, cols)
    if loss == "squared-error":
        return a - y
    denominators = [sympy.Add(*(sympy.exp(a[i, q]) for q in range(cols))) for i in range(rows)]
    softmax = sympy.Matrix(rows, cols, lambda i, j: sympy.exp(a[i, j]) / denominators[i])
    return softmax - y


def closed_form_shown(loss: LossDerivation) -> Any:
    """The closed form of ∂L/∂A as a sheet shows it: for the softmax, each
    exp(a_{i,j}) / Σ_q exp(a_{i,q}) is the symbol sigma_i_j (σ_{i,j}, SOFTMAX_LATEX); the
    other losses' closed forms are short already."""
    if loss.loss != "softmax-cross-entropy" or loss.closed_form.shape[1] < 2:
        # (With one column the softmax is 1 and the closed form already reads 1 − y_{i,1}.)
        return loss.closed_form
    import sympy

    a = loss.symbols.A
    rows, cols = a.shape
    denominators = [sympy.Add(*(sympy.exp(a[i, q]) for q in range(cols))) for i in range(rows)]
    ratios = {
        sympy.exp(a[i, j]) / denominators[i]: sympy.Symbol(f"sigma_{i + 1}_{j + 1}")
        for i in range(rows)
        for j in range(cols)
    }
    shown = loss.closed_form.xreplace(ratios)
    if len(ratios) != rows * cols or shown.atoms(sympy.exp):
        raise ValueError("the softmax closed form is not in the form σ − Y")
    return shown


#: The σ_{i,j} of closed_form_shown.
SOFTMAX_LATEX = r"\sigma_{i,j} = \frac{e^{a_{i,j}}}{\sum_{q=1}^{n} e^{a_{i,q}}}"


def expressions_equal(left: Any, right: Any) -> bool:
    """Exact equality of two expressions built from polynomials, exp and log.

    First a fast test: each softmax denominator (a sum of exponentials), each exponential and
    each logarithm becomes a fresh symbol, and the difference is expanded; zero there means
    equal. That can miss an equality that needs a denominator to be the sum it stands for, so
    a nonzero result is decided again, completely: only each exp(±u) becomes a symbol (u runs
    over distinct linear forms here, so their exponentials are independent), and the numerator
    of the difference over a common denominator is expanded.
    """
    import sympy

    difference = left - right
    if not difference.atoms(sympy.exp, sympy.log):
        return bool(sympy.expand(difference) == 0)
    sums = {
        atom: sympy.Dummy(f"s{index}")
        for index, atom in enumerate(
            a
            for a in difference.atoms(sympy.Add)
            if a.args and all(isinstance(term, sympy.exp) for term in a.args)
        )
    }
    fast = difference.xreplace(sums)
    if sympy.expand(fast.xreplace(_exponential_symbols(fast))) == 0:
        return True
    complete = difference.xreplace(_exponential_symbols(difference))
    numerator, _ = sympy.together(complete).as_numer_denom()
    return bool(sympy.expand(numerator) == 0)


def _exponential_symbols(expr: Any) -> dict[Any, Any]:
    """A symbol for each exp(u), with exp(−u) as its reciprocal, and one for each log(…)."""
    import sympy

    atoms = sorted(expr.atoms(sympy.exp, sympy.log), key=sympy.default_sort_key)
    exponentials: dict[Any, Any] = {}
    symbols: dict[Any, Any] = {}
    for atom in atoms:
        if isinstance(atom, sympy.exp):
            argument = atom.args[0]
            negated = argument.could_extract_minus_sign()
            key = -argument if negated else argument
            symbol = exponentials.setdefault(key, sympy.Dummy(f"e{len(exponentials)}"))
            symbols[atom] = 1 / symbol if negated else symbol
        else:
            symbols[atom] = sympy.Dummy(f"g{len(symbols)}")
    return symbols


def _row_sums_one(symbols: LossSymbols) -> dict[Any, Any]:
    """y_{i,n} = 1 − Σ_{j<n} y_{i,j}: every row of Y sums to 1."""
    y = symbols.Y
    rows, cols = y.shape
    return {y[i, cols - 1]: 1 - sum(y[i, j] for j in range(cols - 1)) for i in range(rows)}


def compare_expressions(
    variable: Variable,
    formula: str,
    bias: bool,
    elementwise: Any,
    claimed: Any,
) -> Check:
    """Every entry of ``elementwise`` against ``claimed``, with ``expressions_equal``; a claimed
    matrix of the wrong shape fails without comparing entries."""
    shape = (int(elementwise.shape[0]), int(elementwise.shape[1]))
    claimed_shape = (int(claimed.shape[0]), int(claimed.shape[1]))
    if shape != claimed_shape:
        return Check(variable, formula, bias, shape, claimed_shape, False, 0)
    mismatches: list[Mismatch] = []
    count = 0
    for i in range(shape[0]):
        for j in range(shape[1]):
            if not expressions_equal(elementwise[i, j], claimed[i, j]):
                count += 1
                if len(mismatches) < 5:
                    mismatches.append(Mismatch((i + 1, j + 1), elementwise[i, j], claimed[i, j]))
    return Check(
        variable,
        formula,
        bias,
        shape,
        claimed_shape,
        count == 0,
        shape[0] * shape[1],
        tuple(mismatches),
        count,
    )


FORMULAS: dict[Variable, str] = {"Z": "∂L/∂A · Wᵀ", "W": "Zᵀ · ∂L/∂A", "b": "1ᵀ · ∂L/∂A"}


def derive_loss(
    loss: str,
    sizes: Sizes,
    bias: bool,
    forms: dict[Variable, Callable[[Any, Any, Any], Any]] | None = None,
) -> LossDerivation:
    """Differentiate a concrete loss through the layer and verify the three identities.

    ``forms`` replaces the matrix forms (G, Z, W) ↦ matrix, so that tests can show that a wrong
    form is rejected.
    """
    import sympy

    validate_loss(loss, sizes)
    if loss == "generic":
        raise InputError("the generic loss has no explicit L: derive it with derive()")
    symbols = loss_symbols(sizes)
    expression = loss_expression(loss, symbols)
    a = symbols.A
    rows, cols = a.shape
    upstream = sympy.Matrix(rows, cols, lambda i, j: sympy.diff(expression, a[i, j]))

    textbook = closed_form(loss, symbols)
    condition = CONDITIONS.get(loss)
    substitution = _row_sums_one(symbols) if condition else {}
    closed_form_holds = all(
        expressions_equal(
            upstream[i, j].xreplace(substitution), textbook[i, j].xreplace(substitution)
        )
        for i in range(rows)
        for j in range(cols)
    )

    layer_output = symbols.Z * symbols.W
    if bias:
        layer_output += sympy.ones(rows, 1) * symbols.b
    forward = {a[i, j]: layer_output[i, j] for i in range(rows) for j in range(cols)}
    composed = expression.xreplace(forward)
    variables: dict[Variable, Any] = {"Z": symbols.Z, "W": symbols.W}
    if bias:
        variables["b"] = symbols.b
    elementwise = {
        name: matrix.applyfunc(lambda entry: sympy.diff(composed, entry))
        for name, matrix in variables.items()
    }

    gradient = upstream.xreplace(forward)
    default_forms: dict[Variable, Callable[[Any, Any, Any], Any]] = {
        "Z": lambda g, z, w: g * w.T,
        "W": lambda g, z, w: z.T * g,
        "b": lambda g, z, w: sympy.ones(1, g.shape[0]) * g,
    }
    chosen = {**default_forms, **(forms or {})}
    products = {name: chosen[name](gradient, symbols.Z, symbols.W) for name in variables}
    checks = tuple(
        compare_expressions(
            name, f"{FORMULAS[name]}, L = {loss}", bias, elementwise[name], products[name]
        )
        for name in variables
    )
    return LossDerivation(
        loss,
        sizes,
        bias,
        symbols,
        expression,
        upstream,
        textbook,
        closed_form_holds,
        condition,
        elementwise,
        products,
        checks,
    )
