"""The problem sheet and the solution sheet: their blocks, and their LaTeX.

The problem sheet needs no derivation: it names the entries of Z, W and b. Every statement on
the solution sheet is read off a verified derivation: the answers are its chain-rule sums, the
local derivatives those the CAS computed, the matrix forms its factors, and the verdicts its
Check objects. A failed check is never printed as a solution (exercise.solve refuses it first;
``_verdict`` refuses it again).

A sheet is laid out for handing out, so it has a LaTeX writer of its own rather than
render/latex.py's: a compact heading, a bold lead for each task and verdict, and every problem
kept on one page when it fits. It uses the same blocks (Paragraph, Display) and the same
packages (amsmath, amssymb, geometry), and writes nothing time-dependent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.checks import Check
from ..core.engine import get_engine
from ..core.layer import LAYER, Index, Variable
from ..core.losses import concrete_loss
from ..core.model import ChainRule
from .document import LINE_STRUT, Display, Paragraph
from .latex import PREAMBLE, display_latex, escape_text
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

if TYPE_CHECKING:
    from ..core.exercise import Problem, Solution

#: Widths on an A4 page, in units of one display fraction \\frac{\\partial L}{\\partial a_{i,j}}:
#: a term z_{i,r} ∂L/∂a_{p,q} is 1.5 of them, a line of the page about 12. A gradient whose
#: rows fit MATRIX_WIDTH is set as one matrix; else its entries are listed, as many to a line
#: as fit LINE_WIDTH (the numbers were set by compiling every size and looking at the pages).
MATRIX_WIDTH = 9.0
LINE_WIDTH = 12.0

#: A strut for each cell of a matrix of display fractions. mathtex's ROW_STRUT only just spans
#: one \\frac{\\partial L}{\\partial a_{i,j}}, so on paper the rows of such a matrix touch;
#: this one leaves a gap of about 3pt between them.
CELL_STRUT = r"\rule[-2.9ex]{0pt}{7ex}"

#: LINE_STRUT with 1.5ex more room above: the first line of a new row of a listed gradient.
ROW_GAP_STRUT = r"\rule[-1.6ex]{0pt}{6.5ex}"


@dataclass(frozen=True)
class Lead:
    """A paragraph opened by a bold label, such as "Task." (text may hold $…$ math)."""

    label: str
    text: str


SheetBlock = Paragraph | Display | Lead


@dataclass(frozen=True)
class Part:
    """A titled part of a sheet: the notes, or one problem (kept on one page if it fits)."""

    title: str
    blocks: tuple[SheetBlock, ...]


@dataclass(frozen=True)
class Sheet:
    """A whole sheet: its heading, the command that regenerates it, and its parts."""

    title: str
    subtitle: str
    command: str
    parts: tuple[Part, ...]


_LETTERS: dict[Variable, str] = {"Z": "z", "W": "w", "b": "b"}

#: The matrix forms, in display and in running text (∂L/∂A slashed).
_PRODUCTS: dict[Variable, str] = {
    "Z": r"\frac{\partial L}{\partial A} W^\top",
    "W": r"Z^\top \frac{\partial L}{\partial A}",
    "b": r"\mathbf{1}_m^\top \frac{\partial L}{\partial A}",
}
_INLINE_PRODUCTS: dict[Variable, str] = {
    "Z": r"(\partial L/\partial A)\, W^\top",
    "W": r"Z^\top (\partial L/\partial A)",
    "b": r"\mathbf{1}_m^\top (\partial L/\partial A)",
}
_WHAT: dict[Variable, str] = {"Z": "the input $Z$", "W": "the weights $W$", "b": "the bias $b$"}


def _times(rows: int, cols: int) -> str:
    return rf"{rows} \times {cols}"


def _entry_name(variable: Variable, index: Index) -> str:
    """z_{i,r}, w_{r,j} or b_j."""
    if variable == "b":
        return f"b_{{{index[1]}}}"
    return f"{_LETTERS[variable]}_{{{index[0]},{index[1]}}}"


def _slashed(name: str) -> str:
    return rf"\partial L/\partial {name}"


def _layer(bias: bool) -> str:
    return r"A = ZW + \mathbf{1}_m b" if bias else "A = ZW"


def _and_list(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _at_entries(count: int) -> str:
    if count == 1:
        return "at its one entry"
    if count == 2:
        return "at both entries"
    return f"at all {count} entries"


def _command(problems: Sequence[Problem], seed: int) -> str:
    bias = " --bias" if any(problem.bias for problem in problems) else ""
    return f"matgrad exercise --seed {seed} --count {len(problems)}{bias}"


def _subtitle(problems: Sequence[Problem], seed: int) -> str:
    count = len(problems)
    layers = "with a bias" if any(problem.bias for problem in problems) else "without bias"
    return f"Seed {seed}, {count} problem{'s' if count != 1 else ''}, layers {layers}"


def _notation(bias: bool) -> Paragraph:
    bias_text = (
        ", and $b$ is a $1 \\times n$ row vector added to every row: $A = ZW + \\mathbf{1}_m b$, "
        "with $\\mathbf{1}_m$ the column of $m$ ones"
        if bias
        else ", and the layer is $A = ZW$"
    )
    return Paragraph(
        "In every problem $Z$ is the $m \\times k$ input and $W$ the $k \\times n$ weights"
        f"{bias_text}. $L$ is a scalar loss computed from $A$; the entries of the upstream "
        "gradient $\\partial L/\\partial A$ are $\\partial L/\\partial a_{i,j}$, written "
        "as fractions in displays. Gradients are in denominator layout: "
        "$\\partial L/\\partial X$ has the shape of $X$. Indices are 1-based, with a comma: "
        "$z_{i,r}$ is row $i$, column $r$ of $Z$."
    )


# The problem sheet.


def _sizes_sentence(problem: Problem) -> str:
    """The sizes and the shapes of every matrix of the layer."""
    m, k, n = problem.sizes.m, problem.sizes.k, problem.sizes.n
    bias = f", the bias $b$ is ${_times(1, n)}$" if problem.bias else ""
    return (
        f"Sizes $m = {m}$, $k = {k}$, $n = {n}$: the input $Z$ is ${_times(m, k)}$, "
        f"the weights $W$ are ${_times(k, n)}${bias}, and the output "
        f"${_layer(problem.bias)}$ is ${_times(m, n)}$."
    )


def _named_matrix(letter: str, rows: int, cols: int) -> str:
    """A matrix of named entries such as z_{i,r}, for the problem sheet."""
    return bmatrix(rows, cols, lambda i, j: f"{letter}_{{{i + 1},{j + 1}}}")


def _layer_display(problem: Problem) -> Display:
    m, k, n = problem.sizes.m, problem.sizes.k, problem.sizes.n
    parts = [f"Z = {_named_matrix('z', m, k)}", f"W = {_named_matrix('w', k, n)}"]
    if problem.bias:
        parts.append(f"b = {bmatrix(1, n, lambda i, j: f'b_{{{j + 1}}}')}")
    return Display((r",\qquad ".join(parts),))


def _loss_statement(problem: Problem) -> list[SheetBlock]:
    """The concrete loss of a problem, written out, with what its targets are; nothing for the
    generic loss."""
    if problem.loss == "generic":
        return []
    loss = concrete_loss(problem.loss)
    parameters = "$Z$, $W$ or $b$" if problem.bias else "$Z$ or $W$"
    targets = loss.sheet_targets.format(parameters=parameters)
    return [
        Paragraph(f"The loss is {loss.sheet_words}{targets}:"),
        Display((loss.latex,)),
    ]


def _task(problem: Problem) -> Lead:
    """What the problem asks for, without giving the answer away."""
    concrete = problem.loss != "generic"
    if problem.entry is not None:
        name = _entry_name(problem.target, problem.entry)
        chain_rule = (
            rf"\sum_{{p,q}} (\partial L/\partial a_{{p,q}})(\partial a_{{p,q}}/\partial {name})"
        )
        first = (
            "Work out $\\partial L/\\partial a_{p,q}$ for this loss first. Then name"
            if concrete
            else "Name"
        )
        last = ", leaving each $a_{p,q}$ as it is" if concrete else ""
        return Lead(
            "Task.",
            f"Find ${_slashed(name)}$. {first} the entries $a_{{p,q}}$ of $A$ that ${name}$ "
            f"appears in, work out each local derivative, and write the chain-rule sum "
            f"${chain_rule}$ over them{last}.",
        )
    symbol = problem.target
    upstream = (
        "Work out $\\partial L/\\partial A$ for this loss as a matrix. Then give its shape"
        if concrete
        else "Give its shape"
    )
    return Lead(
        "Task.",
        f"Find ${_slashed(symbol)}$, the gradient with respect to {_WHAT[symbol]}. {upstream}, "
        "write it as a matrix product of $\\partial L/\\partial A$ with $Z$, $W$ or a "
        "vector of ones (transposed where needed), and multiply the product out.",
    )


def build_problem_sheet(problems: Sequence[Problem], seed: int) -> Sheet:
    """The problem sheet: notation, then each problem with its sizes, its layer and its task."""
    notes = Part("Notation", (_notation(any(problem.bias for problem in problems)),))
    parts = [notes]
    for problem in problems:
        blocks = (
            Paragraph(_sizes_sentence(problem)),
            _layer_display(problem),
            *_loss_statement(problem),
            _task(problem),
        )
        parts.append(Part(f"Problem {problem.number}", blocks))
    return Sheet(
        "Gradients of a linear layer: exercises",
        _subtitle(problems, seed),
        _command(problems, seed),
        tuple(parts),
    )


# The solution sheet.


def _verdict(check: Check) -> str:
    """What a holding check established, in words; a failed check is refused, never printed."""
    if not check.holds:
        raise ValueError(f"refusing to print an unverified solution: {check.identity} fails")
    name = _slashed(check.variable)
    where = _at_entries(check.entries_checked)
    if check.formula.endswith("without the bias"):
        return f"with the bias, ${name}$ is the same as without it {where}"
    if ", L = " in check.formula:
        if check.formula.split(", L = ")[0] != LAYER.rule(check.variable).text:
            raise ValueError(f"no LaTeX for the identity {check.identity}")
        return (
            f"differentiating $L$ itself through the layer with respect to each entry of "
            f"${check.variable}$, with no chain rule written, gives "
            f"${name} = {_INLINE_PRODUCTS[check.variable]}$ {where}"
        )
    if check.formula != LAYER.rule(check.variable).text:
        raise ValueError(f"no LaTeX for the identity {check.identity}")
    return (
        f"${name} = {_INLINE_PRODUCTS[check.variable]}$ holds {where}, each chain-rule sum "
        "compared with the product multiplied out"
    )


def _verdicts(solution: Solution) -> Lead:
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
        f"$L$ by each $a_{{i,j}}$ {_at_entries(rows * cols)}{condition}"
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


def _loss_blocks(solution: Solution) -> list[SheetBlock]:
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


def _with_loss_product(solution: Solution) -> list[SheetBlock]:
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
    product = _PRODUCTS[target].replace(
        r"\frac{\partial L}{\partial A}", f"\\left({loss.definition.closed_form_latex}\\right)"
    )
    lines = [f"{partial_latex('L', target)} = {product} &= {factors}"]
    shown = _multiplied_out(solution) if loss.definition.constant_gradient else []
    # ∂L/∂A is all ones: the product multiplied out is short (sums of z's or w's, or the count
    # of rows), so it is written out too, when its rows fit the page.
    if shown and max(sum(_term_count(entry) for entry in row) for row in shown) <= MATRIX_WIDTH:
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
    gradient = solution.layer.gradients[solution.problem.target]
    return gradient.entries[index[0] - 1][index[1] - 1]


def _entry_blocks(solution: Solution, index: Index) -> list[SheetBlock]:
    """One entry: the a's it feeds with their sums, the local derivatives the CAS computed,
    the chain-rule sum, and the entry of the matrix form it is."""
    target = solution.problem.target
    rule = _rule(solution, index)
    name = _entry_name(target, index)
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
        Paragraph(f"${name}$ appears in {_and_list([f'$a_{{{p},{q}}}$' for p, q in fed])}:"),
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
                rf"{LINE_STRUT} &= \left({_PRODUCTS[target]}\right)_{{{position}}}",
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
    fitting = int(LINE_WIDTH // (1.0 + _entry_width(solution)))
    return max(
        count for count in range(1, cols + 1) if cols % count == 0 and count <= max(fitting, 1)
    )


def _matrix_blocks(solution: Solution) -> list[SheetBlock]:
    """The whole gradient: its shape, its matrix form with the factors written out, and the
    chain-rule sums assembled in the shape of the target."""
    target = solution.problem.target
    rows, cols = solution.problem.shape
    gradient = solution.layer.gradients[target]
    upstream_first = _upstream_first(target)
    head = f"{partial_latex('L', target)} = {_PRODUCTS[target]} &= {_factors(solution)}"
    blocks: list[SheetBlock] = [
        Paragraph(
            f"${_slashed(target)}$ has the shape of ${target}$, ${_times(rows, cols)}$, and "
            f"equals ${_INLINE_PRODUCTS[target]}$:"
        )
    ]
    if cols * _entry_width(solution) <= MATRIX_WIDTH:
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
                left = partial_latex("L", _entry_name(target, rule.index))
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
    if problem.entry is not None:
        return f"${_slashed(_entry_name(problem.target, problem.entry))}$"
    return f"${_slashed(problem.target)}$ in matrix form"


def _solution_part(solution: Solution) -> Part:
    problem = solution.problem
    sizes = problem.sizes
    blocks: list[SheetBlock] = [
        Paragraph(
            f"$(m, k, n) = ({sizes.m}, {sizes.k}, {sizes.n})$, ${_layer(problem.bias)}$; "
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
    return Part(f"Problem {problem.number}", tuple(blocks))


def build_solution_sheet(solutions: Sequence[Solution], seed: int) -> Sheet:
    """The solution sheet: how the answers were obtained, then each verified answer."""
    problems = [solution.problem for solution in solutions]
    notes = Part(
        "About these solutions",
        (
            Paragraph(
                "Each answer was derived by matgrad entry by entry with the chain rule, every "
                "local derivative $\\partial a_{p,q}/\\partial x$ computed by a computer algebra "
                "system from the expanded entries of $A$, and then compared entry by entry with "
                "the matrix product computed separately. The result of that check is stated "
                "under each answer; matgrad writes no solution whose check failed."
                + (
                    " Where a problem states a concrete loss, $\\partial L/\\partial A$ is "
                    "the CAS's derivative of $L$, checked against its closed form, and $L$ is "
                    "also differentiated through the whole layer and compared with the answer."
                    if any(problem.loss != "generic" for problem in problems)
                    else ""
                )
            ),
            _notation(any(problem.bias for problem in problems)),
        ),
    )
    return Sheet(
        "Gradients of a linear layer: solutions",
        _subtitle(problems, seed),
        _command(problems, seed),
        (notes, *(_solution_part(solution) for solution in solutions)),
    )


# LaTeX.

_PREAMBLE = (
    PREAMBLE
    + r"""% A part starts a new page when it does not fit on what is left of the current one; a part
