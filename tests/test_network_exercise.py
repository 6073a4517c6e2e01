"""Network exercise sheets: the problems drawn, the verified solutions against an independent
reference, wrong backward rules refused, the files, the bad inputs, and the compiled pages."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sympy

from matgrad_cli.cli.exercise import write_network_sheets
from matgrad_cli.core.exercise import UnverifiedSolutionError
from matgrad_cli.core.network_exercise import (
    MAX_SHEET_WIDTH,
    NetworkProblem,
    SheetNetwork,
    forward_values,
    make_network_problems,
    sheet_network,
    sheet_targets,
    solve_network,
    solve_network_problems,
    steps_to,
)
from matgrad_cli.core.network_exercise_claims import step_claims
from matgrad_cli.core.network_matrix import RULES, LocalRule, Operand, ProductRule
from matgrad_cli.errors import InputError
from matgrad_cli.present import render
from matgrad_cli.present.network_exercise_doc import NetworkProblemSheet, NetworkSolutionSheet

from .browser import png_pixels
from .conftest import require_pdflatex, run_pdflatex
from .conftest import run_cli as run

#: The sheets a lecturer would hand out, one of each kind the options give.
NETWORKS = {
    "two-layer relu": ((3,), "relu", "identity", None, True),
    "one layer with a sigmoid": ((), "generic", "sigmoid", None, True),
    "tanh hidden, sigmoid output": ((2,), "tanh", "sigmoid", None, False),
    "generic sigma": ((3,), "generic", "identity", None, False),
    "three-layer leaky relu": ((2, 3), "leaky-relu", "identity", "1/10", True),
    "linear network": ((2,), "identity", "identity", None, True),
    "one layer with tanh": ((), "generic", "tanh", None, False),
    "generic hidden, sigmoid output": ((2,), "generic", "sigmoid", None, True),
}

#: A concrete function for each activation, for the reference; the generic σ becomes sin, which
#: the sheets know nothing of (their answers hold for every σ).
FUNCTIONS = {
    "identity": lambda a: a,
    "relu": lambda a: sympy.Max(0, a),
    "sigmoid": lambda a: 1 / (1 + sympy.exp(-a)),
    "tanh": sympy.tanh,
    "generic": sympy.sin,
}


def _function(network: SheetNetwork, layer: int) -> Any:
    name = network.activation_of(layer)
    if name == "leaky-relu":
        slope = network.slope if network.slope is not None else sympy.Rational(1, 100)
        alpha = sympy.Rational(slope.numerator, slope.denominator)
        return lambda a: sympy.Max(alpha * a, a)
    return FUNCTIONS[name]


def reference_gradient(problem: NetworkProblem, name: str) -> tuple[Any, dict[Any, Any]]:
    """∂L/∂``name`` by SymPy's own diff of L = Σ G ⊙ (output) through the real activations,
    with ``name``'s entries as symbols; and the values the activations' symbols of the sheet
    stand for, in terms of those real functions (h = σ(a), σ′(a) for the generic σ)."""
    network = problem.network
    shape = problem.shape_of(name)
    variables = sympy.Matrix(*shape, lambda i, j: sympy.Symbol(f"v_{i}_{j}"))
    actual: dict[Any, Any] = {}
    below = variables if name == "X" else sympy.Matrix(problem.inputs)
    for layer in range(1, network.depth + 1):
        weights = sympy.Matrix(problem.weights[layer - 1])
        if name == f"W{layer}":
            actual.update(zip(variables, weights, strict=True))
            weights = variables
        pre = below * weights
        if network.bias:
            bias = sympy.Matrix([problem.biases[layer - 1]])
            if name == f"b{layer}":
                actual.update(zip(variables, bias, strict=True))
                bias = variables
            pre += sympy.ones(problem.m, 1) * bias
        if name == f"A{layer}":
            actual.update(zip(variables, pre.subs(actual), strict=True))
            pre = variables
        function = _function(network, layer)
        below = pre.applyfunc(function)
        if name == f"H{layer}":
            actual.update(zip(variables, below.subs(actual), strict=True))
            below = variables
    if name == "X":
        actual.update(zip(variables, sympy.Matrix(problem.inputs), strict=True))
    loss = sum(sympy.Matrix(problem.upstream).multiply_elementwise(below))
    gradient = sympy.Matrix(*shape, lambda i, j: sympy.diff(loss, variables[i, j]))
    return gradient.subs(actual).doit(), actual


def _sheet_values(problem: NetworkProblem) -> dict[Any, Any]:
    """What the sheet's symbols h and σ′ stand for, with the real functions of the reference."""
    values: dict[Any, Any] = {}
    x = sympy.Symbol("x")
    for named in forward_values(problem).named:
        function = _function(problem.network, named.layer)
        argument = named.argument.subs(values)
        if named.derivative:
            values[named.symbol] = sympy.diff(function(x), x).subs(x, argument)
        else:
            values[named.symbol] = function(argument)
    return values


