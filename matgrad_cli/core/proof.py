"""`matgrad prove`: the gradient identities proved for every size, in index notation, by SymPy.

The sizes m, k, n are symbols and the entries are indexed symbols, so every sum is symbolic. Each
identity is derived in the five steps of SPEC section 1 (numbered in ``_derive``), every step
computed by the computer algebra system and none filled in from the identity under test: the
claimed side is the entry SymPy computes on its own from ``MatrixSymbol`` objects, and the
difference must simplify to 0 with the shapes agreeing.

SymPy states a collapsed sum under a condition such as r ≤ k. The condition is discharged only
when it is one of the ranges (1 ≤ i ≤ m, …) of the entry being differentiated, and the step says
so. Anything else (an exception, a time-out, a delta or a condition left over, a difference that
is not 0) leaves the identity NOT proved, with the reason: nothing unproved is reported as proved.

The result is data: each step holds SymPy's expression, what was done, and what the CAS found on
the way (the bias term's partial, the conditions of a sum, the counterexample …);
present/prove_story.py tells the story.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import sympy

from ..errors import ArgumentError
from . import bridge, proof_cas
from .arguments import flag
from .layer import LAYERS, BackwardRule, Layer, Samples, Variable, samples_convention
from .proof_cas import STEP_SECONDS, CASFailure, CASSteps, Setting, StepFailed, Target, guarded

#: The most delta-collapsing steps one derivation may take (each removes one sum).
COLLAPSE_LIMIT = 6

#: What a step did: the definition, its differentiation (sympy.diff), the chain rule, one sum
#: carried out, the check that no delta is left, and the comparison with a matrix product or a
#: claimed entry.
StepKind = Literal[
    "definition", "differentiation", "chain rule", "sum over", "deltas", "matrix product",
    "claimed entry",
]  # fmt: skip


@dataclass(frozen=True)
class Claim:
    """A claimed right side of ∂L/∂X, written as whoever states it writes it, or the layer's
    backward ``rule``, whose notation is read off the rule. ``build`` returns a SymPy matrix
    expression in the setting's matrix symbols, or the index expression of the entry at the free
    indices (i, r for Z; r, j for W; j for b)."""

    variable: Variable
    latex: str
    text: str
    build: Callable[[Setting], Any]
    rule: BackwardRule | None = None


def _standard_claim(variable: Variable, layer: Layer) -> Claim:
    """The layer's backward rule for ``variable`` as a claim: the product of its factors as
    SymPy's matrix symbols, each transposed when it is (core/layer.py)."""
    rule = layer.rule(variable)

    def build(st: Setting) -> Any:
        left, right = (
            st.matrices[f.matrix].T if f.transposed else st.matrices[f.matrix] for f in rule.factors
        )
        return left * right

    return Claim(variable, "", rule.text, build, rule)


#: The identities of each convention: with samples as rows those of SPEC section 1, ∂L/∂Z = G·Wᵀ,
#: ∂L/∂W = Zᵀ·G, ∂L/∂b = 1ᵀ·G; as columns ∂L/∂X = Wᵀ·G, ∂L/∂W = G·Xᵀ, ∂L/∂b = G·1.
STANDARD_CLAIMS: Mapping[Samples, Mapping[Variable, Claim]] = {
    samples: {variable: _standard_claim(variable, layer) for variable in layer.variables(True)}
    for samples, layer in LAYERS.items()
}


@dataclass(frozen=True)
class LocalPartial:
    """sympy.diff of the forward pass; ``from_bias`` is what the bias term b_q contributes to
    ∂a_{p,q}/∂x (0 for x in Z or W), None without the bias or for x in b."""

    from_bias: Any


@dataclass(frozen=True)
class DeltaSum:
    """One sum a Kronecker delta collapses: ``delta`` keeps only the term where the summed index
    equals ``value``. SymPy stated the result under the conditions ``used`` (each one an index
    range) and ``left`` (not settled by the ranges); ``undone`` when the sum is still there."""

    delta: Any
    value: Any
    used: tuple[Any, ...]
    left: tuple[Any, ...] = ()
    undone: bool = False


@dataclass(frozen=True)
class ShapeMismatch:
    """The claimed matrix has ``shape``, not the shape of the variable (denominator layout)."""

    shape: tuple[Any, ...]


