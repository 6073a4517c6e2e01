"""The pieces of a gradient's section in the derivation's terminal view (SPEC section 2).

For ∂L/∂Z, ∂L/∂W and ∂L/∂b alike: each entry's chain-rule sum, the sums assembled in the shape
of the variable, the matrix product multiplied out independently, and the check's verdict. Each
piece is a rich renderable laid out at the width the console gives it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import KW_ONLY, dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

from ..core.checks import MISMATCHES_KEPT, Check
from ..core.layer import Variable
from ..core.model import ChainRule, Gradient, MatrixForm
from .limits import ENTRY_LIST
from .notation import (
    chain_rule_sum,
    chain_rule_term,
    dimensions,
    elide_terms,
    elided_list,
    expr_terms,
    pretty_index,
    product_entry,
    product_term,
)
from .terminal import (
    STYLE_BAD,
    STYLE_NOTE,
    Block,
    Equation,
    Figure,
    Listing,
    beside,
    blank,
    fails,
    labelled,
    line,
    matrix_block,
    matrix_cells,
    more_entries,
    prose,
    summary_result,
    text_block,
    verified,
)

#: What each gradient is called in prose, and the letters of its entry's indices.
ENTRY_NAMES: dict[Variable, tuple[str, str]] = {
    "Z": ("z", "i,r"),
    "W": ("w", "r,j"),
    "b": ("b", "j"),
}


def general_entry(letter: str, indices: str) -> str:
    """An entry in general index notation: z_{i,r}, or b_j for the row vector b."""
    return f"{letter}_{{{indices}}}" if "," in indices else f"{letter}_{indices}"


def entry_index(rule: ChainRule) -> str:
    """The subscript of the entry a chain rule is for: ₁,₂ for z₁,₂ but ₂ for b₂ (b is a row)."""
    return pretty_index(rule.index[-1:] if rule.variable == "b" else rule.index)


def find_check(checks: Iterable[Check], variable: str) -> Check | None:
    """The check of ∂L/∂``variable`` among ``checks``, if one was made."""
    return next((check for check in checks if check.variable == variable), None)


def mismatch_count(check: Check, at_least: str = "at least ") -> str:
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
    return summary_result(check, mismatch_count(check, "≥") if check.mismatches else None)


@dataclass(frozen=True)
class CheckVerdict:
    """The outcome of one check, in words ("verified" only when it holds), and the first
    mismatching entries of a failure, both sides written out."""

    check: Check | None
    context: str = ""
    _: KW_ONLY
    full: bool = False

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        check, context = self.check, self.context
        if check is None:
            yield line("? This identity was not checked.", style=STYLE_BAD)
            return
        if check.holds:
            yield verified(check.entries_checked, f"{check.identity}{context}")
            return
        if check.claimed_shape != check.shape:
            detail = (
                f"{check.identity}{context} does not hold: the right side is "
                f"{dimensions(check.claimed_shape)}, ∂L/∂{check.variable} is "
                f"{dimensions(check.shape)}."
            )
        else:
            detail = (
                f"{check.identity}{context} does not hold: the two sides differ at "
                f"{mismatch_count(check)} of {check.entries_checked} entries."
            )
        yield fails(detail)
        if check.mismatches:
            yield line("  First mismatching entries:")
        for mismatch in check.mismatches:
            row, col = mismatch.index
            where = f"    entry ({row},{col}):  "
            yield Equation(where, "chain rule", expr_terms(mismatch.elementwise, self.full))
            yield Equation(
                " " * cell_len(where),
                "formula",
                expr_terms(mismatch.claimed, self.full),
                lhs_width=cell_len("chain rule"),
            )


@dataclass(frozen=True)
class ChainRules:
    """Each entry x of Z, W or b: the a's it feeds and its chain-rule sum, on one line when
    every shown entry fits, else the a's above the sum."""

    gradient: Gradient
    check: Check | None
    _: KW_ONLY
    full: bool

    def _shown(self, rules: Sequence[ChainRule]) -> list[int]:
        if self.full or len(rules) <= ENTRY_LIST:
            return list(range(len(rules)))
        return [0, 1, 2, len(rules) - 1]

    def _more(self, count: int, total: int) -> str:
        if self.check is not None and self.check.holds:
            return f"{count} more not shown; all {total} were verified (see below)"
        return f"{count} more not shown; see the check below"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        full = self.full
        letter = ENTRY_NAMES[self.gradient.variable][0]
        rules = [rule for row in self.gradient.entries for rule in row]
        shown = self._shown(rules)
        names = {number: letter + entry_index(rules[number]) for number in shown}
        feeds = {}
        for number in shown:
            outputs = ["a" + pretty_index(output) for output, _ in rules[number].terms]
            feeds[number] = f"{names[number]} feeds {elided_list(outputs, full) or 'nothing'}:"
        sums = {
            number: elide_terms([chain_rule_term(t) for t in rules[number].terms], full)
            for number in shown
        }
        feeds_width = max(cell_len(text) for text in feeds.values())
        one_line = all(
            2 + feeds_width + 2 + cell_len(f"∂L/∂{names[number]} = " + " + ".join(sums[number]))
            <= options.max_width
            for number in shown
        )
        lhs_width = max(cell_len(f"∂L/∂{name}") for name in names.values())

        def show(number: int) -> list[RenderableType]:
            lhs = f"∂L/∂{names[number]}"
            if one_line:
                padded = feeds[number] + " " * (feeds_width - cell_len(feeds[number]))
                return [Equation(f"  {padded}  ", lhs, sums[number], lhs_width=lhs_width)]
            return [line(f"  {feeds[number]}"), Equation("      ", lhs, sums[number])]

        yield Listing(len(rules), show, lambda count: self._more(count, len(rules)), full=full)


