"""``matgrad derive`` for a network (--hidden, --activation, --output-activation): the network's
derivation, checked and delivered as the single layer's is."""

from __future__ import annotations

from typing import Any

from ..core.layer import Sizes
from ..errors import InputError
from .deliver import conclude, deliver, prepare_output
from .network_numeric import numeric_network_route
from .options import NetworkChoice


def derive_network_command(
    network: NetworkChoice,
    sizes: Sizes,
    *,
    bias: bool,
    output_format: str,
    standalone: bool,
    output: str | None,
    force: bool,
    engine: str | None,
    loss: str,
    numeric: bool,
    seed: int,
    full: bool,
    sections: str | None,
    brief: bool,
) -> None:
    """Derive and verify the network's backward pass at ``sizes`` (m the batch, k the input
    width, n the output width) under ``loss`` and deliver it in ``output_format``. A loss that
    does not allow the output activation is refused before any work (network_losses.py)."""
    from ..core.engine import get_engine
    from ..core.network_derive import derive_network, network_description

    if sections is not None or brief:
        raise InputError("--sections and --brief shape the single layer's document")
    shape = (sizes.m, sizes.k, network.hidden, sizes.n)
    chosen: dict[str, Any] = {
        "activation": network.activation,
        "output_activation": network.output_activation,
        "bias": bias,
        "slope": network.slope,
        "loss": loss,
    }
    # With --numeric, or above the symbolic limits, the numeric check runs and ends the command.
    delivery = (output_format, standalone, output, force)
    numeric_network_route(shape, chosen, engine=engine, numeric=numeric, seed=seed, to=delivery)
    # Every argument is checked before the output file is prepared or any work is done.
    description = network_description(*shape, engine=get_engine(engine).name, **chosen)
    if full:
        from ..present.limits import require_network_full_fits

        require_network_full_fits(description.sizes.work, output_format)
    destination = prepare_output(output, output_format, force)
    derivation = derive_network(*shape, engine=engine, **chosen)
    deliver(derivation, output_format, destination, force, standalone=standalone, full=full)
    conclude(derivation, derivation.verified, told=output_format == "text" and destination is None)
