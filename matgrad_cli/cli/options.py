"""The options of the matgrad commands, each defined once as an ``Annotated`` alias, and the
parsing of the sizes typer hands over as text. Typer offers the values of a ``Literal`` as
choices: --loss those of core/losses.py, --format the formats present's door renders in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from ..core.activations import ACTIVATIONS
from ..core.layer import Samples, Sizes
from ..core.loss_definitions import LOSS_CHOICES
from ..errors import InputError, SizeError
from ..present import formats
from ..present.derivation_sections import SECTIONS, parse_sections


def _formats(*kinds: str, default: str) -> list[str]:
    """The formats present's door renders every one of ``kinds`` in, ``default`` first."""
    offered = [fmt for fmt in formats(kinds[0]) if all(fmt in formats(kind) for kind in kinds)]
    return sorted(offered, key=lambda fmt: fmt != default)


def _format_option(choices: list[str], help_text: str) -> Any:
    """The --format option, offering ``choices`` in this order."""
    literal = Literal[tuple(choices)]  # type: ignore[valid-type]
    return Annotated[literal, typer.Option("--format", "-f", help=help_text, case_sensitive=False)]


def _size(letter: str, help_text: str) -> Any:
    """A size, taken as text: parse_size says what is wrong with a bad one."""
    return typer.Option(f"--{letter}", f"-{letter}", help=help_text, metavar="INT")


if TYPE_CHECKING:
    LossName = str
    ActivationName = str
    DeriveFormatOption = str
    ReportFormatOption = str
    ProofFormatOption = str
    JacobianFormatOption = str
    SheetFormatOption = str
else:
    LossName = Literal[LOSS_CHOICES]
    ActivationName = Literal[tuple(ACTIVATIONS)]
    # derive also compiles its standalone LaTeX to a PDF (present/pdf.py).
    DeriveFormatOption = _format_option(
        [*_formats("Derivation", "NumericResult", default="latex"), "pdf"],
        "Output format; pdf compiles the standalone LaTeX with pdflatex.",
    )
    ReportFormatOption = _format_option(_formats("CheckReport", default="text"), "Output format.")
    ProofFormatOption = _format_option(_formats("ProofReport", default="latex"), "Output format.")
    JacobianFormatOption = _format_option(
        _formats("JacobianDerivation", default="latex"), "Output format."
    )
    # The exercise sheets are always written as LaTeX; pdf adds them compiled, html as web pages.
    SheetFormatOption = _format_option(
        ["latex", "pdf", "html"],
        "latex; pdf for the .tex and the .pdf; html for the .tex and a web page of each sheet.",
    )
