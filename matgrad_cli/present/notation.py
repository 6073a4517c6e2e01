"""The plain-text notation of the terminal views: entries with subscripts, sums and products.

An engine symbol ``z_1_11`` is written z₁,₁₁ and ``dA_1_2`` (∂L/∂a_{1,2}) g₁,₂, as SPEC section 1
lets plain output abbreviate it; products list z, g, w, x, b in the order Z·W, G·Wᵀ and Zᵀ·G read
(and, with samples as columns, W·X and G·Xᵀ).
Long sums are elided with ⋯ beyond ``SUM_TERMS`` terms (present/limits.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ..core.layer import ROWS, Layer, MatrixProduct, Sizes
from ..core.model import LinearForm, UpstreamTerm
from .limits import ENTRY_LIST, MATRIX_SIDE, SUM_TERMS

_SUBSCRIPTS = str.maketrans("0123456789mkn", "₀₁₂₃₄₅₆₇₈₉ₘₖₙ")
_SUPERSCRIPT_DIGITS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SYMBOL_NAME = re.compile(r"(?<![A-Za-z0-9_])(dA|z|x|w|b|y|a|sigma)((?:_[0-9]+)+)(?![A-Za-z0-9_])")
#: Display letters of the engine's symbol prefixes; dA_i_j is ∂L/∂a_{i,j}, written g, and
#: sigma_i_j the softmax's σ_{i,j}.
_LETTERS = {"z": "z", "x": "x", "w": "w", "b": "b", "dA": "g", "y": "y", "a": "a", "sigma": "σ"}
#: The order of factors in a displayed product: z g w x b reads as Z·W, G·Wᵀ and Zᵀ·G do, and
#: as W·X and G·Xᵀ do with samples as columns.
_FACTOR_RANK = {"z": 0, "dA": 1, "w": 2, "x": 3, "b": 4, "a": 5, "sigma": 5, "y": 6}


def subscript(index: int | str) -> str:
    """``11`` → ``₁₁``, ``m`` → ``ₘ``."""
    return str(index).translate(_SUBSCRIPTS)


def pretty_index(index: Sequence[int]) -> str:
    """``(1, 11)`` → ``₁,₁₁``: subscript digits and a plain comma, so z₁,₁₁ is not z₁₁,₁."""
    return ",".join(subscript(i) for i in index)


def dimensions(shape: tuple[int, int]) -> str:
    """``(2, 3)`` → ``2×3``."""
    return f"{shape[0]}×{shape[1]}"


def sizes_text(sizes: Sizes) -> str:
    """``m = 2, k = 3, n = 4``."""
    return f"m = {sizes.m}, k = {sizes.k}, n = {sizes.n}"


def pretty_symbol(name: str) -> str:
    """An engine symbol name as a person writes it: ``z_1_11`` → ``z₁,₁₁``, ``dA_1_2`` → ``g₁,₂``;
    names that are not matgrad's entry symbols come back unchanged."""
    match = _SYMBOL_NAME.fullmatch(name)
    if match is None:
        return name
    indices = match.group(2).split("_")[1:]
    return _LETTERS[match.group(1)] + ",".join(subscript(i) for i in indices)


def _factor_key(factor: Any) -> tuple[int, tuple[int, ...], str]:
    """Sort key for the factors of a product: z before g before w before b, then by index."""
    name = str(factor.name) if getattr(factor, "is_Symbol", False) else str(factor)
    match = _SYMBOL_NAME.fullmatch(name)
    if match is None:
        return (len(_FACTOR_RANK), (), name)
    indices = tuple(int(i) for i in match.group(2).split("_")[1:])
    return (_FACTOR_RANK[match.group(1)], indices, name)


def _as_sympy(expr: Any) -> Any:
    """The expression as SymPy, whichever engine made it (SymPy's own are returned as they are)."""
    import sympy

    if hasattr(expr, "_sympy_"):
        return expr._sympy_()
    return sympy.sympify(expr)


def _pretty_number(number: Any) -> str:
    text = str(number)
    return "−" + text[1:] if text.startswith("-") else text


