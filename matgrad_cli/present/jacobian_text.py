"""The Jacobian view (`matgrad jacobian --format text`) for the terminal, rendered with rich.

It follows the LaTeX document section by section, one renderable per section, built from the
terminal pieces of present/terminal.py and the notation of present/notation.py (unicode
matrices, g_{i,j} for ∂L/∂a_{i,j}). Jacobians are (mn)×(kn) matrices, so the view shows them with
their row and column labels, elided with ⋯ ⋮ ⋱ beyond ``MATRIX_SIDE`` rows or columns unless
``full`` is set; a matrix wider than the console is left to the LaTeX document, with a note
saying so. Every stated result is read off a JacobianCheck.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from typing import ClassVar

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
)
from ..core.kronecker import Matrix, vec_order
from .notation import (
    dimensions,
    elide_terms,
    pretty_expr,
    pretty_index,
    product_entry,
    product_term,
    sizes_text,
    subscript,
)
from .terminal import (
    STYLE_BAD,
    STYLE_NOTE,
    Block,
    BlockRows,
    Equation,
    Figure,
    Listing,
    Sections,
    Titled,
    beside,
    blank,
    bracketed,
    fails,
    labelled,
    line,
    marked,
    matrix_block,
    matrix_cells,
    more_entries,
    outcome,
    prose,
    render_to_text,
    results_table,
    shown_indices,
    summary_result,
    symbol_matrix,
    text_block,
    verified,
)

#: What block (s, t) of each Jacobian holds.
_BLOCKS = {
    ("W", "numerator"): "block (j,q) for column j of A and column q of W",
    ("W", "denominator"): "block (q,j) for column q of W and column j of A",
    ("Z", "numerator"): "block (j,r) for column j of A and column r of Z",
    ("Z", "denominator"): "block (r,j) for column r of Z and column j of A",
}


def _label(entry: VecEntry) -> str:
    letter, i, j = entry
    return letter + pretty_index((i, j))


def _short(variable: JacobianVariable, layout: str) -> str:
    return f"J_{variable}" if layout == "numerator" else f"J_{variable}ᵀ"


def _labelled_matrix(
    entries: Matrix, rows: Sequence[VecEntry], columns: Sequence[VecEntry], full: bool
) -> Block:
    """A matrix in unicode brackets with its column labels above and row labels to the left."""
    shown_rows, shown_cols = shown_indices(len(rows), full), shown_indices(len(columns), full)
    cells = matrix_cells(len(rows), len(columns), lambda i, j: pretty_expr(entries[i][j]), full)
    heads = [_label(columns[j]) if j is not None else "⋯" for j in shown_cols]
    lefts = [_label(rows[i]) if i is not None else "⋮" for i in shown_rows]
    widths = [
        max(cell_len(heads[c]), *(cell_len(row[c]) for row in cells)) for c in range(len(heads))
    ]
    left_width = max(cell_len(text) for text in lefts)

    def fit(text: str, width: int) -> str:
        return text + " " * (width - cell_len(text))

    gap = "  "
    bodies = bracketed([gap.join(map(fit, row, widths)) for row in cells])
    lines = [" " * (left_width + 2) + gap.join(map(fit, heads, widths)).rstrip()]
    lines += [f"{fit(left, left_width)} {body}" for left, body in zip(lefts, bodies, strict=True)]
    return Block(tuple(lines), 1 + (len(cells) - 1) // 2)


def _block_text(jacobian: Jacobian, down: int, across: int, derivation: JacobianDerivation) -> str:
    """One block of the block matrix as the computed entries read: 0, Z, Zᵀ, c Iₘ or entries."""
    form = read_block(jacobian, down, across, derivation.symbols)
    if form.kind == "zero":
        return "0"
    if form.kind == "matrix":
        return form.name
    if form.kind == "scaled identity":
        return f"{pretty_expr(form.scale)} I{subscript(jacobian.block_shape[0])}"
    block = jacobian.block(down, across)
    return "[" + "; ".join(" ".join(pretty_expr(value) for value in row) for row in block) + "]"


@dataclass(frozen=True)
class JacobianVerdict:
    """The outcome of one check: "verified" only when it holds, else how it fails and where."""

    check: JacobianCheck
    statement: str

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        check, statement = self.check, self.statement
        if check.holds:
            yield verified(check.entries_checked, statement)
            return
        if check.claimed_shape != check.shape:
            detail = (
                f"{statement} does not hold: the sides are {dimensions(check.shape)} and "
                f"{dimensions(check.claimed_shape)}."
            )
        else:
            detail = (
                f"{statement} does not hold: the sides differ at {check.mismatch_count} of "
                f"{check.entries_checked} entries."
            )
        yield fails(detail)
        for mismatch in check.mismatches:
            row, col = mismatch.index
            yield line(
                f"  entry ({row},{col}): computed {pretty_expr(mismatch.elementwise)}, "
                f"claimed {pretty_expr(mismatch.claimed)}"
            )


@dataclass(frozen=True)
class WideFigure:
    """A block when it fits the width, else a note that ``what`` does not."""

    block: Block
    what: str
    indent: int = 2

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if self.indent + self.block.width <= width:
            yield Figure(self.block, self.indent)
            return
        yield prose(
            f"({self.what} is too wide for {width} columns; --format latex prints it, or run "
            "without --full to elide it)",
            style=STYLE_NOTE,
            indent=self.indent,
        )


@dataclass(frozen=True)
class JacobianSetupView:
    """Sizes, Z and W, vec, and the layout of the Jacobians."""

    derivation: JacobianDerivation
    _: KW_ONLY
    full: bool
    title: ClassVar[str] = "Setup and conventions"

    def _vec(self, name: str, letter: str, shape: tuple[int, int]) -> WideFigure:
        """vec(X) = [x₁,₁  x₂,₁  …]ᵀ, the entries in column-major order."""
        labels = [(letter, i, j) for i, j in vec_order(*shape)]
        cells = matrix_cells(1, len(labels), lambda i, j: _label(labels[j]), self.full)
        vector = beside(text_block(f"vec({name}) = "), matrix_block(cells), text_block("ᵀ"))
        return WideFigure(vector, f"vec({name})")

    def _layout(self) -> RenderableType:
        derivation = self.derivation
        shape_w = dimensions(derivation.jacobians["W"].shape)
        shape_z = dimensions(derivation.jacobians["Z"].shape)
        if derivation.layout == "numerator":
            return prose(
                "Numerator layout (the Jacobian convention): J_W = ∂vec(A)/∂vec(W)ᵀ has a row "
                "for each entry of vec(A) and a column for each entry of vec(W), so it is "
                f"mn×kn = {shape_w}; J_Z = ∂vec(A)/∂vec(Z)ᵀ is mn×mk = {shape_z}. --layout "
                "denominator prints the transposes."
            )
        return prose(
            "Denominator layout: ∂vec(A)ᵀ/∂vec(W) = J_Wᵀ has a row for each entry of "
            "vec(W) and a column for each entry of vec(A), so it is "
            f"kn×mn = {shape_w}, the transpose of the numerator-layout "
            f"J_W = ∂vec(A)/∂vec(W)ᵀ; ∂vec(A)ᵀ/∂vec(Z) = J_Zᵀ is "
            f"mk×mn = {shape_z}. --layout numerator prints J_W and J_Z."
        )

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        sizes, symbols = self.derivation.sizes, self.derivation.symbols
        m, k, n = sizes.m, sizes.k, sizes.n
        yield prose(
            f"Sizes m = {m}, k = {k}, n = {n}: the input Z is m×k = {m}×{k}, the weights W are "
            f"k×n = {k}×{n}, and A = ZW is m×n = {m}×{n}. A bias would add a constant to each "
            "a_{i,j} and change neither Jacobian, so it is left out."
        )
        yield blank()
        yield BlockRows(
            [
                labelled("Z = ", symbol_matrix(symbols.Z, self.full)),
                labelled("W = ", symbol_matrix(symbols.W, self.full)),
            ]
        )
        yield blank()
        yield prose(
            f"∂A/∂W has an entry ∂a_{{i,j}}/∂w_{{r,q}} for every pair of entries: four indices, "
            f"mn·kn = {m * n * k * n} numbers. vec stacks the columns of a matrix into one "
            "column (column-major), so a_{i,j} is entry (j−1)m + i of vec(A):"
        )
        for name, letter, shape in (("A", "a", (m, n)), ("W", "w", (k, n)), ("Z", "z", (m, k))):
            yield self._vec(name, letter, shape)
        yield blank()
        yield self._layout()
        yield blank()
        yield prose(
            "Gradients stay in denominator layout: ∂L/∂X has the shape of X. Indices are "
            "1-based. g_{i,j} stands for ∂L/∂a_{i,j}, the entries of G = ∂L/∂A."
        )


@dataclass(frozen=True)
class JacobianMatrixView:
    """The computed Jacobian with labels, its blocks, the Kronecker check, the vec identity."""

    derivation: JacobianDerivation
    variable: JacobianVariable
    _: KW_ONLY
    full: bool

    @property
    def title(self) -> str:
        """``∂A/∂W``."""
        return f"∂A/∂{self.variable}"

    def _blocks(self) -> list[RenderableType]:
        """The Jacobian in blocks, each read as 0, a named matrix or a multiple of I."""
        derivation, variable, full = self.derivation, self.variable, self.full
        jacobian = derivation.jacobians[variable]
        short = _short(variable, derivation.layout)
        down, across = jacobian.block_grid
        blocks = matrix_cells(
            down, across, lambda i, j: _block_text(jacobian, i, j, derivation), full
        )
        grid = labelled(f"{short} = ", matrix_block(blocks))
        return [
            prose(
                f"In blocks of {dimensions(jacobian.block_shape)}, "
                f"{_BLOCKS[(variable, derivation.layout)]}:"
            ),
            WideFigure(grid, "the block matrix"),
        ]

    def _vec_identity(self) -> list[RenderableType]:
        """vec(A) = (Kronecker product)·vec(X) multiplied out, entry by entry, and its check."""
        derivation, variable = self.derivation, self.variable
        product = derivation.vec_products[variable]
        vec_check = derivation.check("vec", variable)
        labels = [("a", i, j) for i, j in vec_order(derivation.sizes.m, derivation.sizes.n)]
        lhs_width = cell_len(_label(labels[-1]))

        def show(number: int) -> list[RenderableType]:
            terms = [pretty_expr(term) for term in product.terms[number]] or ["0"]
            terms = elide_terms(terms, self.full)
            return [Equation("  ", _label(labels[number]), terms, lhs_width=lhs_width)]

        return [
            prose(
                f"vec(A) = {product.formula}: the Kronecker product times vec({variable}), "
                "multiplied out, against the entries of A from the forward pass:"
            ),
            Listing(len(labels), show, more_entries, full=self.full),
            JacobianVerdict(vec_check, vec_check.identity),
        ]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        derivation, variable = self.derivation, self.variable
        layout = derivation.layout
        jacobian = derivation.jacobians[variable]
        entry = "w_{r,q}" if variable == "W" else "z_{p,r}"
        expected = "z_{i,r} δ_{j,q}" if variable == "W" else "δ_{i,p} w_{r,j}"
        yield prose(
            f"{derivation.engine} differentiated every a_{{i,j}} with respect to every {entry} "
            f"(index notation predicts ∂a_{{i,j}}/∂{entry} = {expected}). "
            f"{_short(variable, layout)} = {jacobian_name(variable, layout)}, "
            f"{dimensions(jacobian.shape)}:"
        )
        yield blank()
        labelled_matrix = _labelled_matrix(
            jacobian.entries, jacobian.rows, jacobian.columns, self.full
        )
        yield WideFigure(labelled_matrix, _short(variable, layout))
        yield blank()
        yield from self._blocks()
        yield blank()
        check = derivation.check("jacobian", variable)
        yield JacobianVerdict(
            check, f"{check.identity} (the Kronecker product, built block by block independently)"
        )
        yield blank()
        yield from self._vec_identity()


@dataclass(frozen=True)
class Contraction:
    """vec(∂L/∂X) from the Jacobian, reshaped into the shape of X, and its check."""

    derivation: JacobianDerivation
    variable: JacobianVariable
    _: KW_ONLY
    full: bool

    def _entries(self) -> Listing:
        """∂L/∂x₁,₂ = …, one line per entry, for a matrix too wide to show."""
        variable, full = self.variable, self.full
        form = self.derivation.contractions[variable]
        rows, cols = form.shape
        upstream_first = variable == "Z"
        letter = variable.lower()
        flat = [(i, j) for i in range(rows) for j in range(cols)]
        width = cell_len(f"∂L/∂{letter}" + pretty_index((rows, cols)))

        def show(number: int) -> list[RenderableType]:
            i, j = flat[number]
            terms = [product_term(term, upstream_first) for term in form.entries[i][j]]
            lhs = f"∂L/∂{letter}" + pretty_index((i + 1, j + 1))
            return [Equation("  ", lhs, elide_terms(terms or ["0"], full), lhs_width=width)]

        return Listing(len(flat), show, more_entries, full=full)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        derivation, variable, full = self.derivation, self.variable, self.full
        layout = derivation.layout
        form = derivation.contractions[variable]
        rows, cols = form.shape
        factor = f"J_{variable}ᵀ" if layout == "numerator" else jacobian_name(variable, layout)
        yield blank()
        yield prose(
            f"vec(∂L/∂{variable}) = {factor} vec(G), reshaped into {variable}'s shape "
            f"({dimensions(form.shape)}):"
        )

        def entry_text(i: int, j: int) -> str:
            return product_entry(form.entries[i][j], variable == "Z", full)

        matrix = labelled(
            f"∂L/∂{variable} = ", matrix_block(matrix_cells(rows, cols, entry_text, full))
        )
        yield Figure(matrix, 2) if 2 + matrix.width <= options.max_width else self._entries()
        check = derivation.check("contraction", variable)
        independent = "Zᵀ G" if variable == "W" else "G Wᵀ"
        yield JacobianVerdict(
            check, f"{check.identity} ({independent} multiplied out independently)"
        )


@dataclass(frozen=True)
class ContractionView:
    """The chain rule as a product with the Jacobian, for W and then Z."""

    derivation: JacobianDerivation
    _: KW_ONLY
    full: bool
    title: ClassVar[str] = "Contracting with G = ∂L/∂A"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield prose(
            "The chain rule sums over every entry of A: ∂L/∂x = Σ_{i,j} g_{i,j} ∂a_{i,j}/∂x. "
            "In vec form that is a product with the Jacobian, and the result, reshaped column "
            "by column, has the shape of the variable."
        )
        yield Contraction(self.derivation, "W", full=self.full)
        yield Contraction(self.derivation, "Z", full=self.full)


@dataclass(frozen=True)
class NotesView:
    """Why the notes' ∂Y/∂W = Xᵀ is wrong, and what the check of it found."""

    derivation: JacobianDerivation
    title: ClassVar[str] = "Why ∂Y/∂W = Xᵀ is wrong"

    def _claim(self) -> Text:
        claim = self.derivation.notes_claim
        if claim.holds:
            reason = "n = 1" if self.derivation.layout == "denominator" else "m = k = n = 1"
            return Text.assemble(
                ("! ", STYLE_NOTE),
                f"{claim.identity} happens to agree entry by entry here, only because "
                f"{reason}; for n > 1 the Jacobian is larger than Zᵀ.",
            )
        if claim.claimed_shape != claim.shape:
            why = (
                f"the shapes differ ({dimensions(claim.shape)} against "
                f"{dimensions(claim.claimed_shape)})."
            )
        else:
            why = f"{claim.mismatch_count} of {claim.entries_checked} entries differ."
        return Text.assemble(("✗ Rejected: ", STYLE_BAD), f"{claim.identity}: {why}")

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        sizes, layout = self.derivation.sizes, self.derivation.layout
        m, k, n = sizes.m, sizes.k, sizes.n
        jacobian = self.derivation.jacobians["W"]
        yield prose(
            "The original notes write Y = XW and claim ∂Y/∂W = Xᵀ; in these names, "
            "∂A/∂W = Zᵀ. ∂A/∂W is a 4th-order tensor, ∂a_{i,j}/∂w_{r,q} = z_{i,r} δ_{j,q}, "
            f"with mn·kn = {m * n * k * n} entries; as a matrix it is "
            f"{_short('W', layout)} = {jacobian.formula}, {dimensions(jacobian.shape)}, while Zᵀ "
            f"is k×m = {k}×{m}."
        )
        yield blank()
        yield self._claim()
        yield blank()
        yield prose(
            "Zᵀ appears only after contracting with G: ∂L/∂W = Zᵀ G, the gradient of a scalar "
            "with the shape of W (section 4), not the derivative of the matrix A. In "
            "denominator layout ∂vec(A)ᵀ/∂vec(W) = I_n ⊗ Zᵀ has n copies of Zᵀ on its block "
            "diagonal; it is Zᵀ itself only when n = 1."
        )


