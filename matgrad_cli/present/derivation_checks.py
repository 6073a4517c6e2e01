"""What the checks of a derivation found, in words and in tables: the verdict of one check, how
a check failed, a result cell, and the summary of every check; read off each Check, so that a
document states only what was computed. The Jacobian document shares the words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..core.checks import Check
from ..core.layer import LAYERS, Variable
from ..core.model import Derivation, LayerDerivation
from . import layer_latex as layer
from . import mathtex as tex
from .document import Block, Paragraph, Section, Table

if TYPE_CHECKING:
    from ..core.jacobians import JacobianCheck


def check_for(derived: LayerDerivation, variable: Variable) -> Check:
    """The check of ``variable``'s backward rule in ``derived``."""
    return next(check for check in derived.checks if check.variable == variable)


def verdict(check: Check, claim: str) -> Paragraph:
    """What the check found, in words; the only place a result is stated."""
    count = check.entries_checked
    if check.holds:
        agree = "the only entry agrees" if count == 1 else f"all {count} entries agree"
        shape = tex.shape_latex(*check.shape)
        return Paragraph(f"Verified entry by entry: {agree}, so ${claim}$ (${shape}$).")
    return failure(check, claim)


def failure(
    check: Check | JacobianCheck,
    claim: str,
    computed: str = "the elementwise result",
    against: str = "the matrix form",
) -> Paragraph:
    """How a check failed: the shapes, or its first differing entry, ``computed`` against what
    ``against`` gives."""
    if check.claimed_shape != check.shape:
        return Paragraph(f"NOT verified: ${claim}$ fails, {rejection(check)}.")
    first = check.mismatches[0]
    return Paragraph(
        f"NOT verified: ${claim}$ fails at {check.mismatch_count} of {check.entries_checked} "
        f"entries; at entry ${first.index[0]},{first.index[1]}$ {computed} is "
        f"${tex.expr_latex(first.elementwise)}$ but {against} gives "
        f"${tex.expr_latex(first.claimed)}$."
    )


def rejection(check: Check | JacobianCheck) -> str:
    """Why a check failed, in words: the shapes differ, or how many entries."""
    if check.claimed_shape != check.shape:
        shapes = (
            f"${tex.shape_latex(*check.shape)}$ against ${tex.shape_latex(*check.claimed_shape)}$"
        )
        return f"the shapes differ ({shapes})"
    return f"{check.mismatch_count} of {check.entries_checked} entries differ"


def result_cell(check: Check | JacobianCheck) -> str:
    """A check's result in a summary table, short for a narrow page: holds and at how many of
    its entries, or FAILS and why."""
    count = check.entries_checked
    if check.holds:
        return f"holds ({count} of {count})"
    if check.claimed_shape != check.shape:
        return "FAILS (shapes differ)"
    return f"FAILS ({check.mismatch_count} of {count} differ)"


def _identity(check: Check) -> str:
    """The identity a check is about, as a table cell, read off what it compared."""
    symbol = tex.slashed(check.variable)
    if check.unchanged_by_bias:
        return f"${symbol}$ unchanged by $b$"
    rule = check.rule
    right = (
        # The rule's factors carry its convention.
        layer.rule_latex(rule.variable, layer.UPSTREAM_INLINE, layer=LAYERS[rule.left.samples])
        if rule is not None
        else r"\text{a claimed form}"
    )
    return f"${symbol} = {right}$"


def _rows(checks: Sequence[Check]) -> tuple[tuple[str, ...], ...]:
    """A row of the summary for each check: the identity, its shape, the layer, the result."""
    return tuple(
        (
            _identity(check),
            f"${tex.shape_latex(*check.shape)}$",
            "with bias" if check.bias else "without bias",
            result_cell(check),
        )
        for check in checks
    )


def summary_section(derivation: Derivation, brief: bool = False) -> Section:
    """Every check in a table (those of a concrete loss in a second one, with the check of its
    closed form), and the verdict on all of them; narrow enough for a plain article. ``brief``:
    the verdict on all of them in one sentence, unless one failed."""
    if brief and derivation.verified:
        checks = derivation.checks
        entries = sum(check.entries_checked for check in checks)
        return Section(
            "Summary",
            (
                Paragraph(
                    f"All {len(checks)} checks hold ({entries} entries): {_claims(derivation)}."
                ),
                Paragraph(provenance(derivation.engine)),
            ),
        )
    header = ("identity", "shape", "layer", "result (entries)")
    general = [check for check in derivation.checks if check.loss is None]
    blocks: list[Block] = [Table(header, _rows(general))]
    loss = derivation.loss
    if loss is not None:
        entries = loss.sizes.m * loss.sizes.n
        closed = (
            f"$\\partial L/\\partial A = {loss.definition.closed_form_latex}$",
            f"${tex.shape_latex(*loss.sizes.shape_of('A'))}$",
            "",
            f"holds ({entries} of {entries})" if loss.closed_form_holds else "FAILS",
        )
        blocks += [
            Paragraph(f"For the {loss.definition.title}, through the whole layer:"),
            Table(header, (closed, *_rows(loss.checks))),
        ]
    if not derivation.verified:
        return Section("Summary", (*blocks, Paragraph("Some identities FAIL: see above.")))
    return Section(
        "Summary",
        (
            *blocks,
            Paragraph("Every identity holds at every entry."),
            Paragraph(provenance(derivation.engine)),
        ),
    )


def _claims(derivation: Derivation) -> str:
    """The identities a verified derivation's checks established, in words."""
    convention = derivation.sizes.layer
    rules = [
        f"${layer.rule_claim(check.variable, layer=convention)}$"
        for check in derivation.plain.checks
    ]
    text = ", ".join(rules[:-1]) + f" and {rules[-1]}" if len(rules) > 1 else rules[0]
    if derivation.biased is not None:
        first, second = convention.variables(bias=False)
        text += (
            f", with and without the bias, and ${layer.rule_claim('b', layer=convention)}$; the "
            f"bias leaves ${tex.slashed(first)}$ and ${tex.slashed(second)}$ unchanged"
        )
    if derivation.loss is not None:
        text += f"; under the {derivation.loss.definition.title} as well"
    return text


#: How the closing line of a verified document begins; the one place a document names the
#: software behind it.
PROVENANCE = "Every equality above was verified by matgrad"


def provenance(engine: str) -> str:
    """The closing line of a verified document: who verified every equality, and how."""
    name = "SymPy" if engine == "sympy" else engine
    return (
        f"{PROVENANCE} in exact symbolic arithmetic ({name}): every entry differentiated from the "
        "expanded entries of $A$ and compared with the matrix product multiplied out on its own."
    )
