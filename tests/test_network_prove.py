"""`matgrad prove --hidden …`: the backward pass of a network proved for every size, its
independent cross-check at explicit sizes, its refusals to call a wrong rule or an unfinished
step proved, its documents (pdflatex) and its command line."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sympy

from matgrad_cli.core.network_matrix import RULES, LocalRule, Operand, ProductRule
from matgrad_cli.core.network_proof import (
    NetworkProof,
    NetworkProofReport,
    activation_slope,
    activation_value,
    network_setting,
    prove_network,
)
from matgrad_cli.core.proof import ShapeMismatch
from matgrad_cli.errors import InputError, SizeError
from matgrad_cli.present import render

from .conftest import run_cli as run
from .conftest import run_pdflatex

ACTIVATIONS = ("generic", "identity", "relu", "leaky-relu", "sigmoid", "tanh")


def _proof(report: NetworkProofReport, name: str) -> NetworkProof:
    return next(proof for proof in report.proofs if proof.name == name)


@pytest.fixture(scope="module")
def sigmoid() -> NetworkProofReport:
    return prove_network((3,), activation="sigmoid")


# --- the proof itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("hidden", [(), (2,), (4, 3)])
def test_every_rule_is_proved_for_every_activation_and_depth(
    activation: str, hidden: tuple[int, ...]
) -> None:
    output = activation if not hidden else "identity"
    report = prove_network(hidden, activation=activation, output_activation=output)
    assert report.proved, [proof.identity for proof in report.proofs if not proof.proved]
    depth = len(hidden) + 1
    expected = [f"A{depth}"] if not hidden and activation != "identity" else []
    for layer in range(depth, 0, -1):
        expected += [f"W{layer}", f"b{layer}", "X" if layer == 1 else f"H{layer - 1}"]
        expected += [f"A{layer - 1}"] if layer > 1 else []
    assert [proof.name for proof in report.proofs] == expected


def test_four_hidden_layers_and_an_output_activation_are_proved() -> None:
    report = prove_network((2, 2, 2, 2), activation="tanh", output_activation="sigmoid")
    assert report.proved
    assert report.proofs[0].identity == "∂L/∂A5 = ∂L/∂H5 ⊙ σ′(A5)"
    assert report.proofs[-1].identity == "∂L/∂X = ∂L/∂A1 · W1ᵀ"
    assert [str(width) for width in report.setting.widths] == ["k", "d_1", "d_2", "d_3", "d_4", "n"]


def test_without_the_bias_no_bias_rule_is_proved() -> None:
    report = prove_network((2,), bias=False)
    assert report.proved
    assert not any(proof.name.startswith("b") for proof in report.proofs)


def test_the_activation_is_a_diagonal_factor(sigmoid: NetworkProofReport) -> None:
    st = network_setting(2)
    proof = _proof(sigmoid, "A1")
    kinds = [step.kind for step in proof.steps]
    assert kinds == [
        "definition", "differentiation", "chain rule", "sum over", "sum over", "matrix product",
    ]  # fmt: skip
    a, u = sympy.IndexedBase("a1"), sympy.IndexedBase("u1")
    i, j, p, q = st.i, st.j, st.p, st.q
    local = proof.steps[1].expr
    # ∂h_{p,q}/∂a_{i,j} = δ_{i,p} δ_{j,q} σ′(a_{p,q}): zero off the diagonal of vec.
    assert local.has(sympy.KroneckerDelta(i, p))
    assert local.has(sympy.KroneckerDelta(j, q))
    assert local.subs({p: 1, q: 1, i: 1, j: 2}) == 0
    sigma = 1 / (1 + sympy.exp(-a[i, j]))
    assert sympy.simplify(proof.steps[-2].expr - u[i, j] * sigma * (1 - sigma)) == 0


def test_relu_derivative_is_written_by_its_definition() -> None:
    report = prove_network((2,), activation="relu")
    proof = _proof(report, "A1")
    defined = next(step for step in proof.steps if step.kind == "activation derivative")
    assert defined.expr.has(sympy.Heaviside)
    assert not defined.expr.has(sympy.Derivative)
    st, a, u = network_setting(2), sympy.IndexedBase("a1"), sympy.IndexedBase("u1")
    assert proof.steps[-1].expr == u[st.i, st.j] * sympy.Heaviside(a[st.i, st.j], 0)


def test_the_leaky_relu_slope_enters_the_derivative() -> None:
    report = prove_network((2,), activation="leaky-relu", slope="1/20")
    assert report.proved
    last = _proof(report, "A1").steps[-1].expr
    assert last.has(sympy.Rational(1, 20))
    assert last.has(sympy.Rational(19, 20))


def test_each_rule_states_the_recursion(sigmoid: NetworkProofReport) -> None:
    assert [proof.identity for proof in sigmoid.proofs] == [
        "∂L/∂W2 = H1ᵀ · ∂L/∂A2",
        "∂L/∂b2 = 1ᵀ · ∂L/∂A2",
        "∂L/∂H1 = ∂L/∂A2 · W2ᵀ",
        "∂L/∂A1 = ∂L/∂H1 ⊙ σ′(A1)",
        "∂L/∂W1 = Xᵀ · ∂L/∂A1",
        "∂L/∂b1 = 1ᵀ · ∂L/∂A1",
        "∂L/∂X = ∂L/∂A1 · W1ᵀ",
    ]


# --- an independent cross-check: the proved entries, chained, against sympy.diff ----------------


def _at(expr: Any, values: dict[Any, int], indices: dict[Any, int]) -> Any:
    """A proved entry at explicit sizes and indices, its sums written out."""
    return expr.subs({**values, **indices}).doit()


def test_the_proved_rules_chained_at_explicit_sizes_agree_with_sympy_diff() -> None:
    """m = 2, k = 2, d₁ = 3, n = 2, the sigmoid: ∂L/∂X and ∂L/∂W1 from the proved entries, each
    layer's symbols replaced by what the layer above gives, against sympy.diff of L = Σ c·A2."""
    report = prove_network((3,), activation="sigmoid", output_activation="tanh")
    st = network_setting(2)
    m, k, d1, n = 2, 2, 3, 2
    sizes = dict(zip((st.m, *st.widths), (m, k, d1, n), strict=True))
    x = sympy.Matrix(m, k, lambda i, j: sympy.Symbol(f"x_{i + 1}_{j + 1}"))
    w = [sympy.Matrix(k, d1, lambda i, j: sympy.Symbol(f"w1_{i + 1}_{j + 1}")),
         sympy.Matrix(d1, n, lambda i, j: sympy.Symbol(f"w2_{i + 1}_{j + 1}"))]  # fmt: skip
    b = [sympy.Matrix(1, d1, lambda _, j: sympy.Symbol(f"b1_{j + 1}")),
         sympy.Matrix(1, n, lambda _, j: sympy.Symbol(f"b2_{j + 1}"))]  # fmt: skip
    c = sympy.Matrix(m, n, lambda i, j: sympy.Symbol(f"c_{i + 1}_{j + 1}"))
    a1 = x * w[0] + sympy.ones(m, 1) * b[0]
    h1 = a1.applyfunc(lambda e: 1 / (1 + sympy.exp(-e)))
    a2 = h1 * w[1] + sympy.ones(m, 1) * b[1]
    h2 = a2.applyfunc(sympy.tanh)
    loss = sum(c[i, j] * h2[i, j] for i in range(m) for j in range(n))
    values: dict[Any, Any] = {}
    for name, matrix in (("x", x), ("w1", w[0]), ("w2", w[1]), ("a1", a1), ("a2", a2)):
        values |= {sympy.IndexedBase(name)[i + 1, j + 1]: matrix[i, j]
                   for i in range(matrix.rows) for j in range(matrix.cols)}  # fmt: skip
    values |= {sympy.IndexedBase("h1")[i + 1, j + 1]: h1[i, j] for i in range(m) for j in range(d1)}
    values |= {sympy.IndexedBase("u2")[i + 1, j + 1]: c[i, j] for i in range(m) for j in range(n)}
    proved = {proof.name: proof.steps[-1].expr for proof in report.proofs}
    # From the top down, each proved ∂L/∂(matrix) becomes the symbols of the rule below it.
    for name, letter in (("A2", "g2"), ("H1", "u1"), ("A1", "g1")):
        rows, cols = {"A2": (m, n), "H1": (m, d1), "A1": (m, d1)}[name]
        free = (st.i, st.r) if name == "H1" else (st.i, st.j)
        entries = {}
        for i in range(1, rows + 1):
            for j in range(1, cols + 1):
                at = dict(zip(free, (i, j), strict=True))
                entries[sympy.IndexedBase(letter)[i, j]] = _at(proved[name], sizes, at).subs(values)
        values |= entries
    for name, matrix, free in (("X", x, (st.i, st.r)), ("W1", w[0], (st.r, st.j))):
        for i in range(matrix.rows):
            for j in range(matrix.cols):
                entry = _at(proved[name], sizes, dict(zip(free, (i + 1, j + 1), strict=True))).subs(
                    values
                )
                direct = sympy.diff(loss, matrix[i, j])
                point = {s: sympy.Rational(1 + hash(str(s)) % 7, 5) for s in direct.free_symbols}
                assert abs(float((entry - direct).subs(point).evalf(30))) < 1e-20, (name, i, j)


