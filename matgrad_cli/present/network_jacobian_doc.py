"""A network's Jacobian view (`matgrad jacobian --hidden …`) as a document, JSON data, a terminal
view and a one-line summary.

Each layer from the top down: its Jacobians as matrices (elided when large unless ``full``), each
with the formula it was compared with, then the gradients the chain contracts through them, each
compared with its backward rule. In the matrices σ(aℓ_i_j) is written hℓ_{i,j} and the engine's
σ′(aℓ_i_j) as σ′(aℓ_{i,j}), whole subexpressions renamed, never a change of value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.text import Text
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from ..core.activations import Identity
from ..core.engine import get_engine
from ..core.network_jacobians import (
    Gradient,
    LayerJacobian,
    NetworkJacobianCheck,
    NetworkJacobians,
)
from . import terminal as ui
from .document import Block, Display, Document, Paragraph, Section, Table
from .mathtex import bmatrix
from .network_tex import symbol_latex, width
from .notation import matrix_cells, visible


class _Names:
    """σ(aℓ_i_j) and σ′(aℓ_i_j), in every form the Jacobians hold them, as display symbols
    hℓ_i_j and dsigℓ_i_j (network_tex.symbol_latex writes both)."""

    def __init__(self, view: NetworkJacobians) -> None:
        engine = get_engine(view.engine)
        network = view.network
        pairs: dict[Any, Any] = {}
        for layer in range(1, network.depth + 1):
            activation = network.activation_of(layer)
            if isinstance(activation, Identity):
                continue
            for i, row in enumerate(_pre(view, layer), start=1):
                for j, a in enumerate(row, start=1):
                    value = activation.forward(engine, a)
                    slope = engine.symbol(f"dsig{layer}_{i}_{j}")
                    pairs[engine.diff(value, a)] = slope
                    pairs[activation.derivative(engine, a)] = slope
                    pairs[value] = engine.symbol(f"h{layer}_{i}_{j}")
        self._pairs = pairs
        # A product the engine flattened into a larger one (the sigmoid's σ′ times a gradient).
        self._products = [(key, name) for key, name in pairs.items() if key.is_Mul]

    def named(self, expr: Any) -> Any:
        if not self._pairs or not hasattr(expr, "xreplace"):
            return expr
        replaced = expr.xreplace(self._pairs)
        if not self._products:
            return replaced
        return replaced.replace(lambda node: node.is_Mul, self._product)

    def _product(self, node: Any) -> Any:
        factors = list(node.args)
        for key, name in self._products:
            if all(factor in factors for factor in key.args):
                for factor in key.args:
                    factors.remove(factor)
                factors.append(name)
        return type(node)(*factors)


def _pre(view: NetworkJacobians, layer: int) -> tuple[tuple[Any, ...], ...]:
    """The symbols of Aℓ, as the activation's Jacobian lists them (its columns in vec order)."""
    jacobian = next(
        found for found in view.jacobians if found.kind == "activation" and found.layer == layer
    )
    m = view.network.sizes.m
    entries = jacobian.columns if jacobian.layout == "numerator" else jacobian.rows
    cols = len(entries) // m
    return tuple(tuple(entries[j * m + i] for j in range(cols)) for i in range(m))


class _Latex(LatexPrinter):  # type: ignore[misc]  # sympy: no stubs
    def __init__(self, view: NetworkJacobians) -> None:
        super().__init__({"mul_symbol": None})
        self._network = view.network

    def _print_Symbol(self, expr: Any, style: str = "plain") -> str:
        known = symbol_latex(expr.name, self._network)
        return known if known is not None else str(super()._print_Symbol(expr, style))


class _Plain(StrPrinter):  # type: ignore[misc]
    def __init__(self, view: NetworkJacobians) -> None:
        super().__init__()
        self._network = view.network

    def _print_Symbol(self, expr: Any) -> str:
        name = str(expr.name)
        if name.startswith("dsig"):
            layer, i, j = name[4:].split("_")
            prime = "σ′" if self._network.activation_of(int(layer)).name == "generic" else None
            prime = prime or f"{self._network.activation_of(int(layer)).name}′"
            return f"{prime}(a{layer}_{i}_{j})"
        return name


def _formula_latex(formula: str) -> str:
    """I_3 ⊗ H1, W2ᵀ ⊗ I_2, diag(σ′(vec A1)) in LaTeX."""
    latex = formula
    for plain, tex in (
        ("⊗", r"\otimes"), ("ᵀ", r"^\top"), ("σ′", r"\sigma'"), ("diag", r"\operatorname{diag}"),
        ("vec ", r"\operatorname{vec} "),
    ):  # fmt: skip
        latex = latex.replace(plain, tex)
    for letter in "WHAb":
        for layer in range(1, 7):
            latex = latex.replace(f"{letter}{layer}", f"{letter}_{{{layer}}}")
    return latex.replace("1_", r"\mathbf{1}_")


