"""Exercise sheets: random small layers, a problem sheet and a solution sheet.

Every answer on the solution sheet comes from a verified derivation (``derive.derive``); an
answer whose check failed is never printed, the whole sheet is refused instead. The same seed
gives byte-identical sheets: the problems come from ``random.Random(seed)`` alone and nothing
time-dependent is written. ``write_sheets`` writes every file or none.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from ..errors import InputError, MatgradError
from .arguments import integer
from .checks import Check
from .derive import derive as derive_derivation
from .layer import LAYERS, Index, Samples, Sizes, Variable, samples_convention
from .losses import LOSSES, ConcreteLoss, concrete_loss
from .model import Derivation, LayerDerivation

#: The number of problems a sheet may have.
MAX_COUNT = 50

#: Seeds are the same range as ``matgrad derive --seed``.
MAX_SEED = 2**32 - 1

#: Each of m, k and n is drawn from this range: small enough to work out by hand.
SIZES = range(1, 5)

#: The draw behind SIZES: a size of 1 (a row or column vector) is the rarest, 4 (long sums)
#: rarer than 2 and 3.
_SIZE_DRAW = (1, 2, 2, 2, 3, 3, 3, 4, 4)

#: The concrete losses a problem may state (matgrad_cli.core.losses); the others leave L generic.
CONCRETE_LOSSES = tuple(name for name, loss in LOSSES.items() if isinstance(loss, ConcreteLoss))

#: About one problem in this many states a concrete loss.
CONCRETE_EVERY = 3

#: A problem whose number of columns is not among the ``exercise_columns`` of the loss it drew
#: (such as a softmax row too long to work with by hand) gets this loss instead.
FALLBACK_LOSS = "squared-error"

T = TypeVar("T")


class UnverifiedSolutionError(MatgradError):
    """A solution whose derivation did not verify: the solution sheet is refused (exit 1, as
    for any failed verification, SPEC section 4)."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One exercise: a layer at explicit sizes (in their convention) and the gradient asked for,
    the single entry at the 1-based ``entry`` of ∂L/∂X ((1, j) for b_j, or (j, 1) with samples as
    columns) or, when None, the whole matrix form. ``loss`` is ``generic`` (the answer in terms of
    ∂L/∂A) or one of CONCRETE_LOSSES, stated on the sheet, whose ∂L/∂A is then part of the
    answer."""

    number: int
    sizes: Sizes
    bias: bool
    target: Variable
    entry: Index | None
    loss: str = "generic"

    @property
    def shape(self) -> tuple[int, int]:
        """The shape of the gradient asked for: the shape of the target."""
        return self.sizes.shape_of(self.target)


@dataclass(frozen=True)
class Solution:
    """A problem with the verified derivation that answers it and the checks the answer rests on,
    all holding: the target's matrix identity, with the bias that it leaves ∂L/∂Z and ∂L/∂W
    unchanged, and with a concrete loss the identity with L differentiated through the layer."""

    problem: Problem
    derivation: Derivation
    layer: LayerDerivation
    checks: tuple[Check, ...]


def parse_seed(text: str) -> int:
    """A --seed option as an integer from 0 to MAX_SEED, or an InputError."""
    cleaned = text.strip()
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 10:
        raise InputError(f"seed must be an integer from 0 to {MAX_SEED}, got {text!r}")
    return validate_seed(int(cleaned))


def parse_count(text: str) -> int:
    """A --count option as an integer from 1 to MAX_COUNT, or an InputError."""
    cleaned = text.strip()
    if not cleaned.isascii() or not cleaned.removeprefix("-").isdigit() or len(cleaned) > 10:
        raise InputError(f"count must be an integer from 1 to {MAX_COUNT}, got {text!r}")
    return validate_count(int(cleaned))


def _in_range(value: object, name: str, low: int, high: int) -> int:
    """``value`` if it is an integer from ``low`` to ``high``, else an InputError."""
    number = integer(value)  # a NumPy integer too
    if number is None or not low <= number <= high:
        raise InputError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return number


def validate_seed(seed: object) -> int:
    """``seed`` if it is an integer from 0 to MAX_SEED, else an InputError."""
    return _in_range(seed, "seed", 0, MAX_SEED)


def validate_count(count: object) -> int:
    """``count`` if it is an integer from 1 to MAX_COUNT, else an InputError."""
    return _in_range(count, "count", 1, MAX_COUNT)


def _balanced(rng: random.Random, choices: Sequence[T], count: int) -> list[T]:
    """``count`` picks that use every choice equally often (to within one), in random order."""
    picks: list[T] = []
    while len(picks) < count:
        batch = list(choices)
        rng.shuffle(batch)
        picks.extend(batch)
    return picks[:count]


def _draw_sizes(rng: random.Random, target: Variable, samples: Samples) -> Sizes:
    """Sizes from SIZES, not all equal (so some matrix is not square), at most one of them 1,
    and at least two terms in each chain-rule sum of the target (else the answer is a copy)."""
    while True:
        m, k, n = (rng.choice(_SIZE_DRAW) for _ in range(3))
        sizes = Sizes(m, k, n, samples)
        # The terms of the chain-rule sum of one entry: n for Z (or X), m for W and b.
        terms = sizes.layer.rule(target).inner_size(sizes)
        if not m == k == n and (m, k, n).count(1) <= 1 and terms >= 2:
            return sizes


def _draw_entry(rng: random.Random, shape: tuple[int, int]) -> Index:
    """A 1-based entry of a matrix of ``shape``, off the diagonal when there is one: those are
    the entries where a transposed index shows (the notes swapped w_{1,2} and w_{2,1})."""
    rows, cols = shape
    entries = [(i, j) for i in range(1, rows + 1) for j in range(1, cols + 1)]
    off_diagonal = [(i, j) for i, j in entries if i != j]
    return rng.choice(off_diagonal if rows > 1 and cols > 1 else entries)


def make_problems(
    seed: int, count: int = 5, bias: bool = False, samples: str = "rows"
) -> tuple[Problem, ...]:
    """``count`` problems drawn from ``random.Random(seed)``: the same seed, the same problems.

    Z and W (and b, every layer then A = ZW + 1_m b) are targets equally often, and about half the
    problems ask for one entry, the others for the whole matrix form. About a third (none of a
    one-problem sheet) state a concrete loss, each equally often (FALLBACK_LOSS where its columns
    do not fit); they are drawn last, so a seed's sizes, targets and entries do not depend on them.
    With ``samples="columns"`` the layers are A = WX (+ b1_mᵀ), X of size k×m: the same draw,
    the same sizes and the same kinds of question, in the other convention.
    """
    count = validate_count(count)
    convention = samples_convention(samples)
    rng = random.Random(validate_seed(seed))
    targets = _balanced(rng, LAYERS[convention].variables(bias), count)
    single_entries = _balanced(rng, (True, False), count)
    problems = []
    for number, (target, single_entry) in enumerate(zip(targets, single_entries, strict=True), 1):
        sizes = _draw_sizes(rng, target, convention)
        entry = _draw_entry(rng, sizes.shape_of(target)) if single_entry else None
        problems.append(Problem(number, sizes, bias, target, entry))
    concrete = sorted(rng.sample(range(count), round(count / CONCRETE_EVERY)))
    for place, loss in zip(concrete, _balanced(rng, CONCRETE_LOSSES, len(concrete)), strict=True):
        problem = problems[place]
        columns = concrete_loss(loss, convention).exercise_columns
        if columns is not None and problem.sizes.n not in columns:
            loss = FALLBACK_LOSS
        problems[place] = replace(problem, loss=loss)
    return tuple(problems)


def solve(problem: Problem, derivation: Derivation) -> Solution:
    """The solution of ``problem`` from ``derivation``, or UnverifiedSolutionError when the
    derivation, or the check the answer rests on, did not verify."""
    layer = derivation.biased if problem.bias else derivation.plain
    sizes = problem.sizes
    where = f"problem {problem.number} (m={sizes.m}, k={sizes.k}, n={sizes.n})"
    if layer is None or derivation.sizes != sizes:
        raise UnverifiedSolutionError(f"refusing to write the solutions: {where} was not derived")
    if derivation.loss_name != problem.loss:
        raise UnverifiedSolutionError(
            f"refusing to write the solutions: {where} was not derived with its loss"
        )
    checks = [check for check in layer.checks if check.variable == problem.target]
    if problem.bias:  # that the bias leaves ∂L/∂Z and ∂L/∂W unchanged (none for b)
        checks += [c for c in derivation.extra_checks if c.variable == problem.target]
    if derivation.loss is not None:
        checks += [c for c in derivation.loss.checks if c.variable == problem.target]
    failed = [check.identity for check in checks if not check.holds]
    if derivation.loss is not None and not derivation.loss.closed_form_holds:
        failed.insert(0, "the closed form of ∂L/∂A")
    if not checks or failed or not derivation.verified:
        failing = failed or [check.identity for check in derivation.checks if not check.holds]
        listed = "; ".join(failing) or "no check of the answer"
        raise UnverifiedSolutionError(
            f"refusing to write the solutions: the derivation of {where} did not verify: {listed}"
        )
    return Solution(problem, derivation, layer, tuple(checks))


def solve_all(
    problems: Sequence[Problem], derive: Callable[..., Derivation] = derive_derivation
) -> tuple[Solution, ...]:
    """Every problem derived (each layer once, by ``derive(m, k, n, bias=…, loss=…, samples=…)``,
    which a test may replace) and solved; UnverifiedSolutionError otherwise."""
    derivations: dict[tuple[Sizes, bool, str], Derivation] = {}
    solutions = []
    for problem in problems:
        key = (problem.sizes, problem.bias, problem.loss)
        if key not in derivations:
            sizes = problem.sizes
            derivations[key] = derive(
                sizes.m,
                sizes.k,
                sizes.n,
                bias=problem.bias,
                loss=problem.loss,
                samples=sizes.samples,
            )
        solutions.append(solve(problem, derivations[key]))
    return tuple(solutions)
