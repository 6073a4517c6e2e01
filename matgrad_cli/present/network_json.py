"""A network's derivation as JSON (``matgrad derive --hidden … --format json``, docs/json.md).

Every gradient (X, W1, b1, W2, …) and every intermediate ∂L/∂Aℓ is written entry by entry as a
SymPy expression over the entry symbols of docs/networks.md: x_i_j, wℓ_i_j, bℓ_j, aℓ_i_j and the
upstream dAL_i_j (or dHL_i_j with an output activation), 1-based. The activations are written as
SymPy writes them, so that ``sympy.parse_expr`` of an entry gives the expression back:

- ``relu(e)`` is ``Max(0, e)`` and relu′(e) is ``Heaviside(e, 0)``: the second argument is the
  value at 0, so relu′(0) = 0;
- ``leaky-relu`` with slope α is ``Max(α*e, e)``, its derivative ``α + (1 - α)*Heaviside(e, 0)``;
- the sigmoid is written with ``exp`` and tanh with ``tanh``, as the CAS differentiated them;
- the generic σ is the undefined function ``sigma``, and its derivative as SymPy writes the
  derivative of an undefined function: ``Derivative(sigma(a1_1_1), a1_1_1)`` at a symbol,
  ``Subs(Derivative(sigma(_xi_1), _xi_1), _xi_1, e)`` at an expression e.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..core.activations import (
    Activation,
    Generic,
    Identity,
    LeakyRelu,
    Relu,
    cas_module,
    engine_derivative,
)
from ..core.engine import Engine, get_engine, linear_value
from ..core.network import forward_pass
from .json import SCHEMA_VERSION
from .limits import require_network_json_within

if TYPE_CHECKING:
    from ..core.checks import Check
    from ..core.network import GradientForms, Network
    from ..core.network_derive import NetworkDerivation

#: What a check of the network says (as the single layer's, without the layer variant).
_CHECK = "identity variable holds shape claimed_shape entries_checked mismatch_count"


class EntryWriter:
    """Engine expressions as the text of docs/json.md: relu and leaky-relu and their derivatives
    rewritten as SymPy functions (the module docstring), the rest as the engine prints it, which
    ``sympy.parse_expr`` reads back as the same expression."""

    def __init__(self, derivation: NetworkDerivation) -> None:
        engine = self._engine = get_engine(derivation.engine)
        network, symbols = derivation.network, derivation.symbols
        passes = [derivation.forward]
        passes += [
            forward_pass(network, symbols, engine, start) for start in range(1, network.depth + 1)
        ]
        rewrites: dict[Any, Any] = {}
        for forward in passes:
            # Layer by layer, so that each argument is itself written with the layers below it.
            for layer, _, _, argument in forward.arguments():
                activation = network.activation_of(layer)
                if isinstance(activation, Relu | LeakyRelu) and argument not in rewrites:
                    written = (
                        engine.substitute(argument, engine.mapping(rewrites))
                        if rewrites
                        else argument
                    )
                    rewrites.update(_rewrites(engine, activation, argument, written))
        self._mapping = engine.mapping(rewrites) if rewrites else None
        self._written = 0
        sizes = network.sizes
        hidden = ",".join(map(str, sizes.hidden)) or "none"
        self._network = f"m={sizes.m}, k={sizes.k}, hidden {hidden}, n={sizes.n}"

    def text(self, value: Any) -> str:
        """The engine's ``value`` as the text of an entry; a SizeError once the entries written
        pass JSON_NETWORK_CHARS."""
        if self._mapping is not None and hasattr(value, "args"):
            value = self._engine.substitute(value, self._mapping)
        text = str(value)
        self._written += len(text)
        require_network_json_within(self._written, self._network)
        return text


def _rewrites(
    engine: Engine, activation: Relu | LeakyRelu, argument: Any, written: Any
) -> dict[Any, Any]:
    """relu(e) and the engine's relu′(e) (leaky-relu's likewise) for the argument e, each with
    what it is written as, with e written as ``written``."""
    cas = cas_module(engine)
    function = activation.function(engine)
    heaviside = cas.Function("Heaviside")(written, cas.Integer(0))
    if isinstance(activation, Relu):
        value = cas.Function("Max")(cas.Integer(0), written)
        derivative = heaviside
    else:
        alpha = cas.Integer(activation.slope.numerator) / cas.Integer(activation.slope.denominator)
        value = cas.Function("Max")(alpha * written, written)
        derivative = alpha + (1 - alpha) * heaviside
    return {
        function(argument): value,
        engine_derivative(engine, function, argument): derivative,
    }


def _concrete(derivation: NetworkDerivation) -> Any:
    """The concrete loss at the network's output, or None under the generic loss."""
    return getattr(derivation, "concrete", None)


def _matrix(forms: GradientForms, derivation: NetworkDerivation, writer: EntryWriter) -> list[Any]:
    """Each entry Σ G_{p,q}·factor, G the symbols of ∂L/∂(output), or under a concrete loss the
    CAS's ∂L/∂(output) at the network's output (as gradient_matrix writes it)."""
    engine = get_engine(derivation.engine)
    concrete = _concrete(derivation)
    upstream = derivation.symbols.upstream if concrete is None else concrete.found
    return [
        [writer.text(linear_value(form, upstream, engine)) for form in row] for row in forms.entries
    ]