# --- wrong rules and failed steps are NOT proved -------------------------------------------------

WRONG_RULES = {
    "a forgotten σ′": replace(RULES, local=LocalRule(-1, derivative=False)),
    "σ′ at the wrong layer": replace(RULES, local=LocalRule(0)),
    "W instead of Wᵀ": replace(RULES, inputs=ProductRule(Operand("G"), Operand("W"))),
    "the bias summed over the wrong axis": replace(
        RULES, bias=ProductRule(Operand("G"), Operand("1", along="units"))
    ),
    "the wrong layer's activations": replace(
        RULES, weights=ProductRule(Operand("H", 0, transposed=True), Operand("G"))
    ),
    "a forgotten σ′ at the output": replace(RULES, output=LocalRule(0, derivative=False)),
}


@pytest.mark.parametrize("mistake", WRONG_RULES)
@pytest.mark.parametrize("activation", ["generic", "relu", "sigmoid"])
def test_a_wrong_rule_is_not_proved(mistake: str, activation: str) -> None:
    report = prove_network(
        (2,), activation=activation, output_activation="tanh", rules=WRONG_RULES[mistake]
    )
    assert not report.proved
    failed = [proof for proof in report.proofs if not proof.proved]
    assert failed
    for proof in failed:
        assert proof.steps[-1].kind == "matrix product"
    for form in ("latex", "text", "markdown"):
        shown = render(report, form)
        assert "NOT proved" in shown
        for proof in failed:
            assert rf"\boxed{{{proof.identity}" not in shown
    assert "NOT proved" in render(report, "text").split("The backward pass")[-1]


