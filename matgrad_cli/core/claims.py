"""``matgrad check``: is a hand-derived gradient such as ``dW = Z.T @ G`` right, and if not, why?

A claim is evaluated on the layer's own symbols (expr.evaluate) and compared entry by entry with
the elementwise chain rule of the layer A = ZW + 1_m b (derive.derive_layer, verify.compare_matrix),
at several sizes so that a transposition slip cannot hide behind square shapes. Hints are not
guessed from the text: the claim's syntax tree is repaired one way at a time (transpose the result,
swap a product, flip a sum axis, …) and a repair is reported only when the very same check passes
for it at every size checked.

Nothing here imports rich or typer; the renderers live in render/check_text.py and
render/check_json.py.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeAlias

from ..errors import ClaimSyntaxError, InputError, SizeError
from . import bridge
from .derive import build_symbols, derive_layer, validate_sizes
from .engine import Engine, get_engine
from .expr import (
    Add,
    Claim,
    MatMul,
    Name,
    Neg,
    Node,
    Number,
    ScalarMul,
    ShapeMismatch,
    ShapeStep,
    Span,
    Sub,
    SumAxis,
    Target,
    Transpose,
    evaluate,
    parse_claim,
    shape_of,
    to_text,
)
from .model import Check, Gradient, Index, Shape, Sizes, Symbols
from .verify import compare_matrix, linear_value

Reason: TypeAlias = Literal["ok", "shape", "values"]
HintKind: TypeAlias = Literal[
    "transposed_result",
    "wrong_sum_axis",
    "sign_error",
    "swapped_factors",
    "extra_transpose",
    "missing_transpose",
    "extra_bias_term",
    "missing_sum",
    "missing_bias_term",
    "scaled",
]
#: A small matrix of exact numbers, row by row.
NumberMatrix: TypeAlias = tuple[tuple[Fraction, ...], ...]

#: Sizes checked when none are given: distinct, non-square triples first, so that a missing or
#: extra transpose changes a shape somewhere, and the square 2×2×2 case last.
DEFAULT_SIZES: tuple[Sizes, ...] = (Sizes(2, 3, 4), Sizes(4, 2, 3), Sizes(3, 4, 2), Sizes(2, 2, 2))
#: Largest m·k·n at which claims are checked under the softmax loss (the default sizes' 24).
SOFTMAX_CHECK_LIMIT = 24
#: Largest m·k·n accepted by check: the symbolic comparison stays well under a second there.
CHECK_SIZE_LIMIT = 1000
#: Largest number of scalar multiplications a claim's products may need at one size.
EVALUATION_BUDGET = 1_000_000
#: Claims with more nodes than this get no hint (the repair search grows with the tree).
HINT_NODE_LIMIT = 64
#: The entries of counterexample matrices are drawn from this range, from a fixed seed.
ENTRY_RANGE = (-3, 3)
COUNTEREXAMPLE_SEED = 20240601
COUNTEREXAMPLE_ATTEMPTS = 50
#: A claims file larger than this is refused before it is read.
MAX_FILE_BYTES = 1_000_000

#: The right answers, in the claim syntax, each verified by derive.py at every size checked.
CORRECT_FORMULAS: dict[Target, str] = {
    "Z": "dZ = G @ W.T",
    "W": "dW = Z.T @ G",
    "b": "db = sum(G, axis=0)",
}
GRADIENT_NAMES: dict[Target, str] = {"Z": "∂L/∂Z", "W": "∂L/∂W", "b": "∂L/∂b"}
#: The operands each right answer uses, for choosing what a counterexample shows.
_FORMULA_OPERANDS: dict[Target, frozenset[str]] = {
    "Z": frozenset({"G", "W"}),
    "W": frozenset({"Z", "G"}),
    "b": frozenset({"G"}),
}
_OPERAND_ORDER = ("Z", "W", "b", "G")
_Y_MESSAGE = (
    "Y, the targets, needs a loss that has them: --loss squared-error or softmax-cross-entropy"
)
_LOSSES_WITH_TARGETS = frozenset({"squared-error", "softmax-cross-entropy"})
#: Losses whose values at integers are exact rationals, so that counterexamples can be shown.
_POLYNOMIAL_LOSSES = frozenset({"generic", "sum", "squared-error"})


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryDifference:
    """The first entry (1-based, row by row) where the claim and the chain rule differ.

    ``claimed`` and ``correct`` are SymPy text over z_i_j, w_i_j, b_j and dA_i_j (the entries
    of G); the expressions themselves are kept for renderers that print them their own way.
    """

    index: Index
    claimed: str
    correct: str
    claimed_value: Any = field(compare=False, repr=False)
    correct_value: Any = field(compare=False, repr=False)


@dataclass(frozen=True)
class Counterexample:
    """Small integer matrices on which the claim and the right answer give different numbers.

    ``operands`` holds the matrices the claim or the right answer uses, in the order Z, W, b, G.
    """

    sizes: Sizes
    operands: tuple[tuple[str, NumberMatrix], ...]
    claimed: NumberMatrix
    correct: NumberMatrix


@dataclass(frozen=True)
class ClaimVerdict:
    """What matgrad found about one claim.

    ``reported_at`` is where the shapes, the first difference and the counterexample were taken:
    the smallest size at which the claim fails, or the first size checked when it is correct.
    ``shape_steps`` are the shapes of the claim's parts there, innermost first, up to the first
    part that does not fit; ``shape_message`` says what does not fit (None when nothing).
    """

    claim: str
    target: Target
    correct: bool
    reason: Reason
    sizes_checked: tuple[Sizes, ...]
    reported_at: Sizes
    expected_shape: Shape
    claimed_shape: Shape | None
    shape_steps: tuple[ShapeStep, ...]
    shape_message: str | None
    first_difference: EntryDifference | None
    counterexample: Counterexample | None
    hint: str | None
    hint_kind: HintKind | None
    correct_formula: str
    #: ``generic``, or the concrete loss whose G = ∂L/∂A and targets Y the claim was read with.
    loss: str = "generic"

    @property
    def gradient(self) -> str:
        """The gradient claimed, e.g. ``∂L/∂W``."""
        return GRADIENT_NAMES[self.target]

    @property
    def compared_with(self) -> str:
        """What the claim was compared with, in words."""
        if self.loss == "generic":
            return "the elementwise chain rule through A = ZW + b"
        return f"L = {self.loss.replace('-', ' ')} differentiated through A = ZW + b"

    @property
    def upstream_note(self) -> str | None:
        """What G stands for under a concrete loss, or None for the generic one."""
        from .losses import CLOSED_FORM_TEXT, CONDITIONS

        if self.loss == "generic":
            return None
        condition = CONDITIONS.get(self.loss)
        closed = CLOSED_FORM_TEXT[self.loss] + (f", {condition}" if condition else "")
        return f"here G = ∂L/∂A = {closed}"


@dataclass(frozen=True)
class CheckReport:
    """The verdicts on every claim, in the order given."""

    verdicts: tuple[ClaimVerdict, ...]

    @property
    def correct(self) -> bool:
        """True when every claim is right."""
        return all(verdict.correct for verdict in self.verdicts)

    @property
    def _first_finding(self) -> ClaimVerdict:
        """The first wrong verdict, or the first verdict when all are right."""
        return next((v for v in self.verdicts if not v.correct), self.verdicts[0])

    @property
    def reason(self) -> Reason:
        """``ok``, ``shape`` or ``values``: of the only claim, or of the first wrong one."""
        return self._first_finding.reason

    @property
    def hint(self) -> str | None:
        """The hint for the only claim, or for the first wrong one."""
        return self._first_finding.hint

    @property
    def counterexample(self) -> Counterexample | None:
        """The counterexample for the only claim, or for the first wrong one."""
        return self._first_finding.counterexample

    # Views, each the same text as `matgrad check` with the same options; renderers are
    # imported on first use.

    def to_text(self, *, width: int = 80) -> str:
        """The terminal view, as `matgrad check` prints it when piped."""
        return bridge.render(self, "text", width=width)

    def to_json(self) -> str:
        """The report as JSON, as `matgrad check --format json` prints it."""
        return bridge.render(self, "json")

    def to_latex(self, *, standalone: bool = False) -> str:
        """The report as LaTeX, as `matgrad check --format latex` prints it."""
        return bridge.render(self, "latex", standalone=standalone)

    def to_markdown(self) -> str:
        """The report as Markdown, as `matgrad check --format markdown` prints it."""
        return bridge.render(self, "markdown")

    def _repr_markdown_(self) -> str:
        """Jupyter shows the report as rendered Markdown."""
        return self.to_markdown()

    def __rich_console__(self, console: Any, options: Any) -> Any:
        """rich prints the terminal view."""
        yield bridge.terminal_view(self)


class ClaimLine(NamedTuple):
    """A claim read from a file, with its 1-based line number."""

    line: int
    text: str


# --- the layer at one size -----------------------------------------------------------------


@dataclass(frozen=True)
class _Layer:
    """The elementwise derivation of A = ZW + 1_m b at one size, and its symbols as matrices.

    For the generic loss the gradients are the chain rule's linear forms in G; for a concrete
    loss ``expected`` holds ∂L/∂Z, ∂L/∂W, ∂L/∂b from differentiating L through the whole layer,
    and the operand G is that loss's ∂L/∂A with A = ZW + 1_m b substituted.
    """

    sizes: Sizes
    engine: Engine
    symbols: Symbols
    gradients: Mapping[Target, Gradient]
    operands: Mapping[str, Any]
    loss: str = "generic"
    expected: Mapping[Target, Any] = field(default_factory=dict)


@lru_cache(maxsize=32)
def _layer(sizes: Sizes, loss: str = "generic") -> _Layer:
    """Derived once per size: with the bias, so that claims about ∂L/∂b have b in the layer
    (∂L/∂Z and ∂L/∂W are the same with or without it, SPEC section 1)."""
    import sympy

    engine = get_engine("sympy")
    symbols = build_symbols(sizes, engine)
    derivation = derive_layer(symbols, sizes, True, engine)
    if not all(identity.holds for identity in derivation.checks):
        # The right answers (CORRECT_FORMULAS) are only as good as this verification.
        raise RuntimeError(f"the derivation at {sizes} did not verify; check cannot judge claims")
    operands = {
        "Z": sympy.ImmutableMatrix(symbols.Z),
        "W": sympy.ImmutableMatrix(symbols.W),
        "b": sympy.ImmutableMatrix([symbols.b]),
        "G": sympy.ImmutableMatrix(symbols.upstream),
    }
    if loss == "generic":
        return _Layer(sizes, engine, symbols, derivation.gradients, operands)
    from .losses import derive_loss

    concrete = derive_loss(loss, sizes, bias=True)
    if not concrete.verified:
        raise RuntimeError(f"the {loss} loss at {sizes} did not verify; check cannot judge claims")
    forward = {
        concrete.symbols.A[i, j]: (concrete.symbols.Z * concrete.symbols.W)[i, j]
        + concrete.symbols.b[j]
        for i in range(sizes.m)
        for j in range(sizes.n)
    }
    operands = {
        "Z": sympy.ImmutableMatrix(concrete.symbols.Z),
        "W": sympy.ImmutableMatrix(concrete.symbols.W),
        "b": sympy.ImmutableMatrix(concrete.symbols.b),
        "Y": sympy.ImmutableMatrix(concrete.symbols.Y),
        "G": sympy.ImmutableMatrix(concrete.upstream.xreplace(forward)),
    }
    expected = {name: sympy.ImmutableMatrix(m) for name, m in concrete.elementwise.items()}
    return _Layer(sizes, engine, symbols, derivation.gradients, operands, loss, expected)


@dataclass(frozen=True)
class _Trial:
    """Integer values for Z, W, b and G, and the chain rule's gradients at those values."""

    values: Mapping[str, tuple[tuple[int, ...], ...]]
    operands: Mapping[str, Any]
    expected: Mapping[Target, Any]


