"""The problem sheet, and what it shares with the solution sheet (exercise_solutions.py).

A sheet is a handout on the one document model: a Document with a Heading (the seed, the count
and the command that makes it again), whose sections are kept on one page when they fit. The
problem sheet needs no derivation: it names the entries of Z, W and b, states the loss when a
problem has a concrete one, and says what to find without giving the answer away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..core.exercise import Problem, Solution
from ..core.layer import LAYERS, Layer
from ..core.losses import concrete_loss
from . import layer_latex as layer
from .document import Block, Display, Document, Heading, Lead, Paragraph, Section
from .latex import latex_text
from .mathtex import shape_latex, slashed


@dataclass(frozen=True)
class ProblemSheet:
    """The problems of a sheet and the seed that drew them: the problem sheet's result."""

    problems: tuple[Problem, ...]
    seed: int


@dataclass(frozen=True)
class SolutionSheet:
    """The verified solutions of a sheet's problems and the seed: the solution sheet's result."""

    solutions: tuple[Solution, ...]
    seed: int


def sheet_layer(problems: Sequence[Problem]) -> Layer:
    """The layer of a sheet's problems: every problem of a sheet is in the same convention."""
    conventions = {problem.sizes.samples for problem in problems}
    if len(conventions) > 1:
        raise ValueError("the problems of one sheet are in one convention")
    return LAYERS[conventions.pop()] if conventions else LAYERS["rows"]


def part(title: str, blocks: Sequence[Block]) -> Section:
    """A part of a sheet, the notes or one problem: kept on one page when it fits."""
    return Section(title, tuple(blocks), kept_together=True)


def sheet(
    title: str,
    problems: Sequence[Problem],
    seed: int,
    parts: Sequence[Section],
    for_instructor: bool = False,
) -> Document:
    """A sheet: a handout under its heading, the count and the layers; ``for_instructor`` (the
    solution sheet) adds the seed and the command that makes the sheets again, which a problem
    sheet must not show, as they would give its solutions away."""
    count = len(problems)
    bias = any(problem.bias for problem in problems)
    columns = sheet_layer(problems).samples == "columns"
    layers = f"{count} problem{'s' if count != 1 else ''}, layers " + (
        "with a bias" if bias else "without bias"
    )
    # The convention is stated at the top of both sheets when it is not the default.
    layers += ", samples as columns (one sample per column of X)" if columns else ""
    if not for_instructor:
        return Document(title, tuple(parts), heading=Heading(layers, ""))
    command = f"matgrad exercise --seed {seed} --count {count}" + (" --bias" if bias else "")
    command += " --samples columns" if columns else ""
    return Document(title, tuple(parts), heading=Heading(f"Seed {seed}, {layers}", command))


def notation(problems: Sequence[Problem]) -> Paragraph:
    """The conventions every problem uses."""
    bias = any(problem.bias for problem in problems)
    if sheet_layer(problems).samples == "columns":
        return _columns_notation(bias)
    forward = layer.forward_latex(bias)
    shape = (
        f", and $b$ is a $1 \\times n$ row vector added to every row: ${forward}$, "
        "with $\\mathbf{1}_m$ the column of $m$ ones"
        if bias
        else f", and the layer is ${forward}$"
    )
    return Paragraph(
        "In every problem $Z$ is the $m \\times k$ input and $W$ the $k \\times n$ weights"
        f"{shape}. $L$ is a scalar loss computed from $A$; the entries of the upstream "
        "gradient $\\partial L/\\partial A$ are $\\partial L/\\partial a_{i,j}$, written "
        "as fractions in displays. Gradients are in denominator layout: "
        "$\\partial L/\\partial X$ has the shape of $X$. Indices are 1-based, with a comma: "
        "$z_{i,r}$ is row $i$, column $r$ of $Z$."
    )


def _columns_notation(bias: bool) -> Paragraph:
    """The conventions of a sheet whose samples are the columns of X."""
    forward = layer.forward_latex(bias, LAYERS["columns"])
    shape = (
        f", and $b$ is an $n \\times 1$ column vector added to every column: ${forward}$, "
        "with $\\mathbf{1}_m$ the column of $m$ ones"
        if bias
        else f", and the layer is ${forward}$"
    )
    return Paragraph(
        "Samples are columns. In every problem $X$ is the $k \\times m$ input, one sample per "
        f"column, and $W$ the $n \\times k$ weights{shape}. $L$ is a scalar loss computed from "
        "$A$; the entries of the upstream gradient $\\partial L/\\partial A$ are "
        "$\\partial L/\\partial a_{j,i}$, written as fractions in displays. Gradients are in "
        "denominator layout: $\\partial L/\\partial X$ has the shape of $X$. Indices are "
        "1-based, with a comma: $x_{r,i}$ is row $r$, column $i$ of $X$."
    )


