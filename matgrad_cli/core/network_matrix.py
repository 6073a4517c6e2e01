"""The matrix route for a network: the backpropagation recursion, multiplied out from the symbols.

From the top down, with Gℓ = ∂L/∂Aℓ:

- G_L = ∂L/∂A_L, or ∂L/∂H_L ⊙ σ′_L(A_L) with an output activation;
- ∂L/∂Wℓ = H₍ℓ₋₁₎ᵀ·Gℓ and ∂L/∂bℓ = 1ᵀ·Gℓ;
- ∂L/∂H₍ℓ₋₁₎ = Gℓ·Wℓᵀ, and G₍ℓ₋₁₎ = ∂L/∂H₍ℓ₋₁₎ ⊙ σ′(A₍ℓ₋₁₎), down to ∂L/∂X = ∂L/∂H₀.

Each rule is data (``RULES``: which factors, transposed or not, which σ′), so that a test can put
a wrong rule in its place and see it rejected. Every Gℓ is linear in G, so each entry is kept as a
linear form Σ G_{p,q} · factor; H₍ℓ₋₁₎ and σ′(A₍ℓ₋₁₎) are the forward pass's entries and the
activation's stated derivative (activations.py). Nothing here imports the elementwise route.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from .engine import Engine
from .model import LinearForm, UpstreamTerm
from .network import ForwardPass, GradientForms, Network, NetworkSymbols

#: A matrix of the recursion: Gℓ (the one linear in G), Hℓ, Wℓ, or a column of ones.
Letter = Literal["G", "H", "W", "1"]


@dataclass(frozen=True)
class Operand:
    """A factor of a rule: ``letter`` at layer ℓ + ``offset`` (ℓ the rule's layer), transposed
    or not; the ones are a column of m (``along="samples"``) or of dℓ (``along="units"``)."""

    letter: Letter
    offset: int = 0
    transposed: bool = False
    along: Literal["samples", "units"] = "samples"

    def text(self, layer: int) -> str:
        """The factor in plain text at layer ``layer``, e.g. ``H1ᵀ`` or ``∂L/∂A2``."""
        at = layer + self.offset
        name = {"G": f"∂L/∂A{at}", "H": "X" if at == 0 else f"H{at}", "W": f"W{at}", "1": "1"}
        return name[self.letter] + ("ᵀ" if self.transposed else "")


@dataclass(frozen=True)
class ProductRule:
    """∂L/∂(target at ℓ) = left · right."""

    left: Operand
    right: Operand

    def text(self, layer: int) -> str:
        return f"{self.left.text(layer)} · {self.right.text(layer)}"


@dataclass(frozen=True)
class LocalRule:
    """G₍ℓ₋₁₎ = ∂L/∂H₍ℓ₋₁₎ ⊙ σ′(A at ℓ + ``offset``), or without the factor when not
    ``derivative``; at the top, G_L = ∂L/∂H_L ⊙ σ′_L(A_L) with an output activation."""

    offset: int = -1
    derivative: bool = True

    def text(self, upstream: str, layer: int) -> str:
        return f"{upstream} ⊙ σ′(A{layer + self.offset})" if self.derivative else upstream


@dataclass(frozen=True)
class BackwardRules:
    """The recursion's rules, by what they give."""

    weights: ProductRule
    bias: ProductRule
    inputs: ProductRule
    local: LocalRule
    output: LocalRule


RULES = BackwardRules(
    weights=ProductRule(Operand("H", -1, transposed=True), Operand("G")),
    bias=ProductRule(Operand("1", transposed=True), Operand("G")),
    inputs=ProductRule(Operand("G"), Operand("W", transposed=True)),
    local=LocalRule(-1),
    output=LocalRule(0),
)

FormMatrix = tuple[tuple[LinearForm, ...], ...]


def _merged(pairs: list[UpstreamTerm], engine: Engine) -> LinearForm:
    """The pairs summed per entry of G, each sum made once; a sum that cancels is dropped."""
    grouped: dict[tuple[int, int], list[Any]] = {}
    for key, value in pairs:
        pieces = grouped.get(key)
        if pieces is None:
            grouped[key] = [value]
        else:
            pieces.append(value)
    merged: list[UpstreamTerm] = []
    for key, pieces in grouped.items():
        if len(pieces) == 1:
            merged.append((key, pieces[0]))
        else:
            total = engine.add(pieces)
            if not engine.is_zero(total):
                merged.append((key, total))
    return tuple(merged)


def _scaled(form: LinearForm, scalar: Any) -> list[UpstreamTerm]:
    if scalar.__class__ is int and scalar == 1:
        return list(form)
    return [(key, scalar if (f.__class__ is int and f == 1) else f * scalar) for key, f in form]


def _transposed(matrix: tuple[tuple[Any, ...], ...]) -> tuple[tuple[Any, ...], ...]:
    return tuple(zip(*matrix, strict=True))


def multiply(left: Any, right: Any, form_left: bool, engine: Engine, text: str) -> FormMatrix:
    """A form matrix times a constant one (``form_left``), or a constant times a form matrix;
    ValueError naming ``text`` when the inner sizes differ."""
    inner_left, inner_right = len(left[0]), len(right)
    if inner_left != inner_right:
        raise ValueError(f"{text}: inner sizes {inner_left} and {inner_right} differ")
    cols = len(right[0])
    return tuple(
        tuple(
            _merged(
                [
                    pair
                    for s in range(inner_left)
                    for pair in (
                        _scaled(row[s], right[s][c]) if form_left else _scaled(right[s][c], row[s])
                    )
                ],
                engine,
            )
            for c in range(cols)
        )
        for row in left
    )


def hadamard(forms: FormMatrix, factors: Any, text: str) -> FormMatrix:
    """Each entry's form times the same entry of ``factors``; ValueError when shapes differ."""
    if (len(forms), len(forms[0])) != (len(factors), len(factors[0])):
        raise ValueError(f"{text}: the shapes differ")
    return tuple(
        tuple(tuple(_scaled(form, factor)) for form, factor in zip(row, frow, strict=True))
        for row, frow in zip(forms, factors, strict=True)
    )


@dataclass(frozen=True)
class _State:
    network: Network
    symbols: NetworkSymbols
    forward: ForwardPass
    engine: Engine


def _constant(operand: Operand, layer: int, state: _State, gradient: FormMatrix) -> Any:
    at = layer + operand.offset
    if operand.letter == "H":
        matrix = state.forward.post[at]
    elif operand.letter == "W":
        matrix = state.symbols.weights[at - 1]
    else:
        size = len(gradient) if operand.along == "samples" else len(gradient[0])
        matrix = ((1,),) * size
    assert matrix is not None
    return _transposed(matrix) if operand.transposed else matrix


def apply_product(rule: ProductRule, layer: int, gradient: FormMatrix, state: _State) -> FormMatrix:
    """A product rule at ``layer``, Gℓ being ``gradient``; one side must be G (untransposed)."""
    text = rule.text(layer)
    if rule.left.letter == "G":
        right = _constant(rule.right, layer, state, gradient)
        return multiply(gradient, right, True, state.engine, text)
    left = _constant(rule.left, layer, state, gradient)
    return multiply(left, gradient, False, state.engine, text)


def apply_local(rule: LocalRule, layer: int, upstream: FormMatrix, state: _State) -> FormMatrix:
    """∂L/∂H ⊙ σ′(A at ``layer`` + offset), the derivative of that layer's activation."""
    if not rule.derivative:
        return upstream
    at = layer + rule.offset
    pre, activation = state.forward.pre[at], state.network.activation_of(at)
    assert pre is not None
    factors = tuple(tuple(activation.derivative(state.engine, e) for e in row) for row in pre)
    return hadamard(upstream, factors, rule.text("∂L/∂H", layer))


def backward_steps(
    network: Network,
    symbols: NetworkSymbols,
    forward: ForwardPass,
    engine: Engine,
    rules: BackwardRules = RULES,
) -> Iterator[GradientForms]:
    """The recursion from the top down, one result at a time as it is made (each Gℓ = ∂L/∂Aℓ
    named Aℓ, then ∂L/∂Wℓ, ∂L/∂bℓ, down to ∂L/∂X), so that a caller may compare each and let
    it go: a result needs only Gℓ."""
    state, depth, m = _State(network, symbols, forward, engine), network.depth, network.sizes.m
    n = network.sizes.n
    gradient: FormMatrix = tuple(
        tuple((((i, j), 1),) for j in range(1, n + 1)) for i in range(1, m + 1)
    )
    # G = ∂L/∂(the network's output), as the setup names it.
    text = "G"
    if network.output_activated:
        gradient = apply_local(rules.output, depth, gradient, state)
        text = rules.output.text(text, depth)
    for layer in range(depth, 0, -1):
        yield _forms(f"A{layer}", gradient, text)
        weights = apply_product(rules.weights, layer, gradient, state)
        yield _forms(f"W{layer}", weights, rules.weights.text(layer))
        if network.bias:
            bias = apply_product(rules.bias, layer, gradient, state)
            yield _forms(f"b{layer}", bias, rules.bias.text(layer))
        upstream = apply_product(rules.inputs, layer, gradient, state)
        if layer == 1:
            yield _forms("X", upstream, rules.inputs.text(layer))
        else:
            gradient = apply_local(rules.local, layer, upstream, state)
            text = rules.local.text(f"({rules.inputs.text(layer)})", layer)


def backward(
    network: Network,
    symbols: NetworkSymbols,
    forward: ForwardPass,
    engine: Engine,
    rules: BackwardRules = RULES,
) -> tuple[dict[str, GradientForms], dict[str, GradientForms]]:
    """The whole recursion: (the gradients of X, Wℓ, bℓ in order; every Gℓ from G1 up)."""
    made = {forms.name: forms for forms in backward_steps(network, symbols, forward, engine, rules)}
    gradients = {name: made[name] for name in network.parameters()}
    return gradients, {f"A{layer}": made[f"A{layer}"] for layer in range(1, network.depth + 1)}


def _forms(name: str, matrix: FormMatrix, text: str) -> GradientForms:
    return GradientForms(name, (len(matrix), len(matrix[0])), matrix, text)
