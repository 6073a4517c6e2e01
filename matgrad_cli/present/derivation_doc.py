"""The derivation document of SPEC section 2: setup, forward pass, the loss, the gradients (the
chain rule entry by entry, the sums assembled, the matrix form multiplied out), the bias, why it
holds, and a summary.

Every statement about the verification is read off a Check (``_verdict``); nothing here asserts a
result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..core.layer import Layer, Variable
from ..core.losses import LossDerivation
from ..core.model import ChainRule, Derivation, Gradient, LayerDerivation, MatrixForm
from . import layer_latex as layer
from . import layer_words as words
from . import mathtex as tex
from .derivation_checks import check_for, summary_section, verdict
from .derivation_general import general_section
from .derivation_sections import NOT_BRIEF, sections_of
from .document import LINE_STRUT, Block, Display, Document, Paragraph, Section
from .limits import EXAMPLE_COLUMNS, FORWARD_LINE_TERMS, FORWARD_LIST, SETUP_COLUMNS
from .notation import elide, sampled, visible

#: The summation sign in LaTeX.
_SUM = r"\sum"
#: The line that marks entries left out of an aligned list.
_GAP_LINE = r"& \;\;\vdots"


def _listed(entries: tuple[tuple[ChainRule, ...], ...], full: bool) -> list[ChainRule | None]:
    """The entries whose sums are written out (notation.sampled), None for the gap."""
    flat = [rule for row in entries for rule in row]
    return [None if number is None else flat[number] for number in sampled(len(flat), full)]


def _equation_lines(left: str, items: Sequence[str], full: bool) -> list[str]:
    """``left &= sum`` for an aligned display, the sum broken over lines when printed in full."""
    first, *rest = tex.sum_lines(items, full)
    return [f"{LINE_STRUT} {left} &= {first}", *rest]


def _chain_rule_blocks(rule: ChainRule, full: bool, convention: Layer) -> Iterator[Block]:
    """The a's an entry feeds, then its chain-rule sum: the partials, then their values."""
    name = layer.entry_name(rule.variable, rule.index, convention)
    feeds = [f"a_{{{p},{q}}}" for (p, q), _ in rule.terms]
    yield Paragraph(f"${name}$ appears in {tex.and_list(feeds)}:" if feeds else f"${name}$:")
    (first, *more), (value_first, *value_more) = tex.chain_rule_lines(name, rule.terms, True, full)
    yield Display(
        (f"{tex.grad(name)} &= {first}", *more, f"&= {value_first}", *value_more), aligned=True
    )


def _assembled(gradient: Gradient, full: bool, convention: Layer) -> tuple[Block, ...]:
    """∂L/∂X assembled in the shape of X: a matrix, or its entries one per line when the sums
    are too wide for a matrix on a page."""
    symbol = gradient.variable
    shape = f"Assembled in the shape of ${symbol}$ (${tex.shape_latex(*gradient.shape)}$)"
    matrix = tex.sums_matrix([[rule.terms for rule in row] for row in gradient.entries], True, full)
    if matrix is not None:
        return (Paragraph(f"{shape}:"), Display((f"{tex.grad(symbol)} = {matrix}",)))
    lines: list[str] = []
    for rule in _listed(gradient.entries, full):
        if rule is None:
            lines.append(_GAP_LINE)
            continue
        items = [tex.term_latex(output, factor, True) for output, factor in rule.terms]
        entry = layer.entry_name(rule.variable, rule.index, convention)
        lines += _equation_lines(tex.grad(entry), items, full)
    return (
        Paragraph(
            f"{shape}, each entry of ${tex.slashed(symbol)}$ is the sum for "
            f"${layer.generic_entry(symbol, convention)}$; the sums are too wide to set as a "
            "matrix, so here they are one per line:"
        ),
        Display(tuple(lines), aligned=True),
    )


