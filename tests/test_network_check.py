"""`matgrad check` for networks: the claim language, the judge, and the command line."""

from __future__ import annotations

import json

import pytest

from matgrad_cli.core.claims.meter import CheckTooCostly
from matgrad_cli.core.claims.network_hints import correct_formula
from matgrad_cli.core.claims.network_judge import check_network, network_sizes_checked
from matgrad_cli.core.claims.network_names import NetworkNames
from matgrad_cli.core.claims.network_parser import parse_network_claim
from matgrad_cli.core.claims.tree import to_text
from matgrad_cli.core.network_derive import network_description
from matgrad_cli.errors import ClaimSyntaxError, InputError

from .conftest import run_cli

TWO = NetworkNames(depth=2, output_activated=False, bias=True)


def verdict(claim: str, **network: object) -> tuple[bool, str | None]:
    (found,) = check_network(claim, **network).verdicts  # type: ignore[arg-type]
    return found.correct, found.hint_kind


# --- the language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("dW1 = X.T @ ((G @ W2.T) * relu'(A1))", "dW1 = Xᵀ @ (G @ W2ᵀ * relu'(A1))"),
        ("db1 = sum((G @ W2.T) * (A1 > 0), axis=0)", "db1 = sum(G @ W2ᵀ * (A1 > 0), axis=0)"),
        ("dA1 = dH1 * H1 * (1 - H1)", "dA1 = dH1 * H1 * (1 - H1)"),
        ("dA1 = dH1 ⊙ σ′(A1)", "dA1 = dH1 * σ'(A1)"),
        ("dA1 = dH1 \\odot sigma'(A1)", "dA1 = dH1 * σ'(A1)"),
        ("dA1 = dH1 .* relu_prime(A1)", "dA1 = dH1 * relu'(A1)"),
        ("dA1 = dH1 * leaky-relu'(A1)", "dA1 = dH1 * leaky_relu'(A1)"),
        (
            "dA1 = dH1 * torch.sigmoid(A1) * (1 - torch.sigmoid(A1))",
            "dA1 = dH1 * sigmoid(A1) * (1 - sigmoid(A1))",
        ),
        ("∂L/∂W1 = Xᵀ · ∂L/∂A1", "dW1 = Xᵀ @ dA1"),
        ("\\frac{\\partial L}{\\partial W2} = H1^T G", "dW2 = H1ᵀ @ G"),
        ("dW2 = H1.T @ dA2", "dW2 = H1ᵀ @ G"),
        ("dX = np.matmul(dA1, W1.T)", "dX = dA1 @ W1ᵀ"),
        ("db2 = G.sum(0)", "db2 = sum(G, axis=0)"),
        ("dH1 = delta @ W2.T", "dH1 = G @ W2ᵀ"),
        ("dA1 = dH1 * np.heaviside(A1, 0)", "dA1 = dH1 * (A1 > 0)"),
        ("dA1 = dH1 * np.where(A1 > 0, 1, 0)", "dA1 = dH1 * (A1 > 0)"),
        ("dA1 = np.where(A1 > 0, dH1, 0)", "dA1 = (A1 > 0) * dH1"),
        (
            "dA1 = np.where(A1 > 0, dH1, 0.5 * dH1)",
            "dA1 = (A1 > 0) * dH1 + (1 - (A1 > 0)) * (0.5 * dH1)",
        ),
        (
            "\\frac{\\partial L}{\\partial W_1} = X^\\top ((G W_2^\\top) \\odot \\sigma'(A_1))",
            "dW1 = Xᵀ @ (G @ W2ᵀ * σ'(A1))",
        ),
        ("dW_{1} = X^T dA_{1}", "dW1 = Xᵀ @ dA1"),
        ("\\nabla_{W_2} L = H_1^T G", "dW2 = H1ᵀ @ G"),
        ("dA1 = dH1 * (A1 > 0).astype(np.float32)", "dA1 = dH1 * (A1 > 0)"),
        ("dA1 = dH1 * (A1 > 0).float()", "dA1 = dH1 * (A1 > 0)"),
        ("dW2 = np.maximum(A1, 0).T @ G", "dW2 = relu(A1)ᵀ @ G"),
        ("dW2 = np.maximum(0, A1).T @ G", "dW2 = relu(A1)ᵀ @ G"),
    ],
)
def test_claims_are_read(written: str, read: str) -> None:
    claim = parse_network_claim(written, TWO)
    text = f"d{claim.target} = {to_text(claim.expr)}"
    assert text == read
    again = parse_network_claim(text, TWO)  # the canonical text parses back to the same tree
    assert again.expr == claim.expr


