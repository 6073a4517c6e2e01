"""LaTeX for a network's derivation: its entries, its activations, its rules and its sums.

A network's symbols are x_i_j, wℓ_i_j, bℓ_j, aℓ_i_j and the upstream dAL_i_j or dHL_i_j (core
network.py); here they become x_{i,j}, w^{(ℓ)}_{i,j}, b^{(ℓ)}_j, a^{(ℓ)}_{i,j} and
\\frac{\\partial L}{\\partial a^{(L)}_{i,j}}. The routes write each hidden unit as the whole
composition below it, σ(x_{1,1} w^{(1)}_{1,1} + …); for a reader, ``DisplayNames`` writes σ(e) of
the entry a^{(ℓ)}_{i,j} = e as h^{(ℓ)}_{i,j} and its derivative as σ′(a^{(ℓ)}_{i,j}) (for the
sigmoid, h(1 − h); for tanh, 1 − h²), the names the forward pass gives them. That is a renaming of
whole subexpressions, never a change of value: the entries are the routes' own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.activations import (
    Activation,
    Identity,
    Undefined,
    engine_derivative,
)
from ..core.engine import Engine, get_engine
from ..core.model import LinearForm
from ..core.network import Network, forward_pass
from ..core.network_derive import NetworkDerivation
from ..core.network_matrix import BackwardRules, LocalRule, Operand, ProductRule
from . import mathtex as tex
from .limits import SUM_TERMS

#: Most terms a sum inside a term of a sum shows unless --full (the first, ⋯ and the last
#: beyond it); a sum nested deeper shows its first term and ⋯.
NESTED_TERMS = 3

#: The prefixes of the symbols a network's entries are written with, in the order a product
#: lists them: x, h, w, b, then the activations' derivatives and the entries of A.
_SYMBOL = re.compile(r"^(x|y|h|w|b|a|dsig|dA|dH)(\d*)((?:_\d+)+)$")
_RANKS = {"y": 7, "x": 0, "h": 1, "w": 2, "b": 3, "dsig": 4, "a": 5, "dA": 6, "dH": 6}

#: Each activation's name in formulas (the derivative adds a prime).
_FUNCTION = {
    "generic": r"\sigma",
    "identity": r"\operatorname{id}",
    "relu": r"\operatorname{relu}",
    "leaky-relu": r"\operatorname{lrelu}",
    "sigmoid": r"\operatorname{sigmoid}",
    "tanh": r"\tanh",
}


def function_latex(activation: Activation) -> str:
    """σ, relu, lrelu, sigmoid or tanh as a formula writes it."""
    return _FUNCTION.get(activation.name, rf"\operatorname{{{activation.name}}}")


def derivative_latex(activation: Activation) -> str:
    """σ′, relu′, …: the activation's derivative as a formula writes it (a name of several
    letters grouped, so that the prime is its superscript)."""
    name = function_latex(activation)
    return f"{name}'" if name == r"\sigma" else f"{{{name}}}'"


def _terms(expr: Any) -> frozenset[Any]:
    """The terms of a sum (one term for anything else)."""
    return frozenset(expr.args if expr.is_Add else (expr,))


def _display_pairs(activation: Activation, engine: Engine, e: Any, h: Any, d: Any) -> list[Any]:
    """(subexpression, display name) for σ(e) and σ′(e) in every form the routes write them."""
    if isinstance(activation, Undefined):
        function = activation.function(engine)
        return [
            (activation.forward(engine, e), h),
            (engine_derivative(engine, function, e), d),
            (activation.derivative(engine, e), d),
        ]
    return list(activation.names(engine, e, h, d))


class DisplayNames:
    """The routes' expressions with each hidden unit σ(e) named h^{(ℓ)}_{i,j} and each σ′(e)
    named σ′(a^{(ℓ)}_{i,j}), e the entry a^{(ℓ)}_{i,j} as the forward pass writes it (from X, or
    from the symbols of a higher Aℓ for the intermediates ∂L/∂Aℓ)."""

    def __init__(self, derivation: NetworkDerivation) -> None:
        network, symbols = derivation.network, derivation.symbols
        engine = get_engine(derivation.engine)
        self._engine = engine
        passes = [derivation.forward]
        passes += [
            forward_pass(network, symbols, engine, start) for start in range(1, network.depth + 1)
        ]
        pairs: dict[Any, Any] = {}
        self._exponents: dict[frozenset[Any], Any] = {}
        for forward in passes:
            for layer, i, j, argument in forward.arguments():
                activation = network.activation_of(layer)
                if isinstance(activation, Identity):
                    continue
                value = engine.symbol(f"h{layer}_{i}_{j}")
                slope = engine.symbol(f"dsig{layer}_{i}_{j}")
                for key, name in _display_pairs(activation, engine, argument, value, slope):
                    pairs.setdefault(key, name)
                for term, name in activation.exponent_names(engine, argument, value):
                    # exp(±e) by the terms of ±e, for an exponent the engine merged and flattened
                    self._exponents.setdefault(_terms(term), name)
        self._pairs = pairs
        self._mapping = engine.mapping(pairs) if pairs else None
        self._memo: dict[Any, Any] = {}
        self._euler = engine.exp(1)
        self._sympy_names: dict[Any, Any] | None = None

    def _split_exponential(self, expr: Any) -> Any:
        """exp(−e₁ − e₂ − …), the engine's merge of a product of exponentials of the sigmoids'
        arguments, as the product of their names; None for anything else."""
        if not self._exponents or not expr.is_Pow or expr.args[0] != self._euler:
            return None
        exponent = expr.args[1]
        left = set(exponent.args) if exponent.is_Add else set()
        product: Any = 1
        for terms, name in sorted(self._exponents.items(), key=lambda item: -len(item[0])):
            if terms <= left and len(left) > 0:
                left -= terms
                product = product * name
        return product if not left and product != 1 else None

    def _foreign(self, expr: Any) -> bool:
        """True for a SymPy expression when the derivation ran on symengine."""
        return self._engine.name != "sympy" and type(expr).__module__.startswith("sympy")

    def _sympy_pairs(self) -> dict[Any, Any]:
        """The same names for SymPy's expressions, made when first asked for."""
        if self._sympy_names is None:
            convert = self._engine.to_sympy
            self._sympy_names = {convert(key): convert(name) for key, name in self._pairs.items()}
        return self._sympy_names

    def named(self, expr: Any) -> Any:
        """``expr`` with the activations' values and derivatives named, each distinct
        subexpression once."""
        if self._mapping is None or not hasattr(expr, "args"):
            return expr
        if self._foreign(expr):  # a SymPy value a check kept to show, on symengine
            return expr.xreplace(self._sympy_pairs())
        known = self._memo.get(expr)
        if known is not None:
            return known
        replaced = self._pairs.get(expr)
        if replaced is None:
            replaced = self._split_exponential(expr)
        if replaced is None:
            if expr.is_Add or expr.is_Mul or expr.is_Pow:
                parts = [self.named(part) for part in expr.args]
                if expr.is_Pow:
                    replaced = parts[0] ** parts[1]
                elif expr.is_Add:
                    replaced = self._engine.add(parts)
                else:
                    replaced = 1
                    for part in parts:
                        replaced = replaced * part
            else:
                replaced = self._engine.substitute(expr, self._mapping)
        self._memo[expr] = replaced
        return replaced


