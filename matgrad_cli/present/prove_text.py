"""The proof of `matgrad prove` for the terminal, rendered with rich (80 columns by default).

The same content as the document: the statement, the setting, then per identity the derivation
with one numbered line per CAS step and what was done for each, and a closing table. g_{p,q}
stands for ∂L/∂a_{p,q} (SPEC section 1 lets plain output abbreviate it). A ✓ is printed only for
an identity whose Proof is proved.
"""

from __future__ import annotations

import re

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from ..core.proof import Proof, ProofReport
from .text import render_to_text

_STYLE_HEADING = "bold cyan"
_STYLE_GOOD = "bold green"
_STYLE_BAD = "bold red"
_STYLE_NOTE = "dim"

_SHAPES = {"Z": "m × k", "W": "k × n", "b": "1 × n"}
_TITLES = {"Z": "∂L/∂Z", "W": "∂L/∂W", "b": "∂L/∂b, the bias"}


def _layer(bias: bool) -> str:
    return "A = ZW + 1ₘb" if bias else "A = ZW"


#: A relation or product sign between two spaces; the three are kept on one line.
_GLUED = re.compile(r" ([≤×=]) ")
_GLUE = "\u00a0"


def _wrapped(prefix: str, body: str, width: int) -> list[str]:
    """``prefix`` then ``body``, broken at spaces to fit ``width``; continuation lines are
    indented to where the body starts. ``1 ≤ r ≤ k`` and ``m × k`` are never broken."""
    indent = " " * cell_len(prefix)
    lines: list[str] = []
    current, fresh = prefix, True
    for word in _GLUED.sub(f"{_GLUE}\\1{_GLUE}", body).split(" "):
        candidate = current + word if fresh else f"{current} {word}"
        if fresh or cell_len(candidate) <= width:
            current, fresh = candidate, False
        else:
            lines.append(current)
            current = indent + word
    lines.append(current)
    return [line.replace(_GLUE, " ") for line in lines]


def _paragraph(text: str, width: int, prefix: str = "", style: str = "") -> Text:
    """A paragraph wrapped by ``_wrapped``, as one rich Text."""
    return Text("\n".join(_wrapped(prefix, text, width)), style=style, overflow="fold")


