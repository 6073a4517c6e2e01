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

The result is data: each step holds SymPy's expression and what was done, as a Note of words and
mathematical objects (proof_notes.py); present/ writes them in LaTeX, Markdown and plain text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from . import bridge
from .layer import Variable
from .proof_cas import (
    STEP_SECONDS,
    CASSteps,
    StepFailed,
    counterexample,
    forward_entry,
    guarded,
    matrix_entry,
    next_delta_sum,
    resolve_conditions,
)
from .proof_notes import (
    Assignments,
    ChainRule,
    ClaimedEntry,
    ClaimedForm,
    EntryIndex,
    Equation,
    IndexRanges,
    LayerEquation,
    Note,
    Partial,
    Shape,
    SymPyCall,
    Unknown,
    note,
)
from .proof_setting import STANDARD_CLAIMS, Claim, Setting, Target, setting, target_of

#: The most delta-collapsing steps one derivation may take (each removes one sum).
COLLAPSE_LIMIT = 6

#: What a step did: the definition, sympy.diff, the chain rule, one sum carried out, the check
#: that no delta is left, and the comparison with a matrix product or a claimed entry.
StepKind = Literal[
    "definition", "sympy.diff", "chain rule", "sum over", "deltas", "matrix product",
    "claimed entry",
]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The results


@dataclass(frozen=True)
class ProofStep:
    """One line of a derivation: the CAS's result and what was done to get it.

    ``lhs`` is set on a line that starts an equation (a_{p,q} = …, ∂L/∂z_{i,r} = …); other lines
    continue the one above. ``right`` is the right side as written: the result itself, the
    claimed entry, or ``Unknown()`` where the CAS gave none. ``expr`` is the SymPy result, None
    when the CAS gave none. ``proved`` is True only when the CAS completed the step and every
    condition it stated was discharged. ``summed`` is the index a "sum over" step carries out.
    """

    kind: StepKind
    description: Note
    expr: Any
    right: Any
    proved: bool
    lhs: Any = None
    summed: Any = None


@dataclass(frozen=True)
class Proof:
    """The derivation of one identity ∂L/∂X = (matrix form), for symbolic sizes.

    ``target`` is the entry differentiated with its index ranges; ``reason`` says why the
    identity is not proved, and is empty when it is.
    """

    variable: Variable
    claim: Claim
    target: Target
    steps: tuple[ProofStep, ...]
    proved: bool
    reason: Note
    bias: bool

    @property
    def identity(self) -> str:
        """The identity in words, ∂L/∂Z = ∂L/∂A · Wᵀ, as its claim is written."""
        return f"∂L/∂{self.variable} = {self.claim.text}"


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
# The lines of a derivation


class _Unproved(Exception):
    """The derivation stops: a step is not proved, for ``reason``."""

    def __init__(self, reason: Note) -> None:
        super().__init__()
        self.reason = reason


class _Lines:
    """The lines of one derivation as it is built."""

    def __init__(self) -> None:
        self.steps: list[ProofStep] = []

    def add(
        self,
        kind: StepKind,
        expr: Any,
        description: Note,
        *,
        proved: bool = True,
        lhs: Any = None,
        right: Any = None,
        summed: Any = None,
    ) -> None:
        """A line; ``right`` is its right side when that is not ``expr`` itself."""
        shown = right if right is not None else expr
        self.steps.append(ProofStep(kind, description, expr, shown, proved, lhs, summed))

    def failed(
        self, kind: StepKind, reason: Note, lhs: Any = None, summed: Any = None
    ) -> _Unproved:
        """A line for a step the CAS could not carry out; returns the stop to raise."""
        description = note("NOT proved: ") + reason + note(".")
        self.add(kind, None, description, proved=False, lhs=lhs, right=Unknown(), summed=summed)
        return _Unproved(reason)


# ---------------------------------------------------------------------------------------------
# The proof of one identity


def prove_identity(
    variable: Variable,
    bias: bool = True,
    claim: Claim | None = None,
    step_seconds: float = STEP_SECONDS,
    cas: CASSteps | None = None,
) -> Proof:
    """Prove ∂L/∂X = claim for symbolic m, k, n, step by step with SymPy.

    ``claim`` defaults to the identity of SPEC section 1; ``cas`` replaces CAS steps (a test
    breaks one). The Proof is proved only when every step was carried out by the CAS and the
    final difference simplified to 0.
    """
    st = setting()
    target = target_of(variable, st)
    claim = claim if claim is not None else STANDARD_CLAIMS[variable]
    lines = _Lines()
    try:
        _derive(lines, target, st, bias, claim, step_seconds, cas or CASSteps())
        reason: Note | None = None
    except _Unproved as stop:
        reason = stop.reason
    proved = reason is None and all(step.proved for step in lines.steps)
    if not proved and reason is None:  # a step was not proved, yet no reason: say so anyway
        reason = note("a step of the derivation was not proved")
    return Proof(variable, claim, target, tuple(lines.steps), proved, reason or Note(), bias)


