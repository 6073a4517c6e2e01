"""``matgrad check``: is a hand-derived gradient such as ``dW = Z.T @ G`` right, and if not, why?

A claim is evaluated on the layer's own symbols (evaluation.py) and compared entry by entry with
the elementwise chain rule of the layer A = ZW + 1_m b, or A = WX + b1ᵀ with samples as columns
(answers.py), at several sizes so that a
transposition slip cannot hide behind square shapes. A wrong claim gets the shapes up to the
first misfit, or the first differing entry and a counterexample in small integers, and a hint
from repairs.py. The verdicts are data (verdict.py); present/ prints them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from ...errors import ArgumentError, ClaimSyntaxError, InputError, SizeError
from ..arguments import claim_texts, flag
from ..checks import Check
from ..derive import validate_sizes
from ..layer import LAYERS, Layer, Samples, Sizes, positive_sizes, samples_convention
from ..losses import loss_named, validate_loss
from . import answers, tree
from .answers import ShapeFailure
from .conventions import recognised
from .cost import (
    CLAIM_OVERHEAD,
    MAX_DIGITS,
    CheckTooCostly,
    ClaimCost,
    Meter,
    amount,
    claim_cost,
    size_cost,
)
from .evaluation import evaluate
from .generality import (
    DRAWS,
    GRID_LIMIT,
    SIZE_LIMIT,
    UPSTREAM_LIMIT,
    first_general_failure,
    general_counterexample,
    general_sizes,
    size_dependence,
    upstream_work,
)
from .parser import DIALECTS, Dialect, check_notation, parse_claim
from .repairs import find_hint, hinted
from .shapes import shape_of
from .tree import LOSS_TARGETS, OUTPUT, UPSTREAM, Claim, Node, Target, names
from .verdict import (
    CheckReport,
    ClaimVerdict,
    Counterexample,
    EntryDifference,
    NumberMatrix,
    RefusedClaim,
)

#: Sizes checked when none are given: distinct, non-square triples first, so that a missing or
#: extra transpose changes a shape somewhere, and the square 2×2×2 case last.
DEFAULT_SIZES: tuple[Sizes, ...] = (Sizes(2, 3, 4), Sizes(4, 2, 3), Sizes(3, 4, 2), Sizes(2, 2, 2))
#: Largest m·k·n accepted by check: the layer's derivation there takes a few seconds.
CHECK_SIZE_LIMIT = 1000


def default_sizes(samples: Samples) -> tuple[Sizes, ...]:
    """DEFAULT_SIZES in the convention ``samples``."""
    return tuple(Sizes(s.m, s.k, s.n, samples) for s in DEFAULT_SIZES)


def _formula_operands(layer: Layer, target: Target) -> frozenset[str]:
    """The operands the right answer uses (the factors of its backward rule but the column of
    ones), for choosing what a counterexample shows."""
    rule = layer.rule(target)
    return frozenset(factor.matrix for factor in rule.factors) - {layer.role("ones").name}


# --- what check accepts --------------------------------------------------------------------


def _validated(sizes: Sizes) -> Sizes:
    """The sizes, refused when invalid or too large for a symbolic check of every claim (within
    CHECK_SIZE_LIMIT, the layer's symbolic limits hold too, so their message, which offers
    derive's --numeric, is never reached)."""
    given = positive_sizes(sizes.m, sizes.k, sizes.n, samples=sizes.samples)
    product = given.m * given.k * given.n
    if product > CHECK_SIZE_LIMIT:
        raise SizeError(
            f"m·k·n = {product} is too large for check (at most {CHECK_SIZE_LIMIT}); "
            "slips show at small sizes, and the default sizes are chosen to reveal them"
        )
    return validate_sizes(given.m, given.k, given.n, "sympy", given.samples)


def _parsed(
    text: str, loss: str = "generic", dialect: Dialect = "numpy", samples: Samples = "rows"
) -> Claim:
    """Parse one claim in the convention ``samples`` and refuse what check cannot evaluate under
    the loss: Y without targets, softmax(A) under another loss, a claim naming another loss."""
    claim = parse_claim(text, dialect, samples)
    check_notation(claim, loss)
    return claim


def _excerpt(text: str, width: int = 40) -> str:
    """A claim on one line, quoted, cut at ``width`` characters."""
    flat = " ".join(text.split())
    return f'"{flat if len(flat) <= width else flat[: width - 1] + "…"}"'


def _claim_cost(
    claim: Claim, sizes_list: Sequence[Sizes], loss: str, budget: int
) -> tuple[ClaimCost, tuple[Sizes, ...]]:
    """What checking ``claim`` may cost, at the sizes checked and at its general sizes (which
    it returns); CheckTooCostly when over ``budget``, when its numbers would grow too long to
    print, or when its dependence on the sizes needs too many general sizes."""
    expected = answers.expected_tree(claim.target, claim.samples)
    cost = claim_cost(claim.expr, expected, sizes_list, loss, hinted(claim.expr))
    _within(claim, cost, budget)
    general = _general_sizes(claim, loss)
    trials = [size_cost(claim.expr, expected, sizes, loss).trial for sizes in general]
    attempts = answers.COUNTEREXAMPLE_ATTEMPTS if loss in answers.POLYNOMIAL_LOSSES else 0
    cost = replace(cost, symbolic=cost.symbolic + DRAWS * sum(trials) + attempts * max(trials))
    _within(claim, cost, budget)
    return cost, general


def _within(claim: Claim, cost: ClaimCost, budget: int) -> None:
    """CheckTooCostly when ``cost`` is over ``budget``, or its numbers would grow too long."""
    if cost.digits > MAX_DIGITS:
        raise CheckTooCostly(
            f"the claim {_excerpt(claim.text)} has numbers that would grow to about "
            f"{cost.digits:,} digits, over the limit of {MAX_DIGITS:,}: use smaller numbers",
            claim.text,
        )
    if cost.operations > budget:
        sizes, terms, degree = cost.largest
        raise CheckTooCostly(
            f"the claim {_excerpt(claim.text)} would take about {amount(cost.operations)} "
            f"operations to check, over the budget of {budget:,}: at m={sizes.m}, k={sizes.k}, "
            f"n={sizes.n} its entries multiply out to up to {amount(terms)} terms of degree "
            f"{degree}; check it at smaller --m/--k/--n, or shorten it",
            claim.text,
        )


def _general_sizes(claim: Claim, loss: str) -> tuple[Sizes, ...]:
    """The general sizes of the claim (generality.py); CheckTooCostly when its dependence on
    the sizes would need more of them, or larger ones, than the limits, or ∂L/∂A of the loss
    would take too long to differentiate at them (UPSTREAM_LIMIT)."""
    expected = answers.expected_tree(claim.target, claim.samples)
    dependence = size_dependence(claim.expr, expected, loss, claim.samples)
    general = general_sizes(dependence, claim.samples)
    largest = max(max(sizes.m, sizes.k, sizes.n) for sizes in general)
    heavy = upstream_work(general, loss) > UPSTREAM_LIMIT
    if len(general) > GRID_LIMIT or largest > SIZE_LIMIT or heavy:
        degrees = ", ".join(
            f"{degree} in {size}" for degree, size in zip(dependence.degrees, "mkn", strict=True)
        )
        raise CheckTooCostly(
            f"the claim {_excerpt(claim.text)} may depend on the sizes through polynomials of "
            f"degree {degrees}, with up to {dependence.factors} factors a term: showing that it "
            f"holds at every size would take {len(general):,} sizes up to {largest} (at most "
            f"{GRID_LIMIT} sizes up to {SIZE_LIMIT}"
            + (", fewer under this loss" if heavy else "")
            + "); shorten it",
            claim.text,
        )
    return general


@dataclass(frozen=True)
class _Plan:
    """A claim read and weighed: its cost (None for a repeat, whose verdict is reused) and its
    general sizes."""

    claim: Claim
    cost: ClaimCost | None
    general: tuple[Sizes, ...]


def _refused(error: ClaimSyntaxError | CheckTooCostly, text: str, order: int) -> RefusedClaim:
    position = error.position if isinstance(error, ClaimSyntaxError) else None
    return RefusedClaim(order, text, error.message, position, error)


def _read(
    texts: Sequence[str], loss: str, dialect: Dialect, keep_going: bool, samples: Samples
) -> list[Claim | RefusedClaim]:
    """Every claim parsed; one that cannot be raises ClaimSyntaxError, or with ``keep_going``
    is refused on its own."""
    read: list[Claim | RefusedClaim] = []
    for order, text in enumerate(texts):
        try:
            read.append(_parsed(text, loss, dialect, samples))
        except ClaimSyntaxError as error:
            if not keep_going:
                raise
            read.append(_refused(error, text, order))
    return read


def _plans(
    texts: Sequence[str],
    sizes_list: Sequence[Sizes],
    loss: str,
    budget: int,
    dialect: Dialect,
    keep_going: bool,
) -> list[_Plan | RefusedClaim]:
    """Every claim read, then weighed, before any arithmetic. A claim that cannot be read or is
    over ``budget`` raises (ClaimSyntaxError, CheckTooCostly with that claim as ``source``), or
    with ``keep_going`` is refused on its own; claims over the budget together always raise."""
    read = _read(texts, loss, dialect, keep_going, sizes_list[0].samples)
    seen: dict[tuple[Target, Node], tuple[Sizes, ...]] = {}
    plans: list[_Plan | RefusedClaim] = []
    total = 0
    for order, claim in enumerate(read):
        if isinstance(claim, RefusedClaim):
            plans.append(claim)
            continue
        key = (claim.target, claim.expr)
        if key in seen:
            plans.append(_Plan(claim, None, seen[key]))
            total += CLAIM_OVERHEAD
        else:
            try:
                cost, general = _claim_cost(claim, sizes_list, loss, budget)
            except CheckTooCostly as error:
                if not keep_going:
                    raise
                plans.append(_refused(error, claim.text, order))
                continue
            seen[key] = general
            plans.append(_Plan(claim, cost, general))
            total += cost.operations
        if total > budget:
            part = max(1, budget * (order + 1) // total)
            raise CheckTooCostly(
                f"the {len(texts):,} claims would take more than the budget of {budget:,} "
                f"operations for one run (the first {order + 1:,} about {amount(total)}): check "
                f"them in parts of at most about {part:,} claims"
            )
    return plans


# --- counterexamples -----------------------------------------------------------------------


def _exact(matrix: Any) -> NumberMatrix:
    return tuple(
        tuple(Fraction(int(entry.p), int(entry.q)) for entry in matrix.row(i))
        for i in range(matrix.rows)
    )


def _shown(claim: Claim, loss: str) -> set[str]:
    """The operands a counterexample shows: those of the claim and of the right answer, and
    under a concrete loss Z, W, b (and Y), which G is computed from."""
    layer = LAYERS[claim.samples]
    shown = names(claim.expr) | _formula_operands(layer, claim.target)
    if loss != "generic":
        shown |= set(layer.variables(bias=True))
        if loss in answers.LOSSES_WITH_TARGETS:
            shown.add(LOSS_TARGETS)
    return shown


def _counterexample(
    claim: Claim, sizes: Sizes, loss: str = "generic", meter: Meter | None = None
) -> Counterexample | None:
    """The first deterministic integer draw on which the claim and the right answer disagree.

    None for the softmax loss, whose values at integers are not exact numbers, and when
    ``meter`` affords no further draw.
    """
    if loss not in answers.POLYNOMIAL_LOSSES:
        return None
    expected = answers.expected_tree(claim.target, sizes.samples)
    each = size_cost(claim.expr, expected, sizes, loss).trial
    shown = _shown(claim, loss)
    for attempt in range(answers.COUNTEREXAMPLE_ATTEMPTS):
        if meter is not None and not meter.affords(each):
            return None
        drawn = answers.trial(sizes, attempt, loss)
        claimed = evaluate(claim.expr, drawn.operands, sizes, meter=meter)
        correct = drawn.expected[claim.target]
        if claimed != correct:
            operands = tuple(
                (name, tuple(tuple(Fraction(v) for v in row) for row in drawn.values[name]))
                for name in (*answers.operand_order(sizes.layer), LOSS_TARGETS)
                if name in shown and name in drawn.values
            )
            return Counterexample(sizes, operands, _exact(claimed), _exact(correct))
    return None


# --- the first difference, in the loss's own terms -----------------------------------------

#: The condition under which the softmax's ∂L/∂A is σ − Y, under which its entries are shown.
ROWS_SUM_TO_ONE = "rows of Y that sum to 1"


def _shown_difference(
    claim: Claim, sizes: Sizes, loss: str, index: tuple[int, int]
) -> EntryDifference | None:
    """Under the squared error and the softmax, the entry ``index`` of the claim and of the right
    answer with A's entries as a_{i,j} and softmax(A)'s as σ_{i,j}, rather than multiplied out
    into exponentials of Σ z w + b: G is A − Y, and under the softmax σ − Y for rows of Y that sum
    to 1 (said in ``condition``), or (Σ_q y_{i,q})·σ − Y where the two sides agree on such rows.
    The right answer is its backward rule there, which the comparison just made verified."""
    definition = loss_named(loss)
    if loss == "generic" or getattr(definition, "constant_gradient", False):
        return None
    import sympy

    layer = answers.layer_at(sizes, loss)
    rows, cols = sizes.shape_of(OUTPUT)
    a = sympy.ImmutableMatrix(rows, cols, lambda i, j: sympy.Symbol(f"a_{i + 1}_{j + 1}"))
    sigma = sympy.ImmutableMatrix(rows, cols, lambda i, j: sympy.Symbol(f"sigma_{i + 1}_{j + 1}"))
    targets = layer.operands[LOSS_TARGETS]
    forms: list[tuple[Any, str | None]] = [(a - targets, None)]
    if not definition.polynomial:
        if sizes.samples == "columns":
            scaled = sigma * sympy.diag(*(sum(targets.col(i)) for i in range(cols)))
        else:
            scaled = sympy.diag(*(sum(targets.row(i)) for i in range(rows))) * sigma
        sum_to_one = ROWS_SUM_TO_ONE.replace("rows", sizes.samples)
        forms = [(sigma - targets, sum_to_one), (scaled - targets, None)]
    i, j = index[0] - 1, index[1] - 1
    expected = answers.expected_tree(claim.target, sizes.samples)
    for upstream, condition in forms:
        operands = {**layer.operands, UPSTREAM: upstream, OUTPUT: a}
        claimed = evaluate(claim.expr, operands, sizes, expand=False)[i, j]
        correct = evaluate(expected, operands, sizes, expand=False)[i, j]
        if sympy.expand(claimed - correct) != 0:
            return EntryDifference(index, str(claimed), str(correct), claimed, correct, condition)
    return None


# --- verdicts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    """What every claim of one run is judged with: the sizes, the loss, and the meter."""

    sizes_list: tuple[Sizes, ...]
    loss: str
    meter: Meter


def _verdict(
    claim: Claim,
    run: _Run,
    cost: ClaimCost,
    sizes: Sizes,
    failure: ShapeFailure | None = None,
    failed: Check | None = None,
) -> ClaimVerdict:
    """The verdict on a claim, reported at ``sizes``: its shapes there do not fit (``failure``),
    its values differ from the right answer (``failed``), or neither, and it is right. The hint
    and the counterexample are searched within their shares of the claim's ``cost``."""
    correct = failure is None and failed is None
    sizes_list, loss, meter = run.sizes_list, run.loss, run.meter
    hint = recognition = None
    if not correct:
        with meter.share(cost.hints):
            hint = find_hint(claim, sizes_list, failed, loss, meter)
        if hinted(claim.expr):
            with meter.share(cost.recognition):
                recognition = recognised(claim, sizes_list, loss, meter)
    counterexample = None
    if failed is not None:
        with meter.share(cost.counterexample):
            counterexample = _counterexample(claim, sizes, loss, meter)
    shape, steps = (
        (failure.claimed_shape, failure.steps) if failure else shape_of(claim.expr, sizes)
    )
    difference = None
    if failed is not None:
        first = failed.mismatches[0]
        difference = _shown_difference(claim, sizes, loss, first.index) or EntryDifference(
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
        counterexample=counterexample,
        hint=hint.message if hint else None,
        hint_kind=hint.kind if hint else None,
        correct_formula=answers.CORRECT_FORMULAS[sizes.samples][claim.target],
        loss=loss,
        notes=claim.notes,
        convention_kind=recognition.kind if recognition else None,
        convention=recognition.message if recognition else None,
    )


def _judge(claim: Claim, run: _Run, cost: ClaimCost, general: tuple[Sizes, ...]) -> ClaimVerdict:
    """Shapes first, at every size in the given order (non-square first, so that m, k and n can
    be told apart in the report); then values, smallest m·k·n first (the easiest to follow), the
    given order kept among equals; then, for a claim right so far, its shapes and values at its
    general sizes, which show that it is right at every size (generality.py)."""
    for sizes in run.sizes_list:
        failure = answers.shape_failure(claim.expr, claim.target, sizes)
        if failure is not None:
            return _verdict(claim, run, cost, sizes, failure=failure)
    for sizes in sorted(run.sizes_list, key=lambda sizes: sizes.m * sizes.k * sizes.n):
        compared = answers.symbolic_check(claim.expr, claim.target, sizes, 1, run.loss, run.meter)
        if not compared.holds:
            return _verdict(claim, run, cost, sizes, failed=compared)
    for sizes in general:
        failure = answers.shape_failure(claim.expr, claim.target, sizes)
        if failure is not None:
            verdict = _verdict(claim, run, cost, sizes, failure=failure)
            return replace(verdict, general_sizes=general)
    expected = answers.expected_tree(claim.target, claim.samples)
    failed_at = first_general_failure(claim.expr, expected, general, run.loss, run.meter)
    verdict = replace(_verdict(claim, run, cost, run.sizes_list[0]), general_sizes=general)
    if failed_at is None:
        return verdict
    example = None
    if run.loss in answers.POLYNOMIAL_LOSSES:
        with run.meter.share(cost.counterexample + cost.symbolic):
            example = general_counterexample(
                claim.expr, expected, failed_at, run.loss, _shown(claim, run.loss), run.meter
            )
    shape, steps = shape_of(claim.expr, failed_at)
    small = ", ".join(f"{s.m}×{s.k}×{s.n}" for s in run.sizes_list)
    return replace(
        verdict,
        correct=False,
        reason="values",
        reported_at=failed_at,
        expected_shape=failed_at.shape_of(claim.target),
        claimed_shape=shape,
        shape_steps=steps,
        counterexample=example,
        hint_kind="size_dependent",
        hint=(
            f"{tree.to_text(claim.expr)} equals {answers.GRADIENT_NAMES[claim.target]} at "
            f"m×k×n = {small} but not at m = {failed_at.m}, k = {failed_at.k}, "
            f"n = {failed_at.n}: it depends on the sizes (as ones(1, m) @ ones(m, 1) is [[m]]) "
            f"in a way {answers.GRADIENT_NAMES[claim.target]} does not"
        ),
    )


def check(
    claims: str | Sequence[str],
    *,
    sizes: Sizes | None = None,
    loss: str = "generic",
    dialect: Dialect = "numpy",
    keep_going: bool = False,
    samples: Samples | None = None,
) -> CheckReport:
    """Check each claim against the verified elementwise derivation.

    ``samples`` is the convention: ``rows`` (A = ZW + 1b, the default) or ``columns`` (A = WX +
    b1ᵀ); given sizes carry theirs (``Sizes(m, k, n, samples)``), and ``samples``, when given
    too, must agree. A claim may name the input Z or X: it is read in the convention checked
    (naming.py), and one naming both raises MixedNamingError (a ClaimSyntaxError). A wrong
    claim right with the other samples, or in numerator layout, says so (conventions.py).
    Without ``sizes`` the claims are checked at DEFAULT_SIZES, otherwise at exactly ``sizes``;
    a claim right there is compared at its general sizes too, which show that it is right at
    every size (generality.py).
    With a concrete ``loss`` (see matgrad_cli.core.losses), G in a claim is that loss's ∂L/∂A, Y its
    targets, and the right answer is L differentiated through the whole layer. Every claim is
    parsed before any is checked; the first that cannot be (a syntax error, an unknown name, Y
    without targets) raises ClaimSyntaxError whose ``source`` is that claim. Then every claim's
    cost is estimated (cost.py): one over the budget, or whose numbers would grow too long,
    raises CheckTooCostly whose ``source`` is that claim, and claims over the budget together
    raise it with no source, all before any arithmetic. Bad sizes or losses raise InputError
    (SizeError) and no claims at all InputError. ``dialect`` says how ``*`` between matrices is
    read: elementwise (``numpy``), or as the matrix product (``matlab``, ``math``). With
    ``keep_going``, a claim that cannot be parsed or is over the budget by itself is not raised
    but refused in the report (``CheckReport.refused``), and the others are judged.
    """
    texts = claim_texts(claims)
    if sizes is not None and not isinstance(sizes, Sizes):
        raise ArgumentError(f"sizes must be a Sizes(m, k, n) or None, got {sizes!r}")
    if not texts:
        raise InputError("no claims to check")
    if dialect not in DIALECTS:
        raise InputError(f"unknown dialect {dialect!r} (dialects: {', '.join(DIALECTS)})")
    keep_going = flag("keep_going", keep_going)
    convention = _convention(sizes, samples)
    sizes_list = default_sizes(convention) if sizes is None else (_validated(sizes),)
    for each in sizes_list:
        validate_loss(loss, each)
        limit = loss_named(loss).claims_limit
        if limit is not None and each.m * each.k * each.n > limit:
            raise SizeError(
                f"m·k·n = {each.m * each.k * each.n} is above the limit of {limit} "
                f"for checking claims under --loss {loss} (each hint is a full "
                "symbolic check); the default sizes stay within it"
            )
    return judge_claims(texts, sizes_list, loss, Meter(), dialect, keep_going)


def _convention(sizes: Sizes | None, samples: object) -> Samples:
    """The convention of the run: ``samples``, or that of the sizes; ArgumentError when it is
    not one, or when the two disagree."""
    given = None if samples is None else samples_convention(samples)
    if sizes is None:
        return given or "rows"
    if given is not None and given != sizes.samples:
        raise ArgumentError(
            f"samples={given!r} but the sizes are in the convention {sizes.samples!r}: give "
            f"Sizes(m, k, n, {given!r})"
        )
    return samples_convention(sizes.samples)


def judge_claims(
    texts: Sequence[str],
    sizes_list: tuple[Sizes, ...],
    loss: str,
    meter: Meter,
    dialect: Dialect = "numpy",
    keep_going: bool = False,
) -> CheckReport:
    """The verdicts on ``texts`` at valid sizes under a valid loss, spending at most the meter's
    budget: every claim is parsed, then its cost estimated, before any is checked; a claim
    repeated (the same tree) gets the verdict of its first occurrence. With ``keep_going`` a
    claim that cannot be read, or is over the budget by itself, is refused in the report and
    the others are judged."""
    plans = _plans(texts, sizes_list, loss, meter.budget, dialect, keep_going)
    run = _Run(sizes_list, loss, meter)
    verdicts: dict[tuple[Target, Node], ClaimVerdict] = {}
    report: list[ClaimVerdict] = []
    refused: list[RefusedClaim] = []
    for plan in plans:
        if isinstance(plan, RefusedClaim):
            refused.append(plan)
            continue
        claim, key = plan.claim, (plan.claim.target, plan.claim.expr)
        if plan.cost is None:
            report.append(replace(verdicts[key], claim=claim.text, notes=claim.notes))
            continue
        meter.charge(CLAIM_OVERHEAD)
        verdicts[key] = _judge(claim, run, plan.cost, plan.general)
        report.append(verdicts[key])
    return CheckReport(tuple(report), tuple(refused), samples=sizes_list[0].samples)
