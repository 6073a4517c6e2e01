"""The numeric check of the concrete losses (sum, squared error, softmax cross-entropy) at random
integer Z, W (b) and targets Y, for layers too large for the symbolic route.

Every loss is a sum over the samples: over the rows of A = ZW + 1_m b, or over the columns of
A = WX + b1_mᵀ with samples as columns (the softmax then normalises each column). The figures are
worked on in the rows orientation, as Aᵀ = XᵀWᵀ + 1_m bᵀ for columns (Z = Xᵀ, Y drawn as Yᵀ), and
the matrix forms under test are evaluated, and the results reported, in the layer's own shapes.

Two routes, as in the symbolic derivation (SPEC section 1), meet only in ``_compare``:

- the elementwise route differentiates L from its definition: forward-mode differentiation (dual
  numbers, numeric_interval.py) of each row's loss gives ∂L/∂a_{p,q}, by the sum, product and chain
  rules alone; the partials ∂a_{p,q}/∂x of the forward pass are read from forward passes (A at
  X + E minus A at X: exact, since A is affine in each entry); and ∂L/∂x is the chain-rule sum
  Σ_{p,q} ∂L/∂a_{p,q} · ∂a_{p,q}/∂x over the entries of A that x feeds (row i of A for z_{i,r},
  column j for w_{r,j} and b_j). Neither the closed form of ∂L/∂A nor a rule under test is used;
- the matrix route evaluates the rules under test (G·Wᵀ, Zᵀ·G, 1ᵀ·G, or supplied forms) at the
  loss's closed form G (all ones, A − Y, softmax(A) − Y), computed from its own definition.

The closed form is compared with the elementwise ∂L/∂A as well, and every entry of every gradient
is compared: the work is a few matrix products, so nothing is sampled, up to 1024 per dimension.

For the sum and the squared error every figure is an integer below 2^53 (``_require_exact``
refuses sizes where a sum could reach it), so float64 products are exact and the comparison is
exact. The softmax's figures are irrational: its exponentials and logarithms are enclosed in
intervals (mpmath), every other operation is rounded outward, and the enclosures of ∂L/∂A and of
G are rounded outward to a grid of 2^−bits, with bits chosen so that their products with the
integer matrices stay exact. An entry holds when the two enclosures overlap; the check then states
the largest difference between the two sides' true values that it allowed, computed entry by
entry from the enclosures' widths. Enclosures that do not overlap prove the rule wrong at this draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..errors import InputError
from .checks import MISMATCHES_KEPT, Mismatch
from .layer import Role, Sizes, Variable
from .losses import concrete_loss
from .model import Progress
from .numeric_interval import (
    Dual,
    Interval,
    exp,
    exp_of_integers,
    log,
    row_sum,
    seed,
    sum_of_columns,
)
from .numeric_model import (
    BOUNDED_METHOD,
    ENTRY_RANGE,
    METHOD,
    Checked,
    Formula,
    Matrix,
    NumericCheck,
    NumericResult,
    vector_as_matrix,
)

#: Integers up to this magnitude are exact in float64.
_EXACT_LIMIT = 2.0**53


# --- The losses, from their definitions -------------------------------------------------------


def _sum_row_loss(a: Dual, targets: Matrix | None) -> Dual:
    """Σ_q a_{p,q}."""
    return row_sum(a)


def _squared_row_loss(a: Dual, targets: Matrix | None) -> Dual:
    """½ Σ_q (a_{p,q} − y_{p,q})²."""
    difference: Dual = a - targets
    return row_sum(difference * difference * 0.5)


def _softmax_row_loss(a: Dual, targets: Matrix | None) -> Dual:
    """−Σ_q y_{p,q} (a_{p,q} − log Σ_s e^{a_{p,s}}), as (Σ_q y_{p,q})·log Σ_s e^{a_{p,s}} − Σ_q
    y_{p,q} a_{p,q}; log Σ_s e^{a_s} = c + log Σ_s e^{a_s − c} for the constant c = max_s a_s of
    the row, so that no exponential overflows."""
    assert targets is not None
    shift = a.value.lo.max(axis=1, keepdims=True)
    log_sum = log(row_sum(exp(a - shift))) + shift
    target_sums: Matrix = targets.sum(axis=1, keepdims=True)
    loss: Dual = log_sum * target_sums - row_sum(a * targets)
    return loss


def _sum_closed_form(outputs: Matrix, targets: Matrix | None) -> Any:
    """All ones."""
    return np.ones(outputs.shape)


def _squared_closed_form(outputs: Matrix, targets: Matrix | None) -> Any:
    """A − Y."""
    assert targets is not None
    return outputs - targets


def _softmax_closed_form(outputs: Matrix, targets: Matrix | None) -> Any:
    """softmax(A) − Y, row by row: e^{a_{p,q} − c_p} / Σ_s e^{a_{p,s} − c_p} − y_{p,q}."""
    assert targets is not None
    exponentials = exp_of_integers(outputs - outputs.max(axis=1, keepdims=True))
    return exponentials / sum_of_columns(exponentials) - targets


def _integer_targets(rng: np.random.Generator, sizes: Sizes) -> Matrix | None:
    """Targets drawn from −ENTRY_RANGE..ENTRY_RANGE, as Z and W are."""
    drawn = rng.integers(-ENTRY_RANGE, ENTRY_RANGE + 1, (sizes.m, sizes.n), dtype=np.int8)
    return drawn.astype(np.float64)


def _one_hot_targets(rng: np.random.Generator, sizes: Sizes) -> Matrix | None:
    """One-hot rows at random classes: each row of Y sums to 1, as the closed form needs."""
    targets = np.zeros((sizes.m, sizes.n))
    targets[np.arange(sizes.m), rng.integers(0, sizes.n, sizes.m)] = 1.0
    return targets


class _NumericLoss(NamedTuple):
    """A concrete loss for the numeric check: each row's loss, the closed form of ∂L/∂A, how its
    targets are drawn, and whether its figures are exact."""

    row_loss: Callable[[Dual, Matrix | None], Dual]
    closed_form: Callable[[Matrix, Matrix | None], Any]
    targets: Callable[[np.random.Generator, Sizes], Matrix | None]
    exact: bool
    #: How ``targets`` draws Y (NumericResult.targets).
    targets_drawn: str
    #: Z, W and b are drawn from −entry_range..entry_range.
    entry_range: int = ENTRY_RANGE


#: Every concrete loss the numeric check takes, by the name ``--loss`` gives it.
NUMERIC_LOSSES: Mapping[str, _NumericLoss] = {
    "sum": _NumericLoss(_sum_row_loss, _sum_closed_form, lambda rng, sizes: None, True, ""),
    "squared-error": _NumericLoss(
        _squared_row_loss, _squared_closed_form, _integer_targets, True, "integers"
    ),
    # Entries from −2..2 keep a row's softmax spread over several classes at small k (each a_{i,j}
    # has a standard deviation of 2√k); from −9..9 it is one-hot to many digits at every size.
    "softmax-cross-entropy": _NumericLoss(
        _softmax_row_loss, _softmax_closed_form, _one_hot_targets, False, "one-hot", 2
    ),
}


# --- The random layer and its forward passes --------------------------------------------------


@dataclass(frozen=True)
class _Draw:
    """Random integer Z, W, b (zero without the bias) and targets, and A = ZW + 1_m b, in the rows
    orientation; ``transposed`` when the layer has samples as columns, whose X, W, b, Y and A are
    the transposes of these."""

    inputs: Matrix
    weights: Matrix
    bias: Matrix
    targets: Matrix | None
    outputs: Matrix
    transposed: bool = False

    def own(self, matrix: Matrix) -> Matrix:
        """A matrix of the rows orientation in the layer's own convention."""
        return matrix.T if self.transposed else matrix

    def grid(self, grid: _Grid) -> _Grid:
        """Figures on the grid in the layer's own convention."""
        return _Grid(self.own(grid.center), self.own(grid.radius))


