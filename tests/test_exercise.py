"""Exercise sheets: the problems drawn, the verified solutions, the files, the bad inputs."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import itertools
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matgrad_cli.cli.exercise import sheet_paths, write_sheets
from matgrad_cli.core.derive import derive
from matgrad_cli.core.exercise import (
    CONCRETE_LOSSES,
    MAX_COUNT,
    SIZES,
    Problem,
    UnverifiedSolutionError,
    make_problems,
    parse_count,
    parse_seed,
    solve_all,
)
from matgrad_cli.core.layer import Sizes, Variable
from matgrad_cli.core.losses import SoftmaxCrossEntropy, derive_loss, validate_loss
from matgrad_cli.core.matrix import matrix_forms
from matgrad_cli.core.model import Derivation, MatrixForm
from matgrad_cli.errors import InputError, OutputError
from matgrad_cli.present import formats, render
from matgrad_cli.present.exercise_doc import ProblemSheet, SolutionSheet, problem_sheet
from matgrad_cli.present.exercise_solutions import solution_sheet
from matgrad_cli.present.pdf import LatexFailedError, TexMissingError

from .conftest import require_pdflatex, run_pdflatex
from .conftest import run_cli as run

UPSTREAM = r"\frac{\partial L}{\partial a_{%d,%d}}"


def compile_with_pdflatex(latex: str, folder: Path, name: str) -> str:
    """Compile ``latex`` in ``folder`` as pdflatex would for a user; the log."""
    result = run_pdflatex(latex, folder, name)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (folder / f"{name}.pdf").stat().st_size > 5_000
    return (folder / f"{name}.log").read_text(encoding="latin-1")


def files_in(folder: Path) -> list[str]:
    """Every name in ``folder``, hidden temporaries included."""
    return sorted(path.name for path in folder.iterdir())


# The problems.


def test_the_same_seed_gives_the_same_problems_and_byte_identical_sheets() -> None:
    first = make_problems(7, 5, bias=True)
    assert first == make_problems(7, 5, bias=True)
    assert problem_sheet(first, 7) == problem_sheet(make_problems(7, 5, bias=True), 7)
    assert solution_sheet(first, 7) == solution_sheet(make_problems(7, 5, bias=True), 7)


def test_different_seeds_give_different_sheets() -> None:
    sheets = {problem_sheet(make_problems(seed, 5), seed) for seed in range(6)}
    assert len(sheets) == 6
    drawn = {make_problems(seed, 5) for seed in range(6)}
    assert len(drawn) == 6  # the problems differ, not only the seed in the heading


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    count=st.integers(min_value=1, max_value=MAX_COUNT),
    bias=st.booleans(),
)
def test_problems_are_small_mixed_and_well_formed(seed: int, count: int, bias: bool) -> None:
    problems = make_problems(seed, count, bias)
    assert [problem.number for problem in problems] == list(range(1, count + 1))
    for problem in problems:
        m, k, n = problem.sizes.m, problem.sizes.k, problem.sizes.n
        assert {m, k, n} <= set(SIZES)
        assert not m == k == n  # some matrix is not square
        assert problem.bias == bias
        assert problem.target in (("Z", "W", "b") if bias else ("Z", "W"))
        summed = n if problem.target == "Z" else m
        assert summed >= 2  # every chain-rule sum has at least two terms
        if problem.entry is not None:
            rows, cols = problem.shape
            assert 1 <= problem.entry[0] <= rows
            assert 1 <= problem.entry[1] <= cols
            if rows > 1 and cols > 1:
                assert problem.entry[0] != problem.entry[1]  # off the diagonal
        assert problem.loss in ("generic", *CONCRETE_LOSSES)
        validate_loss(problem.loss, problem.sizes)  # within the limits of derive_loss
        if problem.loss == "softmax-cross-entropy":
            assert n in (2, 3)  # a softmax row of 2 or 3: short, and not constant
    # About a third of the problems state a concrete loss, drawn after everything else.
    assert sum(problem.loss != "generic" for problem in problems) == round(count / 3)
    generic = [dataclasses.replace(problem, loss="generic") for problem in problems]
    assert [(p.sizes, p.target, p.entry) for p in generic] == [
        (p.sizes, p.target, p.entry) for p in make_problems(seed, count, bias)
    ]
    targets = [problem.target for problem in problems]
    kinds = [problem.entry is None for problem in problems]
    if count >= 3:
        assert set(targets) == ({"Z", "W", "b"} if bias else {"Z", "W"})
    if count >= 2:
        assert set(kinds) == {True, False}  # single entries and whole matrix forms


def test_every_concrete_loss_comes_up_on_a_long_sheet() -> None:
    losses = [problem.loss for problem in make_problems(7, 30, bias=True)]
    assert losses.count("generic") == 20
    assert set(losses) == {"generic", *CONCRETE_LOSSES}


def test_a_concrete_loss_is_stated_on_the_problem_sheet_without_its_gradient() -> None:
    problems = [
        Problem(1, Sizes(2, 3, 2), False, "W", (2, 1), "squared-error"),
        Problem(2, Sizes(2, 3, 3), True, "Z", None, "softmax-cross-entropy"),
        Problem(3, Sizes(3, 2, 2), True, "b", None, "sum"),
    ]
    text = problem_sheet(problems, 0)
    assert "The loss is the squared error, with targets $y_{i,j}$" in text
    assert "whose rows sum to 1" in text
    assert "The loss is the sum of the entries of $A$:" in text
    assert text.count("for this loss") == 3
    assert "A - Y" not in text
    assert "\\sigma" not in text  # the closed form of the softmax gradient is the answer


def test_bias_problems_ask_for_the_bias_gradient() -> None:
    assert any(problem.target == "b" for problem in make_problems(1, 6, bias=True))
    assert all(problem.target != "b" for problem in make_problems(1, 50, bias=False))


# The sheets.


def test_the_problem_sheet_states_sizes_matrices_and_task_but_no_answer() -> None:
    problems = make_problems(3, 4, bias=True)
    text = problem_sheet(problems, 3)
    assert text.count("\\subsection*{Problem ") == 4
    assert text.count("\\textbf{Task.}") == 4
    for problem in problems:
        sizes = problem.sizes
        assert f"Sizes $m = {sizes.m}$, $k = {sizes.k}$, $n = {sizes.n}$" in text
    assert text.count("Z = \\begin{bmatrix}") == 4
    assert text.count("b = \\begin{bmatrix}") == 4
    # Neither the seed nor the command that would make the solution sheet again.
    assert "4 problems, layers with a bias" in text
    assert "matgrad exercise" not in text
    assert "seed" not in text.lower()
    solutions = solution_sheet(problems, 3)
    assert "matgrad exercise -{}-seed 3 -{}-count 4 -{}-bias" in solutions
    assert "Seed 3, 4 problems, layers with a bias" in solutions
    assert "Verified" not in text
    assert "\\checkmark" not in text


def test_a_single_entry_of_dW_is_answered_as_its_chain_rule_sum() -> None:
    problem = Problem(1, Sizes(2, 3, 2), False, "W", (2, 1))
    text = solution_sheet([problem], 0)
    # ∂L/∂w_{2,1} = Σ_i z_{i,2} ∂L/∂a_{i,1} = (Zᵀ ∂L/∂A)_{2,1}
    expected = f"z_{{1,2}} {UPSTREAM % (1, 1)} + z_{{2,2}} {UPSTREAM % (2, 1)}"
    assert expected in text
    assert "$w_{2,1}$ appears in $a_{1,1}$ and $a_{2,1}$" in text
    assert r"\frac{\partial a_{1,1}}{\partial w_{2,1}} = z_{1,2}" in text
    assert r"\left(Z^\top \frac{\partial L}{\partial A}\right)_{2,1}" in text
    # Not the transposed index of the original notes (SPEC section 5).
    assert f"z_{{1,1}} {UPSTREAM % (1, 2)}" not in text


def test_a_single_entry_of_dZ_sums_over_the_columns_of_its_row() -> None:
    problem = Problem(1, Sizes(2, 2, 3), False, "Z", (1, 2))
    text = solution_sheet([problem], 0)
    expected = " + ".join(f"{UPSTREAM % (1, j)} w_{{2,{j}}}" for j in (1, 2, 3))
    assert expected in text
    assert r"\left(\frac{\partial L}{\partial A} W^\top\right)_{1,2}" in text


def test_the_matrix_form_of_db_is_the_column_sums() -> None:
    problem = Problem(1, Sizes(3, 2, 2), True, "b", None)
    text = solution_sheet([problem], 0)
    assert "\\begin{bmatrix}\n1 & 1 & 1\n\\end{bmatrix}" in text  # 1_3ᵀ
    for j in (1, 2):
        assert " + ".join(UPSTREAM % (i, j) for i in (1, 2, 3)) in text
    assert "$\\partial L/\\partial b$ has the shape of $b$, $1 \\times 2$" in text


def test_a_squared_error_entry_is_answered_with_a_minus_y() -> None:
    problem = Problem(1, Sizes(2, 3, 2), False, "W", (2, 1), "squared-error")
    text = solution_sheet([problem], 0)
    # ∂L/∂A = A − Y, entry by entry, from the derivation's closed form.
    assert "\\frac{\\partial L}{\\partial A} &= A - Y = \\begin{bmatrix}" in text
    assert "a_{1,1} - y_{1,1} & a_{1,2} - y_{1,2}" in text
    # The generic chain rule, then with the loss: ∂L/∂w_{2,1} = Σ_i z_{i,2} (a_{i,1} − y_{i,1}).
    assert f"z_{{1,2}} {UPSTREAM % (1, 1)} + z_{{2,2}} {UPSTREAM % (2, 1)}" in text
    expected = r"z_{1,2} \left(a_{1,1} - y_{1,1}\right) + z_{2,2} \left(a_{2,1} - y_{2,1}\right)"
    assert f"&= {expected}\n\\end{{align*}}" in text  # the chain rule's last line
    assert "equals the derivative of $L$ by each $a_{i,j}$ at all 4 entries" in text
    assert (
        "differentiating $L$ by the chain rule through $A$ with respect to each entry of $W$"
        in text
    )


def test_a_softmax_matrix_form_is_answered_with_sigma_minus_y() -> None:
    problem = Problem(1, Sizes(2, 2, 3), True, "Z", None, "softmax-cross-entropy")
    (solution,) = solve_all([problem])
    assert solution.derivation.loss is not None
    assert solution.derivation.loss.closed_form_holds
    assert [check.formula for check in solution.checks] == [
        "∂L/∂A · Wᵀ",
        "∂L/∂Z without the bias",
        "∂L/∂A · Wᵀ, L = softmax-cross-entropy",
    ]
    text = solution_sheet([problem], 0)
    shorthand = SoftmaxCrossEntropy.shorthand_latex
    assert shorthand is not None
    assert shorthand in text
    assert "\\sigma_{1,1} - y_{1,1} & \\sigma_{1,2} - y_{1,2} & \\sigma_{1,3} - y_{1,3}" in text
    assert "(the rows of $Y$ summing to 1)" in text
    assert "at all 6 entries for rows of $Y$ that sum to 1" in text
    assert (
        "\\frac{\\partial L}{\\partial Z} = \\left(\\operatorname{softmax}(A) - Y\\right) W^\\top"
        in text
    )


def test_the_sum_loss_makes_db_a_count_of_rows() -> None:
    problem = Problem(1, Sizes(3, 2, 2), True, "b", (1, 2), "sum")
    text = solution_sheet([problem], 0)
    # ∂L/∂A = 1 everywhere, so ∂L/∂b_2 = 1 + 1 + 1, one for each row of A: the chain rule's
    # last line, after the generic sum ∂L/∂a_{1,2} + ∂L/∂a_{2,2} + ∂L/∂a_{3,2}.
    assert " + ".join(UPSTREAM % (i, 2) for i in (1, 2, 3)) in text
    assert "&= 1 + 1 + 1 \\\\\n" in text
    assert "&= 3\n\\end{align*}" in text  # added up by SymPy: m = 3


def test_the_sum_loss_multiplies_the_matrix_form_out() -> None:
    problem = Problem(1, Sizes(3, 2, 3), True, "W", None, "sum")
    text = solution_sheet([problem], 0)
    # ∂L/∂W = Zᵀ·1_m 1_nᵀ: every entry of row r is the column sum z_{1,r} + z_{2,r} + z_{3,r}.
    assert " & ".join(["z_{1,1} + z_{2,1} + z_{3,1}"] * 3) + " \\\\\n" in text
    assert " & ".join(["z_{1,2} + z_{2,2} + z_{3,2}"] * 3) + "\n\\end{bmatrix}" in text
    # Four columns of such sums would not fit the page: the product is left as it is.
    wide = solution_sheet([dataclasses.replace(problem, sizes=Sizes(3, 2, 4))], 0)
    assert "z_{1,1} + z_{2,1} + z_{3,1} &" not in wide


def test_a_one_column_softmax_shows_its_closed_form_as_it_is() -> None:
    # softmax of a single entry is 1: there is no σ to name, and each row reads 1 − y_{i,1}.
    losses_module = importlib.import_module("matgrad_cli.core.losses")
    derivation = losses_module.derive_loss("softmax-cross-entropy", Sizes(3, 2, 1), False)
    shown = losses_module.closed_form_shown(derivation)
    assert [str(shown[i, 0]) for i in range(3)] == [f"1 - y_{i}_1" for i in (1, 2, 3)]


def _with_wrong_closed_form(derivation: Derivation) -> Derivation:
    assert derivation.loss is not None
    loss = dataclasses.replace(derivation.loss, closed_form_holds=False)
    return dataclasses.replace(derivation, loss=loss)


def test_a_loss_whose_closed_form_fails_is_never_printed() -> None:
    def wrong(*args: Any, **kwargs: Any) -> Derivation:
        return _with_wrong_closed_form(derive(*args, **kwargs))

    problem = Problem(1, Sizes(2, 3, 2), False, "W", (2, 1), "squared-error")
    with pytest.raises(UnverifiedSolutionError, match="the closed form of ∂L/∂A"):
        solve_all([problem], derive=wrong)


def test_a_wrong_form_under_a_concrete_loss_is_never_printed() -> None:
    def rows_reversed(m: int, k: int, n: int, *, bias: bool, loss: str, samples: str) -> Derivation:
        # ∂L/∂W claimed as Zᵀ·∂L/∂A with its rows in reverse order: W's shape, wrong entries.
        derivation = derive(m, k, n, bias=bias)
        forms: dict[Variable, Any] = {"W": lambda g, z, w: (z.T * g)[::-1, :]}
        wrong = derive_loss(loss, derivation.sizes, bias, forms=forms)
        return dataclasses.replace(derivation, loss=wrong)

    problem = Problem(1, Sizes(2, 3, 2), False, "W", None, "squared-error")
    with pytest.raises(UnverifiedSolutionError, match="L = squared-error"):
        solve_all([problem], derive=rows_reversed)


def test_every_solution_is_verified_and_says_so() -> None:
    for seed, bias in itertools.product(range(4), (False, True)):
        problems = make_problems(seed, 8, bias)
        solutions = solve_all(problems)
        assert all(check.holds for solution in solutions for check in solution.checks)
        assert all(solution.derivation.verified for solution in solutions)
        text = solution_sheet(problems, seed)
        assert text.count("\\checkmark$ Verified by matgrad:") == len(problems)
        assert "NOT" not in text


def test_with_the_bias_dZ_and_dW_solutions_also_state_the_unchanged_check() -> None:
    problem = Problem(1, Sizes(2, 3, 2), True, "Z", None)
    (solution,) = solve_all([problem])
    assert [check.formula for check in solution.checks] == [
        "∂L/∂A · Wᵀ",
        "∂L/∂Z without the bias",
    ]
    assert "is the same as without it at all 6 entries" in solution_sheet([problem], 0)


def _with_failed_checks(derivation: Derivation) -> Derivation:
    """A derivation whose checks all report failure, as a wrong formula would."""
    failed = tuple(
        dataclasses.replace(check, holds=False, mismatch_count=1)
        for check in derivation.plain.checks
    )
    return dataclasses.replace(
        derivation, plain=dataclasses.replace(derivation.plain, checks=failed)
    )


def test_an_unverified_derivation_makes_the_solution_sheet_refuse() -> None:
    def wrong(*args: Any, **kwargs: Any) -> Derivation:
        return _with_failed_checks(derive(*args, **kwargs))

    problems = make_problems(5, 3)
    with pytest.raises(UnverifiedSolutionError) as raised:
        solve_all(problems, derive=wrong)
    assert raised.value.exit_code == 1
    assert str(raised.value).startswith("refusing to write the solutions: the derivation of ")
    assert "\n" not in str(raised.value)
    assert problem_sheet(problems, 5)  # the problems themselves need no derivation


def test_a_wrong_matrix_formula_is_caught_and_never_printed_as_a_solution() -> None:
    def reversed_rows(*args: Any) -> dict[Variable, MatrixForm]:
        # The entries of each row of the Zᵀ·∂L/∂A form reversed: wrong whenever n ≥ 2.
        forms = matrix_forms(*args)
        form = forms["W"]
        rows = tuple(tuple(reversed(row)) for row in form.entries)
        forms["W"] = dataclasses.replace(form, entries=rows)
        return forms

    wrong = functools.partial(derive, forms=reversed_rows)
    problem = Problem(1, Sizes(2, 3, 2), False, "W", (2, 1))
    with pytest.raises(UnverifiedSolutionError, match="∂L/∂W = Zᵀ · ∂L/∂A"):
        solve_all([problem], derive=wrong)
    # A problem about another gradient of the same layer is refused too: the derivation failed.
    with pytest.raises(UnverifiedSolutionError):
        solve_all([dataclasses.replace(problem, target="Z", entry=None)], derive=wrong)


# Compiling.


def _every_layout() -> list[Problem]:
    """A problem for every size, target and kind the sheets can hold: the widest included."""
    problems: list[Problem] = []
    for m, k, n in itertools.product(SIZES, repeat=3):
        sizes = Sizes(m, k, n)
        if m == k == n or (m, k, n).count(1) > 1:
            continue
        for target in ("Z", "W", "b"):
            if (n if target == "Z" else m) < 2:
                continue
            rows, cols = sizes.shape_of(target)
            entry = (rows, 1) if cols > 1 or rows > 1 else (1, 1)
            for asked in (None, entry):
                problems.append(Problem(len(problems) + 1, sizes, True, target, asked))
    return problems


@pytest.mark.parametrize(("seed", "bias"), [(7, True), (7, False), (2024, True)])
def test_sheets_compile_with_pdflatex_using_only_the_minimal_packages(
    seed: int, bias: bool, tmp_path: Path
) -> None:
    problems = make_problems(seed, 10, bias)
    for name, text in (
        ("problems", problem_sheet(problems, seed)),
        ("solutions", solution_sheet(problems, seed)),
    ):
        packages = re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}", text)
        assert packages == ["geometry", "amsmath", "amssymb"]
        log = compile_with_pdflatex(text, tmp_path, name)
        assert "Overfull \\hbox" not in log, "a line runs into the margin"
        assert "Undefined control sequence" not in log


def test_every_concrete_loss_layout_compiles_and_fits_the_page(tmp_path: Path) -> None:
    # The widest layers each loss is drawn at, every target and kind: 4 columns of a − y, and
    # the softmax at its 3 columns.
    problems: list[Problem] = []
    for loss, sizes in (
        ("sum", Sizes(4, 3, 4)),
        ("squared-error", Sizes(4, 3, 4)),
        ("softmax-cross-entropy", Sizes(4, 4, 3)),
    ):
        for target in ("Z", "W", "b"):
            rows, cols = sizes.shape_of(target)
            for asked in (None, (rows, cols)):
                problems.append(Problem(len(problems) + 1, sizes, True, target, asked, loss))
    for name, text in (
        ("problems", problem_sheet(problems, 0)),
        ("solutions", solution_sheet(problems, 0)),
    ):
        log = compile_with_pdflatex(text, tmp_path, name)
        assert "Overfull \\hbox" not in log, "a line runs into the margin"
        assert "Undefined control sequence" not in log


def test_every_size_and_layout_fits_the_page(tmp_path: Path) -> None:
    problems = _every_layout()
    log = compile_with_pdflatex(solution_sheet(problems, 0), tmp_path, "solutions")
    assert "Overfull \\hbox" not in log, "a solution runs into the margin"
    log = compile_with_pdflatex(problem_sheet(problems, 0), tmp_path, "problems")
    assert "Overfull \\hbox" not in log


def test_the_sheets_are_rendered_through_the_door_like_every_document() -> None:
    problems = make_problems(7, 4, bias=True)
    sheet = ProblemSheet(problems, 7)
    solutions = SolutionSheet(solve_all(problems), 7)
    # Every printer of documents, as for the proof; a sheet has no terminal view and no JSON.
    printed = tuple(fmt for fmt in formats("ProofReport") if fmt not in ("text", "json"))
    assert formats("ProblemSheet") == formats("SolutionSheet") == printed
    assert {"latex", "markdown"} <= set(printed)
    assert render(sheet, "latex", standalone=True) == problem_sheet(problems, 7)
    assert render(solutions, "latex", standalone=True) == solution_sheet(problems, 7)


def test_a_sheet_in_markdown_has_its_heading_tasks_and_checks() -> None:
    problems = make_problems(7, 3)
    problems_text = render(ProblemSheet(problems, 7), "markdown")
    assert problems_text.startswith(
        "# Gradients of a linear layer: exercises\n\n3 problems, layers without bias\n\n"
        "## Notation\n\n"
    )
    assert problems_text.count("**Task.** ") == 3
    solutions_text = render(SolutionSheet(solve_all(problems), 7), "markdown")
    assert solutions_text.count("**Check.** $\\checkmark$ Verified by matgrad: ") == 3
    assert "\\begin{sheetpart}" not in problems_text + solutions_text


def test_a_sheet_fragment_defines_what_keeps_its_parts_together(tmp_path: Path) -> None:
    problems = make_problems(7, 2)
    fragment = render(ProblemSheet(problems, 7), "latex")
    assert fragment.startswith("% Gradients of a linear layer: exercises.")
    assert "% Needs \\usepackage{amsmath} and \\usepackage{amssymb}" in fragment
    assert "% A part starts a new page" in fragment
    assert "\\documentclass" not in fragment
    document = (
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage{amssymb}\n"
        f"\\begin{{document}}\n{fragment}\\end{{document}}\n"
    )
    compile_with_pdflatex(document, tmp_path, "fragment")


# Writing the files.


def test_sheet_paths_follow_the_stem() -> None:
    assert sheet_paths(Path("out/week3"), False) == [
        Path("out/week3-problems.tex"),
        Path("out/week3-solutions.tex"),
    ]
    assert sheet_paths(Path("week3.tex"), True) == [
        Path("week3-problems.tex"),
        Path("week3-solutions.tex"),
        Path("week3-problems.pdf"),
        Path("week3-solutions.pdf"),
    ]


def test_write_sheets_writes_both_sheets(tmp_path: Path) -> None:
    written = write_sheets(tmp_path / "sheet", 7, 3, bias=True)
    assert written == [tmp_path / "sheet-problems.tex", tmp_path / "sheet-solutions.tex"]
    assert files_in(tmp_path) == ["sheet-problems.tex", "sheet-solutions.tex"]
    problems = make_problems(7, 3, True)
    assert written[0].read_text(encoding="utf-8") == problem_sheet(problems, 7)
    assert written[1].read_text(encoding="utf-8") == solution_sheet(problems, 7)


def test_pdf_sheets_are_pdfs_and_byte_identical_for_a_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_pdflatex()
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    written = write_sheets(first / "sheet", 11, 4, bias=True, as_pdf=True)
    assert [path.name for path in written] == [
        "sheet-problems.tex",
        "sheet-solutions.tex",
        "sheet-problems.pdf",
        "sheet-solutions.pdf",
    ]
    assert files_in(first) == sorted(path.name for path in written)
    for path in written[2:]:
        assert path.read_bytes().startswith(b"%PDF-")
    write_sheets(second / "sheet", 11, 4, bias=True, as_pdf=True)
    for path in written:
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name


def test_existing_files_are_kept_without_force_and_replaced_with_it(tmp_path: Path) -> None:
    (tmp_path / "sheet-solutions.tex").write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputError, match=r"sheet-solutions\.tex already exists; use --force"):
        write_sheets(tmp_path / "sheet", 7)
    assert files_in(tmp_path) == ["sheet-solutions.tex"]
    assert (tmp_path / "sheet-solutions.tex").read_text(encoding="utf-8") == "keep me"
    write_sheets(tmp_path / "sheet", 7, force=True)
    assert files_in(tmp_path) == ["sheet-problems.tex", "sheet-solutions.tex"]
    assert (tmp_path / "sheet-solutions.tex").read_text(encoding="utf-8").startswith("\\document")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: make_problems(7, 0), "count must be an integer from 1 to 50, got 0"),
        (lambda: make_problems(7, 51), "count must be an integer from 1 to 50, got 51"),
        (lambda: make_problems(7, True), "count must be an integer from 1 to 50, got True"),
        (lambda: make_problems(-1, 5), "seed must be an integer from 0 to 4294967295, got -1"),
        (lambda: make_problems(1.5, 5), "seed must be an integer from 0 to 4294967295, got 1.5"),  # type: ignore[arg-type]
        (lambda: make_problems(2**32, 5), "seed must be an integer from 0 to 4294967295"),
        (lambda: parse_seed("-3"), "seed must be an integer from 0 to 4294967295, got '-3'"),
        (lambda: parse_seed("1.5"), "got '1.5'"),
        (lambda: parse_seed("seven"), "got 'seven'"),
        (lambda: parse_seed(""), "got ''"),
        (lambda: parse_count("0"), "count must be an integer from 1 to 50, got 0"),
        (lambda: parse_count("-2"), "count must be an integer from 1 to 50, got -2"),
        (lambda: parse_count("many"), "count must be an integer from 1 to 50, got 'many'"),
        (lambda: parse_count("--5"), "count must be an integer from 1 to 50, got '--5'"),
    ],
)
def test_bad_numbers_are_one_line_input_errors(call: Callable[[], object], message: str) -> None:
    with pytest.raises(InputError) as raised:
        call()
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert raised.value.exit_code == 2


def test_parse_accepts_plain_integers() -> None:
    assert parse_seed(" 7 ") == 7
    assert parse_seed("4294967295") == 2**32 - 1
    assert parse_count("50") == 50


@pytest.mark.parametrize(
    ("stem", "message"),
    [
        ("missing/sheet", "the folder {tmp}/missing does not exist"),
        ("a-file/sheet", "the folder {tmp}/a-file does not exist"),
        (".", "-o takes a file stem such as sheets/week3, not the folder"),
        ("", "-o takes a file stem such as sheets/week3, not the folder"),
    ],
)
def test_bad_output_stems_are_refused_before_any_work(
    stem: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    target = tmp_path / stem if stem not in (".", "") else Path(stem)
    with pytest.raises(OutputError, match=re.escape(message.format(tmp=tmp_path))):
        write_sheets(target, 7, make_problems=_no_work)
    assert files_in(tmp_path) == ["a-file"]


def _no_work(*args: object, **kwargs: object) -> tuple[Problem, ...]:
    raise AssertionError("bad output was not refused before the work")


def test_a_stem_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sheets").mkdir()
    with pytest.raises(OutputError, match="not the folder"):
        write_sheets(tmp_path / "sheets", 7)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write any folder"
)
def test_an_unwritable_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="is not writable"):
            write_sheets(folder / "sheet", 7)
        assert files_in(folder) == []
    finally:
        folder.chmod(0o755)


def _sheet_sizes(seed: int, count: int = 5) -> tuple[int, int]:
    """The sizes in bytes of the problem and the solution sheet of ``seed``."""
    problems = make_problems(seed, count, False)
    return (
        len(problem_sheet(problems, seed).encode("utf-8")),
        len(solution_sheet(problems, seed).encode("utf-8")),
    )


def _write_sheets_below_a_file_size_limit(
    stem: Path, limit: int, force: bool
) -> subprocess.CompletedProcess[str]:
    """write_sheets(stem, 7) in a child process whose files may grow to ``limit`` bytes only
    (RLIMIT_FSIZE): a write past it fails for real, with EFBIG, as a full disk would."""
    code = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from matgrad_cli.cli.exercise import write_sheets\n"
        "from matgrad_cli.errors import OutputError\n"
        "limit = int(sys.argv[2])\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))\n"
        "try:\n"
        "    write_sheets(Path(sys.argv[1]), 7, force=sys.argv[3] == 'force')\n"
        "except OutputError as error:\n"
        "    sys.exit(str(error))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(stem), str(limit), "force" if force else "keep"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
@pytest.mark.parametrize("force", [False, True], ids=["new files", "replacing files"])
def test_a_failing_second_write_leaves_the_folder_as_it_was(tmp_path: Path, force: bool) -> None:
    # The solution sheet is the longer one: a limit between the two lets the problem sheet be
    # written in full and stops the solution sheet half way.
    problems_size, solutions_size = _sheet_sizes(7)
    assert problems_size < solutions_size
    old = {}
    if force:
        for name in ("sheet-problems.tex", "sheet-solutions.tex"):
            (tmp_path / name).write_text(f"old {name}", encoding="utf-8")
            old[name] = f"old {name}"
    limit = (problems_size + solutions_size) // 2
    result = _write_sheets_below_a_file_size_limit(tmp_path / "sheet", limit, force)
    assert result.returncode == 1, result.stderr
    solutions = tmp_path / "sheet-solutions.tex"
    assert result.stderr == f"cannot write {solutions}: File too large\n"
    assert files_in(tmp_path) == sorted(old)  # no sheet, no temporary of the first one
    for name, text in old.items():
        assert (tmp_path / name).read_text(encoding="utf-8") == text


@pytest.mark.parametrize(
    ("in_the_way", "message"),
    [
        ("directory", "cannot write {path}: it is a directory"),
        ("fifo", "cannot write {path}: not a regular file (write to stdout and redirect instead)"),
        ("file", "{path} already exists; use --force to replace it"),
    ],
)
def test_something_in_the_way_of_the_second_sheet_stops_both_before_any_work(
    tmp_path: Path, in_the_way: str, message: str
) -> None:
    solutions = tmp_path / "sheet-solutions.tex"
    if in_the_way == "directory":
        solutions.mkdir()
    elif in_the_way == "fifo":
        os.mkfifo(solutions)
    else:
        solutions.write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputError) as raised:
        write_sheets(tmp_path / "sheet", 7, make_problems=_no_work)
    assert str(raised.value) == message.format(path=solutions)
    assert files_in(tmp_path) == ["sheet-solutions.tex"]  # the first sheet was not written


def test_a_symlinked_sheet_is_written_through_keeping_the_link_and_the_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `matgrad exercise -o sheet --force` over a link writes the file it points at, as
    # `matgrad derive -o` does, instead of replacing the link by a new 0644 file.
    kept = tmp_path / "kept"
    kept.mkdir()
    target = kept / "week3.tex"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o600)
    link = tmp_path / "sheet-problems.tex"
    link.symlink_to(target)
    stem = str(tmp_path / "sheet")
    code, _, err = run(["exercise", "--seed", "7", "--count", "3", "-o", stem, "--force"], capsys)
    assert code == 0, err
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text(encoding="utf-8") == problem_sheet(make_problems(7, 3, False), 7)
    assert files_in(tmp_path) == ["kept", "sheet-problems.tex", "sheet-solutions.tex"]
    assert files_in(kept) == ["week3.tex"]


def test_a_dangling_symlinked_sheet_gets_its_target_created(tmp_path: Path) -> None:
    link = tmp_path / "sheet-solutions.tex"
    link.symlink_to(tmp_path / "answers.tex")
    write_sheets(tmp_path / "sheet", 7, 3)
    assert link.is_symlink()
    assert (tmp_path / "answers.tex").read_text(encoding="utf-8") == solution_sheet(
        make_problems(7, 3, False), 7
    )


def test_an_unverified_solution_writes_no_file(tmp_path: Path) -> None:
    def failing(*args: Any, **kwargs: Any) -> Derivation:
        return _with_failed_checks(derive(*args, **kwargs))

    with pytest.raises(UnverifiedSolutionError):
        write_sheets(tmp_path / "sheet", 7, derive=failing)
    assert files_in(tmp_path) == []


def _without_tex(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH on which no pdflatex is found, as on a machine without TeX."""
    empty = folder / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def _with_broken_tex(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH whose pdflatex fails as on a LaTeX error: a log with the error and its line."""
    bin_folder = folder / "broken-bin"
    bin_folder.mkdir()
    engine = bin_folder / "pdflatex"
    engine.write_text(
        "#!/bin/sh\n"
        "for last; do :; done\n"
        "printf '! Undefined control sequence.\\nl.7 \\\\broken\\n' > \"${last%.tex}.log\"\n"
        "exit 1\n",
        encoding="utf-8",
    )
    engine.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_folder))


def test_a_missing_tex_engine_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    _without_tex(tmp_path, monkeypatch)
    with pytest.raises(TexMissingError) as raised:
        write_sheets(sheets / "sheet", 7, as_pdf=True, make_problems=_no_work)
    message = str(raised.value)
    assert "apt-get install texlive-latex-base" in message
    assert "`--format latex` works without it" in message
    assert files_in(sheets) == []


def test_a_latex_failure_writes_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    _with_broken_tex(tmp_path, monkeypatch)
    with pytest.raises(LatexFailedError) as raised:
        write_sheets(sheets / "sheet", 7, as_pdf=True)
    assert str(raised.value) == (
        "pdflatex could not compile the document: Undefined control sequence (line 7 of the LaTeX)"
    )
    assert files_in(sheets) == []


# The command line, once cli.py has the exercise command.


def test_exercise_command_writes_the_sheets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stem = str(tmp_path / "sheet")
    code, out, err = run(["exercise", "--seed", "7", "--count", "3", "--bias", "-o", stem], capsys)
    assert code == 0
    assert out == ""
    assert err.startswith("matgrad: wrote ")
    assert files_in(tmp_path) == ["sheet-problems.tex", "sheet-solutions.tex"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seed", "-1"], "seed must be an integer from 0 to 4294967295, got '-1'"),
        (["--seed", "1.5"], "seed must be an integer from 0 to 4294967295, got '1.5'"),
        (["--seed", "1", "--count", "0"], "count must be an integer from 1 to 50, got 0"),
        (["--seed", "1", "--count", "51"], "count must be an integer from 1 to 50, got 51"),
    ],
)
def test_exercise_command_bad_input_exits_2_with_one_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["exercise", *args, "-o", str(tmp_path / "s")], capsys)
    assert code == 2
    assert err == f"matgrad: error: {message}\n"
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("stem", ["sheets/", "week3.tex/", "."])
def test_exercise_command_refuses_a_folder_as_the_stem(
    stem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A name ending in / names a folder, whether or not it exists: no week3-problems.tex.
    (tmp_path / "sheets").mkdir()
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["exercise", "--seed", "1", "-o", stem], capsys)
    assert code == 2
    assert out == ""
    folder = str(Path(stem))
    assert (
        err
        == f"matgrad: error: -o takes a file stem such as sheets/week3, not the folder {folder}\n"
    )
    assert files_in(tmp_path) == ["sheets"]
    assert files_in(tmp_path / "sheets") == []


def test_exercise_command_without_tex_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    _without_tex(tmp_path, monkeypatch)
    code, _, err = run(["exercise", "--seed", "1", "-f", "pdf", "-o", str(sheets / "s")], capsys)
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "apt-get install texlive-latex-base" in err
    assert files_in(sheets) == []


def test_exercise_command_shows_the_latex_error_under_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    _with_broken_tex(tmp_path, monkeypatch)
    code, out, err = run(
        ["exercise", "--seed", "1", "-c", "1", "-f", "pdf", "-o", str(sheets / "s")], capsys
    )
    assert code == 2
    assert out == ""
    # The one line, then the log's excerpt indented as a block.
    assert err == (
        "matgrad: error: pdflatex could not compile the document: Undefined control sequence "
        "(line 7 of the LaTeX)\n"
        "  ! Undefined control sequence.\n"
        "  l.7 \\broken\n"
    )
    assert files_in(sheets) == []
