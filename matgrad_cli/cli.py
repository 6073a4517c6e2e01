"""The `matgrad` command: parse options, call one library function, pick a renderer, exit.

Library errors become one line on stderr and their exit code here, in one place (SPEC section 4):
0 verified or correct, 1 a verification failed or an answer is wrong, 2 bad input.
"""

from __future__ import annotations

import gc
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, Optional

import typer

from . import __version__
from .core.losses import LOSS_NAMES, loss_named, validate_loss
from .errors import MatgradError, OutputError, SizeError
from .present import render

if TYPE_CHECKING:
    from .core.model import Derivation

app = typer.Typer(
    name="matgrad",
    help=(
        "Derive and verify the gradients of a matrix-multiplication layer A = ZW (+ b), "
        "entry by entry, and write the derivation as LaTeX, text, Markdown or JSON."
    ),
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help text: rich's Markdown renderer would double the start-up time of --help.
    rich_markup_mode=None,
)


class Format(StrEnum):
    """Output formats (SPEC section 3)."""

    latex = "latex"
    text = "text"
    markdown = "markdown"
    json = "json"


class EngineName(StrEnum):
    """Computer algebra engines."""

    symengine = "symengine"
    sympy = "sympy"


SizeOption = Annotated[str, typer.Option(show_default=True, metavar="INT")]
MOption = Annotated[str, typer.Option("--m", "-m", help="Rows of Z and of A.", metavar="INT")]
KOption = Annotated[
    str,
    typer.Option("--k", "-k", help="Columns of Z, rows of W (the summed index).", metavar="INT"),
]
NOption = Annotated[str, typer.Option("--n", "-n", help="Columns of W and of A.", metavar="INT")]
BiasOption = Annotated[
    bool,
    typer.Option(
        "--bias/--no-bias",
        help="Include the bias b, a 1×n row added to every row of ZW.",
    ),
]
FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]


class DeriveFormat(StrEnum):
    """Output formats of ``matgrad derive``: the document formats, and pdf (docs/exercises.md)."""

    latex = "latex"
    text = "text"
    markdown = "markdown"
    json = "json"
    pdf = "pdf"


DeriveFormatOption = Annotated[
    DeriveFormat,
    typer.Option(
        "--format",
        "-f",
        help="Output format; pdf compiles the standalone LaTeX with pdflatex.",
        case_sensitive=False,
    ),
]
StandaloneOption = Annotated[
    bool,
    typer.Option(
        "--standalone",
        help="LaTeX: a complete document that compiles with pdflatex, not a fragment.",
    ),
]


def _dash_is_stdout(value: Path | None) -> Path | None:
    """``-o -`` means standard output, as in most command-line tools."""
    return None if value is not None and str(value) == "-" else value


