"""The one-line verdicts the command line writes on stderr beside a derivation, a numeric check
and the Jacobians (the proof's is in prove_notation.py); each kind's is registered in the door."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.checks import comparand_text

if TYPE_CHECKING:
    from ..core.jacobians import JacobianDerivation
    from ..core.layer import Sizes
    from ..core.model import Derivation
    from ..core.numeric import NumericResult


def _at(sizes: Sizes) -> str:
    """The sizes, and the convention when samples are columns (rows go without saying)."""
    columns = ", samples as columns" if sizes.samples == "columns" else ""
    return f"m={sizes.m}, k={sizes.k}, n={sizes.n}{columns}"


def derivation_summary(derivation: Derivation) -> str:
    """The identities verified, each once, or the checks that failed."""
    failed = [check.identity for check in derivation.checks if not check.holds]
    if derivation.loss is not None and not derivation.loss.closed_form_holds:
        failed.insert(0, "the closed form of ∂L/∂A")
    layer = "with and without the bias" if derivation.bias else "without bias"
    where = f"{_at(derivation.sizes)}, {layer}"
    if derivation.loss is not None:
        where += f", loss {derivation.loss_name}"
    if failed:
        return f"NOT verified ({where}): {len(failed)} checks fail: {'; '.join(failed)}"
    identities: dict[str, str] = {}
    for check in derivation.checks:
        # The first check of each gradient names its identity, without the loss it was made
        # under: the loss is named once, in ``where``.
        identities.setdefault(
            check.variable, f"∂L/∂{check.variable} = {comparand_text(check.against)}"
        )
    listed = "; ".join(identities.values())
    return f"verified ({where}): {listed}; {len(derivation.checks)} checks hold"


def numeric_summary(result: NumericResult) -> str:
    """How many identities held (under a concrete loss, ∂L/∂A's closed form among them), and by
    what method: not a proof; a bounded check says its bound."""
    closed = () if result.closed_form is None else (result.closed_form,)
    checks = (*closed, *result.checks)
    held = sum(check.holds for check in checks)
    verdict = "verified" if result.verified else "NOT verified"
    within = "" if result.exact else f", to within {result.bound:.1e}"
    return (
        f"{verdict} by {result.method} ({_at(result.sizes)}): "
        f"{held} of {len(checks)} identities hold{within}"
    )


def jacobian_summary(view: JacobianDerivation) -> str:
    """The checks that held, with what became of the common mistake ∂A/∂W = Zᵀ (Xᵀ with samples
    as columns)."""
    held = sum(check.holds for check in view.checks)
    verdict = "verified" if view.verified else "NOT verified"
    notes = "agrees only at these degenerate sizes" if view.notes_claim.holds else "rejected"
    return (
        f"{verdict} ({_at(view.sizes)}, {view.layout} layout): "
        f"{held} of {len(view.checks)} checks hold; the common mistake "
        f"∂A/∂W = {view.variables[1]}ᵀ: {notes}"
    )