def _network(key: str) -> SheetNetwork:
    return sheet_network(*NETWORKS[key])


@pytest.mark.parametrize("key", sorted(NETWORKS))
def test_every_answer_equals_sympys_own_derivative_through_the_real_activations(key: str) -> None:
    network = _network(key)
    for solution in solve_network_problems(make_network_problems(11, 8, network)):
        problem = solution.problem
        values = _sheet_values(problem)
        for step in solution.steps:
            expected, _ = reference_gradient(problem, step.name)
            found = step.value.subs(values)
            if all(
                name in ("identity", "relu", "leaky-relu")
                for name in (network.activation, network.output_activation)
            ):
                assert found == expected, (key, problem.number, step.name)
            else:
                difference = (found - expected).evalf(40)
                assert all(abs(entry) < 1e-30 for entry in difference), (key, step.name)


def test_the_same_seed_gives_the_same_problems_and_another_seed_others() -> None:
    network = _network("two-layer relu")
    assert make_network_problems(5, 6, network) == make_network_problems(5, 6, network)
    assert make_network_problems(5, 6, network) != make_network_problems(6, 6, network)


def test_every_gradient_of_the_network_is_asked_equally_often() -> None:
    network = _network("two-layer relu")
    targets = sheet_targets(network)
    assert targets == ("W2", "b2", "H1", "A1", "W1", "b1", "X")
    drawn = [problem.target for problem in make_network_problems(3, 14, network)]
    assert sorted(drawn) == sorted(targets * 2)
    one_layer = _network("one layer with a sigmoid")
    assert sheet_targets(one_layer) == ("A1", "W1", "b1", "X")


def test_the_steps_go_from_the_top_down_to_the_target() -> None:
    assert steps_to(_network("two-layer relu"), "W1") == ("H1", "A1", "W1")
    assert steps_to(_network("two-layer relu"), "b2") == ("b2",)
    assert steps_to(_network("one layer with a sigmoid"), "X") == ("A1", "X")
    # An identity activation has no step of its own: its ∂L/∂Aℓ is ∂L/∂Hℓ.
    assert steps_to(_network("linear network"), "X") == ("H1", "X")


def test_problems_are_small_integer_instances_with_no_relu_at_its_kink() -> None:
    network = _network("two-layer relu")
    for problem in make_network_problems(9, 30, network):
        numbers = [*sum(problem.inputs, ()), *sum(problem.upstream, ())]
        numbers += [value for weights in problem.weights for value in sum(weights, ())]
        assert all(isinstance(value, int) and abs(value) <= 2 for value in numbers)
        assert max(problem.m, problem.k, problem.n) <= 3
        forward = forward_values(problem)
        assert all(entry != 0 for entry in forward.pre[0]), "relu′ asked at its kink"
        answer = solve_network(problem).answer.value
        assert not answer.is_zero_matrix


def test_the_claims_write_the_backward_pass_in_check_syntax() -> None:
    network = _network("two-layer relu")
    problem = next(p for p in make_network_problems(3, 7, network) if p.target == "W1")
    solution = solve_network(problem)
    assert step_claims(solution) == (
        "dH1 = G @ W2.T",
        "dA1 = (G @ W2.T) * relu'(A1)",
        "dW1 = X.T @ ((G @ W2.T) * relu'(A1))",
    )
    assert step_claims(solution, expanded=False)[-1] == "dW1 = X.T @ dA1"
    sigmoid = _network("one layer with a sigmoid")
    problem = next(p for p in make_network_problems(3, 4, sigmoid) if p.target == "b1")
    assert step_claims(solve_network(problem))[-1] == "db1 = sum(G * sigmoid'(A1), axis=0)"


#: The slips of a backward pass, each as a wrong rule of the recursion.
WRONG_RULES = {
    "a forgotten ⊙ σ′": replace(RULES, local=LocalRule(-1, derivative=False)),
    "σ′ at the wrong layer": replace(RULES, local=LocalRule(0)),
    "W instead of Wᵀ": replace(RULES, inputs=ProductRule(Operand("G"), Operand("W"))),
    "the bias summed over the wrong axis": replace(
        RULES, bias=ProductRule(Operand("G"), Operand("1", along="units"))
    ),
    "the wrong layer's activations": replace(
        RULES, weights=ProductRule(Operand("H", 0, transposed=True), Operand("G"))
    ),
}


