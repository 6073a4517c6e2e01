"""The network sheets: a problem sheet and its solution sheet, on the one document model.

A problem gives a small network's numbers and asks for one gradient; its solution works the
forward pass, then each step of the backward pass down to that gradient (its matrix formula,
the factors written out, the value), and states what matgrad compared to verify it, read off the
solution's Check objects (core/network_exercise.py). A failed check is never printed: the core
refuses the sheet first, and ``_verdict`` refuses it again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.network_exercise import (
    EXACT_ACTIVATIONS,
    NamedValue,
    NetworkProblem,
    NetworkSolution,
    NetworkStep,
    SheetNetwork,
)
from ..core.network_exercise_claims import step_claims
from ..core.network_matrix import LocalRule, Operand
from .document import LINE_STRUT, Block, Display, Document, Heading, Lead, Paragraph, Section
from .exercise_doc import part

#: LaTeX of each activation's name, as a function of a matrix or an entry (in braces before a
#: prime, {\tanh}', which the MathML of the web pages needs).
_FUNCTION = {
    "generic": r"\sigma",
    "relu": r"\operatorname{relu}",
    "leaky-relu": r"\operatorname{lrelu}",
    "sigmoid": r"\sigma",
    "tanh": r"\tanh",
}


def _sigmoid_latex(network: SheetNetwork) -> str:
    """σ for the sigmoid, or its name when the network's other activation is the generic σ."""
    generic = "generic" in (network.activation if network.hidden else "", network.output_activation)
    return r"\operatorname{sigmoid}" if generic else r"\sigma"


def function_latex(network: SheetNetwork, layer: int) -> str:
    """LaTeX of σℓ's name, as a function of a matrix or an entry."""
    name = network.activation_of(layer)
    return _sigmoid_latex(network) if name == "sigmoid" else _FUNCTION[name]


@dataclass(frozen=True)
class NetworkProblemSheet:
    """The problems of a network sheet and the seed that drew them."""

    problems: tuple[NetworkProblem, ...]
    seed: int


@dataclass(frozen=True)
class NetworkSolutionSheet:
    """The verified solutions of a network sheet's problems, and the seed."""

    solutions: tuple[NetworkSolution, ...]
    seed: int


def _name(name: str) -> str:
    """X, W1, b1, A1, H1 in LaTeX: X, W_1, b_1, A_1, H_1."""
    return name if name in ("X", "G") else f"{name[0]}_{{{name[1:]}}}"


def _grad(name: str) -> str:
    return rf"\frac{{\partial L}}{{\partial {_name(name)}}}"


def _slashed(name: str) -> str:
    return rf"\partial L/\partial {_name(name)}"


def _symbol_names(named: Sequence[NamedValue]) -> dict[Any, str]:
    """LaTeX for the symbols standing for activations' values and derivatives: h^{(ℓ)}_{i,j}
    and σ′(a^{(ℓ)}_{i,j})."""
    names = {}
    for value in named:
        where = f"{value.layer},{value.index[0]},{value.index[1]}"
        layer, i, j = where.split(",")
        if value.derivative:
            function = _FUNCTION[value.activation]
            names[value.symbol] = rf"{{{function}}}'(a^{{({layer})}}_{{{i},{j}}})"
        else:
            names[value.symbol] = rf"h^{{({layer})}}_{{{i},{j}}}"
    return names


def value_latex(value: Any, names: dict[Any, str]) -> str:
    """An exact value (a number, or a polynomial in the named symbols) in LaTeX; a named
    symbol's power is written with the symbol in parentheses, (h^{(1)}_{1,1})^{2}."""
    import sympy

    return str(sympy.latex(value, symbol_names=names, fold_short_frac=False))


def matrix_latex(matrix: Any, names: dict[Any, str] | None = None) -> str:
    """A matrix of exact values as a bmatrix."""
    rows = [
        " & ".join(value_latex(matrix[i, j], names or {}) for j in range(matrix.cols))
        for i in range(matrix.rows)
    ]
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


def _int_matrix(rows: Sequence[Sequence[int]]) -> str:
    import sympy

    return matrix_latex(sympy.Matrix(rows))


