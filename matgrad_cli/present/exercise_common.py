"""What the problem sheet and the solution sheet share: the kinds the door prints, and notation.

A sheet is a handout on the one document model: a Document with a Heading (the seed, the count
and the command that makes it again), whose sections are kept on one page when they fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..core.exercise import Problem, Solution
from .document import Block, Document, Heading, Paragraph, Section
from .layer_latex import forward_latex


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


def part(title: str, blocks: Sequence[Block]) -> Section:
    """A part of a sheet, the notes or one problem: kept on one page when it fits."""
    return Section(title, tuple(blocks), kept_together=True)


def sheet(title: str, problems: Sequence[Problem], seed: int, parts: Sequence[Section]) -> Document:
    """A sheet: a handout under its heading, the seed, the count and the layers, and the command
    that makes the sheets again."""
    count = len(problems)
    bias = any(problem.bias for problem in problems)
    heading = Heading(
        f"Seed {seed}, {count} problem{'s' if count != 1 else ''}, layers "
        + ("with a bias" if bias else "without bias"),
        f"matgrad exercise --seed {seed} --count {count}" + (" --bias" if bias else ""),
    )
    return Document(title, tuple(parts), heading=heading)


def notation(problems: Sequence[Problem]) -> Paragraph:
    """The conventions every problem uses."""
    bias = any(problem.bias for problem in problems)
    layer = (
        f", and $b$ is a $1 \\times n$ row vector added to every row: ${forward_latex(True)}$, "
        "with $\\mathbf{1}_m$ the column of $m$ ones"
        if bias
        else f", and the layer is ${forward_latex(False)}$"
    )
    return Paragraph(
        "In every problem $Z$ is the $m \\times k$ input and $W$ the $k \\times n$ weights"
        f"{layer}. $L$ is a scalar loss computed from $A$; the entries of the upstream "
        "gradient $\\partial L/\\partial A$ are $\\partial L/\\partial a_{i,j}$, written "
        "as fractions in displays. Gradients are in denominator layout: "
        "$\\partial L/\\partial X$ has the shape of $X$. Indices are 1-based, with a comma: "
        "$z_{i,r}$ is row $i$, column $r$ of $Z$."
    )
