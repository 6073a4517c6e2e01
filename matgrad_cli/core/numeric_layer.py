"""The random layer of the numeric check: integer Z, W, b and G, and the generic loss evaluated
through forward passes only (numeric.py explains why every number here is exact).

This is the numeric check's elementwise side: it never uses the backward rules under test.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .layer import LAYER, Sizes, Variable
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


class RandomLayer:
    """The random layer and its generic loss L = Σ G_{p,q}·a_{p,q}, evaluated only through forward
    passes: the difference quotients and directional derivatives of the numeric check."""

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
        # A chunk holds the perturbed rows of Z (k entries each) and the rows of A (n each).
        chunk = _chunk(*self.weights.shape)
        for start in range(0, len(rows), chunk):
            row_ids, col_ids = rows[start : start + chunk], cols[start : start + chunk]
            perturbed = self.inputs[row_ids]
            perturbed[np.arange(len(row_ids)), col_ids] += 1.0
            new_rows = matmul(perturbed, self.weights) + self.bias
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
        # Per row i: k perturbed rows of Z (k·k entries) and k rows of A (k·n).
        chunk = _chunk(k * k, k * n)
        for start in range(0, m, chunk):
            stop = min(m, start + chunk)
            perturbed = (self.inputs[start:stop, None, :] + identity).reshape(-1, k)
            new_rows = matmul(perturbed, self.weights) + self.bias
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
        # A chunk holds the perturbed columns of W (k entries each) and the columns of A (m each).
        chunk = _chunk(*self.inputs.shape)
        for start in range(0, len(rows), chunk):
            row_ids, col_ids = rows[start : start + chunk], cols[start : start + chunk]
            # Worked on transposed, so that every gather takes whole contiguous rows: row t of
            # ``perturbed`` is column j = col_ids[t] of W with e_r added, and row t of
            # ``new_columns`` is column j of A recomputed from it.
            perturbed = self.weights_by_column[col_ids]
            perturbed[np.arange(len(row_ids)), row_ids] += 1.0
            new_columns = matmul(perturbed, self.inputs.T) + self.bias[col_ids, None]
            new_loss = self._row_losses(new_columns, self.upstream_by_column[col_ids])
            partials[start : start + chunk] = new_loss - self.column_loss[col_ids]
        return partials

    def all_weight_partials(self) -> Integers:
        """L(W + E_{r,j}) − L(W) for every entry of W, a block of columns j at a time."""
        m, k = self.inputs.shape
        n = self.weights.shape[1]
        partials = np.empty((k, n), np.int64)
        identity = np.eye(k)
        # Per column j: k perturbed columns of W (k·k entries) and k columns of A (m·k).
        chunk = _chunk(k * k, m * k)
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            # Column (j, r) of the perturbed weights is W_j + e_r.
            perturbed = (self.weights[:, start:stop, None] + identity[:, None, :]).reshape(k, -1)
            new_columns = matmul(self.inputs, perturbed).reshape(m, stop - start, k)
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
        role = LAYER.matrix(variable).role
        if role == "input":
            return self.input_partials(rows, cols)
        if role == "weights":
            return self.weight_partials(rows, cols)
        return self.bias_partials(cols)

    def all_partials(self, variable: Variable) -> Integers:
        """The one-entry difference quotients of L at every entry of ``variable``."""
        role = LAYER.matrix(variable).role
        if role == "input":
            return self.all_input_partials()
        if role == "weights":
            return self.all_weight_partials()
        return self.bias_partials(np.arange(len(self.bias))).reshape(1, -1)

    def directional(self, variable: Variable, direction: Matrix) -> Integers:
        """L(X + V) − L(X) for X = ``variable``, by row of A for Z, by column for W and b.

        Row i of A depends on row i of Z only, and column j on column j of W and on b_j, so these
        parts add up to L(X + V) − L(X) and each is the directional derivative along the
        matching part of V.
        """
        role = LAYER.matrix(variable).role
        if role == "input":
            moved = matmul(self.inputs + direction, self.weights) + self.bias
            return self._row_losses(moved, self.upstream) - self.row_loss
        if role == "weights":
            moved = matmul(self.inputs, self.weights + direction) + self.bias
        else:
            moved = self.product + (self.bias + direction[0])
        return self._column_losses(moved, self.upstream) - self.column_loss
