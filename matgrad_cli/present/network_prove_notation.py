"""The notation of a network's proof (`matgrad prove --hidden …`): every line in LaTeX and text.

The entries are x_{p,s} of X, h⁽ℓ⁾ of Hℓ, w⁽ℓ⁾ of Wℓ, b⁽ℓ⁾ of bℓ and a⁽ℓ⁾ of Aℓ; in LaTeX
∂L/∂a⁽ℓ⁾_{p,q} and ∂L/∂h⁽ℓ⁾_{p,q} are written out, in plain text they are gℓ_{p,q} and
uℓ_{p,q}, and the layer's number follows the letter (h1_{p,s}, w2_{s,q}). relu′ and leaky-relu′
are written with the step 1[e > 0] (Heaviside(e, 0): 1 for e > 0, 0 for e ≤ 0).
``network_proof_notation`` writes a whole proof once, for the document, the terminal view and
the JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from ..core.network_proof import (
    NetworkProof,
    NetworkProofReport,
    NetworkSetting,
    NetworkStep,
    NetworkTarget,
)
from ..core.proof import Comparison, DeltaSum, ShapeMismatch
from ..core.proof_cas import CASFailure
from .mathtex import partial_latex
from .prove_notation import ProofLatexPrinter, ProofTextPrinter

#: The order of factors in a written product: H (or X) before the upstream before δ before W.
_ORDER = (
    "x", *(f"h{layer}" for layer in range(1, 6)), *(f"{letter}{layer}" for letter in "gu"
    for layer in range(1, 6)), "delta", *(f"w{layer}" for layer in range(1, 6)),
)  # fmt: skip

#: How LaTeX writes the activations the proof leaves as functions.
_FUNCTIONS_LATEX = {"sigma": r"\sigma", "relu": r"\operatorname{relu}", "leaky_relu": r"\lambda"}
_FUNCTIONS_TEXT = {"sigma": "σ", "relu": "relu", "leaky_relu": "leaky_relu"}


def _quotient(expr: Any) -> bool:
    """True for a power or a product with a factor in the denominator."""
    factors = expr.args if expr.is_Mul else (expr,)
    return not expr.is_Mul or any(f.is_Pow and f.exp.is_negative for f in factors)


def _split(label: str) -> tuple[str, str]:
    """h1 → (h, 1); x → (x, '')."""
    return label[0], label[1:]


class NetworkLatexPrinter(ProofLatexPrinter):
    """h^{(1)}_{p,s}, \\partial L/\\partial a^{(2)}_{p,q}, σ′(a^{(1)}_{i,j}), 1[a > 0]."""

    def __init__(self, inline: bool = False) -> None:
        super().__init__(inline=inline)
        self.order = _ORDER

    def _print_Indexed(self, expr: Any) -> str:
        indices = ",".join(self._print(index) for index in expr.indices)
        letter, layer = _split(str(expr.base.label))
        upper = f"^{{({layer})}}" if layer else ""
        if letter in "gu":
            entry = f"{'a' if letter == 'g' else 'h'}{upper}_{{{indices}}}"
            return rf"\partial L/\partial {entry}" if self.inline else partial_latex("L", entry)
        return f"{letter}{upper}_{{{indices}}}"

    def _print_Mul(self, expr: Any) -> str:
        # A quotient (the sigmoid's) as SymPy writes it; a product in the proof's order.
        if _quotient(expr):
            return str(LatexPrinter._print_Mul(self, expr))
        return str(super()._print_Mul(expr))

    def _print_Function(self, expr: Any, exp: Any = None) -> str:
        name = _FUNCTIONS_LATEX.get(type(expr).__name__)
        if name is None:
            return str(super()._print_Function(expr, exp))
        return rf"{name}\left({self._print(expr.args[0])}\right)"

    def _print_Derivative(self, expr: Any) -> str:
        name = _FUNCTIONS_LATEX.get(type(expr.expr).__name__, r"\sigma")
        return rf"{name}'\left({self._print(expr.variables[0])}\right)"

    def _print_Heaviside(self, expr: Any, exp: Any = None) -> str:
        return rf"\mathbf{{1}}\left[{self._print(expr.args[0])} > 0\right]"


class NetworkTextPrinter(ProofTextPrinter):
    """h1_{p,s}, g2_{p,q} for ∂L/∂a⁽²⁾_{p,q}, u1_{p,q} for ∂L/∂h⁽¹⁾_{p,q}, σ′(…), 1[… > 0]."""

    def __init__(self) -> None:
        super().__init__()
        self.order = _ORDER

    def _print_Indexed(self, expr: Any) -> str:
        indices = [self._print(index) for index in expr.indices]
        label = str(expr.base.label)
        if len(indices) == 1 and len(indices[0]) == 1:
            return f"{label}_{indices[0]}"
        return f"{label}_{{{','.join(indices)}}}"

    def _print_Mul(self, expr: Any) -> str:
        if _quotient(expr):
            return str(StrPrinter._print_Mul(self, expr))
        return str(super()._print_Mul(expr))

    def _print_Function(self, expr: Any) -> str:
        name = _FUNCTIONS_TEXT.get(type(expr).__name__)
        if name is None:
            return str(super()._print_Function(expr))
        return f"{name}({self._print(expr.args[0])})"

    def _print_Derivative(self, expr: Any) -> str:
        name = _FUNCTIONS_TEXT.get(type(expr.expr).__name__, "σ")
        return f"{name}′({self._print(expr.variables[0])})"

    def _print_Heaviside(self, expr: Any) -> str:
        return f"1[{self._print(expr.args[0])} > 0]"


_DISPLAY = NetworkLatexPrinter()
_RUNNING = NetworkLatexPrinter(inline=True)
_TEXT = NetworkTextPrinter()


def expr_latex(expr: Any, inline: bool = False) -> str:
    """An expression of a network proof in LaTeX; ``inline`` for running text."""
    return str((_RUNNING if inline else _DISPLAY).doprint(expr))


def expr_text(expr: Any) -> str:
    """An expression of a network proof in plain text."""
    return str(_TEXT.doprint(expr))


def rule_latex(text: str) -> str:
    """A rule as network_matrix words it (∂L/∂A2 · W2ᵀ, ∂L/∂H1 ⊙ σ′(A1)) in LaTeX."""
    latex = text
    latex = re.sub(r"(?<![A-Za-z0-9])1ᵀ", r"\\mathbf{1}ᵀ", latex)  # the ones, not H1ᵀ
    for plain, tex in (("ᵀ", "^\\top"), (" · ", r" \cdot "), ("⊙", r"\odot"), ("σ′", r"\sigma'")):
        latex = latex.replace(plain, tex)
    for letter in "AH":
        latex = latex.replace(f"∂L/∂{letter}", rf"\partial L/\partial {letter}")
    return _subscripts(latex)


def _subscripts(latex: str) -> str:
    """W2 → W_{2}, A1 → A_{1}: a matrix's layer as a subscript."""
    out, index = [], 0
    while index < len(latex):
        char = latex[index]
        out.append(char)
        follows = index + 1 < len(latex) and latex[index + 1].isdigit()
        if char in "WHAb" and follows and (index == 0 or not latex[index - 1].isalpha()):
            out.append(f"_{{{latex[index + 1]}}}")
            index += 1
        index += 1
    return "".join(out)


