"""The verdicts of ``matgrad check`` on a network as a document (LaTeX, Markdown, HTML) and as
JSON, and the phrases they share with the terminal view (network_check_text.py).

Every report states the network it judged first, as the single layer's states its convention;
each wrong claim gets the right answer in claim syntax twice, as the backward pass writes it
(``dW1 = X.T @ dA1``) and in G alone (``X.T @ ((G @ W2.T) * relu'(A1))``), and the hint of the
slip it is, when the judge recognised one.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import lru_cache
from typing import Any

from ..core.claims import RefusedClaim, shape_text
from ..core.claims.network_slips import right_formula
from ..core.claims.network_verdict import NetworkCheckReport, NetworkVerdict
from ..core.engine import Engine, get_engine
from ..core.network import Network, NetworkSizes, forward_pass, network_symbols
from ..core.network_compare import NetworkEquality
from .check_doc import GRAMMAR_POINTER, STATUS, refusal
from .document import Block, Display, Document, Paragraph, Section, Table
from .limits import SUM_TERMS
from .mathtex import shape_latex

#: Above this many characters, an entry of the first difference is not written out (a network's
#: entries hold every layer below them); the JSON has it in full.
ENTRY_CHARACTERS = 600


def sizes_text(sizes: NetworkSizes) -> str:
    """``m = 5, k = 6, n = 7 (hidden width 4)``."""
    hidden = sizes.hidden
    widths = ""
    if hidden:
        plural = "s" if len(hidden) > 1 else ""
        widths = f" (hidden width{plural} {', '.join(map(str, hidden))})"
    return f"m = {sizes.m}, k = {sizes.k}, n = {sizes.n}{widths}"


def gradient_name(verdict: NetworkVerdict) -> str:
    """``∂L/∂W1``."""
    return f"∂L/∂{verdict.target}"


def in_upstream(verdict: NetworkVerdict, network: Network) -> str | None:
    """The right answer written in G and the network's matrices alone, when the judge's right
    answer names gradients found before it (``dA1``); None when it is the same text."""
    expanded = f"d{verdict.target} = {right_formula(network, verdict.target)}"
    return None if expanded == verdict.correct_formula else expanded


def upstream_words(network: Network) -> str:
    """What G stands for: ``G = ∂L/∂A2``, the gradient of the network's output."""
    return f"G = ∂L/∂{network.output_name}"


def compared_with(verdict: NetworkVerdict) -> str:
    """What a claim was compared with, in words."""
    where = ", ".join(f"{s.m}×{s.k}×{s.n}" for s in verdict.sizes_checked)
    return (
        f"compared with the network's gradient found by the chain rule through every layer "
        f"(and verified against the backpropagation recursion) at m×k×n = {where}"
    )


@lru_cache(maxsize=4)
def _naming(network: Network) -> tuple[Engine, NetworkEquality]:
    """The equality test's naming of every activation's value and derivative at the network's
    forward pass (core/network_compare.py), to write σ(aℓ_i_j) as hℓ_i_j."""
    engine = get_engine()
    symbols = network_symbols(network, engine)
    # From X, and from the symbols of each Aℓ, as the gradients of Aℓ are written.
    starts = range(network.depth + 1)
    passes = [forward_pass(network, symbols, engine, start) for start in starts]
    return engine, NetworkEquality(network, engine, passes)


def _named_text(expr: Any, network: Network) -> Any:
    """The entry with σ(e) and σ′(e) of the forward pass's arguments e named: hℓ_i_j, and the
    derivative as the claim language writes it, ``relu'(a1_1_2)``; a SymPy expression."""
    import sympy

    engine, equality = _naming(network)
    named = engine.to_sympy(equality.named(expr))
    renames: dict[Any, Any] = {}
    for symbol in named.free_symbols:
        match = _NAMED.fullmatch(symbol.name)
        if match is None:
            continue
        kind, layer, i, j = match.groups()
        if kind == "s":
            renames[symbol] = sympy.Symbol(f"h{layer}_{i}_{j}")
        elif network.activation_of(int(layer)).name == "leaky-relu":
            # leaky-relu′ is α + (1 − α)·step: the name stands for the step.
            renames[symbol] = sympy.Symbol(f"(a{layer}_{i}_{j} > 0)")
        else:
            word = derivative_word(network.activation_of(int(layer)).name)
            renames[symbol] = sympy.Symbol(f"{word}(a{layer}_{i}_{j})")
    return named.xreplace(renames)


