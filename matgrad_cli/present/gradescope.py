"""A check report as Gradescope's ``results.json``: one test per claim (or, graded against an
answer key, per question), each with its score, its maximum and the claim's report as its
output text, which is the terminal view's text without colour.

The fields follow Gradescope's autograder specification: ``score`` and ``output`` for the whole
submission, ``tests[]`` with ``name``, ``score``, ``max_score``, ``status`` (``passed`` or
``failed``), ``output`` and ``visibility``. Without a key every claim is worth one point.
"""

from __future__ import annotations

import json
from typing import Any

from ..core.claims import GRADIENT_NAMES, CheckReport, ClaimVerdict, RefusedClaim, convention_line
from ..core.claims.network_verdict import NetworkCheckReport
from .check_doc import summary_count
from .check_text import RefusedView, VerdictView
from .terminal import render_to_text

#: The width the report of each test is laid out for (Gradescope shows it in a fixed font).
WIDTH = 80


def _output(entry: ClaimVerdict | RefusedClaim) -> str:
    view = RefusedView(entry) if isinstance(entry, RefusedClaim) else VerdictView(entry)
    return render_to_text(view, width=WIDTH, color=False).rstrip("\n")


def _test(name: str, score: float, points: float, output: str) -> dict[str, Any]:
    return {
        "name": name,
        "score": _number(score),
        "max_score": _number(points),
        "status": "passed" if score >= points else "failed",
        "output": output,
        "visibility": "visible",
    }


def _number(value: float) -> int | float:
    """A whole number of points as an integer, as people write it."""
    return int(value) if float(value).is_integer() else round(value, 6)


def _network_data(report: NetworkCheckReport) -> dict[str, Any]:
    """A network's results: one test per claim, the network stated first in the summary."""
    from .network_check_doc import summary_count as network_count
    from .network_check_text import entry_view

    tests = [
        _test(
            f"Claim {number}: {' '.join(entry.claim.split())}",
            float(not isinstance(entry, RefusedClaim) and entry.correct),
            1.0,
            render_to_text(entry_view(entry, report.network), width=WIDTH, color=False).rstrip(
                "\n"
            ),
        )
        for number, entry in enumerate(report.entries, 1)
    ]
    return {
        "score": _number(sum(test["score"] for test in tests)),
        "output": f"{report.network_line} {network_count(report)}",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def gradescope_data(report: CheckReport | NetworkCheckReport) -> dict[str, Any]:
    """The results as Python data, ready for json.dumps."""
    if isinstance(report, NetworkCheckReport):
        return _network_data(report)
    entries = report.entries
    if report.marks:
        tests = []
        for mark in report.marks:
            name = f"{mark.question}: {GRADIENT_NAMES[mark.target]}"
            answer = "No answer." if mark.order is None else _output(entries[mark.order])
            output = f"{_number(mark.score)} of {_number(mark.points)} points: {mark.why}.\n\n"
            tests.append(_test(name, mark.score, mark.points, output + answer))
        earned, total = report.score
        summary = f"{_number(earned)} of {_number(total)} points."
    else:
        tests = [
            _test(
                f"Claim {number}: {' '.join(entry.claim.split())}",
                float(isinstance(entry, ClaimVerdict) and entry.correct),
                1.0,
                _output(entry),
            )
            for number, entry in enumerate(entries, 1)
        ]
        earned = sum(test["score"] for test in tests)
        summary = summary_count(report)
    if report.samples != "rows":
        summary = f"{convention_line(report.samples)} {summary}"
    return {
        "score": _number(earned),
        "output": summary,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def render_gradescope(report: CheckReport | NetworkCheckReport) -> str:
    """Gradescope's results.json for ``report``."""
    return json.dumps(gradescope_data(report), ensure_ascii=False, indent=2) + "\n"
