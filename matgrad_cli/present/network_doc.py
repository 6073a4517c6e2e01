"""The derivation document of a network, in the single layer's teaching order: the setup, the
forward pass layer by layer, then from the top down, for each layer, the upstream gradient, the
activation's local derivative, ∂L/∂Aℓ entry by entry, ∂L/∂Wℓ, ∂L/∂bℓ and ∂L/∂H₍ℓ₋₁₎, each
assembled, compared with its matrix form and boxed (network_blocks.py); and a last section with
the whole backward pass as matrix formulas, each with its check.

Every verdict is read off the derivation's checks; the entries are the routes' own, in the names
of network_tex.py.
"""

from __future__ import annotations

from ..core.activations import Activation
from ..core.network import Network
from ..core.network_derive import NetworkDerivation
from . import mathtex as tex
from . import network_tex as nt
from .derivation_checks import rejection, result_cell
from .document import Block, Display, Document, Paragraph, Section, Table
from .limits import FORWARD_LIST, SETUP_COLUMNS
from .network_blocks import GAP_LINE, SLIDE_LINES, Context, assembled, verdict, worked
from .notation import visible


def _activation_text(network: Network, layer: int) -> str:
    """What the activation of ``layer`` is, with its derivative (LaTeX in $…$)."""
    activation = network.activation_of(layer)
    name, f = activation.name, nt.function_latex(activation)
    d = nt.derivative_latex(activation)
    if name == "relu":
        return (
            f"${f}(t) = \\max(0, t)$, with ${d}(t) = 1$ for $t > 0$ and $0$ for $t \\le 0$: relu "
            f"is not differentiable at 0, and matgrad takes ${d}(0) = {_at_zero(activation)}$, as "
            "deep-learning libraries do"
        )
    if name == "leaky-relu":
        slope = getattr(activation, "slope", None)
        alpha = f"\\alpha = {slope.numerator}/{slope.denominator}" if slope is not None else ""
        return (
            f"${f}(t) = t$ for $t > 0$ and $\\alpha t$ for $t \\le 0$, with ${alpha}$; "
            f"${d}(t) = 1$ for $t > 0$ and $\\alpha$ for $t \\le 0$ (matgrad takes "
            f"${d}(0) = {_at_zero(activation)}$)"
        )
    texts = {
        "generic": f"${f}$ is an undefined differentiable function, and its derivative stays ${d}$",
        "sigmoid": f"${f}(t) = 1/(1 + e^{{-t}})$, with ${d} = {f}\\,(1 - {f})$",
        "tanh": f"${d} = 1 - {{{f}}}^2$",
        "identity": f"none, the output is $A_{{{layer}}}$ itself",
    }
    return texts.get(name, f"${f}$")


def _at_zero(activation: Activation) -> str:
    """σ′(0) as the activation's own derivative gives it (relu, leaky-relu), in LaTeX."""
    import sympy

    from ..core.engine import get_engine

    value = activation.derivative(get_engine("sympy"), sympy.Integer(0))
    return str(sympy.latex(sympy.nsimplify(value)))


def _local_derivative(network: Network, layer: int) -> str:
    """∂h_{p,q}/∂a_{p,q} of ``layer`` in the names of the entries (LaTeX)."""
    activation = network.activation_of(layer)
    a, h = f"a^{{({layer})}}_{{p,q}}", f"h^{{({layer})}}_{{p,q}}"
    if activation.name == "sigmoid":
        return f"{h}\\,(1 - {h})"
    if activation.name == "tanh":
        return f"1 - ({h})^2"
    return f"{nt.derivative_latex(activation)}({a})"


def _chain(network: Network) -> str:
    """X → A_1 → H_1 → … → the output."""
    names = ["X"]
    for layer in range(1, network.depth + 1):
        names.append(nt.matrix_name("A", layer))
        if layer < network.depth or network.output_activated:
            names.append(nt.matrix_name("H", layer))
    return r" \to ".join(names)


