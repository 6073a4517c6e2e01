"""The setting of `matgrad prove`: symbolic sizes, indexed entries, and the identities claimed.

The sizes m, k, n are SymPy symbols and the entries are indexed symbols, 1-based (SPEC
section 1). A claim is the right side of ∂L/∂X; the standard claims are the identities of SPEC
section 1, and a test replaces one by a wrong form to show that it is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import sympy

from .layer import LAYER, Factor, Variable


@dataclass(frozen=True)
class Setting:
    """The symbols of the proof, indices 1-based (SPEC section 1): ``G[p, q]`` stands for
    ∂L/∂a_{p,q}, ``a`` and ``L`` serve the statements of the steps, and the ``MatrixSymbol``
    objects (``Z_matrix`` …) let SymPy compute the entries of a claimed product on its own."""

    m: Any
    k: Any
    n: Any
    i: Any
    r: Any
    j: Any
    p: Any
    q: Any
    s: Any
    z: Any
    w: Any
    b: Any
    G: Any
    Z_matrix: Any
    W_matrix: Any
    b_matrix: Any
    G_matrix: Any
    ones: Any
    a: Any
    L: Any

    def extent(self, base: Any) -> tuple[Any, ...]:
        """The upper bounds of an indexed base's indices: z is m×k, b has n entries."""
        m, k, n = self.m, self.k, self.n
        return {self.z: (m, k), self.w: (k, n), self.b: (n,), self.G: (m, n)}[base]


@cache
def setting() -> Setting:
    """The symbols, made once, the matrices shaped as the layer describes them (core/layer.py)."""
    m, k, n = sympy.symbols("m k n", integer=True, positive=True)
    i, r, j, p, q, s = sympy.symbols("i r j p q s", integer=True, positive=True)
    size = {"m": m, "k": k, "n": n, "1": 1}

    def matrix(name: str) -> Any:
        described = LAYER.matrix(name)
        return sympy.MatrixSymbol(name, size[described.rows], size[described.cols])

    z, w, b, G, a = map(sympy.IndexedBase, "zwbGa")
    matrices = (matrix("Z"), matrix("W"), matrix("b"), matrix("G"))
    ones = sympy.OneMatrix(size[LAYER.matrix("1").rows], 1)
    return Setting(m, k, n, i, r, j, p, q, s, z, w, b, G, *matrices, ones, a, sympy.Symbol("L"))


@dataclass(frozen=True)
class Claim:
    """A claimed right side of ∂L/∂X, as whoever states it writes it (``inline_latex``, for
    running text, defaults to ``latex``). ``build`` returns a SymPy matrix expression in the
    setting's matrix symbols, or the index expression of the entry at the free indices (i, r for
    Z; r, j for W; j for b)."""

    variable: Variable
    latex: str
    text: str
    build: Callable[[Setting], Any]
    inline_latex: str = ""

    @property
    def running_latex(self) -> str:
        """The right side as it is written in a sentence."""
        return self.inline_latex or self.latex


def _factor(factor: Factor, st: Setting) -> Any:
    """A factor of a backward rule as SymPy's matrix symbol, transposed when it is."""
    matrices = {"Z": st.Z_matrix, "W": st.W_matrix, "G": st.G_matrix, "1": st.ones}
    matrix = matrices[factor.matrix]
    return matrix.T if factor.transposed else matrix


def _standard_claim(variable: Variable, latex: str, inline_latex: str) -> Claim:
    """The layer's backward rule for ``variable`` as a claim: its text and its product are the
    rule's own (core/layer.py); ``latex`` and ``inline_latex`` write it for documents."""
    rule = LAYER.rule(variable)

    def build(st: Setting) -> Any:
        left, right = (_factor(factor, st) for factor in rule.factors)
        return left * right

    return Claim(variable, latex, rule.text, build, inline_latex)


#: The identities of SPEC section 1: ∂L/∂Z = G·Wᵀ, ∂L/∂W = Zᵀ·G, ∂L/∂b = 1ᵀ·G.
STANDARD_CLAIMS: Mapping[Variable, Claim] = {
    "Z": _standard_claim(
        "Z", r"\frac{\partial L}{\partial A} W^\top", r"(\partial L/\partial A)\, W^\top"
    ),
    "W": _standard_claim(
        "W", r"Z^\top \frac{\partial L}{\partial A}", r"Z^\top (\partial L/\partial A)"
    ),
    "b": _standard_claim(
        "b",
        r"\mathbf{1}_m^\top \frac{\partial L}{\partial A}",
        r"\mathbf{1}_m^\top (\partial L/\partial A)",
    ),
}


@dataclass(frozen=True)
class Target:
    """What is differentiated: the entry x of X, its free indices with their bounds, X's shape."""

    variable: Variable
    entry: Any
    indices: tuple[Any, ...]
    bounds: tuple[Any, ...]
    shape: tuple[Any, Any]

    @property
    def ranges(self) -> tuple[tuple[Any, Any], ...]:
        """Each free index with its upper bound: (i, m), (r, k)."""
        return tuple(zip(self.indices, self.bounds, strict=True))


def target_of(variable: Variable, st: Setting) -> Target:
    """The generic entry of Z (z_{i,r}), W (w_{r,j}) or b (b_j), with the names and shape the
    layer gives the matrix (core/layer.py)."""
    matrix = LAYER.matrix(variable)
    indices = tuple(getattr(st, name) for name in matrix.indices)
    shape = tuple(
        1 if letter == "1" else getattr(st, letter) for letter in (matrix.rows, matrix.cols)
    )
    entry = getattr(st, matrix.entry)[indices]
    return Target(variable, entry, indices, shape[-len(indices) :], (shape[0], shape[1]))
