"""The phrases both views of a check report share: the gradient claimed, what it was compared
with, and what G stands for under a concrete loss. Plain text; the document sets it as it is."""

from __future__ import annotations

from ..core.claims import GRADIENT_NAMES, ClaimVerdict
from ..core.losses import ConcreteLoss, loss_named


def gradient_name(verdict: ClaimVerdict) -> str:
    """The gradient claimed, e.g. ``∂L/∂W``."""
    return GRADIENT_NAMES[verdict.target]


def compared_with(verdict: ClaimVerdict) -> str:
    """What the claim was compared with, in words."""
    if verdict.loss == "generic":
        return "the elementwise chain rule through A = ZW + b"
    return f"L = {loss_named(verdict.loss).title} differentiated through A = ZW + b"


def upstream_note(verdict: ClaimVerdict) -> str | None:
    """What G stands for under a concrete loss, or None for the generic one."""
    loss = loss_named(verdict.loss)
    if not isinstance(loss, ConcreteLoss):
        return None
    condition = loss.condition
    closed = loss.closed_form_text + (f", {condition.text}" if condition else "")
    return f"here G = ∂L/∂A = {closed}"
