"""What each step of a proof says: its description, its two sides and, if it is not proved, why.

core/proof.py records what each step did and what SymPy found on the way; this module tells it
in notes. A ``Note`` is words (``str`` parts) and mathematics (every other part): a SymPy
expression (unevaluated partials and equations among them), the chain rule, or ``Written``
mathematics such as index ranges. prove_notation.py prints each note in LaTeX and in plain text,
so the proof is told once. The reason an identity is not proved is that of the step where its
derivation stopped.

The notes speak of the mathematics: what was done to a line ("the sum over s carried out") and,
for a step that failed, why in mathematical terms ("a condition the index ranges do not settle").
Only the closing line, ``provenance``, says that matgrad verified every equality, and how.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from ..core.layer import Layer, Samples
from ..core.proof import (
    Claim,
    Comparison,
    DeltaSum,
    LocalPartial,
    Proof,
    ProofReport,
    ProofStep,
    ShapeMismatch,
)
from ..core.proof_cas import CASFailure, forward_entry, setting
from .derivation_checks import PROVENANCE
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


def forward_entries(samples: Samples, bias: bool) -> dict[str, Any]:
    """Each matrix's entry as the forward pass a_{p,q} indexes it, by the matrix's name, read off
    that pass: z_{p,s}, w_{s,q}, b_q with samples as rows; w_{p,s}, x_{s,q}, b_p as columns; and
    a_{p,q}, ∂L/∂a_{p,q} of A and G. Listed as the layer lists them (input, weights, bias …)."""
    st = setting(samples)
    names = {base: name for name, base in st.bases.items()}
    found = {names[entry.base]: entry for entry in forward_entry(st, bias).atoms(sympy.Indexed)}
    found.update(A=st.a[st.p, st.q], G=st.G[st.p, st.q])
    return {matrix.name: found[matrix.name] for matrix in st.layer.matrices if matrix.name in found}


def entry_ranges(entry: Any, samples: Samples) -> tuple[tuple[Any, Any], ...]:
    """Each index of an indexed entry with its upper bound: ((p, m), (s, k)) for z_{p,s}."""
    return tuple(zip(entry.indices, setting(samples).extent(entry.base), strict=True))


def _shape(sizes: Sequence[Any]) -> Written:
    """The shape of a matrix, m × k."""
    return Written(r" \times ".join(map(str, sizes)), " × ".join(map(str, sizes)))


def _same(text: str) -> Written:
    """Mathematics written the same in both notations: an entry's place, values of symbols."""
    return Written(text, text)


def _assignments(names: Sequence[Any], values: Sequence[int]) -> Written:
    """Values given to symbols, m = 2, k = 3, n = 4."""
    return _same(", ".join(f"{name} = {value}" for name, value in zip(names, values, strict=True)))


def claim_latex(claim: Claim, layer: Layer, inline: bool = False) -> str:
    """The claimed right side in LaTeX: the rule of ``layer``, with ∂L/∂A slashed in running
    text (``inline``), or as the claim writes it."""
    if claim.rule is None:
        return claim.latex
    if inline:
        return rule_latex(claim.variable, UPSTREAM_INLINE, r"\, ", layer)
    return rule_latex(claim.variable, layer=layer)


def _claimed_form(proof: Proof) -> Written:
    """The claimed right side as it is written in a sentence."""
    return Written(claim_latex(proof.claim, proof.layer, inline=True), proof.claim.text)


#: The right side of a step that could not be carried out.
_UNKNOWN = Written(r"\;?", "?")

#: The relation of a line that is not proved.
_UNPROVED = Written(r"\overset{?}{=}", "?=")

#: What a computation that failed was, and what could not be done with it (the derivative and
#: the sum name their mathematics in ``_failed_work``).
_WORK = {
    "build": ("the claimed form", "formed"),
    "entry": ("the entry of the claimed product", "multiplied out"),
    "difference": ("the difference of the two sides", "simplified"),
    "search": ("the search for an entry where the two sides differ", "completed"),
}


