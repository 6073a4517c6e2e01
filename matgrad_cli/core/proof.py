"""`matgrad prove`: the gradient identities proved for every size, in index notation, by SymPy.

The sizes m, k, n are symbols and the entries are indexed symbols, so every sum is symbolic. Each
identity is derived as SPEC section 1 prescribes, every step computed by the computer algebra
system and none filled in from the identity under test:

1. the forward pass a_{p,q} = Σ_s z_{p,s} w_{s,q} (+ b_q), the definition;
2. the local partial ∂a_{p,q}/∂x by ``sympy.diff``, a sum of Kronecker-delta products;
3. the chain rule ∂L/∂x = Σ_{p,q} ∂L/∂a_{p,q} · ∂a_{p,q}/∂x;
4. one line for each sum a Kronecker delta collapses, by SymPy's delta summation (``Sum.doit``);
5. the comparison with the entry of the matrix product, which SymPy computes on its own from
   ``MatrixSymbol`` objects: the difference must simplify to 0, and the shapes must agree.

SymPy states a collapsed sum under a condition such as r ≤ k. The condition is discharged only
when it is one of the ranges (1 ≤ i ≤ m, …) of the entry being differentiated, and the step says
so. Anything else (an exception, a time-out, a delta or a condition left over, a difference that
is not 0) leaves the identity NOT proved, with the reason: nothing unproved is reported as proved.
"""

from __future__ import annotations

import itertools
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, TypeVar

from . import bridge
from .model import Variable

#: Longest time one CAS step may take before it is abandoned, leaving the identity unproved.
STEP_SECONDS = 5.0

#: Sizes at which a claim SymPy could not prove is instantiated, to look for a counterexample.
COUNTEREXAMPLE_SIZES = ((2, 3, 4), (3, 3, 3), (3, 2, 2))

#: The most delta-collapsing steps one derivation may take (each removes one sum).
COLLAPSE_LIMIT = 6

#: The relation written before a line that is not proved.
UNPROVED = r"\overset{?}{=}"

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------
# The results


@dataclass(frozen=True)
class ProofStep:
    """One line of a derivation: the CAS's result and what was done to get it.

    ``lhs_latex``/``lhs`` are set on a line that starts an equation (a_{p,q} = …,
    ∂L/∂z_{i,r} = …); other lines continue the one above. ``proved`` is True only when the CAS
    completed the step and every condition it stated was discharged. ``expr`` is the SymPy
    result, None when the CAS gave none. The description is given in plain text and, with its
    math between $ signs, in LaTeX; ``label`` is its short form, LaTeX for the aligned line.
    """

    description: str
    latex: str
    expr: Any
    proved: bool
    text: str = ""
    description_latex: str = ""
    label: str = ""
    lhs_latex: str = ""
    lhs: str = ""
    relation: str = "="


@dataclass(frozen=True)
class Proof:
    """The derivation of one identity ∂L/∂X = (matrix form), for symbolic sizes."""

    variable: Variable
    identity: str
    statement_latex: str
    #: The statement for running text and tables, with ∂L/∂X slashed.
    inline_statement_latex: str
    entry_latex: str
    entry: str
    ranges_latex: str
    ranges: str
    steps: tuple[ProofStep, ...]
    proved: bool
    reason: str = ""
    bias: bool = True
    reason_latex: str = ""


@dataclass(frozen=True)
class ProofReport:
    """The proofs of ∂L/∂Z, ∂L/∂W and, with the bias, ∂L/∂b."""

    bias: bool
    proofs: tuple[Proof, ...]

    @property
    def proved(self) -> bool:
        """True when every identity was proved."""
        return all(proof.proved for proof in self.proofs)

    # Views, each the same text as `matgrad prove` with the same options; the renderers are
    # imported on first use, so this module holds no rendering code.

    def to_latex(self, *, standalone: bool = False) -> str:
        """The proof as LaTeX, as `matgrad prove` prints it."""
        return bridge.render(self, "latex", standalone=standalone)

    def to_markdown(self) -> str:
        """The proof as Markdown, as `matgrad prove --format markdown` prints it."""
        return bridge.render(self, "markdown")

    def to_json(self) -> str:
        """The proof as JSON, as `matgrad prove --format json` prints it."""
        return bridge.render(self, "json")

    def to_text(self, *, width: int = 80) -> str:
        """The terminal view, as `matgrad prove --format text` prints it when piped."""
        return bridge.render(self, "text", width=width)

    def _repr_markdown_(self) -> str:
        """Jupyter shows the proof as rendered Markdown with math."""
        return self.to_markdown()

    def __rich_console__(self, console: Any, options: Any) -> Any:
        """rich prints the terminal view."""
        yield bridge.terminal_view(self)