class ProofView:
    """The whole proof as rich renderables, laid out for the console's width."""

    def __init__(self, report: ProofReport) -> None:
        self.report = report

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        report = self.report
        yield _paragraph(
            f"A proof for every size: the gradients of {_layer(report.bias)}", width, style="bold"
        )
        sections = [
            ("Statement", self._statement(width)),
            ("Setting", self._setting(width)),
            *((_TITLES[proof.variable], self._identity(proof, width)) for proof in report.proofs),
            ("For every size", self._closing(width)),
        ]
        for number, (title, blocks) in enumerate(sections, start=1):
            yield Text("")
            yield Rule(Text(f"{number}. {title}", style=_STYLE_HEADING), align="left")
            yield from blocks

    def _statement(self, width: int) -> list[RenderableType]:
        report = self.report
        matrices = "Z (m × k), W (k × n)" + (" and b (1 × n)" if report.bias else "")
        identity_width = max(cell_len(proof.identity) for proof in report.proofs)
        blocks: list[RenderableType] = [
            _paragraph(
                f"For all positive integers m, k, n, all matrices {matrices}, and any scalar "
                f"loss L of {_layer(report.bias)}:",
                width,
            )
        ]
        for proof in report.proofs:
            padding = " " * (identity_width - cell_len(proof.identity))
            blocks.append(Text(f"  {proof.identity}{padding}   ({_SHAPES[proof.variable]})"))
        blocks += [
            Text(""),
            _paragraph(
                "This is the size-independent proof that the explicit-size derivation "
                "illustrates: matgrad derive writes every entry out at chosen sizes, while here "
                "m, k, n are symbols, the entries are indexed symbols, and every sum is "
                "symbolic.",
                width,
            ),
        ]
        if report.bias:
            blocks += [
                Text(""),
                _paragraph(
                    "With the bias, ∂L/∂Z and ∂L/∂W are claimed to be unchanged: the "
                    "derivations below include b_q in every a_{p,q}, so they prove this too.",
                    width,
                ),
            ]
        return blocks

    def _setting(self, width: int) -> list[RenderableType]:
        bias = self.report.bias
        entries = "z_{p,s} of Z, w_{s,q} of W" + (", b_q of b" if bias else "")
        return [
            _paragraph(
                "The sizes m, k, n are SymPy symbols: positive integers with no value. The "
                f"entries are indexed symbols with 1-based indices: {entries}, a_{{p,q}} of A, "
                "and g_{p,q} = ∂L/∂a_{p,q} of G = ∂L/∂A, for 1 ≤ p ≤ m, 1 ≤ s ≤ k, 1 ≤ q ≤ n.",
                width,
            ),
            Text(""),
            _paragraph(
                "Gradient (denominator) layout: ∂L/∂X has the shape of X, as in the Matrix "
                "Cookbook, PyTorch and NumPy. δ_{x,y} is the Kronecker delta: 1 when x = y, "
                "0 otherwise.",
                width,
            ),
            Text(""),
            _paragraph(
                "Every line below is computed by SymPy: sympy.diff for ∂a_{p,q}/∂x, "
                "Kronecker-delta summation (Sum.doit) for each sum a delta collapses, and "
                "simplify for the comparison with the entry of the matrix product, which "
                "SymPy computes on its own. Only the forward pass (the definition) and the "
                "chain rule are written in. A condition SymPy attaches, such as r ≤ k, is "
                "accepted only when it is the range of an index; anything SymPy cannot finish "
                "is marked NOT proved.",
                width,
            ),
        ]

    def _identity(self, proof: Proof, width: int) -> list[RenderableType]:
        blocks: list[RenderableType] = [
            _paragraph(
                f"To prove: {proof.identity}, entry by entry, for every {proof.ranges}.", width
            ),
            Text(""),
            *self._derivation(proof, width),
            Text(""),
        ]
        for number, step in enumerate(proof.steps, start=1):
            style = _STYLE_NOTE if step.proved else _STYLE_BAD
            blocks.append(_paragraph(step.description, width, f" ({number}) ", style))
        blocks.append(Text(""))
        if proof.proved:
            blocks.append(
                Text.assemble(("✓ Proved for every m, k, n: ", _STYLE_GOOD), proof.identity)
            )
        else:
            verdict = f"{proof.reason}. This does not establish {proof.identity}."
            blocks.append(_paragraph(verdict, width, "✗ NOT proved: ", _STYLE_BAD))
        return blocks

    def _derivation(self, proof: Proof, width: int) -> list[RenderableType]:
        """The numbered lines, their = signs aligned under each other."""
        steps = proof.steps
        tags = [f" ({number})" for number in range(1, len(steps) + 1)]
        tag_width = max(cell_len(tag) for tag in tags)
        lhs_width = max(cell_len(step.lhs) for step in steps)
        relations = ["=" if step.proved else "?=" for step in steps]
        relation_width = max(cell_len(relation) for relation in relations)
        lines: list[RenderableType] = []
        for tag, step, relation in zip(tags, steps, relations, strict=True):
            lhs = " " * (lhs_width - cell_len(step.lhs)) + step.lhs
            prefix = f"{tag:<{tag_width}} {lhs} {relation:>{relation_width}} "
            text = "\n".join(_wrapped(prefix, step.text, width))
            lines.append(Text(text, style="" if step.proved else _STYLE_BAD, overflow="fold"))
        return lines

    def _closing(self, width: int) -> list[RenderableType]:
        report = self.report
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        table.add_column("identity")
        table.add_column("shape", no_wrap=True)
        table.add_column("result", no_wrap=True)
        for proof in report.proofs:
            result = (
                Text("✓ proved", style=_STYLE_GOOD)
                if proof.proved
                else Text("✗ NOT proved", style=_STYLE_BAD)
            )
            table.add_row(proof.identity, _SHAPES[proof.variable], result)
        if report.proved:
            verdict = (
                "This proof holds for every m, k, n: the sizes stayed symbols throughout, and "
                "the only facts used about the indices are their ranges. matgrad derive "
                "illustrates it at explicit sizes, entry by entry."
            )
        elif any(proof.proved for proof in report.proofs):
            verdict = (
                "The identities marked NOT proved are not established here; the others hold "
                "for every m, k, n."
            )
        else:
            verdict = "None of the identities is established here."
        return [table, Text(""), _paragraph(verdict, width)]


def render_proof_text(report: ProofReport, *, width: int = 80, color: bool = False) -> str:
    """The text view as a string, laid out for ``width`` columns (ANSI colours if ``color``)."""
    return render_to_text(ProofView(report), width=width, color=color)
