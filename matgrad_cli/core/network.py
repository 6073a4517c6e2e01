"""A network as data: its sizes, activations, matrices, symbols and forward pass (samples as rows).

Layer ℓ = 1, …, L maps H₍ℓ₋₁₎ (m×d₍ℓ₋₁₎) to A₍ℓ₎ = H₍ℓ₋₁₎W₍ℓ₎ + 1b₍ℓ₎ and H₍ℓ₎ = σ₍ℓ₎(A₍ℓ₎),
entry by entry, with H₀ = X the input (m×k) and d₀ = k, d_L = n. The hidden layers share one
activation; the last layer has the output activation, by default the identity, and then the
network's output is A_L itself. The single layer A = ZW + b is the network with no hidden layer
and the identity, its Z, W, b, A called X, W1, b1, A1 here.

Names and symbols (1-based indices): X has entries x_i_j, Wℓ entries wℓ_i_j, bℓ entries bℓ_j, Aℓ
entries aℓ_i_j (the symbols for Aℓ's entries as variables), Hℓ entries hℓ_i_j. G = ∂L/∂(output) has
the symbols dAL_i_j (∂L/∂a_{i,j} of the last layer, dA2_1_1 for two layers) or, with an output
activation, dHL_i_j (∂L/∂h_{i,j}).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import prod
from typing import Any

from ..errors import AboveSymbolicLimit, InputError, SizeError
from .activations import Activation, Identity
from .arguments import integer
from .engine import Engine, linear_value
from .model import LinearForm

#: The most hidden layers a network may have (five layers in all).
MAX_HIDDEN_LAYERS = 4
#: The widest a layer may be.
MAX_WIDTH = 64
#: The most chain-rule terms (see NetworkSizes.work) each engine is given, above a two-layer
#: network at m = k = h = n = 32 (2.2 million, about 11 s on symengine: scale_networks.py).
WORK_LIMITS = {"symengine": 3_000_000, "sympy": 200_000}
#: Beyond two layers each term costs about three times as much (the engine differentiates
#: nested compositions): the limit is divided by this.
DEEP_FACTOR = 3

Matrix = tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class NetworkSizes:
    """m samples (rows), k inputs, the hidden widths in order, n outputs."""

    m: int
    k: int
    hidden: tuple[int, ...]
    n: int

    @property
    def widths(self) -> tuple[int, ...]:
        """d₀ = k, d₁, …, d_L = n."""
        return (self.k, *self.hidden, self.n)

    @property
    def depth(self) -> int:
        """L, the number of layers (weight matrices)."""
        return len(self.hidden) + 1

    @property
    def work(self) -> int:
        """The terms of the chain rule both routes write out: for each entry of X, Wℓ, bℓ and Aℓ,
        one per entry of the output it reaches and per path through the layers between them
        (the last layer's weights reach one column of the output, the others all of it)."""
        widths, m, n, depth = self.widths, self.m, self.n, self.depth
        total = m * self.k * n * prod(self.hidden)
        for layer in range(1, depth + 1):
            paths = prod(widths[layer + 1 : depth])
            reached = m if layer == depth else m * n * paths
            total += (widths[layer - 1] + 2) * widths[layer] * reached
        return total


def network_sizes(m: object, k: object, hidden: object, n: object, engine: str) -> NetworkSizes:
    """The sizes when each is a positive integer of at most MAX_WIDTH, with at most
    MAX_HIDDEN_LAYERS hidden layers and work within the engine's limit; else a SizeError (an
    InputError for hidden widths that are not a sequence), before any work."""
    named = named_sizes(m, k, hidden)
    values = [_width(name, given) for name, given in [*named, ("n", n)]]
    sizes = NetworkSizes(values[0], values[1], tuple(values[2:-1]), values[-1])
    deep = sizes.depth > 2
    limit = WORK_LIMITS[engine] // (DEEP_FACTOR if deep else 1)
    if sizes.work > limit:
        which = "networks of three or more layers" if deep else "one or two layers"
        raise AboveSymbolicLimit(
            f"the network has {sizes.work} chain-rule terms, above the symbolic limit of "
            f"{limit} for {which} on the {engine} engine"
        )
    return sizes


def named_sizes(m: object, k: object, hidden: object) -> list[tuple[str, object]]:
    """m, k and each hidden width with its name, as given, when ``hidden`` is a sequence (an int
    for one hidden layer) of at most MAX_HIDDEN_LAYERS; else InputError or SizeError."""
    if isinstance(hidden, int) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if not isinstance(hidden, Sequence) or isinstance(hidden, str | bytes):
        raise InputError(f"hidden must be a sequence of widths such as (4, 3), got {hidden!r}")
    if len(hidden) > MAX_HIDDEN_LAYERS:
        raise SizeError(
            f"{len(hidden)} hidden layers is above the limit of {MAX_HIDDEN_LAYERS} hidden layers"
        )
    named: list[tuple[str, object]] = [("m", m), ("k", k)]
    named += [(f"hidden width {index}", width) for index, width in enumerate(hidden, start=1)]
    return named


def _width(name: str, given: object) -> int:
    value = integer(given)
    if value is None or value < 1:
        raise SizeError(f"size {name} must be a positive integer, got {given!r}")
    if value > MAX_WIDTH:
        raise SizeError(f"size {name} = {value} is above the limit of {MAX_WIDTH} per dimension")
    return value


@dataclass(frozen=True)
class Network:
    """The network: its sizes, the hidden layers' activation, the output activation, the bias."""

    sizes: NetworkSizes
    activation: Activation
    output_activation: Activation
    bias: bool

    @property
    def depth(self) -> int:
        return self.sizes.depth

    def activation_of(self, layer: int) -> Activation:
        """σ₍ℓ₎: the hidden activation below the last layer, the output activation at it."""
        return self.output_activation if layer == self.depth else self.activation

    @property
    def output_activated(self) -> bool:
        """True when the last layer has an activation: the output is H_L, not A_L."""
        return not isinstance(self.output_activation, Identity)

    @property
    def output_name(self) -> str:
        """The name of the network's output: A_L, or H_L with an output activation."""
        return f"{'H' if self.output_activated else 'A'}{self.depth}"

    def input_name(self, layer: int) -> str:
        """H₍ℓ₋₁₎'s name: X for the first layer."""
        return "X" if layer == 1 else f"H{layer - 1}"

    def parameters(self) -> tuple[str, ...]:
        """The names of the matrices differentiated by, in order: X, W1, b1, W2, …"""
        names = ["X"]
        for layer in range(1, self.depth + 1):
            names += [f"W{layer}", f"b{layer}"] if self.bias else [f"W{layer}"]
        return tuple(names)

    def shape_of(self, name: str) -> tuple[int, int]:
        """The shape of X, Wℓ, bℓ, Aℓ or Hℓ (Aℓ's shape for the gradient ∂L/∂Aℓ)."""
        widths, m = self.sizes.widths, self.sizes.m
        if name == "X":
            return (m, widths[0])
        letter, layer = name[0], int(name[1:])
        return {
            "W": (widths[layer - 1], widths[layer]),
            "b": (1, widths[layer]),
            "A": (m, widths[layer]),
            "H": (m, widths[layer]),
        }[letter]


@dataclass(frozen=True)
class NetworkSymbols:
    """The symbols of the network, row by row: X, each Wℓ and bℓ (one row), each Aℓ (its entries
    as variables) and the upstream G = ∂L/∂(output)."""

    inputs: Matrix
    weights: tuple[Matrix, ...]
    biases: tuple[tuple[Any, ...], ...]
    pre: tuple[Matrix, ...]
    upstream: Matrix

    def matrix(self, name: str) -> Matrix:
        """The symbols of X, Wℓ, bℓ (a 1×d matrix) or Aℓ."""
        if name == "X":
            return self.inputs
        layer = int(name[1:]) - 1
        by_letter = {"W": self.weights, "A": self.pre}
        if name[0] == "b":
            return (self.biases[layer],)
        return by_letter[name[0]][layer]


def _grid(engine: Engine, stem: str, rows: int, cols: int) -> Matrix:
    return tuple(
        tuple(engine.symbol(f"{stem}_{i}_{j}") for j in range(1, cols + 1))
        for i in range(1, rows + 1)
    )


def network_symbols(network: Network, engine: Engine) -> NetworkSymbols:
    """One symbol per entry, with indices joined by underscores so that none collide."""
    widths, m, depth = network.sizes.widths, network.sizes.m, network.depth
    layers = range(1, depth + 1)
    return NetworkSymbols(
        _grid(engine, "x", m, widths[0]),
        tuple(_grid(engine, f"w{ell}", widths[ell - 1], widths[ell]) for ell in layers),
        tuple(
            tuple(engine.symbol(f"b{ell}_{j}") for j in range(1, widths[ell] + 1)) for ell in layers
        ),
        tuple(_grid(engine, f"a{ell}", m, widths[ell]) for ell in layers),
        _grid(engine, f"d{network.output_name}", m, widths[-1]),
    )


@dataclass(frozen=True)
class ForwardPass:
    """The forward pass from layer ``start`` up: ``pre[ℓ]`` holds Aℓ's entries and ``post[ℓ]``
    Hℓ's (index 0 unused in ``pre``; ``post[0]`` is X). From ``start`` ≥ 1, A_start is its
    symbols a_start_i_j, the variables of ∂L/∂A_start, and the layers below are not built."""

    start: int
    pre: tuple[Matrix | None, ...]
    post: tuple[Matrix | None, ...]

    def arguments(self) -> list[tuple[int, int, int, Any]]:
        """(ℓ, i, j, the entry of Aℓ) for every activation's argument, 1-based."""
        return [
            (layer, i + 1, j + 1, entry)
            for layer, rows in enumerate(self.pre)
            if rows is not None
            for i, row in enumerate(rows)
            for j, entry in enumerate(row)
        ]


def forward_pass(
    network: Network, symbols: NetworkSymbols, engine: Engine, start: int = 0
) -> ForwardPass:
    """Aℓ = H₍ℓ₋₁₎Wℓ + 1bℓ and Hℓ = σℓ(Aℓ), layer by layer, from X (``start`` = 0) or from the
    symbols of A_start."""
    depth = network.depth
    pre: list[Matrix | None] = [None] * (depth + 1)
    post: list[Matrix | None] = [None] * (depth + 1)
    if start == 0:
        post[0] = symbols.inputs
    else:
        pre[start] = symbols.pre[start - 1]
        post[start] = _activated(network.activation_of(start), symbols.pre[start - 1], engine)
    for layer in range(max(start, 0) + 1, depth + 1):
        below = post[layer - 1]
        assert below is not None
        pre[layer] = affine(below, symbols, layer, network.bias, engine)
        post[layer] = _activated(network.activation_of(layer), pre[layer], engine)
    return ForwardPass(start, tuple(pre), tuple(post))


def affine(
    below: Matrix, symbols: NetworkSymbols, layer: int, bias: bool, engine: Engine
) -> Matrix:
    """A_ℓ = H₍ℓ₋₁₎W_ℓ (+ 1b_ℓ), each entry one sum of the engine."""
    weights, biases = symbols.weights[layer - 1], symbols.biases[layer - 1]
    inner, cols = len(weights), len(weights[0])
    return tuple(
        tuple(
            engine.add(
                [row[s] * weights[s][q] for s in range(inner)] + ([biases[q]] if bias else [])
            )
            for q in range(cols)
        )
        for row in below
    )


def _activated(activation: Activation, entries: Matrix | None, engine: Engine) -> Matrix:
    assert entries is not None
    return tuple(tuple(activation.forward(engine, e) for e in row) for row in entries)


@dataclass(frozen=True)
class GradientForms:
    """∂L/∂``name`` entry by entry, each entry a linear form in G: the pairs ((p, q), factor)
    of Σ_{p,q} G_{p,q} · factor (model.LinearForm), in the shape of ``name``; ``of`` says how it
    was obtained (``chain rule`` or the matrix formula)."""

    name: str
    shape: tuple[int, int]
    entries: tuple[tuple[LinearForm, ...], ...]
    of: str

    def values(self, upstream: Matrix, engine: Engine) -> list[list[Any]]:
        """Each entry as one expression Σ G_{p,q} · factor over the symbols of G."""
        return [[linear_value(form, upstream, engine) for form in row] for row in self.entries]
