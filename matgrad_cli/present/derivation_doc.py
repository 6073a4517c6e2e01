"""The derivation document of SPEC section 2: setup, forward pass, the gradients, the bias, why.

Built once on the document model (document.py), printed by every printer, so the LaTeX and the
Markdown say the same things. Every statement about the verification is read off a Check; nothing
here asserts a result. The loss section is derivation_loss.py; the notation, derivation_notation.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..core.layer import Variable
from ..core.model import ChainRule, Derivation, Gradient, LayerDerivation, MatrixForm
from .derivation_loss import loss_section
from .derivation_notation import (
    GAP_LINE,
    GENERIC,
    INLINE_PRODUCTS,
    NAMES,
    PRODUCTS,
    check_for,
    entry_name,
    forward_entries,
    forward_lines,
    grad,
    identity_latex,
    rule_claim,
    shape_latex,
    slashed,
    verdict,
)
from .document import LINE_STRUT, Block, Display, Document, Paragraph, Section, Table
from .layer_latex import forward_latex
from .limits import ENTRY_LIST, MATRIX_WIDTH, SUM_TERMS
from .mathtex import (
    ROW_STRUT,
    bmatrix,
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


def _listed(entries: tuple[tuple[ChainRule, ...], ...], full: bool) -> list[ChainRule | None]:
    """The entries whose sums are written out: all, or the first three, None for the gap, and
    the last."""
    flat = [rule for row in entries for rule in row]
    if full or len(flat) <= ENTRY_LIST:
        return list(flat)
    return [*flat[:3], None, flat[-1]]


def _equation_lines(left: str, items: Sequence[str], full: bool) -> list[str]:
    """``left &= sum`` for an aligned display, the sum broken over lines when printed in full."""
    first, *rest = sum_lines(items, full)
    return [f"{LINE_STRUT} {left} &= {first}", *rest]


def _and_list(items: list[str]) -> str:
    """$x$, $y$ and $z$ (elided in the middle when long)."""
    shown = [f"${item}$" for item in items]
    if len(shown) > SUM_TERMS:
        shown = [*shown[:2], "…", shown[-1]]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _chain_rule_blocks(rule: ChainRule, full: bool) -> Iterator[Block]:
    """The a's an entry feeds, then its chain-rule sum: the partials, then their values."""
    name = entry_name(rule.variable, rule.index)
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
        (f"{grad(name)} &= {first}", *more, f"&= {value_first}", *value_more), aligned=True
    )


def _terms_per_entry(entries: tuple[tuple[int, ...], ...]) -> int:
    """The most terms any entry's sum has."""
    return max((count for row in entries for count in row), default=0)


def _fits_as_matrix(cols: int, terms: int, full: bool) -> bool:
    """Whether a matrix of sums fits the width of a page (MATRIX_WIDTH, present/limits.py)."""
    shown_cols = len(visible(cols, full))
    shown_terms = min(terms, 4) if not full else terms
    return shown_cols * max(shown_terms, 1) <= MATRIX_WIDTH


