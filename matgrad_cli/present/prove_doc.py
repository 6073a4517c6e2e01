"""The proof of `matgrad prove` as a document, for latex.py and markdown.py (its JSON: json.py).

Every line of a derivation is a ProofStep that SymPy computed; this module only lays them out.
A statement is boxed, and called proved, only when its Proof says so; otherwise the document
says NOT proved and why (SPEC section 4: a verification that could not fail is worthless). The
body speaks of the mathematics; one closing line says how matgrad verified it.
"""

from __future__ import annotations

from typing import Any

from ..core.layer import Layer
from ..core.proof import ProofReport
from .document import LINE_STRUT, Block, Display, Document, Paragraph, Section, Table
from .layer_latex import forward_latex
from .mathtex import grad
from .notation import shape_letters
from .prove_notation import ProofNotation, note_latex, proof_notation
from .prove_story import entry_ranges, forward_entries, provenance

#: The product sign of a shape: m \times k.
_TIMES = r" \times "

#: A gradient's generic entry, for the statement of the layout: with samples as rows, of a
#: generic matrix X; as columns, where X is the input k×m, of that X.
_GENERIC_ENTRY = {
    "rows": r"(i, r)$ is $\partial L/\partial x_{i,r}",
    "columns": r"(r, i)$ is $\partial L/\partial x_{r,i}",
}


def _columns_note(layer: Layer) -> tuple[Paragraph, ...]:
    """With samples as columns, which convention this is and how it maps to the rows one."""
    if layer.samples == "rows":
        return ()
    return (
        Paragraph(
            "Samples are the columns of $X$: $A = WX + b\\mathbf{1}_m^\\top$, with $W$ of size "
            "$n \\times k$, as in many courses and textbooks. With samples as rows "
            "(--samples rows), matgrad proves the gradients of $A = ZW + \\mathbf{1}_m b$ instead."
        ),
    )


def _title(variable: str, layer: Layer) -> str:
    """The gradient with respect to W, or to the bias b."""
    bias = "the bias " if layer.matrix(variable).role == "bias" else ""
    return f"The gradient with respect to {bias}{variable}"


def _statement_line(proof: ProofNotation, layer: Layer) -> str:
    """The identity for an aligned display: lhs &= rhs, with its shape."""
    left, right = grad(proof.variable), proof.claim_latex
    return rf"{LINE_STRUT} {left} &= {right} && ({shape_letters(proof.variable, _TIMES, layer)})"


def _entry_latex(entry: Any) -> str:
    """An indexed entry of the forward pass: z_{p,s}, or b_q with its one index."""
    indices = ",".join(map(str, entry.indices))
    return (
        f"{entry.base.label}_{{{indices}}}" if len(entry.indices) > 1 else f"{entry.base}_{indices}"
    )


def _statement(report: ProofReport, proofs: tuple[ProofNotation, ...]) -> Section:
    bias, layer = report.bias, report.layer
    named = [
        rf"${name}$ (${shape_letters(name, _TIMES, layer)}$)" for name in layer.variables(bias)
    ]
    matrices = ", ".join(named[:2]) + "".join(f" and {more}" for more in named[2:])
    given, entries = layer.role("input").name, forward_entries(report.samples, bias)
    unchanged = [
        Paragraph(
            f"With the bias, $\\partial L/\\partial {given}$ and $\\partial L/\\partial W$ are "
            f"claimed to be unchanged: the derivations below include ${_entry_latex(entry)}$ in "
            "every $a_{p,q}$, so they prove this too."
        )
        for entry in ([entries["b"]] if bias else [])
    ]
    return Section(
        "Statement",
        (
            Paragraph(
                f"For all positive integers $m$, $k$, $n$, all matrices {matrices}, and any "
                f"scalar loss $L$ of ${forward_latex(bias, layer)}$:"
            ),
            Display(tuple(_statement_line(proof, layer) for proof in proofs), aligned=True),
            Paragraph(
                "This is the size-independent proof that the explicit-size derivation "
                "illustrates: there every entry is written out at chosen sizes and the products "
                "are checked entry by entry, while here $m$, $k$, $n$ are symbols, the entries "
                "are indexed symbols, and every sum is symbolic."
            ),
            *unchanged,
        ),
    )


