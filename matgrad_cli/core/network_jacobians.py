"""The Jacobians of a network's layers as matrices, computed entry by entry and verified.

For each layer ℓ, from the top down, with vec the column-major stacking (numerator layout: one
row per entry of the vector differentiated):

- ∂vec Hℓ/∂vec Aℓ = diag(σ′(vec Aℓ)), when the layer has an activation: each entry of Hℓ depends
  on the same entry of Aℓ alone;
- ∂vec Aℓ/∂vec Wℓ = I_{dℓ} ⊗ H₍ℓ₋₁₎, from vec(H W) = (I ⊗ H) vec(W) (Matrix Cookbook §10.2.2);
- ∂vec Aℓ/∂vec bℓ = I_{dℓ} ⊗ 1_m, from vec(1 b) = (I ⊗ 1) vec(b);
- ∂vec Aℓ/∂vec H₍ℓ₋₁₎ = Wℓᵀ ⊗ I_m, from vec(H W) = (Wᵀ ⊗ I) vec(H).

Each layer's Jacobians are taken in its own variables: the entries of H₍ℓ₋₁₎ (x_i_j, or
h(ℓ−1)_i_j), of Wℓ and bℓ, and of Aℓ (aℓ_i_j). The computed side is the engine's derivative of
every entry by every entry; the other side is built from the definitions (kronecker, identity,
the activation's stated σ′) without differentiating anything.

The chain: from G = ∂L/∂(output), each Jacobian contracts the gradient above it, vec(∂L/∂V) =
Jᵀ vec(∂L/∂(what V feeds)), down to ∂L/∂X. Each step takes the gradient above it as symbols
(dHℓ_i_j for ∂L/∂Hℓ, dAℓ_i_j for ∂L/∂Aℓ; the top's are G's), so the chain is the composition of
its steps and its work that of the Jacobians. Each contraction is compared with the backward rule
(∂L/∂Aℓ = ∂L/∂Hℓ ⊙ σ′(Aℓ), ∂L/∂Wℓ = H₍ℓ₋₁₎ᵀGℓ, ∂L/∂bℓ = 1ᵀGℓ, ∂L/∂H₍ℓ₋₁₎ = GℓWℓᵀ), multiplied
out from the same symbols. Denominator layout prints the transposes, built from their own
factors. Equality is NetworkEquality's sound test (network_compare.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, cast

from ..errors import InputError, SizeError
from . import bridge
from .activations import Activation, Identity
from .checks import Mismatch, kept_mismatches
from .engine import Engine, get_engine
from .jacobians import LAYOUTS, Layout, identity, kronecker, transposed, vec, vec_order
from .network import ForwardPass, Matrix, Network, network_symbols
from .network_compare import NetworkEquality
from .network_derive import network_description

#: The most Jacobian entries computed and compared over all layers: the view is for networks a
#: person reads.
NETWORK_ENTRY_LIMIT = 100_000

#: What a Jacobian differentiates: Aℓ by Wℓ, bℓ or H₍ℓ₋₁₎, or Hℓ by Aℓ.
JacobianKind = Literal["weights", "bias", "inputs", "activation"]
CheckKind = Literal["jacobian", "contraction"]


@dataclass(frozen=True)
class LayerJacobian:
    """∂vec(``of``)/∂vec(``by``) in ``layout``: the engine's derivatives (``entries``), the rows'
    and columns' entries (their symbols, in vec order), and the same matrix built from
    ``formula`` without differentiating (``expected``)."""

    kind: JacobianKind
    layer: int
    of: str
    by: str
    layout: Layout
    entries: Matrix
    rows: tuple[Any, ...]
    columns: tuple[Any, ...]
    formula: str
    expected: Matrix

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.rows), len(self.columns))

    @property
    def name(self) -> str:
        """∂vec(A2)/∂vec(W2)ᵀ, or ∂vec(A2)ᵀ/∂vec(W2) in denominator layout."""
        if self.layout == "numerator":
            return f"∂vec({self.of})/∂vec({self.by})ᵀ"
        return f"∂vec({self.of})ᵀ/∂vec({self.by})"


@dataclass(frozen=True)
class NetworkJacobianCheck:
    """One identity compared entry by entry: a Jacobian against its formula, or a contraction
    against the backward rule; mismatch indices are 1-based."""

    kind: CheckKind
    identity: str
    shape: tuple[int, int]
    claimed_shape: tuple[int, int]
    holds: bool
    entries_checked: int
    mismatches: tuple[Mismatch, ...] = ()
    mismatch_count: int = 0


@dataclass(frozen=True)
class Gradient:
    """∂L/∂``name`` at the explicit sizes, from the contraction (``entries``) and from the
    backward rule ``rule`` (``expected``)."""

    name: str
    rule: str
    entries: Matrix
    expected: Matrix


@dataclass(frozen=True)
class NetworkJacobians(bridge.RenderedInFull):
    """The Jacobian view of a network at explicit sizes: each layer's Jacobians from the top
    down, the gradients the chain contracts, and every check."""

    network: Network
    layout: Layout
    engine: str
    upstream: Matrix
    jacobians: tuple[LayerJacobian, ...]
    gradients: tuple[Gradient, ...]
    checks: tuple[NetworkJacobianCheck, ...]

    @property
    def verified(self) -> bool:
        return all(check.holds for check in self.checks)


def _grid(engine: Engine, stem: str, rows: int, cols: int) -> Matrix:
    return tuple(
        tuple(engine.symbol(f"{stem}_{i}_{j}") for j in range(1, cols + 1))
        for i in range(1, rows + 1)
    )


def _compare(
    kind: CheckKind, text: str, computed: Matrix, claimed: Matrix, equal: Callable[[Any, Any], bool]
) -> NetworkJacobianCheck:
    """Two matrices entry by entry; different shapes fail without comparing entries."""
    shape = (len(computed), len(computed[0]) if computed else 0)
    claimed_shape = (len(claimed), len(claimed[0]) if claimed else 0)
    if shape != claimed_shape:
        return NetworkJacobianCheck(kind, text, shape, claimed_shape, False, 0)
    kept, count = kept_mismatches(
        ((row + 1, col + 1), value, other)
        for row, (left, right) in enumerate(zip(computed, claimed, strict=True))
        for col, (value, other) in enumerate(zip(left, right, strict=True))
        if not equal(value, other)
    )
    entries = shape[0] * shape[1]
    return NetworkJacobianCheck(kind, text, shape, claimed_shape, count == 0, entries, kept, count)


def _laid_out(computed: Matrix, layout: Layout) -> Matrix:
    return computed if layout == "numerator" else transposed(computed)


def _jacobian(
    kind: JacobianKind,
    layer: int,
    names: tuple[str, str],
    outputs: Matrix,
    variables: Matrix,
    expected: tuple[str, Matrix],
    layout: Layout,
    engine: Engine,
) -> LayerJacobian:
    """∂vec(outputs)/∂vec(variables)ᵀ by the engine, entry by entry, in ``layout``."""
    rows, columns = vec(outputs), vec(variables)
    computed = tuple(tuple(engine.diff(entry, v) for v in columns) for entry in rows)
    if layout == "denominator":
        computed, rows, columns = transposed(computed), columns, rows
    return LayerJacobian(
        kind, layer, names[0], names[1], layout, computed, rows, columns, expected[0], expected[1]
    )


def _unvec(vector: tuple[Any, ...], rows: int, cols: int) -> Matrix:
    """The matrix whose vec is ``vector``."""
    at = dict(zip(vec_order(rows, cols), vector, strict=True))
    return tuple(tuple(at[(i, j)] for j in range(1, cols + 1)) for i in range(1, rows + 1))


def contract(
    jacobian: LayerJacobian, upstream: Matrix, shape: tuple[int, int], engine: Engine
) -> Matrix:
    """vec(∂L/∂V) = Jᵀ vec(∂L/∂(what V feeds)) (numerator layout; J vec(…) in denominator
    layout), reshaped into V's shape: only the computed Jacobian enters."""
    gradient = vec(upstream)
    numerator = jacobian.entries if jacobian.layout == "numerator" else transposed(jacobian.entries)
    columns = transposed(numerator)
    vector = tuple(
        engine.add([d * g for d, g in zip(column, gradient, strict=True) if d != 0])
        for column in columns
    )
    return _unvec(vector, *shape)


