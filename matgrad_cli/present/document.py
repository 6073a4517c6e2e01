"""The derivation document of SPEC section 2, as format-neutral blocks of text and LaTeX math.

latex.py and markdown.py serialise the same blocks, so the two documents say the same things.
Every statement about the verification is read off a Check; nothing here asserts a result.
Paragraph text may hold inline math between single dollar signs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..core.checks import Check
from ..core.layer import Variable
from ..core.model import ChainRule, Derivation, Gradient, LayerDerivation, MatrixForm
from .mathtex import (
    ROW_STRUT,
    bmatrix,
    elide,
    expr_latex,
    linear_form_latex,
    partial_latex,
    sum_lines,
    symbol_matrix,
    term_latex,
    upstream_latex,
    upstream_matrix,
    visible,
)

#: Per-entry chain-rule sums are all listed up to this many entries, else a sample.
ENTRY_LIST_LIMIT = 8

#: A matrix whose columns times terms per entry exceed this is listed entry by entry instead,
#: so that it fits the width of a printed page.
MATRIX_WIDTH_LIMIT = 6


@dataclass(frozen=True)
class Paragraph:
    """Prose, with inline math between $ signs."""

    text: str


@dataclass(frozen=True)
class Display:
    """Display math: one equation, or with ``aligned`` several lines aligned at their &."""

    lines: tuple[str, ...]
    aligned: bool = False


@dataclass(frozen=True)
class Table:
    """A small table; cells may hold inline math between $ signs."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Block = Paragraph | Display | Table


@dataclass(frozen=True)
class Section:
    """A titled section of the document."""

    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    """The whole derivation, ready to serialise."""

    title: str
    sections: tuple[Section, ...]
    #: The most columns any matrix of the document has, when its builder knows it: the LaTeX
    #: printer raises amsmath's MaxMatrixCols to it (else it counts the columns it printed).
    matrix_columns: int | None = None


_NAMES: dict[Variable, str] = {"Z": "Z", "W": "W", "b": "b"}
_GENERIC: dict[Variable, str] = {"Z": "z_{i,r}", "W": "w_{r,j}", "b": "b_j"}
_PRODUCTS: dict[Variable, str] = {
    "Z": r"\frac{\partial L}{\partial A} W^\top",
    "W": r"Z^\top \frac{\partial L}{\partial A}",
    "b": r"\mathbf{1}_m^\top \frac{\partial L}{\partial A}",
}
#: The same products for running text, with ∂L/∂A slashed.
_INLINE_PRODUCTS: dict[Variable, str] = {
    "Z": r"(\partial L/\partial A) W^\top",
    "W": r"Z^\top (\partial L/\partial A)",
    "b": r"\mathbf{1}_m^\top (\partial L/\partial A)",
}


def _entry_name(variable: Variable, index: tuple[int, int]) -> str:
    """z_{i,r}, w_{r,j} or b_j."""
    if variable == "b":
        return f"b_{{{index[1]}}}"
    return f"{variable.lower()}_{{{index[0]},{index[1]}}}"


def _grad(variable: str) -> str:
    return partial_latex("L", variable)


def _slashed(variable: str) -> str:
    """∂L/∂x written with a slash, for running text and tables."""
    return rf"\partial L/\partial {variable}"


def _shape(rows: int, cols: int) -> str:
    return rf"{rows} \times {cols}"


def _listed(entries: tuple[tuple[ChainRule, ...], ...], full: bool) -> list[ChainRule | None]:
    """The entries whose sums are written out: all, or the first three, None for the gap, and
    the last."""
    flat = [rule for row in entries for rule in row]
    if full or len(flat) <= ENTRY_LIST_LIMIT:
        return list(flat)
    return [*flat[:3], None, flat[-1]]


#: A strut that keeps consecutive aligned lines of display fractions from touching.
LINE_STRUT = r"\rule[-1.6ex]{0pt}{5ex}"

#: The line that marks entries left out of an aligned list.
GAP_LINE = r"& \;\;\vdots"


def _equation_lines(left: str, items: Sequence[str], full: bool) -> list[str]:
    """``left &= sum`` for an aligned display, the sum broken over lines when printed in full."""
    first, *rest = sum_lines(items, full)
    return [f"{LINE_STRUT} {left} &= {first}", *rest]


