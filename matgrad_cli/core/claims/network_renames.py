"""Name-level repairs of a wrong claim about a network: one operand replaced by a matrix of
another layer, or of the same layer on the other side of its activation.

Backpropagation's commonest slips are names: X for H1 in ∂L/∂W2 (the wrong layer's
activations), A1 for H1 (the pre-activation for the activation), W1 for W2, σ′(A2) for σ′(A1),
dA2 for dA1. Such a slip often changes the claim's shape, so that its value cannot be compared
with anything; the name it should have used can still be found, by replacing the operand and
judging the claim again. Each replacement is first weighed by its shapes alone (no symbolic
work): only those whose claim has the target's shape are judged, and no more of them than the
claim's hint budget allows (network_cost.hint_tries).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..layer import Sizes
from ..network import Network
from . import tree
from .network_evaluation import network_shapes
from .network_names import NetworkNames
from .shapes import ShapeMismatch, shape_of
from .tree import replaced, subtrees, to_text


def _layer(name: str, depth: int = 0) -> int:
    """The layer of a name: 0 for X, ℓ for Aℓ, Hℓ, Wℓ, bℓ, dAℓ, dHℓ, the last (``depth``) for
    G."""
    if name in ("X", "G"):
        return depth if name == "G" else 0
    return int(name.lstrip("dAHWb"))


def _activations(network: Network) -> tuple[str, ...]:
    """The matrices a layer takes or gives: X, then each Aℓ and its Hℓ where there is one."""
    names = ["X"]
    for layer in range(1, network.depth + 1):
        names.append(f"A{layer}")
        if layer < network.depth or network.output_activated:
            names.append(f"H{layer}")
    return tuple(names)


def _alternatives(name: str, network: Network, usable: tuple[str, ...]) -> tuple[str, ...]:
    """The names a student may have meant instead of ``name``, the likeliest first: the same
    layer's matrix on the other side of the activation, then the layers next to it, then the
    rest of its kind."""
    if name == "X" or name[0] in "AH":
        family = _activations(network)
    elif name[0] in "Wb":
        family = tuple(f"{name[0]}{layer}" for layer in range(1, network.depth + 1))
    elif name == "G" or name.startswith("d"):
        family = tuple(n for n in usable if n == "G" or n.startswith("d"))
    else:
        return ()
    depth = network.depth
    position = {n: (abs(_layer(n, depth) - _layer(name, depth)), i) for i, n in enumerate(family)}
    ranked = sorted((n for n in family if n != name and n in usable), key=position.__getitem__)
    return tuple(ranked)


def _describe(name: str, network: Network) -> str:
    """``H1 = relu(A1), the input of layer 2``: what the matrix is, in the network's words."""
    if name == "X":
        return "X, the input of layer 1"
    layer = _layer(name)
    if name.startswith("d") or name == "G":
        plain = network.output_name if name == "G" else name[1:]
        return f"{name} = ∂L/∂{plain}"
    if name[0] == "W":
        return f"{name}, the weights of layer {layer}"
    if name[0] == "b":
        return f"{name}, the bias of layer {layer}"
    if name[0] == "A":
        return f"{name}, the pre-activation of layer {layer}"
    function = {"generic": "σ", "leaky-relu": "leaky_relu"}.get(
        network.activation_of(layer).name, network.activation_of(layer).name
    )
    role = "the network's output" if layer == network.depth else f"the input of layer {layer + 1}"
    return f"{name} = {function}(A{layer}), {role}"


def rename_hint(target: str, wrong: str, right: str, network: Network) -> tuple[str, str]:
    """(kind, hint) for a claim about ∂L/∂``target`` that is right with ``right`` for
    ``wrong``."""
    takes = f"∂L/∂{target} takes {_describe(right, network)}"
    if wrong[0] == "A" and right[0] == "H" and _layer(wrong) == _layer(right):
        return "pre_activation", f"{takes}, not {wrong}, its pre-activation"
    kinds = {"A": "wrong_activations", "H": "wrong_activations", "X": "wrong_activations"}
    kind = kinds.get(right[0], "wrong_weights" if right[0] in "Wb" else "wrong_gradient")
    if right[0] == "A" and wrong[0] == "A":
        kind = "derivative_wrong_layer"
    return kind, f"{takes}, not {_describe(wrong, network)}"


def fits(expr: tree.Node, target: str, network: Network) -> bool:
    """Whether the claim ``expr`` has the shape of ∂L/∂``target``, by its shapes alone (every
    name a claim may use has its shape here, the gradients dAℓ, dHℓ too)."""
    names = NetworkNames.of(network)
    gradients = tuple(f"d{name}" for name in names.matrices if name[0] in "AH")
    shapes = network_shapes(network, (*names.matrices, *gradients))
    sizes = Sizes(network.sizes.m, network.sizes.k, network.sizes.n)
    try:
        shape = shape_of(expr, sizes, shapes, network=True)[0]
    except ShapeMismatch:
        return False
    return shape == network.shape_of(target)


def renames(expr: tree.Node, target: str, network: Network) -> Iterator[tuple[str, str, tree.Node]]:
    """(kind, hint, the claim with one operand renamed) for each renaming whose claim has the
    shape of ∂L/∂``target``, weighed by shapes alone; a gradient is renamed only to one found
    before ∂L/∂``target`` (which a claim about it may use)."""
    known = NetworkNames.of(network).known_before(target)
    names = (*NetworkNames.of(network).matrices, "G", *(f"d{name}" for name in known))
    for path, node in subtrees(expr):
        if not isinstance(node, tree.Name):
            continue
        for other in _alternatives(node.name, network, names):
            candidate = replaced(expr, path, tree.Name(other, node.span))
            if fits(candidate, target, network):
                kind, hint = rename_hint(target, node.name, other, network)
                parent = _parent(expr, path)
                if isinstance(parent, tree.Applied | tree.Positive):
                    kind, hint = _applied_hint(target, parent, other, candidate, path)
                yield kind, hint, candidate


def _parent(expr: tree.Node, path: tuple[str, ...]) -> tree.Node | None:
    """The node whose child is at ``path`` (None for the root)."""
    if not path:
        return None
    node = expr
    for slot in path[:-1]:
        node = getattr(node, slot)
    return node


def _applied_hint(
    target: str, applied: tree.Node, right: str, candidate: tree.Node, path: tuple[str, ...]
) -> tuple[str, str]:
    """The hint for a renamed argument of σ, σ′ or (· > 0): the factor at the wrong layer."""
    fixed = _parent(candidate, path)
    assert fixed is not None
    return "derivative_wrong_layer", (
        f"σ′ at the wrong layer: ∂L/∂{target} takes {to_text(fixed)}, of layer "
        f"{_layer(right)}, not {to_text(applied)}"
    )