def test_a_forgotten_sigma_prime_differs_by_the_missing_factor() -> None:
    report = prove_network((2,), activation="sigmoid", rules=WRONG_RULES["a forgotten σ′"])
    step = _proof(report, "A1").steps[-1]
    assert not step.proved
    assert step.detail is not None
    assert getattr(step.detail, "gap", 0) != 0


def test_w_instead_of_its_transpose_is_a_shape_mismatch() -> None:
    report = prove_network((2,), rules=WRONG_RULES["W instead of Wᵀ"])
    assert isinstance(_proof(report, "H1").steps[-1].detail, ShapeMismatch)


def test_a_cas_step_that_raises_is_not_proved(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no derivative today")

    monkeypatch.setattr(sympy, "diff", broken)
    report = prove_network((2,), activation="sigmoid")
    assert not report.proved
    assert all(proof.steps[-1].kind == "differentiation" for proof in report.proofs)
    assert "no derivative today" in render(report, "text")


def test_a_step_over_its_time_limit_is_not_proved() -> None:
    report = prove_network((2,), activation="sigmoid", step_seconds=1e-6)
    assert not report.proved


def test_bad_arguments_are_refused_before_any_work() -> None:
    with pytest.raises(SizeError):
        prove_network((2, 2, 2, 2, 2))
    with pytest.raises(SizeError):
        prove_network((0,))
    with pytest.raises(InputError):
        prove_network((2,), activation="swish")
    with pytest.raises(InputError):
        prove_network((2,), activation="relu", slope="0.1")
    with pytest.raises(InputError):
        prove_network("2")


def test_the_activations_in_sympy_are_those_of_the_activations_module() -> None:
    e = sympy.Symbol("e")
    sigmoid = activation_value(_named("sigmoid"), e)
    assert sympy.simplify(sympy.diff(sigmoid, e) - activation_slope(_named("sigmoid"), e)) == 0
    tanh = activation_value(_named("tanh"), e)
    assert sympy.simplify(sympy.diff(tanh, e) - activation_slope(_named("tanh"), e)) == 0
    assert activation_slope(_named("relu"), e) == sympy.Heaviside(e, 0)
    assert activation_slope(_named("relu"), sympy.Integer(0)) == 0


def _named(name: str) -> Any:
    from matgrad_cli.core.activations import activation_named

    return activation_named(name)


# --- the documents -------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["latex", "text", "markdown", "json", "html", "beamer"])
def test_every_format_renders_the_proof(sigmoid: NetworkProofReport, form: str) -> None:
    shown = render(sigmoid, form)
    assert shown == render(prove_network((3,), activation="sigmoid"), form)
    if form in ("latex", "markdown"):
        assert shown.count(r"\boxed{") == len(sigmoid.proofs)
        assert r"\operatorname{diag}" in shown


def test_the_text_view_fits_80_columns(sigmoid: NetworkProofReport) -> None:
    text = render(sigmoid, "text")
    assert max(len(line) for line in text.splitlines()) <= 80
    assert text.count("✓ Proved for every size") == len(sigmoid.proofs)


def test_json_lists_every_line_with_latex_and_sympy(sigmoid: NetworkProofReport) -> None:
    data = json.loads(render(sigmoid, "json"))
    assert data["kind"] == "network proof"
    assert data["proved"] is True
    assert data["layers"] == 2
    assert data["activation"] == "sigmoid"
    assert data["widths"] == ["k", "d_1", "n"]
    local = next(item for item in data["identities"] if item["gradient"] == "A1")
    labels = ("x", "a1", "h1", "u1", "g1", "w1", "b1", "a2", "g2", "w2", "b2")
    bases: dict[str, Any] = {label: sympy.IndexedBase(label) for label in labels}
    st = network_setting(2)
    bases |= {"sigma": sympy.Function("sigma"), "m": st.m}
    bases |= {str(width): width for width in st.widths}
    bases |= {str(index): index for index in (st.i, st.r, st.j, st.p, st.q, st.s)}
    step_exprs = [step.expr for step in _proof(sigmoid, "A1").steps]
    assert [step["kind"] for step in local["steps"]][:2] == ["definition", "differentiation"]
    for step in local["steps"]:
        assert sympy.sympify(step["sympy"], locals=bases) == step_exprs.pop(0)


@pytest.mark.parametrize(
    ("hidden", "activation", "output", "slope"),
    [((3,), "sigmoid", "identity", None), ((2, 2), "leaky-relu", "relu", "1/20")],
)
def test_the_standalone_proof_compiles(
    hidden: tuple[int, ...], activation: str, output: str, slope: str | None, tmp_path: Path
) -> None:
    report = prove_network(hidden, activation=activation, output_activation=output, slope=slope)
    result = run_pdflatex(render(report, "latex", standalone=True), tmp_path, "proof")
    assert result.returncode == 0, result.stdout[-3000:]
    log = (tmp_path / "proof.log").read_text(encoding="latin-1")
    assert "Overfull \\hbox" not in log
    assert "Undefined control sequence" not in log


def test_a_not_proved_document_compiles_too(tmp_path: Path) -> None:
    report = prove_network((2,), activation="sigmoid", rules=WRONG_RULES["W instead of Wᵀ"])
    result = run_pdflatex(render(report, "latex", standalone=True), tmp_path, "proof")
    assert result.returncode == 0, result.stdout[-3000:]


# --- the command ---------------------------------------------------------------------------------


def test_prove_a_network_prints_the_proof_and_a_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["prove", "--hidden", "2", "--activation", "sigmoid"], capsys)
    assert code == 0
    assert out == render(prove_network((2,), activation="sigmoid"), "latex")
    assert err.startswith("matgrad: proved for every m and every width (k, d_1, n): ")
    assert err.count("\n") == 1