@pytest.mark.parametrize(
    ("claim", "message", "position"),
    [
        ("dW1 = W @ X", "unknown name 'W' (names: X, W1, b1, A1, H1, W2, b2, A2, G)", 6),
        ("dW1 = x.T @ dA1", "did you mean 'X'?", 6),
        ("dW1 = X.T @ dW1", "may use the gradients found before it (G, dA2, dH1, dA1)", 12),
        ("dW1 = X.T @ dX", "not ∂L/∂X", 12),
        ("dA2 = G", "∂L/∂A2 is G, given", 0),
        ("dQ = G", "'dQ' is not a gradient of this network", 0),
        ("dA1 = dH1 * (A1 > 1)", "a comparison in a claim is '> 0'", 18),
        ("dA1 = dH1 * A1 > 0", "expected an operator or the end of the claim", 15),
        ("dA1 = softmax(A1)", "softmax is not part of a network's claims", 6),
        ("dA1 = dH1 * relu'A1", "expected '(' after 'relu'", 17),
        ("dA1 = dH1 * eval(A1)", "unknown name 'eval'", 12),
        ("dA1 = dZ1", "A1 is layer 1's pre-activation here (dA1 its gradient)", 6),
        ("dA1 = np.heaviside(A1, 1)", "give 0 as its second argument", 9),
        ("dA1 = np.maximum(A1, H1)", "give 0 as one of its arguments", 9),
        ("dA1 = (A1 > 0).astype(str)", "expected a number type such as float", 22),
        ("dA1 = np.where(A1 >= 0, dH1, 0)", "a comparison in a claim is '> 0'", 19),
        ("dA1 = np.where(A1, dH1, 0)", "where takes a condition '> 0'", 17),
    ],
)
def test_bad_claims_are_refused_with_a_caret(claim: str, message: str, position: int) -> None:
    with pytest.raises(ClaimSyntaxError) as caught:
        parse_network_claim(claim, TWO)
    assert message in caught.value.message
    assert caught.value.position == position


def test_the_single_layer_does_not_read_network_notation() -> None:
    from matgrad_cli.core.claims.parser import parse_claim

    for text in ("dW = Z.T @ (G * (A > 0))", "dW = σ(Z)"):
        with pytest.raises(ClaimSyntaxError):
            parse_claim(text)


# --- the judge: the issue's examples and the right answers ----------------------------------


def test_the_examples_of_the_issue_are_correct() -> None:
    relu = {"hidden": 3, "activation": "relu"}
    assert verdict("dW1 = X.T @ ((G @ W2.T) * relu'(A1))", **relu) == (True, None)
    assert verdict("db1 = sum((G @ W2.T) * (A1 > 0), axis=0)", **relu) == (True, None)
    assert verdict("dA1 = dH1 * H1 * (1 - H1)", hidden=3, activation="sigmoid") == (True, None)


NETWORKS = [
    {"hidden": (), "output_activation": name}
    for name in ("generic", "relu", "leaky-relu", "sigmoid", "tanh")
] + [
    {"hidden": (3,), "activation": name}
    for name in ("generic", "identity", "relu", "leaky-relu", "sigmoid", "tanh")
] + [
    {"hidden": (2, 3), "activation": "tanh", "output_activation": "sigmoid"},
    {"hidden": (3,), "activation": "leaky-relu", "slope": "1/5"},
]  # fmt: skip


