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

from .layer import Variable


@dataclass(frozen=True)
class Setting:
    """The symbols of the proof; indices are 1-based (SPEC section 1).

    ``G`` is ∂L/∂A, an ``IndexedBase`` whose entries stand for ∂L/∂a_{p,q}; ``a`` names the
    entries of A and ``L`` the loss, for the statements of the steps. The ``MatrixSymbol``
    objects (``Z_matrix`` …) serve only to let SymPy compute the entries of a claimed matrix
    product on its own (0-based, as SymPy indexes matrices).
    """

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
        extents: dict[Any, tuple[Any, ...]] = {
            self.z: (self.m, self.k),
            self.w: (self.k, self.n),
            self.b: (self.n,),
            self.G: (self.m, self.n),
        }
        return extents[base]


@cache
def setting() -> Setting:
    """The symbols, made once; SymPy is imported only when a proof runs."""
    import sympy

    m, k, n = sympy.symbols("m k n", integer=True, positive=True)
    i, r, j, p, q, s = sympy.symbols("i r j p q s", integer=True, positive=True)
    return Setting(
        m=m,
        k=k,
        n=n,
        i=i,
        r=r,
        j=j,
        p=p,
        q=q,
        s=s,
        z=sympy.IndexedBase("z"),
        w=sympy.IndexedBase("w"),
        b=sympy.IndexedBase("b"),
        G=sympy.IndexedBase("G"),
        Z_matrix=sympy.MatrixSymbol("Z", m, k),
        W_matrix=sympy.MatrixSymbol("W", k, n),
        b_matrix=sympy.MatrixSymbol("b", 1, n),
        G_matrix=sympy.MatrixSymbol("G", m, n),
        ones=sympy.OneMatrix(m, 1),
        a=sympy.IndexedBase("a"),
        L=sympy.Symbol("L"),
    )


@dataclass(frozen=True)
class Claim:
    """A claimed right side of ∂L/∂X, with the names it is written by.

    ``build`` returns either a SymPy matrix expression in the setting's matrix symbols, whose
    shape and entry SymPy then computes, or directly an index expression for the entry of ∂L/∂X
    at the free indices (i, r for Z; r, j for W; j for b). ``latex`` and ``text`` are how whoever
    states the claim writes it; ``inline_latex`` is its form for running text (∂L/∂A slashed).
    """

    variable: Variable
    latex: str
    text: str
    build: Callable[[Setting], Any]
    #: The right side for running text, with ∂L/∂A slashed; defaults to ``latex``.
    inline_latex: str = ""

    @property
    def running_latex(self) -> str:
        """The right side as it is written in a sentence."""
        return self.inline_latex or self.latex


#: The identities of SPEC section 1, with the names SPEC writes them by.
STANDARD_CLAIMS: Mapping[Variable, Claim] = {
    "Z": Claim(
        "Z",
        r"\frac{\partial L}{\partial A} W^\top",
        "∂L/∂A · Wᵀ",
        lambda setting: setting.G_matrix * setting.W_matrix.T,
        r"(\partial L/\partial A)\, W^\top",
    ),
    "W": Claim(
        "W",
        r"Z^\top \frac{\partial L}{\partial A}",
        "Zᵀ · ∂L/∂A",
        lambda setting: setting.Z_matrix.T * setting.G_matrix,
        r"Z^\top (\partial L/\partial A)",
    ),
    "b": Claim(
        "b",
        r"\mathbf{1}_m^\top \frac{\partial L}{\partial A}",
        "1ᵀ · ∂L/∂A",
        lambda setting: setting.ones.T * setting.G_matrix,
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
    """The generic entry of Z (z_{i,r}), W (w_{r,j}) or b (b_j)."""
    if variable == "Z":
        return Target("Z", st.z[st.i, st.r], (st.i, st.r), (st.m, st.k), (st.m, st.k))
    if variable == "W":
        return Target("W", st.w[st.r, st.j], (st.r, st.j), (st.k, st.n), (st.k, st.n))
    return Target("b", st.b[st.j], (st.j,), (st.n,), (1, st.n))