def _draw(rng: random.Random, rows: int, cols: int) -> tuple[tuple[int, ...], ...]:
    """A matrix of integers from ENTRY_RANGE that is not all zero."""
    while True:
        matrix = tuple(tuple(rng.randint(*ENTRY_RANGE) for _ in range(cols)) for _ in range(rows))
        if any(any(row) for row in matrix):
            return matrix


@lru_cache(maxsize=256)
def _trial(sizes: Sizes, attempt: int, loss: str = "generic") -> _Trial:
    """The ``attempt``-th deterministic draw at these sizes, from a fixed seed."""
    import sympy

    if loss != "generic":
        return _loss_trial(sizes, attempt, loss)
    layer = _layer(sizes)
    rng = random.Random(COUNTEREXAMPLE_SEED + attempt)
    values = {name: _draw(rng, *sizes.shape_of(name)) for name in _OPERAND_ORDER}
    symbol_rows = {
        "Z": layer.symbols.Z,
        "W": layer.symbols.W,
        "b": (layer.symbols.b,),
        "G": layer.symbols.upstream,
    }
    substitution = {
        symbol: sympy.Integer(value)
        for name, rows in symbol_rows.items()
        for symbol_row, value_row in zip(rows, values[name], strict=True)
        for symbol, value in zip(symbol_row, value_row, strict=True)
    }
    # The right answer at these numbers comes from the chain rule, not from a formula.
    expected = {
        target: sympy.ImmutableMatrix(
            [
                [
                    linear_value(rule.terms, layer.symbols.upstream, layer.engine).xreplace(
                        substitution
                    )
                    for rule in row
                ]
                for row in gradient.entries
            ]
        )
        for target, gradient in layer.gradients.items()
    }
    operands = {name: sympy.ImmutableMatrix(matrix) for name, matrix in values.items()}
    return _Trial(values, operands, expected)


