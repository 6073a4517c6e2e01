"""The proof of `matgrad prove` as a document, for latex.py and markdown.py (its JSON: json.py).

Every line of a derivation is a ProofStep that SymPy computed; this module only lays them out.
A statement is boxed, and called proved, only when its Proof says so; otherwise the document
says NOT proved and why (SPEC section 4: a verification that could not fail is worthless). The
body speaks of the mathematics; one closing line says how matgrad verified it.
"""

from __future__ import annotations

from ..core.layer import LAYER
from ..core.proof import ProofReport
from .document import LINE_STRUT, Block, Display, Document, Paragraph, Section, Table
from .layer_latex import forward_latex
from .mathtex import grad
from .notation import shape_letters
from .prove_notation import ProofNotation, note_latex, proof_notation
from .prove_story import provenance

#: The product sign of a shape: m \times k.
_TIMES = r" \times "


def _title(variable: str) -> str:
    """The gradient with respect to W, or to the bias b."""
    bias = "the bias " if LAYER.matrix(variable).role == "bias" else ""
    return f"The gradient with respect to {bias}{variable}"


def _statement_line(proof: ProofNotation) -> str:
    """The identity for an aligned display: lhs &= rhs, with its shape."""
    left, right = grad(proof.variable), proof.claim_latex
    return rf"{LINE_STRUT} {left} &= {right} && ({shape_letters(proof.variable, _TIMES)})"


def _statement(report: ProofReport, proofs: tuple[ProofNotation, ...]) -> Section:
    bias = report.bias
    matrices = r"$Z$ ($m \times k$), $W$ ($k \times n$)" + (
        r" and $b$ ($1 \times n$)" if bias else ""
    )
    unchanged = Paragraph(
        "With the bias, $\\partial L/\\partial Z$ and $\\partial L/\\partial W$ are claimed to be "
        "unchanged: the derivations below include $b_q$ in every $a_{p,q}$, so they prove this too."
    )
    return Section(
        "Statement",
        (
            Paragraph(
                f"For all positive integers $m$, $k$, $n$, all matrices {matrices}, and any "
                f"scalar loss $L$ of ${forward_latex(bias)}$:"
            ),
            Display(tuple(_statement_line(proof) for proof in proofs), aligned=True),
            Paragraph(
                "This is the size-independent proof that the explicit-size derivation "
                "illustrates: there every entry is written out at chosen sizes and the products "
                "are checked entry by entry, while here $m$, $k$, $n$ are symbols, the entries "
                "are indexed symbols, and every sum is symbolic."
            ),
            *([unchanged] if bias else []),
        ),
    )


def _setting(report: ProofReport) -> Section:
    rows = [
        ("$Z$", r"$m \times k$", "$z_{p,s}$", r"$1 \le p \le m$, $1 \le s \le k$"),
        ("$W$", r"$k \times n$", "$w_{s,q}$", r"$1 \le s \le k$, $1 \le q \le n$"),
    ]
    if report.bias:
        rows.append(("$b$", r"$1 \times n$", "$b_q$", r"$1 \le q \le n$"))
    shape, indices = r"$m \times n$", r"$1 \le p \le m$, $1 \le q \le n$"  # of A and ∂L/∂A
    rows.append((f"${forward_latex(report.bias)}$", shape, "$a_{p,q}$", indices))
    rows.append((r"$\partial L/\partial A$", shape, r"$\partial L/\partial a_{p,q}$", indices))
    return Section(
        "Setting",
        (
            Paragraph(
                "The sizes $m$, $k$, $n$ are symbols: positive integers with no particular "
                "value. The entries are indexed symbols, with 1-based indices:"
            ),
            Table(("matrix", "shape", "entry", "indices"), tuple(rows)),
            Paragraph(
                "Convention: gradients are in denominator layout, so $\\partial L/\\partial X$ "
                "has the shape of $X$, as in the Matrix Cookbook, PyTorch and NumPy; its entry "
                "at $(i, r)$ is $\\partial L/\\partial x_{i,r}$. The Kronecker delta "
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


def _identity_section(proof: ProofNotation) -> Section:
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
    return Section(_title(proof.variable), tuple(blocks))


def _closing(report: ProofReport, proofs: tuple[ProofNotation, ...]) -> Section:
    rows = tuple(
        (
            f"${proof.inline_statement_latex}$",
            f"${shape_letters(proof.variable, _TIMES)}$",
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
    closing = Paragraph(note_latex(provenance(report)))
    table = Table(("identity", "shape", "result"), rows)
    return Section("For every size", (table, verdict, closing))


def proof_document(report: ProofReport, full: bool = False) -> Document:
    """The statement, the setting, one derivation per identity, and the closing argument."""
    proofs = tuple(proof_notation(proof) for proof in report.proofs)
    title = f"A proof for every size: the gradients of ${forward_latex(report.bias)}$"
    sections = [_statement(report, proofs), _setting(report)]
    sections += [_identity_section(proof) for proof in proofs]
    sections.append(_closing(report, proofs))
    return Document(title, tuple(sections))