def _names_table(context: Context) -> Table:
    """Every matrix of the network: its shape and what it is."""
    network = context.network
    rows: list[tuple[str, str, str]] = [
        ("$X$", f"${tex.shape_latex(*network.shape_of('X'))}$", "the input, $H_0$")
    ]
    bias = r" + \mathbf{1} b_{%d}" if network.bias else ""
    for layer in range(1, network.depth + 1):
        below = nt.matrix_name("H", layer - 1)
        forward = f"{below} W_{{{layer}}}" + (bias % layer if bias else "")
        activation = network.activation_of(layer)
        rows.append(
            (f"$W_{{{layer}}}$", _shape(network, f"W{layer}"), f"the weights of layer {layer}")
        )
        if network.bias:
            rows.append((f"$b_{{{layer}}}$", _shape(network, f"b{layer}"), "a bias row"))
        top = layer == network.depth and not network.output_activated
        rows.append(
            (
                f"$A_{{{layer}}}$",
                _shape(network, f"A{layer}"),
                f"${forward}$" + (", the output" if top else ""),
            )
        )
        if not top:
            f = nt.function_latex(activation)
            output = ", the output" if layer == network.depth else ""
            rows.append(
                (f"$H_{{{layer}}}$", _shape(network, f"A{layer}"), f"${f}(A_{{{layer}}})${output}")
            )
    output = nt.matrix_name(network.output_name[0], network.depth)
    rows.append(
        (
            f"$G = \\partial L/\\partial {output}$",
            _shape(network, f"A{network.depth}"),
            "the upstream gradient",
        )
    )
    return Table(("matrix", "shape", "is"), tuple(rows))


def _shape(network: Network, name: str) -> str:
    return f"${tex.shape_latex(*network.shape_of(name))}$"


def _parameter_displays(context: Context) -> list[Block]:
    """X and each layer's W and b written out, side by side when they fit on a line."""
    network, symbols, printer = context.network, context.derivation.symbols, context.printer
    groups: list[list[str]] = [["X"]]
    for layer in range(1, network.depth + 1):
        groups.append([f"W{layer}", f"b{layer}"] if network.bias else [f"W{layer}"])
    displays: list[Block] = []
    for group in groups:
        matrices = [
            f"{nt.rule_name(name)} = {printer.symbols(symbols.matrix(name))}" for name in group
        ]
        columns = sum(len(visible(network.shape_of(name)[1], context.full)) for name in group)
        if columns <= SETUP_COLUMNS:
            displays.append(Display((r",\quad ".join(matrices),)))
        else:
            displays += [Display((matrix,)) for matrix in matrices]
    return displays


def _setup(context: Context) -> Section:
    """Section 1: the network, its names and shapes, its activations and G."""
    network = context.network
    sizes = network.sizes
    top = nt.matrix_name(network.output_name[0], network.depth)
    layers = "one layer" if network.depth == 1 else f"{network.depth} layers"
    bias = r" + \mathbf{1} b_\ell" if network.bias else ""
    used = sorted({layer if layer == network.depth else 1 for layer in range(1, network.depth + 1)})
    activations = [
        Paragraph(f"{_which_layers(network, layer)}: {_activation_text(network, layer)}.")
        for layer in used
    ]
    loss = _loss(context)
    return Section(
        "Setup",
        (
            Paragraph(
                f"The network has {layers}. It takes the input $X$ (${sizes.m}$ samples as rows, "
                f"$k = {sizes.k}$ inputs) to the output ${top}$ (${sizes.m} \\times {sizes.n}$). "
                f"Layer $\\ell$ computes $A_\\ell = H_{{\\ell-1}} W_\\ell{bias}$ and then "
                "$H_\\ell = \\sigma_\\ell(A_\\ell)$ entry by entry, with $H_0 = X$."
                + (" $L$ is any scalar loss computed from the output." if loss is None else "")
            ),
            *(loss or []),
            _names_table(context),
            *_parameter_displays(context),
            *activations,
            Paragraph(
                "Convention: gradients are in denominator layout, so $\\partial L/\\partial W_1$ "
                "has the shape of $W_1$. Indices are 1-based, and the layer is the superscript of "
                "an entry: $w^{(2)}_{1,3}$ is the entry $(1, 3)$ of $W_2$. In the gradients, "
                "$a^{(\\ell)}_{p,q}$ and $h^{(\\ell)}_{p,q}$ name the entries of $A_\\ell$ and "
                "$H_\\ell$ as the forward pass computes them from $X$. The upstream gradient "
                f"$G = \\partial L/\\partial {top}$ is "
                + (
                    f"an arbitrary ${sizes.m} \\times {sizes.n}$ matrix:"
                    if loss is None
                    else "the derivative of $L$ at the network's output, its entries written:"
                )
            ),
            Display((f"{tex.grad(top)} = {context.printer.symbols(context.upstream)}",)),
        ),
    )