def test_prove_one_layer_with_an_output_activation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["prove", "--output-activation", "relu", "-f", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["layers"] == 1
    assert data["activation"] is None
    assert data["identities"][0]["identity"] == "∂L/∂A1 = ∂L/∂H1 ⊙ σ′(A1)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hidden", "0"], "hidden width 1 must be a positive integer"),
        (["--hidden", "2,2,2,2,2"], "above the limit of 4"),
        (["--activation", "relu"], "give --hidden too"),
        (["--hidden", "2", "--samples", "columns"], "samples as rows"),
        (["--hidden", "2", "--slope", "0.1"], "leaky-relu"),
        (["--hidden", "2", "--activation", "leaky-relu", "--slope", "2"], "between 0 and 1"),
        (["--hidden", "2", "-f", "text", "--standalone"], "--standalone"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "proof.tex"
    code, out, err = run(["prove", *args, "-o", str(target)], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("matgrad: error: ")
    assert err.count("\n") == 1
    assert message in err
    assert not target.exists()


def test_prove_writes_a_file_and_refuses_to_clobber_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "proof.tex"
    code, _, _ = run(["prove", "--hidden", "2", "-o", str(target), "--standalone"], capsys)
    assert code == 0
    assert target.read_text(encoding="utf-8").startswith("\\documentclass")
    code, _, err = run(["prove", "--hidden", "2", "-o", str(target)], capsys)
    assert code == 2
    assert "exists" in err


def test_a_cas_step_that_fails_makes_the_command_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no derivative today")

    monkeypatch.setattr(sympy, "diff", broken)
    code, out, err = run(["prove", "--hidden", "2", "-f", "text"], capsys)
    assert code == 1
    assert "✗ NOT proved" in out
    assert "✓ Proved" not in out
    code, out, err = run(["prove", "--hidden", "2"], capsys)
    assert code == 1
    assert err.startswith("matgrad: NOT proved: ")
    assert r"\boxed" not in out
