"""Claims for ``matgrad check``: parse ``dW = Z.T @ G``, print it, check shapes, evaluate it.

User text is read only by the hand-written tokenizer and recursive-descent parser below; nothing
here hands it to Python, so a claim can describe a matrix expression and do nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Literal, NoReturn, TypeAlias, assert_never

from matgrad_cli.core.model import Sizes
from matgrad_cli.errors import ClaimSyntaxError

MAX_CLAIM_LENGTH = 10_000
MAX_NESTING = 64
MAX_NUMBER_DIGITS = 100
MAX_ONES_SIZE = 100  # literal sizes in ones(r, c); keeps evaluation cheap

OperandName: TypeAlias = Literal["Z", "W", "b", "G", "Y"]
Target: TypeAlias = Literal["Z", "W", "b"]
SizeName: TypeAlias = Literal["m", "k", "n"]
Dim: TypeAlias = int | SizeName
Shape: TypeAlias = tuple[int, int]

_OPERANDS: dict[str, OperandName] = {"Z": "Z", "W": "W", "b": "b", "G": "G", "Y": "Y", "dA": "G"}
_TARGETS: dict[str, Target] = {"dZ": "Z", "dW": "W", "db": "b"}
_SIZE_NAMES: dict[str, SizeName] = {"m": "m", "k": "k", "n": "n"}
_AXES: dict[str, Literal[0, 1]] = {"0": 0, "1": 1}
_NAME_LIST = "Z, W, b, G, Y"


# --- syntax tree ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """The half-open range ``[start, end)`` of claim text a node was parsed from."""

    start: int
    end: int


# Spans are excluded from comparison so that two trees are equal when they mean the same thing.


@dataclass(frozen=True)
class Name:
    """An operand: Z, W, b, G (∂L/∂A) or Y (the targets of a concrete loss)."""

    name: OperandName
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Number:
    """An exact decimal literal such as ``2`` or ``0.5``; a scalar, never a matrix."""

    value: Fraction
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Ones:
    """``ones(rows, cols)``: the all-ones matrix, sized by literals or by m, k, n."""

    rows: Dim
    cols: Dim
    span: Span = field(compare=False)


@dataclass(frozen=True)
class SumAxis:
    """``sum(arg, axis=...)`` with numpy semantics, keeping the result two-dimensional."""

    arg: Node
    axis: Literal[0, 1]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Transpose:
    """Postfix transpose, written ``.T``, ``^T``, ``'`` or ``ᵀ``."""

    arg: Node
    span: Span = field(compare=False)


@dataclass(frozen=True)
class MatMul:
    """The matrix product ``left @ right``."""

    left: Node
    right: Node
    span: Span = field(compare=False)


@dataclass(frozen=True)
class ScalarMul:
    """``left * right``, where one side must be a number."""

    left: Node
    right: Node
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Add:
    """``left + right``."""

    left: Node
    right: Node
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Sub:
    """``left - right``."""

    left: Node
    right: Node
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Neg:
    """Unary minus."""

    arg: Node
    span: Span = field(compare=False)


Node: TypeAlias = Name | Number | Ones | SumAxis | Transpose | MatMul | ScalarMul | Add | Sub | Neg


@dataclass(frozen=True)
class Claim:
    """A parsed claim ``d<target> = expr``; ``text`` is the claim exactly as given."""

    target: Target
    expr: Node
    text: str


# --- tokenizer -----------------------------------------------------------------------------

TokenKind: TypeAlias = Literal["name", "number", "symbol", "end"]

_SYMBOLS = frozenset("+-*@(),=.^'ᵀ")
_WHITESPACE = frozenset(" \t\r\n")


@dataclass(frozen=True)
class _Token:
    """One token; ``text`` is canonical ("dZ" for "∂L/∂Z"), the raw text is source[start:end]."""

    kind: TokenKind
    text: str
    start: int
    end: int