@pytest.mark.parametrize("network", NETWORKS, ids=lambda network: str(network))
def test_every_right_answer_is_judged_correct(network: dict[str, object]) -> None:
    description = network_description(2, 3, network["hidden"], 4, **_activations(network))  # type: ignore[arg-type]
    names = NetworkNames.of(description)
    claims = [f"d{target} = {correct_formula(target, description)}" for target in names.targets]
    report = check_network(claims, **network)  # type: ignore[arg-type]
    assert [v.claim for v in report.verdicts if not v.correct] == []
    assert all(v.correct_formula == v.claim for v in report.verdicts)


def _activations(network: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in network.items() if key != "hidden"}


@pytest.mark.parametrize(
    ("claim", "network", "kind"),
    [
        # a forgotten ⊙ σ′
        ("dW1 = X.T @ (G @ W2.T)", {"activation": "relu"}, "forgotten_derivative"),
        ("dA1 = dH1", {"activation": "sigmoid"}, "forgotten_derivative"),
        # σ in place of σ′
        ("dA1 = dH1 * H1", {"activation": "sigmoid"}, "value_not_derivative"),
        # W instead of Wᵀ
        ("dH1 = G @ W2", {"activation": "tanh"}, "missing_transpose"),
        ("dX = dA1 @ W1", {"activation": "relu"}, "missing_transpose"),
        # the bias gradient summed over the wrong axis
        ("db2 = sum(G, axis=1)", {"activation": "relu"}, "wrong_sum_axis"),
        ("db1 = sum(dA1, axis=1, keepdims=True).T", {"activation": "relu"}, None),
        # the wrong layer's activations
        ("dW2 = X.T @ G", {"activation": "relu"}, None),
        # another activation's derivative than the network's
        ("dA1 = dH1 * sigmoid'(A1)", {"activation": "generic"}, "wrong_activation"),
        ("dA1 = dH1 * sigmoid'(A1)", {"activation": "relu"}, "wrong_activation"),
        ("dA1 = dH1 * (A1 > 0)", {"activation": "leaky-relu"}, "wrong_activation"),
        ("dA1 = dH1 * tanh'(A1)", {"activation": "identity"}, None),
        # a transposed result, a sign
        ("dW2 = G.T @ H1", {"activation": "relu"}, "transposed_result"),
        ("dW2 = -H1.T @ G", {"activation": "relu"}, "sign_error"),
        # * meant as the matrix product
        ("dW2 = H1.T * G", {"activation": "relu"}, "elementwise_product"),
    ],
)
def test_wrong_claims_are_rejected(
    claim: str, network: dict[str, object], kind: str | None
) -> None:
    correct, hint_kind = verdict(claim, hidden=3, **network)
    assert not correct
    if kind is not None:
        assert hint_kind == kind


def test_the_derivative_at_the_wrong_layer_is_rejected() -> None:
    for activation in ("relu", "sigmoid", "tanh"):
        network = {"hidden": (3, 3), "activation": activation}
        assert verdict(f"dA1 = dH1 * {activation}'(A2)", **network)[0] is False
        assert verdict(f"dA1 = dH1 * {activation}'(A1)", **network) == (True, None)


def test_the_step_is_relu_derivative_with_zero_at_zero() -> None:
    relu = {"hidden": 3, "activation": "relu"}
    assert verdict("dA1 = dH1 * (A1 > 0)", **relu) == (True, None)
    assert verdict("dA1 = dH1 * relu_prime(A1)", **relu) == (True, None)
    assert verdict("dA1 = dH1 * σ'(A1)", **relu) == (True, None)


def test_numpy_where_selects_entry_by_entry() -> None:
    assert verdict("dA1 = np.where(A1 > 0, dH1, 0)", hidden=3, activation="relu") == (True, None)
    leaky = {"hidden": 3, "activation": "leaky-relu", "slope": "0.01"}
    assert verdict("dA1 = np.where(A1 > 0, dH1, 0.01 * dH1)", **leaky) == (True, None)
    assert verdict("dA1 = np.where(A1 > 0, dH1, 0.02 * dH1)", **leaky)[0] is False
    assert verdict("dA1 = np.where(A1 > 0, dH1, 0)", **leaky)[0] is False


