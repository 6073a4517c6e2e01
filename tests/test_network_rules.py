"""Wrong backward rules are rejected, each with its test; bad input is refused before any work
with one clear line; the activations state what they are."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from matgrad_cli.core.activations import (
    LeakyRelu,
    Relu,
    activation_named,
    parse_slope,
)
from matgrad_cli.core.engine import get_engine
from matgrad_cli.core.network import MAX_HIDDEN_LAYERS, MAX_WIDTH, WORK_LIMITS
from matgrad_cli.core.network_derive import derive_network
from matgrad_cli.core.network_matrix import RULES, BackwardRules, LocalRule, Operand, ProductRule
from matgrad_cli.errors import AboveSymbolicLimit, InputError, SizeError

NONLINEAR = ["generic", "relu", "leaky-relu", "sigmoid", "tanh"]


def _failing(rules: BackwardRules, activation: str, output: str = "identity") -> list[str]:
    derivation = derive_network(
        2, 2, (2,), 2, activation=activation, output_activation=output, rules=rules
    )
    assert not derivation.verified
    return [str(check.variable) for check in derivation.checks if not check.holds]


def test_the_right_rules_verify() -> None:
    assert derive_network(2, 2, (2,), 2, activation="relu", rules=RULES).verified


@pytest.mark.parametrize("activation", NONLINEAR)
def test_a_missing_hadamard_with_sigma_prime_is_rejected(activation: str) -> None:
    wrong = replace(RULES, local=LocalRule(-1, derivative=False))
    # Everything below the second layer is wrong: ∂L/∂A1, and through it X, W1 and b1.
    assert _failing(wrong, activation) == ["X", "W1", "b1", "A1"]


@pytest.mark.parametrize("activation", NONLINEAR)
def test_a_missing_output_derivative_is_rejected(activation: str) -> None:
    wrong = replace(RULES, output=LocalRule(0, derivative=False))
    assert "A2" in _failing(wrong, "identity", output=activation)


@pytest.mark.parametrize("activation", NONLINEAR)
def test_sigma_prime_at_the_wrong_layer_is_rejected(activation: str) -> None:
    wrong = replace(RULES, local=LocalRule(0))  # σ′(Aℓ) where σ′(Aℓ₋₁) belongs
    assert _failing(wrong, activation) == ["X", "W1", "b1", "A1"]


@pytest.mark.parametrize("activation", ["identity", *NONLINEAR])
def test_w_instead_of_w_transposed_is_rejected(activation: str) -> None:
    wrong = replace(RULES, inputs=ProductRule(Operand("G"), Operand("W")))
    assert _failing(wrong, activation) == ["X", "W1", "b1", "A1"]


@pytest.mark.parametrize("activation", ["identity", *NONLINEAR])
def test_the_bias_summed_over_the_wrong_axis_is_rejected(activation: str) -> None:
    wrong = replace(RULES, bias=ProductRule(Operand("G"), Operand("1", along="units")))
    derivation = derive_network(2, 2, (2,), 2, activation=activation, rules=wrong)
    failed = [check for check in derivation.checks if not check.holds]
    assert [str(check.variable) for check in failed] == ["b1", "b2"]
    # G·1 sums each row: an m×1 column where the 1×d row of ∂L/∂b belongs.
    assert all(check.claimed_shape == (2, 1) and check.shape == (1, 2) for check in failed)


def test_the_wrong_layer_s_activations_are_rejected() -> None:
    wrong = replace(RULES, weights=ProductRule(Operand("H", 0, transposed=True), Operand("G")))
    assert _failing(wrong, "tanh") == ["W1", "W2"]


def test_a_failed_check_keeps_the_differing_entries() -> None:
    wrong = replace(RULES, local=LocalRule(-1, derivative=False))
    derivation = derive_network(2, 2, (2,), 2, activation="sigmoid", rules=wrong)
    check = next(check for check in derivation.checks if str(check.variable) == "A1")
    assert check.mismatch_count == 4
    assert check.mismatches[0].index == (1, 1)
    assert "dA2_1_1" in str(check.mismatches[0].elementwise)
    assert check.formula == "(∂L/∂A2 · W2ᵀ)"


def test_the_rule_texts_read_as_the_recursion() -> None:
    derivation = derive_network(2, 2, (2,), 2, output_activation="sigmoid")
    assert {check.variable: check.formula for check in derivation.checks} == {
        "X": "∂L/∂A1 · W1ᵀ",
        "W1": "Xᵀ · ∂L/∂A1",
        "b1": "1ᵀ · ∂L/∂A1",
        "W2": "H1ᵀ · ∂L/∂A2",
        "b2": "1ᵀ · ∂L/∂A2",
        "A1": "(∂L/∂A2 · W2ᵀ) ⊙ σ′(A1)",
        "A2": "G ⊙ σ′(A2)",
    }


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"activation": "softplus"}, InputError, "unknown activation 'softplus' (choose from"),
        ({"output_activation": 3}, InputError, "unknown activation 3"),
        ({"hidden": (0,)}, SizeError, "size hidden width 1 must be a positive integer, got 0"),
        ({"hidden": (2, -1)}, SizeError, "size hidden width 2 must be a positive integer"),
        ({"m": 0}, SizeError, "size m must be a positive integer, got 0"),
        ({"n": 2.5}, SizeError, "size n must be a positive integer, got 2.5"),
        ({"k": True}, SizeError, "size k must be a positive integer, got True"),
        ({"hidden": (2,) * (MAX_HIDDEN_LAYERS + 1)}, SizeError, "above the limit of 4 hidden"),
        ({"hidden": (MAX_WIDTH + 1,)}, SizeError, f"above the limit of {MAX_WIDTH} per dim"),
        ({"hidden": "4,3"}, InputError, "hidden must be a sequence of widths"),
        ({"activation": "leaky-relu", "slope": 1}, InputError, "between 0 and 1"),
        ({"activation": "leaky-relu", "slope": "0"}, InputError, "between 0 and 1"),
        ({"activation": "leaky-relu", "slope": "-0.1"}, InputError, "between 0 and 1"),
        ({"activation": "leaky-relu", "slope": "__import__('os')"}, InputError, "between 0 and 1"),
        ({"activation": "relu", "slope": "0.1"}, InputError, "only with leaky-relu"),
        ({"bias": "yes"}, InputError, "bias must be True or False"),
        ({"engine": "maple"}, InputError, "unknown engine 'maple'"),
    ],
)
def test_bad_input_is_refused_with_one_line(
    arguments: dict[str, object], error: type[Exception], message: str
) -> None:
    call: dict[str, object] = {"m": 2, "k": 2, "hidden": (2,), "n": 2, **arguments}
    with pytest.raises(error) as raised:
        derive_network(**call)  # type: ignore[arg-type]
    text = str(raised.value)
    assert message in text
    assert "\n" not in text


def test_work_above_the_limit_is_refused_before_any_work() -> None:
    with pytest.raises(AboveSymbolicLimit, match="chain-rule terms, above the symbolic limit"):
        derive_network(64, 64, (64,), 64)
    with pytest.raises(AboveSymbolicLimit, match=f"limit of {WORK_LIMITS['sympy']}"):
        derive_network(24, 24, (24,), 24, engine="sympy")
    with pytest.raises(AboveSymbolicLimit):
        derive_network(16, 16, (16, 16, 16, 16), 16)


def test_the_activation_registry() -> None:
    assert activation_named("relu") == Relu()
    leaky = activation_named("leaky-relu")
    assert isinstance(leaky, LeakyRelu)
    assert leaky.slope == Fraction(1, 100)
    assert activation_named("leaky-relu", "1/5") == LeakyRelu(Fraction(1, 5))
    assert parse_slope("0.05") == Fraction(1, 20)
    assert parse_slope(0.2) == Fraction(1, 5)
    with pytest.raises(InputError, match="choose from generic, identity, relu, leaky-relu"):
        activation_named("swish")


@pytest.mark.parametrize(
    ("written", "value"),
    [("1e-3", Fraction(1, 1000)), (".5", Fraction(1, 2)), (" 1/3 ", Fraction(1, 3))],
)
def test_a_slope_is_read_exactly(written: str, value: Fraction) -> None:
    assert parse_slope(written) == value


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("1e-999999999", "between 0 and 1"),  # would be a number of a billion digits
        ("1_0/2_1", "between 0 and 1"),  # Python's digit separators are not a slope
        ("\uff11/\uff12", "between 0 and 1"),  # full-width digits
        ("1/" + "9" * 5000, "at most 60 characters, got 5002"),
        ("1/0", "between 0 and 1"),
        ("", "between 0 and 1"),
    ],
)
def test_a_slope_that_is_not_a_plain_number_is_refused(written: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason) as refused:
        parse_slope(written)
    assert len(str(refused.value)) < 200


def test_relu_takes_the_derivative_zero_at_zero() -> None:
    import sympy

    assert Relu.derivative_at_zero == 0
    derivative = Relu().derivative(get_engine("sympy"), sympy.Integer(0))
    assert derivative == 0
    assert Relu().derivative(get_engine("sympy"), sympy.Integer(2)) == 1
    leaky = LeakyRelu(Fraction(1, 10)).derivative(get_engine("sympy"), sympy.Integer(0))
    assert leaky == sympy.Rational(1, 10)


def test_sigmoid_and_tanh_state_their_derivatives_in_their_values() -> None:
    import sympy

    engine, x = get_engine("sympy"), sympy.Symbol("x")
    sigmoid, tanh = activation_named("sigmoid"), activation_named("tanh")
    value = sigmoid.forward(engine, x)
    assert sympy.simplify(sigmoid.derivative(engine, x) - value * (1 - value)) == 0
    assert sympy.simplify(sigmoid.derivative(engine, x) - sympy.diff(value, x)) == 0
    assert tanh.derivative(engine, x) == 1 - sympy.tanh(x) ** 2
