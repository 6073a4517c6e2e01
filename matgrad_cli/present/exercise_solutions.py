"""The solution sheet: every answer read off a verified derivation.

The answers are the derivation's chain-rule sums, the local derivatives those the CAS computed,
the matrix forms its factors, and the verdicts its Check objects. A failed check is never printed
as a solution (exercise.solve refuses it first; ``_verdict`` refuses it again).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.checks import Check
from ..core.engine import get_engine
from ..core.exercise import Problem, Solution, solve_all
from ..core.layer import Index, Layer
from ..core.losses import LossDerivation, closed_form_shown
from ..core.model import ChainRule
from . import layer_latex as layer
from . import mathtex as tex
from .document import LINE_STRUT, Block, Display, Document, Lead, Paragraph, Section
from .exercise_doc import SolutionSheet, notation, part, sheet
from .latex import latex_text
from .limits import SHEET_LINE_WIDTH, SHEET_MATRIX_WIDTH
from .notation import all_entries

#: A strut for each cell of a matrix of display fractions. mathtex's ROW_STRUT only just spans
#: one \\frac{\\partial L}{\\partial a_{i,j}}, so on paper the rows of such a matrix touch;
#: this one leaves a gap of about 3pt between them.
CELL_STRUT = r"\rule[-2.9ex]{0pt}{7ex}"

#: LINE_STRUT with 1.5ex more room above: the first line of a new row of a listed gradient.
ROW_GAP_STRUT = r"\rule[-1.6ex]{0pt}{6.5ex}"

#: A matrix form in running text sets ∂L/∂A off from the factor on its right by a thin space.
THIN = r"\, "

_HOW = (
    "Each answer was derived by matgrad entry by entry with the chain rule, every "
    "local derivative $\\partial a_{p,q}/\\partial x$ computed symbolically "
    "from the expanded entries of $A$, and then compared entry by entry with "
    "the matrix product computed separately. The result of that check is stated "
    "under each answer; matgrad writes no solution whose check failed."
)
_HOW_WITH_A_LOSS = (
    " Where a problem states a concrete loss, $\\partial L/\\partial A$ is "
    "the derivative of $L$, checked against its closed form, and $L$ is "
    "also differentiated through the whole layer and compared with the answer."
)


def _verdict(check: Check, source: Layer) -> str:
    """What a holding check established, in words, read off what it compared (in the convention
    of ``source``); a failed check is refused, never printed."""
    if not check.holds:
        raise ValueError(f"refusing to print an unverified solution: {check.identity} fails")
    where = f"at {all_entries(check.entries_checked)}"
    if check.unchanged_by_bias:
        return f"with the bias, ${tex.slashed(check.variable)}$ is the same as without it {where}"
    rule = check.rule
    if rule is None or rule.variable != check.variable:
        raise ValueError(f"no LaTeX for the identity {check.identity}")
    claim = layer.rule_claim(check.variable, THIN, source)
    if check.loss is not None:
        return (
            f"differentiating $L$ by the chain rule through $A$ with respect to each entry of "
            f"${check.variable}$ gives ${claim}$ {where}"
        )
    return f"${claim}$ holds {where}, each chain-rule sum compared with the product multiplied out"


def _verdicts(solution: Solution) -> Lead:
    """Every check the answer rests on, in words, after the check of ∂L/∂A's closed form against
    the CAS's derivative of L."""
    source = solution.problem.sizes.layer
    verdicts = [_verdict(check, source) for check in solution.checks]
    loss = solution.derivation.loss
    if loss is not None:
        if not loss.closed_form_holds:
            raise ValueError("refusing to print an unverified solution: the closed form fails")
        rows, cols = loss.upstream.shape
        condition = loss.definition.condition
        verdicts.insert(
            0,
            f"{_closed_form(loss)} equals the derivative of $L$ by each "
            f"${layer.generic_entry('A', source)}$ "
            f"at {all_entries(rows * cols)}"
            + (f" {condition.latex}" if condition is not None else ""),
        )
    return Lead("Check.", f"$\\checkmark$ Verified by matgrad: {'; '.join(verdicts)}.")


def _closed_form(loss: LossDerivation) -> str:
    """∂L/∂A = A − Y (or the loss's closed form), as inline math."""
    return f"$\\partial L/\\partial A = {loss.definition.closed_form_latex}$"


def _closed_matrix(loss: LossDerivation) -> str:
    """∂L/∂A in closed form, entry by entry as a sheet shows them, as a matrix."""
    return tex.symbol_matrix(closed_form_shown(loss).tolist(), full=True)


