"""The notation of `matgrad prove`: a proof's expressions and notes in LaTeX and in plain text.

Two SymPy printers, one per notation, print the index expressions of a proof (z_{p,s},
∂L/∂a_{p,q}, δ_{i,p}, nested sums) and the mathematical parts of its notes (prove_story.py).
``proof_notation`` writes a whole Proof with them, once, for the document, the terminal view and
the JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sympy import GreaterThan, Indexed, KroneckerDelta, Le, Sum
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from ..core.layer import SAMPLES, Samples
from ..core.proof import Proof, ProofReport, ProofStep
from . import prove_story as story
from .mathtex import grad, partial_latex, slashed
from .prove_story import ChainRule, Note, Written

#: The order of factors in a written product, in each convention: with samples as rows z before
#: ∂L/∂a before δ before w, so that the products read as in A = ZW, ∂L/∂A·Wᵀ and Zᵀ·∂L/∂A; as
#: columns w before ∂L/∂a before δ before x, as in A = WX, Wᵀ·∂L/∂A and ∂L/∂A·Xᵀ. Sums come last.
FACTOR_ORDER: dict[Samples, tuple[str, ...]] = {
    "rows": ("z", "G", "delta", "w", "b"),
    "columns": ("w", "G", "delta", "x", "b"),
}


def _factor_rank(factor: Any, order: tuple[str, ...]) -> int:
    """Where ``factor`` goes in a written product (FACTOR_ORDER)."""
    if isinstance(factor, Indexed):
        name = str(factor.base.label)
        return order.index(name) if name in order else len(order)
    if isinstance(factor, KroneckerDelta):
        return order.index("delta")
    if isinstance(factor, Sum):
        return len(order) + 2
    return len(order) + 1


def _upper_bound_form(condition: Any) -> Any:
    """k ≥ r written the way the ranges are, as r ≤ k."""
    if isinstance(condition, GreaterThan):
        return Le(condition.rhs, condition.lhs, evaluate=False)
    return condition


class _ProofPrinting:
    """What both notations print alike, with the symbols of plain text; the LaTeX printer
    replaces them with its own."""

    NOTATION = "text"  # the field of Written mathematics this printer takes
    MINUS, DELTA = "−", "δ"
    SUM = "Σ_{{{var}={low}}}^{{{high}}}"  # one summation sign
    OPEN, CLOSE = "(", ")"
    CHAIN = "∂L/∂{x} = Σ_{{{over}}} {upstream} ∂{output}/∂{x}"  # the chain rule through A
    order = FACTOR_ORDER["rows"]  # the order of factors in a product, set per convention
    _print: Callable[[Any], str]

    def _print_KroneckerDelta(self, expr: Any, exp: Any = None) -> str:
        return f"{self.DELTA}_{{{','.join(self._print(index) for index in expr.args[:2])}}}"

    def _print_Sum(self, expr: Any) -> str:
        signs = " ".join(
            self.SUM.format(var=self._print(var), low=self._print(low), high=self._print(high))
            for var, low, high in reversed(expr.limits)
        )
        body = self._print(expr.function)
        return (
            f"{signs} {self.OPEN}{body}{self.CLOSE}" if expr.function.is_Add else f"{signs} {body}"
        )

    def _print_Add(self, expr: Any, order: Any = None) -> str:
        """A sum, its sums first (Σ_s z_{p,s} w_{s,q} + b_q), then in SymPy's order."""
        text = ""
        for term in sorted(expr.as_ordered_terms(), key=lambda term: not term.has(Sum)):
            negative = bool(term.could_extract_minus_sign())
            shown = self._print(-term if negative else term)
            if text:
                text += f" {self.MINUS if negative else '+'} {shown}"
            else:
                text = f"{self.MINUS}{shown}" if negative else shown
        return text

    def _print_Mul(self, expr: Any) -> str:
        """A product in FACTOR_ORDER, sums among its factors parenthesised."""
        coefficient, factors = expr.as_coeff_mul()
        # Stable: SymPy's order among equals.
        ordered = sorted(factors, key=lambda factor: _factor_rank(factor, self.order))
        body = " ".join(
            f"{self.OPEN}{self._factor(factor)}{self.CLOSE}"
            if factor.is_Add
            else self._factor(factor)
            for factor in ordered
        )
        if coefficient == 1:
            return body
        if coefficient == -1:
            return f"{self.MINUS}{body}"
        return f"{self._print(coefficient)} {body}"

    def _factor(self, factor: Any) -> str:
        return self._print(factor)

    def _print_Written(self, item: Written) -> str:
        return str(getattr(item, self.NOTATION))

    def _print_ChainRule(self, item: ChainRule) -> str:
        x, upstream, output = map(self._print, (item.entry, item.upstream, item.output))
        over = ",".join(map(self._print, item.output.indices))
        return self.CHAIN.format(x=x, over=over, upstream=upstream, output=output)


