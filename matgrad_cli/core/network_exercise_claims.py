"""A network sheet's answers in the claim syntax of ``matgrad check``, read off the rules that
computed them (core/network_exercise.py), so that a student can check an answer by typing it."""

from __future__ import annotations

from .network_exercise import NetworkSolution, NetworkStep, SheetNetwork
from .network_matrix import LocalRule, Operand

#: How a claim (``matgrad check``) writes each activation's derivative, e.g. ``relu'(A1)``.
CLAIM_NAMES = {
    "generic": "sigma",
    "relu": "relu",
    "leaky-relu": "leaky_relu",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
}


def _claim_operand(
    operand: Operand,
    layer: int,
    network: SheetNetwork,
    expansions: dict[str, str],
    bare: bool = False,
) -> str:
    """A factor of a rule in claim syntax, a gradient found earlier written out (in parentheses
    unless ``bare``), or named dAℓ when ``expansions`` holds names."""
    at = layer + operand.offset
    if operand.letter == "G":
        # With an identity activation Gℓ is ∂L/∂Hℓ itself, which has the step.
        found = expansions.get(f"A{at}", expansions.get(f"H{at}"))
        named = found is not None and found.startswith("d")
        text = "G" if found is None else (found if bare or named else f"({found})")
    elif operand.letter == "H":
        text = "X" if at == 0 else f"H{at}"
    else:
        text = f"W{at}" if operand.letter == "W" else "ones"
    return f"{text}.T" if operand.transposed and operand.letter != "1" else text


def _claim_right(step: NetworkStep, network: SheetNetwork, expansions: dict[str, str]) -> str:
    """The right side of a step's claim, earlier steps written out."""
    rule, layer = step.rule, step.layer
    if isinstance(rule, LocalRule):
        top = step.name == f"A{network.depth}"
        upstream = "G" if top else expansions[f"H{layer - 1}"]
        if not rule.derivative:
            return upstream
        at = layer + rule.offset
        factor = upstream if top or upstream.startswith("d") else f"({upstream})"
        return f"{factor} * {CLAIM_NAMES.get(network.activation_of(at), 'sigma')}'(A{at})"
    left = _claim_operand(rule.left, layer, network, expansions)
    if rule.left.letter == "1" and rule.left.transposed:
        return f"sum({_claim_operand(rule.right, layer, network, expansions, True)}, axis=0)"
    right = _claim_operand(rule.right, layer, network, expansions)
    if rule.right.letter == "1" and not rule.right.transposed:
        return f"sum({_claim_operand(rule.left, layer, network, expansions, True)}, axis=1)"
    return f"{left} @ {right}"


def step_claims(solution: NetworkSolution, expanded: bool = True) -> tuple[str, ...]:
    """Each step as a claim a student can give ``matgrad check``: with ``expanded`` every
    earlier step written out in it (``dW1 = X.T @ ((G @ W2.T) * relu'(A1))``), else named
    (``dW1 = X.T @ dA1``)."""
    network = solution.problem.network
    expansions: dict[str, str] = {}
    claims = []
    for step in solution.steps:
        right = _claim_right(step, network, expansions)
        expansions[step.name] = right if expanded else f"d{step.name}"
        claims.append(f"d{step.name} = {right}")
    return tuple(claims)