def _loss_trial(sizes: Sizes, attempt: int, loss: str) -> _Trial:
    """A draw of Z, W, b and Y for a polynomial loss; the right answer is L's own derivative at
    those numbers, and the operand G is that loss's ∂L/∂A there."""
    import sympy

    layer = _layer(sizes, loss)
    rng = random.Random(COUNTEREXAMPLE_SEED + attempt)
    names = ("Z", "W", "b", "Y")
    shapes = {"Z": sizes.shape_of("Z"), "W": sizes.shape_of("W"), "b": (1, sizes.n)}
    shapes["Y"] = (sizes.m, sizes.n)
    values = {name: _draw(rng, *shapes[name]) for name in names}
    substitution = {
        symbol: sympy.Integer(value)
        for name in names
        for symbol, value in zip(
            layer.operands[name], [v for row in values[name] for v in row], strict=True
        )
    }
    operands = {name: sympy.ImmutableMatrix(values[name]) for name in names}
    operands["G"] = layer.operands["G"].xreplace(substitution)
    expected = {target: matrix.xreplace(substitution) for target, matrix in layer.expected.items()}
    return _Trial(values, operands, expected)


# --- syntax-tree helpers -------------------------------------------------------------------

_Path: TypeAlias = tuple[str, ...]


def _children(node: Node) -> tuple[tuple[str, Node], ...]:
    match node:
        case SumAxis(arg=arg) | Transpose(arg=arg) | Neg(arg=arg):
            return (("arg", arg),)
        case MatMul(left=left, right=right) | ScalarMul(left=left, right=right):
            return (("left", left), ("right", right))
        case Add(left=left, right=right) | Sub(left=left, right=right):
            return (("left", left), ("right", right))
        case _:
            return ()