def symbol_latex(name: str, network: Network) -> str | None:
    """The LaTeX of a network's symbol (or a display name), None for any other name."""
    match = _SYMBOL.match(name)
    if match is None:
        return None
    kind, layer, indices = match.group(1), match.group(2), match.group(3)[1:].replace("_", ",")
    if kind in ("x", "y") and not layer:
        return f"{kind}_{{{indices}}}"
    if not layer:
        return None
    if kind in ("dA", "dH"):
        entry = f"{kind[1].lower()}^{{({layer})}}_{{{indices}}}"
        return tex.partial_latex("L", entry)
    if kind == "dsig":
        derivative = derivative_latex(network.activation_of(int(layer)))
        return rf"{derivative}(a^{{({layer})}}_{{{indices}}})"
    return f"{kind}^{{({layer})}}_{{{indices}}}"


def _bias_last(term: Any) -> int:
    """1 for a bias entry b^{(ℓ)}_j, which a sum lists last; 0 for any other term."""
    return int(bool(term.is_Symbol and _SYMBOL.match(term.name) and term.name[0] == "b"))


def _rank(expr: Any) -> tuple[int, str]:
    base = expr.base if expr.is_Pow else expr
    name = base.name if base.is_Symbol else ""
    match = _SYMBOL.match(name)
    rank = _RANKS[match.group(1)] if match is not None else 7
    return (rank, name)