def _sizes_sentence(problem: Problem) -> str:
    """The sizes and the shapes of every matrix of the layer."""
    sizes = problem.sizes
    source = sizes.layer
    inputs = source.role("input").name
    bias = f", the bias $b$ is ${shape_latex(*sizes.shape_of('b'))}$" if problem.bias else ""
    return (
        f"Sizes $m = {sizes.m}$, $k = {sizes.k}$, $n = {sizes.n}$: the input ${inputs}$ is "
        f"${shape_latex(*sizes.shape_of(inputs))}$, the weights $W$ are "
        f"${shape_latex(*sizes.shape_of('W'))}${bias}, and the output "
        f"${layer.forward_latex(problem.bias, source)}$ is ${shape_latex(*sizes.shape_of('A'))}$."
    )


def _loss_statement(problem: Problem) -> list[Block]:
    """The concrete loss of a problem, written out, with what its targets are; nothing for the
    generic loss."""
    if problem.loss == "generic":
        return []
    samples = problem.sizes.samples
    loss = concrete_loss(problem.loss, samples)
    inputs = problem.sizes.layer.role("input").name
    parameters = f"${inputs}$, $W$ or $b$" if problem.bias else f"${inputs}$ or $W$"
    targets = loss.sheet_targets.format(parameters=parameters)
    return [Paragraph(f"The loss is {loss.sheet_words}{targets}:"), Display((loss.latex,))]


def _task(problem: Problem) -> Lead:
    """What the problem asks for, without giving the answer away: one entry as a chain-rule sum,
    or the whole gradient as a matrix product."""
    concrete = problem.loss != "generic"
    source = problem.sizes.layer
    if problem.entry is not None:
        name = layer.entry_name(problem.target, problem.entry, source)
        chain_rule = (
            rf"\sum_{{p,q}} (\partial L/\partial a_{{p,q}})(\partial a_{{p,q}}/\partial {name})"
        )
        first = "Work out $\\partial L/\\partial a_{p,q}$ for this loss first. Then name"
        last = ", leaving each $a_{p,q}$ as it is" if concrete else ""
        return Lead(
            "Task.",
            f"Find ${slashed(name)}$. {first if concrete else 'Name'} the entries $a_{{p,q}}$ of "
            f"$A$ that ${name}$ appears in, work out each local derivative, and write the "
            f"chain-rule sum ${chain_rule}$ over them{last}.",
        )
    symbol = problem.target
    upstream = (
        "Work out $\\partial L/\\partial A$ for this loss as a matrix. Then give its shape"
        if concrete
        else "Give its shape"
    )
    return Lead(
        "Task.",
        f"Find ${slashed(symbol)}$, the gradient with respect to the "
        f"{source.matrix(symbol).role} ${symbol}$. {upstream}, write it as a matrix product of "
        f"$\\partial L/\\partial A$ with ${source.role('input').name}$, $W$ or a vector of ones "
        "(transposed where needed), and multiply the product out.",
    )


def problem_document(problems: ProblemSheet, full: bool = False) -> Document:
    """The problem sheet: notation, then each problem with its sizes, its layer and its task
    (``full`` is taken like every builder's; a sheet shows everything)."""
    del full
    chosen = problems.problems
    parts = [part("Notation", (notation(chosen),))]
    for problem in chosen:
        matrices = [
            f"{name} = {layer.named_matrix(name, problem.sizes)}"
            for name in problem.sizes.layer.variables(problem.bias)
        ]
        blocks = (
            Paragraph(_sizes_sentence(problem)),
            Display((r",\qquad ".join(matrices),)),
            *_loss_statement(problem),
            _task(problem),
        )
        parts.append(part(f"Problem {problem.number}", blocks))
    return sheet("Gradients of a linear layer: exercises", chosen, problems.seed, parts)


def problem_sheet(problems: Sequence[Problem], seed: int) -> str:
    """The problem sheet as a standalone LaTeX document."""
    return latex_text(problem_document(ProblemSheet(tuple(problems), seed)), standalone=True)