def _identity_latex(text: str) -> str:
    """A check's identity (∂vec(A2)/∂vec(W2)ᵀ = I_2 ⊗ H1, ∂L/∂W2 = H1ᵀ · ∂L/∂A2) in LaTeX."""
    latex = text.replace("∂vec(", r"\partial \operatorname{vec}(").replace(
        "∂L/∂", r"\partial L/\partial "
    )
    latex = latex.replace(" · ", r" \cdot ").replace("⊙", r"\odot")
    latex = re.sub(r"(?<![A-Za-z0-9])1ᵀ", r"\\mathbf{1}ᵀ", latex)  # the ones, not H1ᵀ
    return _formula_latex(latex)


def _check_words(check: NetworkJacobianCheck) -> str:
    if check.holds:
        count = check.entries_checked
        return "holds at its one entry" if count == 1 else f"holds at all {count} entries"
    if check.shape != check.claimed_shape:
        return "does NOT hold: the shapes differ"
    return f"does NOT hold at {check.mismatch_count} of {check.entries_checked} entries"


def _layer_title(view: NetworkJacobians, layer: int) -> str:
    activation = view.network.activation_of(layer)
    shown = "" if isinstance(activation, Identity) else f", activation {activation.name}"
    return f"Layer {layer}{shown}"


def _sections(view: NetworkJacobians) -> Iterator[tuple[int, list[LayerJacobian], list[int]]]:
    """Per layer from the top down: its Jacobians and the indices of its checks."""
    for layer in range(view.network.depth, 0, -1):
        found = [jacobian for jacobian in view.jacobians if jacobian.layer == layer]
        names = {f"A{layer}", f"W{layer}", f"b{layer}", "X" if layer == 1 else f"H{layer - 1}"}
        indices = [
            index
            for index, check in enumerate(view.checks)
            if any(check.identity.startswith(jacobian.name) for jacobian in found)
            or (check.kind == "contraction" and check.identity.split(" = ")[0][4:] in names)
        ]
        yield layer, found, indices


def _intro(view: NetworkJacobians, latex: bool = False) -> str:
    """What the view shows and how it was verified, in plain text or LaTeX prose."""

    def pick(text: str, tex: str) -> str:
        return f"${tex}$" if latex else text

    sizes = view.network.sizes
    widths = ", ".join(map(str, sizes.hidden)) or "none"
    layout = (
        "numerator layout: one row per entry of the vector differentiated"
        if view.layout == "numerator"
        else "denominator layout: one column per entry of the vector differentiated"
    )
    grad_h, grad_a = (
        pick("∂L/∂Hℓ", r"\partial L/\partial H_\ell"),
        pick("∂L/∂Aℓ", r"\partial L/\partial A_\ell"),
    )
    top = pick("G = ∂L/∂(output)", r"G = \partial L/\partial(\text{output})")
    bottom = pick("∂L/∂X", r"\partial L/\partial X")
    names_h = pick("dHℓ_i_j", r"\partial L/\partial h^{(\ell)}_{i,j}")
    names_a = pick("dAℓ_i_j", r"\partial L/\partial a^{(\ell)}_{i,j}")
    return (
        f"A network of {view.network.depth} layers at m = {sizes.m}, k = {sizes.k}, hidden "
        f"widths {widths}, n = {sizes.n}. Each Jacobian is in {layout}; vec stacks the columns "
        "of a matrix. Each layer's Jacobians are taken in its own variables (the entries of its "
        "input, weights, bias and pre-activation); every entry is the CAS's derivative, compared "
        "with the same matrix built from its formula without differentiating. From "
        f"{top}, each Jacobian then contracts the gradient above it, down to {bottom}; each "
        "step takes that gradient as its "
        f"symbols ({names_h} for {grad_h}, {names_a} for {grad_a}), so that the chain is the "
        "composition of the steps, and each contraction is compared entry by entry with its "
        "backward rule."
    )


