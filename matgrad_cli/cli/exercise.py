"""``matgrad exercise``: a problem sheet and its verified solution sheet, written as one; the
mathematics (core/exercise.py) draws the problems and verifies every solution, present's door
typesets the two sheets, and files.py writes them all or none."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..core.arguments import flag
from ..errors import OutputError
from . import options

if TYPE_CHECKING:
    from ..core.exercise import Problem
    from ..core.model import Derivation
    from ..core.network_exercise import SheetNetwork
    from ..core.network_matrix import BackwardRules


def exercise(
    seed: options.ExerciseSeedOption,
    output: options.SheetOutputOption,
    count: options.CountOption = "5",
    bias: options.ExerciseBiasOption = False,
    output_format: options.SheetFormatOption = "latex",
    force: options.ForceOption = False,
    samples: options.SamplesOption = "rows",
    hidden: options.HiddenOption = None,
    activation: options.ActivationOption = None,
    output_activation: options.OutputActivationOption = None,
    slope: options.SlopeOption = None,
) -> None:
    """Write a problem sheet and its solution sheet: random small layers, gradients to find.

    Each problem gives the sizes, Z, W (and b) and asks for ∂L/∂Z, ∂L/∂W or ∂L/∂b, one entry
    as a chain-rule sum or the whole matrix form; about a third state a concrete loss (sum,
    squared error or softmax cross-entropy). With --samples columns the layers are A = WX + b1ᵀ
    (X of size k×m), as both sheets say at the top. Every solution comes from a verified
    derivation.
    With --hidden (and --activation), or --output-activation alone, the problems are networks:
    small integer X, W and G, one gradient of the backward pass to find, as in docs/networks.md.
    The same seed gives byte-identical sheets. All files are written or none. Exit code 0
    when written, 1 if a solution failed to verify (nothing is written), 2 for bad input.
    Described in docs/exercises.md.
    """
    from ..core.exercise import parse_count, parse_seed
    from ..files import shown

    seed_value, count_value = parse_seed(seed), parse_count(count)
    as_pdf, as_html = output_format == "pdf", output_format == "html"
    chosen = options.network_choice(hidden, activation, output_activation, slope, samples)
    if chosen is not None:
        from ..core.network_exercise import sheet_network

        network = sheet_network(
            chosen.hidden, chosen.activation, chosen.output_activation, chosen.slope, bias
        )
        written = write_network_sheets(
            output, seed_value, count_value, network, as_pdf=as_pdf, as_html=as_html, force=force
        )
        sys.stderr.write(f"matgrad: wrote {', '.join(shown(path) for path in written)}\n")
        raise typer.Exit(0)
    written = write_sheets(
        output,
        seed_value,
        count_value,
        bias=bias,
        as_pdf=as_pdf,
        as_html=as_html,
        force=force,
        samples=samples,
    )
    sys.stderr.write(f"matgrad: wrote {', '.join(shown(path) for path in written)}\n")
    raise typer.Exit(0)


def sheet_paths(stem: Path, as_pdf: bool, as_html: bool = False) -> list[Path]:
    """The files ``write_sheets`` writes for ``stem``: STEM-problems.tex, STEM-solutions.tex
    and, with ``as_pdf``, the two PDFs, with ``as_html`` the two HTML pages. A stem ending in
    .tex, .pdf or .html loses that ending."""
    if stem.suffix.lower() in (".tex", ".pdf", ".html"):
        stem = stem.with_suffix("")
    extensions = (".tex", *((".pdf",) if as_pdf else ()), *((".html",) if as_html else ()))
    return [
        stem.with_name(f"{stem.name}{kind}{extension}")
        for extension in extensions
        for kind in ("-problems", "-solutions")
    ]


def write_sheets(
    stem: Path | str,
    seed: int,
    count: int = 5,
    bias: bool = False,
    as_pdf: bool = False,
    force: bool = False,
    *,
    as_html: bool = False,
    samples: str = "rows",
    make_problems: Callable[[int, int, bool, str], tuple[Problem, ...]] | None = None,
    derive: Callable[..., Derivation] | None = None,
) -> list[Path]:
    """Write the problem and solution sheets next to ``stem`` (as LaTeX, and compiled with
    ``as_pdf``, as web pages with ``as_html``); the paths written, in order. ``samples`` is the
    convention of every layer on the sheets (rows, or columns: A = WX + b1ᵀ).

    All or nothing: bad input (a stem naming a folder, such as ``x/``), a file that exists
    (without ``force``), an unwritable folder and a missing TeX engine are refused before any
    work, that is ``make_problems`` drawing the problems and ``derive`` the derivations of their
    solutions (core's when None; a test may pass a spy, or a wrong derivation that no sheet
    survives); then files.write_all writes every file (through a symbolic link) or none.
    """
    from ..core import exercise as drawing
    from ..core.derive import derive as derive_layer
    from ..core.layer import samples_convention
    from ..present.exercise_doc import ProblemSheet, SolutionSheet

    seed, count = drawing.validate_seed(seed), drawing.validate_count(count)
    bias, as_pdf, force = flag("bias", bias), flag("as_pdf", as_pdf), flag("force", force)
    as_html = flag("as_html", as_html)
    samples = samples_convention(samples)
    paths = _writable_paths(stem, as_pdf, as_html, force)
    problems = (make_problems or drawing.make_problems)(seed, count, bias, samples)
    solutions = drawing.solve_all(problems, derive or derive_layer)
    sheets = (ProblemSheet(problems, seed), SolutionSheet(solutions, seed))
    return _write(paths, sheets, as_pdf, as_html, force)


def _writable_paths(stem: Path | str, as_pdf: bool, as_html: bool, force: bool) -> list[Path]:
    """The paths of the sheets, each checked writable, and a TeX engine found for ``as_pdf``,
    before any work: a stem naming a folder, a file that exists (without ``force``) and an
    unwritable folder are refused (OutputError)."""
    from ..files import check_writable, parse_output_path, shown
    from ..present.pdf import require_tex_engine

    text = os.fspath(stem)
    named = Path(text)
    if text.endswith(os.sep) or named.name in ("", ".", "..") or named.is_dir():
        raise OutputError(
            f"-o takes a file stem such as sheets/week3, not the folder {shown(named)}"
        )
    paths = sheet_paths(parse_output_path(text), as_pdf, as_html)
    for path in paths:
        check_writable(path, force)
    if as_pdf:
        require_tex_engine(without="--format latex")
    return paths


def _write(
    paths: list[Path], sheets: tuple[object, object], as_pdf: bool, as_html: bool, force: bool
) -> list[Path]:
    """The two sheets typeset (LaTeX, compiled with ``as_pdf``, web pages with ``as_html``) and
    written all or none."""
    from ..files import write_all
    from ..present import render
    from ..present.pdf import compile_pdf

    sources = [render(sheet, "latex", standalone=True) for sheet in sheets]
    contents = [source.encode("utf-8") for source in sources]
    if as_pdf:
        contents += [compile_pdf(source) for source in sources]
    if as_html:
        contents += [render(sheet, "html").encode("utf-8") for sheet in sheets]
    write_all(list(zip(paths, contents, strict=True)), force)
    return paths


def write_network_sheets(
    stem: Path | str,
    seed: int,
    count: int,
    network: SheetNetwork,
    *,
    as_pdf: bool = False,
    as_html: bool = False,
    force: bool = False,
    rules: BackwardRules | None = None,
) -> list[Path]:
    """Write the network problem and solution sheets next to ``stem``, as ``write_sheets``
    does (all or nothing, everything checked before any work); ``network`` is the sheet's
    (core.network_exercise.sheet_network), ``rules`` the recursion's (a test may pass a wrong
    one, which no sheet survives)."""
    from ..core import exercise as drawing
    from ..core import network_exercise as networks
    from ..core.network_matrix import RULES
    from ..present.network_exercise_doc import NetworkProblemSheet, NetworkSolutionSheet

    seed, count = drawing.validate_seed(seed), drawing.validate_count(count)
    as_pdf, as_html = flag("as_pdf", as_pdf), flag("as_html", as_html)
    force = flag("force", force)
    paths = _writable_paths(stem, as_pdf, as_html, force)
    problems = networks.make_network_problems(seed, count, network)
    solutions = networks.solve_network_problems(problems, rules or RULES)
    sheets = (NetworkProblemSheet(problems, seed), NetworkSolutionSheet(solutions, seed))
    return _write(paths, sheets, as_pdf, as_html, force)