def _network_words(network: SheetNetwork) -> str:
    """The network in words for a sheet's subtitle."""
    if not network.hidden:
        shape = f"one layer, {network.output_activation} activation"
    else:
        widths = ", ".join(map(str, network.hidden))
        plural = "s" if len(network.hidden) > 1 else ""
        shape = (
            f"{network.depth} layers, hidden width{plural} {widths}, "
            f"{network.activation} activation"
        )
        if network.output_activated:
            shape += f", {network.output_activation} output"
    return shape + (", with biases" if network.bias else ", without bias")


def sheet_title(network: SheetNetwork, kind: str) -> str:
    """The title of a network sheet: exercises or solutions."""
    what = "a layer with an activation" if not network.hidden else "a network"
    return f"Backpropagation through {what}: {kind}"


def network_sheet(
    title: str,
    problems: Sequence[NetworkProblem],
    seed: int,
    parts: Sequence[Section],
    for_instructor: bool = False,
) -> Document:
    """A network sheet under its heading; the solution sheet adds the seed and the command
    that makes both sheets again, network options included."""
    network = problems[0].network
    count = len(problems)
    subtitle = f"{count} problem{'s' if count != 1 else ''}, {_network_words(network)}"
    if not for_instructor:
        return Document(title, tuple(parts), heading=Heading(subtitle, ""))
    command = f"matgrad exercise --seed {seed} --count {count} {network.options()}"
    command += " --bias" if network.bias else ""
    return Document(title, tuple(parts), heading=Heading(f"Seed {seed}, {subtitle}", command))


def _activation_sentence(name: str, network: SheetNetwork, at_numbers: bool) -> str:
    """What an activation is, and what the sheets write for its values; ``at_numbers`` when its
    arguments are numbers (none of which is then a relu's kink: the draw never makes one)."""
    kink = " (no pre-activation of it is $0$ here)" if at_numbers else ""
    if name == "relu":
        return (
            r"$\operatorname{relu}(a) = \max(0, a)$, with ${\operatorname{relu}}'(a) = 1$ for "
            rf"$a > 0$ and $0$ for $a \le 0${kink}."
        )
    if name == "leaky-relu":
        slope = network.slope if network.slope is not None else "1/100"
        return (
            rf"$\operatorname{{lrelu}}(a) = a$ for $a > 0$ and $\alpha a$ for $a \le 0$, with "
            rf"$\alpha = {slope}$; its derivative is $1$ or $\alpha${kink}."
        )
    if name == "sigmoid":
        sigma = _sigmoid_latex(network)
        return (
            rf"${sigma}(a) = 1/(1 + e^{{-a}})$, with ${{{sigma}}}' = {sigma}(1 - {sigma})$: write "
            rf"$h^{{(\ell)}}_{{i,j}} = {sigma}(a^{{(\ell)}}_{{i,j}})$ and leave it a symbol."
        )
    if name == "tanh":
        return (
            r"$\tanh$, with ${\tanh}'(a) = 1 - \tanh(a)^2$: write "
            r"$h^{(\ell)}_{i,j} = \tanh(a^{(\ell)}_{i,j})$ and leave it a symbol."
        )
    return (
        r"$\sigma$ is any differentiable function: write $h^{(\ell)}_{i,j} = "
        r"\sigma(a^{(\ell)}_{i,j})$ and $\sigma'(a^{(\ell)}_{i,j})$ as symbols."
    )


def network_notation(network: SheetNetwork) -> Paragraph:
    """The conventions every problem of a network sheet uses."""
    bias = r" + \mathbf{1} b_\ell" if network.bias else ""
    depth = network.depth
    output = f"H_{{{depth}}}" if network.output_activated else f"A_{{{depth}}}"
    used = [network.activation] if network.hidden else []
    used += [network.output_activation] if network.output_activated else []
    hidden = "The hidden layers use" if len(network.hidden) > 1 else "The hidden layer uses"
    # The output's arguments are numbers when every layer below it has exact values.
    exact = network.activation in EXACT_ACTIVATIONS or not network.hidden
    words = " ".join(
        f"{hidden if index == 0 and network.hidden else 'The output uses'} "
        + _activation_sentence(name, network, (index == 0 and bool(network.hidden)) or exact)
        for index, name in enumerate(used)
        if name != "identity"
    )
    return Paragraph(
        rf"Samples are rows. Layer $\ell$ maps $H_{{\ell-1}}$ to $A_\ell = H_{{\ell-1}} W_\ell"
        rf"{bias}$ and $H_\ell = \sigma_\ell(A_\ell)$ entry by entry, with $H_0 = X$"
        + (r" and $\mathbf{1}$ the column of $m$ ones" if network.bias else "")
        + f". {words} The upstream gradient $G = \\partial L/\\partial {output}$ is given. "
        r"Gradients are in denominator layout ($\partial L/\partial W_\ell$ has the shape of "
        r"$W_\ell$), $\odot$ is the entrywise product, and indices are 1-based."
    )


