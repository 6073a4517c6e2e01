"""A network under a concrete loss: which output activation each loss allows, ∂L/∂(output) by the
CAS and in closed form, and the two routes compared under the loss.

L is a function of the network's output O (A_L, or H_L with an output activation) and of targets
Y (symbols y_i_j), a sum over the samples: L = Σ_p ℓ_p(o_p), one row of O each.

- **The elementwise route** differentiates L through the whole composition by the chain rule,
  ∂L/∂v = Σ_{p,q} ∂L/∂o_{p,q} · ∂O_{p,q}/∂v: the CAS differentiates each row's loss by the
  entries of its row of O, and those derivatives, taken at the network's output, are the G of
  the generic route's linear forms (each ∂O_{p,q}/∂v the engine's derivative through every
  layer, network_elementwise.py).
- **The matrix route** starts from the loss's closed form: ∂L/∂O = 1·1ᵀ (sum), O − Y (squared
  error), softmax(A_L) − Y of each row (softmax cross-entropy, for rows of Y that sum to 1), and
  runs the backward recursion from there; after a sigmoid the binary cross-entropy starts one
  step lower, at ∂L/∂A_L = P − Y with P = H_L, the factor σ′ = P ⊙ (1 − P) cancelled.

The comparison, per entry of every gradient and every ∂L/∂Aℓ, per entry (p, q) of the output:
the elementwise side is u_{p,q}·f and the matrix side v_{p,q}·f′, u the CAS's ∂L/∂o_{p,q} and v
the closed form (f, f′ the routes' factors of G). It holds when (1) u_{p,q} = v_{p,q} is proved
as an identity in the output's symbols (the closed form's check; after a sigmoid
u_{p,q}·σ′(a_{p,q}) = v_{p,q}), and (2) f = f′ (after a sigmoid f = σ′(A_L)_{p,q}·f′) is proved
by the network's own equality test (network_compare.py); then u·f = v·f′, as a product of proved
equalities. Both steps are sound, so a check never passes unproved. Step (1) is decided
completely: for the polynomial losses by expansion, for the softmax by equality.RowExponentials
(each exp(o_{p,q}) and each row's normaliser a symbol, the normaliser's relation used in full), for
the binary cross-entropy by equality.completely_equal (a rational function of exp(−a) once the
exponential is a symbol). An identity in free symbols holds at any value of them where its
denominators do not vanish, and the network's output is such a value (a softmax's normaliser is
positive, a sigmoid lies in (0, 1)).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, cast

from ..errors import InputError
from .activations import Identity
from .checks import Check, checked
from .engine import Engine, linear_value
from .equality import RowExponentials, completely_equal
from .layer import Index, Variable
from .loss_base import ConcreteLoss
from .loss_definitions import BinaryCrossEntropy
from .model import LinearForm
from .network import ForwardPass, GradientForms, Matrix, Network
from .network_compare import NetworkEquality

__all__ = [
    "ALLOWED_OUTPUT_ACTIVATIONS",
    "ClosedForm",
    "NetworkLoss",
    "check_loss_pair",
    "loss_checks",
    "network_loss",
]

#: The output activations a loss allows, for the losses that do not allow every one: the softmax
#: cross-entropy has the softmax as its own output activation, on A_L itself; the binary
#: cross-entropy takes probabilities, which the sigmoid gives.
ALLOWED_OUTPUT_ACTIVATIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"softmax-cross-entropy": ("identity",), "binary-cross-entropy": ("sigmoid",)}
)

_WHY = {
    "softmax-cross-entropy": "its softmax is the output activation, taken of A_L itself",
    "binary-cross-entropy": "it takes probabilities in (0, 1), the sigmoid's output",
}
_FIX = {
    "identity": "leave out --output-activation (the identity)",
    "sigmoid": "use --output-activation sigmoid",
}

#: A closed form of ∂L/∂(the matrix route's start) put in place of the loss's own, for tests to
#: show a wrong one rejected: (O, A_L, Y) ↦ matrix, SymPy matrices of the output's symbols (O is
#: A_L without an output activation), the pre-activations' and the targets'.
ClosedForm = Callable[[Any, Any, Any], Any]


def check_loss_pair(loss: str, output_activation: str) -> None:
    """Refuse (InputError, naming the fix) an output activation the loss does not allow."""
    allowed = ALLOWED_OUTPUT_ACTIVATIONS.get(loss)
    if allowed is None or output_activation in allowed:
        return
    raise InputError(
        f"--loss {loss} is not allowed with the output activation {output_activation}: "
        f"{_WHY[loss]}; {_FIX[allowed[0]]}"
    )


def _starts_after_sigmoid(definition: ConcreteLoss, network: Network) -> bool:
    return isinstance(definition, BinaryCrossEntropy) and network.output_activated


@dataclass(frozen=True)
class NetworkLoss:
    """A concrete loss at the network's output, on the engine.

    ``found`` is the elementwise route's ∂L/∂(output), the CAS's derivative of L taken at the
    network's output (over X, Wℓ, bℓ and Y); ``start`` the closed form the matrix route starts
    from, at the same point: ∂L/∂(output), or ∂L/∂A_L when ``after_sigmoid``; ``holds`` says at
    which entries the closed form was proved equal to the CAS's derivative (module docstring)."""

    definition: ConcreteLoss
    after_sigmoid: bool
    targets: Matrix
    found: Matrix
    start: Matrix
    holds: tuple[tuple[bool, ...], ...]
    #: The closed form in plain text, e.g. ``softmax(A2) − Y``.
    start_text: str
    #: σ′(A_L) of the output activation at the forward pass, entry by entry, after a sigmoid.
    output_derivative: Matrix | None = None

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def closed_form_holds(self) -> bool:
        """True when the closed form was proved at every entry."""
        return all(all(row) for row in self.holds)

    def matrix_network(self, network: Network) -> Network:
        """The network the matrix route runs on: itself, or, after a sigmoid, the same network
        seen from A_L (its start is ∂L/∂A_L, so the output's ⊙ σ′ is not taken again)."""
        if not self.after_sigmoid:
            return network
        return replace(network, output_activation=Identity())


