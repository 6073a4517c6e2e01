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

from ..layer import LAYERS, Layer, Role, Samples, Variable

#: A gradient a claim is about: ``dZ`` (``dX`` with samples as columns), ``dW`` or ``db`` names
#: a variable of the layer.
Target: TypeAlias = Variable
#: The targets of a concrete loss, a matrix of the shape of the layer's output.
LOSS_TARGETS = "Y"


def _shared(role: Role) -> str:
    """The name of the matrix with ``role``, the same in both conventions."""
    (name,) = {layer.role(role).name for layer in LAYERS.values()}
    return name


#: The layer's output, A = ZW + 1_m b (or WX + b1ᵀ): a claim may name it, and it is computed
#: from the layer's variables.
OUTPUT = _shared("output")
#: G = ∂L/∂A, in both conventions.
UPSTREAM = _shared("upstream")
#: The name of the input in each convention: Z (samples as rows), X (samples as columns).
INPUTS: dict[Samples, Variable] = {
    samples: layer.rule(layer.role("input").name).variable for samples, layer in LAYERS.items()
}


def operands(layer: Layer) -> tuple[str, ...]:
    """The operands a claim may name in ``layer``: its variables, G = ∂L/∂A, the targets Y and
    the output A."""
    return (*layer.variables(bias=True), UPSTREAM, LOSS_TARGETS, OUTPUT)


#: The operands a claim may name in either naming (Z and X both), in the order of the rows.
OPERANDS: tuple[str, ...] = tuple(
    dict.fromkeys(name for layer in LAYERS.values() for name in operands(layer))
)
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
class Size:
    """One of the sizes m, k, n used as a number, as in ``G / m``."""

    name: SizeName
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Ones:
    """``ones(rows, cols)``: the all-ones matrix, sized by literals or by m, k, n; ``flat`` for
    numpy's one-dimensional ``ones(m)``, held as the 1×m row it is compared as."""

    rows: Dim
    cols: Dim
    span: Span = field(compare=False)
    flat: bool = False
    #: Written ``1ᵀ`` or ``\\mathbf{1}`` without a size: the size is taken from its neighbour in
    #: a product (shapes.inferred_ones), and ``rows`` is only a placeholder until then.
    inferred: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Softmax:
    """``softmax(A)``, the softmax of each row of the layer's output (under the softmax loss)."""

    span: Span = field(compare=False)


@dataclass(frozen=True)
class SumAxis:
    """``sum(arg, axis=...)`` with numpy semantics; ``mean`` divides by the count added up, and
    without ``keepdims`` the result is one-dimensional, held as the row it is compared as."""

    arg: Node
    axis: Literal[0, 1]
    span: Span = field(compare=False)
    keepdims: bool = False
    mean: bool = False


@dataclass(frozen=True)
class _Unary:
    """An operation on one operand; the subclass says which."""

    arg: Node
    span: Span = field(compare=False)


class Transpose(_Unary):
    """Postfix transpose, written ``.T``, ``^T``, ``'`` or ``ᵀ``."""


class Neg(_Unary):
    """Unary minus."""


class OnesLike(_Unary):
    """``ones_like(arg)``: ones of the shape of ``arg``, whose values do not matter."""


@dataclass(frozen=True)
class Applied(_Unary):
    """A network's activation applied entry by entry, ``relu(A1)``, or its derivative,
    ``relu'(A1)``; ``function`` is the activation's name (``σ`` for the network's own)."""

    function: str = "σ"
    derivative: bool = False


class Positive(_Unary):
    """``(arg > 0)``: 1 where an entry is positive, 0 elsewhere (relu′, with relu′(0) = 0)."""


@dataclass(frozen=True)
class _Binary:
    """An operation on two operands; the subclass says which."""

    left: Node
    right: Node
    span: Span = field(compare=False)


class MatMul(_Binary):
    """The matrix product ``left @ right``."""


class ScalarMul(_Binary):
    """``left * right``, where one side is a number: scaling."""


class Hadamard(_Binary):
    """The elementwise product, numpy's ``*`` between two matrices (``.*``, ``\\odot``)."""


class Div(_Binary):
    """``left / right``, where ``right`` is a number or a size."""


class Add(_Binary):
    """``left + right``."""


class Sub(_Binary):
    """``left - right``."""


Node: TypeAlias = (
    Name
    | Number
    | Size
    | Ones
    | Softmax
    | SumAxis
    | Transpose
    | Neg
    | OnesLike
    | Applied
    | Positive
    | MatMul
    | ScalarMul
    | Hadamard
    | Div
    | Add
    | Sub
)


@dataclass(frozen=True)
class Claim:
    """A parsed claim ``d<target> = expr``; ``text`` is the claim exactly as given.

    ``notes`` say how notation that could be read more than one way was read (a 1-D result,
    ``*`` as a matrix product); ``marks`` name spellings a hint may refer to, such as MATLAB's
    ``'`` transpose (``"quote"``); ``loss`` is the loss the claim names, as in the identities
    matgrad prints (``…, L = squared-error``), or None. ``samples`` is the convention the claim
    was read in, its names those of that layer; ``naming`` the convention whose name of the
    input (Z or X) the claim wrote, None when it names no input; ``dialect`` how it was read.
    """

    target: Target
    expr: Node
    text: str
    notes: tuple[str, ...] = field(default=(), compare=False)
    marks: frozenset[str] = field(default=frozenset(), compare=False)
    loss: str | None = field(default=None, compare=False)
    samples: Samples = field(default="rows", compare=False)
    naming: Samples | None = field(default=None, compare=False)
    dialect: str = field(default="numpy", compare=False)