# ---------------------------------------------------------------------------------------------
# The setting: symbolic sizes, indexed entries, and the matrices as SymPy sees them


@dataclass(frozen=True)
class Setting:
    """The symbols of the proof; indices are 1-based (SPEC section 1).

    ``G`` is ∂L/∂A, an ``IndexedBase`` whose entries print as ∂L/∂a_{p,q}. The ``MatrixSymbol``
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
    )


@dataclass(frozen=True)
class Claim:
    """A claimed right side of ∂L/∂X.

    ``build`` returns either a SymPy matrix expression in the setting's matrix symbols, whose
    shape and entry SymPy then computes, or directly an index expression for the entry of ∂L/∂X
    at the free indices (i, r for Z; r, j for W; j for b).
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


#: The identities of SPEC section 1.
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
class _Target:
    """What is differentiated: the entry x of X, its free indices with their bounds, X's shape."""

    variable: Variable
    entry: Any
    indices: tuple[Any, ...]
    bounds: tuple[Any, ...]
    shape: tuple[Any, Any]


def _target(variable: Variable, st: Setting) -> _Target:
    if variable == "Z":
        return _Target("Z", st.z[st.i, st.r], (st.i, st.r), (st.m, st.k), (st.m, st.k))
    if variable == "W":
        return _Target("W", st.w[st.r, st.j], (st.r, st.j), (st.k, st.n), (st.k, st.n))
    return _Target("b", st.b[st.j], (st.j,), (st.n,), (1, st.n))


# ---------------------------------------------------------------------------------------------
# Notation: the expressions of the proof in LaTeX and in plain text

#: The order of factors in a written product: z before ∂L/∂a before δ before w, so that the
#: products read as in A = ZW, ∂L/∂A·Wᵀ and Zᵀ·∂L/∂A; sums come last.
FACTOR_ORDER = ("z", "G", "delta", "w", "b")


def _factor_rank(factor: Any) -> int:
    import sympy

    if isinstance(factor, sympy.Indexed):
        name = str(factor.base.label)
        return FACTOR_ORDER.index(name) if name in FACTOR_ORDER else len(FACTOR_ORDER)
    if isinstance(factor, sympy.KroneckerDelta):
        return FACTOR_ORDER.index("delta")
    if isinstance(factor, sympy.Sum):
        return len(FACTOR_ORDER) + 2
    return len(FACTOR_ORDER) + 1


def _product(expr: Any, show: Callable[[Any], str], open_: str, close: str, minus: str) -> str:
    """A product in FACTOR_ORDER, sums among its factors parenthesised."""
    coefficient, factors = expr.as_coeff_mul()
    ordered = sorted(factors, key=_factor_rank)  # stable: SymPy's order among equals
    body = " ".join(
        f"{open_}{show(factor)}{close}" if factor.is_Add else show(factor) for factor in ordered
    )
    if coefficient == 1:
        return body
    if coefficient == -1:
        return f"{minus}{body}"
    return f"{show(coefficient)} {body}"


def _terms(expr: Any, show: Callable[[Any], str], minus: str) -> str:
    """A sum with + and ``minus``, its sums first (Σ_s z_{p,s} w_{s,q} + b_q), then SymPy's
    order."""
    import sympy

    terms = sorted(expr.as_ordered_terms(), key=lambda term: not term.has(sympy.Sum))
    text = ""
    for number, term in enumerate(terms):
        negative = bool(term.could_extract_minus_sign())
        shown = show(-term if negative else term)
        if number == 0:
            text = f"{minus}{shown}" if negative else shown
        else:
            text += f" {minus if negative else '+'} {shown}"
    return text


def _upper_bound_form(condition: Any) -> Any:
    """k ≥ r written the way the ranges are, as r ≤ k."""
    import sympy

    if isinstance(condition, sympy.GreaterThan):
        return sympy.Le(condition.rhs, condition.lhs, evaluate=False)
    return condition


