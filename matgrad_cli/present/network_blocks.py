"""The blocks of a network's derivation document (network_doc.py): an entry worked out by the
chain rule, a gradient assembled in its shape, and the verdict of its check.

The entries are the elementwise route's (the CAS through the whole composition), in the names of
network_tex.py; every verdict is read off the derivation's Check of that gradient, and a formula
is boxed only when its check holds. Nothing here asserts a result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.checks import Check
from ..core.network import GradientForms, Network
from ..core.network_derive import NetworkDerivation
from . import mathtex as tex
from . import network_tex as nt
from .document import LINE_STRUT, Block, Display, Paragraph
from .notation import elide, sampled, visible

#: The width of a line of a display, in letters (network_tex.width), on a plain article's page.
LINE_WIDTH = 46.0
#: Most lines of one display of a long entry, and the lines after which a display ends before
#: the next equation (a page breaks only between displays).
PAGE_LINES = 16
DISPLAY_LINES = 10
#: The width of a matrix's cells and their gaps, in letters, left of which stands ∂L/∂(name) =.
MATRIX_WIDTH = 50.0
#: Most lines of an aligned display on one slide: a longer one goes on over continued slides,
#: so that no slide shrinks its formulas below a readable size.
SLIDE_LINES = 4
#: Most slides a list of entries takes unless printed in full: a deck stays a deck.
LISTING_SLIDES = 4
#: The line that marks entries left out of an aligned list.
GAP_LINE = r"& \;\;\vdots"


@dataclass(frozen=True)
class Context:
    """What every section reads: the derivation, its printer and whether to print in full."""

    derivation: NetworkDerivation
    printer: nt.NetworkPrinter
    full: bool

    @property
    def network(self) -> Network:
        return self.derivation.network

    @property
    def upstream(self) -> Any:
        return self.derivation.symbols.upstream

    def forms(self, name: str) -> GradientForms:
        found = self.derivation.gradients.get(name) or self.derivation.intermediates[name]
        return found

    def check(self, name: str) -> Check:
        return next(check for check in self.derivation.checks if str(check.variable) == name)

    @property
    def start(self) -> nt.StartForm | None:
        """Under a concrete loss, the closed form the matrix route starts from."""
        concrete = self.derivation.concrete
        if concrete is None:
            return None
        return nt.start_form(concrete.start_text, concrete.after_sigmoid)

    def rule(self, name: str, display: bool = True) -> str:
        rules, network = self.derivation.rules, self.network
        return nt.rule_latex(name, rules, network, display, self.start)


def entry_latex(name: str, i: int, j: int) -> str:
    """The entry (i, j), 1-based, of X, Wℓ, bℓ, Aℓ or Hℓ: x_{i,j}, w^{(ℓ)}_{i,j}, b^{(ℓ)}_j."""
    if name == "X":
        return f"x_{{{i},{j}}}"
    letter, layer = name[0].lower(), name[1:]
    if letter == "b":
        return f"b^{{({layer})}}_{{{j}}}"
    return f"{letter}^{{({layer})}}_{{{i},{j}}}"


def _output_entry(network: Network, p: str, q: str) -> str:
    """The generic entry of the network's output: a^{(L)}_{p,q}, or h^{(L)}_{p,q}."""
    return f"{network.output_name[0].lower()}^{{({network.depth})}}_{{{p},{q}}}"


def _chunked(first: str, items: Sequence[str], budget: float = LINE_WIDTH) -> list[str]:
    """``first &= items`` summed over lines of at most ``budget`` letters, each continuation
    starting ``&\\quad +`` (or its piece's own sign, or nothing for a factor going on)."""
    lines: list[list[str]] = [[]]
    used = 0.0
    for item in items:
        size = nt.width(item) + 2.2
        if lines[-1] and used + size > budget:
            lines.append([])
            used = 0.0
        lines[-1].append(item)
        used += size
    text = [nt.joined(line) for line in lines] if items else ["0"]
    rest = [rf"&\quad {nt.continued(line)}" for line in lines[1:]]
    return [f"{LINE_STRUT} {first} &= {text[0]}", *rest]


def value_lines(context: Context, forms: GradientForms, index: tuple[int, int]) -> list[str]:
    """The entry ``index`` (0-based) of ``forms`` as the sum of its terms, over lines."""
    i, j = index
    form = forms.entries[i][j]
    left = tex.grad(entry_latex(forms.name, i + 1, j + 1))
    return _chunked(left, context.printer.form_terms(form, context.upstream, LINE_WIDTH))


def displays(lines: Sequence[str], listing: bool = False, most: int = 0) -> list[Display]:
    """Aligned lines as displays of at most PAGE_LINES lines each, so that a page may break
    between them: before an equation where one starts in time, else inside a long one; on
    slides, at most SLIDE_LINES lines each (a ``listing`` of entries shown whole, on at most
    ``most`` slides)."""
    groups: list[list[str]] = [[]]
    for line in lines:
        starts = not line.lstrip().startswith("&")
        full = len(groups[-1]) >= PAGE_LINES or (starts and len(groups[-1]) >= DISPLAY_LINES)
        if groups[-1] and full:
            groups.append([])
        groups[-1].append(line)
    return [Display(tuple(group), True, SLIDE_LINES, listing, most) for group in groups]