def _subtrees(node: Node, path: _Path = ()) -> Iterator[tuple[_Path, Node]]:
    """Every node with its path from the root, parents before children."""
    yield path, node
    for slot, child in _children(node):
        yield from _subtrees(child, (*path, slot))


def _with_child(node: Node, slot: str, child: Node) -> Node:
    match node:
        case SumAxis() | Transpose() | Neg():
            return replace(node, arg=child)
        case MatMul() | ScalarMul() | Add() | Sub():
            return replace(node, left=child) if slot == "left" else replace(node, right=child)
        case _:
            raise ValueError(f"{type(node).__name__} has no {slot}")


def _replaced(root: Node, path: _Path, new: Node) -> Node:
    """``root`` with the node at ``path`` replaced by ``new``."""
    if not path:
        return new
    slot = path[0]
    return _with_child(root, slot, _replaced(getattr(root, slot), path[1:], new))


def _names(node: Node) -> set[str]:
    return {sub.name for _, sub in _subtrees(node) if isinstance(sub, Name)}


# --- checking ------------------------------------------------------------------------------


def _validated(sizes: Sizes) -> Sizes:
    checked = validate_sizes(sizes.m, sizes.k, sizes.n, "sympy")
    product = checked.m * checked.k * checked.n
    if product > CHECK_SIZE_LIMIT:
        raise SizeError(
            f"m·k·n = {product} is too large for check (at most {CHECK_SIZE_LIMIT}); "
            "slips show at small sizes, and the default sizes are chosen to reveal them"
        )
    return checked


def _product_cost(node: Node, sizes: Sizes) -> tuple[int, Node | None]:
    """The scalar multiplications the claim's products and sums need, and the costliest part."""
    total, costliest, most = 0, None, 0
    for _, sub in _subtrees(node):
        try:
            if isinstance(sub, MatMul):
                (rows, inner), _ = shape_of(sub.left, sizes)
                cols = shape_of(sub.right, sizes)[0][1]
                cost = rows * inner * cols
            elif isinstance(sub, SumAxis):
                rows, cols = shape_of(sub.arg, sizes)[0]
                cost = rows * cols
            else:
                continue
        except ShapeMismatch:
            continue
        total += cost
        if cost > most:
            costliest, most = sub, cost
    return total, costliest


