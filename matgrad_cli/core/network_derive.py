"""A network derived and verified: the entry point ``derive_network`` and its result.

The elementwise route (network_elementwise.py) and the matrix route (network_matrix.py) never
import each other; network_compare.py compares them entry by entry, one Check per gradient and
per intermediate ∂L/∂Aℓ. The matrix route's rules can be replaced (``rules=``) to show that a
wrong one is caught. Under a concrete loss (``loss=``) network_losses.py gives both routes their
∂L/∂(output) and compares them under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..errors import ArgumentError, InputError
from . import bridge
from .activations import Activation, activation_named
from .arguments import flag, optional_name
from .checks import Check
from .derive import _without_cycle_collector
from .engine import Engine, get_engine
from .loss_base import ConcreteLoss, Loss
from .loss_definitions import network_loss_named
from .network import (
    ForwardPass,
    GradientForms,
    Network,
    NetworkSymbols,
    forward_pass,
    network_sizes,
    network_symbols,
)
from .network_compare import NetworkEquality, compare_forms
from .network_elementwise import intermediate_gradient, parameter_gradients
from .network_losses import ClosedForm, NetworkLoss, check_loss_pair, loss_checks, network_loss
from .network_matrix import RULES, BackwardRules, backward, backward_steps

__all__ = ["NetworkDerivation", "derive_network", "network_description"]


@dataclass(frozen=True)
class NetworkDerivation(bridge.RenderedInFull):
    """A network's gradients by both routes and their comparison.

    ``gradients`` (X, W1, b1, …) and ``intermediates`` (∂L/∂A1, …, ∂L/∂A_L) are the elementwise
    route's; ``checks`` compare them with the matrix route's, one per gradient and per
    intermediate, gradients first. The matrix route's own results (``forms``, ``recursion``) are
    let go once compared, and made again when asked for (a 32-wide network's are 2 million
    terms)."""

    network: Network
    engine: str
    symbols: NetworkSymbols
    forward: ForwardPass
    gradients: dict[str, GradientForms]
    intermediates: dict[str, GradientForms]
    checks: tuple[Check, ...]
    rules: BackwardRules = RULES
    #: The loss: ``generic`` (G = ∂L/∂(output) as symbols) or a concrete loss's name.
    loss: str = "generic"
    #: A concrete loss at the network's output: the CAS's ∂L/∂(output), which the gradients are
    #: taken at, and the closed form the matrix route starts from; None for the generic loss.
    concrete: NetworkLoss | None = None

    @property
    def loss_definition(self) -> Loss:
        """The loss itself: its title, L's definition and its closed form (loss_definitions)."""
        return network_loss_named(self.loss)

    @property
    def verified(self) -> bool:
        """True when every entry of every gradient and every Gℓ was proved equal."""
        return all(check.holds for check in self.checks)

    @cached_property
    def _recursion(self) -> tuple[dict[str, GradientForms], dict[str, GradientForms]]:
        engine = get_engine(self.engine)
        network = self.network
        if self.concrete is not None:
            network = self.concrete.matrix_network(network)
        return backward(network, self.symbols, self.forward, engine, self.rules)

    @property
    def forms(self) -> dict[str, GradientForms]:
        """The matrix route's gradients of X, Wℓ and bℓ, as linear forms in its start: G, or
        under a concrete loss ``concrete.start``."""
        return self._recursion[0]

    @property
    def recursion(self) -> dict[str, GradientForms]:
        """The matrix route's Gℓ = ∂L/∂Aℓ, from G1 up."""
        return self._recursion[1]

    def gradient_matrix(self, name: str) -> Any:
        """∂L/∂``name`` (X, Wℓ, bℓ or Aℓ) by the elementwise route, a SymPy Matrix over the
        entry symbols and G's. relu and leaky-relu are written in closed form (Max, and
        Heaviside(e, 0) for the derivative, 0 at e = 0); the generic σ stays ``sigma`` and its
        derivative as SymPy writes the derivative of an unknown function."""
        import sympy

        found = self.gradients.get(name) or self.intermediates.get(name)
        if found is None:
            names = ", ".join([*self.gradients, *self.intermediates])
            raise InputError(f"no gradient with respect to {name!r} (choose from {names})")
        engine = get_engine(self.engine)
        # Under a concrete loss, G is the CAS's ∂L/∂(output) at the network's output (over Y).
        upstream = self.symbols.upstream if self.concrete is None else self.concrete.found
        values = found.values(upstream, engine)
        matrix = sympy.Matrix([[engine.to_sympy(value) for value in row] for row in values])
        for activation in {self.network.activation, self.network.output_activation}:
            matrix = activation.in_closed_form(matrix)
        return matrix


