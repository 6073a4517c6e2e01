"""``matgrad check``: is a hand-derived gradient such as ``dW = Z.T @ G`` right, and if not, why?

A claim is evaluated on the layer's own symbols (evaluation.py) and compared entry by entry with
the elementwise chain rule of the layer A = ZW + 1_m b (answers.py), at several sizes so that a
transposition slip cannot hide behind square shapes. A wrong claim gets the shapes up to the
first misfit, or the first differing entry and a counterexample in small integers, and a hint
from repairs.py. The verdicts are data (verdict.py); present/ prints them.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from ...errors import ArgumentError, ClaimSyntaxError, InputError, SizeError
from ..arguments import claim_texts
from ..checks import Check
from ..derive import validate_sizes
from ..layer import LAYER, Sizes
from ..losses import LOSSES, loss_named, validate_loss
from . import answers
from .answers import ShapeFailure
from .evaluation import evaluate
from .parser import parse_claim
from .repairs import find_hint
from .shapes import ShapeMismatch, shape_of
from .tree import LOSS_TARGETS, Claim, MatMul, Name, Node, SumAxis, Target, names, subtrees
from .verdict import CheckReport, ClaimVerdict, Counterexample, EntryDifference, NumberMatrix

#: Sizes checked when none are given: distinct, non-square triples first, so that a missing or
#: extra transpose changes a shape somewhere, and the square 2×2×2 case last.
DEFAULT_SIZES: tuple[Sizes, ...] = (Sizes(2, 3, 4), Sizes(4, 2, 3), Sizes(3, 4, 2), Sizes(2, 2, 2))
#: Largest m·k·n accepted by check: the symbolic comparison stays well under a second there.
CHECK_SIZE_LIMIT = 1000
#: Largest number of scalar multiplications a claim's products may need at one size.
EVALUATION_BUDGET = 1_000_000

#: The operands each right answer uses (the factors of its backward rule but the column of
#: ones), for choosing what a counterexample shows.
_FORMULA_OPERANDS: dict[Target, frozenset[str]] = {
    rule.variable: frozenset(factor.matrix for factor in rule.factors) - {LAYER.role("ones").name}
    for rule in LAYER.backward
}
_Y_MESSAGE = "Y, the targets, needs a loss that has them: --loss " + " or ".join(
    name for name, loss in LOSSES.items() if loss.has_targets
)


# --- what check accepts --------------------------------------------------------------------


def _validated(sizes: Sizes) -> Sizes:
    """The sizes, refused when invalid or too large for a symbolic check of every claim."""
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
    for _, sub in subtrees(node):
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
    has_targets = loss in answers.LOSSES_WITH_TARGETS
    for _, node in subtrees(claim.expr):
        if isinstance(node, Name) and node.name == LOSS_TARGETS and not has_targets:
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
    if loss not in answers.POLYNOMIAL_LOSSES:
        return None
    shown = names(claim.expr) | _FORMULA_OPERANDS[claim.target]
    if loss != "generic":
        # The right answer depends on Z, W, b (and Y) through L; G is computed from them.
        shown |= set(LAYER.variables(bias=True))
        if loss in answers.LOSSES_WITH_TARGETS:
            shown.add(LOSS_TARGETS)
    for attempt in range(answers.COUNTEREXAMPLE_ATTEMPTS):
        drawn = answers.trial(sizes, attempt, loss)
        claimed = evaluate(claim.expr, drawn.operands, sizes)
        correct = drawn.expected[claim.target]
        if claimed != correct:
            operands = tuple(
                (name, tuple(tuple(Fraction(v) for v in row) for row in drawn.values[name]))
                for name in (*answers.OPERAND_ORDER, LOSS_TARGETS)
                if name in shown and name in drawn.values
            )
            return Counterexample(sizes, operands, _exact(claimed), _exact(correct))
    return None


# --- verdicts ------------------------------------------------------------------------------


def _verdict(
    claim: Claim,
    sizes_list: tuple[Sizes, ...],
    loss: str,
    sizes: Sizes,
    failure: ShapeFailure | None = None,
    failed: Check | None = None,
) -> ClaimVerdict:
    """The verdict on a claim, reported at ``sizes``: its shapes there do not fit (``failure``),
    its values differ from the right answer (``failed``), or neither, and it is right."""
    correct = failure is None and failed is None
    hint = None if correct else find_hint(claim, sizes_list, failed, loss)
    shape, steps = (
        (failure.claimed_shape, failure.steps) if failure else shape_of(claim.expr, sizes)
    )
    difference = None
    if failed is not None:
        first = failed.mismatches[0]
        difference = EntryDifference(
            first.index,
            str(first.claimed),
            str(first.elementwise),
            first.claimed,
            first.elementwise,
        )
    return ClaimVerdict(
        claim=claim.text,
        target=claim.target,
        correct=correct,
        reason="shape" if failure is not None else "values" if failed is not None else "ok",
        sizes_checked=sizes_list,
        reported_at=sizes,
        expected_shape=sizes.shape_of(claim.target),
        claimed_shape=shape,
        shape_steps=steps,
        shape_message=failure.message if failure is not None else None,
        first_difference=difference,
        counterexample=_counterexample(claim, sizes, loss) if failed is not None else None,
        hint=hint.message if hint else None,
        hint_kind=hint.kind if hint else None,
        correct_formula=answers.CORRECT_FORMULAS[claim.target],
        loss=loss,
    )


def _judge(claim: Claim, sizes_list: tuple[Sizes, ...], loss: str = "generic") -> ClaimVerdict:
    """Shapes first, at every size in the given order (non-square first, so that m, k and n can
    be told apart in the report); then values, smallest m·k·n first (the easiest to follow), the
    given order kept among equals."""
    for sizes in sizes_list:
        failure = answers.shape_failure(claim.expr, claim.target, sizes)
        if failure is not None:
            return _verdict(claim, sizes_list, loss, sizes, failure=failure)
    for sizes in sorted(sizes_list, key=lambda sizes: sizes.m * sizes.k * sizes.n):
        compared = answers.symbolic_check(claim.expr, claim.target, sizes, 1, loss)
        if not compared.holds:
            return _verdict(claim, sizes_list, loss, sizes, failed=compared)
    return _verdict(claim, sizes_list, loss, sizes_list[0])


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
    texts = claim_texts(claims)
    if sizes is not None and not isinstance(sizes, Sizes):
        raise ArgumentError(f"sizes must be a Sizes(m, k, n) or None, got {sizes!r}")
    if not texts:
        raise InputError("no claims to check")
    sizes_list = DEFAULT_SIZES if sizes is None else (_validated(sizes),)
    for each in sizes_list:
        validate_loss(loss, each)
        limit = loss_named(loss).claims_limit
        if limit is not None and each.m * each.k * each.n > limit:
            raise SizeError(
                f"m·k·n = {each.m * each.k * each.n} is above the limit of {limit} "
                f"for checking claims under --loss {loss} (each hint is a full "
                "symbolic check); the default sizes stay within it"
            )
    parsed = [_parsed(text, sizes_list, loss) for text in texts]
    return CheckReport(tuple(_judge(claim, sizes_list, loss) for claim in parsed))