def _parsed(text: str, sizes_list: Sequence[Sizes], loss: str = "generic") -> Claim:
    """Parse one claim and refuse what check cannot evaluate: Y without targets in the loss, or
    products far too large."""
    claim = parse_claim(text)
    for _, node in _subtrees(claim.expr):
        if isinstance(node, Name) and node.name == "Y" and loss not in _LOSSES_WITH_TARGETS:
            message = _Y_MESSAGE if loss == "generic" else f"the {loss} loss has no targets Y"
            raise ClaimSyntaxError(message, text, node.span.start)
    for sizes in sizes_list:
        cost, costliest = _product_cost(claim.expr, sizes)
        if cost > EVALUATION_BUDGET:
            position = costliest.span.start if costliest is not None else 0
            raise ClaimSyntaxError(
                f"this claim needs over {EVALUATION_BUDGET:,} multiplications to evaluate; "
                "check takes claims about the layer's own matrices, not large ones(…) products",
                text,
                position,
            )
    return claim


def shape_text(shape: Shape) -> str:
    """``(4, 3)`` → ``4×3``."""
    return f"{shape[0]}×{shape[1]}"


def number_text(value: Fraction) -> str:
    """An exact number as the claim language writes it: ``3``, ``-2``, ``0.5``."""
    return to_text(Number(value, Span(0, 0)))


@dataclass(frozen=True)
class _ShapeFailure:
    claimed_shape: Shape | None
    steps: tuple[ShapeStep, ...]
    message: str


def _shape_failure(expr: Node, target: Target, sizes: Sizes) -> _ShapeFailure | None:
    """Why the claim has no shape, or the wrong one, at these sizes; None when it fits."""
    try:
        shape, steps = shape_of(expr, sizes)
    except ShapeMismatch as mismatch:
        return _ShapeFailure(None, mismatch.steps, mismatch.message)
    expected = sizes.shape_of(target)
    if shape == expected:
        return None
    message = (
        f"the claim is {shape_text(shape)} but {GRADIENT_NAMES[target]} is "
        f"{shape_text(expected)}, the shape of {target}"
    )
    return _ShapeFailure(shape, steps, message)


def _symbolic_check(
    expr: Node, target: Target, sizes: Sizes, scale: Any = 1, loss: str = "generic"
) -> Check:
    """The claim (divided by ``scale``) against the elementwise derivatives, entry by entry."""
    layer = _layer(sizes, loss)
    claimed = evaluate(expr, layer.operands, sizes, expand=loss in _POLYNOMIAL_LOSSES)
    compared = claimed if scale == 1 else claimed / scale
    if loss == "generic":
        return compare_matrix(
            layer.gradients[target], compared, to_text(expr), True, layer.symbols, layer.engine
        )
    from .losses import compare_expressions

    return compare_expressions(target, to_text(expr), True, layer.expected[target], compared)


def _right_everywhere(
    expr: Node, target: Target, sizes_list: Sequence[Sizes], scale: Any = 1, loss: str = "generic"
) -> bool:
    """True when ``expr`` (divided by ``scale``) is the right answer at every size.

    Integer values rule most candidates out cheaply (for losses whose values at integers are
    exact); a survivor is confirmed symbolically by the same entry-by-entry comparison as the
    claim itself.
    """
    if any(_shape_failure(expr, target, sizes) is not None for sizes in sizes_list):
        return False
    if loss in _POLYNOMIAL_LOSSES:
        for sizes in sizes_list:
            trial = _trial(sizes, 0, loss)
            if evaluate(expr, trial.operands, sizes) != trial.expected[target] * scale:
                return False
    return all(_symbolic_check(expr, target, sizes, scale, loss).holds for sizes in sizes_list)


# --- hints ---------------------------------------------------------------------------------


class _Repair(NamedTuple):
    kind: HintKind
    expr: Node
    message: str


def _sum_axis_text(axis: int) -> str:
    if axis == 0:
        return "adds down each column, giving a row"
    return "adds along each row, giving a column"


def _mentions_b(node: Node) -> bool:
    return "b" in _names(node)


# One rule per kind of slip: each yields the claim repaired in every way of that kind.


def _transposed_result(claim: Claim, loss: str = "generic") -> Iterator[_Repair]:
    expr, whole = claim.expr, to_text(claim.expr)
    if isinstance(expr, Transpose):
        message = f"{whole} is the transpose of the right answer: drop the outer transpose"
        yield _Repair("transposed_result", expr.arg, message)
        return
    flipped = Transpose(expr, expr.span)
    gradient = GRADIENT_NAMES[claim.target]
    message = f"{whole} is the transpose of the right answer: {to_text(flipped)} is {gradient}"
    yield _Repair("transposed_result", flipped, message)