def _check(check: Check, writer: EntryWriter) -> dict[str, Any]:
    fields = {name: getattr(check, name) for name in _CHECK.split()}
    data = {name: list(v) if isinstance(v, tuple) else v for name, v in fields.items()}
    data["mismatches"] = [
        {
            "index": list(miss.index),
            "elementwise": writer.text(miss.elementwise),
            "claimed": writer.text(miss.claimed),
        }
        for miss in check.mismatches
    ]
    return data


def _activation(activation: Activation) -> str:
    return activation.name


def _slope(network: Network) -> str | None:
    for activation in (network.activation, network.output_activation):
        if isinstance(activation, LeakyRelu):
            return str(activation.slope)
    return None


def _variables(network: Network, concrete: bool) -> dict[str, str]:
    """Each family of entry symbols, with the matrix it belongs to and that matrix's shape; the
    targets Y, not G, under a concrete loss."""
    widths, m = network.sizes.widths, network.sizes.m
    variables = {"x_i_j": f"entry (i, j) of the input X, {m} x {widths[0]}"}
    for layer in range(1, network.depth + 1):
        below, width = widths[layer - 1], widths[layer]
        variables[f"w{layer}_i_j"] = f"entry (i, j) of W{layer}, {below} x {width}"
        if network.bias:
            variables[f"b{layer}_j"] = f"entry j of the bias row b{layer}, 1 x {width}"
    for layer in range(1, network.depth + 1):
        variables[f"a{layer}_i_j"] = (
            f"entry (i, j) of A{layer}, {m} x {widths[layer]}, the variables of "
            f"intermediates.A{layer}"
        )
    output = network.output_name
    if concrete:
        variables["y_i_j"] = f"entry (i, j) of the targets Y, {m} x {widths[-1]}"
    else:
        variables[f"d{output}_i_j"] = (
            f"entry (i, j) of G = dL/d{output}, {m} x {widths[-1]}: the upstream gradient"
        )
    return variables


def _functions(network: Network) -> dict[str, str]:
    """How each activation that occurs and its derivative are written in the entries (a network
    of one layer has no hidden activation)."""
    written: dict[str, str] = {}
    used = (network.activation_of(layer) for layer in range(1, network.depth + 1))
    for activation in dict.fromkeys(used):
        if isinstance(activation, Identity):
            continue
        written[activation.name] = _FUNCTIONS[type(activation).__name__]
        if isinstance(activation, LeakyRelu):
            written[activation.name] = written[activation.name].replace(
                "alpha", str(activation.slope)
            )
    return written


_FUNCTIONS = {
    Generic.__name__: (
        "sigma(e), an undefined function; its derivative as SymPy writes it: "
        "Derivative(sigma(a), a) at a symbol, Subs(Derivative(sigma(_xi_1), _xi_1), _xi_1, e) "
        "at an expression e"
    ),
    Relu.__name__: "Max(0, e); its derivative Heaviside(e, 0), whose 0 is relu'(0) = 0",
    LeakyRelu.__name__: (
        "Max(alpha*e, e); its derivative alpha + (1 - alpha)*Heaviside(e, 0), which is alpha at 0"
    ),
    "Sigmoid": "1/(1 + exp(-e)), differentiated as written (exp)",
    "Tanh": "tanh(e), differentiated as written (1 - tanh(e)**2)",
}


def network_data(derivation: NetworkDerivation) -> dict[str, Any]:
    """The network derivation's JSON document as Python data."""
    network = derivation.network
    writer = EntryWriter(derivation)
    sizes = network.sizes
    concrete = _concrete(derivation)
    data: dict[str, Any] = {
        "kind": "network",
        "schema": SCHEMA_VERSION,
        "sizes": {"m": sizes.m, "k": sizes.k, "n": sizes.n, "hidden": list(sizes.hidden)},
        "widths": list(sizes.widths),
        "depth": network.depth,
        # The hidden layers' activation; null for a single layer, which has none.
        "activation": _activation(network.activation) if sizes.hidden else None,
        "output_activation": _activation(network.output_activation),
        "slope": _slope(network),
        "bias": network.bias,
        "loss": derivation.loss,
        "output": network.output_name,
        "verified": derivation.verified,
        "checks": [_check(check, writer) for check in derivation.checks],
        "gradients": {
            name: _matrix(forms, derivation, writer) for name, forms in derivation.gradients.items()
        },
        "intermediates": {
            name: _matrix(forms, derivation, writer)
            for name, forms in derivation.intermediates.items()
        },
        "conventions": {
            "samples": "rows: A1 = X W1 + 1 b1, H1 = activation(A1), A2 = H1 W2 + 1 b2, ...",
            "layout": "denominator: dL/dX has the shape of X",
            "indices": "1-based",
            "variables": _variables(network, concrete is not None),
            "functions": _functions(network),
        },
    }
    if concrete is not None:
        data["loss_gradient"] = {
            "closed_form": concrete.start_text,
            "closed_form_holds": concrete.closed_form_holds,
            network.output_name: [[writer.text(value) for value in row] for row in concrete.found],
        }
    return data


def render_network_json(derivation: NetworkDerivation) -> str:
    """The network derivation as JSON text: indented, non-ASCII kept, ending in a newline."""
    return json.dumps(network_data(derivation), indent=2, ensure_ascii=False) + "\n"
