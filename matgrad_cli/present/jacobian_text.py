"""The Jacobian view (`matgrad jacobian --format text`) for the terminal, rendered with rich.

It follows the LaTeX document section by section, in the notation and layout primitives of
render/text.py (unicode matrices, g_{i,j} for ∂L/∂a_{i,j}). Jacobians are (mn)×(kn) matrices, so
the text view shows them with their row and column labels, elided with ⋯ ⋮ ⋱ beyond
DISPLAY_LIMIT rows or columns unless ``full`` is set; a matrix wider than the console is left to
the LaTeX document, with a note saying so. Every stated result is read off a JacobianCheck.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from ..core.jacobians import (
    Jacobian,
    JacobianCheck,
    JacobianDerivation,
    JacobianVariable,
    Matrix,
    VecEntry,
    jacobian_name,
    read_block,
    vec_order,
)
from ..core.model import LinearForm
from .text import (
    _beside,
    _Block,
    _elide_terms,
    _matrix_block,
    _matrix_cells,
    _shown,
    _symbol_matrix,
    _text_block,
    _Writer,
    pretty_expr,
    pretty_index,
    product_term,
    render_to_text,
    subscript,
)

_STYLE_GOOD = "bold green"
_STYLE_BAD = "bold red"
_STYLE_NOTE = "dim"

_SECTIONS = (
    "Setup and conventions",
    "∂A/∂W",
    "∂A/∂Z",
    "Contracting with G = ∂L/∂A",
    "Why ∂Y/∂W = Xᵀ is wrong",
    "The general case",
    "Summary",
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


def _shape(shape: tuple[int, int]) -> str:
    return f"{shape[0]}×{shape[1]}"


def _short(variable: JacobianVariable, layout: str) -> str:
    return f"J_{variable}" if layout == "numerator" else f"J_{variable}ᵀ"


def _labelled_matrix(
    entries: Matrix,
    rows: Sequence[VecEntry],
    columns: Sequence[VecEntry],
    full: bool,
) -> _Block:
    """A matrix in unicode brackets with its column labels above and row labels to the left."""
    shown_rows, shown_cols = _shown(len(rows), full), _shown(len(columns), full)
    cells = _matrix_cells(len(rows), len(columns), lambda i, j: pretty_expr(entries[i][j]), full)
    heads = [_label(columns[j]) if j is not None else "⋯" for j in shown_cols]
    lefts = [_label(rows[i]) if i is not None else "⋮" for i in shown_rows]
    widths = [
        max(cell_len(heads[c]), *(cell_len(row[c]) for row in cells)) for c in range(len(heads))
    ]
    left_width = max(cell_len(text) for text in lefts)

    def fit(text: str, width: int) -> str:
        return text + " " * (width - cell_len(text))

    gap = "  "
    lines = [" " * (left_width + 2) + gap.join(map(fit, heads, widths)).rstrip()]
    for number, (left, row) in enumerate(zip(lefts, cells, strict=True)):
        if len(cells) == 1:
            opening, closing = "[", "]"
        elif number == 0:
            opening, closing = "⎡", "⎤"
        elif number == len(cells) - 1:
            opening, closing = "⎣", "⎦"
        else:
            opening, closing = "⎢", "⎥"
        body = gap.join(map(fit, row, widths))
        lines.append(f"{fit(left, left_width)} {opening}{body}{closing}")
    return _Block(tuple(lines), 1 + (len(cells) - 1) // 2)


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


class _JacobianWriter(_Writer):
    """The primitives of the derivation's text view, with the sections of the Jacobian view."""

    def verdict(self, check: JacobianCheck, statement: str) -> None:
        """The outcome of one check: "verified" only when it holds."""
        if check.holds:
            count = check.entries_checked
            where = {1: "its one entry", 2: "both entries"}.get(count, f"all {count} entries")
            self.items.append(
                Text.assemble((f"✓ Verified at {where}: ", _STYLE_GOOD), f"{statement}.")
            )
            return
        if check.claimed_shape != check.shape:
            detail = (
                f"{statement} does not hold: the sides are {_shape(check.shape)} and "
                f"{_shape(check.claimed_shape)}."
            )
        else:
            detail = (
                f"{statement} does not hold: the sides differ at {check.mismatch_count} of "
                f"{check.entries_checked} entries."
            )
        self.items.append(Text.assemble(("✗ FAILS: ", _STYLE_BAD), detail))
        for mismatch in check.mismatches:
            row, col = mismatch.index
            self.line(
                f"  entry ({row},{col}): computed {pretty_expr(mismatch.elementwise)}, "
                f"claimed {pretty_expr(mismatch.claimed)}"
            )

    def shown_or_note(self, block: _Block, what: str, indent: int = 2) -> None:
        """The block when it fits the width, else a note that it does not."""
        if self.fits(block, indent):
            self.block(block, indent)
            return
        self.prose(
            f"({what} is too wide for {self.width} columns; --format latex prints it, or run "
            "without --full to elide it)",
            style=_STYLE_NOTE,
            indent=indent,
        )

    def jacobian_setup(self, derivation: JacobianDerivation) -> None:
        sizes, symbols, layout = derivation.sizes, derivation.symbols, derivation.layout
        m, k, n = sizes.m, sizes.k, sizes.n
        self.heading(_SECTIONS[0])
        self.prose(
            f"Sizes m = {m}, k = {k}, n = {n}: the input Z is m×k = {m}×{k}, the weights W are "
            f"k×n = {k}×{n}, and A = ZW is m×n = {m}×{n}. A bias would add a constant to each "
            "a_{i,j} and change neither Jacobian, so it is left out."
        )
        self.blank()
        self.blocks_in_rows(
            [
                _beside(_text_block("Z = "), _symbol_matrix(symbols.Z, self.full)),
                _beside(_text_block("W = "), _symbol_matrix(symbols.W, self.full)),
            ]
        )
        self.blank()
        self.prose(
            f"∂A/∂W has an entry ∂a_{{i,j}}/∂w_{{r,q}} for every pair of entries: four indices, "
            f"mn·kn = {m * n * k * n} numbers. vec stacks the columns of a matrix into one "
            "column (column-major), so a_{i,j} is entry (j−1)m + i of vec(A):"
        )
        for name, letter, shape in (("A", "a", (m, n)), ("W", "w", (k, n)), ("Z", "z", (m, k))):
            self.vec_row(name, [(letter, i, j) for i, j in vec_order(*shape)])
        self.blank()
        jacobian_w, jacobian_z = derivation.jacobians["W"], derivation.jacobians["Z"]
        if layout == "numerator":
            self.prose(
                "Numerator layout (the Jacobian convention): J_W = ∂vec(A)/∂vec(W)ᵀ has a row "
                "for each entry of vec(A) and a column for each entry of vec(W), so it is "
                f"mn×kn = {_shape(jacobian_w.shape)}; J_Z = ∂vec(A)/∂vec(Z)ᵀ is "
                f"mn×mk = {_shape(jacobian_z.shape)}. --layout denominator prints the "
                "transposes."
            )
        else:
            self.prose(
                "Denominator layout: ∂vec(A)ᵀ/∂vec(W) = J_Wᵀ has a row for each entry of "
                "vec(W) and a column for each entry of vec(A), so it is "
                f"kn×mn = {_shape(jacobian_w.shape)}, the transpose of the numerator-layout "
                f"J_W = ∂vec(A)/∂vec(W)ᵀ; ∂vec(A)ᵀ/∂vec(Z) = J_Zᵀ is "
                f"mk×mn = {_shape(jacobian_z.shape)}. --layout numerator prints J_W and J_Z."
            )
        self.blank()
        self.prose(
            "Gradients stay in denominator layout: ∂L/∂X has the shape of X. Indices are "
            "1-based. g_{i,j} stands for ∂L/∂a_{i,j}, the entries of G = ∂L/∂A."
        )

    def vec_row(self, name: str, labels: Sequence[VecEntry]) -> None:
        """vec(X) = [x₁,₁  x₂,₁  …]ᵀ, the entries in column-major order."""
        cells = _matrix_cells(1, len(labels), lambda i, j: _label(labels[j]), self.full)
        vector = _beside(_text_block(f"vec({name}) = "), _matrix_block(cells), _text_block("ᵀ"))
        self.shown_or_note(vector, f"vec({name})")

    def jacobian_section(self, derivation: JacobianDerivation, variable: JacobianVariable) -> None:
        """The computed Jacobian with labels, its blocks, the Kronecker check, the vec identity."""
        layout = derivation.layout
        jacobian = derivation.jacobians[variable]
        entry = "w_{r,q}" if variable == "W" else "z_{p,r}"
        expected = "z_{i,r} δ_{j,q}" if variable == "W" else "δ_{i,p} w_{r,j}"
        self.heading(_SECTIONS[1] if variable == "W" else _SECTIONS[2])
        self.prose(
            f"{derivation.engine} differentiated every a_{{i,j}} with respect to every {entry} "
            f"(index notation predicts ∂a_{{i,j}}/∂{entry} = {expected}). "
            f"{_short(variable, layout)} = {jacobian_name(variable, layout)}, "
            f"{_shape(jacobian.shape)}:"
        )
        self.blank()
        labelled = _labelled_matrix(jacobian.entries, jacobian.rows, jacobian.columns, self.full)
        self.shown_or_note(labelled, _short(variable, layout))
        self.blank()
        down, across = jacobian.block_grid
        blocks = _matrix_cells(
            down, across, lambda i, j: _block_text(jacobian, i, j, derivation), self.full
        )
        self.prose(f"In blocks of {_shape(jacobian.block_shape)}, {_BLOCKS[(variable, layout)]}:")
        grid = _beside(_text_block(f"{_short(variable, layout)} = "), _matrix_block(blocks))
        self.shown_or_note(grid, "the block matrix")
        self.blank()
        check = derivation.check("jacobian", variable)
        self.verdict(
            check, f"{check.identity} (the Kronecker product, built block by block independently)"
        )
        self.blank()
        product = derivation.vec_products[variable]
        vec_check = derivation.check("vec", variable)
        self.prose(
            f"vec(A) = {product.formula}: the Kronecker product times vec({variable}), "
            "multiplied out, against the entries of A from the forward pass:"
        )
        labels = [("a", i, j) for i, j in vec_order(derivation.sizes.m, derivation.sizes.n)]
        lhs_width = cell_len(_label(labels[-1]))

        def show(number: int) -> None:
            terms = [pretty_expr(term) for term in product.terms[number]] or ["0"]
            self.equation(
                "  ", _label(labels[number]), _elide_terms(terms, self.full), lhs_width=lhs_width
            )

        self.listing(len(labels), show, lambda more: f"{more} more entries of the same form")
        self.verdict(vec_check, vec_check.identity)

    def contraction_section(self, derivation: JacobianDerivation) -> None:
        self.heading(_SECTIONS[3])
        self.prose(
            "The chain rule sums over every entry of A: ∂L/∂x = Σ_{i,j} g_{i,j} ∂a_{i,j}/∂x. "
            "In vec form that is a product with the Jacobian, and the result, reshaped column "
            "by column, has the shape of the variable."
        )
        self.contraction(derivation, "W")
        self.contraction(derivation, "Z")

    def contraction(self, derivation: JacobianDerivation, variable: JacobianVariable) -> None:
        """vec(∂L/∂X) from the Jacobian, reshaped into the shape of X, and its check."""
        layout = derivation.layout
        form = derivation.contractions[variable]
        rows, cols = form.shape
        upstream_first = variable == "Z"
        factor = f"J_{variable}ᵀ" if layout == "numerator" else jacobian_name(variable, layout)
        self.blank()
        self.prose(
            f"vec(∂L/∂{variable}) = {factor} vec(G), reshaped into {variable}'s shape "
            f"({_shape(form.shape)}):"
        )

        def entry_text(i: int, j: int) -> str:
            return self.linear_form(form.entries[i][j], upstream_first)

        matrix = _beside(
            _text_block(f"∂L/∂{variable} = "),
            _matrix_block(_matrix_cells(rows, cols, entry_text, self.full)),
        )
        if self.fits(matrix, 2):
            self.block(matrix, 2)
        else:
            letter = variable.lower()
            flat = [(i, j) for i in range(rows) for j in range(cols)]
            width = cell_len(f"∂L/∂{letter}" + pretty_index((rows, cols)))

            def show(number: int) -> None:
                i, j = flat[number]
                terms = [product_term(term, upstream_first) for term in form.entries[i][j]]
                self.equation(
                    "  ",
                    f"∂L/∂{letter}" + pretty_index((i + 1, j + 1)),
                    _elide_terms(terms or ["0"], self.full),
                    lhs_width=width,
                )

            self.listing(len(flat), show, lambda more: f"{more} more entries of the same form")
        check = derivation.check("contraction", variable)
        independent = "Zᵀ G" if variable == "W" else "G Wᵀ"
        self.verdict(check, f"{check.identity} ({independent} multiplied out independently)")

    def linear_form(self, form: LinearForm, upstream_first: bool) -> str:
        terms = [product_term(term, upstream_first) for term in form]
        return " + ".join(_elide_terms(terms, self.full)) or "0"

    def notes_section(self, derivation: JacobianDerivation) -> None:
        sizes, layout = derivation.sizes, derivation.layout
        m, k, n = sizes.m, sizes.k, sizes.n
        claim = derivation.notes_claim
        jacobian = derivation.jacobians["W"]
        self.heading(_SECTIONS[4])
        self.prose(
            "The original notes write Y = XW and claim ∂Y/∂W = Xᵀ; in these names, "
            "∂A/∂W = Zᵀ. ∂A/∂W is a 4th-order tensor, ∂a_{i,j}/∂w_{r,q} = z_{i,r} δ_{j,q}, "
            f"with mn·kn = {m * n * k * n} entries; as a matrix it is "
            f"{_short('W', layout)} = {jacobian.formula}, {_shape(jacobian.shape)}, while Zᵀ is "
            f"k×m = {k}×{m}."
        )
        self.blank()
        if claim.holds:
            reason = "n = 1" if layout == "denominator" else "m = k = n = 1"
            self.items.append(
                Text.assemble(
                    ("! ", _STYLE_NOTE),
                    f"{claim.identity} happens to agree entry by entry here, only because "
                    f"{reason}; for n > 1 the Jacobian is larger than Zᵀ.",
                )
            )
        elif claim.claimed_shape != claim.shape:
            self.items.append(
                Text.assemble(
                    ("✗ Rejected: ", _STYLE_BAD),
                    f"{claim.identity}: the shapes differ ({_shape(claim.shape)} against "
                    f"{_shape(claim.claimed_shape)}).",
                )
            )
        else:
            self.items.append(
                Text.assemble(
                    ("✗ Rejected: ", _STYLE_BAD),
                    f"{claim.identity}: {claim.mismatch_count} of {claim.entries_checked} "
                    "entries differ.",
                )
            )
        self.blank()
        self.prose(
            "Zᵀ appears only after contracting with G: ∂L/∂W = Zᵀ G, the gradient of a scalar "
            "with the shape of W (section 4), not the derivative of the matrix A. In "
            "denominator layout ∂vec(A)ᵀ/∂vec(W) = I_n ⊗ Zᵀ has n copies of Zᵀ on its block "
            "diagonal; it is Zᵀ itself only when n = 1."
        )

    def general(self) -> None:
        self.heading(_SECTIONS[5])
        self.prose(
            "For any m, k, n, in index notation (textbook reasoning, checked above at these "
            "sizes; δ is the Kronecker delta):"
        )
        chains = [
            ["a_{i,j}", "Σ_s z_{i,s} w_{s,j}"],
            ["∂a_{i,j}/∂w_{r,q}", "z_{i,r} δ_{j,q}", "so J_W = I_n ⊗ Z"],
            ["∂a_{i,j}/∂z_{p,r}", "δ_{i,p} w_{r,j}", "so J_Z = Wᵀ ⊗ I_m"],
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
            if sides[-1].startswith("so "):
                self.line(f"  {lhs} = {sides[0]}, {sides[1]}")
            else:
                self.equation("  ", lhs, sides, join="=")
        self.prose(
            "In denominator layout the Jacobians are the transposes, I_n ⊗ Zᵀ and W ⊗ I_m, "
            "since (P ⊗ Q)ᵀ = Pᵀ ⊗ Qᵀ."
        )

    def jacobian_summary(self, derivation: JacobianDerivation) -> None:
        self.heading(_SECTIONS[6])
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        table.add_column("identity")
        table.add_column("shape", no_wrap=True)
        table.add_column("result")
        for check in derivation.checks:
            table.add_row(
                check.identity,
                _shape(check.shape),
                Text(_result(check), style=_STYLE_GOOD if check.holds else _STYLE_BAD),
            )
        self.items.append(table)
        failed = [check for check in derivation.checks if not check.holds]
        sizes = derivation.sizes
        where = f"at m = {sizes.m}, k = {sizes.k}, n = {sizes.n}, {derivation.layout} layout"
        if failed:
            self.items.append(
                Text.assemble(
                    ("✗ ", _STYLE_BAD),
                    f"{len(failed)} of the {len(derivation.checks)} checks fail {where}.",
                )
            )
        else:
            self.items.append(
                Text.assemble(
                    ("✓ ", _STYLE_GOOD),
                    f"All {len(derivation.checks)} checks hold at every entry, {where}.",
                )
            )
        claim = derivation.notes_claim
        self.prose(
            f"The notes' claim {claim.identity} "
            + ("agrees here only at degenerate sizes." if claim.holds else "is rejected."),
            style=_STYLE_NOTE,
        )


def _result(check: JacobianCheck) -> str:
    if check.holds:
        return f"✓ holds, {check.entries_checked}/{check.entries_checked} entries"
    if check.claimed_shape != check.shape:
        return f"✗ fails: shape {_shape(check.claimed_shape)}, not {_shape(check.shape)}"
    return f"✗ fails at {check.mismatch_count}/{check.entries_checked} entries"


class JacobianView:
    """The Jacobian view as a rich renderable."""

    def __init__(self, derivation: JacobianDerivation, *, full: bool = False) -> None:
        self.derivation = derivation
        self.full = full

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        derivation = self.derivation
        writer = _JacobianWriter(options.max_width, self.full)
        writer.jacobian_setup(derivation)
        writer.jacobian_section(derivation, "W")
        writer.jacobian_section(derivation, "Z")
        writer.contraction_section(derivation)
        writer.notes_section(derivation)
        writer.general()
        writer.jacobian_summary(derivation)
        yield from writer.items


def render_jacobian_text(
    derivation: JacobianDerivation, *, width: int = 80, full: bool = False, color: bool = False
) -> str:
    """The text view as a string, laid out for ``width`` columns (ANSI colours if ``color``)."""
    return render_to_text(JacobianView(derivation, full=full), width=width, color=color)