def _derive(
    lines: _Lines,
    target: Target,
    st: Setting,
    bias: bool,
    claim: Claim,
    seconds: float,
    cas: CASSteps,
) -> None:
    """The steps of one proof, into ``lines``; raises _Unproved at a step that is not proved."""
    import sympy

    # 1. The forward pass, the definition of a_{p,q} (SPEC section 1).
    forward = forward_entry(st, bias)
    description = note(
        "The forward pass, by definition: each entry of ",
        LayerEquation(bias),
        " is a sum over the shared index ",
        st.s,
    )
    if bias:
        description += note(", plus the bias ", st.b[st.q], " of its column")
    lines.add("definition", forward, description + note("."), lhs=st.a[st.p, st.q])

    # 2. The local partial ∂a_{p,q}/∂x, by sympy.diff.
    derivative = _local_partial(lines, forward, target, st, bias, seconds, cas)

    # 3. The chain rule through every a_{p,q} (SPEC section 1).
    x = target.entry
    expr = sympy.Sum(st.G[st.p, st.q] * derivative, (st.q, 1, st.n), (st.p, 1, st.m))
    description = note(
        "The chain rule through every entry of ",
        sympy.Symbol("A"),
        ": ",
        ChainRule(x, st.G[st.p, st.q], st.a[st.p, st.q]),
        ", with the local partial above.",
    )
    lines.add("chain rule", expr, description, lhs=Partial(st.L, x))

    # 4. Each sum a Kronecker delta collapses, innermost first, by SymPy's delta summation.
    facts = cas.range_facts(target)
    for _ in range(COLLAPSE_LIMIT):
        found = next_delta_sum(expr)
        if found is None:
            break
        expr = _sum_out(lines, expr, found, target, facts, seconds, cas)
    if expr.has(sympy.KroneckerDelta) or expr.has(sympy.Piecewise):
        remains = "a Kronecker delta or a condition remains after the sums were carried out"
        raise lines.failed("deltas", note(remains))

    # 5. The claimed matrix form: its entry computed by SymPy, compared with the derived one.
    _compare(lines, target, st, expr, claim, seconds, cas)


def _local_partial(
    lines: _Lines,
    forward: Any,
    target: Target,
    st: Setting,
    bias: bool,
    seconds: float,
    cas: CASSteps,
) -> Any:
    """∂a_{p,q}/∂x by sympy.diff, and what the bias term contributes to it."""
    import sympy

    x = target.entry
    lhs = Partial(st.a[st.p, st.q], x)
    try:
        derivative = guarded(lambda: cas.local_partial(forward, x), "sympy.diff", seconds)
        from_bias = (
            guarded(lambda: cas.local_partial(st.b[st.q], x), "sympy.diff", seconds)
            if bias and target.variable != "b"
            else None
        )
    except StepFailed as failure:
        raise lines.failed("sympy.diff", note(str(failure)), lhs) from None
    first, second = sympy.symbols("x y")
    description = note(
        "Computed by SymPy, ",
        SymPyCall("diff", (st.a[st.p, st.q], x)),
        ": it differentiates the indexed entries into Kronecker deltas, ",
        Equation(sympy.KroneckerDelta(first, second), sympy.S.One),
        " when ",
        Equation(first, second),
        " and 0 otherwise",
    )
    if from_bias is not None:
        description += note("; the bias term gives ", Equation(Partial(st.b[st.q], x), from_bias))
        if from_bias == 0:
            description += note(", so the bias leaves this gradient unchanged")
    lines.add("sympy.diff", derivative, description + note("."), lhs=lhs)
    return derivative


def _sum_out(
    lines: _Lines,
    expr: Any,
    found: tuple[Any, Any],
    target: Target,
    facts: set[Any],
    seconds: float,
    cas: CASSteps,
) -> Any:
    """One sum a Kronecker delta collapses, carried out by SymPy, its conditions discharged."""
    import sympy

    variable, delta = found
    try:
        summed = guarded(partial(cas.sum_out, expr, variable), f"the sum over {variable}", seconds)
    except StepFailed as failure:
        raise lines.failed("sum over", note(str(failure)), summed=variable) from None
    resolved, used, left = resolve_conditions(summed, facts)
    value = next(argument for argument in delta.args if argument != variable)
    description = note(
        "The sum over ",
        variable,
        " carried out by SymPy (Kronecker-delta summation, Sum.doit): ",
        delta,
        " keeps only the term with ",
        Equation(variable, value),
    )
    if used:
        description += note(". SymPy gives the result under the condition ")
        for number, condition in enumerate(used):
            description += note(" and " if number else "", condition)
        named = set().union(*(condition.free_symbols for condition in used))
        ranges = tuple(pair for pair in target.ranges if pair[0] in named)
        description += note(", which holds because ", IndexRanges(ranges))
    description += note(".")
    still_summed = any(
        isinstance(node, sympy.Sum) and variable in node.variables
        for node in sympy.preorder_traversal(resolved)
    )
    if left or still_summed:
        if left:
            reason = note("SymPy left a condition that the index ranges do not settle: ")
            for number, condition in enumerate(left):
                reason += note(", " if number else "", condition)
        else:
            reason = note("SymPy did not carry out the sum over ", variable)
        description += note(" NOT proved: ") + reason + note(".")
        lines.add("sum over", resolved, description, proved=False, summed=variable)
        raise _Unproved(reason)
    lines.add("sum over", resolved, description, summed=variable)
    return resolved