@cache
def _printers() -> tuple[Any, Any, Any]:
    """LaTeX printers (display, inline) and a plain-text printer in matgrad's notation."""
    from sympy import Indexed
    from sympy.printing.latex import LatexPrinter
    from sympy.printing.str import StrPrinter

    class ProofLatexPrinter(LatexPrinter):  # type: ignore[misc]  # sympy has no stubs
        """z_{p,s}, \\frac{\\partial L}{\\partial a_{p,q}}, \\delta_{i,p}, nested sums.

        With ``inline``, for running text, ∂L/∂a_{p,q} is slashed (in parentheses inside a
        product) instead of a fraction.
        """

        inline = False

        def _print_Indexed(self, expr: Any) -> str:
            indices = ",".join(self._print(index) for index in expr.indices)
            if str(expr.base.label) == "G":
                if self.inline:
                    return rf"\partial L/\partial a_{{{indices}}}"
                return rf"\frac{{\partial L}}{{\partial a_{{{indices}}}}}"
            return f"{expr.base.label}_{{{indices}}}"

        def _print_KroneckerDelta(self, expr: Any, exp: Any = None) -> str:
            return rf"\delta_{{{','.join(self._print(index) for index in expr.args[:2])}}}"

        def _print_Sum(self, expr: Any) -> str:
            signs = " ".join(
                rf"\sum_{{{self._print(var)}={self._print(low)}}}^{{{self._print(high)}}}"
                for var, low, high in reversed(expr.limits)
            )
            body = self._print(expr.function)
            return rf"{signs} \left({body}\right)" if expr.function.is_Add else f"{signs} {body}"

        def _print_Add(self, expr: Any, order: Any = None) -> str:
            return _terms(expr, self._print, "-")

        def _print_Mul(self, expr: Any) -> str:
            def show(factor: Any) -> str:
                text = str(self._print(factor))
                slashed = self.inline and isinstance(factor, Indexed) and "/" in text
                return f"({text})" if slashed else text

            return _product(expr, show, r"\left(", r"\right)", "-")

        def _print_Relational(self, expr: Any) -> str:
            return str(super()._print_Relational(_upper_bound_form(expr)))

    class ProofTextPrinter(StrPrinter):  # type: ignore[misc]
        """The same notation in plain text: g_{p,q} for ∂L/∂a_{p,q}, Σ_{s=1}^{k} for sums."""

        # Not "_sympystr": Indexed has that method, which would bypass _print_Indexed.
        printmethod = "_matgrad_text"

        def _print_Indexed(self, expr: Any) -> str:
            indices = [self._print(index) for index in expr.indices]
            letter = "g" if str(expr.base.label) == "G" else str(expr.base.label)
            if len(indices) == 1 and len(indices[0]) == 1:
                return f"{letter}_{indices[0]}"
            return f"{letter}_{{{','.join(indices)}}}"

        def _print_KroneckerDelta(self, expr: Any) -> str:
            return f"δ_{{{','.join(self._print(index) for index in expr.args[:2])}}}"

        def _print_Sum(self, expr: Any) -> str:
            signs = " ".join(
                f"Σ_{{{self._print(var)}={self._print(low)}}}^{{{self._print(high)}}}"
                for var, low, high in reversed(expr.limits)
            )
            body = self._print(expr.function)
            return f"{signs} ({body})" if expr.function.is_Add else f"{signs} {body}"

        def _print_Add(self, expr: Any, order: Any = None) -> str:
            return _terms(expr, self._print, "−")

        def _print_Mul(self, expr: Any) -> str:
            return _product(expr, self._print, "(", ")", "−")

        def _print_Relational(self, expr: Any) -> str:
            expr = _upper_bound_form(expr)
            symbol = {"<=": "≤", ">=": "≥", "==": "=", "!=": "≠"}.get(expr.rel_op, expr.rel_op)
            return f"{self._print(expr.lhs)} {symbol} {self._print(expr.rhs)}"

        def _print_Piecewise(self, expr: Any) -> str:
            branches = [
                f"{self._print(value)} if {self._print(condition)}"
                if str(condition) != "True"
                else f"{self._print(value)} otherwise"
                for value, condition in expr.args
            ]
            return "{" + "; ".join(branches) + "}"

    inline = ProofLatexPrinter({"mul_symbol": None})
    inline.inline = True
    return ProofLatexPrinter({"mul_symbol": None}), inline, ProofTextPrinter()


