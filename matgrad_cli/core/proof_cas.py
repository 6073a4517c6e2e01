"""The setting of `matgrad prove` and its computer-algebra steps, each guarded by a time limit.

The sizes m, k, n are SymPy symbols and the entries are indexed symbols, 1-based (SPEC
section 1). Every line of a proof is one of these calls into SymPy: the forward pass,
``sympy.diff``, the delta summation of one sum (``Sum.doit``), the entry of a matrix product, and
the simplified difference of two sides. ``CASSteps`` bundles the replaceable ones, so that a test
can break one and see the identity reported as NOT proved.
"""

from __future__ import annotations

import itertools
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, TypeVar

import sympy
from sympy.matrices.expressions.matexpr import MatrixElement

from .layer import LAYERS, BiasBroadcast, Layer, MatrixProduct, Samples, Variable

#: Longest time one CAS step may take before it is abandoned, leaving the identity unproved.
STEP_SECONDS = 5.0

#: Sizes at which a claim SymPy could not prove is instantiated, to look for a counterexample.
COUNTEREXAMPLE_SIZES = ((2, 3, 4), (3, 3, 3), (3, 2, 2))

T = TypeVar("T")


@dataclass(frozen=True)
class Setting:
    """The symbols of the proof in one convention, indices 1-based (SPEC section 1): ``G[p, q]``
    stands for ∂L/∂a_{p,q}, ``a`` and ``L`` serve the statements of the steps, and the
    ``MatrixSymbol`` objects (``matrices``, by the layer's names) let SymPy compute the entries of
    a claimed product on its own. ``bases`` holds the indexed symbol of each matrix's entries, by
    its name (z of Z or x of X, w, b, G, a); p and q index the rows and columns of A, s the
    shared dimension k."""

    layer: Layer
    m: Any
    k: Any
    n: Any
    i: Any
    r: Any
    j: Any
    p: Any
    q: Any
    s: Any
    bases: Mapping[str, Any]
    matrices: Mapping[str, Any]
    L: Any

    @property
    def input(self) -> Any:
        """The entries of the input: z of Z (samples as rows) or x of X (samples as columns)."""
        return self.bases[self.layer.role("input").name]

    @property
    def w(self) -> Any:
        return self.bases["W"]

    @property
    def b(self) -> Any:
        return self.bases["b"]

    @property
    def G(self) -> Any:
        return self.bases["G"]

    @property
    def a(self) -> Any:
        return self.bases["A"]

    @property
    def input_matrix(self) -> Any:
        return self.matrices[self.layer.role("input").name]

    @property
    def W_matrix(self) -> Any:
        return self.matrices["W"]

    @property
    def b_matrix(self) -> Any:
        return self.matrices["b"]

    @property
    def G_matrix(self) -> Any:
        return self.matrices["G"]

    @property
    def ones(self) -> Any:
        return self.matrices["1"]

    def size(self, letter: str) -> Any:
        """The symbol a size letter of the layer stands for (m, k, n), or 1."""
        return {"m": self.m, "k": self.k, "n": self.n, "1": sympy.Integer(1)}[letter]

    def bounds(self, name: str) -> tuple[Any, ...]:
        """The upper bounds of the indices of a matrix's entries: Z is m×k; a vector such as b
        has one index, up to its length n."""
        matrix = self.layer.matrix(name)
        letters = (matrix.rows, matrix.cols)
        return tuple(
            self.size(letter) for letter in letters if not (matrix.vector and letter == "1")
        )

    def extent(self, base: Any) -> tuple[Any, ...]:
        """The upper bounds of an indexed base's indices: z is m×k, b has n entries."""
        name = next(name for name, known in self.bases.items() if known == base)
        return self.bounds(name)

    @property
    def output_sizes(self) -> tuple[Any, Any]:
        """The ranges of p and q: A is m×n with samples as rows, n×m as columns."""
        output = self.layer.role("output")
        return (self.size(output.rows), self.size(output.cols))