def test_tanh_and_generic_derivatives() -> None:
    assert verdict("dA1 = dH1 * (1 - H1 * H1)", hidden=3, activation="tanh") == (True, None)
    assert verdict("dA1 = dH1 * (1 - H1) * (1 + H1)", hidden=3, activation="tanh") == (True, None)
    assert verdict("dA1 = dH1 * (1 - H1 * H1)", hidden=3, activation="sigmoid")[0] is False
    assert verdict("dA1 = dH1 * σ'(A1)", hidden=3) == (True, None)
    assert verdict("dA1 = dH1 * σ(A1)", hidden=3)[0] is False


def test_one_layer_with_an_output_activation() -> None:
    sigmoid = {"hidden": (), "output_activation": "sigmoid"}
    assert verdict("dA1 = G * H1 * (1 - H1)", **sigmoid) == (True, None)
    assert verdict("dW1 = X.T @ (G * sigmoid'(A1))", **sigmoid) == (True, None)
    assert verdict("dW1 = X.T @ G", **sigmoid)[0] is False


def test_the_sizes_are_distinct_and_avoid_the_hidden_widths() -> None:
    assert network_sizes_checked((4,), None) == ((2, 3, 5), (3, 5, 2))
    assert network_sizes_checked((2, 3), None) == ((4, 5, 6), (5, 6, 4))
    report = check_network("dW2 = H1.T @ G", hidden=4, sizes=(3, 2, 2))
    assert [(s.m, s.k, s.n) for s in report.verdicts[0].sizes_checked] == [(3, 2, 2)]


def test_a_wrong_claim_reports_the_first_differing_entry() -> None:
    (found,) = check_network("dW2 = H1.T @ G + H1.T @ G", hidden=3).verdicts
    assert found.reason == "values"
    assert found.first_difference is not None
    assert found.first_difference.index == (1, 1)
    assert "dA2_1_1" in found.first_difference.correct
    assert found.correct_formula == "dW2 = H1.T @ G"


def test_a_shape_misfit_is_explained() -> None:
    (found,) = check_network("dW1 = X @ dA1", hidden=4).verdicts
    assert found.reason == "shape"
    assert found.shape_message == "X @ dA1: (2×3) @ (2×4), and 3 ≠ 2"


def test_bad_networks_and_dialects_are_input_errors() -> None:
    with pytest.raises(InputError):
        check_network("dW1 = X.T @ dA1", hidden=3, activation="swish")
    with pytest.raises(InputError):
        check_network("dW1 = X.T @ dA1", hidden=(0,))
    with pytest.raises(InputError):
        check_network("dW1 = X.T @ dA1", hidden=3, dialect="fortran")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        check_network([])


def test_the_work_is_bounded() -> None:
    long = "dW1 = X.T @ " + " @ ".join(["dA1 @ dA1.T"] * 12) + " @ dA1"
    with pytest.raises(CheckTooCostly) as caught:
        check_network(long, hidden=(4, 3), activation="relu", sizes=(8, 8, 8))
    assert "over the budget of 400,000" in caught.value.message
    report = check_network([long, "dW1 = X.T @ dA1"], hidden=(4, 3), keep_going=True)
    assert len(report.refused) == 1
    assert report.refused[0].order == 0
    assert report.exit_code == 2


def test_the_report_is_json_serialisable_data() -> None:
    report = check_network(["dW1 = X.T @ dA1", "dW1 = X.T @ dH1"], hidden=3, activation="relu")
    assert [v.correct for v in report.verdicts] == [True, False]
    assert report.exit_code == 1
    assert report.network_line.startswith("Judged on the network X → A1 → H1 = relu(A1) → A2")
    json.dumps([v.claim for v in report.verdicts])


# --- the command line ------------------------------------------------------------------------


