"""``matgrad derive`` for a network (--hidden, --activation, --output-activation): the network's
derivation, checked and delivered as the single layer's is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.layer import Sizes
from ..errors import InputError
from .deliver import conclude, deliver, prepare_output
from .network_numeric import numeric_network_route
from .options import NetworkChoice


def derive_network_command(network: NetworkChoice, sizes: Sizes, given: Mapping[str, Any]) -> None:
    """Derive and verify the network's backward pass at ``sizes`` (m the batch, k the input
    width, n the output width) under its loss and deliver it in its format; ``given`` holds
    derive's options by name, as the command line gave them. A loss that does not allow the
    output activation is refused before any work (network_losses.py)."""
    bias, loss, engine, full = given["bias"], given["loss"], given["engine"], given["full"]
    output_format, standalone = given["output_format"], given["standalone"]
    output, force, numeric, seed = given["output"], given["force"], given["numeric"], given["seed"]
    sections, brief = given["sections"], given["brief"]
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