class NetworkPrinter:
    """Expressions of a network's derivation in LaTeX, in its notation; sums of more than
    SUM_TERMS terms inside an entry are elided unless ``full``."""

    def __init__(self, derivation: NetworkDerivation, full: bool) -> None:
        from sympy.printing.latex import LatexPrinter

        network = derivation.network
        self.names = DisplayNames(derivation)
        self._engine = get_engine(derivation.engine)
        self.full = full

        class Printer(LatexPrinter):  # type: ignore[misc]  # sympy has no stubs
            """SymPy's LaTeX printer with the network's entries and products in their order."""

            def _print_Symbol(self, expr: Any, style: str = "plain") -> str:
                known = symbol_latex(expr.name, network)
                return known if known is not None else str(super()._print_Symbol(expr, style))

            nesting = 0

            def _print_Add(self, expr: Any, order: Any = None) -> str:
                # A bias last, as the forward pass writes a = Σ h w + b. Elided when long: a
                # sum inside a sum's term (the paths through a deeper layer) beyond
                # NESTED_TERMS, one nested deeper to its first term, so that an entry of a deep
                # network stays a few lines long.
                terms = sorted(expr.as_ordered_terms(), key=_bias_last)
                terms = elided_terms(terms, self.nesting, full)
                self.nesting += 1
                try:
                    pieces = [r"\cdots" if term is None else self._print(term) for term in terms]
                finally:
                    self.nesting -= 1
                return joined(pieces)

            def _print_Mul(self, expr: Any) -> str:
                coefficient, rest = expr.as_coeff_Mul()
                factors = rest.args if rest.is_Mul else (rest,)
                simple = all(
                    factor.is_Symbol
                    or factor.is_Add
                    or (factor.is_Pow and factor.base.is_Symbol and factor.exp.is_positive)
                    for factor in factors
                )
                if not simple:
                    return str(super()._print_Mul(expr))
                pieces = [
                    rf"\left({self._print(factor)}\right)" if factor.is_Add else self._print(factor)
                    for factor in sorted(factors, key=_rank)
                ]
                body = " ".join(pieces)
                if coefficient == 1:
                    return body
                if coefficient == -1:
                    return f"- {body}"
                return f"{self._print(coefficient)} {body}"

        self._printer = Printer({"mul_symbol": None})

    def expr(self, expr: Any) -> str:
        """Any expression of the derivation, named and in LaTeX."""
        return self._latex(self._sympy(expr))

    def _sympy(self, expr: Any) -> Any:
        named = self.names.named(expr)
        return named if type(named).__module__.startswith("sympy") else self._engine.to_sympy(named)

    def _latex(self, expr: Any, nesting: int = 0) -> str:
        """``expr`` in LaTeX, as a part of a sum nested ``nesting`` deep (for elision)."""
        self._printer.nesting = nesting
        try:
            return str(self._printer.doprint(expr))
        finally:
            self._printer.nesting = 0

    def term(self, upstream: str, factor: Any, budget: float | None = None) -> list[str]:
        """One term ∂L/∂(output)_{p,q} · factor, the upstream entry first, a sum in brackets: one
        piece, or, when wider than ``budget``, pieces of a sum to be joined by ``joined``."""
        if str(factor) == "1":
            return [upstream]
        value = self._sympy(factor)
        text = self._latex(value)
        if value.is_Add:
            text = rf"\left({text}\right)"
        if budget is None or width(text) + 4 <= budget:
            return [f"{upstream} {text}"]
        pieces = self._pieces(value, budget)
        if value.is_Add:
            pieces = _bracketed(pieces)
        return [f"{upstream} {pieces[0]}", *pieces[1:]]

    def _pieces(self, value: Any, budget: float, nesting: int = 0) -> list[str]:
        """``value`` as pieces of a sum, none wider than ``budget`` where it can be helped: a
        sum term by term (elided as the printer elides at ``nesting``), a product with its widest
        sum split."""
        if value.is_Add:
            terms = elided_terms(list(value.as_ordered_terms()), nesting, self.full)
            pieces: list[str] = []
            for term in terms:
                text = r"\cdots" if term is None else self._latex(term, nesting + 1)
                fits = term is None or width(text) <= budget
                pieces += [text] if fits else self._pieces(term, budget, nesting + 1)
            return pieces
        if not value.is_Mul:
            return [self._latex(value, nesting)]
        coefficient, rest = value.as_coeff_Mul()
        factors = sorted(rest.args if rest.is_Mul else (rest,), key=_rank)
        sums = [factor for factor in factors if factor.is_Add]
        if not sums:
            return [self._latex(value, nesting)]
        widest = max(sums, key=lambda factor: width(self._latex(factor, nesting)))
        shown = [
            rf"\left({self._latex(factor, nesting)}\right)"
            if factor.is_Add
            else self._latex(factor, nesting)
            for factor in factors
            if factor is not widest
        ]
        signs = {1: "", -1: "- "}
        sign = signs.get(coefficient, f"{self._latex(coefficient)} ")
        pieces = _bracketed(self._pieces(widest, budget, nesting))
        head = (sign + " ".join(shown)).strip()
        # The head a piece of its own, so that a line may break after it, inside the product.
        return [head, GLUE + pieces[0], *pieces[1:]] if head else pieces

    def form_terms(
        self, form: LinearForm, upstream: Sequence[Sequence[Any]], budget: float | None = None
    ) -> list[str]:
        """The terms of a linear form in G, in its stored order, elided unless ``full``; each a
        piece, or several when wider than ``budget``."""
        shown = form if self.full or len(form) <= SUM_TERMS else (*form[:2], None, form[-1])
        pieces: list[str] = []
        for term in shown:
            if term is None:
                pieces.append(r"\cdots")
                continue
            (p, q), factor = term
            pieces += self.term(self.expr(upstream[p - 1][q - 1]), factor, budget)
        return pieces

    def form(self, form: LinearForm, upstream: Sequence[Sequence[Any]]) -> str:
        """A linear form in G as one sum; 0 when empty."""
        return joined(self.form_terms(form, upstream)) or "0"

    def symbols(self, matrix: Sequence[Sequence[Any]]) -> str:
        """A matrix of symbols as a bmatrix, elided unless ``full``."""
        return tex.bmatrix(
            len(matrix), len(matrix[0]), lambda i, j: self.expr(matrix[i][j]), self.full
        )


