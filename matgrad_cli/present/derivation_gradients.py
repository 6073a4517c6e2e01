"""The gradient sections of the derivation document: the chain rule entry by entry, the sums
assembled, the matrix form multiplied out, and what the check of the two found.

Every statement about the verification is read off a Check (``verdict``); nothing here asserts a
result.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..core.checks import Check
from ..core.layer import Variable
from ..core.model import ChainRule, Derivation, Gradient, LayerDerivation, MatrixForm
from . import layer_latex as layer
from . import mathtex as tex
from .document import LINE_STRUT, Block, Display, Paragraph, Section
from .limits import ENTRY_LIST, MATRIX_WIDTH

#: The line that marks entries left out of an aligned list.
GAP_LINE = r"& \;\;\vdots"


def check_for(derived: LayerDerivation, variable: Variable) -> Check:
    """The check of ``variable``'s backward rule in ``derived``."""
    return next(check for check in derived.checks if check.variable == variable)


def verdict(check: Check, claim: str) -> Paragraph:
    """What the check found, in words; the only place a result is stated."""
    count = check.entries_checked
    shape, claimed_shape = tex.shape_latex(*check.shape), tex.shape_latex(*check.claimed_shape)
    if check.holds:
        agree = "the only entry agrees" if count == 1 else f"all {count} entries agree"
        return Paragraph(f"Verified entry by entry: {agree}, so ${claim}$ (${shape}$).")
    if check.claimed_shape != check.shape:
        return Paragraph(
            f"NOT verified: ${claim}$ fails, the shapes differ "
            f"(${shape}$ against ${claimed_shape}$)."
        )
    first = check.mismatches[0]
    return Paragraph(
        f"NOT verified: ${claim}$ fails at {check.mismatch_count} of {count} entries; "
        f"at entry ${first.index[0]},{first.index[1]}$ the elementwise result is "
        f"${tex.expr_latex(first.elementwise)}$ but the matrix form gives "
        f"${tex.expr_latex(first.claimed)}$."
    )


def _listed(entries: tuple[tuple[ChainRule, ...], ...], full: bool) -> list[ChainRule | None]:
    """The entries whose sums are written out: all, or the first three, None for the gap, and
    the last."""
    flat = [rule for row in entries for rule in row]
    if full or len(flat) <= ENTRY_LIST:
        return list(flat)
    return [*flat[:3], None, flat[-1]]


def _equation_lines(left: str, items: Sequence[str], full: bool) -> list[str]:
    """``left &= sum`` for an aligned display, the sum broken over lines when printed in full."""
    first, *rest = tex.sum_lines(items, full)
    return [f"{LINE_STRUT} {left} &= {first}", *rest]


def _chain_rule_blocks(rule: ChainRule, full: bool) -> Iterator[Block]:
    """The a's an entry feeds, then its chain-rule sum: the partials, then their values."""
    name = layer.entry_name(rule.variable, rule.index)
    feeds = [f"a_{{{p},{q}}}" for (p, q), _ in rule.terms]
    yield Paragraph(f"${name}$ appears in {tex.and_list(feeds)}:" if feeds else f"${name}$:")
    (first, *more), (value_first, *value_more) = tex.chain_rule_lines(name, rule.terms, True, full)
    yield Display(
        (f"{tex.grad(name)} &= {first}", *more, f"&= {value_first}", *value_more), aligned=True
    )


def _fits_as_matrix(cols: int, terms: int, full: bool) -> bool:
    """Whether a matrix of sums fits the width of a page (MATRIX_WIDTH, present/limits.py)."""
    shown_terms = min(terms, 4) if not full else terms
    return len(tex.visible(cols, full)) * max(shown_terms, 1) <= MATRIX_WIDTH


def _assembled(gradient: Gradient, full: bool) -> tuple[Block, ...]:
    """∂L/∂X assembled in the shape of X: a matrix, or its entries one per line when the sums
    are too wide for a matrix on a page."""
    rows, cols = gradient.shape
    terms = max((len(rule.terms) for row in gradient.entries for rule in row), default=0)
    symbol = gradient.variable
    shape = f"Assembled in the shape of ${symbol}$ (${tex.shape_latex(rows, cols)}$)"
    if _fits_as_matrix(cols, terms, full):
        matrix = tex.bmatrix(
            rows,
            cols,
            lambda i, j: tex.linear_form_latex(gradient.entries[i][j].terms, True, full),
            full,
        )
        return (Paragraph(f"{shape}:"), Display((f"{tex.grad(symbol)} = {matrix}",)))
    lines: list[str] = []
    for rule in _listed(gradient.entries, full):
        if rule is None:
            lines.append(GAP_LINE)
            continue
        items = [tex.term_latex(output, factor, True) for output, factor in rule.terms]
        lines += _equation_lines(tex.grad(layer.entry_name(rule.variable, rule.index)), items, full)
    return (
        Paragraph(
            f"{shape}, each entry of ${tex.slashed(symbol)}$ is the sum for "
            f"${layer.generic_entry(symbol)}$; the sums are too wide to set as a matrix, so here "
            "they are one per line:"
        ),
        Display(tuple(lines), aligned=True),
    )