def _product(variable: Variable, form: MatrixForm, derivation: Derivation, full: bool) -> Block:
    """The matrix form multiplied out, as the product of its factors (when they fit on a line)
    and then entry by entry: as a matrix, or the entries listed as the chain-rule sums are."""
    rows, cols = form.shape
    symbols, sizes, convention = derivation.symbols, derivation.sizes, derivation.sizes.layer
    upstream_first = layer.upstream_first(variable, convention)
    head = layer.rule_latex(variable, layer=convention)
    # A column of display fractions (∂L/∂A) is half as wide again as a column of symbols.
    factor_columns = sum(
        len(visible(factor.shape(sizes)[1], full))
        * (1.5 if convention.matrix(factor.matrix).role == "upstream" else 1)
        for factor in convention.rule(variable).factors
    )
    if factor_columns <= SETUP_COLUMNS:
        upstream = tex.symbol_matrix(symbols.upstream, full)
        head += " &= " + layer.factors_latex(variable, symbols, sizes, upstream, full)
    matrix = tex.sums_matrix(form.entries, upstream_first, full)
    if matrix is not None:
        return Display((head, f"&= {matrix}") if "&" in head else (f"{head} &= {matrix}",), True)
    lines = [head] if "&" in head else []
    for number in sampled(rows * cols, full):
        if number is None:
            lines.append(_GAP_LINE)
            continue
        i, j = divmod(number, cols)
        items = [tex.term_latex(*term, upstream_first) for term in form.entries[i][j]]
        rule = layer.rule_latex(variable, layer=convention)
        left = rf"\left({rule}\right)_{{{i + 1},{j + 1}}}"
        lines += _equation_lines(left, items, full)
    return Display(tuple(lines), aligned=True)


def _worked(
    variable: Variable,
    derived: LayerDerivation,
    derivation: Derivation,
    full: bool,
    others: str,
    product: str,
    brief: bool = False,
) -> list[Block]:
    """The chain rule entry by entry (the first and the last unless ``full``; ``others`` says what
    of the rest), assembled, the matrix form multiplied out (``product`` names it), the check's
    verdict, the result; ``brief``: the first entry alone, then the assembled matrix and the
    check."""
    gradient, convention = derived.gradients[variable], derivation.sizes.layer
    total = gradient.shape[0] * gradient.shape[1]
    listed = [rule for rule in _listed(gradient.entries, full) if rule is not None]
    if brief:
        listed = listed[:1]
    blocks: list[Block] = []
    for rule in listed[:-1] if len(listed) < total else listed:
        blocks.extend(_chain_rule_blocks(rule, full, convention))
    if brief and total > 1:
        blocks.extend(_chain_rule_blocks(listed[0], full, convention))
        rest = "The other entry follows" if total == 2 else f"The other {total - 1} entries follow"
        blocks.append(Paragraph(f"{rest} the same pattern."))
    elif len(listed) < total:
        blocks.append(Paragraph(f"The other {total - len(listed)} entries {others}. The last:"))
        blocks.extend(_chain_rule_blocks(listed[-1], full, convention))
    blocks.extend(_assembled(gradient, full, convention))
    if not brief:
        inline = layer.rule_latex(variable, layer.UPSTREAM_INLINE, layer=convention)
        blocks.append(Paragraph(f"Independently, {product}${inline}$ multiplied out:"))
        blocks.append(_product(variable, derived.products[variable], derivation, full))
    check = check_for(derived, variable)
    blocks.append(verdict(check, layer.rule_claim(variable, layer=convention)))
    if check.holds and not brief:  # brief: the verdict states the identity
        written = layer.rule_latex(variable, layer=convention)
        blocks.append(Display((rf"\boxed{{{tex.grad(variable)} = {written}}}",)))
    return blocks


def _gradient_section(
    variable: Variable, derivation: Derivation, full: bool, brief: bool = False
) -> Section:
    """Sections 3 and 4: the chain rule entry by entry, assembled, multiplied out, verified."""
    convention = derivation.sizes.layer
    entry = layer.generic_entry(variable, convention)
    intro = Paragraph(
        f"By the chain rule, ${tex.slashed(entry)} = \\sum_{{p,q}} "
        f"(\\partial L/\\partial a_{{p,q}})(\\partial a_{{p,q}}/\\partial {entry})$, "
        f"where only the entries of $A$ that contain ${entry}$ contribute. "
        "Differentiating the expanded entries of $A$:"
    )
    others = (
        "are computed the same way (the option --full prints them all); every one is verified below"
    )
    product = "the matrix product "
    blocks = _worked(variable, derivation.plain, derivation, full, others, product, brief)
    role = convention.matrix(variable).role
    title = f"The gradient with respect to {variable}{' (the input)' if role == 'input' else ''}"
    return Section(title, (intro, *blocks))


