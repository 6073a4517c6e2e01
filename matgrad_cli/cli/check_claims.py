"""Claims of ``matgrad check`` from the command line and a file, judged together: each with its
verdict, or why it was not checked and where it came from; the single layer's and a network's
alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..errors import ClaimSyntaxError, InputError, MatgradError
from ..files import shown

if TYPE_CHECKING:
    from ..core.claims import CheckReport, CheckTooCostly
    from ..core.claims.network_verdict import NetworkCheckReport

#: What a message about a claim that does not parse ends with.
GRAMMAR_HINT = "the claim language: matgrad check --grammar"
#: A report of check: on the single layer, or on a network.
Report = TypeVar("Report", "CheckReport", "NetworkCheckReport")


def checked_claims(
    claims: list[str] | None, claims_file: Path | None, judged: Callable[[list[str]], Report]
) -> Report:
    """The claims given and those of --file, judged by ``judged`` (which refuses rather than
    raises for a claim that cannot be checked): each with its verdict, or why it was not
    checked, with the file and line it came from; when none could be checked, the first one's
    error (exit code 2, nothing on stdout)."""
    from ..core.claims import CheckTooCostly, read_claims_file

    texts = list(claims or [])
    file_lines = [] if claims_file is None else read_claims_file(claims_file)
    texts += [line.text for line in file_lines]
    if not texts and claims_file is not None:
        raise InputError(f"{shown(claims_file)} holds no claims, only blank lines and comments")
    if not texts:
        raise InputError("no claims to check: give claims as arguments or --file FILE")
    lines = [line.line for line in file_lines]
    try:
        report = judged(texts)
    except (ClaimSyntaxError, CheckTooCostly) as error:
        raise _located(error, texts, claims_file, lines) from None
    from_file = len(texts) - len(lines)
    refused = tuple(
        replace(entry, where=f"{shown(claims_file)}, line {lines[entry.order - from_file]}")
        if claims_file is not None and entry.order >= from_file
        else entry
        for entry in report.refused
    )
    if not report.verdicts:
        first = report.refused[0]
        raise _located(first.error, texts, claims_file, lines)  # type: ignore[arg-type]
    return replace(report, refused=refused)


def _located(
    error: ClaimSyntaxError | CheckTooCostly,
    texts: list[str],
    claims_file: Path | None,
    file_lines: list[int],
) -> MatgradError:
    """The error of a claim, pointing to the claim language when it does not parse; from
    --file, its message prefixed with the file and line; of all the claims, with the file."""
    if isinstance(error, ClaimSyntaxError):
        error = ClaimSyntaxError(f"{error.message}; {GRAMMAR_HINT}", error.source, error.position)
    if claims_file is None:
        return error
    if error.source is None:
        return type(error)(f"{shown(claims_file)}: {error.message}")
    # Claims are parsed (and weighed) in order, so the first one equal to the failing source is
    # it; the claims given as arguments come first.
    index = texts.index(error.source) if error.source in texts else 0
    from_file = index - (len(texts) - len(file_lines))
    if from_file < 0:
        return error
    where = f"{shown(claims_file)}, line {file_lines[from_file]}: "
    if isinstance(error, ClaimSyntaxError):
        return ClaimSyntaxError(where + error.message, error.source, error.position)
    return type(error)(where + error.message, error.source)