def statement_latex(proof: NetworkProof) -> str:
    """∂L/∂W_{2} = H_{1}^⊤ ∂L/∂A_{2}, in LaTeX, slashed for running text."""
    name = _subscripts(proof.name)
    return rf"\partial L/\partial {name} = {rule_latex(proof.rule_text)}"


def _ranges(target: NetworkTarget, latex: bool) -> str:
    if latex:
        return r",\ ".join(
            rf"1 \le {index} \le {sympy.latex(bound)}" for index, bound in target.ranges
        )
    return ", ".join(f"1 ≤ {index} ≤ {bound}" for index, bound in target.ranges)


def _fed(target: NetworkTarget) -> str:
    """What the variable feeds: Aℓ, or Hℓ for the activation."""
    return f"{'H' if target.local else 'A'}{target.layer}"


def escaped(text: str) -> str:
    """Plain text made safe in LaTeX prose."""
    for plain, tex in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}")):
        text = text.replace(plain, tex)
    for plain, tex in (("^", r"\^{}"), ("&", r"\&"), ("%", r"\%"), ("#", r"\#"), ("$", r"\$")):
        text = text.replace(plain, tex)
    return text


def _description(step: NetworkStep, target: NetworkTarget, latex: bool) -> str:
    """What was done to get the line, in words with inline mathematics."""

    def show(expr: Any) -> str:
        return f"${expr_latex(expr, True)}$" if latex else expr_text(expr)

    def pick(text: str, tex: str) -> str:
        return f"${tex}$" if latex else text

    layer = target.layer
    fed, entry = _fed(target), show(target.entry)
    if isinstance(step.detail, CASFailure) and step.kind != "matrix product":
        return f"This line could not be carried out: {_failure(step.detail, latex)}."
    if step.kind == "definition":
        below = "X" if layer == 1 else f"H{layer - 1}"
        if target.local:
            relation = pick(f"H{layer} = σ(A{layer})", rf"H_{{{layer}}} = \sigma(A_{{{layer}}})")
            return f"The activation of layer {layer}, {relation}, entry by entry."
        weights = pick(f"W{layer}", f"W_{{{layer}}}")
        below = pick(below, _subscripts(below))
        return f"The forward pass of layer {layer}, from {below} and {weights}."
    if step.kind == "differentiation":
        if target.local:
            jacobian = pick(
                f"∂vec H{layer}/∂vec A{layer} = diag(σ′(vec A{layer}))",
                rf"\partial \operatorname{{vec}} H_{{{layer}}}/\partial \operatorname{{vec}} "
                rf"A_{{{layer}}} = \operatorname{{diag}}"
                rf"(\sigma'(\operatorname{{vec}} A_{{{layer}}}))",
            )
            return (
                f"Its partial derivative with respect to {entry}, by the CAS: each entry of "
                f"{pick(f'H{layer}', f'H_{{{layer}}}')} depends on the same entry of "
                f"{pick(f'A{layer}', f'A_{{{layer}}}')} alone, so the Jacobian {jacobian} "
                "is diagonal."
            )
        return f"Its partial derivative with respect to {entry}, by the CAS: Kronecker deltas."
    if step.kind == "activation derivative":
        slope, step_sign = pick("σ′", r"\sigma'"), pick("1[e > 0]", r"\mathbf{1}[e > 0]")
        positive, other = pick("e > 0", "e > 0"), pick("e ≤ 0", r"e \le 0")
        return (
            f"{slope} by the activation's definition, with the step {step_sign}: 1 for "
            f"{positive} and 0 for {other}."
        )
    if step.kind == "chain rule":
        return f"The chain rule through every entry of {pick(fed, _subscripts(fed))}."
    if step.kind == "sum over" and isinstance(step.detail, DeltaSum):
        summed, kept = show(step.summed), show(sympy.Eq(step.summed, step.detail.value))
        text = f"The sum over {summed} carried out: the Kronecker delta keeps {kept}"
        if step.detail.used:
            conditions = " and ".join(show(condition) for condition in step.detail.used)
            text += f", under {conditions}, which the index ranges give"
        if step.detail.left or step.detail.undone:
            text += ", but a condition the index ranges do not settle is left"
        return text + "."
    if step.kind == "deltas":
        return "A Kronecker delta or a condition is left after the sums."
    return _comparison(step, show, latex)


