"""The LaTeX of the Jacobian view that its sections share: names, Kronecker forms, verdicts.

jacobian_doc.py (the Jacobians) and jacobian_gradients.py (the contraction with ∂L/∂A and what
follows) both write ∂vec(A)/∂vec(W)ᵀ, J_W, I_n ⊗ Z and a check's verdict the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.jacobians import JacobianCheck, JacobianVariable, Layout
from ..core.kronecker import Matrix
from .document import Paragraph
from .mathtex import bmatrix, expr_latex, shape_latex

#: The vec operator, which stacks the columns of a matrix.
VEC = r"\operatorname{vec}"

#: The entry of W and of Z that a column of the numerator-layout Jacobian belongs to.
ENTRY = {"W": "w_{r,q}", "Z": "z_{p,r}"}


def jacobian_latex(variable: JacobianVariable, layout: Layout) -> str:
    """∂vec(A)/∂vec(W)ᵀ in numerator layout, ∂vec(A)ᵀ/∂vec(W) in denominator layout."""
    if layout == "numerator":
        return rf"\frac{{\partial {VEC}(A)}}{{\partial {VEC}({variable})^\top}}"
    return rf"\frac{{\partial {VEC}(A)^\top}}{{\partial {VEC}({variable})}}"


def short_name(variable: JacobianVariable, layout: Layout) -> str:
    """J_W, or J_W^⊤ for the denominator-layout matrix."""
    return f"J_{variable}" if layout == "numerator" else rf"J_{variable}^\top"


#: Each Jacobian as a Kronecker product, in each layout.
KRONECKER: dict[tuple[JacobianVariable, Layout], str] = {
    ("W", "numerator"): r"I_n \otimes Z",
    ("W", "denominator"): r"I_n \otimes Z^\top",
    ("Z", "numerator"): r"W^\top \otimes I_m",
    ("Z", "denominator"): r"W \otimes I_m",
}


def vec_identity(variable: JacobianVariable) -> str:
    """vec(A) as a Kronecker product times vec(W) or vec(Z) (Matrix Cookbook section 10.2.2)."""
    return rf"({KRONECKER[(variable, 'numerator')]}) {VEC}({variable})"


def verdict(check: JacobianCheck, claim: str, against: str) -> Paragraph:
    """What a check found, in words; ``against`` names the independent side."""
    count = check.entries_checked
    if check.holds:
        return Paragraph(
            f"Verified entry by entry: all {count} entries agree with {against}, so ${claim}$."
        )
    if check.claimed_shape != check.shape:
        return Paragraph(f"NOT verified: ${claim}$ fails, {rejection(check)}.")
    first = check.mismatches[0]
    return Paragraph(
        f"NOT verified: ${claim}$ fails at {check.mismatch_count} of {count} entries; at entry "
        f"${first.index[0]},{first.index[1]}$ the computed value is "
        f"${expr_latex(first.elementwise)}$ but {against} gives ${expr_latex(first.claimed)}$."
    )


def rejection(check: JacobianCheck) -> str:
    """Why a check failed, in words: the shapes differ, or how many entries."""
    if check.claimed_shape != check.shape:
        shapes = f"${shape_latex(*check.shape)}$ against ${shape_latex(*check.claimed_shape)}$"
        return f"the shapes differ ({shapes})"
    return f"{check.mismatch_count} of {check.entries_checked} entries differ"


def matrix_latex(entries: Matrix, full: bool) -> str:
    """A matrix of engine expressions as a bmatrix, elided unless ``full``."""
    return bmatrix(len(entries), len(entries[0]), lambda i, j: expr_latex(entries[i][j]), full)


def column_latex(items: Sequence[str], full: bool) -> str:
    """A column of LaTeX items as a bmatrix, elided unless ``full``."""
    return bmatrix(len(items), 1, lambda i, j: items[i], full)