def network_jacobian_document(view: NetworkJacobians, full: bool = False) -> Document:
    """Setup, one section per layer from the top down, and the table of checks."""
    latex = _Latex(view)
    names = _Names(view)

    def matrix(jacobian: LayerJacobian) -> str:
        rows, cols = jacobian.shape
        return bmatrix(
            rows, cols, lambda i, j: latex.doprint(names.named(jacobian.entries[i][j])), full
        )

    sections = [Section("Setup", (Paragraph(_intro(view, latex=True)),))]
    for layer, found, indices in _sections(view):
        blocks: list[Block] = []
        for jacobian in found:
            check = next(
                view.checks[i] for i in indices if view.checks[i].identity.startswith(jacobian.name)
            )
            blocks.append(
                Paragraph(
                    f"${_identity_latex(jacobian.name)} = {_formula_latex(jacobian.formula)}$, "
                    f"of size ${jacobian.shape[0]} \\times {jacobian.shape[1]}$, "
                    f"{_check_words(check)}:"
                )
            )
            blocks.append(Display((matrix(jacobian),)))
        contractions = [view.checks[i] for i in indices if view.checks[i].kind == "contraction"]
        blocks.append(
            Paragraph(
                "The chain through these Jacobians: each gradient is the Jacobian's transpose "
                "times the vec of the gradient above it, reshaped, and is compared with its rule:"
            )
        )
        blocks.append(
            Table(
                ("gradient", "result"),
                tuple((f"${_identity_latex(c.identity)}$", _check_words(c)) for c in contractions),
            )
        )
        blocks += [
            _gradient_block(gradient, latex, names, full)
            for gradient in _layer_gradients(view, layer)
        ]
        sections.append(Section(_layer_title(view, layer), tuple(blocks)))
    verdict = "Every identity holds." if view.verified else "Not every identity holds."
    rows = tuple((f"${_identity_latex(c.identity)}$", _check_words(c)) for c in view.checks)
    sections.append(Section("Checks", (Table(("identity", "result"), rows), Paragraph(verdict))))
    title = f"The Jacobians of a network of {view.network.depth} layers, layer by layer"
    return Document(title, tuple(sections))


def network_jacobian_data(view: NetworkJacobians) -> dict[str, Any]:
    """The view as JSON data: every Jacobian's entries as SymPy text, its rows and columns (the
    entry symbols), its formula, every gradient and every check."""
    sizes = view.network.sizes
    return {
        "kind": "network jacobian",
        "layout": view.layout,
        "sizes": {"m": sizes.m, "k": sizes.k, "hidden": list(sizes.hidden), "n": sizes.n},
        "activation": view.network.activation.name if view.network.depth > 1 else None,
        "output_activation": view.network.output_activation.name,
        "bias": view.network.bias,
        "verified": view.verified,
        "jacobians": [
            {
                "name": jacobian.name,
                "layer": jacobian.layer,
                "of": jacobian.of,
                "by": jacobian.by,
                "formula": jacobian.formula,
                "shape": list(jacobian.shape),
                "rows": [str(entry) for entry in jacobian.rows],
                "columns": [str(entry) for entry in jacobian.columns],
                "entries": [[str(value) for value in row] for row in jacobian.entries],
            }
            for jacobian in view.jacobians
        ],
        "gradients": {
            gradient.name: {
                "rule": gradient.rule,
                "entries": [[str(value) for value in row] for row in gradient.entries],
            }
            for gradient in view.gradients
        },
        "checks": [
            {
                "kind": check.kind,
                "identity": check.identity,
                "holds": check.holds,
                "shape": list(check.shape),
                "claimed_shape": list(check.claimed_shape),
                "entries_checked": check.entries_checked,
                "mismatch_count": check.mismatch_count,
            }
            for check in view.checks
        ],
        "conventions": {
            "vec": "column-major: vec(X) stacks the columns of X",
            "layout": view.layout,
            "variables": "each layer's own: x_i_j or h(ℓ-1)_i_j, wℓ_i_j, bℓ_j, aℓ_i_j; "
            "the upstream dAL_i_j or dHL_i_j",
            "indices": "1-based",
        },
    }


def render_network_jacobian_json(view: NetworkJacobians) -> str:
    return json.dumps(network_jacobian_data(view), indent=2, ensure_ascii=False) + "\n"


def network_jacobian_summary(view: NetworkJacobians) -> str:
    held = sum(check.holds for check in view.checks)
    verdict = "verified" if view.verified else "NOT verified"
    sizes = view.network.sizes
    hidden = ",".join(map(str, sizes.hidden)) or "none"
    return (
        f"{verdict} (m={sizes.m}, k={sizes.k}, hidden {hidden}, n={sizes.n}, {view.layout} "
        f"layout): {held} of {len(view.checks)} checks hold"
    )


#: The widest matrix of gradients a page shows, in letters of the text (network_tex.width).
_PAGE_LETTERS = 58.0


