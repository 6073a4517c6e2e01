"""What each step of a proof says: its description, its two sides and, if it is not proved, why.

core/proof.py records what each step did and what the CAS found on the way; this module tells it
in notes. A ``Note`` is words (``str`` parts) and mathematics (every other part): a SymPy
expression (unevaluated partials, equations and calls among them), the chain rule, or
``Written`` mathematics such as index ranges. prove_notation.py prints each note in LaTeX and in
plain text, so the proof is told once. The reason an identity is not proved is that of the step
where its derivation stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from ..core.proof import Claim, Comparison, DeltaSum, LocalPartial, Proof, ProofStep, ShapeMismatch
from ..core.proof_cas import CASFailure, setting
from .layer_latex import UPSTREAM_INLINE, forward_latex, rule_latex
from .notation import forward_text

#: A description or a reason: words (``str``) and mathematics (any other part), in order.
Note = tuple[Any, ...]


def _joined(items: Sequence[Any], separator: str) -> Note:
    """Mathematical items with words between them: r ≤ k and i ≤ m."""
    return tuple(part for item in items for part in (separator, item))[1:]


@dataclass(frozen=True)
class Written:
    """Mathematics written out in each notation: the layer's equation, index ranges, a shape …"""

    latex: str
    text: str


@dataclass(frozen=True)
class ChainRule:
    """The chain rule through every entry of A: ∂L/∂x = Σ_{p,q} ∂L/∂a_{p,q} · ∂a_{p,q}/∂x."""

    entry: Any
    upstream: Any
    output: Any


def index_ranges(ranges: Sequence[tuple[Any, Any]]) -> Written:
    """1 ≤ i ≤ m, 1 ≤ r ≤ k: each index with its upper bound."""
    latex = r",\ ".join(rf"1 \le {index} \le {bound}" for index, bound in ranges)
    return Written(latex, ", ".join(f"1 ≤ {index} ≤ {bound}" for index, bound in ranges))


def _shape(sizes: Sequence[Any]) -> Written:
    """The shape of a matrix, m × k."""
    return Written(r" \times ".join(map(str, sizes)), " × ".join(map(str, sizes)))


def _same(text: str) -> Written:
    """Mathematics written the same in both notations: an entry's place, values of symbols."""
    return Written(text, text)


def _assignments(names: Sequence[Any], values: Sequence[int]) -> Written:
    """Values given to symbols, m = 2, k = 3, n = 4."""
    return _same(", ".join(f"{name} = {value}" for name, value in zip(names, values, strict=True)))


def claim_latex(claim: Claim, inline: bool = False) -> str:
    """The claimed right side in LaTeX: the layer's rule, with ∂L/∂A slashed in running text
    (``inline``), or as the claim writes it."""
    if claim.rule is None:
        return claim.latex
    if inline:
        return rule_latex(claim.variable, UPSTREAM_INLINE, after_upstream=r"\, ")
    return rule_latex(claim.variable)


def _claimed_form(claim: Claim) -> Written:
    """The claimed right side as it is written in a sentence."""
    return Written(claim_latex(claim, inline=True), claim.text)


#: The right side of a step the CAS could not carry out.
_UNKNOWN = Written(r"\;?", "?")


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
        return sympy.Derivative(st.a[st.p, st.q], proof.target.entry)
    if step.kind == "chain rule":
        return sympy.Derivative(st.L, proof.target.entry)
    return None


def step_right(step: ProofStep, proof: Proof) -> Any:
    """The right side as written: the result, the claimed entry (∂L/∂A · Wᵀ)_{i,r}, or ? where
    the CAS gave none."""
    detail, claim = step.detail, proof.claim
    if isinstance(detail, CASFailure) or step.kind == "deltas":
        return _UNKNOWN
    if isinstance(detail, ShapeMismatch) or (isinstance(detail, Comparison) and detail.matrix):
        subscript = ",".join(map(str, proof.target.indices))
        latex = rf"\left({claim_latex(claim)}\right)_{{{subscript}}}"
        return Written(latex, f"({claim.text})_{{{subscript}}}")
    return step.expr


def step_description(step: ProofStep, proof: Proof) -> Note:
    """What was done to get the line, and what SymPy found; NOT proved and why, if so."""
    detail = step.detail
    if isinstance(detail, CASFailure | ShapeMismatch) or step.kind == "deltas":
        return ("NOT proved: ", *step_reason(step, proof), ".")
    if isinstance(detail, LocalPartial):
        return _local_partial(detail, proof)
    if isinstance(detail, DeltaSum):
        return _delta_sum(step, detail, proof)
    if isinstance(detail, Comparison):
        return _comparison(step, detail, proof)
    st = setting()
    if step.kind == "chain rule":
        chain = ChainRule(proof.target.entry, st.G[st.p, st.q], st.a[st.p, st.q])
        return (
            "The chain rule through every entry of ",
            sympy.Symbol("A"),
            ": ",
            chain,
            ", with the local partial above.",
        )
    # The forward pass, written in from the definition (SPEC section 1).
    description: Note = (
        "The forward pass, by definition: each entry of ",
        Written(forward_latex(proof.bias), forward_text(proof.bias)),
        " is a sum over the shared index ",
        st.s,
    )
    if proof.bias:
        description += (", plus the bias ", st.b[st.q], " of its column")
    return (*description, ".")


