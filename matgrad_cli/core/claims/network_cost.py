"""What checking a claim about a network costs, estimated from its syntax tree before any
arithmetic, so that no claim (and no file of claims) makes ``matgrad check`` work for long.

Bottom-up, each part of the claim gets its shape and a bound on the terms of each entry once
multiplied out: an entry of X, Wℓ, bℓ, G or of an activation's value is one term (the equality
test names σ(e) and σ′(e) by symbols), an entry of Aℓ has d₍ℓ₋₁₎ + 1, and the gradients ∂L/∂Aℓ
and ∂L/∂Hℓ as many as the backward recursion writes (one per entry of G they reach, times two for
each σ′ of the sigmoid or tanh on the way). A product X @ Y has at most inner × terms(X) ×
terms(Y) terms an entry, X * Y terms(X) × terms(Y), X + Y the sum. Building a part costs its
entries times its terms, and comparing the claim with the right answer the entries times the
terms of both. A wrong claim's hint is searched by judging repaired claims, within a share of at
most HINT_SHARE operations (HINT_TRIES repairs), which each claim's estimate includes. The unit is
the single layer's operation (meter.py), and a run's budget the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..network import Network
from . import tree
from .cost import CLAIM_OVERHEAD
from .meter import BUDGET, CheckTooCostly, amount, capped
from .network_evaluation import network_shapes
from .tree import Node

__all__ = ["BUDGET", "claim_cost", "hint_tries", "refuse_costly", "refuse_large_network"]

#: The network itself is derived and verified at every size a claim is checked at, before any
#: claim: its chain-rule terms (NetworkSizes.work) at all those sizes together may be at most
#: NETWORK_LIMIT, each weighed EXPONENTIAL_WEIGHT times more with the sigmoid or tanh, whose
#: exponentials the equality test splits and names, and DEEP_WEIGHT times more again for each
#: layer beyond two. Measured with `matgrad check` on two cores under a load of about 6: sigmoid
#: networks of hidden widths 4,3 (weight 46,968 under tanh) take about 4 s, 8,8 (110,352) about
#: 8 to 11 s, 12,12 (244,848) 17 s and 3,3,3,3 about 55 s; relu ones five to forty times less.
NETWORK_LIMIT = 120_000
EXPONENTIAL_WEIGHT = 4
DEEP_WEIGHT = 3

#: A wrong claim's hint is searched by judging it repaired (network_hints.py), twice (its `*` made
#: matrix products, and single repairs): each time at most this many repairs, and at most
#: HINT_SHARE operations, which each claim's estimate includes.
HINT_TRIES = 8
HINT_SHARE = 10_000

#: The terms of σ′ once named: 1 for generic σ, relu, leaky-relu and identity; 2 for s(1 − s)
#: and 1 − s².
_DERIVATIVE_TERMS = {"sigmoid": 2, "tanh": 2}


@dataclass(frozen=True)
class _Part:
    rows: int
    cols: int
    terms: int

    @property
    def entries(self) -> int:
        return self.rows * self.cols


def gradient_terms(network: Network) -> dict[str, int]:
    """A bound on the terms of an entry of each ∂L/∂Aℓ, ∂L/∂Hℓ, ∂L/∂Wℓ, ∂L/∂bℓ and ∂L/∂X."""
    widths, m, depth = network.sizes.widths, network.sizes.m, network.depth
    local = _DERIVATIVE_TERMS.get(network.output_activation.name, 1)
    terms: dict[str, int] = {f"H{depth}": 1, f"A{depth}": local}
    for layer in range(depth, 0, -1):
        above = terms[f"A{layer}"]
        terms[f"W{layer}"] = terms[f"b{layer}"] = capped(m * above)
        below = capped(widths[layer] * above)
        if layer == 1:
            terms["X"] = below
        else:
            terms[f"H{layer - 1}"] = below
            factor = _DERIVATIVE_TERMS.get(network.activation.name, 1)
            terms[f"A{layer - 1}"] = capped(below * factor)
    return terms


class _Weigher:
    def __init__(self, network: Network) -> None:
        self._network = network
        self._gradients = gradient_terms(network)
        self.work = 0

    def _operand_terms(self, name: str) -> int:
        if name.startswith("d"):
            return self._gradients[name[1:]]
        if name[0] == "A" or (name[0] == "H" and self._network.activation.name == "identity"):
            return self._network.sizes.widths[int(name[1:]) - 1] + 1
        return 1

    def weigh(self, node: Node, shapes: dict[str, tuple[int, int]]) -> _Part:
        part = self._part(node, shapes)
        self.work = capped(self.work + part.entries * part.terms + 1)
        return part

    def _part(self, node: Node, shapes: dict[str, tuple[int, int]]) -> _Part:
        match node:
            case tree.Name(name=name):
                return _Part(*shapes[name], self._operand_terms(name))
            case tree.Number() | tree.Size():
                return _Part(1, 1, 1)
            case tree.MatMul(left=left, right=right):
                a, b = self.weigh(left, shapes), self.weigh(right, shapes)
                inner = max(a.cols, b.rows, 1)
                rows, cols = (a.rows, b.cols) if a.cols == b.rows else (a.rows, b.rows)
                return _Part(rows, cols, capped(inner * a.terms * b.terms))
            case tree.Hadamard(left=left, right=right) | tree.ScalarMul(left=left, right=right):
                a, b = self.weigh(left, shapes), self.weigh(right, shapes)
                return _Part(max(a.rows, b.rows), max(a.cols, b.cols), capped(a.terms * b.terms))
            case tree.Add(left=left, right=right) | tree.Sub(left=left, right=right):
                a, b = self.weigh(left, shapes), self.weigh(right, shapes)
                return _Part(max(a.rows, b.rows), max(a.cols, b.cols), a.terms + b.terms)
            case tree.SumAxis(arg=arg):
                a = self.weigh(arg, shapes)
                return _Part(1, max(a.rows, a.cols), capped(max(a.rows, a.cols) * a.terms))
            case tree.Applied(arg=arg, derivative=derivative):
                a = self.weigh(arg, shapes)
                terms = _DERIVATIVE_TERMS.get(self._network.activation.name, 1) if derivative else 1
                return _Part(a.rows, a.cols, terms)
            case tree.Positive(arg=arg) | tree.OnesLike(arg=arg):
                a = self.weigh(arg, shapes)
                return _Part(a.rows, a.cols, 1)
            case tree.Transpose(arg=arg):
                a = self.weigh(arg, shapes)
                return _Part(a.cols, a.rows, a.terms)
            case tree.Neg(arg=arg) | tree.Div(left=arg):
                return self.weigh(arg, shapes)
            case tree.Ones(rows=rows, cols=cols):
                size = self._network.sizes
                named = {"m": size.m, "k": size.k, "n": size.n}
                dims = [d if isinstance(d, int) else named[d] for d in (rows, cols)]
                return _Part(dims[0], dims[1], 1)
            case _:
                return _Part(1, 1, 1)


def claim_cost(node: Node, target: str, network: Network) -> int:
    """The estimated operations of checking ``node`` as ∂L/∂``target`` at ``network``'s sizes:
    building every part, and comparing every entry with the right answer's."""
    names = (*_matrix_names(network), *(f"d{name}" for name in _gradient_names(network)))
    shapes = network_shapes(network, names)
    weigher = _Weigher(network)
    part = weigher.weigh(node, shapes)
    right = gradient_terms(network).get(target, 1)
    return capped(CLAIM_OVERHEAD + weigher.work + part.entries * (part.terms + right))


