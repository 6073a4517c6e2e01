"""What ``matgrad check`` found about claims on a network, as data: one verdict per claim and the
report over all of them, rendered through the bridge to present/ as every result is."""

from __future__ import annotations

from dataclasses import dataclass

from .. import bridge
from ..activations import LeakyRelu
from ..layer import Shape
from ..network import Network, NetworkSizes
from .shapes import ShapeStep
from .verdict import EntryDifference, Reason, RefusedClaim


@dataclass(frozen=True)
class NetworkVerdict:
    """What matgrad found about one claim ∂L/∂``target`` = … on a network.

    ``target`` is the matrix whose gradient is claimed (X, Wℓ, bℓ, Aℓ or Hℓ). ``reported_at`` is
    where the shapes and the first difference were taken: the first sizes at which the claim
    fails, or the first checked when it is correct. ``hint_kind`` and ``hint`` name the slip the
    claim's value is, when one is recognised; ``correct_formula`` is the right answer as a claim.
    """

    claim: str
    target: str
    correct: bool
    reason: Reason
    sizes_checked: tuple[NetworkSizes, ...]
    reported_at: NetworkSizes
    expected_shape: Shape
    claimed_shape: Shape | None
    shape_steps: tuple[ShapeStep, ...]
    shape_message: str | None
    first_difference: EntryDifference | None
    hint: str | None
    hint_kind: str | None
    correct_formula: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class NetworkCheckReport(bridge.Rendered):
    """The verdicts on every claim about ``network`` (at its first sizes), in the order given."""

    network: Network
    verdicts: tuple[NetworkVerdict, ...]
    refused: tuple[RefusedClaim, ...] = ()

    @property
    def correct(self) -> bool:
        """True when every claim was judged, and is right."""
        return not self.refused and all(verdict.correct for verdict in self.verdicts)

    @property
    def exit_code(self) -> int:
        """2 when a claim was refused, 1 when one is wrong, else 0."""
        return 2 if self.refused else 0 if self.correct else 1

    @property
    def entries(self) -> tuple[NetworkVerdict | RefusedClaim, ...]:
        """Every claim's verdict or refusal, in the order the claims were given."""
        verdicts = iter(self.verdicts)
        refused = {entry.order: entry for entry in self.refused}
        total = len(self.verdicts) + len(self.refused)
        return tuple(refused[i] if i in refused else next(verdicts) for i in range(total))

    @property
    def network_line(self) -> str:
        """The network the claims were judged on, in one line, e.g. ``Judged on the network X →
        A1 → H1 = relu(A1) → A2 (hidden width 4; samples as rows).``"""
        return f"Judged on the network {network_text(self.network)}."


def network_text(network: Network) -> str:
    """The forward pass in words: ``X → A1 → H1 = relu(A1) → A2 (hidden width 4)``."""
    parts = ["X"]
    for layer in range(1, network.depth + 1):
        parts.append(f"A{layer}")
        activation = network.activation_of(layer)
        if layer < network.depth or network.output_activated:
            parts.append(f"H{layer} = {_function(activation.name)}(A{layer})")
    hidden = network.sizes.hidden
    widths = (
        f"hidden width{'s' if len(hidden) > 1 else ''} {', '.join(map(str, hidden))}; "
        if hidden
        else ""
    )
    slopes = {
        activation.slope
        for activation in (network.activation, network.output_activation)
        if isinstance(activation, LeakyRelu)
    }
    slope = "".join(f"leaky_relu slope {value}; " for value in slopes)
    loss_word = f"G = ∂L/∂{network.output_name}"
    return f"{' → '.join(parts)} ({widths}{slope}{loss_word}; samples as rows)"


def _function(name: str) -> str:
    return {"generic": "σ", "leaky-relu": "leaky_relu"}.get(name, name)