@dataclass(frozen=True)
class Comparison:
    """The derived entry against the claimed one: ``matrix`` when SymPy computed the claimed
    entry from a matrix product. ``gap`` is the simplified difference; when the two do not agree,
    ``counterexample`` is the sizes and entry at which they differ, if one was found."""

    matrix: bool
    claimed: Any
    gap: Any
    agrees: bool
    counterexample: tuple[tuple[int, int, int], tuple[int, ...]] | None = None


#: What a step found: None for the definition and the chain rule, which are written in, and for
#: the "deltas" step, which finds a Kronecker delta or a condition left after every sum.
StepDetail = LocalPartial | DeltaSum | ShapeMismatch | Comparison | CASFailure | None


@dataclass(frozen=True)
class ProofStep:
    """One line of a derivation: what was done, the CAS's result (None when it gave none), what
    it found, and for a "sum over" step the index ``summed``. ``proved`` only when the CAS
    completed the step and every condition it stated was discharged."""

    kind: StepKind
    expr: Any
    proved: bool
    detail: StepDetail = None
    summed: Any = None


@dataclass(frozen=True)
class Proof:
    """The derivation of one identity ∂L/∂X = (matrix form) for symbolic sizes, of the entry
    ``target``; when not proved, it stopped at its one step that is not, which says why."""

    variable: Variable
    claim: Claim
    target: Target
    steps: tuple[ProofStep, ...]
    proved: bool
    bias: bool
    samples: Samples = "rows"

    @property
    def layer(self) -> Layer:
        """The layer in the proof's convention."""
        return LAYERS[self.samples]

    @property
    def identity(self) -> str:
        """The identity in words, ∂L/∂Z = ∂L/∂A · Wᵀ, as its claim is written."""
        return f"∂L/∂{self.variable} = {self.claim.text}"


@dataclass(frozen=True)
class ProofReport(bridge.Rendered):
    """The proofs of ∂L/∂Z, ∂L/∂W and, with the bias, ∂L/∂b."""

    bias: bool
    proofs: tuple[Proof, ...]
    samples: Samples = "rows"

    @property
    def proved(self) -> bool:
        return all(proof.proved for proof in self.proofs)

    @property
    def layer(self) -> Layer:
        """The layer in the report's convention."""
        return LAYERS[self.samples]


def prove_identity(
    variable: Variable,
    bias: bool = True,
    claim: Claim | None = None,
    step_seconds: float = STEP_SECONDS,
    cas: CASSteps | None = None,
    samples: Samples = "rows",
) -> Proof:
    """Prove ∂L/∂X = claim (by default the layer's backward rule) for symbolic m, k, n, step by
    step with SymPy, with samples as ``samples``; ``cas`` replaces CAS steps, as a test that
    breaks one does."""
    st = proof_cas.setting(samples)
    target = proof_cas.target_of(variable, st)
    claim = claim if claim is not None else STANDARD_CLAIMS[samples][variable]
    steps: list[ProofStep] = []
    for step in _derive(target, st, bias, claim, step_seconds, cas or CASSteps()):
        steps.append(step)
        if not step.proved:  # the derivation stops at a step that is not proved
            break
    return Proof(variable, claim, target, tuple(steps), steps[-1].proved, bias, samples)


def _derive(
    target: Target, st: Setting, bias: bool, claim: Claim, seconds: float, cas: CASSteps
) -> Iterator[ProofStep]:
    """The steps of one proof, in order; the caller stops at the first that is not proved."""
    # 1. The forward pass, the definition of a_{p,q} (SPEC section 1).
    forward = proof_cas.forward_entry(st, bias)
    yield ProofStep("definition", forward, True)

    # 2. The local partial ∂a_{p,q}/∂x by sympy.diff: a sum of Kronecker-delta products.
    x = target.entry
    try:
        derivative = guarded(lambda: cas.local_partial(forward, x), "diff", seconds)
        from_bias = (
            guarded(lambda: cas.local_partial(st.b[st.q], x), "diff", seconds)
            if bias and target.variable != "b"
            else None
        )
    except StepFailed as failure:
        yield ProofStep("differentiation", None, False, failure.failure)
        return
    yield ProofStep("differentiation", derivative, True, LocalPartial(from_bias))

    # 3. The chain rule through every a_{p,q} (SPEC section 1).
    rows, cols = st.output_sizes
    expr = sympy.Sum(st.G[st.p, st.q] * derivative, (st.q, 1, cols), (st.p, 1, rows))
    yield ProofStep("chain rule", expr, True)

    # 4. Each sum a Kronecker delta collapses, innermost first, by SymPy's delta summation.
    facts = cas.range_facts(target)
    for _ in range(COLLAPSE_LIMIT):
        found = proof_cas.next_delta_sum(expr)
        if found is None:
            break
        step = _sum_out(expr, found, facts, seconds, cas)
        yield step
        expr = step.expr
    if expr.has(sympy.KroneckerDelta) or expr.has(sympy.Piecewise):
        yield ProofStep("deltas", None, False)

    # 5. The claimed side: its entry computed by SymPy, compared with the derived one.
    yield _compare(target, st, expr, claim, seconds, cas)


