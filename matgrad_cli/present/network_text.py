"""A network's derivation in the terminal (``matgrad derive --hidden … --format text``).

The teaching order of the documents: the setup (the network, its names and shapes, the
activations and their derivatives); the forward pass, layer by layer; then, from the top layer
down, the upstream gradient, the activation's local derivative, ∂L/∂Aℓ, ∂L/∂Wℓ, ∂L/∂bℓ and what is
passed down (∂L/∂X at the first layer), each entry as the elementwise route found it and each
gradient with its check against the backward formula; last, the whole backward pass as matrix
formulas, each with its check. Every verdict is read from the derivation's checks. Large matrices
and long lists are elided as present/limits.py says, unless ``full``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

from ..core.activations import Activation, Identity, LeakyRelu, Relu
from ..core.checks import comparand_text
from ..core.engine import get_engine
from ..core.network import affine
from ..errors import SizeError
from . import terminal as ui
from .limits import FORWARD_LIST, FULL_TERMS, SUM_TERMS
from .network_plain import FUNCTION_NAMES, Namer, entry, superscript
from .notation import dimensions, elide, matrix_cells

if TYPE_CHECKING:
    from ..core.checks import Check
    from ..core.network import GradientForms, Network
    from ..core.network_derive import NetworkDerivation


def _shape(network: Network, name: str) -> str:
    return dimensions(network.shape_of(name))


def _activation_lines(activation: Activation) -> list[str]:
    """The activation and its derivative, as matgrad defines them."""
    f = FUNCTION_NAMES[activation.name]
    if isinstance(activation, Relu):
        return [
            f"{f}(e) = max(0, e), {f}′(e) = 1 for e > 0 and 0 for e ≤ 0",
            f"({f} has no derivative at 0; matgrad takes {f}′(0) = 0, as libraries do)",
        ]
    if isinstance(activation, LeakyRelu):
        alpha = activation.slope
        return [
            f"{f}(e) = e for e > 0 and {alpha}·e for e ≤ 0 (slope α = {alpha}), "
            f"{f}′(e) = 1 for e > 0 and {alpha} for e ≤ 0"
        ]
    lines = {
        "generic": ["σ is any differentiable function; its derivative stays σ′"],
        "sigmoid": [
            "σ(e) = 1/(1 + exp(−e)), σ′(e) = σ(e)(1 − σ(e))",
            "(in the entries, exp(−a) = (1 − h)/h with h = σ(a): σ′(a) reads h(1 − h))",
        ],
        "tanh": ["tanh′(e) = 1 − tanh(e)²"],
        "identity": ["no activation: the layer's output is A itself"],
    }
    return lines[activation.name]


def _setup(derivation: NetworkDerivation, namer: Namer, full: bool) -> Iterator[RenderableType]:
    network = derivation.network
    sizes, depth = network.sizes, network.depth
    layers = "one layer" if depth == 1 else f"{depth} layers"
    widths = " → ".join(map(str, sizes.widths))
    bias = " + 1bℓ" if network.bias else ""
    yield ui.Hanging(
        f"A network of {layers}, samples as rows: the batch m = {sizes.m}, the widths "
        f"k = {widths} = n from the input to the output. Layer ℓ computes "
        f"Aℓ = H₍ℓ₋₁₎Wℓ{bias} and Hℓ = σℓ(Aℓ) entry by entry, from H₀ = X."
    )
    yield ui.blank()
    concrete = getattr(derivation, "concrete", None)
    yield _names_table(network, concrete is not None and concrete.definition.has_targets)
    yield from _activations(network)
    yield ui.blank()
    yield from _loss(derivation)
    letter = network.output_name[0].lower()
    concrete = getattr(derivation, "concrete", None)
    loss = "any scalar loss L" if concrete is None else f"the loss {derivation.loss}"
    yield ui.prose(
        f"g_{{i,j}} stands for ∂L/∂{letter}{superscript(depth)}_{{i,j}}, for {loss}. In the "
        "gradients below, hℓ_{i,j} stands for σ(aℓ_{i,j}) and "
        "σ′(aℓ_{i,j}) for the activation's derivative there, aℓ_{i,j} being the forward pass's "
        "entry. Layout: ∂L/∂M has the shape of M. Indices are 1-based."
    )
    yield ui.blank()
    yield ui.prose(
        "Each gradient is found entry by entry by the chain rule through the whole network, "
        "∂L/∂v = Σ_{p,q} g_{p,q} ∂o_{p,q}/∂v with o the network's output and each ∂o_{p,q}/∂v "
        "differentiated from the forward pass by the CAS; then it is compared with its backward "
        "formula, multiplied out from the matrices alone."
    )
    yield ui.blank()
    names = ["X", *(n for layer in range(1, depth + 1) for n in (f"W{layer}", f"b{layer}"))]
    matrices = [
        ui.labelled(f"{name} = ", _symbols(derivation, namer, name, full))
        for name in names
        if name[0] != "b" or network.bias
    ]
    yield ui.BlockRows(matrices)


def _loss(derivation: NetworkDerivation) -> Iterator[RenderableType]:
    """Under a concrete loss: L's definition, what G is, the closed form the matrix route starts
    from (of ∂L/∂(output), or of ∂L/∂A_L after a sigmoid) and whether it was proved."""
    concrete = getattr(derivation, "concrete", None)
    if concrete is None:
        return
    network, definition = derivation.network, concrete.definition
    output, top = network.output_name, f"A{network.depth}"
    entries = "p_{i,j}" if "p_{i,j}" in definition.text else "a_{i,j}"
    targets = ", with symbolic targets y_{i,j} (the matrix Y)" if definition.has_targets else ""
    yield ui.prose(
        f"The loss L is the {definition.title}{targets}, {entries} being the entry (i, j) of "
        f"the network's output {output}:"
    )
    yield ui.Hanging(definition.text, "  ")
    yield ui.prose(
        f"G = ∂L/∂{output} is the CAS's derivative of L at the network's output; the gradients "
        "below are written with its entries g_{i,j}, which stand for that derivative, and each "
        "check is made under the loss."
    )
    if concrete.after_sigmoid:
        closed = definition.closed_form_text.replace("P", output)
        yield ui.prose(
            f"Its closed form is G = {closed}. After the sigmoid the factor σ′({top}) = "
            f"{output} ⊙ (1 − {output}) cancels: the matrix route starts from ∂L/∂{top} = "
            f"G ⊙ σ′({top}) = {concrete.start_text}."
        )
        claim = f"∂L/∂{top} = G ⊙ σ′({top}) = {concrete.start_text}"
    else:
        claim = f"Its closed form, where the matrix route starts: G = {concrete.start_text}"
    holds = concrete.closed_form_holds
    verdict = "proved at every entry" if holds else "NOT proved at every entry"
    yield ui.marked(holds, f"{claim}: {verdict}.")
    yield ui.blank()


def _names_table(network: Network, targets: bool = False) -> RenderableType:
    """Each matrix of the network: its name, shape, what it is and its first entry's symbol;
    with ``targets``, the loss's targets Y."""
    depth, bias = network.depth, network.bias
    rows = [("X", "the input", entry("x", None, (1, 1)))]
    for layer in range(1, depth + 1):
        function = FUNCTION_NAMES[network.activation_of(layer).name]
        below = network.input_name(layer)
        rows.append((f"W{layer}", "weights", entry("w", layer, (1, 1))))
        if bias:
            rows.append((f"b{layer}", "bias row", entry("b", layer, (1,))))
        formula = f"{below}W{layer} + 1b{layer}" if bias else f"{below}W{layer}"
        rows.append((f"A{layer}", formula, entry("a", layer, (1, 1))))
        if layer < depth or network.output_activated:
            rows.append((f"H{layer}", f"{function}(A{layer})", entry("h", layer, (1, 1))))
    output = network.output_name
    if targets:
        rows.append(("Y", "the targets of the loss", entry("y", None, (1, 1))))
    rows.append(("G", f"∂L/∂{output}, the upstream gradient", entry("g", None, (1, 1))))
    shaped = [
        (name, _shape(network, output if name in ("G", "Y") else name), what, first)
        for name, what, first in rows
    ]
    return ui.results_table(("matrix", "shape", "what", "entries"), shaped, no_wrap=("shape",))


