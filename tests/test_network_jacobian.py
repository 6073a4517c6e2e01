"""`matgrad jacobian --hidden …`: each layer's Jacobians of a network computed entry by entry,
against SymPy's own Jacobian and the Kronecker products, wrong forms rejected, the chain composed
against the derivation, the documents, the limits and the command line."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import sympy

import matgrad_cli.core.network_jacobians as module
from matgrad_cli.core.jacobians import kronecker, transposed
from matgrad_cli.core.network_derive import derive_network
from matgrad_cli.core.network_jacobians import (
    NETWORK_ENTRY_LIMIT,
    LayerJacobian,
    NetworkJacobians,
    check_claim,
    network_jacobian,
)
from matgrad_cli.errors import InputError, SizeError
from matgrad_cli.present import render

from .conftest import run_cli as run
from .conftest import run_pdflatex

ACTIVATIONS = ("generic", "identity", "relu", "leaky-relu", "sigmoid", "tanh")


def _jacobian(view: NetworkJacobians, kind: str, layer: int) -> LayerJacobian:
    return next(j for j in view.jacobians if j.kind == kind and j.layer == layer)


@pytest.fixture(scope="module")
def relu() -> NetworkJacobians:
    return network_jacobian(2, 3, (2,), 2, activation="relu")


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_every_activation_and_layout_is_verified(activation: str, layout: str) -> None:
    view = network_jacobian(
        2, 3, (2, 3), 2, activation=activation, output_activation="tanh", layout=layout
    )
    assert view.verified
    kinds = [(j.kind, j.layer) for j in view.jacobians]
    assert kinds[:4] == [("activation", 3), ("weights", 3), ("bias", 3), ("inputs", 3)]
    assert ("activation", 1) in kinds
    assert len(view.checks) == 2 * len(view.jacobians)


def test_one_layer_without_activation_has_no_activation_jacobian() -> None:
    view = network_jacobian(2, 2, (), 3, output_activation="identity")
    assert view.verified
    assert [j.kind for j in view.jacobians] == ["weights", "bias", "inputs"]


def test_the_jacobians_are_sympys_own(relu: NetworkJacobians) -> None:
    """The computed Jacobians are SymPy's Matrix.jacobian of vec(A1) by vec(W1) and vec(X)."""
    weights = _jacobian(relu, "weights", 1)
    x = sympy.Matrix(2, 3, lambda i, j: sympy.Symbol(f"x_{i + 1}_{j + 1}"))
    w = sympy.Matrix(3, 2, lambda i, j: sympy.Symbol(f"w1_{i + 1}_{j + 1}"))
    b = sympy.Matrix(1, 2, lambda _, j: sympy.Symbol(f"b1_{j + 1}"))
    a = x * w + sympy.ones(2, 1) * b
    expected = a.T.reshape(4, 1).jacobian(w.T.reshape(6, 1))  # column-major vec
    assert sympy.Matrix(weights.entries) == expected
    inputs = _jacobian(relu, "inputs", 1)
    assert sympy.Matrix(inputs.entries) == a.T.reshape(4, 1).jacobian(x.T.reshape(6, 1))


def test_the_activation_jacobian_is_diagonal(relu: NetworkJacobians) -> None:
    found = _jacobian(relu, "activation", 1)
    rows, cols = found.shape
    assert rows == cols == 4
    for i in range(rows):
        for j in range(cols):
            assert (found.entries[i][j] == 0) == (i != j)
    assert found.formula == "diag(σ′(vec A1))"


def test_denominator_layout_is_the_transpose() -> None:
    numerator = network_jacobian(2, 3, (2,), 2, activation="sigmoid")
    denominator = network_jacobian(2, 3, (2,), 2, activation="sigmoid", layout="denominator")
    for left, right in zip(numerator.jacobians, denominator.jacobians, strict=True):
        assert right.entries == transposed(left.entries)
        assert right.name.endswith(f"/∂vec({left.by})")
    assert _jacobian(denominator, "weights", 2).formula == "I_2 ⊗ H1ᵀ"
    assert _jacobian(denominator, "inputs", 2).formula == "W2 ⊗ I_2"


# --- wrong forms are rejected -------------------------------------------------------------------