def _pretty_product(expr: Any) -> str:
    """A product: a fraction when it has a denominator, else its coefficient and factors."""
    numerator, denominator = expr.as_numer_denom()
    if denominator != 1:
        top, bottom = _pretty_sympy(numerator), _pretty_sympy(denominator)
        top = f"({top})" if numerator.is_Add else top
        bottom = f"({bottom})" if denominator.is_Add or denominator.is_Mul else bottom
        return f"{top} / {bottom}"
    coefficient, factors = expr.as_coeff_mul()
    pieces = [
        f"({_pretty_sympy(factor)})" if factor.is_Add else _pretty_sympy(factor)
        for factor in sorted(factors, key=_factor_key)
    ]
    body = " ".join(pieces)
    if coefficient == 1:
        return body
    if coefficient == -1:
        return "−" + body
    return f"{_pretty_number(coefficient)} {body}"


def _pretty_power(expr: Any) -> str:
    base, exponent = expr.args
    base_text = _pretty_sympy(base)
    if not (base.is_Symbol or (base.is_Integer and base >= 0)):
        base_text = f"({base_text})"
    if exponent.is_Integer:
        return base_text + str(exponent).translate(_SUPERSCRIPT_DIGITS)
    return f"{base_text}^({_pretty_sympy(exponent)})"


def _pretty_sympy(expr: Any) -> str:
    """Walk a SymPy expression; sums and products are exact, anything else falls back to str."""
    if expr.is_Symbol:
        return pretty_symbol(str(expr.name))
    if expr.is_Number:
        return _pretty_number(expr)
    if expr.is_Add:
        terms = expr.as_ordered_terms()
        text = _pretty_sympy(terms[0])
        for term in terms[1:]:
            if term.could_extract_minus_sign():
                text += " − " + _pretty_sympy(-term)
            else:
                text += " + " + _pretty_sympy(term)
        return text
    if expr.is_Mul:
        return _pretty_product(expr)
    if expr.is_Pow:
        return _pretty_power(expr)
    if expr.func.__name__ == "exp":
        return f"exp({_pretty_sympy(expr.args[0])})"
    return _SYMBOL_NAME.sub(lambda match: pretty_symbol(match.group(0)), str(expr))


def pretty_expr(expr: Any) -> str:
    """An engine (or SymPy) expression in the views' notation: ``dA_1_1*w_2_1`` → ``g₁,₁ w₂,₁``,
    products listing z, g, w, b in that order, sums written out with + and −."""
    if isinstance(expr, int):
        return _pretty_number(expr)
    if getattr(expr, "is_Symbol", False):
        return pretty_symbol(str(expr.name))
    return _pretty_sympy(_as_sympy(expr))


def all_entries(count: int) -> str:
    """its one entry, both entries, all 4 entries."""
    return {1: "its one entry", 2: "both entries"}.get(count, f"all {count} entries")


