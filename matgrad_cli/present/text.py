"""The human view of a derivation for the terminal, rendered with rich (SPEC sections 2 and 3).

The document follows SPEC section 2: setup, forward pass, ∂L/∂Z, ∂L/∂W, the bias, the general case
in index notation and a summary table. Matrices are drawn with unicode brackets and elided with
⋯ ⋮ ⋱ above ``DISPLAY_LIMIT`` rows or columns unless ``full`` is set; everything is laid out to fit
the console width (80 columns at the default sizes). Only this module and the CLI import rich.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from ..core.model import (
    DISPLAY_LIMIT,
    ChainRule,
    Check,
    Derivation,
    Gradient,
    LayerDerivation,
    MatrixForm,
    OutputEntry,
    UpstreamTerm,
    Variable,
)
from ..core.verify import MISMATCHES_KEPT

#: Above this many entries, a list of per-entry sums shows only the first few and the last.
LIST_LIMIT = 8
#: Above this many entries, the forward pass shows only the first few a_{i,j} and the last.
FORWARD_LIMIT = 16
#: Above this many terms, a sum shows its first two terms, ⋯ and its last term.
TERM_LIMIT = 6

_SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUPERSCRIPT_DIGITS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SYMBOL_NAME = re.compile(r"(?<![A-Za-z0-9_])(dA|z|w|b|y|a)((?:_[0-9]+)+)(?![A-Za-z0-9_])")
#: Display letters of the engine's symbol prefixes; dA_i_j is ∂L/∂a_{i,j}, written g.
_LETTERS = {"z": "z", "w": "w", "b": "b", "dA": "g", "y": "y", "a": "a"}
#: The order of factors in a displayed product: z g w b reads as Z·W, G·Wᵀ and Zᵀ·G do.
_FACTOR_RANK = {"z": 0, "dA": 1, "w": 2, "b": 3, "a": 4, "y": 5}

_STYLE_HEADING = "bold cyan"
_STYLE_GOOD = "bold green"
_STYLE_BAD = "bold red"
_STYLE_NOTE = "dim"

#: What each gradient is called in prose, and the letters of its entry's indices.
_ENTRY_NAMES: dict[Variable, tuple[str, str]] = {
    "Z": ("z", "i,r"),
    "W": ("w", "r,j"),
    "b": ("b", "j"),
}


# ---------------------------------------------------------------------------------------------
# Symbols and expressions


def subscript(index: int | str) -> str:
    """``11`` → ``₁₁``."""
    return str(index).translate(_SUBSCRIPT_DIGITS)


def pretty_index(index: Sequence[int]) -> str:
    """``(1, 11)`` → ``₁,₁₁``: subscript digits and a plain comma, so z₁,₁₁ is not z₁₁,₁."""
    return ",".join(subscript(i) for i in index)


def pretty_symbol(name: str) -> str:
    """An engine symbol name as a person writes it: ``z_1_11`` → ``z₁,₁₁``, ``dA_1_2`` → ``g₁,₂``.

    Names that are not matgrad's entry symbols come back unchanged.
    """
    match = _SYMBOL_NAME.fullmatch(name)
    if match is None:
        return name
    indices = match.group(2).split("_")[1:]
    return _LETTERS[match.group(1)] + ",".join(subscript(i) for i in indices)


def _factor_key(factor: Any) -> tuple[int, tuple[int, ...], str]:
    """Sort key for the factors of a product: z before g before w before b, then by index."""
    name = str(factor.name) if getattr(factor, "is_Symbol", False) else str(factor)
    match = _SYMBOL_NAME.fullmatch(name)
    if match is None:
        return (len(_FACTOR_RANK), (), name)
    indices = tuple(int(i) for i in match.group(2).split("_")[1:])
    return (_FACTOR_RANK[match.group(1)], indices, name)


def _as_sympy(expr: Any) -> Any:
    """The expression as SymPy, whichever engine made it (SymPy's own are returned as they are)."""
    import sympy

    if hasattr(expr, "_sympy_"):
        return expr._sympy_()
    return sympy.sympify(expr)


def _expr_terms(expr: Any, full: bool) -> list[str]:
    """The terms of a sum, each in the document's notation, elided when there are many."""
    converted = _as_sympy(expr)
    if not converted.is_Add:
        return [_pretty_sympy(converted)]
    return _elide_terms([_pretty_sympy(term) for term in converted.as_ordered_terms()], full)


def _pretty_number(number: Any) -> str:
    text = str(number)
    return "−" + text[1:] if text.startswith("-") else text


def _pretty_sympy(expr: Any) -> str:
    """Walk a SymPy expression; sums and products are exact, anything else falls back to str."""
    if expr.is_Symbol:
        return pretty_symbol(str(expr.name))
    if expr.is_Number:
        return _pretty_number(expr)
    if expr.is_Add:
        terms = expr.as_ordered_terms()
        text = _pretty_sympy(terms[0])
        for term in terms[1:]:
            if term.could_extract_minus_sign():
                text += " − " + _pretty_sympy(-term)
            else:
                text += " + " + _pretty_sympy(term)
        return text
    if expr.is_Mul:
        numerator, denominator = expr.as_numer_denom()
        if denominator != 1:
            top, bottom = _pretty_sympy(numerator), _pretty_sympy(denominator)
            top = f"({top})" if numerator.is_Add else top
            bottom = f"({bottom})" if denominator.is_Add or denominator.is_Mul else bottom
            return f"{top} / {bottom}"
        coefficient, factors = expr.as_coeff_mul()
        pieces = [
            f"({_pretty_sympy(factor)})" if factor.is_Add else _pretty_sympy(factor)
            for factor in sorted(factors, key=_factor_key)
        ]
        body = " ".join(pieces)
        if coefficient == 1:
            return body
        if coefficient == -1:
            return "−" + body
        return f"{_pretty_number(coefficient)} {body}"
    if expr.is_Pow:
        base, exponent = expr.args
        base_text = _pretty_sympy(base)
        if not (base.is_Symbol or (base.is_Integer and base >= 0)):
            base_text = f"({base_text})"
        if exponent.is_Integer:
            return base_text + str(exponent).translate(_SUPERSCRIPT_DIGITS)
        return f"{base_text}^({_pretty_sympy(exponent)})"
    if expr.func.__name__ == "exp":
        return f"exp({_pretty_sympy(expr.args[0])})"
    return _SYMBOL_NAME.sub(lambda match: pretty_symbol(match.group(0)), str(expr))


def pretty_expr(expr: Any) -> str:
    """An engine (or SymPy) expression in the document's notation: ``dA_1_1*w_2_1`` → ``g₁,₁ w₂,₁``.

    Products list z, g, w, b in that order (so z_{1,1}·w_{1,1} reads z₁,₁ w₁,₁); sums are
    written out with + and −.
    """
    if isinstance(expr, int):
        return _pretty_number(expr)
    if getattr(expr, "is_Symbol", False):
        return pretty_symbol(str(expr.name))
    return _pretty_sympy(_as_sympy(expr))


def _is_one(factor: Any) -> bool:
    return bool(factor == 1)


def _is_atom(factor: Any) -> bool:
    return bool(getattr(factor, "is_Symbol", False))


def _upstream_name(output: tuple[int, int]) -> str:
    return "g" + pretty_index(output)


def chain_rule_term(term: UpstreamTerm) -> str:
    """One term ∂L/∂a_{p,q} · ∂a_{p,q}/∂x of a chain-rule sum, written ``g₁,₁ w₂,₁``."""
    output, factor = term
    upstream = _upstream_name(output)
    if _is_one(factor):
        return upstream
    shown = pretty_expr(factor)
    return f"{upstream} {shown}" if _is_atom(factor) else f"{upstream} ({shown})"


def product_term(term: UpstreamTerm, upstream_first: bool) -> str:
    """One term of a product's entry in the product's own order: ``g₁,₁ w₁,₁`` in G·Wᵀ and
    ``z₁,₁ g₁,₁`` in Zᵀ·G."""
    output, factor = term
    upstream = _upstream_name(output)
    if _is_one(factor):
        return upstream
    shown = pretty_expr(factor) if _is_atom(factor) else f"({pretty_expr(factor)})"
    return f"{upstream} {shown}" if upstream_first else f"{shown} {upstream}"


def _elide_terms(terms: Sequence[str], full: bool) -> list[str]:
    """t₁ + t₂ + ⋯ + tₙ for a sum of more than TERM_LIMIT terms."""
    if full or len(terms) <= TERM_LIMIT:
        return list(terms)
    return [terms[0], terms[1], "⋯", terms[-1]]


def _elided_list(items: Sequence[str], full: bool) -> str:
    """A comma-separated list, elided like a sum: a₁,₁, a₁,₂, ⋯, a₁,₉."""
    return ", ".join(_elide_terms(items, full))


# ---------------------------------------------------------------------------------------------
# Text blocks: several lines of fixed width with a baseline, joined side by side like a formula


@dataclass(frozen=True)
class _Block:
    lines: tuple[str, ...]
    baseline: int

    @property
    def width(self) -> int:
        return max((cell_len(line) for line in self.lines), default=0)


def _text_block(text: str) -> _Block:
    return _Block((text,), 0)


def _beside(*blocks: _Block) -> _Block:
    """The blocks side by side, their baselines on one line."""
    above = max(block.baseline for block in blocks)
    below = max(len(block.lines) - block.baseline for block in blocks)
    rows = [""] * (above + below)
    for block in blocks:
        width = block.width
        start = above - block.baseline
        for row in range(above + below):
            inside = start <= row < start + len(block.lines)
            line = block.lines[row - start] if inside else ""
            rows[row] += line + " " * (width - cell_len(line))
    return _Block(tuple(row.rstrip() for row in rows), above)


def _shown(count: int, full: bool) -> list[int | None]:
    """The 0-based indices to display along a dimension; None marks the elided stretch."""
    if full or count <= DISPLAY_LIMIT:
        return list(range(count))
    return [0, 1, 2, None, count - 2, count - 1]


def _matrix_cells(
    rows: int, cols: int, cell: Callable[[int, int], str], full: bool
) -> list[list[str]]:
    """The displayed cells of a matrix, with ⋯ ⋮ ⋱ standing for elided rows and columns."""
    shown_cols = _shown(cols, full)
    cells = []
    for row in _shown(rows, full):
        if row is None:
            cells.append(["⋮" if col is not None else "⋱" for col in shown_cols])
        else:
            cells.append([cell(row, col) if col is not None else "⋯" for col in shown_cols])
    return cells


_MARKERS = frozenset({"⋯", "⋮", "⋱"})


def _matrix_block(cells: list[list[str]]) -> _Block:
    """A matrix in unicode brackets with aligned columns (⎡ ⎤ ⎢ ⎥ ⎣ ⎦, or [ ] for one row)."""
    gap = "   " if any(" " in cell for row in cells for cell in row) else "  "
    widths = [max(cell_len(row[col]) for row in cells) for col in range(len(cells[0]))]

    def fit(cell: str, width: int) -> str:
        if cell in _MARKERS:
            left = (width - 1) // 2
            return " " * left + cell + " " * (width - 1 - left)
        return cell + " " * (width - cell_len(cell))

    bodies = [
        gap.join(fit(cell, width) for cell, width in zip(row, widths, strict=True)) for row in cells
    ]
    if len(bodies) == 1:
        return _Block((f"[{bodies[0]}]",), 0)
    lines = []
    for number, body in enumerate(bodies):
        if number == 0:
            left, right = "⎡", "⎤"
        elif number == len(bodies) - 1:
            left, right = "⎣", "⎦"
        else:
            left, right = "⎢", "⎥"
        lines.append(f"{left}{body}{right}")
    return _Block(tuple(lines), (len(lines) - 1) // 2)


def _symbol_matrix(entries: Sequence[Sequence[Any]], full: bool, transpose: bool = False) -> _Block:
    """A matrix of engine symbols (Z, W, G or a transpose), elided when large."""
    rows, cols = len(entries), len(entries[0])
    if transpose:
        return _matrix_block(
            _matrix_cells(cols, rows, lambda i, j: pretty_expr(entries[j][i]), full)
        )
    return _matrix_block(_matrix_cells(rows, cols, lambda i, j: pretty_expr(entries[i][j]), full))


# ---------------------------------------------------------------------------------------------
# Checks


def _mismatch_count(check: Check, at_least: str = "at least ") -> str:
    """How many entries differ: the check counts them all, though it keeps only the first
    MISMATCHES_KEPT; a hand-made Check without a count falls back to what it kept."""
    if check.mismatch_count:
        return str(check.mismatch_count)
    kept = len(check.mismatches)
    if kept < MISMATCHES_KEPT or kept == check.entries_checked:
        return str(kept)
    return f"{at_least}{kept}"


def check_result(check: Check) -> str:
    """The result column of the summary: ``✓ holds, 4/4 entries`` or ``✗ fails at 2/4 entries``."""
    if check.holds:
        return f"✓ holds, {check.entries_checked}/{check.entries_checked} entries"
    if check.claimed_shape != check.shape:
        return f"✗ fails: shape {_shape(check.claimed_shape)}, not {_shape(check.shape)}"
    if not check.mismatches:
        return "✗ fails"
    return f"✗ fails at {_mismatch_count(check, '≥')}/{check.entries_checked} entries"


def _all_entries(count: int) -> str:
    return {1: "its one entry", 2: "both entries"}.get(count, f"all {count} entries")


def _shape(shape: tuple[int, int]) -> str:
    return f"{shape[0]}×{shape[1]}"


def _layer_name(bias: bool) -> str:
    return "with bias" if bias else "no bias"


def _entry_index(rule: ChainRule) -> str:
    """The subscript of the entry a chain rule is for: ₁,₂ for z₁,₂ but ₂ for b₂ (b is a row)."""
    return pretty_index(rule.index[-1:] if rule.variable == "b" else rule.index)


def _general(letter: str, indices: str) -> str:
    """An entry in general index notation: z_{i,r}, or b_j for the row vector b."""
    return f"{letter}_{{{indices}}}" if "," in indices else f"{letter}_{indices}"


def _find_check(checks: Iterable[Check], variable: str) -> Check | None:
    return next((check for check in checks if check.variable == variable), None)


# ---------------------------------------------------------------------------------------------
# The document


class _Writer:
    """Collects the renderables of the document, laid out for one width."""

    def __init__(self, width: int, full: bool) -> None:
        self.width = width
        self.full = full
        self.items: list[RenderableType] = []
        self.sections = 0

    # Primitives -------------------------------------------------------------------------------

    def heading(self, title: str) -> None:
        self.sections += 1
        if self.items:
            self.items.append(Text(""))
        self.items.append(
            Rule(Text(f"{self.sections}. {title}", style=_STYLE_HEADING), align="left")
        )

    def prose(self, text: str, style: str = "", indent: int = 0) -> None:
        """A paragraph, wrapped by rich at word boundaries (every line indented by ``indent``)."""
        paragraph = Text(text, style=style)
        self.items.append(Padding(paragraph, (0, 0, 0, indent)) if indent else paragraph)

    def line(self, text: str, style: str = "") -> None:
        """A line laid out by this module; rich wraps it only if it would not fit anyway."""
        self.items.append(Text(text, style=style, overflow="fold"))

    def blank(self) -> None:
        self.items.append(Text(""))

    def fits(self, block: _Block, indent: int = 0) -> bool:
        return indent + block.width <= self.width

    def block(self, block: _Block, indent: int = 0) -> None:
        if not self.fits(block, indent):
            # Folding would break matrix rows apart; say where the whole matrix can be read.
            self.line(
                " " * indent + f"(this matrix is {block.width} columns wide, too wide for this "
                f"terminal; --format latex or markdown shows it whole)",
                style=_STYLE_NOTE,
            )
            return
        for text in block.lines:
            self.line(" " * indent + text if text else "")

    def equation(
        self,
        prefix: str,
        lhs: str,
        terms: Sequence[str],
        join: str = "+",
        lhs_width: int = 0,
    ) -> None:
        """``lhs = t₁ + t₂ + …``, broken before a + (or ``join``) under the =, to fit the width.

        ``lhs`` is padded to ``lhs_width`` so that the = of a list of equations line up.
        """
        if not terms:
            terms = ["0"]
        lhs += " " * (lhs_width - cell_len(lhs))
        lines = []
        current = f"{prefix}{lhs} = {terms[0]}"
        continuation = " " * (cell_len(prefix + lhs) + 1)
        for term in terms[1:]:
            candidate = f"{current} {join} {term}"
            if cell_len(candidate) <= self.width:
                current = candidate
            else:
                lines.append(current)
                current = f"{continuation}{join} {term}"
        lines.append(current)
        for text in lines:
            self.line(text)

    def listing(
        self,
        count: int,
        show: Callable[[int], None],
        more: Callable[[int], str],
        limit: int = LIST_LIMIT,
    ) -> None:
        """Show entries 0…count-1, or the first three and the last when there are over limit."""
        if self.full or count <= limit:
            for number in range(count):
                show(number)
            return
        for number in range(3):
            show(number)
        self.line(f"    ⋮   {more(count - 4)}", style=_STYLE_NOTE)
        show(count - 1)

    def result(self, check: Check | None, context: str = "") -> None:
        """The outcome of one check, in words; "verified" only when it holds."""
        if check is None:
            self.line("? This identity was not checked.", style=_STYLE_BAD)
            return
        if check.holds:
            self.items.append(
                Text.assemble(
                    (f"✓ Verified at {_all_entries(check.entries_checked)}: ", _STYLE_GOOD),
                    f"{check.identity}{context}.",
                )
            )
            return
        if check.claimed_shape != check.shape:
            detail = (
                f"{check.identity}{context} does not hold: the right side is "
                f"{_shape(check.claimed_shape)}, ∂L/∂{check.variable} is {_shape(check.shape)}."
            )
        else:
            detail = (
                f"{check.identity}{context} does not hold: the two sides differ at "
                f"{_mismatch_count(check)} of {check.entries_checked} entries."
            )
        self.items.append(Text.assemble(("✗ FAILS: ", _STYLE_BAD), detail))
        if check.mismatches:
            self.line("  First mismatching entries:")
        for mismatch in check.mismatches:
            row, col = mismatch.index
            where = f"    entry ({row},{col}):  "
            self.equation(where, "chain rule", _expr_terms(mismatch.elementwise, self.full))
            self.equation(
                " " * cell_len(where),
                "formula",
                _expr_terms(mismatch.claimed, self.full),
                lhs_width=cell_len("chain rule"),
            )

    # Sections ---------------------------------------------------------------------------------

    def setup(self, derivation: Derivation) -> None:
        """Sizes, the explicit matrices, the product and the convention (SPEC section 1)."""
        sizes, symbols = derivation.sizes, derivation.symbols
        m, k, n = sizes.m, sizes.k, sizes.n
        self.heading("Setup")
        bias_shape = f", the bias b is 1×n = 1×{n} (a row)" if derivation.bias else ""
        self.prose(
            f"Sizes m = {m}, k = {k}, n = {n}: the input Z is m×k = {m}×{k}, the weights W are "
            f"k×n = {k}×{n}{bias_shape}, and the output A is m×n = {m}×{n}."
        )
        self.blank()
        blocks = [
            _beside(_text_block("Z = "), _symbol_matrix(symbols.Z, self.full)),
            _beside(_text_block("W = "), _symbol_matrix(symbols.W, self.full)),
        ]
        if derivation.bias:
            blocks.append(_beside(_text_block("b = "), _symbol_matrix([symbols.b], self.full)))
        self.blocks_in_rows(blocks)
        self.blank()
        if derivation.bias:
            self.prose(
                f"A = ZW + 1ₘb, where 1ₘ is the column of m = {m} ones: the row b is added to "
                f"every row of ZW, so b_j is added to column j."
            )
        else:
            self.prose("A = ZW (no bias).")
        self.blank()
        self.prose(
            "Gradient (denominator) layout: ∂L/∂X has the shape of X (as in the Matrix "
            "Cookbook, PyTorch and NumPy). Indices are 1-based. g_{i,j} stands for ∂L/∂a_{i,j}, "
            "the upstream gradient G = ∂L/∂A, for any scalar loss L."
        )

    def blocks_in_rows(self, blocks: Sequence[_Block], indent: int = 0, gap: int = 4) -> None:
        """Blocks side by side as far as the width allows, then on the next rows."""
        row: list[_Block] = []
        for block in blocks:
            candidate = _beside(*row, _text_block(" " * gap), block) if row else block
            if row and not self.fits(candidate, indent):
                self.block(_beside(*row), indent)
                self.blank()
                row = [block]
            else:
                row = [*row, _text_block(" " * gap), block] if row else [block]
        if row:
            self.block(_beside(*row), indent)

    def forward(self, outputs: tuple[tuple[OutputEntry, ...], ...], bias: bool) -> None:
        """Every a_{i,j} written out as its sum, in summation order."""
        entries = [entry for row in outputs for entry in row]
        if bias:
            self.prose("With the bias, every a_{i,j} = Σ_r z_{i,r} w_{r,j} + b_j:")
        else:
            self.prose(
                "Each a_{i,j} is row i of Z times column j of W: a_{i,j} = Σ_r z_{i,r} w_{r,j}."
            )
        lhs_width = cell_len("a" + pretty_index(entries[-1].index))

        def show(number: int) -> None:
            entry = entries[number]
            terms = _elide_terms([pretty_expr(term) for term in entry.terms], self.full)
            self.equation("  ", "a" + pretty_index(entry.index), terms, lhs_width=lhs_width)

        self.listing(
            len(entries), show, lambda more: f"{more} more entries of the same form", FORWARD_LIMIT
        )

    def chain_rules(self, gradient: Gradient, check: Check | None) -> None:
        """Each entry x of Z, W or b: the a's it feeds and its chain-rule sum."""
        letter = _ENTRY_NAMES[gradient.variable][0]
        rules = [rule for row in gradient.entries for rule in row]
        shown = (
            list(range(len(rules)))
            if self.full or len(rules) <= LIST_LIMIT
            else [0, 1, 2, len(rules) - 1]
        )
        names = {number: letter + _entry_index(rules[number]) for number in shown}
        feeds = {}
        for number in shown:
            outputs = ["a" + pretty_index(output) for output, _ in rules[number].terms]
            feeds[number] = (
                f"{names[number]} feeds {_elided_list(outputs, self.full) or 'nothing'}:"
            )
        sums = {
            number: _elide_terms([chain_rule_term(t) for t in rules[number].terms], self.full)
            for number in shown
        }
        feeds_width = max(cell_len(text) for text in feeds.values())
        one_line = all(
            2 + feeds_width + 2 + cell_len(f"∂L/∂{names[number]} = " + " + ".join(sums[number]))
            <= self.width
            for number in shown
        )

        lhs_width = max(cell_len(f"∂L/∂{name}") for name in names.values())

        def show(number: int) -> None:
            lhs = f"∂L/∂{names[number]}"
            if one_line:
                padded = feeds[number] + " " * (feeds_width - cell_len(feeds[number]))
                self.equation(f"  {padded}  ", lhs, sums[number], lhs_width=lhs_width)
            else:
                self.line(f"  {feeds[number]}")
                self.equation("      ", lhs, sums[number])

        def more(count: int) -> str:
            if check is not None and check.holds:
                return f"{count} more not shown; all {len(rules)} were verified (see below)"
            return f"{count} more not shown; see the check below"

        self.listing(len(rules), show, more)

    def assembled(self, gradient: Gradient) -> None:
        """The elementwise results put in the shape of the variable (gradient layout)."""
        name = gradient.variable
        letter, indices = _ENTRY_NAMES[name]
        rows, cols = gradient.shape
        self.blank()
        self.prose(f"Assembled in the shape of {name} ({_shape(gradient.shape)}):")
        label = _text_block(f"∂L/∂{name} = ")

        def sum_of(i: int, j: int) -> str:
            terms = [chain_rule_term(t) for t in gradient.entries[i][j].terms]
            return " + ".join(_elide_terms(terms, self.full)) or "0"

        sums = _beside(label, _matrix_block(_matrix_cells(rows, cols, sum_of, self.full)))
        if self.fits(sums, 2):
            self.block(sums, 2)
            return
        # Too wide to write the sums in place: show where each one goes instead.
        entry = _general(letter, indices)

        def name_of(i: int, j: int) -> str:
            return f"∂L/∂{letter}" + _entry_index(gradient.entries[i][j])

        names = _beside(label, _matrix_block(_matrix_cells(rows, cols, name_of, self.full)))
        if self.fits(names, 2):
            self.block(names, 2)
        where = f"({indices})" if "," in indices else indices
        self.prose(
            f"(the sums are too wide to write in place: entry {where} holds the sum "
            f"∂L/∂{entry} listed above)",
            style=_STYLE_NOTE,
            indent=2,
        )

    def product(
        self,
        form: MatrixForm,
        short: str,
        factors: Sequence[_Block],
        upstream_first: bool,
    ) -> None:
        """A matrix product with G multiplied out: the factors, then the entries."""
        rows, cols = form.shape
        self.blank()
        self.prose(f"{form.formula} multiplied out, independently of the chain rule:")
        label = f"{short} = "

        def entry(i: int, j: int) -> str:
            terms = [product_term(t, upstream_first) for t in form.entries[i][j]]
            return " + ".join(_elide_terms(terms, self.full)) or "0"

        first = _beside(_text_block(label), *_interleave(factors, _text_block(" ")))
        result = _matrix_block(_matrix_cells(rows, cols, entry, self.full))
        together = _beside(first, _text_block(" = "), result)
        if self.fits(together, 2):
            self.block(together, 2)
            return
        factors_shown = self.fits(first, 2)
        if factors_shown:
            self.block(first, 2)
        continuation = " " * (cell_len(label) - 2) + "= "
        second = _beside(_text_block(continuation), result)
        if self.fits(second, 2):
            self.block(second, 2)
            return
        self.prose("so, entry by entry:" if factors_shown else "entry by entry:", indent=2)
        flat = [(i, j) for i in range(rows) for j in range(cols)]

        def entry_label(i: int, j: int) -> str:
            return f"({short})" + pretty_index((j + 1,) if rows == 1 else (i + 1, j + 1))

        lhs_width = cell_len(entry_label(rows - 1, cols - 1))

        def show(number: int) -> None:
            i, j = flat[number]
            terms = [product_term(t, upstream_first) for t in form.entries[i][j]]
            self.equation(
                "    ", entry_label(i, j), _elide_terms(terms, self.full), lhs_width=lhs_width
            )

        self.listing(len(flat), show, lambda more: f"{more} more entries of the same form")

    def gradient_section(self, derivation: Derivation, name: Variable) -> None:
        """∂L/∂Z or ∂L/∂W: chain rule per entry, assembled, the matrix product, the check."""
        layer = derivation.plain
        gradient = layer.gradients[name]
        check = _find_check(layer.checks, name)
        symbols = derivation.symbols
        letter, indices = _ENTRY_NAMES[name]
        entry = _general(letter, indices)
        self.heading(f"∂L/∂{name}")
        self.prose(
            f"By the chain rule, ∂L/∂{entry} = Σ_{{p,q}} g_{{p,q}} ∂a_{{p,q}}/∂{entry}, summed "
            f"over the a_{{p,q}} that {entry} feeds; {derivation.engine} differentiated each "
            f"∂a_{{p,q}}/∂{entry} from the forward pass."
        )
        self.chain_rules(gradient, check)
        self.assembled(gradient)
        upstream = _symbol_matrix(symbols.upstream, self.full)
        if name == "Z":
            factors = [upstream, _symbol_matrix(symbols.W, self.full, transpose=True)]
            self.product(layer.products[name], "G Wᵀ", factors, upstream_first=True)
        else:
            factors = [_symbol_matrix(symbols.Z, self.full, transpose=True), upstream]
            self.product(layer.products[name], "Zᵀ G", factors, upstream_first=False)
        self.blank()
        self.result(check)

    def loss_section(self, derivation: Derivation) -> None:
        """A concrete loss: L, ∂L/∂A from the CAS and in closed form, and the checks made by
        differentiating L through the whole layer."""
        from ..core.losses import CLOSED_FORM_TEXT, LOSS_TEXT

        loss = derivation.loss
        if loss is None:
            return
        sizes = derivation.sizes
        self.heading(f"The loss: {loss.loss.replace('-', ' ')}")
        targets = ", with symbolic targets y_{i,j} (the matrix Y)" if loss.loss != "sum" else ""
        self.prose(f"{LOSS_TEXT[loss.loss]}{targets}.")
        self.prose("Differentiating L with respect to each a_{i,j}:")
        upstream = loss.upstream
        if loss.loss == "softmax-cross-entropy":
            import sympy

            upstream = upstream.applyfunc(sympy.together)
        shown = [
            (p, q)
            for p in _shown(sizes.m, self.full)
            for q in _shown(sizes.n, self.full)
            if p is not None and q is not None
        ]
        for p, q in shown:
            self.line(f"  ∂L/∂a{pretty_index((p + 1, q + 1))} = {pretty_expr(upstream[p, q])}")
        if loss.closed_form_holds:
            condition = f" {loss.condition}" if loss.condition else ""
            self.items.append(
                Text.assemble(
                    ("✓ Verified at every entry: ", _STYLE_GOOD),
                    f"∂L/∂A = {CLOSED_FORM_TEXT[loss.loss]}{condition}.",
                )
            )
        else:
            self.items.append(
                Text.assemble(
                    ("✗ FAILS: ", _STYLE_BAD),
                    f"∂L/∂A is not {CLOSED_FORM_TEXT[loss.loss]}.",
                )
            )
        self.blank()
        self.prose(
            "Through the whole layer: with A = ZW"
            + (" + 1ₘb" if derivation.bias else "")
            + " substituted into L, the CAS differentiated L itself with respect to every entry"
            " of "
            + ("Z, W and b" if derivation.bias else "Z and W")
            + ", and compared the results "
            "with the matrix forms built from ∂L/∂A above:"
        )
        for check in loss.checks:
            self.result(check)
        self.blank()
        self.prose(
            "The chain-rule derivation that follows holds for any loss, this one included: "
            "read g_{i,j} = ∂L/∂a_{i,j} as the entries above."
        )

    def bias_section(self, derivation: Derivation, layer: LayerDerivation) -> None:
        """A = ZW + 1ₘb: the forward pass with b, ∂L/∂b, and ∂L/∂Z, ∂L/∂W unchanged."""
        sizes, symbols = derivation.sizes, derivation.symbols
        self.heading("Bias")
        self.prose(
            f"b is a 1×{sizes.n} row vector; 1ₘb stacks m = {sizes.m} copies of it, one per row, "
            f"so b_j is added to every entry of column j of A:"
        )
        ones_b = _matrix_block(
            _matrix_cells(sizes.m, sizes.n, lambda i, j: pretty_expr(symbols.b[j]), self.full)
        )
        self.block(_beside(_text_block("1ₘb = "), ones_b), 2)
        self.blank()
        self.forward(layer.outputs, bias=True)
        self.blank()
        check = _find_check(layer.checks, "b")
        self.prose(
            f"b_j feeds every a_{{i,j}} in column j, each with ∂a_{{i,j}}/∂b_j = 1 (from "
            f"{derivation.engine}), so ∂L/∂b_j = Σ_i g_{{i,j}}, the column sums of G:"
        )
        self.chain_rules(layer.gradients["b"], check)
        self.assembled(layer.gradients["b"])
        ones = _matrix_block(_matrix_cells(1, sizes.m, lambda i, j: "1", self.full))
        upstream = _symbol_matrix(symbols.upstream, self.full)
        self.product(layer.products["b"], "1ᵀ G", [ones, upstream], upstream_first=False)
        self.blank()
        self.result(check)
        self.blank()
        self.prose(
            "∂L/∂Z and ∂L/∂W are unchanged by the bias: adding b_j to a_{i,j} changes no "
            "∂a_{p,q}/∂z_{i,r} and no ∂a_{p,q}/∂w_{r,j}."
        )
        for name in ("Z", "W"):
            self.result(_find_check(layer.checks, name), ", with the bias too")
        for extra in derivation.extra_checks:
            self.result(extra)

    def general_section(self, derivation: Derivation) -> None:
        """Index notation for any m, k, n: the textbook argument, stated as such."""
        bias = derivation.bias
        self.heading("The general case: why it holds at every size")
        self.prose(
            "For any m, k, n, in index notation (textbook reasoning, not machine-checked "
            "here; δ is the Kronecker delta):"
        )
        chains = [
            ["a_{i,j}", "Σ_r z_{i,r} w_{r,j}" + (" + b_j" if bias else "")],
            ["∂a_{p,q}/∂z_{i,r}", "δ_{p,i} w_{r,q}"],
            [
                "∂L/∂z_{i,r}",
                "Σ_{p,q} g_{p,q} δ_{p,i} w_{r,q}",
                "Σ_j g_{i,j} w_{r,j}",
                "(G Wᵀ)_{i,r}",
            ],
            ["∂a_{p,q}/∂w_{r,j}", "z_{p,r} δ_{q,j}"],
            [
                "∂L/∂w_{r,j}",
                "Σ_{p,q} g_{p,q} z_{p,r} δ_{q,j}",
                "Σ_i z_{i,r} g_{i,j}",
                "(Zᵀ G)_{r,j}",
            ],
        ]
        if bias:
            chains += [["∂a_{p,q}/∂b_j", "δ_{q,j}"], ["∂L/∂b_j", "Σ_i g_{i,j}", "(1ᵀ G)_j"]]
        for lhs, *sides in chains:
            self.equation("  ", lhs, sides, join="=")
        self.blank()
        self.prose(
            "Note: ∂A/∂W is a 4th-order tensor, ∂a_{i,j}/∂w_{r,q} = z_{i,r} δ_{j,q}; it is not "
            "Zᵀ. Zᵀ appears only after contracting it with G."
        )

    def summary(self, derivation: Derivation) -> None:
        self.heading("Summary")
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        table.add_column("identity", no_wrap=False)
        table.add_column("layer", no_wrap=True)
        table.add_column("shape", no_wrap=True)
        table.add_column("result")
        for check in derivation.checks:
            shape = _shape(check.shape)
            table.add_row(
                check.identity,
                _layer_name(check.bias),
                shape,
                Text(check_result(check), style=_STYLE_GOOD if check.holds else _STYLE_BAD),
            )
        self.items.append(table)
        checks = derivation.checks
        failed = [check for check in checks if not check.holds]
        if derivation.loss is not None and not derivation.loss.closed_form_holds:
            self.items.append(
                Text.assemble(("✗ ", _STYLE_BAD), "∂L/∂A does not match its closed form.")
            )
        if derivation.verified:
            self.items.append(
                Text.assemble(
                    ("✓ ", _STYLE_GOOD),
                    f"{'Both' if len(checks) == 2 else f'All {len(checks)}'} checks hold at "
                    "every entry, "
                    f"at m = {derivation.sizes.m}, k = {derivation.sizes.k}, "
                    f"n = {derivation.sizes.n}.",
                )
            )
        elif failed:
            self.items.append(
                Text.assemble(
                    ("✗ ", _STYLE_BAD),
                    f"{len(failed)} of the {len(checks)} checks "
                    f"{'fails' if len(failed) == 1 else 'fail'}.",
                )
            )


def _interleave(blocks: Sequence[_Block], separator: _Block) -> list[_Block]:
    result: list[_Block] = []
    for block in blocks:
        if result:
            result.append(separator)
        result.append(block)
    return result


class DerivationView:
    """The whole derivation as a rich renderable, in the order of SPEC section 2."""

    def __init__(self, derivation: Derivation, *, full: bool = False) -> None:
        self.derivation = derivation
        self.full = full

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        derivation = self.derivation
        writer = _Writer(options.max_width, self.full)
        writer.setup(derivation)
        writer.heading("Forward pass")
        writer.forward(derivation.plain.outputs, bias=False)
        writer.loss_section(derivation)
        writer.gradient_section(derivation, "Z")
        writer.gradient_section(derivation, "W")
        if derivation.biased is not None:
            writer.bias_section(derivation, derivation.biased)
        writer.general_section(derivation)
        writer.summary(derivation)
        yield from writer.items


def render_to_text(renderable: Any, *, width: int = 80, color: bool = False) -> str:
    """Any rich renderable as a string laid out for ``width`` columns, with ANSI colours if
    ``color``; every text view of matgrad is printed through this one console set-up."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
    )
    console.print(renderable)
    output = buffer.getvalue()
    if color:
        return output
    # rich leaves the space it broke a line at; plain text should not end lines in spaces.
    return "".join(line.rstrip() + "\n" for line in output.splitlines())


def render_text(
    derivation: Derivation, *, width: int = 80, full: bool = False, color: bool = False
) -> str:
    """The text view as a string, laid out for ``width`` columns (ANSI colours if ``color``)."""
    return render_to_text(DerivationView(derivation, full=full), width=width, color=color)
