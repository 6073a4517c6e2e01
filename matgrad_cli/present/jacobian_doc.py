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
    kronecker_factors,
    read_block,
    transposed,
    vec_labels,
    vec_order,
)
from ..core.layer import Layer
from .derivation_checks import failure, rejection, result_cell
from .document import Block, Display, Document, Paragraph, Section, Table
from .jacobian_notation import (
    GENERAL_LATEX,
    NOTATIONS,
    factor_latex,
    kronecker_block,
    kronecker_latex,
    tex,
)
from .layer_latex import UPSTREAM_INLINE, forward_latex, rule_claim, rule_latex, upstream_first
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


def _jacobian_latex(variable: JacobianVariable, layout: Layout) -> str:
    """∂vec(A)/∂vec(W)ᵀ in numerator layout, ∂vec(A)ᵀ/∂vec(W) in denominator layout."""
    if layout == "numerator":
        return rf"\frac{{\partial {_VEC}(A)}}{{\partial {_VEC}({variable})^\top}}"
    return rf"\frac{{\partial {_VEC}(A)^\top}}{{\partial {_VEC}({variable})}}"


def _short_name(variable: JacobianVariable, layout: Layout) -> str:
    """J_W, or J_W^⊤ for the denominator-layout matrix."""
    return f"J_{variable}" if layout == "numerator" else rf"J_{variable}^\top"


def _vec_identity(layer: Layer, variable: JacobianVariable) -> str:
    """vec(A) as a Kronecker product times vec(W), vec(Z) or vec(X) (Matrix Cookbook section
    10.2.2)."""
    return rf"({kronecker_latex(layer, variable, 'numerator')}) {_VEC}({variable})"


def _length(layer: Layer, name: str) -> str:
    """The length of vec(V) in size letters: mn for A = ZW's m×n output."""
    matrix = layer.matrix(name)
    return matrix.rows + matrix.cols


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
    layout, layer, given = derivation.layout, derivation.sizes.layer, derivation.variables[1]
    notation = NOTATIONS[layer.samples]
    jacobian_w, jacobian_x = derivation.jacobians["W"], derivation.jacobians[given]
    a, w = notation.output, notation.entries["W"]
    at_a, at_w = notation.output_position, notation.positions["W"]
    of_a, of_w, of_x = (_length(layer, name) for name in ("A", "W", given))
    if layout == "numerator":
        return (
            "Convention: numerator layout (the Jacobian convention). "
            f"$J_W = {_jacobian_latex('W', layout)}$ has one row for each entry of "
            f"${_VEC}(A)$ and one column for each entry of ${_VEC}(W)$: row ${at_a}$, "
            f"column ${at_w}$ holds $\\partial {a}/\\partial {w}$. So $J_W$ is "
            f"${of_a} \\times {of_w} = {shape_latex(*jacobian_w.shape)}$, and "
            f"$J_{given} = {_jacobian_latex(given, layout)}$ is "
            f"${of_a} \\times {of_x} = {shape_latex(*jacobian_x.shape)}$. Denominator layout "
            "(--layout denominator) prints their transposes."
        )
    return (
        "Convention: denominator layout. This document prints "
        f"${_jacobian_latex('W', layout)} = J_W^\\top$, with one row for each entry of "
        f"${_VEC}(W)$ and one column for each entry of ${_VEC}(A)$: row ${at_w}$, "
        f"column ${at_a}$ holds $\\partial {a}/\\partial {w}$. So it is "
        f"${of_w} \\times {of_a} = {shape_latex(*jacobian_w.shape)}$, the transpose of the "
        f"numerator-layout Jacobian $J_W = {_jacobian_latex('W', 'numerator')}$ "
        "(--layout numerator); likewise "
        f"${_jacobian_latex(given, layout)} = J_{given}^\\top$ is "
        f"${of_x} \\times {of_a} = {shape_latex(*jacobian_x.shape)}$."
    )


