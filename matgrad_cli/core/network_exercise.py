"""Exercise sheets for networks: small integer instances of a network and the backward pass.

A problem gives X, every Wℓ (and bℓ) and G = ∂L/∂(output) as small integers, and asks for one
gradient (∂L/∂X, ∂L/∂Wℓ, ∂L/∂bℓ, ∂L/∂Hℓ or ∂L/∂Aℓ): first as a matrix formula by the backward
recursion, then multiplied out. With identity, relu and leaky-relu every value is an exact
number (no pre-activation of a relu is ever 0, so relu′ is never asked at its kink); with the
sigmoid, tanh and the generic σ the activations' values are left as symbols
h⁽ℓ⁾_{i,j} = σ(a⁽ℓ⁾_{i,j}) and the answers are polynomials in them (σ′ = h(1 − h) for the
sigmoid, 1 − h² for tanh).

Every solution rests on three computations, all of which must hold or no sheet is written:

- ``derive_network`` at the problem's sizes and activations: the two symbolic routes of the
  network core, compared entry by entry (the recursion holds at these sizes for all values);
- the recursion evaluated at the problem's numbers, rule by rule (``network_matrix.RULES``);
- each entry of each step differentiated on its own, by forward-mode chain rule through the
  network (a tangent pushed up from the entry to the output, then Σ G_{p,q}·∂O_{p,q}/∂v), and
  compared with the recursion's value exactly (their difference expands to 0).

The same seed gives the same problems: they come from ``random.Random(seed)`` alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

import sympy

from ..errors import InputError, SizeError
from .activations import Identity, LeakyRelu, Relu, activation_named
from .arguments import flag, integer
from .checks import Check, checked
from .exercise import UnverifiedSolutionError, _balanced, validate_count, validate_seed
from .layer import Variable
from .network_derive import derive_network
from .network_matrix import RULES, BackwardRules, LocalRule, Operand, ProductRule

#: A sheet's network has at most this many hidden layers ...
MAX_SHEET_HIDDEN_LAYERS = 2
#: ... each at most this wide: the values are worked out by hand.
MAX_SHEET_WIDTH = 4

#: The draws of the batch m, the input width k and the output width n.
_M_DRAW = (2, 2, 3)
_K_DRAW = (2, 3, 3)
_N_DRAW = (1, 2, 2, 3)
#: The entries of X and of the weights, of the biases and of G.
_VALUES = range(-2, 3)
_BIAS_VALUES = range(-1, 2)
#: How many draws of the numbers a problem may take to meet its conditions; after that the last
#: draw that meets the necessary ones is taken (both signs at a relu only make it nicer).
_ATTEMPTS = 200

IntMatrix = tuple[tuple[int, ...], ...]

#: The activations whose values at integers are exact numbers.
EXACT_ACTIVATIONS = ("identity", "relu", "leaky-relu")


@dataclass(frozen=True)
class SheetNetwork:
    """The network of every problem of a sheet, as --hidden, --activation, --output-activation,
    --slope and --bias give it; the sizes m, k and n are drawn for each problem."""

    hidden: tuple[int, ...]
    activation: str
    output_activation: str
    slope: Fraction | None
    bias: bool

    @property
    def depth(self) -> int:
        return len(self.hidden) + 1

    def activation_of(self, layer: int) -> str:
        """σℓ's name: the hidden activation below the last layer, the output one at it."""
        return self.output_activation if layer == self.depth else self.activation

    @property
    def output_activated(self) -> bool:
        return self.output_activation != "identity"

    def options(self) -> str:
        """The command-line options that ask for this network, as a person would type them."""
        words = [f"--hidden {','.join(map(str, self.hidden))}"] if self.hidden else []
        if self.hidden and self.activation != "generic":
            words.append(f"--activation {self.activation}")
        if self.output_activated:
            words.append(f"--output-activation {self.output_activation}")
        if self.slope is not None:
            words.append(f"--slope {self.slope}")
        return " ".join(words)