def listed(items: Sequence[str]) -> str:
    """a, b and c; a alone; nothing for no items."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def elide(
    items: Sequence[str], full: bool = False, limit: int = SUM_TERMS, marker: str = "⋯"
) -> list[str]:
    """The items of a sum or a list to show: all of them, or beyond ``limit`` (unless ``full``)
    the first two, ``marker`` (LaTeX's \\cdots) and the last."""
    if full or len(items) <= limit:
        return list(items)
    return [*items[:2], marker, items[-1]]


def visible(count: int, full: bool = False) -> list[int | None]:
    """The 0-based indices to show along a dimension, None marking the elided middle (SPEC §2)."""
    if full or count <= MATRIX_SIDE:
        return list(range(count))
    return [0, 1, 2, None, count - 2, count - 1]


def matrix_cells(
    rows: int,
    cols: int,
    cell: Callable[[int, int], str],
    full: bool,
    marks: tuple[str, str, str] = ("⋯", "⋮", "⋱"),
) -> list[list[str]]:
    """The displayed cells of a matrix, ``marks`` standing for elided columns, rows and both."""
    across, down, both = marks
    shown_cols = visible(cols, full)
    return [
        [cell(row, col) if col is not None else across for col in shown_cols]
        if row is not None
        else [down if col is not None else both for col in shown_cols]
        for row in visible(rows, full)
    ]


def sampled(count: int, full: bool, limit: int = ENTRY_LIST) -> list[int | None]:
    """The 0-based items of a list to show one per line: all, or beyond ``limit`` (unless
    ``full``) the first three, None for the gap, and the last."""
    if full or count <= limit:
        return list(range(count))
    return [0, 1, 2, None, count - 1]


def expr_terms(expr: Any, full: bool) -> list[str]:
    """The terms of a sum, each in the document's notation, elided when there are many."""
    converted = _as_sympy(expr)
    if not converted.is_Add:
        return [_pretty_sympy(converted)]
    return elide([_pretty_sympy(term) for term in converted.as_ordered_terms()], full)


def product_term(term: UpstreamTerm, upstream_first: bool) -> str:
    """One term of a linear form in G, in its product's order: ``g₁,₁ w₁,₁`` in G·Wᵀ and in a
    chain-rule sum, ``z₁,₁ g₁,₁`` in Zᵀ·G."""
    output, factor = term
    upstream = "g" + pretty_index(output)
    if factor == 1:
        return upstream
    shown = pretty_expr(factor)
    if not getattr(factor, "is_Symbol", False):
        shown = f"({shown})"
    return f"{upstream} {shown}" if upstream_first else f"{shown} {upstream}"


def product_entry(form: LinearForm, upstream_first: bool, full: bool) -> str:
    """A linear form in G on one line, its terms in the product's order: ``g₁,₁ w₁,₁ + …``
    (``0`` for an empty sum, as of an entry that feeds nothing)."""
    terms = [product_term(term, upstream_first) for term in form]
    return " + ".join(elide(terms, full)) or "0"


# The layer's notation, read off its description (core/layer.py)


def forward_text(
    bias: bool,
    broadcast: str = "{ones}{sub}{bias}",
    layer: Layer = ROWS,
    bias_first: str = "{bias}{ones}{sub}ᵀ",
) -> str:
    """The forward pass read off ``layer``: ``A = ZW``, or ``A = ZW + 1ₘb`` with the bias, its
    term written by ``broadcast`` from the ones' name, rows (or ``sub``script) and the bias; a
    bias added to every column (samples as columns, ``A = WX + b1ₘᵀ``) by ``bias_first``."""
    parts: list[str] = []
    for operation in layer.operations:
        if isinstance(operation, MatrixProduct):
            parts.append(operation.left + operation.right)
        elif bias:
            ones = layer.matrix(operation.ones)
            rows, sub = ones.rows, subscript(ones.rows)
            written = bias_first if operation.bias_first else broadcast
            parts.append(written.format(ones=ones.text, rows=rows, sub=sub, bias=operation.bias))
    return f"{layer.operations[0].output} = " + " + ".join(parts)


def shape_letters(name: str, times: str = "×", layer: Layer = ROWS) -> str:
    """The shape of ``layer``'s matrix ``name`` in size letters: ``m×k``."""
    matrix = layer.matrix(name)
    return f"{matrix.rows}{times}{matrix.cols}"


def sized_shape(name: str, sizes: Sizes) -> str:
    """Its shape in letters and at ``sizes`` (in their convention): ``m×k = 2×3``."""
    return f"{shape_letters(name, layer=sizes.layer)} = {dimensions(sizes.shape_of(name))}"


def product_name(variable: str, layer: Layer = ROWS) -> str:
    """The backward rule of ∂L/∂``variable`` by the names of its factors: ``G Wᵀ``, ``1ᵀ G``."""
    factors = layer.rule(variable).factors
    return " ".join(factor.matrix + ("ᵀ" if factor.transposed else "") for factor in factors)


def pretty_entry(variable: str, index: Sequence[int], layer: Layer = ROWS) -> str:
    """An entry of ``layer``'s matrix ``variable``: z₁,₂, or b₂ with one index for a vector."""
    matrix = layer.matrix(variable)
    if not matrix.vector:
        return matrix.entry + pretty_index(index)
    return matrix.entry + pretty_index(index[-1:] if matrix.rows == "1" else index[:1])


def layer_sizes(sizes: Sizes) -> str:
    """``Sizes m = 2, k = 3, n = 4: the input Z is m×k = 2×3, the weights W are k×n = 3×4``."""
    names = sizes.layer.role("input").name, sizes.layer.role("weights").name
    return (
        f"Sizes {sizes_text(sizes)}: the input {names[0]} is {sized_shape(names[0], sizes)}, "
        f"the weights {names[1]} are {sized_shape(names[1], sizes)}"
    )