def expr_latex(expr: Any, inline: bool = False) -> str:
    """A proof expression in LaTeX; ``inline`` for running text (∂L/∂a_{p,q} slashed)."""
    return str(_printers()[1 if inline else 0].doprint(expr))


def expr_text(expr: Any) -> str:
    """A proof expression in plain text (g_{p,q} stands for ∂L/∂a_{p,q})."""
    return str(_printers()[2].doprint(expr))


def _ranges(pairs: Sequence[tuple[Any, Any]]) -> tuple[str, str]:
    """1 ≤ i ≤ m, 1 ≤ r ≤ k in LaTeX and in plain text."""
    latex = r",\ ".join(rf"1 \le {index} \le {bound}" for index, bound in pairs)
    text = ", ".join(f"1 ≤ {index} ≤ {bound}" for index, bound in pairs)
    return latex, text


def _indices_text(indices: Sequence[Any]) -> str:
    """(i, r), or j alone."""
    if len(indices) == 1:
        return str(indices[0])
    return "(" + ", ".join(str(index) for index in indices) + ")"


class _Note:
    """A description in both notations at once: LaTeX prose with $math$, and plain text."""

    def __init__(self) -> None:
        self._latex: list[str] = []
        self._text: list[str] = []

    def words(self, words: str) -> _Note:
        self._latex.append(words)
        self._text.append(words)
        return self

    def math(self, latex: str, text: str) -> _Note:
        self._latex.append(f"${latex}$")
        self._text.append(text)
        return self

    def expr(self, expr: Any) -> _Note:
        return self.math(expr_latex(expr, inline=True), expr_text(expr))

    def extend(self, other: _Note) -> _Note:
        self._latex.extend(other._latex)
        self._text.extend(other._text)
        return self

    @property
    def text(self) -> str:
        return "".join(self._text)

    @property
    def latex(self) -> str:
        return "".join(self._latex)


# ---------------------------------------------------------------------------------------------
# Guarded CAS calls


class CASTimeout(BaseException):
    """A CAS step ran over its time limit (a BaseException, which SymPy's own
    ``except Exception`` clauses cannot swallow)."""


class StepFailed(Exception):
    """A CAS step that did not finish or gave no usable result; the message says why."""


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


def guarded(action: Callable[[], T], what: str, seconds: float = STEP_SECONDS) -> T:
    """Run one CAS step; a time-out or an exception becomes a StepFailed naming the step."""
    try:
        with _time_limit(seconds):
            return action()
    except CASTimeout:
        raise StepFailed(f"{what}: SymPy did not finish within {seconds:g} s") from None
    except StepFailed:
        raise
    except Exception as error:  # whatever the CAS raises, the step is not proved
        detail = f"{type(error).__name__}: {error}".strip().rstrip(":")
        raise StepFailed(f"{what}: SymPy raised {detail}") from error


# ---------------------------------------------------------------------------------------------
# The CAS steps, module-level so that a test can replace one


def forward_entry(st: Setting, bias: bool) -> Any:
    """a_{p,q} = Σ_{s=1}^{k} z_{p,s} w_{s,q} (+ b_q): the forward pass, by definition."""
    import sympy

    product = sympy.Sum(st.z[st.p, st.s] * st.w[st.s, st.q], (st.s, 1, st.k))
    return product + st.b[st.q] if bias else product


def local_partial(output: Any, entry: Any) -> Any:
    """∂a_{p,q}/∂x, differentiated by SymPy from the forward pass."""
    import sympy

    return sympy.diff(output, entry)


def sum_out(expr: Any, variable: Any) -> Any:
    """Carry out the sum over ``variable`` wherever it is summed, by SymPy's delta summation.

    That sum is moved innermost (the limits are constants, so sums commute) and evaluated with
    ``Sum.doit``; the other sums are kept as they are.
    """
    import sympy

    def carry_out(node: Any) -> Any:
        mine = next(limit for limit in node.limits if limit[0] == variable)
        rest = [limit for limit in node.limits if limit[0] != variable]
        inner = sympy.Sum(node.function, mine).doit(deep=False)
        return sympy.Sum(inner, *rest) if rest else inner

    return expr.replace(
        lambda node: isinstance(node, sympy.Sum) and variable in node.variables, carry_out
    )