def sheet_network(
    hidden: object,
    activation: str = "generic",
    output_activation: str = "identity",
    slope: object = None,
    bias: bool = False,
) -> SheetNetwork:
    """The network of a sheet, checked: known activations, a slope only with leaky-relu, and
    small enough to work by hand (InputError, SizeError otherwise)."""
    if integer(hidden) is not None:
        hidden = (hidden,)
    if not isinstance(hidden, Sequence) or isinstance(hidden, str | bytes):
        raise InputError(f"hidden must be a sequence of widths such as (3,), got {hidden!r}")
    found = [integer(width) for width in hidden]
    widths = tuple(width for width in found if width is not None and width >= 1)
    if len(widths) != len(found):
        raise SizeError(f"hidden widths must be positive integers, got {tuple(hidden)!r}")
    if len(widths) > MAX_SHEET_HIDDEN_LAYERS or any(width > MAX_SHEET_WIDTH for width in widths):
        raise SizeError(
            f"--hidden {','.join(map(str, widths))} is too large for an exercise sheet: at most "
            f"{MAX_SHEET_HIDDEN_LAYERS} hidden layers, each at most {MAX_SHEET_WIDTH} wide"
        )
    if len(widths) > 1 and activation not in EXACT_ACTIVATIONS:
        raise SizeError(
            f"with the {activation} activation an exercise sheet has one hidden layer: its values "
            "stay symbols, and two layers of them are too long to work by hand (use --hidden "
            f"{widths[0]}, or relu, leaky-relu or identity)"
        )
    if slope is not None and "leaky-relu" not in (activation, output_activation):
        raise InputError("--slope is the leaky-relu slope: choose leaky-relu as an activation")
    chosen = [
        activation_named(name, slope if name == "leaky-relu" else None)
        for name in (activation, output_activation)
    ]
    exact = next((a.slope for a in chosen if isinstance(a, LeakyRelu)), None)
    chosen_slope = exact if slope is not None else None
    return SheetNetwork(widths, activation, output_activation, chosen_slope, flag("bias", bias))


@dataclass(frozen=True)
class NetworkProblem:
    """One problem: the sheet's network at sizes m, k, n, its numbers (X, each Wℓ, each bℓ when
    the network has a bias, G = ∂L/∂(output)) and the gradient asked for, by its name (X, Wℓ,
    bℓ, Hℓ or Aℓ: ∂L/∂Aℓ is Gℓ of the recursion)."""

    number: int
    network: SheetNetwork
    m: int
    k: int
    n: int
    inputs: IntMatrix
    weights: tuple[IntMatrix, ...]
    biases: tuple[tuple[int, ...], ...]
    upstream: IntMatrix
    target: str

    @property
    def widths(self) -> tuple[int, ...]:
        """d₀ = k, the hidden widths, d_L = n."""
        return (self.k, *self.network.hidden, self.n)

    def shape_of(self, name: str) -> tuple[int, int]:
        """The shape of X, Wℓ, bℓ, Aℓ, Hℓ or G (each gradient has its variable's shape)."""
        if name == "X":
            return (self.m, self.k)
        if name == "G":
            return (self.m, self.n)
        layer = int(name[1:])
        if name[0] == "W":
            return (self.widths[layer - 1], self.widths[layer])
        return (1, self.widths[layer]) if name[0] == "b" else (self.m, self.widths[layer])


def sheet_targets(network: SheetNetwork) -> tuple[str, ...]:
    """Every gradient a problem may ask for, from the top down: ∂L/∂Aℓ where σℓ is not the
    identity (else it is ∂L/∂Hℓ, or G itself), ∂L/∂Wℓ, ∂L/∂bℓ, ∂L/∂H₍ℓ₋₁₎ and ∂L/∂X."""
    names: list[str] = []
    for layer in range(network.depth, 0, -1):
        if network.activation_of(layer) != "identity":
            names.append(f"A{layer}")
        names += [f"W{layer}", f"b{layer}"] if network.bias else [f"W{layer}"]
        names.append("X" if layer == 1 else f"H{layer - 1}")
    return tuple(names)


def steps_to(network: SheetNetwork, target: str) -> tuple[str, ...]:
    """The backward pass from the top down to ``target``: each Gℓ = ∂L/∂Aℓ and ∂L/∂Hℓ on the way
    (none for an identity activation, whose Gℓ is ∂L/∂Hℓ), then the target."""
    if target not in sheet_targets(network):
        raise InputError(f"no gradient {target!r} on this network's sheet")
    chain: list[str] = []
    for layer in range(network.depth, 0, -1):
        if network.activation_of(layer) != "identity":
            chain.append(f"A{layer}")
            if target == f"A{layer}":
                return tuple(chain)
        if target in (f"W{layer}", f"b{layer}"):
            return (*chain, target)
        chain.append("X" if layer == 1 else f"H{layer - 1}")
        if target == chain[-1]:
            return tuple(chain)
    raise AssertionError(f"{target} is a target but not on the way down")  # pragma: no cover