def _activations(network: Network) -> Iterator[RenderableType]:
    shown: list[Activation] = []
    for layer in range(1, network.depth + 1):
        activation = network.activation_of(layer)
        if isinstance(activation, Identity) or activation in shown:
            continue
        shown.append(activation)
        where = "hidden layers" if activation == network.activation else "output layer"
        if activation == network.activation == network.output_activation:
            where = "every layer"
        yield ui.blank()
        yield ui.line(f"The activation of the {where}: {activation.name}")
        for text in _activation_lines(activation):
            yield ui.Hanging(text, "  ")


def _symbols(derivation: NetworkDerivation, namer: Namer, name: str, full: bool) -> ui.Block:
    rows = derivation.symbols.matrix(name)
    cells = matrix_cells(len(rows), len(rows[0]), lambda i, j: namer.text(rows[i][j]), full)
    return ui.matrix_block(cells)


def _forward(derivation: NetworkDerivation, namer: Namer, full: bool) -> Iterator[RenderableType]:
    network = derivation.network
    for layer in range(1, network.depth + 1):
        bias = f" + 1b{layer}" if network.bias else ""
        if layer > 1:
            yield ui.blank()
        yield ui.line(f"A{layer} = {network.input_name(layer)}W{layer}{bias}, entry by entry:")
        yield _forward_listing(derivation, namer, layer, full)
        activation = network.activation_of(layer)
        if isinstance(activation, Identity):
            yield ui.line(f"A{layer} is the network's output (no activation).")
        else:
            f, top = FUNCTION_NAMES[activation.name], superscript(layer)
            yield ui.line(
                f"H{layer} = {f}(A{layer}), entry by entry: h{top}_{{i,j}} = {f}(a{top}_{{i,j}})."
            )


