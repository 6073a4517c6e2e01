"""The tokenizer of claims: plain text, NumPy, MATLAB, Unicode maths and LaTeX, read into one
stream of tokens for the parser.

Every character is either read as part of a token, skipped as spacing, or refused with its
position; nothing is handed to Python. LaTeX commands are looked up in spellings.py: spacing
commands vanish, ``\\partial`` becomes ``∂``, ``\\mathbf{1}`` becomes the column of ones, and an
unknown command is an error at its backslash.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal, TypeAlias

from ...errors import ClaimSyntaxError
from . import spellings

MAX_NUMBER_DIGITS = 100

#: name: a word such as ``G``, ``sum`` or ``dW``; number: its text, digits and an optional
#: fraction and exponent; symbol: one of the grammar's symbols, canonical (``·`` for ``\\cdot``);
#: ones: the column of ones written ``\\mathbf{1}`` or ``𝟏``.
TokenKind: TypeAlias = Literal["name", "number", "symbol", "ones", "end"]


@dataclass(frozen=True)
class Token:
    """One token; ``text`` is canonical, the raw text is source[start:end]."""

    kind: TokenKind
    text: str
    start: int
    end: int


def _is_word_start(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _is_word_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def quote(text: str) -> str:
    """Text in quotes for a message: single, or double when it holds a single quote."""
    return f'"{text}"' if "'" in text else f"'{text}'"


def _is_space(char: str) -> bool:
    """Spaces, tabs, line breaks, spaces of other widths (no-break, thin) and ``$``, which
    only delimits LaTeX maths."""
    return char in " \t\r\n$~" or unicodedata.category(char) == "Zs"


#: Characters read only in a network's claims: σ (the activation, a name) and ``>`` (as in the
#: step ``(A1 > 0)``).
NETWORK_CHARACTERS = {"σ": ("name", "σ"), ">": ("symbol", ">")}


class _Lexer:
    def __init__(self, source: str, network: bool = False) -> None:
        self.source = source
        self.tokens: list[Token] = []
        self.network = network

    def fail(self, message: str, index: int) -> ClaimSyntaxError:
        return ClaimSyntaxError(message, self.source, index)

    def run(self) -> list[Token]:
        index = 0
        while index < len(self.source):
            index = self._one(index)
        self.tokens.append(Token("end", "", len(self.source), len(self.source)))
        return self.tokens

    def _add(self, kind: TokenKind, text: str, start: int, end: int) -> int:
        self.tokens.append(Token(kind, text, start, end))
        return end

    def _one(self, index: int) -> int:
        """Read the token at ``index``; return where the next begins."""
        source, char = self.source, self.source[index]
        if _is_space(char):
            return index + 1
        if not char.isprintable():
            raise self.fail(f"non-printable character U+{ord(char):04X}", index)
        if _is_digit(char) or (
            char == "." and index + 1 < len(source) and _is_digit(source[index + 1])
        ):
            return self._number(index)
        if _is_word_start(char):
            return self._word(index)
        if char == "\\":
            return self._command(index)
        if source.startswith("**", index):
            raise self.fail("'**' is not an operator here (there are no powers)", index)
        if source.startswith(".*", index) or source.startswith("./", index):
            return self._add("symbol", source[index : index + 2], index, index + 2)
        return self._character(char, index)

    def _character(self, char: str, index: int) -> int:
        if char in spellings.CHARACTERS:
            return self._add("symbol", spellings.CHARACTERS[char], index, index + 1)
        if char in spellings.SUBSCRIPTS:
            self._add("symbol", "_", index, index + 1)
            return self._add("name", spellings.SUBSCRIPTS[char], index, index + 1)
        if char in spellings.CHARACTER_NAMES:
            return self._add("name", spellings.CHARACTER_NAMES[char], index, index + 1)
        if char in spellings.ONES_CHARACTERS:
            return self._add("ones", "1", index, index + 1)
        if char in spellings.SYMBOLS:
            return self._add("symbol", char, index, index + 1)
        if self.network and char in NETWORK_CHARACTERS:
            kind, text = NETWORK_CHARACTERS[char]
            return self._add("name" if kind == "name" else "symbol", text, index, index + 1)
        raise self.fail(f"unexpected character {quote(char)}", index)

    def _number(self, start: int) -> int:
        """Digits with an optional fraction and exponent (``2``, ``0.5``, ``.5``, ``1e-3``),
        kept as text so that the value stays exact."""
        source, end = self.source, start
        while end < len(source) and _is_digit(source[end]):
            end += 1
        if end + 1 < len(source) and source[end] == "." and _is_digit(source[end + 1]):
            end += 1
            while end < len(source) and _is_digit(source[end]):
                end += 1
        digits = end - start
        if end < len(source) and source[end] in "eE":
            after = end + 1 + (end + 1 < len(source) and source[end + 1] in "+-")
            exponent_end = after
            while exponent_end < len(source) and _is_digit(source[exponent_end]):
                exponent_end += 1
            if exponent_end > after:
                if int(source[after:exponent_end]) > MAX_NUMBER_DIGITS:
                    raise self.fail(f"exponent larger than {MAX_NUMBER_DIGITS} in a number", start)
                end = exponent_end
        if digits > MAX_NUMBER_DIGITS:
            raise self.fail(f"number has more than {MAX_NUMBER_DIGITS} digits", start)
        text = source[start:end]
        return self._add("number", "0" + text if text.startswith(".") else text, start, end)

    def _word(self, start: int) -> int:
        """A word; a run of one-letter names written together (``ZW``, ``GWT`` after ``^``) is
        split into its letters, unless the whole is a word of the language."""
        source, end = self.source, start
        while end < len(source) and _is_word_char(source[end]):
            end += 1
        word = source[start:end]
        if len(word) > 1 and not _known(word) and all(c in _SPLIT_LETTERS for c in word):
            for offset, letter in enumerate(word):
                self._add("name", letter, start + offset, start + offset + 1)
            return end
        return self._add("name", word, start, end)

    def _command(self, start: int) -> int:
        """A LaTeX command: ``\\name`` or a backslash and one character."""
        source, end = self.source, start + 1
        if end < len(source) and source[end] in spellings.COMMAND_SPACES:
            return end + 1
        while end < len(source) and source[end].isascii() and source[end].isalpha():
            end += 1
        name = source[start + 1 : end]
        if not name:
            raise self.fail("expected a LaTeX command after '\\'", start)
        if name in spellings.COMMAND_SPACING:
            return end
        if name in spellings.COMMAND_SYMBOLS:
            return self._add("symbol", spellings.COMMAND_SYMBOLS[name], start, end)
        if name in spellings.COMMAND_NAMES:
            return self._add("name", spellings.COMMAND_NAMES[name], start, end)
        if self.network and name == "sigma":
            return self._add("name", "σ", start, end)
        if name in spellings.COMMAND_FONTS:
            return self._font(name, start, end)
        raise self.fail(f"unknown LaTeX command {quote(source[start:end])}", start)

    def _font(self, name: str, start: int, end: int) -> int:
        """``\\mathbf{1}``, ``\\mathbf 1``, ``\\operatorname{softmax}``, ``\\mathsf{T}``: the word
        inside, with ``1`` in bold the column of ones. Braces around more than one word stay,
        and are read as parentheses."""
        source = self.source
        inside = end
        while inside < len(source) and source[inside] == " ":
            inside += 1
        braced = inside < len(source) and source[inside] == "{"
        first = inside + 1 if braced else inside
        last = first
        while last < len(source) and _is_word_char(source[last]):
            last += 1
        if not braced:
            last = min(last, first + 1)  # \mathbf 1_m: one character, as in TeX
        word = source[first:last]
        closed = not braced or (last < len(source) and source[last] == "}")
        if not word or not closed:
            return end  # the braces are a group
        stop = last + 1 if braced else last
        if word == "1" and name in spellings.COMMAND_BOLD:
            return self._add("ones", "1", start, stop)
        kind: TokenKind = "number" if word.isdigit() else "name"
        return self._add(kind, word, start, stop)


def _known(word: str) -> bool:
    return (
        word in spellings.GRADIENT_WORDS
        or word in spellings.OPERAND_WORDS
        or word in spellings.FUNCTIONS
        or word in spellings.METHODS
        or word in spellings.PREFIX_WORDS
        or word in spellings.TRANSPOSE_ATTRIBUTES
    )


_SPLIT_LETTERS = spellings.SPLITTABLE | {"T"}


def tokenize(source: str, network: bool = False) -> list[Token]:
    """The tokens of a claim, ending with an ``end`` token; ClaimSyntaxError at the first
    character the language has no use for. ``network`` reads σ and ``>`` too."""
    return _Lexer(source, network).run()


# --- reading tokens -------------------------------------------------------------------------

#: How deep parentheses, signs and calls may nest, and how many operations may stack.
MAX_NESTING = 64


class TokenReader:
    """The tokens of one claim and a position in them, with the helpers every part of the
    parser uses: look, take, expect, fail with a caret, and count the nesting."""

    def __init__(self, source: str, network: bool = False) -> None:
        self._source = source
        self._tokens = tokenize(source, network)
        self._index = 0
        self._nesting = 0

    def _peek(self, ahead: int = 0) -> Token:
        return self._tokens[min(self._index + ahead, len(self._tokens) - 1)]

    def _advance(self) -> Token:
        token = self._peek()
        self._index = min(self._index + 1, len(self._tokens) - 1)
        return token

    def _at(self, symbol: str, ahead: int = 0) -> bool:
        token = self._peek(ahead)
        return token.kind == "symbol" and token.text == symbol

    def _at_name(self, *words: str, ahead: int = 0) -> bool:
        token = self._peek(ahead)
        return token.kind == "name" and (not words or token.text in words)

    def _raw(self, token: Token) -> str:
        return self._source[token.start : token.end]

    def _fail(self, message: str, token: Token) -> ClaimSyntaxError:
        return ClaimSyntaxError(message, self._source, token.start)

    def _not_at_end(self) -> Token:
        token = self._peek()
        if token.kind == "end":
            raise self._fail("unexpected end of claim", token)
        return token

    def _expect(self, symbol: str, message: str) -> Token:
        if not self._at(symbol):
            raise self._fail(message, self._peek())
        return self._advance()

    def _enter(self, token: Token) -> None:
        """One level deeper in parentheses, unary signs or calls, refused beyond MAX_NESTING."""
        self._nesting += 1
        if self._nesting > MAX_NESTING:
            raise self._fail(
                f"claim is nested more than {MAX_NESTING} levels deep "
                "(parentheses, unary minus or calls)",
                token,
            )

    def _leave(self) -> None:
        self._nesting -= 1

    def _grown(self, height: int, token: Token) -> int:
        if height > MAX_NESTING:
            raise self._fail(f"expression has more than {MAX_NESTING} nested operations", token)
        return height
