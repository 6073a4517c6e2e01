"""The numeric check of a network's backward pass, for networks too large for the symbolic routes.

At one seeded draw of random integers for X, every Wℓ and bℓ and G = ∂L/∂(output), with the
generic loss L = Σ_{p,q} G_{p,q}·o_{p,q} of the network's output O (A_L, or H_L with an output
activation), so that ∂L/∂O = G:

- the matrix route evaluates the backward recursion under test (network_matrix.RULES, or wrong
  rules a test puts in their place) at the draw: every ∂L/∂Aℓ, ∂L/∂Wℓ, ∂L/∂bℓ and ∂L/∂X;
- the elementwise route differentiates L by forward mode (dual numbers) through the whole
  network, with each activation's derivative taken from its definition (numeric_network_routes.py):
  one tangent per entry compared, every entry while that fits the work budget, else a seeded
  sample; and along DIRECTIONS random directions V for each matrix, L's derivative along V is
  compared with ⟨claimed, V⟩. A claimed matrix that differs from the true one at this draw passes
  a direction with probability at most 1/(2·DIRECTION_RANGE) (fix every entry of V but one where
  they differ), and a single wrong entry never does. A draw blind to a wrong rule (relu units
  all alive, …) is followed by further draws of the seed (numeric_network_tell.py).

The figures of identity, relu, leaky-relu and the generic σ (stood in for by a random quadratic,
numeric_activations.py) are exact rationals, compared exactly. Those of sigmoid and tanh are
enclosed in verified balls; two sides agree when their enclosures overlap, the check states the
largest difference between their true values that it allowed, and enclosures that do not
overlap prove a rule wrong at this draw.

The work is bounded before it starts (``numeric_network``): each size at most NUMERIC_WIDTH, at
most MAX_HIDDEN_LAYERS hidden layers, at most NUMERIC_WORK multiply-adds in a forward pass and at
most NUMERIC_ACTIVATIONS activations; per-entry tangents within ENTRY_WORK multiply-adds per matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import AboveSymbolicLimit, InputError, SizeError
from .activations import Activation, Generic, activation_named
from .arguments import flag, integer
from .checks import MISMATCHES_KEPT, Mismatch
from .network import Network, NetworkSizes, named_sizes, network_sizes
from .network_losses import check_loss_pair
from .network_matrix import RULES, BackwardRules
from .numeric_activations import Polynomial, is_exact
from .numeric_balls import Ball
from .numeric_exact import Exact, joined
from .numeric_network_routes import (
    Draw,
    Forward,
    Value,
    differ,
    directional,
    exact,
    forward_pass,
    product,
    recursion,
    shape_of,
    shown,
    total,
)
from .numeric_network_tell import fact_text, facts_needed, facts_told

__all__ = [
    "NUMERIC_ACTIVATIONS",
    "NUMERIC_LOSSES",
    "NUMERIC_WIDTH",
    "NUMERIC_WORK",
    "NetworkNumericCheck",
    "NetworkNumericResult",
    "numeric_network",
    "numeric_verify_network",
]

#: The widest a layer (or the batch m) may be for the numeric check.
NUMERIC_WIDTH = 1024
#: The most multiply-adds of one forward pass, m·Σ d₍ℓ₋₁₎·dℓ.
NUMERIC_WORK = 1 << 22
#: The most activations evaluated, m·Σ dℓ over the activated layers (each sigmoid or tanh
#: costs four mpmath exponentials).
NUMERIC_ACTIVATIONS = 1 << 18
#: The multiply-adds the per-entry tangents of one matrix may take: every entry is compared
#: while that fits, else a seeded sample of at least MIN_SAMPLE entries.
ENTRY_WORK = 1 << 23
#: ENTRY_WORK is divided by this when the figures are integers beyond int64 (_budget).
LARGE_FIGURES = 16
MIN_SAMPLE = 8
#: Entries of X, Wℓ, bℓ and G are drawn from −ENTRY_RANGE..ENTRY_RANGE.
ENTRY_RANGE = 9
#: Entries of the directions are drawn from ±1..±DIRECTION_RANGE, never 0.
DIRECTION_RANGE = 10**6
#: Random directions per matrix.
DIRECTIONS = 2
#: The losses the numeric check of a network takes, of the output O: L = Σ G_{p,q}·o_{p,q}, the
#: sum, the squared error at random integer targets Y, and the softmax cross-entropy at one-hot
#: rows of Y. (The binary cross-entropy divides by the sigmoid's h(1 − h), which a saturated
#: sigmoid's enclosure cannot: it is checked symbolically only.)
NUMERIC_LOSSES = (
    "generic",
    "sum",
    "squared-error",
    "softmax-cross-entropy",
)
#: The losses whose figures are exact (the others take exponentials and logarithms).
EXACT_LOSSES = ("generic", "sum", "squared-error")
#: Entries of a tangent stack held at once (a chunk of the per-entry tangents).
_CHUNK = 1 << 18

EXACT_METHOD = "numeric check (exact rational arithmetic), not a symbolic proof"
BOUNDED_METHOD = (
    "numeric check (verified interval enclosures, to within a bound), not a symbolic proof"
)


@dataclass(frozen=True)
class NetworkNumericCheck:
    """One matrix of the backward pass checked at the draw: ∂L/∂``name`` = ``formula``.

    ``compared`` entries were compared with their forward-mode partials (all of them when
    ``every_entry``), and the whole matrix along ``directions`` random directions, of which
    ``failed_directions`` differed. ``escape_probability`` bounds the chance that a matrix that
    differs at this draw passes (0 when every entry was compared); ``bound`` is 0 for exact
    figures, else the largest difference between the two sides' true values that was allowed.
    """

    name: str
    formula: str
    shape: tuple[int, int]
    claimed_shape: tuple[int, int]
    holds: bool
    compared: int
    directions: int
    failed_directions: int
    escape_probability: float
    mismatch_count: int
    mismatches: tuple[Mismatch, ...] = ()
    bound: float = 0.0
    #: The draw (1 for the first) at which this check was made.
    draw: int = 1

    @property
    def entries(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def every_entry(self) -> bool:
        return self.compared == self.entries

    @property
    def identity(self) -> str:
        """In plain text, e.g. ``∂L/∂W1 = Xᵀ · ∂L/∂A1``."""
        return f"∂L/∂{self.name} = {self.formula}"


@dataclass(frozen=True)
class NetworkNumericResult:
    """The numeric check of a network's backward pass at one draw (seed ``seed``): one check per
    gradient (X, W1, b1, …) and per ∂L/∂Aℓ, gradients first. ``exact`` is False for enclosed
    figures (sigmoid, tanh); ``polynomial`` is the quadratic standing in for a generic σ."""

    network: Network
    seed: int
    checks: tuple[NetworkNumericCheck, ...]
    exact: bool
    polynomial: Polynomial | None = None
    entry_range: int = ENTRY_RANGE
    direction_range: int = DIRECTION_RANGE
    #: ``generic`` (L = Σ G_{p,q}·o_{p,q}), ``sum`` or ``squared-error`` (with Y drawn).
    loss: str = "generic"
    #: The draws taken (more when one could not tell a wrong rule, numeric_network_tell.py), and
    #: what no draw could tell: then the result is not verified, though every check held.
    draws: int = 1
    untold: tuple[str, ...] = ()

    @property
    def sizes(self) -> NetworkSizes:
        return self.network.sizes

    @property
    def method(self) -> str:
        return EXACT_METHOD if self.exact else BOUNDED_METHOD

    @property
    def verified(self) -> bool:
        return not self.untold and all(check.holds for check in self.checks)

    @property
    def bound(self) -> float:
        """The largest difference between two sides that any check allowed (0 when exact)."""
        return max((check.bound for check in self.checks), default=0.0)


# --- Limits ---------------------------------------------------------------------------------


def forward_work(sizes: NetworkSizes) -> int:
    """m·Σ d₍ℓ₋₁₎·dℓ: the multiply-adds of one forward pass."""
    widths = sizes.widths
    return sizes.m * sum(widths[at - 1] * widths[at] for at in range(1, len(widths)))


def activation_count(sizes: NetworkSizes, output_activated: bool) -> int:
    """m·Σ dℓ over the layers with an activation (the hidden ones, and the output's if any)."""
    return sizes.m * (sum(sizes.hidden) + (sizes.n if output_activated else 0))


def _basic_sizes(m: object, k: object, hidden: object, n: object) -> NetworkSizes:
    """Positive integer sizes and at most MAX_HIDDEN_LAYERS hidden layers, else SizeError."""
    named = named_sizes(m, k, hidden)
    values = []
    for name, given in [*named, ("n", n)]:
        value = integer(given)
        if value is None or value < 1:
            raise SizeError(f"size {name} must be a positive integer, got {given!r}")
        values.append((name, value))
    sizes = NetworkSizes(
        values[0][1], values[1][1], tuple(v for _, v in values[2:-1]), values[-1][1]
    )
    too_wide = [f"{name} = {value}" for name, value in values if value > NUMERIC_WIDTH]
    if too_wide:
        raise _above_both(
            sizes, f"size {too_wide[0]} is above the numeric limit of {NUMERIC_WIDTH} per dimension"
        )
    return sizes


def _above_both(sizes: NetworkSizes, numeric: str, engine: str = "symengine") -> SizeError:
    """A refusal that names both limits: the numeric check's, and the symbolic routes'."""
    try:
        network_sizes(sizes.m, sizes.k, sizes.hidden, sizes.n, engine)
    except SizeError as error:
        return SizeError(f"{numeric}; the symbolic limit: {error}")
    return SizeError(numeric)


def numeric_network(
    m: object,
    k: object,
    hidden: object,
    n: object,
    *,
    activation: object = "generic",
    output_activation: object = "identity",
    bias: object = True,
    slope: object = None,
    engine: str = "symengine",
) -> Network:
    """The network, within the numeric check's limits; else one SizeError naming both the
    numeric and the symbolic limit (InputError for a bad activation or slope), before any work."""
    sizes = _basic_sizes(m, k, hidden, n)
    if slope is not None and "leaky-relu" not in (activation, output_activation):
        raise InputError(
            f"a slope is given only with leaky-relu, not with {activation} and {output_activation}"
        )
    hidden_activation = _activation(activation, slope)
    output = _activation(output_activation, slope)
    network = Network(sizes, hidden_activation, output, flag("bias", bias))
    work, count = forward_work(sizes), activation_count(sizes, network.output_activated)
    if work > NUMERIC_WORK:
        raise _above_both(
            sizes,
            f"the network's forward pass has m·Σ dℓ₋₁·dℓ = {work} multiply-adds, above the "
            f"numeric limit of {NUMERIC_WORK}",
            engine,
        )
    if count > NUMERIC_ACTIVATIONS:
        raise _above_both(
            sizes,
            f"the network has {count} activations, above the numeric limit of "
            f"{NUMERIC_ACTIVATIONS}",
            engine,
        )
    return network


def _activation(name: object, slope: object) -> Activation:
    if isinstance(name, Activation):
        return name
    return activation_named(name, slope if name == "leaky-relu" else None)


def above_symbolic(network: Network, engine: str) -> AboveSymbolicLimit | None:
    """The symbolic routes' refusal of the network's sizes (the width or the work), or None when
    they take it."""
    sizes = network.sizes
    try:
        network_sizes(sizes.m, sizes.k, sizes.hidden, sizes.n, engine)
    except SizeError as error:
        return AboveSymbolicLimit(str(error))
    return None


# --- The draw and the comparisons -----------------------------------------------------------


def _draw(network: Network, rng: np.random.Generator, loss: str = "generic") -> Draw:
    """X, each Wℓ and bℓ, G, the polynomial and the targets Y, drawn in this order whatever the
    options, so that a seed names one draw."""
    widths, m = network.sizes.widths, network.sizes.m

    def integers(*shape: int) -> Any:
        return rng.integers(-ENTRY_RANGE, ENTRY_RANGE + 1, shape, dtype=np.int64)

    inputs = integers(m, widths[0])
    weights, biases = [], []
    for at in range(1, len(widths)):
        weights.append(integers(widths[at - 1], widths[at]))
        biases.append(integers(1, widths[at]))
    upstream = integers(m, widths[-1])
    c0 = int(rng.integers(-3, 4))
    c1, c2 = (int(c) for c in _nonzero(rng, (2,), 3))
    targets = {
        "squared-error": integers(m, widths[-1]),
        "softmax-cross-entropy": np.eye(widths[-1], dtype=np.int64)[rng.integers(0, widths[-1], m)],
    }
    layers = range(1, len(widths))
    generic = any(isinstance(network.activation_of(at), Generic) for at in layers)
    # A sigmoid or tanh saturates at large arguments, where its slope is below any enclosure's
    # width: Wℓ is divided by 3·d₍ℓ₋₁₎ and bℓ by ENTRY_RANGE, which keeps every Aℓ within ±27.
    enclosed = not exact_figures(network, loss)
    return Draw(
        inputs,
        tuple(weights),
        tuple(biases),
        upstream,
        Polynomial(c0, c1, c2) if generic else None,
        tuple(3 * widths[at - 1] if enclosed else 1 for at in layers),
        ENTRY_RANGE if enclosed else 1,
        loss,
        targets.get(loss),
    )


def _nonzero(rng: np.random.Generator, shape: tuple[int, ...], limit: int) -> Any:
    """Integers from ±1..±limit, never 0."""
    drawn = rng.integers(-limit, limit, shape, dtype=np.int64)
    return drawn + (drawn >= 0)


@dataclass(frozen=True)
class _State:
    network: Network
    draw: Draw
    forward: Forward
    rng: np.random.Generator
    directions: int
    #: The multiply-adds the per-entry tangents of one matrix may take.
    budget: int = ENTRY_WORK


def _layer(name: str) -> int:
    return 1 if name == "X" else int(name[1:])


def _entry_cost(network: Network, name: str) -> int:
    """Multiply-adds of the forward-mode tangent of one entry of ``name``: the layers above its
    own, for one row (X, Aℓ) or for all m rows (Wℓ, bℓ, which feed a whole column)."""
    widths, layer = network.sizes.widths, _layer(name)
    above = sum(widths[at - 1] * widths[at] for at in range(layer + 1, len(widths)))
    per_row = above + sum(widths[layer:])
    return max(1, per_row * (network.sizes.m if name[0] in "Wb" else 1))


def _one_hot(columns: Any, width: int) -> Any:
    hot = np.zeros((len(columns), width), dtype=np.int64)
    hot[np.arange(len(columns)), columns] = 1
    return exact(hot)


def _entry_tangents(state: _State, name: str, rows: Any, cols: Any) -> tuple[Value, Any]:
    """The tangents of A at ``name``'s layer for the entries (rows[t], cols[t]) of ``name``,
    and the rows of the network they change."""
    network, layer = state.network, _layer(name)
    m, width = network.sizes.m, network.sizes.widths[layer]
    every_row = np.arange(m)[None, :]
    if name == "X":  # x_{i,r} moves row i of A1 by row r of W1
        return state.draw.weight(1)[cols][:, None, :], rows[:, None]
    if name[0] == "A":
        return _one_hot(cols, width)[:, None, :], rows[:, None]
    if name[0] == "W":  # w_{r,j} moves column j of Aℓ by column r of H₍ℓ₋₁₎
        below = state.forward.post[layer - 1][:, rows].T.reshape(len(rows), m, 1)
        return below * _one_hot(cols, width)[:, None, :], every_row
    ones = exact(np.ones((1, m, 1), dtype=np.int64))
    return _one_hot(cols, width)[:, None, :] * ones, every_row


def _joined(parts: list[Value]) -> Value:
    """The figures of the chunks, in order."""
    if all(isinstance(part, Exact) for part in parts):
        return joined(parts)
    balls = [part if isinstance(part, Ball) else Ball(*part.floats()) for part in parts]
    mids = np.concatenate([ball.mid for ball in balls])
    return Ball(mids, np.concatenate([np.broadcast_to(ball.rad, ball.mid.shape) for ball in balls]))


def _partials(state: _State, name: str, positions: Any) -> Value:
    """∂L/∂(entry) by forward mode for the entries at ``positions`` (flat, row-major)."""
    network = state.network
    cols = network.shape_of(name)[1]
    per_tangent = max(network.sizes.widths) * (network.sizes.m if name[0] in "Wb" else 1)
    chunk = max(1, _CHUNK // per_tangent)
    parts = []
    for start in range(0, len(positions), chunk):
        rows, columns = np.divmod(positions[start : start + chunk], cols)
        tangent, carried = _entry_tangents(state, name, rows, columns)
        parts.append(
            directional(network, state.draw, state.forward, _layer(name), tangent, carried)
        )
    return _joined(parts)


def _along(state: _State, name: str, direction: Any) -> Value:
    """L's derivative along ``direction`` (a matrix of ``name``'s shape), by forward mode."""
    network, layer = state.network, _layer(name)
    every_row = np.arange(network.sizes.m)[None, :]
    if name == "X":
        tangent = product(direction, state.draw.weight(1))
    elif name[0] == "W":
        tangent = product(state.forward.post[layer - 1], direction)
    elif name[0] == "b":
        tangent = direction * exact(np.ones((network.sizes.m, 1), dtype=np.int64))
    else:
        tangent = direction
    return directional(network, state.draw, state.forward, layer, tangent[None], every_row)


def _mismatches(positions: Any, cols: int, wrong: Any, found: Value, claimed: Value) -> Any:
    at = np.nonzero(wrong)[0][:MISMATCHES_KEPT]
    found_shown, claimed_shown = shown(found[at]), shown(claimed[at])
    return tuple(
        Mismatch((int(row) + 1, int(col) + 1), elementwise, claim)
        for (row, col), elementwise, claim in zip(
            (divmod(int(p), cols) for p in positions[at]), found_shown, claimed_shown, strict=True
        )
    )


def _check(state: _State, name: str, formula: str, claimed: Value | None) -> NetworkNumericCheck:
    """One matrix under test against forward-mode partials and directional derivatives."""
    shape = state.network.shape_of(name)
    if claimed is None or shape_of(claimed) != shape:
        got = (0, 0) if claimed is None else shape_of(claimed)
        return NetworkNumericCheck(name, formula, shape, (got[0], got[1]), False, 0, 0, 0, 0.0, 0)
    entries, cost = shape[0] * shape[1], _entry_cost(state.network, name)
    count = min(entries, max(MIN_SAMPLE, state.budget // cost))
    if count == entries:
        positions = np.arange(entries)
    else:
        positions = np.sort(state.rng.choice(entries, size=count, replace=False))
    found = _partials(state, name, positions)
    flat = claimed.reshape(-1)[positions]
    wrong, bounds = differ(found, flat)
    failed, worst = 0, float(bounds.max(initial=0.0))
    for _ in range(state.directions):
        direction = exact(_nonzero(state.rng, shape, DIRECTION_RANGE))
        # The enclosures of a sum along V are wide in absolute terms (V's entries reach 10⁶):
        # they decide only whether the direction fails, and the bound stated is the entries'.
        along_wrong, _ = differ(_along(state, name, direction), total((claimed * direction)[None]))
        failed += int(along_wrong.any())
    every = count == entries
    return NetworkNumericCheck(
        name,
        formula,
        shape,
        shape,
        not wrong.any() and failed == 0,
        count,
        state.directions,
        failed,
        0.0 if every else float((2.0 * DIRECTION_RANGE) ** -state.directions),
        int(wrong.sum()),
        _mismatches(positions, shape[1], wrong, found, flat),
        worst,
    )


def numeric_verify_network(
    m: int,
    k: int,
    hidden: object,
    n: int,
    *,
    activation: str = "generic",
    output_activation: str = "identity",
    bias: bool = True,
    slope: object = None,
    seed: int = 0,
    rules: BackwardRules | None = None,
    directions: int = DIRECTIONS,
    loss: str = "generic",
) -> NetworkNumericResult:
    """Check the network's backward pass numerically at one seeded draw: every ∂L/∂Aℓ, ∂L/∂Wℓ,
    ∂L/∂bℓ and ∂L/∂X of the recursion (``rules``, by default network_matrix.RULES) against
    forward-mode partials of the loss (``generic``, ``sum`` or ``squared-error``). Sizes within
    the numeric limits (SizeError naming both limits otherwise); ``hidden`` as for
    derive_network."""
    network = numeric_network(
        m,
        k,
        hidden,
        n,
        activation=activation,
        output_activation=output_activation,
        bias=bias,
        slope=slope,
    )
    drawn_seed, count = integer(seed), integer(directions)
    if drawn_seed is None or drawn_seed < 0:
        raise InputError(f"the seed must be a non-negative integer, got {seed!r}")
    if count is None or not 0 <= count <= 16:
        raise InputError(f"directions must be an integer from 0 to 16, got {directions!r}")
    if rules is not None and not isinstance(rules, BackwardRules):
        raise InputError(f"rules must be BackwardRules or None, got {rules!r}")
    if loss not in NUMERIC_LOSSES:
        raise InputError(
            f"the numeric check of a network takes the losses {', '.join(NUMERIC_LOSSES)}, "
            f"not {loss!r}"
        )
    check_loss_pair(loss, network.output_activation.name)
    checks, draws, untold = _at_draws(network, loss, drawn_seed, rules or RULES, count)
    exact = exact_figures(network, loss)
    polynomial = draws[0].polynomial
    return NetworkNumericResult(
        network, drawn_seed, checks, exact, polynomial, loss=loss, draws=len(draws), untold=untold
    )


#: The most draws one check takes, while some wrong rule could not be told from the right one.
MAX_DRAWS = 24


def _draw_limit(network: Network) -> int:
    """MAX_DRAWS, fewer (but at least 4) when one draw's per-entry tangents take much work: the
    draws beyond the first then stay within 4·ENTRY_WORK multiply-adds of tangents."""
    one = sum(
        min(ENTRY_WORK, _entry_cost(network, name) * int(np.prod(network.shape_of(name))))
        for name in [*network.parameters(), *(f"A{at}" for at in range(1, network.depth + 1))]
    )
    return max(4, min(MAX_DRAWS, 1 + 4 * ENTRY_WORK // max(1, one)))


def _at_draws(
    network: Network, loss: str, seed: int, rules: BackwardRules, count: int
) -> tuple[tuple[NetworkNumericCheck, ...], list[Draw], tuple[str, ...]]:
    """The checks at the first draw, and at further draws of the same generator while some
    needed fact (numeric_network_tell.py) has not been shown and no check failed; each check
    is the first draw's, or the first failing one. Also the draws and the facts never shown."""
    rng = np.random.default_rng(seed)
    needed = facts_needed(network, exact_figures(network, loss))
    told: set[str] = set()
    draws: list[Draw] = []
    checks: tuple[NetworkNumericCheck, ...] = ()
    names = [*network.parameters(), *(f"A{at}" for at in range(1, network.depth + 1))]
    limit = _draw_limit(network)
    while True:
        draw = _draw(network, rng, loss)
        draws.append(draw)
        forward = forward_pass(network, draw)
        made = recursion(network, draw, forward, rules)
        state = _State(network, draw, forward, rng, count, _budget(forward))
        these = [_check(state, name, *made[name]) for name in names]
        if len(draws) > 1:
            these = [
                replace(new, draw=len(draws)) if old.holds and not new.holds else old
                for old, new in zip(checks, these, strict=True)
            ]
        checks = tuple(these)
        told |= facts_told(network, draw, forward, needed - told)
        if told >= needed or len(draws) >= limit or not all(c.holds for c in checks):
            break
    failed = not all(check.holds for check in checks)
    untold = () if failed else tuple(fact_text(fact) for fact in sorted(needed - told))
    return checks, draws, untold


def _budget(forward: Forward) -> int:
    """ENTRY_WORK, or a sixteenth of it when the forward pass holds integers beyond int64 (the
    generic σ's quadratic at depth, a leaky-relu slope of many digits), whose every operation is
    Python's, dozens of times slower."""
    large = any(
        isinstance(value, Exact) and value.numerators.dtype == object
        for value in (*forward.pre[1:], *forward.post)
    )
    return ENTRY_WORK // LARGE_FIGURES if large else ENTRY_WORK


def exact_figures(network: Network, loss: str) -> bool:
    """Whether every figure is an exact rational: no sigmoid, tanh or exponential loss."""
    layers = range(1, network.depth + 1)
    return loss in EXACT_LOSSES and all(is_exact(network.activation_of(at)) for at in layers)