def _loss_blocks(loss: LossDerivation, source: Layer) -> list[Block]:
    """A concrete loss: L, and ∂L/∂A in closed form, entry by entry (``source`` is the layer,
    whose entries of A are a_{i,j}, or a_{j,i} with samples as columns)."""
    definition = loss.definition
    upstream = f"{tex.grad('A')} &= {definition.closed_form_latex} = {_closed_matrix(loss)}"
    if definition.shorthand_latex is not None:
        upstream += rf",\qquad {definition.shorthand_latex}"
    stated = definition.condition
    condition = f" ({stated.latex_noun})" if stated is not None else ""
    return [
        Paragraph(
            f"The loss is {definition.sheet_words}. Differentiating it with respect to each "
            f"${layer.generic_entry('A', source)}${condition} gives $\\partial L/\\partial A$ in "
            "closed form:"
        ),
        Display((f"L &= {definition.definition_latex}", upstream), aligned=True),
    ]


def _parenthesised(latex: str) -> str:
    """A sum or difference in parentheses, as a factor of a product."""
    return rf"\left({latex}\right)" if " - " in latex or " + " in latex else latex


def _with_loss_lines(solution: Solution, loss: LossDerivation, rule: ChainRule) -> list[str]:
    """The chain-rule sum again with this loss's ∂L/∂a_{p,q} in place of the symbols, and its
    total when SymPy adds it up to a number (with the sum loss, ∂L/∂b_j is the count of rows)."""
    import sympy

    closed = closed_form_shown(loss)
    upstream_first = layer.upstream_first(rule.variable, solution.problem.sizes.layer)
    terms = []
    for (p, q), factor in rule.terms:
        value, local = tex.expr_latex(closed[p - 1, q - 1]), tex.expr_latex(factor)
        if value == "1" or local == "1":
            # A factor 1 is left out: ∂L/∂a = 1 for the sum, ∂a/∂b = 1 for the bias.
            terms.append(local if value == "1" else _parenthesised(value))
        else:
            pair = (_parenthesised(value), local)
            terms.append(" ".join(pair if upstream_first else reversed(pair)))
    first, *more = tex.sum_lines(terms, full=True)
    lines = [f"{LINE_STRUT} &= {first}", *more]
    to_sympy = get_engine(solution.derivation.engine).to_sympy
    total = sympy.Add(
        *(loss.closed_form[p - 1, q - 1] * to_sympy(factor) for (p, q), factor in rule.terms)
    )
    if total.is_Integer and len(rule.terms) > 1:
        lines.append(f"{LINE_STRUT} &= {tex.expr_latex(total)}")
    return lines


def _with_loss_product(solution: Solution) -> list[Block]:
    """The matrix form with this loss's ∂L/∂A written out as its second factor (or first, for
    ∂L/∂Z); nothing for the generic loss."""
    derivation, target = solution.derivation, solution.problem.target
    loss = derivation.loss
    if loss is None:
        return []
    upstream = _closed_matrix(loss)
    factors = layer.factors_latex(target, derivation.symbols, derivation.sizes, upstream)
    closed = f"\\left({loss.definition.closed_form_latex}\\right)"
    product = layer.rule_latex(target, closed, layer=derivation.sizes.layer)
    lines = [f"{tex.grad(target)} = {product} &= {factors}"]
    if loss.definition.constant_gradient:
        # ∂L/∂A is all ones: the product multiplied out is short (sums of z's or w's, or the
        # count of rows), so the matrix form the check compared is written out too, when its
        # rows fit the page.
        shown = loss.products[target].tolist()
        widths = [sum(len(entry.args) if entry.is_Add else 1 for entry in row) for row in shown]
        if max(widths) <= SHEET_MATRIX_WIDTH:
            lines.append(f"&= {tex.symbol_matrix(shown, full=True)}")
    return [Paragraph(f"With {_closed_form(loss)}:"), Display(tuple(lines), aligned=True)]


