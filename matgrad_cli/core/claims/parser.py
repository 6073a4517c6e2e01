"""Reading claims: the recursive-descent parser of ``dW = Z.T @ G`` in all its spellings, and
claims files.

A claim may be written as in NumPy, PyTorch or JAX (``dW = np.matmul(Z.T, G)``), MATLAB
(``dW = Z' * G``), or maths and LaTeX (``\\frac{\\partial L}{\\partial W} = Z^\\top G``); the
spellings are listed in spellings.py, the characters read by lexer.py, and calls by calls.py.
User text is read only by this hand-written code; nothing here hands it to Python, so a claim
can describe a matrix expression and do nothing else. Length, nesting and number sizes are
capped before any tree is built.
"""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

from ...errors import ClaimSyntaxError, InputError
from ...files import shown
from ..layer import Samples, samples_convention
from ..losses import LOSSES, SoftmaxCrossEntropy, loss_named
from . import spellings, tree
from .calls import MAX_ONES_SIZE, CallParser, Parsed
from .lexer import MAX_NESTING, MAX_NUMBER_DIGITS, Token, quote
from .naming import read_in
from .shapes import inferred_ones, reading_notes
from .spellings import DIALECTS, Dialect
from .tree import INPUTS, OUTPUT, Claim, Node, Span, Target

__all__ = [
    "DIALECTS",
    "MAX_CLAIM_LENGTH",
    "MAX_FILE_BYTES",
    "MAX_NESTING",
    "MAX_NUMBER_DIGITS",
    "MAX_ONES_SIZE",
    "ClaimLine",
    "Dialect",
    "check_notation",
    "parse_claim",
    "read_claims_file",
]

MAX_CLAIM_LENGTH = 10_000
#: A claims file larger than this is refused before it is read.
MAX_FILE_BYTES = 1_000_000


def _name_list(samples: Samples) -> str:
    """The names a claim may use in the convention ``samples``: ``Z, W, b, G, Y, A``."""
    return ", ".join((INPUTS[samples], "W", "b", "G", "Y", OUTPUT))


def _targets(samples: Samples) -> str:
    """``dZ, dW or db`` (``dX, …`` with samples as columns)."""
    return f"d{INPUTS[samples]}, dW or db"


SOFTMAX_LOSS = SoftmaxCrossEntropy.name
_Y_MESSAGE = "Y, the targets, needs a loss that has them: --loss " + " or ".join(
    name for name, loss in LOSSES.items() if loss.has_targets
)
#: Operators between two operands, by their canonical token; ``·`` stands for ``·``, ``⋅``,
#: ``×``, ``\\cdot`` and ``\\times``, ``.*`` for ``.*``, the circled dot and ``\\odot``.
_PRODUCTS = {"@": "@", "*": "*", "·": "·", ".*": ".*", "/": "/", "./": "/"}
#: Tokens that may begin an operand written right after another (a product by juxtaposition).
_OPERAND_STARTS = frozenset({"(", "{", "∂", "∇", "frac"})


