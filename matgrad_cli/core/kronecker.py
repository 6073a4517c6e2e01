"""The independent route of the Jacobian view: vec, identity matrices and Kronecker products.

Each is built from its definition on nested tuples (Matrix Cookbook §10.2.1: A ⊗ B = [a_{s,t} B];
vec stacks the columns), and none of them differentiates anything, so a Jacobian computed by the
engine can be checked against them.
"""

from __future__ import annotations

from typing import Any

from .layer import Index

#: A matrix as nested tuples of engine expressions (or the Python integers 0 and 1).
Matrix = tuple[tuple[Any, ...], ...]


def vec_order(rows: int, cols: int) -> tuple[Index, ...]:
    """The 1-based (row, column) of each entry of vec(X), column by column (column-major)."""
    return tuple((i, j) for j in range(1, cols + 1) for i in range(1, rows + 1))


def vec(matrix: Matrix) -> tuple[Any, ...]:
    """The columns of ``matrix`` stacked into one vector."""
    rows, cols = len(matrix), len(matrix[0])
    return tuple(matrix[i - 1][j - 1] for i, j in vec_order(rows, cols))


def identity(size: int) -> Matrix:
    """I_size with the integers 0 and 1."""
    return tuple(tuple(int(i == j) for j in range(size)) for i in range(size))


def transposed(matrix: Matrix) -> Matrix:
    """The transpose of a nested-tuple matrix."""
    return tuple(zip(*matrix, strict=True))


def is_exact_zero(value: Any) -> bool:
    """True for an entry that is exactly 0 (the integer, or an engine's zero)."""
    return bool(value == 0)


def _scaled(scale: Any, entry: Any) -> Any:
    """scale·entry, the integer 0 when either is exactly 0: zero blocks stay visibly zero."""
    if is_exact_zero(scale) or is_exact_zero(entry):
        return 0
    if bool(scale == 1):
        return entry
    return scale if bool(entry == 1) else scale * entry


def kronecker(left: Matrix, right: Matrix) -> Matrix:
    """left ⊗ right: block (s, t) is left[s][t]·right (Matrix Cookbook §10.2.1)."""
    return tuple(
        tuple(_scaled(scale, entry) for scale in left_row for entry in right_row)
        for left_row in left
        for right_row in right
    )
