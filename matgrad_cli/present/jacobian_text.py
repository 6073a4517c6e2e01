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
    read_block,
    vec_order,
)
from ..core.layer import LAYER, Sizes
from . import notation as plain
from . import terminal as ui
from .layer_latex import upstream_first

#: What block (s, t) of each Jacobian holds.
_BLOCKS = {
    ("W", "numerator"): "block (j,q) for column j of A and column q of W",
    ("W", "denominator"): "block (q,j) for column q of W and column j of A",
    ("Z", "numerator"): "block (j,r) for column j of A and column r of Z",
    ("Z", "denominator"): "block (r,j) for column r of Z and column j of A",
}


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
    labels = [plain.pretty_entry(name, index) for index in vec_order(*sizes.shape_of(name))]
    cells = ui.matrix_cells(1, len(labels), lambda i, j: labels[j], full)
    vector = ui.beside(ui.text_block(f"vec({name}) = "), ui.matrix_block(cells), ui.text_block("ᵀ"))
    return ui.Figure(vector, 2, f"vec({name})")


def _setup(derivation: JacobianDerivation, full: bool) -> Iterator[RenderableType]:
    """Sizes, Z and W, vec, and the layout of the Jacobians with their shapes."""
    sizes = derivation.sizes
    m, k, n = sizes.m, sizes.k, sizes.n
    yield ui.prose(
        f"{plain.layer_sizes(sizes)}, and {plain.forward_text(False)} is "
        f"{plain.sized_shape('A', sizes)}. A bias would add a constant to each a_{{i,j}} and "
        "change neither Jacobian, so it is left out."
    )
    yield ui.blank()
    yield ui.layer_matrices(derivation.symbols, LAYER.variables(bias=False), full)
    yield ui.blank()
    yield ui.prose(
        f"∂A/∂W has an entry ∂a_{{i,j}}/∂w_{{r,q}} for every pair of entries: four indices, "
        f"mn·kn = {m * n * k * n} numbers. vec stacks the columns of a matrix into one "
        "column (column-major), so a_{i,j} is entry (j−1)m + i of vec(A):"
    )
    for name in ("A", "W", "Z"):
        yield _vec(name, sizes, full)
    yield ui.blank()
    shape_w = plain.dimensions(derivation.jacobians["W"].shape)
    shape_z = plain.dimensions(derivation.jacobians["Z"].shape)
    if derivation.layout == "numerator":
        yield ui.prose(
            "Numerator layout (the Jacobian convention): J_W = ∂vec(A)/∂vec(W)ᵀ has a row "
            "for each entry of vec(A) and a column for each entry of vec(W), so it is "
            f"mn×kn = {shape_w}; J_Z = ∂vec(A)/∂vec(Z)ᵀ is mn×mk = {shape_z}. --layout "
            "denominator prints the transposes."
        )
    else:
        yield ui.prose(
            "Denominator layout: ∂vec(A)ᵀ/∂vec(W) = J_Wᵀ has a row for each entry of "
            "vec(W) and a column for each entry of vec(A), so it is "
            f"kn×mn = {shape_w}, the transpose of the numerator-layout "
            f"J_W = ∂vec(A)/∂vec(W)ᵀ; ∂vec(A)ᵀ/∂vec(Z) = J_Zᵀ is "
            f"mk×mn = {shape_z}. --layout numerator prints J_W and J_Z."
        )
    yield ui.blank()
    yield ui.prose(
        "Gradients stay in denominator layout: ∂L/∂X has the shape of X. Indices are "
        "1-based. g_{i,j} stands for ∂L/∂a_{i,j}, the entries of G = ∂L/∂A."
    )