class JacobianGeneralView:
    """Index notation for any m, k, n: the Jacobians and the contractions."""

    title = "The general case"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield prose(
            "For any m, k, n, in index notation (textbook reasoning, checked above at these "
            "sizes; δ is the Kronecker delta):"
        )
        yield Equation("  ", "a_{i,j}", ["Σ_s z_{i,s} w_{s,j}"], join="=")
        yield line("  ∂a_{i,j}/∂w_{r,q} = z_{i,r} δ_{j,q}, so J_W = I_n ⊗ Z")
        yield line("  ∂a_{i,j}/∂z_{p,r} = δ_{i,p} w_{r,j}, so J_Z = Wᵀ ⊗ I_m")
        chains = [
            [
                "∂L/∂w_{r,q}",
                "Σ_{i,j} g_{i,j} z_{i,r} δ_{j,q}",
                "Σ_i z_{i,r} g_{i,q}",
                "(Zᵀ G)_{r,q}",
            ],
            [
                "∂L/∂z_{p,r}",
                "Σ_{i,j} g_{i,j} δ_{i,p} w_{r,j}",
                "Σ_j g_{p,j} w_{r,j}",
                "(G Wᵀ)_{p,r}",
            ],
        ]
        for lhs, *sides in chains:
            yield Equation("  ", lhs, sides, join="=")
        yield prose(
            "In denominator layout the Jacobians are the transposes, I_n ⊗ Zᵀ and W ⊗ I_m, "
            "since (P ⊗ Q)ᵀ = Pᵀ ⊗ Qᵀ."
        )


