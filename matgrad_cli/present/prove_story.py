"""What each step of a proof says: its description, its two sides and, if it is not proved, why.

core/proof.py records what each step did and what the CAS found on the way; this module tells it,
in notes of words and mathematical objects (prove_notes.py) that prove_notation.py writes in
LaTeX and in plain text. A step that is not proved says so, with the reason, and the reason of
the whole identity is that of the step where its derivation stopped.
"""

from __future__ import annotations

from typing import Any

import sympy

from ..core.proof import (
    Comparison,
    DeltasRemain,
    DeltaSum,
    LocalPartial,
    Proof,
    ProofStep,
    ShapeMismatch,
)
from ..core.proof_cas import CASFailure
from ..core.proof_setting import setting
from .prove_notes import (
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

#: How a CAS call is named when it fails; "sum" names the index it sums over.
_CALLS = {
    "diff": "sympy.diff",
    "build": "the claimed form",
    "entry": "the claimed entry",
    "difference": "the comparison",
    "search": "the search",
}


def step_lhs(step: ProofStep, proof: Proof) -> Any:
    """The left side of a line that starts an equation (a_{p,q}, ∂a_{p,q}/∂x, ∂L/∂x), else
    None: the line continues the one above."""
    st = setting()
    if step.kind == "definition":
        return st.a[st.p, st.q]
    if step.kind == "sympy.diff":
        return Partial(st.a[st.p, st.q], proof.target.entry)
    if step.kind == "chain rule":
        return Partial(st.L, proof.target.entry)
    return None


def step_right(step: ProofStep, proof: Proof) -> Any:
    """The right side as written: the result, the claimed entry, or ? where the CAS gave none."""
    detail = step.detail
    if isinstance(detail, CASFailure | DeltasRemain):
        return Unknown()
    if isinstance(detail, ShapeMismatch) or (isinstance(detail, Comparison) and detail.matrix):
        return ClaimedEntry(proof.claim, proof.target.indices)
    return step.expr


def step_description(step: ProofStep, proof: Proof) -> Note:
    """What was done to get the line, and what SymPy found; NOT proved and why, if so."""
    detail = step.detail
    if isinstance(detail, CASFailure | DeltasRemain | ShapeMismatch):
        return note("NOT proved: ") + step_reason(step, proof) + note(".")
    if isinstance(detail, LocalPartial):
        return _local_partial(detail, proof)
    if isinstance(detail, DeltaSum):
        return _delta_sum(step, detail, proof)
    if isinstance(detail, Comparison):
        return _comparison(step, detail, proof)
    if step.kind == "chain rule":
        return _chain_rule(proof)
    return _definition(proof.bias)


def _definition(bias: bool) -> Note:
    """Step 1: the forward pass, written in from the definition (SPEC section 1)."""
    st = setting()
    description = note(
        "The forward pass, by definition: each entry of ",
        LayerEquation(bias),
        " is a sum over the shared index ",
        st.s,
    )
    if bias:
        description += note(", plus the bias ", st.b[st.q], " of its column")
    return description + note(".")


def _local_partial(detail: LocalPartial, proof: Proof) -> Note:
    """Step 2: sympy.diff, and what the bias term contributes."""
    st = setting()
    x = proof.target.entry
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
    if detail.from_bias is not None:
        bias_term = Equation(Partial(st.b[st.q], x), detail.from_bias)
        description += note("; the bias term gives ", bias_term)
        if detail.from_bias == 0:
            description += note(", so the bias leaves this gradient unchanged")
    return description + note(".")


def _chain_rule(proof: Proof) -> Note:
    """Step 3: the chain rule through every entry of A, written in."""
    st = setting()
    chain = ChainRule(proof.target.entry, st.G[st.p, st.q], st.a[st.p, st.q])
    return note(
        "The chain rule through every entry of ",
        sympy.Symbol("A"),
        ": ",
        chain,
        ", with the local partial above.",
    )


def _delta_sum(step: ProofStep, detail: DeltaSum, proof: Proof) -> Note:
    """Step 4: one sum a Kronecker delta collapses, and the conditions SymPy stated."""
    index = step.summed
    description = note(
        "The sum over ",
        index,
        " carried out by SymPy (Kronecker-delta summation, Sum.doit): ",
        detail.delta,
        " keeps only the term with ",
        Equation(index, detail.value),
    )
    if detail.used:
        description += note(". SymPy gives the result under the condition ")
        for number, condition in enumerate(detail.used):
            description += note(" and " if number else "", condition)
        named = set().union(*(condition.free_symbols for condition in detail.used))
        ranges = tuple(pair for pair in proof.target.ranges if pair[0] in named)
        description += note(", which holds because ", IndexRanges(ranges))
    description += note(".")
    if step.proved:
        return description
    return description + note(" NOT proved: ") + step_reason(step, proof) + note(".")


def _comparison(step: ProofStep, detail: Comparison, proof: Proof) -> Note:
    """Step 5: the claimed entry, and whether the difference simplified to 0."""
    target = proof.target
    where = EntryIndex(target.indices)
    if detail.matrix:
        description = note("SymPy's own entry ", where, " of ", ClaimedForm(proof.claim))
        description += note(
            ", computed from MatrixSymbol objects and shifted to 1-based indices, is "
        )
    else:
        description = note("The claimed entry ", where, " is ")
    description += note(detail.claimed)
    if detail.agrees:
        description += note(". SymPy simplifies the difference of the two sides to 0")
        if detail.matrix:
            matrix = sympy.Symbol(target.variable)
            description += note(", and both sides have the shape of ", matrix, ", ")
            description += note(Shape(target.shape))
        return description + note(": the two agree for every ", IndexRanges(target.ranges), ".")
    description += note(
        ". The difference of the two sides does not simplify to 0: it is ", detail.gap
    )
    return description + note(". NOT proved: ") + step_reason(step, proof) + note(".")


def step_reason(step: ProofStep, proof: Proof) -> Note:
    """Why a step is not proved; empty for a step that is."""
    detail = step.detail
    if step.proved:
        return Note()
    if isinstance(detail, CASFailure):
        what = _CALLS.get(detail.call, f"the sum over {step.summed}")
        if detail.seconds is not None:
            return note(f"{what}: SymPy did not finish within {detail.seconds:g} s")
        return note(f"{what}: SymPy raised {detail.error}")
    if isinstance(detail, DeltaSum):
        if not detail.left:
            return note("SymPy did not carry out the sum over ", step.summed)
        reason = note("SymPy left a condition that the index ranges do not settle: ")
        for number, condition in enumerate(detail.left):
            reason += note(", " if number else "", condition)
        return reason
    if isinstance(detail, DeltasRemain):
        return note("a Kronecker delta or a condition remains after the sums were carried out")
    if isinstance(detail, ShapeMismatch):
        return _shape_mismatch(detail, proof)
    if isinstance(detail, Comparison):
        return _refutation(detail, proof)
    return Note()


def _shape_mismatch(detail: ShapeMismatch, proof: Proof) -> Note:
    """The claimed matrix has the wrong shape for a gradient in denominator layout."""
    target, st = proof.target, setting()
    matrix = sympy.Symbol(target.variable)
    reason = note("the claimed form ", ClaimedForm(proof.claim), " is ", Shape(detail.shape))
    reason += note(", but ", Partial(st.L, matrix), " has the shape of ", matrix, ", ")
    return reason + note(Shape(target.shape), " (denominator layout)")


def _refutation(detail: Comparison, proof: Proof) -> Note:
    """The claim is false where a counterexample was found; otherwise SymPy could not show it."""
    target, st = proof.target, setting()
    if detail.counterexample is None:
        gradient = Partial(st.L, sympy.Symbol(target.variable))
        return note("SymPy could not show that ", gradient, " equals ", ClaimedForm(proof.claim))
    sizes, point = detail.counterexample
    at = Assignments(tuple(zip((st.m, st.k, st.n), sizes, strict=True)))
    indices = Assignments(tuple(zip(target.indices, point, strict=True)))
    return note(
        "the claim is false: with the sums written out at ",
        at,
        ", the two sides differ at ",
        indices,
    )


def proof_reason(proof: Proof) -> Note:
    """Why the identity is not proved: the reason of the step where its derivation stopped."""
    if proof.proved:
        return Note()
    failing = next((step for step in proof.steps if not step.proved), None)
    reason = step_reason(failing, proof) if failing is not None else Note()
    return reason or note("a step of the derivation was not proved")
