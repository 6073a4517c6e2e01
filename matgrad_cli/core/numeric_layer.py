"""The random layer of the numeric check: integer Z (or X), W, b and G, and the generic loss
evaluated through forward passes only (numeric.py explains why every number here is exact).

This is the numeric check's elementwise side: it never uses the backward rules under test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .layer import Role, Sizes, Variable
from .numeric_model import ENTRY_RANGE, Matrix

Integers = npt.NDArray[np.int64]

#: Largest number of float64 entries an array of a chunk of perturbed forward passes holds (32 MB).
#: A chunk is sized by the largest array it makes (the perturbed rows or columns of Z or W, and the
#: rows or columns of A recomputed from them), never by m·k·n: with a few such arrays alive at once,
#: and Z, W, G and A themselves (at most NUMERIC_LIMIT² entries each), the numeric check's peak
#: memory stays near 200 MB at every size it accepts (tests/test_large.py measures it).
_CHUNK_ENTRIES = 1 << 22


def _chunk(*widths: int) -> int:
    """How many perturbed rows (or blocks of rows) a chunk takes, when one of them adds the
    largest of ``widths`` entries to some array of the chunk: at least one."""
    return max(1, _CHUNK_ENTRIES // max(widths))


def matmul(left: Matrix, right: Matrix) -> Matrix:
    """left @ right; exact for the sizes numeric._require_exact lets through."""
    product: Matrix = left @ right
    return product


def _integers(values: Matrix) -> Integers:
    """Float64 values known to be exact integers, as int64."""
    return values.astype(np.int64)


def _row_losses(outputs: Matrix, upstream: Matrix) -> Integers:
    """Σ_q G_{p,q}·a_{p,q} for each row p: the loss carried by that row of A."""
    return _integers(np.einsum("pq,pq->p", outputs, upstream))


def _column_losses(outputs: Matrix, upstream: Matrix) -> Integers:
    """Σ_p G_{p,q}·a_{p,q} for each column q: the loss carried by that column of A."""
    return _integers(np.einsum("pq,pq->q", outputs, upstream))


@dataclass(frozen=True)
class _Rows:
    """The layer read by the rows of a matrix X that it multiplies: A = X·F + S, row i of A
    depending on row i of X only, with G the upstream and ``losses`` the loss carried by each row
    of A. X is Z for A = ZW + 1_m b; it is Wᵀ for Aᵀ = WᵀZᵀ + bᵀ1_mᵀ, so that W is worked on
    column by column and every gather takes whole contiguous rows."""

    rows: Matrix
    factor: Matrix
    shift: Matrix
    upstream: Matrix
    losses: Integers

    def partials(self, rows: Integers, cols: Integers) -> Integers:
        """L(X + E_{i,r}) − L(X) for the entries (rows[t], cols[t]) of X: row i of A recomputed
        as (X_i + e_r)·F + S_i, and its loss Σ_q G_{i,q}·a_{i,q} taken again."""
        partials = np.empty(len(rows), np.int64)
        # A chunk holds the perturbed rows of X (k entries each) and the rows of A (F's columns).
        chunk = _chunk(*self.factor.shape)
        for start in range(0, len(rows), chunk):
            row_ids, col_ids = rows[start : start + chunk], cols[start : start + chunk]
            perturbed = self.rows[row_ids]
            perturbed[np.arange(len(row_ids)), col_ids] += 1.0
            new_rows = matmul(perturbed, self.factor) + self.shift[row_ids]
            new_loss = _row_losses(new_rows, self.upstream[row_ids])
            partials[start : start + chunk] = new_loss - self.losses[row_ids]
        return partials

    def all_partials(self) -> Integers:
        """L(X + E_{i,r}) − L(X) for every entry of X, a block of rows i at a time (for each i,
        the k perturbed rows X_i + e_r form the matrix 1·X_i + I)."""
        count, k = self.rows.shape
        width = self.factor.shape[1]
        partials = np.empty((count, k), np.int64)
        identity = np.eye(k)
        # Per row i: k perturbed rows of X (k·k entries) and k rows of A (k·width).
        chunk = _chunk(k * k, k * width)
        for start in range(0, count, chunk):
            stop = min(count, start + chunk)
            perturbed = (self.rows[start:stop, None, :] + identity).reshape(-1, k)
            new_rows = matmul(perturbed, self.factor).reshape(stop - start, k, width)
            new_rows += self.shift[start:stop, None, :]
            new_loss = _integers(np.einsum("irq,iq->ir", new_rows, self.upstream[start:stop]))
            partials[start:stop] = new_loss - self.losses[start:stop, None]
        return partials


class RandomLayer:
    """The random layer and its generic loss L = Σ G_{p,q}·a_{p,q}, evaluated only through forward
    passes: the difference quotients and directional derivatives of the numeric check.

    ``inputs``, ``weights`` and ``upstream`` are the layer's matrices in its own convention (Z, W
    and G, or X, W and G with samples as columns), and every method takes the layer's names and
    indices. The forward passes are worked on in the rows orientation: A = WX + b1_mᵀ is
    Aᵀ = XᵀWᵀ + 1_m bᵀ, the rows layer at Z = Xᵀ, W = Wᵀ, b = bᵀ, and L = Σ G_{p,q}·a_{p,q} is the
    same sum over Aᵀ with Gᵀ; so a columns layer is drawn as the transpose of the rows layer of the
    same seed, and each of its entries (r, i) is entry (i, r) of the transposed matrix.
    """

    def __init__(self, sizes: Sizes, bias: bool, rng: np.random.Generator) -> None:
        m, k, n = sizes.m, sizes.k, sizes.n
        low, high = -ENTRY_RANGE, ENTRY_RANGE + 1
        self.layer = sizes.layer
        self._transposed = sizes.samples == "columns"
        # Drawn in a fixed order whatever the options, so a seed names one draw.
        self._inputs = rng.integers(low, high, (m, k), dtype=np.int8).astype(np.float64)
        self._weights = rng.integers(low, high, (k, n), dtype=np.int8).astype(np.float64)
        drawn_bias = rng.integers(low, high, n, dtype=np.int8).astype(np.float64)
        self._upstream = rng.integers(low, high, (m, n), dtype=np.int8).astype(np.float64)
        self._bias = drawn_bias if bias else np.zeros(n)
        # Read-only: the matrix forms under test receive them (or their transposes) as they are.
        for matrix in (self._inputs, self._weights, self._upstream, self._bias):
            matrix.flags.writeable = False
        self._product = self._inputs @ self._weights
        self._outputs = self._product + self._bias
        # L = Σ_p row_loss[p] = Σ_q column_loss[q]: the loss of the unperturbed layer, by row
        # and by column of A (of Aᵀ with samples as columns).
        self._row_loss = _row_losses(self._outputs, self._upstream)
        self._column_loss = _column_losses(self._outputs, self._upstream)
        # Z read by the rows of A = ZW + 1_m b, W by the rows of Aᵀ = WᵀZᵀ + bᵀ1_mᵀ.
        shift = np.broadcast_to(self._bias, (m, n))
        self._by_rows = _Rows(self._inputs, self._weights, shift, self._upstream, self._row_loss)
        weights_t, upstream_t = self._weights.T.copy(), self._upstream.T.copy()  # C-contiguous
        self._by_columns = _Rows(weights_t, self._inputs.T, shift.T, upstream_t, self._column_loss)

    def _own(self, matrix: Matrix) -> Matrix:
        """A matrix of the rows orientation in the layer's own convention."""
        return matrix.T if self._transposed else matrix

    @property
    def inputs(self) -> Matrix:
        """The input, Z (m×k), or X (k×m) with samples as columns."""
        return self._own(self._inputs)

    @property
    def weights(self) -> Matrix:
        """The weights, k×n, or n×k with samples as columns."""
        return self._own(self._weights)

    @property
    def upstream(self) -> Matrix:
        """G = ∂L/∂A, m×n, or n×m with samples as columns."""
        return self._own(self._upstream)

    def _role(self, variable: Variable) -> Role:
        return self.layer.matrix(variable).role

    def by_rows(self, variable: Variable) -> bool:
        """Whether ``directional`` splits L(X + V) − L(X) by the rows of ``variable`` (else by its
        columns): by the samples for the input, by the outputs for W and b."""
        return (self._role(variable) == "input") != self._transposed

    def bias_partials(self, cols: Integers) -> Integers:
        """L(b + e_j) − L(b) for the entries cols of b: b_j feeds column j of A only (row j of
        A with samples as columns)."""
        new_columns = self._product[:, cols] + (self._bias[cols] + 1.0)
        new_loss = _column_losses(new_columns, self._upstream[:, cols])
        return new_loss - self._column_loss[cols]

    def partials(self, variable: Variable, rows: Integers, cols: Integers) -> Integers:
        """The one-entry difference quotients of L at the given entries of ``variable``."""
        if self._transposed:
            rows, cols = cols, rows
        role = self._role(variable)
        if role == "input":
            return self._by_rows.partials(rows, cols)
        if role == "weights":  # w_{r,j} is entry (j, r) of Wᵀ
            return self._by_columns.partials(cols, rows)
        return self.bias_partials(cols)

    def all_partials(self, variable: Variable) -> Integers:
        """The one-entry difference quotients of L at every entry of ``variable``."""
        role = self._role(variable)
        if role == "input":
            partials = self._by_rows.all_partials()
        elif role == "weights":
            partials = self._by_columns.all_partials().T
        else:
            partials = self.bias_partials(np.arange(len(self._bias))).reshape(1, -1)
        return partials.T if self._transposed else partials

    def directional(self, variable: Variable, direction: Matrix) -> Integers:
        """L(X + V) − L(X) for X = ``variable``, by sample for the input, by output for W and b.

        Row i of A = ZW + 1_m b depends on row i of Z only, and column j on column j of W and on
        b_j (with samples as columns: column i of A on column i of X, row j on row j of W and on
        b_j), so these parts add up to L(X + V) − L(X) and each is the directional derivative
        along the matching part of V (by_rows says which).
        """
        if self._transposed:
            direction = direction.T
        role = self._role(variable)
        if role == "input":
            moved = matmul(self._inputs + direction, self._weights) + self._bias
            return _row_losses(moved, self._upstream) - self._row_loss
        if role == "weights":
            moved = matmul(self._inputs, self._weights + direction) + self._bias
        else:
            moved = self._product + (self._bias + direction[0])
        return _column_losses(moved, self._upstream) - self._column_loss
