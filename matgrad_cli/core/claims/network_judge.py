"""The judge of claims about a network: each claim's value, entry by entry, against the gradient
the network's two routes derived and verified (network_derive.py).

The claim is evaluated over the network's own symbols (network_evaluation.py) and compared with
the elementwise route's gradient by the network's exact equality test (NetworkEquality,
network_compare.py), which proves an equality or fails: a claim is correct only where every
entry was proved equal, at every size it is checked at. The sizes are m, k and n (the hidden
widths are the network's): by default two triples, all distinct from each other and from the
hidden widths, so that a transposed factor never fits by chance; or exactly those given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ...errors import ClaimSyntaxError, InputError
from ..engine import get_engine
from ..layer import Sizes
from ..network import Matrix, Network, NetworkSizes, network_sizes
from ..network_derive import NetworkDerivation, derive_network, network_description
from .meter import CheckTooCostly
from .network_context import NetworkContext
from .network_cost import refuse_costly, refuse_large_network
from .network_evaluation import evaluate_network_claim, network_shapes
from .network_generality import extra_sizes, refuse_zero_divisors, size_parts
from .network_hints import correct_formula, hint_for
from .network_names import NetworkNames
from .network_parser import NetworkClaim, parse_network_claim
from .network_verdict import NetworkCheckReport, NetworkVerdict
from .shapes import ShapeMismatch, ShapeStep, shape_of
from .spellings import DIALECTS, Dialect
from .tree import to_text
from .verdict import EntryDifference, RefusedClaim

__all__ = ["check_network", "network_sizes_checked"]

#: The sizes m, k, n are drawn from these, skipping the hidden widths.
_CANDIDATES = (2, 3, 4, 5, 6, 7, 8, 9, 10)


def network_sizes_checked(
    hidden: Sequence[int], sizes: tuple[int, int, int] | None
) -> tuple[tuple[int, int, int], ...]:
    """The (m, k, n) a claim is checked at: ``sizes`` alone when given; else two triples of
    distinct values that are not hidden widths, each dimension different in the second."""
    if sizes is not None:
        return (sizes,)
    free = [value for value in _CANDIDATES if value not in hidden]
    first = (free[0], free[1], free[2])
    return first, (free[1], free[2], free[0])


@dataclass(frozen=True)
class _Finding:
    """The claim at one size: its shape steps and, when it fails there, how."""

    steps: tuple[ShapeStep, ...]
    claimed_shape: tuple[int, int] | None
    message: str | None
    difference: EntryDifference | None
    value: Matrix | None


def judge_at(claim: NetworkClaim, context: NetworkContext) -> _Finding:
    """The claim evaluated at one network and compared with the right answer entry by entry."""
    network, engine = context.network, context.engine
    expected = network.shape_of(claim.target)
    try:
        value = evaluate_network_claim(claim.expr, network, engine, context.operands)
    except ShapeMismatch as mismatch:
        return _Finding(mismatch.steps, None, mismatch.message, None, None)
    shape = (len(value), len(value[0]))
    steps = _steps(claim, context)
    if shape != expected:
        message = (
            f"the claim is {shape[0]}×{shape[1]} but ∂L/∂{claim.target} is "
            f"{expected[0]}×{expected[1]}, the shape of {claim.target}"
        )
        return _Finding(steps, shape, message, None, value)
    right = context.right[claim.target]
    for i, (row, right_row) in enumerate(zip(value, right, strict=True)):
        for j, (entry, correct) in enumerate(zip(row, right_row, strict=True)):
            if not context.equality.equal(entry, correct):
                difference = EntryDifference(
                    (i + 1, j + 1),
                    str(engine.to_sympy(entry)),
                    str(engine.to_sympy(correct)),
                    entry,
                    correct,
                )
                return _Finding(steps, shape, None, difference, value)
    return _Finding(steps, shape, None, None, value)


def _fails(finding: _Finding) -> bool:
    return finding.message is not None or finding.difference is not None


def _steps(claim: NetworkClaim, context: NetworkContext) -> tuple[ShapeStep, ...]:
    network = context.network
    sizes = Sizes(network.sizes.m, network.sizes.k, network.sizes.n)
    shapes = network_shapes(network, tuple(name for name in context.operands if name != "G"))
    return shape_of(claim.expr, sizes, shapes, network=True)[1]


def _verdict(claim: NetworkClaim, contexts: Sequence[NetworkContext], base: int) -> NetworkVerdict:
    """The claim judged at each context in turn, up to the first where it fails; the first
    ``base`` are the sizes asked for, the others those a size-dependent claim is checked at too."""
    formula = correct_formula(claim.target, contexts[0].network)
    judged: list[tuple[NetworkContext, _Finding]] = []
    for context in contexts:
        judged.append((context, judge_at(claim, context)))
        if _fails(judged[-1][1]):
            break
    checked = tuple(context.network.sizes for context, _ in judged)
    # where the claim failed, or the first size when it is right everywhere
    context, finding = judged[-1] if _fails(judged[-1][1]) else judged[0]
    wrong = _fails(finding)
    hint_kind, hint = hint_for(claim, context, finding.value) if wrong else (None, None)
    if wrong and len(judged) > base:
        hint_kind, hint = "size_dependent", _size_hint(claim, checked[:base], checked[-1])
    return NetworkVerdict(
        claim=claim.text,
        target=claim.target,
        correct=not wrong,
        reason="shape" if finding.message is not None else "values" if wrong else "ok",
        sizes_checked=checked,
        reported_at=context.network.sizes,
        expected_shape=context.network.shape_of(claim.target),
        claimed_shape=finding.claimed_shape,
        shape_steps=finding.steps,
        shape_message=finding.message,
        first_difference=finding.difference,
        hint=hint,
        hint_kind=hint_kind,
        correct_formula=f"d{claim.target} = {formula}",
        notes=claim.notes,
    )


def _size_hint(claim: NetworkClaim, held: Sequence[NetworkSizes], failed: NetworkSizes) -> str:
    where = ", ".join(f"{s.m}×{s.k}×{s.n}" for s in held)
    return (
        f"{to_text(claim.expr)} equals ∂L/∂{claim.target} at m×k×n = {where} but not at "
        f"m = {failed.m}, k = {failed.k}, n = {failed.n}: it depends on the sizes (as "
        f"ones(1, m) @ ones(m, 1) is [[m]]) in a way ∂L/∂{claim.target} does not"
    )


def check_network(
    claims: str | Sequence[str],
    *,
    hidden: object = (4,),
    activation: str = "generic",
    output_activation: str = "identity",
    slope: object = None,
    bias: bool = True,
    sizes: tuple[int, int, int] | None = None,
    dialect: Dialect = "numpy",
    keep_going: bool = False,
) -> NetworkCheckReport:
    """Check each claim about the network X → A1 → H1 → … (``hidden`` its hidden widths, an
    int for one, ``()`` for a single layer with an output activation) against its verified
    gradients. Every argument is checked, every claim parsed and weighed before any is judged:
    ClaimSyntaxError for a claim that cannot be read, CheckTooCostly for work over the budget
    (with ``keep_going`` such a claim is refused in the report and the others judged),
    InputError or SizeError for the network. ``sizes`` is (m, k, n), else two triples."""
    texts = [claims] if isinstance(claims, str) else list(claims)
    if not texts or not all(isinstance(text, str) for text in texts):
        raise InputError("give the claims as a string or a sequence of strings")
    if dialect not in DIALECTS:
        raise InputError(f"unknown dialect {dialect!r} (choose from {', '.join(DIALECTS)})")
    networks = _networks(hidden, activation, output_activation, slope, bias, sizes)
    refuse_large_network(networks)
    parsed, refused = _parsed(texts, networks, dialect, keep_going)
    judged = [claim for claim in parsed if claim is not None]
    distinct = {claim.text: claim for claim in judged}.values()
    parts = {claim.text: size_parts(claim.expr, claim.text) for claim in distinct}
    triples = [(s.m, s.k, s.n) for s in (network.sizes for network in networks)]
    extra = extra_sizes(max(parts.values(), default=0), triples, networks[0].sizes.hidden)
    every = networks + [_resized(networks[0], triple) for triple in extra]
    refuse_large_network(every)
    for claim in distinct:
        wanted = len(networks) + len(extra_sizes(parts[claim.text], triples, every[0].sizes.hidden))
        refuse_costly([(claim.text, claim.expr, claim.target)], every[:wanted])
    if not judged:
        return NetworkCheckReport(networks[0], (), tuple(refused))
    contexts: list[NetworkContext] = []
    memo: dict[str, NetworkVerdict] = {}
    verdicts = []
    for claim in judged:
        if claim.text not in memo:
            wanted = len(extra_sizes(parts[claim.text], triples, every[0].sizes.hidden))
            for network in every[len(contexts) : len(networks) + wanted]:
                contexts.append(NetworkContext.of(_derived(network)))
            chosen = contexts[: len(networks) + wanted]
            memo[claim.text] = _verdict(claim, chosen, len(networks))
        verdicts.append(memo[claim.text])
    return NetworkCheckReport(networks[0], tuple(verdicts), tuple(refused))


def _networks(
    hidden: object,
    activation: str,
    output_activation: str,
    slope: object,
    bias: bool,
    sizes: tuple[int, int, int] | None,
) -> list[Network]:
    """The network at each size triple it is checked at, every argument checked first."""
    widths = (hidden,) if isinstance(hidden, int) and not isinstance(hidden, bool) else hidden
    first = network_description(
        2, 2, widths, 2, activation=activation, output_activation=output_activation, bias=bias,
        slope=slope,
    )  # fmt: skip
    return [_resized(first, triple) for triple in network_sizes_checked(first.sizes.hidden, sizes)]


def _resized(network: Network, triple: tuple[int, int, int]) -> Network:
    m, k, n = triple
    return replace(
        network, sizes=network_sizes(m, k, network.sizes.hidden, n, get_engine(None).name)
    )


def _parsed(
    texts: list[str], networks: list[Network], dialect: Dialect, keep_going: bool
) -> tuple[list[NetworkClaim | None], list[RefusedClaim]]:
    """Every claim parsed and weighed; with ``keep_going`` one that cannot be is refused (None
    in its place), else its error raised."""
    names = NetworkNames.of(networks[0])
    triples = [(s.m, s.k, s.n) for s in (network.sizes for network in networks)]
    parsed: list[NetworkClaim | None] = []
    refused: list[RefusedClaim] = []
    for order, text in enumerate(texts):
        try:
            claim = parse_network_claim(text, names, dialect)
            size_parts(claim.expr, text)
            refuse_zero_divisors(claim.expr, text, triples)
            refuse_costly([(text, claim.expr, claim.target)], networks)
        except (ClaimSyntaxError, CheckTooCostly) as error:
            if not keep_going:
                raise
            position = error.position if isinstance(error, ClaimSyntaxError) else None
            refused.append(RefusedClaim(order, text, error.message, position, error))
            parsed.append(None)
            continue
        parsed.append(claim)
    return parsed, refused


def _derived(network: Network) -> NetworkDerivation:
    sizes = network.sizes
    return derive_network(
        sizes.m,
        sizes.k,
        sizes.hidden,
        sizes.n,
        activation=network.activation,  # type: ignore[arg-type]
        output_activation=network.output_activation,  # type: ignore[arg-type]
        bias=network.bias,
    )
