"""`matgrad prove` and `matgrad jacobian` with samples as columns (A = WX + b1ᵀ).

The proof: every step is what SymPy computes from the columns forward pass, the collapsed sums
are Σ_j w_{j,r} ∂L/∂a_{j,i}, Σ_i ∂L/∂a_{j,i} x_{r,i} and Σ_i ∂L/∂a_{j,i}, and wrong forms (the
rows rules, numerator layout, swapped indices) are NOT proved. The Jacobians: checked against
SymPy's own Matrix.jacobian of vec(WX) and sympy.kronecker_product (routes that share nothing
with matgrad's), the swapped Kronecker products rejected, and the views at 80 columns.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
import sympy
from rich.cells import cell_len

from matgrad_cli.core.jacobians import (
    JacobianDerivation,
    check_claim,
    identity,
    jacobian,
    kronecker,
    kronecker_formula,
    transposed,
)
from matgrad_cli.core.layer import COLUMNS, ROWS, Variable
from matgrad_cli.core.proof import Claim, ProofReport, prove, prove_identity
from matgrad_cli.core.proof_cas import Setting, setting
from matgrad_cli.errors import ArgumentError
from matgrad_cli.present import render
from matgrad_cli.present.prove_notation import proof_notation

from .conftest import run_cli as run

LAYOUTS = ("numerator", "denominator")


@pytest.fixture(scope="module")
def report() -> ProofReport:
    return prove(samples="columns")


# --- the proof ----------------------------------------------------------------------------------


def test_the_gradients_of_the_columns_layer_are_proved(report: ProofReport) -> None:
    assert report.proved
    assert report.samples == "columns"
    assert [proof.identity for proof in report.proofs] == [
        "∂L/∂X = Wᵀ · ∂L/∂A",
        "∂L/∂W = ∂L/∂A · Xᵀ",
        "∂L/∂b = ∂L/∂A · 1",
    ]
    without_bias = prove(bias=False, samples="columns")
    assert without_bias.proved
    assert [proof.variable for proof in without_bias.proofs] == ["X", "W"]


def test_each_step_is_what_sympy_computes_from_the_columns_forward_pass(
    report: ProofReport,
) -> None:
    st = setting("columns")
    G, x, w, b = st.G, st.input, st.w, st.b
    i, r, j, p, q, s = st.i, st.r, st.j, st.p, st.q, st.s
    # a_{p,q} = Σ_s w_{p,s} x_{s,q} + b_p: p runs over the n outputs, q over the m samples.
    forward = sympy.Sum(w[p, s] * x[s, q], (s, 1, st.k)) + b[p]
    entries = {"X": x[r, i], "W": w[j, r], "b": b[j]}
    # ∂L/∂x_{r,i} = Σ_j w_{j,r} g_{j,i}, ∂L/∂w_{j,r} = Σ_i g_{j,i} x_{r,i}, ∂L/∂b_j = Σ_i g_{j,i}
    # (with the summed index named p or q, as the proof names it).
    results = {
        "X": sympy.Sum(w[p, r] * G[p, i], (p, 1, st.n)),
        "W": sympy.Sum(G[j, q] * x[r, q], (q, 1, st.m)),
        "b": sympy.Sum(G[j, q], (q, 1, st.m)),
    }
    for proof in report.proofs:
        steps = proof.steps
        assert proof.target.entry == entries[proof.variable]
        assert steps[0].expr == forward
        assert steps[1].expr == sympy.diff(forward, entries[proof.variable])
        assert steps[2].expr == sympy.Sum(G[p, q] * steps[1].expr, (q, 1, st.m), (p, 1, st.n))
        assert sympy.simplify(steps[-2].expr - results[proof.variable]) == 0
        assert steps[-1].proved
        assert steps[-1].kind == "matrix product"


def test_the_proof_reads_as_the_columns_convention(report: ProofReport) -> None:
    written = {proof.variable: proof_notation(proof) for proof in report.proofs}
    x_steps = written["X"].steps
    assert x_steps[0].text == "Σ_{s=1}^{k} w_{p,s} x_{s,q} + b_p"
    assert x_steps[-2].text == "Σ_{p=1}^{n} w_{p,r} g_{p,i}"
    assert x_steps[-1].text == "(Wᵀ · ∂L/∂A)_{r,i}"
    assert written["W"].steps[-2].text == "Σ_{q=1}^{m} g_{j,q} x_{r,q}"
    assert written["b"].ranges == "1 ≤ j ≤ n"
    assert "plus the bias b_p of its row" in x_steps[0].description
    text = " ".join(render(report, "text").split())  # the words, whatever the line breaks
    assert "all matrices X (k × m), W (n × k) and b (n × 1)" in text
    assert "Samples are the columns of X: A = WX + b1ₘᵀ" in text
    assert "z_{" not in text
    assert "Z (" not in text
    latex = render(report, "latex")
    assert r"\boxed{\frac{\partial L}{\partial X} = W^\top \frac{\partial L}{\partial A}}" in latex
    assert r"$W$ & $n \times k$ & $w_{p,s}$ & $1 \le p \le n$, $1 \le s \le k$" in latex


def _wrong(variable: Variable, text: str, build: Callable[[Setting], Any]) -> Claim:
    return Claim(variable, rf"\text{{{text}}}", text, build)


WRONG = [
    # Numerator layout: the transpose of the gradient, of the wrong shape.
    pytest.param(
        _wrong("W", "X Gᵀ", lambda st: st.input_matrix * st.G_matrix.T),
        "is k × n, but ∂L/∂W has the shape of W, n × k",
        id="dW-in-numerator-layout",
    ),
    pytest.param(
        _wrong("X", "Gᵀ W", lambda st: st.G_matrix.T * st.W_matrix),
        "is m × k, but ∂L/∂X has the shape of X, k × m",
        id="dX-transposed",
    ),
    pytest.param(
        _wrong(
            "X",
            "sum_p w_{p,i} g_{p,r}",
            lambda st: sympy.Sum(st.w[st.p, st.i] * st.G[st.p, st.r], (st.p, 1, st.n)),
        ),
        "the claim is false",
        id="dX-with-swapped-indices",
    ),
    pytest.param(
        _wrong("b", "column sums of G", lambda st: sympy.Sum(st.G[st.p, st.j], (st.p, 1, st.n))),
        "the claim is false",
        id="db-as-the-rows-column-sums",
    ),
    pytest.param(
        _wrong("W", "G Xᵀ Wᵀ W", lambda st: st.G_matrix * st.input_matrix.T * st.W_matrix.T
               * st.W_matrix),
        "the claim is false: with the sums written out at m = 2, k = 3, n = 4",
        id="dW-with-an-extra-factor",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("claim", "reason"), WRONG)
def test_a_wrong_form_is_not_proved_in_columns(claim: Claim, reason: str) -> None:
    proof = prove_identity(claim.variable, claim=claim, samples="columns")
    assert not proof.proved
    assert reason in proof_notation(proof).reason
    assert all(step.proved for step in proof.steps[:-1])


def test_the_rows_rules_are_not_proved_for_the_columns_layer() -> None:
    # The rows identity ∂L/∂W = Zᵀ·G, written in the columns matrices, has the wrong shape.
    rows_rule = _wrong("W", "Xᵀ G", lambda st: st.input_matrix.T * st.G_matrix)
    proof = prove_identity("W", claim=rows_rule, samples="columns")
    assert not proof.proved


def test_claims_and_conventions_are_checked() -> None:
    with pytest.raises(ArgumentError, match="samples must be 'rows' or 'columns'"):
        prove(samples="diagonal")
    with pytest.raises(ArgumentError, match="with samples as columns, the gradients proved"):
        prove(samples="columns", claims={"Z": _wrong("Z", "G W", lambda st: st.G_matrix)})
    assert prove(samples="rows").proofs[0].variable == "Z"


# --- the Jacobians ------------------------------------------------------------------------------


def _sympy_jacobians(m: int, k: int, n: int) -> tuple[sympy.Matrix, sympy.Matrix, Any, Any]:
    """∂vec(WX)/∂vec(W)ᵀ and ∂vec(WX)/∂vec(X)ᵀ by SymPy's own Matrix.jacobian, with matgrad's
    symbol names, and the matrices W and X."""
    W = sympy.Matrix(n, k, lambda a, c: sympy.Symbol(f"w_{a + 1}_{c + 1}"))
    X = sympy.Matrix(k, m, lambda a, c: sympy.Symbol(f"x_{a + 1}_{c + 1}"))

    def vec(matrix: sympy.Matrix) -> sympy.Matrix:
        return matrix.T.reshape(matrix.rows * matrix.cols, 1)

    product = vec(W * X)
    return product.jacobian(vec(W)), product.jacobian(vec(X)), W, X


def _as_sympy(entries: Any) -> sympy.Matrix:
    return sympy.Matrix([[sympy.sympify(str(value)) for value in row] for row in entries])


@pytest.mark.parametrize(("m", "k", "n"), list(itertools.product((1, 2, 3), repeat=3)))
def test_the_jacobians_are_sympys_own_and_its_kronecker_products(m: int, k: int, n: int) -> None:
    jac_w, jac_x, W, X = _sympy_jacobians(m, k, n)
    # The Kronecker forms of the brief: vec(WX) = (I_m ⊗ W) vec(X) = (Xᵀ ⊗ I_n) vec(W).
    assert jac_x == sympy.kronecker_product(sympy.eye(m), W)
    assert jac_w == sympy.kronecker_product(X.T, sympy.eye(n))
    for layout in LAYOUTS:
        view = jacobian(m, k, n, layout=layout, samples="columns")
        assert view.verified
        numerator = layout == "numerator"
        assert _as_sympy(view.jacobians["W"].entries) == (jac_w if numerator else jac_w.T)
        assert _as_sympy(view.jacobians["X"].entries) == (jac_x if numerator else jac_x.T)
        assert _as_sympy(view.jacobians["X"].kronecker) == (jac_x if numerator else jac_x.T)


def test_the_kronecker_forms_are_named_in_each_layout() -> None:
    assert kronecker_formula(COLUMNS, "X", "numerator") == "I_m ⊗ W"
    assert kronecker_formula(COLUMNS, "W", "numerator") == "Xᵀ ⊗ I_n"
    assert kronecker_formula(COLUMNS, "X", "denominator") == "I_m ⊗ Wᵀ"
    assert kronecker_formula(COLUMNS, "W", "denominator") == "X ⊗ I_n"
    assert kronecker_formula(ROWS, "W", "numerator") == "I_n ⊗ Z"
    assert kronecker_formula(ROWS, "Z", "numerator") == "Wᵀ ⊗ I_m"
    view = jacobian(2, 3, 4, samples="columns")
    assert [check.identity for check in view.checks] == [
        "∂vec(A)/∂vec(W)ᵀ = Xᵀ ⊗ I_n",
        "∂vec(A)/∂vec(X)ᵀ = I_m ⊗ W",
        "vec(A) = (Xᵀ ⊗ I_n) vec(W)",
        "vec(A) = (I_m ⊗ W) vec(X)",
        "∂L/∂W = ∂L/∂A · Xᵀ",
        "∂L/∂X = Wᵀ · ∂L/∂A",
    ]


@pytest.mark.parametrize(("m", "k", "n"), [(2, 3, 4), (3, 3, 3), (2, 2, 2)])
def test_a_swapped_or_transposed_kronecker_form_is_rejected(m: int, k: int, n: int) -> None:
    view = jacobian(m, k, n, samples="columns")
    weights, given = view.symbols.weights, view.symbols.input
    # The factors in the wrong order: the same shape, other entries.
    swapped_x = check_claim(view, "X", kronecker(weights, identity(m)), "W ⊗ I_m")
    swapped_w = check_claim(view, "W", kronecker(identity(n), transposed(given)), "I_n ⊗ Xᵀ")
    assert swapped_x.shape == swapped_x.claimed_shape
    assert not swapped_x.holds
    assert swapped_w.shape == swapped_w.claimed_shape
    assert not swapped_w.holds
    assert swapped_x.mismatch_count > 0
    assert swapped_w.mismatch_count > 0
    # The rows form I_n ⊗ X, and the denominator form in numerator layout.
    assert not check_claim(view, "W", kronecker(identity(n), given), "I_n ⊗ X").holds
    assert not check_claim(view, "X", kronecker(identity(m), transposed(weights)), "I_m ⊗ Wᵀ").holds
    # The right form is accepted by the same check.
    assert check_claim(view, "X", kronecker(identity(m), weights), "I_m ⊗ W").holds


def test_the_notes_mistake_is_the_transposed_input_and_its_degenerate_sizes_are_computed() -> None:
    view = jacobian(2, 3, 4, samples="columns")
    assert view.notes_claim.identity == "∂vec(A)/∂vec(W)ᵀ = Xᵀ"
    assert not view.notes_claim.holds
    # Xᵀ ⊗ I_n is Xᵀ when n = 1 (numerator layout); X ⊗ I_n is Xᵀ only at 1×1×1.
    assert jacobian(3, 2, 1, samples="columns").notes_claim.holds
    assert jacobian(3, 2, 1, samples="columns").degenerate == "n = 1"
    denominator = jacobian(3, 2, 1, layout="denominator", samples="columns")
    assert not denominator.notes_claim.holds
    assert denominator.degenerate == "m = k = n = 1"
    assert jacobian(1, 1, 1, layout="denominator", samples="columns").notes_claim.holds


def _views(view: JacobianDerivation) -> dict[str, str]:
    return {fmt: render(view, fmt) for fmt in ("text", "latex", "markdown", "json")}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_views_speak_of_x_and_fit_80_columns(layout: str) -> None:
    view = jacobian(2, 3, 4, layout=layout, samples="columns")
    shown = _views(view)
    assert max(cell_len(line) for line in shown["text"].splitlines()) <= 80
    assert "Zᵀ" not in shown["text"]
    assert "z_" not in shown["text"]
    assert "Z^\\top" not in shown["latex"]
    assert "z_{" not in shown["latex"]
    assert "samples as columns" in shown["latex"]
    data = json.loads(shown["json"])
    assert data["samples"] == "columns"
    assert set(data["jacobians"]) == {"W", "X"}
    assert data["gradients"]["X"][0][0] == "w_1_1*dA_1_1 + w_2_1*dA_2_1 + w_3_1*dA_3_1 + " + (
        "w_4_1*dA_4_1"
    )
    assert "x_r_i" in data["conventions"]["variables"]


def test_prove_views_fit_80_columns_and_state_the_convention(report: ProofReport) -> None:
    text = render(report, "text")
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    data = json.loads(render(report, "json"))
    assert data["samples"] == "columns"
    assert "samples" not in json.loads(render(prove(), "json"))


def test_the_api_refuses_an_unknown_convention() -> None:
    with pytest.raises(ArgumentError, match="samples must be 'rows' or 'columns'"):
        jacobian(2, 2, 2, samples="diagonal")


@pytest.mark.parametrize("command", ["prove", "jacobian"])
def test_an_unknown_convention_is_one_line_and_exit_2(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run([command, "--samples", "diagonal"], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("matgrad: error:")
