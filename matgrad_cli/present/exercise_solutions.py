"""The solution sheet: every answer read off a verified derivation.

The answers are the derivation's chain-rule sums, the local derivatives those the CAS computed,
the matrix forms its factors, and the verdicts its Check objects. A failed check is never printed
as a solution (exercise.solve refuses it first; ``_verdict`` refuses it again).
"""

from __future__ import annotations

from typing import Any

from ..core.checks import Check
from ..core.engine import get_engine
from ..core.exercise import Problem, Solution
from ..core.layer import Index, Variable
from ..core.model import ChainRule
from .document import LINE_STRUT, Block, Display, Document, Lead, Paragraph, Section
from .exercise_common import (
    INLINE_PRODUCTS,
    SolutionSheet,
    and_list,
    at_entries,
    entry_name,
    notation,
    part,
    sheet,
    slashed,
    times,
)
from .layer_latex import forward_latex, rule_latex
from .limits import SHEET_LINE_WIDTH, SHEET_MATRIX_WIDTH
from .mathtex import (
    bmatrix,
    expr_latex,
    linear_form_latex,
    partial_latex,
    sum_lines,
    symbol_matrix,
    term_latex,
    upstream_latex,
)

#: A strut for each cell of a matrix of display fractions. mathtex's ROW_STRUT only just spans
#: one \\frac{\\partial L}{\\partial a_{i,j}}, so on paper the rows of such a matrix touch;
#: this one leaves a gap of about 3pt between them.
CELL_STRUT = r"\rule[-2.9ex]{0pt}{7ex}"

#: LINE_STRUT with 1.5ex more room above: the first line of a new row of a listed gradient.
ROW_GAP_STRUT = r"\rule[-1.6ex]{0pt}{6.5ex}"

_HOW = (
    "Each answer was derived by matgrad entry by entry with the chain rule, every "
    "local derivative $\\partial a_{p,q}/\\partial x$ computed by a computer algebra "
    "system from the expanded entries of $A$, and then compared entry by entry with "
    "the matrix product computed separately. The result of that check is stated "
    "under each answer; matgrad writes no solution whose check failed."
)
_HOW_WITH_A_LOSS = (
    " Where a problem states a concrete loss, $\\partial L/\\partial A$ is "
    "the CAS's derivative of $L$, checked against its closed form, and $L$ is "
    "also differentiated through the whole layer and compared with the answer."
)


def _verdict(check: Check) -> str:
    """What a holding check established, in words, read off what it compared; a failed check is
    refused, never printed."""
    if not check.holds:
        raise ValueError(f"refusing to print an unverified solution: {check.identity} fails")
    name = slashed(check.variable)
    where = at_entries(check.entries_checked)
    if check.unchanged_by_bias:
        return f"with the bias, ${name}$ is the same as without it {where}"
    rule = check.rule
    if rule is None or rule.variable != check.variable:
        raise ValueError(f"no LaTeX for the identity {check.identity}")
    if check.loss is not None:
        return (
            f"differentiating $L$ itself through the layer with respect to each entry of "
            f"${check.variable}$, with no chain rule written, gives "
            f"${name} = {INLINE_PRODUCTS[check.variable]}$ {where}"
        )
    return (
        f"${name} = {INLINE_PRODUCTS[check.variable]}$ holds {where}, each chain-rule sum "
        "compared with the product multiplied out"
    )


def _verdicts(solution: Solution) -> Lead:
    """Every check the answer rests on, in words, after the closed form of ∂L/∂A."""
    verdicts = [_verdict(check) for check in solution.checks]
    loss = solution.derivation.loss
    if loss is not None:
        verdicts.insert(0, _closed_form_verdict(solution))
    return Lead("Check.", f"$\\checkmark$ Verified by matgrad: {'; '.join(verdicts)}.")


def _closed_form_verdict(solution: Solution) -> str:
    """The check of ∂L/∂A's closed form against the CAS's derivative of L, in words."""
    loss = solution.derivation.loss
    if loss is None or not loss.closed_form_holds:
        raise ValueError("refusing to print an unverified solution: the closed form fails")
    rows, cols = loss.upstream.shape
    stated = loss.definition.condition
    condition = f" {stated.latex}" if stated is not None else ""
    return (
        f"$\\partial L/\\partial A = {loss.definition.closed_form_latex}$ equals the derivative of "
        f"$L$ by each $a_{{i,j}}$ {at_entries(rows * cols)}{condition}"
    )


def _closed_entries(solution: Solution) -> list[list[str]]:
    """The entries of ∂L/∂A in closed form, in LaTeX, from the derivation's loss."""
    from ..core.losses import closed_form_shown

    loss = solution.derivation.loss
    if loss is None:
        raise ValueError("the generic loss has no closed form")
    shown = closed_form_shown(loss)
    rows, cols = shown.shape
    return [[expr_latex(shown[i, j]) for j in range(cols)] for i in range(rows)]