def _product(left: Matrix, right: Matrix, engine: Engine) -> Matrix:
    """left · right, each entry one sum of the engine."""
    inner = len(right)
    return tuple(
        tuple(
            engine.add([row[s] * right[s][c] for s in range(inner)]) for c in range(len(right[0]))
        )
        for row in left
    )


@dataclass(frozen=True)
class _Layer:
    """One layer's symbols: its input H₍ℓ₋₁₎, Wℓ, bℓ (a row), Aℓ, and what they make."""

    layer: int
    below: str
    inputs: Matrix
    weights: Matrix
    bias: Matrix
    pre: Matrix
    outputs: Matrix


def _layers(network: Network, engine: Engine) -> Iterator[_Layer]:
    """Each layer's symbols, from the top down."""
    symbols = network_symbols(network, engine)
    m = network.sizes.m
    for layer in range(network.depth, 0, -1):
        below = "X" if layer == 1 else f"H{layer - 1}"
        width_below = network.sizes.widths[layer - 1]
        inputs = symbols.inputs if layer == 1 else _grid(engine, f"h{layer - 1}", m, width_below)
        weights, bias = symbols.weights[layer - 1], (symbols.biases[layer - 1],)
        outputs = tuple(
            tuple(
                engine.add(
                    [row[s] * weights[s][q] for s in range(width_below)]
                    + ([bias[0][q]] if network.bias else [])
                )
                for q in range(len(weights[0]))
            )
            for row in inputs
        )
        yield _Layer(layer, below, inputs, weights, bias, symbols.pre[layer - 1], outputs)


