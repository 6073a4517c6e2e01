"""``matgrad jacobian``: the Jacobians of A = ZW laid out as matrices and verified."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from .deliver import deliver, prepare_output
from .options import (
    ForceOption,
    Format,
    FormatOption,
    FullOption,
    JacobianLayout,
    KOption,
    LayoutOption,
    MOption,
    NOption,
    OutputOption,
    StandaloneOption,
    parse_sizes,
    require_latex_for_standalone,
)

if TYPE_CHECKING:
    from ..core.jacobians import JacobianDerivation


def jacobian(
    m: MOption = "2",
    k: KOption = "2",
    n: NOption = "2",
    layout: LayoutOption = JacobianLayout.numerator,
    output_format: FormatOption = Format.latex,
    standalone: StandaloneOption = False,
    output: OutputOption = None,
    force: ForceOption = False,
    full: FullOption = False,
) -> None:
    """Show the Jacobians ∂A/∂W and ∂A/∂Z of A = ZW as matrices and verify them entry by entry.

    Lays ∂a_{i,j}/∂w_{r,q} = z_{i,r} δ_{j,q} out through vec(A) = (I_n ⊗ Z) vec(W) =
    (Wᵀ ⊗ I_m) vec(Z), checks both identities, contracts with ∂L/∂A to get Zᵀ·∂L/∂A and
    ∂L/∂A·Wᵀ, and explains why "∂Y/∂W = Xᵀ" is wrong. A short verification summary goes to
    stderr. Exit code 0 when every identity holds, 1 when one fails, 2 for bad input.
    """
    from ..core.jacobians import jacobian as compute_jacobians
    from ..core.jacobians import validate_jacobian_sizes

    rows, inner, cols = parse_sizes(m, k, n)
    require_latex_for_standalone(output_format, standalone)
    validate_jacobian_sizes(rows, inner, cols)
    destination = prepare_output(output, output_format, force)
    view = compute_jacobians(rows, inner, cols, layout=layout.value)
    deliver(view, output_format, destination, force, standalone=standalone, full=full)
    if output_format is not Format.text or destination is not None:
        sys.stderr.write(f"matgrad: {summary_line(view)}\n")
    raise typer.Exit(0 if view.verified else 1)


def summary_line(view: JacobianDerivation) -> str:
    """The one-line verdict for stderr, with what became of the notes' ∂A/∂W = Zᵀ."""
    sizes = view.sizes
    held = sum(check.holds for check in view.checks)
    verdict = "verified" if view.verified else "NOT verified"
    notes = "agrees only at these degenerate sizes" if view.notes_claim.holds else "rejected"
    return (
        f"{verdict} (m={sizes.m}, k={sizes.k}, n={sizes.n}, {view.layout} layout): "
        f"{held} of {len(view.checks)} checks hold; the notes' ∂A/∂W = Zᵀ: {notes}"
    )
