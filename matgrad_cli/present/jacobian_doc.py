"""The Jacobian view (`matgrad jacobian`) as a Document, for the LaTeX and Markdown printers.

∂A/∂W and ∂A/∂Z laid out through the column-major vec operator, entry by entry and in blocks,
checked against their Kronecker products, contracted with ∂L/∂A, and the common mistake "∂Y/∂W = Xᵀ"
shown wrong (SPEC section 5). Every stated result is read off a JacobianCheck, every layout off
the computed Jacobian.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from ..core.jacobians import (
    Jacobian,
    JacobianCheck,
    JacobianDerivation,
    JacobianVariable,
    Layout,
    VecEntry,
    read_block,
    transposed,
    vec_labels,
    vec_order,
)
from .derivation_checks import failure, rejection, result_cell
from .document import Block, Display, Document, Paragraph, Section, Table
from .layer_latex import UPSTREAM_INLINE, rule_claim, rule_latex, upstream_first
from .limits import MATRIX_WIDTH, VECTOR_TERMS
from .mathtex import (
    bmatrix,
    expr_latex,
    grad,
    linear_form_latex,
    shape_latex,
    slashed,
    sums_matrix,
    symbol_matrix,
)
from .notation import elide, visible

# ---------------------------------------------------------------------------------------------
# The notation every section shares: ∂vec(A)/∂vec(W)ᵀ, J_W, I_n ⊗ Z, a check's verdict

#: The vec operator, which stacks the columns of a matrix.
_VEC = r"\operatorname{vec}"

#: The entry of W and of Z that a column of the numerator-layout Jacobian belongs to.
_ENTRY = {"W": "w_{r,q}", "Z": "z_{p,r}"}


def _jacobian_latex(variable: JacobianVariable, layout: Layout) -> str:
    """∂vec(A)/∂vec(W)ᵀ in numerator layout, ∂vec(A)ᵀ/∂vec(W) in denominator layout."""
    if layout == "numerator":
        return rf"\frac{{\partial {_VEC}(A)}}{{\partial {_VEC}({variable})^\top}}"
    return rf"\frac{{\partial {_VEC}(A)^\top}}{{\partial {_VEC}({variable})}}"


def _short_name(variable: JacobianVariable, layout: Layout) -> str:
    """J_W, or J_W^⊤ for the denominator-layout matrix."""
    return f"J_{variable}" if layout == "numerator" else rf"J_{variable}^\top"


#: Each Jacobian as a Kronecker product, in each layout.
_KRONECKER: dict[tuple[JacobianVariable, Layout], str] = {
    ("W", "numerator"): r"I_n \otimes Z",
    ("W", "denominator"): r"I_n \otimes Z^\top",
    ("Z", "numerator"): r"W^\top \otimes I_m",
    ("Z", "denominator"): r"W \otimes I_m",
}


def _vec_identity(variable: JacobianVariable) -> str:
    """vec(A) as a Kronecker product times vec(W) or vec(Z) (Matrix Cookbook section 10.2.2)."""
    return rf"({_KRONECKER[(variable, 'numerator')]}) {_VEC}({variable})"


def _verdict(check: JacobianCheck, claim: str, against: str) -> Paragraph:
    """What a check found, in words; ``against`` names the independent side."""
    if check.holds:
        return Paragraph(
            f"Verified entry by entry: all {check.entries_checked} entries agree with {against}, "
            f"so ${claim}$."
        )
    return failure(check, claim, "the computed value", against)


def _column_latex(items: Sequence[str], full: bool) -> str:
    """A column of LaTeX items as a bmatrix, elided unless ``full``."""
    return bmatrix(len(items), 1, lambda i, j: items[i], full)


# ---------------------------------------------------------------------------------------------
# The setup and the Jacobians


def _entry(label: VecEntry) -> str:
    letter, i, j = label
    return f"{letter}_{{{i},{j}}}"


def _row_vector(labels: Sequence[VecEntry], full: bool) -> str:
    """[x_1 … x_p]ᵀ: a vec written as a transposed row to save height."""
    return bmatrix(1, len(labels), lambda i, j: _entry(labels[j]), full) + r"^\top"


def _convention(derivation: JacobianDerivation) -> str:
    """Which layout the Jacobians are printed in, and what their rows and columns hold."""
    layout = derivation.layout
    jacobian_w, jacobian_z = derivation.jacobians["W"], derivation.jacobians["Z"]
    if layout == "numerator":
        return (
            "Convention: numerator layout (the Jacobian convention). "
            f"$J_W = {_jacobian_latex('W', layout)}$ has one row for each entry of "
            f"${_VEC}(A)$ and one column for each entry of ${_VEC}(W)$: row $(j-1)m + i$, "
            "column $(q-1)k + r$ holds $\\partial a_{i,j}/\\partial w_{r,q}$. So $J_W$ is "
            f"$mn \\times kn = {shape_latex(*jacobian_w.shape)}$, and "
            f"$J_Z = {_jacobian_latex('Z', layout)}$ is "
            f"$mn \\times mk = {shape_latex(*jacobian_z.shape)}$. Denominator layout "
            "(--layout denominator) prints their transposes."
        )
    return (
        "Convention: denominator layout. This document prints "
        f"${_jacobian_latex('W', layout)} = J_W^\\top$, with one row for each entry of "
        f"${_VEC}(W)$ and one column for each entry of ${_VEC}(A)$: row $(q-1)k + r$, "
        "column $(j-1)m + i$ holds $\\partial a_{i,j}/\\partial w_{r,q}$. So it is "
        f"$kn \\times mn = {shape_latex(*jacobian_w.shape)}$, the transpose of the "
        f"numerator-layout Jacobian $J_W = {_jacobian_latex('W', 'numerator')}$ "
        "(--layout numerator); likewise "
        f"${_jacobian_latex('Z', layout)} = J_Z^\\top$ is "
        f"$mk \\times mn = {shape_latex(*jacobian_z.shape)}$."
    )


def _setup(derivation: JacobianDerivation, full: bool) -> Section:
    """The layer, its matrices, vec, and the layout the Jacobians are printed in."""
    sizes, symbols = derivation.sizes, derivation.symbols
    m, k, n = sizes.m, sizes.k, sizes.n
    vectors = tuple(
        f"{_VEC}({name}) &= {_row_vector(vec_labels(name.lower(), *sizes.shape_of(name)), full)}"
        for name in "AWZ"
    )
    matrices = [
        f"Z = {symbol_matrix(symbols.input, full)}",
        f"W = {symbol_matrix(symbols.weights, full)}",
    ]
    if len(visible(k, full)) + len(visible(n, full)) <= MATRIX_WIDTH * 2:  # one line when they fit
        matrices = [r",\quad ".join(matrices)]
    return Section(
        "Setup and conventions",
        (
            Paragraph(
                f"The layer has the input $Z$ of size ${shape_latex(m, k)}$ and the weights $W$ of "
                f"size ${shape_latex(k, n)}$ ($m = {m}$, $k = {k}$, $n = {n}$); its output is "
                f"$A = ZW$, of size ${shape_latex(m, n)}$. A bias $b$ would add a constant to each "
                "$a_{i,j}$ and change neither Jacobian, so it is left out."
            ),
            *(Display((matrix,)) for matrix in matrices),
            Paragraph(
                "The derivative of the matrix $A$ with respect to the matrix $W$ has one entry "
                "for every pair of an entry of $A$ and an entry of $W$, "
                "$\\partial a_{i,j}/\\partial w_{r,q}$: four indices, "
                f"$mn \\cdot kn = {m * n * k * n}$ numbers. To set it out as a matrix, "
                f"${_VEC}$ stacks the columns of a matrix into one column (column-major), so "
                f"$a_{{i,j}}$ is entry $(j-1)m + i$ of ${_VEC}(A)$:"
            ),
            Display(vectors, aligned=True),
            Paragraph(_convention(derivation)),
            Paragraph(
                "The gradients of a scalar loss $L$ stay in denominator layout, as everywhere "
                "in matgrad: $\\partial L/\\partial W$ has the shape of $W$ and "
                "$\\partial L/\\partial Z$ the shape of $Z$. Indices are 1-based."
            ),
        ),
    )


def _block_latex(jacobian: Jacobian, down: int, across: int, derivation: JacobianDerivation) -> str:
    """One block of the block matrix, as the computed entries read: 0, Z, c I_m or entries."""
    form = read_block(jacobian, down, across, derivation.symbols)
    if form.kind == "zero":
        return "0"
    if form.kind == "matrix" and form.factor is not None:
        return form.factor.name + (r"^\top" if form.factor.transposed else "")
    if form.kind == "scaled identity":
        size = jacobian.block_shape[0]
        return rf"{expr_latex(form.scale)} \, I_{{{size}}}"
    return symbol_matrix(jacobian.block(down, across))


def _block_description(jacobian: Jacobian, zeros: bool) -> str:
    """Which partials each block of the block matrix holds: a block row for each column of A and
    a block column for each column of X in numerator layout, the other way round in denominator
    layout."""
    variable = jacobian.variable
    index = "q" if variable == "W" else "r"
    down, across = ("j", "A"), (index, variable)
    rows, cols = ("m", "k") if variable == "W" else ("m", "m")  # the shape of Z, or of I_m
    if jacobian.layout == "denominator":
        down, across, rows, cols = across, down, cols, rows
    return (
        f"In blocks of ${shape_latex(*jacobian.block_shape)}$ (${rows} \\times {cols}$), one block "
        f"row for each column ${down[0]}$ of ${down[1]}$ and one block column for each column "
        f"${across[0]}$ of ${across[1]}$: block $({down[0]},{across[0]})$ holds the partials of "
        f"column $j$ of $A$ with respect to column ${index}$ of ${variable}$"
        + (", and $0$ is a block of zeros:" if zeros else ":")
    )


_KRONECKER_DEFINITION: dict[tuple[JacobianVariable, Layout], str] = {
    ("W", "numerator"): "block $(j,q)$ is $(I_n)_{j,q} Z = \\delta_{j,q} Z$",
    ("W", "denominator"): "block $(q,j)$ is $(I_n)_{q,j} Z^\\top = \\delta_{q,j} Z^\\top$",
    ("Z", "numerator"): "block $(j,r)$ is $(W^\\top)_{j,r} I_m = w_{r,j} I_m$",
    ("Z", "denominator"): "block $(r,j)$ is $w_{r,j} I_m$",
}


def _jacobian_section(
    variable: JacobianVariable, derivation: JacobianDerivation, full: bool
) -> Section:
    """The computed Jacobian, its blocks, the Kronecker check and the vec identity."""
    layout = derivation.layout
    jacobian = derivation.jacobians[variable]
    entry = _ENTRY[variable]
    expected = "z_{i,r} \\delta_{j,q}" if variable == "W" else "\\delta_{i,p} w_{r,j}"
    name = _jacobian_latex(variable, layout)
    short = _short_name(variable, layout)
    grid = jacobian.block_grid
    blocks = bmatrix(grid[0], grid[1], lambda i, j: _block_latex(jacobian, i, j, derivation), full)
    zeros = any(
        read_block(jacobian, i, j, derivation.symbols).kind == "zero"
        for i in range(grid[0])
        for j in range(grid[1])
    )
    check = derivation.check("jacobian", variable)
    kronecker = _KRONECKER[(variable, layout)]
    parts: list[Block] = [
        Paragraph(
            "Every entry is the derivative of an expanded entry "
            f"$a_{{i,j}} = \\sum_s z_{{i,s}} w_{{s,j}}$ of $A$ with respect to ${entry}$ (index "
            f"notation predicts $\\partial a_{{i,j}}/\\partial {entry} = {expected}$). The "
            f"${shape_latex(*jacobian.shape)}$ matrix:"
        ),
        Display((f"{short} = {name} = {symbol_matrix(jacobian.entries, full)}",)),
        Paragraph(_block_description(jacobian, zeros)),
        Display((f"{short} = {blocks}",)),
        Paragraph(
            f"Independently, the Kronecker product ${kronecker}$ was built block by block from "
            f"its definition ({_KRONECKER_DEFINITION[(variable, layout)]}) and compared with "
            "the computed matrix."
        ),
        _verdict(check, f"{short} = {kronecker}", f"${kronecker}$"),
    ]
    if check.holds:
        parts.append(Display((rf"\boxed{{{name} = {kronecker}}}",)))
    parts.extend(_vec_blocks(variable, derivation, full))
    title = "The Jacobian of $A$ with respect to " + ("$W$" if variable == "W" else "$Z$")
    return Section(title, tuple(parts))


def _vec_blocks(
    variable: JacobianVariable, derivation: JacobianDerivation, full: bool
) -> list[Block]:
    """vec(A) = (I_n ⊗ Z) vec(W) or (Wᵀ ⊗ I_m) vec(Z), multiplied out and checked."""
    jacobian = derivation.jacobians[variable]
    numerator = jacobian.layout == "numerator"
    factor = jacobian.kronecker if numerator else transposed(jacobian.kronecker)
    shape = derivation.sizes.shape_of(variable)
    vector = [_entry(label) for label in vec_labels(variable.lower(), *shape)]
    identity, kronecker = _vec_identity(variable), _KRONECKER[(variable, "numerator")]
    source = "$\\operatorname{vec}(PXQ) = (Q^\\top \\otimes P) \\operatorname{vec}(X)$ with " + (
        "$P = Z$, $X = W$, $Q = I_n$" if variable == "W" else "$P = I_m$, $X = Z$, $Q = W$"
    )
    terms = derivation.vec_products[variable].terms
    # A long sum elided as a vectorised product's entries are, to fit the width of a page.
    sums = [
        " + ".join(elide([expr_latex(term) for term in row], full, VECTOR_TERMS, r"\cdots")) or "0"
        for row in terms
    ]
    lines = (
        f"{identity} &= {symbol_matrix(factor, full)} {_column_latex(vector, full)}",
        f"&= {_column_latex(sums, full)}",
    )
    transpose_note = "" if numerator else ", the transpose of the matrix above"
    check = derivation.check("vec", variable)
    return [
        Paragraph(
            "Read as a product, the Jacobian gives $A$ back (Matrix Cookbook section 10.2.2, "
            f"{source}): ${_VEC}(A) = {identity}$. Multiplied out from "
            f"${kronecker}${transpose_note}:"
        ),
        Display(lines, aligned=True),
        _verdict(check, f"{_VEC}(A) = {identity}", f"${_VEC}(A)$ from the expanded entries of $A$"),
    ]


# ---------------------------------------------------------------------------------------------
# From the Jacobians to the gradients, and the summary


def _contraction_blocks(
    variable: JacobianVariable, derivation: JacobianDerivation, full: bool
) -> list[Block]:
    layout = derivation.layout
    contraction = derivation.contractions[variable]
    rows, cols = contraction.shape
    form_latex = partial(
        linear_form_latex, upstream_first=upstream_first(variable), full=full, limit=VECTOR_TERMS
    )
    entry = _ENTRY[variable]
    in_vec = [contraction.entries[i - 1][j - 1] for i, j in vec_order(rows, cols)]
    factor = f"J_{variable}^\\top" if layout == "numerator" else _jacobian_latex(variable, layout)
    gradient, upstream = grad(variable), grad("A")
    place = "column" if layout == "numerator" else "row"
    lines = (
        f"{_VEC}\\left({gradient}\\right) &= {factor} {_VEC}\\left({upstream}\\right)",
        "&= " + _column_latex([form_latex(form) for form in in_vec], full),
    )
    parts: list[Block] = [
        Paragraph(f"For ${entry}$ the chain rule sums over every entry of $A$:"),
        Display(
            (
                f"{grad(entry)} = \\sum_{{i,j}} {grad('a_{i,j}')} "
                f"\\frac{{\\partial a_{{i,j}}}}{{\\partial {entry}}}.",
            )
        ),
        Paragraph(
            f"This is the {place} of the Jacobian that belongs to ${entry}$ times "
            f"${_VEC}(\\partial L/\\partial A)$. With the computed Jacobian"
            + ("" if layout == "numerator" else " (in denominator layout no transpose is needed)")
            + ":"
        ),
        Display(lines, aligned=True),
    ]
    reshape = (
        f"Reshaped column by column into the shape of ${variable}$ "
        f"(${shape_latex(rows, cols)}$), as a gradient in denominator layout"
    )
    matrix = sums_matrix(contraction.entries, upstream_first(variable), full, VECTOR_TERMS)
    if matrix is not None:
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
    parts.append(_verdict(check, rule_claim(variable), f"${product}$ multiplied out independently"))
    if check.holds:
        parts.append(Display((rf"\boxed{{{gradient} = {rule_latex(variable)}}}",)))
    return parts


def _contraction_section(derivation: JacobianDerivation, full: bool) -> Section:
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


def _notes_claim_section(derivation: JacobianDerivation) -> Section:
    """Why "∂Y/∂W = Xᵀ" is wrong, with the checker's verdict on it at these sizes."""
    sizes, layout = derivation.sizes, derivation.layout
    m, k, n = sizes.m, sizes.k, sizes.n
    claim = derivation.notes_claim
    jacobian = derivation.jacobians["W"]
    short = _short_name("W", layout)
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
                "A common mistake, for a layer written $Y = XW$, is to claim "
                "$\\partial Y/\\partial W = X^\\top$; in this document's names, "
                "$\\partial A/\\partial W = Z^\\top$. It mistakes the derivative of the matrix $A$ "
                "for the gradient of a scalar."
            ),
            Paragraph(
                "$\\partial A/\\partial W$ is a fourth-order tensor: its entries "
                "$\\partial a_{i,j}/\\partial w_{r,q} = z_{i,r} \\delta_{j,q}$ carry four "
                f"indices, $mn \\cdot kn = {m * n * k * n}$ numbers here. Laid out as a "
                f"matrix it is ${_short_name('W', layout)} = {_KRONECKER[('W', layout)]}$, "
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
                f"${_jacobian_latex('W', 'denominator')} = I_n \\otimes Z^\\top$ holds $n$ "
                "copies of $Z^\\top$ on its block diagonal, which may be where the shortcut "
                "comes from; it is $Z^\\top$ itself only when $n = 1$."
            ),
        ),
    )


