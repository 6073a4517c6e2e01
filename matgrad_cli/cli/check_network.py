"""``matgrad check`` for a network (--hidden, --activation, --output-activation): claims about the
network's gradients, from the command line or a file, judged against its verified backward pass."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..core.layer import Sizes
from ..errors import InputError
from .check_claims import checked_claims
from .options import NetworkChoice

if TYPE_CHECKING:
    from ..core.claims.network_verdict import NetworkCheckReport


def checked_network(
    network: NetworkChoice,
    claims: list[str] | None,
    claims_file: Path | None,
    key: Path | None,
    sizes: Sizes | None,
    loss: str,
    dialect: str,
) -> NetworkCheckReport:
    """The claims given and those of --file judged on ``network``, at ``sizes`` (m the batch, k
    the inputs, n the outputs) or at the default sizes; what a network's claims cannot have (an
    answer key, a concrete loss) refused first."""
    from ..core.claims.network_judge import check_network

    if key is not None:
        raise InputError("an answer key (--key) grades claims about the single layer only")
    if loss != "generic":
        raise InputError(
            f"--loss {loss} is not offered for a network's claims: G is ∂L/∂(output), given"
        )
    triple = None if sizes is None else (sizes.m, sizes.k, sizes.n)

    def judged(texts: list[str]) -> NetworkCheckReport:
        return check_network(
            texts,
            hidden=network.hidden,
            activation=network.activation,
            output_activation=network.output_activation,
            slope=network.slope,
            sizes=triple,
            dialect=dialect,  # type: ignore[arg-type]
            keep_going=True,
        )

    return checked_claims(claims, claims_file, judged)