def _and_list(items: list[str]) -> str:
    """$x$, $y$ and $z$ (elided in the middle when long)."""
    shown = [f"${item}$" for item in items]
    if len(shown) > 6:
        shown = [*shown[:2], "…", shown[-1]]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _chain_rule_blocks(rule: ChainRule, full: bool) -> Iterator[Block]:
    """The a's an entry feeds, then its chain-rule sum: the partials, then their values."""
    name = _entry_name(rule.variable, rule.index)
    feeds = [f"a_{{{p},{q}}}" for (p, q), _ in rule.terms]
    yield Paragraph(f"${name}$ appears in {_and_list(feeds)}:" if feeds else f"${name}$:")
    partials = [
        f"{upstream_latex(output)} {partial_latex(f'a_{{{output[0]},{output[1]}}}', name)}"
        for output, _ in rule.terms
    ]
    values = [term_latex(output, factor, True) for output, factor in rule.terms]
    first, *more = sum_lines(partials, full)
    value_first, *value_more = sum_lines(values, full)
    yield Display(
        (f"{_grad(name)} &= {first}", *more, f"&= {value_first}", *value_more), aligned=True
    )


def _terms_per_entry(entries: tuple[tuple[int, ...], ...]) -> int:
    return max((count for row in entries for count in row), default=0)


def _fits_as_matrix(cols: int, terms: int, full: bool) -> bool:
    shown_cols = len(visible(cols, full))
    shown_terms = min(terms, 4) if not full else terms
    return shown_cols * max(shown_terms, 1) <= MATRIX_WIDTH_LIMIT


def _assembled(gradient: Gradient, full: bool) -> tuple[Block, ...]:
    """∂L/∂X assembled in the shape of X: a matrix, or its entries one per line when the sums
    are too wide for a matrix on a page."""
    rows, cols = gradient.shape
    terms = _terms_per_entry(tuple(tuple(len(r.terms) for r in row) for row in gradient.entries))
    symbol = _NAMES[gradient.variable]
    if _fits_as_matrix(cols, terms, full):
        matrix = bmatrix(
            rows,
            cols,
            lambda i, j: linear_form_latex(gradient.entries[i][j].terms, True, full),
            full,
        )
        return (
            Paragraph(f"Assembled in the shape of ${symbol}$ (${_shape(rows, cols)}$):"),
            Display((f"{_grad(symbol)} = {matrix}",)),
        )
    lines: list[str] = []
    for rule in _listed(gradient.entries, full):
        if rule is None:
            lines.append(GAP_LINE)
            continue
        items = [term_latex(output, factor, True) for output, factor in rule.terms]
        lines += _equation_lines(_grad(_entry_name(rule.variable, rule.index)), items, full)
    return (
        Paragraph(
            f"Assembled in the shape of ${symbol}$ (${_shape(rows, cols)}$), each entry of "
            f"${_slashed(symbol)}$ is the sum for ${_GENERIC[gradient.variable]}$; the sums are "
            "too wide to set as a matrix, so here they are one per line:"
        ),
        Display(tuple(lines), aligned=True),
    )


def _factor_matrices(variable: Variable, derivation: Derivation, full: bool) -> str:
    """The two factors of the matrix form, written out: ∂L/∂A and Wᵀ, Zᵀ and ∂L/∂A, 1ᵀ and ∂L/∂A."""
    sizes, symbols = derivation.sizes, derivation.symbols
    upstream = upstream_matrix(sizes.m, sizes.n, full)
    if variable == "Z":
        transposed = tuple(zip(*symbols.W, strict=True))
        return f"{upstream} {symbol_matrix(transposed, full)}"
    if variable == "W":
        transposed = tuple(zip(*symbols.Z, strict=True))
        return f"{symbol_matrix(transposed, full)} {upstream}"
    ones = bmatrix(1, sizes.m, lambda i, j: "1", full)
    return f"{ones} {upstream}"


