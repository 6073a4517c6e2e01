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
    vec_labels,
)
from ..core.kronecker import transposed
from . import jacobian_gradients as gradients
from .document import Block, Display, Document, Paragraph, Section
from .jacobian_notation import (
    ENTRY,
    KRONECKER,
    VEC,
    column_latex,
    jacobian_latex,
    matrix_latex,
    short_name,
    vec_identity,
    verdict,
)
from .limits import MATRIX_WIDTH
from .mathtex import bmatrix, expr_latex, shape_latex, symbol_matrix, visible


def _entry(label: VecEntry) -> str:
    letter, i, j = label
    return f"{letter}_{{{i},{j}}}"


def _row_vector(labels: Sequence[VecEntry], full: bool) -> str:
    """[x_1 … x_p]ᵀ: a vec written as a transposed row to save height."""
    return bmatrix(1, len(labels), lambda i, j: _entry(labels[j]), full) + r"^\top"


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
        f"{VEC}(A) &= {_row_vector(vec_labels('a', m, n), full)}",
        f"{VEC}(W) &= {_row_vector(vec_labels('w', k, n), full)}",
        f"{VEC}(Z) &= {_row_vector(vec_labels('z', m, k), full)}",
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
    entry = ENTRY[variable]
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
        Paragraph(_block_description(jacobian, zeros)),
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
    numerator = jacobian.layout == "numerator"
    factor = jacobian.kronecker if numerator else transposed(jacobian.kronecker)
    shape = derivation.sizes.shape_of(variable)
    vector = [_entry(label) for label in vec_labels(variable.lower(), *shape)]
    identity, kronecker = vec_identity(variable), KRONECKER[(variable, "numerator")]
    source = "$\\operatorname{vec}(PXQ) = (Q^\\top \\otimes P) \\operatorname{vec}(X)$ with " + (
        "$P = Z$, $X = W$, $Q = I_n$" if variable == "W" else "$P = I_m$, $X = Z$, $Q = W$"
    )
    terms = derivation.vec_products[variable].terms
    sums = [" + ".join(expr_latex(term) for term in row) or "0" for row in terms]
    lines = (
        f"{identity} &= {matrix_latex(factor, full)} {column_latex(vector, full)}",
        f"&= {column_latex(sums, full)}",
    )
    transpose_note = "" if numerator else ", the transpose of the matrix above"
    check = derivation.check("vec", variable)
    return [
        Paragraph(
            "Read as a product, the Jacobian gives $A$ back (Matrix Cookbook section 10.2.2, "
            f"{source}): ${VEC}(A) = {identity}$. Multiplied out from "
            f"${kronecker}${transpose_note}:"
        ),
        Display(lines, aligned=True),
        verdict(check, f"{VEC}(A) = {identity}", f"${VEC}(A)$ from the expanded entries of $A$"),
    ]


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
            gradients.contraction_section(derivation, full),
            gradients.notes_claim_section(derivation),
            gradients.general_section(derivation),
            gradients.summary_section(derivation),
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