def _local_partial(detail: LocalPartial, proof: Proof) -> Note:
    """Step 2: sympy.diff, and what the bias term contributes."""
    st = setting()
    x = proof.target.entry
    first, second = sympy.symbols("x y")
    description: Note = (
        "Computed by SymPy, ",
        sympy.Function("diff")(st.a[st.p, st.q], x),
        ": it differentiates the indexed entries into Kronecker deltas, ",
        sympy.Eq(sympy.KroneckerDelta(first, second), sympy.S.One, evaluate=False),
        " when ",
        sympy.Eq(first, second, evaluate=False),
        " and 0 otherwise",
    )
    if detail.from_bias is not None:
        bias_term = sympy.Eq(sympy.Derivative(st.b[st.q], x), detail.from_bias, evaluate=False)
        description += ("; the bias term gives ", bias_term)
        if detail.from_bias == 0:
            description += (", so the bias leaves this gradient unchanged",)
    return (*description, ".")


def _delta_sum(step: ProofStep, detail: DeltaSum, proof: Proof) -> Note:
    """Step 4: one sum a Kronecker delta collapses, and the conditions SymPy stated."""
    index = step.summed
    description: Note = (
        "The sum over ",
        index,
        " carried out by SymPy (Kronecker-delta summation, Sum.doit): ",
        detail.delta,
        " keeps only the term with ",
        sympy.Eq(index, detail.value, evaluate=False),
    )
    if detail.used:
        named = set().union(*(condition.free_symbols for condition in detail.used))
        ranges = tuple(pair for pair in proof.target.ranges if pair[0] in named)
        description += (
            ". SymPy gives the result under the condition ",
            *_joined(detail.used, " and "),
            ", which holds because ",
            index_ranges(ranges),
        )
    if step.proved:
        return (*description, ".")
    return (*description, ". NOT proved: ", *step_reason(step, proof), ".")


def _comparison(step: ProofStep, detail: Comparison, proof: Proof) -> Note:
    """Step 5: the claimed entry, and whether the difference simplified to 0."""
    target, claimed, indices = proof.target, _claimed_form(proof.claim), proof.target.indices
    where = _same(str(indices[0]) if len(indices) == 1 else f"({', '.join(map(str, indices))})")
    if detail.matrix:
        description: Note = (
            "SymPy's own entry ",
            where,
            " of ",
            claimed,
            ", computed from MatrixSymbol objects and shifted to 1-based indices, is ",
        )
    else:
        description = ("The claimed entry ", where, " is ")
    description += (detail.claimed,)
    if detail.agrees:
        description += (". SymPy simplifies the difference of the two sides to 0",)
        if detail.matrix:
            matrix = sympy.Symbol(target.variable)
            description += (
                ", and both sides have the shape of ",
                matrix,
                ", ",
                _shape(target.shape),
            )
        return (*description, ": the two agree for every ", index_ranges(target.ranges), ".")
    description += (". The difference of the two sides does not simplify to 0: it is ", detail.gap)
    return (*description, ". NOT proved: ", *step_reason(step, proof), ".")


def step_reason(step: ProofStep, proof: Proof) -> Note:
    """Why a step is not proved; empty for a step that is."""
    detail = step.detail
    if step.proved:
        return ()
    if isinstance(detail, CASFailure):
        what = _CALLS.get(detail.call, f"the sum over {step.summed}")
        if detail.seconds is not None:
            return (f"{what}: SymPy did not finish within {detail.seconds:g} s",)
        return (f"{what}: SymPy raised {detail.error}",)
    if isinstance(detail, DeltaSum):
        if not detail.left:
            return ("SymPy did not carry out the sum over ", step.summed)
        return (
            "SymPy left a condition that the index ranges do not settle: ",
            *_joined(detail.left, ", "),
        )
    if step.kind == "deltas":
        return ("a Kronecker delta or a condition remains after the sums were carried out",)
    target, st = proof.target, setting()
    matrix, claimed = sympy.Symbol(target.variable), _claimed_form(proof.claim)
    gradient = sympy.Derivative(st.L, matrix)
    if isinstance(detail, ShapeMismatch):  # the wrong shape for a gradient (denominator layout)
        reason: Note = ("the claimed form ", claimed, " is ", _shape(detail.shape), ", but ")
        reason += (gradient, " has the shape of ", matrix, ", ", _shape(target.shape))
        return (*reason, " (denominator layout)")
    if not isinstance(detail, Comparison):
        return ()
    if detail.counterexample is None:
        return ("SymPy could not show that ", gradient, " equals ", claimed)
    sizes, point = detail.counterexample
    return (
        "the claim is false: with the sums written out at ",
        _assignments((st.m, st.k, st.n), sizes),
        ", the two sides differ at ",
        _assignments(target.indices, point),
    )


def proof_reason(proof: Proof) -> Note:
    """Why the identity is not proved: the reason of the step where its derivation stopped."""
    if proof.proved:
        return ()
    failing = next((step for step in proof.steps if not step.proved), None)
    reason = step_reason(failing, proof) if failing is not None else ()
    return reason or ("a step of the derivation was not proved",)
