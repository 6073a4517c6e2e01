"""The numeric check as plain text for a terminal or a log (its JSON is in json.py)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

from ..core.layer import LAYER
from ..core.numeric import NumericCheck, NumericResult
from .notation import dimensions


def _check_lines(check: NumericCheck, direction_range: int) -> Iterator[str]:
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
        matrix = LAYER.matrix(name)
        part = "row" if matrix.role == "input" else "entry" if matrix.rows == "1" else "column"
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
        at_least = "" if check.every_entry else "at least "
        noun = "entry" if check.mismatch_count == 1 else "entries"
        yield f"  {at_least}{check.mismatch_count:,} wrong {noun}; first:"
        for mismatch in check.mismatches:
            row, col = mismatch.index
            yield (
                f"    ({row},{col}): elementwise {mismatch.elementwise}, "
                f"matrix form {mismatch.claimed}"
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
    sizes, bound = result.sizes, result.entry_range
    upstream = LAYER.role("upstream")
    names = ", ".join(LAYER.variables(result.bias)) + f" and {upstream.name} = {upstream.text}"
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
        f"Layer {LAYER.forward_text(result.bias)} with m={sizes.m}, k={sizes.k}, n={sizes.n}; "
        f"{names} drawn from −{bound}..{bound} (seed {result.seed}); "
        "loss L = Σ G_{p,q}·a_{p,q}, so ∂L/∂A = G.",
        "",
        *(line for check in result.checks for line in _check_lines(check, result.direction_range)),
        "",
        "Gradients are in denominator layout: ∂L/∂X has the shape of X. A formula that is wrong "
        "in general could still agree at one particular draw (for a single entry, with "
        f"probability at most 2/{2 * bound + 1}, by Schwartz–Zippel); another "
        "--seed repeats the check with an independent draw.",
        "",
        verdict,
    ]