def _sum_out(
    expr: Any, found: tuple[Any, Any], facts: set[Any], seconds: float, cas: CASSteps
) -> ProofStep:
    """One sum a Kronecker delta collapses, carried out by SymPy, its conditions discharged."""
    index, delta = found
    try:
        summed = guarded(partial(cas.sum_out, expr, index), "sum", seconds)
    except StepFailed as failure:
        return ProofStep("sum over", None, False, failure.failure, index)
    resolved, used, left = proof_cas.resolve_conditions(summed, facts)
    value = next(argument for argument in delta.args if argument != index)
    undone = any(
        isinstance(node, sympy.Sum) and index in node.variables
        for node in sympy.preorder_traversal(resolved)
    )
    detail = DeltaSum(delta, value, tuple(used), tuple(left), undone)
    return ProofStep("sum over", resolved, not (left or undone), detail, index)


def _compare(
    target: Target, st: Setting, derived: Any, claim: Claim, seconds: float, cas: CASSteps
) -> ProofStep:
    """The last line: the derived entry against the claim's. Proved only if the shapes agree and
    the difference simplifies to 0."""
    kind: StepKind = "matrix product"
    try:
        built = guarded(lambda: claim.build(st), "build", seconds)
        is_matrix = isinstance(built, sympy.MatrixExpr)
        if is_matrix:
            shape = tuple(built.shape)
            if shape != target.shape:
                return ProofStep(kind, None, False, ShapeMismatch(shape))
            claimed = guarded(
                lambda: proof_cas.matrix_entry(built, target.indices, st), "entry", seconds
            )
        else:
            kind = "claimed entry"
            claimed = built
        gap = guarded(lambda: cas.difference(derived, claimed), "difference", seconds)
    except StepFailed as failure:
        return ProofStep(kind, None, False, failure.failure)
    if gap == 0 and not derived.has(sympy.KroneckerDelta, sympy.Piecewise):
        return ProofStep(kind, claimed, True, Comparison(is_matrix, claimed, gap, True))
    try:
        found = guarded(
            lambda: proof_cas.counterexample(derived, claimed, target, st), "search", seconds
        )
    except StepFailed:
        found = None
    return ProofStep(kind, claimed, False, Comparison(is_matrix, claimed, gap, False, found))


def prove(
    bias: bool = True,
    claims: Mapping[Variable, Claim] | None = None,
    step_seconds: float = STEP_SECONDS,
    cas: CASSteps | None = None,
    samples: str = "rows",
) -> ProofReport:
    """Prove the gradients of the layer, with samples as ``samples`` (rows: ∂L/∂Z, ∂L/∂W and,
    with the bias, ∂L/∂b; columns: ∂L/∂X, ∂L/∂W, ∂L/∂b) for every size, in index notation;
    ``claims`` and ``cas`` replace claims or CAS steps, to show a wrong claim or a failed step
    unproved."""
    bias = flag("bias", bias)
    convention = samples_convention(samples)
    variables = LAYERS[convention].variables(bias)
    chosen = claims or {}
    unknown = sorted(set(chosen) - set(variables))
    if unknown:
        raise ArgumentError(
            f"claims for {', '.join(map(repr, unknown))}: with samples as {convention}, the "
            f"gradients proved are those of {', '.join(variables)}"
        )
    proofs = tuple(
        prove_identity(variable, bias, chosen.get(variable), step_seconds, cas, convention)
        for variable in variables
    )
    return ProofReport(bias=bias, proofs=proofs, samples=convention)