def _forward_listing(
    derivation: NetworkDerivation, namer: Namer, layer: int, full: bool
) -> ui.Listing:
    """aℓ_{i,j} = Σ_r hℓ₋₁_{i,r} wℓ_{r,j} + bℓ_j, the layer's forward pass from the entries of
    the layer below (x at the first layer), in the order of r."""
    network, symbols = derivation.network, derivation.symbols
    engine = get_engine(derivation.engine)
    inputs = symbols.inputs
    if layer > 1:
        width, m = network.sizes.widths[layer - 1], network.sizes.m
        inputs = tuple(
            tuple(engine.symbol(f"h{layer - 1}_{i}_{j}") for j in range(1, width + 1))
            for i in range(1, m + 1)
        )
    entries = affine(inputs, symbols, layer, network.bias, engine)
    flat = [(i, j) for i in range(len(entries)) for j in range(len(entries[0]))]
    width = len(entry("a", layer, (flat[-1][0] + 1, flat[-1][1] + 1)))

    def show(number: int) -> list[RenderableType]:
        i, j = flat[number]
        terms = sorted(_terms(entries[i][j]), key=_summation_index)
        lhs = entry("a", layer, (i + 1, j + 1))
        shown = [namer.text(term) for term in terms]
        return [Entry("  ", lhs, elide(shown, full), lhs_width=width)]

    return ui.Listing(len(flat), show, full=full, limit=FORWARD_LIST)


def _summation_index(term: Any) -> tuple[int, str]:
    """A term h_{i,r} w_{r,j} by r; the bias b_j last."""
    for symbol in getattr(term, "free_symbols", ()):
        parts = str(symbol).split("_")
        if parts[0].startswith("w") and len(parts) == 3:
            return (int(parts[1]), str(term))
    return (1 << 30, str(term))


class Entry(ui.Equation):
    """An equation broken before its + signs, or, when a term is wider than the console, at any
    space, its lines hanging under the start of the right side."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        lines = self.lines(width)
        if any(cell_len(text) > width for text in lines):
            lhs = self.lhs + " " * (self.lhs_width - cell_len(self.lhs))
            body = " + ".join(self.terms) or "0"
            lines = ui.hanging_lines(f"{self.prefix}{lhs} = ", body, width)
        for text in lines:
            yield ui.line(text)


def _terms(expr: Any) -> list[Any]:
    """The terms of a sum as the forward pass wrote them (one term when it is not a sum)."""
    return list(expr.args) if getattr(expr, "is_Add", False) else [expr]


def _check_of(derivation: NetworkDerivation, name: str) -> Check | None:
    return next((check for check in derivation.checks if check.variable == name), None)


def _statement(network: Network, check: Check) -> str:
    """The check's identity as the terminal view writes it: each σ′(Aℓ) by its activation's own
    name (relu′(A1)), and without the loss, which the setup states once."""
    text = f"∂L/∂{check.variable} = {comparand_text(check.against)}"

    def named(match: re.Match[str]) -> str:
        layer = int(match.group(1))
        return f"{FUNCTION_NAMES[network.activation_of(layer).name]}′(A{layer})"

    return re.sub(r"σ′\(A(\d+)\)", named, text)


def _verdict(
    check: Check | None, namer: Namer, name: str, network: Network
) -> Iterator[RenderableType]:
    """The check's verdict, as computed; where it fails, its first differing entry by both
    routes."""
    if check is None:
        yield ui.line("(not checked)", style=ui.STYLE_NOTE)
        return
    statement = _statement(network, check)
    if check.holds:
        yield ui.verified(check.entries_checked, statement)
        return
    if check.claimed_shape != check.shape:
        claimed, shape = dimensions(check.claimed_shape), dimensions(check.shape)
        yield ui.fails(f"{statement}: the formula is {claimed}, not {shape}")
        return
    count, entries = check.mismatch_count, check.entries_checked
    yield ui.fails(f"{statement} differs at {count}/{entries} entries")
    if check.mismatches:
        first = check.mismatches[0]
        index = (int(first.index[0]), int(first.index[1]))
        yield ui.line(f"  first at {_entry_name(name, index)}:")
        for label, value in (("chain rule", first.elementwise), ("formula", first.claimed)):
            terms = _sum_terms(namer.named(value))
            yield ui.Equation(
                "    ", label, elide([namer.pretty(t) for t in terms], False), lhs_width=10
            )


def _sum_terms(expr: Any) -> list[Any]:
    """The terms of a SymPy sum in SymPy's order (one term when it is not a sum)."""
    return list(expr.as_ordered_terms()) if getattr(expr, "is_Add", False) else [expr]


