"""``matgrad jacobian``: the Jacobians of A = ZW laid out as matrices and verified."""

from __future__ import annotations

from . import options
from .deliver import conclude, deliver, prepare_output


def jacobian(
    m: options.MOption = "2",
    k: options.KOption = "2",
    n: options.NOption = "2",
    layout: options.LayoutOption = "numerator",
    output_format: options.JacobianFormatOption = "latex",
    standalone: options.StandaloneOption = False,
    output: options.OutputOption = None,
    force: options.ForceOption = False,
    full: options.FullOption = False,
) -> None:
    """Show the Jacobians ∂A/∂W and ∂A/∂Z of A = ZW as matrices and verify them entry by entry.

    Lays ∂a_{i,j}/∂w_{r,q} = z_{i,r} δ_{j,q} out through vec(A) = (I_n ⊗ Z) vec(W) =
    (Wᵀ ⊗ I_m) vec(Z), checks both identities, contracts with ∂L/∂A to get Zᵀ·∂L/∂A and
    ∂L/∂A·Wᵀ, and explains why "∂Y/∂W = Xᵀ" is wrong. A short verification summary goes to
    stderr. Exit code 0 when every identity holds, 1 when one fails, 2 for bad input.
    """
    from ..core.jacobians import jacobian as compute_jacobians
    from ..core.jacobians import validate_jacobian_sizes

    sizes = options.parse_sizes(m, k, n)
    options.require_latex_for_standalone(output_format, standalone)
    validate_jacobian_sizes(*sizes)
    destination = prepare_output(output, output_format, force)
    view = compute_jacobians(*sizes, layout=layout)
    deliver(view, output_format, destination, force, standalone=standalone, full=full)
    conclude(view, view.verified, told=output_format == "text" and destination is None)