@dataclass(frozen=True)
class Assembled:
    """The elementwise results put in the shape of the variable (gradient layout), or, when
    the sums are too wide for that, where each one goes."""

    gradient: Gradient
    _: KW_ONLY
    full: bool

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        gradient, full = self.gradient, self.full
        name = gradient.variable
        letter, indices = ENTRY_NAMES[name]
        rows, cols = gradient.shape
        yield blank()
        yield prose(f"Assembled in the shape of {name} ({dimensions(gradient.shape)}):")
        label = f"∂L/∂{name} = "

        def sum_of(i: int, j: int) -> str:
            return chain_rule_sum(gradient.entries[i][j].terms, full)

        sums = labelled(label, matrix_block(matrix_cells(rows, cols, sum_of, full)))
        if 2 + sums.width <= options.max_width:
            yield Figure(sums, 2)
            return

        def name_of(i: int, j: int) -> str:
            return f"∂L/∂{letter}" + entry_index(gradient.entries[i][j])

        names = labelled(label, matrix_block(matrix_cells(rows, cols, name_of, full)))
        if 2 + names.width <= options.max_width:
            yield Figure(names, 2)
        where = f"({indices})" if "," in indices else indices
        yield prose(
            f"(the sums are too wide to write in place: entry {where} holds the sum "
            f"∂L/∂{general_entry(letter, indices)} listed above)",
            style=STYLE_NOTE,
            indent=2,
        )


@dataclass(frozen=True)
class Product:
    """A matrix product with G multiplied out, independently of the chain rule: the factors,
    then the entries, as a matrix when it fits and else entry by entry."""

    form: MatrixForm
    short: str
    factors: Sequence[Block]
    _: KW_ONLY
    upstream_first: bool
    full: bool

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        form, full, width = self.form, self.full, options.max_width
        rows, cols = form.shape
        yield blank()
        yield prose(f"{form.formula} multiplied out, independently of the chain rule:")
        label = f"{self.short} = "

        def entry(i: int, j: int) -> str:
            return product_entry(form.entries[i][j], self.upstream_first, full)

        first = labelled(label, beside(*self.factors, gap=1))
        result = matrix_block(matrix_cells(rows, cols, entry, full))
        together = beside(first, text_block(" = "), result)
        if 2 + together.width <= width:
            yield Figure(together, 2)
            return
        factors_shown = 2 + first.width <= width
        if factors_shown:
            yield Figure(first, 2)
        second = labelled(" " * (cell_len(label) - 2) + "= ", result)
        if 2 + second.width <= width:
            yield Figure(second, 2)
            return
        yield prose("so, entry by entry:" if factors_shown else "entry by entry:", indent=2)
        yield self._entries()

    def _entries(self) -> Listing:
        """``(G Wᵀ)₁,₂ = …``, one line per entry."""
        form, short = self.form, self.short
        rows, cols = form.shape
        flat = [(i, j) for i in range(rows) for j in range(cols)]

        def entry_label(i: int, j: int) -> str:
            return f"({short})" + pretty_index((j + 1,) if rows == 1 else (i + 1, j + 1))

        lhs_width = cell_len(entry_label(rows - 1, cols - 1))

        def show(number: int) -> list[RenderableType]:
            i, j = flat[number]
            terms = [product_term(t, self.upstream_first) for t in form.entries[i][j]]
            terms = elide_terms(terms, self.full)
            return [Equation("    ", entry_label(i, j), terms, lhs_width=lhs_width)]

        return Listing(len(flat), show, more_entries, full=self.full)
