"""Exercise sheets with samples as columns (A = WX + b1ᵀ): the convention stated at the top of
both sheets, the problems in its names and shapes, every solution verified in it, and a wrong
columns formula never printed."""

from __future__ import annotations

import dataclasses
import functools
import itertools
from pathlib import Path
from typing import Any

import pytest

from matgrad_cli.cli.exercise import write_sheets
from matgrad_cli.core.derive import derive
from matgrad_cli.core.exercise import Problem, UnverifiedSolutionError, make_problems, solve_all
from matgrad_cli.core.layer import Samples, Sizes, Variable
from matgrad_cli.core.matrix import matrix_forms
from matgrad_cli.core.model import MatrixForm
from matgrad_cli.errors import ArgumentError
from matgrad_cli.present.exercise_doc import problem_sheet
from matgrad_cli.present.exercise_solutions import solution_sheet

from .conftest import run_cli
from .test_exercise import compile_with_pdflatex, files_in

COLUMNS: Samples = "columns"


def test_the_columns_sheet_draws_the_same_problems_in_the_other_convention() -> None:
    """A seed draws the same sizes, targets and entries in both conventions; only the input's
    name (Z or X) and every shape and entry index follow the convention."""
    for seed, bias in itertools.product(range(6), (False, True)):
        rows, columns = make_problems(seed, 8, bias), make_problems(seed, 8, bias, COLUMNS)
        for by_rows, by_columns in zip(rows, columns, strict=True):
            assert by_columns.sizes == dataclasses.replace(by_rows.sizes, samples=COLUMNS)
            assert by_columns.target == {"Z": "X"}.get(by_rows.target, by_rows.target)
            assert (by_columns.loss, by_columns.bias) == (by_rows.loss, by_rows.bias)
            if by_columns.entry is not None:
                rows_count, cols_count = by_columns.shape
                row, col = by_columns.entry
                assert 1 <= row <= rows_count
                assert 1 <= col <= cols_count


def test_the_shapes_asked_for_are_the_columns_shapes() -> None:
    for problem in make_problems(2, 12, True, COLUMNS):
        m, k, n = problem.sizes.m, problem.sizes.k, problem.sizes.n
        assert problem.shape == {"X": (k, m), "W": (n, k), "b": (n, 1)}[problem.target]


def test_both_sheets_state_the_convention_at_the_top() -> None:
    problems = make_problems(3, 6, True, COLUMNS)
    for sheet in (problem_sheet(problems, 3), solution_sheet(problems, 3)):
        heading = sheet.split(r"\begin{center}", 1)[1].split(r"\end{center}", 1)[0]
        assert "samples as columns (one sample per column of X)" in heading
        notes = sheet.split(r"\end{center}", 1)[1]
        assert "Samples are columns. In every problem $X$ is the $k \\times m$ input" in notes
        assert "$b$ is an $n \\times 1$ column vector added to every column" in notes
        assert r"$A = WX + b \mathbf{1}_m^\top$" in notes
        assert "z_{" not in sheet
        assert "$Z$" not in sheet
    assert "--samples columns" in solution_sheet(problems, 3)
    rows = make_problems(3, 6, True)
    assert "samples as columns" not in problem_sheet(rows, 3)
    assert "--samples" not in solution_sheet(rows, 3)


def test_every_columns_solution_is_verified_and_says_so() -> None:
    for seed, bias in itertools.product(range(3), (False, True)):
        problems = make_problems(seed, 8, bias, COLUMNS)
        solutions = solve_all(problems)
        assert all(solution.derivation.sizes.samples == COLUMNS for solution in solutions)
        assert all(check.holds for solution in solutions for check in solution.checks)
        text = solution_sheet(problems, seed)
        assert text.count("\\checkmark$ Verified by matgrad:") == len(problems)
        assert "NOT" not in text