def matrix_entry(matrix: Any, indices: Sequence[Any], st: Setting) -> Any:
    """The entry of a SymPy matrix expression at the 1-based symbolic ``indices``, in indices.

    SymPy computes the entry itself: ``(G*W.T)[i-1, r-1]`` is a Sum of products of
    ``MatrixElement`` objects, 0-based. Those become the 1-based entries z_{p,s}, w_{s,q}, b_q and
    ∂L/∂a_{p,q}, and each summation index is shifted to run from 1, named after its range.
    """
    import sympy
    from sympy.matrices.expressions.matexpr import MatrixElement

    row, col = (indices[0], indices[1]) if len(indices) == 2 else (1, indices[0])
    element = matrix[row - 1, col - 1]
    bases = {st.Z_matrix: st.z, st.W_matrix: st.w, st.G_matrix: st.G}

    def indexed(node: Any) -> Any:
        if node.parent == st.b_matrix:
            return st.b[node.j + 1]
        return bases[node.parent][node.i + 1, node.j + 1]

    element = element.replace(lambda node: isinstance(node, MatrixElement), indexed)
    names = {st.m: st.p, st.n: st.q, st.k: st.s}

    def one_based(node: Any) -> Any:
        for var, low, high in node.limits:
            if low == 0:
                name = names.get(high + 1)
                if name is None or name in node.free_symbols:
                    name = None
                node = node.change_index(var, var + 1, name)
        return node

    return element.replace(lambda node: isinstance(node, sympy.Sum), one_based)


def difference(left: Any, right: Any) -> Any:
    """left − right, simplified by SymPy: 0 when SymPy shows the two equal."""
    import sympy

    return sympy.simplify(left - right)


# ---------------------------------------------------------------------------------------------
# Conditions, deltas and counterexamples


def _facts(target: _Target) -> set[Any]:
    """The ranges of the free indices as canonical relations: r ≤ k and r ≥ 1, …"""
    import sympy

    facts = set()
    for index, bound in zip(target.indices, target.bounds, strict=True):
        facts.add(sympy.Le(index, bound).canonical)
        facts.add(sympy.Ge(index, 1).canonical)
    return facts


def _implied(condition: Any, facts: set[Any]) -> bool:
    """True when ``condition`` is one of ``facts``, or a conjunction of them."""
    import sympy

    if condition is sympy.true:
        return True
    if isinstance(condition, sympy.And):
        return all(_implied(part, facts) for part in condition.args)
    return isinstance(condition, sympy.core.relational.Relational) and (
        condition.canonical in facts
    )


def resolve_conditions(expr: Any, facts: set[Any]) -> tuple[Any, list[Any], list[Any]]:
    """Replace each Piecewise whose first condition follows from ``facts`` by its first branch.

    Returns the new expression, the conditions discharged, and those that could not be (their
    Piecewise is kept, so the step is not proved).
    """
    import sympy

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


def _next_delta_sum(expr: Any) -> tuple[Any, Any] | None:
    """The innermost summation index that a Kronecker delta in its summand fixes, with it."""
    import sympy

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


def _counterexample(
    left: Any, right: Any, target: _Target, st: Setting
) -> tuple[tuple[int, int, int], tuple[int, ...]] | None:
    """Sizes and an entry at which the two sides differ once the sums are written out, or None.

    Only instantiations whose entries all lie inside their matrices count.
    """
    import sympy

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


# ---------------------------------------------------------------------------------------------
# The proof of one identity


class _Lines:
    """The lines of one derivation as it is built."""

    def __init__(self) -> None:
        self.steps: list[ProofStep] = []

    def add(
        self,
        expr: Any,
        note: _Note,
        label: str,
        *,
        proved: bool = True,
        lhs: tuple[str, str] = ("", ""),
        shown: tuple[str, str] | None = None,
    ) -> None:
        """A line; ``shown`` is its right side (LaTeX, text) when it is not ``expr`` itself."""
        latex, text = shown if shown is not None else (expr_latex(expr), expr_text(expr))
        self.steps.append(
            ProofStep(
                description=note.text,
                latex=latex,
                expr=expr,
                proved=proved,
                text=text,
                description_latex=note.latex,
                label=label if proved else rf"\text{{NOT proved: }} {label}",
                lhs_latex=lhs[0],
                lhs=lhs[1],
                relation="=" if proved else UNPROVED,
            )
        )

    def failed(self, label: str, reason: _Note, lhs: tuple[str, str] = ("", "")) -> _Note:
        """A line for a step the CAS could not carry out; returns the reason."""
        note = _Note().words("NOT proved: ").extend(reason).words(".")
        self.add(None, note, label, proved=False, lhs=lhs, shown=(r"\;?", "?"))
        return reason