@pytest.mark.parametrize("slip", sorted(WRONG_RULES))
def test_a_wrong_backward_rule_is_refused_by_the_numbers_alone(slip: str) -> None:
    """Each wrong rule makes the recursion's numbers differ from the partials found without it,
    even when the symbolic derivation is replaced by the right one: the sheet is refused."""
    network = _network("two-layer relu")
    problems = make_network_problems(3, 7, network)
    right = {p.number: solve_network(p).derivation_checks for p in problems}

    class Right:
        def __init__(self, checks: Any) -> None:
            self.checks = checks

    refused = []
    for problem in problems:
        try:
            solve_network(problem, WRONG_RULES[slip], lambda p, r: Right(right[p.number]))
        except UnverifiedSolutionError as error:
            refused.append(str(error))
    assert refused, f"{slip} was never caught"
    assert all("did not verify" in message for message in refused)


@pytest.mark.parametrize("slip", sorted(WRONG_RULES))
def test_a_wrong_backward_rule_writes_no_sheet(slip: str, tmp_path: Path) -> None:
    with pytest.raises(UnverifiedSolutionError):
        write_network_sheets(
            tmp_path / "week", 3, 7, _network("two-layer relu"), rules=WRONG_RULES[slip]
        )
    assert list(tmp_path.iterdir()) == []


def test_the_solution_sheet_states_what_was_compared_from_the_checks() -> None:
    network = _network("two-layer relu")
    solutions = solve_network_problems(make_network_problems(7, 3, network))
    latex = render(NetworkSolutionSheet(solutions, 7), "latex", standalone=True)
    stated = [int(n) for n in re.findall(r"all (\d+) entries of", latex)]
    assert stated == [sum(step.check.entries_checked for step in s.steps) for s in solutions]
    compared = [int(n) for n in re.findall(r"(\d+) entries\s+compared", latex)]
    assert compared == [sum(c.entries_checked for c in s.derivation_checks) for s in solutions]
    assert "Seed 7" in latex
    assert "matgrad exercise --seed 7 --count 3 --hidden 3 --activation relu --bias" in latex


def test_the_problem_sheet_shows_the_network_but_neither_seed_nor_answer() -> None:
    network = _network("two-layer relu")
    problems = make_network_problems(7, 3, network)
    latex = render(NetworkProblemSheet(problems, 7), "latex", standalone=True)
    for hidden in ("Seed", "--seed", "checkmark"):
        assert hidden not in latex
    assert "2 layers, hidden width 3, relu activation, with biases" in latex
    assert r"\operatorname{relu}(a) = \max(0, a)" in latex


def test_the_command_writes_both_sheets_with_the_network_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stem = tmp_path / "week"
    args = ["exercise", "--seed", "4", "--hidden", "3", "--activation", "relu", "-o", str(stem)]
    code, out, err = run(args, capsys)
    assert (code, out) == (0, "")
    assert err.startswith("matgrad: wrote ")
    solutions = (tmp_path / "week-solutions.tex").read_text(encoding="utf-8")
    assert (
        "% Generated by matgrad: matgrad exercise --seed 4 --count 5 --hidden 3 --activation relu\n"
        in solutions
    )
    code, _, _ = run([*args, "--force"], capsys)
    assert code == 0
    assert (tmp_path / "week-solutions.tex").read_text(encoding="utf-8") == solutions


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--hidden", "5"], "too large for an exercise sheet"),
        (["--hidden", "2,2,2"], "too large for an exercise sheet"),
        (["--hidden", "2,2", "--activation", "sigmoid"], "one hidden layer"),
        (["--hidden", "0"], "positive integer"),
        (["--hidden", "2", "--activation", "softmax"], "--activation"),
        (["--output-activation", "sigmoid", "--slope", "0.1"], "leaky-relu"),
        (["--hidden", "2", "--samples", "columns"], "rows"),
        (["--activation", "relu"], "give --hidden too"),
        (["--hidden", "1,2,3,4,5"], "above the limit of 4"),
        (["--hidden", "2", "--activation", "leaky-relu", "--slope", "2"], "between 0 and 1"),
        (["--hidden", "2", "--count", "0"], "count"),
    ],
)
def test_bad_network_options_give_one_line_exit_2_and_write_nothing(
    options: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["exercise", "--seed", "1", *options, "-o", str(tmp_path / "w")], capsys)
    assert (code, out) == (2, "")
    assert err.startswith("matgrad: error: "), err
    assert err.count("\n") == 1, err
    assert message in err
    assert list(tmp_path.iterdir()) == []


def test_sheet_limits_are_stated_with_the_sizes() -> None:
    with pytest.raises(Exception, match=f"each at most {MAX_SHEET_WIDTH} wide"):
        sheet_network((MAX_SHEET_WIDTH + 1,), "relu")