def _start_text(definition: ConcreteLoss, network: Network, given: bool) -> str:
    if given:
        return "the closed form given"
    output, pre = network.output_name, f"A{network.depth}"
    return {
        "sum": "1·1ᵀ",
        "squared-error": f"{output} − Y",
        "softmax-cross-entropy": f"softmax({pre}) − Y (of each row, rows of Y summing to 1)",
        "binary-cross-entropy": f"{output} − Y",
    }.get(definition.name, definition.closed_form_text)


def network_loss(
    definition: ConcreteLoss,
    network: Network,
    forward: ForwardPass,
    engine: Engine,
    closed_form: ClosedForm | None = None,
) -> NetworkLoss:
    """The loss at the network's output (``forward`` from X): the CAS's ∂L/∂(output), the
    closed form the matrix route starts from (``closed_form`` in place of the loss's own), and
    where the two were proved equal."""
    import sympy

    m, n, depth = network.sizes.m, network.sizes.n, network.depth
    letter = network.output_name[0].lower()

    def grid(stem: str) -> Any:
        return sympy.Matrix(m, n, lambda i, j: sympy.Symbol(f"{stem}_{i + 1}_{j + 1}"))

    outputs, pre, targets = grid(f"{letter}{depth}"), grid(f"a{depth}"), grid("y")
    after_sigmoid = _starts_after_sigmoid(definition, network)
    found = _found(definition, outputs, targets, engine)
    if closed_form is not None:
        textbook = closed_form(outputs, pre, targets)
    else:
        textbook = outputs - targets if after_sigmoid else definition.closed_form(outputs, targets)
    if after_sigmoid:
        holds = _holds_after_sigmoid(found, textbook, outputs, pre, targets, engine)
    else:
        holds = _holds(definition, found, textbook, outputs, targets, engine)
    top, below = forward.post[depth], forward.pre[depth]
    assert top is not None
    assert below is not None
    point = {
        **{engine.from_sympy(outputs[i, j]): top[i][j] for i in range(m) for j in range(n)},
        **{engine.from_sympy(pre[i, j]): below[i][j] for i in range(m) for j in range(n)},
    }
    at = engine.mapping(point)
    derivative = None
    if after_sigmoid:
        activation = network.output_activation
        derivative = tuple(tuple(activation.derivative(engine, e) for e in row) for row in below)
    return NetworkLoss(
        definition,
        after_sigmoid,
        tuple(tuple(engine.from_sympy(targets[i, j]) for j in range(n)) for i in range(m)),
        tuple(tuple(engine.substitute(entry, at) for entry in row) for row in found),
        tuple(
            tuple(engine.substitute(engine.from_sympy(textbook[i, j]), at) for j in range(n))
            for i in range(m)
        ),
        holds,
        _start_text(definition, network, closed_form is not None),
        derivative,
    )


def _found(definition: ConcreteLoss, outputs: Any, targets: Any, engine: Engine) -> Matrix:
    """∂ℓ_p/∂o_{p,q} by the engine, each row's loss differentiated by each entry of its row."""
    rows = []
    for p in range(outputs.rows):
        row_loss = engine.from_sympy(definition.expression(outputs[p, :], targets[p, :]))
        entries = [engine.from_sympy(entry) for entry in outputs[p, :]]
        rows.append(tuple(engine.diff(row_loss, entry) for entry in entries))
    return tuple(rows)