def _loss(context: Context) -> list[Block] | None:
    """A concrete loss: its definition, in the entries of the network's output; None for the
    generic loss."""
    concrete = context.derivation.concrete
    if concrete is None:
        return None
    network, definition = context.network, concrete.definition
    top = nt.matrix_name(network.output_name[0], network.depth)
    entries = "p_{i,j}" if "p_{i,j}" in definition.latex else "a_{i,j}"
    targets = (
        f", with symbolic targets $y_{{i,j}}$ (the ${network.sizes.m} \\times {network.sizes.n}$ "
        "matrix $Y$)"
        if definition.has_targets
        else ""
    )
    return [
        Paragraph(
            f"$L$ is the {definition.title}{targets}, where ${entries}$ is the entry $(i, j)$ of "
            f"the network's output ${top}$:"
        ),
        Display((definition.latex,)),
    ]


def _which_layers(network: Network, layer: int) -> str:
    """Who has the activation of ``layer``: the hidden layers, the output layer, or both."""
    if network.depth == 1:
        return "The activation"
    if layer < network.depth:
        return "The hidden layers' activation"
    return "The output layer's activation"


def _forward_entries(rows: int, cols: int, full: bool) -> list[tuple[int, int] | None]:
    """The (0-based) entries of Aℓ the forward pass writes out, None marking the gap."""
    every: list[tuple[int, int] | None] = [(p, q) for p in range(rows) for q in range(cols)]
    if full or len(every) <= FORWARD_LIST:
        return every
    first_row = [(0, q) for q in range(min(cols, 2))] + ([(0, cols - 1)] if cols > 2 else [])
    last_row = [(rows - 1, 0), (rows - 1, cols - 1)] if cols > 1 else [(rows - 1, 0)]
    return [*first_row, None, *last_row]


def _forward(context: Context) -> Section:
    """Section 2: each layer's Aℓ entry by entry, as the forward pass computed it (the entries
    of H₍ℓ₋₁₎ named), then Hℓ = σ(Aℓ)."""
    network, forward, printer = context.network, context.derivation.forward, context.printer
    blocks: list[Block] = []
    for layer in range(1, network.depth + 1):
        pre = forward.pre[layer]
        assert pre is not None
        below = nt.matrix_name("H", layer - 1)
        bias = f" + \\mathbf{{1}} b_{{{layer}}}" if network.bias else ""
        shown = _forward_entries(len(pre), len(pre[0]), context.full)
        more = " (a few entries; the others follow the same pattern)" if None in shown else ""
        blocks.append(
            Paragraph(
                f"Layer {layer}: each entry of $A_{{{layer}}} = {below} W_{{{layer}}}{bias}$ is a "
                f"sum over the shared index{more}:"
            )
        )
        lines: list[str] = []
        for entry in shown:
            if entry is None:
                lines.append(GAP_LINE)
                continue
            p, q = entry
            value = printer.expr(pre[p][q])
            lines.append(f"a^{{({layer})}}_{{{p + 1},{q + 1}}} &= {value}")
        blocks.append(Display(tuple(lines), True, SLIDE_LINES, listing=True))
        activation = network.activation_of(layer)
        if activation.name != "identity":
            f = nt.function_latex(activation)
            blocks.append(
                Paragraph(
                    f"and $H_{{{layer}}} = {f}(A_{{{layer}}})$ entry by entry, "
                    f"$h^{{({layer})}}_{{p,q}} = {f}(a^{{({layer})}}_{{p,q}})$."
                )
            )
    return Section("Forward pass", tuple(blocks))