def _draw(sizes: Sizes, bias: bool, rng: np.random.Generator, loss: _NumericLoss) -> _Draw:
    """Z, W, b, then the targets: drawn in this order whatever the options, so a seed names one
    draw."""
    low, high = -loss.entry_range, loss.entry_range + 1
    inputs = rng.integers(low, high, (sizes.m, sizes.k), dtype=np.int8).astype(np.float64)
    weights = rng.integers(low, high, (sizes.k, sizes.n), dtype=np.int8).astype(np.float64)
    drawn_bias = rng.integers(low, high, (1, sizes.n), dtype=np.int8).astype(np.float64)
    targets = loss.targets(rng, sizes)
    bias_row = drawn_bias if bias else np.zeros((1, sizes.n))
    for matrix in (inputs, weights, bias_row, *(() if targets is None else (targets,))):
        matrix.flags.writeable = False
    outputs = _forward(inputs, weights, bias_row)
    return _Draw(inputs, weights, bias_row, targets, outputs, sizes.samples == "columns")


def _forward(inputs: Matrix, weights: Matrix, bias: Matrix) -> Matrix:
    """A = ZW + 1_m b."""
    outputs: Matrix = inputs @ weights + bias
    return outputs


def _forward_partials(draw: _Draw) -> dict[Role, Matrix]:
    """The partials of the forward pass, each a forward pass at X + E minus the one at X.

    Row i of A = ZW + 1_m b is row i of Z times W (plus b), so z_{i,r} feeds row i only, and
    (z_i + e_r)W − z_iW is the same for every row i: row r of the ``Z`` matrix holds
    ∂a_{i,q}/∂z_{i,r}. Likewise w_{r,j} and b_j feed column j only: column r of ``W`` holds
    ∂a_{p,j}/∂w_{r,j}, and ``b`` holds ∂a_{p,j}/∂b_j, the same for every column j.
    """
    inputs, weights, bias = draw.inputs, draw.weights, draw.bias
    k = inputs.shape[1]
    first_row = inputs[:1]
    unit_rows = first_row + np.eye(k)
    by_input = _forward(unit_rows, weights, bias) - _forward(first_row, weights, bias)
    first_column = weights[:, :1]
    unit_columns = first_column + np.eye(k)
    by_weight = _forward(inputs, unit_columns, bias[:, :1]) - _forward(
        inputs, first_column, bias[:, :1]
    )
    ones = np.ones((inputs.shape[0], 1))
    by_bias = ones * (bias[:, :1] + 1.0) - ones * bias[:, :1]
    return {"input": by_input, "weights": by_weight, "bias": by_bias}


