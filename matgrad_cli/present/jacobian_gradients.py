"""The Jacobian view from the Jacobians to the gradients, as document sections.

Contracting each Jacobian with ∂L/∂A gives Zᵀ·∂L/∂A and ∂L/∂A·Wᵀ; then why the original notes'
"∂Y/∂W = Xᵀ" is wrong (SPEC section 5), the same calculation in index notation for any sizes,
and a summary of every check. Every statement of a result is read off a JacobianCheck.
"""

from __future__ import annotations

from ..core.jacobians import JacobianCheck, JacobianDerivation, JacobianVariable, Layout
from ..core.kronecker import vec_order
from ..core.model import LinearForm, MatrixForm
from .document import Block, Display, Paragraph, Section, Table
from .jacobian_notation import (
    ENTRY,
    KRONECKER,
    VEC,
    column_latex,
    jacobian_latex,
    rejection,
    short_name,
    vec_identity,
    verdict,
)
from .layer_latex import UPSTREAM_INLINE, rule_claim, rule_latex, upstream_first
from .limits import MATRIX_WIDTH, VECTOR_TERMS
from .mathtex import bmatrix, elide, grad, shape_latex, slashed, term_latex, visible


def _check_latex(check: JacobianCheck, layout: Layout) -> str:
    """The identity a check is about, in LaTeX, for the summary table."""
    variable = check.variable
    if check.kind == "jacobian":
        return f"{short_name(variable, layout)} = {KRONECKER[(variable, layout)]}"
    if check.kind == "vec":
        return f"{VEC}(A) = {vec_identity(variable)}"
    if check.kind == "contraction":
        return rule_claim(variable)
    return rf"{short_name(variable, layout)} = \text{{a claimed form}}"


def _linear_form(form: LinearForm, leads: bool, full: bool) -> str:
    """A linear form in the entries of ∂L/∂A, ∂L/∂a_{i,j} first when ``leads``."""
    items = [term_latex(output, factor, leads) for output, factor in form]
    shown = elide(items, VECTOR_TERMS, full)
    return " + ".join(shown) if shown else "0"


def _contraction_blocks(
    variable: JacobianVariable, derivation: JacobianDerivation, full: bool
) -> list[Block]:
    layout = derivation.layout
    contraction: MatrixForm = derivation.contractions[variable]
    rows, cols = contraction.shape
    leads = upstream_first(variable)
    entry = ENTRY[variable]
    in_vec = [contraction.entries[i - 1][j - 1] for i, j in vec_order(rows, cols)]
    factor = f"J_{variable}^\\top" if layout == "numerator" else jacobian_latex(variable, layout)
    gradient, upstream = grad(variable), grad("A")
    place = "column" if layout == "numerator" else "row"
    lines = (
        f"{VEC}\\left({gradient}\\right) &= {factor} {VEC}\\left({upstream}\\right)",
        "&= " + column_latex([_linear_form(form, leads, full) for form in in_vec], full),
    )
    parts: list[Block] = [
        Paragraph(
            f"For ${entry}$ the chain rule sums over every entry of $A$: "
            f"$\\partial L/\\partial {entry} = \\sum_{{i,j}} "
            f"(\\partial L/\\partial a_{{i,j}})(\\partial a_{{i,j}}/\\partial {entry})$, the "
            f"{place} of the Jacobian that belongs to ${entry}$ times "
            f"${VEC}(\\partial L/\\partial A)$. With the computed Jacobian"
            + ("" if layout == "numerator" else " (in denominator layout no transpose is needed)")
            + ":"
        ),
        Display(lines, aligned=True),
    ]
    terms = max((len(form) for form in in_vec), default=0)
    shown_terms = terms if full else min(terms, VECTOR_TERMS)
    reshape = (
        f"Reshaped column by column into the shape of ${variable}$ "
        f"(${shape_latex(rows, cols)}$), as a gradient in denominator layout"
    )
    if len(visible(cols, full)) * max(shown_terms, 1) <= MATRIX_WIDTH:
        matrix = bmatrix(
            rows,
            cols,
            lambda i, j: _linear_form(contraction.entries[i][j], leads, full),
            full,
        )
        parts += [Paragraph(reshape + ":"), Display((f"{gradient} = {matrix}",))]
    else:
        first = "(q-1)k + r" if variable == "W" else "(r-1)m + p"
        index = "r,q" if variable == "W" else "p,r"
        parts.append(
            Paragraph(
                f"{reshape}, entry $({index})$ of ${slashed(variable)}$ is entry "
                f"${first}$ of this vector (the matrix is too wide to print here)."
            )
        )
    check = derivation.check("contraction", variable)
    product = rule_latex(variable, UPSTREAM_INLINE)
    parts.append(verdict(check, rule_claim(variable), f"${product}$ multiplied out independently"))
    if check.holds:
        parts.append(Display((rf"\boxed{{{gradient} = {rule_latex(variable)}}}",)))
    return parts