def elided_terms(terms: list[Any], nesting: int, full: bool) -> list[Any]:
    """The terms of a sum nested ``nesting`` deep in an entry that are shown, None for ⋯: all
    with ``full``; at the top beyond SUM_TERMS the first two and the last; in a term's factor
    beyond NESTED_TERMS (or a sum over paths of three or more) the first and the last; a sum
    over paths nested deeper, its first. A short sum such as 1 − h stays whole."""
    if full:
        return terms
    # A sum over paths through deeper layers: a term holds a sum as a factor.
    paths = any(term.is_Mul and any(factor.is_Add for factor in term.args) for term in terms)
    if nesting > 1 and paths and len(terms) > 1:
        return [terms[0], None]
    if nesting == 1 and (paths or len(terms) > NESTED_TERMS) and len(terms) > 2:
        return [terms[0], None, terms[-1]]
    if len(terms) > SUM_TERMS:
        return [*terms[:2], None, terms[-1]]
    return terms


def _bracketed(pieces: list[str]) -> list[str]:
    """The pieces of a sum in brackets that may break across lines."""
    if len(pieces) == 1:
        return [rf"\left({pieces[0]}\right)"]
    return [rf"\bigl({pieces[0]}", *pieces[1:-1], rf"{pieces[-1]}\bigr)"]


