"""Calls in claims: NumPy, PyTorch and JAX functions and methods (``np.sum(G, axis=0)``,
``G.sum(dim=0, keepdim=True)``, ``A.dot(B)``, ``np.ones((m, 1))``, ``X.transpose(0, 1)``) and the
sizes they take, read into the same nodes as the operators.

The parser (parser.py) supplies the expressions inside the parentheses; this module reads the
arguments around them. How a sum's positional axis is read depends on the dialect: MATLAB counts
dimensions from 1 (``sum(G, 1)`` adds down each column).
"""

from __future__ import annotations

from abc import abstractmethod
from fractions import Fraction
from typing import Literal, TypeAlias, cast

from ..layer import LAYERS, Samples
from . import spellings, tree
from .lexer import Token, TokenReader, quote
from .spellings import Dialect, Function
from .tree import INPUTS, LOSS_TARGETS, OUTPUT, Dim, Node, SizeName, Span

MAX_ONES_SIZE = 100  # literal sizes in ones(r, c); keeps evaluation cheap

#: A subtree and its height in operations.
Parsed: TypeAlias = tuple[Node, int]


def _dim(letter: str) -> Dim:
    return 1 if letter == "1" else cast(SizeName, letter)


def operand_dims(name: str, samples: Samples) -> tuple[Dim, Dim]:
    """The symbolic shape of an operand a size may be read from in the convention ``samples``
    (``G.shape[0]`` is m with samples as rows, n with samples as columns); either name of the
    input (Z, X) is the input's, the targets Y have the output's."""
    layer = LAYERS[samples]
    if name in INPUTS.values():
        name = INPUTS[samples]
    matrix = layer.matrix(OUTPUT if name == LOSS_TARGETS else name)
    return _dim(matrix.rows), _dim(matrix.cols)


#: Axes as NumPy and PyTorch number them for a matrix, and as MATLAB does.
_AXES: dict[str, Literal[0, 1]] = {"0": 0, "1": 1, "-2": 0, "-1": 1}
_MATLAB_AXES: dict[str, Literal[0, 1]] = {"1": 0, "2": 1}


