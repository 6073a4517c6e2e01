"""Hints for wrong claims: one rule per kind of slip, each repairing the claim's tree one way.

Hints are not guessed from the text: a rule rebuilds the syntax tree with one slip undone
(transpose the result, swap a product, flip a sum axis, …), and a repair is reported only when
the very same check that judged the claim passes for it at every size checked. Adding a kind of
slip is one more rule in RULES (and its name in HintKind).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Literal, TypeAlias

from ..checks import Check
from ..layer import Sizes
from . import tree
from .answers import GRADIENT_NAMES, POLYNOMIAL_LOSSES, OutOfShare, right_everywhere
from .cost import Meter
from .tree import Claim, Node, names, number_text, replaced, subtrees, to_text

HintKind: TypeAlias = Literal[
    "elementwise_product",
    "transposed_result",
    "wrong_sum_axis",
    "sign_error",
    "swapped_factors",
    "extra_transpose",
    "missing_transpose",
    "extra_bias_term",
    "missing_sum",
    "missing_bias_term",
    "divided",
    "mean_not_sum",
    "scaled",
    "size_dependent",
]
#: Hints that explain the claim's first problem, so that a report gives them first.
LEADING_HINTS: frozenset[HintKind] = frozenset({"elementwise_product"})
#: The first words of the elementwise_product hint.
ELEMENTWISE_MESSAGE = "`*` is elementwise in NumPy; as a matrix product (`@`) your answer is right"
#: Claims with more nodes than this get no hint (the repair search grows with the tree).
HINT_NODE_LIMIT = 64


@dataclass(frozen=True)
class Repair:
    """The claim's expression with one slip undone, and what to tell the student if it is right."""

    expr: Node
    message: str


#: A rule's search: every repair of one kind for a claim judged under a loss.
Repairs: TypeAlias = Callable[[Claim, str], Iterator[Repair]]


@dataclass(frozen=True)
class Hint:
    """The first repair that makes a claim right at every size, and its kind."""

    kind: HintKind
    message: str


def _sum_axis_text(axis: int) -> str:
    if axis == 0:
        return "adds down each column, giving a row"
    return "adds along each row, giving a column"


# One rule per kind of slip: each yields the claim repaired in every way of that kind.


def _as_matrix_product(expr: Node) -> Node:
    """``expr`` with every elementwise ``*`` read as ``@``, outermost first (a matrix product
    has the same slots, so the paths of the inner ones still hold)."""
    for path, node in list(subtrees(expr)):
        if isinstance(node, tree.Hadamard):
            current = functools.reduce(getattr, path, expr)
            assert isinstance(current, tree.Hadamard)
            expr = replaced(expr, path, tree.MatMul(current.left, current.right, node.span))
    return expr


def _elementwise_product(claim: Claim, loss: str) -> Iterator[Repair]:
    """``*`` between matrices, elementwise in NumPy, meant as the matrix product."""
    if not any(isinstance(node, tree.Hadamard) for _, node in subtrees(claim.expr)):
        return
    message = ELEMENTWISE_MESSAGE
    if "quote" in claim.marks:
        message += (
            "; the claim writes MATLAB's ' for a transpose, and with --dialect matlab "
            "* is the matrix product"
        )
    else:
        message += "; with --dialect matlab or math, * is the matrix product"
    yield Repair(_as_matrix_product(claim.expr), message)


def _transposed_result(claim: Claim, loss: str) -> Iterator[Repair]:
    """The whole claim is the transpose of the right answer."""
    expr, whole = claim.expr, to_text(claim.expr)
    if isinstance(expr, tree.Transpose):
        message = f"{whole} is the transpose of the right answer: drop the outer transpose"
        yield Repair(expr.arg, message)
        return
    flipped = tree.Transpose(expr, expr.span)
    gradient = GRADIENT_NAMES[claim.target]
    message = f"{whole} is the transpose of the right answer: {to_text(flipped)} is {gradient}"
    yield Repair(flipped, message)


def _bias_sum(claim: Claim) -> str:
    """Why ∂L/∂b adds up G: along the samples, which are the rows (or the columns) of G."""
    if claim.samples == "columns":
        return "∂L/∂b_j adds up row j of G, since b_j is added to every column, so use"
    return "∂L/∂b_j adds up column j of G, since b_j is added to every row, so use"