class _Parser(CallParser):
    """Recursive descent over the tokens of one claim, one method per precedence level.

    Recursion happens only at parentheses, unary signs and calls, which are capped at
    MAX_NESTING; the tree height is capped too, so printing and comparing it cannot overflow.
    """

    #: The words that are a gradient (``dW`` → ``W``), and the names ∂L/∂· may be written of.
    _gradient_words: dict[str, str] = spellings.GRADIENT_WORDS
    _gradient_of: tuple[str, ...] = spellings.GRADIENT_OF

    def claim(self) -> Claim:
        target, target_tokens = self._target()
        if not self._at("="):
            written = self._source[target_tokens[0].start : target_tokens[1].end]
            raise self._fail(f"expected '=' after {quote(written)}", self._peek())
        self._advance()
        expr, _ = self._expression()
        loss = self._loss_named()
        self._finish()
        samples = self._samples
        reading = read_in(samples, target, target_tokens[0].start, expr, self._source)
        expr = inferred_ones(reading.expr, samples)
        notes = reading.notes + reading_notes(expr, self.marks, self._dialect, samples)
        marks = frozenset(self.marks)
        return Claim(
            reading.target, expr, self._source, notes, marks, loss, samples, reading.naming,
            self._dialect,
        )  # fmt: skip

    # --- gradients ------------------------------------------------------------------------

    def _target(self) -> tuple[Target, tuple[Token, Token]]:
        first = self._peek()
        if first.kind == "end":
            raise ClaimSyntaxError("empty claim", self._source, first.start)
        found = self._gradient()
        if found is not None and found in spellings.TARGETS:
            return spellings.TARGETS[found], (first, self._peek(-1))
        if found is not None:
            raise self._fail(f"∂L/∂A is G, given; a claim is about {self._about}", first)
        if first.kind == "name" and first.text.startswith("d") and len(first.text) > 1:
            raise self._fail(
                f"{quote(self._raw(first))} is not a gradient matgrad checks (use {self._about})",
                first,
            )
        raise self._fail(f"a claim starts with {self._about}, then '='", first)

    @property
    def _about(self) -> str:
        return _targets(self._samples)

    def _gradient(self) -> str | None:
        """The name X of a gradient written here, ∂L/∂X in any spelling (``dX``, ``dL/dX``,
        ``∂X``, ``∂L/∂X``, ``\\frac{\\partial L}{\\partial X}``, ``\\nabla_X L``,
        ``X.grad``), its tokens taken; None, nothing taken, when there is none."""
        start = self._index
        token = self._peek()
        found: str | None = None
        if token.kind == "name" and token.text == "dL" and self._at("/", ahead=1):
            self._advance()
            self._advance()
            found = self._differential("d")
        elif token.kind == "name" and token.text in self._gradient_words:
            self._advance()
            found = self._gradient_words[token.text]
        elif self._at("∂"):
            found = self._partial()
        elif self._at("frac"):
            found = self._fraction_gradient()
        elif self._at("∇"):
            found = self._nabla()
        elif self._at_name(*self._gradient_of) and self._at_name("grad", ahead=2):
            found = token.text if self._at(".", ahead=1) else None
            self._index += 3
        if found is None:
            self._index = start
        return found

    def _differential(self, letter: str) -> str | None:
        """``dX`` after ``dL/``, or ``∂X`` after ``∂L/``: the name X."""
        token = self._peek()
        word = token.text if token.kind == "name" else ""
        if letter == "d" and word.startswith("d") and word[1:] in self._gradient_of:
            self._advance()
            return word[1:]
        if letter == "∂" and self._at("∂") and self._at_name(*self._gradient_of, ahead=1):
            self._advance()
            return self._advance().text
        raise self._fail(f"expected a name such as {letter}Z after {quote(letter + 'L/')}", token)

    def _partial(self) -> str | None:
        """``∂X``, ``∂L/∂X`` or ``∂L`` over ``∂X`` in a fraction (then None, ``∂L`` taken)."""
        self._advance()
        if self._at_name("L"):
            self._advance()
            if self._at("/"):
                self._advance()
                return self._differential("∂")
            return None
        if self._at_name(*self._gradient_of):
            return self._advance().text
        raise self._fail("expected a name after '∂', as in ∂L/∂Z", self._peek())

    def _fraction_gradient(self) -> str | None:
        """``\\frac{\\partial L}{\\partial X}`` or ``\\frac{dL}{dX}``; None for another fraction."""
        self._advance()
        if not self._at("{"):
            return None
        self._advance()
        if self._at_name("dL"):
            self._advance()
            letter = "d"
        elif self._at("∂") and self._at_name("L", ahead=1):
            self._index += 2
            letter = "∂"
        else:
            return None
        if not (self._at("}") and self._at("{", ahead=1)):
            return None
        self._index += 2
        if letter == "∂" and self._at("∂"):
            self._advance()
            name = self._peek()
            found = name.text if self._at_name(*self._gradient_of) else None
        else:
            name = self._peek()
            word = name.text if name.kind == "name" else ""
            found = word[1:] if word.startswith("d") and word[1:] in self._gradient_of else None
        if found is None:
            raise self._fail("expected the variable of the gradient, as in \\partial W", name)
        self._advance()
        self._expect("}", "expected '}' to close the fraction")
        return found

    def _nabla(self) -> str | None:
        """``∇_X L``, ``\\nabla_{X} L`` (the ``L`` may be left out)."""
        self._advance()
        self._expect("_", "expected '_' and a name after '∇', as in ∇_W L")
        braced = self._at("{")
        if braced:
            self._advance()
        name = self._peek()
        if not self._at_name(*self._gradient_of):
            raise self._fail("expected the variable after '∇_', as in ∇_W L", name)
        self._advance()
        if braced:
            self._expect("}", "expected '}'")
        if self._at_name("L"):
            self._advance()
        return name.text

    def _loss_named(self) -> str | None:
        """``, L = squared-error`` after the expression, as matgrad's identities name the loss."""
        if not (self._at(",") and self._at_name("L", ahead=1) and self._at("=", ahead=2)):
            return None
        self._index += 3
        first = self._not_at_end()
        while self._peek().kind != "end" and not self._at(";"):
            self._advance()
        return self._source[first.start : self._peek(-1).end].strip()

    def _finish(self) -> None:
        if (self._at(";") or self._at(".")) and self._peek(1).kind == "end":
            self._advance()  # MATLAB's statement end, or the full stop of a sentence
        token = self._peek()
        if token.kind == "end":
            return
        if self._at(")") or self._at("}"):
            raise self._fail(f"unmatched {quote(token.text)}", token)
        if self._at("="):
            raise self._fail("only one '=' is allowed", token)
        raise self._fail(
            f"expected an operator or the end of the claim, found {quote(self._raw(token))}",
            token,
        )

    # --- expressions ----------------------------------------------------------------------

    def _expression(self) -> Parsed:
        """Binary ``+`` and ``-``, left-associative, loosest binding."""
        node, height = self._term()
        while self._at("+") or self._at("-"):
            operator = self._advance()
            right, right_height = self._term()
            kind = tree.Add if operator.text == "+" else tree.Sub
            node = kind(node, right, Span(node.span.start, right.span.end))
            height = self._grown(max(height, right_height) + 1, operator)
        return node, height

    def _term(self) -> Parsed:
        """Products and quotients on one level, left-associative, as in Python: ``@``, ``*``,
        ``·``, ``.*``, ``/``, and two operands written side by side (``Z^T G``, ``2 G``)."""
        node, height = self._unary()
        while True:
            token = self._peek()
            if token.kind == "symbol" and token.text in _PRODUCTS:
                symbol = _PRODUCTS[self._advance().text]
                right, right_height = self._unary()
            elif self._starts_operand(token):
                symbol = "·"
                right, right_height = self._postfix()
                if isinstance(right, tree.Number) and right.value == 1:
                    # G 1: on paper, the column of ones
                    right = tree.Ones("m", 1, right.span, inferred=True)
                elif isinstance(right, tree.Number):
                    raise self._fail("write an operator such as * before a number", token)
            else:
                return node, height
            span = Span(node.span.start, right.span.end)
            if symbol == "/":
                node = tree.Div(node, right, span)
            else:
                node = self._product(symbol, node, right, span)
            height = self._grown(max(height, right_height) + 1, token)

    def _starts_operand(self, token: Token) -> bool:
        if token.kind in ("name", "number", "ones"):
            return not (token.kind == "name" and token.text == "L")
        return token.kind == "symbol" and token.text in _OPERAND_STARTS

    def _unary(self) -> Parsed:
        """Unary minus (and a harmless unary plus), binding tighter than the products."""
        if not (self._at("-") or self._at("+")):
            return self._postfix()
        sign = self._advance()
        self._enter(sign)
        operand, height = self._unary()
        self._leave()
        span = Span(sign.start, operand.span.end)
        if sign.text == "+":
            return replace(operand, span=span), height
        return tree.Neg(operand, span), self._grown(height + 1, sign)

    def _postfix(self) -> Parsed:
        """Transposes (``'``, ``ᵀ``, ``^T``, ``^{\\top}``, ``.T``, ``.t()``, ``.transpose()``) and
        methods (``.dot(B)``, ``.sum(0)``), any number of them."""
        node, height = self._primary()
        while True:
            marker = self._peek()
            if self._at("'") or self._at("ᵀ"):
                if self._at("'"):
                    self.marks.add("quote")
                end = self._advance().end
                node = tree.Transpose(node, Span(node.span.start, end))
            elif self._at("^"):
                self._advance()
                node = tree.Transpose(node, Span(node.span.start, self._superscript_t()))
            elif self._at(".") and self._at("'", ahead=1):  # MATLAB's .'
                self.marks.add("quote")
                self._advance()
                node = tree.Transpose(node, Span(node.span.start, self._advance().end))
            elif self._at(".") and self._peek(1).kind == "name":
                node = self._attribute(node)
            elif self._at("["):
                raise self._fail("indexing with [ ] is not part of a claim", marker)
            else:
                return node, height
            height = self._grown(height + 1, marker)

    def _superscript_t(self) -> int:
        """After ``^``: ``T``, ``ᵀ`` (also ``⊤``, ``\\top``), or one of them in braces."""
        braced = self._at("{")
        if braced:
            self._advance()
        token = self._peek()
        if not (self._at_name("T") or self._at("ᵀ")):
            if self._at("-"):
                raise self._fail("there are no inverses or powers; ^ writes transposes", token)
            raise self._fail("expected 'T' after '^' (^ only writes transposes)", token)
        end = self._advance().end
        if braced:
            end = self._expect("}", "expected '}' after the transpose").end
        return end

    def _attribute(self, node: Node) -> Node:
        """``.T``, ``.shape[i]`` of a name, or a method call, at the dot."""
        self._advance()
        name = self._advance()
        if name.text in spellings.TRANSPOSE_ATTRIBUTES:
            return tree.Transpose(node, Span(node.span.start, name.end))
        function = spellings.METHODS.get(name.text)
        if function is not None:
            return self._method(node, function, name)
        raise self._fail(f"unknown attribute or method {quote('.' + self._raw(name))}", name)

    def _primary(self) -> Parsed:
        token = self._not_at_end()
        if token.kind == "number":
            return self._number(token), 0
        if token.kind == "ones":
            self._advance()
            return self._ones_vector(token), 0
        if token.kind == "name" or self._at("∂") or self._at("∇") or self._at("frac"):
            found = self._gradient()
            if found is not None:
                return self._gradient_operand(found, token), 0
        if token.kind == "name":
            return self._named(token)
        if self._at("(") or self._at("{"):
            return self._group(token)
        if self._at("frac"):
            return self._fraction(token)
        if self._at("="):
            raise self._fail("only one '=' is allowed", token)
        if self._at("_"):
            word = self._source[token.start :].split(None, 1)[0].split("(", 1)[0]
            raise self._fail(_unknown_name_message(word, self._samples), token)
        raise self._fail(f"expected a name, number or '(', found {quote(self._raw(token))}", token)

    def _number(self, token: Token) -> Node:
        """A number, or the column of ones when a ``1`` is transposed or given a size
        (``1ᵀ G``, ``1_m``)."""
        self._advance()
        if token.text == "1" and (
            self._at("ᵀ")
            or self._at("'")
            or self._at("^")
            or self._at("_")
            or (self._at(".") and self._at_name("T", ahead=1))
        ):
            return self._ones_vector(token)
        return tree.Number(Fraction(token.text), Span(token.start, token.end))

    def _ones_vector(self, token: Token) -> Node:
        """The column of ones, ``1_m`` or, without a size, as long as its neighbour needs."""
        if not self._at("_"):
            return tree.Ones("m", 1, Span(token.start, token.end), inferred=True)
        self._advance()
        braced = self._at("{")
        if braced:
            self._advance()
        size = self._size()
        end = self._expect("}", "expected '}'").end if braced else self._peek(-1).end
        return tree.Ones(size, 1, Span(token.start, end))

    def _gradient_operand(self, found: str, token: Token) -> Node:
        if found == "Z" and self._samples == "columns":
            # Andrew Ng's courses write Z = WX + b and dZ for its gradient: matgrad's A and G.
            raise self._fail(
                "the right side may use ∂L/∂A (G), not ∂L/∂Z: in Andrew Ng's notation dZ is "
                "∂L/∂A, which matgrad writes G or dA (his Z = WX + b is matgrad's A)",
                token,
            )
        if found != OUTPUT:
            raise self._fail(
                f"the right side may use ∂L/∂A (G), not ∂L/∂{found}, one of the gradients sought",
                token,
            )
        return tree.Name(tree.UPSTREAM, Span(token.start, self._peek(-1).end))

    def _named(self, token: Token) -> Parsed:
        """A name: an operand, a size, or a function (after an optional library prefix)."""
        prefixed = False
        while token.text in spellings.PREFIX_WORDS and self._at(".", ahead=1):
            self._advance()
            self._advance()
            token, prefixed = self._not_at_end(), True
            if token.kind != "name":
                raise self._fail("expected a function name after the '.'", token)
        function = spellings.FUNCTIONS.get(token.text)
        if function is not None and self._at("(", ahead=1):
            if token.text in spellings.PREFIXED_ONLY and not prefixed:
                raise self._fail(_unknown_name_message(token.text, self._samples), token)
            self._advance()
            return self._call(function, token)
        if prefixed:
            raise self._fail(f"unknown function {quote(self._raw(token))}", token)
        if function is not None and token.text not in spellings.OPERAND_WORDS:
            raise self._fail(f"expected '(' after {quote(token.text)}", self._peek(1))
        operand = spellings.OPERAND_WORDS.get(token.text)
        if operand is not None:
            if self._at(".", ahead=1) and self._at_name("shape", "size", ahead=2):
                return self._size_node(token), 0
            self._advance()
            return tree.Name(operand, Span(token.start, token.end)), 0
        if token.text in spellings.SIZE_NAMES:
            self._advance()
            return tree.Size(spellings.SIZE_NAMES[token.text], Span(token.start, token.end)), 0
        raise self._fail(_unknown_name_message(self._raw(token), self._samples), token)

    def _group(self, opening: Token) -> Parsed:
        """``( … )`` or a LaTeX group ``{ … }``."""
        closing = ")" if opening.text == "(" else "}"
        self._advance()
        self._enter(opening)
        inner, height = self._expression()
        close = self._expect(closing, f"expected {quote(closing)} to close {quote(opening.text)}")
        self._leave()
        return replace(inner, span=Span(opening.start, close.end)), height

    def _fraction(self, token: Token) -> Parsed:
        """``\\frac{X}{Y}``: X divided by Y."""
        self._advance()
        numerator, top = self._group(self._expect_group())
        denominator, bottom = self._group(self._expect_group())
        span = Span(token.start, denominator.span.end)
        return tree.Div(numerator, denominator, span), self._grown(max(top, bottom) + 1, token)

    def _expect_group(self) -> Token:
        if not self._at("{"):
            raise self._fail("expected '{' after \\frac, as in \\frac{1}{m}", self._peek())
        return self._peek()