def _wrong_sum_axis(claim: Claim, loss: str = "generic") -> Iterator[_Repair]:
    why = (
        "∂L/∂b_j adds up column j of G, since b_j is added to every row, so use"
        if claim.target == "b"
        else "use"
    )
    for path, node in _subtrees(claim.expr):
        if isinstance(node, SumAxis):
            other: Literal[0, 1] = 1 if node.axis == 0 else 0
            yield _Repair(
                "wrong_sum_axis",
                _replaced(claim.expr, path, replace(node, axis=other)),
                f"wrong sum axis: axis={node.axis} {_sum_axis_text(node.axis)}; "
                f"{why} axis={other}, which {_sum_axis_text(other)}",
            )


def _sign_error(claim: Claim, loss: str = "generic") -> Iterator[_Repair]:
    expr = claim.expr
    message = f"sign error: {to_text(expr)} is the negative of the right answer"
    yield _Repair("sign_error", Neg(expr, expr.span), message)
    for path, node in _subtrees(expr):
        if isinstance(node, Neg):
            message = f"sign error: the minus sign in {to_text(node)} does not belong"
            yield _Repair("sign_error", _replaced(expr, path, node.arg), message)
        elif isinstance(node, Add | Sub):
            flipped: Node = (
                Sub(node.left, node.right, node.span)
                if isinstance(node, Add)
                else Add(node.left, node.right, node.span)
            )
            message = f"sign error: {to_text(node)} should be {to_text(flipped)}"
            yield _Repair("sign_error", _replaced(expr, path, flipped), message)


def _swapped_factors(claim: Claim, loss: str = "generic") -> Iterator[_Repair]:
    for path, node in _subtrees(claim.expr):
        if isinstance(node, MatMul):
            swapped = MatMul(node.right, node.left, node.span)
            yield _Repair(
                "swapped_factors",
                _replaced(claim.expr, path, swapped),
                f"factors in the wrong order: {to_text(node)} should be {to_text(swapped)} "
                "(a matrix product does not commute)",
            )


def _extra_transpose(claim: Claim, loss: str = "generic") -> Iterator[_Repair]:
    for path, node in _subtrees(claim.expr):
        if isinstance(node, Transpose) and path:  # the outermost one is a transposed result
            message = f"extra transpose: {to_text(node)} should be {to_text(node.arg)}"
            yield _Repair("extra_transpose", _replaced(claim.expr, path, node.arg), message)


def _missing_transpose(claim: Claim, loss: str = "generic") -> Iterator[_Repair]:
    nodes = dict(_subtrees(claim.expr))
    for path, node in nodes.items():
        # Not the whole claim (a transposed result), not a number, and not next to another
        # transpose, where adding one is removing one (an extra transpose).
        if not path or isinstance(node, Number | Transpose):
            continue
        if isinstance(nodes[path[:-1]], Transpose):
            continue
        transposed = Transpose(node, node.span)
        message = f"missing transpose: {to_text(node)} should be {to_text(transposed)}"
        yield _Repair("missing_transpose", _replaced(claim.expr, path, transposed), message)


def _extra_bias_term(claim: Claim, loss: str = "generic") -> Iterator[_Repair]:
    gradient = GRADIENT_NAMES[claim.target]
    if loss != "generic":
        # Under a concrete loss the right answer itself contains b (through A), so only say
        # that this term is one too many.
        why = "the term is one too many"
    elif claim.target == "b":
        why = "each ∂a_{i,j}/∂b_j is 1, so ∂L/∂b contains no b"
    else:
        why = f"b is added after the product ZW, so it leaves {gradient} unchanged"
    for path, node in _subtrees(claim.expr):
        if not isinstance(node, Add | Sub):
            continue
        for kept, dropped in ((node.left, node.right), (node.right, node.left)):
            if not _mentions_b(dropped) or (_mentions_b(kept) and loss == "generic"):
                continue
            # x - b keeps x; b - x keeps -x.
            negated = isinstance(node, Sub) and kept is node.right
            remainder = Neg(kept, kept.span) if negated else kept
            yield _Repair(
                "extra_bias_term",
                _replaced(claim.expr, path, remainder),
                f"extra bias term: drop {to_text(dropped)} from {to_text(node)}; {why}",
            )


def _missing_sum(claim: Claim, loss: str = "generic") -> Iterator[_Repair]:
    if claim.target == "b" and not isinstance(claim.expr, SumAxis):
        summed = SumAxis(claim.expr, 0, claim.expr.span)
        yield _Repair(
            "missing_sum",
            summed,
            "missing sum: b_j is added to every row, so ∂L/∂b_j adds up column j of "
            f"{to_text(claim.expr)}: {to_text(summed)}",
        )


