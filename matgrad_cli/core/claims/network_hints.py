"""The right answers to claims about a network, in claim syntax, and the hints for wrong ones.

The right answer is the backward recursion written with the gradients found before it
(``dW1 = X.T @ dA1``, ``dA1 = dH1 * relu'(A1)``); the tests judge every one of them correct at
every activation, so that each is checked, not asserted. A wrong claim's hint is the first of:
``*`` meant as the matrix product (the claim is right with ``@`` where its elementwise product
did not fit), one of the slips students make in backprop (network_slips.py, when the claim's
value is that slip's), one repair that makes it right (an operand renamed to another layer's
matrix or to the other side of its activation, network_renames.py, which finds the slips that
change the claim's shape; another activation than the network's made its own, a sum along the
other axis, an operand transposed or not), the transpose of the right answer, or its negative.
Each is found by judging the repaired claim or comparing values exactly, never guessed from the
text; only repairs whose claim has the target's shape are judged, and no more of them than the
claim's hint budget allows (network_cost.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from itertools import chain, islice
from typing import Literal

from ..activations import Activation
from ..network import Matrix, Network
from . import tree
from .network_context import NetworkContext
from .network_cost import hint_tries
from .network_evaluation import evaluate_network_claim
from .network_names import ACTIVATION_WORDS
from .network_parser import NetworkClaim
from .network_renames import fits, renames
from .repairs import ELEMENTWISE_MESSAGE, HINT_NODE_LIMIT
from .shapes import ShapeMismatch
from .tree import replaced, subtrees, to_text

#: How many elementwise products the ``*`` hint turns into matrix products, at most.
_MAX_REPAIRS = 8


def _claim_word(activation: Activation) -> str:
    """The activation's word in claim syntax: ``relu``, ``leaky_relu``, ``σ`` for generic σ."""
    return {"generic": "σ", "leaky-relu": "leaky_relu"}.get(activation.name, activation.name)


def derivative_text(network: Network, layer: int) -> str:
    """σ′ of layer ℓ in claim syntax: ``relu'``, ``sigmoid'``, ``σ'`` for generic σ."""
    return f"{_claim_word(network.activation_of(layer))}'"


def correct_formula(target: str, network: Network) -> str:
    """The right side of the right answer for ∂L/∂``target``, in claim syntax."""
    depth = network.depth

    def upstream(layer: int) -> str:
        return "G" if layer == depth and not network.output_activated else f"dA{layer}"

    letter, layer = target[0], (0 if target == "X" else int(target[1:]))
    if target == "X":
        return f"{upstream(1)} @ W1.T"
    if letter == "W":
        below = "X" if layer == 1 else f"H{layer - 1}"
        return f"{below}.T @ {upstream(layer)}"
    if letter == "b":
        return f"sum({upstream(layer)}, axis=0)"
    if letter == "H":
        return f"{upstream(layer + 1)} @ W{layer + 1}.T"
    above = "G" if layer == depth else f"dH{layer}"
    if network.activation_of(layer).name == "identity":
        return above
    return f"{above} * {derivative_text(network, layer)}(A{layer})"


def hint_for(
    claim: NetworkClaim, context: NetworkContext, value: Matrix | None
) -> tuple[str | None, str | None]:
    """(kind, hint) for a wrong claim at ``context``, or (None, None) when none is found."""
    if claim.dialect == "numpy" and _right_as_matrix_product(claim, context):
        return "elementwise_product", (
            f"{ELEMENTWISE_MESSAGE}; with --dialect matlab or math, * is the matrix product"
        )
    found = None if value is None else _slip(claim, context, value)
    if found is None:
        found = _repaired(claim, context)
    if found is not None:
        return found
    if value is None:
        return None, None
    right = context.right[claim.target]
    transposed = tuple(zip(*value, strict=True))
    if _equal(transposed, right, context):
        return "transposed_result", (
            f"the claim is the transpose of ∂L/∂{claim.target}, which has the shape of "
            f"{claim.target}"
        )
    if _equal(tuple(tuple(-e for e in row) for row in value), right, context):
        return "sign_error", "sign error: the claim is the negative of the right answer"
    return None, None


def _slip(claim: NetworkClaim, context: NetworkContext, value: Matrix) -> tuple[str, str] | None:
    """The slip (network_slips.py) whose value the claim's is, if any."""
    from .network_slips import network_slips

    engine = context.engine
    upstream = context.derivation.symbols.upstream
    for slip in network_slips(context.derivation, claim.target):
        wrong = tuple(tuple(row) for row in slip.value.values(upstream, engine))
        if _equal(value, wrong, context):
            return slip.kind, slip.hint
    return None