% longer than a page still breaks across pages.
\newenvironment{sheetpart}{\par\setbox0=\vbox\bgroup}{\par\egroup
  \ifdim\dimexpr\ht0+\dp0\relax>\dimexpr\pagegoal-\pagetotal\relax\newpage\fi
  \unvbox0\par}
"""
)


def _block(block: SheetBlock) -> str:
    if isinstance(block, Lead):
        return f"\\textbf{{{escape_text(block.label)}}} {escape_text(block.text)}"
    if isinstance(block, Paragraph):
        return escape_text(block.text)
    return display_latex(block)


def _part(part: Part) -> str:
    # A display follows its paragraph on the next line: a blank line before it would end the
    # paragraph and leave an empty line's height above the display.
    body = "".join(
        ("\n" if isinstance(block, Display) else "\n\n") + _block(block) for block in part.blocks
    ).lstrip("\n")
    title = f"\\subsection*{{{escape_text(part.title)}}}"
    return f"\\begin{{sheetpart}}\n{title}\n\n{body}\n\\end{{sheetpart}}"


def sheet_latex(sheet: Sheet) -> str:
    """A sheet as a standalone LaTeX document that compiles with pdflatex."""
    heading = (
        "\\begin{center}\n"
        f"{{\\LARGE {escape_text(sheet.title)}}}\\\\[0.6em]\n"
        f"{escape_text(sheet.subtitle)}\\\\[0.2em]\n"
        f"{{\\small\\texttt{{{escape_text(sheet.command)}}}}}\n"
        "\\end{center}"
    )
    parts = "\n\n".join(_part(part) for part in sheet.parts)
    return (
        f"{_PREAMBLE}\n% {sheet.title}. {sheet.subtitle}.\n% Generated by matgrad: "
        f"{sheet.command}\n\n\\begin{{document}}\n\n{heading}\n\n{parts}\n\n\\end{{document}}\n"
    )


def problem_sheet(problems: Sequence[Problem], seed: int) -> str:
    """The problem sheet as a standalone LaTeX document."""
    return sheet_latex(build_problem_sheet(problems, seed))


def solution_sheet(problems: Sequence[Problem], seed: int) -> str:
    """The solution sheet as a standalone LaTeX document, every answer verified.

    Raises UnverifiedSolutionError rather than print an answer whose check failed.
    """
    from ..core.exercise import solve_all

    return sheet_latex(build_solution_sheet(solve_all(problems), seed))