def _product(variable: Variable, form: MatrixForm, derivation: Derivation, full: bool) -> Block:
    """The matrix form multiplied out, as the product of its factors and then entry by entry."""
    rows, cols = form.shape
    upstream_first = layer.upstream_first(variable)
    terms = max((len(entry) for row in form.entries for entry in row), default=0)
    symbols = derivation.symbols
    upstream = tex.symbol_matrix(symbols.upstream, full)
    factors = layer.factors_latex(variable, symbols, derivation.sizes, upstream, full)
    head = f"{layer.rule_latex(variable)} &= {factors}"
    if _fits_as_matrix(cols, terms, full):
        matrix = tex.bmatrix(
            rows,
            cols,
            lambda i, j: tex.linear_form_latex(form.entries[i][j], upstream_first, full),
            full,
        )
        return Display((head, f"&= {matrix}"), aligned=True)
    lines = [head]
    for i in tex.visible(rows, full):
        for j in tex.visible(cols, full):
            if i is None or j is None:
                if lines[-1] != GAP_LINE:
                    lines.append(GAP_LINE)
                continue
            items = [tex.term_latex(*term, upstream_first) for term in form.entries[i][j]]
            left = rf"\left({layer.rule_latex(variable)}\right)_{{{i + 1},{j + 1}}}"
            lines += _equation_lines(left, items, full)
    return Display(tuple(lines), aligned=True)


def worked(
    variable: Variable,
    derived: LayerDerivation,
    derivation: Derivation,
    full: bool,
    others: str,
    product: str,
) -> list[Block]:
    """The chain rule entry by entry (the first and the last unless ``full``; ``others`` says what
    of the rest), assembled, the matrix form multiplied out (``product`` names it), the check's
    verdict, the result."""
    gradient = derived.gradients[variable]
    total = gradient.shape[0] * gradient.shape[1]
    listed = [rule for rule in _listed(gradient.entries, full) if rule is not None]
    blocks: list[Block] = []
    for rule in listed[:-1] if len(listed) < total else listed:
        blocks.extend(_chain_rule_blocks(rule, full))
    if len(listed) < total:
        blocks.append(Paragraph(f"The other {total - len(listed)} entries {others}. The last:"))
        blocks.extend(_chain_rule_blocks(listed[-1], full))
    blocks.extend(_assembled(gradient, full))
    inline = layer.rule_latex(variable, layer.UPSTREAM_INLINE)
    blocks.append(Paragraph(f"Independently, {product}${inline}$ multiplied out:"))
    blocks.append(_product(variable, derived.products[variable], derivation, full))
    check = check_for(derived, variable)
    blocks.append(verdict(check, layer.rule_claim(variable)))
    if check.holds:
        blocks.append(Display((rf"\boxed{{{tex.grad(variable)} = {layer.rule_latex(variable)}}}",)))
    return blocks


def gradient_section(variable: Variable, derivation: Derivation, full: bool) -> Section:
    """Sections 3 and 4: the chain rule entry by entry, assembled, multiplied out, verified."""
    entry = layer.generic_entry(variable)
    intro = Paragraph(
        f"By the chain rule, ${tex.slashed(entry)} = \\sum_{{p,q}} "
        f"(\\partial L/\\partial a_{{p,q}})(\\partial a_{{p,q}}/\\partial {entry})$, "
        f"where only the entries of $A$ that contain ${entry}$ contribute. "
        "Differentiating the expanded entries of $A$:"
    )
    others = (
        "are computed the same way (the option --full prints them all); every one is verified below"
    )
    blocks = worked(variable, derivation.plain, derivation, full, others, "the matrix product ")
    title = f"The gradient with respect to {'Z (the input)' if variable == 'Z' else 'W'}"
    return Section(title, (intro, *blocks))
