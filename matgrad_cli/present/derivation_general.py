"""The section of the derivation document that says why the identities hold at every size: the
textbook argument in index notation, in the convention of the derivation (samples as rows or as
columns), stated as written by hand (``matgrad prove`` carries it out symbolically).
"""

from __future__ import annotations

from ..core.layer import Layer, MatrixProduct
from ..core.model import Derivation
from . import layer_latex as layer_tex
from . import layer_words as words
from . import mathtex as tex
from .document import Display, Paragraph, Section

_CORNER = r"\displaystyle \frac{\partial L}{\partial a_{%s}}"


def _transposed_input(layer: Layer) -> str:
    """The input's transpose at general sizes by its corners: Zᵀ (k×m) with the entries z_{i,r}
    at (r, i), or Xᵀ (m×k) with x_{r,i} at (i, r)."""
    source = layer.role("input")

    def cell(row: object, col: object) -> str:
        return f"{source.entry}_{{{col},{row}}}"

    rows, cols = source.cols, source.rows
    lines = [
        " & ".join((cell(1, 1), cell(1, 2), r"\cdots", cell(1, cols))),
        r"\vdots & \vdots & \ddots & \vdots",
        " & ".join((cell(rows, 1), cell(rows, 2), r"\cdots", cell(rows, cols))),
    ]
    return "\\begin{bmatrix}\n" + " \\\\\n".join(lines) + "\n\\end{bmatrix}"


def _general_upstream(rows: str, cols: str) -> str:
    """∂L/∂A at general sizes (``rows``×``cols`` in letters), by its corners."""
    return (
        "\\begin{bmatrix}\n"
        f"{tex.ROW_STRUT} {_CORNER % '1,1'} & \\cdots & {_CORNER % f'1,{cols}'} \\\\\n"
        "\\vdots & \\ddots & \\vdots \\\\\n"
        f"{tex.ROW_STRUT} {_CORNER % f'{rows},1'} & \\cdots & {_CORNER % f'{rows},{cols}'}"
        "\n\\end{bmatrix}"
    )


def _matrix_form(layer: Layer) -> str:
    """∂L/∂W as the product of its two factors at general sizes, each underbraced with its name
    and shape: Zᵀ (k×m) times ∂L/∂A (m×n), or ∂L/∂A (n×m) times Xᵀ (m×k)."""
    upstream, source = layer.role("upstream"), layer.role("input")
    factors = [
        rf"\underbrace{{{_transposed_input(layer)}}}"
        rf"_{{{source.name}^\top\ ({source.cols} \times {source.rows})}}",
        rf"\underbrace{{{_general_upstream(upstream.rows, upstream.cols)}}}"
        rf"_{{\partial L / \partial A\ ({upstream.rows} \times {upstream.cols})}}",
    ]
    if layer_tex.upstream_first("W", layer):
        factors.reverse()
    return r"\frac{\partial L}{\partial W} = " + " ".join(factors)


def general_section(derivation: Derivation) -> Section:
    """The textbook argument in index notation, for every size."""
    sizes, layer = derivation.sizes, derivation.sizes.layer
    written = words.general(layer)
    variables = layer.variables(derivation.bias)
    # The first local derivative is aligned with the forward pass above it.
    local = [
        f"{tex.partial_latex('a_{p,q}', layer_tex.generic_entry(name, layer))} "
        f"{'=' if number else '&='} " + written.latex[name][0]
        for number, name in enumerate(variables)
    ]
    output = layer.role("output")
    sums = [
        f"{tex.grad(layer_tex.generic_entry(name, layer))} &= "
        f"\\sum_{{p=1}}^{{{output.rows}}} \\sum_{{q=1}}^{{{output.cols}}} "
        f"\\frac{{\\partial L}}{{\\partial a_{{p,q}}}} {written.latex[name][0]} "
        f"= {written.latex[name][1]} "
        f"= \\left({layer_tex.rule_latex(name, layer=layer)}\\right)"
        f"_{{{','.join(layer.matrix(name).indices)}}}"
        for name in variables
    ]
    forward = _forward(layer, derivation.bias)
    definitions = (forward, r", \qquad ".join(local))
    transposed = f"{layer.role('input').name}^\\top"
    return Section(
        "Why it holds at every size",
        (
            Paragraph(
                "The computation above is the instance "
                f"$m = {sizes.m}$, $k = {sizes.k}$, $n = {sizes.n}$ of the same calculation in "
                "index notation, with $\\delta$ the Kronecker delta. This section is the "
                "textbook argument, written out by hand; the command matgrad prove carries it "
                "out step by step, symbolically, for symbolic $m$, $k$, $n$."
            ),
            Display(definitions, aligned=True),
            Display(tuple(sums), aligned=True),
            Paragraph("In matrix form, with every index in its place:"),
            Display((_matrix_form(layer),)),
            Paragraph(
                f"A common mistake is to write $\\partial A/\\partial W = {transposed}$. The "
                "Jacobian $\\partial A/\\partial W$ is a fourth-order tensor, with the entries"
            ),
            Display((f"{written.tensor[1]},",)),
            Paragraph(
                f"and the matrix ${transposed}$ appears only after contracting it with "
                "$\\partial L/\\partial A$."
            ),
        ),
    )


def _forward(layer: Layer, bias: bool) -> str:
    """The forward pass at general sizes, over p, q and the summed s: a_{p,q} = Σ_s z_{p,s}
    w_{s,q} (+ b_q), or Σ_s w_{p,s} x_{s,q} (+ b_p)."""
    product = next(op for op in layer.operations if isinstance(op, MatrixProduct))
    left, right = layer.matrix(product.left), layer.matrix(product.right)
    letters = dict(zip(layer.matrix(product.output).indices, ("p", "q"), strict=True))

    def entry(name: str) -> str:
        matrix = layer.matrix(name)
        return f"{matrix.entry}_{{{','.join(letters.get(i, 's') for i in matrix.indices)}}}"

    bias_term = f" + {entry(layer.role('bias').name)}".replace("{", "").replace("}", "")
    return rf"a_{{p,q}} &= \sum_{{s=1}}^{{k}} {entry(left.name)} {entry(right.name)}" + (
        bias_term if bias else ""
    )