def _given(problem: NetworkProblem) -> Display:
    """The numbers of a problem: X, then each layer's W and b, then G."""
    lines = [f"{LINE_STRUT} X &= {_int_matrix(problem.inputs)}"]
    for layer in range(1, problem.network.depth + 1):
        line = f"{LINE_STRUT} W_{{{layer}}} &= {_int_matrix(problem.weights[layer - 1])}"
        if problem.network.bias:
            line += rf",\qquad b_{{{layer}}} = {_int_matrix([problem.biases[layer - 1]])}"
        lines.append(line)
    depth = problem.network.depth
    output = f"H_{{{depth}}}" if problem.network.output_activated else f"A_{{{depth}}}"
    lines.append(
        rf"{LINE_STRUT} G = \frac{{\partial L}}{{\partial {output}}} &= "
        f"{_int_matrix(problem.upstream)}"
    )
    return Display(tuple(lines), aligned=True)


def _sizes(problem: NetworkProblem) -> str:
    widths = problem.widths
    hidden = "".join(f", hidden width ${w}$" for w in widths[1:-1])
    return (
        f"Sizes $m = {problem.m}$, $k = {problem.k}${hidden}, $n = {problem.n}$: "
        f"$X$ is ${problem.m} \\times {problem.k}$ and $G$ is ${problem.m} \\times {problem.n}$."
    )


def _task(problem: NetworkProblem) -> Lead:
    rows, cols = problem.shape_of(problem.target)
    symbols = any(
        problem.network.activation_of(layer) not in EXACT_ACTIVATIONS
        for layer in range(1, problem.network.depth + 1)
    )
    leave = " Leave the $h^{(\\ell)}_{i,j}$ as symbols." if symbols else ""
    return Lead(
        "Task.",
        f"Find ${_slashed(problem.target)}$ (${rows} \\times {cols}$). Work out the forward pass "
        "first; then write the backward pass from the top down to it, each step as a matrix "
        f"formula, and multiply each one out.{leave}",
    )


def problem_document(sheet: NetworkProblemSheet, full: bool = False) -> Document:
    """The problem sheet: notation, then each problem's sizes, numbers and task."""
    del full
    problems = sheet.problems
    network = problems[0].network
    parts = [part("Notation", (network_notation(network),))]
    for problem in problems:
        blocks = (Paragraph(_sizes(problem)), _given(problem), _task(problem))
        parts.append(part(f"Problem {problem.number}", blocks))
    return network_sheet(sheet_title(network, "exercises"), problems, sheet.seed, parts)


#: The width of the page in characters of maths (``_units``): a matrix wider than what a
#: line's left side leaves of it is listed entry by entry.
_PAGE = 80
#: The width of a line's left side: A_2 = H_1 W_2 + 1 b_2 or ∂L/∂W_1 = X^T ∂L/∂A_1, and the
#: longer ∂L/∂A_1 = ∂L/∂H_1 ⊙ relu′(A_1) aligned with σ′(A_1) above it.
_HEAD = 18
_LOCAL_HEAD = 26
#: An entry listed on its own line is broken into lines of at most this many characters.
_ROW_CHARACTERS = 56
_VALUE_SYMBOL = re.compile(r"\bh\d+_\d+_\d+")
_DERIVATIVE_SYMBOL = re.compile(r"\bdh\d+_\d+_\d+")