OutputOption = Annotated[
    Optional[Path],  # noqa: UP045  typer reads the annotation at run time
    typer.Option(
        "--output",
        "-o",
        help="Write to this file (atomically) instead of stdout; - is stdout.",
        dir_okay=False,
        callback=_dash_is_stdout,
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace an existing output file.")]
FullOption = Annotated[
    bool, typer.Option("--full", help="Print every entry of large matrices instead of eliding.")
]


# The names of the losses (core/losses.py), any scalar loss (generic) or a concrete one
# differentiated through the layer: typer offers the values of a Literal as choices, as it does
# a str Enum's, and a new loss is a new choice with no change here.
if TYPE_CHECKING:
    LossName = str
else:
    LossName = Literal[LOSS_NAMES]


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
    int, typer.Option("--seed", help="Random seed of the numeric check.", min=0, max=2**32 - 1)
]
EngineOption = Annotated[
    Optional[EngineName],  # noqa: UP045
    typer.Option("--engine", help="Computer algebra engine (default: symengine if installed)."),
]


def _stderr() -> object:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, then exit."""
    sys.stderr.write(f"matgrad: error: {message}\n")
    raise typer.Exit(code)


def _fail_error(error: MatgradError) -> NoReturn:
    """The error's one line on stderr, then the log excerpt a LaTeX failure carries, then exit."""
    sys.stderr.write(f"matgrad: error: {error}\n")
    details = getattr(error, "details", "")
    if details:
        # Indented as a block, so the l.NN context keeps its column under the error.
        sys.stderr.write("".join(f"  {line}\n" for line in details.splitlines()))
    raise typer.Exit(error.exit_code)


def _emit_pdf(latex: str, output: Path | None, force: bool) -> None:
    """Compile a standalone LaTeX document and write the PDF atomically, or to a redirected
    stdout (check_pdf_destination has refused a terminal already)."""
    from .output import write_atomic
    from .present.pdf import compile_pdf

    pdf = compile_pdf(latex)
    if output is not None:
        write_atomic(output, pdf, force)
        return
    sys.stdout.buffer.write(pdf)
    sys.stdout.buffer.flush()


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


def _version_callback(value: bool) -> None:
    if value:
        sys.stdout.write(f"matgrad {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            callback=_version_callback,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Derive and verify the gradients of A = ZW (+ b), entry by entry."""


class TerminalProgress:
    """A rich progress bar on stderr, shown only once a run has taken about a second.

    Only used when stderr is a terminal, so piped documents and logs stay clean.
    """

    def __init__(self, delay: float = 0.8) -> None:
        self._start = time.monotonic()
        self._delay = delay
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self._progress is None:
            if time.monotonic() - self._start < self._delay:
                return
            from rich.console import Console
            from rich.progress import Progress

            self._progress = Progress(console=Console(stderr=True), transient=True)
            self._progress.start()
        task = self._tasks.get(phase)
        if task is None:
            task = self._tasks[phase] = self._progress.add_task(phase, total=total)
        self._progress.update(task, completed=done)

    def close(self) -> None:
        """Remove the bar from the terminal."""
        if self._progress is not None:
            self._progress.stop()


def _text_layout(on_terminal: bool) -> tuple[bool, int]:
    """Colour and width for a text view: the terminal's when printing to one, else plain 80."""
    if not on_terminal:
        return False, 80
    import shutil

    return True, shutil.get_terminal_size((80, 24)).columns


def _summary_line(derivation: Derivation) -> str:
    """The one-line verdict for stderr."""
    sizes = derivation.sizes
    failed = [check.identity for check in derivation.checks if not check.holds]
    if derivation.loss is not None and not derivation.loss.closed_form_holds:
        failed.insert(0, "the closed form of ∂L/∂A")
    layer = "with and without the bias" if derivation.bias else "without bias"
    where = f"m={sizes.m}, k={sizes.k}, n={sizes.n}, {layer}"
    if derivation.loss is not None:
        where += f", loss {derivation.loss_name}"
    if not failed:
        identities: dict[str, str] = {}
        for check in derivation.checks:
            identities.setdefault(check.variable, f"∂L/∂{check.variable} = {check.formula}")
        listed = "; ".join(identities.values()).replace(f", L = {derivation.loss_name}", "")
        return f"verified ({where}): {listed}; {len(derivation.checks)} checks hold"
    return f"NOT verified ({where}): {len(failed)} checks fail: {'; '.join(failed)}"


def _emit(text: str, output: Path | None, force: bool, syntax: str | None) -> None:
    """The document to its file, or to stdout, highlighted when stdout is a terminal."""
    from .output import write_atomic

    if output is not None:
        write_atomic(output, text, force)
        return
    if syntax is not None and sys.stdout.isatty():
        from rich.console import Console
        from rich.syntax import Syntax

        Console().print(Syntax(text, syntax, theme="ansi_dark", word_wrap=True))
        return
    sys.stdout.write(text)
    sys.stdout.flush()


@app.command()
def derive(
    m: MOption = "2",
    k: KOption = "2",
    n: NOption = "2",
    bias: BiasOption = True,
    output_format: DeriveFormatOption = DeriveFormat.latex,
    standalone: StandaloneOption = False,
    output: OutputOption = None,
    force: ForceOption = False,
    full: FullOption = False,
    engine: EngineOption = None,
    loss: LossOption = "generic",
    numeric: NumericOption = False,
    seed: SeedOption = 0,
) -> None:
    """Derive ∂L/∂Z, ∂L/∂W (and ∂L/∂b) entry by entry and verify the matrix identities.

    Prints the whole derivation; with the default sizes it is the 2×2×2 example. A short
    verification summary goes to stderr. Above the symbolic limit (or with --numeric) the
    identities are checked numerically instead, and the output says so. Exit code 0 when every
    identity holds, 1 when one fails, 2 for bad input.
    """
    from .core.derive import derive as derive_layer
    from .core.derive import validate_sizes
    from .core.model import Sizes
    from .output import check_writable

    # A PDF is the standalone LaTeX document, compiled: up to the compile it takes that path.
    as_pdf = output_format is DeriveFormat.pdf
    document_format = Format.latex if as_pdf else Format(output_format.value)
    try:
        rows, inner, cols = (
            parse_size(name, text) for name, text in (("m", m), ("k", k), ("n", n))
        )
        engine_name = engine.value if engine is not None else None
        if standalone and document_format is not Format.latex:
            raise MatgradError("--standalone applies to --format latex only")
        if numeric and loss_named(loss).concrete:
            raise MatgradError("--numeric checks the generic loss only; drop --loss or --numeric")
        validate_loss(loss, Sizes(rows, inner, cols))
        if not numeric:
            try:
                validate_sizes(rows, inner, cols, engine_name)
            except SizeError as error:
                if "symbolic limit" not in str(error):
                    raise
                from .core.numeric import validate_numeric_sizes

                validate_numeric_sizes(rows, inner, cols)
                numeric = True
                sys.stderr.write(
                    f"matgrad: m·k·n = {rows * inner * cols} is above the symbolic limit; "
                    "running the exact numeric check instead\n"
                )
        if numeric:
            from .core.numeric import validate_numeric_sizes

            validate_numeric_sizes(rows, inner, cols)
        if output is not None:
            check_writable(output, force)
        if as_pdf:
            from .present.pdf import check_pdf_destination

            check_pdf_destination(output, sys.stdout.isatty())
        if numeric:
            _numeric(
                rows, inner, cols, bias, seed, document_format, standalone, output, force, as_pdf
            )
        progress = TerminalProgress() if sys.stderr.isatty() else None
        try:
            derivation = derive_layer(
                rows,
                inner,
                cols,
                bias=bias,
                engine=engine_name,
                loss=loss,
                progress=progress,
            )
        finally:
            if progress is not None:
                progress.close()
        if as_pdf:
            _emit_pdf(render(derivation, "latex", standalone=True, full=full), output, force)
        else:
            options = _document_options(document_format, standalone, full)
            text, syntax = _rendered(derivation, document_format, output is not None, **options)
            _emit(text, output, force, syntax)
    except MatgradError as error:
        _fail_error(error)
    if document_format is not Format.text or output is not None:
        sys.stderr.write(f"matgrad: {_summary_line(derivation)}\n")
    raise typer.Exit(0 if derivation.verified else 1)


def _numeric(
    rows: int,
    inner: int,
    cols: int,
    bias: bool,
    seed: int,
    output_format: Format,
    standalone: bool,
    output: Path | None,
    force: bool,
    as_pdf: bool = False,
) -> NoReturn:
    """The numeric check in the chosen format; exits 0 when every identity holds, else 1."""
    from .core.numeric import METHOD, numeric_verify

    result = numeric_verify(rows, inner, cols, bias=bias, seed=seed)
    if as_pdf:
        _emit_pdf(render(result, "latex", standalone=True), output, force)
    else:
        options = {"standalone": standalone} if output_format is Format.latex else {}
        text, syntax = _rendered(result, output_format, True, **options)
        _emit(text, output, force, syntax)
    held = sum(check.holds for check in result.checks)
    verdict = "verified" if result.verified else "NOT verified"
    sys.stderr.write(
        f"matgrad: {verdict} by {METHOD} (m={rows}, k={inner}, n={cols}): "
        f"{held} of {len(result.checks)} identities hold\n"
    )
    raise typer.Exit(0 if result.verified else 1)


class CheckFormat(StrEnum):
    """Output formats of ``matgrad check``."""

    text = "text"
    latex = "latex"
    markdown = "markdown"
    json = "json"


ClaimsArgument = Annotated[
    Optional[list[str]],  # noqa: UP045  typer reads the annotation at run time
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
CheckMOption = Annotated[
    Optional[str],  # noqa: UP045
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
CheckFormatOption = Annotated[
    CheckFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]


@app.command()
def check(
    claims: ClaimsArgument = None,
    claims_file: ClaimsFileOption = None,
    m: CheckMOption = None,
    k: CheckKOption = None,
    n: CheckNOption = None,
    output_format: CheckFormatOption = CheckFormat.text,
    standalone: StandaloneOption = False,
    loss: LossOption = "generic",
) -> None:
    """Check hand-derived gradients of A = ZW + b, such as "dW = Z.T @ G".

    Each claim is compared entry by entry with the verified elementwise derivation, at several
    sizes (or at exactly --m/--k/--n). A wrong claim gets the shapes or the first differing
    entry, a counterexample, a hint and the right answer. With a concrete --loss, G is that
    loss's ∂L/∂A and Y its targets. The claim language is described in docs/claims.md. Exit
    code 0 when every claim is correct, 1 when one is wrong, 2 for a claim that does not parse
    or other bad input.
    """
    from .core.claims import check as check_claims
    from .core.claims import read_claims_file
    from .core.model import Sizes
    from .errors import ClaimSyntaxError

    texts = list(claims or [])
    file_lines: list[int] = []
    try:
        if standalone and output_format is not CheckFormat.latex:
            raise MatgradError("--standalone applies to --format latex only")
        given = [(name, text) for name, text in (("m", m), ("k", k), ("n", n)) if text is not None]
        sizes = None
        if given:
            if len(given) < 3:
                raise SizeError("give all three of --m, --k and --n, or none of them")
            rows, inner, cols = (parse_size(name, text) for name, text in given)
            sizes = Sizes(rows, inner, cols)
        if claims_file is not None:
            for line in read_claims_file(claims_file):
                texts.append(line.text)
                file_lines.append(line.line)
        if not texts and claims_file is not None:
            raise MatgradError(f"{claims_file} holds no claims, only blank lines and comments")
        if not texts:
            raise MatgradError("no claims to check: give claims as arguments or --file FILE")
        report = check_claims(texts, sizes=sizes, loss=loss)
    except ClaimSyntaxError as error:
        # Claims are parsed in order, so the first one equal to the failing source is it.
        index = texts.index(error.source) if error.source in texts else 0
        from_file = index - (len(texts) - len(file_lines))
        where = f"{claims_file}, line {file_lines[from_file]}: " if from_file >= 0 else ""
        from .present.check_text import caret_excerpt

        source, caret = caret_excerpt(error)
        # One error line, then the claim with a caret under the offending character.
        sys.stderr.write(f"matgrad: error: {where}{error.message}\n{source}\n{caret}\n")
        raise typer.Exit(2) from None
    except MatgradError as error:
        _fail(str(error), error.exit_code)
    options = {"standalone": standalone} if output_format is CheckFormat.latex else {}
    text, _ = _rendered(report, Format(output_format.value), False, **options)
    sys.stdout.write(text)
    sys.stdout.flush()
    raise typer.Exit(0 if report.correct else 1)


def _document_options(output_format: Format, standalone: bool, full: bool) -> dict[str, Any]:
    """The options a document format takes: LaTeX standalone or not, elided or full."""
    if output_format is Format.json:
        return {}
    if output_format is Format.latex:
        return {"standalone": standalone, "full": full}
    return {"full": full}


def _rendered(
    result: object, output_format: Format, to_file: bool, **options: Any
) -> tuple[str, str | None]:
    """The result in one format through present's door, and the syntax to highlight it with on
    a terminal; the text view is laid out for the terminal when it goes to one."""
    if output_format is Format.text:
        color, width = _text_layout(not to_file and sys.stdout.isatty())
        options = {**options, "width": width, "color": color}
        return render(result, "text", **options), None
    return render(result, output_format.value, **options), output_format.value


@app.command()
def prove(
    bias: BiasOption = True,
    output_format: FormatOption = Format.latex,
    standalone: StandaloneOption = False,
    output: OutputOption = None,
    force: ForceOption = False,
) -> None:
    """Prove ∂L/∂Z, ∂L/∂W (and ∂L/∂b) for every size, in index notation, with SymPy.

    m, k and n stay symbols and the entries are indexed symbols. Each step (the partial
    derivatives, each sum a Kronecker delta collapses, the comparison with the entry of the
    matrix product) is computed by the CAS; a step it cannot finish is reported as NOT proved.
    A one-line summary goes to stderr. Exit code 0 when every identity is proved, 1 when one
    is not, 2 for bad input.
    """
    from .core.proof import prove as prove_identities
    from .present.prove_notation import summary_line
    from .output import check_writable

    try:
        if standalone and output_format is not Format.latex:
            raise MatgradError("--standalone applies to --format latex only")
        if output is not None:
            check_writable(output, force)
        report = prove_identities(bias=bias)
        options = {"standalone": standalone} if output_format is Format.latex else {}
        text, syntax = _rendered(report, output_format, output is not None, **options)
        _emit(text, output, force, syntax)
    except MatgradError as error:
        _fail(str(error), error.exit_code)
    if output_format is not Format.text or output is not None:
        sys.stderr.write(f"matgrad: {summary_line(report)}\n")
    raise typer.Exit(0 if report.proved else 1)


class JacobianLayout(StrEnum):
    """Jacobian conventions of ``matgrad jacobian``."""

    numerator = "numerator"
    denominator = "denominator"


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


@app.command()
def jacobian(
    m: MOption = "2",
    k: KOption = "2",
    n: NOption = "2",
    layout: LayoutOption = JacobianLayout.numerator,
    output_format: FormatOption = Format.latex,
    standalone: StandaloneOption = False,
    output: OutputOption = None,
    force: ForceOption = False,
    full: FullOption = False,
) -> None:
    """Show the Jacobians ∂A/∂W and ∂A/∂Z of A = ZW as matrices and verify them entry by entry.

    Lays ∂a_{i,j}/∂w_{r,q} = z_{i,r} δ_{j,q} out through vec(A) = (I_n ⊗ Z) vec(W) =
    (Wᵀ ⊗ I_m) vec(Z), checks both identities, contracts with ∂L/∂A to get Zᵀ·∂L/∂A and
    ∂L/∂A·Wᵀ, and explains why "∂Y/∂W = Xᵀ" is wrong. A short verification summary goes to
    stderr. Exit code 0 when every identity holds, 1 when one fails, 2 for bad input.
    """
    from .core.jacobians import jacobian as compute_jacobians
    from .core.jacobians import validate_jacobian_sizes
    from .output import check_writable

    try:
        rows, inner, cols = (
            parse_size(name, text) for name, text in (("m", m), ("k", k), ("n", n))
        )
        if standalone and output_format is not Format.latex:
            raise MatgradError("--standalone applies to --format latex only")
        validate_jacobian_sizes(rows, inner, cols)
        if output is not None:
            check_writable(output, force)
        view = compute_jacobians(rows, inner, cols, layout=layout.value)
        options = _document_options(output_format, standalone, full)
        text, syntax = _rendered(view, output_format, output is not None, **options)
        _emit(text, output, force, syntax)
    except MatgradError as error:
        _fail(str(error), error.exit_code)
    if output_format is not Format.text or output is not None:
        held = sum(check.holds for check in view.checks)
        verdict = "verified" if view.verified else "NOT verified"
        notes = "agrees only at these degenerate sizes" if view.notes_claim.holds else "rejected"
        sys.stderr.write(
            f"matgrad: {verdict} (m={rows}, k={inner}, n={cols}, {layout.value} layout): "
            f"{held} of {len(view.checks)} checks hold; the notes' ∂A/∂W = Zᵀ: {notes}\n"
        )
    raise typer.Exit(0 if view.verified else 1)


class SheetFormat(StrEnum):
    """Output formats of ``matgrad exercise``."""

    latex = "latex"
    pdf = "pdf"


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
    str, typer.Option("--count", "-c", help="Number of problems (1 to 50).", metavar="INT")
]
ExerciseBiasOption = Annotated[
    bool,
    typer.Option(
        "--bias/--no-bias", help="Layers A = ZW + 1_m b, with problems that ask for ∂L/∂b."
    ),
]
SheetOutputOption = Annotated[
    Path,
    typer.Option(
        "--output",
        "-o",
        help="File stem: writes STEM-problems.tex and STEM-solutions.tex (and .pdf).",
        metavar="STEM",
        show_default=False,
    ),
]
SheetFormatOption = Annotated[
    SheetFormat,
    typer.Option(
        "--format", "-f", help="latex, or pdf for the .tex and the .pdf.", case_sensitive=False
    ),
]


def sheet_paths(stem: Path, as_pdf: bool) -> list[Path]:
    """The files ``write_sheets`` writes for ``stem``: STEM-problems.tex, STEM-solutions.tex
    and, with ``as_pdf``, the two PDFs. A stem ending in .tex or .pdf loses that ending."""
    if stem.suffix.lower() in (".tex", ".pdf"):
        stem = stem.with_suffix("")
    extensions = (".tex", ".pdf") if as_pdf else (".tex",)
    return [
        stem.with_name(f"{stem.name}{kind}{extension}")
        for extension in extensions
        for kind in ("-problems", "-solutions")
    ]


def write_sheets(
    stem: Path,
    seed: int,
    count: int = 5,
    bias: bool = False,
    as_pdf: bool = False,
    force: bool = False,
) -> list[Path]:
    """Write the problem and solution sheets next to ``stem``; the paths written, in order.

    All or nothing: bad input, a file that exists (without ``force``), a folder that cannot be
    written and a missing TeX engine are refused before any work; then every file is written
    to a temporary and only renamed into place once all are complete, and a failure at any
    step removes the temporaries and puts back what was there before.
    """
    from .core.exercise import make_problems, validate_count, validate_seed
    from .files import check_writable, write_all
    from .present.exercise_doc import problem_sheet, solution_sheet

    validate_seed(seed)
    validate_count(count)
    if not stem.name or stem.name in (".", "..") or stem.is_dir():
        raise OutputError(f"-o takes a file stem such as sheets/week3, not the folder {stem}")
    paths = sheet_paths(stem, as_pdf)
    for path in paths:
        check_writable(path, force)
    if as_pdf:
        from .present.pdf import require_tex_engine

        require_tex_engine(without="--format latex")
    problems = make_problems(seed, count, bias)
    sources = [problem_sheet(problems, seed), solution_sheet(problems, seed)]
    contents = [source.encode("utf-8") for source in sources]
    if as_pdf:
        from .present.pdf import compile_pdf

        contents += [compile_pdf(source) for source in sources]
    write_all(list(zip(paths, contents, strict=True)), force)
    return paths


@app.command()
def exercise(
    seed: ExerciseSeedOption,
    output: SheetOutputOption,
    count: CountOption = "5",
    bias: ExerciseBiasOption = False,
    output_format: SheetFormatOption = SheetFormat.latex,
    force: ForceOption = False,
) -> None:
    """Write a problem sheet and its solution sheet: random small layers, gradients to find.

    Each problem gives the sizes, Z, W (and b) and asks for ∂L/∂Z, ∂L/∂W or ∂L/∂b, one entry
    as a chain-rule sum or the whole matrix form; about a third state a concrete loss (sum,
    squared error or softmax cross-entropy). Every solution comes from a verified derivation.
    The same seed gives byte-identical sheets. All files are written or none. Exit code 0
    when written, 1 if a solution failed to verify (nothing is written), 2 for bad input.
    Described in docs/exercises.md.
    """
    from .core.exercise import parse_count, parse_seed

    try:
        written = write_sheets(
            output,
            parse_seed(seed),
            parse_count(count),
            bias=bias,
            as_pdf=output_format is SheetFormat.pdf,
            force=force,
        )
    except MatgradError as error:
        _fail_error(error)
    sys.stderr.write(f"matgrad: wrote {', '.join(str(path) for path in written)}\n")
    raise typer.Exit(0)


def main() -> None:
    """Entry point of the `matgrad` command: one line on stderr for every usage error."""
    # A short-lived process has no use for the cycle collector, and a large derivation makes
    # millions of acyclic objects that it would otherwise rescan (about a second at 64³).
    gc.disable()
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as error:
        if type(error).__name__ == "NoArgsIsHelpError":
            error.show()  # type: ignore[attr-defined]  # a UsageError: prints the help
            sys.exit(0)
        lines = error.format_message().strip().splitlines()
        sys.stderr.write(f"matgrad: error: {lines[0] if lines else 'bad usage'}\n")
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("matgrad: interrupted\n")
        sys.exit(130)
    except MatgradError as error:
        sys.stderr.write(f"matgrad: error: {error}\n")
        sys.exit(error.exit_code)
    except BrokenPipeError:
        # The reader went away (``matgrad derive | head``): nothing more to say to anyone.
        _silence_stdout()
        sys.exit(2)
    except OSError as error:
        _silence_stdout()
        sys.stderr.write(f"matgrad: error: cannot write the output: {error.strerror or error}\n")
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush cannot fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    main()
