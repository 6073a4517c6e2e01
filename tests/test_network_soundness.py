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


_RELU_RIGHT = [
    "dA1 = dH1 * (H1 > 0)",
    "dA1 = np.where(H1 > 0, dH1, 0)",
    "dA1 = dH1 * relu'(H1)",
    "dW2 = (A1 * (A1 > 0)).T @ G",
    "dA1 = dH1 * (A1 > 0) * (A1 > 0)",
    "dA1 = dH1 * relu'(relu'(A1))",
    "dA1 = (G @ W2.T) * relu'(H1)",
    "dA1 = dH1 * relu(relu'(A1))",
]
_RELU_WRONG = [
    "dA1 = dH1",
    "dA1 = dH1 * A1",
    "dA1 = dH1 * H1",
    "dA1 = dH1 * relu'(-A1)",
    "dA1 = dH1 * (1 - (A1 > 0))",
    "dW2 = A1.T @ G",
    "dA1 = dH1 * (H1 > 0) * A1",
]


@pytest.mark.parametrize("claim", _RELU_RIGHT)
def test_relu_idioms_are_correct(claim: str) -> None:
    assert check_network(claim, hidden=(3,), activation="relu").verdicts[0].correct


@pytest.mark.parametrize("claim", _RELU_WRONG)
def test_wrong_relu_claims_stay_wrong(claim: str) -> None:
    assert not check_network(claim, hidden=(3,), activation="relu").verdicts[0].correct


@pytest.mark.parametrize(
    ("claim", "correct"),
    [
        ("dA1 = dH1 * (H1 > 0)", True),
        ("dA2 = dH2 * relu'(H2)", True),
        ("dW3 = (A2 * (A2 > 0)).T @ G", True),
        ("dA1 = dH1 * relu'(A2)", False),
        ("dA1 = dH1 * (H2 > 0)", False),
        ("dA1 = dH1 * relu'(H1 @ W2)", False),
    ],
)
def test_relu_idioms_in_a_deeper_network(claim: str, correct: bool) -> None:
    verdict = check_network(claim, hidden=(3, 3), activation="relu").verdicts[0]
    assert verdict.correct is correct


@pytest.mark.parametrize(
    ("claim", "correct"),
    [
        ("dA1 = dH1 * leaky_relu'(H1)", True),
        ("dA1 = dH1 * (0.01 + 0.99 * (H1 > 0))", True),
        ("dA1 = dH1 * (H1 > 0)", False),
        ("dA1 = dH1 * leaky_relu(A1)", False),
    ],
)
def test_leaky_relu_idioms(claim: str, correct: bool) -> None:
    verdict = check_network(claim, hidden=(3,), activation="leaky-relu").verdicts[0]
    assert verdict.correct is correct


def test_the_output_derivative_slip_is_offered_only_where_it_is_one() -> None:
    from matgrad_cli.core.claims.network_slips import network_slips
    from matgrad_cli.core.network_derive import derive_network

    def kinds(activation: str) -> set[str]:
        network = derive_network(2, 4, (3,), 5, activation=activation)
        return {slip.kind for slip in network_slips(network, "W1")}

    assert "derivative_at_output" not in kinds("relu")
    assert "derivative_at_output" not in kinds("leaky-relu")
    assert "derivative_at_output" in kinds("tanh")


@pytest.mark.parametrize(
    ("claim", "message", "at"),
    [
        ("dA1 = dH1 * relu'(A1) * H1 / H1", "not by a matrix", "H1"),
        ("dW1 = X.T @ dA1 / 0", "division by zero", "0"),
        ("dW1 = X.T @ dA1 / (2 - 2)", "division by zero", "(2 - 2)"),
        ("dW1 = X.T @ dA1 / (m - 2)", "division by zero at m = 2", "(m - 2)"),
    ],
)
def test_a_claim_without_a_value_is_refused_not_wrong(claim: str, message: str, at: str) -> None:
    with pytest.raises(ClaimSyntaxError, match=message) as caught:
        check_network(claim, hidden=(3,), activation="relu")
    assert claim[caught.value.position :] == at


def test_a_division_by_a_size_is_judged() -> None:
    assert check_network("dW1 = m * X.T @ dA1 / m", hidden=(3,), activation="relu").correct