def hint_tries(node: Node, target: str, network: Network) -> int:
    """How many repairs of a wrong claim the search for its hint may judge at ``network``."""
    return min(HINT_TRIES, HINT_SHARE // claim_cost(node, target, network))


def network_weight(networks: list[Network]) -> int:
    """The weighed chain-rule terms of deriving the network at every size (NETWORK_LIMIT)."""
    total = sum(network.sizes.work for network in networks)
    activations = {networks[0].activation.name, networks[0].output_activation.name}
    if activations & {"sigmoid", "tanh"}:
        total *= EXPONENTIAL_WEIGHT * DEEP_WEIGHT ** max(networks[0].depth - 2, 0)
    return total


def refuse_large_network(networks: list[Network]) -> None:
    """CheckTooCostly when deriving the network at the sizes checked would take too long."""
    weight = network_weight(networks)
    if weight > NETWORK_LIMIT:
        first = networks[0]
        sizes = ", ".join(f"m={n.sizes.m}, k={n.sizes.k}, n={n.sizes.n}" for n in networks)
        raise CheckTooCostly(
            f"the network (hidden widths {','.join(map(str, first.sizes.hidden)) or 'none'}, "
            f"{first.activation.name} and {first.output_activation.name}) would take about "
            f"{amount(weight)} weighed chain-rule terms to derive at {sizes}, over the limit of "
            f"{amount(NETWORK_LIMIT)} for check: check claims about a narrower or shallower "
            "network, or give small --m/--k/--n"
        )


def _matrix_names(network: Network) -> tuple[str, ...]:
    names = ["X"]
    for layer in range(1, network.depth + 1):
        names += [f"W{layer}", f"b{layer}", f"A{layer}", f"H{layer}"]
    return tuple(names)


def _gradient_names(network: Network) -> tuple[str, ...]:
    return tuple(name for name in _matrix_names(network) if name[0] in "AH")


def refuse_costly(claims: list[tuple[str, Node, str]], networks: list[Network]) -> None:
    """CheckTooCostly when a claim (text, tree, target), checked at every network in
    ``networks``, would cost more than the budget, or all of them together would."""
    total = 0
    for text, node, target in claims:
        cost = sum(claim_cost(node, target, network) for network in networks)
        # the two searches of a hint (network_hints.py), each within its share
        cost += 2 * min(HINT_SHARE, HINT_TRIES * claim_cost(node, target, networks[0]))
        if cost > BUDGET:
            sizes = networks[0].sizes
            raise CheckTooCostly(
                f'the claim "{text}" would take about {amount(cost)} operations to check, over '
                f"the budget of {amount(BUDGET)}: at m={sizes.m}, k={sizes.k}, n={sizes.n} and "
                f"hidden widths {','.join(map(str, sizes.hidden)) or 'none'}; check it at "
                "smaller --m/--k/--n, or shorten it",
                text,
            )
        total += cost
    if total > BUDGET:
        raise CheckTooCostly(
            f"the {len(claims)} claims would take about {amount(total)} operations to check, over "
            f"the budget of {amount(BUDGET)} for one run: check them in parts"
        )
