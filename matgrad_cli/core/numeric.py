"""Exact numeric verification of the identities, for layers too large for the symbolic engines.

At random integer Z, W, b and G the generic loss L = Σ_{p,q} G_{p,q}·a_{p,q}, with A = ZW + 1_m b,
has ∂L/∂A = G. The matrix forms under test (G·Wᵀ, Zᵀ·G, 1ᵀ·G) are computed with matrix products;
the elementwise side never uses them. It only evaluates L by forward passes:

- one-entry difference quotients: L is linear in each single entry, so
  ∂L/∂z_{i,r} = L(Z + E_{i,r}) − L(Z) exactly, with L(Z + E_{i,r}) evaluated by re-running the
  forward pass for the one row of A that z_{i,r} feeds. Every entry is checked this way where that
  fits the time budget (every_entry_fits), a seeded random sample of SAMPLE_SIZE entries above it;
- exact directional derivatives: L is linear in Z as a whole, so L(Z + V) − L(Z) = ⟨∂L/∂Z, V⟩ for
  any direction V. The two sides are compared row by row (row i of A depends on row i of Z only),
  for DIRECTIONS random integer directions whose entries are never zero. A claimed matrix that is
  wrong in row i passes one direction only if ⟨error_i, V_i⟩ = 0; fixing every entry of V but one
  where error_i is nonzero leaves one value of that entry out of 2·DIRECTION_RANGE that does it,
  so the chance is at most 1/(2·DIRECTION_RANGE) per direction. A single wrong entry e is never
  missed: ⟨error_i, V_i⟩ = e·v with v ≠ 0. W is done column by column, b entry by entry.

All arithmetic is exact. Products of matrices run in float64 (BLAS is about 300 times faster than
numpy's int64 matmul: 25 ms against 7 s at 1024³), which is exact as long as every partial sum is
an integer below 2^53: a sum of t products of entries at most x and y in magnitude never exceeds
t·x·y, and _require_exact refuses sizes where that bound could reach 2^53. At the largest sizes it
is 1024·(9 + 10^6)·9 ≈ 9.2·10^9 for an entry of A along a direction and 1024·(9.2·10^9)·9 ≈
8.5·10^13 for the loss carried by a row or column of A: far below 2^53 ≈ 9.0·10^15. The results
are held as int64 and compared exactly; ⟨claimed, V⟩ is summed in int64, where
1024·2^31·10^6 ≈ 2.2·10^18 stays below 2^63 ≈ 9.2·10^18.

This is a numeric check at random values, not a symbolic proof; the result says so. The concrete
losses (``numeric_verify(loss=…)``) are checked by numeric_losses.py: every entry, exactly for the
sum and the squared error, to within a computed bound for the softmax cross-entropy.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from .checks import MISMATCHES_KEPT, Mismatch
from .layer import (
    LAYERS,
    BackwardRule,
    Factor,
    Layer,
    Samples,
    Shape,
    Sizes,
    Variable,
    positive_sizes,
)
from .losses import loss_named
from .model import Progress
from .numeric_layer import Integers, RandomLayer, matmul
from .numeric_losses import verify_concrete
from .numeric_model import (
    ENTRY_RANGE,
    METHOD,
    FormFunction,
    Formula,
    Matrix,
    NumericCheck,
    NumericResult,
    vector_as_matrix,
)

__all__ = [
    "DIRECTION_RANGE",
    "METHOD",
    "NUMERIC_LIMIT",
    "FormFunction",
    "Formula",
    "NumericCheck",
    "NumericResult",
    "numeric_verify",
    "validate_numeric_sizes",
]

#: Largest size per dimension of the numeric check: 1024³ takes well under 2 s.
NUMERIC_LIMIT = 1024
#: Entries of the directions are drawn uniformly from ±1..±DIRECTION_RANGE, never 0.
DIRECTION_RANGE = 10**6
#: Random directions per gradient.
DIRECTIONS = 2
#: Entries per gradient checked by one-entry difference quotients where every_entry_fits is false.
SAMPLE_SIZE = 2000
#: Every entry of Z and W is checked by a difference quotient while m·k·k·n, the multiply-adds
#: of doing so for one gradient, stays at or below this: 2^31 ≈ 2.1·10^9, up to 215³, about 0.4 s
#: for both gradients on an idle 2-core machine (measured with benchmarks/scale.py) ...
FULL_CHECK_LIMIT = 2**31
#: ... and k·k·(m + n), the entries of the perturbed copies of Z and W those products multiply
#: (k per entry of Z or W), at or below this: 2^27 ≈ 1.3·10^8, about a second of writing memory.
#: Without this bound a thin layer such as 1×1024×1024, with only 2^30 multiply-adds, would write
#: 2^30 perturbed entries, one product of a row by a matrix at a time: 9 s.
FULL_CHECK_COPIES = 2**27

#: Integers up to this magnitude are exact in float64.
_EXACT_LIMIT = 2**53
#: Claimed entries beyond this magnitude cannot be a partial of the generic loss (each is at most
#: NUMERIC_LIMIT·ENTRY_RANGE² ≈ 8.3·10^4 in magnitude); they are reported as wrong without any
#: arithmetic, which keeps ⟨claimed, V⟩ within int64.
_CLAIM_LIMIT = 2**31


def _rule_form(layer: Layer, rule: BackwardRule) -> FormFunction:
    """A backward rule of the layer as a product of the random matrices: the matrix route."""
    upstream_matrix, ones = layer.role("upstream"), layer.role("ones")

    def compute(inputs: Matrix, weights: Matrix, upstream: Matrix) -> Matrix:
        by_role = {"input": inputs, "weights": weights, "upstream": upstream}
        # The ones have as many rows as G has samples: its rows (m×n), or its columns (n×m).
        samples = upstream.shape[(upstream_matrix.rows, upstream_matrix.cols).index(ones.rows)]
        by_role["ones"] = np.ones((samples, 1))

        def value(factor: Factor) -> Matrix:
            matrix = by_role[layer.matrix(factor.matrix).role]
            return matrix.T if factor.transposed else matrix

        return matmul(value(rule.left), value(rule.right))

    return compute


#: The backward rules of each convention, as matrix products: G·Wᵀ, Zᵀ·G, 1ᵀ·G (SPEC section 1),
#: or Wᵀ·G, G·Xᵀ, G·1 with samples as columns.
FORMS: dict[Samples, dict[Variable, Formula]] = {
    samples: {rule.variable: Formula(rule.text, _rule_form(layer, rule)) for rule in layer.backward}
    for samples, layer in LAYERS.items()
}


def validate_numeric_sizes(m: object, k: object, n: object, samples: object = "rows") -> Sizes:
    """Positive integer sizes no larger than NUMERIC_LIMIT, in the convention ``samples``, or a
    SizeError naming the bad one (an ArgumentError for an unknown convention)."""
    return positive_sizes(m, k, n, ("numeric limit", NUMERIC_LIMIT), samples)


def every_entry_fits(sizes: Sizes) -> bool:
    """Whether comparing every entry of Z and W with its difference quotient fits the time
    budget: m·k·k·n multiply-adds per gradient, and k·k·(m + n) perturbed entries written."""
    m, k, n = sizes.m, sizes.k, sizes.n
    return m * k * k * n <= FULL_CHECK_LIMIT and k * k * (m + n) <= FULL_CHECK_COPIES


def _require_exact(sizes: Sizes) -> None:
    """Refuse sizes at which a float64 product or sum could stop being exact: an entry of A along
    a direction is at most k·(R + D)·R + R + D, the loss of a row or column of A max(m, n)·R
    times that, and every other product is smaller (the module's docstring)."""
    entry, moved = ENTRY_RANGE, ENTRY_RANGE + DIRECTION_RANGE
    output = sizes.k * moved * entry + moved
    loss_part = max(sizes.m, sizes.n) * output * entry
    if loss_part >= _EXACT_LIMIT:
        raise ArithmeticError(f"sums up to {loss_part:.3g} would not be exact in float64")


def _directions(rng: np.random.Generator, shape: Shape) -> Integers:
    """A random integer direction with entries in ±1..±DIRECTION_RANGE, never 0."""
    drawn = rng.integers(-DIRECTION_RANGE, DIRECTION_RANGE, shape, dtype=np.int32)
    # −D..−1 stay, 0..D−1 become 1..D.
    drawn += drawn >= 0
    return drawn.astype(np.int64)


def _claimed_matrix(value: Any, shape: Shape) -> tuple[Matrix, Shape]:
    """The claimed matrix as float64 and its shape; a vector is read as the row or column it
    stands for (a column where the gradient of ``shape`` is one, as b is with samples as
    columns)."""
    claimed = vector_as_matrix(np.asarray(value, dtype=np.float64), shape)
    if claimed.ndim > 2:
        return claimed, (0, 0)
    return claimed, (int(claimed.shape[0]), int(claimed.shape[1]))


def _plain_number(value: float) -> int | float:
    """A claimed entry for display: an int when it is one."""
    return int(value) if np.isfinite(value) and float(value).is_integer() else float(value)


class _Comparison:
    """A claimed gradient against the random layer's difference quotients and directional
    derivatives: the wrong entries found so far, with their quotients and claimed values."""

    def __init__(self, layer: RandomLayer, variable: Variable, claimed: Matrix) -> None:
        self.layer = layer
        self.variable = variable
        self.claimed = claimed
        self.found: dict[tuple[int, int], tuple[int, int | float]] = {}

    def add(self, rows: Integers, cols: Integers, partials: Integers) -> None:
        """Record the entries (rows[t], cols[t]) whose difference quotient is partials[t]."""
        for row, col, partial in zip(rows.tolist(), cols.tolist(), partials.tolist(), strict=True):
            self.found[(row, col)] = (partial, _plain_number(self.claimed[row, col]))

    def first(self) -> tuple[Mismatch, ...]:
        """The first few mismatches in index order, with 1-based indices."""
        return tuple(
            Mismatch((row + 1, col + 1), partial, claim)
            for (row, col), (partial, claim) in sorted(self.found.items())[:MISMATCHES_KEPT]
        )

    def every_difference(self, exact_claim: Integers) -> int:
        """Every entry compared with its difference quotient; the number that differ."""
        all_partials = self.layer.all_partials(self.variable)
        row_ids, col_ids = np.nonzero(all_partials != exact_claim)
        # np.nonzero lists them in index order: the first few are the ones to show.
        shown = slice(0, MISMATCHES_KEPT)
        self.add(row_ids[shown], col_ids[shown], all_partials[row_ids[shown], col_ids[shown]])
        return len(row_ids)

    def sampled_differences(
        self, exact_claim: Integers, rng: np.random.Generator, sample_size: int
    ) -> int:
        """A seeded sample of entries compared with their difference quotients; how many were."""
        rows_count, cols_count = exact_claim.shape
        entries = rows_count * cols_count
        positions = np.sort(rng.choice(entries, size=min(sample_size, entries), replace=False))
        row_ids, col_ids = np.divmod(positions, cols_count)
        partials = self.layer.partials(self.variable, row_ids, col_ids)
        differs = partials != exact_claim[row_ids, col_ids]
        self.add(row_ids[differs], col_ids[differs], partials[differs])
        return len(positions)

    def directional_checks(
        self, exact_claim: Integers, rng: np.random.Generator, directions: int, locate: bool
    ) -> int:
        """Directional derivatives, resolved by row of Z, by column of W and b; how many failed.

        With ``locate``, unless enough wrong entries are known already, the wrong entries of the
        first few failing rows (Z) or columns (W) are found: a part whose directional derivative
        differs holds one at least.
        """
        rows_count, cols_count = exact_claim.shape
        # Row i of A depends on row i of Z only; column j on column j of W and on b_j (with
        # samples as columns, column i of A on column i of X, row j on row j of W and on b_j).
        by_rows = self.layer.by_rows(self.variable)
        failed_directions = 0
        failing_parts: set[int] = set()
        for _ in range(directions):
            direction = _directions(rng, (rows_count, cols_count))
            change = self.layer.directional(self.variable, direction.astype(np.float64))
            along = (exact_claim * direction).sum(axis=1 if by_rows else 0)
            residual = np.nonzero(change != along)[0]
            if residual.size:
                failed_directions += 1
                failing_parts.update(residual.tolist())
        if locate and len(self.found) < MISMATCHES_KEPT:
            for part in sorted(failing_parts)[:MISMATCHES_KEPT]:
                if by_rows:
                    rows, cols = np.full(cols_count, part), np.arange(cols_count)
                else:
                    rows, cols = np.arange(rows_count), np.full(rows_count, part)
                partials = self.layer.partials(self.variable, rows, cols)
                differs = partials != exact_claim[rows, cols]
                self.add(rows[differs], cols[differs], partials[differs])
        return failed_directions


def _check_gradient(
    layer: RandomLayer,
    variable: Variable,
    formula: Formula,
    shape: Shape,
    full: bool,
    rng: np.random.Generator,
    directions: int,
    sample_size: int,
) -> NumericCheck:
    """Compare one claimed gradient with difference quotients and directional derivatives."""
    value = formula.compute(layer.inputs, layer.weights, layer.upstream)
    claimed, claimed_shape = _claimed_matrix(value, shape)
    if claimed_shape != shape:
        return NumericCheck(variable, formula.text, shape, claimed_shape, False, 0, 0, 0, 0.0, 0)
    wrong = _Comparison(layer, variable, claimed)

    # A claimed entry that is not an integer of plausible size cannot be a partial of the loss.
    # (NaN fails the first comparison, ±inf the first or the second.)
    unusable = ~(np.abs(claimed) < _CLAIM_LIMIT)
    unusable |= claimed != np.round(claimed)
    if unusable.any():
        bad_rows, bad_cols = np.nonzero(unusable)
        bad_rows, bad_cols = bad_rows[:MISMATCHES_KEPT], bad_cols[:MISMATCHES_KEPT]
        wrong.add(bad_rows, bad_cols, layer.partials(variable, bad_rows, bad_cols))
        return _result(variable, formula, shape, wrong, int(unusable.sum()), len(bad_rows), 0, 0)
    exact_claim = claimed.astype(np.int64)

    # One-entry difference quotients: every entry (always for b, n of them), or a seeded sample.
    every_entry = full or layer.layer.matrix(variable).role == "bias"
    if every_entry:
        found_by_difference = wrong.every_difference(exact_claim)
        compared = shape[0] * shape[1]
    else:
        compared = wrong.sampled_differences(exact_claim, rng, sample_size)
    failed_directions = wrong.directional_checks(exact_claim, rng, directions, not every_entry)
    count = found_by_difference if every_entry else len(wrong.found)
    return _result(variable, formula, shape, wrong, count, compared, directions, failed_directions)


def _result(
    variable: Variable,
    formula: Formula,
    shape: Shape,
    wrong: _Comparison,
    mismatch_count: int,
    compared: int,
    directions: int,
    failed_directions: int,
) -> NumericCheck:
    """The check, with the bound on a wrong form passing unnoticed (0 when all were compared)."""
    every_entry = compared == shape[0] * shape[1]
    escape = 0.0 if every_entry else float((2.0 * DIRECTION_RANGE) ** -directions)
    holds = not wrong.found and failed_directions == 0 and mismatch_count == 0
    return NumericCheck(
        variable,
        formula.text,
        shape,
        shape,
        holds,
        compared,
        directions,
        failed_directions,
        escape,
        mismatch_count,
        wrong.first(),
    )


def _under_test(
    sizes: Sizes, forms: Mapping[Variable, Formula | FormFunction]
) -> dict[Variable, Formula]:
    """The layer's backward rules, with those ``forms`` replaces (a bare function is a Formula
    called "a supplied form")."""
    under_test: dict[Variable, Formula] = dict(FORMS[sizes.samples])
    for name, given in forms.items():
        if name not in under_test:
            names = ", ".join(under_test)
            raise ValueError(f"no matrix form for {name!r}: choose from {names}")
        under_test[name] = (
            given if isinstance(given, Formula) else Formula("a supplied form", given)
        )
    return under_test


def numeric_verify(
    m: int,
    k: int,
    n: int,
    *,
    bias: bool = True,
    seed: int = 0,
    progress: Progress | None = None,
    forms: Mapping[Variable, Formula | FormFunction] | None = None,
    directions: int = DIRECTIONS,
    sample_size: int = SAMPLE_SIZE,
    full: bool | None = None,
    loss: str = "generic",
    samples: str = "rows",
) -> NumericResult:
    """Check ∂L/∂Z = G·Wᵀ, ∂L/∂W = Zᵀ·G (and ∂L/∂b = 1ᵀ·G) numerically, exactly, at one draw;
    with ``samples="columns"``, ∂L/∂X = Wᵀ·G, ∂L/∂W = G·Xᵀ (and ∂L/∂b = G·1) for A = WX + b1ᵀ.

    ``forms`` replaces matrix forms under test (to show that a wrong one is rejected): a Formula
    or a bare function of the input (Z, or X), W and G, each in the layer's own shape. ``full``
    forces (True) or forbids (False) comparing every entry with its difference quotient; by
    default every entry is compared while that fits the time budget (every_entry_fits).
    ``progress`` is called as progress("numeric", done, total).

    With a concrete ``loss`` (``sum``, ``squared-error``, ``softmax-cross-entropy``) L is that
    loss of A at random integer targets, and every entry is compared with its chain-rule sum
    (numeric_losses.py); ``directions``, ``sample_size`` and ``full`` concern the generic loss.
    """
    sizes = validate_numeric_sizes(m, k, n, samples)
    under_test = _under_test(sizes, forms or {})
    if loss_named(loss).concrete:
        return verify_concrete(loss, sizes, bias, seed, under_test, progress)
    _require_exact(sizes)
    if directions < 0 or sample_size < 0:
        raise ValueError("directions and sample_size must not be negative")
    if full is None:
        full = every_entry_fits(sizes)
    variables = sizes.layer.variables(bias)
    rng = np.random.default_rng(seed)
    layer = RandomLayer(sizes, bias, rng)
    if progress is not None:
        progress("numeric", 0, len(variables))
    check = functools.partial(
        _check_gradient, layer, full=full, rng=rng, directions=directions, sample_size=sample_size
    )
    checks = []
    for done, name in enumerate(variables, start=1):
        checks.append(check(name, under_test[name], sizes.shape_of(name)))
        if progress is not None:
            progress("numeric", done, len(variables))
    return NumericResult(sizes, bias, seed, tuple(checks), direction_range=DIRECTION_RANGE)