def _compare(
    lines: _Lines,
    target: Target,
    st: Setting,
    derived: Any,
    claim: Claim,
    seconds: float,
    cas: CASSteps,
) -> None:
    """The last line: the derived entry against the claim's. Proved only if the shapes agree and
    the difference simplifies to 0."""
    import sympy

    kind: StepKind = "matrix product"
    try:
        built = guarded(lambda: claim.build(st), "the claimed form", seconds)
        is_matrix = isinstance(built, sympy.MatrixExpr)
        if is_matrix:
            right: Any = ClaimedEntry(claim, target.indices)
            _check_shape(lines, tuple(built.shape), target, st, claim, right)
            claimed = guarded(
                lambda: matrix_entry(built, target.indices, st), "the claimed entry", seconds
            )
        else:
            kind = "claimed entry"
            claimed = right = built
        gap = guarded(lambda: cas.difference(derived, claimed), "the comparison", seconds)
    except StepFailed as failure:
        raise lines.failed(kind, note(str(failure))) from None

    where = EntryIndex(target.indices)
    if is_matrix:
        description = note("SymPy's own entry ", where, " of ", ClaimedForm(claim))
        description += note(
            ", computed from MatrixSymbol objects and shifted to 1-based indices, is "
        )
    else:
        description = note("The claimed entry ", where, " is ")
    description += note(claimed)
    if gap == 0 and not derived.has(sympy.KroneckerDelta, sympy.Piecewise):
        description += note(". SymPy simplifies the difference of the two sides to 0")
        if is_matrix:
            matrix = sympy.Symbol(target.variable)
            description += note(", and both sides have the shape of ", matrix, ", ")
            description += note(Shape(target.shape))
        description += note(": the two agree for every ", IndexRanges(target.ranges), ".")
        lines.add(kind, claimed, description, right=right)
        return
    description += note(". The difference of the two sides does not simplify to 0: it is ", gap)
    reason = _refutation(derived, claimed, target, st, claim, seconds)
    description += note(". NOT proved: ") + reason + note(".")
    lines.add(kind, claimed, description, proved=False, right=right)
    raise _Unproved(reason)


def _check_shape(
    lines: _Lines, shape: tuple[Any, ...], target: Target, st: Setting, claim: Claim, right: Any
) -> None:
    """A claimed matrix must have the shape of its variable (denominator layout)."""
    import sympy

    if shape == target.shape:
        return
    matrix = sympy.Symbol(target.variable)
    reason = note("the claimed form ", ClaimedForm(claim), " is ", Shape(shape), ", but ")
    reason += note(Partial(st.L, matrix), " has the shape of ", matrix, ", ")
    reason += note(Shape(target.shape), " (denominator layout)")
    description = note("NOT proved: ") + reason + note(".")
    lines.add("matrix product", None, description, proved=False, right=right)
    raise _Unproved(reason)


def _refutation(
    derived: Any, claimed: Any, target: Target, st: Setting, claim: Claim, seconds: float
) -> Note:
    """Why the comparison failed: a counterexample when one is found at small sizes."""
    import sympy

    try:
        found = guarded(lambda: counterexample(derived, claimed, target, st), "the search", seconds)
    except StepFailed:
        found = None
    if found is None:
        gradient = Partial(st.L, sympy.Symbol(target.variable))
        return note("SymPy could not show that ", gradient, " equals ", ClaimedForm(claim))
    sizes, point = found
    at = Assignments(tuple(zip((st.m, st.k, st.n), sizes, strict=True)))
    indices = Assignments(tuple(zip(target.indices, point, strict=True)))
    return note(
        "the claim is false: with the sums written out at ",
        at,
        ", the two sides differ at ",
        indices,
    )


def prove(
    bias: bool = True,
    claims: Mapping[Variable, Claim] | None = None,
    step_seconds: float = STEP_SECONDS,
    cas: CASSteps | None = None,
) -> ProofReport:
    """Prove ∂L/∂Z, ∂L/∂W and (with the bias) ∂L/∂b for every size, in index notation.

    ``claims`` replaces the right side of some identities (to show that a wrong one fails), and
    ``cas`` some CAS steps (to show that a step that fails leaves its identity unproved).
    """
    variables: tuple[Variable, ...] = ("Z", "W", "b") if bias else ("Z", "W")
    chosen = claims or {}
    proofs = tuple(
        prove_identity(variable, bias, chosen.get(variable), step_seconds, cas)
        for variable in variables
    )
    return ProofReport(bias=bias, proofs=proofs)
