"""``matgrad check``: claims from the command line, a file, or a student's answers graded against
an instructor's key; every claim gets its own verdict, and the run exits with the worst."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..core.layer import Samples, Sizes
from ..errors import InputError, SizeError
from ..files import shown
from . import options
from .check_claims import GRAMMAR_HINT, checked_claims
from .deliver import deliver

if TYPE_CHECKING:
    from ..core.claims import CheckReport
    from ..core.claims.network_verdict import NetworkCheckReport


def check(
    claims: options.ClaimsArgument = None,
    claims_file: options.ClaimsFileOption = None,
    key: options.KeyOption = None,
    m: options.CheckMOption = None,
    k: options.CheckKOption = None,
    n: options.CheckNOption = None,
    output_format: options.ReportFormatOption = "text",
    standalone: options.StandaloneOption = False,
    loss: options.LossOption = "generic",
    dialect: options.DialectOption = "numpy",
    grammar: options.GrammarOption = False,
    samples: options.SamplesOption = "rows",
    hidden: options.HiddenOption = None,
    activation: options.ActivationOption = None,
    output_activation: options.OutputActivationOption = None,
    slope: options.SlopeOption = None,
) -> None:
    """Check hand-derived gradients of A = ZW + b, such as "dW = Z.T @ G" (with --samples
    columns, of A = WX + b, such as "dW = G @ X.T").

    Each claim is compared entry by entry with the verified elementwise derivation, at several
    sizes (or at exactly --m/--k/--n); a claim right there is also compared at general sizes,
    which show that it is right at every size. A wrong claim gets the shapes or the first
    differing entry, a counterexample, a hint and the right answer. With a concrete --loss, G is
    that loss's ∂L/∂A and Y its targets. An answer right with the other --samples, or in
    numerator layout, is wrong, and its report says so first. --grammar prints the claim
    language. With --hidden, --activation or --output-activation, the claims are about the
    network's gradients (dW1 = X.T @ dA1, dA1 = dH1 * relu'(A1)). With --key KEY,
    the one argument is a file of named answers, graded against the key. Exit code 0 when every
    claim is correct, 1 when one is wrong, 2 for a claim that cannot be checked or other bad
    input (graded against a key: 0 for full marks, else 1).
    """
    if grammar:
        from ..present.check_grammar import grammar_text

        sys.stdout.write(grammar_text())
        raise typer.Exit(0)
    options.require_latex_for_standalone(output_format, standalone)
    convention: Samples = "columns" if samples.lower() == "columns" else "rows"
    network = options.network_choice(hidden, activation, output_activation, slope, convention)
    sizes = _sizes(m, k, n, convention)
    report: CheckReport | NetworkCheckReport
    if network is not None:
        from .check_network import checked_network

        report = checked_network(network, claims, claims_file, key, sizes, loss, dialect)
    elif key is not None:
        report = _graded(key, claims, claims_file, sizes, loss, dialect, convention)
    else:
        report = _checked(claims, claims_file, sizes, loss, dialect, convention)
    deliver(report, output_format, None, False, standalone=standalone)
    if report.refused and not getattr(report, "marks", ()):
        first = report.refused[0]
        where = f"{first.where}: " if first.where else ""
        sys.stderr.write(
            f"matgrad: error: {len(report.refused)} of {len(report.entries)} claims could not be "
            f"checked (the first: {where}{first.message}); {GRAMMAR_HINT}\n"
        )
    raise typer.Exit(report.exit_code)


def _checked(
    claims: list[str] | None,
    claims_file: Path | None,
    sizes: Sizes | None,
    loss: str,
    dialect: str,
    samples: Samples = "rows",
) -> CheckReport:
    """The claims given and those of --file, each with its verdict or why it was not checked;
    when none could be checked, the first one's error (exit code 2, nothing on stdout)."""
    from ..core.claims import check as check_claims

    def judged(texts: list[str]) -> CheckReport:
        return check_claims(
            texts,
            sizes=sizes,
            loss=loss,
            dialect=dialect,  # type: ignore[arg-type]
            keep_going=True,
            samples=samples,
        )

    return checked_claims(claims, claims_file, judged)


def _graded(
    key: Path,
    claims: list[str] | None,
    claims_file: Path | None,
    sizes: Sizes | None,
    loss: str,
    dialect: str,
    samples: Samples = "rows",
) -> CheckReport:
    """The answers file (the one argument) graded against ``key``: its settings, not --loss,
    --dialect, --samples or the sizes, say how."""
    from ..core.claims import CheckReport
    from ..core.claims import check as check_claims
    from ..core.claims.key import grade, read_answers, read_key

    if claims_file is not None or len(claims or []) != 1:
        raise InputError("with --key, give one file of answers: matgrad check --key KEY ANSWERS")
    if sizes is not None or loss != "generic" or dialect != "numpy" or samples != "rows":
        raise InputError(
            "with --key, the key sets the loss, the dialect, the samples and the sizes"
        )
    answers_path = Path((claims or [""])[0])
    answer_key = read_key(key)
    answers = read_answers(answers_path, answer_key)
    report = CheckReport((), samples=answer_key.samples)
    if answers:
        report = check_claims(
            [answer.claim for answer in answers],
            sizes=answer_key.sizes,
            samples=answer_key.samples,
            loss=answer_key.loss,
            dialect=answer_key.dialect,
            keep_going=True,
        )
    return grade(answer_key, answers, report, shown(answers_path))


def _sizes(m: str | None, k: str | None, n: str | None, samples: Samples) -> Sizes | None:
    """The sizes of --m, --k and --n: all three, or none (the claims are checked at several)."""
    given = [text for text in (m, k, n) if text is not None]
    if not given:
        return None
    if len(given) < 3:
        raise SizeError("give all three of --m, --k and --n, or none of them")
    return options.parse_sizes(given[0], given[1], given[2], samples)
