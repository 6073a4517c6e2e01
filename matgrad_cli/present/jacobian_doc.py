"""The Jacobian view (`matgrad jacobian`) as a Document, for the LaTeX and Markdown printers.

The document shows ∂A/∂W and ∂A/∂Z laid out as matrices through the column-major vec operator,
first entry by entry and then in blocks, checks them against the Kronecker products of the vec
identities, contracts them with ∂L/∂A to recover Zᵀ·∂L/∂A and ∂L/∂A·Wᵀ, and explains why the
original notes' "∂Y/∂W = Xᵀ" is wrong (SPEC section 5; those sections: jacobian_gradients.py).
Every statement of a result is read off a JacobianCheck; the layout of every matrix is read off
the computed Jacobian. The document states how many columns its widest matrix has, so that the
LaTeX printer can raise amsmath's limit of 10 when it must.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.jacobians import (
    Jacobian,
    JacobianDerivation,
    JacobianVariable,
    Layout,
    VecEntry,
    read_block,
)
from ..core.kronecker import transposed, vec_order
from .document import Block, Display, Document, Paragraph, Section
from .jacobian_gradients import (
    contraction_section,
    general_section,
    notes_claim_section,
    summary_section,
)
from .jacobian_notation import (
    KRONECKER,
    VEC,
    VEC_IDENTITY,
    column_latex,
    jacobian_latex,
    matrix_latex,
    shape_latex,
    short_name,
    verdict,
)
from .limits import MATRIX_WIDTH
from .mathtex import bmatrix, expr_latex, symbol_matrix, visible


def _entry(label: VecEntry) -> str:
    letter, i, j = label
    return f"{letter}_{{{i},{j}}}"


def _row_vector(labels: Sequence[VecEntry], full: bool) -> str:
    """[x_1 … x_p]ᵀ: a vec written as a transposed row to save height."""
    return bmatrix(1, len(labels), lambda i, j: _entry(labels[j]), full) + r"^\top"


def _labels(letter: str, rows: int, cols: int) -> tuple[VecEntry, ...]:
    return tuple((letter, i, j) for i, j in vec_order(rows, cols))


def _side_by_side(matrices: list[str], columns: int) -> tuple[Display, ...]:
    """The matrices on one line when they fit, else one display each."""
    if columns <= MATRIX_WIDTH * 2:
        return (Display((r",\quad ".join(matrices),)),)
    return tuple(Display((matrix,)) for matrix in matrices)


def _convention(derivation: JacobianDerivation) -> str:
    """Which layout the Jacobians are printed in, and what their rows and columns hold."""
    layout = derivation.layout
    jacobian_w, jacobian_z = derivation.jacobians["W"], derivation.jacobians["Z"]
    if layout == "numerator":
        return (
            "Convention: numerator layout (the Jacobian convention). "
            f"$J_W = {jacobian_latex('W', layout)}$ has one row for each entry of "
            f"${VEC}(A)$ and one column for each entry of ${VEC}(W)$: row $(j-1)m + i$, "
            "column $(q-1)k + r$ holds $\\partial a_{i,j}/\\partial w_{r,q}$. So $J_W$ is "
            f"$mn \\times kn = {shape_latex(*jacobian_w.shape)}$, and "
            f"$J_Z = {jacobian_latex('Z', layout)}$ is "
            f"$mn \\times mk = {shape_latex(*jacobian_z.shape)}$. Denominator layout "
            "(--layout denominator) prints their transposes."
        )
    return (
        "Convention: denominator layout. This document prints "
        f"${jacobian_latex('W', layout)} = J_W^\\top$, with one row for each entry of "
        f"${VEC}(W)$ and one column for each entry of ${VEC}(A)$: row $(q-1)k + r$, "
        "column $(j-1)m + i$ holds $\\partial a_{i,j}/\\partial w_{r,q}$. So it is "
        f"$kn \\times mn = {shape_latex(*jacobian_w.shape)}$, the transpose of the "
        f"numerator-layout Jacobian $J_W = {jacobian_latex('W', 'numerator')}$ "
        "(--layout numerator); likewise "
        f"${jacobian_latex('Z', layout)} = J_Z^\\top$ is "
        f"$mk \\times mn = {shape_latex(*jacobian_z.shape)}$."
    )


def _setup(derivation: JacobianDerivation, full: bool) -> Section:
    """The layer, its matrices, vec, and the layout the Jacobians are printed in."""
    sizes, symbols = derivation.sizes, derivation.symbols
    m, k, n = sizes.m, sizes.k, sizes.n
    vectors = (
        f"{VEC}(A) &= {_row_vector(_labels('a', m, n), full)}",
        f"{VEC}(W) &= {_row_vector(_labels('w', k, n), full)}",
        f"{VEC}(Z) &= {_row_vector(_labels('z', m, k), full)}",
    )
    return Section(
        "Setup and conventions",
        (
            Paragraph(
                f"The layer has the input $Z$ of size ${shape_latex(m, k)}$ and the weights $W$ of "
                f"size ${shape_latex(k, n)}$ ($m = {m}$, $k = {k}$, $n = {n}$); its output is "
                f"$A = ZW$, of size ${shape_latex(m, n)}$. A bias $b$ would add a constant to each "
                "$a_{i,j}$ and change neither Jacobian, so it is left out."
            ),
            *_side_by_side(
                [f"Z = {symbol_matrix(symbols.Z, full)}", f"W = {symbol_matrix(symbols.W, full)}"],
                len(visible(k, full)) + len(visible(n, full)),
            ),
            Paragraph(
                "The derivative of the matrix $A$ with respect to the matrix $W$ has one entry "
                "for every pair of an entry of $A$ and an entry of $W$, "
                "$\\partial a_{i,j}/\\partial w_{r,q}$: four indices, "
                f"$mn \\cdot kn = {m * n * k * n}$ numbers. To set it out as a matrix, "
                f"${VEC}$ stacks the columns of a matrix into one column (column-major), so "
                f"$a_{{i,j}}$ is entry $(j-1)m + i$ of ${VEC}(A)$:"
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
    if form.kind == "matrix":
        return "Z" if form.name == "Z" else r"Z^\top"
    if form.kind == "scaled identity":
        size = jacobian.block_shape[0]
        return rf"{expr_latex(form.scale)} \, I_{{{size}}}"
    return matrix_latex(jacobian.block(down, across), full=False)


def _block_description(jacobian: Jacobian, layout: Layout, zeros: bool) -> str:
    """Which partials each block of the block matrix holds."""
    shape = f"${shape_latex(*jacobian.block_shape)}$"
    if jacobian.variable == "W":
        if layout == "numerator":
            text = (
                f"In blocks of {shape} ($m \\times k$), one block row for each column $j$ of "
                "$A$ and one block column for each column $q$ of $W$: block $(j,q)$ holds the "
                "partials of column $j$ of $A$ with respect to column $q$ of $W$"
            )
        else:
            text = (
                f"In blocks of {shape} ($k \\times m$), one block row for each column $q$ of "
                "$W$ and one block column for each column $j$ of $A$: block $(q,j)$ holds the "
                "partials of column $j$ of $A$ with respect to column $q$ of $W$"
            )
    elif layout == "numerator":
        text = (
            f"In blocks of {shape} ($m \\times m$), one block row for each column $j$ of $A$ "
            "and one block column for each column $r$ of $Z$: block $(j,r)$ holds the "
            "partials of column $j$ of $A$ with respect to column $r$ of $Z$"
        )
    else:
        text = (
            f"In blocks of {shape} ($m \\times m$), one block row for each column $r$ of $Z$ "
            "and one block column for each column $j$ of $A$: block $(r,j)$ holds the "
            "partials of column $j$ of $A$ with respect to column $r$ of $Z$"
        )
    return text + (", and $0$ is a block of zeros:" if zeros else ":")


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
    entry = "w_{r,q}" if variable == "W" else "z_{p,r}"
    expected = "z_{i,r} \\delta_{j,q}" if variable == "W" else "\\delta_{i,p} w_{r,j}"
    name = jacobian_latex(variable, layout)
    short = short_name(variable, layout)
    grid = jacobian.block_grid
    blocks = bmatrix(grid[0], grid[1], lambda i, j: _block_latex(jacobian, i, j, derivation), full)
    zeros = any(
        read_block(jacobian, i, j, derivation.symbols).kind == "zero"
        for i in range(grid[0])
        for j in range(grid[1])
    )
    check = derivation.check("jacobian", variable)
    kronecker = KRONECKER[(variable, layout)]
    parts: list[Block] = [
        Paragraph(
            f"Every entry is {derivation.engine}'s derivative of an expanded entry "
            f"$a_{{i,j}} = \\sum_s z_{{i,s}} w_{{s,j}}$ of $A$ with respect to ${entry}$ (index "
            f"notation predicts $\\partial a_{{i,j}}/\\partial {entry} = {expected}$). The "
            f"${shape_latex(*jacobian.shape)}$ matrix:"
        ),
        Display((f"{short} = {name} = {matrix_latex(jacobian.entries, full)}",)),
        Paragraph(_block_description(jacobian, layout, zeros)),
        Display((f"{short} = {blocks}",)),
        Paragraph(
            f"Independently, the Kronecker product ${kronecker}$ was built block by block from "
            f"its definition ({_KRONECKER_DEFINITION[(variable, layout)]}) and compared with "
            "the computed matrix."
        ),
        verdict(check, f"{short} = {kronecker}", f"${kronecker}$"),
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
    product = derivation.vec_products[variable]
    factor = (
        jacobian.kronecker if jacobian.layout == "numerator" else transposed(jacobian.kronecker)
    )
    symbols = derivation.symbols
    vector = symbols.W if variable == "W" else symbols.Z
    labels = _labels(variable.lower(), len(vector), len(vector[0]))
    check = derivation.check("vec", variable)
    identity = VEC_IDENTITY[variable]
    kronecker = r"I_n \otimes Z" if variable == "W" else r"W^\top \otimes I_m"
    source = "$\\operatorname{vec}(PXQ) = (Q^\\top \\otimes P) \\operatorname{vec}(X)$ with " + (
        "$P = Z$, $X = W$, $Q = I_n$" if variable == "W" else "$P = I_m$, $X = Z$, $Q = W$"
    )
    sums = [" + ".join(expr_latex(term) for term in terms) or "0" for terms in product.terms]
    lines = (
        f"{identity} &= {matrix_latex(factor, full)} {column_latex([_entry(label) for label in labels], full)}",  # noqa: E501
        f"&= {column_latex(sums, full)}",
    )
    transpose_note = "" if jacobian.layout == "numerator" else ", the transpose of the matrix above"
    parts: list[Block] = [
        Paragraph(
            "Read as a product, the Jacobian gives $A$ back (Matrix Cookbook section 10.2.2, "
            f"{source}): ${VEC}(A) = {identity}$. Multiplied out from "
            f"${kronecker}${transpose_note}:"
        ),
        Display(lines, aligned=True),
        verdict(
            check,
            f"{VEC}(A) = {identity}",
            f"${VEC}(A)$ from the expanded entries of $A$",
        ),
    ]
    return parts


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
            contraction_section(derivation, full),
            notes_claim_section(derivation),
            general_section(derivation),
            summary_section(derivation),
        ),
        matrix_columns=max_matrix_columns(derivation, full),
    )


def max_matrix_columns(derivation: JacobianDerivation, full: bool) -> int:
    """The most columns any bmatrix of the document has (elision markers included)."""
    sizes = derivation.sizes
    m, k, n = sizes.m, sizes.k, sizes.n
    widths = [m * n, k * n, m * k, k, n]
    widths += [found.shape[1] for found in derivation.jacobians.values()]
    widths += [found.block_grid[1] for found in derivation.jacobians.values()]
    return max(len(visible(width, full)) for width in widths)