# --- Figures on a grid of 2^-bits --------------------------------------------------------------


class _Grid(NamedTuple):
    """An enclosure center ± radius of a matrix, both integers (held in float64) in units of
    2^-bits."""

    center: Matrix
    radius: Matrix


def _on_grid(values: Any, bits: int) -> _Grid:
    """Exact values scaled to the grid, or an interval rounded outward to it."""
    scale = 2.0**bits
    if isinstance(values, Interval):
        lower, upper = np.floor(values.lo * scale), np.ceil(values.hi * scale)
        center = np.floor((lower + upper) / 2)
        # center − lower ≤ upper − center, so center ± (upper − center) covers [lower, upper].
        return _Grid(center, upper - center)
    scaled = np.asarray(values, dtype=np.float64) * scale
    if not np.array_equal(scaled, np.round(scaled)):
        raise ArithmeticError("exact figures off the grid")
    return _Grid(scaled, np.zeros(scaled.shape))


def _magnitude(values: Any) -> float:
    """The largest magnitude of the entries (of either bound of an interval)."""
    if isinstance(values, Interval):
        return float(max(np.abs(values.lo).max(), np.abs(values.hi).max()))
    return float(np.abs(values).max())


def _grid_bits(sizes: Sizes, magnitude: float, exact: bool, entry_range: int) -> int:
    """The finest grid 2^-bits on which every sum of products of an enclosure of ∂L/∂A (entries
    at most ``magnitude``) with the layer's integers (at most ``entry_range``) stays below 2^53,
    so that float64 adds it up exactly; 0 for exact figures, which must fit at that grid."""
    terms = max(sizes.m, sizes.n) * entry_range
    room = _EXACT_LIMIT / terms
    if exact:
        if magnitude >= room:
            raise ArithmeticError(f"sums up to {magnitude * terms:.3g} would not be exact")
        return 0
    # (magnitude·2^bits + 1) units, so that the outward rounding fits as well.
    bits = math.floor(math.log2((room - 1) / max(magnitude, 1.0)))
    if bits < 1:
        raise ArithmeticError("no grid keeps these sums exact")
    return bits


