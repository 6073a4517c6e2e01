"""LaTeX for matgrad's symbols, sums and matrices, shared by the LaTeX and Markdown documents.

Symbols are named z_i_r, w_r_j, b_j and dA_i_j (x_r_i, w_j_r, b_j and dA_j_i with samples as
columns; 1-based, indices separated by ``_`` so that z_1_11 and z_11_1 never collide). Here they
become z_{1,11} and, for the entries of ∂L/∂A, \\frac{\\partial L}{\\partial a_{i,j}}, as in the
notes matgrad grew from (SPEC section 1).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from ..core.model import LinearForm
from .limits import LINE_TERMS, MATRIX_WIDTH, PARTIAL_LINE_TERMS, SUM_TERMS
from .notation import elide, listed, matrix_cells, visible

_SYMBOL_NAME = re.compile(r"^(z|x|w|b|dA|y|a|sigma)((?:_\d+)+)$")


_RANKS = {"z": 0, "w": 1, "x": 2, "b": 3, "a": 4, "sigma": 4, "y": 5, "dA": 6}


def _rank(name: str) -> int:
    """Where a symbol goes in a written product: z, w, x, b, y, then ∂L/∂a; 9 for other names."""
    match = _SYMBOL_NAME.match(name)
    return _RANKS[match.group(1)] if match is not None else 9


@cache
def symbol_latex(name: str) -> str | None:
    """The LaTeX of a matgrad symbol name, or None for a name matgrad did not make."""
    match = _SYMBOL_NAME.match(name)
    if match is None:
        return None
    kind, indices = match.group(1), match.group(2)[1:].replace("_", ",")
    if kind == "dA":
        return rf"\frac{{\partial L}}{{\partial a_{{{indices}}}}}"
    if kind == "sigma":
        return rf"\sigma_{{{indices}}}"
    return f"{kind}_{{{indices}}}"


def partial_latex(numerator: str, denominator: str) -> str:
    """\\frac{\\partial numerator}{\\partial denominator}."""
    return rf"\frac{{\partial {numerator}}}{{\partial {denominator}}}"


def grad(variable: str) -> str:
    """∂L/∂x as a display fraction."""
    return partial_latex("L", variable)


def slashed(variable: str) -> str:
    """∂L/∂x written with a slash, for running text and tables."""
    return rf"\partial L/\partial {variable}"


def shape_latex(rows: int, cols: int) -> str:
    """rows × cols."""
    return rf"{rows} \times {cols}"


def upstream_latex(index: tuple[int, int]) -> str:
    """The entry ∂L/∂a_{i,j} of the upstream gradient."""
    return partial_latex("L", f"a_{{{index[0]},{index[1]}}}")


@cache
def _printer() -> Any:
    """A SymPy LatexPrinter that writes matgrad's symbols in matgrad's notation."""
    from sympy.printing.latex import LatexPrinter

    class MatgradLatexPrinter(LatexPrinter):  # type: ignore[misc]  # sympy has no stubs
        """SymPy's LaTeX printer with matgrad's names for indexed symbols."""

        def _print_Symbol(self, expr: Any, style: str = "plain") -> str:
            known = symbol_latex(expr.name)
            return known if known is not None else str(super()._print_Symbol(expr, style))

        def _print_Mul(self, expr: Any) -> str:
            coefficient, rest = expr.as_coeff_Mul()
            body = _product_latex(rest.args if rest.is_Mul else (rest,))
            if body is None:
                return str(super()._print_Mul(expr))
            if coefficient == 1:
                return body
            if coefficient == -1:
                return f"- {body}"
            return f"{self._print(coefficient)} {body}"

    return MatgradLatexPrinter({"mul_symbol": None})


def _symbol_name(expr: Any) -> str | None:
    """The name of a matgrad symbol, or None for anything else."""
    name = getattr(expr, "name", None)
    if isinstance(name, str) and getattr(expr, "is_Symbol", False) and _rank(name) < 9:
        return name
    return None


def _product_latex(factors: Sequence[Any]) -> str | None:
    """A product of matgrad symbols (or one symbol) in the order of the layer's own formulas, z w
    (as in a = Σ z w) and w x (a = Σ w x), not SymPy's alphabetical w z; None when a factor is
    something else. A numeric factor leads it (MatgradLatexPrinter)."""
    names = [_symbol_name(factor) for factor in factors]
    if not all(names):
        return None
    return " ".join(symbol_latex(name) or name for name in sorted(filter(None, names), key=_rank))


def expr_latex(expr: Any) -> str:
    """Any engine expression in LaTeX.

    Symbols and products of symbols, which are nearly all a derivation prints, are written
    directly: going through SymPy's printer would import all of SymPy, half a second of a
    2×2×2 run. Everything else goes through ``MatgradLatexPrinter``.
    """
    product = _product_latex(expr.args if getattr(expr, "is_Mul", False) else (expr,))
    if product is not None:
        return product
    sympy_expr = expr._sympy_() if hasattr(expr, "_sympy_") else expr
    return str(_printer().doprint(sympy_expr))


def term_latex(upstream: tuple[int, int], factor: Any, upstream_first: bool) -> str:
    """One term ∂L/∂a_{p,q}·factor, written in the order of the product it comes from: a factor 1
    left out, a factor that is a sum in parentheses."""
    gradient = upstream_latex(upstream)
    if str(factor) == "1":
        return gradient
    other = expr_latex(factor)
    if getattr(factor, "is_Add", False):
        other = rf"\left({other}\right)"
    return f"{gradient} {other}" if upstream_first else f"{other} {gradient}"


def chain_rule_lines(
    name: str, terms: LinearForm, upstream_first: bool, full: bool
) -> tuple[list[str], list[str]]:
    """The chain-rule sum of the entry ``name`` as lines of an aligned display: the partials
    ∂L/∂a_{p,q} ∂a_{p,q}/∂x, then their values."""
    partials = [
        f"{upstream_latex(output)} {partial_latex(f'a_{{{output[0]},{output[1]}}}', name)}"
        for output, _ in terms
    ]
    values = [term_latex(output, factor, upstream_first) for output, factor in terms]
    return sum_lines(partials, full, PARTIAL_LINE_TERMS), sum_lines(values, full)


def and_list(items: Sequence[str]) -> str:
    """$x$, $y$ and $z$ (elided in the middle when long)."""
    return listed(elide([f"${item}$" for item in items], marker="…"))


def linear_form_latex(
    form: LinearForm, upstream_first: bool, full: bool = False, limit: int = SUM_TERMS
) -> str:
    """A linear form in the entries of ∂L/∂A, term by term in its stored (summation) order,
    elided beyond ``limit`` terms; 0 when empty."""
    items = [term_latex(*term, upstream_first) for term in form]
    shown = elide(items, full, limit, r"\cdots")
    return " + ".join(shown) if shown else "0"


def sums_matrix(
    forms: Sequence[Sequence[LinearForm]], upstream_first: bool, full: bool, limit: int = SUM_TERMS
) -> str | None:
    """Linear forms in ∂L/∂A as a bmatrix, or None when it would be too wide for a page: wider
    than MATRIX_WIDTH in columns times the terms an entry shows (four when elided: two, ⋯ and the
    last)."""
    terms = max((len(form) for row in forms for form in row), default=0)
    shown_terms = terms if full or terms <= limit else 4  # elided: two, ⋯ and the last
    if len(visible(len(forms[0]), full)) * max(shown_terms, 1) > MATRIX_WIDTH:
        return None
    return bmatrix(
        len(forms),
        len(forms[0]),
        lambda i, j: linear_form_latex(forms[i][j], upstream_first, full, limit),
        full,
    )


#: An invisible rule that gives a matrix row of display-style fractions room above and below.
#: (A strut rather than ``\\[1.6ex]``: GitHub's Markdown eats one backslash of ``\\[``.)
ROW_STRUT = r"\rule[-2.4ex]{0pt}{6.4ex}"


def bmatrix(rows: int, cols: int, cell: Callable[[int, int], str], full: bool = False) -> str:
    """A bmatrix of ``cell(i, j)`` (0-based), elided with ⋯ ⋮ ⋱ beyond the display limit.

    Cells holding fractions are set in display style, each such row opened by a strut, so that
    ∂L/∂a_{i,j} stays legible inside a matrix.
    """
    lines = []
    for cells in matrix_cells(rows, cols, cell, full, (r"\cdots", r"\vdots", r"\ddots")):
        row = " & ".join(rf"\displaystyle {text}" if r"\frac" in text else text for text in cells)
        lines.append(f"{ROW_STRUT} {row}" if r"\displaystyle" in row else row)
    return "\\begin{bmatrix}\n" + " \\\\\n".join(lines) + "\n\\end{bmatrix}"


def sum_lines(items: Sequence[str], full: bool = False, per_line: int = LINE_TERMS) -> list[str]:
    """A sum for an aligned display, elided unless ``full``: one line of at most ``per_line``
    terms, or several, each continuation starting ``&\\quad +``, so that it fits the text width
    of a plain article (limits.LINE_TERMS)."""
    shown = elide(items, full, marker=r"\cdots")
    if not shown:
        return ["0"]
    chunks = [shown[start : start + per_line] for start in range(0, len(shown), per_line)]
    return [" + ".join(chunks[0])] + [r"&\quad + " + " + ".join(chunk) for chunk in chunks[1:]]


def symbol_matrix(symbols: Sequence[Sequence[Any]], full: bool = False) -> str:
    """A matrix of engine symbols."""
    return bmatrix(len(symbols), len(symbols[0]), lambda i, j: expr_latex(symbols[i][j]), full)