def step_lhs(step: ProofStep, proof: Proof) -> Any:
    """The left side of a line that starts an equation (a_{p,q}, ∂a_{p,q}/∂x, ∂L/∂x), else
    None: the line continues the one above."""
    st = setting(proof.samples)
    if step.kind == "definition":
        return st.a[st.p, st.q]
    if step.kind == "differentiation":
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
        latex = rf"\left({claim_latex(claim, proof.layer)}\right)_{{{subscript}}}"
        return Written(latex, f"({claim.text})_{{{subscript}}}")
    return step.expr


def step_description(step: ProofStep, proof: Proof) -> Note:
    """What was done to get the line, and what it showed; NOT proved and why, if so."""
    detail = step.detail
    if isinstance(detail, CASFailure | ShapeMismatch) or step.kind == "deltas":
        return ("NOT proved: ", *step_reason(step, proof), ".")
    if isinstance(detail, LocalPartial):
        return _local_partial(detail, proof)
    if isinstance(detail, DeltaSum):
        return _delta_sum(step, detail, proof)
    if isinstance(detail, Comparison):
        return _comparison(step, detail, proof)
    st = setting(proof.samples)
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
        Written(
            forward_latex(proof.bias, proof.layer), forward_text(proof.bias, layer=proof.layer)
        ),
        " is a sum over the shared index ",
        st.s,
    )
    if proof.bias:  # b_q of A's column, or with samples as columns b_p of its row
        row_bias = proof.layer.role("bias").cols == "1"
        index, line = (st.p, "row") if row_bias else (st.q, "column")
        description += (", plus the bias ", st.b[index], f" of its {line}")
    return (*description, ".")


def _local_partial(detail: LocalPartial, proof: Proof) -> Note:
    """Step 2: the definition differentiated, an entry's partial by an entry of the same matrix
    (a product of Kronecker deltas), and what the bias term contributes."""
    st = setting(proof.samples)
    x = proof.target.entry
    description: Note = ("Differentiating the definition with respect to ", x)
    forward = proof.steps[0].expr
    same = [entry for entry in forward.atoms(sympy.Indexed) if entry.base == x.base]
    if len(same) == 1:  # the entry of x's matrix in a_{p,q}, z_{p,s}, w_{s,q} or b_q
        partial = sympy.diff(same[0], x)
        description += (
            ", where an entry of ",
            sympy.Symbol(proof.target.variable),
            " varies only with itself: ",
            sympy.Eq(sympy.Derivative(same[0], x), partial, evaluate=False),
        )
    if detail.from_bias is not None:
        bias = next(entry for entry in forward.atoms(sympy.Indexed) if entry.base == st.b)
        bias_term = sympy.Eq(sympy.Derivative(bias, x), detail.from_bias, evaluate=False)
        description += ("; the bias term gives ", bias_term)
        if detail.from_bias == 0:
            description += (", so the bias leaves this gradient unchanged",)
    return (*description, ".")


def _delta_sum(step: ProofStep, detail: DeltaSum, proof: Proof) -> Note:
    """Step 4: one sum a Kronecker delta collapses, and the conditions SymPy stated."""
    index = step.summed
    done = (
        ("In the sum over ", index, ", ")
        if detail.undone
        else ("The sum over ", index, " carried out: ")
    )
    description: Note = (
        *done,
        detail.delta,
        " keeps only the term with ",
        sympy.Eq(index, detail.value, evaluate=False),
    )
    if detail.used:
        named = set().union(*(condition.free_symbols for condition in detail.used))
        ranges = tuple(pair for pair in proof.target.ranges if pair[0] in named)
        description += (
            ". That term lies in the sum under the condition ",
            *_joined(detail.used, " and "),
            ", which holds because ",
            index_ranges(ranges),
        )
    if step.proved:
        return (*description, ".")
    return (*description, ". NOT proved: ", *step_reason(step, proof), ".")