def network_description(
    m: object,
    k: object,
    hidden: object,
    n: object,
    *,
    activation: object = "generic",
    output_activation: object = "identity",
    bias: object = True,
    engine: str = "symengine",
    slope: object = None,
    loss: object = "generic",
) -> Network:
    """The network, every argument checked before any work (InputError, SizeError); the loss
    must allow the output activation (network_losses.ALLOWED_OUTPUT_ACTIVATIONS)."""
    definition = network_loss_named(loss) if isinstance(loss, str) else loss
    if not isinstance(definition, Loss):
        raise InputError(f"loss must be a loss's name, got {loss!r}")
    sizes = network_sizes(m, k, hidden, n, engine)
    if slope is not None and "leaky-relu" not in (activation, output_activation):
        raise InputError(
            f"a slope is given only with leaky-relu, not with {activation} and {output_activation}"
        )
    hidden_activation = _activation("activation", activation, slope)
    output = _activation("output_activation", output_activation, slope)
    check_loss_pair(definition.name, output.name)
    return Network(sizes, hidden_activation, output, flag("bias", bias))


def _activation(option: str, name: object, slope: object) -> Activation:
    if isinstance(name, Activation):
        return name
    return activation_named(name, slope if name == "leaky-relu" else None)


def derive_network(
    m: int = 2,
    k: int = 2,
    hidden: object = (2,),
    n: int = 2,
    *,
    activation: str = "generic",
    output_activation: str = "identity",
    bias: bool = True,
    engine: str | None = None,
    slope: object = None,
    rules: BackwardRules | None = None,
    loss: str = "generic",
    closed_form: ClosedForm | None = None,
) -> NetworkDerivation:
    """Derive and verify every gradient of the network X → A1 → H1 → … → output (samples as
    rows): ∂L/∂X, ∂L/∂Wℓ, ∂L/∂bℓ and every ∂L/∂Aℓ, for a generic loss with G = ∂L/∂(output)
    as symbols. ``hidden`` holds the hidden widths (an int for one); ``slope`` is leaky-relu's
    (0 < slope < 1, default 1/100); ``rules`` replaces the backward recursion's rules.

    ``loss`` is ``generic`` or a concrete loss (sum, squared-error, softmax-cross-entropy,
    binary-cross-entropy, with targets y_i_j): the elementwise route then takes the CAS's
    ∂L/∂(output) at the network's output, and the matrix route starts from the loss's closed
    form (``closed_form`` in place of it, for tests: network_losses.ClosedForm)."""
    optional_name("engine", engine)
    cas = get_engine(engine)
    network = network_description(
        m,
        k,
        hidden,
        n,
        activation=activation,
        output_activation=output_activation,
        bias=bias,
        engine=cas.name,
        slope=slope,
        loss=loss,
    )
    definition = network_loss_named(loss)
    if closed_form is not None and not isinstance(definition, ConcreteLoss):
        raise ArgumentError("closed_form is given only with a concrete loss")
    if rules is not None and not isinstance(rules, BackwardRules):
        raise ArgumentError(f"rules must be BackwardRules or None, got {rules!r}")
    return _derived(network, cas, definition, rules or RULES, closed_form)


def _derived(
    network: Network,
    cas: Engine,
    definition: Loss,
    rules: BackwardRules,
    closed_form: ClosedForm | None,
) -> NetworkDerivation:
    """Both routes, and their comparison, for a network whose every argument was checked."""
    with _without_cycle_collector():
        symbols = network_symbols(network, cas)
        forward = forward_pass(network, symbols, cas)
        gradients = parameter_gradients(network, symbols, forward, cas)
        starts = range(1, network.depth + 1)
        from_each = [forward_pass(network, symbols, cas, start) for start in starts]
        intermediates = {
            f"A{above.start}": intermediate_gradient(network, symbols, above, cas)
            for above in from_each
        }
        equality = NetworkEquality(network, cas, [forward, *from_each])
        found = {**gradients, **intermediates}
        concrete = None
        if isinstance(definition, ConcreteLoss):
            concrete = network_loss(definition, network, forward, cas, closed_form)
        made = _compared(found, network, symbols, forward, cas, rules, equality, concrete)
        checks = tuple(made[name] for name in found)
    return NetworkDerivation(
        network,
        cas.name,
        symbols,
        forward,
        gradients,
        intermediates,
        checks,
        rules,
        definition.name,
        concrete,
    )


def _compared(
    found: dict[str, GradientForms],
    network: Network,
    symbols: NetworkSymbols,
    forward: ForwardPass,
    engine: Engine,
    rules: BackwardRules,
    equality: NetworkEquality,
    concrete: NetworkLoss | None,
) -> dict[str, Check]:
    """Each of the matrix route's results compared as it is made, by name: with G as symbols,
    or under the concrete loss."""
    if concrete is not None:
        steps = backward_steps(concrete.matrix_network(network), symbols, forward, engine, rules)
        return loss_checks(found, steps, concrete, equality, network, engine)
    return {
        forms.name: compare_forms(
            found[forms.name], forms, equality, symbols.upstream, engine, network.bias
        )
        for forms in backward_steps(network, symbols, forward, engine, rules)
    }
