"""A network's proof (`matgrad prove --hidden …`) as a document, as JSON data and as a terminal
view: the statement of the recursion, the setting, one derivation per identity from the top down,
and the closing table. An identity is boxed, and called proved, only when its proof says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from rich.console import RenderableType
from rich.text import Text
from sympy import sstr

from ..core.network_proof import NetworkProofReport
from . import terminal as ui
from .document import LINE_STRUT, Block, Display, Document, Paragraph, Section, Table
from .network_prove_notation import NetworkProofNotation, report_notation


def _layers(report: NetworkProofReport) -> str:
    """The network in words: its layers and activations."""
    hidden = report.depth - 1
    layers = f"{report.depth} layer{'s' if report.depth > 1 else ''}"
    parts = [f"{hidden} hidden with the activation {report.activation.name}"] if hidden else []
    parts.append(f"the output activation {report.output_activation.name}")
    bias = "with biases" if report.bias else "without biases"
    return f"{layers} ({', '.join(parts)}), {bias}"


def _widths(report: NetworkProofReport, latex: bool) -> str:
    names = [str(width) for width in report.setting.widths]
    if latex:
        names = [name.replace("d_", "d_{") + "}" if "_" in name else name for name in names]
        return ", ".join(f"${name}$" for name in names)
    return ", ".join(names)


def _forward_latex(report: NetworkProofReport) -> str:
    bias = r" + \mathbf{1} b_{\ell}" if report.bias else ""
    forward = rf"A_{{\ell}} = H_{{\ell-1}} W_{{\ell}}{bias}"
    return rf"{forward},\quad H_{{\ell}} = \sigma_{{\ell}}(A_{{\ell}})"


_METHOD = (
    "Every identity is one rule of the backward pass, proved for one layer with the entries "
    "of the layer above as given symbols; together, from the top down, they are the whole "
    "recursion. Three kinds of line are written in: the definition (the forward pass or the "
    "activation), the definition of a piecewise-linear activation's derivative, and the chain "
    "rule. Every other line is computed: the partial derivative by differentiation, each sum a "
    "Kronecker delta collapses (its condition accepted only when it is an index range), and "
    "the entry of the right side, multiplied out from the matrices alone; the difference of the "
    "two sides must simplify to 0. A line that could not be carried out is marked NOT proved, "
    "and so is its identity."
)

_DIAGONAL = (
    "The activation acts entry by entry, so $\\partial h^{(\\ell)}_{p,q}/\\partial "
    "a^{(\\ell)}_{i,j} = \\delta_{i,p}\\,\\delta_{j,q}\\,\\sigma'(a^{(\\ell)}_{p,q})$: the "
    "Jacobian $\\partial \\operatorname{vec} H_\\ell/\\partial \\operatorname{vec} A_\\ell$ is "
    "the diagonal matrix $\\operatorname{diag}(\\sigma'(\\operatorname{vec} A_\\ell))$, and the "
    "chain rule through it is the entrywise product $\\odot\\,\\sigma'(A_\\ell)$."
)


def _steps(proof: NetworkProofNotation) -> Display:
    lines = []
    for number, step in enumerate(proof.steps, start=1):
        relation = "=" if step.proved else r"\overset{?}{=}"
        lines.append(
            rf"{LINE_STRUT} {step.lhs_latex} &{relation} {step.latex} && \text{{({number})}}"
        )
    return Display(tuple(lines), aligned=True)


def _identity(proof: NetworkProofNotation) -> Section:
    blocks: list[Block] = [
        Paragraph(
            f"To prove: ${proof.statement_latex}$, entry by entry, for every "
            f"${proof.ranges_latex}$."
        ),
        _steps(proof),
        *(
            Paragraph(f"({number}) {step.description_latex}")
            for number, step in enumerate(proof.steps, start=1)
        ),
    ]
    if proof.proved:
        blocks += [
            Paragraph("Proved, for every $m$ and every width:"),
            Display((rf"\boxed{{{proof.statement_latex}}}",)),
        ]
    else:
        blocks.append(
            Paragraph(
                f"NOT proved ({proof.reason_latex}). This document does not establish "
                f"${proof.statement_latex}$."
            )
        )
    return Section(f"The rule for $\\partial L/\\partial {_name_latex(proof.name)}$", tuple(blocks))


def _name_latex(name: str) -> str:
    return name if len(name) == 1 else f"{name[0]}_{{{name[1:]}}}"


def network_proof_document(report: NetworkProofReport, full: bool = False) -> Document:
    """The statement, the setting, one derivation per identity, and the closing table."""
    proofs = report_notation(report)
    statement = Section(
        "Statement",
        (
            Paragraph(
                f"For a network of {_layers(report)}, for every batch size $m$, all widths "
                f"{_widths(report, True)}, all matrices and any scalar loss $L$ of the output:"
            ),
            Display(
                tuple(proof.statement_latex.replace(" = ", " &= ", 1) for proof in proofs),
                aligned=True,
            ),
        ),
    )
    setting = Section(
        "Setting",
        (
            Paragraph(
                f"Layer $\\ell$ computes ${_forward_latex(report)}$ with $H_0 = X$. The batch "
                "$m$ and the widths are symbols (positive integers with no particular value); "
                "the entries are indexed symbols with 1-based indices: $x$ of $X$, "
                "$h^{(\\ell)}$ of $H_\\ell$, $w^{(\\ell)}$ of $W_\\ell$, $b^{(\\ell)}$ of "
                "$b_\\ell$ and $a^{(\\ell)}$ of $A_\\ell$. Gradients are in denominator layout: "
                "$\\partial L/\\partial W_\\ell$ has the shape of $W_\\ell$. "
                "$\\mathbf{1}[e > 0]$ is the step, 1 for $e > 0$ and 0 for $e \\le 0$."
            ),
            Paragraph(_DIAGONAL),
            Paragraph(_METHOD),
        ),
    )
    rows = tuple(
        (f"${proof.statement_latex}$", "proved" if proof.proved else "NOT proved")
        for proof in proofs
    )
    verdict = (
        "The whole backward pass holds for every $m$ and every width."
        if report.proved
        else "The identities marked NOT proved are not established by this document."
    )
    closing = Section(
        "The backward pass, for every size",
        (
            Table(("identity", "result"), rows),
            Paragraph(verdict),
            Paragraph(
                "matgrad verified every line with SymPy: each derivative, each collapsed sum "
                "and each difference was computed, none filled in from the identity under test."
            ),
        ),
    )
    title = f"A proof for every size: the backward pass of a network of {report.depth} layers"
    return Document(title, (statement, setting, *map(_identity, proofs), closing))


def network_proof_data(report: NetworkProofReport) -> dict[str, Any]:
    """The proofs as JSON data: every line with its LaTeX and SymPy form."""
    return {
        "kind": "network proof",
        "proved": report.proved,
        "layers": report.depth,
        # The hidden layers' activation; none without hidden layers.
        "activation": report.activation.name if report.depth > 1 else None,
        "output_activation": report.output_activation.name,
        "bias": report.bias,
        "sizes": "symbolic",
        "widths": [str(width) for width in report.setting.widths],
        "identities": [
            {
                "identity": proof.identity,
                "gradient": proof.name,
                "statement_latex": proof.statement_latex,
                "proved": proof.proved,
                "reason": proof.reason or None,
                "steps": [
                    {
                        "kind": step.kind,
                        "description": step.description,
                        "lhs": step.lhs_latex,
                        "latex": step.latex,
                        "sympy": sstr(step.expr) if step.expr is not None else None,
                        "proved": step.proved,
                    }
                    for step in proof.steps
                ],
            }
            for proof in report_notation(report)
        ],
    }


def render_network_proof_json(report: NetworkProofReport) -> str:
    """The JSON text of ``network_proof_data``."""
    return json.dumps(network_proof_data(report), indent=2, ensure_ascii=False) + "\n"


def _view_identity(proof: NetworkProofNotation) -> Iterator[RenderableType]:
    yield ui.Hanging(f"To prove: {proof.identity}, entry by entry, for every {proof.ranges}.")
    yield ui.blank()
    for number, step in enumerate(proof.steps, start=1):
        relation = "=" if step.proved else "?="
        style = "" if step.proved else ui.STYLE_BAD
        left = f"{step.lhs} {relation} " if step.lhs else f"{relation} "
        yield ui.Hanging(left + step.text, f" ({number}) ", style)
    yield ui.blank()
    for number, step in enumerate(proof.steps, start=1):
        style = ui.STYLE_NOTE if step.proved else ui.STYLE_BAD
        yield ui.Hanging(step.description, f" ({number}) ", style)
    yield ui.blank()
    if proof.proved:
        yield Text.assemble(("✓ Proved for every size: ", ui.STYLE_GOOD), proof.identity)
    else:
        yield ui.Hanging(
            f"{proof.reason}. This does not establish {proof.identity}.",
            "✗ NOT proved: ",
            ui.STYLE_BAD,
        )


def network_proof_view(report: NetworkProofReport) -> ui.Sections:
    """The whole proof for the terminal, in the document's order."""
    proofs = report_notation(report)
    statement: list[RenderableType] = [
        ui.Hanging(
            f"For a network of {_layers(report)}, for every batch size m, all widths "
            f"{_widths(report, False)}, all matrices and any scalar loss L of the output:"
        ),
        *(Text(f"  {proof.identity}") for proof in proofs),
    ]
    bias = " + 1bℓ" if report.bias else ""
    setting: list[RenderableType] = [
        ui.Hanging(
            f"Layer ℓ computes Aℓ = H₍ℓ₋₁₎Wℓ{bias}, Hℓ = σℓ(Aℓ), with H0 = X. m and the widths "
            "are symbols; the entries are indexed symbols with 1-based indices: x of X, hℓ of "
            "Hℓ, wℓ of Wℓ, bℓ of bℓ, aℓ of Aℓ, and gℓ_{p,q} = ∂L/∂aℓ_{p,q}, "
            "uℓ_{p,q} = ∂L/∂hℓ_{p,q}. 1[e > 0] is the step: 1 for e > 0, 0 for e ≤ 0."
        ),
        ui.blank(),
        ui.Hanging(
            "The activation acts entry by entry: ∂hℓ_{p,q}/∂aℓ_{i,j} = δ_{i,p} δ_{j,q} "
            "σ′(aℓ_{p,q}), so ∂vec Hℓ/∂vec Aℓ = diag(σ′(vec Aℓ)) and the chain rule through it "
            "is the entrywise product ⊙ σ′(Aℓ)."
        ),
        ui.blank(),
        ui.Hanging(_METHOD),
    ]
    rows = [
        (proof.identity, ui.outcome("✓ proved" if proof.proved else "✗ NOT proved", proof.proved))
        for proof in proofs
    ]
    closing = [ui.results_table(("identity", "result"), rows, no_wrap=("result",))]
    sections = [
        ui.Section("Statement", tuple(statement)),
        ui.Section("Setting", tuple(setting)),
        *(ui.Section(f"∂L/∂{proof.name}", tuple(_view_identity(proof))) for proof in proofs),
        ui.Section("The backward pass, for every size", tuple(closing)),
    ]
    title = f"A proof for every size: the backward pass of a network of {report.depth} layers"
    return ui.Sections(sections, lead=ui.Hanging(title, style="bold"))