def _entry_name(name: str, index: tuple[int, int]) -> str:
    """∂L/∂w¹₁,₂ for W1's entry (1, 2); b's entries by their column alone."""
    letter, layer = name[0].lower(), (None if name == "X" else int(name[1:]))
    return f"∂L/∂{entry(letter, layer, index[1:] if letter == 'b' else index)}"


def _form_terms(namer: Namer, form: Any, full: bool) -> list[str]:
    """The terms g_{p,q}·factor of an entry, elided as ``elide`` does: only the terms shown are
    written (naming a factor is the costly part)."""
    pairs = list(form)
    shown: list[int | None] = list(range(len(pairs)))
    if not full and len(pairs) > SUM_TERMS:
        shown = [0, 1, None, len(pairs) - 1]
    terms = []
    for number in shown:
        if number is None:
            terms.append("⋯")
            continue
        (p, q), factor = pairs[number]
        upstream = entry("g", None, (p, q))
        named = namer.named(factor)
        if named == 1:
            terms.append(upstream)
            continue
        text = namer.pretty(named)
        terms.append(
            f"{upstream} ({text})" if getattr(named, "is_Add", False) else f"{upstream} {text}"
        )
    return terms


def _gradient(
    derivation: NetworkDerivation, namer: Namer, name: str, full: bool
) -> Iterator[RenderableType]:
    forms: GradientForms = derivation.gradients.get(name) or derivation.intermediates[name]
    network = derivation.network
    rows, cols = forms.shape
    flat = [(i, j) for i in range(rows) for j in range(cols)]
    width = len(_entry_name(name, (rows, cols)))
    yield ui.blank()
    yield ui.prose(f"∂L/∂{name} ({_shape(network, name)}), entry by entry by the chain rule:")

    def show(number: int) -> list[RenderableType]:
        i, j = flat[number]
        terms = _form_terms(namer, forms.entries[i][j], full)
        lhs = _entry_name(name, (i + 1, j + 1))
        return [Entry("  ", lhs, terms, lhs_width=width)]

    yield ui.Listing(len(flat), show, full=full)
    check = _check_of(derivation, name)
    cells = matrix_cells(
        rows, cols, lambda i, j: " + ".join(_form_terms(namer, forms.entries[i][j], False)), full
    )
    label = f"∂L/∂{name} = "
    formula = None if check is None else _statement(network, check).split(" = ", 1)[1]
    yield Assembled(name, ui.labelled(label, ui.matrix_block(cells)), formula)
    yield from _verdict(check, namer, name, network)


class Assembled:
    """The gradient assembled in its shape, as a matrix when it fits the width (else only said),
    and what it is compared with."""

    def __init__(self, name: str, block: ui.Block, formula: str | None) -> None:
        self.name, self.block, self.formula = name, block, formula

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        against = ""
        if self.formula is not None:
            against = (
                f" compared entry by entry with {self.formula}, the backward formula "
                "multiplied out independently"
            )
        if 2 + self.block.width > options.max_width:
            yield ui.prose(f"Assembled in the shape of {self.name} and{against}:")
            return
        yield ui.prose(f"Assembled in the shape of {self.name}:")
        yield ui.Figure(self.block, indent=2)
        if against:
            yield ui.prose(f"It is{against}:")


