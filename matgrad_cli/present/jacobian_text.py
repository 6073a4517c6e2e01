"""The Jacobian view (`matgrad jacobian --format text`) for the terminal, rendered with rich.

It follows the LaTeX document section by section. The (mn)×(kn) Jacobians are shown with their
row and column labels, elided beyond present/limits.py unless ``full``; a matrix wider than the
console is left to the LaTeX document, with a note. Every stated result is read off a
JacobianCheck.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.text import Text

from ..core.jacobians import (
    Jacobian,
    JacobianCheck,
    JacobianDerivation,
    JacobianVariable,
    VecEntry,
    jacobian_name,
    kronecker_formula,
    read_block,
    vec_order,
)
from ..core.layer import Layer, Sizes
from . import notation as plain
from . import terminal as ui
from .jacobian_notation import NOTATIONS, JacobianNotation
from .jacobian_notation import plain as running
from .layer_latex import upstream_first


def _blocks(variable: JacobianVariable, layout: str, notation: JacobianNotation) -> str:
    """What block (s, t) of a Jacobian holds: ``block (j,q) for column j of A and column q of
    W`` in numerator layout, the other way round in denominator layout."""
    down, across = notation.output_column, notation.columns[variable]
    if layout == "numerator":
        return f"block ({down},{across}) for column {down} of A and column {across} of {variable}"
    return f"block ({across},{down}) for column {across} of {variable} and column {down} of A"


def _notation(derivation: JacobianDerivation) -> JacobianNotation:
    return NOTATIONS[derivation.sizes.samples]


def _length(layer: Layer, name: str) -> str:
    """The length of vec(V) in size letters: mn for A = ZW's m×n output."""
    matrix = layer.matrix(name)
    return matrix.rows + matrix.cols


def _label(entry: VecEntry) -> str:
    """An entry of a vec, its letter and its indices: a₂,₁."""
    return entry[0] + plain.pretty_index(entry[1:])


def _short(variable: JacobianVariable, layout: str) -> str:
    return f"J_{variable}" if layout == "numerator" else f"J_{variable}ᵀ"


