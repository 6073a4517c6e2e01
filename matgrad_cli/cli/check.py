"""``matgrad check``: hand-derived gradient claims judged against the verified layer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import ClaimSyntaxError, InputError, SizeError
from . import options
from .deliver import deliver

if TYPE_CHECKING:
    from ..core.layer import Sizes


def check(
    claims: options.ClaimsArgument = None,
    claims_file: options.ClaimsFileOption = None,
    m: options.CheckMOption = None,
    k: options.CheckKOption = None,
    n: options.CheckNOption = None,
    output_format: options.ReportFormatOption = "text",
    standalone: options.StandaloneOption = False,
    loss: options.LossOption = "generic",
) -> None:
    """Check hand-derived gradients of A = ZW + b, such as "dW = Z.T @ G".

    Each claim is compared entry by entry with the verified elementwise derivation, at several
    sizes (or at exactly --m/--k/--n). A wrong claim gets the shapes or the first differing
    entry, a counterexample, a hint and the right answer. With a concrete --loss, G is that
    loss's ∂L/∂A and Y its targets. The claim language is described in docs/claims.md. Exit
    code 0 when every claim is correct, 1 when one is wrong, 2 for a claim that does not parse
    or other bad input.
    """
    from ..core.claims import check as check_claims
    from ..core.claims import read_claims_file

    options.require_latex_for_standalone(output_format, standalone)
    sizes = _sizes(m, k, n)
    texts = list(claims or [])
    file_lines = [] if claims_file is None else read_claims_file(claims_file)
    texts += [line.text for line in file_lines]
    if not texts and claims_file is not None:
        raise InputError(f"{claims_file} holds no claims, only blank lines and comments")
    if not texts:
        raise InputError("no claims to check: give claims as arguments or --file FILE")
    try:
        report = check_claims(texts, sizes=sizes, loss=loss)
    except ClaimSyntaxError as error:
        lines = [line.line for line in file_lines]
        raise _located(error, texts, claims_file, lines) from None
    deliver(report, output_format, None, False, standalone=standalone)
    raise typer.Exit(0 if report.correct else 1)


def _sizes(m: str | None, k: str | None, n: str | None) -> Sizes | None:
    """The sizes of --m, --k and --n: all three, or none (the claims are checked at several)."""
    from ..core.layer import Sizes

    given = [text for text in (m, k, n) if text is not None]
    if not given:
        return None
    if len(given) < 3:
        raise SizeError("give all three of --m, --k and --n, or none of them")
    return Sizes(*options.parse_sizes(*given))


def _located(
    error: ClaimSyntaxError, texts: list[str], claims_file: Path | None, file_lines: list[int]
) -> ClaimSyntaxError:
    """The error of a claim read from --file, its message prefixed with the file and line."""
    # Claims are parsed in order, so the first one equal to the failing source is it; the claims
    # given as arguments come first.
    index = texts.index(error.source) if error.source in texts else 0
    from_file = index - (len(texts) - len(file_lines))
    if from_file < 0:
        return error
    where = f"{claims_file}, line {file_lines[from_file]}: "
    return ClaimSyntaxError(where + error.message, error.source, error.position)