def _matrix(
    derivation: JacobianDerivation, variable: JacobianVariable, full: bool
) -> Iterator[RenderableType]:
    """The computed Jacobian with labels, its blocks, the Kronecker check, the vec identity."""
    layout = derivation.layout
    jacobian = derivation.jacobians[variable]
    short = _short(variable, layout)
    entry = "w_{r,q}" if variable == "W" else "z_{p,r}"
    expected = "z_{i,r} δ_{j,q}" if variable == "W" else "δ_{i,p} w_{r,j}"
    yield ui.prose(
        f"Each a_{{i,j}} is differentiated with respect to each {entry} "
        f"(index notation predicts ∂a_{{i,j}}/∂{entry} = {expected}). "
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
        f"In blocks of {plain.dimensions(jacobian.block_shape)}, {_BLOCKS[(variable, layout)]}:"
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
    labels = [plain.pretty_entry("A", index) for index in vec_order(*shape)]
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
        form = derivation.contractions[variable]
        rows, cols = form.shape
        leads = upstream_first(variable)
        yield ui.blank()
        yield ui.prose(
            f"vec(∂L/∂{variable}) = {form.formula}, reshaped into {variable}'s shape "
            f"({plain.dimensions(form.shape)}):"
        )

        def entry_text(i: int, j: int) -> str:
            return plain.product_entry(form.entries[i][j], leads, full)

        def entry_label(i: int, j: int) -> str:
            return "∂L/∂" + plain.pretty_entry(variable, (i + 1, j + 1))

        cells = ui.matrix_cells(rows, cols, entry_text, full)
        matrix = ui.labelled(f"∂L/∂{variable} = ", ui.matrix_block(cells))
        if 2 + matrix.width <= options.max_width:
            yield ui.Figure(matrix, 2)
        else:
            yield ui.entry_listing(form, entry_label, leads, full)
        check = derivation.check("contraction", variable)
        independent = plain.product_name(variable)
        yield from _verdict(check, f"{check.identity} ({independent} multiplied out independently)")


def _notes_claim(derivation: JacobianDerivation) -> Text:
    """What the check of the common mistake ∂A/∂W = Zᵀ found."""
    claim = derivation.notes_claim
    if claim.holds:
        reason = "n = 1" if derivation.layout == "denominator" else "m = k = n = 1"
        return Text.assemble(
            ("! ", ui.STYLE_NOTE),
            f"{claim.identity} happens to agree entry by entry here, only because "
            f"{reason}; for n > 1 the Jacobian is larger than Zᵀ.",
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
    sizes, layout = derivation.sizes, derivation.layout
    m, k, n = sizes.m, sizes.k, sizes.n
    jacobian = derivation.jacobians["W"]
    yield ui.prose(
        "A common mistake, for a layer written Y = XW, is to claim ∂Y/∂W = Xᵀ; in these names, "
        "∂A/∂W = Zᵀ. ∂A/∂W is a 4th-order tensor, ∂a_{i,j}/∂w_{r,q} = z_{i,r} δ_{j,q}, "
        f"with mn·kn = {m * n * k * n} entries; as a matrix it is "
        f"{_short('W', layout)} = {jacobian.formula}, {plain.dimensions(jacobian.shape)}, while Zᵀ "
        f"is k×m = {k}×{m}."
    )
    yield ui.blank()
    yield _notes_claim(derivation)
    yield ui.blank()
    yield ui.prose(
        "Zᵀ appears only after contracting with G: ∂L/∂W = Zᵀ G, the gradient of a scalar "
        "with the shape of W (section 4), not the derivative of the matrix A. In "
        "denominator layout ∂vec(A)ᵀ/∂vec(W) = I_n ⊗ Zᵀ has n copies of Zᵀ on its block "
        "diagonal; it is Zᵀ itself only when n = 1."
    )


def _general() -> Iterator[RenderableType]:
    """Index notation for any m, k, n: the Jacobians and the contractions."""
    yield ui.prose(
        "For any m, k, n, in index notation (textbook reasoning, checked above at these "
        "sizes; δ is the Kronecker delta):"
    )
    yield ui.Equation("  ", "a_{i,j}", ["Σ_s z_{i,s} w_{s,j}"], join="=")
    yield ui.line("  ∂a_{i,j}/∂w_{r,q} = z_{i,r} δ_{j,q}, so J_W = I_n ⊗ Z")
    yield ui.line("  ∂a_{i,j}/∂z_{p,r} = δ_{i,p} w_{r,j}, so J_Z = Wᵀ ⊗ I_m")
    chains = [
        ["∂L/∂w_{r,q}", "Σ_{i,j} g_{i,j} z_{i,r} δ_{j,q}", "Σ_i z_{i,r} g_{i,q}", "(Zᵀ G)_{r,q}"],
        ["∂L/∂z_{p,r}", "Σ_{i,j} g_{i,j} δ_{i,p} w_{r,j}", "Σ_j g_{p,j} w_{r,j}", "(G Wᵀ)_{p,r}"],
    ]
    for lhs, *sides in chains:
        yield ui.Equation("  ", lhs, sides, join="=")
    yield ui.prose(
        "In denominator layout the Jacobians are the transposes, I_n ⊗ Zᵀ and W ⊗ I_m, "
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
    where = f"at {plain.sizes_text(derivation.sizes)}, {derivation.layout} layout"
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
    contractions = (
        ui.prose(
            "The chain rule sums over every entry of A: ∂L/∂x = Σ_{i,j} g_{i,j} ∂a_{i,j}/∂x. "
            "In vec form that is a product with the Jacobian, and the result, reshaped "
            "column by column, has the shape of the variable."
        ),
        Contraction(derivation, "W", full=full),
        Contraction(derivation, "Z", full=full),
    )
    sections = [
        ui.Section("Setup and conventions", tuple(_setup(derivation, full))),
        ui.Section("∂A/∂W", tuple(_matrix(derivation, "W", full))),
        ui.Section("∂A/∂Z", tuple(_matrix(derivation, "Z", full))),
        ui.Section("Contracting with G = ∂L/∂A", contractions),
        ui.Section("Why ∂Y/∂W = Xᵀ is wrong", tuple(_notes(derivation))),
        ui.Section("The general case", tuple(_general())),
        ui.Section("Summary", tuple(_summary(derivation))),
    ]
    return ui.Sections(sections)