def contraction_section(derivation: JacobianDerivation, full: bool) -> Section:
    """Each Jacobian contracted with ∂L/∂A, checked against the matrix product."""
    blocks: list[Block] = [
        Paragraph(
            "A scalar loss $L$ has the upstream gradient $\\partial L/\\partial A$, a "
            f"${shape_latex(derivation.sizes.m, derivation.sizes.n)}$ matrix with entries "
            "$\\partial L/\\partial a_{i,j}$. Contracting a Jacobian with it, summing over "
            "the two indices of $A$, leaves a gradient with the shape of the variable."
        )
    ]
    blocks += _contraction_blocks("W", derivation, full)
    blocks += _contraction_blocks("Z", derivation, full)
    return Section("Contracting with $\\partial L/\\partial A$", tuple(blocks))


def notes_claim_section(derivation: JacobianDerivation) -> Section:
    """Why "∂Y/∂W = Xᵀ" is wrong, with the checker's verdict on it at these sizes."""
    sizes, layout = derivation.sizes, derivation.layout
    m, k, n = sizes.m, sizes.k, sizes.n
    claim = derivation.notes_claim
    jacobian = derivation.jacobians["W"]
    short = short_name("W", layout)
    if claim.holds:
        reason = "$n = 1$" if layout == "denominator" else "$m = k = n = 1$"
        verdict = (
            f"Checked as a claim about the matrix above, ${short} = Z^\\top$ happens to agree "
            f"entry by entry at these sizes, only because {reason}; for $n > 1$ the "
            "Jacobian is larger than $Z^\\top$ and the claim fails."
        )
    else:
        verdict = (
            f"Checked as a claim about the matrix above, ${short} = Z^\\top$ is rejected: "
            f"{rejection(claim)}."
        )
    return Section(
        "Why $\\partial Y/\\partial W = X^\\top$ is wrong",
        (
            Paragraph(
                "The original notes write the layer as $Y = XW$ and claim "
                "$\\partial Y/\\partial W = X^\\top$; in this document's names, "
                "$\\partial A/\\partial W = Z^\\top$. It mistakes the derivative of the matrix $A$ "
                "for the gradient of a scalar."
            ),
            Paragraph(
                "$\\partial A/\\partial W$ is a fourth-order tensor: its entries "
                "$\\partial a_{i,j}/\\partial w_{r,q} = z_{i,r} \\delta_{j,q}$ carry four "
                f"indices, $mn \\cdot kn = {m * n * k * n}$ numbers here. Laid out as a "
                f"matrix it is ${short_name('W', layout)} = {KRONECKER[('W', layout)]}$, "
                f"${shape_latex(*jacobian.shape)}$, while $Z^\\top$ is $k \\times m = "
                f"{shape_latex(k, m)}$, {k * m} numbers."
                + (" Even the shapes do not match." if claim.claimed_shape != claim.shape else "")
            ),
            Paragraph(verdict),
            Paragraph(
                "$Z^\\top$ appears only after contracting with $\\partial L/\\partial A$: "
                "$\\partial L/\\partial W = Z^\\top (\\partial L/\\partial A)$"
                + (
                    ", as verified above"
                    if derivation.check("contraction", "W").holds
                    else " (NOT verified above)"
                )
                + ". That is the gradient of a scalar, a $k \\times n$ matrix with the shape "
                "of $W$, not the derivative of the matrix $A$. In denominator layout, "
                f"${jacobian_latex('W', 'denominator')} = I_n \\otimes Z^\\top$ holds $n$ "
                "copies of $Z^\\top$ on its block diagonal, which may be where the shortcut "
                "comes from; it is $Z^\\top$ itself only when $n = 1$."
            ),
        ),
    )


