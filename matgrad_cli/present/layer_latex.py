"""The layer's notation in LaTeX, read off its description (core/layer.py).

The forward pass ``A = ZW + \\mathbf{1}_m b`` and the backward rules such as
``\\frac{\\partial L}{\\partial A} W^\\top`` are written from LAYER's operations and factors, so
that a document states the layer the way the mathematics describes it.
"""

from __future__ import annotations

from ..core.layer import LAYER, BiasBroadcast, Factor, MatrixProduct, Variable

#: ∂L/∂A as a display fraction, and slashed for running text.
UPSTREAM = r"\frac{\partial L}{\partial A}"
UPSTREAM_INLINE = r"(\partial L/\partial A)"


def factor_latex(factor: Factor, upstream: str = UPSTREAM) -> str:
    """One factor of a backward rule: ``upstream`` for ∂L/∂A, 1_m for the ones, else the
    matrix's name; transposed when it is."""
    matrix = LAYER.matrix(factor.matrix)
    if matrix.role == "upstream":
        text = upstream
    elif matrix.role == "ones":
        text = rf"\mathbf{{1}}_{matrix.rows}"
    else:
        text = matrix.name
    return text + (r"^\top" if factor.transposed else "")


def rule_latex(variable: Variable, upstream: str = UPSTREAM, after_upstream: str = " ") -> str:
    """The matrix form of ∂L/∂``variable``, its factors side by side (the Matrix Cookbook,
    eqs. 69-71, in gradient layout); ``after_upstream`` separates ∂L/∂A from a factor after it."""
    left, right = LAYER.rule(variable).factors
    separator = after_upstream if LAYER.matrix(left.matrix).role == "upstream" else " "
    return f"{factor_latex(left, upstream)}{separator}{factor_latex(right, upstream)}"


def forward_latex(bias: bool) -> str:
    """The forward pass: ``A = ZW``, or with the bias ``A = ZW + \\mathbf{1}_m b``."""
    parts: list[str] = []
    output = ""
    for operation in LAYER.operations:
        output = operation.output
        if isinstance(operation, MatrixProduct):
            parts.append(operation.left + operation.right)
        elif isinstance(operation, BiasBroadcast) and bias:
            ones = LAYER.matrix(operation.ones)
            parts.append(rf"\mathbf{{1}}_{ones.rows} {operation.bias}")
    return f"{output} = " + " + ".join(parts)