#: Opens a piece that goes on the product before it (a factor split off a long product), not a
#: term of the sum: it is joined without +.
GLUE = "\x00"


def joined(pieces: Sequence[str]) -> str:
    """Pieces of a sum joined by +, by their own sign, or (GLUE) by nothing."""
    text = ""
    for piece in pieces:
        if piece.startswith(GLUE):
            text += f" {piece[1:]}" if text else piece[1:]
        elif not text:
            text = piece
        else:
            text += f" {piece}" if piece.startswith("-") else f" + {piece}"
    return text


def continued(pieces: Sequence[str]) -> str:
    """A line that goes on from the one above: +, the first piece's sign, or nothing for a
    factor (GLUE), then the pieces joined."""
    text = joined(pieces)
    first = pieces[0] if pieces else ""
    return text if first.startswith((GLUE, "-")) else f"+ {text}"


def matrix_name(letter: str, layer: int) -> str:
    """X for H₀, else the letter with its layer: W_{2}, H_{1}."""
    if letter == "H" and layer == 0:
        return "X"
    return f"{letter}_{{{layer}}}"


def operand_latex(operand: Operand, layer: int, display: bool = True) -> str:
    """A factor of a rule at ``layer`` in LaTeX: ∂L/∂A_ℓ, H_{ℓ−1}^⊤, W_ℓ^⊤, 1^⊤."""
    at = layer + operand.offset
    if operand.letter == "G":
        name = matrix_name("A", at)
        text = tex.grad(name) if display else tex.slashed(name)
        if operand.transposed:
            text = rf"\left({text}\right)"
    elif operand.letter == "1":
        text = r"\mathbf{1}"
    else:
        text = matrix_name(operand.letter, at)
    return text + (r"^\top" if operand.transposed else "")


def product_latex(rule: ProductRule, layer: int, display: bool = True) -> str:
    """left · right of a product rule at ``layer``."""
    return f"{operand_latex(rule.left, layer, display)} {operand_latex(rule.right, layer, display)}"


def local_latex(rule: LocalRule, upstream: str, layer: int, network: Network) -> str:
    """``upstream`` ⊙ σ′(A at ``layer`` + offset), or ``upstream`` without the factor."""
    if not rule.derivative:
        return upstream
    at = layer + rule.offset
    derivative = derivative_latex(network.activation_of(at))
    return rf"{upstream} \odot {derivative}({matrix_name('A', at)})"


def rule_latex(
    name: str,
    rules: BackwardRules,
    network: Network,
    display: bool = True,
    start: StartForm | None = None,
) -> str:
    """The matrix route's formula for ∂L/∂``name`` (X, Wℓ, bℓ or Aℓ), from the rules it used;
    under a concrete loss the recursion starts from its closed form ``start``."""
    if name == "X":
        return product_latex(rules.inputs, 1, display)
    letter, layer = name[0], int(name[1:])
    if letter == "W":
        return product_latex(rules.weights, layer, display)
    if letter == "b":
        return product_latex(rules.bias, layer, display)
    depth = network.depth
    if layer == depth and start is not None and (start.at_pre or not network.output_activated):
        return start.latex  # ∂L/∂A_L in closed form, where the recursion starts
    if layer == depth and not network.output_activated:
        return "G"  # where the recursion starts
    if layer == depth:
        top = matrix_name("H", depth)
        upstream = tex.grad(top) if display else tex.slashed(top)
        if start is not None:
            upstream = rf"\left({start.latex}\right)"
        return local_latex(rules.output, upstream, depth, network)
    inner = rf"\left({product_latex(rules.inputs, layer + 1, display)}\right)"
    return local_latex(rules.local, inner, layer + 1, network)