def _setup(derivation: JacobianDerivation, full: bool) -> Section:
    """The layer, its matrices, vec, and the layout the Jacobians are printed in."""
    sizes, symbols, given = derivation.sizes, derivation.symbols, derivation.variables[1]
    m, k, n, layer = sizes.m, sizes.k, sizes.n, sizes.layer
    notation = NOTATIONS[layer.samples]
    vectors = tuple(
        f"{_VEC}({name}) &= {_row_vector(vec_labels(name.lower(), *sizes.shape_of(name)), full)}"
        for name in ("A", "W", given)
    )
    matrices = [
        f"{name} = {symbol_matrix(symbols.rows(name), full)}" for name in layer.variables(False)
    ]
    widths = (sizes.shape_of(name)[1] for name in layer.variables(False))
    if sum(len(visible(width, full)) for width in widths) <= MATRIX_WIDTH * 2:  # one line if fits
        matrices = [r",\quad ".join(matrices)]
    a = notation.output
    samples = " (one sample per column)" if layer.samples == "columns" else ""
    return Section(
        "Setup and conventions",
        (
            Paragraph(
                f"The layer has the input ${given}$ of size ${shape_latex(*sizes.shape_of(given))}$"
                f"{samples} and the weights $W$ of size ${shape_latex(*sizes.shape_of('W'))}$ "
                f"($m = {m}$, $k = {k}$, $n = {n}$); its output is "
                f"${forward_latex(False, layer)}$, of size ${shape_latex(*sizes.shape_of('A'))}$. "
                f"A bias $b$ would add a constant to each ${a}$ and change neither Jacobian, "
                "so it is left out."
            ),
            *(Display((matrix,)) for matrix in matrices),
            Paragraph(
                "The derivative of the matrix $A$ with respect to the matrix $W$ has one entry "
                "for every pair of an entry of $A$ and an entry of $W$, "
                f"$\\partial {a}/\\partial {notation.entries['W']}$: four indices, "
                f"${_length(layer, 'A')} \\cdot {_length(layer, 'W')} = {m * n * k * n}$ numbers. "
                f"To set it out as a matrix, ${_VEC}$ stacks the columns of a matrix into one "
                f"column (column-major), so ${a}$ is entry ${notation.output_position}$ of "
                f"${_VEC}(A)$:"
            ),
            Display(vectors, aligned=True),
            Paragraph(_convention(derivation)),
            Paragraph(
                "The gradients of a scalar loss $L$ stay in denominator layout, as everywhere "
                "in matgrad: $\\partial L/\\partial W$ has the shape of $W$ and "
                f"$\\partial L/\\partial {given}$ the shape of ${given}$. Indices are 1-based."
            ),
        ),
    )


def _block_latex(jacobian: Jacobian, down: int, across: int, derivation: JacobianDerivation) -> str:
    """One block of the block matrix, as the computed entries read: 0, Z, c I_m or entries."""
    form = read_block(jacobian, down, across, derivation.symbols)
    if form.kind == "zero":
        return "0"
    if form.kind == "matrix" and form.factor is not None:
        return factor_latex(form.factor)
    if form.kind == "scaled identity":
        size = jacobian.block_shape[0]
        return rf"{expr_latex(form.scale)} \, I_{{{size}}}"
    return symbol_matrix(jacobian.block(down, across))


def _block_description(jacobian: Jacobian, zeros: bool, layer: Layer) -> str:
    """Which partials each block of the block matrix holds: a block row for each column of A and
    a block column for each column of X in numerator layout, the other way round in denominator
    layout."""
    variable, notation = jacobian.variable, NOTATIONS[layer.samples]
    index, column = notation.columns[variable], notation.output_column
    down, across = (column, "A"), (index, variable)
    # The shape of a block, the right factor of the Kronecker product, in size letters.
    block = kronecker_factors(layer, variable, "numerator")[1]
    rows, cols = (block.identity,) * 2 if block.identity else _letters(layer, block.name)
    if jacobian.layout == "denominator":
        down, across, rows, cols = across, down, cols, rows
    return (
        f"In blocks of ${shape_latex(*jacobian.block_shape)}$ (${rows} \\times {cols}$), one block "
        f"row for each column ${down[0]}$ of ${down[1]}$ and one block column for each column "
        f"${across[0]}$ of ${across[1]}$: block $({down[0]},{across[0]})$ holds the partials of "
        f"column ${column}$ of $A$ with respect to column ${index}$ of ${variable}$"
        + (", and $0$ is a block of zeros:" if zeros else ":")
    )


