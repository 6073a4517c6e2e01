"""How the Jacobian view (`matgrad jacobian`) writes the indices of each convention.

With samples as rows, A = ZW has the entries a_{i,j} = Σ_s z_{i,s} w_{s,j}, and the Jacobians are
written with the entries w_{r,q} of W and z_{p,r} of Z; with samples as columns, A = WX has the
entries a_{j,i} = Σ_s w_{j,s} x_{s,i}, and the entries w_{q,r} of W and x_{r,p} of X. The index
letters keep their meaning in both: i a sample, r an input, j an output (p and q the second
sample and output). The strings are written once, with δ and Σ, for the document (``tex``) and for
the terminal (``plain``); what follows from the layer (the Kronecker products, the shapes) is
read off it, not written here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.jacobians import JacobianVariable, KroneckerFactor, Layout, kronecker_factors
from ..core.layer import Layer, Samples


def tex(text: str) -> str:
    """δ and Σ_s in LaTeX: ``z_{i,r} δ_{j,q}`` becomes ``z_{i,r} \\delta_{j,q}``."""
    return text.replace("δ", r"\delta").replace("Σ_", r"\sum_")


def plain(text: str) -> str:
    """A position such as ``(j-1)m + i`` with the minus sign of running text, ``(j−1)m + i``."""
    return text.replace("-", "−")


@dataclass(frozen=True)
class JacobianNotation:
    """One convention's indices: the entry of A and where it sits in vec(A), and for each variable
    the entry a column of its Jacobian belongs to, that entry's place in vec(V) and its index
    pair, the partial index notation predicts, and the column index of V that names a block."""

    output: str
    forward: str
    output_position: str
    output_column: str
    entries: dict[JacobianVariable, str]
    positions: dict[JacobianVariable, str]
    pairs: dict[JacobianVariable, str]
    partials: dict[JacobianVariable, str]
    columns: dict[JacobianVariable, str]
    #: The general case: each gradient entry's chain-rule sum, collapsed, as a matrix product.
    chains: dict[JacobianVariable, tuple[str, str, str, str]]


NOTATIONS: dict[Samples, JacobianNotation] = {
    "rows": JacobianNotation(
        output="a_{i,j}",
        forward="a_{i,j} = Σ_s z_{i,s} w_{s,j}",
        output_position="(j-1)m + i",
        output_column="j",
        entries={"W": "w_{r,q}", "Z": "z_{p,r}"},
        positions={"W": "(q-1)k + r", "Z": "(r-1)m + p"},
        pairs={"W": "r,q", "Z": "p,r"},
        partials={"W": "z_{i,r} δ_{j,q}", "Z": "δ_{i,p} w_{r,j}"},
        columns={"W": "q", "Z": "r"},
        chains={
            "W": (
                "∂L/∂w_{r,q}",
                "Σ_{i,j} g_{i,j} z_{i,r} δ_{j,q}",
                "Σ_i z_{i,r} g_{i,q}",
                "(Zᵀ G)_{r,q}",
            ),
            "Z": (
                "∂L/∂z_{p,r}",
                "Σ_{i,j} g_{i,j} δ_{i,p} w_{r,j}",
                "Σ_j g_{p,j} w_{r,j}",
                "(G Wᵀ)_{p,r}",
            ),
        },
    ),
    "columns": JacobianNotation(
        output="a_{j,i}",
        forward="a_{j,i} = Σ_s w_{j,s} x_{s,i}",
        output_position="(i-1)n + j",
        output_column="i",
        entries={"W": "w_{q,r}", "X": "x_{r,p}"},
        positions={"W": "(r-1)n + q", "X": "(p-1)k + r"},
        pairs={"W": "q,r", "X": "r,p"},
        partials={"W": "δ_{j,q} x_{r,i}", "X": "w_{j,r} δ_{i,p}"},
        columns={"W": "r", "X": "p"},
        chains={
            "W": (
                "∂L/∂w_{q,r}",
                "Σ_{j,i} g_{j,i} δ_{j,q} x_{r,i}",
                "Σ_i g_{q,i} x_{r,i}",
                "(G Xᵀ)_{q,r}",
            ),
            "X": (
                "∂L/∂x_{r,p}",
                "Σ_{j,i} g_{j,i} w_{j,r} δ_{i,p}",
                "Σ_j w_{j,r} g_{j,p}",
                "(Wᵀ G)_{r,p}",
            ),
        },
    ),
}


def factor_latex(factor: KroneckerFactor) -> str:
    """A Kronecker factor in LaTeX: ``I_n``, ``Z`` or ``W^\\top``."""
    if factor.identity:
        return factor.text
    return factor.name + (r"^\top" if factor.transposed else "")


def kronecker_latex(layer: Layer, variable: str, layout: Layout) -> str:
    """The Jacobian's Kronecker product in LaTeX: ``I_n \\otimes Z``, ``X^\\top \\otimes I_n``."""
    left, right = kronecker_factors(layer, variable, layout)
    return rf"{factor_latex(left)} \otimes {factor_latex(right)}"


