"""Reading claims about a network: ``dW1 = X.T @ ((G @ W2.T) * relu'(A1))``.

The single layer's grammar (parser.py) with a network's names (network_names.py): X, Wℓ, bℓ, Aℓ,
Hℓ, G and the gradients found before the one claimed; the activations and their derivatives
(``relu(A1)``, ``relu'(A1)``, ``σ′(A1)``, ``sigmoid_prime(A1)``, ``torch.relu(A1)``); the step
``(A1 > 0)``; and numbers added to matrices entry by entry (``1 - H1``), as in NumPy. ``*``
between two matrices is elementwise, as in NumPy, unless ``--dialect matlab`` or ``math`` says
otherwise; ``⊙``, ``\\odot`` and ``.*`` are elementwise always. As for the single layer, the
text is read by this code alone and never handed to Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction

from ...errors import ClaimSyntaxError
from ..layer import Sizes
from . import spellings, tree
from .calls import CallParser, Parsed
from .lexer import Token, quote
from .network_names import ACTIVATION_WORDS, PRIME_SUFFIX, NetworkNames
from .parser import MAX_CLAIM_LENGTH, _Parser
from .shapes import scalar_value
from .spellings import Dialect
from .tree import Node, Span

#: The most activations, derivatives and steps a claim may nest inside each other
#: (``relu'(relu'(A1))`` nests two): each level multiplies the terms the exact comparison
#: handles, so the work is bounded here, before any.
MAX_ACTIVATION_NESTING = 4

#: Words for G = ∂L/∂(output), besides the gradient's own spellings.
UPSTREAM_WORDS = frozenset({"G", "delta", "dout", "grad_output"})


@dataclass(frozen=True)
class NetworkClaim:
    """A parsed claim about a network: ∂L/∂``target`` (X, Wℓ, bℓ, Aℓ or Hℓ) = ``expr``."""

    target: str
    expr: Node
    text: str
    notes: tuple[str, ...] = field(default=(), compare=False)
    marks: frozenset[str] = field(default=frozenset(), compare=False)
    dialect: str = field(default="numpy", compare=False)


class _NetworkParser(_Parser):
    """The single layer's recursive descent, with a network's names and functions."""

    def __init__(self, source: str, dialect: Dialect, names: NetworkNames) -> None:
        CallParser.__init__(self, source, dialect, "rows", network=True)
        self._names = names
        self._tokens = _subscripts_joined(self._tokens)
        self._gradient_words = names.gradient_words()
        self._gradient_of = names.matrices
        self._target_name = ""

    def network_claim(self) -> NetworkClaim:
        target, tokens = self._network_target()
        self._target_name = target
        if not self._at("="):
            written = self._source[tokens[0].start : tokens[1].end]
            raise self._fail(f"expected '=' after {quote(written)}", self._peek())
        self._advance()
        expr, _ = self._expression()
        self._finish()
        notes = []
        if id(expr) in tree.flat_parts(expr):
            notes.append(
                f"{tree.to_text(expr)} is a 1-D array in NumPy (no keepdims=True); "
                "it was compared as a row"
            )
        if any(isinstance(sub, tree.Ones) and sub.inferred for _, sub in tree.subtrees(expr)):
            notes.append("1 was read as the column of m ones, ones(m, 1)")
        if "star-matmul" in self.marks:
            notes.append(
                f"* between matrices was read as the matrix product (--dialect {self._dialect})"
            )
        return NetworkClaim(
            target, expr, self._source, tuple(notes), frozenset(self.marks), self._dialect
        )

    def _network_target(self) -> tuple[str, tuple[Token, Token]]:
        first = self._peek()
        if first.kind == "end":
            raise ClaimSyntaxError("empty claim", self._source, first.start)
        found = self._gradient()
        about = f"one of {self._names.gradients_listed()}"
        if found is not None and found in self._names.targets:
            return found, (first, self._peek(-1))
        if found is not None:
            raise self._fail(f"∂L/∂{found} is G, given; a claim is about {about}", first)
        if first.kind == "name" and first.text.startswith("d") and len(first.text) > 1:
            raise self._fail(
                f"{quote(self._raw(first))} is not a gradient of this network (use {about})", first
            )
        raise self._fail(f"a claim starts with a gradient ({about}), then '='", first)

    def _gradient_operand(self, found: str, token: Token) -> Node:
        span = Span(token.start, self._peek(-1).end)
        if found == self._names.output:
            return tree.Name("G", span)
        known = self._names.known_before(self._target_name)
        if found in known:
            return tree.Name(f"d{found}", span)
        usable = ", ".join(["G", *(f"d{name}" for name in known)])
        raise self._fail(
            f"the right side of a claim about d{self._target_name} may use the gradients found "
            f"before it ({usable}), not ∂L/∂{found}",
            token,
        )

    def _named(self, token: Token) -> Parsed:
        """A matrix of the network, a size, an activation, or a function (after an optional
        library prefix)."""
        prefixed = False
        while token.text in spellings.PREFIX_WORDS and self._at(".", ahead=1):
            self._advance()
            self._advance()
            token, prefixed = self._not_at_end(), True
            if token.kind != "name":
                raise self._fail("expected a function name after the '.'", token)
        activation = self._activation_word(token)
        if activation is not None:
            return self._applied_activation(token, *activation)
        if token.text in ("heaviside", "maximum") and self._at("(", ahead=1):
            return self._two_argument_function(token)
        if token.text == "where" and self._at("(", ahead=1):
            return self._where(token)
        function = spellings.FUNCTIONS.get(token.text)
        if function == "softmax":
            raise self._fail("softmax is not part of a network's claims", token)
        if function is not None and self._at("(", ahead=1):
            if token.text in spellings.PREFIXED_ONLY and not prefixed:
                raise self._fail(self._unknown(token), token)
            self._advance()
            return self._call(function, token)
        if prefixed:
            raise self._fail(f"unknown function {quote(self._raw(token))}", token)
        if token.text in UPSTREAM_WORDS or token.text in self._names.matrices:
            self._advance()
            name = "G" if token.text in UPSTREAM_WORDS else token.text
            return tree.Name(name, Span(token.start, token.end)), 0
        if token.text in spellings.SIZE_NAMES:
            self._advance()
            return tree.Size(spellings.SIZE_NAMES[token.text], Span(token.start, token.end)), 0
        raise self._fail(self._unknown(token), token)

    def _unknown(self, token: Token) -> str:
        word = self._raw(token)
        known = [*self._names.matrices, "G", *ACTIVATION_WORDS]
        near = [name for name in known if name.lower() == word.lower()]
        hint = f"; names are case-sensitive, did you mean '{near[0]}'?" if near else ""
        layer = word.removeprefix("d")[1:]
        if word.removeprefix("d")[:1] in ("Z", "z") and layer.isdigit():
            hint = (
                f"; A{layer} is layer {layer}'s pre-activation here (dA{layer} its gradient) "
                f"and H{layer} = σ(A{layer}) its activation"
            )
        return f"unknown name {quote(word)} (names: {self._names.listed()}{hint})"

    def _activation_word(self, token: Token) -> tuple[str, bool] | None:
        """(the activation's word, whether its derivative) for ``relu``, ``relu'``,
        ``relu_prime``, ``leaky-relu``; None for another word. The tokens of a ``leaky-relu``
        are taken."""
        text = token.text
        if text == "leaky" and self._at("-", ahead=1) and self._at_name("relu", ahead=2):
            self._index += 2
            text = "leaky_relu"
        derivative = text.endswith(PRIME_SUFFIX) and text[: -len(PRIME_SUFFIX)] in ACTIVATION_WORDS
        word = text[: -len(PRIME_SUFFIX)] if derivative else text
        if word not in ACTIVATION_WORDS or token.kind != "name":
            return None
        return word, derivative

    def _applied_activation(self, token: Token, word: str, derivative: bool) -> Parsed:
        """``relu(A1)`` or ``relu'(A1)`` (``′`` too), the word read."""
        self._advance()
        if self._at("'"):
            self._advance()
            derivative = True
        if not self._at("("):
            raise self._fail(f"expected '(' after {quote(word)}, as in {word}(A1)", self._peek())
        opening = self._advance()
        self._enter(opening)
        arg, height = self._expression()
        close = self._expect(")", f"expected ')' to close {quote(word + '(')}")
        self._leave()
        span = Span(token.start, close.end)
        name = "σ" if ACTIVATION_WORDS[word] == "σ" else word
        node = tree.Applied(arg, span, name, derivative)
        return node, self._grown(height + 1, token)

    def _two_argument_function(self, token: Token) -> Parsed:
        """NumPy's ``heaviside(A1, 0)``, the step with the value 0 at 0 (relu′), and
        ``maximum(A1, 0)`` or ``maximum(0, A1)``, relu."""
        self._advance()
        opening = self._advance()
        self._enter(opening)
        first, height = self._expression()
        self._expect(",", f"{token.text} takes two arguments, as in {token.text}(A1, 0)")
        second, other_height = self._expression()
        close = self._expect(")", f"expected ')' to close '{token.text}('")
        self._leave()
        span = Span(token.start, close.end)
        zero = [_is_zero(first), _is_zero(second)]
        node: Node
        if token.text == "heaviside":
            if not zero[1]:
                raise self._fail(
                    "heaviside(A1, 0) is relu′, which is 0 at 0: give 0 as its second argument",
                    token,
                )
            node = tree.Positive(first, span)
        elif zero[0] != zero[1]:
            node = tree.Applied(second if zero[0] else first, span, "relu")
        else:
            raise self._fail("maximum(A1, 0) is relu; give 0 as one of its arguments", token)
        return node, self._grown(max(height, other_height) + 1, token)

    def _where(self, token: Token) -> Parsed:
        """NumPy's ``where(A1 > 0, X, Y)``: X where A1 is positive, Y elsewhere, that is
        ``(A1 > 0) * X + (1 - (A1 > 0)) * Y``; a 0 or 1 in it is left out of the product."""
        self._advance()
        opening = self._advance()
        self._enter(opening)
        condition, height = self._expression()
        if not self._at(">"):
            raise self._fail(
                "where takes a condition '> 0', as in where(A1 > 0, 1, 0)", self._peek()
            )
        self._advance()
        zero = self._peek()
        if zero.kind != "number" or float(zero.text) != 0:
            raise self._fail("a comparison in a claim is '> 0', as in (A1 > 0)", zero)
        self._advance()
        step = tree.Positive(condition, Span(condition.span.start, zero.end))
        self._expect(",", "where takes three arguments, as in where(A1 > 0, 1, 0)")
        positive, first = self._expression()
        self._expect(",", "where takes three arguments, as in where(A1 > 0, 1, 0)")
        negative, second = self._expression()
        close = self._expect(")", "expected ')' to close 'where('")
        self._leave()
        span = Span(token.start, close.end)
        node = _chosen(step, positive, span)
        if not _is_zero(negative):
            other = tree.Sub(tree.Number(Fraction(1), span), step, span)
            node = tree.Add(node, _chosen(other, negative, span), span)
        return node, self._grown(max(height, first, second) + 2, token)

    def _attribute(self, node: Node) -> Node:
        """The single layer's attributes and methods, and the conversions of a step to numbers
        that change nothing here: ``.float()``, ``.double()``, ``.astype(float)``."""
        word = self._peek(1)
        if word.kind == "name" and word.text in _CONVERSIONS and self._at("(", ahead=2):
            self._index += 3
            if word.text == "astype" and not self._at(")"):
                self._expect_type()
            end = self._expect(")", f"expected ')' to close '.{word.text}('").end
            return replace(node, span=Span(node.span.start, end))
        return super()._attribute(node)

    def _expect_type(self) -> None:
        """``float``, ``int``, ``np.float32``, …: a number type, for ``.astype(…)``."""
        while self._peek().text in spellings.PREFIX_WORDS and self._at(".", ahead=1):
            self._index += 2
        token = self._peek()
        if token.kind != "name" or not token.text.startswith(("float", "int", "double")):
            raise self._fail("expected a number type such as float", token)
        self._advance()

    def _group(self, opening: Token) -> Parsed:
        """``( … )``, ``{ … }``, or the step ``(A1 > 0)``: 1 where positive, 0 elsewhere."""
        closing = ")" if opening.text == "(" else "}"
        self._advance()
        self._enter(opening)
        inner, height = self._expression()
        if self._at(">"):
            comparison = self._advance()
            zero = self._peek()
            if zero.kind != "number" or float(zero.text) != 0:
                raise self._fail("a comparison in a claim is '> 0', as in (A1 > 0)", zero)
            self._advance()
            inner = tree.Positive(inner, Span(inner.span.start, zero.end))
            height = self._grown(height + 1, comparison)
        close = self._expect(closing, f"expected {quote(closing)} to close {quote(opening.text)}")
        self._leave()
        return replace(inner, span=Span(opening.start, close.end)), height


_SUBSCRIPTED = re.compile(r"(d?[A-Za-z]+)_(\d+)")


def _subscripts_joined(tokens: list[Token]) -> list[Token]:
    """A layer written as a subscript, ``W_1``, ``dA_1`` or ``W_{1}``, read as ``W1``."""
    joined: list[Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        found = _SUBSCRIPTED.fullmatch(token.text) if token.kind == "name" else None
        braced = [t.kind == k for t, k in zip(tokens[index : index + 4], _BRACED, strict=False)]
        if found is not None:
            token = Token("name", found[1] + found[2], token.start, token.end)
        elif token.kind == "name" and token.text.endswith("_") and len(braced) == 4 and all(braced):
            digits = tokens[index + 2].text
            if tokens[index + 1].text == "{" and tokens[index + 3].text == "}" and digits.isdigit():
                last = tokens[index + 3]
                token = Token("name", token.text[:-1] + digits, token.start, last.end)
                index += 3
        joined.append(token)
        index += 1
    return joined


#: The kinds of the tokens of ``W_{1}``: the name with its underscore, ``{``, the layer, ``}``.
_BRACED = ("name", "symbol", "number", "symbol")

#: Methods that turn a step's truth values into numbers, which they already are here.
_CONVERSIONS = frozenset({"float", "double", "astype"})


def _chosen(mask: Node, value: Node, span: Span) -> Node:
    """``mask * value``, or the mask alone for a value of 1."""
    if isinstance(value, tree.Number) and value.value == 1:
        return mask
    return tree.Hadamard(mask, value, span)


def _is_zero(node: Node) -> bool:
    return isinstance(node, tree.Number) and node.value == 0


def parse_network_claim(text: str, names: NetworkNames, dialect: Dialect = "numpy") -> NetworkClaim:
    """Parse a claim about the network ``names`` describes; every problem is a
    ClaimSyntaxError with the position of the offending character."""
    if len(text) > MAX_CLAIM_LENGTH:
        raise ClaimSyntaxError(
            f"claim is longer than {MAX_CLAIM_LENGTH} characters", text, MAX_CLAIM_LENGTH
        )
    claim = _NetworkParser(text, dialect, names).network_claim()
    _refuse_deep_activations(claim.expr, text)
    _refuse_matrix_divisors(claim.expr, text)
    return claim


def _refuse_matrix_divisors(expr: Node, text: str) -> None:
    """ClaimSyntaxError at a divisor that is a matrix (a claim divides by numbers and sizes
    only; ``*`` with a step or ``np.where`` select entries) or the number 0."""
    for _, node in tree.subtrees(expr):
        if not isinstance(node, tree.Div):
            continue
        divisor = node.right
        if not tree.is_scalar(divisor):
            raise ClaimSyntaxError(
                "/ divides by a number or a size, not by a matrix", text, divisor.span.start
            )
        if not any(isinstance(part, tree.Size) for _, part in tree.subtrees(divisor)):
            try:
                zero = scalar_value(divisor, Sizes(1, 1, 1)) == 0
            except ZeroDivisionError:
                zero = True
            if zero:
                raise ClaimSyntaxError("division by zero", text, divisor.span.start)


def _refuse_deep_activations(expr: Node, text: str) -> None:
    """ClaimSyntaxError at the first activation, derivative or step nested more than
    MAX_ACTIVATION_NESTING deep."""
    depths: dict[tuple[str, ...], int] = {}
    for path, node in tree.subtrees(expr):
        depth = depths.get(path[:-1], 0) + isinstance(node, tree.Applied | tree.Positive)
        depths[path] = depth
        if depth > MAX_ACTIVATION_NESTING:
            raise ClaimSyntaxError(
                f"activations, derivatives and steps are nested more than "
                f"{MAX_ACTIVATION_NESTING} deep",
                text,
                node.span.start,
            )