def _product(variable: Variable, form: MatrixForm, derivation: Derivation, full: bool) -> Block:
    """The matrix form multiplied out, as the product of its factors and then entry by entry."""
    rows, cols = form.shape
    upstream_first = variable == "Z"
    terms = _terms_per_entry(tuple(tuple(len(e) for e in row) for row in form.entries))
    head = f"{_PRODUCTS[variable]} &= {_factor_matrices(variable, derivation, full)}"
    if _fits_as_matrix(cols, terms, full):
        matrix = bmatrix(
            rows,
            cols,
            lambda i, j: linear_form_latex(form.entries[i][j], upstream_first, full),
            full,
        )
        return Display((head, f"&= {matrix}"), aligned=True)
    lines = [head]
    for i in visible(rows, full):
        for j in visible(cols, full):
            if i is None or j is None:
                if lines[-1] != GAP_LINE:
                    lines.append(GAP_LINE)
                continue
            items = [
                term_latex(output, factor, upstream_first) for output, factor in form.entries[i][j]
            ]
            left = rf"\left({_PRODUCTS[variable]}\right)_{{{i + 1},{j + 1}}}"
            lines += _equation_lines(left, items, full)
    return Display(tuple(lines), aligned=True)


def _verdict(check: Check, claim: str) -> Paragraph:
    """What the check found, in words; the only place a result is stated."""
    count = check.entries_checked
    if check.holds:
        agree = "the only entry agrees" if count == 1 else f"all {count} entries agree"
        return Paragraph(
            f"Verified entry by entry: {agree}, so ${claim}$ (${_shape(*check.shape)}$)."
        )
    if check.claimed_shape != check.shape:
        return Paragraph(
            f"NOT verified: ${claim}$ fails, the shapes differ "
            f"(${_shape(*check.shape)}$ against ${_shape(*check.claimed_shape)}$)."
        )
    first = check.mismatches[0]
    return Paragraph(
        f"NOT verified: ${claim}$ fails at {check.mismatch_count} of {count} entries; "
        f"at entry ${first.index[0]},{first.index[1]}$ the elementwise result is "
        f"${expr_latex(first.elementwise)}$ but the matrix form gives "
        f"${expr_latex(first.claimed)}$."
    )


def _check_for(layer: LayerDerivation, variable: Variable) -> Check:
    return next(check for check in layer.checks if check.variable == variable)


def _gradient_section(
    variable: Variable, layer: LayerDerivation, derivation: Derivation, full: bool
) -> Section:
    """Sections 3 and 4: the chain rule entry by entry, assembled, multiplied out, verified."""
    gradient = layer.gradients[variable]
    rows, cols = gradient.shape
    symbol = _NAMES[variable]
    entry = r"z_{i,r}" if variable == "Z" else r"w_{r,j}"
    blocks: list[Block] = [
        Paragraph(
            f"By the chain rule, ${_slashed(entry)} = \\sum_{{p,q}} "
            f"(\\partial L/\\partial a_{{p,q}})(\\partial a_{{p,q}}/\\partial {entry})$, "
            f"where only the entries of $A$ that contain ${entry}$ contribute. "
            "Differentiating the expanded entries of $A$:"
        )
    ]
    listed = [rule for rule in _listed(gradient.entries, full) if rule is not None]
    for rule in listed[:-1] if len(listed) < rows * cols else listed:
        blocks.extend(_chain_rule_blocks(rule, full))
    total = rows * cols
    if len(listed) < total:
        blocks.append(
            Paragraph(
                f"The other {total - len(listed)} entries are computed the same way "
                "(the option --full prints them all); every one is verified below. The last:"
            )
        )
        blocks.extend(_chain_rule_blocks(listed[-1], full))
    blocks.extend(_assembled(gradient, full))
    blocks.append(
        Paragraph(
            f"Independently, the matrix product ${_INLINE_PRODUCTS[variable]}$ multiplied out:"
        )
    )
    blocks.append(_product(variable, layer.products[variable], derivation, full))
    check = _check_for(layer, variable)
    blocks.append(_verdict(check, f"{_slashed(symbol)} = {_INLINE_PRODUCTS[variable]}"))
    if check.holds:
        blocks.append(Display((rf"\boxed{{{_grad(symbol)} = {_PRODUCTS[variable]}}}",)))
    title = f"The gradient with respect to {'Z (the input)' if variable == 'Z' else 'W'}"
    return Section(title, tuple(blocks))


