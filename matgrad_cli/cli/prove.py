"""``matgrad prove``: the identities proved for every size, in index notation."""

from __future__ import annotations

from . import options
from .deliver import conclude, deliver, prepare_output


def prove(
    bias: options.BiasOption = True,
    output_format: options.ProofFormatOption = "latex",
    standalone: options.StandaloneOption = False,
    output: options.OutputOption = None,
    force: options.ForceOption = False,
) -> None:
    """Prove ∂L/∂Z, ∂L/∂W (and ∂L/∂b) for every size, in index notation, with SymPy.

    m, k and n stay symbols and the entries are indexed symbols. Each step (the partial
    derivatives, each sum a Kronecker delta collapses, the comparison with the entry of the
    matrix product) is computed by the CAS; a step it cannot finish is reported as NOT proved.
    A one-line summary goes to stderr. Exit code 0 when every identity is proved, 1 when one
    is not, 2 for bad input.
    """
    from ..core.proof import prove as prove_identities

    options.require_latex_for_standalone(output_format, standalone)
    destination = prepare_output(output, output_format, force)
    report = prove_identities(bias=bias)
    deliver(report, output_format, destination, force, standalone=standalone)
    conclude(report, report.proved, told=output_format == "text" and destination is None)
