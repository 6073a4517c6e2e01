"""`matgrad check` on a network: a claim that depends on the sizes is judged at further sizes."""

from __future__ import annotations

import pytest

from matgrad_cli.core.claims.network_generality import MAX_SIZE_PARTS, extra_sizes, size_parts
from matgrad_cli.core.claims.network_judge import check_network
from matgrad_cli.errors import ClaimSyntaxError


def _verdict(claim: str, sizes: tuple[int, int, int] | None = None):  # type: ignore[no-untyped-def]
    report = check_network(claim, hidden=(3,), activation="relu", sizes=sizes)
    return report.verdicts[0]


def test_a_claim_vanishing_at_the_default_sizes_is_wrong() -> None:
    verdict = _verdict("dW1 = X.T @ dA1 + (m - 2) * (m - 4) * W1")
    assert not verdict.correct
    assert verdict.hint_kind == "size_dependent"
    assert verdict.reported_at.m not in (2, 4)


@pytest.mark.parametrize(
    "claim",
    ["db1 = ones(2, 1).T @ dA1", "db1 = 2 * mean(dA1, axis=0)", "db1 = (m - 1) * sum(dA1, axis=0)"],
)
def test_a_claim_right_only_at_the_given_sizes_is_wrong(claim: str) -> None:
    verdict = _verdict(claim, (2, 3, 4))
    assert not verdict.correct
    assert verdict.hint is not None
    assert "2×3×4 but not at" in verdict.hint


@pytest.mark.parametrize(
    "claim",
    ["db1 = ones(1, m) @ dA1", "db1 = m * mean(dA1, axis=0)"],
)
def test_size_dependent_right_claims_stay_right(claim: str) -> None:
    verdict = _verdict(claim, (2, 3, 4))
    assert verdict.correct
    assert len(verdict.sizes_checked) > 1


def test_extra_sizes_give_distinct_values() -> None:
    extra = extra_sizes(3, [(2, 3, 4)], (3,))
    triples = [(2, 3, 4), *extra]
    for axis in range(3):
        assert len({triple[axis] for triple in triples}) == 4
    for triple in extra:
        assert len(set(triple)) == 3
        assert 3 not in triple
    assert extra_sizes(0, [(2, 3, 4)], (3,)) == []


def test_too_many_size_parts_are_refused() -> None:
    claim = "dW1 = X.T @ dA1" + " + m * W1" * (MAX_SIZE_PARTS + 1)
    with pytest.raises(ClaimSyntaxError):
        check_network(claim, hidden=(3,), activation="relu")
    assert size_parts(_verdict_tree("db1 = sum(dA1, axis=0)"), "") == 0


def _verdict_tree(text: str):  # type: ignore[no-untyped-def]
    from matgrad_cli.core.claims.network_judge import _networks
    from matgrad_cli.core.claims.network_names import NetworkNames
    from matgrad_cli.core.claims.network_parser import parse_network_claim

    network = _networks((3,), "relu", "identity", None, True, None)[0]
    return parse_network_claim(text, NetworkNames.of(network)).expr


@pytest.mark.parametrize(("function", "depth"), [("sigmoid", 60), ("tanh", 10), ("relu'", 5)])
def test_deeply_nested_activations_are_refused_before_any_work(function: str, depth: int) -> None:
    inner = "A1"
    for _ in range(depth):
        inner = f"{function}({inner})"
    with pytest.raises(ClaimSyntaxError, match="nested more than 4 deep") as caught:
        check_network(f"dA1 = dH1 * {inner}", hidden=(3,), activation="tanh")
    assert caught.value.source[caught.value.position :].startswith(function)


def test_activations_nested_four_deep_are_judged() -> None:
    claim = "dA1 = dH1 * tanh'(A1) + 0 * tanh(tanh(tanh(tanh(A1))))"
    assert check_network(claim, hidden=(3,), activation="tanh").verdicts[0].correct
