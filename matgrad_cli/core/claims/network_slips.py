"""The slips students make in backpropagation, each a wrong backward pass of a network.

A slip is the backpropagation recursion (core/network_matrix.py) with one rule replaced, at one
layer: a forgotten ⊙σ′, σ′ at the wrong layer, σ in place of σ′, σ′ of Hℓ in place of σ′ of Aℓ,
W in place of Wᵀ, the wrong layer's activations in ∂L/∂Wℓ, the bias gradient summed along the
wrong axis. The wrong pass is multiplied out from the symbols, as the right one is, and gives
the slip's value for a target together with its formula in claim syntax, written by the same
plan, so that a claim equal to a slip can be told which slip it is.

Nothing is guessed: a slip is offered only where its shapes fit and its value was not proved
equal to the right answer (a forgotten relu′ is no slip for an identity layer) nor to an earlier
slip's, by the network's exact equality test (core/network_compare.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, TypeAlias

from ..activations import Activation
from ..engine import Engine, get_engine
from ..network import GradientForms, Network
from ..network_compare import NetworkEquality
from ..network_derive import NetworkDerivation
from ..network_matrix import (
    RULES,
    BackwardRules,
    FormMatrix,
    LocalRule,
    Operand,
    ProductRule,
    hadamard,
    multiply,
)
from . import tree
from .network_evaluation import activation_of

SlipKind: TypeAlias = Literal[
    "forgotten_derivative",
    "derivative_wrong_layer",
    "value_not_derivative",
    "derivative_at_output",
    "untransposed_weight",
    "wrong_activations",
    "bias_wrong_axis",
]

#: The chain-rule terms (NetworkSizes.work) above which no slips are searched: each slip is a
#: backward pass of its own, and a hint is not worth more than the check itself.
SLIP_WORK_LIMIT = 200_000


@dataclass(frozen=True)
class Local:
    """What ∂L/∂H is multiplied by, entry by entry, to give G at a layer: σ′ (or σ, or nothing)
    of A (or H) at the rule's layer + ``offset`` (LocalRule's offset: −1 below, 0 at the top)."""

    function: Literal["derivative", "value", "none"] = "derivative"
    letter: Literal["A", "H"] = "A"
    offset: int = -1


@dataclass(frozen=True)
class Plan:
    """A backward pass: the matrix route's product rules and the local factors, with
    ``rules``/``local`` used at ``layer`` alone (every layer when None) and the right ones
    elsewhere; ``output`` is G_L = ∂L/∂H_L ⊙ σ′_L(A_L) with an output activation."""

    rules: BackwardRules = RULES
    local: Local = Local()
    output: Local = Local(offset=0)
    layer: int | None = None

    def at(self, layer: int) -> tuple[BackwardRules, Local]:
        if self.layer in (None, layer):
            return self.rules, self.local
        return RULES, Local()


RIGHT = Plan()


@dataclass(frozen=True)
class Slip:
    """A wrong backward pass for one target: its kind, a one-line hint in a student's words,
    the wrong formula in claim syntax and its value (linear forms in G, comparable with the
    right answer's by NetworkEquality). ``rules`` is the same kind of mistake as a whole wrong
    rule set of the matrix route, made at every layer with each layer's own σ′, when it is one
    (for ``derive_network(..., rules=…)``, which the verifier rejects)."""

    kind: SlipKind
    hint: str
    formula: str
    value: GradientForms
    rules: BackwardRules | None = field(default=None, compare=False)


# ---------------------------------------------------------------------------------------------
# The wrong pass, multiplied out.


@dataclass(frozen=True)
class _Pass:
    derivation: NetworkDerivation
    engine: Engine

    @property
    def network(self) -> Network:
        return self.derivation.network


def _ones_upstream(network: Network) -> FormMatrix:
    m, n = network.sizes.m, network.sizes.n
    return tuple(tuple((((i, j), 1),) for j in range(1, n + 1)) for i in range(1, m + 1))


def _constant(state: _Pass, operand: Operand, layer: int, rows: int, cols: int) -> object:
    """The matrix an operand stands for at ``layer`` (None where no such layer exists)."""
    at = layer + operand.offset
    forward, symbols = state.derivation.forward, state.derivation.symbols
    matrix: object
    if operand.letter == "H" and 0 <= at <= state.network.depth:
        matrix = forward.post[at]
    elif operand.letter == "W" and 1 <= at <= state.network.depth:
        matrix = symbols.weights[at - 1]
    elif operand.letter == "1":
        matrix = ((1,),) * (rows if operand.along == "samples" else cols)
    else:
        return None
    assert isinstance(matrix, tuple)
    return tuple(zip(*matrix, strict=True)) if operand.transposed else matrix


def _product(state: _Pass, rule: ProductRule, layer: int, gradient: FormMatrix) -> FormMatrix:
    """A product rule with G on one side; ValueError when the shapes do not fit."""
    rows, cols = len(gradient), len(gradient[0])
    text = rule.text(layer)
    if rule.left.letter == "G":
        right = _constant(state, rule.right, layer, rows, cols)
        if right is None:
            raise ValueError(f"{text}: no such layer")
        return multiply(gradient, right, True, state.engine, text)
    left = _constant(state, rule.left, layer, rows, cols)
    if left is None:
        raise ValueError(f"{text}: no such layer")
    return multiply(left, gradient, False, state.engine, text)


def _local(
    state: _Pass, local: Local, layer: int, upstream: FormMatrix, output: bool = False
) -> FormMatrix:
    """∂L/∂H times σ′ (or σ) of A (or H) at ``layer`` + offset: σ the hidden layers' activation,
    or the output activation for G_L (``output``), whichever layer the argument is from, as a
    student names it."""
    if local.function == "none":
        return upstream
    at = layer + local.offset
    if not 1 <= at <= state.network.depth:
        raise ValueError(f"no layer {at}")
    forward = state.derivation.forward
    matrix = (forward.pre if local.letter == "A" else forward.post)[at]
    assert matrix is not None
    network, engine = state.network, state.engine
    activation = network.output_activation if output else network.activation
    if not _written_as(network, activation, f"{local.letter}{at}"):
        raise ValueError(f"σ of {local.letter}{at} reads as another activation")
    apply = activation.derivative if local.function == "derivative" else activation.forward
    factors = tuple(tuple(apply(engine, e) for e in row) for row in matrix)
    return hadamard(upstream, factors, f"⊙ at layer {at}")


def _written_as(network: Network, activation: Activation, argument: str) -> bool:
    """Whether the claim language reads the activation's name applied to ``argument`` as this
    activation. Only ``σ`` can be read otherwise: it is the network's own of the layer
    (network_evaluation.activation_of), so the generic σ of the hidden layers cannot be written
    at an output that has another activation."""
    name = _claim_name(activation)
    if name != "σ":
        return True
    node = tree.Applied(tree.Name(argument, tree.Span(0, 0)), tree.Span(0, 0), name)
    return activation_of(network, node) == activation


def _bias(state: _Pass, rule: ProductRule, layer: int, gradient: FormMatrix) -> FormMatrix:
    """1ᵀG, or, summed along the other axis, G·1 as the 1-D result a claim compares as a row."""
    result = _product(state, rule, layer, gradient)
    return result if len(result) == 1 else tuple(zip(*result, strict=True))


def run(state: _Pass, plan: Plan, target: str) -> GradientForms:
    """The target's gradient by the plan, from the top down to the target and no further;
    ValueError when a factor's shapes do not fit."""
    network = state.network
    depth = network.depth
    gradient = _ones_upstream(network)
    if network.output_activated:
        gradient = _local(state, plan.output, depth, gradient, output=True)
    for layer in range(depth, 0, -1):
        rules, local = plan.at(layer)
        made: FormMatrix | None = None
        if target == f"A{layer}":
            made = gradient
        elif target == f"W{layer}":
            made = _product(state, rules.weights, layer, gradient)
        elif target == f"b{layer}":
            made = _bias(state, rules.bias, layer, gradient)
        if made is not None:
            return _forms(target, made)
        upstream = _product(state, rules.inputs, layer, gradient)
        if target == network.input_name(layer):
            return _forms(target, upstream)
        gradient = _local(state, local, layer, upstream)
    raise ValueError(f"no gradient with respect to {target}")


def _forms(name: str, matrix: FormMatrix) -> GradientForms:
    return GradientForms(name, (len(matrix), len(matrix[0])), matrix, "a slip")


# ---------------------------------------------------------------------------------------------
# The formula in claim syntax, written by the same plan.


def _operand_text(text: str) -> str:
    """An operand of ``@`` or ``*``: a compound one in parentheses."""
    return f"({text})" if " " in text else text


def _claim_name(activation: Activation) -> str:
    """The activation's name in claim syntax: ``relu``, ``σ`` for the generic one."""
    return {"generic": "σ", "leaky-relu": "leaky_relu"}.get(activation.name, activation.name)


def _function_text(network: Network, layer: int, local: Local, output: bool = False) -> str:
    """``relu'(A1)``, ``sigmoid(A1)``, ``σ'(H1)``: the activation at the plan's argument."""
    activation = network.output_activation if output else network.activation
    mark = "'" if local.function == "derivative" else ""
    return f"{_claim_name(activation)}{mark}({local.letter}{layer + local.offset})"


def _times(network: Network, layer: int, local: Local, upstream: str, output: bool = False) -> str:
    activation = network.output_activation if output else network.activation
    if local.function == "none" or (
        local.function == "derivative" and activation.name == "identity"
    ):
        # identity′ = 1: the right formula of a linear layer has no factor.
        return upstream
    return f"{_operand_text(upstream)} * {_function_text(network, layer, local, output)}"


def _output_name(network: Network, layer: int) -> str:
    """Hℓ's name; the last layer's output is A_L when it has no activation."""
    if layer == 0:
        return "X"
    return f"A{layer}" if layer == network.depth and not network.output_activated else f"H{layer}"


def _product_text(rule: ProductRule, layer: int, network: Network, gradient: str) -> str:
    def side(operand: Operand) -> str:
        if operand.letter == "G":
            return _operand_text(gradient)
        at = layer + operand.offset
        name = {"H": _output_name(network, at), "W": f"W{at}"}
        return name.get(operand.letter, "1") + (".T" if operand.transposed else "")

    return f"{side(rule.left)} @ {side(rule.right)}"


def formula(network: Network, plan: Plan, target: str) -> str:
    """The plan's formula for ∂L/∂target in claim syntax, in G (∂L/∂ of the network's output)
    and the network's matrices: ``X.T @ ((G @ W2.T) * relu'(A1))``."""
    depth = network.depth
    gradient = "G"
    if network.output_activated:
        gradient = _times(network, depth, plan.output, gradient, output=True)
    for layer in range(depth, 0, -1):
        rules, local = plan.at(layer)
        if target == f"A{layer}":
            return gradient
        if target == f"W{layer}":
            return _product_text(rules.weights, layer, network, gradient)
        if target == f"b{layer}":
            axis = 0 if rules.bias.left.letter == "1" else 1
            return f"sum({gradient}, axis={axis})"
        upstream = _product_text(rules.inputs, layer, network, gradient)
        if target == network.input_name(layer):
            return upstream
        gradient = _times(network, layer, local, upstream)
    raise ValueError(f"no gradient with respect to {target}")


def right_formula(network: Network, target: str) -> str:
    """The right answer for ∂L/∂target (X, Wℓ, bℓ, Aℓ or Hℓ) in claim syntax."""
    return formula(network, RIGHT, target)


# ---------------------------------------------------------------------------------------------
# The slips, as plans.


@dataclass(frozen=True)
class _Candidate:
    kind: SlipKind
    plan: Plan
    hint: str
    rules: BackwardRules | None = None


def _local_slips(network: Network, layer: int) -> list[_Candidate]:
    """The slips of G₍ℓ₋₁₎ = ∂L/∂H₍ℓ₋₁₎ ⊙ σ′(A₍ℓ₋₁₎) at rule layer ``layer``."""
    below = layer - 1
    name = _claim_name(network.activation)
    right = f"{name}'(A{below})"
    why = f"H{below} = {name}(A{below})"
    return [
        _Candidate(
            "forgotten_derivative",
            Plan(local=Local("none"), layer=layer),
            f"forgotten σ′: {why}, so the gradient of H{below} is multiplied by {right} "
            f"entry by entry to give the gradient of A{below}",
            replace(RULES, local=LocalRule(-1, derivative=False)),
        ),
        _Candidate(
            "value_not_derivative",
            Plan(local=Local("value"), layer=layer),
            f"{name}(A{below}) is the activation itself, not its derivative: use {right}",
        ),
        _Candidate(
            "derivative_at_output",
            Plan(local=Local(letter="H"), layer=layer),
            f"σ′ takes the pre-activation: {right}, not {name}'(H{below}), since {why}",
        ),
        *_wrong_layers(layer, name, right, why),
    ]


def _wrong_layers(layer: int, name: str, right: str, why: str) -> list[_Candidate]:
    """σ′ of the layer above (σ′(A2) for σ′(A1)), or of the layer below where there is one."""
    below = layer - 1
    offsets = (0, -2) if layer >= 3 else (0,)
    return [
        _Candidate(
            "derivative_wrong_layer",
            Plan(local=Local(offset=offset), layer=layer),
            f"σ′ at the wrong layer: {name}'(A{layer + offset}) for {right}; the gradient of "
            f"H{below} goes through {why}, so the factor is {right}",
            # At every layer, σ′ of the layer below has no layer below the first: no rule set.
            replace(RULES, local=LocalRule(offset)) if offset == 0 else None,
        )
        for offset in offsets
    ]


def _output_slips(network: Network) -> list[_Candidate]:
    """The slips of G_L = ∂L/∂H_L ⊙ σ′_L(A_L), with an output activation."""
    depth = network.depth
    name = _claim_name(network.output_activation)
    right = f"{name}'(A{depth})"
    why = f"G is the gradient of the output H{depth} = {name}(A{depth})"
    return [
        _Candidate(
            "forgotten_derivative",
            Plan(output=Local("none", offset=0)),
            f"forgotten σ′: {why}, so the gradient of A{depth} is G * {right}",
            replace(RULES, output=LocalRule(0, derivative=False)),
        ),
        _Candidate(
            "value_not_derivative",
            Plan(output=Local("value", offset=0)),
            f"{name}(A{depth}) is the activation itself, not its derivative: use {right}",
        ),
        _Candidate(
            "derivative_at_output",
            Plan(output=Local(letter="H", offset=0)),
            f"σ′ takes the pre-activation: {right}, not {name}'(H{depth}), since {why}",
        ),
    ]


def _product_slips(network: Network, layer: int) -> list[_Candidate]:
    """The slips of the products at ``layer``: ∂L/∂H₍ℓ₋₁₎, ∂L/∂Wℓ and ∂L/∂bℓ."""
    below = network.input_name(layer)
    weights = replace(RULES, inputs=ProductRule(Operand("G"), Operand("W")))
    own = replace(RULES, weights=ProductRule(Operand("H", 0, transposed=True), Operand("G")))
    lower = replace(RULES, weights=ProductRule(Operand("H", -2, transposed=True), Operand("G")))
    axis = replace(RULES, bias=ProductRule(Operand("G"), Operand("1", along="units")))
    why = f"A{layer} = {below} @ W{layer}"
    candidates = [
        _Candidate(
            "untransposed_weight",
            Plan(rules=weights, layer=layer),
            f"W{layer} should be transposed: since {why}, the gradient of {below} is "
            f"dA{layer} @ W{layer}.T",
            weights,
        ),
        _Candidate(
            "wrong_activations",
            Plan(rules=own, layer=layer),
            f"the wrong layer's activations: since {why}, dW{layer} = {below}.T @ dA{layer}, "
            f"with the layer's input {below}, not its output {_output_name(network, layer)}",
            own,
        ),
    ]
    if layer >= 2:
        lowest = network.input_name(layer - 1)
        candidates.append(
            _Candidate(
                "wrong_activations",
                Plan(rules=lower, layer=layer),
                f"the wrong layer's activations: since {why}, dW{layer} = {below}.T @ "
                f"dA{layer}, with the layer's input {below}, not {lowest}",
            )
        )
    if network.bias:
        candidates.append(
            _Candidate(
                "bias_wrong_axis",
                Plan(rules=axis, layer=layer),
                f"wrong sum axis: b{layer} is added to every row (every sample), so db{layer} "
                f"adds up each column of dA{layer}: axis=0, not axis=1",
                axis,
            )
        )
    return candidates


def _candidates(network: Network) -> list[_Candidate]:
    """Every slip, the likeliest first: the local factors, then the products, from the top."""
    found = _output_slips(network) if network.output_activated else []
    hidden_identity = network.activation.name == "identity"
    for layer in range(network.depth, 0, -1):
        if layer >= 2 and not hidden_identity:
            found += _local_slips(network, layer)
        found += _product_slips(network, layer)
    if network.depth >= 3 and not hidden_identity:
        # Every hidden layer's σ′ forgotten at once: the backward pass of a linear network.
        name = _claim_name(network.activation)
        found.append(
            _Candidate(
                "forgotten_derivative",
                Plan(local=Local("none")),
                f"forgotten σ′ at every hidden layer: each Hℓ = {name}(Aℓ), so the gradient "
                f"of each Hℓ is multiplied by {name}'(Aℓ) entry by entry",
                replace(RULES, local=LocalRule(-1, derivative=False)),
            )
        )
    return found


def _targets(network: Network) -> tuple[str, ...]:
    hidden = tuple(f"H{layer}" for layer in range(1, network.depth))
    layers = tuple(f"A{layer}" for layer in range(1, network.depth + 1))
    return (*network.parameters(), *layers, *hidden)


def network_slips(derivation: NetworkDerivation, target: str) -> tuple[Slip, ...]:
    """The slips for ∂L/∂``target`` (X, Wℓ, bℓ, Aℓ or Hℓ) at the derivation's sizes: each one
    of the target's shape whose value differs from the right answer's and from every earlier
    slip's; none above SLIP_WORK_LIMIT. ValueError for an unknown target."""
    network = derivation.network
    if target not in _targets(network):
        raise ValueError(f"no gradient with respect to {target!r}")
    if network.sizes.work > SLIP_WORK_LIMIT:
        return ()
    engine = get_engine(derivation.engine)
    state = _Pass(derivation, engine)
    equality = NetworkEquality(network, engine, [derivation.forward])
    right = run(state, RIGHT, target)
    found: list[Slip] = []
    for candidate in _candidates(network):
        try:
            value = run(state, candidate.plan, target)
        except ValueError:
            continue
        if value.shape != right.shape:
            continue
        if any(_equal(value, other, equality) for other in [right, *(s.value for s in found)]):
            continue
        text = formula(network, candidate.plan, target)
        found.append(Slip(candidate.kind, candidate.hint, text, value, candidate.rules))
    return tuple(found)


def _equal(left: GradientForms, right: GradientForms, equality: NetworkEquality) -> bool:
    if left.shape != right.shape:
        return False
    return all(
        equality.forms_equal(a, b)
        for row, other in zip(left.entries, right.entries, strict=True)
        for a, b in zip(row, other, strict=True)
    )


def right_value(derivation: NetworkDerivation, target: str) -> GradientForms:
    """∂L/∂``target`` by the right backward pass (the matrix route), Hℓ included."""
    return run(_Pass(derivation, get_engine(derivation.engine)), RIGHT, target)
