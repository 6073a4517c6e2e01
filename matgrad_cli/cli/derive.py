"""``matgrad derive``: the derivation of one layer at given sizes, or the exact numeric check
above the symbolic limit; a one-line verdict on stderr."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from ..errors import AboveSymbolicLimit, InputError
from .deliver import deliver, prepare_output
from .options import (
    BiasOption,
    DeriveFormatOption,
    EngineOption,
    ForceOption,
    Format,
    FullOption,
    KOption,
    LossOption,
    MOption,
    NOption,
    NumericOption,
    OutputOption,
    SeedOption,
    StandaloneOption,
    parse_sizes,
    require_latex_for_standalone,
)

if TYPE_CHECKING:
    from ..core.layer import Sizes
    from ..core.model import Derivation


def derive(
    m: MOption = "2",
    k: KOption = "2",
    n: NOption = "2",
    bias: BiasOption = True,
    output_format: DeriveFormatOption = Format.latex,
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
    from ..core.layer import Sizes

    sizes = Sizes(*parse_sizes(m, k, n))
    engine_name = engine.value if engine is not None else None
    require_latex_for_standalone(output_format, standalone)
    numeric = _numeric_route(sizes, engine_name, loss, numeric)
    destination = prepare_output(output, output_format, force)
    if numeric:
        _numeric(sizes, bias, seed, output_format, standalone, destination, force)
    derivation = _derive(sizes, bias, engine_name, loss)
    deliver(derivation, output_format, destination, force, standalone=standalone, full=full)
    if output_format is not Format.text or destination is not None:
        sys.stderr.write(f"matgrad: {summary_line(derivation)}\n")
    raise typer.Exit(0 if derivation.verified else 1)


def _numeric_route(sizes: Sizes, engine: str | None, loss: str, numeric: bool) -> bool:
    """Whether the numeric check runs: asked for, or the sizes are above the symbolic limit
    (said on stderr). Refuses, before any work, what neither route can do."""
    from ..core.derive import validate_sizes
    from ..core.losses import loss_named, validate_loss
    from ..core.numeric import validate_numeric_sizes

    if numeric and loss_named(loss).concrete:
        raise InputError("--numeric checks the generic loss only; drop --loss or --numeric")
    validate_loss(loss, sizes)
    if not numeric:
        try:
            validate_sizes(sizes.m, sizes.k, sizes.n, engine)
        except AboveSymbolicLimit:
            validate_numeric_sizes(sizes.m, sizes.k, sizes.n)
            sys.stderr.write(
                f"matgrad: m·k·n = {sizes.m * sizes.k * sizes.n} is above the symbolic limit; "
                "running the exact numeric check instead\n"
            )
            return True
    if numeric:
        validate_numeric_sizes(sizes.m, sizes.k, sizes.n)
    return numeric


def _derive(sizes: Sizes, bias: bool, engine: str | None, loss: str) -> Derivation:
    """The derivation, with a progress bar on stderr when it is a terminal."""
    from ..core.derive import derive as derive_layer

    progress = TerminalProgress() if sys.stderr.isatty() else None
    try:
        return derive_layer(
            sizes.m,
            sizes.k,
            sizes.n,
            bias=bias,
            engine=engine,
            loss=loss,
            progress=progress,
        )
    finally:
        if progress is not None:
            progress.close()


def _numeric(
    sizes: Sizes,
    bias: bool,
    seed: int,
    output_format: Format,
    standalone: bool,
    destination: Path | None,
    force: bool,
) -> NoReturn:
    """The numeric check in the chosen format; exits 0 when every identity holds, else 1."""
    from ..core.numeric import METHOD, numeric_verify

    result = numeric_verify(sizes.m, sizes.k, sizes.n, bias=bias, seed=seed)
    deliver(result, output_format, destination, force, standalone=standalone)
    held = sum(check.holds for check in result.checks)
    verdict = "verified" if result.verified else "NOT verified"
    sys.stderr.write(
        f"matgrad: {verdict} by {METHOD} (m={sizes.m}, k={sizes.k}, n={sizes.n}): "
        f"{held} of {len(result.checks)} identities hold\n"
    )
    raise typer.Exit(0 if result.verified else 1)


def summary_line(derivation: Derivation) -> str:
    """The one-line verdict for stderr: the identities verified, or the checks that failed."""
    from ..core.checks import comparand_text

    sizes = derivation.sizes
    failed = [check.identity for check in derivation.checks if not check.holds]
    if derivation.loss is not None and not derivation.loss.closed_form_holds:
        failed.insert(0, "the closed form of ∂L/∂A")
    layer = "with and without the bias" if derivation.bias else "without bias"
    where = f"m={sizes.m}, k={sizes.k}, n={sizes.n}, {layer}"
    if derivation.loss is not None:
        where += f", loss {derivation.loss_name}"
    if failed:
        return f"NOT verified ({where}): {len(failed)} checks fail: {'; '.join(failed)}"
    identities: dict[str, str] = {}
    for check in derivation.checks:
        # The first check of each gradient names its identity, without the loss it was made
        # under: the loss is named once, in ``where``.
        identities.setdefault(
            check.variable, f"∂L/∂{check.variable} = {comparand_text(check.against)}"
        )
    listed = "; ".join(identities.values())
    return f"verified ({where}): {listed}; {len(derivation.checks)} checks hold"


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