_HOW = (
    "Each answer was computed by matgrad at the problem's numbers with the backward recursion, "
    "step by step, and every entry of every step was compared exactly with the same partial "
    "derivative found without the recursion: a change in that one entry pushed up through the "
    "network by the chain rule to the output, then weighted by $G$. The recursion itself was "
    "also derived at the problem's sizes for all values, by matgrad's two routes (the CAS "
    "through the whole composition, and the recursion multiplied out from symbols), and "
    "compared entry by entry. What was compared is stated under each answer; matgrad writes no "
    "solution whose check failed."
)


def _operand_latex(operand: Operand, layer: int, network: SheetNetwork) -> str:
    at, depth = layer + operand.offset, network.depth
    if operand.letter == "G":
        if at == depth:
            text = _grad(f"A{at}") if network.output_activated else "G"
        else:
            # With an identity activation Gℓ is ∂L/∂Hℓ, the step before.
            identity = network.activation_of(at) == "identity"
            text = _grad(f"{'H' if identity else 'A'}{at}")
    elif operand.letter == "H":
        text = "X" if at == 0 else f"H_{{{at}}}"
    else:
        text = f"W_{{{at}}}" if operand.letter == "W" else r"\mathbf{1}"
    return text + (r"^{\top}" if operand.transposed else "")


def _derivative_latex(network: SheetNetwork, layer: int) -> str:
    return rf"{{{function_latex(network, layer)}}}'(A_{{{layer}}})"


def formula_latex(step: NetworkStep, network: SheetNetwork) -> str:
    """The right side of a step's matrix formula, e.g. X^⊤ ∂L/∂A_1 or ∂L/∂H_1 ⊙ relu′(A_1)."""
    rule, layer, depth = step.rule, step.layer, network.depth
    if isinstance(rule, LocalRule):
        upstream = "G" if step.name == f"A{depth}" else _grad(f"H{layer - 1}")
        if not rule.derivative:
            return upstream
        return rf"{upstream} \odot {_derivative_latex(network, layer + rule.offset)}"
    left = _operand_latex(rule.left, layer, network)
    right = _operand_latex(rule.right, layer, network)
    return f"{left} {right}"


def _units(value: Any) -> int:
    """About how many characters wide ``value`` is set: h^{(ℓ)}_{i,j} as four,
    σ′(a^{(ℓ)}_{i,j}) as seven, a power with parentheses, no multiplication signs."""
    text = _DERIVATIVE_SYMBOL.sub("sxxxxxx", _VALUE_SYMBOL.sub("hxxx", str(value)))
    return len(text.replace("**", "()^").replace("*", "").replace(" ", ""))


def _width(matrix: Any) -> int:
    """About how many characters wide a matrix is set: each column as wide as its widest
    entry, with the gaps between columns and the brackets."""
    widths = [max(_units(matrix[i, j]) for i in range(matrix.rows)) + 2 for j in range(matrix.cols)]
    return sum(widths) + 2


def _entry_lines(value: Any, names: dict[Any, str]) -> list[str]:
    """An entry's value on as many lines as it needs, its terms kept whole: the first starts
    with ``&=``, the others with ``&\\quad``."""
    terms = value.as_ordered_terms() if value.is_Add else [value]
    lines: list[list[Any]] = [[]]
    for term in terms:
        if lines[-1] and sum(_units(t) + 3 for t in [*lines[-1], term]) > _ROW_CHARACTERS:
            lines.append([])
        lines[-1].append(term)
    texts = []
    for number, line in enumerate(lines):
        text = " + ".join(value_latex(term, names) for term in line).replace("+ -", "- ")
        if number == 0:
            texts.append(f"&= {text}")
        else:
            sign = "- " if text.startswith("-") else "+ "
            texts.append(rf"&\quad {sign}{text.removeprefix('-').lstrip()}")
    return texts


def _indexed(stem: str, after: str = "") -> Callable[[int, int], str]:
    """Names an entry: ``stem`` with the subscript i,j, then ``after``."""
    return lambda i, j: f"{stem}_{{{i},{j}}}{after}"