def _comparison(step: ProofStep, detail: Comparison, proof: Proof) -> Note:
    """Step 5: the claimed entry, and whether the difference simplified to 0."""
    target, claimed, indices = proof.target, _claimed_form(proof), proof.target.indices
    where = _same(str(indices[0]) if len(indices) == 1 else f"({', '.join(map(str, indices))})")
    if detail.matrix:
        description: Note = (
            "Multiplied out on its own from the matrices, the entry ",
            where,
            " of ",
            claimed,
            " is ",
        )
    else:
        description = ("The claimed entry ", where, " is ")
    description += (detail.claimed,)
    if detail.agrees:
        description += (". The difference of the two sides simplifies to 0",)
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
        return _failed_work(step, detail, proof)
    if isinstance(detail, DeltaSum):
        if not detail.left:
            return (
                "the sum over ",
                step.summed,
                " remains: ",
                detail.delta,
                " did not collapse it",
            )
        return (
            "the sum over ",
            step.summed,
            " holds only under a condition that the index ranges do not settle: ",
            *_joined(detail.left, ", "),
        )
    if step.kind == "deltas":
        return ("a Kronecker delta or a condition remains after the sums were carried out",)
    target, st = proof.target, setting(proof.samples)
    matrix, claimed = sympy.Symbol(target.variable), _claimed_form(proof)
    gradient = sympy.Derivative(st.L, matrix)
    if isinstance(detail, ShapeMismatch):  # the wrong shape for a gradient (denominator layout)
        reason: Note = ("the claimed form ", claimed, " is ", _shape(detail.shape), ", but ")
        reason += (gradient, " has the shape of ", matrix, ", ", _shape(target.shape))
        return (*reason, " (denominator layout)")
    if not isinstance(detail, Comparison):
        return ()
    if detail.counterexample is None:
        return (
            "the difference of the two sides does not simplify to 0, and no entry was found "
            "where they differ, so it is neither shown nor refuted that ",
            gradient,
            " equals ",
            claimed,
        )
    sizes, point = detail.counterexample
    return (
        "the claim is false: with the sums written out at ",
        _assignments((st.m, st.k, st.n), sizes),
        ", the two sides differ at ",
        _assignments(target.indices, point),
    )


def _failed_work(step: ProofStep, failure: CASFailure, proof: Proof) -> Note:
    """Why a computation gave no result, in the terms of what it was to compute: the derivative
    ∂a_{p,q}/∂x could not be computed within the time allowed (5 s)."""
    if failure.call == "diff":
        st = setting(proof.samples)
        what: Note = ("the derivative ", sympy.Derivative(st.a[st.p, st.q], proof.target.entry))
        done = "computed"
    elif failure.call == "sum":
        what, done = ("the sum over ", step.summed), "carried out"
    else:
        words, done = _WORK[failure.call]
        what = (words,)
    if failure.seconds is not None:
        return (*what, f" could not be {done} within the time allowed ({failure.seconds:g} s)")
    return (*what, f" could not be {done} ({failure.error})")


def provenance(report: ProofReport) -> Note:
    """The closing line: that matgrad verified every equality, and how; with a line that is not
    proved, which lines it could not verify."""
    note: Note = (
        f"{PROVENANCE} in exact symbolic arithmetic (SymPy), with the sizes kept as symbols: "
        "every derivative, collapsed sum and difference computed rather than written in, every "
        "condition checked against the index ranges, and each right side multiplied out on its "
        "own from the matrices",
    )
    if not report.proved:
        note += ("; a line written with ", _UNPROVED, " is one it could not verify")
    return (*note, ". matgrad derive checks the same identities at explicit sizes, entry by entry.")


def proof_reason(proof: Proof) -> Note:
    """Why the identity is not proved: the reason of the step where its derivation stopped."""
    if proof.proved:
        return ()
    failing = next((step for step in proof.steps if not step.proved), None)
    reason = step_reason(failing, proof) if failing is not None else ()
    return reason or ("a step of the derivation was not proved",)
