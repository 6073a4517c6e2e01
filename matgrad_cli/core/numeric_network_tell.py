"""Whether a draw of the numeric network check can tell a right backward rule from a wrong one.

A random integer draw can be blind to a slip: when every pre-activation of a relu layer is
positive, σ′ = 1 there and a rule that forgets σ′ gives the right figures; when the two masks
σ′(Aℓ) and σ′(Aℓ′) of layers of one width agree wherever ∂L/∂Hℓ is nonzero, a rule that takes the
wrong layer's σ′ does too; and when ∂L/∂Aℓ·(Wℓ − Wℓᵀ) vanishes where it reaches the layer below,
Wℓ cannot be told from Wℓᵀ. ``facts_needed`` names what a network's draws must show, ``facts_told``
what one draw shows (from its forward pass and the true gradients); the check draws again,
boundedly, until every needed fact has been shown by some draw, and names the facts no draw
showed.

Only exact figures are examined (identity, relu, leaky-relu, the generic σ): a sigmoid's or
tanh's σ′ is never 1 nor equal at two different arguments of a draw in general position.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .activations import Activation, Identity, LeakyRelu, Relu
from .network import Network
from .network_matrix import RULES
from .numeric_exact import Exact
from .numeric_network_routes import Draw, Forward, closed_form, product, recursion

__all__ = ["fact_text", "facts_needed", "facts_told"]


def _linear(activation: Activation) -> bool:
    """Whether σ′ is 1 everywhere (identity, or a leaky-relu of slope 1)."""
    if isinstance(activation, Identity):
        return True
    return isinstance(activation, LeakyRelu) and activation.slope == 1


def _activated(network: Network) -> list[int]:
    """The layers whose output passes through an activation."""
    depth = network.depth
    return [at for at in range(1, depth + 1) if at < depth or network.output_activated]


def facts_needed(network: Network, exact: bool) -> frozenset[str]:
    """The facts the draws of this network must show: ``sign-ℓ`` and ``sign+ℓ`` (a relu or
    leaky-relu layer has a pre-activation ≤ 0, resp. > 0, with a nonzero ∂L/∂Hℓ), ``slopes ℓ ℓ′``
    (σ′(Aℓ) differs from σ′(Aℓ′) where ∂L/∂Hℓ is nonzero, for layers of one width) and
    ``transpose ℓ`` (a square Wℓ is told from Wℓᵀ)."""
    if not exact:
        return frozenset()
    facts: set[str] = set()
    widths, layers = network.sizes.widths, _activated(network)
    for at in layers:
        activation = network.activation_of(at)
        if isinstance(activation, Relu | LeakyRelu) and not _linear(activation):
            facts |= {f"sign- {at}", f"sign+ {at}"}
        for other in layers:
            both_linear = _linear(activation) and _linear(network.activation_of(other))
            if other != at and widths[other] == widths[at] and not both_linear:
                facts.add(f"slopes {at} {other}")
    for at in range(1, network.depth + 1):
        if widths[at - 1] == widths[at] > 1:
            facts.add(f"transpose {at}")
    return frozenset(facts)


def _nonzero(value: Any) -> Any:
    return np.asarray(Exact.of(value).numerators != 0, dtype=bool)


def _upstreams(network: Network, draw: Draw, forward: Forward) -> dict[int, Any]:
    """∂L/∂Hℓ for each layer (the true one, by the reference rules), and ∂L/∂Aℓ keyed −ℓ."""
    made = recursion(network, draw, forward, RULES)
    depth = network.depth
    found: dict[int, Any] = {depth: closed_form(draw, forward.post[depth])}
    for at in range(1, depth + 1):
        found[-at] = made[f"A{at}"][1]
        if at < depth:
            found[at] = product(made[f"A{at + 1}"][1], draw.weight(at + 1).T)
    return found


def facts_told(network: Network, draw: Draw, forward: Forward, needed: frozenset[str]) -> set[str]:
    """The needed facts this draw shows."""
    if not needed:
        return set()
    upstream = _upstreams(network, draw, forward)
    told: set[str] = set()
    for fact in needed:
        kind, *layers = fact.split()
        at = int(layers[0])
        if kind.startswith("sign"):
            alive = Exact.of(forward.pre[at]).positive()
            side = alive if kind == "sign+" else ~alive
            shown = bool((side & _nonzero(upstream[at])).any())
        elif kind == "slopes":
            differ = Exact.of(forward.slope[at]).differs(Exact.of(forward.slope[int(layers[1])]))
            shown = bool((differ & _nonzero(upstream[at])).any())
        else:
            weight = draw.weight(at)
            reached = _nonzero(product(upstream[-at], weight.T - weight))
            if at > 1:
                reached &= _nonzero(forward.slope[at - 1])
            shown = bool(reached.any())
        if shown:
            told.add(fact)
    return told


def fact_text(fact: str) -> str:
    """What a draw that never showed ``fact`` could not tell, for a person."""
    kind, *layers = fact.split()
    at = layers[0]
    if kind == "sign-":
        return (
            f"no draw had a pre-activation ≤ 0 in A{at} with a nonzero ∂L/∂H{at}: "
            f"σ′(A{at}) could not be told from 1"
        )
    if kind == "sign+":
        return (
            f"no draw had a positive pre-activation in A{at} with a nonzero ∂L/∂H{at}: "
            f"σ′(A{at}) could not be told from its value below the kink"
        )
    if kind == "slopes":
        return f"no draw told σ′(A{at}) from σ′(A{layers[1]}) where ∂L/∂H{at} is nonzero"
    below = "X" if at == "1" else f"H{int(at) - 1}"
    return f"no draw told W{at} from W{at}ᵀ in ∂L/∂{below}"
