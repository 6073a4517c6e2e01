"""The numeric check of a network is never blind to a wrong rule through a degenerate draw: relu
units all alive (σ′ = 1, so a forgotten σ′ gives the right figures), two layers' masks alike, a
symmetric square W. It draws again, boundedly, and says what no draw could tell."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from matgrad_cli.core import numeric_network
from matgrad_cli.core.network_matrix import RULES, LocalRule, Operand, ProductRule
from matgrad_cli.core.numeric_network import numeric_verify_network

SEEDS = range(48)

FORGOTTEN_SIGMA = replace(RULES, local=LocalRule(-1, derivative=False))
W_FOR_W_TRANSPOSED = replace(RULES, inputs=ProductRule(Operand("G"), Operand("W")))
WRONG_OUTPUT_LAYER = replace(RULES, output=LocalRule(-1))

CASES = [
    ((1, 1, (1,), 1), {"activation": "relu"}, FORGOTTEN_SIGMA),
    ((2, 1, (1,), 1), {"activation": "relu"}, FORGOTTEN_SIGMA),
    ((1, 2, (3,), 1), {"activation": "leaky-relu"}, FORGOTTEN_SIGMA),
    ((3, 3, (3, 3), 3), {"activation": "relu"}, W_FOR_W_TRANSPOSED),
    ((2, 2, (2,), 2), {"activation": "relu"}, W_FOR_W_TRANSPOSED),
    ((3, 3, (3, 3), 3), {"activation": "relu", "output_activation": "relu"}, WRONG_OUTPUT_LAYER),
]


@pytest.mark.parametrize(("sizes", "options", "rules"), CASES)
def test_a_wrong_rule_is_never_verified(sizes: Any, options: Any, rules: Any) -> None:
    verified = [
        seed
        for seed in SEEDS
        if numeric_verify_network(*sizes, rules=rules, seed=seed, **options).verified
    ]
    assert verified == []


@pytest.mark.parametrize(("sizes", "options", "rules"), CASES)
def test_the_right_rules_are_verified_at_every_seed(sizes: Any, options: Any, rules: Any) -> None:
    for seed in SEEDS:
        result = numeric_verify_network(*sizes, seed=seed, **options)
        assert result.verified, (seed, result.untold)
        assert result.untold == ()
        assert 1 <= result.draws <= numeric_network.MAX_DRAWS


def test_one_unit_one_sample_takes_several_draws_and_a_failure_names_its_draw() -> None:
    # one relu unit and one sample: a draw shows σ′ either as 1 or as 0, never both
    counts = [numeric_verify_network(1, 1, (1,), 1, activation="relu", seed=s).draws for s in SEEDS]
    assert max(counts) > 1
    failing = [
        numeric_verify_network(1, 1, (1,), 1, activation="relu", rules=FORGOTTEN_SIGMA, seed=s)
        for s in SEEDS
    ]
    for result in failing:
        wrong = [check for check in result.checks if not check.holds]
        assert wrong
        assert all(1 <= check.draw <= result.draws for check in wrong)
    assert any(check.draw > 1 for result in failing for check in result.checks)


def test_what_no_draw_could_tell_is_said_and_not_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numeric_network, "MAX_DRAWS", 1)
    results = [numeric_verify_network(1, 1, (1,), 1, activation="relu", seed=s) for s in SEEDS]
    blind = [result for result in results if result.untold]
    assert blind, "some single draw leaves the one relu unit alive (or dead)"
    for result in blind:
        assert all(check.holds for check in result.checks)
        assert not result.verified
        assert any("σ′(A1)" in text for text in result.untold)


def test_smooth_and_linear_networks_need_no_second_draw() -> None:
    for activation in ("identity", "sigmoid"):
        for seed in range(6):
            result = numeric_verify_network(1, 1, (1,), 1, seed=seed, activation=activation)
            assert result.verified
            assert result.draws == 1