# --- printing ------------------------------------------------------------------------------

_ADDITIVE, _MULTIPLICATIVE, _NEGATION, _POSTFIX, _ATOM = range(1, 6)


def _precedence(node: Node) -> int:
    match node:
        case Add() | Sub():
            return _ADDITIVE
        case MatMul() | ScalarMul() | Hadamard() | Div():
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
        case Size(name=name):
            return name
        case Ones(rows=rows, cols=cols, flat=flat):
            return f"ones({cols})" if flat else f"ones({rows}, {cols})"
        case Softmax():
            return "softmax(A)"
        case SumAxis(arg=arg, axis=axis, keepdims=keepdims, mean=mean):
            keep = ", keepdims=True" if keepdims else ""
            return f"{'mean' if mean else 'sum'}({to_text(arg)}, axis={axis}{keep})"
        case Transpose(arg=arg):
            # (1)ᵀ: a bare 1ᵀ is the row of ones
            inner = f"({to_text(arg)})" if isinstance(arg, Number) else _wrapped(arg, _POSTFIX)
            return inner + "ᵀ"
        case Neg(arg=arg):
            return "-" + _wrapped(arg, _POSTFIX)
        case OnesLike(arg=arg):
            return f"ones_like({to_text(arg)})"
        case Applied(arg=arg, function=function, derivative=derivative):
            return f"{function}{chr(39) if derivative else ''}({to_text(arg)})"
        case Positive(arg=arg):
            return f"({to_text(arg)} > 0)"
        case MatMul(left=left, right=right):
            return _binary_text(left, "@", right, _MULTIPLICATIVE)
        case ScalarMul(left=left, right=right) | Hadamard(left=left, right=right):
            return _binary_text(left, "*", right, _MULTIPLICATIVE)
        case Div(left=left, right=right):
            return _binary_text(left, "/", right, _MULTIPLICATIVE)
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


def renamed(root: Node, names: dict[str, str]) -> Node:
    """``root`` with every operand named a key of ``names`` named its value instead."""
    if isinstance(root, Name):
        return replace(root, name=names.get(root.name, root.name))
    for slot, child in _children(root):
        root = _with_child(root, slot, renamed(child, names))
    return root


def replaced(root: Node, path: TreePath, new: Node) -> Node:
    """``root`` with the node at ``path`` replaced by ``new``."""
    if not path:
        return new
    slot = path[0]
    return _with_child(root, slot, replaced(getattr(root, slot), path[1:], new))


#: The operands the layer's output A, and its softmax, are computed from (in either naming: a
#: caller keeps those its layer has).
_VARIABLES = tuple(
    dict.fromkeys(name for layer in LAYERS.values() for name in layer.variables(bias=True))
)
_COMPUTED_FROM: dict[str, tuple[str, ...]] = {
    OUTPUT: _VARIABLES,
    "softmax": (*_VARIABLES, LOSS_TARGETS),
}


def names(node: Node) -> set[str]:
    """The operands a tree mentions, and those that A and softmax(A) are computed from (so that
    a counterexample shows every matrix the claim's value depends on)."""
    found: set[str] = set()
    for _, sub in subtrees(node):
        if isinstance(sub, Name):
            found.add(sub.name)
            found.update(_COMPUTED_FROM.get(sub.name, ()))
        elif isinstance(sub, Softmax):
            found.update(_COMPUTED_FROM["softmax"])
    return found


def is_scalar(node: Node) -> bool:
    """Whether a part of a claim is a number (made of numbers and sizes only): this is known
    from its form, since names, ``ones`` and sums are always matrices."""
    match node:
        case Number() | Size():
            return True
        case Neg(arg=arg) | Transpose(arg=arg):
            return is_scalar(arg)
        case ScalarMul(left=left, right=right) | Div(left=left, right=right):
            return is_scalar(left) and is_scalar(right)
        case Add(left=left, right=right) | Sub(left=left, right=right):
            return is_scalar(left) and is_scalar(right)
        case MatMul(left=left, right=right) | Hadamard(left=left, right=right):
            return is_scalar(left) and is_scalar(right)
        case _:
            return False


def flat_parts(root: Node) -> set[int]:
    """The ids of the parts of ``root`` that are one-dimensional in numpy: ``ones(m)``, a sum
    without keepdims, and what a matrix product, transpose, sign or scaling makes of them (an
    elementwise operation with a matrix broadcasts them to one). One walk, children first."""
    flat: set[int] = set()
    for _, node in reversed(list(subtrees(root))):
        match node:
            case Ones(flat=True) | SumAxis(keepdims=False):
                is_flat = True
            case Transpose(arg=arg) | Neg(arg=arg) | OnesLike(arg=arg):
                is_flat = id(arg) in flat
            case Applied(arg=arg) | Positive(arg=arg):
                is_flat = id(arg) in flat
            case MatMul(left=left, right=right) | ScalarMul(left=left, right=right):
                is_flat = id(left) in flat or id(right) in flat
            case Div(left=left):
                is_flat = id(left) in flat
            case Add(left=left, right=right) | Sub(left=left, right=right):
                is_flat = id(left) in flat and id(right) in flat
            case Hadamard(left=left, right=right):
                is_flat = id(left) in flat and id(right) in flat
            case _:
                is_flat = False
        if is_flat:
            flat.add(id(node))
    return flat
