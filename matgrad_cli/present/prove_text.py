"""The proof of `matgrad prove` for the terminal, rendered with rich (80 columns by default).

The same content as the document: the statement, the setting, then per identity the derivation
with one numbered line per step and what was done for each, and a closing table with the one
line that says how matgrad verified it. g_{p,q} stands for ∂L/∂a_{p,q} (SPEC section 1 lets
plain output abbreviate it). A ✓ is printed only for an identity whose Proof is proved.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.text import Text

from ..core.layer import Layer
from ..core.proof import ProofReport
from . import notation as plain
from . import terminal as ui
from .prove_notation import ProofNotation, expr_text, note_text, proof_notation
from .prove_story import entry_ranges, forward_entries, provenance


def _statement(report: ProofReport) -> Iterator[RenderableType]:
    """What is proved: each identity with its shape, for every size and any scalar loss."""
    layer, bias = report.layer, report.bias
    named = [
        f"{name} ({plain.shape_letters(name, ' × ', layer)})" for name in layer.variables(bias)
    ]
    matrices = ", ".join(named[:2]) + "".join(f" and {more}" for more in named[2:])
    identity_width = max(cell_len(proof.identity) for proof in report.proofs)
    yield ui.Hanging(
        f"For all positive integers m, k, n, all matrices {matrices}, and any scalar "
        f"loss L of {plain.forward_text(bias, layer=layer)}:"
    )
    for proof in report.proofs:
        padding = " " * (identity_width - cell_len(proof.identity))
        shape = plain.shape_letters(proof.variable, " × ", layer)
        yield Text(f"  {proof.identity}{padding}   ({shape})")
    yield ui.blank()
    yield ui.Hanging(
        "This is the size-independent proof that the explicit-size derivation "
        "illustrates: there every entry is written out at chosen sizes, while here "
        "m, k, n are symbols, the entries are indexed symbols, and every sum is "
        "symbolic."
    )
    if report.bias:
        given = layer.role("input").name
        bias_entry = expr_text(forward_entries(report.samples, bias)["b"])
        yield ui.blank()
        yield ui.Hanging(
            f"With the bias, ∂L/∂{given} and ∂L/∂W are claimed to be unchanged: the "
            f"derivations below include {bias_entry} in every a_{{p,q}}, so they prove this too."
        )


def _setting(report: ProofReport) -> Iterator[RenderableType]:
    """The symbols, the layout, and the method."""
    found = forward_entries(report.samples, report.bias)
    matrices = [name for name in found if name not in ("A", "G")]
    entries = ", ".join(f"{expr_text(found[name])} of {name}" for name in matrices)
    ranges = {
        index: bound
        for entry in found.values()
        for index, bound in entry_ranges(entry, report.samples)
    }
    bounds = ", ".join(
        f"1 ≤ {index} ≤ {ranges[index]}"
        for index in sorted(ranges, key=lambda index: "psq".index(str(index)))
    )
    if report.samples == "columns":
        yield ui.Hanging(
            "Samples are the columns of X: A = WX + b1ₘᵀ, with W of size n × k, as in many "
            "courses and textbooks. With samples as rows (--samples rows), matgrad proves the "
            "gradients of A = ZW + 1ₘb instead."
        )
        yield ui.blank()
    yield ui.Hanging(
        "The sizes m, k, n are symbols: positive integers with no particular value. The "
        f"entries are indexed symbols with 1-based indices: {entries}, a_{{p,q}} of A, "
        f"and g_{{p,q}} = ∂L/∂a_{{p,q}} of G = ∂L/∂A, for {bounds}."
    )
    yield ui.blank()
    yield ui.Hanging(
        "Gradient (denominator) layout: ∂L/∂X has the shape of X, as in the Matrix "
        "Cookbook, PyTorch and NumPy. δ_{x,y} is the Kronecker delta: 1 when x = y, "
        "0 otherwise."
    )
    yield ui.blank()
    yield ui.Hanging(
        "Two lines are written in, the forward pass (the definition) and the chain "
        "rule; every other line is computed. Differentiating a_{p,q} turns the indexed "
        "entries into Kronecker deltas, each sum a delta collapses is carried out, one "
        "sum per line, and the result is compared with the entry of the matrix product, "
        "multiplied out on its own: the difference must simplify to 0. A collapsed sum "
        "keeps its term only under a condition such as r ≤ k, accepted only when it is "
        "the range of an index; a line that could not be carried out is marked NOT "
        "proved."
    )


@dataclass(frozen=True)
class NumberedSteps:
    """The numbered lines of a proof, their = signs aligned, each wrapped to the width."""

    proof: ProofNotation

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        steps = self.proof.steps
        tags = [f" ({number})" for number in range(1, len(steps) + 1)]
        tag_width = max(cell_len(tag) for tag in tags)
        lhs_width = max(cell_len(step.lhs) for step in steps)
        relations = ["=" if step.proved else "?=" for step in steps]
        relation_width = max(cell_len(relation) for relation in relations)
        for tag, step, relation in zip(tags, steps, relations, strict=True):
            lhs = " " * (lhs_width - cell_len(step.lhs)) + step.lhs
            prefix = f"{tag:<{tag_width}} {lhs} {relation:>{relation_width}} "
            text = "\n".join(ui.hanging_lines(prefix, step.text, options.max_width))
            yield Text(text, style="" if step.proved else ui.STYLE_BAD, overflow="fold")


def _identity(proof: ProofNotation) -> Iterator[RenderableType]:
    """One identity: what is to be proved, the numbered derivation, what each step did, and
    the verdict (✓ only when the Proof is proved)."""
    yield ui.Hanging(f"To prove: {proof.identity}, entry by entry, for every {proof.ranges}.")
    yield ui.blank()
    yield NumberedSteps(proof)
    yield ui.blank()
    for number, step in enumerate(proof.steps, start=1):
        yield ui.Hanging(
            step.description, f" ({number}) ", ui.STYLE_NOTE if step.proved else ui.STYLE_BAD
        )
    yield ui.blank()
    if proof.proved:
        yield Text.assemble(("✓ Proved for every m, k, n: ", ui.STYLE_GOOD), proof.identity)
    else:
        verdict = f"{proof.reason}. This does not establish {proof.identity}."
        yield ui.Hanging(verdict, "✗ NOT proved: ", ui.STYLE_BAD)


def _title(variable: str, layer: Layer) -> str:
    """``∂L/∂Z``, or ``∂L/∂b, the bias``."""
    return f"∂L/∂{variable}" + (", the bias" if layer.matrix(variable).role == "bias" else "")


def _closing(report: ProofReport) -> Iterator[RenderableType]:
    """Every identity with its result, and what the proof establishes."""
    rows = [
        (
            proof.identity,
            plain.shape_letters(proof.variable, " × ", report.layer),
            ui.outcome("✓ proved" if proof.proved else "✗ NOT proved", proof.proved),
        )
        for proof in report.proofs
    ]
    yield ui.results_table(("identity", "shape", "result"), rows, no_wrap=("shape", "result"))
    yield ui.blank()
    if report.proved:
        verdict = (
            "This proof holds for every m, k, n: the sizes stayed symbols throughout, and "
            "the only facts used about the indices are their ranges."
        )
    elif any(proof.proved for proof in report.proofs):
        verdict = (
            "The identities marked NOT proved are not established here; the others hold "
            "for every m, k, n."
        )
    else:
        verdict = "None of the identities is established here."
    yield ui.Hanging(verdict)
    yield ui.blank()
    yield ui.Hanging(note_text(provenance(report), report.samples))


def proof_view(report: ProofReport) -> ui.Sections:
    """The whole proof as rich renderables, laid out for the console's width: a title, then
    the statement, the setting, one section per identity and the closing table."""
    sections = [
        ui.Section("Statement", tuple(_statement(report))),
        ui.Section("Setting", tuple(_setting(report))),
        *(
            ui.Section(
                _title(proof.variable, report.layer), tuple(_identity(proof_notation(proof)))
            )
            for proof in report.proofs
        ),
        ui.Section("For every size", tuple(_closing(report))),
    ]
    forward = plain.forward_text(report.bias, layer=report.layer)
    title = f"A proof for every size: the gradients of {forward}"
    return ui.Sections(sections, lead=ui.Hanging(title, style="bold"))
