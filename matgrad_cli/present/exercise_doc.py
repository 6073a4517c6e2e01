"""The problem sheet, and both sheets as LaTeX.

The problem sheet needs no derivation: it names the entries of Z, W and b, states the loss when
a problem has a concrete one, and says what to find without giving the answer away. The solution
sheet is exercise_solutions.py. Both are handouts on the one document model, printed by latex.py
like every document.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.exercise import Problem, solve_all
from ..core.losses import concrete_loss
from .document import Block, Display, Document, Lead, Paragraph
from .exercise_common import (
    ProblemSheet,
    SolutionSheet,
    entry_name,
    notation,
    part,
    sheet,
    slashed,
    times,
)
from .exercise_solutions import solution_document
from .latex import latex_text
from .layer_latex import forward_latex
from .mathtex import bmatrix

_WHAT = {"Z": "the input $Z$", "W": "the weights $W$", "b": "the bias $b$"}


def _sizes_sentence(problem: Problem) -> str:
    """The sizes and the shapes of every matrix of the layer."""
    m, k, n = problem.sizes.m, problem.sizes.k, problem.sizes.n
    bias = f", the bias $b$ is ${times(1, n)}$" if problem.bias else ""
    return (
        f"Sizes $m = {m}$, $k = {k}$, $n = {n}$: the input $Z$ is ${times(m, k)}$, "
        f"the weights $W$ are ${times(k, n)}${bias}, and the output "
        f"${forward_latex(problem.bias)}$ is ${times(m, n)}$."
    )


def _named_matrix(letter: str, rows: int, cols: int) -> str:
    """A matrix of named entries such as z_{i,r}, for the problem sheet."""
    return bmatrix(rows, cols, lambda i, j: f"{letter}_{{{i + 1},{j + 1}}}")


def _layer_display(problem: Problem) -> Display:
    """Z, W (and b) with their named entries, side by side."""
    m, k, n = problem.sizes.m, problem.sizes.k, problem.sizes.n
    parts = [f"Z = {_named_matrix('z', m, k)}", f"W = {_named_matrix('w', k, n)}"]
    if problem.bias:
        parts.append(f"b = {bmatrix(1, n, lambda i, j: f'b_{{{j + 1}}}')}")
    return Display((r",\qquad ".join(parts),))


def _loss_statement(problem: Problem) -> list[Block]:
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


def _entry_task(problem: Problem, index: tuple[int, int]) -> Lead:
    """The task of finding one entry, as a chain-rule sum."""
    concrete = problem.loss != "generic"
    name = entry_name(problem.target, index)
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
        f"Find ${slashed(name)}$. {first} the entries $a_{{p,q}}$ of $A$ that ${name}$ "
        f"appears in, work out each local derivative, and write the chain-rule sum "
        f"${chain_rule}$ over them{last}.",
    )


def _task(problem: Problem) -> Lead:
    """What the problem asks for, without giving the answer away."""
    if problem.entry is not None:
        return _entry_task(problem, problem.entry)
    symbol = problem.target
    upstream = (
        "Work out $\\partial L/\\partial A$ for this loss as a matrix. Then give its shape"
        if problem.loss != "generic"
        else "Give its shape"
    )
    return Lead(
        "Task.",
        f"Find ${slashed(symbol)}$, the gradient with respect to {_WHAT[symbol]}. {upstream}, "
        "write it as a matrix product of $\\partial L/\\partial A$ with $Z$, $W$ or a "
        "vector of ones (transposed where needed), and multiply the product out.",
    )


def problem_document(problems: ProblemSheet, full: bool = False) -> Document:
    """The problem sheet: notation, then each problem with its sizes, its layer and its task
    (``full`` is taken like every builder's; a sheet shows everything)."""
    del full
    chosen = problems.problems
    parts = [part("Notation", (notation(any(problem.bias for problem in chosen)),))]
    for problem in chosen:
        blocks = (
            Paragraph(_sizes_sentence(problem)),
            _layer_display(problem),
            *_loss_statement(problem),
            _task(problem),
        )
        parts.append(part(f"Problem {problem.number}", blocks))
    return sheet("Gradients of a linear layer: exercises", chosen, problems.seed, parts)


def problem_sheet(problems: Sequence[Problem], seed: int) -> str:
    """The problem sheet as a standalone LaTeX document."""
    return latex_text(problem_document(ProblemSheet(tuple(problems), seed)), standalone=True)


def solution_sheet(problems: Sequence[Problem], seed: int) -> str:
    """The solution sheet as a standalone LaTeX document, every answer verified.

    Raises UnverifiedSolutionError rather than print an answer whose check failed.
    """
    solutions = SolutionSheet(solve_all(problems), seed)
    return latex_text(solution_document(solutions), standalone=True)