def _upstream(context: Context, layer: int) -> list[Block]:
    """Where layer ``layer``'s upstream gradient comes from."""
    network = context.network
    start, concrete = context.start, context.derivation.concrete
    if layer == network.depth and start is not None and concrete is not None:
        top = nt.matrix_name("A" if start.at_pre else network.output_name[0], layer)
        note = f" ({start.note})" if start.note else ""
        return [
            Paragraph(
                f"The upstream gradient of layer {layer} is $G$, the derivative of the "
                f"{concrete.definition.title} at the network's output, which the elementwise "
                "route takes entry by entry from $L$. The matrix route starts from its closed "
                f"form{note}:"
            ),
            Display((f"{tex.grad(top)} = {start.latex}",)),
        ]
    if layer == network.depth:
        top = nt.matrix_name(network.output_name[0], layer)
        return [
            Paragraph(
                f"The upstream gradient of layer {layer} is $G$, the gradient of the loss with "
                "respect to the network's output (the setup):"
            ),
            Display((f"G = {tex.grad(top)}",)),
        ]
    passed = nt.product_latex(context.derivation.rules.inputs, layer + 1)
    return [
        Paragraph(f"The upstream gradient of layer {layer} is what layer {layer + 1} passed down:"),
        Display((f"{tex.grad(nt.matrix_name('H', layer))} = {passed}",)),
    ]


def _local(context: Context, layer: int) -> list[Block]:
    """The activation's local derivative, and ∂L/∂Aℓ in terms of ∂L/∂Hℓ."""
    network = context.network
    activation = network.activation_of(layer)
    if activation.name == "identity":
        return (
            []
            if layer == network.depth
            else [Paragraph(f"Layer {layer} has no activation: $H_{{{layer}}} = A_{{{layer}}}$.")]
        )
    f = nt.function_latex(activation)
    a, h = f"a^{{({layer})}}_{{p,q}}", f"h^{{({layer})}}_{{p,q}}"
    return [
        Paragraph(
            f"The activation acts entry by entry: ${h} = {f}({a})$ depends on ${a}$ alone "
            f"($\\partial {h}/\\partial a^{{({layer})}}_{{r,s}} = 0$ for every other entry), "
            "with the local derivative"
        ),
        Display((f"{tex.partial_latex(h, a)} = {_local_derivative(network, layer)}",)),
        Paragraph(
            f"So each entry of $\\partial L/\\partial A_{{{layer}}}$ is the same entry of "
            f"$\\partial L/\\partial H_{{{layer}}}$ times its local derivative:"
        ),
        Display((f"{tex.grad(nt.matrix_name('A', layer))} = {_times_local(context, layer)}",)),
    ]


def _times_local(context: Context, layer: int) -> str:
    """∂L/∂Hℓ ⊙ σ′(Aℓ) as the matrix route takes it; after a sigmoid under the binary cross
    entropy, also the closed form it starts from, in which σ′ cancels."""
    start, network = context.start, context.network
    if start is None or not start.at_pre or layer != network.depth:
        return context.rule(f"A{layer}")
    upstream = tex.grad(nt.matrix_name("H", layer))
    rules = context.derivation.rules
    return f"{nt.local_latex(rules.output, upstream, layer, network)} = {start.latex}"


