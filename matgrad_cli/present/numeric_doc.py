"""The numeric check as a document (LaTeX and Markdown), saying plainly what it is and is not."""

from __future__ import annotations

from ..core.losses import concrete_loss
from ..core.numeric import METHOD, NumericCheck, NumericResult
from .document import Display, Document, Paragraph, Section, Table
from .layer_latex import forward_latex, rule_claim
from .mathtex import shape_latex
from .numeric_text import result_check, sample_name, within


def _how(check: NumericCheck) -> str:
    """What was compared: every entry or a sample, and how many directions."""
    entries = (
        f"all {check.entries:,} entries"
        if check.every_entry
        else f"{check.entries_by_difference:,} of {check.entries:,} entries"
    )
    return f"{entries}, {check.directions} directions"


def _result(check: NumericCheck) -> str:
    """The result of one identity, for the table."""
    if check.holds:
        return "holds"
    if check.claimed_shape != check.shape:
        return "FAILS (shapes differ)"
    return f"FAILS ({check.mismatch_count:,} entries differ)"


def _names(result: NumericResult) -> list[str]:
    """The matrices drawn at random, in inline maths: $Z$, $W$ (and $b$), or $X$, $W$ ($b$)."""
    return [f"${name}$" for name in result.sizes.layer.variables(result.bias)]


def _generic_checked(result: NumericResult) -> tuple[Paragraph | Display, ...]:
    """The draw and the linear loss, then why a difference quotient is exactly the partial."""
    low, high = -result.entry_range, result.entry_range
    return (
        Paragraph(
            f"This is a {METHOD}. The entries of "
            + ", ".join(_names(result))
            + f" and $G = \\partial L/\\partial A$ are random integers from ${low}$ "
            f"to ${high}$ (seed {result.seed}), and the loss is "
            "$L = \\sum_{p,q} G_{p,q} a_{p,q}$, so that $\\partial L/\\partial A = G$."
        ),
        Paragraph(
            "$L$ is linear in each single entry, so the difference quotient "
            "$L(X + E) - L(X)$ for a one-entry change $E$ is exactly the partial "
            "derivative; it is computed from forward passes alone, never from the "
            "formula under test. Random directions $V$ compare "
            "$L(X + V) - L(X)$ with the inner product of the claimed gradient "
            "and $V$. Gradients are in denominator layout: "
            "$\\partial L/\\partial X$ has the shape of $X$."
        ),
    )


#: How the targets were drawn (NumericResult.targets), after the layer's matrices; ``{sample}``
#: is a row of Y, or a column with samples as columns.
_TARGETS = {
    "": "",
    "integers": " The targets $Y$ are random integers from ${low}$ to ${high}$ as well.",
    "one-hot": " The targets $Y$ are one-hot: one 1 per {sample}, at a random class, so that "
    "every {sample} of $Y$ sums to 1.",
}


def _concrete_result(check: NumericCheck) -> str:
    """The result of one comparison under a concrete loss, for the table."""
    return f"holds {within(check, latex=True)}" if check.holds else _result(check)


def _what_was_checked(result: NumericResult) -> tuple[Paragraph | Display, ...]:
    """The draw and the loss, then how each side was computed and compared."""
    sizes = result.sizes
    loss = concrete_loss(result.loss, sizes.samples)
    low, high = -result.entry_range, result.entry_range
    *first, last = _names(result)
    names = f"{', '.join(first)} and {last}"
    targets = (
        _TARGETS[result.targets].format(low=low, high=high, sample=sample_name(sizes.layer)).strip()
    )
    how = (
        "Every figure is an integer, computed exactly."
        if result.exact
        else "The exponentials and logarithms are enclosed in intervals (mpmath), every other "
        "operation is rounded outward, and the sums are added exactly on a grid of "
        f"$2^{{-{result.grid_bits}}}$. An entry holds when the enclosures of its two sides "
        "overlap; their true values then differ by at most the bound in the table, computed "
        "from the enclosures' widths, and enclosures that do not overlap prove the rule wrong at "
        "this draw."
    )
    return (
        Paragraph(
            f"This is a {result.method}. The entries of {names} are random integers "
            f"from ${low}$ to ${high}$ (seed {result.seed}), and the loss is"
        ),
        # A display: the softmax's definition is wider than a line of text.
        Display((loss.latex,)),
        *([Paragraph(targets)] if targets else []),
        Paragraph(
            "The elementwise route finds $\\partial L/\\partial a_{p,q}$ by "
            "forward-mode differentiation (dual numbers) of the definition of $L$, "
            "by the sum, product and chain rules alone; the partials "
            "$\\partial a_{p,q}/\\partial x$ of the forward pass come from forward "
            "passes, and each $\\partial L/\\partial x$ is the chain-rule sum "
            "$\\sum_{p,q} \\partial L/\\partial a_{p,q} \\cdot "
            "\\partial a_{p,q}/\\partial x$ over the entries of $A$ that $x$ "
            "feeds. The matrix route evaluates each rule at the closed form "
            f"$\\partial L/\\partial A = {loss.closed_form_latex}$. Every entry is "
            f"compared. {how} Gradients are in denominator layout: "
            "$\\partial L/\\partial X$ has the shape of $X$."
        ),
    )


def numeric_document(result: NumericResult, full: bool = False) -> Document:
    """The numeric check of every identity, as a short document: what was checked, then each
    identity's result in a table (under a concrete loss ∂L/∂A's closed form first) and the
    verdict."""
    sizes, closed_form = result.sizes, result.closed_form
    layer = sizes.layer
    if closed_form is None:
        under, checked, held = "", _generic_checked(result), "Every identity held at this draw."
        derive = (
            "; at sizes within the symbolic limit, matgrad derive checks every entry symbolically"
        )
        rows = [
            (rule_claim(check.variable, layer=layer), check, _how(check), _result(check))
            for check in result.checks
        ]
    else:
        loss = concrete_loss(result.loss, sizes.samples)
        under, checked, derive = f" under the {loss.title}", _what_was_checked(result), ""
        held = f"Every identity held at this draw, {within(result_check(result), latex=True)}."
        claims = [
            (f"\\partial L/\\partial A = {loss.closed_form_latex}", closed_form),
            *((rule_claim(check.variable, layer=layer), check) for check in result.checks),
        ]
        rows = [
            (claim, check, f"all {check.entries:,} entries", _concrete_result(check))
            for claim, check in claims
        ]
    table = tuple(
        (f"${claim}$", f"${shape_latex(*check.shape)}$", compared, outcome)
        for claim, check, compared, outcome in rows
    )
    verdict = held if result.verified else "Some identities FAIL at this draw."
    convention = ", samples as columns" if layer.samples == "columns" else ""
    return Document(
        f"Numeric check of the gradients of ${forward_latex(result.bias, layer)}${under}, "
        f"$(m, k, n) = ({sizes.m}, {sizes.k}, {sizes.n})${convention}",
        (
            Section("What was checked", checked),
            Section(
                "Result",
                (
                    Table(("identity", "shape", "compared", "result"), table),
                    Paragraph(
                        f"{verdict} A numeric check at random integer values is evidence, not a "
                        f"symbolic proof{derive}."
                    ),
                ),
            ),
        ),
    )