def _loss_blocks(solution: Solution) -> list[Block]:
    """A concrete loss: L, and ∂L/∂A in closed form, entry by entry."""
    loss = solution.derivation.loss
    if loss is None:
        return []
    definition = loss.definition
    closed = _closed_entries(solution)
    rows, cols = len(closed), len(closed[0])
    matrix = bmatrix(rows, cols, lambda i, j: closed[i][j], True)
    upstream = f"{partial_latex('L', 'A')} &= {definition.closed_form_latex} = {matrix}"
    if definition.shorthand_latex is not None:
        upstream += rf",\qquad {definition.shorthand_latex}"
    stated = definition.condition
    condition = f" ({stated.latex_noun})" if stated is not None else ""
    return [
        Paragraph(
            f"The loss is {definition.sheet_words}. Differentiating it with respect to each "
            f"$a_{{i,j}}${condition} gives $\\partial L/\\partial A$ in closed form:"
        ),
        Display((definition.latex.replace("L = ", "L &= ", 1), upstream), aligned=True),
    ]


def _parenthesised(latex: str) -> str:
    """A sum or difference in parentheses, as a factor of a product."""
    return rf"\left({latex}\right)" if " - " in latex or " + " in latex else latex


def _closed_form_inline(solution: Solution) -> str:
    """∂L/∂A = A − Y (or the loss's closed form), as inline math."""
    loss = solution.derivation.loss
    if loss is None:
        raise ValueError("the generic loss has no closed form")
    return f"$\\partial L/\\partial A = {loss.definition.closed_form_latex}$"


def _with_loss_sum(solution: Solution, rule: ChainRule) -> list[str] | None:
    """The terms of one chain-rule sum with this loss's ∂L/∂a_{p,q} in place of the symbols,
    or None for the generic loss."""
    if solution.derivation.loss is None:
        return None
    closed = _closed_entries(solution)
    upstream_first = _upstream_first(solution.problem.target)
    terms = []
    for (p, q), factor in rule.terms:
        value, local = closed[p - 1][q - 1], expr_latex(factor)
        if value == "1" or local == "1":
            # A factor 1 is left out: ∂L/∂a = 1 for the sum, ∂a/∂b = 1 for the bias.
            terms.append(local if value == "1" else _parenthesised(value))
        else:
            pair = (_parenthesised(value), local)
            terms.append(" ".join(pair if upstream_first else reversed(pair)))
    return terms


def _entry_total(solution: Solution, rule: ChainRule) -> str | None:
    """The chain-rule sum with the loss's ∂L/∂a_{p,q}, added up by SymPy, when that gives a
    number (with the sum loss, ∂L/∂b_j is the count of rows); None otherwise."""
    import sympy

    loss = solution.derivation.loss
    if loss is None:
        return None
    to_sympy = get_engine(solution.derivation.engine).to_sympy
    total = sympy.Add(
        *(loss.closed_form[p - 1, q - 1] * to_sympy(factor) for (p, q), factor in rule.terms)
    )
    return expr_latex(total) if total.is_Integer and len(rule.terms) > 1 else None


def _with_loss_product(solution: Solution) -> list[Block]:
    """The matrix form with this loss's ∂L/∂A written out as its second factor (or first, for
    ∂L/∂Z); nothing for the generic loss."""
    loss = solution.derivation.loss
    if loss is None:
        return []
    closed = _closed_entries(solution)
    target = solution.problem.target
    rows, cols = len(closed), len(closed[0])
    upstream = bmatrix(rows, cols, lambda i, j: closed[i][j], True)
    symbols = solution.derivation.symbols
    if target == "Z":
        factors = f"{upstream} {symbol_matrix(tuple(zip(*symbols.W, strict=True)))}"
    elif target == "W":
        factors = f"{symbol_matrix(tuple(zip(*symbols.Z, strict=True)))} {upstream}"
    else:
        factors = f"{bmatrix(1, rows, lambda i, j: '1')} {upstream}"
    product = rule_latex(target, f"\\left({loss.definition.closed_form_latex}\\right)")
    lines = [f"{partial_latex('L', target)} = {product} &= {factors}"]
    shown = _multiplied_out(solution) if loss.definition.constant_gradient else []
    # ∂L/∂A is all ones: the product multiplied out is short (sums of z's or w's, or the count
    # of rows), so it is written out too, when its rows fit the page.
    if (
        shown
        and max(sum(_term_count(entry) for entry in row) for row in shown) <= SHEET_MATRIX_WIDTH
    ):
        lines.append(
            "&= " + bmatrix(len(shown), len(shown[0]), lambda i, j: expr_latex(shown[i][j]), True)
        )
    return [
        Paragraph(f"With {_closed_form_inline(solution)}:"),
        Display(tuple(lines), aligned=True),
    ]