@dataclass(frozen=True)
class StartForm:
    """A concrete loss's closed form, where the matrix route starts: its LaTeX, what it says of
    the rows of Y (or ""), and whether it is ∂L/∂A_L (after a sigmoid) rather than ∂L/∂H_L."""

    latex: str
    note: str
    at_pre: bool


_START_WORDS = (
    (re.compile(r"([AH])(\d+)"), r"\1_{\2}"),
    (re.compile("−"), "-"),
    (re.compile("softmax"), r"\\operatorname{softmax}"),
    (re.compile("1·1ᵀ"), r"\\mathbf{1}\\mathbf{1}^\\top"),
)


def start_form(text: str, at_pre: bool) -> StartForm:
    """The closed form a concrete loss's matrix route starts from, read off its plain text
    (``A2 − Y``, ``softmax(A2) − Y (of each row, …)``, ``1·1ᵀ``) as LaTeX and a note."""
    if not re.match(r"[A-Za-z]+\d|softmax|1·", text):  # words: a closed form given by name
        return StartForm(rf"\text{{{text}}}", "", at_pre)
    formula, _, note = text.partition(" (")
    for pattern, replacement in _START_WORDS:
        formula = pattern.sub(replacement, formula)
    return StartForm(formula, note.removesuffix(")"), at_pre)


def rule_name(name: str) -> str:
    """The matrix a gradient is taken by, in LaTeX: X, W_{1}, b_{2}, A_{1}."""
    return "X" if name == "X" else matrix_name(name[0], int(name[1:]))


#: The pieces of LaTeX ``width`` reads: a fraction ∂L/∂(entry), scripts, commands, signs.
_GRADIENT = re.compile(r"\\frac\{\\partial L\}\{\\partial ([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}")
_SCRIPTS = re.compile(r"(?:[_^]\{[^{}]*\}|[_^][^{\\])+")
_TOKEN = re.compile(r"\\operatorname\{([A-Za-z]+)\}|\\([A-Za-z]+)|([+=-])|([()])|(\S)")
#: The width of a command, in letters; any other command is one letter.
_COMMAND_WIDTH = {"left": 0.0, "right": 0.0, "displaystyle": 0.0, "tanh": 3.0, "cdots": 2.5}


def _scripts_width(scripts: str) -> float:
    """Super- and subscripts stacked on one base: about 0.7 of a letter per character of the
    longer."""
    parts = re.findall(r"[_^]\{([^{}]*)\}|[_^](.)", scripts)
    return 0.7 * max(len(braced or single) for braced, single in parts)


def width(latex: str) -> float:
    """About how wide ``latex`` sets, in letters of the text: a fraction ∂L/∂(entry) is as wide
    as its denominator ∂(entry), scripts stacked on their base, signs with their spacing."""
    text = _GRADIENT.sub(lambda match: "∂" + match.group(1), latex)
    total = sum(_scripts_width(match.group()) for match in _SCRIPTS.finditer(text))
    text = _SCRIPTS.sub(" ", text)
    for match in _TOKEN.finditer(text):
        name, command, sign, bracket, other = match.groups()
        if name is not None:
            total += len(name)
        elif command is not None:
            total += _COMMAND_WIDTH.get(command, 1.0)
        elif sign is not None:
            total += 2.2
        elif bracket is not None:
            total += 0.8
        elif other not in "{}'&":
            total += 1.0
    return total


Cell = Callable[[int, int], str]