def _letters(layer: Layer, name: str) -> tuple[str, str]:
    """The shape of the layer's matrix ``name`` in size letters: (m, k) for Z."""
    matrix = layer.matrix(name)
    return (matrix.rows, matrix.cols)


def _jacobian_section(
    variable: JacobianVariable, derivation: JacobianDerivation, full: bool
) -> Section:
    """The computed Jacobian, its blocks, the Kronecker check and the vec identity."""
    layout, layer = derivation.layout, derivation.sizes.layer
    jacobian, notation = derivation.jacobians[variable], NOTATIONS[layer.samples]
    entry, expected = notation.entries[variable], tex(notation.partials[variable])
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
    kronecker = kronecker_latex(layer, variable, layout)
    parts: list[Block] = [
        Paragraph(
            "Every entry is the derivative of an expanded entry "
            f"${tex(notation.forward)}$ of $A$ with respect to ${entry}$ (index "
            f"notation predicts $\\partial {notation.output}/\\partial {entry} = {expected}$). "
            f"The ${shape_latex(*jacobian.shape)}$ matrix:"
        ),
        Display((f"{short} = {name} = {symbol_matrix(jacobian.entries, full)}",)),
        Paragraph(_block_description(jacobian, zeros, layer)),
        Display((f"{short} = {blocks}",)),
        Paragraph(
            f"Independently, the Kronecker product ${kronecker}$ was built block by block from "
            f"its definition ({kronecker_block(layer, variable, layout)}) and compared with "
            "the computed matrix."
        ),
        _verdict(check, f"{short} = {kronecker}", f"${kronecker}$"),
    ]
    if check.holds:
        parts.append(Display((rf"\boxed{{{name} = {kronecker}}}",)))
    parts.extend(_vec_blocks(variable, derivation, full))
    title = f"The Jacobian of $A$ with respect to ${variable}$"
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
    layer = derivation.sizes.layer
    identity = _vec_identity(layer, variable)
    kronecker = kronecker_latex(layer, variable, "numerator")
    # vec(PVQ) = (Qᵀ ⊗ P) vec(V): P and Q read off the numerator-layout factors; the matrix is
    # called X unless the layer has an X of its own.
    left, right = kronecker_factors(layer, variable, "numerator")
    v = "V" if "X" in (matrix.name for matrix in layer.matrices) else "X"
    source = (
        f"$\\operatorname{{vec}}(P{v}Q) = (Q^\\top \\otimes P) \\operatorname{{vec}}({v})$ with "
        f"$P = {factor_latex(right)}$, ${v} = {variable}$, $Q = {factor_latex(left.T)}$"
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
    layout, layer = derivation.layout, derivation.sizes.layer
    notation = NOTATIONS[layer.samples]
    contraction = derivation.contractions[variable]
    rows, cols = contraction.shape
    leads = upstream_first(variable, layer)
    form_latex = partial(linear_form_latex, upstream_first=leads, full=full, limit=VECTOR_TERMS)
    entry, a = notation.entries[variable], notation.output
    pair = a.removeprefix("a_{").removesuffix("}")  # the indices of A's entry, i,j
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
                f"{grad(entry)} = \\sum_{{{pair}}} {grad(a)} "
                f"\\frac{{\\partial {a}}}{{\\partial {entry}}}.",
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
    matrix = sums_matrix(contraction.entries, leads, full, VECTOR_TERMS)
    if matrix is not None:
        parts += [Paragraph(reshape + ":"), Display((f"{gradient} = {matrix}",))]
    else:
        first, index = notation.positions[variable], notation.pairs[variable]
        parts.append(
            Paragraph(
                f"{reshape}, entry $({index})$ of ${slashed(variable)}$ is entry "
                f"${first}$ of this vector (the matrix is too wide to print here)."
            )
        )
    check = derivation.check("contraction", variable)
    product = rule_latex(variable, UPSTREAM_INLINE, layer=layer)
    claim = rule_claim(variable, layer=layer)
    parts.append(_verdict(check, claim, f"${product}$ multiplied out independently"))
    if check.holds:
        parts.append(Display((rf"\boxed{{{gradient} = {rule_latex(variable, layer=layer)}}}",)))
    return parts


def _contraction_section(derivation: JacobianDerivation, full: bool) -> Section:
    """Each Jacobian contracted with ∂L/∂A, checked against the matrix product."""
    blocks: list[Block] = [
        Paragraph(
            "A scalar loss $L$ has the upstream gradient $\\partial L/\\partial A$, a "
            f"${shape_latex(*derivation.sizes.shape_of('A'))}$ matrix with entries "
            f"$\\partial L/\\partial {NOTATIONS[derivation.sizes.samples].output}$. Contracting "
            "a Jacobian with it, summing over the two indices of $A$, leaves a gradient with the "
            "shape of the variable."
        )
    ]
    for variable in derivation.variables:
        blocks += _contraction_blocks(variable, derivation, full)
    return Section("Contracting with $\\partial L/\\partial A$", tuple(blocks))


def _notes_claim_section(derivation: JacobianDerivation) -> Section:
    """Why "∂Y/∂W = Xᵀ" is wrong, with the checker's verdict on it at these sizes."""
    sizes, layout, layer = derivation.sizes, derivation.layout, derivation.sizes.layer
    m, k, n = sizes.m, sizes.k, sizes.n
    notation, given = NOTATIONS[layer.samples], derivation.variables[1]
    claim, jacobian, short = (
        derivation.notes_claim,
        derivation.jacobians["W"],
        _short_name("W", layout),
    )
    mistake = f"{given}^\\top"
    if claim.holds:
        verdict = (
            f"Checked as a claim about the matrix above, ${short} = {mistake}$ happens to agree "
            f"entry by entry at these sizes, only because ${derivation.degenerate}$; for $n > 1$ "
            f"the Jacobian is larger than ${mistake}$ and the claim fails."
        )
    else:
        verdict = (
            f"Checked as a claim about the matrix above, ${short} = {mistake}$ is rejected: "
            f"{rejection(claim)}."
        )
    rows, cols = _letters(layer, given)
    verified = (
        ", as verified above"
        if derivation.check("contraction", "W").holds
        else (" (NOT verified above)")
    )
    w_rows, w_cols = _letters(layer, "W")
    return Section(
        "Why $\\partial Y/\\partial W = X^\\top$ is wrong",
        (
            Paragraph(
                f"A common mistake, for a layer written $Y = {_NOTES_LAYER[layer.samples]}$, is "
                "to claim $\\partial Y/\\partial W = X^\\top$; in this document's names, "
                f"$\\partial A/\\partial W = {mistake}$. It mistakes the derivative of the matrix "
                "$A$ for the gradient of a scalar."
            ),
            Paragraph(
                "$\\partial A/\\partial W$ is a fourth-order tensor: its entries "
                f"$\\partial {notation.output}/\\partial {notation.entries['W']} = "
                f"{tex(notation.partials['W'])}$ carry four indices, "
                f"${_length(layer, 'A')} \\cdot {_length(layer, 'W')} = {m * n * k * n}$ numbers "
                f"here. Laid out as a matrix it is "
                f"${short} = {kronecker_latex(layer, 'W', layout)}$, "
                f"${shape_latex(*jacobian.shape)}$, while ${mistake}$ is ${cols} \\times {rows} = "
                f"{shape_latex(*claim.claimed_shape)}$, {m * k} numbers."
                + (" Even the shapes do not match." if claim.claimed_shape != claim.shape else "")
            ),
            Paragraph(verdict),
            Paragraph(
                f"${mistake}$ appears only after contracting with $\\partial L/\\partial A$: "
                f"${rule_claim('W', layer=layer)}${verified}. That is the gradient of a scalar, "
                f"{'an' if w_rows in 'mn' else 'a'} ${w_rows} \\times {w_cols}$ matrix with the "
                f"shape of $W$, not the derivative of the matrix $A$. "
                f"{_NOTES_SHORTCUT[layer.samples]}"
            ),
        ),
    )


#: The layer as the notes' mistake writes it, in each convention.
_NOTES_LAYER = {"rows": "XW", "columns": "WX"}

#: Where the shortcut ∂A/∂W = Zᵀ (or Xᵀ) may come from, in each convention.
_NOTES_SHORTCUT = {
    "rows": (
        "In denominator layout, $\\frac{\\partial \\operatorname{vec}(A)^\\top}"
        "{\\partial \\operatorname{vec}(W)} = I_n \\otimes Z^\\top$ holds $n$ copies of $Z^\\top$ "
        "on its block diagonal, which may be where the shortcut comes from; it is $Z^\\top$ itself "
        "only when $n = 1$."
    ),
    "columns": (
        "In numerator layout, $\\frac{\\partial \\operatorname{vec}(A)}"
        "{\\partial \\operatorname{vec}(W)^\\top} = X^\\top \\otimes I_n$ is $X^\\top$ with each "
        "entry $x_{r,i}$ spread into the block $x_{r,i} I_n$, which may be where the shortcut "
        "comes from; it is $X^\\top$ itself only when $n = 1$."
    ),
}


def _general_section(derivation: JacobianDerivation) -> Section:
    """The same calculation for any sizes, in index notation with Kronecker deltas."""
    sizes, layer, given = derivation.sizes, derivation.sizes.layer, derivation.variables[1]
    forms = {
        (variable, layout): kronecker_latex(layer, variable, layout)
        for variable in derivation.variables
        for layout in ("numerator", "denominator")
    }
    return Section(
        "The general case in index notation",
        (
            Paragraph(
                f"The computation above is the instance $m = {sizes.m}$, $k = {sizes.k}$, "
                f"$n = {sizes.n}$ of the same calculation for any sizes, with $\\delta$ the "
                "Kronecker delta:"
            ),
            Display(GENERAL_LATEX[layer.samples], aligned=True),
            Paragraph(
                f"Collecting the partials by blocks gives $J_W = {forms[('W', 'numerator')]}$ and "
                f"$J_{given} = {forms[(given, 'numerator')]}$ in numerator layout, and their "
                f"transposes ${forms[('W', 'denominator')]}$ and "
                f"${forms[(given, 'denominator')]}$ in denominator layout, since "
                "$(P \\otimes Q)^\\top = P^\\top \\otimes Q^\\top$."
            ),
        ),
    )


def _summary_row(check: JacobianCheck, layout: Layout, layer: Layer) -> tuple[str, str, str]:
    """The identity a check is about, its shape and its result, for the summary table."""
    variable, short = check.variable, _short_name(check.variable, layout)
    if check.kind == "jacobian":
        identity = f"{short} = {kronecker_latex(layer, variable, layout)}"
    elif check.kind == "vec":
        identity = f"{_VEC}(A) = {_vec_identity(layer, variable)}"
    elif check.kind == "contraction":
        identity = rule_claim(variable, layer=layer)
    else:
        identity = rf"{short} = \text{{a claimed form}}"
    return (f"${identity}$", f"${shape_latex(*check.shape)}$", result_cell(check))


def _summary_section(derivation: JacobianDerivation) -> Section:
    """A table of every check, the verdict, and what became of the common mistake ∂A/∂W = Zᵀ."""
    layout, layer = derivation.layout, derivation.sizes.layer
    rows = tuple(_summary_row(check, layout, layer) for check in derivation.checks)
    verdict = (
        "Every identity holds at every entry."
        if derivation.verified
        else "Some identities FAIL: see above."
    )
    claim = derivation.notes_claim
    notes = f"The common mistake $\\partial A/\\partial W = {derivation.variables[1]}^\\top$ " + (
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
    """The Jacobian view of A = ZW (or A = WX) as a Document."""
    sizes = derivation.sizes
    samples = ", samples as columns" if sizes.samples == "columns" else ""
    title = (
        "The Jacobians of the matrix-multiplication layer "
        f"${forward_latex(False, sizes.layer)}$, "
        f"$(m, k, n) = ({sizes.m}, {sizes.k}, {sizes.n})$, {derivation.layout} layout{samples}"
    )
    return Document(
        title,
        (
            _setup(derivation, full),
            *(_jacobian_section(variable, derivation, full) for variable in derivation.variables),
            _contraction_section(derivation, full),
            _notes_claim_section(derivation),
            _general_section(derivation),
            _summary_section(derivation),
        ),
    )
