"""Exact numeric verification of the identities, for layers too large for the symbolic engines.

At random integer Z, W, b and G the generic loss L = Σ_{p,q} G_{p,q}·a_{p,q}, with A = ZW + 1_m b,
has ∂L/∂A = G. The matrix forms under test (G·Wᵀ, Zᵀ·G, 1ᵀ·G) are computed with matrix products;
the elementwise side never uses them. It only evaluates L by forward passes:

- one-entry difference quotients: L is linear in each single entry, so
  ∂L/∂z_{i,r} = L(Z + E_{i,r}) − L(Z) exactly, with L(Z + E_{i,r}) evaluated by re-running the
  forward pass for the one row of A that z_{i,r} feeds. Every entry is checked this way where that
  fits the time budget (FULL_CHECK_LIMIT), a seeded random sample of SAMPLE_SIZE entries above it;
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

This is a numeric check at random values, not a symbolic proof; the result says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ..errors import SizeError
from .checks import MISMATCHES_KEPT, Mismatch
from .layer import LAYER, BackwardRule, Factor, Shape, Sizes, Variable
from .model import Progress

Matrix = npt.NDArray[np.float64]
Integers = npt.NDArray[np.int64]

#: Largest size per dimension of the numeric check: 1024³ takes well under 2 s.
NUMERIC_LIMIT = 1024
#: Entries of Z, W, b and G are drawn uniformly from −ENTRY_RANGE..ENTRY_RANGE.
ENTRY_RANGE = 9
#: A wrong formula whose entry differs from the true one as a polynomial of degree ≤ 2 agrees
#: with it at a uniform random draw from 2·ENTRY_RANGE + 1 values with probability at most
#: 2/(2·ENTRY_RANGE + 1) (Schwartz–Zippel): the chance that one such entry hides.
DRAW_COINCIDENCE = 2 / (2 * ENTRY_RANGE + 1)
#: Entries of the directions are drawn uniformly from ±1..±DIRECTION_RANGE, never 0.
DIRECTION_RANGE = 10**6
#: Random directions per gradient.
DIRECTIONS = 2
#: Entries per gradient checked by one-entry difference quotients above FULL_CHECK_LIMIT.
SAMPLE_SIZE = 2000
#: Every entry of Z and W is checked by a difference quotient while m·k·k·n, the multiply-adds
#: of doing so for one gradient, stays at or below this: 2^31 ≈ 2.1·10^9, up to 215³, about 0.4 s
#: for both gradients on an idle 2-core machine (measured with benchmarks/scale.py).
FULL_CHECK_LIMIT = 2**31

#: The description every result carries.
METHOD = "numeric check (exact integer arithmetic), not a symbolic proof"

#: Integers up to this magnitude are exact in float64.
_EXACT_LIMIT = 2**53
#: Largest number of float64 entries a chunk of perturbed forward passes holds at once (32 MB).
_CHUNK_ENTRIES = 1 << 22
#: Claimed entries beyond this magnitude cannot be a partial of the generic loss (each is at most
#: NUMERIC_LIMIT·ENTRY_RANGE² ≈ 8.3·10^4 in magnitude); they are reported as wrong without any
#: arithmetic, which keeps ⟨claimed, V⟩ within int64.
_CLAIM_LIMIT = 2**31

#: A matrix form: a function of Z, W and G (float64 arrays holding integers) giving a matrix.
FormFunction = Callable[[Matrix, Matrix, Matrix], Any]


class Formula(NamedTuple):
    """A matrix form under test: its formula as text and the function computing it."""

    text: str
    compute: FormFunction


def _matmul(left: Matrix, right: Matrix) -> Matrix:
    """left @ right; exact for the sizes _require_exact lets through."""
    product: Matrix = left @ right
    return product


def _rule_form(rule: BackwardRule) -> FormFunction:
    """A backward rule of the layer as a product of the random matrices: the matrix route."""

    def compute(inputs: Matrix, weights: Matrix, upstream: Matrix) -> Matrix:
        by_role = {"input": inputs, "weights": weights, "upstream": upstream}
        by_role["ones"] = np.ones((upstream.shape[0], 1))

        def value(factor: Factor) -> Matrix:
            matrix = by_role[LAYER.matrix(factor.matrix).role]
            return matrix.T if factor.transposed else matrix

        return _matmul(value(rule.left), value(rule.right))

    return compute


#: The backward rules of SPEC section 1, as matrix products.
FORMS: dict[Variable, Formula] = {
    rule.variable: Formula(rule.text, _rule_form(rule)) for rule in LAYER.backward
}


@dataclass(frozen=True)
class NumericCheck:
    """One identity checked numerically: what was compared, and where it failed.

    ``entries_by_difference`` entries were compared with one-entry difference quotients, and the
    whole matrix along ``directions`` random directions. ``escape_probability`` bounds the chance
    that a claimed matrix that differs from the true gradient *at this draw* passes every
    comparison made (0 when every entry was compared). A formula that is wrong in general but
    happens to agree at this draw is a separate risk, bounded per entry by Schwartz–Zippel
    (see ``DRAW_COINCIDENCE``).
    ``mismatch_count`` counts the wrong entries found, all of them when every entry was compared.
    """

    variable: Variable
    formula: str
    shape: Shape
    claimed_shape: Shape
    holds: bool
    entries_by_difference: int
    directions: int
    failed_directions: int
    escape_probability: float
    mismatch_count: int
    mismatches: tuple[Mismatch, ...] = ()

    @property
    def entries(self) -> int:
        """The number of entries of the gradient."""
        return self.shape[0] * self.shape[1]

    @property
    def every_entry(self) -> bool:
        """True when every entry was compared with its difference quotient."""
        return self.entries_by_difference == self.entries

    @property
    def identity(self) -> str:
        """The identity in plain text, e.g. ``∂L/∂Z = ∂L/∂A · Wᵀ``."""
        return f"∂L/∂{self.variable} = {self.formula}"


@dataclass(frozen=True)
class NumericResult:
    """The numeric check of every identity at one draw of random integer matrices."""

    sizes: Sizes
    bias: bool
    seed: int
    checks: tuple[NumericCheck, ...]
    entry_range: int = ENTRY_RANGE
    direction_range: int = DIRECTION_RANGE
    method: str = METHOD

    @property
    def verified(self) -> bool:
        """True when every identity held in every comparison made."""
        return all(check.holds for check in self.checks)


def validate_numeric_sizes(m: object, k: object, n: object) -> Sizes:
    """Positive integer sizes no larger than NUMERIC_LIMIT, or a SizeError naming the bad one."""
    for name, value in (("m", m), ("k", k), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SizeError(f"size {name} must be a positive integer, got {value!r}")
        if value < 1:
            raise SizeError(f"size {name} must be a positive integer, got {value}")
        if value > NUMERIC_LIMIT:
            raise SizeError(
                f"size {name} = {value} is above the numeric limit of {NUMERIC_LIMIT} per dimension"
            )
    return Sizes(m, k, n)  # type: ignore[arg-type]  # checked to be ints just above


def _require_exact(sizes: Sizes) -> None:
    """Refuse sizes at which a float64 product or sum could stop being exact.

    A sum of t products of entries at most x and y in magnitude has every partial sum at most
    t·x·y. The largest entries multiplied here are those of Z or W moved along a direction,
    ENTRY_RANGE + DIRECTION_RANGE, so an entry of A along a direction is at most
    k·(R + D)·R + R + D, and the loss carried by a row or column of A at most max(m, n) times
    that times R. Every other product (the matrix forms, the one-entry perturbations) is smaller.
    """
    entry, moved = ENTRY_RANGE, ENTRY_RANGE + DIRECTION_RANGE
    output = sizes.k * moved * entry + moved
    loss_part = max(sizes.m, sizes.n) * output * entry
    if loss_part >= _EXACT_LIMIT:
        raise ArithmeticError(f"sums up to {loss_part:.3g} would not be exact in float64")


def _integers(values: Matrix) -> Integers:
    """Float64 values known to be exact integers, as int64."""
    return values.astype(np.int64)


class _Layer:
    """The random layer and its generic loss, evaluated only through forward passes."""

    def __init__(self, sizes: Sizes, bias: bool, rng: np.random.Generator) -> None:
        m, k, n = sizes.m, sizes.k, sizes.n
        low, high = -ENTRY_RANGE, ENTRY_RANGE + 1
        # Drawn in a fixed order whatever the options, so a seed names one draw.
        self.inputs = rng.integers(low, high, (m, k), dtype=np.int8).astype(np.float64)
        self.weights = rng.integers(low, high, (k, n), dtype=np.int8).astype(np.float64)
        drawn_bias = rng.integers(low, high, n, dtype=np.int8).astype(np.float64)
        self.upstream = rng.integers(low, high, (m, n), dtype=np.int8).astype(np.float64)
        self.bias = drawn_bias if bias else np.zeros(n)
        # Columns of W and G as contiguous rows, for perturbing many columns of W at once.
        self.weights_by_column = np.ascontiguousarray(self.weights.T)
        self.upstream_by_column = np.ascontiguousarray(self.upstream.T)
        # Read-only: the matrix forms under test receive them as they are.
        for matrix in (self.inputs, self.weights, self.upstream, self.bias):
            matrix.flags.writeable = False
        self.product = self.inputs @ self.weights
        self.outputs = self.product + self.bias
        # L = Σ_p row_loss[p] = Σ_q column_loss[q]: the loss of the unperturbed layer, by row
        # and by column of A.
        self.row_loss = self._row_losses(self.outputs, self.upstream)
        self.column_loss = self._column_losses(self.outputs, self.upstream)

    @staticmethod
    def _row_losses(outputs: Matrix, upstream: Matrix) -> Integers:
        """Σ_q G_{p,q}·a_{p,q} for each row p: the loss carried by that row of A."""
        return _integers(np.einsum("pq,pq->p", outputs, upstream))

    @staticmethod
    def _column_losses(outputs: Matrix, upstream: Matrix) -> Integers:
        """Σ_p G_{p,q}·a_{p,q} for each column q: the loss carried by that column of A."""
        return _integers(np.einsum("pq,pq->q", outputs, upstream))

    def input_partials(self, rows: Integers, cols: Integers) -> Integers:
        """L(Z + E_{i,r}) − L(Z) for the entries (rows[t], cols[t]) of Z.

        z_{i,r} feeds row i of A only, so the perturbed loss differs from L in that row's terms:
        the row is recomputed as (Z_i + e_r)·W + b and its loss Σ_q G_{i,q}·a_{i,q} taken again.
        """
        partials = np.empty(len(rows), np.int64)
        chunk = max(1, _CHUNK_ENTRIES // self.weights.shape[1])
        for start in range(0, len(rows), chunk):
            row_ids, col_ids = rows[start : start + chunk], cols[start : start + chunk]
            perturbed = self.inputs[row_ids]
            perturbed[np.arange(len(row_ids)), col_ids] += 1.0
            new_rows = _matmul(perturbed, self.weights) + self.bias
            new_loss = self._row_losses(new_rows, self.upstream[row_ids])
            partials[start : start + chunk] = new_loss - self.row_loss[row_ids]
        return partials

    def all_input_partials(self) -> Integers:
        """L(Z + E_{i,r}) − L(Z) for every entry of Z, a block of rows i at a time (m·k·k·n
        multiply-adds: for each i, the k perturbed rows Z_i + e_r form the matrix 1·Z_i + I)."""
        m, k = self.inputs.shape
        n = self.weights.shape[1]
        partials = np.empty((m, k), np.int64)
        identity = np.eye(k)
        chunk = max(1, _CHUNK_ENTRIES // (k * n))
        for start in range(0, m, chunk):
            stop = min(m, start + chunk)
            perturbed = (self.inputs[start:stop, None, :] + identity).reshape(-1, k)
            new_rows = _matmul(perturbed, self.weights) + self.bias
            new_loss = _integers(
                np.einsum(
                    "irq,iq->ir", new_rows.reshape(stop - start, k, n), self.upstream[start:stop]
                )
            )
            partials[start:stop] = new_loss - self.row_loss[start:stop, None]
        return partials

    def weight_partials(self, rows: Integers, cols: Integers) -> Integers:
        """L(W + E_{r,j}) − L(W) for the entries (rows[t], cols[t]) of W.

        w_{r,j} feeds column j of A only; the column is recomputed as Z·(W_j + e_r) + b_j.
        """
        partials = np.empty(len(rows), np.int64)
        chunk = max(1, _CHUNK_ENTRIES // self.inputs.shape[0])
        for start in range(0, len(rows), chunk):
            row_ids, col_ids = rows[start : start + chunk], cols[start : start + chunk]
            # Worked on transposed, so that every gather takes whole contiguous rows: row t of
            # ``perturbed`` is column j = col_ids[t] of W with e_r added, and row t of
            # ``new_columns`` is column j of A recomputed from it.
            perturbed = self.weights_by_column[col_ids]
            perturbed[np.arange(len(row_ids)), row_ids] += 1.0
            new_columns = _matmul(perturbed, self.inputs.T) + self.bias[col_ids, None]
            new_loss = self._row_losses(new_columns, self.upstream_by_column[col_ids])
            partials[start : start + chunk] = new_loss - self.column_loss[col_ids]
        return partials

    def all_weight_partials(self) -> Integers:
        """L(W + E_{r,j}) − L(W) for every entry of W, a block of columns j at a time."""
        m, k = self.inputs.shape
        n = self.weights.shape[1]
        partials = np.empty((k, n), np.int64)
        identity = np.eye(k)
        chunk = max(1, _CHUNK_ENTRIES // (m * k))
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            # Column (j, r) of the perturbed weights is W_j + e_r.
            perturbed = (self.weights[:, start:stop, None] + identity[:, None, :]).reshape(k, -1)
            new_columns = _matmul(self.inputs, perturbed).reshape(m, stop - start, k)
            new_columns += self.bias[start:stop, None]
            new_loss = _integers(np.einsum("pjr,pj->jr", new_columns, self.upstream[:, start:stop]))
            partials[:, start:stop] = (new_loss - self.column_loss[start:stop, None]).T
        return partials

    def bias_partials(self, cols: Integers) -> Integers:
        """L(b + e_j) − L(b) for the entries cols of b: b_j feeds column j of A only."""
        new_columns = self.product[:, cols] + (self.bias[cols] + 1.0)
        new_loss = self._column_losses(new_columns, self.upstream[:, cols])
        return new_loss - self.column_loss[cols]

    def partials(self, variable: Variable, rows: Integers, cols: Integers) -> Integers:
        """The one-entry difference quotients of L at the given entries of ``variable``."""
        if variable == "Z":
            return self.input_partials(rows, cols)
        if variable == "W":
            return self.weight_partials(rows, cols)
        return self.bias_partials(cols)

    def all_partials(self, variable: Variable) -> Integers:
        """The one-entry difference quotients of L at every entry of ``variable``."""
        if variable == "Z":
            return self.all_input_partials()
        if variable == "W":
            return self.all_weight_partials()
        return self.bias_partials(np.arange(len(self.bias))).reshape(1, -1)

    def directional(self, variable: Variable, direction: Matrix) -> Integers:
        """L(X + V) − L(X) for X = ``variable``, by row of A for Z, by column for W and b.

        Row i of A depends on row i of Z only, and column j on column j of W and on b_j, so these
        parts add up to L(X + V) − L(X) and each is the directional derivative along the
        matching part of V.
        """
        if variable == "Z":
            moved = _matmul(self.inputs + direction, self.weights) + self.bias
            return self._row_losses(moved, self.upstream) - self.row_loss
        if variable == "W":
            moved = _matmul(self.inputs, self.weights + direction) + self.bias
        else:
            moved = self.product + (self.bias + direction[0])
        return self._column_losses(moved, self.upstream) - self.column_loss


def _directions(rng: np.random.Generator, shape: Shape) -> Integers:
    """A random integer direction with entries in ±1..±DIRECTION_RANGE, never 0."""
    drawn = rng.integers(-DIRECTION_RANGE, DIRECTION_RANGE, shape, dtype=np.int32)
    # −D..−1 stay, 0..D−1 become 1..D.
    drawn += drawn >= 0
    return drawn.astype(np.int64)


def _claimed_matrix(value: Any) -> tuple[Matrix, Shape]:
    """The claimed matrix as float64 and its shape; a vector is read as the row it stands for."""
    claimed = np.asarray(value, dtype=np.float64)
    if claimed.ndim < 2:
        claimed = claimed.reshape(1, -1)
    if claimed.ndim > 2:
        return claimed, (0, 0)
    return claimed, (int(claimed.shape[0]), int(claimed.shape[1]))


def _plain_number(value: float) -> int | float:
    """A claimed entry for display: an int when it is one."""
    return int(value) if np.isfinite(value) and float(value).is_integer() else float(value)


class _Mismatches:
    """The wrong entries found so far, with their difference quotients and claimed values."""

    def __init__(self, claimed: Matrix) -> None:
        self._claimed = claimed
        self.found: dict[tuple[int, int], tuple[int, int | float]] = {}

    def add(self, rows: Integers, cols: Integers, partials: Integers) -> None:
        """Record the entries (rows[t], cols[t]) whose difference quotient is partials[t]."""
        for row, col, partial in zip(rows.tolist(), cols.tolist(), partials.tolist(), strict=True):
            self.found[(row, col)] = (partial, _plain_number(self._claimed[row, col]))

    def first(self) -> tuple[Mismatch, ...]:
        """The first few mismatches in index order, with 1-based indices."""
        return tuple(
            Mismatch((row + 1, col + 1), partial, claim)
            for (row, col), (partial, claim) in sorted(self.found.items())[:MISMATCHES_KEPT]
        )


def _check_gradient(
    layer: _Layer,
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
    claimed, claimed_shape = _claimed_matrix(value)
    if claimed_shape != shape:
        return NumericCheck(variable, formula.text, shape, claimed_shape, False, 0, 0, 0, 0.0, 0)
    wrong = _Mismatches(claimed)

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
    every_entry = full or variable == "b"
    if every_entry:
        found_by_difference = _every_difference(layer, variable, exact_claim, wrong)
        compared = shape[0] * shape[1]
    else:
        compared = _sampled_differences(layer, variable, exact_claim, wrong, rng, sample_size)
    failed_directions = _directional_checks(
        layer, variable, exact_claim, wrong, rng, directions, locate=not every_entry
    )
    count = found_by_difference if every_entry else len(wrong.found)
    return _result(variable, formula, shape, wrong, count, compared, directions, failed_directions)


def _every_difference(
    layer: _Layer, variable: Variable, exact_claim: Integers, wrong: _Mismatches
) -> int:
    """Every entry compared with its difference quotient; the number that differ."""
    all_partials = layer.all_partials(variable)
    row_ids, col_ids = np.nonzero(all_partials != exact_claim)
    # np.nonzero lists them in index order: the first few are the ones to show.
    shown = slice(0, MISMATCHES_KEPT)
    wrong.add(row_ids[shown], col_ids[shown], all_partials[row_ids[shown], col_ids[shown]])
    return len(row_ids)


def _sampled_differences(
    layer: _Layer,
    variable: Variable,
    exact_claim: Integers,
    wrong: _Mismatches,
    rng: np.random.Generator,
    sample_size: int,
) -> int:
    """A seeded sample of entries compared with their difference quotients; how many were."""
    rows_count, cols_count = exact_claim.shape
    entries = rows_count * cols_count
    positions = np.sort(rng.choice(entries, size=min(sample_size, entries), replace=False))
    row_ids, col_ids = np.divmod(positions, cols_count)
    partials = layer.partials(variable, row_ids, col_ids)
    differs = partials != exact_claim[row_ids, col_ids]
    wrong.add(row_ids[differs], col_ids[differs], partials[differs])
    return len(positions)


def _directional_checks(
    layer: _Layer,
    variable: Variable,
    exact_claim: Integers,
    wrong: _Mismatches,
    rng: np.random.Generator,
    directions: int,
    locate: bool,
) -> int:
    """Directional derivatives, resolved by row of Z, by column of W and b; how many failed.

    With ``locate``, unless enough wrong entries are known already, the wrong entries of the first
    few failing rows (Z) or columns (W) are found: a part whose directional derivative differs
    holds one at least.
    """
    rows_count, cols_count = exact_claim.shape
    failed_directions = 0
    failing_parts: set[int] = set()
    for _ in range(directions):
        direction = _directions(rng, (rows_count, cols_count))
        change = layer.directional(variable, direction.astype(np.float64))
        along = (exact_claim * direction).sum(axis=1 if variable == "Z" else 0)
        residual = np.nonzero(change != along)[0]
        if residual.size:
            failed_directions += 1
            failing_parts.update(residual.tolist())
    if locate and len(wrong.found) < MISMATCHES_KEPT:
        for part in sorted(failing_parts)[:MISMATCHES_KEPT]:
            if variable == "Z":
                part_rows, part_cols = np.full(cols_count, part), np.arange(cols_count)
            else:
                part_rows, part_cols = np.arange(rows_count), np.full(rows_count, part)
            part_partials = layer.partials(variable, part_rows, part_cols)
            part_differs = part_partials != exact_claim[part_rows, part_cols]
            wrong.add(part_rows[part_differs], part_cols[part_differs], part_partials[part_differs])
    return failed_directions


def _result(
    variable: Variable,
    formula: Formula,
    shape: Shape,
    wrong: _Mismatches,
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
) -> NumericResult:
    """Check ∂L/∂Z = G·Wᵀ, ∂L/∂W = Zᵀ·G (and ∂L/∂b = 1ᵀ·G) numerically, exactly, at one draw.

    ``forms`` replaces matrix forms under test (to show that a wrong one is rejected): a Formula
    or a bare function of Z, W and G. ``full`` forces (True) or forbids (False) comparing every
    entry with its difference quotient; by default every entry is compared while m·k·k·n is at
    most FULL_CHECK_LIMIT. ``progress`` is called as progress("numeric", done, total).
    """
    sizes = validate_numeric_sizes(m, k, n)
    _require_exact(sizes)
    if directions < 0 or sample_size < 0:
        raise ValueError("directions and sample_size must not be negative")
    if full is None:
        full = sizes.m * sizes.k * sizes.k * sizes.n <= FULL_CHECK_LIMIT
    under_test: dict[Variable, Formula] = dict(FORMS)
    for name, given in (forms or {}).items():
        if name not in FORMS:
            raise ValueError(f"no matrix form for {name!r}: choose from Z, W, b")
        under_test[name] = (
            given if isinstance(given, Formula) else Formula("a supplied form", given)
        )
    variables = LAYER.variables(bias)
    rng = np.random.default_rng(seed)
    layer = _Layer(sizes, bias, rng)
    if progress is not None:
        progress("numeric", 0, len(variables))
    checks = []
    for done, name in enumerate(variables, start=1):
        checks.append(
            _check_gradient(
                layer,
                name,
                under_test[name],
                sizes.shape_of(name),
                full,
                rng,
                directions,
                sample_size,
            )
        )
        if progress is not None:
            progress("numeric", done, len(variables))
    return NumericResult(sizes, bias, seed, tuple(checks))