MOption = Annotated[str, _size("m", "Samples: rows of Z and A (columns of X and A by columns).")]
KOption = Annotated[
    str, _size("k", "Inputs, the summed index: columns of Z, rows of W (by columns, rows of X).")
]
NOption = Annotated[str, _size("n", "Outputs: columns of W and A (their rows by columns).")]
CheckMOption = Annotated[str | None, _size("m", "Samples (with --k and --n).")]
CheckKOption = Annotated[str | None, _size("k", "Inputs (with --m and --n).")]
CheckNOption = Annotated[str | None, _size("n", "Outputs (with --m and --k).")]
BiasOption = Annotated[
    bool,
    typer.Option(
        "--bias/--no-bias",
        help="Include the bias b: a 1×n row added to every row of ZW (by columns, an n×1 "
        "column added to every column of WX).",
    ),
]
ExerciseBiasOption = Annotated[
    bool,
    typer.Option(
        "--bias/--no-bias",
        help="Layers with the bias (A = ZW + 1_m b, or WX + b1_mᵀ by columns), with problems "
        "that ask for ∂L/∂b.",
    ),
]
StandaloneOption = Annotated[
    bool,
    typer.Option(
        "--standalone",
        help="LaTeX: a complete document that compiles with pdflatex, not a fragment.",
    ),
]
OutputOption = Annotated[
    str | None,
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
SectionsOption = Annotated[
    str | None,
    typer.Option(
        "--sections",
        help=(
            "Only these parts of the derivation, comma-separated, from "
            f"{', '.join(SECTIONS)} (for example forward,W,summary); X for Z with --samples "
            "columns."
        ),
        metavar="NAMES",
        show_default=False,
    ),
]
BriefOption = Annotated[
    bool,
    typer.Option(
        "--brief",
        help=(
            "One worked entry per gradient (the others follow the same pattern), the assembled "
            "matrix and the check; the full document is the default."
        ),
    ),
]
LossOption = Annotated[
    LossName,
    typer.Option(
        "--loss",
        help=(
            "The loss L: generic (any scalar loss, ∂L/∂A as symbols) or a concrete loss that "
            "is also differentiated through the whole layer (or network; binary-cross-entropy "
            "only after --output-activation sigmoid, softmax-cross-entropy only without one)."
        ),
        case_sensitive=False,
    ),
]
DialectOption = Annotated[
    Literal["numpy", "matlab", "math"],
    typer.Option(
        "--dialect",
        help=(
            "How * between two matrices is read: elementwise, as in NumPy (numpy), or as the "
            "matrix product, as in MATLAB (matlab, which also counts a sum's dimension from 1) "
            "and on paper (math)."
        ),
        case_sensitive=False,
    ),
]
NumericOption = Annotated[
    bool,
    typer.Option(
        "--numeric",
        help=(
            "Check the identities numerically at random values (sizes up to 1024): exactly, in "
            "integers, or for the softmax to within a computed bound; used by itself above the "
            "symbolic limit."
        ),
    ),
]
SeedOption = Annotated[
    int,
    typer.Option("--seed", help="Random seed of the numeric check.", min=0, max=2**32 - 1),
]
EngineOption = Annotated[
    Literal["symengine", "sympy"] | None,
    typer.Option("--engine", help="Computer algebra engine (default: symengine if installed)."),
]
SamplesOption = Annotated[
    Literal["rows", "columns"],
    typer.Option(
        "--samples",
        help=(
            "Where the samples are: rows (A = ZW + 1b, as in NumPy and PyTorch) or columns "
            "(A = WX + b1ᵀ, X of size k×m, as in many courses and textbooks)."
        ),
        case_sensitive=False,
    ),
]
LayoutOption = Annotated[
    Literal["numerator", "denominator"],
    typer.Option(
        "--layout",
        help=(
            "Jacobian convention: numerator (rows follow vec(A), (mn)×(kn)) or denominator "
            "(the transpose). Gradients keep the shape of their variable either way."
        ),
        case_sensitive=False,
    ),
]
HiddenOption = Annotated[
    str | None,
    typer.Option(
        "--hidden",
        help=(
            "A network instead of one layer: the hidden layers' widths, comma-separated (4 for "
            "X → A1 → H1 → A2, 4,3 for two hidden layers; at most 4 layers, each at most 64)."
        ),
        metavar="WIDTHS",
        show_default=False,
    ),
]
ActivationOption = Annotated[
    ActivationName | None,
    typer.Option(
        "--activation",
        help="The hidden layers' activation σ, H = σ(A) entry by entry (with --hidden; "
        "default generic, an undefined σ).",
        case_sensitive=False,
        show_default=False,
    ),
]
OutputActivationOption = Annotated[
    ActivationName | None,
    typer.Option(
        "--output-activation",
        help="The last layer's activation (default identity): --output-activation sigmoid is "
        "one layer followed by a sigmoid.",
        case_sensitive=False,
        show_default=False,
    ),
]
SlopeOption = Annotated[
    str | None,
    typer.Option(
        "--slope",
        help="The leaky-relu slope α, 0 < α < 1, read exactly (0.01 or 1/100; default 1/100).",
        metavar="NUMBER",
        show_default=False,
    ),
]
ClaimsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="Claims such as 'dZ = G @ W.T', 'dW = Z.T @ G', 'db = sum(G, axis=0)'.",
        metavar="CLAIM",
        show_default=False,
    ),
]
KeyOption = Annotated[
    Path | None,
    typer.Option(
        "--key",
        help=(
            "Grade a file of named answers (the one argument, NAME: CLAIM a line) against this "
            "answer key (TOML: the questions, their gradients and points; docs/autograding.md)."
        ),
        metavar="KEY",
    ),
]
GrammarOption = Annotated[
    bool,
    typer.Option("--grammar", help="Print the claim language (names, operators, examples)."),
]
ClaimsFileOption = Annotated[
    Path | None,
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


def parse_sizes(m: str, k: str, n: str, samples: Samples = "rows") -> Sizes:
    """--m, --k and --n as positive integers, checked in that order, in the convention
    ``samples``."""
    return Sizes(parse_size("m", m), parse_size("k", k), parse_size("n", n), samples)


def require_latex_for_standalone(output_format: str, standalone: bool) -> None:
    """--standalone shapes LaTeX only (and the LaTeX a PDF is compiled from, always standalone)."""
    if standalone and output_format not in ("latex", "pdf"):
        raise InputError("--standalone applies to --format latex only")


def document_choice(
    sections: str | None,
    brief: bool,
    full: bool,
    output_format: str,
    *,
    bias: bool,
    loss: str,
    samples: Samples = "rows",
) -> dict[str, Any]:
    """--sections and --brief as the options of the derivation's document, refused (one line,
    exit 2) where they cannot apply: in JSON, which lists everything, or with --full. The input's
    gradient is named after the input of the convention ``samples`` (Z, or X)."""
    if sections is None and not brief:
        return {}
    if output_format == "json":
        raise InputError("--sections and --brief shape a printed document; json lists everything")
    if brief and full:
        raise InputError("--brief and --full exclude each other")
    chosen: dict[str, Any] = {"brief": brief}
    if sections is not None:
        chosen["sections"] = parse_sections(
            sections, bias=bias, concrete_loss=loss != "generic", samples=samples
        )
    return chosen


@dataclass(frozen=True)
class NetworkChoice:
    """The network the options --hidden, --activation, --output-activation and --slope ask for:
    hidden widths (empty for one layer with an output activation), the activations' names and
    the leaky-relu slope as written (read exactly by the core)."""

    hidden: tuple[int, ...]
    activation: str
    output_activation: str
    slope: str | None


def network_choice(
    hidden: str | None,
    activation: str | None,
    output_activation: str | None,
    slope: str | None,
    samples: Samples = "rows",
) -> NetworkChoice | None:
    """The network asked for, or None when none of the network options is given (the single
    layer, exactly as without them). Refuses (one line, exit 2) what cannot be a network: a
    hidden activation without hidden layers, widths that are not positive integers, too many
    layers, a slope without leaky-relu, samples as columns."""
    if hidden is None and activation is None and output_activation is None and slope is None:
        return None
    if hidden is None and activation is not None:
        raise InputError(
            "--activation is the hidden layers' activation: give --hidden too, or use "
            "--output-activation for one layer"
        )
    if samples != "rows":
        raise InputError("networks are derived with samples as rows; leave out --samples columns")
    widths = parse_hidden(hidden) if hidden is not None else ()
    chosen = NetworkChoice(widths, activation or "generic", output_activation or "identity", slope)
    if slope is not None and "leaky-relu" not in (chosen.activation, chosen.output_activation):
        raise InputError(
            "--slope is the leaky-relu slope: choose leaky-relu with --activation or "
            "--output-activation"
        )
    return chosen


def parse_hidden(text: str) -> tuple[int, ...]:
    """--hidden as widths: positive integers separated by commas, at most MAX_HIDDEN_LAYERS."""
    from ..core.network import MAX_HIDDEN_LAYERS

    parts = text.split(",")
    if len(parts) > MAX_HIDDEN_LAYERS:
        raise SizeError(
            f"--hidden gives {len(parts)} hidden layers, above the limit of {MAX_HIDDEN_LAYERS}"
        )
    return tuple(parse_size(f"hidden width {index}", part) for index, part in enumerate(parts, 1))