def _wrong_sum_axis(claim: Claim, loss: str) -> Iterator[Repair]:
    """A sum runs along the other axis."""
    why = _bias_sum(claim) if claim.target == "b" else "use"
    for path, node in subtrees(claim.expr):
        if isinstance(node, tree.SumAxis):
            other: Literal[0, 1] = 1 if node.axis == 0 else 0
            yield Repair(
                replaced(claim.expr, path, replace(node, axis=other)),
                f"wrong sum axis: axis={node.axis} {_sum_axis_text(node.axis)}; "
                f"{why} axis={other}, which {_sum_axis_text(other)}",
            )


def _sign_error(claim: Claim, loss: str) -> Iterator[Repair]:
    """The claim, a minus sign in it, or one of its + and − is the wrong way round."""
    expr = claim.expr
    message = f"sign error: {to_text(expr)} is the negative of the right answer"
    yield Repair(tree.Neg(expr, expr.span), message)
    for path, node in subtrees(expr):
        if isinstance(node, tree.Neg):
            message = f"sign error: the minus sign in {to_text(node)} does not belong"
            yield Repair(replaced(expr, path, node.arg), message)
        elif isinstance(node, tree.Add | tree.Sub):
            flipped = (tree.Sub if isinstance(node, tree.Add) else tree.Add)(
                node.left, node.right, node.span
            )
            message = f"sign error: {to_text(node)} should be {to_text(flipped)}"
            yield Repair(replaced(expr, path, flipped), message)


def _swapped_factors(claim: Claim, loss: str) -> Iterator[Repair]:
    """The factors of a matrix product are in the wrong order."""
    for path, node in subtrees(claim.expr):
        if isinstance(node, tree.MatMul):
            swapped = tree.MatMul(node.right, node.left, node.span)
            yield Repair(
                replaced(claim.expr, path, swapped),
                f"factors in the wrong order: {to_text(node)} should be {to_text(swapped)} "
                "(a matrix product does not commute)",
            )


def _extra_transpose(claim: Claim, loss: str) -> Iterator[Repair]:
    """A part is transposed that should not be."""
    for path, node in subtrees(claim.expr):
        if isinstance(node, tree.Transpose) and path:  # the outermost one is a transposed result
            message = f"extra transpose: {to_text(node)} should be {to_text(node.arg)}"
            yield Repair(replaced(claim.expr, path, node.arg), message)


def _missing_transpose(claim: Claim, loss: str) -> Iterator[Repair]:
    """A part should be transposed and is not."""
    nodes = dict(subtrees(claim.expr))
    for path, node in nodes.items():
        # Not the whole claim (a transposed result), not a number, and not next to another
        # transpose, where adding one is removing one (an extra transpose).
        if not path or isinstance(node, tree.Number | tree.Transpose):
            continue
        if isinstance(nodes[path[:-1]], tree.Transpose):
            continue
        transposed = tree.Transpose(node, node.span)
        message = f"missing transpose: {to_text(node)} should be {to_text(transposed)}"
        yield Repair(replaced(claim.expr, path, transposed), message)


def _extra_bias_term(claim: Claim, loss: str) -> Iterator[Repair]:
    """A term with b is added or subtracted that does not belong."""
    gradient = GRADIENT_NAMES[claim.target]
    if loss != "generic":
        # Under a concrete loss the right answer itself contains b (through A), so only say
        # that this term is one too many.
        why = "the term is one too many"
    elif claim.target == "b":
        why = "each ∂a_{i,j}/∂b_j is 1, so ∂L/∂b contains no b"
    else:
        product = "WX" if claim.samples == "columns" else "ZW"
        why = f"b is added after the product {product}, so it leaves {gradient} unchanged"
    for path, node in subtrees(claim.expr):
        if not isinstance(node, tree.Add | tree.Sub):
            continue
        for kept, dropped in ((node.left, node.right), (node.right, node.left)):
            if "b" not in names(dropped) or ("b" in names(kept) and loss == "generic"):
                continue
            # x - b keeps x; b - x keeps -x.
            negated = isinstance(node, tree.Sub) and kept is node.right
            remainder = tree.Neg(kept, kept.span) if negated else kept
            yield Repair(
                replaced(claim.expr, path, remainder),
                f"extra bias term: drop {to_text(dropped)} from {to_text(node)}; {why}",
            )