def _is_word_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def _quote(text: str) -> str:
    return f'"{text}"' if "'" in text else f"'{text}'"


def _word_end(source: str, index: int) -> int:
    while index < len(source) and _is_word_char(source[index]):
        index += 1
    return index


def _skip_spaces(source: str, index: int) -> int:
    while index < len(source) and source[index] in _WHITESPACE:
        index += 1
    return index


def _scan_word(source: str, start: int) -> _Token:
    """A name, folding the spellings ``∂X``, ``dL/dX`` and ``∂L/∂X`` into ``dX``."""
    if source[start] == "∂":
        end = _word_end(source, start + 1)
        if end == start + 1 or _is_digit(source[start + 1]):
            raise ClaimSyntaxError("expected a name after '∂', as in ∂L/∂Z", source, start + 1)
        word = "d" + source[start + 1 : end]
    else:
        end = _word_end(source, start)
        word = source[start:end]
    if word == "dL":
        slash = _skip_spaces(source, end)
        if slash < len(source) and source[slash] == "/":
            after = _skip_spaces(source, slash + 1)
            name_end = _word_end(source, after + 1)
            if (
                after < len(source)
                and source[after] in "d∂"
                and name_end > after + 1
                and not _is_digit(source[after + 1])
            ):
                return _Token("name", "d" + source[after + 1 : name_end], start, name_end)
            raise ClaimSyntaxError("expected a name such as dZ after 'dL/'", source, after)
    return _Token("name", word, start, end)


def _scan_number(source: str, start: int) -> _Token:
    """Digits with an optional fractional part; kept as text so the value stays exact."""
    end = start
    while end < len(source) and _is_digit(source[end]):
        end += 1
    if end + 1 < len(source) and source[end] == "." and _is_digit(source[end + 1]):
        end += 1
        while end < len(source) and _is_digit(source[end]):
            end += 1
    if end - start > MAX_NUMBER_DIGITS:
        raise ClaimSyntaxError(f"number has more than {MAX_NUMBER_DIGITS} digits", source, start)
    return _Token("number", source[start:end], start, end)


def _tokenize(source: str) -> list[_Token]:
    """Split a claim into tokens, rejecting any character the grammar has no use for."""
    tokens: list[_Token] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char in _WHITESPACE:
            index += 1
            continue
        if not char.isprintable():
            raise ClaimSyntaxError(f"non-printable character U+{ord(char):04X}", source, index)
        if _is_digit(char):
            token = _scan_number(source, index)
        elif (_is_word_char(char) and not _is_digit(char)) or char == "∂":
            token = _scan_word(source, index)
        elif source.startswith("**", index):
            raise ClaimSyntaxError(
                "'**' is not an operator here (there are no powers)", source, index
            )
        elif char == "." and index + 1 < len(source) and _is_digit(source[index + 1]):
            raise ClaimSyntaxError("write numbers with a leading digit, as in 0.5", source, index)
        elif char in _SYMBOLS:
            token = _Token("symbol", char, index, index + 1)
        elif char == "/":
            raise ClaimSyntaxError("there is no division; write 0.5 * G to halve G", source, index)
        else:
            raise ClaimSyntaxError(f"unexpected character {_quote(char)}", source, index)
        tokens.append(token)
        index = token.end
    tokens.append(_Token("end", "", len(source), len(source)))
    return tokens


# --- parser --------------------------------------------------------------------------------

_Parsed: TypeAlias = tuple[Node, int]  # a subtree and its height in operations