def _missing_bias_term(claim: Claim, loss: str = "generic") -> Iterator[_Repair]:
    expr = claim.expr
    bias = Name("b", expr.span)
    for repaired in (Add(expr, bias, expr.span), Sub(expr, bias, expr.span)):
        message = f"missing bias term: {to_text(repaired)} would be right"
        yield _Repair("missing_bias_term", repaired, message)


#: The rules in the order their repairs are tried: the likeliest slips first.
_REPAIR_RULES = (
    _transposed_result,
    _wrong_sum_axis,
    _sign_error,
    _swapped_factors,
    _extra_transpose,
    _missing_transpose,
    _extra_bias_term,
    _missing_sum,
    _missing_bias_term,
)


def _ratio(check: Check) -> Any:
    """claimed / correct at the first differing entry, when that is a nonzero number ≠ 1."""
    import sympy

    mismatch = check.mismatches[0]
    if mismatch.elementwise == 0:
        return None
    ratio = sympy.cancel(mismatch.claimed / mismatch.elementwise)
    if not ratio.is_Rational or ratio in (0, 1):
        return None
    return ratio


def _hint(
    claim: Claim, sizes_list: Sequence[Sizes], failed: Check | None, loss: str = "generic"
) -> tuple[HintKind, str] | None:
    """The first one-step repair that makes the claim right at every size, as (kind, message)."""
    if sum(1 for _ in _subtrees(claim.expr)) > HINT_NODE_LIMIT:
        return None
    repairs = (repair for rule in _REPAIR_RULES for repair in rule(claim, loss))
    for repair in repairs:
        if _right_everywhere(repair.expr, claim.target, sizes_list, 1, loss):
            return repair.kind, repair.message
    # The ratio of two softmax expressions is a costly cancellation: only polynomial losses
    # are searched for a scaled answer.
    if failed is not None and loss in _POLYNOMIAL_LOSSES:
        ratio = _ratio(failed)
        if ratio is not None and _right_everywhere(
            claim.expr, claim.target, sizes_list, ratio, loss
        ):
            times = number_text(Fraction(int(ratio.p), int(ratio.q)))
            return "scaled", f"{to_text(claim.expr)} is {times} times the right answer"
    return None


# --- counterexamples -----------------------------------------------------------------------


def _exact(matrix: Any) -> NumberMatrix:
    return tuple(
        tuple(Fraction(int(entry.p), int(entry.q)) for entry in matrix.row(i))
        for i in range(matrix.rows)
    )


def _counterexample(claim: Claim, sizes: Sizes, loss: str = "generic") -> Counterexample | None:
    """The first deterministic integer draw on which the claim and the right answer disagree.

    None for the softmax loss, whose values at integers are not exact numbers.
    """
    if loss not in _POLYNOMIAL_LOSSES:
        return None
    shown = _names(claim.expr) | _FORMULA_OPERANDS[claim.target]
    if loss != "generic":
        # The right answer depends on Z, W, b (and Y) through L, not on a free G.
        shown = (
            (shown - {"G"}) | {"Z", "W", "b"} | ({"Y"} if loss in _LOSSES_WITH_TARGETS else set())
        )
    for attempt in range(COUNTEREXAMPLE_ATTEMPTS):
        trial = _trial(sizes, attempt, loss)
        claimed = evaluate(claim.expr, trial.operands, sizes)
        correct = trial.expected[claim.target]
        if claimed != correct:
            operands = tuple(
                (name, tuple(tuple(Fraction(v) for v in row) for row in trial.values[name]))
                for name in (*_OPERAND_ORDER, "Y")
                if name in shown and name in trial.values
            )
            return Counterexample(sizes, operands, _exact(claimed), _exact(correct))
    return None


# --- verdicts ------------------------------------------------------------------------------


def _smallest_first(sizes_list: Sequence[Sizes]) -> list[Sizes]:
    """Sizes by m·k·n, keeping the given order among equals: the first failure is the smallest."""
    return sorted(sizes_list, key=lambda sizes: sizes.m * sizes.k * sizes.n)


