"""The layer's notation in LaTeX, read off its description (core/layer.py): the forward pass, the
backward rules, the names of entries and the factors of a rule written out, so that every document
states the layer the way the mathematics describes it. Each function takes the layer, in the
convention of the sizes at hand (``sizes.layer``); samples as rows unless told.
"""

from __future__ import annotations

from ..core.layer import ROWS, Factor, Index, Layer, Sizes
from ..core.model import Symbols
from .mathtex import bmatrix, slashed, symbol_matrix
from .notation import forward_text

#: ∂L/∂A as a display fraction, and slashed for running text.
UPSTREAM = r"\frac{\partial L}{\partial A}"
UPSTREAM_INLINE = r"(\partial L/\partial A)"


def factor_latex(factor: Factor, upstream: str = UPSTREAM, layer: Layer = ROWS) -> str:
    """One factor of a backward rule: ``upstream`` for ∂L/∂A, 1_m for the ones, else the
    matrix's name; transposed when it is."""
    matrix = layer.matrix(factor.matrix)
    if matrix.role == "upstream":
        text = upstream
    elif matrix.role == "ones":
        text = rf"\mathbf{{1}}_{matrix.rows}"
    else:
        text = matrix.name
    return text + (r"^\top" if factor.transposed else "")


def rule_latex(
    variable: str, upstream: str = UPSTREAM, after_upstream: str = " ", layer: Layer = ROWS
) -> str:
    """The matrix form of ∂L/∂``variable``, its factors side by side (the Matrix Cookbook,
    eqs. 69-71, in gradient layout); ``after_upstream`` separates ∂L/∂A from a factor after it."""
    left, right = layer.rule(variable).factors
    separator = after_upstream if upstream_first(variable, layer) else " "
    first, second = (factor_latex(factor, upstream, layer) for factor in (left, right))
    return f"{first}{separator}{second}"


def rule_claim(variable: str, after_upstream: str = " ", layer: Layer = ROWS) -> str:
    """∂L/∂X = its matrix form, for running text."""
    form = rule_latex(variable, UPSTREAM_INLINE, after_upstream, layer)
    return f"{slashed(variable)} = {form}"


def upstream_first(variable: str, layer: Layer = ROWS) -> bool:
    """Whether ∂L/∂A is the left factor of the rule, so that its terms read ∂L/∂a·w, not z·∂L/∂a."""
    return layer.matrix(layer.rule(variable).left.matrix).role == "upstream"


def forward_latex(bias: bool, layer: Layer = ROWS) -> str:
    """The forward pass: ``A = ZW``, or with the bias ``A = ZW + \\mathbf{1}_m b`` (samples as
    rows) or ``A = WX + b \\mathbf{1}_m^\\top`` (samples as columns)."""
    return forward_text(
        bias, r"\mathbf{{{ones}}}_{rows} {bias}", layer, r"{bias} \mathbf{{{ones}}}_{rows}^\top"
    )


def position(variable: str, index: Index, layer: Layer = ROWS) -> str:
    """The subscript of an entry (1-based): ``i,r``, or one index for a vector such as b."""
    matrix = layer.matrix(variable)
    if not matrix.vector:
        return f"{index[0]},{index[1]}"
    return f"{index[1]}" if matrix.rows == "1" else f"{index[0]}"


def entry_name(variable: str, index: Index, layer: Layer = ROWS) -> str:
    """The name of an entry (1-based): z_{1,2}, w_{2,1}, b_{3}."""
    return f"{layer.matrix(variable).entry}_{{{position(variable, index, layer)}}}"


def generic_entry(variable: str, layer: Layer = ROWS) -> str:
    """The entry with the layer's letter indices: z_{i,r}, w_{r,j}, b_j."""
    matrix = layer.matrix(variable)
    indices = ",".join(matrix.indices)
    return (
        f"{matrix.entry}_{{{indices}}}" if len(matrix.indices) > 1 else f"{matrix.entry}_{indices}"
    )


def named_matrix(variable: str, sizes: Sizes) -> str:
    """The matrix of a variable with its named entries, as a problem states it."""
    return bmatrix(
        *sizes.shape_of(variable), lambda i, j: entry_name(variable, (i + 1, j + 1), sizes.layer)
    )


def factors_latex(
    variable: str, symbols: Symbols, sizes: Sizes, upstream: str, full: bool = False
) -> str:
    """The two factors of ∂L/∂``variable``'s matrix form written out: ``upstream`` for ∂L/∂A, the
    symbols of Z or W, or a row of ones, each transposed where the rule says."""
    written = []
    for factor in sizes.layer.rule(variable).factors:
        matrix = sizes.layer.matrix(factor.matrix)
        if matrix.role == "upstream":
            written.append(upstream)
        elif matrix.role == "ones":
            rows, cols = factor.shape(sizes)
            written.append(bmatrix(rows, cols, lambda i, j: "1", full))
        else:
            entries = symbols.rows(factor.matrix)
            if factor.transposed:
                entries = tuple(zip(*entries, strict=True))
            written.append(symbol_matrix(entries, full))
    return " ".join(written)
