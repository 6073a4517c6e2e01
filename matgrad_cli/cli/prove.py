"""``matgrad prove``: the identities proved for every size, in index notation."""

from __future__ import annotations

import sys

import typer

from .deliver import deliver, prepare_output
from .options import (
    BiasOption,
    ForceOption,
    Format,
    FormatOption,
    OutputOption,
    StandaloneOption,
    require_latex_for_standalone,
)


def prove(
    bias: BiasOption = True,
    output_format: FormatOption = Format.latex,
    standalone: StandaloneOption = False,
    output: OutputOption = None,
    force: ForceOption = False,
) -> None:
    """Prove ∂L/∂Z, ∂L/∂W (and ∂L/∂b) for every size, in index notation, with SymPy.

    m, k and n stay symbols and the entries are indexed symbols. Each step (the partial
    derivatives, each sum a Kronecker delta collapses, the comparison with the entry of the
    matrix product) is computed by the CAS; a step it cannot finish is reported as NOT proved.
    A one-line summary goes to stderr. Exit code 0 when every identity is proved, 1 when one
    is not, 2 for bad input.
    """
    from ..core.proof import prove as prove_identities
    from ..present.prove_notation import summary_line

    require_latex_for_standalone(output_format, standalone)
    destination = prepare_output(output, output_format, force)
    report = prove_identities(bias=bias)
    deliver(report, output_format, destination, force, standalone=standalone)
    if output_format is not Format.text or destination is not None:
        sys.stderr.write(f"matgrad: {summary_line(report)}\n")
    raise typer.Exit(0 if report.proved else 1)