def _setup(derivation: Derivation, full: bool, brief: bool = False) -> Section:
    """Section 1: the sizes, Z, W (and b) written out, the convention and ∂L/∂A."""
    sizes, symbols, convention = derivation.sizes, derivation.symbols, derivation.sizes.layer
    m, k, n = sizes.m, sizes.k, sizes.n
    vector = words.bias_vector(convention)
    across = "row" if vector == "row" else "column"
    bias_text = (
        f", and the bias $b$ of size ${tex.shape_latex(*sizes.shape_of('b'))}$, a {vector} "
        f"vector added to every {across} of ${words.product_text(convention)}$"
        if derivation.bias
        else ""
    )
    variables = convention.variables(derivation.bias)
    matrices = [f"{name} = {tex.symbol_matrix(symbols.rows(name), full)}" for name in variables]
    # Z, W (and b) side by side when they fit on a line, else one display each.
    columns = sum(len(visible(sizes.shape_of(name)[1], full)) for name in variables)
    if columns <= SETUP_COLUMNS:
        displays = [Display((r",\quad ".join(matrices),))]
    else:
        displays = [Display((matrix,)) for matrix in matrices]
    matrix_of_a = tex.symbol_matrix(symbols.upstream, full)
    upstream = [] if brief else [Display((f"{tex.grad('A')} = {matrix_of_a}",))]
    source, entry_of_a = convention.role("input").name, layer.generic_entry("A", convention)
    samples = (
        " Samples are columns: sample $i$ is column $i$ of $X$ and of $A$."
        if convention.samples == "columns"
        else ""
    )
    shape_of = {name: tex.shape_latex(*sizes.shape_of(name)) for name in (source, "W", "A")}
    return Section(
        "Setup",
        (
            Paragraph(
                f"The layer has the input ${source}$ of size ${shape_of[source]}$ and the weights "
                f"$W$ of size ${shape_of['W']}$ ($m = {m}$, $k = {k}$, $n = {n}$)"
                f"{bias_text}. "
                f"Its output is ${layer.forward_latex(derivation.bias, convention)}$, of size "
                f"${shape_of['A']}$, and $L$ is any scalar loss computed from $A$.{samples}"
            ),
            *displays,
            Paragraph(
                "Convention: gradients are in denominator layout, so $\\partial L/\\partial X$ "
                "has the shape of $X$, as in the Matrix Cookbook, PyTorch and NumPy. Indices "
                "are 1-based. The upstream gradient $\\partial L/\\partial A$ is an arbitrary "
                f"${shape_of['A']}$ matrix"
                + (f", with the entries ${tex.slashed(entry_of_a)}$." if brief else ":")
            ),
            *upstream,
        ),
    )


def _forward_entries(rows: int, cols: int, full: bool) -> list[tuple[int, int] | None]:
    """The (0-based) entries of A the forward pass writes out, None marking the gap."""
    every = [(p, q) for p in range(rows) for q in range(cols)]
    if full or len(every) <= FORWARD_LIST:
        return list(every)
    first_row = [(0, q) for q in range(min(cols, 2))] + ([(0, cols - 1)] if cols > 2 else [])
    last_row = [(rows - 1, 0), (rows - 1, cols - 1)] if cols > 1 else [(rows - 1, 0)]
    return [*first_row, None, *last_row]


def _forward_lines(derived: LayerDerivation, full: bool) -> tuple[str, ...]:
    """a_{p,q} = Σ_s z_{p,s} w_{s,q} (+ b_q), from the ordered terms of each entry; a long sum
    keeps its last product before the bias term."""
    lines: list[str] = []
    for entry in _forward_entries(*derived.sizes.shape_of("A"), full):
        if entry is None:
            lines.append(_GAP_LINE)
            continue
        p, q = entry
        terms = [tex.expr_latex(term) for term in derived.outputs[p][q].terms]
        bias = [terms.pop()] if derived.bias else []
        shown = elide(terms, full, marker=r"\cdots") + bias
        first, *more = tex.sum_lines(shown, full=True, per_line=FORWARD_LINE_TERMS)
        lines += [f"a_{{{p + 1},{q + 1}}} &= {first}", *more]
    return tuple(lines)


