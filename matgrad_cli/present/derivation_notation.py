"""The derivation document's notation in LaTeX, and the pieces its sections share.

Entry names, gradients, shapes and matrix forms are written here once for derivation_doc.py and
derivation_loss.py; so are the verdict of a Check in words and the entries of the forward pass.
"""

from __future__ import annotations

from ..core.checks import Check
from ..core.layer import LAYER, Variable
from ..core.model import LayerDerivation
from .document import Paragraph
from .layer_latex import UPSTREAM_INLINE, rule_latex
from .limits import FORWARD_LIST
from .mathtex import elide, expr_latex, partial_latex, sum_lines

NAMES: dict[Variable, str] = {"Z": "Z", "W": "W", "b": "b"}

#: The generic entry of each variable.
GENERIC: dict[Variable, str] = {"Z": "z_{i,r}", "W": "w_{r,j}", "b": "b_j"}

#: The matrix forms of the gradients, from the layer's backward rules.
PRODUCTS: dict[Variable, str] = {name: rule_latex(name) for name in LAYER.variables(bias=True)}

#: The same products for running text, with ∂L/∂A slashed.
INLINE_PRODUCTS: dict[Variable, str] = {
    name: rule_latex(name, UPSTREAM_INLINE) for name in LAYER.variables(bias=True)
}

#: The line that marks entries left out of an aligned list.
GAP_LINE = r"& \;\;\vdots"


def entry_name(variable: Variable, index: tuple[int, int]) -> str:
    """z_{i,r}, w_{r,j} or b_j."""
    if variable == "b":
        return f"b_{{{index[1]}}}"
    return f"{variable.lower()}_{{{index[0]},{index[1]}}}"


def grad(variable: str) -> str:
    """∂L/∂x as a display fraction."""
    return partial_latex("L", variable)


def slashed(variable: str) -> str:
    """∂L/∂x written with a slash, for running text and tables."""
    return rf"\partial L/\partial {variable}"


def shape_latex(rows: int, cols: int) -> str:
    """rows × cols."""
    return rf"{rows} \times {cols}"


def verdict(check: Check, claim: str) -> Paragraph:
    """What the check found, in words; the only place a result is stated."""
    count = check.entries_checked
    if check.holds:
        agree = "the only entry agrees" if count == 1 else f"all {count} entries agree"
        return Paragraph(
            f"Verified entry by entry: {agree}, so ${claim}$ (${shape_latex(*check.shape)}$)."
        )
    if check.claimed_shape != check.shape:
        return Paragraph(
            f"NOT verified: ${claim}$ fails, the shapes differ "
            f"(${shape_latex(*check.shape)}$ against ${shape_latex(*check.claimed_shape)}$)."
        )
    first = check.mismatches[0]
    return Paragraph(
        f"NOT verified: ${claim}$ fails at {check.mismatch_count} of {count} entries; "
        f"at entry ${first.index[0]},{first.index[1]}$ the elementwise result is "
        f"${expr_latex(first.elementwise)}$ but the matrix form gives "
        f"${expr_latex(first.claimed)}$."
    )


def rule_claim(variable: Variable) -> str:
    """∂L/∂X = its matrix form, for running text."""
    return f"{slashed(NAMES[variable])} = {INLINE_PRODUCTS[variable]}"


def check_for(layer: LayerDerivation, variable: Variable) -> Check:
    """The check of ``variable``'s backward rule in ``layer``."""
    return next(check for check in layer.checks if check.variable == variable)


def identity_latex(check: Check) -> str:
    """The identity a check is about, in LaTeX, read off what it compared."""
    symbol = slashed(NAMES[check.variable])
    if check.unchanged_by_bias:
        return rf"{symbol}\big\vert_{{\text{{with }} b}} = {symbol}\big\vert_{{b = 0}}"
    rule = check.rule
    right = INLINE_PRODUCTS[rule.variable] if rule is not None else r"\text{a claimed form}"
    return f"{symbol} = {right}"


def forward_entries(rows: int, cols: int, full: bool) -> list[tuple[int, int] | None]:
    """The (0-based) entries of A the forward pass writes out, None marking the gap."""
    every = [(p, q) for p in range(rows) for q in range(cols)]
    if full or len(every) <= FORWARD_LIST:
        return list(every)
    first_row = [(0, q) for q in range(min(cols, 2))] + ([(0, cols - 1)] if cols > 2 else [])
    last_row = [(rows - 1, 0), (rows - 1, cols - 1)] if cols > 1 else [(rows - 1, 0)]
    return [*first_row, None, *last_row]


def forward_lines(layer: LayerDerivation, full: bool) -> tuple[str, ...]:
    """a_{p,q} = Σ_s z_{p,s} w_{s,q} (+ b_q), from the ordered terms of each entry; a long sum
    keeps its last product before the bias term."""
    lines: list[str] = []
    for entry in forward_entries(layer.sizes.m, layer.sizes.n, full):
        if entry is None:
            lines.append(GAP_LINE)
            continue
        p, q = entry
        terms = [expr_latex(term) for term in layer.outputs[p][q].terms]
        bias = [terms.pop()] if layer.bias else []
        first, *more = sum_lines(elide(terms, full=full) + bias, full=True)
        lines += [f"a_{{{p + 1},{q + 1}}} &= {first}", *more]
    return tuple(lines)