#: The equality test's names of σ(e) (s) and σ′(e) (t) at entry (i, j) of Aℓ.
_NAMED = re.compile(r"matgrad_([st])(\d+)_(\d+)_(\d+)")


def derivative_word(name: str) -> str:
    """σ′ of an activation in claim syntax: ``relu'``, ``σ'`` for the generic one."""
    return {"generic": "σ", "leaky-relu": "leaky_relu"}.get(name, name) + "'"


def entry_text(expr: Any, network: Network) -> str | None:
    """An entry, its activations named, as SymPy writes it; a sum of more than SUM_TERMS terms
    elided in the middle; None when even that is longer than ENTRY_CHARACTERS."""
    from sympy import Add

    value = _named_text(expr, network)
    terms = list(value.as_ordered_terms()) if isinstance(value, Add) else [value]
    if len(terms) > SUM_TERMS:
        shown = [str(term) for term in terms[: SUM_TERMS - 2]]
        text = " + ".join([*shown, f"⋯ ({len(terms)} terms) ⋯", str(terms[-1])])
    else:
        text = str(value)
    text = text.replace("+ -", "- ")
    return text if len(text) <= ENTRY_CHARACTERS else None


def entry_note(verdict: NetworkVerdict, network: Network, math: bool = False) -> str | None:
    """What the symbols of a first differing entry stand for; ``math`` for a document."""
    if verdict.first_difference is None:
        return None
    output = network.output_name
    if math:
        entries = (
            r"$x_{i,j}$, $w^{(\ell)}_{i,j}$, $b^{(\ell)}_{j}$, $a^{(\ell)}_{i,j}$ and "
            r"$h^{(\ell)}_{i,j}$"
        )
        first = (
            f"{entries} are the entries of $X$, $W_\\ell$, $b_\\ell$, $A_\\ell$ and "
            f"$H_\\ell = \\sigma(A_\\ell)$; $g_{{i,j}}$ is entry $(i,j)$ of $G$"
        )
    else:
        first = (
            "x_i_j, wℓ_i_j, bℓ_j, aℓ_i_j and hℓ_i_j are the entries of X, Wℓ, bℓ, Aℓ and "
            f"Hℓ = σ(Aℓ); d{output}_i_j is entry (i,j) of G"
        )
    notes = [first]
    names = {network.activation.name, network.output_activation.name}
    if "relu" in names:
        notes.append("relu′ is 0 at 0")
    if "leaky-relu" in names:
        if math:
            notes.append(
                r"$[a > 0]$ is 1 where $a > 0$, else 0, and the leaky ReLU's derivative is "
                r"$\alpha + (1 - \alpha)[a > 0]$"
            )
        else:
            notes.append("(a > 0) is 1 where a > 0, else 0, and leaky-relu′ = α + (1 − α)(a > 0)")
    return "; ".join(notes)


def at_reported(verdict: NetworkVerdict, network: Network) -> Network:
    """The network at the sizes the verdict's findings were taken at."""
    return replace(network, sizes=verdict.reported_at)


def summary_count(report: NetworkCheckReport) -> str:
    """``3 of 4 claims correct.``, and how many could not be checked."""
    right = sum(verdict.correct for verdict in report.verdicts)
    total = len(report.verdicts) + len(report.refused)
    refused = f" ({len(report.refused)} not checked)" if report.refused else ""
    return f"{right} of {total} claims correct{refused}."


# --- the document ---------------------------------------------------------------------------

#: Signs of a network's prose that pdflatex cannot take as text, as inline maths (the Document's
#: prose may hold maths between $ signs in every format), and inside a code span as the claim
#: language's ASCII spellings.
_PROSE_SIGNS = {
    "σ": r"$\sigma$",
    "α": r"$\alpha$",
    "ℓ": r"$\ell$",
    "→": r"$\to$",
    "⊙": r"$\odot$",
    "⋯": r"$\cdots$",
    "≤": r"$\leq$",
    "₀": "$_0$",
}
_CODE_SIGNS = {"σ": "sigma", "α": "alpha", "⊙": ".*", "ℓ": "l", "⋯": "...", "→": "->", "≤": "<="}


