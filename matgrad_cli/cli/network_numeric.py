"""``matgrad derive`` for a network turns to the numeric check with --numeric, or by itself above
the symbolic limits (said on stderr), as the single layer does."""

from __future__ import annotations

import sys
from typing import Any

from ..errors import InputError, SizeError
from .deliver import conclude, deliver, prepare_output


def numeric_network_route(
    shape: tuple[int, int, tuple[int, ...], int],
    chosen: dict[str, Any],
    *,
    engine: str | None,
    numeric: bool,
    seed: int,
    to: tuple[str, bool, str | None, bool],
) -> None:
    """Run and deliver the numeric check of the network of ``shape`` (m, k, the hidden widths,
    n) and ``chosen`` (activation, output_activation, bias, slope, loss) when it is asked for
    (``numeric``) or when the network is above the symbolic limits; return, doing nothing, when
    the symbolic derivation takes it. ``to`` is (format, standalone, -o, --force). Sizes beyond
    the numeric limits too are refused with one line naming both limits."""
    from ..core.engine import get_engine
    from ..core.network_derive import network_description
    from ..core.network_losses import check_loss_pair
    from ..core.numeric_network import exact_figures, numeric_network, numeric_verify_network

    arguments = {name: value for name, value in chosen.items() if name != "loss"}
    loss, engine_name = chosen["loss"], get_engine(engine).name
    if not numeric:
        try:
            network_description(*shape, engine=engine_name, **arguments)
            return
        except SizeError as refusal:
            # The sizes, activations and slope are checked again against the numeric limits;
            # a refusal there names both limits.
            checked = numeric_network(*shape, engine=engine_name, **arguments)
            _refuse_loss(loss, f"the network is above the symbolic limit ({refusal})")
            check_loss_pair(loss, checked.output_activation.name)
            sys.stderr.write(_switch_notice(str(refusal), exact_figures(checked, loss)))
    else:
        checked = numeric_network(*shape, engine=engine_name, **arguments)
        _refuse_loss(loss, "--numeric")
        check_loss_pair(loss, checked.output_activation.name)
    output_format, standalone, output, force = to
    destination = prepare_output(output, output_format, force)
    result = numeric_verify_network(*shape, seed=seed, loss=loss, **arguments)
    deliver(result, output_format, destination, force, standalone=standalone)
    conclude(result, result.verified)


def _refuse_loss(loss: str, why: str) -> None:
    from ..core.numeric_network import NUMERIC_LOSSES

    if loss not in NUMERIC_LOSSES:
        raise InputError(
            f"{why}: the numeric check of a network takes the losses "
            f"{', '.join(NUMERIC_LOSSES)}, not --loss {loss}"
        )


def _switch_notice(refusal: str, exact: bool) -> str:
    """What derive says on stderr when it turns to the numeric check by itself: exact, or (with
    a sigmoid, tanh or softmax, whose figures are enclosed) to within a bound."""
    kind = "exact numeric check" if exact else "numeric check to within a bound"
    return f"matgrad: {refusal}; running the {kind} instead\n"