def _setup(derivation: Derivation, full: bool) -> Section:
    sizes, symbols = derivation.sizes, derivation.symbols
    m, k, n = sizes.m, sizes.k, sizes.n
    bias_text = (
        f", and the bias $b$ of size ${_shape(1, n)}$, a row vector added to every row of $ZW$"
        if derivation.bias
        else ""
    )
    output = r"A = ZW + \mathbf{1}_m b" if derivation.bias else "A = ZW"
    matrices = [f"Z = {symbol_matrix(symbols.Z, full)}", f"W = {symbol_matrix(symbols.W, full)}"]
    if derivation.bias:
        matrices.append(f"b = {symbol_matrix((symbols.b,), full)}")
    return Section(
        "Setup",
        (
            Paragraph(
                f"The layer has the input $Z$ of size ${_shape(m, k)}$ and the weights $W$ of "
                f"size ${_shape(k, n)}$ ($m = {m}$, $k = {k}$, $n = {n}$){bias_text}. "
                f"Its output is ${output}$, of size ${_shape(m, n)}$, and $L$ is any scalar "
                "loss computed from $A$."
            ),
            *_matrices_display(matrices, sizes.k + sizes.n * (2 if derivation.bias else 1)),
            Paragraph(
                "Convention: gradients are in denominator layout, so $\\partial L/\\partial X$ "
                "has the shape of $X$, as in the Matrix Cookbook, PyTorch and NumPy. Indices "
                "are 1-based. The upstream gradient $\\partial L/\\partial A$ is an arbitrary "
                f"${_shape(m, n)}$ matrix:"
            ),
            Display((f"{_grad('A')} = {upstream_matrix(m, n, full)}",)),
        ),
    )


def _matrices_display(matrices: list[str], columns: int) -> tuple[Display, ...]:
    """Z, W (and b) side by side when they fit on a line, else one display each."""
    if columns <= MATRIX_WIDTH_LIMIT * 2:
        return (Display((r",\quad ".join(matrices),)),)
    return tuple(Display((matrix,)) for matrix in matrices)


#: The forward pass lists every entry up to this many, else a few from the first and last rows.
FORWARD_LIST_LIMIT = 16


def _forward_entries(rows: int, cols: int, full: bool) -> list[tuple[int, int] | None]:
    """The (0-based) entries of A the forward pass writes out, None marking the gap."""
    every = [(p, q) for p in range(rows) for q in range(cols)]
    if full or len(every) <= FORWARD_LIST_LIMIT:
        return list(every)
    first_row = [(0, q) for q in range(min(cols, 2))] + ([(0, cols - 1)] if cols > 2 else [])
    last_row = [(rows - 1, 0), (rows - 1, cols - 1)] if cols > 1 else [(rows - 1, 0)]
    return [*first_row, None, *last_row]


def _forward_lines(layer: LayerDerivation, full: bool) -> tuple[str, ...]:
    """a_{p,q} = Σ_s z_{p,s} w_{s,q} (+ b_q), from the ordered terms of each entry; a long sum
    keeps its last product before the bias term."""
    lines: list[str] = []
    for entry in _forward_entries(layer.sizes.m, layer.sizes.n, full):
        if entry is None:
            lines.append(GAP_LINE)
            continue
        p, q = entry
        terms = [expr_latex(term) for term in layer.outputs[p][q].terms]
        bias = [terms.pop()] if layer.bias else []
        first, *more = sum_lines(elide(terms, full=full) + bias, full=True)
        lines += [f"a_{{{p + 1},{q + 1}}} &= {first}", *more]
    return tuple(lines)


def _forward(derivation: Derivation, full: bool) -> Section:
    sizes = derivation.sizes
    more = (
        " (a few entries; the others follow the same pattern)"
        if None in _forward_entries(sizes.m, sizes.n, full)
        else ""
    )
    return Section(
        "Forward pass",
        (
            Paragraph(
                f"Without the bias, each entry of $A = ZW$ is a sum over the shared index{more}:"
            ),
            Display(_forward_lines(derivation.plain, full), aligned=True),
        ),
    )


