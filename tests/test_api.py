"""The Python API: result objects that render themselves, the same text as the command line, and
the tutorial notebook running cell by cell."""

from __future__ import annotations

import ast
import io
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import sympy
from rich.console import Console

from matgrad_cli import check, derive

from .conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`matgrad ARGS` in-process: (exit code, stdout)."""
    code, out, _ = run_cli(args, capsys)
    return code, out


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ([], {}),
        (
            ["--m", "3", "--k", "2", "--n", "4", "--no-bias"],
            {"m": 3, "k": 2, "n": 4, "bias": False},
        ),
    ],
    ids=["defaults", "3x2x4-no-bias"],
)
def test_derive_gives_the_same_text_by_either_route(
    args: list[str], kwargs: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    derivation = derive(**kwargs)
    assert cli(["derive", *args], capsys) == (0, derivation.to_latex())
    assert cli(["derive", *args, "--standalone"], capsys)[1] == derivation.to_latex(standalone=True)
    assert cli(["derive", *args, "-f", "markdown"], capsys)[1] == derivation.to_markdown()
    assert cli(["derive", *args, "-f", "json"], capsys)[1] == derivation.to_json()
    assert cli(["derive", *args, "-f", "text"], capsys)[1] == derivation.to_text(width=80)


def test_check_gives_the_same_text_by_either_route(capsys: pytest.CaptureFixture[str]) -> None:
    claims = ["dW = G.T @ Z", "dZ = G @ W.T"]
    report = check(claims)
    assert cli(["check", *claims], capsys) == (1, report.to_text(width=80))
    assert cli(["check", *claims, "-f", "json"], capsys)[1] == report.to_json()
    assert cli(["check", *claims, "-f", "latex"], capsys)[1] == report.to_latex()
    assert cli(["check", *claims, "-f", "markdown"], capsys)[1] == report.to_markdown()


def test_a_check_result_has_the_verdict_reason_hint_and_counterexample() -> None:
    wrong = check("dZ = -G @ W.T")
    assert wrong.correct is False
    assert wrong.reason == "values"
    assert wrong.hint is not None
    assert "negative of the right answer" in wrong.hint
    assert wrong.counterexample is not None
    assert wrong.counterexample.claimed != wrong.counterexample.correct
    right = check("dW = Z.T @ G")
    assert (right.correct, right.reason, right.hint, right.counterexample) == (
        True,
        "ok",
        None,
        None,
    )


def test_gradients_are_sympy_matrices_in_the_shape_of_their_variable() -> None:
    derivation = derive(2, 3, 4)
    z = sympy.Matrix(2, 3, lambda i, r: sympy.Symbol(f"z_{i + 1}_{r + 1}"))
    w = sympy.Matrix(3, 4, lambda r, j: sympy.Symbol(f"w_{r + 1}_{j + 1}"))
    g = sympy.Matrix(2, 4, lambda i, j: sympy.Symbol(f"dA_{i + 1}_{j + 1}"))
    assert (derivation.gradient_matrix("Z") - g * w.T).expand() == sympy.zeros(2, 3)
    assert (derivation.gradient_matrix("W") - z.T * g).expand() == sympy.zeros(3, 4)
    assert (derivation.gradient_matrix("b") - sympy.ones(1, 2) * g).expand() == sympy.zeros(1, 4)


def test_results_render_in_jupyter_and_rich() -> None:
    derivation = derive()
    assert derivation._repr_markdown_() == derivation.to_markdown()
    report = check("db = sum(G, axis=1)")
    assert report._repr_markdown_().startswith("# Checking gradient claims")
    for renderable, expected in ((derivation, "1. Setup"), (report, "wrong shape")):
        buffer = io.StringIO()
        Console(file=buffer, width=80, color_system=None).print(renderable)
        assert expected in buffer.getvalue()


def test_the_package_ships_type_information() -> None:
    assert resources.files("matgrad_cli").joinpath("py.typed").is_file()


def _run_cell(source: str, namespace: dict[str, Any]) -> Any:
    """Run a notebook cell as Jupyter does: statements, then the value of a last expression."""
    tree = ast.parse(source)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    body = ast.Module(body=tree.body[:-1] if last else tree.body, type_ignores=[])
    exec(compile(body, "<cell>", "exec"), namespace)  # the repository's own notebook
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)


def test_tutorial_notebook_runs_cell_by_cell(capsys: pytest.CaptureFixture[str]) -> None:
    notebook = json.loads((ROOT / "docs" / "tutorial.ipynb").read_text(encoding="utf-8"))
    namespace: dict[str, Any] = {"__name__": "__main__"}
    values = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            value = _run_cell("".join(cell["source"]), namespace)
            if hasattr(value, "_repr_markdown_"):
                value._repr_markdown_()
            values.append(value)
    assert values[1] is True  # layer.verified
    assert all(held for _, _, held in values[2])
    assert values[6] == (False, "shape", values[6][2])
    assert values[8] is True
    # The two-layer network: verified, every check held, and the forgotten σ′ caught.
    assert values[9] is True
    assert [held for _, held in values[10]] == [True] * 7
    assert "Heaviside" in str(values[11])
    assert values[12] == (False, ["X", "W1", "b1", "A1"])
    assert "\\section*{Setup}" in capsys.readouterr().out


def test_prove_and_jacobian_give_the_same_text_by_either_route(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from matgrad_cli import jacobian, prove

    report = prove(bias=True)
    assert cli(["prove"], capsys) == (0, report.to_latex())
    assert cli(["prove", "-f", "markdown"], capsys)[1] == report.to_markdown()
    assert cli(["prove", "-f", "json"], capsys)[1] == report.to_json()
    assert cli(["prove", "-f", "text"], capsys)[1] == report.to_text(width=80)
    assert report._repr_markdown_() == report.to_markdown()
    view = jacobian(2, 3, 2)
    args = ["jacobian", "--m", "2", "--k", "3", "--n", "2"]
    assert cli(args, capsys) == (0, view.to_latex())
    assert cli([*args, "--standalone"], capsys)[1] == view.to_latex(standalone=True)
    assert cli([*args, "-f", "markdown"], capsys)[1] == view.to_markdown()
    assert cli([*args, "-f", "json"], capsys)[1] == view.to_json()
    assert cli([*args, "-f", "text"], capsys)[1] == view.to_text(width=80)
    for renderable, expected in ((report, "∂L/∂Z"), (view, "∂A/∂W")):
        buffer = io.StringIO()
        Console(file=buffer, width=80, color_system=None).print(renderable)
        assert expected in buffer.getvalue()