def prove_identity(
    variable: Variable,
    bias: bool = True,
    claim: Claim | None = None,
    step_seconds: float = STEP_SECONDS,
) -> Proof:
    """Prove ∂L/∂X = claim for symbolic m, k, n, step by step with SymPy.

    ``claim`` defaults to the identity of SPEC section 1. The Proof is proved only when every
    step was carried out by the CAS and the final difference simplified to 0.
    """
    st = setting()
    target = _target(variable, st)
    claim = claim if claim is not None else STANDARD_CLAIMS[variable]
    ranges_latex, ranges_text = _ranges(tuple(zip(target.indices, target.bounds, strict=True)))
    lines = _Lines()
    reason = _derive(lines, target, st, bias, claim, step_seconds)
    proved = reason is None and all(step.proved for step in lines.steps)
    if not proved and reason is None:  # a step was not proved, yet no reason: say so anyway
        reason = _Note().words("a step of the derivation was not proved")
    return Proof(
        variable=variable,
        identity=f"∂L/∂{variable} = {claim.text}",
        statement_latex=rf"\frac{{\partial L}}{{\partial {variable}}} = {claim.latex}",
        inline_statement_latex=rf"\partial L/\partial {variable} = {claim.running_latex}",
        entry_latex=expr_latex(target.entry),
        entry=expr_text(target.entry),
        ranges_latex=ranges_latex,
        ranges=ranges_text,
        steps=tuple(lines.steps),
        proved=proved,
        reason=reason.text if reason is not None else "",
        bias=bias,
        reason_latex=reason.latex if reason is not None else "",
    )


