"""The names a claim about a network may use: its matrices, its gradients and its activations.

A network X → A1 → H1 → … → A_L (→ H_L with an output activation) has the matrices X, Wℓ, bℓ,
Aℓ = H₍ℓ₋₁₎Wℓ + 1bℓ and Hℓ = σ(Aℓ), and G = ∂L/∂(output), given. A claim is about the gradient of
one of X, Wℓ, bℓ, Aℓ or Hℓ (``dW1 = X.T @ dA1``), and its right side may use the gradients the
backward pass has already found by then, those nearer the output: ``dH1`` and ``dA2`` in a claim
about ``dA1``, never the gradient claimed or one found after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..network import Network

#: The activation functions a claim may apply, by the word it writes (``σ`` and ``sigma`` are
#: the network's own activation), with the activation's name in the core.
ACTIVATION_WORDS: dict[str, str] = {
    "σ": "σ",
    "sigma": "σ",
    "relu": "relu",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "leaky_relu": "leaky-relu",
}
#: Words for a derivative written as a name: ``relu_prime(A1)``, ``sigmoid_prime(A1)``.
PRIME_SUFFIX = "_prime"


@dataclass(frozen=True)
class NetworkNames:
    """The vocabulary of one network's claims."""

    depth: int
    output_activated: bool
    bias: bool

    @classmethod
    def of(cls, network: Network) -> NetworkNames:
        return cls(network.depth, network.output_activated, network.bias)

    @property
    def output(self) -> str:
        """The network's output, whose gradient is G: A_L, or H_L with an output activation."""
        return f"{'H' if self.output_activated else 'A'}{self.depth}"

    @property
    def matrices(self) -> tuple[str, ...]:
        """Every matrix of the forward pass: X, W1, b1, A1, H1, …"""
        names = ["X"]
        for layer in range(1, self.depth + 1):
            names += [f"W{layer}", f"b{layer}"] if self.bias else [f"W{layer}"]
            names.append(f"A{layer}")
            if layer < self.depth or self.output_activated:
                names.append(f"H{layer}")
        return tuple(names)

    @property
    def backward_order(self) -> tuple[str, ...]:
        """The gradients in the order the backward pass finds them: ∂L/∂A_L (after ∂L/∂H_L =
        G), ∂L/∂W_L, ∂L/∂b_L, ∂L/∂H₍L₋₁₎, ∂L/∂A₍L₋₁₎, …, ∂L/∂X."""
        order: list[str] = []
        for layer in range(self.depth, 0, -1):
            if layer < self.depth:
                order.append(f"H{layer}")
            order.append(f"A{layer}")
            order += [f"W{layer}", f"b{layer}"] if self.bias else [f"W{layer}"]
        order.append("X")
        return tuple(order)

    @property
    def targets(self) -> tuple[str, ...]:
        """What a claim may be about: every gradient but G itself, in the backward order."""
        return tuple(name for name in self.backward_order if name != self.output)

    def known_before(self, target: str) -> tuple[str, ...]:
        """The intermediate gradients (of Aℓ and Hℓ) found before ∂L/∂``target``: those a claim
        about it may use on its right side."""
        order = self.backward_order
        earlier = order[: order.index(target)] if target in order else order
        return tuple(name for name in earlier if name[0] in "AH")

    def listed(self) -> str:
        """The names, for a message: ``X, W1, b1, A1, H1, W2, b2, A2, G``."""
        return ", ".join((*self.matrices, "G"))

    def gradients_listed(self) -> str:
        """The gradients, for a message: ``dA2, dW2, db2, dH1, …``."""
        return ", ".join(f"d{name}" for name in self.targets)

    def gradient_words(self) -> dict[str, str]:
        """Single words for ∂L/∂V of every matrix V: ``dV``, ``dLdV``, ``dL_dV``, ``grad_V``,
        ``V_grad``."""
        words: dict[str, str] = {}
        for name in self.matrices:
            for word in (f"d{name}", f"dLd{name}", f"dL_d{name}", f"grad_{name}", f"{name}_grad"):
                words[word] = name
        return words