def _activated(network: Network, layer: int) -> bool:
    return not isinstance(network.activation_of(layer), Identity) or layer < network.depth


def validate_network_jacobian(network: Network) -> int:
    """The number of Jacobian entries the view computes; a SizeError above NETWORK_ENTRY_LIMIT."""
    m, widths = network.sizes.m, network.sizes.widths
    total = 0
    for layer in range(1, network.depth + 1):
        rows, below = m * widths[layer], widths[layer - 1]
        total += rows * (below * widths[layer] + m * below)
        total += rows * widths[layer] if network.bias else 0
        total += rows * rows if _activated(network, layer) else 0
    if total > NETWORK_ENTRY_LIMIT:
        sizes = network.sizes
        hidden = ",".join(map(str, sizes.hidden)) or "none"
        raise SizeError(
            f"the network's Jacobians at m={sizes.m}, k={sizes.k}, hidden {hidden}, n={sizes.n} "
            f"have {total} entries, above the limit of {NETWORK_ENTRY_LIMIT}; the Jacobian view "
            "is for small networks (matgrad derive verifies the gradients at larger sizes)"
        )
    return total


def network_jacobian_arguments(
    m: object,
    k: object,
    hidden: object,
    n: object,
    *,
    layout: object = "numerator",
    activation: object = "generic",
    output_activation: object = "identity",
    bias: object = True,
    slope: object = None,
) -> Network:
    """The network, every argument checked before any work (InputError, SizeError)."""
    if layout not in LAYOUTS:
        raise InputError(f"unknown layout {layout!r} (choose from {', '.join(LAYOUTS)})")
    network = network_description(
        m,
        k,
        hidden,
        n,
        activation=activation,
        output_activation=output_activation,
        bias=bias,
        engine="symengine",  # the widest limit of the derivation; the view's own is below
        slope=slope,
    )
    validate_network_jacobian(network)
    return network


