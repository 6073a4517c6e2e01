"""The claim language's syntax tree: one frozen node per construct, printed back as canonical text.

A claim such as ``dW = Z.T @ G`` becomes a tree of these nodes (parser.py); shapes.py gives each
node its shape and evaluation.py its value. The walks at the end let the repairs rebuild a tree
with one node replaced.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Literal, TypeAlias, assert_never

from ..layer import LAYER, Variable

#: A gradient a claim is about: ``dZ``, ``dW`` or ``db`` names a variable of the layer.
Target: TypeAlias = Variable
#: The targets of a concrete loss, a matrix of the shape of the layer's output.
LOSS_TARGETS = "Y"
#: The operands a claim may name: the layer's variables, G = ∂L/∂A, and the targets Y.
OPERANDS: tuple[str, ...] = (*LAYER.variables(bias=True), LAYER.role("upstream").name, LOSS_TARGETS)
#: One of OPERANDS.
OperandName: TypeAlias = str
SizeName: TypeAlias = Literal["m", "k", "n"]
Dim: TypeAlias = int | SizeName

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
class _Unary:
    """An operation on one operand; the subclass says which."""

    arg: Node
    span: Span = field(compare=False)


class Transpose(_Unary):
    """Postfix transpose, written ``.T``, ``^T``, ``'`` or ``ᵀ``."""


class Neg(_Unary):
    """Unary minus."""


@dataclass(frozen=True)
class _Binary:
    """An operation on two operands; the subclass says which."""

    left: Node
    right: Node
    span: Span = field(compare=False)


class MatMul(_Binary):
    """The matrix product ``left @ right``."""


class ScalarMul(_Binary):
    """``left * right``, where one side must be a number."""


class Add(_Binary):
    """``left + right``."""


class Sub(_Binary):
    """``left - right``."""


Node: TypeAlias = Name | Number | Ones | SumAxis | Transpose | MatMul | ScalarMul | Add | Sub | Neg


@dataclass(frozen=True)
class Claim:
    """A parsed claim ``d<target> = expr``; ``text`` is the claim exactly as given."""

    target: Target
    expr: Node
    text: str


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


def number_text(value: Fraction) -> str:
    """An exact number as the claim language writes it (``3``, ``-2``, ``0.5``): exact decimal
    text when one exists; otherwise "p/q", for messages only."""
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
            return number_text(value)
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


# --- walking the tree ----------------------------------------------------------------------

#: The slots from the root to a node, e.g. ("left", "arg").
TreePath: TypeAlias = tuple[str, ...]


def _children(node: Node) -> tuple[tuple[str, Node], ...]:
    match node:
        case SumAxis(arg=arg) | _Unary(arg=arg):
            return (("arg", arg),)
        case _Binary(left=left, right=right):
            return (("left", left), ("right", right))
        case _:
            return ()


def subtrees(node: Node, path: TreePath = ()) -> Iterator[tuple[TreePath, Node]]:
    """Every node with its path from the root, parents before children."""
    yield path, node
    for slot, child in _children(node):
        yield from subtrees(child, (*path, slot))


def _with_child(node: Node, slot: str, child: Node) -> Node:
    match node:
        case SumAxis() | _Unary():
            return replace(node, arg=child)
        case _Binary():
            return replace(node, left=child) if slot == "left" else replace(node, right=child)
        case _:
            raise ValueError(f"{type(node).__name__} has no {slot}")


def replaced(root: Node, path: TreePath, new: Node) -> Node:
    """``root`` with the node at ``path`` replaced by ``new``."""
    if not path:
        return new
    slot = path[0]
    return _with_child(root, slot, replaced(getattr(root, slot), path[1:], new))


def names(node: Node) -> set[str]:
    """The operands a tree mentions."""
    return {sub.name for _, sub in subtrees(node) if isinstance(sub, Name)}
