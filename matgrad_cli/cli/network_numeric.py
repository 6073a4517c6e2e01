"""``matgrad derive`` for a network turns to the numeric check with --numeric, or by itself above
the symbolic limits (said on stderr), as the single layer does."""

from __future__ import annotations

import sys

from ..core.layer import Sizes
from ..errors import InputError, SizeError
from .deliver import conclude, deliver, prepare_output
from .options import NetworkChoice


def numeric_network_route(
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
) -> None:
    """Run and deliver the numeric check when it is asked for (``numeric``) or when the network
    is above the symbolic limits; return, doing nothing, when the symbolic derivation takes it.
    Sizes beyond the numeric limits too are refused with one line naming both limits."""
    from ..core.engine import get_engine
    from ..core.network_derive import network_description
    from ..core.numeric_activations import is_exact
    from ..core.numeric_network import numeric_network, numeric_verify_network

    arguments = {
        "activation": network.activation,
        "output_activation": network.output_activation,
        "bias": bias,
        "slope": network.slope,
    }
    engine_name = get_engine(engine).name
    described = (sizes.m, sizes.k, network.hidden, sizes.n)
    if not numeric:
        try:
            network_description(*described, engine=engine_name, **arguments)
            return
        except SizeError as refusal:
            # The sizes, activations and slope are checked again against the numeric limits;
            # a refusal there names both limits.
            checked = numeric_network(*described, engine=engine_name, **arguments)
            _refuse_loss(loss, f"the network is above the symbolic limit ({refusal})")
            layers = range(1, checked.depth + 1)
            exact = all(is_exact(checked.activation_of(layer)) for layer in layers)
            sys.stderr.write(_switch_notice(str(refusal), exact))
    else:
        numeric_network(*described, engine=engine_name, **arguments)
        _refuse_loss(loss, "--numeric")
    destination = prepare_output(output, output_format, force)
    result = numeric_verify_network(*described, seed=seed, **arguments)  # type: ignore[arg-type]
    deliver(result, output_format, destination, force, standalone=standalone)
    conclude(result, result.verified)


def _refuse_loss(loss: str, why: str) -> None:
    if loss != "generic":
        raise InputError(
            f"{why}: the numeric check of a network takes the generic loss only, not --loss {loss}"
        )


def _switch_notice(refusal: str, exact: bool) -> str:
    """What derive says on stderr when it turns to the numeric check by itself: exact, or (with
    a sigmoid or tanh, whose figures are enclosed) to within a bound."""
    kind = "exact numeric check" if exact else "numeric check to within a bound"
    return f"matgrad: {refusal}; running the {kind} instead\n"