class CallParser(TokenReader):
    """The arguments of calls and methods; the expressions inside come from ``_expression``."""

    def __init__(
        self, source: str, dialect: Dialect, samples: Samples = "rows", network: bool = False
    ) -> None:
        super().__init__(source, network)
        self._dialect = dialect
        self._samples = samples
        self.notes: list[str] = []
        self.marks: set[str] = set()

    @abstractmethod
    def _expression(self) -> Parsed:
        """An expression, the loosest level of the grammar."""

    def _product(self, symbol: str, left: Node, right: Node, span: Span) -> Node:
        """The node of a product written ``symbol`` (``@``, ``*``, ``·`` for a product written
        ``·``, ``×`` or by juxtaposition, ``.*`` for an elementwise one): scaling when a side is a
        number; between matrices, ``*`` is elementwise in NumPy and the matrix product in
        MATLAB and on paper."""
        if symbol == "@":
            return tree.MatMul(left, right, span)
        if tree.is_scalar(left) or tree.is_scalar(right):
            return tree.ScalarMul(left, right, span)
        if symbol == ".*" or (symbol == "*" and self._dialect == "numpy"):
            return tree.Hadamard(left, right, span)
        if symbol == "*":
            self.marks.add("star-matmul")
        return tree.MatMul(left, right, span)

    # --- functions ------------------------------------------------------------------------

    def _call(self, function: Function, name: Token) -> Parsed:
        """``function(...)``, the name already read; the parentheses are one level deeper."""
        opening = self._expect("(", f"expected '(' after {quote(self._raw(name))}")
        self._enter(opening)
        if function == "ones":
            node, height = self._ones_arguments(name), 0
        elif function == "softmax":
            node, height = self._softmax_arguments(name), 0
        else:
            node, height = self._applied(function, name, *self._expression())
        close = self._expect(")", f"expected ')' to close {quote(self._raw(name) + '(')}")
        self._leave()
        return _spanned(node, Span(name.start, close.end)), self._grown(height + 1, name)

    def _applied(self, function: Function, name: Token, arg: Node, height: int) -> Parsed:
        """A function of an expression already read, its other arguments still to come."""
        if function in ("matmul", "elementwise"):
            self._expect(",", f"{self._raw(name)} takes two arguments, as in matmul(A, B)")
            other, other_height = self._expression()
            symbol = "@" if function == "matmul" else ".*"
            span = Span(arg.span.start, other.span.end)
            return self._product(symbol, arg, other, span), max(height, other_height)
        if function == "transpose":
            return self._transposed(arg, name, after_argument=True), height
        if function == "ones_like":
            return tree.OnesLike(arg, arg.span), height
        return self._summed(arg, function == "mean", name), height

    def _method(self, node: Node, function: Function, name: Token) -> Node:
        """``node.method(...)``: ``.dot(B)``, ``.sum(0)``, ``.t()``, ``.transpose(0, 1)``."""
        self._expect("(", f"expected '(' after '.{self._raw(name)}'")
        self._enter(name)
        if function in ("matmul", "elementwise"):
            other, _ = self._expression()
            symbol = "@" if function == "matmul" else ".*"
            result = self._product(symbol, node, other, Span(node.span.start, other.span.end))
        elif function == "transpose":
            result = self._transposed(node, name, after_argument=False)
        else:
            result = self._summed(node, function == "mean", name, method=True)
        close = self._expect(")", f"expected ')' to close '.{self._raw(name)}('")
        self._leave()
        return _spanned(result, Span(node.span.start, close.end))

    def _transposed(self, node: Node, name: Token, after_argument: bool) -> Node:
        """A transpose with its optional axes: none, two that differ (PyTorch's ``(0, 1)``), or
        a permutation in parentheses (NumPy's ``(1, 0)``; ``(0, 1)`` leaves a matrix as it is,
        and so does ``permute(0, 1)``). In the function form the axes follow a comma."""
        if self._at(")"):
            return tree.Transpose(node, node.span)
        if after_argument:
            self._expect(",", "expected ',' and the axes, or ')'")
        grouped = self._at("(") or self._at("[")
        if grouped:
            self._advance()
        first = self._axis_number()
        self._expect(",", "expected two axes, as in transpose(0, 1)")
        second = self._axis_number()
        if grouped:
            if not (self._at(")") or self._at("]")):
                raise self._fail("expected ')' to close the axes", self._peek())
            self._advance()
        if first == second:
            raise self._fail("the two axes of a transpose must differ", self._peek())
        if (grouped or name.text == "permute") and first == 0:
            return node
        return tree.Transpose(node, node.span)

    def _axis_number(self) -> Literal[0, 1]:
        negative = self._at("-")
        if negative:
            self._advance()
        token = self._not_at_end()
        axis = _AXES.get(("-" if negative else "") + token.text) if token.kind == "number" else None
        if axis is None:
            raise self._fail("an axis of a matrix is 0 or 1 (or -2, -1)", token)
        self._advance()
        return axis

    # --- sums and means -------------------------------------------------------------------

    def _summed(self, arg: Node, mean: bool, name: Token, method: bool = False) -> Node:
        """The arguments of sum or mean after the array: an axis (by position, ``axis=`` or
        ``dim=``) and ``keepdims``/``keepdim``. NumPy drops the summed dimension unless kept;
        MATLAB and maths keep it."""
        axis: Literal[0, 1] | None = None
        keep = self._dialect != "numpy"
        first = True
        while self._at(",") or (method and first and not self._at(")")):
            if self._at(","):
                self._advance()
            first = False
            token = self._peek()
            if self._at_name() and self._at("=", ahead=1):
                axis, keep = self._sum_keyword(token, axis, keep)
            else:
                axis = self._positional_axis()
        span = Span(name.start, self._peek().end)
        if axis is None and self._dialect != "matlab":
            # Every entry added up: the column sums, then those, one number (0-d in NumPy).
            self.marks.add("total-mean" if mean else "total-sum")
            columns = tree.SumAxis(arg, 0, span, False, mean)
            return tree.SumAxis(columns, 0, span, keep, mean)
        if axis is None:
            axis = 0  # MATLAB's sum(X) adds down each column
        return tree.SumAxis(arg, axis, span, keep, mean)

    def _sum_keyword(
        self, token: Token, axis: Literal[0, 1] | None, keep: bool
    ) -> tuple[Literal[0, 1] | None, bool]:
        self._advance()
        self._advance()
        if token.text in spellings.AXIS_KEYWORDS:
            return self._axis_number(), keep
        if token.text in spellings.KEEPDIMS_KEYWORDS:
            value = self._not_at_end()
            if value.kind != "name" or value.text not in spellings.BOOLEANS:
                raise self._fail(f"expected True or False after '{token.text}='", value)
            self._advance()
            return axis, spellings.BOOLEANS[value.text]
        raise self._fail(
            f"unknown keyword {quote(self._raw(token))} (sum takes axis or dim, and keepdims)",
            token,
        )

    def _positional_axis(self) -> Literal[0, 1]:
        if self._dialect != "matlab":
            return self._axis_number()
        token = self._not_at_end()
        self.marks.add("matlab-axis")
        axis = _MATLAB_AXES.get(token.text) if token.kind == "number" else None
        if axis is None:
            raise self._fail("in MATLAB a sum's dimension is 1 (down columns) or 2", token)
        self._advance()
        return axis

    # --- ones and sizes -------------------------------------------------------------------

    def _ones_arguments(self, name: Token) -> Node:
        """``ones(m, 1)``, ``ones((m, 1))``, ``ones([m, 1])``, ``ones(shape=(m, 1))`` and
        ``ones(m)``: in NumPy the 1-D array of m ones, in MATLAB the m×m matrix."""
        if self._at_name("shape") and self._at("=", ahead=1):
            self._advance()
            self._advance()
        grouped = self._at("(") or self._at("[")
        if grouped:
            self._advance()
        dims = [self._size()]
        if not (self._at(",") or self._at(")") or self._at("]")):
            raise self._fail("expected ',' between the sizes, as in ones(m, 1)", self._peek())
        while self._at(","):
            self._advance()
            if grouped and (self._at(")") or self._at("]")):
                break  # (m,): a tuple of one
            dims.append(self._size())
        if len(dims) > 2:
            raise self._fail("ones takes at most two sizes: a claim's values are matrices", name)
        if grouped:
            if not (self._at(")") or self._at("]")):
                raise self._fail("expected ')' to close the sizes", self._peek())
            self._advance()
        span = Span(name.start, self._peek().end)
        if len(dims) == 2:
            return tree.Ones(dims[0], dims[1], span)
        if self._dialect == "matlab":
            return tree.Ones(dims[0], dims[0], span)
        return tree.Ones(1, dims[0], span, flat=True)

    def _size(self) -> Dim:
        """A size: m, k, n, a whole number from 1 to MAX_ONES_SIZE, or an operand's
        ``X.shape[i]`` or ``X.size(i)``."""
        token = self._not_at_end()
        if token.kind == "name" and token.text in spellings.SIZE_NAMES:
            self._advance()
            return spellings.SIZE_NAMES[token.text]
        if token.kind == "number" and token.text.isdigit() and 0 < int(token.text) <= MAX_ONES_SIZE:
            self._advance()
            return int(token.text)
        operand = spellings.OPERAND_WORDS.get(token.text) if token.kind == "name" else None
        if operand is not None and self._at(".", ahead=1):
            return self._operand_size()
        raise self._fail(
            f"a size must be m, k, n, X.shape[0] or a whole number 1..{MAX_ONES_SIZE}", token
        )

    def _operand_size(self) -> Dim:
        """``X.shape[i]`` or ``X.size(i)``, at the name X."""
        operand = self._advance()
        self._advance()
        attribute = self._not_at_end()
        if not self._at_name("shape", "size"):
            raise self._fail("expected .shape[i] or .size(i) after a name here", attribute)
        self._advance()
        opening, closing = ("[", "]") if attribute.text == "shape" else ("(", ")")
        self._expect(opening, f"expected {quote(opening)} after '.{attribute.text}'")
        axis = self._axis_number()
        self._expect(closing, f"expected {quote(closing)}")
        return operand_dims(spellings.OPERAND_WORDS[operand.text], self._samples)[axis]

    def _size_node(self, operand: Token) -> Node:
        """``X.shape[i]`` as a number, at the name X: a size, or 1."""
        start = operand.start
        dim = self._operand_size()
        span = Span(start, self._peek(-1).end)
        if isinstance(dim, int):
            return tree.Number(Fraction(dim), span)
        return tree.Size(dim, span)

    # --- the softmax ----------------------------------------------------------------------

    def _softmax_arguments(self, name: Token) -> Node:
        """``softmax(A)``, ``softmax(A, axis=1)``, ``softmax(A, dim=-1)``: the softmax of each
        row of the layer's output, each sample's (of each column, ``axis=0``, with samples as
        columns)."""
        operand = self._not_at_end()
        if not (self._at_name(OUTPUT)):
            raise self._fail(
                "matgrad knows the softmax of A, the layer's output, only: softmax(A)", operand
            )
        self._advance()
        if self._at(","):
            self._advance()
            if self._at_name(*spellings.AXIS_KEYWORDS) and self._at("=", ahead=1):
                self._advance()
                self._advance()
            axis_token = self._peek()
            if self._samples == "columns" and self._axis_number() != 0:
                raise self._fail(
                    "the softmax is taken along each column (each sample): axis=0 or -2",
                    axis_token,
                )
            if self._samples == "rows" and self._axis_number() != 1:
                raise self._fail("the softmax is taken along each row: axis=1 or -1", axis_token)
        self.marks.add("softmax")
        return tree.Softmax(Span(name.start, self._peek().end))


def _spanned(node: Node, span: Span) -> Node:
    """``node`` with its span widened to the whole call."""
    from dataclasses import replace

    return replace(node, span=span)
