"""The numeric check of a network's backward pass: it verifies the right recursion for every
activation, rejects every wrong rule, is exact (or states its bound), and refuses sizes beyond its
limits with one line naming both limits."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import mpmath  # type: ignore[import-untyped]
import numpy as np
import pytest

from matgrad_cli.core import numeric_network_routes as routes
from matgrad_cli.core.activations import LeakyRelu, Relu
from matgrad_cli.core.network_matrix import RULES, BackwardRules, LocalRule, Operand, ProductRule
from matgrad_cli.core.numeric_activations import (
    Polynomial,
    ball_forward,
    exact_forward,
    exact_stated,
)
from matgrad_cli.core.numeric_balls import Ball, matmul
from matgrad_cli.core.numeric_exact import Exact
from matgrad_cli.core.numeric_network import (
    NUMERIC_WIDTH,
    NUMERIC_WORK,
    above_symbolic,
    numeric_network,
    numeric_verify_network,
)
from matgrad_cli.errors import InputError, SizeError

ACTIVATIONS = ["identity", "generic", "relu", "leaky-relu", "sigmoid", "tanh"]
NONLINEAR = ACTIVATIONS[1:]

WRONG: dict[str, tuple[BackwardRules, list[str]]] = {
    "a forgotten ⊙σ′": (replace(RULES, local=LocalRule(-1, derivative=False)), ["X", "W1", "b1"]),
    "σ′ at the wrong layer": (replace(RULES, local=LocalRule(0)), ["X", "W1", "b1"]),
    "W instead of Wᵀ": (
        replace(RULES, inputs=ProductRule(Operand("G"), Operand("W"))),
        ["X", "W1", "b1"],
    ),
    "the wrong layer's activations": (
        replace(RULES, weights=ProductRule(Operand("H", 0, transposed=True), Operand("G"))),
        ["W1", "W2"],
    ),
}


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("hidden", [(), (4,), (3, 2, 4, 2)])
def test_the_recursion_holds_at_every_depth(activation: str, hidden: tuple[int, ...]) -> None:
    result = numeric_verify_network(3, 4, hidden, 2, activation=activation)
    assert result.verified
    names = [check.name for check in result.checks]
    assert names[0] == "X"
    assert names[-1] == f"A{len(hidden) + 1}"
    assert all(check.every_entry and check.directions == 2 for check in result.checks)


@pytest.mark.parametrize("output", NONLINEAR)
def test_an_output_activation_holds(output: str) -> None:
    result = numeric_verify_network(3, 2, (3,), 4, activation="tanh", output_activation=output)
    assert result.verified
    assert not result.exact
    assert 0 < result.bound < 1e-9


@pytest.mark.parametrize("activation", ["identity", "generic", "relu", "leaky-relu"])
def test_exact_activations_compare_exactly(activation: str) -> None:
    result = numeric_verify_network(4, 3, (5,), 2, activation=activation, seed=3)
    assert result.exact
    assert result.bound == 0
    assert result.method.startswith("numeric check (exact")


@pytest.mark.parametrize("activation", NONLINEAR)
@pytest.mark.parametrize("slip", list(WRONG))
def test_wrong_rules_are_rejected(activation: str, slip: str) -> None:
    rules, failing = WRONG[slip]
    # Square sizes, so that W·… has the sizes of Wᵀ·… and only the numbers tell them apart.
    result = numeric_verify_network(3, 3, (3,), 3, activation=activation, rules=rules)
    assert not result.verified
    failed = [check.name for check in result.checks if not check.holds]
    assert set(failing) <= set(failed)
    wrong = next(check for check in result.checks if check.name == failing[0])
    assert wrong.mismatch_count > 0
    assert wrong.mismatches


@pytest.mark.parametrize("activation", NONLINEAR)
def test_a_forgotten_output_derivative_is_rejected(activation: str) -> None:
    wrong = replace(RULES, output=LocalRule(0, derivative=False))
    result = numeric_verify_network(3, 3, (3,), 3, output_activation=activation, rules=wrong)
    assert "A2" in [check.name for check in result.checks if not check.holds]


def test_the_bias_summed_over_the_wrong_axis_is_rejected_by_its_shape() -> None:
    wrong = replace(RULES, bias=ProductRule(Operand("G"), Operand("1", along="units")))
    result = numeric_verify_network(2, 3, (4,), 5, activation="relu", rules=wrong)
    failed = [check for check in result.checks if not check.holds]
    assert [check.name for check in failed] == ["b1", "b2"]
    assert [check.claimed_shape for check in failed] == [(2, 1), (2, 1)]


def test_a_rule_whose_sizes_do_not_fit_fails_every_matrix_below_it() -> None:
    wrong = replace(RULES, inputs=ProductRule(Operand("G"), Operand("W")))
    result = numeric_verify_network(2, 3, (4,), 5, activation="relu", rules=wrong)
    failed = {check.name: check.claimed_shape for check in result.checks if not check.holds}
    assert failed == {"X": (0, 0), "W1": (0, 0), "b1": (0, 0), "A1": (0, 0)}


def test_a_single_wrong_entry_is_caught_above_the_per_entry_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = routes.recursion

    def one_entry_off(*args: object) -> dict[str, tuple[str, object]]:
        found = made(*args)  # type: ignore[arg-type]
        text, weights = found["W1"]
        assert isinstance(weights, Exact)
        changed = weights.numerators.copy()
        changed[5, 7] += weights.denominator
        found["W1"] = (text, Exact(changed, weights.denominator))
        return found

    monkeypatch.setattr("matgrad_cli.core.numeric_network.recursion", one_entry_off)
    result = numeric_verify_network(64, 32, (64,), 64, activation="relu")
    check = next(check for check in result.checks if check.name == "W1")
    assert not check.every_entry
    assert 0 < check.escape_probability < 1e-12
    assert not check.holds
    assert check.failed_directions == check.directions
    assert all(other.holds for other in result.checks if other.name != "W1")


def test_relu_takes_the_derivative_zero_at_zero() -> None:
    pre = Exact(np.array([[-2, 0, 3]]))
    value, slope = exact_forward(Relu(), pre, None)
    assert value.entries() == [0, 0, 3]
    assert slope.entries() == [0, 0, 1]
    assert exact_stated(Relu(), pre, None).entries() == [0, 0, 1]
    leaky = LeakyRelu(Fraction(1, 20))
    assert exact_forward(leaky, pre, None)[1].entries() == [Fraction(1, 20), Fraction(1, 20), 1]
    assert exact_stated(leaky, pre, None).entries() == [Fraction(1, 20), Fraction(1, 20), 1]


def test_relu_verifies_when_a_pre_activation_is_zero() -> None:
    # Seeds whose draw puts a 0 into A1 (entries from −9..9 with k = 1 hit 0 often).
    hits = 0
    for seed in range(40):
        result = numeric_verify_network(3, 1, (3,), 2, activation="relu", bias=False, seed=seed)
        assert result.verified
        network = result.network
        draw = _draw_of(network, seed)
        hits += int((draw.inputs @ draw.weights[0] == 0).any())
    assert hits > 0


def _draw_of(network: object, seed: int) -> routes.Draw:
    from matgrad_cli.core.numeric_network import _draw

    return _draw(network, np.random.default_rng(seed))  # type: ignore[arg-type]


def test_the_generic_sigma_is_a_random_quadratic() -> None:
    result = numeric_verify_network(2, 2, (2,), 2, seed=5)
    polynomial = result.polynomial
    assert isinstance(polynomial, Polynomial)
    assert polynomial.c2 != 0
    assert polynomial.text.startswith("σ(x) = ")
    assert numeric_verify_network(2, 2, (2,), 2, activation="relu").polynomial is None


@pytest.mark.parametrize("kind", ["sigmoid", "tanh"])
def test_the_enclosures_hold_the_true_values(kind: str) -> None:
    from matgrad_cli.core.activations import activation_named

    points = np.array([-800.0, -30.5, -1.0, -1e-9, 0.0, 2e-12, 0.75, 19.0, 700.0])
    pre = Ball(points, np.full(points.shape, 1e-12))
    value, slope = ball_forward(activation_named(kind), pre)
    mpmath.mp.dps = 50
    for at, x in enumerate(points.tolist()):
        for offset in (-1e-12, 0.0, 1e-12):
            point = mpmath.mpf(x) + mpmath.mpf(offset)
            if kind == "sigmoid":
                true_value = 1 / (1 + mpmath.exp(-point))
                true_slope = 1 / (mpmath.exp(point / 2) + mpmath.exp(-point / 2)) ** 2
            else:
                true_value = mpmath.tanh(point)
                true_slope = 1 / mpmath.cosh(point) ** 2
            assert value.lower[at] <= true_value <= value.upper[at]
            assert slope.lower[at] <= true_slope <= slope.upper[at]


def test_ball_products_enclose_the_exact_product() -> None:
    rng = np.random.default_rng(1)
    left = rng.standard_normal((5, 40)) * 1e3
    right = rng.integers(-9, 10, (40, 3))
    product = matmul(Ball(left, np.zeros(left.shape)), right.astype(np.float64))
    exact = [
        [sum(Fraction(float(left[i, s])) * int(right[s, j]) for s in range(40)) for j in range(3)]
        for i in range(5)
    ]
    for i in range(5):
        for j in range(3):
            assert Fraction(float(product.lower[i, j])) <= exact[i][j]
            assert exact[i][j] <= Fraction(float(product.upper[i, j]))


def test_exact_products_agree_across_sizes_of_integers() -> None:
    small = Exact(np.array([[3, -4], [5, 6]]))
    huge = Exact(np.array([[3 * 10**30, -4], [5, 6 * 10**30]], dtype=object))
    assert (small @ small).entries() == [-11, -36, 45, 16]
    assert (huge @ small).entries() == [
        9 * 10**30 - 20,
        -12 * 10**30 - 24,
        15 + 30 * 10**30,
        -20 + 36 * 10**30,
    ]
    third = Exact(np.array([[1, 2]]), 3)
    assert (third @ small).entries() == [Fraction(13, 3), Fraction(8, 3)]


def test_sizes_above_both_limits_are_refused_naming_both() -> None:
    with pytest.raises(SizeError) as error:
        numeric_network(NUMERIC_WIDTH + 1, 2, (2,), 2)
    text = str(error.value)
    assert f"numeric limit of {NUMERIC_WIDTH} per dimension" in text
    assert "the symbolic limit: size m" in text
    assert "limit of 64" in text
    with pytest.raises(SizeError) as error:
        numeric_network(1024, 1024, (1024,), 1024)
    text = str(error.value)
    assert f"numeric limit of {NUMERIC_WORK}" in text
    assert "the symbolic limit: size m = 1024 is above the limit of 64" in text


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((0, 2, (2,), 2), "size m must be a positive integer"),
        ((2, 2, (2, -1), 2), "hidden width 2 must be a positive integer"),
        ((2, 2, (1, 1, 1, 1, 1), 2), "above the limit of 4 hidden layers"),
        ((2, 2, "4", 2), "hidden must be a sequence"),
    ],
)
def test_bad_sizes_are_refused(arguments: tuple[object, ...], message: str) -> None:
    with pytest.raises(InputError, match=message):
        numeric_network(*arguments)


def test_bad_options_are_refused() -> None:
    with pytest.raises(InputError, match="unknown activation"):
        numeric_verify_network(2, 2, (2,), 2, activation="softplus")
    with pytest.raises(InputError, match="a slope is given only with leaky-relu"):
        numeric_verify_network(2, 2, (2,), 2, activation="relu", slope="0.1")
    with pytest.raises(InputError, match="seed"):
        numeric_verify_network(2, 2, (2,), 2, seed=-1)


def test_the_symbolic_refusal_is_told() -> None:
    network = numeric_network(64, 64, (64,), 64, activation="relu")
    assert "above the symbolic limit" in str(above_symbolic(network, "symengine"))
    assert above_symbolic(numeric_network(2, 2, (2,), 2), "symengine") is None


def test_a_seed_names_one_draw() -> None:
    first = numeric_verify_network(3, 3, (3,), 3, activation="leaky-relu", seed=7)
    again = numeric_verify_network(3, 3, (3,), 3, activation="leaky-relu", seed=7)
    assert first == again


@pytest.mark.parametrize(
    ("loss", "output"),
    [
        ("sum", "identity"),
        ("sum", "sigmoid"),
        ("squared-error", "relu"),
        ("squared-error", "tanh"),
        ("softmax-cross-entropy", "identity"),
    ],
)
@pytest.mark.parametrize("activation", NONLINEAR)
def test_the_concrete_losses_hold(loss: str, activation: str, output: str) -> None:
    result = numeric_verify_network(
        3, 2, (3,), 2, activation=activation, output_activation=output, loss=loss
    )
    assert result.verified
    assert result.loss == loss
    wrong = replace(RULES, local=LocalRule(-1, derivative=False))
    rejected = numeric_verify_network(
        3, 3, (3,), 3, activation=activation, output_activation=output, loss=loss, rules=wrong
    )
    assert not rejected.verified


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_a_wrong_closed_form_of_the_squared_error_is_rejected(
    activation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Y − O where O − Y belongs: every matrix of the backward pass comes out negated.
    monkeypatch.setattr(
        routes, "closed_form", lambda draw, output: routes.exact(draw.targets) - output
    )
    result = numeric_verify_network(3, 2, (4,), 2, activation=activation, loss="squared-error")
    assert not any(check.holds for check in result.checks)


def test_the_softmax_is_enclosed_even_deep_and_with_the_generic_sigma() -> None:
    for activation in ("relu", "generic"):
        result = numeric_verify_network(
            3, 3, (3, 4, 2, 3), 4, activation=activation, loss="softmax-cross-entropy"
        )
        assert result.verified
        assert not result.exact


def test_a_wrong_softmax_closed_form_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    made = routes.closed_form

    def without_targets(draw: routes.Draw, output: object) -> object:
        # softmax(O) where softmax(O) − Y belongs.
        return made(draw, output) + routes.exact(draw.targets)

    monkeypatch.setattr(routes, "closed_form", without_targets)
    result = numeric_verify_network(3, 2, (4,), 3, activation="relu", loss="softmax-cross-entropy")
    assert "A2" in [check.name for check in result.checks if not check.holds]


def test_a_loss_without_a_numeric_check_is_refused() -> None:
    with pytest.raises(InputError, match="takes the losses generic, sum, squared-error"):
        numeric_verify_network(
            2, 2, (2,), 2, output_activation="sigmoid", loss="binary-cross-entropy"
        )
    with pytest.raises(InputError, match="not allowed with the output activation sigmoid"):
        numeric_verify_network(
            2, 2, (2,), 2, output_activation="sigmoid", loss="softmax-cross-entropy"
        )


def test_a_slope_of_many_digits_stays_exact() -> None:
    slope = "0.1234567890123456789012345678901234567"
    result = numeric_verify_network(3, 3, (3, 2), 2, activation="leaky-relu", slope=slope)
    assert result.verified
    assert result.exact
    wrong = replace(RULES, local=LocalRule(0))
    rejected = numeric_verify_network(
        3, 3, (3, 3), 3, activation="leaky-relu", slope=slope, rules=wrong
    )
    assert not rejected.verified