def _bias(derivation: Derivation, full: bool) -> Section | None:
    layer = derivation.biased
    if layer is None:
        return None
    sizes, symbols = derivation.sizes, derivation.symbols
    broadcast = bmatrix(sizes.m, sizes.n, lambda i, j: expr_latex(symbols.b[j]), full)
    gradient = layer.gradients["b"]
    blocks: list[Block] = [
        Paragraph(
            "With the bias, $A = ZW + \\mathbf{1}_m b$: the row $b$ is repeated for every row "
            "of $A$, so $b_j$ is added to every entry of column $j$:"
        ),
        Display((rf"\mathbf{{1}}_m b = {broadcast}",)),
        Display(_forward_lines(layer, full), aligned=True),
        Paragraph(
            "Each $b_j$ enters its column with local derivative 1, so by the chain rule "
            "$\\partial L/\\partial b_j$ is the sum of column $j$ of $\\partial L/\\partial A$:"
        ),
    ]
    listed = [rule for rule in _listed(gradient.entries, full) if rule is not None]
    for rule in listed[:-1] if len(listed) < sizes.n else listed:
        blocks.extend(_chain_rule_blocks(rule, full))
    if len(listed) < sizes.n:
        blocks.append(
            Paragraph(
                f"The other {sizes.n - len(listed)} entries follow the same pattern. The last:"
            )
        )
        blocks.extend(_chain_rule_blocks(listed[-1], full))
    blocks.extend(_assembled(gradient, full))
    blocks.append(Paragraph(f"Independently, ${_INLINE_PRODUCTS['b']}$ multiplied out:"))
    blocks.append(_product("b", layer.products["b"], derivation, full))
    check = _check_for(layer, "b")
    blocks.append(_verdict(check, f"{_slashed('b')} = {_INLINE_PRODUCTS['b']}"))
    if check.holds:
        blocks.append(Display((rf"\boxed{{{_grad('b')} = {_PRODUCTS['b']}}}",)))
    blocks.append(_unchanged(derivation))
    return Section("Adding the bias", tuple(blocks))


def _unchanged(derivation: Derivation) -> Paragraph:
    """The bias leaves ∂L/∂Z and ∂L/∂W unchanged: stated only as far as the checks found it."""
    layer = derivation.biased
    assert layer is not None
    with_bias = [_check_for(layer, "Z"), _check_for(layer, "W")]
    same = list(derivation.extra_checks)
    if all(check.holds for check in with_bias + same):
        return Paragraph(
            "The bias appears in no product $z_{i,r} w_{r,j}$, so $\\partial L/\\partial Z$ and "
            "$\\partial L/\\partial W$ are unchanged: recomputed elementwise with the bias, "
            "they equal the results without it entry by entry, and still equal "
            f"${_INLINE_PRODUCTS['Z']}$ and ${_INLINE_PRODUCTS['W']}$ (verified)."
        )
    failed = ", ".join(check.identity for check in with_bias + same if not check.holds)
    return Paragraph(f"NOT verified with the bias: {failed}.")


def _loss_section(derivation: Derivation, full: bool) -> Section | None:
    """A concrete loss: L, its ∂L/∂A from the CAS and in closed form, and the checks made by
    differentiating L itself through the whole layer."""
    loss = derivation.loss
    if loss is None:
        return None
    definition = loss.definition
    rows, cols = derivation.sizes.m, derivation.sizes.n
    targets = (
        ", with symbolic targets $y_{i,j}$ (the $m \\times n$ matrix $Y$)"
        if definition.has_targets
        else ""
    )
    blocks: list[Block] = [
        Paragraph(f"The loss is {definition.title}{targets}:"),
        Display((definition.latex,)),
        Paragraph("Differentiating $L$ with respect to each $a_{i,j}$:"),
    ]
    upstream = loss.upstream
    if not definition.polynomial:
        import sympy

        # The CAS's own result, brought over a common denominator by the CAS for legibility.
        upstream = upstream.applyfunc(sympy.together)
        blocks[-1] = Paragraph(
            "Differentiating $L$ with respect to each $a_{i,j}$ (each result brought over a "
            "common denominator):"
        )
    if not definition.polynomial or cols > 3:
        lines: list[str] = []
        for entry in _forward_entries(rows, cols, full):
            if entry is None:
                lines.append(GAP_LINE)
                continue
            i, j = entry
            left = partial_latex("L", f"a_{{{i + 1},{j + 1}}}")
            lines.append(f"{LINE_STRUT} {left} &= {expr_latex(upstream[i, j])}")
        blocks.append(Display(tuple(lines), aligned=True))
    else:
        matrix = bmatrix(rows, cols, lambda i, j: expr_latex(upstream[i, j]), full)
        blocks.append(Display((f"{_grad('A')} = {matrix}",)))
    closed = f"\\partial L/\\partial A = {definition.closed_form_latex}"
    if loss.closed_form_holds:
        condition = (
            f" {definition.condition.latex} (checked after substituting "
            f"${definition.condition.substitution_latex}$)"
            if definition.condition is not None
            else ""
        )
        blocks.append(Paragraph(f"In closed form, ${closed}${condition}: verified entry by entry."))
    else:
        blocks.append(Paragraph(f"NOT verified: the closed form ${closed}$ does not match."))
    blocks.append(
        Paragraph(
            "Through the whole layer: with $A = ZW"
            + (" + \\mathbf{1}_m b" if derivation.bias else "")
            + "$ substituted into $L$, the CAS differentiated $L$ itself with respect to every "
            "entry of "
            + ("$Z$, $W$ and $b$" if derivation.bias else "$Z$ and $W$")
            + ", with no chain rule written by matgrad, and compared the results with the "
            "matrix forms built from the $\\partial L/\\partial A$ above."
        )
    )
    if definition.polynomial:
        example = loss.elementwise["Z"][0, 0]
        terms = [expr_latex(term) for term in example.as_ordered_terms()]
        # Two terms a line: each is a whole entry of A minus its target, wide on the page.
        chunks = [" + ".join(terms[start : start + 2]) for start in range(0, len(terms), 2)]
        first, *more = [chunks[0], *(rf"&\quad + {chunk}" for chunk in chunks[1:])]
        blocks.append(Paragraph("For example:"))
        blocks.append(Display((f"{_grad('z_{1,1}')} &= {first}", *more), aligned=True))
    for check in loss.checks:
        blocks.append(
            _verdict(
                check, f"{_slashed(_NAMES[check.variable])} = {_INLINE_PRODUCTS[check.variable]}"
            )
        )
    blocks.append(
        Paragraph(
            "The chain-rule derivation that follows holds for any loss, this one included: "
            "read $\\partial L/\\partial a_{i,j}$ as the entries above."
        )
    )
    return Section(f"The loss: {definition.title}", tuple(blocks))


