"""A network derived and verified, with what a claim about it is evaluated on (its matrices and
the gradients the matrix route found) and compared with (the same route's gradients, proved equal
to the elementwise route's by the derivation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import InputError
from ..engine import Engine, get_engine
from ..network import Matrix, Network
from ..network_compare import NetworkEquality
from ..network_derive import NetworkDerivation


@dataclass
class NetworkContext:
    """One network derived and verified, with what a claim about it is evaluated on
    (``operands``: its matrices, and the gradients ∂L/∂Aℓ and ∂L/∂Hℓ a claim may use) and
    compared with (``right``: every gradient, as the matrix route found it)."""

    derivation: NetworkDerivation
    engine: Engine
    equality: NetworkEquality
    operands: dict[str, Matrix]
    right: dict[str, Matrix]

    @property
    def network(self) -> Network:
        return self.derivation.network

    @classmethod
    def of(cls, derivation: NetworkDerivation) -> NetworkContext:
        if not derivation.verified:
            raise InputError("the network's two routes disagree: it cannot judge claims")
        network, engine = derivation.network, get_engine(derivation.engine)
        symbols, forward = derivation.symbols, derivation.forward
        starts = range(1, network.depth + 1)
        # Everything below is written from X, Wℓ, bℓ and G by the forward pass and the matrix
        # route, whose gradients the derivation proved equal to the elementwise route's, entry
        # by entry (verified): one forward pass names every activation's value and derivative.
        equality = NetworkEquality(network, engine, [forward])
        operands: dict[str, Matrix] = {"G": symbols.upstream, "X": symbols.inputs}
        for layer in starts:
            operands[f"W{layer}"] = symbols.weights[layer - 1]
            operands[f"b{layer}"] = (symbols.biases[layer - 1],)
            operands[f"A{layer}"] = _known(forward.pre[layer])
            operands[f"H{layer}"] = _known(forward.post[layer])
        upstream = symbols.upstream
        matrix_route = {**derivation.forms, **derivation.recursion}
        right = {
            name: _rows(forms.values(upstream, engine)) for name, forms in matrix_route.items()
        }
        for layer in range(1, network.depth):
            weights = operands[f"W{layer + 1}"]
            right[f"H{layer}"] = _times_transposed(right[f"A{layer + 1}"], weights, engine)
        for layer in starts:
            operands[f"dA{layer}"] = right[f"A{layer}"]
            if layer < network.depth:
                operands[f"dH{layer}"] = right[f"H{layer}"]
        return cls(derivation, engine, equality, operands, right)


def _known(matrix: Matrix | None) -> Matrix:
    assert matrix is not None
    return matrix


def _rows(values: list[list[Any]]) -> Matrix:
    return tuple(tuple(row) for row in values)


def _times_transposed(left: Matrix, right: Matrix, engine: Engine) -> Matrix:
    """left @ rightᵀ: ∂L/∂Hℓ = ∂L/∂Aℓ₊₁ Wℓ₊₁ᵀ, from Aℓ₊₁ = Hℓ Wℓ₊₁ + 1bℓ₊₁ (linear in Hℓ)."""
    return tuple(
        tuple(engine.add([a * b for a, b in zip(row, other, strict=True)]) for other in right)
        for row in left
    )