def _unknown_name_message(name: str, samples: Samples) -> str:
    known = [*spellings.OPERAND_WORDS, *spellings.GRADIENT_WORDS]
    near = [word for word in known if word.lower() == name.lower()]
    hint = f"; names are case-sensitive, did you mean '{near[0]}'?" if near else ""
    return f"unknown name {quote(name)} (names: {_name_list(samples)}{hint})"


def parse_claim(text: str, dialect: Dialect = "numpy", samples: Samples = "rows") -> Claim:
    """Parse ``dZ = G @ W.T`` and friends; every problem is a ClaimSyntaxError with a position.
    ``dialect`` says how ``*`` between matrices is read: elementwise (``numpy``), or as the
    matrix product (``matlab``, ``math``). The claim is read in the convention ``samples``
    (naming.py): a claim naming the input both Z and X raises MixedNamingError."""
    samples = samples_convention(samples)
    if len(text) > MAX_CLAIM_LENGTH:
        raise ClaimSyntaxError(
            f"claim is longer than {MAX_CLAIM_LENGTH} characters", text, MAX_CLAIM_LENGTH
        )
    return _Parser(text, dialect, samples).claim()


def check_notation(claim: Claim, loss: str) -> None:
    """Refuse what ``loss`` does not provide, as a ClaimSyntaxError at the offending part: Y
    without a loss that has targets, ``softmax(A)`` under another loss than the softmax, and a
    claim naming another loss (``…, L = squared-error``) than the one it is checked under."""
    has_targets = loss_named(loss).has_targets
    for _, node in tree.subtrees(claim.expr):
        if isinstance(node, tree.Name) and node.name == tree.LOSS_TARGETS and not has_targets:
            message = _Y_MESSAGE if loss == "generic" else f"the {loss} loss has no targets Y"
            raise ClaimSyntaxError(message, claim.text, node.span.start)
        if isinstance(node, tree.Softmax) and loss != SOFTMAX_LOSS:
            raise ClaimSyntaxError(
                f"softmax(A) stands in ∂L/∂A only under --loss {SOFTMAX_LOSS}",
                claim.text,
                node.span.start,
            )
    if claim.loss is not None and claim.loss != loss:
        where = claim.text.rfind(claim.loss)
        raise ClaimSyntaxError(
            f"the claim names the loss {quote(claim.loss)}: check it with --loss {claim.loss}"
            if claim.loss in LOSSES
            else f"unknown loss {quote(claim.loss)} (losses: {', '.join(LOSSES)})",
            claim.text,
            max(where, 0),
        )


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
    claims = []
    for number, line in enumerate(read_text_file(path).split("\n"), start=1):
        # The claim grammar has no '#', so everything after one is a comment; strip() takes the
        # \r of a \r\n with the other spaces.
        claim = line.split("#", 1)[0].strip()
        if claim:
            claims.append(ClaimLine(number, claim))
    return claims


def read_text_file(path: Path) -> str:
    """The UTF-8 text of a regular file of at most MAX_FILE_BYTES (claims, an answer key);
    InputError, with the path shown escaped, when it cannot be read."""
    data = _read_regular_file(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{shown(path)} is not UTF-8 text (byte {error.start + 1} cannot be decoded)"
        ) from None


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