def safe(text: str) -> str:
    """Prose and code spans (between backquotes) with the signs above spelled so that every
    printer, pdflatex's included, can set them."""
    pieces = text.split("`")
    for index, piece in enumerate(pieces):
        signs = _CODE_SIGNS if index % 2 else _PROSE_SIGNS
        for sign, spelled in signs.items():
            piece = piece.replace(sign, spelled)
        pieces[index] = piece
    return "`".join(pieces)


def _paragraph(text: str) -> Paragraph:
    return Paragraph(safe(text))


def _shapes(verdict: NetworkVerdict) -> list[Block]:
    rows = tuple(
        (safe(f"`{step.text}`"), f"${shape_latex(*step.shape)}$") for step in verdict.shape_steps
    )
    blocks: list[Block] = [
        _paragraph(f"Wrong shape. The shapes, step by step, at {sizes_text(verdict.reported_at)}:")
    ]
    if rows:
        blocks.append(Table(("part of the claim", "shape"), rows))
    if verdict.shape_message:
        blocks.append(_paragraph(verdict.shape_message + "."))
    return blocks


def _values(verdict: NetworkVerdict, network: Network) -> list[Block]:
    shape = shape_text(verdict.expected_shape)
    blocks: list[Block] = [
        _paragraph(
            f"The shape is right ({shape}, the shape of ${verdict.target}$), "
            "but the values are not."
        )
    ]
    difference = verdict.first_difference
    if difference is None:
        return blocks
    i, j = difference.index
    where = sizes_text(verdict.reported_at)
    there = at_reported(verdict, network)
    claimed = entry_text(difference.claimed_value, there)
    right = entry_text(difference.correct_value, there)
    if claimed is None or right is None:
        blocks.append(
            _paragraph(
                f"At {where}, entry $({i},{j})$ is the first that differs (too long to write "
                "out here; the JSON report has both in full)."
            )
        )
        return blocks
    blocks.append(_paragraph(f"At {where}, entry $({i},{j})$ is the first that differs:"))
    lines = [
        *_entry_lines(r"\text{your claim}", difference.claimed_value, there),
        *_entry_lines(r"\text{right}", difference.correct_value, there),
    ]
    blocks.append(Display(tuple(lines), aligned=True))
    note = entry_note(verdict, network, math=True)
    if note:
        blocks.append(Paragraph(f"({note})"))
    return blocks


#: Most characters of LaTeX source on one line of an entry's display: about 250 pt of maths
#: (g_{1,1} \\operatorname{relu}'(a^{(1)}_{1,1}) w^{(2)}_{1,1} x_{1,1} is 64 characters, 120 pt).
_LINE_CHARACTERS = 130
_SYMBOL = re.compile(r"^(x|w|b|a|h|dA|dH)(\d*)_(\d+)(?:_(\d+))?$")
_DERIVATIVE = re.compile(r"^(.+)'\(a(\d+)_(\d+)_(\d+)\)$")


_STEP = re.compile(r"^\(a(\d+)_(\d+)_(\d+) > 0\)$")


def _symbol_latex(name: str) -> str:
    """A network's entry symbol in LaTeX: w^{(1)}_{2,3}, x_{1,2}, g_{1,1}, relu′(a^{(1)}_{1,1})."""
    step = _STEP.match(name)
    if step is not None:
        layer, i, j = step.groups()
        return rf"[a^{{({layer})}}_{{{i},{j}}} > 0]"
    derivative = _DERIVATIVE.match(name)
    if derivative is not None:
        word, layer, i, j = derivative.groups()
        escaped = word.replace("_", r"\_")
        # Grouped, so that the prime is the name's superscript (as network documents write it).
        function = r"\sigma" if word == "σ" else rf"{{\operatorname{{{escaped}}}}}"
        return rf"{function}'(a^{{({layer})}}_{{{i},{j}}})"
    match = _SYMBOL.match(name)
    if match is None:
        return name
    kind, layer, first, second = match.groups()
    indices = first if second is None else f"{first},{second}"
    if kind in ("dA", "dH"):
        return f"g_{{{indices}}}"
    return f"{kind}^{{({layer})}}_{{{indices}}}" if layer else f"{kind}_{{{indices}}}"