def make_network_problems(
    seed: int, count: int, network: SheetNetwork
) -> tuple[NetworkProblem, ...]:
    """``count`` problems drawn from ``random.Random(seed)``: every target of ``sheet_targets``
    equally often (to within one), each problem its own sizes and numbers."""
    count = validate_count(count)
    rng = random.Random(validate_seed(seed))
    targets = _balanced(rng, sheet_targets(network), count)
    return tuple(
        _draw_problem(rng, number, network, target)
        for number, target in enumerate(targets, start=1)
    )


def _grid(rng: random.Random, rows: int, cols: int, values: range) -> IntMatrix:
    return tuple(tuple(rng.choice(values) for _ in range(cols)) for _ in range(rows))


def _draw_problem(
    rng: random.Random, number: int, network: SheetNetwork, target: str
) -> NetworkProblem:
    """Sizes, then numbers until the answer is not all zeros, no relu is asked at its kink and
    (when a draw allows) every relu layer has numbers of both signs (``_kinks``): a bounded
    number of draws, each from ``rng`` alone."""
    m, k, n = rng.choice(_M_DRAW), rng.choice(_K_DRAW), rng.choice(_N_DRAW)
    widths = (k, *network.hidden, n)
    fallback: NetworkProblem | None = None
    for _ in range(_ATTEMPTS):
        problem = NetworkProblem(
            number,
            network,
            m,
            k,
            n,
            _grid(rng, m, k, _VALUES),
            tuple(_grid(rng, widths[i], widths[i + 1], _VALUES) for i in range(network.depth)),
            tuple(
                _grid(rng, 1, widths[i + 1], _BIAS_VALUES)[0] if network.bias else ()
                for i in range(network.depth)
            ),
            _grid(rng, m, n, _VALUES),
            target,
        )
        forward = forward_values(problem)
        answer = recursion(problem, forward)[target]
        at_zero, one_sign = _kinks(problem, forward)
        if answer is None or answer.is_zero_matrix or at_zero:
            continue
        fallback = problem
        if not one_sign:
            return problem
    if fallback is None:  # pragma: no cover - never in 200 draws
        raise UnverifiedSolutionError(f"problem {number}: no instance with a nonzero answer")
    return fallback


def _kinks(problem: NetworkProblem, forward: ForwardValues) -> tuple[bool, bool]:
    """(whether some relu or leaky-relu pre-activation at a number is 0, which the sheet never
    asks; whether some such layer's numbers all have one sign, so that σ′ changes nothing)."""
    at_zero = one_sign = False
    for layer in range(1, problem.network.depth + 1):
        if problem.network.activation_of(layer) not in ("relu", "leaky-relu"):
            continue
        entries = list(forward.pre[layer - 1])
        if not all(entry.is_Rational for entry in entries):
            continue
        at_zero = at_zero or any(entry == 0 for entry in entries)
        one_sign = one_sign or all(e > 0 for e in entries) or all(e < 0 for e in entries)
    return at_zero, one_sign


@dataclass(frozen=True)
class NamedValue:
    """A symbol that stands for an activation's value h⁽ℓ⁾_{i,j} = σ(a⁽ℓ⁾_{i,j}) (``derivative``
    False) or for its derivative σ′(a⁽ℓ⁾_{i,j}), at the pre-activation ``argument``."""

    symbol: Any
    layer: int
    index: tuple[int, int]
    argument: Any
    activation: str
    derivative: bool


@dataclass(frozen=True)
class ForwardValues:
    """The forward pass at the problem's numbers: ``pre[ℓ − 1]`` is Aℓ, ``post[ℓ]`` is Hℓ
    (``post[0]`` is X), ``slopes[ℓ − 1]`` is σ′(Aℓ) entry by entry (SymPy matrices), and
    ``named`` the symbols that stand for values left unevaluated."""

    pre: tuple[Any, ...]
    post: tuple[Any, ...]
    slopes: tuple[Any, ...]
    named: tuple[NamedValue, ...]


