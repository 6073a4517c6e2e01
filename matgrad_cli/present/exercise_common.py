"""What the problem sheet and the solution sheet share: the kinds the door prints, and notation.

A sheet is a handout on the one document model: a Document with a Heading (the seed, the count
and the command that makes it again), whose sections are kept on one page when they fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..core.exercise import Problem, Solution
from ..core.layer import LAYER, Index, Variable
from .document import Block, Document, Heading, Paragraph, Section
from .layer_latex import UPSTREAM_INLINE, rule_latex


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


_LETTERS: dict[Variable, str] = {"Z": "z", "W": "w", "b": "b"}

#: The matrix forms in running text, ∂L/∂A slashed and set off by a thin space on its right.
INLINE_PRODUCTS: dict[Variable, str] = {
    name: rule_latex(name, UPSTREAM_INLINE, after_upstream=r"\, ")
    for name in LAYER.variables(bias=True)
}


def times(rows: int, cols: int) -> str:
    """rows × cols."""
    return rf"{rows} \times {cols}"


def entry_name(variable: Variable, index: Index) -> str:
    """z_{i,r}, w_{r,j} or b_j."""
    if variable == "b":
        return f"b_{{{index[1]}}}"
    return f"{_LETTERS[variable]}_{{{index[0]},{index[1]}}}"


def slashed(name: str) -> str:
    """∂L/∂x written with a slash, for running text."""
    return rf"\partial L/\partial {name}"


def and_list(items: Sequence[str]) -> str:
    """x, y and z."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def at_entries(count: int) -> str:
    """Where a check held: at its one entry, at both entries, at all n entries."""
    if count == 1:
        return "at its one entry"
    if count == 2:
        return "at both entries"
    return f"at all {count} entries"


def _heading(problems: Sequence[Problem], seed: int) -> Heading:
    """The seed, the count and the layers, and the command that makes the sheets again."""
    count = len(problems)
    with_bias = any(problem.bias for problem in problems)
    layers = "with a bias" if with_bias else "without bias"
    bias = " --bias" if with_bias else ""
    return Heading(
        f"Seed {seed}, {count} problem{'s' if count != 1 else ''}, layers {layers}",
        f"matgrad exercise --seed {seed} --count {count}{bias}",
    )


def part(title: str, blocks: Sequence[Block]) -> Section:
    """A part of a sheet, the notes or one problem: kept on one page when it fits."""
    return Section(title, tuple(blocks), kept_together=True)


def sheet(title: str, problems: Sequence[Problem], seed: int, parts: Sequence[Section]) -> Document:
    """A sheet: a handout under its heading."""
    return Document(title, tuple(parts), heading=_heading(problems, seed))


def notation(bias: bool) -> Paragraph:
    """The conventions every problem uses."""
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