def _gradient_block(gradient: Gradient, latex: _Latex, names: _Names, full: bool) -> Block:
    """∂L/∂V = [its entries], or, when the matrix is wider than the page (unless ``full``), where
    to find them."""
    entries = gradient.entries

    def cell(i: int, j: int) -> str:
        return str(latex.doprint(names.named(entries[i][j])))

    height, across = len(entries), len(entries[0])
    cells = matrix_cells(height, across, cell, full, (r"\cdots", r"\vdots", r"\ddots"))
    letters = sum(max(width(row[col]) for row in cells) + 2 for col in range(len(cells[0])))
    name = _formula_latex(gradient.name)
    if letters > _PAGE_LETTERS and not full:
        return Paragraph(
            f"The entries of $\\partial L/\\partial {name}$ are too wide for this page; the "
            "terminal view and the JSON list them, and --full prints them here."
        )
    return Display((rf"\partial L/\partial {name} = {bmatrix(height, across, cell, full)}",))


@dataclass(frozen=True)
class _MatrixOrEntries:
    """A matrix indented by two columns, or, when it is wider than the console, its entries one
    by one, (row, column): entry, each wrapped to the width."""

    block: ui.Block
    cells: list[list[str]]
    shape: tuple[int, int]
    full: bool

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if 2 + self.block.width <= options.max_width:
            yield ui.Figure(self.block, indent=2)
            return
        # The rows and columns the cells show (None where they elide), 0-based.
        rows = visible(self.shape[0], self.full)
        cols = visible(self.shape[1], self.full)
        for i, row in zip(rows, self.cells, strict=True):
            for j, cell in zip(cols, row, strict=True):
                if i is None or j is None:
                    continue
                yield ui.Hanging(cell, f"  ({i + 1},{j + 1}): ")
            if i is None:
                yield ui.line("  ⋮")


def _layer_gradients(view: NetworkJacobians, layer: int) -> list[Gradient]:
    """The gradients the layer's Jacobians contract: ∂L/∂Aℓ, ∂L/∂Wℓ, ∂L/∂bℓ, ∂L/∂H₍ℓ₋₁₎."""
    names = {f"A{layer}", f"W{layer}", f"b{layer}", "X" if layer == 1 else f"H{layer - 1}"}
    return [gradient for gradient in view.gradients if gradient.name in names]


def _plain_cells(entries: Any, plain: _Plain, names: _Names, full: bool) -> list[list[str]]:
    def cell(i: int, j: int) -> str:
        return str(plain.doprint(names.named(entries[i][j])))

    return matrix_cells(len(entries), len(entries[0]), cell, full)


def network_jacobian_view(view: NetworkJacobians, full: bool = False) -> ui.Sections:
    """The view for the terminal, in the document's order."""
    plain, names = _Plain(view), _Names(view)
    sections = [ui.Section("Setup", (ui.Hanging(_intro(view)),))]
    for layer, found, indices in _sections(view):
        body: list[RenderableType] = []
        for jacobian in found:
            check = next(
                view.checks[i] for i in indices if view.checks[i].identity.startswith(jacobian.name)
            )
            rows, cols = jacobian.shape
            body.append(
                ui.marked(
                    check.holds,
                    f"{jacobian.name} = {jacobian.formula} ({rows}×{cols}): {_check_words(check)}",
                )
            )
            entries = jacobian.entries

            def cell(i: int, j: int, entries: Any = entries) -> str:
                return str(plain.doprint(names.named(entries[i][j])))

            cells = matrix_cells(rows, cols, cell, full)
            body.append(ui.Figure(ui.matrix_block(cells), indent=2, what=jacobian.name))
            body.append(ui.blank())
        for index in indices:
            check = view.checks[index]
            if check.kind == "contraction":
                body.append(ui.marked(check.holds, f"{check.identity}: {_check_words(check)}"))
        for gradient in _layer_gradients(view, layer):
            body.append(ui.blank())
            body.append(Text(f"∂L/∂{gradient.name} ="))
            cells = _plain_cells(gradient.entries, plain, names, full)
            shape = (len(gradient.entries), len(gradient.entries[0]))
            body.append(_MatrixOrEntries(ui.matrix_block(cells), cells, shape, full))
        sections.append(ui.Section(_layer_title(view, layer), tuple(body)))
    results = [
        (check.identity, ui.outcome("✓ holds" if check.holds else "✗ fails", check.holds))
        for check in view.checks
    ]
    table = ui.results_table(("identity", "result"), results, no_wrap=("result",))
    sections.append(ui.Section("Checks", (table,)))
    title = f"The Jacobians of a network of {view.network.depth} layers, layer by layer"
    return ui.Sections(sections, lead=Text(title, style="bold"))