def _worked_entry(context: Context, forms: GradientForms, index: tuple[int, int]) -> list[Display]:
    """One entry by the chain rule: the partials ∂L/∂o_{p,q} ∂o_{p,q}/∂v, then their values."""
    i, j = index
    form = forms.entries[i][j]
    entry = entry_latex(forms.name, i + 1, j + 1)
    network = context.network
    partials = [
        tex.grad(_output_entry(network, str(p), str(q)))
        + " "
        + tex.partial_latex(_output_entry(network, str(p), str(q)), entry)
        for (p, q), _ in form
    ]
    shown = elide(partials, context.full, marker=r"\cdots")
    lines = _chunked(tex.grad(entry), shown)
    values = _chunked("", context.printer.form_terms(form, context.upstream, LINE_WIDTH))
    lines.append(values[0].replace(f"{LINE_STRUT}  ", "", 1))
    return displays([*lines, *values[1:]])


def worked(context: Context, forms: GradientForms) -> list[Block]:
    """The first entry worked out by the chain rule (every entry with ``full``)."""
    rows, cols = forms.shape
    total = rows * cols
    numbers = range(total) if context.full else range(1)
    blocks: list[Block] = [
        display for n in numbers for display in _worked_entry(context, forms, divmod(n, cols))
    ]
    if total > 1 and not context.full:
        others = "entry is" if total == 2 else f"{total - 1} entries are"
        blocks.append(
            Paragraph(f"The other {others} found the same way (the option --full works them all).")
        )
    return blocks


def _matrix(context: Context, forms: GradientForms) -> str | None:
    """The gradient as a bmatrix of its sums, or None when too wide for a line."""
    rows, cols = forms.shape
    printer = context.printer
    shown_rows = [row for row in visible(rows, context.full) if row is not None]
    shown_cols = visible(cols, context.full)
    cells = {
        (i, j): printer.form(forms.entries[i][j], context.upstream)
        for i in shown_rows
        for j in shown_cols
        if j is not None
    }
    widest = [
        max(nt.width(cells[i, j]) for i in shown_rows) if j is not None else 2.0 for j in shown_cols
    ]
    if sum(widest) + 2.5 * len(widest) > MATRIX_WIDTH:
        return None
    return tex.bmatrix(rows, cols, lambda i, j: cells[i, j], context.full)


def assembled(context: Context, forms: GradientForms, lead: bool = True) -> list[Block]:
    """The gradient in its shape: a matrix, or its entries one by one when they are too wide;
    opened by a sentence unless not ``lead``."""
    name = nt.rule_name(forms.name)
    shape = f"${tex.shape_latex(*forms.shape)}$"
    matrix = _matrix(context, forms)
    if matrix is not None:
        display = Display((f"{tex.grad(name)} = {matrix}",))
        return (
            [Paragraph(f"Assembled in the shape of ${name}$ ({shape}):"), display]
            if lead
            else [display]
        )
    rows, cols = forms.shape
    lines: list[str] = []
    for number in sampled(rows * cols, context.full):
        if number is None:
            lines.append(GAP_LINE)
        else:
            lines += value_lines(context, forms, divmod(number, cols))
    most = 0 if context.full else LISTING_SLIDES
    listing: list[Block] = [*displays(lines, listing=True, most=most)]
    if not lead:
        return listing
    return [
        Paragraph(
            f"Assembled in the shape of ${name}$ ({shape}), its entries too wide to set as a "
            "matrix, one per line:"
        ),
        *listing,
    ]


def verdict(context: Context, name: str) -> list[Block]:
    """What the check of ∂L/∂``name`` found against the matrix route, and the boxed identity
    when it holds; the only place a result is stated."""
    check = context.check(name)
    matrix = nt.rule_name(name)
    claim = f"\\partial L/\\partial {matrix} = {context.rule(name, display=False)}"
    count = check.entries_checked
    if check.holds:
        agree = "the only entry agrees" if count == 1 else f"all {count} entries agree"
        boxed = rf"\boxed{{{tex.grad(matrix)} = {context.rule(name)}}}"
        return [
            Paragraph(
                "Compared with the matrix route, the same formula multiplied out from the "
                f"symbols: {agree}, so ${claim}$ (${tex.shape_latex(*check.shape)}$)."
            ),
            Display((boxed,)),
        ]
    return [Paragraph(f"NOT verified: ${claim}$ fails, {_failure(context, check)}.")]


def _failure(context: Context, check: Check) -> str:
    """How a check failed: the shapes, or its first differing entry."""
    if check.claimed_shape != check.shape:
        shapes = (
            f"${tex.shape_latex(*check.shape)}$ against ${tex.shape_latex(*check.claimed_shape)}$"
        )
        return f"the shapes differ ({shapes})"
    first = check.mismatches[0]
    i, j = first.index
    return (
        f"at {check.mismatch_count} of {check.entries_checked} entries; at entry ${i},{j}$ the "
        f"elementwise route gives ${context.printer.expr(first.elementwise)}$ but the matrix "
        f"route ${context.printer.expr(first.claimed)}$"
    )