def _pre_activation(context: Context, layer: int) -> list[Block]:
    """∂L/∂Aℓ entry by entry (worked entries), assembled, checked and boxed."""
    network, name = context.network, f"A{layer}"
    if layer == network.depth and not network.output_activated and context.start is not None:
        return [
            Paragraph(
                f"$A_{{{layer}}}$ is the output itself, so "
                f"$\\partial L/\\partial A_{{{layer}}} = G$, the loss differentiated entry by "
                "entry; compared with its closed form:"
            ),
            *verdict(context, name),
        ]
    if layer == network.depth and not network.output_activated:
        check = context.check(name)
        found = (
            f"all {check.entries_checked} entries are the entries of $G$ in their places"
            if check.holds
            else f"NOT verified: {rejection(check)}"
        )
        return [
            Paragraph(
                f"$A_{{{layer}}}$ is the output itself, so "
                f"$\\partial L/\\partial A_{{{layer}}} = G$, "
                f"where the recursion starts. Differentiated by the elementwise route: {found}."
            )
        ]
    output = network.output_name[0].lower()
    entry = f"a^{{({layer})}}_{{i,j}}"
    return [
        Paragraph(
            f"Entry by entry, the network above $A_{{{layer}}}$ is differentiated by the chain "
            f"rule through every entry of the output, $\\partial L/\\partial {entry} = "
            f"\\sum_{{p,q}} (\\partial L/\\partial {output}^{{({network.depth})}}_{{p,q}})"
            f"(\\partial {output}^{{({network.depth})}}_{{p,q}}/\\partial {entry})$, where only "
            f"the entries of the output that depend on ${entry}$ contribute:"
        ),
        *worked(context, context.forms(name)),
        *assembled(context, context.forms(name)),
        *verdict(context, name),
    ]


def _first_entry(context: Context, name: str, lead: str) -> list[Block]:
    """``lead``, then ∂L/∂``name`` through the whole network in terms of G, assembled and
    checked."""
    forms = context.forms(name)
    return [
        Paragraph(
            f"{lead} Through the whole network, in terms of $G$, the elementwise route gives:"
        ),
        *assembled(context, forms, lead=False),
        *verdict(context, name),
    ]


def _weights(context: Context, layer: int) -> list[Block]:
    """∂L/∂Wℓ: the single layer's rule with H₍ℓ₋₁₎ as the input and ∂L/∂Aℓ as G."""
    h = "x" if layer == 1 else f"h^{{({layer - 1})}}"
    w, a = f"w^{{({layer})}}", f"a^{{({layer})}}"
    lead = (
        f"The weight ${w}_{{i,j}}$ enters only column $j$ of $A_{{{layer}}}$, as "
        f"${a}_{{p,j}} = \\sum_s {h}_{{p,s}} {w}_{{s,j}} + \\cdots$ with "
        f"$\\partial {a}_{{p,j}}/\\partial {w}_{{i,j}} = {h}_{{p,i}}$, so "
        f"$\\partial L/\\partial {w}_{{i,j}} = \\sum_p {h}_{{p,i}}\\,"
        f"\\partial L/\\partial {a}_{{p,j}}$."
    )
    return _first_entry(context, f"W{layer}", lead)


def _bias(context: Context, layer: int) -> list[Block]:
    """∂L/∂bℓ: the column sums of ∂L/∂Aℓ."""
    if not context.network.bias:
        return []
    b, a = f"b^{{({layer})}}_j", f"a^{{({layer})}}"
    lead = (
        f"The bias ${b}$ is added to every entry of column $j$ of $A_{{{layer}}}$ with local "
        f"derivative 1, so $\\partial L/\\partial {b} = \\sum_p \\partial L/\\partial {a}_{{p,j}}$."
    )
    return _first_entry(context, f"b{layer}", lead)


def _downstream(context: Context, layer: int) -> list[Block]:
    """∂L/∂H₍ℓ₋₁₎ = ∂L/∂Aℓ Wℓᵀ: passed down to layer ℓ − 1, or ∂L/∂X, checked and boxed."""
    h = "x" if layer == 1 else f"h^{{({layer - 1})}}"
    w, a = f"w^{{({layer})}}", f"a^{{({layer})}}"
    below = nt.matrix_name("H", layer - 1)
    lead = (
        f"The entry ${h}_{{i,s}}$ of ${below}$ enters row $i$ of $A_{{{layer}}}$, multiplied by "
        f"${w}_{{s,q}}$ in ${a}_{{i,q}}$, so $\\partial L/\\partial {h}_{{i,s}} = \\sum_q "
        f"\\partial L/\\partial {a}_{{i,q}}\\, {w}_{{s,q}}$."
    )
    if layer == 1:
        return _first_entry(context, "X", lead)
    passed = nt.product_latex(context.derivation.rules.inputs, layer, display=True)
    return [
        Paragraph(f"{lead} As a matrix:"),
        Display((f"{tex.grad(below)} = {passed}",)),
        Paragraph(
            f"This is the upstream gradient of layer {layer - 1}; it is checked there, as part of "
            f"$\\partial L/\\partial A_{{{layer - 1}}}$."
        ),
    ]