def _upstream(network: Network, layer: int) -> Iterator[RenderableType]:
    depth = network.depth
    activation = network.activation_of(layer)
    f = FUNCTION_NAMES[activation.name]
    if layer == depth and network.output_activated:
        yield ui.prose(
            f"The upstream gradient is G = ∂L/∂H{depth}, the symbols g_{{i,j}}. H{depth} = "
            f"{f}(A{depth}) entry by entry, so ∂L/∂A{depth} = G ⊙ {f}′(A{depth}):"
        )
    elif layer == depth:
        yield ui.prose(
            f"The upstream gradient is G = ∂L/∂A{depth} itself, the symbols g_{{i,j}}: A{depth} is "
            "the network's output."
        )
    else:
        yield ui.prose(
            f"The upstream gradient ∂L/∂H{layer} = ∂L/∂A{layer + 1} · W{layer + 1}ᵀ came down from "
            f"layer {layer + 1}. H{layer} = {f}(A{layer}) entry by entry, so "
            f"∂L/∂A{layer} = ∂L/∂H{layer} ⊙ {f}′(A{layer}), with"
        )
    if not isinstance(activation, Identity):
        for text in _activation_lines(activation):
            yield ui.Hanging(text, "  ")


def _layer(
    derivation: NetworkDerivation, namer: Namer, layer: int, full: bool
) -> Iterator[RenderableType]:
    network = derivation.network
    yield from _upstream(network, layer)
    yield from _gradient(derivation, namer, f"A{layer}", full)
    yield from _gradient(derivation, namer, f"W{layer}", full)
    if network.bias:
        yield from _gradient(derivation, namer, f"b{layer}", full)
    if layer == 1:
        yield from _gradient(derivation, namer, "X", full)
    else:
        yield ui.blank()
        yield ui.prose(
            f"∂L/∂H{layer - 1} = ∂L/∂A{layer} · W{layer}ᵀ goes down to layer {layer - 1} as its "
            "upstream gradient."
        )


def _summary(derivation: NetworkDerivation) -> Iterator[RenderableType]:
    """The backward pass as matrix formulas, each with its computed check, top down."""
    network = derivation.network
    order = []
    for layer in range(network.depth, 0, -1):
        order += [f"A{layer}", f"W{layer}", f"b{layer}"]
    order.append("X")
    checks = [check for name in order if (check := _check_of(derivation, name)) is not None]
    rows = []
    for check in checks:
        differing = str(check.mismatch_count) if not check.holds else None
        result = ui.summary_result(check, differing)
        statement = _statement(network, check)
        rows.append((statement, dimensions(check.shape), ui.outcome(result, check.holds)))
    yield ui.results_table(("identity", "shape", "result"), rows, no_wrap=("shape",))
    if derivation.concrete is not None:
        yield ui.line(f"Each under L, the {derivation.concrete.definition.title}.")
    failed = [check for check in derivation.checks if not check.holds]
    total = len(derivation.checks)
    if not failed:
        entries = sum(check.entries_checked for check in derivation.checks)
        yield ui.marked(
            True,
            f"All {total} checks hold, {entries} entries in all: the backward pass is verified.",
        )
    else:
        verb = "fails" if len(failed) == 1 else "fail"
        yield ui.marked(False, f"{len(failed)} of the {total} checks {verb}.")


def full_view_terms(derivation: NetworkDerivation) -> int:
    """The terms the view prints with ``full``: every term of every entry shown."""
    forms = [*derivation.gradients.values(), *derivation.intermediates.values()]
    return sum(len(form) for gradient in forms for row in gradient.entries for form in row)


def network_view(derivation: NetworkDerivation, *, full: bool = False) -> ui.Sections:
    """The network's derivation as a rich renderable (the module docstring)."""
    limit = FULL_TERMS["text"]
    if full and (terms := full_view_terms(derivation)) > limit:
        raise SizeError(
            f"--full would print {terms:,} terms of this network's gradients, above the limit of "
            f"{limit:,} for text; drop --full (long lists are then elided) or use -f json"
        )
    namer = Namer(derivation, full)
    network = derivation.network
    parts = [
        ui.Section("Setup", tuple(_setup(derivation, namer, full))),
        ui.Section("Forward pass", tuple(_forward(derivation, namer, full))),
    ]
    for layer in range(network.depth, 0, -1):
        title = f"Layer {layer}, backward" + (
            " (the output layer)" if layer == network.depth else ""
        )
        parts.append(ui.Section(title, tuple(_layer(derivation, namer, layer, full))))
    parts.append(ui.Section("Summary: the backward pass", tuple(_summary(derivation))))
    return ui.Sections(parts)