def test_check_with_network_options(capsys: pytest.CaptureFixture[str]) -> None:

    relu = ["check", "--hidden", "3", "--activation", "relu"]
    code, out, err = run_cli([*relu, "dW1 = X.T @ ((G @ W2.T) * relu'(A1))"], capsys)
    assert (code, err) == (0, "")
    assert "correct" in out
    code, out, _ = run_cli([*relu, "dW1 = X.T @ (G @ W2.T)", "-f", "json"], capsys)
    assert code == 1
    (claim,) = json.loads(out)["claims"]
    assert claim["hint_kind"] == "forgotten_derivative"
    sigmoid = ["check", "--hidden", "2", "--activation", "sigmoid", "dA1 = dH1 * H1 * (1 - H1)"]
    assert run_cli(sigmoid, capsys)[0] == 0
    one = ["check", "--output-activation", "tanh", "dA1 = G * (1 - H1 * H1)"]
    assert run_cli(one, capsys)[0] == 0


@pytest.mark.parametrize(
    "output_format", ["text", "json", "latex", "markdown", "html", "gradescope"]
)
def test_every_format_shows_network_verdicts(
    output_format: str, capsys: pytest.CaptureFixture[str]
) -> None:

    claims = ["dW1 = X.T @ dA1", "dX = dA1 @ W1", "dW1 = X.T @ dH1", "dW1 = Q"]
    code, out, err = run_cli(["check", "--hidden", "3", "-f", output_format, *claims], capsys)
    assert code == 2
    assert out
    assert err.startswith("matgrad: error: 1 of 4 claims could not be checked")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hidden", "0"], "must be a positive integer"),
        (["--hidden", "3", "--loss", "squared-error"], "not offered for a network's claims"),
        (["--hidden", "3", "--samples", "columns"], "samples as rows"),
        (["--hidden", "3", "--m", "2"], "give all three of --m, --k and --n"),
        (["--hidden", "3", "--m", "65", "--k", "2", "--n", "2"], "above the limit of 64"),
        (
            ["--hidden", "3", "--key", "key.toml"],
            "answer key (--key) grades claims about the single",
        ),
        (["--hidden", "1,1,1,1,1"], "above the limit of 4"),
    ],
)
def test_bad_network_input_is_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:

    code, out, err = run_cli(["check", *args, "dW1 = X.T @ dA1"], capsys)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err


def test_a_claim_that_does_not_parse_gets_a_caret(capsys: pytest.CaptureFixture[str]) -> None:

    code, out, err = run_cli(["check", "--hidden", "3", "dW1 = X.T @ dW1"], capsys)
    assert (code, out) == (2, "")
    lines = err.splitlines()
    assert lines[0].startswith("matgrad: error: the right side of a claim about dW1")
    assert lines[1:] == ["dW1 = X.T @ dW1", "            ^"]


def test_a_network_too_large_to_derive_for_check_is_refused_before_any_work() -> None:
    import time

    start = time.perf_counter()
    with pytest.raises(CheckTooCostly) as caught:
        check_network("dW1 = X.T @ dA1", hidden=(16, 16), activation="sigmoid")
    assert "over the limit of 120,000 for check" in caught.value.message
    assert time.perf_counter() - start < 5  # refused from the sizes, nothing derived


def test_a_claim_wrong_at_the_first_sizes_lists_only_those_as_checked() -> None:
    (wrong,) = check_network("dW1 = X.T @ dH1", hidden=3, activation="relu").verdicts
    assert [(s.m, s.k, s.n) for s in wrong.sizes_checked] == [(2, 4, 5)]
    (right,) = check_network("dW1 = X.T @ dA1", hidden=3, activation="relu").verdicts
    assert [(s.m, s.k, s.n) for s in right.sizes_checked] == [(2, 4, 5), (4, 5, 2)]
    assert (right.reported_at.m, right.reported_at.k) == (2, 4)


def test_how_a_claim_was_read_is_noted() -> None:
    flat, ones, kept = check_network(
        ["db1 = sum(dA1, axis=0)", "db1 = 1ᵀ dA1", "db1 = sum(dA1, axis=0, keepdims=True)"],
        hidden=3,
    ).verdicts
    assert flat.notes == (
        "sum(dA1, axis=0) is a 1-D array in NumPy (no keepdims=True); it was compared as a row",
    )
    assert ones.notes == ("1 was read as the column of m ones, ones(m, 1)",)
    assert kept.notes == ()
    assert all(verdict.correct for verdict in (flat, ones, kept))