def _general(derivation: Derivation) -> Section:
    sizes = derivation.sizes
    general_zt = (
        "\\begin{bmatrix}\nz_{1,1} & z_{2,1} & \\cdots & z_{m,1} \\\\\n"
        "\\vdots & \\vdots & \\ddots & \\vdots \\\\\n"
        "z_{1,k} & z_{2,k} & \\cdots & z_{m,k}\n\\end{bmatrix}"
    )
    corner = r"\displaystyle \frac{\partial L}{\partial a_{%s}}"
    general_upstream = (
        "\\begin{bmatrix}\n"
        f"{ROW_STRUT} {corner % '1,1'} & \\cdots & {corner % '1,n'} \\\\\n"
        "\\vdots & \\ddots & \\vdots \\\\\n"
        f"{ROW_STRUT} {corner % 'm,1'} & \\cdots & {corner % 'm,n'}"
        "\n\\end{bmatrix}"
    )
    bias = derivation.bias
    definitions = [
        r"a_{p,q} &= \sum_{s=1}^{k} z_{p,s} w_{s,q}" + (" + b_q" if bias else ""),
        r"\frac{\partial a_{p,q}}{\partial z_{i,r}} &= \delta_{p,i} w_{r,q}, \qquad "
        r"\frac{\partial a_{p,q}}{\partial w_{r,j}} = z_{p,r} \delta_{q,j}"
        + (r", \qquad \frac{\partial a_{p,q}}{\partial b_j} = \delta_{q,j}" if bias else ""),
    ]
    sums = [
        r"\frac{\partial L}{\partial z_{i,r}} &= \sum_{p=1}^{m} \sum_{q=1}^{n} "
        r"\frac{\partial L}{\partial a_{p,q}} \delta_{p,i} w_{r,q} "
        r"= \sum_{j=1}^{n} \frac{\partial L}{\partial a_{i,j}} w_{r,j} "
        r"= \left(\frac{\partial L}{\partial A} W^\top\right)_{i,r}",
        r"\frac{\partial L}{\partial w_{r,j}} &= \sum_{p=1}^{m} \sum_{q=1}^{n} "
        r"\frac{\partial L}{\partial a_{p,q}} z_{p,r} \delta_{q,j} "
        r"= \sum_{i=1}^{m} z_{i,r} \frac{\partial L}{\partial a_{i,j}} "
        r"= \left(Z^\top \frac{\partial L}{\partial A}\right)_{r,j}",
    ]
    if bias:
        sums.append(
            r"\frac{\partial L}{\partial b_j} &= \sum_{p=1}^{m} \sum_{q=1}^{n} "
            r"\frac{\partial L}{\partial a_{p,q}} \delta_{q,j} "
            r"= \sum_{i=1}^{m} \frac{\partial L}{\partial a_{i,j}} "
            r"= \left(\mathbf{1}_m^\top \frac{\partial L}{\partial A}\right)_{j}"
        )
    return Section(
        "Why it holds at every size",
        (
            Paragraph(
                "The computation above is the instance "
                f"$m = {sizes.m}$, $k = {sizes.k}$, $n = {sizes.n}$ of the same calculation in "
                "index notation, with $\\delta$ the Kronecker delta. This section is the "
                "textbook argument, written out by hand; the command matgrad prove carries it "
                "out step by step with the computer algebra system, for symbolic $m$, $k$, $n$."
            ),
            Display(tuple(definitions), aligned=True),
            Display(tuple(sums), aligned=True),
            Paragraph("In matrix form, with every index in its place:"),
            Display(
                (
                    r"\frac{\partial L}{\partial W} = "
                    rf"\underbrace{{{general_zt}}}_{{Z^\top\ (k \times m)}} "
                    rf"\underbrace{{{general_upstream}}}"
                    r"_{\partial L / \partial A\ (m \times n)}",
                )
            ),
            Paragraph(
                "The Jacobian $\\partial A/\\partial W$ itself is a fourth-order tensor, with "
                "entries $\\partial a_{p,q}/\\partial w_{r,j} = z_{p,r} \\delta_{q,j}$; the "
                "matrix $Z^\\top$ appears only after contracting it with "
                "$\\partial L/\\partial A$, so writing $\\partial A/\\partial W = Z^\\top$ is a "
                "mistake."
            ),
        ),
    )