def _forward(derivation: Derivation, full: bool) -> Section:
    """Section 2: each entry of A = ZW as a sum over the shared index."""
    sizes = derivation.sizes
    more = (
        " (a few entries; the others follow the same pattern)"
        if None in _forward_entries(*sizes.shape_of("A"), full)
        else ""
    )
    forward = layer.forward_latex(False, sizes.layer)
    return Section(
        "Forward pass",
        (
            Paragraph(
                f"Without the bias, each entry of ${forward}$ is a sum over the shared index{more}:"
            ),
            Display(_forward_lines(derivation.plain, full), aligned=True),
        ),
    )


def _upstream(loss: LossDerivation, rows: int, cols: int, full: bool) -> list[Block]:
    """∂L/∂A as differentiated entry by entry: a matrix, or one entry a line when wide (over a
    common denominator for a loss with exp or log)."""
    upstream, entry_of_a = loss.upstream, _entry_of_a(loss)
    lead = Paragraph(f"Differentiating $L$ with respect to each ${entry_of_a}$:")
    if not loss.definition.polynomial:
        import sympy

        upstream = upstream.applyfunc(sympy.together)
        lead = Paragraph(
            f"Differentiating $L$ with respect to each ${entry_of_a}$, each result over a common "
            "denominator:"
        )
    elif cols <= 3:
        matrix = tex.bmatrix(rows, cols, lambda i, j: tex.expr_latex(upstream[i, j]), full)
        return [lead, Display((f"{tex.grad('A')} = {matrix}",))]
    lines: list[str] = []
    for entry in _forward_entries(rows, cols, full):
        if entry is None:
            lines.append(_GAP_LINE)
            continue
        i, j = entry
        left = tex.partial_latex("L", f"a_{{{i + 1},{j + 1}}}")
        lines.append(f"{LINE_STRUT} {left} &= {tex.expr_latex(upstream[i, j])}")
    return [lead, Display(tuple(lines), aligned=True)]


def _closed_form(loss: LossDerivation, full: bool) -> list[Block]:
    """∂L/∂A in closed form first, then the check that differentiating L entry by entry gives it
    (read off ``closed_form_holds``), with the condition it holds under."""
    definition, entry_of_a = loss.definition, _entry_of_a(loss)
    entries = loss.sizes.m * loss.sizes.n
    blocks: list[Block] = [
        Paragraph("In closed form, its gradient with respect to $A$ is"),
        Display((f"{tex.grad('A')} = {definition.closed_form_latex}",)),
    ]
    if definition.shorthand_latex is not None:
        # The softmax runs over each sample: a row of A, or a column with samples as columns.
        line = "column" if loss.sizes.samples == "columns" else "row"
        softmax = rf"\operatorname{{softmax}}(A)_{{{entry_of_a[3:-1]}}}"
        blocks += [
            Paragraph(f"with the softmax taken along each {line} of $A$:"),
            Display((f"{softmax} = {definition.shorthand_latex}",)),
        ]
    where = " in the appendix" if full else " with the option --full"
    condition = definition.condition
    if not loss.closed_form_holds:
        closed = f"\\partial L/\\partial A = {definition.closed_form_latex}"
        blocks.append(
            Paragraph(
                f"NOT verified: the closed form ${closed}$ is not what differentiating $L$ with "
                f"respect to each ${entry_of_a}$ gives, entry by entry."
            )
        )
        return [*blocks, *_upstream(loss, *loss.sizes.shape_of("A"), full)]
    under = (
        f", {condition.latex} (imposed as ${condition.substitution_latex}$)"
        if condition is not None
        else ""
    )
    blocks.append(
        Paragraph(
            f"Check: differentiating $L$ with respect to each of the {entries} entries "
            f"${entry_of_a}$ gives exactly these entries{under}; the derivatives entry by entry "
            "are printed"
            f"{where}."
        )
    )
    return blocks


