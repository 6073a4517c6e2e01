"""The numeric check as plain text for a terminal or a log (its JSON is in json.py)."""

from __future__ import annotations

import textwrap

from ..core.numeric import NumericCheck, NumericResult
from .notation import dimensions


def _count(value: int) -> str:
    return f"{value:,}"


def _check_lines(check: NumericCheck, direction_range: int) -> list[str]:
    shape = dimensions(check.shape)
    verdict = "holds" if check.holds else "FAILS"
    lines = [f"{check.identity}  ({shape}): {verdict}"]
    if check.claimed_shape != check.shape:
        lines.append(
            f"  the matrix form is {dimensions(check.claimed_shape)}, but ∂L/∂{check.variable} "
            f"is {shape}"
        )
        return lines
    which = "every entry" if check.every_entry else "a seeded random sample"
    name = check.variable
    lines.append(
        f"  {_count(check.entries_by_difference)} of {_count(check.entries)} entries ({which}) "
        f"compared with one-entry difference quotients L({name} + E) − L({name})"
    )
    if check.directions:
        part = {"Z": "row", "W": "column", "b": "entry"}[name]
        outcome = (
            "all equal"
            if not check.failed_directions
            else f"{check.failed_directions} of {check.directions} differ"
        )
        lines.append(
            f"  {check.directions} random directions V (entries ±1..±{_count(direction_range)}): "
            f"L({name} + V) − L({name}) = ⟨∂L/∂{name}, V⟩ compared {part} by {part}: {outcome}"
        )
    if check.holds and not check.every_entry:
        lines.append(
            f"  a matrix that differs at this draw passes with probability at most "
            f"{check.escape_probability:.1e}; a single differing entry cannot pass"
        )
    if not check.holds:
        at_least = "" if check.every_entry else "at least "
        noun = "entry" if check.mismatch_count == 1 else "entries"
        lines.append(f"  {at_least}{_count(check.mismatch_count)} wrong {noun}; first:")
        for mismatch in check.mismatches:
            row, col = mismatch.index
            lines.append(
                f"    ({row},{col}): elementwise {mismatch.elementwise}, "
                f"matrix form {mismatch.claimed}"
            )
    return lines


def _wrapped(line: str, width: int) -> list[str]:
    """A line folded to ``width`` columns, continuation lines indented two more spaces."""
    if len(line) <= width:
        return [line]
    indent = " " * (len(line) - len(line.lstrip()))
    return textwrap.wrap(
        line, width, initial_indent="", subsequent_indent=indent + "  ", break_on_hyphens=False
    )


def render_numeric_text(result: NumericResult, width: int = 80, color: bool = False) -> str:
    """The result as plain text for a terminal or a log, folded to ``width`` columns; it is
    plain on a terminal too (``color`` is taken, like every text view's, and not used)."""
    del color
    return (
        "\n".join(
            folded for line in _numeric_lines(result) for folded in (_wrapped(line, width) or [""])
        )
        + "\n"
    )


def _numeric_lines(result: NumericResult) -> list[str]:
    """What was checked, and the verdict, one logical line each."""
    sizes = result.sizes
    layer = "A = ZW + 1_m b" if result.bias else "A = ZW"
    names = "Z, W, b and G = ∂L/∂A" if result.bias else "Z, W and G = ∂L/∂A"
    lines = [
        f"matgrad: {result.method}",
        f"Layer {layer} with m={sizes.m}, k={sizes.k}, n={sizes.n}; {names} drawn from "
        f"−{result.entry_range}..{result.entry_range} (seed {result.seed}); "
        "loss L = Σ G_{p,q}·a_{p,q}, so ∂L/∂A = G.",
        "",
    ]
    for check in result.checks:
        lines.extend(_check_lines(check, result.direction_range))
    lines.append("")
    lines.append(
        "Gradients are in denominator layout: ∂L/∂X has the shape of X. A formula that is wrong "
        "in general could still agree at one particular draw (for a single entry, with "
        f"probability at most 2/{2 * result.entry_range + 1}, by Schwartz–Zippel); another "
        "--seed repeats the check with an independent draw."
    )
    lines.append("")
    if result.verified:
        lines.append(
            "Every identity held at this draw. This is a numeric check at random integer "
            "values, not a symbolic proof."
        )
    else:
        failed = sum(not check.holds for check in result.checks)
        lines.append(
            f"NOT verified: {failed} of {len(result.checks)} identities fail at this draw "
            "(numeric check, not a symbolic proof)."
        )
    return lines