def _failure(detail: CASFailure, latex: bool) -> str:
    """Why the CAS gave no result: a time-out, or the error it raised."""
    why = f"ran over {detail.seconds:g} s" if detail.seconds else f"failed ({detail.error})"
    return f"the CAS {escaped(why) if latex else why}"


def _comparison(step: NetworkStep, show: Any, latex: bool) -> str:
    """The last line: the entry of the rule's matrix form, or why it is not the derived one."""
    detail = step.detail
    if isinstance(detail, ShapeMismatch):
        sizes = [sympy.latex(size) if latex else str(size) for size in detail.shape]
        times = r" \times "
        shape = f"${times.join(sizes)}$" if latex else " × ".join(sizes)
        return f"The right side has a factor of shape {shape}, not the shape of the gradient."
    if isinstance(detail, CASFailure):
        return f"The right side's entry could not be computed: {_failure(detail, latex)}."
    if isinstance(detail, Comparison) and not detail.agrees:
        return (
            "The entry of the right side, multiplied out by the CAS; it differs from the "
            f"derived entry by {show(detail.gap)}."
        )
    return (
        "The entry of the right side, multiplied out by the CAS from the matrices alone; "
        "the difference of the two sides simplifies to 0."
    )


def _lhs(step: NetworkStep, target: NetworkTarget, st: NetworkSetting, latex: bool) -> str:
    """The left side of a line: the entry defined, its partial, or ∂L/∂(entry)."""
    p, q, layer = st.p, st.q, target.layer
    fed = st.base(f"{'h' if target.local else 'a'}{layer}")[p, q]
    show = expr_latex if latex else expr_text
    if step.kind == "definition":
        return str(show(fed))
    if step.kind in ("differentiation", "activation derivative"):
        if latex:
            return partial_latex(show(fed), show(target.entry))
        return f"∂{show(fed)}/∂{show(target.entry)}"
    entry = show(target.entry)
    return partial_latex("L", entry) if latex else f"∂L/∂{entry}"