def _holds(
    definition: ConcreteLoss,
    found: Matrix,
    textbook: Any,
    outputs: Any,
    targets: Any,
    engine: Engine,
) -> tuple[tuple[bool, ...], ...]:
    """The CAS's ∂L/∂o_{p,q} equals the closed form, under the loss's condition on Y, proved
    as an identity in the output's symbols by the single layer's test of a row's exponentials."""
    condition = definition.condition
    imposed = engine.mapping(
        {
            engine.from_sympy(target): engine.from_sympy(value)
            for target, value in (condition.substitution(targets) if condition else {}).items()
        }
    )
    rows = [[engine.from_sympy(entry) for entry in outputs[p, :]] for p in range(outputs.rows)]
    equal = RowExponentials(engine, () if definition.polynomial else rows).equal
    return tuple(
        tuple(
            equal(
                engine.substitute(entry, imposed),
                engine.substitute(engine.from_sympy(textbook[p, q]), imposed),
            )
            for q, entry in enumerate(row)
        )
        for p, row in enumerate(found)
    )


def _holds_after_sigmoid(
    found: Matrix, textbook: Any, outputs: Any, pre: Any, targets: Any, engine: Engine
) -> tuple[tuple[bool, ...], ...]:
    """∂L/∂p_{p,q} · σ′(a_{p,q}) equals the closed form at p_{p,q} = σ(a_{p,q}), proved with
    SymPy's complete test of exponentials (equality.completely_equal: exp(−a) a symbol, the
    difference over a common denominator), each entry's identity once up to its indices."""
    import sympy

    h, a, y = sympy.symbols("matgrad_h matgrad_a matgrad_y")
    sigmoid = 1 / (1 + sympy.exp(-a))
    known: dict[tuple[Any, Any], bool] = {}
    rows = []
    for p in range(outputs.rows):
        row = []
        for q in range(outputs.cols):
            own = {outputs[p, q]: h, pre[p, q]: a, targets[p, q]: y}
            left = engine.to_sympy(found[p][q]).xreplace(own)
            right = sympy.sympify(textbook[p, q]).xreplace(own)
            proved = known.get((left, right))
            if proved is None:
                at = {h: sigmoid}
                proved = completely_equal(
                    left.xreplace(at) * sigmoid * (1 - sigmoid), right.xreplace(at)
                )
                known[left, right] = proved
            row.append(proved)
        rows.append(tuple(row))
    return tuple(rows)


def _forms_equal(
    left: LinearForm, right: LinearForm, loss: NetworkLoss, equality: NetworkEquality
) -> bool:
    """u·f = v·f′ at every entry (p, q) of G, from u = v (the closed form, ``loss.holds``) and
    f = f′ (after a sigmoid f = σ′(A_L)·f′) by the network's equality test."""
    if left == right and not loss.after_sigmoid:
        return all(loss.holds[p - 1][q - 1] for (p, q), _ in left)
    left_terms, right_terms = dict(left), dict(right)
    derivative = loss.output_derivative
    for key in left_terms.keys() | right_terms.keys():
        p, q = key
        if not loss.holds[p - 1][q - 1]:
            return False
        other = right_terms.get(key, 0)
        if derivative is not None and key in right_terms:
            other = derivative[p - 1][q - 1] * other
        if not equality.equal(left_terms.get(key, 0), other):
            return False
    return True


def loss_checks(
    elementwise: Mapping[str, GradientForms],
    matrix: Iterable[GradientForms],
    loss: NetworkLoss,
    equality: NetworkEquality,
    network: Network,
    engine: Engine,
) -> dict[str, Check]:
    """One Check per gradient and per ∂L/∂Aℓ under the loss, by name: the elementwise route's
    forms at G = ``loss.found`` against the matrix route's at ``loss.start``, entry by entry."""
    top = f"A{network.depth}"
    made = {}
    for forms in matrix:
        found = elementwise[forms.name]
        against = forms.of
        if forms.name == top:
            # G itself is the closed form: ∂L/∂A_L = softmax(A_L) − Y, or (H_L − Y) ⊙ σ′(A_L).
            closed = loss.start_text
            against = closed if against == "G" else against.replace("G", f"({closed})", 1)
        made[forms.name] = _check(found, forms, against, loss, equality, network, engine)
    return made


def _check(
    found: GradientForms,
    forms: GradientForms,
    against: str,
    loss: NetworkLoss,
    equality: NetworkEquality,
    network: Network,
    engine: Engine,
) -> Check:
    def differing() -> Iterator[tuple[Index, Any, Any]]:
        for i, (row, other_row) in enumerate(zip(found.entries, forms.entries, strict=True)):
            for j, (form, other) in enumerate(zip(row, other_row, strict=True)):
                if not _forms_equal(form, other, loss, equality):
                    yield (i + 1, j + 1), (form, loss.found), (other, loss.start)

    def shown(side: tuple[LinearForm, Matrix]) -> Any:
        form, upstream = side
        return engine.to_sympy(linear_value(form, upstream, engine))

    # A network's matrix names stand where the single layer's Check names its own.
    variable = cast(Variable, found.name)
    if forms.shape != found.shape:
        return checked(
            variable, against, network.bias, found.shape, forms.shape, iter(()), loss.name
        )
    return checked(
        variable,
        against,
        network.bias,
        found.shape,
        forms.shape,
        differing(),
        loss.name,
        shown=shown,
    )
