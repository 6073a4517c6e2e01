"""Hints for claims about a network whose slip changes their shape (X for H1 in ∂L/∂W2, W1 for
W2, σ′(A2) for σ′(A1)) or keeps it (A1 for H1): each written slip is told what it should take,
found by renaming the operand and judging the claim again, never from the text alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from matgrad_cli.core.claims import network_slips as slips_module
from matgrad_cli.core.claims.network_judge import _networks, check_network
from matgrad_cli.core.claims.network_names import NetworkNames
from matgrad_cli.core.claims.network_parser import parse_network_claim
from matgrad_cli.core.claims.network_renames import fits
from matgrad_cli.core.claims.network_slips import right_formula

RELU = {"hidden": 3, "activation": "relu"}


def _verdict(claim: str, **network: object):  # type: ignore[no-untyped-def]
    options = {**RELU, **network}
    report = check_network(claim, **options)  # type: ignore[arg-type]
    (verdict,) = report.verdicts
    return verdict


def test_the_pre_activation_for_the_activation_is_told() -> None:
    verdict = _verdict("dW2 = A1.T @ G")
    assert not verdict.correct
    assert verdict.reason == "values"
    assert verdict.hint_kind == "pre_activation"
    assert verdict.hint == (
        "∂L/∂W2 takes H1 = relu(A1), the input of layer 2, not A1, its pre-activation"
    )


def test_the_wrong_layer_s_activations_are_told_when_the_shapes_do_not_fit() -> None:
    verdict = _verdict("dW2 = X.T @ G")
    assert not verdict.correct
    assert verdict.reason == "shape"
    assert verdict.hint_kind == "wrong_activations"
    assert verdict.hint == (
        "∂L/∂W2 takes H1 = relu(A1), the input of layer 2, not X, the input of layer 1"
    )


@pytest.mark.parametrize(
    ("claim", "network", "kind", "words"),
    [
        ("dW1 = H1.T @ dA1", {}, "wrong_activations", "takes X, the input of layer 1, not H1"),
        ("dW2 = H2.T @ dA2", {"hidden": (3, 4)}, "wrong_activations", "takes H1"),
        ("dW3 = H1.T @ G", {"hidden": (3, 4)}, "wrong_activations", "takes H2"),
        ("dH1 = G @ W1.T", {}, "wrong_weights", "takes W2, the weights of layer 2, not W1"),
        ("dX = dA1 @ W2.T", {}, "wrong_weights", "takes W1"),
        ("dA1 = dH1 * relu'(A2)", {}, "derivative_wrong_layer", "takes relu'(A1), of layer 1"),
        ("dA1 = dH1 * (A2 > 0)", {}, "derivative_wrong_layer", "takes (A1 > 0)"),
        ("dW1 = X.T @ dA2", {"hidden": (3, 4)}, "wrong_gradient", "takes dA1 = ∂L/∂A1"),
        ("db2 = sum(G, axis=1)", {}, "wrong_sum_axis", "axis=0 is right here"),
        ("dX = dA1 @ W1", {}, "missing_transpose", "W1 should be transposed"),
        ("dH1 = G @ W2", {}, "missing_transpose", "W2 should be transposed"),
    ],
)
def test_a_slip_that_changes_the_shape_is_told(
    claim: str, network: dict[str, object], kind: str, words: str
) -> None:
    verdict = _verdict(claim, **network)
    assert not verdict.correct
    assert verdict.hint_kind == kind, verdict.hint
    assert verdict.hint is not None
    assert words in verdict.hint


def test_a_right_claim_s_renamings_are_never_offered_as_the_answer() -> None:
    # A claim wrong in more than one name is not repaired by a single renaming: no hint, no
    # guess.
    verdict = _verdict("dH1 = G @ W1.T", hidden=(3, 4))
    assert not verdict.correct
    assert verdict.hint is None


def test_renamings_are_weighed_by_shapes_before_they_are_judged() -> None:
    network = _networks(3, "relu", "identity", None, True, None)[0]
    names = NetworkNames.of(network)
    right = parse_network_claim("dW2 = H1.T @ G", names, "numpy")
    wrong = parse_network_claim("dW2 = X.T @ G", names, "numpy")
    assert fits(right.expr, "W2", network)
    assert not fits(wrong.expr, "W2", network)
    assert not fits(right.expr, "W1", network)


NETWORKS = [
    {"hidden": 3, "activation": "relu"},
    {"hidden": 3, "activation": "tanh", "output_activation": "sigmoid"},
    {"hidden": (3, 4), "activation": "relu"},
    {"hidden": (), "output_activation": "sigmoid"},
]


@pytest.mark.parametrize("options", NETWORKS)
def test_every_slip_written_as_a_claim_gets_a_hint_at_the_default_sizes(
    options: dict[str, object],
) -> None:
    """Each slip's formula (network_slips), at sizes where many change the claim's shape, is
    judged wrong and told a hint; whether the hint names that slip is checked where the shapes
    fit (test_network_slips)."""
    network = _networks(
        options["hidden"], str(options.get("activation", "generic")),
        str(options.get("output_activation", "identity")), None, True, None,
    )[0]  # fmt: skip
    claims: list[str] = []
    for candidate in slips_module._candidates(network):
        for target in NetworkNames.of(network).targets:
            try:
                text = slips_module.formula(network, candidate.plan, target)
            except ValueError:
                continue
            if text != right_formula(network, target):
                claims.append(f"d{target} = {text}")
    claims = list(dict.fromkeys(claims))
    assert claims
    report = check_network(claims, **options)  # type: ignore[arg-type]
    told = 0
    for verdict in report.verdicts:
        if verdict.correct:
            continue  # a slip equal to the right answer here (identity′ = 1) is no slip
        assert verdict.hint is not None, verdict.claim
        told += 1
    assert told >= len(claims) // 2


def _repair_rows() -> list[tuple[str, str, str]]:
    page = (Path(__file__).resolve().parent.parent / "docs" / "claims.md").read_text("utf-8")
    start = page.index("## Claims about a network")
    section = page[start : page.index("\n## ", start + 1)]
    return re.findall(r"^\| `(\w+)` \| [^|]+ \| `([^`]+)` \| ([^|]+) \|$", section, re.M)


def test_the_docs_table_of_repairs_lists_every_renaming_and_single_repair() -> None:
    kinds = {kind for kind, _, _ in _repair_rows()}
    assert kinds == {
        "pre_activation", "wrong_activations", "wrong_weights", "derivative_wrong_layer",
        "wrong_gradient", "wrong_activation", "wrong_sum_axis", "missing_transpose",
        "extra_transpose",
    }  # fmt: skip


@pytest.mark.parametrize(("kind", "claim", "hint"), _repair_rows())
def test_each_repair_of_the_docs_table_is_hinted_as_it_says(
    kind: str, claim: str, hint: str
) -> None:
    verdict = _verdict(claim)
    assert (verdict.correct, verdict.hint_kind) == (False, kind)
    assert verdict.hint == hint