def _alpha(network: SheetNetwork) -> Any:
    slope = network.slope if network.slope is not None else LeakyRelu().slope
    return sympy.Rational(slope.numerator, slope.denominator)


def _activated(
    network: SheetNetwork, layer: int, index: tuple[int, int], argument: Any
) -> tuple[Any, Any, list[NamedValue]]:
    """σℓ(a) and σℓ′(a), exact numbers where σℓ has them at a (identity; relu and leaky-relu at a
    number, with relu′(a) = 0 for a ≤ 0), else symbols: h with σ′ = h(1 − h) for the sigmoid,
    1 − h² for tanh, and a symbol of its own for any other σ′."""
    name = network.activation_of(layer)
    if name == Identity.name:
        return argument, sympy.Integer(1), []
    if argument.is_Rational and name in (Relu.name, LeakyRelu.name):
        low = sympy.Integer(0) if name == Relu.name else _alpha(network)
        return (argument, sympy.Integer(1), []) if argument > 0 else (low * argument, low, [])
    stem = f"{layer}_{index[0]}_{index[1]}"
    value = sympy.Symbol(f"h{stem}")
    named = [NamedValue(value, layer, index, argument, name, False)]
    if name == "sigmoid":
        return value, value * (1 - value), named
    if name == "tanh":
        return value, 1 - value**2, named
    slope = sympy.Symbol(f"dh{stem}")
    return value, slope, [*named, NamedValue(slope, layer, index, argument, name, True)]


def times(left: Any, right: Any) -> Any:
    """The matrix product, each entry one sum of products (SymPy's own product simplifies as
    it goes, which costs far more with symbols and changes nothing here)."""
    inner = range(left.cols)

    def entry(i: int, j: int) -> Any:
        # Zero factors (most of a tangent's entries) are skipped, not multiplied.
        pairs = [(left[i, s], right[s, j]) for s in inner]
        return sympy.Add(*(a * b for a, b in pairs if a != 0 and b != 0))

    return sympy.Matrix(left.rows, right.cols, entry)


def forward_values(problem: NetworkProblem) -> ForwardValues:
    """Aℓ = H₍ℓ₋₁₎Wℓ + 1bℓ and Hℓ = σℓ(Aℓ), layer by layer, exactly."""
    below = sympy.Matrix(problem.inputs)
    pre, post, slopes, named = [], [below], [], []
    for layer in range(1, problem.network.depth + 1):
        product = times(below, sympy.Matrix(problem.weights[layer - 1]))
        if problem.network.bias:
            product += times(sympy.ones(problem.m, 1), sympy.Matrix([problem.biases[layer - 1]]))
        values = sympy.zeros(*product.shape)
        derivatives = sympy.zeros(*product.shape)
        for i in range(product.rows):
            for j in range(product.cols):
                value, slope, names = _activated(
                    problem.network, layer, (i + 1, j + 1), product[i, j]
                )
                values[i, j], derivatives[i, j] = value, slope
                named += names
        pre.append(product)
        post.append(values)
        slopes.append(derivatives)
        below = values
    return ForwardValues(tuple(pre), tuple(post), tuple(slopes), tuple(named))


class _RuleFailed(Exception):
    """A rule that cannot be applied: factors whose shapes do not fit, a layer that is not there."""


def _operand(
    operand: Operand, layer: int, gradient: Any, problem: NetworkProblem, forward: ForwardValues
) -> Any:
    at = layer + operand.offset
    if operand.letter == "G":
        matrix = gradient
    elif operand.letter == "1":
        size = gradient.rows if operand.along == "samples" else gradient.cols
        matrix = sympy.ones(size, 1)
    elif not (operand.letter == "H" and 0 <= at <= problem.network.depth) and not (
        operand.letter == "W" and 1 <= at <= problem.network.depth
    ):
        raise _RuleFailed(f"{operand.text(layer)} is not a matrix of the network")
    else:
        matrix = (
            forward.post[at] if operand.letter == "H" else sympy.Matrix(problem.weights[at - 1])
        )
    return matrix.T if operand.transposed else matrix


def _product(
    rule: ProductRule, layer: int, gradient: Any, problem: NetworkProblem, forward: ForwardValues
) -> Any:
    left = _operand(rule.left, layer, gradient, problem, forward)
    right = _operand(rule.right, layer, gradient, problem, forward)
    if left.cols != right.rows:
        raise _RuleFailed(f"{rule.text(layer)}: inner sizes {left.cols} and {right.rows} differ")
    return times(left, right)