def _entry_of_a(loss: LossDerivation) -> str:
    """The generic entry of A in the loss's convention: a_{i,j}, or a_{j,i}."""
    return layer.generic_entry("A", loss.sizes.layer)


def _example(example: Any, k: int, entry: str) -> list[Block]:
    """∂L/∂z_{1,1} written out, a term a line: each is a whole entry of A less its target, wide
    on the page; only for k ≤ EXAMPLE_COLUMNS, as a wider one overflows a line."""
    if k > EXAMPLE_COLUMNS:
        return []
    terms = [tex.expr_latex(term) for term in example.as_ordered_terms()]
    first, *more = [terms[0], *(rf"&\quad + {term}" for term in terms[1:])]
    return [
        Paragraph("For example:"),
        Display((f"{tex.grad(entry)} &= {first}", *more), aligned=True),
    ]


def _loss(derivation: Derivation, full: bool) -> list[Section]:
    """A concrete loss: L, its ∂L/∂A in closed form and checked, and the checks made by
    differentiating L itself through the whole layer; no section for the generic loss."""
    loss, convention = derivation.loss, derivation.sizes.layer
    if loss is None:
        return []
    definition, output = loss.definition, convention.role("output")
    shape_of_a = f"{output.rows} \\times {output.cols}"
    targets = (
        f", with symbolic targets $y{_entry_of_a(loss)[1:]}$ (the ${shape_of_a}$ matrix $Y$)"
        if definition.has_targets
        else ""
    )
    blocks: list[Block] = [
        Paragraph(f"The loss is the {definition.title}{targets}:"),
        Display((definition.latex,)),
        *_closed_form(loss, full),
        Paragraph(
            f"Through the whole layer, ${layer.forward_latex(derivation.bias, convention)}$: "
            "every entry $\\theta$ of "
            f"{tex.and_list(convention.variables(derivation.bias))} was differentiated by the "
            "chain rule through $A$, $\\partial L/\\partial\\theta = \\sum_{p,q} "
            "(\\partial L/\\partial a_{p,q})(\\partial a_{p,q}/\\partial\\theta)$, with "
            "$\\partial L/\\partial a_{p,q}$ the derivative of $L$ and "
            "$\\partial a_{p,q}/\\partial\\theta$ that of the forward pass, and the results "
            "were compared with the matrix forms at the same $\\partial L/\\partial A$."
        ),
    ]
    if definition.polynomial:
        source = convention.variables(bias=False)[0]  # the input, Z or X
        first_entry = layer.entry_name(source, (1, 1), convention)
        blocks += _example(loss.elementwise[source][0, 0], derivation.sizes.k, first_entry)
    blocks += [
        verdict(check, layer.rule_claim(check.variable, layer=convention)) for check in loss.checks
    ]
    blocks.append(
        Paragraph(
            "The chain-rule derivation that follows holds for any loss, this one included: "
            f"read ${tex.slashed(_entry_of_a(loss))}$ as the entries of the closed form above."
        )
    )
    return [Section(f"The loss: {definition.title}", tuple(blocks))]


def _appendix(derivation: Derivation, full: bool) -> list[Section]:
    """With ``full`` and a concrete loss, ∂L/∂A as differentiated entry by entry."""
    loss = derivation.loss
    if loss is None or not full:
        return []
    blocks = _upstream(loss, *derivation.sizes.shape_of("A"), full)
    return [Section("Appendix: the loss differentiated entry by entry", tuple(blocks))]