def _entry_blocks(solution: Solution, index: Index) -> list[Block]:
    """One entry: the a's it feeds with their sums, the local derivatives the CAS computed,
    the chain-rule sum, and the entry of the matrix form it is."""
    target, source = solution.problem.target, solution.problem.sizes.layer
    rule = solution.layer.gradients[target].entries[index[0] - 1][index[1] - 1]
    name = layer.entry_name(target, index, source)
    fed = [output for output, _ in rule.terms]
    forward = [
        f"a_{{{p},{q}}} &= "
        + " + ".join(tex.expr_latex(term) for term in solution.layer.outputs[p - 1][q - 1].terms)
        for p, q in fed
    ]
    local = [
        f"{tex.partial_latex(f'a_{{{p},{q}}}', name)} = {tex.expr_latex(factor)}"
        for (p, q), factor in rule.terms
    ]
    upstream_first = layer.upstream_first(target, source)
    (first, *more), (value_first, *value_more) = tex.chain_rule_lines(
        name, rule.terms, upstream_first, True
    )
    form = layer.rule_latex(target, layer=source)
    matrix_form = rf"\left({form}\right)_{{{layer.position(target, index, source)}}}"
    chain_rule = "By the chain rule, summing over these entries"
    loss_lines: list[str] = []
    loss = solution.derivation.loss
    if loss is not None:
        loss_lines = _with_loss_lines(solution, loss, rule)
        chain_rule += f", and in the last line with {_closed_form(loss)}"
    return [
        Paragraph(f"${name}$ appears in {tex.and_list([f'a_{{{p},{q}}}' for p, q in fed])}:"),
        Display(tuple(forward), aligned=True),
        Paragraph(f"Differentiating each of them with respect to ${name}$:"),
        Display((r",\qquad ".join(local),)),
        Paragraph(f"{chain_rule}:"),
        Display(
            (
                f"{LINE_STRUT} {tex.grad(name)} &= {first}",
                *more,
                f"{LINE_STRUT} &= {value_first}",
                *value_more,
                f"{LINE_STRUT} &= {matrix_form}",
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
    bias = solution.problem.sizes.layer.matrix(target).role == "bias"
    return max(terms, 1) * (1.0 if bias else 1.5)


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
    derivation, target = solution.derivation, solution.problem.target
    source = derivation.sizes.layer
    rows, cols = solution.problem.shape
    gradient = solution.layer.gradients[target]
    upstream_first = layer.upstream_first(target, source)
    upstream = tex.bmatrix(
        *derivation.sizes.shape_of("G"),
        lambda i, j: f"{CELL_STRUT} {tex.upstream_latex((i + 1, j + 1))}",
    )
    factors = layer.factors_latex(target, derivation.symbols, derivation.sizes, upstream)
    head = f"{tex.grad(target)} = {layer.rule_latex(target, layer=source)} &= {factors}"
    inline = layer.rule_latex(target, layer.UPSTREAM_INLINE, THIN, source)
    blocks: list[Block] = [
        Paragraph(
            f"${tex.slashed(target)}$ has the shape of ${target}$, ${tex.shape_latex(rows, cols)}$,"
            f" and equals ${inline}$:"
        )
    ]
    if cols * _entry_width(solution) <= SHEET_MATRIX_WIDTH:
        assembled = tex.bmatrix(
            rows,
            cols,
            lambda i, j: (
                f"{CELL_STRUT} "
                + tex.linear_form_latex(gradient.entries[i][j].terms, upstream_first, True)
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
                terms = [tex.term_latex(*term, upstream_first) for term in rule.terms]
                left = tex.grad(layer.entry_name(target, rule.index, source))
                equations.append(f"{left} &= {' + '.join(terms)}")
            # align* sets the equations of a line side by side, each column aligned at its =.
            lines.append(f"{strut} " + r" & \qquad ".join(equations))
    blocks += [
        Display((head,), aligned=True),
        Paragraph("Multiplied out, entry by entry (too wide to set as one matrix):"),
        Display(tuple(lines), aligned=True),
    ]
    return blocks


def _solution_part(solution: Solution) -> Section:
    """One problem's answer: its layer, the loss, the answer and the checks it rests on."""
    problem = solution.problem
    sizes = problem.sizes
    asked = (
        f"${tex.slashed(problem.target)}$ in matrix form"
        if problem.entry is None
        else f"${tex.slashed(layer.entry_name(problem.target, problem.entry, sizes.layer))}$"
    )
    blocks: list[Block] = [
        Paragraph(
            f"$(m, k, n) = ({sizes.m}, {sizes.k}, {sizes.n})$, "
            f"${layer.forward_latex(problem.bias, sizes.layer)}$; asked for {asked}."
        )
    ]
    loss = solution.derivation.loss
    if loss is not None:
        blocks += _loss_blocks(loss, sizes.layer)
    if problem.entry is not None:
        blocks += _entry_blocks(solution, problem.entry)
    else:
        blocks += _matrix_blocks(solution) + _with_loss_product(solution)
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
        (Paragraph(_HOW + (_HOW_WITH_A_LOSS if concrete else "")), notation(problems)),
    )
    answers = [_solution_part(solution) for solution in solutions.solutions]
    title = "Gradients of a linear layer: solutions"
    return sheet(title, problems, solutions.seed, [notes, *answers], for_instructor=True)


def solution_sheet(problems: Sequence[Problem], seed: int) -> str:
    """The solution sheet as a standalone LaTeX document, every answer verified: raises
    UnverifiedSolutionError rather than print an answer whose check failed."""
    solutions = SolutionSheet(solve_all(problems), seed)
    return latex_text(solution_document(solutions), standalone=True)