def _term_count(expr: Any) -> int:
    """How many terms a SymPy expression has: the width of a matrix entry, in symbols."""
    return len(expr.args) if expr.is_Add else 1


def _multiplied_out(solution: Solution) -> list[list[Any]]:
    """The matrix form of the target with the loss's closed form of ∂L/∂A, multiplied out by
    SymPy: (∂L/∂A)·Wᵀ, Zᵀ·(∂L/∂A) or 1ᵀ·(∂L/∂A)."""
    import sympy

    loss = solution.derivation.loss
    if loss is None:
        raise ValueError("the generic loss has no closed form")
    closed, z, w = loss.closed_form, loss.symbols.Z, loss.symbols.W
    target = solution.problem.target
    if target == "Z":
        product = closed * w.T
    elif target == "W":
        product = z.T * closed
    else:
        product = sympy.ones(1, closed.shape[0]) * closed
    rows, cols = product.shape
    return [[product[i, j] for j in range(cols)] for i in range(rows)]


def _factors(solution: Solution) -> str:
    """The two factors of the matrix form, written out from the derivation's symbols."""
    problem, symbols = solution.problem, solution.derivation.symbols
    m, n = problem.sizes.m, problem.sizes.n
    upstream = bmatrix(m, n, lambda i, j: f"{CELL_STRUT} {upstream_latex((i + 1, j + 1))}")
    if problem.target == "Z":
        return f"{upstream} {symbol_matrix(tuple(zip(*symbols.W, strict=True)))}"
    if problem.target == "W":
        return f"{symbol_matrix(tuple(zip(*symbols.Z, strict=True)))} {upstream}"
    return f"{bmatrix(1, m, lambda i, j: '1')} {upstream}"


def _upstream_first(variable: Variable) -> bool:
    """Terms are written in the order of their product: ∂L/∂a·w for G·Wᵀ, z·∂L/∂a for Zᵀ·G."""
    return variable == "Z"


def _rule(solution: Solution, index: Index) -> ChainRule:
    """The chain-rule sum of one entry of the target (1-based index)."""
    gradient = solution.layer.gradients[solution.problem.target]
    return gradient.entries[index[0] - 1][index[1] - 1]


def _entry_blocks(solution: Solution, index: Index) -> list[Block]:
    """One entry: the a's it feeds with their sums, the local derivatives the CAS computed,
    the chain-rule sum, and the entry of the matrix form it is."""
    target = solution.problem.target
    rule = _rule(solution, index)
    name = entry_name(target, index)
    fed = [output for output, _ in rule.terms]
    forward = []
    for p, q in fed:
        terms = [expr_latex(term) for term in solution.layer.outputs[p - 1][q - 1].terms]
        forward.append(f"a_{{{p},{q}}} &= {' + '.join(terms)}")
    local = [
        f"{partial_latex(f'a_{{{p},{q}}}', name)} = {expr_latex(factor)}"
        for (p, q), factor in rule.terms
    ]
    partials = [
        f"{upstream_latex(output)} {partial_latex(f'a_{{{output[0]},{output[1]}}}', name)}"
        for output in fed
    ]
    values = [term_latex(output, factor, _upstream_first(target)) for output, factor in rule.terms]
    first, *more = sum_lines(partials, full=True)
    value_first, *value_more = sum_lines(values, full=True)
    position = f"{index[1]}" if target == "b" else f"{index[0]},{index[1]}"
    with_loss = _with_loss_sum(solution, rule)
    loss_lines = []
    chain_rule = "By the chain rule, summing over these entries:"
    if with_loss is not None:
        loss_first, *loss_more = sum_lines(with_loss, full=True)
        loss_lines = [f"{LINE_STRUT} &= {loss_first}", *loss_more]
        total = _entry_total(solution, rule)
        if total is not None:
            loss_lines.append(f"{LINE_STRUT} &= {total}")
        chain_rule = (
            "By the chain rule, summing over these entries, and in the last line with "
            f"{_closed_form_inline(solution)}:"
        )
    return [
        Paragraph(f"${name}$ appears in {and_list([f'$a_{{{p},{q}}}$' for p, q in fed])}:"),
        Display(tuple(forward), aligned=True),
        Paragraph(f"Differentiating each of them with respect to ${name}$:"),
        Display((r",\qquad ".join(local),)),
        Paragraph(chain_rule),
        Display(
            (
                f"{LINE_STRUT} {partial_latex('L', name)} &= {first}",
                *more,
                f"{LINE_STRUT} &= {value_first}",
                *value_more,
                rf"{LINE_STRUT} &= \left({rule_latex(target)}\right)_{{{position}}}",
                *loss_lines,
            ),
            aligned=True,
        ),
    ]


