"""The layer in words, read off its description (core/layer.py), for the derivation's documents in
either convention: what an entry of A sums, which row and column it combines, where the bias goes;
and the argument in index notation, written out by hand for each convention (SPEC section 2, "the
general case"), plain for the terminal and in LaTeX for the documents.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.layer import Layer, MatrixProduct, Samples
from .layer_latex import generic_entry


def _product(layer: Layer) -> MatrixProduct:
    """The layer's matrix product (ZW, or WX)."""
    return next(op for op in layer.operations if isinstance(op, MatrixProduct))


def names(layer: Layer, bias: bool) -> str:
    """The variables by name: ``Z and W``, ``X, W and b``."""
    variables = layer.variables(bias)
    return ", ".join(variables[:-1]) + " and " + variables[-1]


def forward_sum(layer: Layer, bias: bool, sigma: str = "Σ") -> str:
    """``a_{i,j} = Σ_r z_{i,r} w_{r,j} + b_j``, or ``a_{j,i} = Σ_r w_{j,r} x_{r,i} + b_j``:
    the generic entry of A, summed over the index its factors share."""
    product = _product(layer)
    left, right = layer.matrix(product.left), layer.matrix(product.right)
    shared = next(index for index in left.indices if index in right.indices)
    text = (
        f"{generic_entry(product.output, layer)} = {sigma}_{shared} "
        f"{generic_entry(left.name, layer)} {generic_entry(right.name, layer)}"
    )
    return text + (f" + {generic_entry(layer.role('bias').name, layer)}" if bias else "")


def product_reading(layer: Layer) -> str:
    """``row i of Z times column j of W``: what the entry of A at (p, q) combines."""
    product = _product(layer)
    row, col = layer.matrix(product.output).indices
    return f"row {row} of {product.left} times column {col} of {product.right}"


def bias_vector(layer: Layer) -> str:
    """What kind of vector b is: ``row`` (1×n) or ``column`` (n×1)."""
    return "row" if layer.role("bias").rows == "1" else "column"


def bias_line(layer: Layer) -> str:
    """The line of A that every b_j is added along: a ``column`` (samples as rows) or a ``row``."""
    index = layer.role("bias").indices[0]
    return "column" if layer.role("output").indices[1] == index else "row"


def product_term(layer: Layer) -> str:
    """A term of an entry of A: ``z_{i,r} w_{r,j}``, or ``w_{j,r} x_{r,i}``."""
    product = _product(layer)
    return f"{generic_entry(product.left, layer)} {generic_entry(product.right, layer)}"


def product_text(layer: Layer) -> str:
    """The product without the bias, ``ZW`` or ``WX``."""
    product = _product(layer)
    return product.left + product.right


@dataclass(frozen=True)
class General:
    """The textbook argument in index notation for one convention, written out by hand (it is
    stated as such; matgrad prove carries it out): each variable's local derivative ∂a_{p,q}/∂x,
    its chain-rule sum once the Kronecker delta has contracted it, plain and in LaTeX."""

    #: variable → (local derivative, contracted sum, matrix entry), plain.
    plain: dict[str, tuple[str, str, str]]
    #: variable → (local derivative, contracted sum), LaTeX.
    latex: dict[str, tuple[str, str]]
    #: The Jacobian ∂A/∂W's entries in the note on the common mistake: plain and LaTeX.
    tensor: tuple[str, str]
    #: The transposed input that appears after contracting with ∂L/∂A: ``Zᵀ`` or ``Xᵀ``.
    transposed_input: str


_GENERAL: dict[Samples, General] = {
    "rows": General(
        plain={
            "Z": ("δ_{p,i} w_{r,q}", "Σ_j g_{i,j} w_{r,j}", "(G Wᵀ)_{i,r}"),
            "W": ("z_{p,r} δ_{q,j}", "Σ_i z_{i,r} g_{i,j}", "(Zᵀ G)_{r,j}"),
            "b": ("δ_{q,j}", "Σ_i g_{i,j}", "(1ᵀ G)_j"),
        },
        latex={
            "Z": (
                r"\delta_{p,i} w_{r,q}",
                r"\sum_{j=1}^{n} \frac{\partial L}{\partial a_{i,j}} w_{r,j}",
            ),
            "W": (
                r"z_{p,r} \delta_{q,j}",
                r"\sum_{i=1}^{m} z_{i,r} \frac{\partial L}{\partial a_{i,j}}",
            ),
            "b": (r"\delta_{q,j}", r"\sum_{i=1}^{m} \frac{\partial L}{\partial a_{i,j}}"),
        },
        tensor=(
            "∂a_{i,j}/∂w_{r,q} = z_{i,r} δ_{j,q}",
            r"\frac{\partial a_{p,q}}{\partial w_{r,j}} = z_{p,r} \delta_{q,j}",
        ),
        transposed_input="Zᵀ",
    ),
    "columns": General(
        plain={
            "X": ("w_{p,r} δ_{q,i}", "Σ_j w_{j,r} g_{j,i}", "(Wᵀ G)_{r,i}"),
            "W": ("δ_{p,j} x_{r,q}", "Σ_i g_{j,i} x_{r,i}", "(G Xᵀ)_{j,r}"),
            "b": ("δ_{p,j}", "Σ_i g_{j,i}", "(G 1)_j"),
        },
        latex={
            "X": (
                r"w_{p,r} \delta_{q,i}",
                r"\sum_{j=1}^{n} w_{j,r} \frac{\partial L}{\partial a_{j,i}}",
            ),
            "W": (
                r"\delta_{p,j} x_{r,q}",
                r"\sum_{i=1}^{m} \frac{\partial L}{\partial a_{j,i}} x_{r,i}",
            ),
            "b": (r"\delta_{p,j}", r"\sum_{i=1}^{m} \frac{\partial L}{\partial a_{j,i}}"),
        },
        tensor=(
            "∂a_{j,i}/∂w_{p,r} = δ_{j,p} x_{r,i}",
            r"\frac{\partial a_{p,q}}{\partial w_{j,r}} = \delta_{p,j} x_{r,q}",
        ),
        transposed_input="Xᵀ",
    ),
}


def general(layer: Layer) -> General:
    """The argument in index notation for ``layer``'s convention."""
    return _GENERAL[layer.samples]


def general_chains(layer: Layer, bias: bool) -> list[list[str]]:
    """The argument as plain chains of equalities: the forward pass, then for each variable its
    local derivative and its chain-rule sum, contracted and read as a matrix entry."""
    written = general(layer).plain
    chains = [[*forward_sum(layer, bias).split(" = ")]]
    for name in layer.variables(bias):
        entry = generic_entry(name, layer)
        local, contracted, matrix_entry = written[name]
        chains.append([f"∂a_{{p,q}}/∂{entry}", local])
        # The bias's local derivative is a delta alone: its sum is written contracted at once.
        sums = [] if layer.matrix(name).role == "bias" else [f"Σ_{{p,q}} g_{{p,q}} {local}"]
        chains.append([f"∂L/∂{entry}", *sums, contracted, matrix_entry])
    return chains
