"""The options of the matgrad commands, each defined once as an ``Annotated`` alias, and the
parsing of the values typer hands over as text (sizes and output paths, SPEC section 3).

Typer reads these annotations at run time, so ``Optional[...]`` stays spelled out.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional

import typer

from ..core.losses import LOSS_NAMES
from ..errors import InputError, SizeError


class Format(StrEnum):
    """Every output format. A command offers the ones it writes, as a Literal of these below."""

    latex = "latex"
    text = "text"
    markdown = "markdown"
    json = "json"
    pdf = "pdf"


#: The formats of a printed result: prove and jacobian (and derive, with pdf).
DocumentFormat = Literal[Format.latex, Format.text, Format.markdown, Format.json]
#: derive also compiles its standalone LaTeX to a PDF (docs/exercises.md).
DeriveFormat = Literal[Format.latex, Format.text, Format.markdown, Format.json, Format.pdf]
#: check prints its report to the terminal by default, so text comes first.
ReportFormat = Literal[Format.text, Format.latex, Format.markdown, Format.json]
#: The exercise sheets are LaTeX, optionally compiled.
SheetFormat = Literal[Format.latex, Format.pdf]


class EngineName(StrEnum):
    """Computer algebra engines."""

    symengine = "symengine"
    sympy = "sympy"


class JacobianLayout(StrEnum):
    """Jacobian conventions of ``matgrad jacobian``."""

    numerator = "numerator"
    denominator = "denominator"


# The names of the losses (core/losses.py), any scalar loss (generic) or a concrete one
# differentiated through the layer: typer offers the values of a Literal as choices, as it does
# a str Enum's, and a new loss is a new choice with no change here.
if TYPE_CHECKING:
    LossName = str
else:
    LossName = Literal[LOSS_NAMES]


def _format_option(help_text: str) -> Any:
    """The --format option of a command, with its help text (the choices are its annotation's)."""
    return typer.Option("--format", "-f", help=help_text, case_sensitive=False)


MOption = Annotated[str, typer.Option("--m", "-m", help="Rows of Z and of A.", metavar="INT")]
KOption = Annotated[
    str,
    typer.Option("--k", "-k", help="Columns of Z, rows of W (the summed index).", metavar="INT"),
]
NOption = Annotated[str, typer.Option("--n", "-n", help="Columns of W and of A.", metavar="INT")]
CheckMOption = Annotated[
    Optional[str],  # noqa: UP045  typer reads the annotation at run time
    typer.Option("--m", "-m", help="Rows of Z and of A (with --k and --n).", metavar="INT"),
]
CheckKOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--k", "-k", help="Columns of Z, rows of W (with --m and --n).", metavar="INT"),
]
CheckNOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--n", "-n", help="Columns of W and of A (with --m and --k).", metavar="INT"),
]
BiasOption = Annotated[
    bool,
    typer.Option(
        "--bias/--no-bias",
        help="Include the bias b, a 1×n row added to every row of ZW.",
    ),
]
ExerciseBiasOption = Annotated[
    bool,
    typer.Option(
        "--bias/--no-bias",
        help="Layers A = ZW + 1_m b, with problems that ask for ∂L/∂b.",
    ),
]
FormatOption = Annotated[DocumentFormat, _format_option("Output format.")]
DeriveFormatOption = Annotated[
    DeriveFormat,
    _format_option("Output format; pdf compiles the standalone LaTeX with pdflatex."),
]
ReportFormatOption = Annotated[ReportFormat, _format_option("Output format.")]
SheetFormatOption = Annotated[
    SheetFormat, _format_option("latex, or pdf for the .tex and the .pdf.")
]
StandaloneOption = Annotated[
    bool,
    typer.Option(
        "--standalone",
        help="LaTeX: a complete document that compiles with pdflatex, not a fragment.",
    ),
]
OutputOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--output",
        "-o",
        help="Write to this file (atomically) instead of stdout; - is stdout.",
        # The text as given, read by files.parse_output_path: a Path would drop the / of `x.tex/`.
        metavar="<file>",
    ),
]
SheetOutputOption = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        help="File stem: writes STEM-problems.tex and STEM-solutions.tex (and .pdf).",
        metavar="STEM",
        show_default=False,
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace an existing output file.")]
FullOption = Annotated[
    bool,
    typer.Option("--full", help="Print every entry of large matrices instead of eliding."),
]
LossOption = Annotated[
    LossName,
    typer.Option(
        "--loss",
        help=(
            "The loss L: generic (any scalar loss, ∂L/∂A as symbols) or a concrete loss that "
            "is also differentiated through the whole layer."
        ),
        case_sensitive=False,
    ),
]
NumericOption = Annotated[
    bool,
    typer.Option(
        "--numeric",
        help=(
            "Check the identities numerically, with exact integer arithmetic at random values "
            "(sizes up to 1024); used by itself above the symbolic limit."
        ),
    ),
]
SeedOption = Annotated[
    int,
    typer.Option("--seed", help="Random seed of the numeric check.", min=0, max=2**32 - 1),
]
EngineOption = Annotated[
    Optional[EngineName],  # noqa: UP045
    typer.Option("--engine", help="Computer algebra engine (default: symengine if installed)."),
]
LayoutOption = Annotated[
    JacobianLayout,
    typer.Option(
        "--layout",
        help=(
            "Jacobian convention: numerator (rows follow vec(A), (mn)×(kn)) or denominator "
            "(the transpose). Gradients keep the shape of their variable either way."
        ),
        case_sensitive=False,
    ),
]
ClaimsArgument = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Argument(
        help="Claims such as 'dZ = G @ W.T', 'dW = Z.T @ G', 'db = sum(G, axis=0)'.",
        metavar="CLAIM",
        show_default=False,
    ),
]
ClaimsFileOption = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--file",
        help="Read claims from this file, one a line; blank lines and # comments are skipped.",
        metavar="FILE",
    ),
]
ExerciseSeedOption = Annotated[
    str,
    typer.Option(
        "--seed",
        help="Random seed: the same seed gives the same sheets (0 to 4294967295).",
        metavar="INT",
        show_default=False,
    ),
]
CountOption = Annotated[
    str,
    typer.Option("--count", "-c", help="Number of problems (1 to 50).", metavar="INT"),
]


def parse_size(name: str, text: str) -> int:
    """A size option as a positive integer, or a SizeError naming it."""
    cleaned = text.strip()
    if not cleaned.isascii() or not cleaned.isdigit():
        raise SizeError(f"size {name} must be a positive integer, got {text!r}")
    if len(cleaned) > 9:
        raise SizeError(f"size {name} = {cleaned} is far too large")
    value = int(cleaned)
    if value < 1:
        raise SizeError(f"size {name} must be a positive integer, got {value}")
    return value


def parse_sizes(m: str, k: str, n: str) -> tuple[int, int, int]:
    """--m, --k and --n as positive integers, checked in that order."""
    return parse_size("m", m), parse_size("k", k), parse_size("n", n)


def require_latex_for_standalone(output_format: Format, standalone: bool) -> None:
    """--standalone shapes LaTeX only (and the LaTeX a PDF is compiled from, always standalone)."""
    if standalone and output_format not in (Format.latex, Format.pdf):
        raise InputError("--standalone applies to --format latex only")