def _local(rule: LocalRule, layer: int, upstream: Any, forward: ForwardValues) -> Any:
    if not rule.derivative:
        return upstream
    at = layer + rule.offset
    if not 1 <= at <= len(forward.slopes) or forward.slopes[at - 1].shape != upstream.shape:
        raise _RuleFailed(rule.text("∂L/∂H", layer))
    return upstream.multiply_elementwise(forward.slopes[at - 1])


def recursion(
    problem: NetworkProblem, forward: ForwardValues, rules: BackwardRules = RULES
) -> dict[str, Any]:
    """The backward recursion at the problem's numbers, rule by rule: every Gℓ (named Aℓ),
    ∂L/∂Wℓ, ∂L/∂bℓ, ∂L/∂H₍ℓ₋₁₎ and ∂L/∂X; None for a result a rule could not make."""
    network, depth = problem.network, problem.network.depth
    results: dict[str, Any] = dict.fromkeys(_all_names(network))
    gradient = sympy.Matrix(problem.upstream)
    try:
        if network.output_activated:
            gradient = _local(rules.output, depth, gradient, forward)
        for layer in range(depth, 0, -1):
            results[f"A{layer}"] = gradient
            results[f"W{layer}"] = _product(rules.weights, layer, gradient, problem, forward)
            if network.bias:
                results[f"b{layer}"] = _product(rules.bias, layer, gradient, problem, forward)
            upstream = _product(rules.inputs, layer, gradient, problem, forward)
            results["X" if layer == 1 else f"H{layer - 1}"] = upstream
            if layer > 1:
                gradient = _local(rules.local, layer, upstream, forward)
    except _RuleFailed:
        pass  # this result and those below it stay None
    return results


def _all_names(network: SheetNetwork) -> list[str]:
    names = ["X"]
    for layer in range(1, network.depth + 1):
        names += [f"A{layer}", f"W{layer}", f"b{layer}", f"H{layer}"]
    return names


def _one_hot(shape: tuple[int, int], index: tuple[int, int]) -> Any:
    matrix = sympy.zeros(*shape)
    matrix[index[0] - 1, index[1] - 1] = 1
    return matrix


def partial(
    problem: NetworkProblem, forward: ForwardValues, name: str, index: tuple[int, int]
) -> Any:
    """∂L/∂v for the entry v of ``name`` at ``index``, without the recursion: a tangent pushed up
    from v through every layer above it by the chain rule (Ȧℓ = Ḣ₍ℓ₋₁₎Wℓ + H₍ℓ₋₁₎Ẇℓ + 1ḃℓ,
    Ḣℓ = σ′(Aℓ) ⊙ Ȧℓ), then ∂L/∂v = Σ_{p,q} G_{p,q} · (the tangent of the output)_{p,q}."""
    seed = _one_hot(problem.shape_of(name), index)
    tangent = seed if name == "X" else sympy.zeros(problem.m, problem.k)
    for layer in range(1, problem.network.depth + 1):
        weights = sympy.Matrix(problem.weights[layer - 1])
        moved = times(tangent, weights)
        if name == f"W{layer}":
            moved += times(forward.post[layer - 1], seed)
        elif name == f"b{layer}":
            moved += times(sympy.ones(problem.m, 1), seed)
        elif name == f"A{layer}":
            moved = seed
        tangent = (
            seed if name == f"H{layer}" else moved.multiply_elementwise(forward.slopes[layer - 1])
        )
    upstream = sympy.Matrix(problem.upstream)
    return sympy.Add(*upstream.multiply_elementwise(tangent))


@dataclass(frozen=True)
class NetworkStep:
    """One step of the backward pass: ∂L/∂``name`` by the recursion's ``rule`` at ``layer``
    (ProductRule, or LocalRule for Gℓ), its value, and the check of that value against each
    entry differentiated on its own."""

    name: str
    layer: int
    rule: ProductRule | LocalRule
    value: Any
    check: Check


@dataclass(frozen=True)
class NetworkSolution:
    """A problem with its forward pass, the steps of its backward pass down to the target, each
    checked, and the checks of ``derive_network`` at the problem's sizes (all holding)."""

    problem: NetworkProblem
    forward: ForwardValues
    steps: tuple[NetworkStep, ...]
    derivation_checks: tuple[Check, ...]

    @property
    def answer(self) -> NetworkStep:
        return self.steps[-1]