def _bias(derivation: Derivation, full: bool, brief: bool = False) -> list[Section]:
    """The bias: its broadcast, ∂L/∂b as column sums, verified, and ∂L/∂Z and ∂L/∂W unchanged;
    no section without the bias."""
    derived = derivation.biased
    if derived is None:
        return []
    sizes, bias = derivation.sizes, derivation.symbols.bias
    convention = sizes.layer
    vector, line = words.bias_vector(convention), words.bias_line(convention)
    if vector == "row":
        spread = r"\mathbf{1}_m b"
        broadcast = tex.bmatrix(sizes.m, sizes.n, lambda i, j: tex.expr_latex(bias[j]), full)
    else:
        spread = r"b \mathbf{1}_m^\top"
        broadcast = tex.bmatrix(sizes.n, sizes.m, lambda i, j: tex.expr_latex(bias[i]), full)
    broadcast_blocks: list[Block] = [
        Paragraph(
            f"With the bias, ${layer.forward_latex(True, convention)}$: the {vector} $b$ is "
            f"repeated for every {vector} of $A$, so $b_j$ is added to every entry of {line} $j$"
            + (f", ${words.forward_sum(convention, True, sigma=_SUM)}$." if brief else ":")
        ),
    ]
    if not brief:
        broadcast_blocks += [
            Display((f"{spread} = {broadcast}",)),
            Display(_forward_lines(derived, full), aligned=True),
        ]
    blocks: list[Block] = [
        *broadcast_blocks,
        Paragraph(
            f"Each $b_j$ enters its {line} with local derivative 1, so by the chain rule "
            f"$\\partial L/\\partial b_j$ is the sum of {line} $j$ of $\\partial L/\\partial A$:"
        ),
        *_worked("b", derived, derivation, full, "follow the same pattern", "", brief),
        *([] if brief else [_unchanged(derivation, derived)]),  # brief: said in the summary
    ]
    return [Section("Adding the bias", tuple(blocks))]


def _unchanged(derivation: Derivation, derived: LayerDerivation) -> Paragraph:
    """The bias leaves ∂L/∂Z and ∂L/∂W unchanged: stated only as far as the checks found it."""
    convention = derivation.sizes.layer
    first, second = convention.variables(bias=False)
    checks = [check_for(derived, first), check_for(derived, second), *derivation.extra_checks]
    if all(check.holds for check in checks):
        rules = [
            layer.rule_latex(name, layer.UPSTREAM_INLINE, layer=convention)
            for name in (first, second)
        ]
        return Paragraph(
            f"The bias appears in no product ${words.product_term(convention)}$, so "
            f"${tex.slashed(first)}$ and ${tex.slashed(second)}$ are unchanged: recomputed "
            "elementwise with the bias, they equal the results without it entry by entry, and "
            f"still equal ${rules[0]}$ and ${rules[1]}$ (verified)."
        )
    failed = ", ".join(check.identity for check in checks if not check.holds)
    return Paragraph(f"NOT verified with the bias: {failed}.")


def derivation_document(
    derivation: Derivation,
    full: bool = False,
    sections: Sequence[str] | None = None,
    brief: bool = False,
) -> Document:
    """The document of SPEC section 2 for a derivation: every section, or those named in
    ``sections`` (SECTIONS); ``brief`` works one entry of each gradient, shows the assembled
    matrix and the check, and leaves out the argument in index notation unless it is named."""
    sizes = derivation.sizes
    title = (
        "Gradients of the matrix-multiplication layer "
        f"${layer.forward_latex(derivation.bias, sizes.layer)}$, "
        f"$(m, k, n) = ({sizes.m}, {sizes.k}, {sizes.n})$"
    )
    every = sections_of(sizes.samples)
    if sections is None:
        sections = [name for name in every if not (brief and name in NOT_BRIEF)]
    chosen = set(sections)
    every_name = sizes.layer.variables(bias=False)
    builders: dict[str, Callable[[], list[Section]]] = {
        "setup": lambda: [_setup(derivation, full, brief)],
        "forward": lambda: [_forward(derivation, full)],
        "loss": lambda: _loss(derivation, full),
        every_name[0]: lambda: [_gradient_section(every_name[0], derivation, full, brief)],
        "W": lambda: [_gradient_section("W", derivation, full, brief)],
        "b": lambda: _bias(derivation, full, brief),
        "general": lambda: [general_section(derivation)],
        "summary": lambda: [summary_section(derivation, brief)],
    }
    parts = [part for name in every if name in chosen for part in builders[name]()]
    if "loss" in chosen:
        parts += _appendix(derivation, full)
    return Document(title, tuple(parts))