def kronecker_block(layer: Layer, variable: JacobianVariable, layout: Layout) -> str:
    """What block (s, t) of the Kronecker product is, by its definition A ⊗ B = [a_{s,t} B]
    (LaTeX): ``block $(j,q)$ is $(I_n)_{j,q} Z = \\delta_{j,q} Z$``."""
    notation = NOTATIONS[layer.samples]
    left, right = kronecker_factors(layer, variable, layout)
    down, across = notation.output_column, notation.columns[variable]
    if layout == "denominator":
        down, across = across, down
    inner = factor_latex(right)
    if left.identity:
        return (
            f"block $({down},{across})$ is $({factor_latex(left)})_{{{down},{across}}} {inner} "
            f"= \\delta_{{{down},{across}}} {inner}$"
        )
    # The entry (s, t) of the named factor, an entry of the layer's matrix (transposed or not).
    entry = left.name.lower() + (
        f"_{{{across},{down}}}" if left.transposed else f"_{{{down},{across}}}"
    )
    if layout == "denominator":
        return f"block $({down},{across})$ is ${entry} {inner}$"
    named = f"({factor_latex(left)})_{{{down},{across}}}"
    return f"block $({down},{across})$ is ${named} {inner} = {entry} {inner}$"


#: The general case in index notation, for any sizes, as aligned LaTeX lines.
GENERAL_LATEX: dict[Samples, tuple[str, ...]] = {
    "rows": (
        r"a_{i,j} &= \sum_{s=1}^{k} z_{i,s} w_{s,j}",
        r"\frac{\partial a_{i,j}}{\partial w_{r,q}} &= z_{i,r} \delta_{j,q}, "
        r"\qquad \frac{\partial a_{i,j}}{\partial z_{p,r}} = \delta_{i,p} w_{r,j}",
        r"\frac{\partial L}{\partial w_{r,q}} &= \sum_{i=1}^{m} \sum_{j=1}^{n} "
        r"\frac{\partial L}{\partial a_{i,j}} z_{i,r} \delta_{j,q} "
        r"= \sum_{i=1}^{m} z_{i,r} \frac{\partial L}{\partial a_{i,q}} "
        r"= \left(Z^\top \frac{\partial L}{\partial A}\right)_{r,q}",
        r"\frac{\partial L}{\partial z_{p,r}} &= \sum_{i=1}^{m} \sum_{j=1}^{n} "
        r"\frac{\partial L}{\partial a_{i,j}} \delta_{i,p} w_{r,j} "
        r"= \sum_{j=1}^{n} \frac{\partial L}{\partial a_{p,j}} w_{r,j} "
        r"= \left(\frac{\partial L}{\partial A} W^\top\right)_{p,r}",
    ),
    "columns": (
        r"a_{j,i} &= \sum_{s=1}^{k} w_{j,s} x_{s,i}",
        r"\frac{\partial a_{j,i}}{\partial w_{q,r}} &= \delta_{j,q} x_{r,i}, "
        r"\qquad \frac{\partial a_{j,i}}{\partial x_{r,p}} = w_{j,r} \delta_{i,p}",
        r"\frac{\partial L}{\partial w_{q,r}} &= \sum_{j=1}^{n} \sum_{i=1}^{m} "
        r"\frac{\partial L}{\partial a_{j,i}} \delta_{j,q} x_{r,i} "
        r"= \sum_{i=1}^{m} \frac{\partial L}{\partial a_{q,i}} x_{r,i} "
        r"= \left(\frac{\partial L}{\partial A} X^\top\right)_{q,r}",
        r"\frac{\partial L}{\partial x_{r,p}} &= \sum_{j=1}^{n} \sum_{i=1}^{m} "
        r"\frac{\partial L}{\partial a_{j,i}} w_{j,r} \delta_{i,p} "
        r"= \sum_{j=1}^{n} w_{j,r} \frac{\partial L}{\partial a_{j,p}} "
        r"= \left(W^\top \frac{\partial L}{\partial A}\right)_{r,p}",
    ),
}