def _value_lines(
    entry: Callable[[int, int], str], matrix: Any, names: dict[Any, str], head: int = _HEAD
) -> list[str]:
    """A matrix's value: one matrix, or entry by entry when a row is too wide, each entry
    named by ``entry(i, j)``."""
    if _width(matrix) <= _PAGE - head:
        return [f"&= {matrix_latex(matrix, names)}"]
    lines = []
    for i in range(matrix.rows):
        for j in range(matrix.cols):
            first, *more = _entry_lines(matrix[i, j], names)
            left = entry(i + 1, j + 1)
            lines += [f"{LINE_STRUT} {left} {first}", *(f"{LINE_STRUT} {line}" for line in more)]
    return lines


def _lines(head: str, values: list[str]) -> list[str]:
    """``head`` followed by a value's lines: on its line when the value is one matrix."""
    first = values[0]
    return [f"{head} {first}"] if first.startswith("&=") else [f"{head} &", *values]


def _forward_blocks(solution: NetworkSolution, names: dict[Any, str]) -> list[Block]:
    """The forward pass at the problem's numbers, layer by layer."""
    problem, forward = solution.problem, solution.forward
    network = problem.network
    lines = []
    for layer in range(1, network.depth + 1):
        below = "X" if layer == 1 else f"H_{{{layer - 1}}}"
        bias = rf" + \mathbf{{1}} b_{{{layer}}}" if network.bias else ""
        head = rf"{LINE_STRUT} A_{{{layer}}} = {below} W_{{{layer}}}{bias}"
        entry = _indexed(f"a^{{({layer})}}")
        lines += _lines(head, _value_lines(entry, forward.pre[layer - 1], names))
        function = network.activation_of(layer)
        if function != "identity":
            head = rf"{LINE_STRUT} H_{{{layer}}} = {function_latex(network, layer)}(A_{{{layer}}})"
            entry = _indexed(f"h^{{({layer})}}")
            lines += _lines(head, _value_lines(entry, forward.post[layer], names))
    blocks: list[Block] = [Paragraph("The forward pass:"), Display(tuple(lines), aligned=True)]
    if any(not value.derivative for value in forward.named):
        blocks.append(
            Paragraph(
                r"Here $h^{(\ell)}_{i,j}$ is the activation of $a^{(\ell)}_{i,j}$, the entry of "
                r"$A_\ell$ above; it is left as a symbol."
            )
        )
    return blocks


def _factor_value(
    operand: Operand, layer: int, solution: NetworkSolution, gradients: dict[str, Any]
) -> Any:
    import sympy

    at = layer + operand.offset
    problem = solution.problem
    if operand.letter == "G":
        matrix = gradients[f"A{at}"]
    elif operand.letter == "H":
        matrix = solution.forward.post[at]
    elif operand.letter == "W":
        matrix = sympy.Matrix(problem.weights[at - 1])
    else:
        matrix = sympy.ones(gradients[f"A{layer}"].rows, 1)
    return matrix.T if operand.transposed else matrix


def _factors_latex(solution: NetworkSolution, step: NetworkStep) -> str | None:
    """A product step's two factors written out, when both hold numbers only and fit a line."""
    import sympy

    rule = step.rule
    if isinstance(rule, LocalRule):
        return None
    problem = solution.problem
    gradients = {s.name: s.value for s in solution.steps}
    top = f"A{problem.network.depth}"
    gradients.setdefault(top, sympy.Matrix(problem.upstream))
    for layer in range(1, problem.network.depth):
        if f"H{layer}" in gradients and problem.network.activation_of(layer) == "identity":
            gradients.setdefault(f"A{layer}", gradients[f"H{layer}"])
    if f"A{step.layer}" not in gradients:
        return None
    factors = [
        _factor_value(operand, step.layer, solution, gradients)
        for operand in (rule.left, rule.right)
    ]
    numbers = all(entry.is_Rational for factor in factors for entry in factor)
    if not numbers or sum(_width(factor) for factor in factors) > _PAGE - _HEAD:
        return None
    return " ".join(matrix_latex(factor) for factor in factors)


