"""The numeric check of a network with a concrete loss differentiates L from its own formula, so
a wrong closed form at the top of the recursion, or a wrong softmax helper, is caught."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from matgrad_cli.core import numeric_network_routes as routes
from matgrad_cli.core.numeric_exact import Exact
from matgrad_cli.core.numeric_network import numeric_verify_network
from matgrad_cli.core.numeric_network_loss import loss_slope


def test_a_softmax_whose_rows_sum_to_two_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    made = routes._softmax_parts

    def doubled(output: Any) -> Any:
        exponentials, inverse_sums = made(output)
        return exponentials, inverse_sums * 2.0

    monkeypatch.setattr(routes, "_softmax_parts", doubled)
    for activation in ("relu", "tanh"):
        result = numeric_verify_network(
            3, 2, (4,), 3, activation=activation, loss="softmax-cross-entropy"
        )
        assert not result.verified
        assert "A2" in [check.name for check in result.checks if not check.holds]


@pytest.mark.parametrize(
    ("loss", "wrong"),
    [
        ("squared-error", lambda draw, output: (output - routes.exact(draw.targets)) * 2),
        ("squared-error", lambda draw, output: output),
        ("sum", lambda draw, output: routes.exact(np.full(output.shape, 2, dtype=np.int64))),
        ("generic", lambda draw, output: routes.exact(draw.upstream) * 3),
    ],
)
def test_a_wrong_closed_form_is_rejected(
    loss: str, wrong: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "closed_form", wrong)
    for seed in range(5):
        result = numeric_verify_network(3, 2, (4,), 2, activation="relu", loss=loss, seed=seed)
        assert not result.verified


def test_the_loss_slopes_are_those_of_the_definitions() -> None:
    output = Exact(np.array([[3, -1], [0, 5]]), 2)
    targets = np.array([[1, 0], [2, 2]])
    upstream = np.array([[7, -3], [0, 4]])
    squared = loss_slope("squared-error", output, targets, None)
    assert squared.entries() == [Fraction(1, 2), Fraction(-1, 2), -2, Fraction(1, 2)]
    assert loss_slope("sum", output, None, None).entries() == [1, 1, 1, 1]
    assert loss_slope("generic", output, None, upstream).entries() == [7, -3, 0, 4]
    hot = np.array([[1, 0], [0, 1]])
    softmax = loss_slope("softmax-cross-entropy", output, hot, None)
    logits = np.array([[1.5, -0.5], [0.0, 2.5]])
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True) - hot
    assert np.all(softmax.lower <= expected + 1e-12)
    assert np.all(expected - 1e-12 <= softmax.upper)
    assert np.all(softmax.rad < 1e-12)


def test_the_right_closed_forms_are_verified() -> None:
    for loss in ("generic", "sum", "squared-error", "softmax-cross-entropy"):
        for activation in ("relu", "sigmoid"):
            result = numeric_verify_network(3, 2, (4,), 3, activation=activation, loss=loss)
            assert result.verified, (loss, activation)
