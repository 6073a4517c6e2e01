"""The layout of a network's solution sheet: each answer restates its problem's numbers, so that
it can be checked on its own, and the first answer starts on the first page under the notes
(no page left mostly empty before a long answer)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from matgrad_cli.core.network_exercise import (
    SheetNetwork,
    make_network_problems,
    sheet_network,
    solve_network_problems,
)
from matgrad_cli.present import render
from matgrad_cli.present.latex import latex_text
from matgrad_cli.present.network_exercise_doc import NetworkSolutionSheet, solution_document

from .conftest import run_pdflatex

#: The networks of ``matgrad exercise --hidden 3 --activation relu``, with and without
#: ``--output-activation sigmoid``.
NETWORKS = {
    "relu": ((3,), "relu", "identity", None, False),
    "relu, sigmoid output": ((3,), "relu", "sigmoid", None, False),
    "relu with bias": ((3,), "relu", "identity", None, True),
}


def _sheet(key: str, seed: int = 1, count: int = 5) -> NetworkSolutionSheet:
    network: SheetNetwork = sheet_network(*NETWORKS[key])
    problems = make_network_problems(seed, count, network)
    return NetworkSolutionSheet(tuple(solve_network_problems(problems)), seed)


def _bmatrix(rows: Sequence[Sequence[int]]) -> str:
    """A matrix of integers as the sheets set it, written here on its own."""
    body = r" \\ ".join(" & ".join(str(value) for value in row) for row in rows)
    return f"\\begin{{bmatrix}} {body} \\end{{bmatrix}}"


@pytest.mark.parametrize("key", sorted(NETWORKS))
def test_every_answer_restates_its_problems_numbers_before_working(key: str) -> None:
    sheet = _sheet(key)
    latex = render(sheet, "latex", standalone=True)
    answers = latex.split("\\subsection*{Problem ")[1:]
    assert len(answers) == len(sheet.solutions)
    for answer, solution in zip(answers, sheet.solutions, strict=True):
        problem = solution.problem
        data = answer.split("The forward pass")[0]
        assert f"X &= {_bmatrix(problem.inputs)}" in data
        for layer, weights in enumerate(problem.weights, start=1):
            assert f"W_{{{layer}}} &= {_bmatrix(weights)}" in data
        for layer, bias in enumerate(problem.biases if problem.network.bias else (), start=1):
            assert f"b_{{{layer}}} = {_bmatrix([bias])}" in data
        assert f"&= {_bmatrix(problem.upstream)}" in data
    # A wrong number is not there: the restated data are the problem's own.
    first = sheet.solutions[0].problem
    wrong = [[value + 1 for value in row] for row in first.inputs]
    assert f"X &= {_bmatrix(wrong)}" not in answers[0]


def _first_page(latex: str, folder: Path) -> str:
    folder.mkdir(exist_ok=True)
    result = run_pdflatex(latex, folder, "sheet")
    assert result.returncode == 0, result.stdout[-2000:]
    text = subprocess.run(
        ["pdftotext", "-layout", "-f", "1", "-l", "1", str(folder / "sheet.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return text


@pytest.mark.parametrize("key", ["relu", "relu, sigmoid output"])
def test_the_first_answer_starts_on_the_first_page(key: str, tmp_path: Path) -> None:
    document = solution_document(_sheet(key))
    page = _first_page(latex_text(document, standalone=True), tmp_path)
    assert "About these solutions" in page
    assert "Problem 1" in page
    assert "The forward pass" in page
    # The same measure finds the gap when each answer is kept whole on a page of its own.
    kept = replace(
        document,
        sections=tuple(replace(section, kept_together=True) for section in document.sections),
    )
    assert "Problem 1" not in _first_page(latex_text(kept, standalone=True), tmp_path / "kept")