def _derive(
    lines: _Lines, target: _Target, st: Setting, bias: bool, claim: Claim, seconds: float
) -> _Note | None:
    """The steps of one proof, into ``lines``; returns why it is not proved, or None."""
    import sympy

    x_latex, x_text = expr_latex(target.entry), expr_text(target.entry)

    # 1. The forward pass, the definition of a_{p,q} (SPEC section 1).
    forward = forward_entry(st, bias)
    note = _Note().words("The forward pass, by definition: each entry of ")
    if bias:
        note.math(r"A = ZW + \mathbf{1}_m b", "A = ZW + 1ₘb")
    else:
        note.math("A = ZW", "A = ZW")
    note.words(" is a sum over the shared index ").math("s", "s")
    if bias:
        note.words(", plus the bias ").math("b_{q}", "b_q").words(" of its column")
    lines.add(forward, note.words("."), r"\text{definition}", lhs=("a_{p,q}", "a_{p,q}"))

    # 2. The local partial ∂a_{p,q}/∂x, by sympy.diff.
    partial_lhs = (rf"\frac{{\partial a_{{p,q}}}}{{\partial {x_latex}}}", f"∂a_{{p,q}}/∂{x_text}")
    try:
        derivative = guarded(lambda: local_partial(forward, target.entry), "sympy.diff", seconds)
        from_bias = (
            guarded(lambda: local_partial(st.b[st.q], target.entry), "sympy.diff", seconds)
            if bias and target.variable != "b"
            else None
        )
    except StepFailed as failure:
        return lines.failed(r"\text{sympy.diff}", _Note().words(str(failure)), partial_lhs)
    note = _Note().words("Computed by SymPy, ")
    note.math(rf"\mathrm{{diff}}(a_{{p,q}}, {x_latex})", f"diff(a_{{p,q}}, {x_text})")
    note.words(": it differentiates the indexed entries into Kronecker deltas, ")
    note.math(r"\delta_{x,y} = 1", "δ_{x,y} = 1").words(" when ").math("x = y", "x = y")
    note.words(" and 0 otherwise")
    if from_bias is not None:
        note.words("; the bias term gives ")
        note.math(
            rf"\partial b_{{q}}/\partial {x_latex} = {expr_latex(from_bias, inline=True)}",
            f"∂b_q/∂{x_text} = {expr_text(from_bias)}",
        )
        if from_bias == 0:
            note.words(", so the bias leaves this gradient unchanged")
    lines.add(derivative, note.words("."), r"\text{sympy.diff}", lhs=partial_lhs)

    # 3. The chain rule through every a_{p,q} (SPEC section 1).
    expr = sympy.Sum(st.G[st.p, st.q] * derivative, (st.q, 1, st.n), (st.p, 1, st.m))
    note = _Note().words("The chain rule through every entry of ").math("A", "A").words(": ")
    note.math(
        rf"\partial L/\partial {x_latex} = \sum_{{p,q}} (\partial L/\partial a_{{p,q}})\,"
        rf"(\partial a_{{p,q}}/\partial {x_latex})",
        f"∂L/∂{x_text} = Σ_{{p,q}} g_{{p,q}} ∂a_{{p,q}}/∂{x_text}",
    )
    note.words(", with the local partial above.")
    chain_lhs = (rf"\frac{{\partial L}}{{\partial {x_latex}}}", f"∂L/∂{x_text}")
    lines.add(expr, note, r"\text{chain rule}", lhs=chain_lhs)

    # 4. Each sum a Kronecker delta collapses, innermost first, by SymPy's delta summation.
    facts = _facts(target)
    for _ in range(COLLAPSE_LIMIT):
        found = _next_delta_sum(expr)
        if found is None:
            break
        variable, delta = found
        label = rf"\text{{sum over }} {variable}"
        try:
            summed = guarded(
                partial(sum_out, expr, variable),
                f"the sum over {variable}",
                seconds,
            )
        except StepFailed as failure:
            return lines.failed(label, _Note().words(str(failure)))
        resolved, used, left = resolve_conditions(summed, facts)
        value = next(argument for argument in delta.args if argument != variable)
        note = _Note().words("The sum over ").math(str(variable), str(variable))
        note.words(" carried out by SymPy (Kronecker-delta summation, Sum.doit): ").expr(delta)
        note.words(" keeps only the term with ")
        note.math(f"{variable} = {expr_latex(value)}", f"{variable} = {expr_text(value)}")
        if used:
            note.words(". SymPy gives the result under the condition ")
            for number, condition in enumerate(used):
                note.words(" and " if number else "").expr(condition)
            named = set().union(*(condition.free_symbols for condition in used))
            pairs = zip(target.indices, target.bounds, strict=True)
            note.words(", which holds because ")
            note.math(*_ranges([pair for pair in pairs if pair[0] in named]))
        note.words(".")
        still_summed = any(
            isinstance(node, sympy.Sum) and variable in node.variables
            for node in sympy.preorder_traversal(resolved)
        )
        if left or still_summed:
            reason = _Note()
            if left:
                reason.words("SymPy left a condition that the index ranges do not settle: ")
                for number, condition in enumerate(left):
                    reason.words(", " if number else "").expr(condition)
            else:
                reason.words("SymPy did not carry out the sum over ")
                reason.math(str(variable), str(variable))
            note.words(" NOT proved: ").extend(reason).words(".")
            lines.add(resolved, note, label, proved=False)
            return reason
        expr = resolved
        lines.add(expr, note, label)
    if expr.has(sympy.KroneckerDelta) or expr.has(sympy.Piecewise):
        reason = _Note().words(
            "a Kronecker delta or a condition remains after the sums were carried out"
        )
        return lines.failed(r"\text{deltas}", reason)

    # 5. The claimed matrix form: its entry computed by SymPy, compared with the derived one.
    return _compare(lines, target, st, expr, claim, seconds)