def _layer(context: Context, layer: int) -> Section:
    """Section 3 and 4 for one layer, from its upstream gradient to ∂L/∂H₍ℓ₋₁₎."""
    blocks = [
        *_upstream(context, layer),
        *_local(context, layer),
        *_pre_activation(context, layer),
        *_weights(context, layer),
        *_bias(context, layer),
        *_downstream(context, layer),
    ]
    top = " (the output layer)" if layer == context.network.depth else ""
    return Section(f"Backward through layer {layer}{top}", tuple(blocks))


def backward_order(network: Network) -> list[str]:
    """The gradients in the order the backward pass finds them: A_L, W_L, b_L, …, X."""
    names: list[str] = []
    for layer in range(network.depth, 0, -1):
        names += [f"A{layer}", f"W{layer}"] + ([f"b{layer}"] if network.bias else [])
    return [*names, "X"]


def _backward_pass(context: Context) -> Section:
    """The last section: every formula of the backward pass with its check."""
    rows: list[tuple[str, str, str]] = []
    for name in backward_order(context.network):
        check = context.check(name)
        formula = f"$\\partial L/\\partial {nt.rule_name(name)} = {context.rule(name, False)}$"
        mark = "$\\checkmark$" if check.holds else "$\\times$"
        rows.append((formula, f"${tex.shape_latex(*check.shape)}$", f"{mark} {result_cell(check)}"))
    blocks: list[Block] = [
        Paragraph(
            "From the top down, every formula of the backward pass, each compared entry by entry "
            "with the elementwise route:"
        ),
        Table(("formula", "shape", "check (entries)"), tuple(rows)),
    ]
    if not context.derivation.verified:
        blocks.append(Paragraph("Some formulas FAIL: see above."))
    else:
        engine = "SymPy" if context.derivation.engine == "sympy" else context.derivation.engine
        blocks.append(
            Paragraph(
                "Every formula holds at every entry. Every equality above was verified by matgrad "
                f"in exact symbolic arithmetic ({engine}): every entry differentiated through the "
                "whole network and compared with the backward recursion multiplied out on its "
                "own."
            )
        )
    return Section("The whole backward pass", tuple(blocks))


def network_document(derivation: NetworkDerivation, full: bool = False) -> Document:
    """The document of a network's derivation: setup, forward pass, each layer from the top down,
    and the whole backward pass; ``full`` prints every entry of every matrix and sum."""
    context = Context(derivation, nt.NetworkPrinter(derivation, full), full)
    network = derivation.network
    sizes = network.sizes
    widths = ", ".join(str(width) for width in sizes.widths)
    title = f"Gradients of the network ${_chain(network)}$, $m = {sizes.m}$, widths ${widths}$"
    if derivation.concrete is not None:
        title += f", under the {derivation.concrete.definition.title}"
    layers = [_layer(context, layer) for layer in range(network.depth, 0, -1)]
    sections = (_setup(context), _forward(context), *layers, _backward_pass(context))
    return Document(title, sections)


def network_summary(derivation: NetworkDerivation) -> str:
    """The one line on stderr: the network, and the checks that held or failed."""
    network = derivation.network
    sizes = network.sizes
    hidden = ",".join(str(width) for width in sizes.hidden)
    layers = f"hidden {hidden} {network.activation.name}" if hidden else "no hidden layer"
    where = (
        f"m={sizes.m}, k={sizes.k}, n={sizes.n}, {layers}, output {network.output_activation.name}"
    )
    if derivation.concrete is not None:
        where += f", loss {derivation.loss}"
    failed = [check.identity for check in derivation.checks if not check.holds]
    if failed:
        return f"NOT verified ({where}): {len(failed)} checks fail: {'; '.join(failed)}"
    entries = sum(check.entries_checked for check in derivation.checks)
    return (
        f"verified ({where}): the backward pass, {len(derivation.checks)} checks hold "
        f"({entries} entries)"
    )
