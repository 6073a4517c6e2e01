"""The slips of backpropagation: each a wrong backward pass that the verifier rejects, offered only
where its value differs from the right answer at the sizes judged."""

from __future__ import annotations

import pytest

from matgrad_cli.core.claims import network_slips as slips_module
from matgrad_cli.core.claims.network_slips import (
    SLIP_WORK_LIMIT,
    network_slips,
    right_formula,
    right_value,
)
from matgrad_cli.core.engine import get_engine
from matgrad_cli.core.network_compare import NetworkEquality
from matgrad_cli.core.network_derive import NetworkDerivation, derive_network

DISTINCT = {"m": 2, "k": 4, "n": 5}
SQUARE = {"m": 2, "k": 2, "n": 2}


def _derive(hidden: tuple[int, ...], sizes: dict[str, int], **options: str) -> NetworkDerivation:
    return derive_network(sizes["m"], sizes["k"], hidden, sizes["n"], **options)  # type: ignore[arg-type]


def _targets(derivation: NetworkDerivation) -> list[str]:
    network = derivation.network
    hidden = [f"H{layer}" for layer in range(1, network.depth)]
    return [*network.parameters(), *derivation.intermediates, *hidden]


def _equal_forms(derivation: NetworkDerivation, left: object, right: object) -> bool:
    equality = NetworkEquality(
        derivation.network, get_engine(derivation.engine), [derivation.forward]
    )
    assert hasattr(left, "entries")
    assert hasattr(right, "entries")
    if left.shape != right.shape:  # type: ignore[attr-defined]
        return False
    return all(
        equality.forms_equal(a, b)
        for row, other in zip(left.entries, right.entries, strict=True)
        for a, b in zip(row, other, strict=True)
    )


@pytest.mark.parametrize(
    ("hidden", "options"),
    [
        ((3,), {"activation": "relu"}),
        ((3,), {"activation": "sigmoid", "output_activation": "sigmoid"}),
        ((3, 2), {"activation": "tanh"}),
        ((), {"output_activation": "sigmoid"}),
    ],
)
def test_the_right_plan_is_the_verified_matrix_route(
    hidden: tuple[int, ...], options: dict[str, str]
) -> None:
    derivation = _derive(hidden, DISTINCT, **options)
    assert derivation.verified
    made = {**derivation.forms, **derivation.recursion}
    for name, forms in made.items():
        assert _equal_forms(derivation, right_value(derivation, name), forms), name


def test_the_issue_example_is_the_right_formula_and_its_forgotten_relu_is_a_slip() -> None:
    derivation = _derive((3,), DISTINCT, activation="relu")
    assert right_formula(derivation.network, "W1") == "X.T @ ((G @ W2.T) * relu'(A1))"
    assert right_formula(derivation.network, "b1") == "sum((G @ W2.T) * relu'(A1), axis=0)"
    slips = {slip.formula: slip for slip in network_slips(derivation, "W1")}
    forgotten = slips["X.T @ (G @ W2.T)"]
    assert forgotten.kind == "forgotten_derivative"
    assert "relu'(A1)" in forgotten.hint
    assert "\n" not in forgotten.hint
    assert right_formula(derivation.network, "W1") not in slips