class ProofLatexPrinter(_ProofPrinting, LatexPrinter):  # type: ignore[misc]  # sympy: no stubs
    """z_{p,s}, \\frac{\\partial L}{\\partial a_{p,q}}, \\delta_{i,p}, nested sums.

    With ``inline``, for running text, ∂L/∂a_{p,q} and every partial are slashed (in
    parentheses inside a product) instead of fractions.
    """

    NOTATION, MINUS, DELTA = "latex", "-", r"\delta"
    SUM = r"\sum_{{{var}={low}}}^{{{high}}}"
    OPEN, CLOSE = r"\left(", r"\right)"
    CHAIN = (
        r"\partial L/\partial {x} = \sum_{{{over}}} ({upstream})\,(\partial {output}/\partial {x})"
    )

    def __init__(self, inline: bool = False, samples: Samples = "rows") -> None:
        super().__init__({"mul_symbol": None})
        self.inline = inline
        self.order = FACTOR_ORDER[samples]

    def _print_Indexed(self, expr: Any) -> str:
        indices = ",".join(self._print(index) for index in expr.indices)
        if str(expr.base.label) == "G":
            if self.inline:
                return rf"\partial L/\partial a_{{{indices}}}"
            return partial_latex("L", f"a_{{{indices}}}")
        return f"{expr.base.label}_{{{indices}}}"

    def _factor(self, factor: Any) -> str:
        text = str(self._print(factor))
        slashed = self.inline and isinstance(factor, Indexed) and "/" in text
        return f"({text})" if slashed else text

    def _print_Relational(self, expr: Any) -> str:
        return str(super()._print_Relational(_upper_bound_form(expr)))

    def _print_Derivative(self, expr: Any) -> str:
        of, wrt = self._print(expr.expr), self._print(expr.variables[0])
        return rf"\partial {of}/\partial {wrt}" if self.inline else partial_latex(of, wrt)


class ProofTextPrinter(_ProofPrinting, StrPrinter):  # type: ignore[misc]
    """The same notation in plain text: g_{p,q} for ∂L/∂a_{p,q}, Σ_{s=1}^{k} for sums."""

    # Not "_sympystr": Indexed has that method, which would bypass _print_Indexed.
    printmethod = "_matgrad_text"

    def _print_Indexed(self, expr: Any) -> str:
        indices = [self._print(index) for index in expr.indices]
        letter = "g" if str(expr.base.label) == "G" else str(expr.base.label)
        if len(indices) == 1 and len(indices[0]) == 1:
            return f"{letter}_{indices[0]}"
        return f"{letter}_{{{','.join(indices)}}}"

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

    def _print_Derivative(self, expr: Any) -> str:
        return f"∂{self._print(expr.expr)}/∂{self._print(expr.variables[0])}"


def _text_printer(samples: Samples) -> ProofTextPrinter:
    printer = ProofTextPrinter()
    printer.order = FACTOR_ORDER[samples]
    return printer


#: The printers for display LaTeX, running LaTeX and plain text, in each convention.
_DISPLAY = {samples: ProofLatexPrinter(samples=samples) for samples in SAMPLES}
_RUNNING = {samples: ProofLatexPrinter(inline=True, samples=samples) for samples in SAMPLES}
_TEXT = {samples: _text_printer(samples) for samples in SAMPLES}


