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


def exercise(
    seed: options.ExerciseSeedOption,
    output: options.SheetOutputOption,
    count: options.CountOption = "5",
    bias: options.ExerciseBiasOption = False,
    output_format: options.SheetFormatOption = "latex",
    force: options.ForceOption = False,
    samples: options.SamplesOption = "rows",
) -> None:
    """Write a problem sheet and its solution sheet: random small layers, gradients to find.

    Each problem gives the sizes, Z, W (and b) and asks for ∂L/∂Z, ∂L/∂W or ∂L/∂b, one entry
    as a chain-rule sum or the whole matrix form; about a third state a concrete loss (sum,
    squared error or softmax cross-entropy). With --samples columns the layers are A = WX + b1ᵀ
    (X of size k×m), as both sheets say at the top. Every solution comes from a verified
    derivation.
    The same seed gives byte-identical sheets. All files are written or none. Exit code 0
    when written, 1 if a solution failed to verify (nothing is written), 2 for bad input.
    Described in docs/exercises.md.
    """
    from ..core.exercise import parse_count, parse_seed
    from ..files import shown

    seed_value, count_value = parse_seed(seed), parse_count(count)
    as_pdf, as_html = output_format == "pdf", output_format == "html"
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
    from ..files import check_writable, parse_output_path, shown, write_all
    from ..present import render
    from ..present.exercise_doc import ProblemSheet, SolutionSheet
    from ..present.pdf import compile_pdf, require_tex_engine

    seed, count = drawing.validate_seed(seed), drawing.validate_count(count)
    bias, as_pdf, force = flag("bias", bias), flag("as_pdf", as_pdf), flag("force", force)
    as_html = flag("as_html", as_html)
    samples = samples_convention(samples)
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
    problems = (make_problems or drawing.make_problems)(seed, count, bias, samples)
    solutions = drawing.solve_all(problems, derive or derive_layer)
    sheets = (ProblemSheet(problems, seed), SolutionSheet(solutions, seed))
    sources = [render(sheet, "latex", standalone=True) for sheet in sheets]
    contents = [source.encode("utf-8") for source in sources]
    if as_pdf:
        contents += [compile_pdf(source) for source in sources]
    if as_html:
        contents += [render(sheet, "html").encode("utf-8") for sheet in sheets]
    write_all(list(zip(paths, contents, strict=True)), force)
    return paths