def general_section(derivation: JacobianDerivation) -> Section:
    """The same calculation for any sizes, in index notation with Kronecker deltas."""
    sizes = derivation.sizes
    return Section(
        "The general case in index notation",
        (
            Paragraph(
                f"The computation above is the instance $m = {sizes.m}$, $k = {sizes.k}$, "
                f"$n = {sizes.n}$ of the same calculation for any sizes, with $\\delta$ the "
                "Kronecker delta:"
            ),
            Display(
                (
                    r"a_{i,j} &= \sum_{s=1}^{k} z_{i,s} w_{s,j}",
                    r"\frac{\partial a_{i,j}}{\partial w_{r,q}} &= z_{i,r} \delta_{j,q}, "
                    r"\qquad \frac{\partial a_{i,j}}{\partial z_{p,r}} = \delta_{i,p} w_{r,j}",
                    r"\frac{\partial L}{\partial w_{r,q}} &= \sum_{i=1}^{m} \sum_{j=1}^{n} "
                    r"\frac{\partial L}{\partial a_{i,j}} z_{i,r} \delta_{j,q} "
                    r"= \sum_{i=1}^{m} z_{i,r} \frac{\partial L}{\partial a_{i,q}} "
                    r"= \left(Z^\top \frac{\partial L}{\partial A}\right)_{r,q}",
                    r"\frac{\partial L}{\partial z_{p,r}} &= \sum_{i=1}^{m} \sum_{j=1}^{n} "
                    r"\frac{\partial L}{\partial a_{i,j}} \delta_{i,p} w_{r,j} "
                    r"= \sum_{j=1}^{n} \frac{\partial L}{\partial a_{p,j}} w_{r,j} "
                    r"= \left(\frac{\partial L}{\partial A} W^\top\right)_{p,r}",
                ),
                aligned=True,
            ),
            Paragraph(
                "Collecting the partials by blocks gives $J_W = I_n \\otimes Z$ and "
                "$J_Z = W^\\top \\otimes I_m$ in numerator layout, and their transposes "
                "$I_n \\otimes Z^\\top$ and $W \\otimes I_m$ in denominator layout, since "
                "$(P \\otimes Q)^\\top = P^\\top \\otimes Q^\\top$."
            ),
        ),
    )


def _result(check: JacobianCheck) -> str:
    if check.holds:
        return f"holds ({check.entries_checked} of {check.entries_checked} entries)"
    if check.claimed_shape != check.shape:
        return "FAILS (shapes differ)"
    return f"FAILS ({check.mismatch_count} of {check.entries_checked} entries differ)"


def summary_section(derivation: JacobianDerivation) -> Section:
    """A table of every check, the verdict, and the fate of the notes' claim."""
    layout = derivation.layout
    rows = tuple(
        (
            f"${_check_latex(check, layout)}$",
            f"${shape_latex(*check.shape)}$",
            _result(check),
        )
        for check in derivation.checks
    )
    verdict = (
        "Every identity holds at every entry."
        if derivation.verified
        else "Some identities FAIL: see above."
    )
    claim = derivation.notes_claim
    notes = "The notes' claim $\\partial A/\\partial W = Z^\\top$ " + (
        "agrees at these sizes only because they are degenerate (see above)."
        if claim.holds
        else f"is rejected, {rejection(claim)}."
    )
    return Section(
        "Summary",
        (Table(("identity", "shape", "result"), rows), Paragraph(verdict), Paragraph(notes)),
    )