def _judge(claim: Claim, sizes_list: tuple[Sizes, ...], loss: str = "generic") -> ClaimVerdict:
    """Shapes first, at every size in the given order (non-square first, so that m, k and n can
    be told apart in the report); then values, smallest size first (the easiest to follow)."""
    target = claim.target
    formula = CORRECT_FORMULAS[target]

    for sizes in sizes_list:
        failure = _shape_failure(claim.expr, target, sizes)
        if failure is not None:
            hint = _hint(claim, sizes_list, None, loss)
            return ClaimVerdict(
                claim=claim.text,
                target=target,
                correct=False,
                reason="shape",
                sizes_checked=sizes_list,
                reported_at=sizes,
                expected_shape=sizes.shape_of(target),
                claimed_shape=failure.claimed_shape,
                shape_steps=failure.steps,
                shape_message=failure.message,
                first_difference=None,
                counterexample=None,
                hint=hint[1] if hint else None,
                hint_kind=hint[0] if hint else None,
                correct_formula=formula,
                loss=loss,
            )

    for sizes in _smallest_first(sizes_list):
        check = _symbolic_check(claim.expr, target, sizes, 1, loss)
        if check.holds:
            continue
        mismatch = check.mismatches[0]
        hint = _hint(claim, sizes_list, check, loss)
        shape, steps = shape_of(claim.expr, sizes)
        return ClaimVerdict(
            claim=claim.text,
            target=target,
            correct=False,
            reason="values",
            sizes_checked=sizes_list,
            reported_at=sizes,
            expected_shape=sizes.shape_of(target),
            claimed_shape=shape,
            shape_steps=steps,
            shape_message=None,
            first_difference=EntryDifference(
                mismatch.index,
                str(mismatch.claimed),
                str(mismatch.elementwise),
                mismatch.claimed,
                mismatch.elementwise,
            ),
            counterexample=_counterexample(claim, sizes, loss),
            hint=hint[1] if hint else None,
            hint_kind=hint[0] if hint else None,
            correct_formula=formula,
            loss=loss,
        )

    first = sizes_list[0]
    shape, steps = shape_of(claim.expr, first)
    return ClaimVerdict(
        claim=claim.text,
        target=target,
        correct=True,
        reason="ok",
        sizes_checked=sizes_list,
        reported_at=first,
        expected_shape=first.shape_of(target),
        claimed_shape=shape,
        shape_steps=steps,
        shape_message=None,
        first_difference=None,
        counterexample=None,
        hint=None,
        hint_kind=None,
        correct_formula=formula,
        loss=loss,
    )


def check(
    claims: str | Sequence[str], *, sizes: Sizes | None = None, loss: str = "generic"
) -> CheckReport:
    """Check each claim against the verified elementwise derivation.

    Without ``sizes`` the claims are checked at DEFAULT_SIZES, otherwise at exactly ``sizes``.
    With a concrete ``loss`` (see matgrad_cli.core.losses), G in a claim is that loss's ∂L/∂A, Y its
    targets, and the right answer is L differentiated through the whole layer. Every claim is
    parsed before any is checked; the first that cannot be (a syntax error, an unknown name, Y
    without targets, a claim far too large) raises ClaimSyntaxError whose ``source`` is that
    claim. Bad sizes or losses raise InputError (SizeError) and no claims at all InputError.
    """
    from .losses import validate_loss

    texts = [claims] if isinstance(claims, str) else list(claims)
    if not texts:
        raise InputError("no claims to check")
    sizes_list = DEFAULT_SIZES if sizes is None else (_validated(sizes),)
    for each in sizes_list:
        validate_loss(loss, each)
        if loss == "softmax-cross-entropy" and each.m * each.k * each.n > SOFTMAX_CHECK_LIMIT:
            raise SizeError(
                f"m·k·n = {each.m * each.k * each.n} is above the limit of {SOFTMAX_CHECK_LIMIT} "
                "for checking claims under --loss softmax-cross-entropy (each hint is a full "
                "symbolic check); the default sizes stay within it"
            )
    parsed = [_parsed(text, sizes_list, loss) for text in texts]
    return CheckReport(tuple(_judge(claim, sizes_list, loss) for claim in parsed))


def read_claims_file(path: Path) -> list[ClaimLine]:
    """The claims of a file, one a line; blank lines and ``#`` comments (whole-line or trailing)
    are skipped. Raises InputError with a one-line message when the file cannot be read."""
    try:
        if path.is_dir():
            raise InputError(f"{path} is a directory, not a file of claims")
        with path.open("rb") as stream:  # read at most one byte too many, even from /dev/zero
            data = stream.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise InputError(f"{path} is larger than {MAX_FILE_BYTES:,} bytes")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path} is not UTF-8 text (byte {error.start + 1} cannot be decoded)"
        ) from None
    claims = []
    for number, line in enumerate(text.splitlines(), start=1):
        # The claim grammar has no '#', so everything after one is a comment.
        claim = line.split("#", 1)[0].strip()
        if claim:
            claims.append(ClaimLine(number, claim))
    return claims