@pytest.mark.parametrize(
    ("target", "formula"),
    [
        ("X", r"W^\top (\partial L/\partial A)"),
        ("W", r"(\partial L/\partial A)\, X^\top"),
        ("b", r"(\partial L/\partial A)\, \mathbf{1}_m"),
    ],
)
def test_a_matrix_answer_is_the_columns_rule(target: Variable, formula: str) -> None:
    problem = Problem(1, Sizes(3, 2, 4, COLUMNS), True, target, None)
    sheet = solution_sheet([problem], 0)
    assert f"and equals ${formula}$:" in sheet
    claim = rf"$\partial L/\partial {target} = {formula}$"
    assert f"{claim} holds at all" in sheet


def test_an_entry_answer_sums_over_the_column_of_its_sample() -> None:
    """∂L/∂x_{2,3} at (m, k, n) = (3, 2, 2): x_{2,3} feeds a_{1,3} and a_{2,3}, column 3 of A, with
    local derivatives w_{1,2} and w_{2,2}, and is entry (2, 3) of Wᵀ·∂L/∂A."""
    problem = Problem(1, Sizes(3, 2, 2, COLUMNS), False, "X", (2, 3))
    sheet = solution_sheet([problem], 0)
    assert "$x_{2,3}$ appears in $a_{1,3}$ and $a_{2,3}$:" in sheet
    assert r"\frac{\partial a_{1,3}}{\partial x_{2,3}} = w_{1,2}" in sheet
    assert r"\frac{\partial a_{2,3}}{\partial x_{2,3}} = w_{2,2}" in sheet
    assert r"\left(W^\top \frac{\partial L}{\partial A}\right)_{2,3}" in sheet


def test_a_wrong_columns_formula_is_caught_and_never_printed() -> None:
    """∂L/∂W claimed as G·Xᵀ with the entries of each row reversed: W's shape, wrong entries."""

    def reversed_rows(*args: Any) -> dict[Variable, MatrixForm]:
        forms = matrix_forms(*args)
        form = forms["W"]
        rows = tuple(tuple(reversed(row)) for row in form.entries)
        forms["W"] = dataclasses.replace(form, entries=rows)
        return forms

    wrong = functools.partial(derive, forms=reversed_rows)
    problem = Problem(1, Sizes(2, 3, 2, COLUMNS), False, "W", (2, 1))
    with pytest.raises(UnverifiedSolutionError, match="∂L/∂W = ∂L/∂A · Xᵀ"):
        solve_all([problem], derive=wrong)


def test_a_rows_derivation_does_not_answer_a_columns_problem() -> None:
    """A derive that ignores the convention gives a layer of other sizes: refused, not printed."""

    def rows_only(m: int, k: int, n: int, **options: Any) -> Any:
        options.pop("samples")
        return derive(m, k, n, **options)

    problem = Problem(1, Sizes(2, 3, 4, COLUMNS), False, "X", None)
    with pytest.raises(UnverifiedSolutionError, match="was not derived"):
        solve_all([problem], derive=rows_only)


def test_the_columns_sheets_compile(tmp_path: Path) -> None:
    problems = make_problems(3, 6, True, COLUMNS)
    compile_with_pdflatex(problem_sheet(problems, 3), tmp_path, "problems")
    compile_with_pdflatex(solution_sheet(problems, 3), tmp_path, "solutions")


def test_an_unknown_convention_is_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(ArgumentError, match="samples must be 'rows' or 'columns'"):
        make_problems(1, 2, False, "diagonal")
    with pytest.raises(ArgumentError, match="samples must be 'rows' or 'columns'"):
        write_sheets(tmp_path / "sheet", 1, samples="diagonal")
    assert files_in(tmp_path) == []


def test_the_command_line_takes_samples_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stem = tmp_path / "week3"
    code, _, err = run_cli(
        ["exercise", "--seed", "4", "--count", "2", "--samples", "columns", "-o", str(stem)], capsys
    )
    assert code == 0, err
    written = (tmp_path / "week3-solutions.tex").read_text(encoding="utf-8")
    assert "matgrad exercise -{}-seed 4 -{}-count 2 -{}-samples columns" in written
    code, out, err = run_cli(
        ["exercise", "--seed", "4", "--samples", "diagonal", "-o", str(tmp_path / "other")], capsys
    )
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("matgrad: error:")
    assert files_in(tmp_path) == ["week3-problems.tex", "week3-solutions.tex"]