@pytest.mark.parametrize(
    ("hidden", "options"),
    [
        ((2,), {"activation": "relu"}),
        ((2,), {"activation": "sigmoid", "output_activation": "tanh"}),
        ((2, 2), {"activation": "generic"}),
        ((2,), {"activation": "leaky-relu"}),
    ],
)
def test_every_slip_with_a_rule_set_is_rejected_by_the_verifier(
    hidden: tuple[int, ...], options: dict[str, str]
) -> None:
    # Square sizes, so that every wrong product still has the shapes to be multiplied out.
    derivation = _derive(hidden, SQUARE, **options)
    seen = set()
    for target in _targets(derivation):
        for slip in network_slips(derivation, target):
            if slip.rules is None or slip.rules in seen:
                continue
            seen.add(slip.rules)
            wrong = _derive(hidden, SQUARE, **options, rules=slip.rules)  # type: ignore[arg-type]
            assert not wrong.verified, (target, slip.kind, slip.formula)
    kinds = {
        slip.kind for target in _targets(derivation) for slip in network_slips(derivation, target)
    }
    assert {"forgotten_derivative", "untransposed_weight", "wrong_activations"} <= kinds
    assert "bias_wrong_axis" in kinds
    assert len(seen) >= 4


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "generic", "leaky-relu"])
def test_every_slip_differs_from_the_independent_elementwise_route(activation: str) -> None:
    derivation = _derive((2,), SQUARE, activation=activation, output_activation="sigmoid")
    kinds = set()
    for target in derivation.network.parameters():
        right = derivation.gradients[target]
        slips = network_slips(derivation, target)
        for slip in slips:
            kinds.add(slip.kind)
            assert not _equal_forms(derivation, slip.value, right), (target, slip.formula)
            assert slip.value.shape == right.shape
        # No two slips offered for one target have the same value.
        for index, slip in enumerate(slips):
            for other in slips[index + 1 :]:
                assert not _equal_forms(derivation, slip.value, other.value)
    expected = {
        "forgotten_derivative",
        "derivative_wrong_layer",
        "value_not_derivative",
        "derivative_at_output",
        "untransposed_weight",
        "wrong_activations",
        "bias_wrong_axis",
    }
    if activation == "generic":
        # σ′(A2) reads as the sigmoid's there (σ is each layer's own): the generic σ′ of the
        # hidden layer cannot be written at A2, so it is offered as no slip.
        expected.discard("derivative_wrong_layer")
    assert expected <= kinds


def test_a_slip_that_cannot_be_written_is_not_offered() -> None:
    derivation = _derive((2,), SQUARE, activation="generic", output_activation="sigmoid")
    assert all("σ'(A2)" not in slip.formula for slip in network_slips(derivation, "A1"))
    relu = _derive((2,), SQUARE, activation="relu", output_activation="sigmoid")
    assert "(G * sigmoid'(A2)) @ W2.T) * relu'(A2)" in "".join(
        slip.formula for slip in network_slips(relu, "A1")
    )


def test_a_slip_equal_to_the_right_answer_is_no_slip() -> None:
    # With the identity, σ′ = 1: forgetting it changes nothing, and σ(A1) is no derivative.
    derivation = _derive((3,), DISTINCT, activation="identity")
    assert right_formula(derivation.network, "W1") == "X.T @ (G @ W2.T)"
    kinds = {slip.kind for slip in network_slips(derivation, "W1")}
    assert not kinds & {"forgotten_derivative", "value_not_derivative", "derivative_at_output"}


def test_slips_whose_shapes_do_not_fit_are_not_offered() -> None:
    # k = 4, h = 3, n = 5: W2 is 3×5 while H2ᵀ·G2 would be 5×5 and Xᵀ·G2 4×5.
    derivation = _derive((3,), DISTINCT, activation="relu")
    assert [slip.kind for slip in network_slips(derivation, "W2")] == []
    assert [slip.kind for slip in network_slips(derivation, "b2")] == []
    square = _derive((2,), SQUARE, activation="relu")
    by_formula = {slip.formula: slip.kind for slip in network_slips(square, "W2")}
    assert by_formula == {"A2.T @ G": "wrong_activations", "X.T @ G": "wrong_activations"}
    assert {slip.formula for slip in network_slips(square, "b2")} == {"sum(G, axis=1)"}


def test_sigma_prime_at_the_wrong_layer_names_the_hidden_activation() -> None:
    derivation = _derive((2,), SQUARE, activation="relu")
    slips = {slip.kind: slip for slip in network_slips(derivation, "A1")}
    wrong_layer = slips["derivative_wrong_layer"]
    assert wrong_layer.formula == "(G @ W2.T) * relu'(A2)"
    assert "relu'(A2)" in wrong_layer.hint
    assert "relu'(A1)" in wrong_layer.hint


def test_the_output_activation_has_its_own_slips() -> None:
    derivation = _derive((), DISTINCT, output_activation="sigmoid")
    assert right_formula(derivation.network, "W1") == "X.T @ (G * sigmoid'(A1))"
    formulas = {slip.formula: slip.kind for slip in network_slips(derivation, "W1")}
    assert formulas == {
        "X.T @ G": "forgotten_derivative",
        "X.T @ (G * sigmoid(A1))": "value_not_derivative",
        "X.T @ (G * sigmoid'(H1))": "derivative_at_output",
    }


