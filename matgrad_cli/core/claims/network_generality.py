"""Whether a claim about a network may depend on the sizes m, k and n, and the further sizes it is
then checked at.

A claim right at a few sizes may still be wrong at others when it depends on the sizes: it names
m, k or n, builds ``ones(2, 1)`` or ``ones_like(X)`` (a sum over a whole range contributes a
factor of the size), takes a ``mean`` (a factor 1/m), or writes a number that could stand for a
size (``2 * mean(dA1, axis=0)`` is right at m = 2 alone). Each such part raises the degree of the
claim's entries, as polynomials in the sizes (after clearing the divisions by sizes), by at most
one, so a claim with d such parts whose difference from the right answer vanishes at d + 1
distinct values of each size is taken to vanish at every size: the claim is judged at d + 1
triples of pairwise distinct m, k and n in all. The hidden widths are the network's own, given
with it, and are not varied. A claim with more than MAX_SIZE_PARTS such parts is refused: the
work to judge it is bounded.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...errors import ClaimSyntaxError
from ..layer import Sizes
from . import tree
from .shapes import scalar_value
from .tree import Node

__all__ = ["MAX_SIZE_PARTS", "extra_sizes", "refuse_zero_divisors", "size_parts"]

#: The most parts of a claim that may depend on the sizes (so the most extra size triples).
MAX_SIZE_PARTS = 6

Triple = tuple[int, int, int]


def _depends(node: Node) -> bool:
    match node:
        case tree.Size() | tree.OnesLike():
            return True
        case tree.Number(value=value):
            return abs(value) != 1 and value != 0
        case tree.Ones(rows=rows, cols=cols):
            return rows != 1 or cols != 1
        case tree.SumAxis(mean=mean):
            return mean
        case _:
            return False


def size_parts(expr: Node, text: str) -> int:
    """How many parts of the claim may depend on the sizes; ClaimSyntaxError when more than
    MAX_SIZE_PARTS do."""
    found = [node for _, node in tree.subtrees(expr) if _depends(node)]
    if len(found) > MAX_SIZE_PARTS:
        span = found[MAX_SIZE_PARTS].span
        raise ClaimSyntaxError(
            f"the claim has {len(found)} parts that depend on the sizes (sizes, numbers, ones, "
            f"means); at most {MAX_SIZE_PARTS} can be judged at every size",
            text,
            span.start,
        )
    return len(found)


def extra_sizes(parts: int, checked: Sequence[Triple], hidden: Sequence[int]) -> list[Triple]:
    """Further (m, k, n) so that, with ``checked``, each of m, k and n takes ``parts`` + 1
    distinct values: within a triple the three differ, and none is a hidden width."""
    if parts == 0:
        return []
    used = [{triple[axis] for triple in checked} for axis in range(3)]
    extra: list[Triple] = []
    while min(len(values) for values in used) < parts + 1:
        chosen: list[int] = []
        for axis in range(3):
            value = 2
            while value in used[axis] or value in chosen or value in hidden:
                value += 1
            chosen.append(value)
        triple = (chosen[0], chosen[1], chosen[2])
        for axis in range(3):
            used[axis].add(triple[axis])
        extra.append(triple)
    return extra


def refuse_zero_divisors(expr: Node, text: str, triples: Sequence[Triple]) -> None:
    """ClaimSyntaxError at a divisor that is 0 at one of the sizes the claim is checked at
    (``/ (m - 2)`` at m = 2): the claim has no value there, so it cannot be judged."""
    for _, node in tree.subtrees(expr):
        if not isinstance(node, tree.Div) or not tree.is_scalar(node.right):
            continue
        for m, k, n in triples:
            try:
                zero = scalar_value(node.right, Sizes(m, k, n)) == 0
            except ZeroDivisionError:
                zero = True
            if zero:
                raise ClaimSyntaxError(
                    f"division by zero at m = {m}, k = {k}, n = {n}", text, node.right.span.start
                )