def _setting(report: ProofReport) -> Section:
    layer, entries = report.layer, forward_entries(report.samples, report.bias)
    rows = []
    for name, entry in entries.items():
        shape = f"${shape_letters(name, _TIMES, layer)}$"
        ranges = ", ".join(
            rf"$1 \le {index} \le {bound}$" for index, bound in entry_ranges(entry, report.samples)
        )
        if name == "A":
            rows.append((f"${forward_latex(report.bias, layer)}$", shape, "$a_{p,q}$", ranges))
        elif name == "G":
            rows.append(
                (r"$\partial L/\partial A$", shape, r"$\partial L/\partial a_{p,q}$", ranges)
            )
        else:
            rows.append((f"${name}$", shape, f"${_entry_latex(entry)}$", ranges))
    return Section(
        "Setting",
        (
            *_columns_note(layer),
            Paragraph(
                "The sizes $m$, $k$, $n$ are symbols: positive integers with no particular "
                "value. The entries are indexed symbols, with 1-based indices:"
            ),
            Table(("matrix", "shape", "entry", "indices"), tuple(rows)),
            Paragraph(
                "Convention: gradients are in denominator layout, so $\\partial L/\\partial X$ "
                "has the shape of $X$, as in the Matrix Cookbook, PyTorch and NumPy; its entry "
                f"at ${_GENERIC_ENTRY[layer.samples]}$. The Kronecker delta "
                "$\\delta_{x,y}$ is 1 when $x = y$ and 0 otherwise."
            ),
            Paragraph(
                "Method: two lines are written in, the forward pass (the definition of "
                "$a_{p,q}$) and the chain rule $\\partial L/\\partial x = \\sum_{p,q} "
                "(\\partial L/\\partial a_{p,q})\\,(\\partial a_{p,q}/\\partial x)$; every "
                "other line is computed. Differentiating $a_{p,q}$ turns the indexed entries "
                "into Kronecker deltas; each sum that a delta collapses is carried out, one sum "
                "per line; and the result is compared with "
                "the entry of the matrix product, multiplied out on its own: the difference "
                "must simplify to 0. A collapsed sum keeps its term only under a condition such "
                "as $r \\le k$; the condition is accepted only when it is the range of an index, "
                "and the line says so. A line that could not be carried out is marked NOT "
                "proved, and so is its identity."
            ),
        ),
    )


def _derivation_lines(proof: ProofNotation) -> tuple[str, ...]:
    """One aligned line per step: lhs &= result && (number) what was done."""
    lines = []
    for number, step in enumerate(proof.steps, start=1):
        label = rf"\text{{({number})}}\ {step.label}" if step.label else rf"\text{{({number})}}"
        left = f"{LINE_STRUT} {step.lhs_latex}" if step.lhs_latex else LINE_STRUT
        lines.append(f"{left} &{step.relation} {step.latex} && {label}")
    return tuple(lines)


def _identity_section(proof: ProofNotation, layer: Layer) -> Section:
    indices = proof.ranges_latex
    blocks: list[Block] = [
        Paragraph(
            f"To prove: ${proof.inline_statement_latex}$, that is, for every ${indices}$, "
            f"the entry $\\partial L/\\partial {proof.entry_latex}$ equals the entry of the "
            "right side. "
            "Each line is numbered; what was done to get it follows the derivation."
        ),
        Display(_derivation_lines(proof), aligned=True),
    ]
    blocks += [
        Paragraph(f"({number}) {step.description_latex}")
        for number, step in enumerate(proof.steps, start=1)
    ]
    if proof.proved:
        blocks.append(Paragraph("Proved, for every $m$, $k$, $n$:"))
        blocks.append(Display((rf"\boxed{{{proof.statement_latex}}}",)))
    else:
        blocks.append(
            Paragraph(
                f"NOT proved: {proof.reason_latex}. This document does not establish "
                f"${proof.inline_statement_latex}$."
            )
        )
    return Section(_title(proof.variable, layer), tuple(blocks))


def _closing(report: ProofReport, proofs: tuple[ProofNotation, ...]) -> Section:
    rows = tuple(
        (
            f"${proof.inline_statement_latex}$",
            f"${shape_letters(proof.variable, _TIMES, report.layer)}$",
            "proved" if proof.proved else "NOT proved",
        )
        for proof in proofs
    )
    if report.proved:
        verdict = Paragraph(
            "This proof holds for every $m$, $k$, $n$: the sizes stayed symbols throughout, and "
            "the only facts used about the indices are their ranges. Writing out every entry "
            "at explicit sizes, differentiating each and checking the products entry by entry "
            "gives a case of the identities proved here."
        )
    elif any(proof.proved for proof in report.proofs):
        verdict = Paragraph(
            "The identities marked NOT proved are not established by this document; the "
            "others hold for every $m$, $k$, $n$."
        )
    else:
        verdict = Paragraph("None of the identities is established by this document.")
    closing = Paragraph(note_latex(provenance(report), report.samples))
    table = Table(("identity", "shape", "result"), rows)
    return Section("For every size", (table, verdict, closing))


def proof_document(report: ProofReport, full: bool = False) -> Document:
    """The statement, the setting, one derivation per identity, and the closing argument."""
    proofs = tuple(proof_notation(proof) for proof in report.proofs)
    title = f"A proof for every size: the gradients of ${forward_latex(report.bias, report.layer)}$"
    sections = [_statement(report, proofs), _setting(report)]
    sections += [_identity_section(proof, report.layer) for proof in proofs]
    sections.append(_closing(report, proofs))
    return Document(title, tuple(sections))