def _entry_lines(label: str, expr: Any, network: Network) -> list[str]:
    """An entry as lines of an aligned display, its activations named, a long sum elided."""
    import sympy

    value = sympy.expand(_named_text(expr, network))
    names = {symbol: _symbol_latex(symbol.name) for symbol in value.free_symbols}
    terms = list(value.as_ordered_terms()) if isinstance(value, sympy.Add) else [value]
    shown = [sympy.latex(term, symbol_names=names) for term in terms]
    if len(shown) > SUM_TERMS:
        shown = [*shown[: SUM_TERMS - 2], r"\cdots", shown[-1]]
    groups: list[list[str]] = [[]]
    for term in shown:
        if groups[-1] and len(" + ".join([*groups[-1], term])) > _LINE_CHARACTERS:
            groups.append([])
        groups[-1].append(term)
    lines = []
    for number, group in enumerate(groups):
        lead = f"{label} &= " if number == 0 else r"&\quad + "
        lines.append((lead + " + ".join(group)).replace("+ -", "- "))
    return lines


def _answer(verdict: NetworkVerdict, network: Network) -> list[Block]:
    blocks: list[Block] = []
    if verdict.hint:
        blocks.append(_paragraph(f"Hint: {verdict.hint}."))
    blocks.append(_paragraph(f"Right answer: `{verdict.correct_formula}`"))
    expanded = in_upstream(verdict, network)
    if expanded is not None:
        blocks.append(_paragraph(f"In G alone: `{expanded}`"))
    return blocks


def _verdict_section(number: int, verdict: NetworkVerdict, network: Network) -> Section:
    blocks: list[Block] = [_paragraph(f"Read: {note}.") for note in verdict.notes]
    if verdict.correct:
        blocks.append(
            _paragraph(
                f"Correct: it equals ${_slashed(verdict.target)}$ entry by entry, "
                f"{compared_with(verdict)}."
            )
        )
    else:
        blocks += _shapes(verdict) if verdict.reason == "shape" else _values(verdict, network)
        blocks += _answer(verdict, network)
    claim = " ".join(verdict.claim.split())
    return Section(safe(f"Claim {number}: `{claim}`, {STATUS[verdict.reason]}"), tuple(blocks))


def _slashed(target: str) -> str:
    """∂L/∂W1 as inline LaTeX."""
    letter, layer = target[0], target[1:]
    name = f"{letter}_{{{layer}}}" if layer else letter
    return rf"\partial L / \partial {name}"


def _refused_section(number: int, entry: RefusedClaim) -> Section:
    blocks = (_paragraph(f"Not checked: {refusal(entry)}."), _paragraph(f"See {GRAMMAR_POINTER}."))
    claim = " ".join(entry.claim.split())
    return Section(safe(f"Claim {number}: `{claim}`, not checked"), blocks)


def _network_section(network: Network, line: str) -> Section:
    """The network judged, as its line and its forward pass."""
    forward = []
    for layer in range(1, network.depth + 1):
        below = "X" if layer == 1 else f"H_{{{layer - 1}}}"
        bias = f" + \\mathbf{{1}} b_{{{layer}}}" if network.bias else ""
        forward.append(f"A_{{{layer}}} &= {below} W_{{{layer}}}{bias}")
        if layer < network.depth or network.output_activated:
            activation = network.activation_of(layer)
            name = _function_latex(activation.name)
            forward.append(f"H_{{{layer}}} &= {name}(A_{{{layer}}})")
    upstream = (
        upstream_words(network)
        .replace("∂", r"\partial ")
        .replace(network.output_name, f"{network.output_name[0]}_{{{network.output_name[1:]}}}")
    )
    return Section(
        "Network",
        (_paragraph(line), Display(tuple(forward), aligned=True), _paragraph(f"${upstream}$.")),
    )


