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
from .notation import elide

#: The prefixes of the symbols a network's entries are written with, in the order a product
#: lists them: x, h, w, b, then the activations' derivatives and the entries of A.
_SYMBOL = re.compile(r"^(x|h|w|b|a|dsig|dA|dH)(\d*)((?:_\d+)+)$")
_RANKS = {"x": 0, "h": 1, "w": 2, "b": 3, "dsig": 4, "a": 5, "dA": 6, "dH": 6}

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
            forward_pass(network, symbols, engine, start) for start in range(1, network.depth)
        ]
        pairs: dict[Any, Any] = {}
        for forward in passes:
            for layer, i, j, argument in forward.arguments():
                activation = network.activation_of(layer)
                if isinstance(activation, Identity):
                    continue
                value = engine.symbol(f"h{layer}_{i}_{j}")
                slope = engine.symbol(f"dsig{layer}_{i}_{j}")
                for key, name in _display_pairs(activation, engine, argument, value, slope):
                    pairs.setdefault(key, name)
        self._pairs = pairs
        self._mapping = engine.mapping(pairs) if pairs else None
        self._memo: dict[Any, Any] = {}

    def named(self, expr: Any) -> Any:
        """``expr`` with the activations' values and derivatives named, each distinct
        subexpression once."""
        if self._mapping is None or not hasattr(expr, "args"):
            return expr
        known = self._memo.get(expr)
        if known is not None:
            return known
        replaced = self._pairs.get(expr)
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
    if kind == "x" and not layer:
        return f"x_{{{indices}}}"
    if not layer:
        return None
    if kind in ("dA", "dH"):
        entry = f"{kind[1].lower()}^{{({layer})}}_{{{indices}}}"
        return tex.partial_latex("L", entry)
    if kind == "dsig":
        derivative = derivative_latex(network.activation_of(int(layer)))
        return rf"{derivative}(a^{{({layer})}}_{{{indices}}})"
    return f"{kind}^{{({layer})}}_{{{indices}}}"


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

            def _print_Add(self, expr: Any, order: Any = None) -> str:
                terms = list(expr.as_ordered_terms())
                if full or len(terms) <= SUM_TERMS:
                    return str(super()._print_Add(expr, order))
                shown = [self._print(term) for term in (*terms[:2], terms[-1])]
                text = f"{shown[0]} + {shown[1]} + \\cdots + {shown[2]}"
                return text.replace("+ -", "- ")

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
        named = self.names.named(expr)
        return str(self._printer.doprint(self._engine.to_sympy(named)))

    def term(self, upstream: str, factor: Any) -> str:
        """One term ∂L/∂(output)_{p,q} · factor, the upstream entry first; a sum in parentheses."""
        if str(factor) == "1":
            return upstream
        named = self.names.named(factor)
        text = self.expr(factor)
        if getattr(named, "is_Add", False):
            text = rf"\left({text}\right)"
        return f"{upstream} {text}"

    def form_terms(self, form: LinearForm, upstream: Sequence[Sequence[Any]]) -> list[str]:
        """The terms of a linear form in G, in its stored order, elided unless ``full``."""
        items = [self.term(self.expr(upstream[p - 1][q - 1]), factor) for (p, q), factor in form]
        return elide(items, self.full, SUM_TERMS, r"\cdots")

    def form(self, form: LinearForm, upstream: Sequence[Sequence[Any]]) -> str:
        """A linear form in G as one sum; 0 when empty."""
        return " + ".join(self.form_terms(form, upstream)) or "0"

    def symbols(self, matrix: Sequence[Sequence[Any]]) -> str:
        """A matrix of symbols as a bmatrix, elided unless ``full``."""
        return tex.bmatrix(
            len(matrix), len(matrix[0]), lambda i, j: self.expr(matrix[i][j]), self.full
        )


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


def rule_latex(name: str, rules: BackwardRules, network: Network, display: bool = True) -> str:
    """The matrix route's formula for ∂L/∂``name`` (X, Wℓ, bℓ or Aℓ), from the rules it used."""
    if name == "X":
        return product_latex(rules.inputs, 1, display)
    letter, layer = name[0], int(name[1:])
    if letter == "W":
        return product_latex(rules.weights, layer, display)
    if letter == "b":
        return product_latex(rules.bias, layer, display)
    depth = network.depth
    if layer == depth:
        top = matrix_name(network.output_name[0], depth)
        upstream = tex.grad(top) if display else tex.slashed(top)
        return (
            local_latex(rules.output, upstream, depth, network)
            if network.output_activated
            else upstream
        )
    inner = rf"\left({product_latex(rules.inputs, layer + 1, display)}\right)"
    return local_latex(rules.local, inner, layer + 1, network)


def rule_name(name: str) -> str:
    """The matrix a gradient is taken by, in LaTeX: X, W_{1}, b_{2}, A_{1}."""
    return "X" if name == "X" else matrix_name(name[0], int(name[1:]))


def width(latex: str) -> float:
    """About how wide ``latex`` sets, in the width of a letter: a fraction ∂L/∂a counts as its
    denominator, scripts as half their characters, commands as one letter."""
    text = re.sub(r"\\frac\{\\partial L\}\{\\partial ([a-z])", r"\1", latex)
    scripts = sum(len(match) for match in re.findall(r"[_^]\{([^{}]*)\}", text))
    text = re.sub(r"\\(left|right|displaystyle|operatorname)", "", text)
    text = re.sub(r"\\[A-Za-z]+", "#", text)
    plain = re.sub(r"[{}_^\s()]", "", text)
    return len(plain) - scripts / 2 + text.count("+") * 1.5


Cell = Callable[[int, int], str]