# --- The comparison ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sides:
    """What is compared for one matrix: the elementwise enclosure and the claimed values with the
    radius their evaluation at a rounded G allows, all on the grid."""

    elementwise: _Grid
    claimed: Matrix
    claimed_radius: Matrix
    bits: int
    exact: bool


def _compare(variable: Checked, formula: str, sides: _Sides) -> NumericCheck:
    """Every entry compared: it holds where the two enclosures overlap."""
    shape = (int(sides.elementwise.center.shape[0]), int(sides.elementwise.center.shape[1]))
    claimed_shape = (
        (int(sides.claimed.shape[0]), int(sides.claimed.shape[1]))
        if sides.claimed.ndim == 2
        else (0, 0)
    )
    if claimed_shape != shape:
        return NumericCheck(variable, formula, shape, claimed_shape, False, 0, 0, 0, 0.0, 0)
    scale = 2.0**sides.bits
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = sides.claimed * scale
    # A claimed entry that is not finite, or too large to compare exactly, is wrong. Off the
    # grid it is taken as the grid interval around it; for exact figures, whose true values are
    # integers, it is wrong.
    usable = np.isfinite(scaled) & (np.abs(scaled) < _EXACT_LIMIT)
    usable &= np.isfinite(sides.claimed_radius) & (sides.claimed_radius < _EXACT_LIMIT)
    safe = np.where(usable, scaled, 0.0)
    if sides.exact:
        usable &= safe == np.round(safe)
    low, high = np.floor(safe).astype(np.int64), np.ceil(safe).astype(np.int64)
    center = sides.elementwise.center.astype(np.int64)
    claimed_radius = np.where(usable, sides.claimed_radius, 0.0).astype(np.int64)
    allowed = sides.elementwise.radius.astype(np.int64) + claimed_radius
    # The gap between the claimed grid interval [low, high] and the elementwise center.
    apart = np.maximum(np.maximum(low - center, center - high), 0)
    farthest = np.maximum(np.abs(low - center), np.abs(high - center))
    agrees = usable & (apart <= allowed)
    rows, cols = np.nonzero(~agrees)
    mismatches = tuple(
        Mismatch(
            (row + 1, col + 1),
            _shown(float(center[row, col]) / scale, sides.exact),
            _shown(float(sides.claimed[row, col]), sides.exact),
        )
        for row, col in zip(
            rows[:MISMATCHES_KEPT].tolist(), cols[:MISMATCHES_KEPT].tolist(), strict=True
        )
    )
    widest = float((farthest + allowed)[agrees].max(initial=0)) / scale
    holds = not len(rows)
    entries = shape[0] * shape[1]
    return NumericCheck(
        variable, formula, shape, shape, holds, entries, 0, 0, 0.0, len(rows), mismatches, widest
    )


def _shown(value: float, exact: bool) -> int | float:
    """A figure for a person: an int when it is one and the figures are exact."""
    if exact and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


# --- The check ---------------------------------------------------------------------------------


def _chain_rule(upstream: _Grid, partials: Matrix, role: Role) -> _Grid:
    """Σ_{p,q} ∂L/∂a_{p,q} · ∂a_{p,q}/∂x over the entries of A that x feeds, in the rows
    orientation: row i for z_{i,r} (Σ_q over row r of the partials), column j for w_{r,j} and
    b_j (Σ_p over column r)."""
    magnitudes = np.abs(partials)
    if role == "input":
        return _Grid(upstream.center @ partials.T, upstream.radius @ magnitudes.T)
    return _Grid(partials.T @ upstream.center, magnitudes.T @ upstream.radius)