def _function_latex(name: str) -> str:
    return {
        "generic": r"\sigma",
        "relu": r"\operatorname{relu}",
        "leaky-relu": r"\operatorname{leaky\_relu}",
        "sigmoid": r"\operatorname{sigmoid}",
        "tanh": r"\tanh",
    }.get(name, r"\operatorname{id}")


def network_check_document(report: NetworkCheckReport, full: bool = False) -> Document:
    """The network, then every verdict (or refusal), one section each, and a closing count."""
    network = report.network
    sections = [_network_section(network, report.network_line)]
    for number, entry in enumerate(report.entries, 1):
        if isinstance(entry, RefusedClaim):
            sections.append(_refused_section(number, entry))
        else:
            sections.append(_verdict_section(number, entry, network))
    sections.append(Section("Summary", (_paragraph(summary_count(report)),)))
    return Document("Checking gradient claims about a network", tuple(sections))


# --- JSON -----------------------------------------------------------------------------------


def _sizes(sizes: NetworkSizes) -> dict[str, Any]:
    return {"m": sizes.m, "k": sizes.k, "hidden": list(sizes.hidden), "n": sizes.n}


def _network(report: NetworkCheckReport) -> dict[str, Any]:
    network = report.network
    slope = getattr(network.activation, "slope", None)
    if slope is None:
        slope = getattr(network.output_activation, "slope", None)
    return {
        "hidden": list(network.sizes.hidden),
        "activation": network.activation.name,
        "output_activation": network.output_activation.name,
        "slope": None if slope is None else str(slope),
        "bias": network.bias,
        "G": f"dL/d{network.output_name}",
        "line": report.network_line,
    }


def _verdict_data(verdict: NetworkVerdict, network: Network) -> dict[str, Any]:
    difference = verdict.first_difference
    claimed = None if verdict.claimed_shape is None else list(verdict.claimed_shape)
    return {
        "claim": verdict.claim,
        "target": verdict.target,
        "correct": verdict.correct,
        "reason": verdict.reason,
        "sizes_checked": [_sizes(sizes) for sizes in verdict.sizes_checked],
        "reported_at": _sizes(verdict.reported_at),
        "expected_shape": list(verdict.expected_shape),
        "claimed_shape": claimed,
        "shape_steps": [
            {"expression": step.text, "shape": list(step.shape)} for step in verdict.shape_steps
        ],
        "shape_message": verdict.shape_message,
        "first_difference": None
        if difference is None
        else {
            "index": list(difference.index),
            "claimed": difference.claimed,
            "correct": difference.correct,
        },
        "hint_kind": verdict.hint_kind,
        "hint": verdict.hint,
        "correct_formula": verdict.correct_formula,
        "correct_formula_in_G": f"d{verdict.target} = {right_formula(network, verdict.target)}",
        "notes": list(verdict.notes),
    }


def _refused_data(entry: RefusedClaim) -> dict[str, Any]:
    return {
        "claim": entry.claim,
        "checked": False,
        "message": entry.message,
        "position": entry.position,
        "where": entry.where,
    }


def network_check_data(report: NetworkCheckReport) -> dict[str, Any]:
    """The network check report's JSON document as Python data."""
    from .json import SCHEMA_VERSION

    right = sum(1 for verdict in report.verdicts if verdict.correct)
    counts = {
        "claims": len(report.entries),
        "correct": right,
        "wrong": len(report.verdicts) - right,
    }
    if report.refused:
        counts["not_checked"] = len(report.refused)
    return {
        "schema": SCHEMA_VERSION,
        "network": _network(report),
        "correct": report.correct,
        "counts": counts,
        "claims": [
            _refused_data(entry)
            if isinstance(entry, RefusedClaim)
            else _verdict_data(entry, report.network)
            for entry in report.entries
        ],
    }


def render_network_check_json(report: NetworkCheckReport, **_: Any) -> str:
    """``matgrad check --hidden … --format json``."""
    return json.dumps(network_check_data(report), ensure_ascii=False, indent=2) + "\n"
