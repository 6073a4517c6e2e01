"""The numeric check as a document (LaTeX and Markdown), saying plainly what it is and is not."""

from __future__ import annotations

from ..core.numeric import METHOD, NumericCheck, NumericResult
from .document import Document, Paragraph, Section, Table
from .layer_latex import forward_latex, rule_claim
from .mathtex import shape_latex


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


def numeric_document(result: NumericResult, full: bool = False) -> Document:
    """The numeric check of every identity, as a short document."""
    sizes = result.sizes
    low, high = -result.entry_range, result.entry_range
    layer = forward_latex(result.bias)
    rows = tuple(
        (
            f"${rule_claim(check.variable)}$",
            f"${shape_latex(*check.shape)}$",
            _how(check),
            _result(check),
        )
        for check in result.checks
    )
    verdict = (
        "Every identity held at this draw."
        if result.verified
        else "Some identities FAIL at this draw."
    )
    return Document(
        f"Numeric check of the gradients of ${layer}$, "
        f"$(m, k, n) = ({sizes.m}, {sizes.k}, {sizes.n})$",
        (
            Section(
                "What was checked",
                (
                    Paragraph(
                        f"This is a {METHOD}. The entries of $Z$, $W$"
                        + (", $b$" if result.bias else "")
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
                ),
            ),
            Section(
                "Result",
                (
                    Table(("identity", "shape", "compared", "result"), rows),
                    Paragraph(
                        verdict + " A numeric check at random integer values is evidence, "
                        "not a symbolic proof; at sizes within the symbolic limit, matgrad derive "
                        "checks every entry symbolically."
                    ),
                ),
            ),
        ),
    )