def _index_text(target: NetworkTarget) -> str:
    return ",".join(str(index) for index in target.indices)


@dataclass(frozen=True)
class NetworkStepNotation:
    """One line written out in both notations, with what was done."""

    kind: str
    lhs_latex: str
    lhs: str
    latex: str
    text: str
    description_latex: str
    description: str
    proved: bool
    expr: Any


@dataclass(frozen=True)
class NetworkProofNotation:
    """One identity written out: its statement, entry and ranges, lines, and verdict."""

    name: str
    identity: str
    statement_latex: str
    entry_latex: str
    entry: str
    ranges_latex: str
    ranges: str
    steps: tuple[NetworkStepNotation, ...]
    proved: bool
    reason: str
    reason_latex: str


def _step(step: NetworkStep, proof: NetworkProof, st: NetworkSetting) -> NetworkStepNotation:
    target = proof.target
    lhs_latex = _lhs(step, target, st, True)
    if step.kind == "matrix product":
        lhs_latex = rf"\left({rule_latex(proof.rule_text)}\right)_{{{_index_text(target)}}}"
    lhs = _lhs(step, target, st, False)
    if step.kind == "matrix product":
        lhs = f"({proof.rule_text})_{{{_index_text(target)}}}"
    expr = step.expr
    return NetworkStepNotation(
        kind=step.kind,
        lhs_latex=lhs_latex,
        lhs=lhs,
        latex=expr_latex(expr) if expr is not None else r"\text{(no result)}",
        text=expr_text(expr) if expr is not None else "(no result)",
        description_latex=_description(step, target, True),
        description=_description(step, target, False),
        proved=step.proved,
        expr=expr,
    )


def network_proof_notation(proof: NetworkProof, st: NetworkSetting) -> NetworkProofNotation:
    """A proof in both notations."""
    steps = tuple(_step(step, proof, st) for step in proof.steps)
    last = steps[-1]
    reason = "" if proof.proved else f"line {len(steps)}: {last.description}"
    reason_latex = "" if proof.proved else f"line {len(steps)}: {last.description_latex}"
    return NetworkProofNotation(
        name=proof.name,
        identity=proof.identity,
        statement_latex=statement_latex(proof),
        entry_latex=expr_latex(proof.target.entry, True),
        entry=expr_text(proof.target.entry),
        ranges_latex=_ranges(proof.target, True),
        ranges=_ranges(proof.target, False),
        steps=steps,
        proved=proof.proved,
        reason=reason,
        reason_latex=reason_latex,
    )


def report_notation(report: NetworkProofReport) -> tuple[NetworkProofNotation, ...]:
    """Every proof of the report in both notations, from the top down."""
    return tuple(network_proof_notation(proof, report.setting) for proof in report.proofs)


def network_summary_line(report: NetworkProofReport) -> str:
    """One line for stderr: what was proved for every size, or what was not, and why."""
    widths = ", ".join(str(width) for width in report.setting.widths)
    failed = [proof for proof in report.proofs if not proof.proved]
    if not failed:
        listed = "; ".join(proof.identity for proof in report.proofs)
        return f"proved for every m and every width ({widths}): {listed}"
    first = network_proof_notation(failed[0], report.setting)
    listed = "; ".join(proof.identity for proof in failed)
    return f"NOT proved: {listed} ({first.reason})"