def _missing_sum(claim: Claim, loss: str) -> Iterator[Repair]:
    """∂L/∂b is claimed without the sum over the samples (down each column of G, or along each
    row with samples as columns)."""
    if claim.target == "b" and not isinstance(claim.expr, tree.SumAxis):
        expr = claim.expr
        if claim.samples == "columns":
            summed = tree.SumAxis(expr, 1, expr.span, keepdims=True)
            where = "b_j is added to every column, so ∂L/∂b_j adds up row j of"
        else:
            summed = tree.SumAxis(expr, 0, expr.span)
            where = "b_j is added to every row, so ∂L/∂b_j adds up column j of"
        yield Repair(summed, f"missing sum: {where} {to_text(expr)}: {to_text(summed)}")


def _missing_bias_term(claim: Claim, loss: str) -> Iterator[Repair]:
    """b should be added to or subtracted from the whole claim."""
    expr = claim.expr
    bias = tree.Name("b", expr.span)
    for repaired in (tree.Add(expr, bias, expr.span), tree.Sub(expr, bias, expr.span)):
        message = f"missing bias term: {to_text(repaired)} would be right"
        yield Repair(repaired, message)


def _divided(claim: Claim, loss: str) -> Iterator[Repair]:
    """A division, by m for example, that does not belong."""
    for path, node in subtrees(claim.expr):
        if isinstance(node, tree.Div):
            yield Repair(
                replaced(claim.expr, path, node.left),
                f"{to_text(node)} divides by {to_text(node.right)}, and without the division "
                "the claim is right: G = ∂L/∂A already holds any 1/m of a loss averaged over "
                f"the {claim.samples}",
            )


def _mean_not_sum(claim: Claim, loss: str) -> Iterator[Repair]:
    """A mean where the chain rule adds up."""
    for path, node in subtrees(claim.expr):
        if isinstance(node, tree.SumAxis) and node.mean:
            summed = replace(node, mean=False)
            sample = claim.samples[:-1]
            yield Repair(
                replaced(claim.expr, path, summed),
                f"{to_text(node)} averages, but the chain rule adds up every {sample}'s share: "
                f"{to_text(summed)}",
            )


#: The rules by kind, in the order their repairs are tried: the likeliest slips first. A scaled
#: answer is not a rewrite of the tree, so it is tried last, by _scaled.
RULES: dict[HintKind, Repairs] = {
    "elementwise_product": _elementwise_product,
    "transposed_result": _transposed_result,
    "wrong_sum_axis": _wrong_sum_axis,
    "sign_error": _sign_error,
    "swapped_factors": _swapped_factors,
    "extra_transpose": _extra_transpose,
    "missing_transpose": _missing_transpose,
    "extra_bias_term": _extra_bias_term,
    "missing_sum": _missing_sum,
    "missing_bias_term": _missing_bias_term,
    "divided": _divided,
    "mean_not_sum": _mean_not_sum,
}


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


def _scaled(
    claim: Claim, sizes_list: Sequence[Sizes], failed: Check, loss: str, meter: Meter | None
) -> Hint | None:
    """The claim is a constant multiple of the right answer, the constant read off the first
    differing entry."""
    ratio = _ratio(failed)
    if ratio is None:
        return None
    if not right_everywhere(claim.expr, claim.target, sizes_list, ratio, loss, meter):
        return None
    times = number_text(Fraction(int(ratio.p), int(ratio.q)))
    return Hint("scaled", f"{to_text(claim.expr)} is {times} times the right answer")


def find_hint(
    claim: Claim,
    sizes_list: Sequence[Sizes],
    failed: Check | None,
    loss: str = "generic",
    meter: Meter | None = None,
) -> Hint | None:
    """The first one-step repair that makes the claim right at every size; None when there is
    none, or when the next repair to try costs more than ``meter`` still affords."""
    if not hinted(claim.expr):
        return None
    try:
        for kind, repairs in RULES.items():
            for repair in repairs(claim, loss):
                if right_everywhere(repair.expr, claim.target, sizes_list, 1, loss, meter):
                    return Hint(kind, repair.message)
        # The ratio of two softmax expressions is a costly cancellation: only polynomial losses
        # are searched for a scaled answer.
        if failed is not None and loss in POLYNOMIAL_LOSSES:
            return _scaled(claim, sizes_list, failed, loss, meter)
    except OutOfShare:
        pass
    return None


def hinted(expr: tree.Node) -> bool:
    """Whether a claim is small enough for a hint to be searched for (HINT_NODE_LIMIT)."""
    return sum(1 for _ in subtrees(expr)) <= HINT_NODE_LIMIT