@dataclass
class _Chain:
    """What the view collects as it goes down the layers."""

    network: Network
    layout: Layout
    engine: Engine
    equal: Callable[[Any, Any], bool]
    jacobians: list[LayerJacobian]
    gradients: list[Gradient]
    checks: list[NetworkJacobianCheck]

    def add(self, jacobian: LayerJacobian, identity_text: str) -> None:
        self.jacobians.append(jacobian)
        self.checks.append(
            _compare("jacobian", identity_text, jacobian.entries, jacobian.expected, self.equal)
        )

    def gradient(self, name: str, rule: str, contracted: Matrix, expected: Matrix) -> None:
        self.gradients.append(Gradient(name, rule, contracted, expected))
        text = f"∂L/∂{name} = {rule}"
        self.checks.append(_compare("contraction", text, contracted, expected, self.equal))


def _activation_step(chain: _Chain, at: _Layer, upstream: Matrix) -> None:
    """∂vec Hℓ/∂vec Aℓ against diag(σ′(vec Aℓ)), and ∂L/∂Aℓ = ∂L/∂Hℓ ⊙ σ′(Aℓ) by contraction."""
    engine, layer = chain.engine, at.layer
    activation: Activation = chain.network.activation_of(layer)
    values = tuple(tuple(activation.forward(engine, a) for a in row) for row in at.pre)
    slopes = tuple(tuple(activation.derivative(engine, a) for a in row) for row in at.pre)
    stated = vec(slopes)
    diagonal = tuple(
        tuple(stated[row] if row == col else 0 for col in range(len(stated)))
        for row in range(len(stated))
    )
    formula = f"diag(σ′(vec A{layer}))"
    jacobian = _jacobian(
        "activation", layer, (f"H{layer}", f"A{layer}"), values, at.pre, (formula, diagonal),
        chain.layout, engine,
    )  # fmt: skip
    chain.add(jacobian, f"{jacobian.name} = {formula}")
    contracted = contract(jacobian, upstream, (len(at.pre), len(at.pre[0])), engine)
    expected = tuple(
        tuple(g * d for g, d in zip(row, slope_row, strict=True))
        for row, slope_row in zip(upstream, slopes, strict=True)
    )
    chain.gradient(f"A{layer}", f"∂L/∂H{layer} ⊙ σ′(A{layer})", contracted, expected)


def _affine_steps(chain: _Chain, at: _Layer, gradient: Matrix) -> None:
    """∂vec Aℓ/∂vec Wℓ, ∂vec Aℓ/∂vec bℓ and ∂vec Aℓ/∂vec H₍ℓ₋₁₎ against their Kronecker products,
    and the gradients they contract from Gℓ against the backward rules."""
    engine, layer, numerator = chain.engine, at.layer, chain.layout == "numerator"
    m, width = len(at.inputs), len(at.weights[0])
    below, of = at.below, f"A{layer}"
    ones = ((1,),) * m
    kinds: list[tuple[JacobianKind, str, Matrix, str, Matrix]] = [
        (
            "weights", f"W{layer}", at.weights,
            f"I_{width} ⊗ {below}" if numerator else f"I_{width} ⊗ {below}ᵀ",
            kronecker(identity(width), at.inputs if numerator else transposed(at.inputs)),
        ),
        (
            "bias", f"b{layer}", at.bias,
            f"I_{width} ⊗ 1_{m}" if numerator else f"I_{width} ⊗ 1_{m}ᵀ",
            kronecker(identity(width), ones if numerator else transposed(ones)),
        ),
        (
            "inputs", below, at.inputs,
            f"W{layer}ᵀ ⊗ I_{m}" if numerator else f"W{layer} ⊗ I_{m}",
            kronecker(transposed(at.weights) if numerator else at.weights, identity(m)),
        ),
    ]  # fmt: skip
    if not chain.network.bias:
        kinds.pop(1)
    inputs_t = transposed(at.inputs)
    rules: dict[str, tuple[str, Callable[[], Matrix]]] = {
        "weights": (f"{below}ᵀ · ∂L/∂A{layer}", lambda: _product(inputs_t, gradient, engine)),
        "bias": (f"1ᵀ · ∂L/∂A{layer}", lambda: _product(transposed(ones), gradient, engine)),
        "inputs": (
            f"∂L/∂A{layer} · W{layer}ᵀ",
            lambda: _product(gradient, transposed(at.weights), engine),
        ),
    }
    for kind, by, variables, formula, expected in kinds:
        jacobian = _jacobian(
            kind, layer, (of, by), at.outputs, variables, (formula, expected), chain.layout, engine
        )
        chain.add(jacobian, f"{jacobian.name} = {formula}")
        shape = (len(variables), len(variables[0]))
        contracted = contract(jacobian, gradient, shape, engine)
        rule, build = rules[kind]
        chain.gradient(by, rule, contracted, build())