def test_a_slip_at_one_layer_keeps_the_other_layers_right() -> None:
    derivation = _derive((2, 2), SQUARE, activation="tanh")
    forgotten = {
        slip.formula
        for slip in network_slips(derivation, "W1")
        if slip.kind == "forgotten_derivative"
    }
    # tanh′ forgotten at A2 alone, and at A1 alone: each keeps the other; and at both.
    assert forgotten == {
        "X.T @ (((G @ W3.T) @ W2.T) * tanh'(A1))",
        "X.T @ (((G @ W3.T) * tanh'(A2)) @ W2.T)",
        "X.T @ ((G @ W3.T) @ W2.T)",
    }
    above = [
        slip.formula
        for slip in network_slips(derivation, "W2")
        if slip.kind == "forgotten_derivative"
    ]
    assert above == ["H1.T @ (G @ W3.T)"]


def test_unknown_targets_are_refused_and_large_networks_get_no_slips(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    derivation = _derive((2,), SQUARE, activation="relu")
    with pytest.raises(ValueError, match="H2"):
        network_slips(derivation, "H2")
    with pytest.raises(ValueError, match="Z"):
        network_slips(derivation, "Z")
    assert network_slips(derivation, "W1")
    assert derivation.network.sizes.work <= SLIP_WORK_LIMIT
    monkeypatch.setattr(slips_module, "SLIP_WORK_LIMIT", derivation.network.sizes.work - 1)
    assert network_slips(derivation, "W1") == ()


def test_sigma_prime_of_the_layer_below_is_a_slip_too() -> None:
    derivation = _derive((2, 2, 2), SQUARE, activation="sigmoid")
    slips = network_slips(derivation, "A2")
    wrong = {slip.formula for slip in slips if slip.kind == "derivative_wrong_layer"}
    # σ′(A3) or σ′(A1) for σ′(A2), and σ′(A4) or σ′(A2) for σ′(A3) one layer up.
    assert wrong == {
        "(((G @ W4.T) * sigmoid'(A3)) @ W3.T) * sigmoid'(A3)",
        "(((G @ W4.T) * sigmoid'(A3)) @ W3.T) * sigmoid'(A1)",
        "(((G @ W4.T) * sigmoid'(A4)) @ W3.T) * sigmoid'(A2)",
        "(((G @ W4.T) * sigmoid'(A2)) @ W3.T) * sigmoid'(A2)",
    }
    below = next(slip for slip in slips if slip.formula.endswith("sigmoid'(A1)"))
    assert below.rules is None
    assert "sigmoid'(A1) for sigmoid'(A2)" in below.hint


@pytest.mark.parametrize(
    ("hidden", "options"),
    [
        ((2,), {"activation": "relu"}),
        ((2,), {"activation": "generic", "output_activation": "sigmoid"}),
        ((2, 2), {"activation": "tanh"}),
        ((2,), {"activation": "relu", "output_activation": "generic"}),
        ((), {"output_activation": "tanh"}),
    ],
)
def test_a_claim_written_as_a_slip_s_formula_is_told_that_slip(
    hidden: tuple[int, ...], options: dict[str, str]
) -> None:
    # The formula and the value of every slip agree: the judge, reading the formula as a claim,
    # finds the slip's value, and so its hint.
    from matgrad_cli.core.claims.network_judge import check_network

    derivation = _derive(hidden, SQUARE, **options)
    activation = options.get("activation", "generic")
    output_activation = options.get("output_activation", "identity")
    told = 0
    for target in _targets(derivation):
        expected = [
            (f"d{target} = {slip.formula}", slip.kind) for slip in network_slips(derivation, target)
        ]
        if not expected:
            continue
        report = check_network(
            [claim for claim, _ in expected],
            hidden=hidden,
            activation=activation,
            output_activation=output_activation,
            sizes=(2, 2, 2),
        )
        assert [(verdict.claim, verdict.hint_kind) for verdict in report.verdicts] == expected
        told += len(expected)
    assert told >= 5


def test_sigma_prime_forgotten_at_every_hidden_layer_is_a_slip() -> None:
    derivation = _derive((2, 2), SQUARE, activation="relu")
    slips = {slip.formula: slip for slip in network_slips(derivation, "W1")}
    everywhere = slips["X.T @ ((G @ W3.T) @ W2.T)"]
    assert everywhere.kind == "forgotten_derivative"
    assert "every hidden layer" in everywhere.hint
    assert everywhere.rules is not None
    assert not _derive((2, 2), SQUARE, activation="relu", rules=everywhere.rules).verified  # type: ignore[arg-type]