def _repairs(expr: tree.Node, network: Network) -> Iterator[tuple[str, str, tree.Node]]:
    """(kind, hint, the claim with one slip undone): another activation than the network's
    made its own, a sum along the other axis, or one operand transposed (``W1`` for ``W1ᵀ``)."""
    for path, node in subtrees(expr):
        own = _claim_word(network.activation if network.depth > 1 else network.output_activation)
        if isinstance(node, tree.Positive) and own in ACTIVATION_WORDS and own != "relu":
            yield (
                "wrong_activation",
                f"{to_text(node)} is relu′, and this network's σ is {own}: {own}'"
                f"({to_text(node.arg)})",
                replaced(expr, path, tree.Applied(node.arg, node.span, own, True)),
            )
        if isinstance(node, tree.Applied) and own in ACTIVATION_WORDS:
            if node.function in ("σ", own):
                continue
            mark = "'" if node.derivative else ""
            which = "the generic σ" if own == "σ" else own
            yield (
                "wrong_activation",
                f"{to_text(node)} is not this network's activation: its σ is {which}, so "
                f"{own}{mark}({to_text(node.arg)})",
                replaced(expr, path, replace(node, function=own)),
            )
    for path, node in subtrees(expr):
        if isinstance(node, tree.SumAxis):
            axis: Literal[0, 1] = 1 if node.axis == 0 else 0
            flipped = replace(node, axis=axis)
            yield (
                "wrong_sum_axis",
                f"{to_text(node)} adds along the wrong axis: axis={axis} is right here",
                replaced(expr, path, flipped),
            )
        elif isinstance(node, tree.Name):
            yield (
                "missing_transpose",
                f"{node.name} should be transposed: {node.name}ᵀ",
                replaced(expr, path, tree.Transpose(node, node.span)),
            )
        elif isinstance(node, tree.Transpose) and isinstance(node.arg, tree.Name):
            yield (
                "extra_transpose",
                f"{to_text(node)} should not be transposed: {node.arg.name}",
                replaced(expr, path, node.arg),
            )


def _repaired(claim: NetworkClaim, context: NetworkContext) -> tuple[str, str] | None:
    """The first single repair (_repairs) that makes the claim right at ``context``."""
    if sum(1 for _ in subtrees(claim.expr)) > HINT_NODE_LIMIT:
        return None
    right = context.right[claim.target]
    network = context.network
    tries = hint_tries(claim.expr, claim.target, network)
    candidates = chain(
        renames(claim.expr, claim.target, network),
        _fitting(claim, _repairs(claim.expr, network), network),
    )
    for kind, hint, expr in islice(candidates, tries):
        try:
            value = evaluate_network_claim(expr, context.network, context.engine, context.operands)
        except ShapeMismatch:
            continue
        if _equal(value, right, context):
            return kind, hint
    return None


def _fitting(
    claim: NetworkClaim, repairs: Iterator[tuple[str, str, tree.Node]], network: Network
) -> Iterator[tuple[str, str, tree.Node]]:
    """The repairs whose claim has the target's shape, weighed by shapes alone."""
    return (repair for repair in repairs if fits(repair[2], claim.target, network))


def _equal(left: Matrix, right: Matrix, context: NetworkContext) -> bool:
    if (len(left), len(left[0])) != (len(right), len(right[0])):
        return False
    equal = context.equality.equal
    return all(
        equal(a, b)
        for row, other in zip(left, right, strict=True)
        for a, b in zip(row, other, strict=True)
    )


def _right_as_matrix_product(claim: NetworkClaim, context: NetworkContext) -> bool:
    """Whether the claim, each elementwise product that does not fit made a matrix product,
    has the right value; False when none was made."""
    if not any(isinstance(node, tree.Hadamard) for _, node in subtrees(claim.expr)):
        return False
    expr, changed = claim.expr, False
    for _ in range(min(_MAX_REPAIRS, hint_tries(claim.expr, claim.target, context.network))):
        try:
            value = evaluate_network_claim(expr, context.network, context.engine, context.operands)
        except ShapeMismatch as mismatch:
            repaired = _as_product(expr, mismatch.node)
            if repaired is None:
                return False
            expr, changed = repaired, True
            continue
        right = context.right[claim.target]
        return changed and _equal(value, right, context)
    return False


def _as_product(expr: tree.Node, node: tree.Node) -> tree.Node | None:
    if not isinstance(node, tree.Hadamard):
        return None
    for path, sub in _paths(expr):
        if sub is node:
            return replaced(expr, path, tree.MatMul(node.left, node.right, node.span))
    return None


def _paths(expr: tree.Node) -> Iterator[tuple[tuple[str, ...], tree.Node]]:
    yield from subtrees(expr)