def _entry_width(solution: Solution) -> float:
    """The width of the widest chain-rule sum of the target, in display fractions."""
    target = solution.problem.target
    gradient = solution.layer.gradients[target]
    terms = max(len(rule.terms) for row in gradient.entries for rule in row)
    return max(terms, 1) * (1.0 if target == "b" else 1.5)


def _per_line(solution: Solution) -> int:
    """How many entries of one row of the gradient go on a line: a divisor of the columns, so
    that every line holds part of one row and the rows line up."""
    cols = solution.problem.shape[1]
    fitting = int(SHEET_LINE_WIDTH // (1.0 + _entry_width(solution)))
    return max(
        count for count in range(1, cols + 1) if cols % count == 0 and count <= max(fitting, 1)
    )


def _matrix_blocks(solution: Solution) -> list[Block]:
    """The whole gradient: its shape, its matrix form with the factors written out, and the
    chain-rule sums assembled in the shape of the target."""
    target = solution.problem.target
    rows, cols = solution.problem.shape
    gradient = solution.layer.gradients[target]
    upstream_first = _upstream_first(target)
    head = f"{partial_latex('L', target)} = {rule_latex(target)} &= {_factors(solution)}"
    blocks: list[Block] = [
        Paragraph(
            f"${slashed(target)}$ has the shape of ${target}$, ${times(rows, cols)}$, and "
            f"equals ${INLINE_PRODUCTS[target]}$:"
        )
    ]
    if cols * _entry_width(solution) <= SHEET_MATRIX_WIDTH:
        assembled = bmatrix(
            rows,
            cols,
            lambda i, j: (
                f"{CELL_STRUT} "
                + linear_form_latex(gradient.entries[i][j].terms, upstream_first, True)
                # A wider gap between columns, so that the sums read apart.
                + (r" \quad" if j < cols - 1 else "")
            ),
            True,
        )
        blocks.append(Display((head, f"&= {assembled}"), aligned=True))
        return blocks
    per_line = _per_line(solution)
    lines = []
    for number, row in enumerate(gradient.entries):
        for start in range(0, cols, per_line):
            # A row of the gradient that takes several lines is set off from the next.
            strut = ROW_GAP_STRUT if number > 0 and start == 0 and per_line < cols else LINE_STRUT
            equations = []
            for rule in row[start : start + per_line]:
                terms = [
                    term_latex(output, factor, upstream_first) for output, factor in rule.terms
                ]
                left = partial_latex("L", entry_name(target, rule.index))
                equations.append(f"{left} &= {' + '.join(terms)}")
            # align* sets the equations of a line side by side, each column aligned at its =.
            lines.append(f"{strut} " + r" & \qquad ".join(equations))
    blocks += [
        Display((head,), aligned=True),
        Paragraph("Multiplied out, entry by entry (too wide to set as one matrix):"),
        Display(tuple(lines), aligned=True),
    ]
    return blocks


def _asked(problem: Problem) -> str:
    """What the problem asked for, in words."""
    if problem.entry is not None:
        return f"${slashed(entry_name(problem.target, problem.entry))}$"
    return f"${slashed(problem.target)}$ in matrix form"


def _solution_part(solution: Solution) -> Section:
    """One problem's answer: its layer, the loss, the answer and the checks it rests on."""
    problem = solution.problem
    sizes = problem.sizes
    blocks: list[Block] = [
        Paragraph(
            f"$(m, k, n) = ({sizes.m}, {sizes.k}, {sizes.n})$, ${forward_latex(problem.bias)}$; "
            f"asked for {_asked(problem)}."
        )
    ]
    blocks += _loss_blocks(solution)
    if problem.entry is not None:
        blocks += _entry_blocks(solution, problem.entry)
    else:
        blocks += _matrix_blocks(solution)
    if problem.entry is None:
        blocks += _with_loss_product(solution)
    blocks.append(_verdicts(solution))
    return part(f"Problem {problem.number}", blocks)


def solution_document(solutions: SolutionSheet, full: bool = False) -> Document:
    """The solution sheet: how the answers were obtained, then each verified answer (``full``
    is taken like every builder's; a sheet shows everything)."""
    del full
    problems = [solution.problem for solution in solutions.solutions]
    concrete = any(problem.loss != "generic" for problem in problems)
    notes = part(
        "About these solutions",
        (
            Paragraph(_HOW + (_HOW_WITH_A_LOSS if concrete else "")),
            notation(any(problem.bias for problem in problems)),
        ),
    )
    answers = [_solution_part(solution) for solution in solutions.solutions]
    return sheet(
        "Gradients of a linear layer: solutions", problems, solutions.seed, [notes, *answers]
    )