def _compare(
    lines: _Lines, target: _Target, st: Setting, derived: Any, claim: Claim, seconds: float
) -> _Note | None:
    """The last line: the derived entry against the claim's. Proved only if the shapes agree and
    the difference simplifies to 0."""
    import sympy

    subscript = ",".join(str(index) for index in target.indices)
    label = r"\text{matrix product}"
    where = _indices_text(target.indices)
    pairs = tuple(zip(target.indices, target.bounds, strict=True))
    claimed_latex, claimed_text = claim.running_latex, claim.text
    try:
        built = guarded(lambda: claim.build(st), "the claimed form", seconds)
        is_matrix = isinstance(built, sympy.MatrixExpr)
        shown = (claim.latex, claimed_text)
        if is_matrix:
            shown = (
                rf"\left({claim.latex}\right)_{{{subscript}}}",
                f"({claimed_text})_{{{subscript}}}",
            )
            shape = tuple(built.shape)
            if shape != target.shape:
                reason = _Note().words("the claimed form ").math(claimed_latex, claimed_text)
                reason.words(" is ").math(*_shape(shape)).words(", but ")
                reason.math(*_gradient(target.variable)).words(" has the shape of ")
                reason.math(target.variable, target.variable).words(", ")
                reason.math(*_shape(target.shape)).words(" (denominator layout)")
                note = _Note().words("NOT proved: ").extend(reason).words(".")
                lines.add(None, note, label, proved=False, shown=shown)
                return reason
            claimed = guarded(
                lambda: matrix_entry(built, target.indices, st), "the claimed entry", seconds
            )
        else:
            label = r"\text{claimed entry}"
            claimed = built
            shown = (expr_latex(claimed), expr_text(claimed))
        gap = guarded(lambda: difference(derived, claimed), "the comparison", seconds)
    except StepFailed as failure:
        return lines.failed(label, _Note().words(str(failure)))

    note = _Note()
    if is_matrix:
        note.words("SymPy's own entry ").math(where, where).words(" of ")
        note.math(claimed_latex, claimed_text)
        note.words(", computed from MatrixSymbol objects and shifted to 1-based indices, is ")
    else:
        note.words("The claimed entry ").math(where, where).words(" is ")
    note.expr(claimed)
    if gap == 0 and not derived.has(sympy.KroneckerDelta, sympy.Piecewise):
        note.words(". SymPy simplifies the difference of the two sides to 0")
        if is_matrix:
            note.words(", and both sides have the shape of ")
            note.math(target.variable, target.variable).words(", ").math(*_shape(target.shape))
        note.words(": the two agree for every ").math(*_ranges(pairs)).words(".")
        lines.add(claimed, note, label, shown=shown)
        return None
    note.words(". The difference of the two sides does not simplify to 0: it is ").expr(gap)
    try:
        found = guarded(
            lambda: _counterexample(derived, claimed, target, st), "the search", seconds
        )
    except StepFailed:
        found = None
    reason = _Note()
    if found is None:
        reason.words("SymPy could not show that ").math(*_gradient(target.variable))
        reason.words(" equals ").math(claimed_latex, claimed_text)
    else:
        sizes, point = found
        at = ", ".join(f"{name} = {value}" for name, value in zip("mkn", sizes, strict=True))
        indices = ", ".join(
            f"{index} = {value}" for index, value in zip(target.indices, point, strict=True)
        )
        reason.words("the claim is false: with the sums written out at ").math(at, at)
        reason.words(", the two sides differ at ").math(indices, indices)
    note.words(". NOT proved: ").extend(reason).words(".")
    lines.add(claimed, note, label, proved=False, shown=shown)
    return reason


def _shape(shape: Sequence[Any]) -> tuple[str, str]:
    """m \\times k and m × k."""
    return (
        r" \times ".join(str(size) for size in shape),
        " × ".join(str(size) for size in shape),
    )


def _gradient(variable: str) -> tuple[str, str]:
    """\\partial L/\\partial Z and ∂L/∂Z."""
    return rf"\partial L/\partial {variable}", f"∂L/∂{variable}"


def prove(
    bias: bool = True,
    claims: Mapping[Variable, Claim] | None = None,
    step_seconds: float = STEP_SECONDS,
) -> ProofReport:
    """Prove ∂L/∂Z, ∂L/∂W and (with the bias) ∂L/∂b for every size, in index notation.

    ``claims`` replaces the right side of some identities (to show that a wrong one fails).
    """
    variables: tuple[Variable, ...] = ("Z", "W", "b") if bias else ("Z", "W")
    chosen = claims or {}
    proofs = tuple(
        prove_identity(variable, bias, chosen.get(variable), step_seconds) for variable in variables
    )
    return ProofReport(bias=bias, proofs=proofs)


def summary_line(report: ProofReport) -> str:
    """One line for stderr: what was proved for every size, or what was not, and why."""
    failed = [proof for proof in report.proofs if not proof.proved]
    if not failed:
        listed = "; ".join(proof.identity for proof in report.proofs)
        return f"proved for every m, k, n: {listed}"
    listed = "; ".join(proof.identity for proof in failed)
    return f"NOT proved: {listed} ({failed[0].reason})"