def _claimed(
    formula: Formula, draw: _Draw, closed_form: _Grid, bits: int, shape: tuple[int, int]
) -> tuple[Matrix, Matrix]:
    """The matrix form at G rounded to the grid (all in the layer's own convention), and its
    radius: a form is affine in G, as every backward rule is, and its change under G's rounding
    (at most the grid radius per entry) is bounded by its change at |Z| and |W|; a vector is
    read as the gradient of ``shape`` it stands for."""
    scale = 2.0**-bits
    inputs, weights = draw.own(draw.inputs), draw.own(draw.weights)
    value = np.asarray(formula.compute(inputs, weights, closed_form.center * scale))
    claimed = vector_as_matrix(value, shape).astype(np.float64)
    if not closed_form.radius.any() or claimed.ndim != 2:
        return claimed, np.zeros(claimed.shape)
    inputs, weights = np.abs(inputs), np.abs(weights)
    moved = np.asarray(formula.compute(inputs, weights, closed_form.radius * scale))
    still = np.asarray(formula.compute(inputs, weights, np.zeros(closed_form.radius.shape)))
    with np.errstate(over="ignore", invalid="ignore"):
        change = np.abs(moved - still).reshape(claimed.shape) / scale
    return claimed, np.ceil(change)


def _closed_form_check(
    text: str, draw: _Draw, upstream: _Grid, closed: _Grid, bits: int, exact: bool
) -> NumericCheck:
    """∂L/∂A by dual numbers (``upstream``) against the loss's closed form, entry by entry, in the
    layer's own shape (n×m with samples as columns)."""
    shown = draw.grid(closed)
    sides = _Sides(draw.grid(upstream), shown.center * 2.0**-bits, shown.radius, bits, exact)
    return _compare("A", text, sides)


def verify_concrete(
    loss: str,
    sizes: Sizes,
    bias: bool,
    seed_value: int,
    forms: Mapping[Variable, Formula],
    progress: Progress | None = None,
) -> NumericResult:
    """Check the rules in ``forms`` under the concrete ``loss`` at one random draw: every entry
    of ∂L/∂A against the closed form, and of every gradient against its rule."""
    definition = concrete_loss(loss, sizes.samples)
    numeric = NUMERIC_LOSSES.get(definition.name)
    if numeric is None:
        raise InputError(f"the numeric check does not cover --loss {definition.name}")
    rng = np.random.default_rng(seed_value)
    draw = _draw(sizes, bias, rng, numeric)
    layer = sizes.layer
    variables = layer.variables(bias)
    if progress is not None:
        progress("numeric", 0, len(variables) + 1)
    values = Interval.exact(draw.outputs) if not numeric.exact else draw.outputs
    upstream_values = numeric.row_loss(seed(values), draw.targets).tangent
    closed_values = numeric.closed_form(draw.outputs, draw.targets)
    magnitude = max(_magnitude(upstream_values), _magnitude(closed_values))
    bits = _grid_bits(sizes, magnitude, numeric.exact, numeric.entry_range)
    upstream, closed = _on_grid(upstream_values, bits), _on_grid(closed_values, bits)
    closed_form_check = _closed_form_check(
        definition.closed_form_text, draw, upstream, closed, bits, numeric.exact
    )
    partials = _forward_partials(draw)
    checks = []
    for done, variable in enumerate(variables, start=2):
        # The forms take G in the layer's convention; the chain rule runs in the rows one.
        role = layer.matrix(variable).role
        shape = sizes.shape_of(variable)
        claimed, radius = _claimed(forms[variable], draw, draw.grid(closed), bits, shape)
        elementwise = draw.grid(_chain_rule(upstream, partials[role], role))
        sides = _Sides(elementwise, claimed, radius, bits, numeric.exact)
        checks.append(_compare(variable, forms[variable].text, sides))
        if progress is not None:
            progress("numeric", done, len(variables) + 1)
    return NumericResult(
        sizes,
        bias,
        seed_value,
        tuple(checks),
        method=METHOD if numeric.exact else BOUNDED_METHOD,
        loss=definition.name,
        exact=numeric.exact,
        closed_form=closed_form_check,
        grid_bits=bits,
        targets=numeric.targets_drawn,
        entry_range=numeric.entry_range,
    )