def _assembled(gradient: Gradient, full: bool) -> tuple[Block, ...]:
    """∂L/∂X assembled in the shape of X: a matrix, or its entries one per line when the sums
    are too wide for a matrix on a page."""
    rows, cols = gradient.shape
    terms = _terms_per_entry(tuple(tuple(len(r.terms) for r in row) for row in gradient.entries))
    symbol = NAMES[gradient.variable]
    if _fits_as_matrix(cols, terms, full):
        matrix = bmatrix(
            rows,
            cols,
            lambda i, j: linear_form_latex(gradient.entries[i][j].terms, True, full),
            full,
        )
        return (
            Paragraph(f"Assembled in the shape of ${symbol}$ (${shape_latex(rows, cols)}$):"),
            Display((f"{grad(symbol)} = {matrix}",)),
        )
    lines: list[str] = []
    for rule in _listed(gradient.entries, full):
        if rule is None:
            lines.append(GAP_LINE)
            continue
        items = [term_latex(output, factor, True) for output, factor in rule.terms]
        lines += _equation_lines(grad(entry_name(rule.variable, rule.index)), items, full)
    return (
        Paragraph(
            f"Assembled in the shape of ${symbol}$ (${shape_latex(rows, cols)}$), each entry of "
            f"${slashed(symbol)}$ is the sum for ${GENERIC[gradient.variable]}$; the sums are "
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
    head = f"{PRODUCTS[variable]} &= {_factor_matrices(variable, derivation, full)}"
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
            left = rf"\left({PRODUCTS[variable]}\right)_{{{i + 1},{j + 1}}}"
            lines += _equation_lines(left, items, full)
    return Display(tuple(lines), aligned=True)


def _gradient_section(
    variable: Variable, layer: LayerDerivation, derivation: Derivation, full: bool
) -> Section:
    """Sections 3 and 4: the chain rule entry by entry, assembled, multiplied out, verified."""
    gradient = layer.gradients[variable]
    rows, cols = gradient.shape
    symbol = NAMES[variable]
    entry = r"z_{i,r}" if variable == "Z" else r"w_{r,j}"
    blocks: list[Block] = [
        Paragraph(
            f"By the chain rule, ${slashed(entry)} = \\sum_{{p,q}} "
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
            f"Independently, the matrix product ${INLINE_PRODUCTS[variable]}$ multiplied out:"
        )
    )
    blocks.append(_product(variable, layer.products[variable], derivation, full))
    check = check_for(layer, variable)
    blocks.append(verdict(check, rule_claim(variable)))
    if check.holds:
        blocks.append(Display((rf"\boxed{{{grad(symbol)} = {PRODUCTS[variable]}}}",)))
    title = f"The gradient with respect to {'Z (the input)' if variable == 'Z' else 'W'}"
    return Section(title, tuple(blocks))


def _setup(derivation: Derivation, full: bool) -> Section:
    """Section 1: the sizes, Z, W (and b) written out, the convention and ∂L/∂A."""
    sizes, symbols = derivation.sizes, derivation.symbols
    m, k, n = sizes.m, sizes.k, sizes.n
    bias_text = (
        f", and the bias $b$ of size ${shape_latex(1, n)}$, a row vector added to every row of $ZW$"
        if derivation.bias
        else ""
    )
    output = forward_latex(derivation.bias)
    matrices = [f"Z = {symbol_matrix(symbols.Z, full)}", f"W = {symbol_matrix(symbols.W, full)}"]
    if derivation.bias:
        matrices.append(f"b = {symbol_matrix((symbols.b,), full)}")
    return Section(
        "Setup",
        (
            Paragraph(
                f"The layer has the input $Z$ of size ${shape_latex(m, k)}$ and the weights $W$ of "
                f"size ${shape_latex(k, n)}$ ($m = {m}$, $k = {k}$, $n = {n}$){bias_text}. "
                f"Its output is ${output}$, of size ${shape_latex(m, n)}$, and $L$ is any scalar "
                "loss computed from $A$."
            ),
            *_matrices_display(matrices, sizes.k + sizes.n * (2 if derivation.bias else 1)),
            Paragraph(
                "Convention: gradients are in denominator layout, so $\\partial L/\\partial X$ "
                "has the shape of $X$, as in the Matrix Cookbook, PyTorch and NumPy. Indices "
                "are 1-based. The upstream gradient $\\partial L/\\partial A$ is an arbitrary "
                f"${shape_latex(m, n)}$ matrix:"
            ),
            Display((f"{grad('A')} = {upstream_matrix(m, n, full)}",)),
        ),
    )


def _matrices_display(matrices: list[str], columns: int) -> tuple[Display, ...]:
    """Z, W (and b) side by side when they fit on a line, else one display each."""
    if columns <= MATRIX_WIDTH * 2:
        return (Display((r",\quad ".join(matrices),)),)
    return tuple(Display((matrix,)) for matrix in matrices)


def _forward(derivation: Derivation, full: bool) -> Section:
    """Section 2: each entry of A = ZW as a sum over the shared index."""
    sizes = derivation.sizes
    more = (
        " (a few entries; the others follow the same pattern)"
        if None in forward_entries(sizes.m, sizes.n, full)
        else ""
    )
    return Section(
        "Forward pass",
        (
            Paragraph(
                f"Without the bias, each entry of $A = ZW$ is a sum over the shared index{more}:"
            ),
            Display(forward_lines(derivation.plain, full), aligned=True),
        ),
    )


def _bias(derivation: Derivation, full: bool) -> Section | None:
    """The bias: its broadcast, ∂L/∂b as column sums, verified, and ∂L/∂Z and ∂L/∂W unchanged;
    None without the bias."""
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
        Display(forward_lines(layer, full), aligned=True),
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
    blocks.append(Paragraph(f"Independently, ${INLINE_PRODUCTS['b']}$ multiplied out:"))
    blocks.append(_product("b", layer.products["b"], derivation, full))
    check = check_for(layer, "b")
    blocks.append(verdict(check, rule_claim("b")))
    if check.holds:
        blocks.append(Display((rf"\boxed{{{grad('b')} = {PRODUCTS['b']}}}",)))
    blocks.append(_unchanged(derivation))
    return Section("Adding the bias", tuple(blocks))


def _unchanged(derivation: Derivation) -> Paragraph:
    """The bias leaves ∂L/∂Z and ∂L/∂W unchanged: stated only as far as the checks found it."""
    layer = derivation.biased
    assert layer is not None
    with_bias = [check_for(layer, "Z"), check_for(layer, "W")]
    same = list(derivation.extra_checks)
    if all(check.holds for check in with_bias + same):
        return Paragraph(
            "The bias appears in no product $z_{i,r} w_{r,j}$, so $\\partial L/\\partial Z$ and "
            "$\\partial L/\\partial W$ are unchanged: recomputed elementwise with the bias, "
            "they equal the results without it entry by entry, and still equal "
            f"${INLINE_PRODUCTS['Z']}$ and ${INLINE_PRODUCTS['W']}$ (verified)."
        )
    failed = ", ".join(check.identity for check in with_bias + same if not check.holds)
    return Paragraph(f"NOT verified with the bias: {failed}.")


#: Zᵀ and ∂L/∂A at general sizes, for the matrix form with every index in its place.
_GENERAL_ZT = (
    "\\begin{bmatrix}\nz_{1,1} & z_{2,1} & \\cdots & z_{m,1} \\\\\n"
    "\\vdots & \\vdots & \\ddots & \\vdots \\\\\n"
    "z_{1,k} & z_{2,k} & \\cdots & z_{m,k}\n\\end{bmatrix}"
)
_CORNER = r"\displaystyle \frac{\partial L}{\partial a_{%s}}"
_GENERAL_UPSTREAM = (
    "\\begin{bmatrix}\n"
    f"{ROW_STRUT} {_CORNER % '1,1'} & \\cdots & {_CORNER % '1,n'} \\\\\n"
    "\\vdots & \\ddots & \\vdots \\\\\n"
    f"{ROW_STRUT} {_CORNER % 'm,1'} & \\cdots & {_CORNER % 'm,n'}"
    "\n\\end{bmatrix}"
)


def _general(derivation: Derivation) -> Section:
    """The textbook argument in index notation, for every size."""
    sizes = derivation.sizes
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
                    rf"\underbrace{{{_GENERAL_ZT}}}_{{Z^\top\ (k \times m)}} "
                    rf"\underbrace{{{_GENERAL_UPSTREAM}}}"
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
    """Every check in a table, and the verdict on all of them."""
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
        if check.loss is not None and derivation.loss is not None:
            layer += ", " + derivation.loss.definition.title
        rows.append((f"${identity_latex(check)}$", f"${shape_latex(*check.shape)}$", layer, result))
    overall = (
        "Every identity holds at every entry."
        if derivation.verified
        else "Some identities FAIL: see above."
    )
    return Section(
        "Summary",
        (
            Table(("identity", "shape", "layer", "result"), tuple(rows)),
            Paragraph(overall),
        ),
    )


def derivation_document(derivation: Derivation, full: bool = False) -> Document:
    """The document of SPEC section 2 for a derivation."""
    sizes = derivation.sizes
    output = forward_latex(derivation.bias)
    title = (
        f"Gradients of the matrix-multiplication layer ${output}$, "
        f"$(m, k, n) = ({sizes.m}, {sizes.k}, {sizes.n})$"
    )
    sections = [_setup(derivation, full), _forward(derivation, full)]
    loss = loss_section(derivation, full)
    if loss is not None:
        sections.append(loss)
    sections += [
        _gradient_section("Z", derivation.plain, derivation, full),
        _gradient_section("W", derivation.plain, derivation, full),
    ]
    bias = _bias(derivation, full)
    if bias is not None:
        sections.append(bias)
    sections += [_general(derivation), _summary(derivation)]
    return Document(title, tuple(sections))