@cache
def setting(samples: Samples = "rows") -> Setting:
    """The symbols in the convention ``samples``, made once, the matrices shaped as the layer
    describes them (core/layer.py)."""
    layer = LAYERS[samples]
    m, k, n = sympy.symbols("m k n", integer=True, positive=True)
    i, r, j, p, q, s = sympy.symbols("i r j p q s", integer=True, positive=True)
    size = {"m": m, "k": k, "n": n, "1": 1}
    bases: dict[str, Any] = {}
    matrices: dict[str, Any] = {}
    for described in layer.matrices:
        shape = (size[described.rows], size[described.cols])
        if described.role == "ones":
            matrices[described.name] = sympy.OneMatrix(*shape)
            continue
        letter = "G" if described.role == "upstream" else described.entry
        bases[described.name] = sympy.IndexedBase(letter)
        if described.role != "output":
            matrices[described.name] = sympy.MatrixSymbol(described.name, *shape)
    return Setting(layer, m, k, n, i, r, j, p, q, s, bases, matrices, sympy.Symbol("L"))


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
    """The generic entry of the variable with the layer's index letters (z_{i,r} or x_{r,i},
    w_{r,j} or w_{j,r}, b_j) and the shape the layer gives the matrix (core/layer.py)."""
    matrix = st.layer.matrix(variable)
    indices = tuple(getattr(st, name) for name in matrix.indices)
    shape = (st.size(matrix.rows), st.size(matrix.cols))
    entry = st.bases[variable][indices]
    return Target(variable, entry, indices, st.bounds(variable), shape)


class CASTimeout(BaseException):
    """A CAS step ran over its time limit (a BaseException, which SymPy's own
    ``except Exception`` clauses cannot swallow)."""


#: The CAS calls a proof makes: sympy.diff, one delta summation, the claim's matrix expression,
#: the entry of that matrix, the simplified difference of the two sides, a counterexample.
CASCall = Literal["diff", "sum", "build", "entry", "difference", "search"]


@dataclass(frozen=True)
class CASFailure:
    """A CAS call that gave no result: it ran over ``seconds``, or raised ``error`` (the
    exception's type and message, as SymPy gave them)."""

    call: CASCall
    seconds: float | None = None
    error: str = ""


class StepFailed(Exception):
    """A CAS step that did not finish or gave no usable result; ``failure`` says which and why."""

    def __init__(self, failure: CASFailure) -> None:
        super().__init__(failure)
        self.failure = failure


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (on the main thread of a Unix process; elsewhere
    the block runs without a limit)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise CASTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def guarded(action: Callable[[], T], call: CASCall, seconds: float = STEP_SECONDS) -> T:
    """Run one CAS step; a time-out or an exception becomes a StepFailed naming the call."""
    try:
        with _time_limit(seconds):
            return action()
    except CASTimeout:
        raise StepFailed(CASFailure(call, seconds=seconds)) from None
    except Exception as error:  # whatever the CAS raises, the step is not proved
        detail = f"{type(error).__name__}: {error}".strip().rstrip(":")
        raise StepFailed(CASFailure(call, error=detail)) from error


def forward_entry(st: Setting, bias: bool) -> Any:
    """a_{p,q} by definition, read off the layer's operations: Σ_{s=1}^{k} z_{p,s} w_{s,q}
    (+ b_q) with samples as rows, Σ_{s=1}^{k} w_{p,s} x_{s,q} (+ b_p) as columns."""
    entry: Any = sympy.Integer(0)
    for operation in st.layer.operations:
        if isinstance(operation, MatrixProduct):
            left, right = st.bases[operation.left], st.bases[operation.right]
            entry += sympy.Sum(left[st.p, st.s] * right[st.s, st.q], (st.s, 1, st.k))
        elif isinstance(operation, BiasBroadcast) and bias:
            # The bias of A's row (a column b, broadcast along the row) or of its column.
            entry += st.bases[operation.bias][st.p if operation.bias_first else st.q]
    return entry


def sum_out(expr: Any, variable: Any) -> Any:
    """Carry out the sum over ``variable`` wherever it is summed, by SymPy's delta summation: that
    sum is moved innermost (its limits are constants, so sums commute) and done by ``Sum.doit``."""

    def carry_out(node: Any) -> Any:
        mine = next(limit for limit in node.limits if limit[0] == variable)
        rest = [limit for limit in node.limits if limit[0] != variable]
        inner = sympy.Sum(node.function, mine).doit(deep=False)
        return sympy.Sum(inner, *rest) if rest else inner

    return expr.replace(
        lambda node: isinstance(node, sympy.Sum) and variable in node.variables, carry_out
    )