@dataclass(frozen=True)
class JacobianSummaryView:
    """Every check in a table, the verdict, and what became of the notes' claim."""

    derivation: JacobianDerivation
    title: ClassVar[str] = "Summary"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        derivation = self.derivation
        checks = derivation.checks
        rows = [
            (
                check.identity,
                dimensions(check.shape),
                outcome(summary_result(check, str(check.mismatch_count)), check.holds),
            )
            for check in checks
        ]
        yield results_table(("identity", "shape", "result"), rows, no_wrap=("shape",))
        failed = [check for check in checks if not check.holds]
        sizes = derivation.sizes
        where = f"at {sizes_text(sizes)}, {derivation.layout} layout"
        if failed:
            yield marked(False, f"{len(failed)} of the {len(checks)} checks fail {where}.")
        else:
            yield marked(True, f"All {len(checks)} checks hold at every entry, {where}.")
        claim = derivation.notes_claim
        yield prose(
            f"The notes' claim {claim.identity} "
            + ("agrees here only at degenerate sizes." if claim.holds else "is rejected."),
            style=STYLE_NOTE,
        )


@dataclass(frozen=True)
class JacobianView:
    """The Jacobian view as a rich renderable, in the sections of the LaTeX document."""

    derivation: JacobianDerivation
    _: KW_ONLY
    full: bool = False

    def sections(self) -> list[Titled]:
        """Setup, ∂A/∂W, ∂A/∂Z, the contractions, the notes' claim, the general case, summary."""
        derivation, full = self.derivation, self.full
        return [
            JacobianSetupView(derivation, full=full),
            JacobianMatrixView(derivation, "W", full=full),
            JacobianMatrixView(derivation, "Z", full=full),
            ContractionView(derivation, full=full),
            NotesView(derivation),
            JacobianGeneralView(),
            JacobianSummaryView(derivation),
        ]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Sections(self.sections())


def render_jacobian_text(
    derivation: JacobianDerivation, *, width: int = 80, full: bool = False, color: bool = False
) -> str:
    """The text view as a string, laid out for ``width`` columns (ANSI colours if ``color``)."""
    return render_to_text(JacobianView(derivation, full=full), width=width, color=color)