def network_jacobian(
    m: int = 2,
    k: int = 2,
    hidden: object = (2,),
    n: int = 2,
    *,
    layout: str = "numerator",
    activation: str = "generic",
    output_activation: str = "identity",
    bias: bool = True,
    slope: object = None,
) -> NetworkJacobians:
    """Compute and verify every layer's Jacobians of the network at the given sizes, in
    ``layout``, and contract G = ∂L/∂(output) through them down to ∂L/∂X."""
    network = network_jacobian_arguments(
        m,
        k,
        hidden,
        n,
        layout=layout,
        activation=activation,
        output_activation=output_activation,
        bias=bias,
        slope=slope,
    )
    engine = get_engine("sympy")
    symbols = network_symbols(network, engine)
    depth = network.depth
    # The activations' arguments are the symbols of each Aℓ: their values and derivatives named.
    pre: tuple[Matrix | None, ...] = (None, *symbols.pre)
    arguments = ForwardPass(1, pre, (None,) * (depth + 1))
    equality = NetworkEquality(network, engine, [arguments])
    chosen = cast(Layout, layout)  # one of LAYOUTS: network_jacobian_arguments checked it
    chain = _Chain(network, chosen, engine, equality.equal, [], [], [])
    m, widths = network.sizes.m, network.sizes.widths
    for at in _layers(network, engine):
        # Each step takes the gradient above it as symbols, dHℓ_i_j for ∂L/∂Hℓ and dAℓ_i_j for
        # ∂L/∂Aℓ (the top's are G's own), so that its work is that of its Jacobian.
        if _activated(network, at.layer):
            _activation_step(chain, at, _grid(engine, f"dH{at.layer}", m, widths[at.layer]))
        _affine_steps(chain, at, _grid(engine, f"dA{at.layer}", m, widths[at.layer]))
    return NetworkJacobians(
        network,
        chosen,
        engine.name,
        symbols.upstream,
        tuple(chain.jacobians),
        tuple(chain.gradients),
        tuple(chain.checks),
    )


def check_claim(
    view: NetworkJacobians, which: str, claimed: Matrix, formula: str
) -> NetworkJacobianCheck:
    """A claimed matrix for one of the view's Jacobians (``which`` its name, such as
    ∂vec(A2)/∂vec(W2)ᵀ, in the view's layout) or gradients (``which`` the matrix, such as W2),
    checked entry by entry against the computed one, as a wrong form is rejected."""
    network = view.network
    engine = get_engine(view.engine)
    symbols = network_symbols(network, engine)
    arguments = ForwardPass(1, (None, *symbols.pre), (None,) * (network.depth + 1))
    equality = NetworkEquality(network, engine, [arguments])
    found = next((j.entries for j in view.jacobians if j.name == which), None)
    kind: CheckKind = "jacobian"
    if found is None:
        found = next((g.entries for g in view.gradients if g.name == which), None)
        kind = "contraction"
        which = f"∂L/∂{which}"
    if found is None:
        raise InputError(f"the view has no Jacobian or gradient {which!r}")
    return _compare(kind, f"{which} = {formula}", found, claimed, equality.equal)
