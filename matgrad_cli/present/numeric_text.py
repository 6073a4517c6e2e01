"""The numeric check as plain text for a terminal or a log (its JSON is in json.py)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

from ..core.layer import Layer, LayerMatrix
from ..core.losses import concrete_loss
from ..core.numeric import NumericCheck, NumericResult
from .notation import dimensions, forward_text

_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
#: The bias term as the one-line summaries write it: 1_m b, or b 1_mᵀ with samples as columns.
_BIAS = "{ones}_{rows} {bias}"
_BIAS_FIRST = "{bias} {ones}_{rows}ᵀ"


def scientific(value: float, latex: bool = False) -> str:
    """A positive figure in two significant digits: ``1.9·10⁻⁸``, or ``1.9 \\cdot 10^{-8}``."""
    mantissa, exponent = f"{value:.1e}".split("e")
    power = int(exponent)
    if latex:
        return f"{mantissa} \\cdot 10^{{{power}}}"
    return f"{mantissa}·10{str(power).translate(_SUPERSCRIPTS)}"


def within(check: NumericCheck, latex: bool = False) -> str:
    """How closely a check that holds was shown: exactly, or to within its bound (in inline
    maths for a document)."""
    if check.bound == 0:
        return "exactly"
    figure = scientific(check.bound, latex)
    return f"to within ${figure}$" if latex else f"to within {figure}"


def layer_line(result: NumericResult) -> str:
    """The layer at its sizes: ``Layer A = ZW + 1_m b with m=2, k=3, n=4``; with samples as
    columns the convention is named as well."""
    sizes, layer = result.sizes, result.sizes.layer
    forward = forward_text(result.bias, _BIAS, layer, _BIAS_FIRST)
    convention = " (samples as columns)" if layer.samples == "columns" else ""
    return f"Layer {forward}{convention} with m={sizes.m}, k={sizes.k}, n={sizes.n}"


def part_name(matrix: LayerMatrix) -> str:
    """What a directional derivative is split by: L(X + V) − L(X) is a sum of parts, one per
    sample for the input (row i of Z, column i of X) and one per output for W (column j, or row
    j) and b (entry j), each depending on its own part of V."""
    if matrix.vector:
        return "entry"
    letter = "i" if matrix.role == "input" else "j"
    return "row" if matrix.indices.index(letter) == 0 else "column"


def _check_lines(check: NumericCheck, direction_range: int, layer: Layer) -> Iterator[str]:
    """One identity: its verdict, what was compared, and the first wrong entries."""
    shape = dimensions(check.shape)
    yield f"{check.identity}  ({shape}): {'holds' if check.holds else 'FAILS'}"
    if check.claimed_shape != check.shape:
        yield (
            f"  the matrix form is {dimensions(check.claimed_shape)}, but ∂L/∂{check.variable} "
            f"is {shape}"
        )
        return
    which = "every entry" if check.every_entry else "a seeded random sample"
    name = check.variable
    yield (
        f"  {check.entries_by_difference:,} of {check.entries:,} entries ({which}) "
        f"compared with one-entry difference quotients L({name} + E) − L({name})"
    )
    if check.directions:
        # Row i of A depends on row i of Z alone, column j on column j of W and on b_j.
        part = part_name(layer.matrix(name))
        outcome = (
            "all equal"
            if not check.failed_directions
            else f"{check.failed_directions} of {check.directions} differ"
        )
        yield (
            f"  {check.directions} random directions V (entries ±1..±{direction_range:,}): "
            f"L({name} + V) − L({name}) = ⟨∂L/∂{name}, V⟩ compared {part} by {part}: {outcome}"
        )
    if check.holds and not check.every_entry:
        yield (
            f"  a matrix that differs at this draw passes with probability at most "
            f"{check.escape_probability:.1e}; a single differing entry cannot pass"
        )
    if not check.holds:
        yield from _mismatch_lines(check, "" if check.every_entry else "at least ")


def _mismatch_lines(check: NumericCheck, at_least: str = "") -> Iterator[str]:
    """How many entries are wrong (``at_least`` when not all were compared), and the first."""
    noun = "entry" if check.mismatch_count == 1 else "entries"
    yield f"  {at_least}{check.mismatch_count:,} wrong {noun}; first:"
    for mismatch in check.mismatches:
        row, col = mismatch.index
        yield (
            f"    ({row},{col}): elementwise {mismatch.elementwise}, matrix form {mismatch.claimed}"
        )


def _wrapped(line: str, width: int) -> list[str]:
    """A line folded to ``width`` columns, continuation lines indented two more spaces."""
    if len(line) <= width:
        return [line]
    indent = " " * (len(line) - len(line.lstrip()))
    return textwrap.wrap(line, width, subsequent_indent=indent + "  ", break_on_hyphens=False)


def render_numeric_text(result: NumericResult, width: int = 80, color: bool = False) -> str:
    """The result as plain text for a terminal or a log, folded to ``width`` columns; it is
    plain on a terminal too (``color`` is taken, like every text view's, and not used)."""
    del color
    lines = [folded for line in _numeric_lines(result) for folded in _wrapped(line, width)]
    return "\n".join(lines) + "\n"


def _numeric_lines(result: NumericResult) -> list[str]:
    """What was checked, and the verdict, one logical line each."""
    if result.closed_form is not None:
        return _concrete_lines(result, result.closed_form)
    bound, layer = result.entry_range, result.sizes.layer
    upstream = layer.role("upstream")
    names = ", ".join(layer.variables(result.bias)) + f" and {upstream.name} = {upstream.text}"
    failed = sum(not check.holds for check in result.checks)
    verdict = (
        "Every identity held at this draw. This is a numeric check at random integer values, not "
        "a symbolic proof."
        if result.verified
        else f"NOT verified: {failed} of {len(result.checks)} identities fail at this draw "
        "(numeric check, not a symbolic proof)."
    )
    return [
        f"matgrad: {result.method}",
        f"{layer_line(result)}; {names} drawn from −{bound}..{bound} (seed {result.seed}); "
        "loss L = Σ G_{p,q}·a_{p,q}, so ∂L/∂A = G.",
        "",
        *(
            line
            for check in result.checks
            for line in _check_lines(check, result.direction_range, layer)
        ),
        "",
        "Gradients are in denominator layout: ∂L/∂X has the shape of X. A formula that is wrong "
        "in general could still agree at one particular draw (for a single entry, with "
        f"probability at most 2/{2 * bound + 1}, by Schwartz–Zippel); another "
        "--seed repeats the check with an independent draw.",
        "",
        verdict,
    ]


#: How the targets were drawn, after the layer's matrices (NumericResult.targets); ``{sample}`` is
#: what a sample is, a row of Y or (samples as columns) a column.
_TARGETS = {
    "": "",
    "integers": "; Y drawn from −{bound}..{bound}",
    "one-hot": "; Y one-hot (one 1 per {sample} at a random class, so every {sample} sums to 1)",
}


def sample_name(layer: Layer) -> str:
    """What one sample is in a matrix of the layer's outputs: a row, or a column."""
    return "row" if layer.samples == "rows" else "column"


def _concrete_check_lines(check: NumericCheck, compared: str) -> Iterator[str]:
    """One identity under a concrete loss: its verdict, what was compared, its wrong entries."""
    shape = dimensions(check.shape)
    verdict = f"holds {within(check)}" if check.holds else "FAILS"
    yield f"{check.identity}  ({shape}): {verdict}"
    if check.claimed_shape != check.shape:
        yield f"  the matrix form is {dimensions(check.claimed_shape)}, but it should be {shape}"
        return
    yield f"  all {check.entries:,} entries {compared}"
    if not check.holds:
        yield from _mismatch_lines(check)


def _concrete_lines(result: NumericResult, closed_form: NumericCheck) -> list[str]:
    """A concrete loss: the closed form of ∂L/∂A, then each identity, and how it was done."""
    bound, layer = result.entry_range, result.sizes.layer
    loss = concrete_loss(result.loss, layer.samples)
    drawn = ", ".join(layer.variables(result.bias))
    targets = _TARGETS[result.targets].format(bound=bound, sample=sample_name(layer))
    failed = sum(not check.holds for check in (closed_form, *result.checks))
    how = (
        "Every figure is an integer, computed exactly."
        if result.exact
        else "exp and log are enclosed in intervals (mpmath), every other operation is rounded "
        "outward, and the sums are added exactly on a grid of "
        f"2{str(-result.grid_bits).translate(_SUPERSCRIPTS)}. An entry holds when the "
        "enclosures of its two sides overlap; the two sides' true values then differ by at most "
        "the bound stated, computed from the enclosures' widths, and enclosures that do not "
        "overlap prove the rule wrong at this draw."
    )
    verdict = (
        f"Every identity held at this draw, {within(result_check(result))}. This is a numeric "
        "check at random integer values, not a symbolic proof."
        if result.verified
        else f"NOT verified: {failed} of {len(result.checks) + 1} comparisons fail at this draw "
        "(numeric check, not a symbolic proof)."
    )
    return [
        f"matgrad: {result.method}",
        f"{layer_line(result)}; {drawn} drawn from −{bound}..{bound} (seed {result.seed})"
        f"{targets}; {loss.text}.",
        "",
        *_concrete_check_lines(
            closed_form, "of ∂L/∂A, by dual numbers from L's definition, against the closed form"
        ),
        *(
            line
            for check in result.checks
            for line in _concrete_check_lines(
                check,
                f"compared with their chain-rule sums Σ ∂L/∂a_(p,q)·∂a_(p,q)/∂{check.variable}",
            )
        ),
        "",
        "∂L/∂A is found by forward-mode differentiation (dual numbers) of L's definition, the "
        "partials ∂a_(p,q)/∂x from forward passes, and each ∂L/∂x as the chain-rule sum over the "
        "entries of A that x feeds; the matrix forms are evaluated at the closed form of ∂L/∂A. "
        f"{how} Gradients are in denominator layout: ∂L/∂X has the shape of X. A formula that is "
        "wrong in general could still agree at one particular draw; another --seed repeats the "
        "check with an independent draw.",
        "",
        verdict,
    ]


def result_check(result: NumericResult) -> NumericCheck:
    """The comparison with the widest bound, which the verdict states."""
    checks: list[NumericCheck] = [*result.checks]
    if result.closed_form is not None:
        checks.append(result.closed_form)
    return max(checks, key=lambda check: check.bound)