def expr_latex(item: Any, inline: bool = False, samples: Samples = "rows") -> str:
    """A proof expression in LaTeX; ``inline`` for running text (∂L/∂a_{p,q} slashed)."""
    return str((_RUNNING if inline else _DISPLAY)[samples].doprint(item))


def expr_text(item: Any, samples: Samples = "rows") -> str:
    """A proof expression in plain text (g_{p,q} stands for ∂L/∂a_{p,q})."""
    return str(_TEXT[samples].doprint(item))


def note_latex(note: Note, samples: Samples = "rows") -> str:
    """A note as LaTeX prose: its words as they are, its mathematics between $ signs."""
    return "".join(
        part if isinstance(part, str) else f"${expr_latex(part, True, samples)}$" for part in note
    )


def note_text(note: Note, samples: Samples = "rows") -> str:
    return "".join(part if isinstance(part, str) else expr_text(part, samples) for part in note)


@dataclass(frozen=True)
class StepNotation:
    """One step written out: what was done, its two sides, its label and relation in a display."""

    description: str
    description_latex: str
    latex: str
    text: str
    label: str
    lhs_latex: str
    lhs: str
    relation: str
    proved: bool
    expr: Any


@dataclass(frozen=True)
class ProofNotation:
    """One proof written out: the statement, the entry and its ranges, the steps, the reason."""

    variable: str
    identity: str
    claim_latex: str
    statement_latex: str
    inline_statement_latex: str
    entry_latex: str
    ranges_latex: str
    ranges: str
    steps: tuple[StepNotation, ...]
    proved: bool
    reason: str
    reason_latex: str


#: The label of a step whose kind does not say it in words: the check that every Kronecker
#: delta has collapsed.
_LABELS = {"deltas": "no delta left"}


def _label(step: ProofStep) -> str:
    """What was done, for the aligned line: \\text{sum over } s, NOT proved when it is not."""
    label = (
        rf"\text{{sum over }} {step.summed}"
        if step.kind == "sum over"
        else rf"\text{{{_LABELS.get(step.kind, step.kind)}}}"
    )
    return label if step.proved else rf"\text{{NOT proved: }} {label}"


def step_notation(step: ProofStep, proof: Proof) -> StepNotation:
    lhs, right = story.step_lhs(step, proof), story.step_right(step, proof)
    description, samples = story.step_description(step, proof), proof.samples
    return StepNotation(
        description=note_text(description, samples),
        description_latex=note_latex(description, samples),
        latex=expr_latex(right, samples=samples),
        text=expr_text(right, samples),
        label=_label(step),
        lhs_latex=expr_latex(lhs, samples=samples) if lhs is not None else "",
        lhs=expr_text(lhs, samples) if lhs is not None else "",
        relation="=" if step.proved else r"\overset{?}{=}",
        proved=step.proved,
        expr=step.expr,
    )


def proof_notation(proof: Proof) -> ProofNotation:
    """A proof in both notations, as the document, the terminal view and the JSON write it."""
    variable, right = proof.variable, story.claim_latex(proof.claim, proof.layer)
    ranges, reason = story.index_ranges(proof.target.ranges), story.proof_reason(proof)
    inline = story.claim_latex(proof.claim, proof.layer, inline=True)
    return ProofNotation(
        variable=variable,
        identity=proof.identity,
        claim_latex=right,
        statement_latex=f"{grad(variable)} = {right}",
        inline_statement_latex=f"{slashed(variable)} = {inline}",
        entry_latex=expr_latex(proof.target.entry, samples=proof.samples),
        ranges_latex=ranges.latex,
        ranges=ranges.text,
        steps=tuple(step_notation(step, proof) for step in proof.steps),
        proved=proof.proved,
        reason=note_text(reason, proof.samples),
        reason_latex=note_latex(reason, proof.samples),
    )


def summary_line(report: ProofReport) -> str:
    """One line for stderr: what was proved for every size, or what was not, and why."""
    failed = [proof for proof in report.proofs if not proof.proved]
    if not failed:
        listed = "; ".join(proof.identity for proof in report.proofs)
        return f"proved for every m, k, n: {listed}"
    listed = "; ".join(proof.identity for proof in failed)
    return f"NOT proved: {listed} ({note_text(story.proof_reason(failed[0]), report.samples)})"