def step_rule(
    network: SheetNetwork, name: str, rules: BackwardRules = RULES
) -> tuple[int, ProductRule | LocalRule]:
    """The layer and the rule of the recursion that gives ∂L/∂``name``."""
    layer = 1 if name == "X" else int(name[1:])
    if name[0] == "A":
        return (layer, rules.output) if layer == network.depth else (layer + 1, rules.local)
    if name[0] == "H":
        return layer + 1, rules.inputs
    return layer, {"X": rules.inputs, "W": rules.weights, "b": rules.bias}[name[0]]


def _step(
    problem: NetworkProblem,
    forward: ForwardValues,
    name: str,
    value: Any,
    rules: BackwardRules,
) -> NetworkStep:
    """The step ∂L/∂``name`` with its check: every entry of the recursion's ``value`` against
    the same entry differentiated on its own (``partial``), exactly."""
    layer, rule = step_rule(problem.network, name, rules)
    shape = problem.shape_of(name)
    claimed = shape if value is None else value.shape
    # As network_compare does: the Check's type names the single layer's matrices, a network's
    # names are the same kind of thing.
    variable = cast(Variable, name)
    against = rule.text("∂L/∂H", layer) if isinstance(rule, LocalRule) else rule.text(layer)
    if value is None or claimed != shape:
        check = checked(variable, against, problem.network.bias, shape, (0, 0), iter(()))
        return NetworkStep(name, layer, rule, value, check)
    differing = (
        ((i, j), own, value[i - 1, j - 1])
        for i in range(1, shape[0] + 1)
        for j in range(1, shape[1] + 1)
        for own in [partial(problem, forward, name, (i, j))]
        if sympy.expand(own - value[i - 1, j - 1]) != 0
    )
    check = checked(variable, against, problem.network.bias, shape, claimed, differing)
    return NetworkStep(name, layer, rule, value, check)


def _derive(problem: NetworkProblem, rules: BackwardRules) -> Any:
    network = problem.network
    return derive_network(
        problem.m,
        problem.k,
        network.hidden,
        problem.n,
        activation=network.activation,
        output_activation=network.output_activation,
        bias=network.bias,
        slope=network.slope,
        rules=rules,
    )


def solve_network(
    problem: NetworkProblem,
    rules: BackwardRules = RULES,
    derive: Callable[[NetworkProblem, BackwardRules], Any] = _derive,
) -> NetworkSolution:
    """The solution of ``problem``: the forward pass, the steps down to the target, each checked,
    and the network core's derivation at these sizes; UnverifiedSolutionError unless all hold.
    ``rules`` replaces the recursion's rules (a wrong one is refused), ``derive`` the derivation
    (``derive(problem, rules)`` returns a NetworkDerivation)."""
    forward = forward_values(problem)
    values = recursion(problem, forward, rules)
    steps = tuple(
        _step(problem, forward, name, values[name], rules)
        for name in steps_to(problem.network, problem.target)
    )
    failed = [step.check.identity for step in steps if not step.check.holds]
    checks: tuple[Check, ...] = ()
    if not failed:
        try:
            checks = tuple(derive(problem, rules).checks)
        except ValueError as error:  # a rule the network core cannot apply at these sizes
            failed.append(str(error))
        failed += [check.identity for check in checks if not check.holds]
    if failed or not checks:
        listed = "; ".join(failed) or "no check"
        raise UnverifiedSolutionError(
            f"refusing to write the solutions: problem {problem.number} "
            f"(m={problem.m}, k={problem.k}, n={problem.n}) did not verify: {listed}"
        )
    return NetworkSolution(problem, forward, steps, checks)


def solve_network_problems(
    problems: Sequence[NetworkProblem], rules: BackwardRules = RULES
) -> tuple[NetworkSolution, ...]:
    """Every problem solved (each network size derived once); UnverifiedSolutionError otherwise."""
    derivations: dict[tuple[int, int, int], Any] = {}

    def derive_once(problem: NetworkProblem, chosen: BackwardRules) -> Any:
        key = (problem.m, problem.k, problem.n)
        if key not in derivations:
            derivations[key] = _derive(problem, chosen)
        return derivations[key]

    return tuple(solve_network(problem, rules, derive_once) for problem in problems)
