"""A network's derivation as JSON: every entry parses back, with sympy.parse_expr and the names
docs/json.md documents, to exactly the gradient the derivation computed; the checks, the network
and the bound on the output's size."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
import sympy
from sympy.parsing.sympy_parser import parse_expr

from matgrad_cli.core.network_derive import NetworkDerivation, derive_network
from matgrad_cli.core.network_matrix import RULES, LocalRule
from matgrad_cli.errors import SizeError
from matgrad_cli.present import limits, render


def _assert_entries_parse_back(derivation: NetworkDerivation) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render(derivation, "json"))
    for group in ("gradients", "intermediates"):
        for name, rows in data[group].items():
            expected = derivation.gradient_matrix(name)
            assert [len(rows), len(rows[0])] == list(expected.shape), name
            for i, row in enumerate(rows):
                for j, text in enumerate(row):
                    assert parse_expr(text) == expected[i, j], (name, i, j, text)
    return data


@pytest.mark.parametrize(
    ("hidden", "activation", "output"),
    [
        ((2,), "generic", "identity"),
        ((2,), "generic", "generic"),
        ((2,), "identity", "identity"),
        ((2,), "relu", "identity"),
        ((2,), "relu", "relu"),
        ((3,), "leaky-relu", "leaky-relu"),
        ((2,), "sigmoid", "sigmoid"),
        ((2,), "tanh", "tanh"),
        ((), "identity", "sigmoid"),
        ((2, 2), "relu", "identity"),
    ],
)
def test_every_entry_parses_back_to_the_derivation(
    hidden: tuple[int, ...], activation: str, output: str
) -> None:
    derivation = derive_network(2, 3, hidden, 2, activation=activation, output_activation=output)
    data = _assert_entries_parse_back(derivation)
    assert list(data["gradients"]) == list(derivation.network.parameters())
    assert data["activation"] == (activation if hidden else None)
    assert list(data["intermediates"]) == [f"A{layer}" for layer in range(1, len(hidden) + 2)]


@pytest.mark.parametrize(
    ("loss", "output"),
    [
        ("sum", "identity"),
        ("squared-error", "tanh"),
        ("softmax-cross-entropy", "identity"),
        ("binary-cross-entropy", "sigmoid"),
    ],
)
def test_under_a_concrete_loss_the_entries_are_over_the_targets(loss: str, output: str) -> None:
    derivation = derive_network(
        2, 2, (2,), 2, activation="relu", output_activation=output, loss=loss
    )
    data = _assert_entries_parse_back(derivation)
    assert data["loss"] == loss
    assert "y_i_j" in data["conventions"]["variables"]
    name = derivation.network.output_name
    assert f"d{name}_i_j" not in data["conventions"]["variables"]
    found = data["loss_gradient"]
    assert found["closed_form_holds"] is True
    assert len(found[name]) == 2
    targets = any("y_1_1" in entry for row in data["gradients"]["W1"] for entry in row)
    assert targets == (loss != "sum")  # the sum's ∂L/∂A is all ones


def test_a_wrong_entry_would_not_parse_back() -> None:
    """The comparison above can fail: an entry of another gradient is not this one."""
    derivation = derive_network(2, 2, (2,), 2, activation="relu")
    data = json.loads(render(derivation, "json"))
    other = parse_expr(data["gradients"]["W1"][0][1])
    assert other != derivation.gradient_matrix("W1")[0, 0]
    # The step with SymPy's default value at 0 (one half) is another function: not relu′.
    halved = {"Heaviside": lambda e, _: sympy.Heaviside(e)}
    assert (
        parse_expr(data["gradients"]["W1"][0][0], local_dict=halved)
        != (derivation.gradient_matrix("W1")[0, 0])
    )


def test_relu_is_written_with_sympy_functions_and_relu_prime_at_zero_is_zero() -> None:
    derivation = derive_network(1, 1, (1,), 1, activation="relu", output_activation="relu")
    data = json.loads(render(derivation, "json"))
    entry = data["gradients"]["W1"][0][0]
    assert "Heaviside(" in entry
    assert "Max(0, " in entry
    assert "relu" not in entry
    expr = parse_expr(entry)
    values = {"dH2_1_1": 1, "w2_1_1": 1, "b2_1": 1, "w1_1_1": 1, "x_1_1": 2}
    # a1 = b1 + w1·x: above 0 the step is 1, at 0 it is 0 (relu′(0) = 0), below 0 it is 0.
    at = {b1: expr.subs({**values, "b1_1": b1}) for b1 in (1, -2, -3)}
    assert at == {1: 2, -2: 0, -3: 0}
    assert "relu'(0) = 0" in data["conventions"]["functions"]["relu"]


def test_the_network_and_the_checks() -> None:
    derivation = derive_network(
        2, 3, (4, 2), 2, activation="leaky-relu", output_activation="sigmoid", slope="1/20"
    )
    data = json.loads(render(derivation, "json"))
    assert data["kind"] == "network"
    assert data["schema"] == 1
    assert data["sizes"] == {"m": 2, "k": 3, "n": 2, "hidden": [4, 2]}
    assert data["widths"] == [3, 4, 2, 2]
    assert data["depth"] == 3
    assert (data["activation"], data["output_activation"]) == ("leaky-relu", "sigmoid")
    assert data["slope"] == "1/20"
    assert data["bias"] is True
    assert data["loss"] == "generic"
    assert data["output"] == "H3"
    assert "dH3_i_j" in data["conventions"]["variables"]
    assert data["verified"] is True
    checks = data["checks"]
    assert [check["identity"] for check in checks] == [
        check.identity for check in derivation.checks
    ]
    assert all(check["holds"] and check["mismatches"] == [] for check in checks)
    assert sum(check["entries_checked"] for check in checks) == sum(
        check.entries_checked for check in derivation.checks
    )
    assert "Max(1/20*e, e)" in data["conventions"]["functions"]["leaky-relu"]


def test_a_wrong_rule_is_a_failed_check_with_parsable_mismatches() -> None:
    forgotten = replace(RULES, local=LocalRule(-1, derivative=False))  # no ⊙ σ′(A1)
    derivation = derive_network(2, 2, (2,), 2, activation="relu", rules=forgotten)
    data = json.loads(render(derivation, "json"))
    assert data["verified"] is False
    failed = {check["variable"] for check in data["checks"] if not check["holds"]}
    assert failed == {"X", "W1", "b1", "A1"}
    for check in data["checks"]:
        assert check["mismatch_count"] >= len(check["mismatches"])
        for miss in check["mismatches"]:
            left, right = parse_expr(miss["elementwise"]), parse_expr(miss["claimed"])
            assert sympy.expand(left - right) != 0


def test_the_same_network_gives_the_same_bytes() -> None:
    first = render(derive_network(2, 2, (3,), 2, activation="tanh"), "json")
    assert first == render(derive_network(2, 2, (3,), 2, activation="tanh"), "json")


def test_json_past_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    derivation = derive_network(2, 2, (2,), 2, activation="sigmoid", output_activation="sigmoid")
    monkeypatch.setattr(limits, "JSON_NETWORK_CHARS", 10_000)
    with pytest.raises(SizeError, match="more than the limit of 10,000 characters"):
        render(derivation, "json")


def test_only_the_activations_that_occur_are_listed() -> None:
    """One layer has no hidden activation: a sigmoid output lists the sigmoid alone."""
    one = derive_network(2, 2, (), 2, loss="binary-cross-entropy", output_activation="sigmoid")
    functions = json.loads(render(one, "json"))["conventions"]["functions"]
    assert list(functions) == ["sigmoid"]
    two = derive_network(2, 2, (2,), 2, activation="relu", output_activation="tanh")
    assert list(json.loads(render(two, "json"))["conventions"]["functions"]) == ["relu", "tanh"]
