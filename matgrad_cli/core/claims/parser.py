"""Reading claims: the tokenizer and recursive-descent parser of ``dW = Z.T @ G``, and claims files.

User text is read only by the hand-written tokenizer and parser below; nothing here hands it to
Python, so a claim can describe a matrix expression and do nothing else. Length, nesting and
number sizes are capped before any tree is built.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Literal, NamedTuple, NoReturn, TypeAlias

from ...errors import ClaimSyntaxError, InputError
from ...files import shown
from ..layer import LAYER
from . import tree
from .tree import OPERANDS, Claim, Dim, Node, OperandName, SizeName, Span, Target

MAX_CLAIM_LENGTH = 10_000
MAX_NESTING = 64
MAX_NUMBER_DIGITS = 100
MAX_ONES_SIZE = 100  # literal sizes in ones(r, c); keeps evaluation cheap
#: A claims file larger than this is refused before it is read.
MAX_FILE_BYTES = 1_000_000

#: The operands by spelling: ∂L/∂A, the upstream gradient, may also be written dA.
_OPERANDS: dict[str, OperandName] = {name: name for name in OPERANDS}
_OPERANDS["d" + LAYER.role("output").name] = LAYER.role("upstream").name
_TARGETS: dict[str, Target] = {f"d{name}": name for name in LAYER.variables(bias=True)}
_SIZE_NAMES: dict[str, SizeName] = {"m": "m", "k": "k", "n": "n"}
_AXES: dict[str, Literal[0, 1]] = {"0": 0, "1": 1}
_NAME_LIST = ", ".join(OPERANDS)

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
_BinaryNode: TypeAlias = Callable[[Node, Node, Span], Node]


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

    @contextmanager
    def _nested(self, token: _Token) -> Iterator[None]:
        """One level deeper in parentheses, unary signs or calls, refused beyond MAX_NESTING."""
        self._nesting += 1
        if self._nesting > MAX_NESTING:
            self._fail(
                f"claim is nested more than {MAX_NESTING} levels deep "
                "(parentheses, unary minus or calls)",
                token,
            )
        yield
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
        return self._left_associative(self._term, {"+": tree.Add, "-": tree.Sub})

    def _term(self) -> _Parsed:
        """``*`` and ``@`` share one level, left-associative, as in Python."""
        return self._left_associative(self._unary, {"*": tree.ScalarMul, "@": tree.MatMul})

    def _left_associative(
        self, operand: Callable[[], _Parsed], operators: Mapping[str, _BinaryNode]
    ) -> _Parsed:
        """Operands joined by the binary ``operators`` of one precedence level, left to right."""
        node, height = operand()
        while self._peek().kind == "symbol" and self._peek().text in operators:
            operator = self._advance()
            right, right_height = operand()
            node = operators[operator.text](node, right, Span(node.span.start, right.span.end))
            height = self._grown(max(height, right_height) + 1, operator)
        return node, height

    def _unary(self) -> _Parsed:
        """Unary minus (and a harmless unary plus), binding tighter than ``*`` and ``@``."""
        if not (self._at("-") or self._at("+")):
            return self._postfix()
        sign = self._advance()
        with self._nested(sign):
            operand, height = self._unary()
        span = Span(sign.start, operand.span.end)
        if sign.text == "+":
            return replace(operand, span=span), height
        return tree.Neg(operand, span), self._grown(height + 1, sign)

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
            node = tree.Transpose(node, Span(node.span.start, end))
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
            return tree.Number(Fraction(token.text), Span(token.start, token.end)), 0
        if token.kind == "name":
            return self._named(token)
        if self._at("("):
            self._advance()
            with self._nested(token):
                inner, height = self._expression()
                close = self._expect(")", "expected ')' to close '('")
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
        return tree.Name(operand, Span(token.start, token.end)), 0

    def _sum_call(self, name: _Token) -> _Parsed:
        opening = self._expect("(", "expected '(' after 'sum'")
        with self._nested(opening):
            arg, height = self._expression()
            if self._at(")"):
                self._fail("sum needs an axis: sum(X, axis=0) or sum(X, axis=1)", self._peek())
            self._expect(",", "expected ',' and an axis, as in sum(X, axis=0)")
            axis = self._axis()
            close = self._expect(")", "expected ')' to close 'sum('")
        return tree.SumAxis(arg, axis, Span(name.start, close.end)), self._grown(height + 1, name)

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
        with self._nested(opening):
            rows = self._size()
            self._expect(",", "expected ',' between the sizes, as in ones(m, 1)")
            cols = self._size()
            close = self._expect(")", "expected ')' to close 'ones('")
        return tree.Ones(rows, cols, Span(name.start, close.end)), 0

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


# --- claims files ------------------------------------------------------------------------


class ClaimLine(NamedTuple):
    """A claim read from a file, with its 1-based line number."""

    line: int
    text: str


def read_claims_file(path: Path) -> list[ClaimLine]:
    """The claims of a file, one a line; blank lines and ``#`` comments (whole-line or trailing)
    are skipped. Lines end at \\n or \\r\\n only, so that a form feed or another separator
    inside a line cannot shift the line numbers of the lines after it (it is reported as the
    character it is). Raises InputError with a one-line message, the path shown escaped, when
    the file cannot be read: missing, a directory, not a regular file (a FIFO would block the
    read forever), too large, or not UTF-8."""
    data = _read_regular_file(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{shown(path)} is not UTF-8 text (byte {error.start + 1} cannot be decoded)"
        ) from None
    claims = []
    for number, line in enumerate(text.split("\n"), start=1):
        # The claim grammar has no '#', so everything after one is a comment; strip() takes the
        # \r of a \r\n with the other spaces.
        claim = line.split("#", 1)[0].strip()
        if claim:
            claims.append(ClaimLine(number, claim))
    return claims


def _read_regular_file(path: Path) -> bytes:
    """The bytes of ``path``, at most MAX_FILE_BYTES. It is opened without blocking and refused
    unless it is a regular file, before anything is read from it."""
    name = shown(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{name} is a directory, not a file of claims") from None
    except OSError as error:
        raise InputError(f"cannot read {name}: {error.strerror or error}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{name} is a directory, not a file of claims")
        if not stat.S_ISREG(mode):
            raise InputError(
                f"{name} is not a regular file (a pipe, device or socket); "
                "save the claims to a file and give that"
            )
        with os.fdopen(descriptor, "rb", closefd=False) as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise InputError(f"cannot read {name}: {error.strerror or error}") from None
    finally:
        os.close(descriptor)
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{name} is larger than {MAX_FILE_BYTES:,} bytes")
    return data