class _Parser:
    """Recursive descent over the tokens of one claim, one method per precedence level.

    Recursion happens only at parentheses, unary signs and calls, which are capped at
    MAX_NESTING; the tree height is capped too, so printing and comparing it cannot overflow.
    """

    def __init__(self, source: str) -> None:
        self._source = source
        self._tokens = _tokenize(source)
        self._index = 0
        self._nesting = 0

    def claim(self) -> Claim:
        target, target_token = self._target()
        if not self._at("="):
            self._fail(f"expected '=' after {_quote(self._raw(target_token))}", self._peek())
        self._advance()
        expr, _ = self._expression()
        self._finish()
        return Claim(target, expr, self._source)

    # token helpers

    def _peek(self, ahead: int = 0) -> _Token:
        return self._tokens[min(self._index + ahead, len(self._tokens) - 1)]

    def _advance(self) -> _Token:
        token = self._peek()
        self._index = min(self._index + 1, len(self._tokens) - 1)
        return token

    def _at(self, symbol: str) -> bool:
        token = self._peek()
        return token.kind == "symbol" and token.text == symbol

    def _raw(self, token: _Token) -> str:
        return self._source[token.start : token.end]

    def _fail(self, message: str, token: _Token) -> NoReturn:
        raise ClaimSyntaxError(message, self._source, token.start)

    def _not_at_end(self) -> _Token:
        token = self._peek()
        if token.kind == "end":
            self._fail("unexpected end of claim", token)
        return token

    def _expect(self, symbol: str, message: str) -> _Token:
        if not self._at(symbol):
            self._fail(message, self._peek())
        return self._advance()

    def _enter(self, token: _Token) -> None:
        self._nesting += 1
        if self._nesting > MAX_NESTING:
            self._fail(
                f"claim is nested more than {MAX_NESTING} levels deep "
                "(parentheses, unary minus or calls)",
                token,
            )

    def _leave(self) -> None:
        self._nesting -= 1

    def _grown(self, height: int, token: _Token) -> int:
        if height > MAX_NESTING:
            self._fail(f"expression has more than {MAX_NESTING} nested operations", token)
        return height

    # grammar

    def _target(self) -> tuple[Target, _Token]:
        token = self._peek()
        if token.kind == "end":
            raise ClaimSyntaxError("empty claim", self._source, token.start)
        if token.kind == "name":
            target = _TARGETS.get(token.text)
            if target is not None:
                return target, self._advance()
            if token.text.startswith("d") and len(token.text) > 1:
                self._fail(
                    f"{_quote(self._raw(token))} is not a gradient matgrad checks "
                    "(use dZ, dW or db)",
                    token,
                )
        self._fail("a claim starts with dZ, dW or db, then '='", token)

    def _finish(self) -> None:
        token = self._peek()
        if token.kind == "end":
            return
        if self._at(")"):
            self._fail("unmatched ')'", token)
        if self._at("="):
            self._fail("only one '=' is allowed", token)
        self._fail(
            f"expected an operator or the end of the claim, found {_quote(self._raw(token))}",
            token,
        )

    def _expression(self) -> _Parsed:
        """Binary ``+`` and ``-``, left-associative, loosest binding."""
        node, height = self._term()
        while self._at("+") or self._at("-"):
            operator = self._advance()
            right, right_height = self._term()
            span = Span(node.span.start, right.span.end)
            node = Add(node, right, span) if operator.text == "+" else Sub(node, right, span)
            height = self._grown(max(height, right_height) + 1, operator)
        return node, height

    def _term(self) -> _Parsed:
        """``*`` and ``@`` share one level, left-associative, as in Python."""
        node, height = self._unary()
        while self._at("*") or self._at("@"):
            operator = self._advance()
            right, right_height = self._unary()
            span = Span(node.span.start, right.span.end)
            node = (
                ScalarMul(node, right, span) if operator.text == "*" else MatMul(node, right, span)
            )
            height = self._grown(max(height, right_height) + 1, operator)
        return node, height

    def _unary(self) -> _Parsed:
        """Unary minus (and a harmless unary plus), binding tighter than ``*`` and ``@``."""
        if not (self._at("-") or self._at("+")):
            return self._postfix()
        sign = self._advance()
        self._enter(sign)
        operand, height = self._unary()
        self._leave()
        span = Span(sign.start, operand.span.end)
        if sign.text == "+":
            return replace(operand, span=span), height
        return Neg(operand, span), self._grown(height + 1, sign)

    def _postfix(self) -> _Parsed:
        """Any number of transposes: ``.T``, ``^T``, ``'`` or ``ᵀ``."""
        node, height = self._primary()
        while True:
            marker = self._peek()
            if self._at("'") or self._at("ᵀ"):
                end = self._advance().end
            elif self._at("."):
                self._advance()
                end = self._letter_t("only .T (transpose) may follow '.'")
            elif self._at("^"):
                self._advance()
                end = self._letter_t("expected 'T' after '^' (^ only writes transposes)")
            else:
                return node, height
            node = Transpose(node, Span(node.span.start, end))
            height = self._grown(height + 1, marker)

    def _letter_t(self, message: str) -> int:
        token = self._peek()
        if token.kind != "name" or token.text != "T":
            self._fail(message, token)
        return self._advance().end

    def _primary(self) -> _Parsed:
        token = self._not_at_end()
        if token.kind == "number":
            self._advance()
            return Number(Fraction(token.text), Span(token.start, token.end)), 0
        if token.kind == "name":
            return self._named(token)
        if self._at("("):
            self._advance()
            self._enter(token)
            inner, height = self._expression()
            close = self._expect(")", "expected ')' to close '('")
            self._leave()
            return replace(inner, span=Span(token.start, close.end)), height
        if self._at("="):
            self._fail("only one '=' is allowed", token)
        self._fail(f"expected a name, number or '(', found {_quote(self._raw(token))}", token)

    def _named(self, token: _Token) -> _Parsed:
        if token.text == "sum":
            return self._sum_call(self._advance())
        if token.text == "ones":
            return self._ones_call(self._advance())
        operand = _OPERANDS.get(token.text)
        if operand is None:
            self._fail(_unknown_name_message(self._raw(token)), token)
        self._advance()
        return Name(operand, Span(token.start, token.end)), 0

    def _sum_call(self, name: _Token) -> _Parsed:
        opening = self._expect("(", "expected '(' after 'sum'")
        self._enter(opening)
        arg, height = self._expression()
        if self._at(")"):
            self._fail("sum needs an axis: sum(X, axis=0) or sum(X, axis=1)", self._peek())
        self._expect(",", "expected ',' and an axis, as in sum(X, axis=0)")
        axis = self._axis()
        close = self._expect(")", "expected ')' to close 'sum('")
        self._leave()
        return SumAxis(arg, axis, Span(name.start, close.end)), self._grown(height + 1, name)

    def _axis(self) -> Literal[0, 1]:
        token = self._peek()
        if token.kind == "name" and token.text == "axis":
            self._advance()
            self._expect("=", "expected '=' after 'axis'")
        elif token.kind == "name" and self._peek(1).text == "=":
            self._fail(f"unknown keyword {_quote(self._raw(token))} (sum takes only axis)", token)
        token = self._not_at_end()
        axis = _AXES.get(token.text) if token.kind == "number" else None
        if axis is None:
            self._fail("axis must be 0 or 1", token)
        self._advance()
        return axis

    def _ones_call(self, name: _Token) -> _Parsed:
        opening = self._expect("(", "expected '(' after 'ones'")
        self._enter(opening)
        rows = self._size()
        self._expect(",", "expected ',' between the sizes, as in ones(m, 1)")
        cols = self._size()
        close = self._expect(")", "expected ')' to close 'ones('")
        self._leave()
        return Ones(rows, cols, Span(name.start, close.end)), 0

    def _size(self) -> Dim:
        token = self._not_at_end()
        if token.kind == "name" and token.text in _SIZE_NAMES:
            self._advance()
            return _SIZE_NAMES[token.text]
        if token.kind == "number" and token.text.isdigit() and 0 < int(token.text) <= MAX_ONES_SIZE:
            self._advance()
            return int(token.text)
        self._fail(
            f"a size in ones(r, c) must be m, k, n or a whole number 1..{MAX_ONES_SIZE}", token
        )