def test_wrong_kronecker_forms_are_rejected(relu: NetworkJacobians) -> None:
    x = relu.network.sizes
    assert x.m == 2
    symbols = {str(s): s for j in relu.jacobians for row in j.entries for e in row
               for s in getattr(e, "free_symbols", ())}  # fmt: skip
    w2 = tuple(tuple(symbols[f"w2_{i}_{j}"] for j in (1, 2)) for i in (1, 2))
    identity = ((1, 0), (0, 1))
    right = check_claim(relu, "∂vec(A2)/∂vec(H1)ᵀ", kronecker(transposed(w2), identity), "W2ᵀ ⊗ I")
    assert right.holds
    wrong = check_claim(relu, "∂vec(A2)/∂vec(H1)ᵀ", kronecker(w2, identity), "W2 ⊗ I")
    assert not wrong.holds
    assert wrong.mismatch_count > 0
    swapped = check_claim(relu, "∂vec(A2)/∂vec(H1)ᵀ", kronecker(identity, w2), "I ⊗ W2")
    assert not swapped.holds


def test_a_missing_sigma_prime_is_rejected(relu: NetworkJacobians) -> None:
    found = _jacobian(relu, "activation", 1)
    eye = tuple(tuple(int(i == j) for j in range(4)) for i in range(4))
    assert not check_claim(relu, found.name, eye, "I (no σ′)").holds
    upstream = next(g for g in relu.gradients if g.name == "A1")
    forgotten = tuple(
        tuple(sympy.Symbol(f"dH1_{i}_{j}") for j in (1, 2)) for i in (1, 2)
    )  # ∂L/∂A1 = ∂L/∂H1, the σ′ forgotten
    assert not check_claim(relu, "A1", forgotten, "∂L/∂H1").holds
    assert check_claim(relu, "A1", upstream.expected, "∂L/∂H1 ⊙ σ′(A1)").holds


def test_the_bias_summed_over_the_wrong_axis_is_rejected(relu: NetworkJacobians) -> None:
    gradient = tuple(tuple(sympy.Symbol(f"dA2_{i}_{j}") for j in (1, 2)) for i in (1, 2))
    rows = tuple((row[0] + row[1],) for row in gradient)  # G·1, a column of m
    assert not check_claim(relu, "b2", rows, "∂L/∂A2 · 1").holds


def test_a_broken_kronecker_product_fails_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(module, "kronecker", lambda left, right: kronecker(right, left))
    view = network_jacobian(2, 3, (2,), 2, activation="sigmoid")
    assert not view.verified
    code, out, err = run(
        ["jacobian", "--hidden", "2", "--activation", "sigmoid", "-k", "3"], capsys
    )
    assert code == 1
    assert "NOT verified" in err
    assert "does NOT hold" in out


def test_a_claim_about_a_matrix_the_view_lacks_is_refused(relu: NetworkJacobians) -> None:
    with pytest.raises(InputError):
        check_claim(relu, "W7", ((0,),), "0")


# --- the chain, composed, against the derivation ------------------------------------------------


def test_the_chain_composed_is_the_derivations_gradient() -> None:
    """Each step's gradient in the symbols of the step above, substituted from the top down,
    with every aℓ and hℓ the forward pass's, equals derive_network's ∂L/∂X and ∂L/∂W1."""
    view = network_jacobian(2, 2, (3,), 2, activation="sigmoid")
    gradients = {g.name: sympy.Matrix(g.entries) for g in view.gradients}
    x = sympy.Matrix(2, 2, lambda i, j: sympy.Symbol(f"x_{i + 1}_{j + 1}"))
    w1 = sympy.Matrix(2, 3, lambda i, j: sympy.Symbol(f"w1_{i + 1}_{j + 1}"))
    b1 = sympy.Matrix(1, 3, lambda _, j: sympy.Symbol(f"b1_{j + 1}"))
    a1 = x * w1 + sympy.ones(2, 1) * b1
    forward = {sympy.Symbol(f"a1_{i + 1}_{j + 1}"): a1[i, j] for i in range(2) for j in range(3)}
    forward |= {
        sympy.Symbol(f"h1_{i + 1}_{j + 1}"): 1 / (1 + sympy.exp(-a1[i, j]))
        for i in range(2)
        for j in range(3)
    }
    dh1 = {
        sympy.Symbol(f"dH1_{i + 1}_{j + 1}"): gradients["H1"][i, j]
        for i in range(2)
        for j in range(3)
    }
    da1 = {
        sympy.Symbol(f"dA1_{i + 1}_{j + 1}"): gradients["A1"][i, j].xreplace(dh1)
        for i in range(2)
        for j in range(3)
    }
    derived = derive_network(2, 2, (3,), 2, activation="sigmoid", engine="sympy")
    rng = random.Random(12)
    for name in ("X", "W1"):
        chained = gradients[name].xreplace(da1).xreplace(forward)
        expected = sympy.Matrix(derived.gradient_matrix(name))
        point = {
            s: sympy.Rational(rng.randint(-9, 9), 7) for s in (chained - expected).free_symbols
        }
        gap = (chained - expected).subs(point).evalf(40)
        assert all(abs(float(entry)) < 1e-30 for entry in gap), name