def matrix_entry(matrix: Any, indices: Sequence[Any], st: Setting) -> Any:
    """The entry of a SymPy matrix expression at the 1-based symbolic ``indices``, computed by
    SymPy: ``(G*W.T)[i-1, r-1]`` is a Sum of 0-based ``MatrixElement`` products, which become the
    1-based z_{p,s}, w_{s,q}, b_q and ∂L/∂a_{p,q}, each summation index shifted to run from 1
    and named after the index of A or the shared dimension that it runs over."""
    if len(indices) == 2:
        row, col = indices[0], indices[1]
    else:  # a vector: a row such as b (1×n), or a column (n×1)
        row, col = (1, indices[0]) if matrix.shape[0] == 1 else (indices[0], 1)
    element = matrix[row - 1, col - 1]
    bases = {st.matrices[name]: base for name, base in st.bases.items() if name in st.matrices}
    row_bias = st.layer.role("bias").rows == "1"

    def indexed(node: Any) -> Any:
        if node.parent == st.b_matrix:
            return st.b[(node.j if row_bias else node.i) + 1]
        return bases[node.parent][node.i + 1, node.j + 1]

    element = element.replace(lambda node: isinstance(node, MatrixElement), indexed)
    rows, cols = st.output_sizes
    names = {rows: st.p, cols: st.q, st.k: st.s}

    def one_based(node: Any) -> Any:
        for var, low, high in node.limits:
            if low == 0:
                name = names.get(high + 1)
                node = node.change_index(var, var + 1, None if name in node.free_symbols else name)
        return node

    return element.replace(lambda node: isinstance(node, sympy.Sum), one_based)


def difference(left: Any, right: Any) -> Any:
    """left − right, simplified by SymPy: 0 when SymPy shows the two equal."""
    return sympy.simplify(left - right)


def range_facts(target: Target) -> set[Any]:
    """The ranges of the free indices as canonical relations: r ≤ k and r ≥ 1, …"""
    return {
        fact.canonical
        for index, bound in target.ranges
        for fact in (sympy.Le(index, bound), sympy.Ge(index, 1))
    }


def _implied(condition: Any, facts: set[Any]) -> bool:
    """True when ``condition`` is one of ``facts``, or a conjunction of them."""
    if condition is sympy.true:
        return True
    if isinstance(condition, sympy.And):
        return all(_implied(part, facts) for part in condition.args)
    return isinstance(condition, sympy.core.relational.Relational) and (
        condition.canonical in facts
    )


def resolve_conditions(expr: Any, facts: set[Any]) -> tuple[Any, list[Any], list[Any]]:
    """Each Piecewise whose first condition follows from ``facts`` replaced by its first branch:
    the new expression, the conditions discharged, and those left (their Piecewise kept)."""
    used: list[Any] = []
    left: list[Any] = []

    def resolve(node: Any) -> Any:
        value, condition = node.args[0]
        if _implied(condition, facts):
            if condition is not sympy.true:
                used.append(condition)
            return value
        left.append(condition)
        return node

    result = expr.replace(lambda node: isinstance(node, sympy.Piecewise), resolve)
    return result, used, left


def next_delta_sum(expr: Any) -> tuple[Any, Any] | None:
    """The innermost summation index that a Kronecker delta in its summand fixes, with it."""
    best: tuple[tuple[int, int], Any, Any] | None = None

    def visit(node: Any, depth: int) -> None:
        nonlocal best
        if isinstance(node, sympy.Sum):
            deltas = sorted(node.function.atoms(sympy.KroneckerDelta), key=sympy.default_sort_key)
            for position, variable in enumerate(node.variables):
                delta = next((d for d in deltas if variable in d.free_symbols), None)
                key = (depth, -position)
                if delta is not None and (best is None or key > best[0]):
                    best = (key, variable, delta)
        for argument in node.args:
            visit(argument, depth + 1)

    visit(expr, 0)
    return None if best is None else (best[1], best[2])


def counterexample(
    left: Any, right: Any, target: Target, st: Setting
) -> tuple[tuple[int, int, int], tuple[int, ...]] | None:
    """Sizes and an entry at which the two sides differ once the sums are written out, or None;
    only instantiations whose entries all lie inside their matrices count."""
    for sizes in COUNTEREXAMPLE_SIZES:
        values = dict(zip((st.m, st.k, st.n), sizes, strict=True))
        ranges = [range(1, int(bound.subs(values)) + 1) for bound in target.bounds]
        for point in itertools.product(*ranges):
            at = {**values, **dict(zip(target.indices, point, strict=True))}
            gap = sympy.expand((left - right).subs(at).doit())
            if gap == 0:
                continue
            inside = all(
                index.is_Integer and 1 <= int(index) <= int(bound.subs(values))
                for node in gap.atoms(sympy.Indexed)
                for index, bound in zip(node.indices, st.extent(node.base), strict=True)
            )
            if inside:
                return sizes, point
    return None


@dataclass(frozen=True)
class CASSteps:
    """The CAS steps a proof calls, each replaceable: a test passes a broken one to see that an
    identity it cannot finish is reported as NOT proved."""

    local_partial: Callable[[Any, Any], Any] = sympy.diff  # ∂a_{p,q}/∂x from the forward pass
    sum_out: Callable[[Any, Any], Any] = sum_out
    difference: Callable[[Any, Any], Any] = difference
    range_facts: Callable[[Target], set[Any]] = range_facts