def _unknown_name_message(name: str) -> str:
    if name in _SIZE_NAMES:
        return f"'{name}' is a size; sizes may appear only inside ones(r, c)"
    near = [known for known in _OPERANDS if known.lower() == name.lower()]
    hint = f"; names are case-sensitive, did you mean '{near[0]}'?" if near else ""
    return f"unknown name {_quote(name)} (names: {_NAME_LIST}{hint})"


def parse_claim(text: str) -> Claim:
    """Parse ``dZ = G @ W.T`` and friends; every problem is a ClaimSyntaxError with a position."""
    if len(text) > MAX_CLAIM_LENGTH:
        raise ClaimSyntaxError(
            f"claim is longer than {MAX_CLAIM_LENGTH} characters", text, MAX_CLAIM_LENGTH
        )
    return _Parser(text).claim()


# --- printing ------------------------------------------------------------------------------

_ADDITIVE, _MULTIPLICATIVE, _NEGATION, _POSTFIX, _ATOM = range(1, 6)


def _precedence(node: Node) -> int:
    match node:
        case Add() | Sub():
            return _ADDITIVE
        case MatMul() | ScalarMul():
            return _MULTIPLICATIVE
        case Neg():
            return _NEGATION
        case Number(value=value) if value < 0:
            return _NEGATION
        case Transpose():
            return _POSTFIX
        case _:
            return _ATOM


