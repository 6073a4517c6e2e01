"""The verdicts of ``matgrad check`` as JSON, for autograders (documented in docs/claims.md).

Keys come in a fixed order. Expressions are SymPy text over z_i_j, w_i_j, b_j and dA_i_j (the
entries of G = ∂L/∂A), 1-based. Numbers in counterexamples are JSON integers, or exact decimal
strings such as "0.5" when a claim scales by a decimal.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from ..core.claims import CheckReport, ClaimVerdict, NumberMatrix, number_text
from ..core.model import Sizes

#: Bumped whenever a field changes meaning or disappears.
SCHEMA_VERSION = 1


def _sizes(sizes: Sizes) -> dict[str, int]:
    return {"m": sizes.m, "k": sizes.k, "n": sizes.n}


def _number(value: Fraction) -> int | str:
    if value.denominator == 1:
        return value.numerator
    return number_text(value)


def _matrix(matrix: NumberMatrix) -> list[list[int | str]]:
    return [[_number(entry) for entry in row] for row in matrix]


def _verdict(verdict: ClaimVerdict) -> dict[str, Any]:
    difference = verdict.first_difference
    example = verdict.counterexample
    return {
        "claim": verdict.claim,
        "target": verdict.target,
        "loss": verdict.loss,
        "correct": verdict.correct,
        "reason": verdict.reason,
        "sizes_checked": [_sizes(sizes) for sizes in verdict.sizes_checked],
        "reported_at": _sizes(verdict.reported_at),
        "expected_shape": list(verdict.expected_shape),
        "claimed_shape": list(verdict.claimed_shape) if verdict.claimed_shape else None,
        "shape_steps": [
            {"expression": step.text, "shape": list(step.shape)} for step in verdict.shape_steps
        ],
        "shape_message": verdict.shape_message,
        "first_difference": None
        if difference is None
        else {
            "index": list(difference.index),
            "claimed": difference.claimed,
            "correct": difference.correct,
        },
        "counterexample": None
        if example is None
        else {
            "sizes": _sizes(example.sizes),
            "operands": {name: _matrix(matrix) for name, matrix in example.operands},
            "claimed": _matrix(example.claimed),
            "correct": _matrix(example.correct),
        },
        "hint_kind": verdict.hint_kind,
        "hint": verdict.hint,
        "correct_formula": verdict.correct_formula,
    }


def check_data(report: CheckReport) -> dict[str, Any]:
    """The JSON document as Python data."""
    right = sum(1 for verdict in report.verdicts if verdict.correct)
    return {
        "schema": SCHEMA_VERSION,
        "correct": report.correct,
        "counts": {
            "claims": len(report.verdicts),
            "correct": right,
            "wrong": len(report.verdicts) - right,
        },
        "claims": [_verdict(verdict) for verdict in report.verdicts],
    }


def render_check_json(report: CheckReport) -> str:
    """The report as JSON text, keys in a fixed order, ending in a newline."""
    return json.dumps(check_data(report), indent=2, ensure_ascii=False) + "\n"