def _summary(derivation: Derivation) -> Section:
    rows = []
    for check in derivation.checks:
        if check.holds:
            count = check.entries_checked
            result = f"holds ({count} of {count} {'entry' if count == 1 else 'entries'})"
        elif check.claimed_shape != check.shape:
            result = "FAILS (shapes differ)"
        else:
            result = f"FAILS ({check.mismatch_count} of {check.entries_checked} entries differ)"
        layer = "with bias" if check.bias else "without bias"
        if derivation.loss is not None and any(check is own for own in derivation.loss.checks):
            layer += ", " + derivation.loss.definition.title
        rows.append((f"${_identity_latex(check)}$", f"${_shape(*check.shape)}$", layer, result))
    verdict = (
        "Every identity holds at every entry."
        if derivation.verified
        else "Some identities FAIL: see above."
    )
    return Section(
        "Summary",
        (
            Table(("identity", "shape", "layer", "result"), tuple(rows)),
            Paragraph(verdict),
        ),
    )


def _identity_latex(check: Check) -> str:
    """The identity a check is about, in LaTeX."""
    symbol = _NAMES[check.variable]
    if check.formula.endswith("without the bias"):
        gradient = _slashed(symbol)
        return rf"{gradient}\big\vert_{{\text{{with }} b}} = {gradient}\big\vert_{{b = 0}}"
    known = {
        "∂L/∂A · Wᵀ": _INLINE_PRODUCTS["Z"],
        "Zᵀ · ∂L/∂A": _INLINE_PRODUCTS["W"],
        "1ᵀ · ∂L/∂A": _INLINE_PRODUCTS["b"],
    }
    base_formula = check.formula.split(", L = ")[0]
    right = known.get(base_formula, r"\text{a claimed form}")
    return f"{_slashed(symbol)} = {right}"


def build_document(derivation: Derivation, full: bool = False) -> Document:
    """The document of SPEC section 2 for a derivation."""
    sizes = derivation.sizes
    output = r"A = ZW + \mathbf{1}_m b" if derivation.bias else r"A = ZW"
    title = (
        f"Gradients of the matrix-multiplication layer ${output}$, "
        f"$(m, k, n) = ({sizes.m}, {sizes.k}, {sizes.n})$"
    )
    sections = [_setup(derivation, full), _forward(derivation, full)]
    loss_section = _loss_section(derivation, full)
    if loss_section is not None:
        sections.append(loss_section)
    sections += [
        _gradient_section("Z", derivation.plain, derivation, full),
        _gradient_section("W", derivation.plain, derivation, full),
    ]
    bias = _bias(derivation, full)
    if bias is not None:
        sections.append(bias)
    sections += [_general(derivation), _summary(derivation)]
    return Document(title, tuple(sections))