def _general_section(derivation: JacobianDerivation) -> Section:
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


def _summary_row(check: JacobianCheck, layout: Layout) -> tuple[str, str, str]:
    """The identity a check is about, its shape and its result, for the summary table."""
    variable, short = check.variable, _short_name(check.variable, layout)
    if check.kind == "jacobian":
        identity = f"{short} = {_KRONECKER[(variable, layout)]}"
    elif check.kind == "vec":
        identity = f"{_VEC}(A) = {_vec_identity(variable)}"
    elif check.kind == "contraction":
        identity = rule_claim(variable)
    else:
        identity = rf"{short} = \text{{a claimed form}}"
    return (f"${identity}$", f"${shape_latex(*check.shape)}$", result_cell(check))


def _summary_section(derivation: JacobianDerivation) -> Section:
    """A table of every check, the verdict, and what became of the common mistake ∂A/∂W = Zᵀ."""
    layout = derivation.layout
    rows = tuple(_summary_row(check, layout) for check in derivation.checks)
    verdict = (
        "Every identity holds at every entry."
        if derivation.verified
        else "Some identities FAIL: see above."
    )
    claim = derivation.notes_claim
    notes = "The common mistake $\\partial A/\\partial W = Z^\\top$ " + (
        "agrees at these sizes only because they are degenerate (see above)."
        if claim.holds
        else f"is rejected, {rejection(claim)}."
    )
    return Section(
        "Summary",
        (
            Table(("identity", "shape", "result"), rows),
            Paragraph(verdict),
            Paragraph(notes),
        ),
    )


def build_jacobian_document(derivation: JacobianDerivation, full: bool = False) -> Document:
    """The Jacobian view of A = ZW as a Document."""
    sizes = derivation.sizes
    title = (
        "The Jacobians of the matrix-multiplication layer $A = ZW$, "
        f"$(m, k, n) = ({sizes.m}, {sizes.k}, {sizes.n})$, {derivation.layout} layout"
    )
    return Document(
        title,
        (
            _setup(derivation, full),
            _jacobian_section("W", derivation, full),
            _jacobian_section("Z", derivation, full),
            _contraction_section(derivation, full),
            _notes_claim_section(derivation),
            _general_section(derivation),
            _summary_section(derivation),
        ),
    )