@pytest.mark.parametrize("key", ["two-layer relu", "one layer with a sigmoid"])
def test_both_sheets_compile_fit_the_page_and_show_ink(key: str, tmp_path: Path) -> None:
    require_pdflatex()
    network = _network(key)
    problems = make_network_problems(7, 6, network)
    sheets = (
        NetworkProblemSheet(problems, 7),
        NetworkSolutionSheet(solve_network_problems(problems), 7),
    )
    for number, sheet in enumerate(sheets):
        name = f"sheet{number}"
        result = run_pdflatex(render(sheet, "latex", standalone=True), tmp_path, name)
        assert result.returncode == 0, result.stdout[-2000:]
        log = (tmp_path / f"{name}.log").read_text(encoding="latin-1")
        assert "Overfull" not in log
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", f"{name}.pdf", name],
            cwd=tmp_path,
            check=True,
        )
        page = next(tmp_path.glob(f"{name}-*1.png"))
        assert (png_pixels(page) < 200).mean() > 0.01  # ink on the first page


@pytest.mark.parametrize("key", sorted(NETWORKS))
def test_every_kind_of_sheet_fits_the_page_and_renders_as_a_web_page(
    key: str, tmp_path: Path
) -> None:
    network = _network(key)
    problems = make_network_problems(2, 8, network)
    solutions = NetworkSolutionSheet(solve_network_problems(problems), 2)
    for sheet in (NetworkProblemSheet(problems, 2), solutions):
        page = render(sheet, "html")  # every formula checked as MathML on the way
        assert "<math" in page
        assert "refusing" not in page
    result = run_pdflatex(render(solutions, "latex", standalone=True), tmp_path, "s")
    assert result.returncode == 0, result.stdout[-2000:]
    assert "Overfull" not in (tmp_path / "s.log").read_text(encoding="latin-1")


@pytest.mark.parametrize("key", ["two-layer relu", "one layer with a sigmoid", "linear network"])
def test_every_answer_as_a_claim_is_judged_correct_by_matgrad_check(
    key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    network = _network(key)
    claims = {
        claim
        for solution in solve_network_problems(make_network_problems(3, 6, network))
        for expanded in (True, False)
        for claim in step_claims(solution, expanded)
    }
    assert claims
    for claim in sorted(claims):
        code, out, err = run(["check", *network.options().split(), claim], capsys)
        assert code == 0, (claim, out, err)
        assert "correct" in out


def test_a_sheets_answer_with_a_forgotten_derivative_is_judged_wrong(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The end-to-end check is not vacuous: the answer without its ⊙ σ′ is wrong."""
    network = _network("two-layer relu")
    problem = next(p for p in make_network_problems(3, 7, network) if p.target == "W1")
    claim = step_claims(solve_network(problem))[-1]
    wrong = claim.replace(" * relu'(A1)", "")
    assert wrong != claim
    code, _, _ = run(["check", *network.options().split(), wrong], capsys)
    assert code == 1


@pytest.mark.parametrize("output_format", ["pdf", "html"])
def test_pdf_and_web_pages_are_written_for_network_sheets(
    output_format: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if output_format == "pdf":
        require_pdflatex()
    stem = tmp_path / "act"
    args = ["exercise", "--seed", "2", "--count", "2", "--output-activation", "sigmoid"]
    code, _, err = run([*args, "--format", output_format, "-o", str(stem)], capsys)
    assert code == 0, err
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == sorted(
        f"act-{part}.{extension}"
        for part in ("problems", "solutions")
        for extension in ("tex", output_format)
    )
    first = (tmp_path / f"act-problems.{output_format}").read_bytes()
    assert first.startswith(b"%PDF" if output_format == "pdf" else b"<!DOCTYPE html>")


@pytest.mark.parametrize("hidden", ["3", None, ("x",), (0,), (2.5,), (True,)])
def test_the_python_api_refuses_widths_that_are_not_positive_integers(hidden: object) -> None:
    with pytest.raises(InputError):
        sheet_network(hidden, "relu")
    assert sheet_network(3, "relu").hidden == (3,)


def test_an_existing_sheet_is_not_clobbered_and_nothing_else_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "week-solutions.tex"
    existing.write_text("mine", encoding="utf-8")
    args = ["exercise", "--seed", "1", "--hidden", "2", "--activation", "relu"]
    code, out, err = run([*args, "-o", str(tmp_path / "week")], capsys)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert existing.read_text(encoding="utf-8") == "mine"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["week-solutions.tex"]


def test_the_sigmoid_is_named_when_the_generic_sigma_is_on_the_same_sheet() -> None:
    network = _network("generic hidden, sigmoid output")
    problems = make_network_problems(1, 2, network)
    latex = render(NetworkProblemSheet(problems, 1), "latex")
    assert r"\operatorname{sigmoid}(a) = 1/(1 + e^{-a})" in latex
    assert r"\sigma'(a^{(\ell)}_{i,j})" in latex