def _step_blocks(solution: NetworkSolution, names: dict[Any, str]) -> list[Block]:
    """Each step of the backward pass: its matrix formula and its value."""
    network = solution.problem.network
    blocks: list[Block] = []
    for step in solution.steps:
        head = rf"{LINE_STRUT} {_grad(step.name)} = {formula_latex(step, network)}"
        entry = _indexed(rf"\left({_grad(step.name)}\right)")
        local = isinstance(step.rule, LocalRule)
        width = _LOCAL_HEAD if local else _HEAD
        lines = _lines(head, _value_lines(entry, step.value, names, width))
        factors = _factors_latex(solution, step)
        if len(lines) == 1 and factors is not None:
            lines = [f"{head} &= {factors}", f"{LINE_STRUT} &= {matrix_latex(step.value, names)}"]
        if isinstance(step.rule, LocalRule) and step.rule.derivative:
            at = step.layer + step.rule.offset
            slopes = solution.forward.slopes[at - 1]
            derivative = rf"{LINE_STRUT} {_derivative_latex(network, at)}"
            entry = _indexed(f"{{{function_latex(network, at)}}}'(a^{{({at})}}", ")")
            lines[:0] = _lines(derivative, _value_lines(entry, slopes, names, _LOCAL_HEAD))
        blocks.append(Display(tuple(lines), aligned=True))
    return blocks


def _verdict(solution: NetworkSolution) -> Lead:
    """What matgrad compared, read off the checks; a failed check is refused, never printed."""
    checks = [step.check for step in solution.steps] + list(solution.derivation_checks)
    failed = [check.identity for check in checks if not check.holds]
    if failed:
        raise ValueError(f"refusing to print an unverified solution: {'; '.join(failed)}")
    steps = ", ".join(
        f"${_slashed(step.name)}$ ({step.check.entries_checked})" for step in solution.steps
    )
    numeric = sum(step.check.entries_checked for step in solution.steps)
    derived = solution.derivation_checks
    symbolic = sum(check.entries_checked for check in derived)
    return Lead(
        "Check.",
        f"$\\checkmark$ Verified by matgrad: all {numeric} entries of {steps} equal the partial "
        "derivatives found without the recursion; and at these sizes the recursion was derived "
        f"for all values by both routes, {len(derived)} gradients and {symbolic} entries "
        "compared, every one equal.",
    )


#: An answer written out as one claim longer than this is given step by step instead.
_CLAIM_CHARACTERS = 72


def _claim_blocks(solution: NetworkSolution) -> list[Block]:
    """The answer in the claim syntax of ``matgrad check``: one claim, every step written out
    in it, or when that is too long each step's claim in terms of the step before."""
    claim = step_claims(solution)[-1]
    if len(claim) <= _CLAIM_CHARACTERS:
        return [Paragraph("As a claim that `matgrad check` reads:"), Paragraph(f"`{claim}`")]
    steps = step_claims(solution, expanded=False)
    return [
        Paragraph("As claims that `matgrad check` reads, one for each step:"),
        *(Paragraph(f"`{step}`") for step in steps),
    ]


def _solution_part(solution: NetworkSolution) -> Section:
    """One answer, checkable on its own: the problem's numbers restated, the forward pass, the
    backward steps, the claims and the verdict. It flows on from the part above and breaks
    between its displays, so that no page is left mostly empty before a long answer."""
    problem = solution.problem
    names = _symbol_names(solution.forward.named)
    blocks: list[Block] = [
        Paragraph(
            f"$(m, k, n) = ({problem.m}, {problem.k}, {problem.n})$; asked for "
            f"${_slashed(problem.target)}$. The problem's numbers:"
        ),
        _given(problem),
        *_forward_blocks(solution, names),
        Paragraph("The backward pass, from the top down:"),
        *_step_blocks(solution, names),
        *_claim_blocks(solution),
        _verdict(solution),
    ]
    return Section(f"Problem {problem.number}", tuple(blocks))


def solution_document(sheet: NetworkSolutionSheet, full: bool = False) -> Document:
    """The solution sheet: how the answers were obtained, then each verified answer."""
    del full
    solutions = sheet.solutions
    problems = [solution.problem for solution in solutions]
    network = problems[0].network
    notes = part("About these solutions", (Paragraph(_HOW), network_notation(network)))
    answers = [_solution_part(solution) for solution in solutions]
    title = sheet_title(network, "solutions")
    return network_sheet(title, problems, sheet.seed, [notes, *answers], for_instructor=True)