# --- limits, documents and the command ----------------------------------------------------------


def test_the_work_is_bounded_before_it_starts() -> None:
    with pytest.raises(SizeError, match=str(NETWORK_ENTRY_LIMIT)):
        network_jacobian(20, 20, (20,), 20)
    with pytest.raises(InputError):
        network_jacobian(2, 2, (2,), 2, layout="diagonal")
    with pytest.raises(InputError):
        network_jacobian(2, 2, (2,), 2, activation="swish")


@pytest.mark.parametrize("form", ["latex", "text", "markdown", "json", "html", "beamer"])
def test_every_format_renders(relu: NetworkJacobians, form: str) -> None:
    shown = render(relu, form)
    assert shown == render(network_jacobian(2, 3, (2,), 2, activation="relu"), form)
    if form in ("latex", "markdown"):
        assert r"\operatorname{diag}" in shown
        assert r"\otimes" in shown


def test_json_has_every_jacobian_with_its_entries(relu: NetworkJacobians) -> None:
    data = json.loads(render(relu, "json"))
    assert data["kind"] == "network jacobian"
    assert data["verified"] is True
    names = [item["name"] for item in data["jacobians"]]
    assert names[0] == "∂vec(A2)/∂vec(W2)ᵀ"
    assert "∂vec(H1)/∂vec(A1)ᵀ" in names
    first = data["jacobians"][0]
    assert first["shape"] == [4, 4]
    assert [[sympy.sympify(e) for e in row] for row in first["entries"]] == [
        list(row) for row in _jacobian(relu, "weights", 2).entries
    ]
    assert set(data["gradients"]) == {"W2", "b2", "H1", "A1", "W1", "b1", "X"}
    assert all(check["holds"] for check in data["checks"])


def test_the_text_view_fits_80_columns(relu: NetworkJacobians) -> None:
    text = render(relu, "text")
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "relu′(a1_1_1)" in text


def test_large_jacobians_are_elided_unless_full() -> None:
    view = network_jacobian(4, 4, (4,), 4, activation="tanh")
    assert "⋱" in render(view, "text")
    assert r"\ddots" in render(view, "latex")
    assert r"\ddots" not in render(view, "latex", full=True)


@pytest.mark.parametrize(
    ("args"),
    [
        ["--hidden", "2", "--activation", "sigmoid", "--output-activation", "tanh"],
        ["--hidden", "2,3", "--activation", "leaky-relu", "--slope", "1/20", "--layout",
         "denominator"],
    ],
)  # fmt: skip
def test_the_standalone_document_compiles(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["jacobian", *args, "--standalone"], capsys)
    assert code == 0
    result = run_pdflatex(out, tmp_path, "jacobian")
    assert result.returncode == 0, result.stdout[-3000:]
    log = (tmp_path / "jacobian.log").read_text(encoding="latin-1")
    assert "Undefined control sequence" not in log


def test_the_command_prints_the_view_and_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["jacobian", "--hidden", "2", "--activation", "relu"], capsys)
    assert code == 0
    assert out == render(network_jacobian(2, 2, (2,), 2, activation="relu"), "latex")
    assert err == (
        "matgrad: verified (m=2, k=2, hidden 2, n=2, numerator layout): 14 of 14 checks hold\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hidden", "20", "-m", "20", "-k", "20", "-n", "20"], "above the limit of 100000"),
        (["--hidden", "0"], "positive integer"),
        (["--hidden", "2", "--samples", "columns"], "samples as rows"),
        (["--activation", "relu"], "give --hidden too"),
        (["--hidden", "2", "--slope", "0.5"], "leaky-relu"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "j.tex"
    code, out, err = run(["jacobian", *args, "-o", str(target)], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("matgrad: error: ")
    assert err.count("\n") == 1
    assert message in err
    assert not target.exists()