def _format_number(value: Fraction) -> str:
    """Exact decimal text when one exists (1/2 -> "0.5"); otherwise "p/q", for messages only."""
    sign, magnitude = ("-" if value < 0 else ""), abs(value)
    rest, twos, fives = magnitude.denominator, 0, 0
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    if rest != 1:
        return f"{sign}{magnitude.numerator}/{magnitude.denominator}"
    places = max(twos, fives)
    digits = str(magnitude.numerator * 10**places // magnitude.denominator).rjust(places + 1, "0")
    whole, fraction = digits[: len(digits) - places], digits[len(digits) - places :]
    return sign + whole + ("." + fraction if places else "")


def _wrapped(node: Node, loosest: int) -> str:
    text = to_text(node)
    return f"({text})" if _precedence(node) < loosest else text


def _binary_text(left: Node, symbol: str, right: Node, level: int) -> str:
    return f"{_wrapped(left, level)} {symbol} {_wrapped(right, level + 1)}"


def to_text(node: Node) -> str:
    """Canonical text with ``ᵀ`` and minimal parentheses, e.g. ``-(G @ Wᵀ)``; it parses back."""
    match node:
        case Name(name=name):
            return name
        case Number(value=value):
            return _format_number(value)
        case Ones(rows=rows, cols=cols):
            return f"ones({rows}, {cols})"
        case SumAxis(arg=arg, axis=axis):
            return f"sum({to_text(arg)}, axis={axis})"
        case Transpose(arg=arg):
            return _wrapped(arg, _POSTFIX) + "ᵀ"
        case Neg(arg=arg):
            return "-" + _wrapped(arg, _POSTFIX)
        case MatMul(left=left, right=right):
            return _binary_text(left, "@", right, _MULTIPLICATIVE)
        case ScalarMul(left=left, right=right):
            return _binary_text(left, "*", right, _MULTIPLICATIVE)
        case Add(left=left, right=right):
            return _binary_text(left, "+", right, _ADDITIVE)
        case Sub(left=left, right=right):
            return _binary_text(left, "-", right, _ADDITIVE)
        case _:
            assert_never(node)


# --- shapes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShapeStep:
    """One sub-expression (as ``to_text``) and the shape it was found to have."""

    text: str
    shape: tuple[int, int]


class ShapeMismatch(Exception):
    """A claim whose shapes do not fit: a wrong answer, not bad input, so not a MatgradError."""

    def __init__(self, message: str, node: Node, steps: tuple[ShapeStep, ...]) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.steps = steps


def _shape_text(shape: Shape | None) -> str:
    return "a number" if shape is None else f"({shape[0]}×{shape[1]})"


def _resolve(dim: Dim, sizes: Sizes) -> int:
    match dim:
        case "m":
            return sizes.m
        case "k":
            return sizes.k
        case "n":
            return sizes.n
        case _:
            return dim


class _ShapeChecker:
    """Computes shapes bottom-up and records every matrix-valued step; None marks a number."""

    def __init__(self, sizes: Sizes, operand_shapes: Mapping[str, Shape]) -> None:
        self._sizes = sizes
        self._operand_shapes = operand_shapes
        self.steps: list[ShapeStep] = []

    def visit(self, node: Node) -> Shape | None:
        shape = self._shape(node)
        if shape is not None:
            self.steps.append(ShapeStep(to_text(node), shape))
        return shape

    def _fail(self, node: Node, detail: str) -> NoReturn:
        raise ShapeMismatch(f"{to_text(node)}: {detail}", node, tuple(self.steps))

    def _shape(self, node: Node) -> Shape | None:
        match node:
            case Name(name=name):
                return self._operand_shapes[name]
            case Number():
                return None
            case Ones(rows=rows, cols=cols):
                return _resolve(rows, self._sizes), _resolve(cols, self._sizes)
            case SumAxis(arg=arg, axis=axis):
                inner = self.visit(arg)
                if inner is None:
                    self._fail(node, "sum needs a matrix, not a number")
                return (1, inner[1]) if axis == 0 else (inner[0], 1)
            case Transpose(arg=arg):
                inner = self.visit(arg)
                return None if inner is None else (inner[1], inner[0])
            case Neg(arg=arg):
                return self.visit(arg)
            case MatMul(left=left, right=right):
                return self._product_shape(node, self.visit(left), self.visit(right))
            case ScalarMul(left=left, right=right):
                left_shape, right_shape = self.visit(left), self.visit(right)
                if left_shape is not None and right_shape is not None:
                    self._fail(node, "* is the scalar product; one side must be a number")
                return right_shape if left_shape is None else left_shape
            case Add(left=left, right=right):
                return self._sum_shape(node, "+", self.visit(left), self.visit(right))
            case Sub(left=left, right=right):
                return self._sum_shape(node, "-", self.visit(left), self.visit(right))
            case _:
                assert_never(node)

    def _product_shape(self, node: Node, left: Shape | None, right: Shape | None) -> Shape:
        if left is None or right is None:
            self._fail(node, "@ is the matrix product; use * to scale by a number")
        if left[1] != right[0]:
            detail = f"{_shape_text(left)} @ {_shape_text(right)}, and {left[1]} ≠ {right[0]}"
            self._fail(node, detail)
        return left[0], right[1]

    def _sum_shape(
        self, node: Node, symbol: str, left: Shape | None, right: Shape | None
    ) -> Shape | None:
        """Equal shapes, or a 1×c row broadcast down an r×c matrix (how A = ZW + b adds b)."""
        pair = f"{_shape_text(left)} {symbol} {_shape_text(right)}"
        if left is None or right is None:
            if left is None and right is None:
                return None
            self._fail(node, f"{pair}; a number cannot be added to or subtracted from a matrix")
        if left == right or (right[0] == 1 and right[1] == left[1]):
            return left
        if left[0] == 1 and left[1] == right[1]:
            return right
        self._fail(node, f"{pair}, the shapes differ")


def shape_of(
    node: Node, sizes: Sizes, shapes: Mapping[str, tuple[int, int]] | None = None
) -> tuple[tuple[int, int], tuple[ShapeStep, ...]]:
    """The shape of ``node`` and every matrix-valued step, innermost first; a number is 1×1.

    ``shapes`` overrides the default operand shapes Z m×k, W k×n, b 1×n, G m×n and Y m×n.
    Raises ShapeMismatch, naming the failing sub-expression, when the claim cannot be computed.
    """
    operand_shapes: dict[str, Shape] = {
        "Z": (sizes.m, sizes.k),
        "W": (sizes.k, sizes.n),
        "b": (1, sizes.n),
        "G": (sizes.m, sizes.n),
        "Y": (sizes.m, sizes.n),
    }
    operand_shapes.update(shapes or {})
    checker = _ShapeChecker(sizes, operand_shapes)
    shape = checker.visit(node)
    return (shape or (1, 1)), tuple(checker.steps)


# --- evaluation ----------------------------------------------------------------------------


class _Evaluator:
    """Computes values bottom-up: a sympy Rational for number-only parts, otherwise a matrix."""

    def __init__(self, sympy: Any, operands: Mapping[str, Any], sizes: Sizes) -> None:
        self._sympy = sympy
        self._operands = operands
        self._sizes = sizes

    def value(self, node: Node) -> Any:
        sympy = self._sympy
        match node:
            case Name(name=name):
                if name not in self._operands:
                    raise ValueError(f"evaluate needs a value for {name}")
                return sympy.ImmutableMatrix(self._operands[name])
            case Number(value=value):
                return sympy.Rational(value.numerator, value.denominator)
            case Ones(rows=rows, cols=cols):
                return sympy.ones(_resolve(rows, self._sizes), _resolve(cols, self._sizes))
            case SumAxis(arg=arg, axis=axis):
                matrix = self.value(arg)
                if axis == 0:
                    return sympy.ones(1, matrix.rows) @ matrix
                return matrix @ sympy.ones(matrix.cols, 1)
            case Transpose(arg=arg):
                inner = self.value(arg)
                return inner.T if self._is_matrix(inner) else inner
            case Neg(arg=arg):
                return -self.value(arg)
            case MatMul(left=left, right=right):
                return self.value(left) @ self.value(right)
            case ScalarMul(left=left, right=right):
                return self.value(left) * self.value(right)
            case Add(left=left, right=right):
                augend, addend = self._rows_matched(self.value(left), self.value(right))
                return augend + addend
            case Sub(left=left, right=right):
                minuend, subtrahend = self._rows_matched(self.value(left), self.value(right))
                return minuend - subtrahend
            case _:
                assert_never(node)

    def _is_matrix(self, value: Any) -> bool:
        return isinstance(value, self._sympy.MatrixBase)

    def _rows_matched(self, left: Any, right: Any) -> tuple[Any, Any]:
        """Repeat a 1×c row to the other side's height (the only broadcast shape_of allows)."""
        if not (self._is_matrix(left) and self._is_matrix(right)) or left.shape == right.shape:
            return left, right
        if left.rows == 1:
            return self._sympy.ones(right.rows, 1) @ left, right
        return left, self._sympy.ones(left.rows, 1) @ right


def evaluate(node: Node, operands: Mapping[str, Any], sizes: Sizes, *, expand: bool = True) -> Any:
    """Compute ``node`` on sympy matrices named Z, W, b, G, Y; returns a Matrix, entries expanded.

    Shapes are checked first (against the operands' own shapes), so a wrong claim raises
    ShapeMismatch before any arithmetic; a number-only claim becomes a 1×1 matrix.
    """
    import sympy

    operand_shapes = {
        name: (int(value.shape[0]), int(value.shape[1])) for name, value in operands.items()
    }
    shape_of(node, sizes, operand_shapes)
    result = _Evaluator(sympy, operands, sizes).value(node)
    if not isinstance(result, sympy.MatrixBase):
        result = sympy.Matrix([[result]])
    # Expanded entries compare structurally for polynomials; a caller comparing expressions with
    # exponentials asks for them as computed, so that exp(a + b) is not split into exp(a)·exp(b).
    return sympy.Matrix(result).applyfunc(sympy.expand) if expand else sympy.Matrix(result)