def _labelled_matrix(jacobian: Jacobian, full: bool) -> ui.Block:
    """The Jacobian in unicode brackets, its column labels above and row labels to the left."""
    rows, columns = jacobian.rows, jacobian.columns
    shown_rows, shown_cols = plain.visible(len(rows), full), plain.visible(len(columns), full)
    cells = ui.matrix_cells(
        len(rows), len(columns), lambda i, j: plain.pretty_expr(jacobian.entries[i][j]), full
    )
    heads = [_label(columns[j]) if j is not None else "⋯" for j in shown_cols]
    lefts = [_label(rows[i]) if i is not None else "⋮" for i in shown_rows]
    widths = [
        max(cell_len(heads[c]), *(cell_len(row[c]) for row in cells)) for c in range(len(heads))
    ]
    left_width = max(cell_len(text) for text in lefts)

    def fit(text: str, width: int) -> str:
        return text + " " * (width - cell_len(text))

    gap = "  "
    bodies = ui.bracketed([gap.join(map(fit, row, widths)) for row in cells])
    lines = [" " * (left_width + 2) + gap.join(map(fit, heads, widths)).rstrip()]
    lines += [f"{fit(left, left_width)} {body}" for left, body in zip(lefts, bodies, strict=True)]
    return ui.Block(tuple(lines), 1 + (len(cells) - 1) // 2)


def _block_text(jacobian: Jacobian, down: int, across: int, derivation: JacobianDerivation) -> str:
    """One block of the block matrix as the computed entries read: 0, Z, Zᵀ, c Iₘ or entries."""
    form = read_block(jacobian, down, across, derivation.symbols)
    if form.kind == "zero":
        return "0"
    if form.kind == "matrix" and form.factor is not None:
        return form.factor.text
    if form.kind == "scaled identity":
        return f"{plain.pretty_expr(form.scale)} I{plain.subscript(jacobian.block_shape[0])}"
    block = jacobian.block(down, across)
    return (
        "[" + "; ".join(" ".join(plain.pretty_expr(value) for value in row) for row in block) + "]"
    )


def _verdict(check: JacobianCheck, statement: str) -> Iterator[RenderableType]:
    """The outcome of one check: "verified" only when it holds, else how it fails and where."""
    if check.holds:
        yield ui.verified(check.entries_checked, statement)
        return
    if check.claimed_shape != check.shape:
        detail = (
            f"{statement} does not hold: the sides are {plain.dimensions(check.shape)} and "
            f"{plain.dimensions(check.claimed_shape)}."
        )
    else:
        detail = (
            f"{statement} does not hold: the sides differ at {check.mismatch_count} of "
            f"{check.entries_checked} entries."
        )
    yield ui.fails(detail)
    for mismatch in check.mismatches:
        row, col = mismatch.index
        yield ui.line(
            f"  entry ({row},{col}): computed {plain.pretty_expr(mismatch.elementwise)}, "
            f"claimed {plain.pretty_expr(mismatch.claimed)}"
        )


def _vec(name: str, sizes: Sizes, full: bool) -> ui.Figure:
    """vec(X) = [x₁,₁  x₂,₁  …]ᵀ, the entries of the layer's matrix in column-major order."""
    shape = sizes.shape_of(name)
    labels = [plain.pretty_entry(name, index, sizes.layer) for index in vec_order(*shape)]
    cells = ui.matrix_cells(1, len(labels), lambda i, j: labels[j], full)
    vector = ui.beside(ui.text_block(f"vec({name}) = "), ui.matrix_block(cells), ui.text_block("ᵀ"))
    return ui.Figure(vector, 2, f"vec({name})")


def _setup(derivation: JacobianDerivation, full: bool) -> Iterator[RenderableType]:
    """Sizes, the input and W, vec, and the layout of the Jacobians with their shapes."""
    sizes, layer, notation = derivation.sizes, derivation.sizes.layer, _notation(derivation)
    m, k, n, given = sizes.m, sizes.k, sizes.n, derivation.variables[1]
    a, w = notation.output, notation.entries["W"]
    of_a, of_w, of_x = (_length(layer, name) for name in ("A", "W", given))
    samples = "; samples are the columns of X" if layer.samples == "columns" else ""
    yield ui.prose(
        f"{plain.layer_sizes(sizes)}{samples}, and {plain.forward_text(False, layer=layer)} is "
        f"{plain.sized_shape('A', sizes)}. A bias would add a constant to each {a} and "
        "change neither Jacobian, so it is left out."
    )
    yield ui.blank()
    yield ui.layer_matrices(derivation.symbols, layer.variables(bias=False), full)
    yield ui.blank()
    yield ui.prose(
        f"∂A/∂W has an entry ∂{a}/∂{w} for every pair of entries: four indices, "
        f"{of_a}·{of_w} = {m * n * k * n} numbers. vec stacks the columns of a matrix into one "
        f"column (column-major), so {a} is entry {running(notation.output_position)} of vec(A):"
    )
    for name in ("A", "W", given):
        yield _vec(name, sizes, full)
    yield ui.blank()
    shape_w = plain.dimensions(derivation.jacobians["W"].shape)
    shape_x = plain.dimensions(derivation.jacobians[given].shape)
    if derivation.layout == "numerator":
        yield ui.prose(
            "Numerator layout (the Jacobian convention): J_W = ∂vec(A)/∂vec(W)ᵀ has a row "
            "for each entry of vec(A) and a column for each entry of vec(W), so it is "
            f"{of_a}×{of_w} = {shape_w}; J_{given} = ∂vec(A)/∂vec({given})ᵀ is "
            f"{of_a}×{of_x} = {shape_x}. --layout denominator prints the transposes."
        )
    else:
        yield ui.prose(
            "Denominator layout: ∂vec(A)ᵀ/∂vec(W) = J_Wᵀ has a row for each entry of "
            "vec(W) and a column for each entry of vec(A), so it is "
            f"{of_w}×{of_a} = {shape_w}, the transpose of the numerator-layout "
            f"J_W = ∂vec(A)/∂vec(W)ᵀ; ∂vec(A)ᵀ/∂vec({given}) = J_{given}ᵀ is "
            f"{of_x}×{of_a} = {shape_x}. --layout numerator prints J_W and J_{given}."
        )
    yield ui.blank()
    yield ui.prose(
        "Gradients stay in denominator layout: ∂L/∂X has the shape of X. Indices are "
        f"1-based. g{a[1:]} stands for ∂L/∂{a}, the entries of G = ∂L/∂A."
    )


def _matrix(
    derivation: JacobianDerivation, variable: JacobianVariable, full: bool
) -> Iterator[RenderableType]:
    """The computed Jacobian with labels, its blocks, the Kronecker check, the vec identity."""
    layout, notation = derivation.layout, _notation(derivation)
    jacobian = derivation.jacobians[variable]
    short, a = _short(variable, layout), notation.output
    entry, expected = notation.entries[variable], notation.partials[variable]
    yield ui.prose(
        f"Each {a} is differentiated with respect to each {entry} "
        f"(index notation predicts ∂{a}/∂{entry} = {expected}). "
        f"{short} = {jacobian_name(variable, layout)}, {plain.dimensions(jacobian.shape)}:"
    )
    yield ui.blank()
    yield ui.Figure(_labelled_matrix(jacobian, full), 2, short)
    yield ui.blank()
    # The Jacobian in blocks, each read as 0, a named matrix or a multiple of I.
    down, across = jacobian.block_grid
    blocks = ui.matrix_cells(
        down, across, lambda i, j: _block_text(jacobian, i, j, derivation), full
    )
    yield ui.prose(
        f"In blocks of {plain.dimensions(jacobian.block_shape)}, "
        f"{_blocks(variable, layout, notation)}:"
    )
    yield ui.Figure(ui.labelled(f"{short} = ", ui.matrix_block(blocks)), 2, "the block matrix")
    yield ui.blank()
    check = derivation.check("jacobian", variable)
    yield from _verdict(
        check, f"{check.identity} (the Kronecker product, built block by block independently)"
    )
    yield ui.blank()
    yield from _vec_identity(derivation, variable, full)


def _vec_identity(
    derivation: JacobianDerivation, variable: JacobianVariable, full: bool
) -> Iterator[RenderableType]:
    """vec(A) = (Kronecker product)·vec(X) multiplied out, entry by entry, and its check."""
    product = derivation.vec_products[variable]
    shape = derivation.sizes.shape_of("A")
    labels = [plain.pretty_entry("A", index, derivation.sizes.layer) for index in vec_order(*shape)]
    lhs_width = cell_len(labels[-1])

    def show(number: int) -> list[RenderableType]:
        terms = plain.elide([plain.pretty_expr(term) for term in product.terms[number]], full)
        return [ui.Equation("  ", labels[number], terms, lhs_width=lhs_width)]

    yield ui.prose(
        f"vec(A) = {product.formula}: the Kronecker product times vec({variable}), "
        "multiplied out, against the entries of A from the forward pass:"
    )
    yield ui.Listing(len(labels), show, full=full)
    vec_check = derivation.check("vec", variable)
    yield from _verdict(vec_check, vec_check.identity)


@dataclass(frozen=True)
class Contraction:
    """vec(∂L/∂X) from the Jacobian, reshaped into the shape of X, as a matrix when it fits the
    width and else entry by entry."""

    derivation: JacobianDerivation
    variable: JacobianVariable
    _: KW_ONLY
    full: bool

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        derivation, variable, full = self.derivation, self.variable, self.full
        form, layer = derivation.contractions[variable], derivation.sizes.layer
        rows, cols = form.shape
        leads = upstream_first(variable, layer)
        yield ui.blank()
        yield ui.prose(
            f"vec(∂L/∂{variable}) = {form.formula}, reshaped into {variable}'s shape "
            f"({plain.dimensions(form.shape)}):"
        )

        def entry_text(i: int, j: int) -> str:
            return plain.product_entry(form.entries[i][j], leads, full)

        def entry_label(i: int, j: int) -> str:
            return "∂L/∂" + plain.pretty_entry(variable, (i + 1, j + 1), layer)

        cells = ui.matrix_cells(rows, cols, entry_text, full)
        matrix = ui.labelled(f"∂L/∂{variable} = ", ui.matrix_block(cells))
        if 2 + matrix.width <= options.max_width:
            yield ui.Figure(matrix, 2)
        else:
            yield ui.entry_listing(form, entry_label, leads, full)
        check = derivation.check("contraction", variable)
        independent = plain.product_name(variable, layer)
        yield from _verdict(check, f"{check.identity} ({independent} multiplied out independently)")


def _notes_claim(derivation: JacobianDerivation) -> Text:
    """What the check of the common mistake ∂A/∂W = Zᵀ found."""
    claim, given = derivation.notes_claim, derivation.variables[1]
    if claim.holds:
        return Text.assemble(
            ("! ", ui.STYLE_NOTE),
            f"{claim.identity} happens to agree entry by entry here, only because "
            f"{derivation.degenerate}; for n > 1 the Jacobian is larger than {given}ᵀ.",
        )
    if claim.claimed_shape != claim.shape:
        why = (
            f"the shapes differ ({plain.dimensions(claim.shape)} against "
            f"{plain.dimensions(claim.claimed_shape)})."
        )
    else:
        why = f"{claim.mismatch_count} of {claim.entries_checked} entries differ."
    return Text.assemble(("✗ Rejected: ", ui.STYLE_BAD), f"{claim.identity}: {why}")


def _notes(derivation: JacobianDerivation) -> Iterator[RenderableType]:
    """Why the common mistake ∂Y/∂W = Xᵀ is wrong, and what the check of it found."""
    sizes, layout, layer = derivation.sizes, derivation.layout, derivation.sizes.layer
    m, k, n, notation = sizes.m, sizes.k, sizes.n, _notation(derivation)
    jacobian, given = derivation.jacobians["W"], derivation.variables[1]
    rows, cols = (layer.matrix(given).rows, layer.matrix(given).cols)
    written = "XW" if layer.samples == "rows" else "WX"
    yield ui.prose(
        f"A common mistake, for a layer written Y = {written}, is to claim ∂Y/∂W = Xᵀ; in these "
        f"names, ∂A/∂W = {given}ᵀ. ∂A/∂W is a 4th-order tensor, ∂{notation.output}/∂"
        f"{notation.entries['W']} = {notation.partials['W']}, with {_length(layer, 'A')}·"
        f"{_length(layer, 'W')} = {m * n * k * n} entries; as a matrix it is "
        f"{_short('W', layout)} = {jacobian.formula}, {plain.dimensions(jacobian.shape)}, while "
        f"{given}ᵀ is {cols}×{rows} = {plain.dimensions(derivation.notes_claim.claimed_shape)}."
    )
    yield ui.blank()
    yield _notes_claim(derivation)
    yield ui.blank()
    yield ui.prose(
        f"{given}ᵀ appears only after contracting with G: ∂L/∂W = "
        f"{plain.product_name('W', layer)}, the gradient of a scalar with the shape of W "
        f"(section 4), not the derivative of the matrix A. {_SHORTCUT[layer.samples]}"
    )


#: Where the shortcut ∂A/∂W = Zᵀ (or Xᵀ) may come from, in each convention.
_SHORTCUT = {
    "rows": (
        "In denominator layout ∂vec(A)ᵀ/∂vec(W) = I_n ⊗ Zᵀ has n copies of Zᵀ on its block "
        "diagonal; it is Zᵀ itself only when n = 1."
    ),
    "columns": (
        "In numerator layout ∂vec(A)/∂vec(W)ᵀ = Xᵀ ⊗ I_n is Xᵀ with each entry x_{r,i} spread "
        "into the block x_{r,i} I_n; it is Xᵀ itself only when n = 1."
    ),
}


def _general(derivation: JacobianDerivation) -> Iterator[RenderableType]:
    """Index notation for any m, k, n: the Jacobians and the contractions."""
    layer, notation = derivation.sizes.layer, _notation(derivation)
    yield ui.prose(
        "For any m, k, n, in index notation (textbook reasoning, checked above at these "
        "sizes; δ is the Kronecker delta):"
    )
    output, forward = notation.forward.split(" = ")
    yield ui.Equation("  ", output, [forward], join="=")
    for variable in derivation.variables:
        yield ui.line(
            f"  ∂{output}/∂{notation.entries[variable]} = {notation.partials[variable]}, so "
            f"J_{variable} = {kronecker_formula(layer, variable, 'numerator')}"
        )
    for variable in derivation.variables:
        lhs, *sides = notation.chains[variable]
        yield ui.Equation("  ", lhs, sides, join="=")
    transposes = " and ".join(
        kronecker_formula(layer, variable, "denominator") for variable in derivation.variables
    )
    yield ui.prose(
        f"In denominator layout the Jacobians are the transposes, {transposes}, "
        "since (P ⊗ Q)ᵀ = Pᵀ ⊗ Qᵀ."
    )


def _summary(derivation: JacobianDerivation) -> Iterator[RenderableType]:
    """Every check in a table, the verdict, and what became of the common mistake ∂A/∂W = Zᵀ."""
    checks = derivation.checks
    rows = [
        (
            check.identity,
            plain.dimensions(check.shape),
            ui.outcome(ui.summary_result(check, str(check.mismatch_count)), check.holds),
        )
        for check in checks
    ]
    yield ui.results_table(("identity", "shape", "result"), rows, no_wrap=("shape",))
    failed = [check for check in checks if not check.holds]
    samples = ", samples as columns" if derivation.sizes.samples == "columns" else ""
    where = f"at {plain.sizes_text(derivation.sizes)}{samples}, {derivation.layout} layout"
    if failed:
        yield ui.marked(False, f"{len(failed)} of the {len(checks)} checks fail {where}.")
    else:
        yield ui.marked(True, f"All {len(checks)} checks hold at every entry, {where}.")
    claim = derivation.notes_claim
    yield ui.prose(
        f"The common mistake {claim.identity} "
        + ("agrees here only at degenerate sizes." if claim.holds else "is rejected."),
        style=ui.STYLE_NOTE,
    )


def jacobian_view(derivation: JacobianDerivation, *, full: bool = False) -> ui.Sections:
    """The Jacobian view as a rich renderable, in the sections of the LaTeX document."""
    a = _notation(derivation).output
    pair = a.removeprefix("a_{").removesuffix("}")  # the indices of A's entry, i,j
    contractions = (
        ui.prose(
            f"The chain rule sums over every entry of A: ∂L/∂x = Σ_{{{pair}}} g{a[1:]} ∂{a}/∂x. "
            "In vec form that is a product with the Jacobian, and the result, reshaped "
            "column by column, has the shape of the variable."
        ),
        *(Contraction(derivation, variable, full=full) for variable in derivation.variables),
    )
    sections = [
        ui.Section("Setup and conventions", tuple(_setup(derivation, full))),
        *(
            ui.Section(f"∂A/∂{variable}", tuple(_matrix(derivation, variable, full)))
            for variable in derivation.variables
        ),
        ui.Section("Contracting with G = ∂L/∂A", contractions),
        ui.Section("Why ∂Y/∂W = Xᵀ is wrong", tuple(_notes(derivation))),
        ui.Section("The general case", tuple(_general(derivation))),
        ui.Section("Summary", tuple(_summary(derivation))),
    ]
    return ui.Sections(sections)
