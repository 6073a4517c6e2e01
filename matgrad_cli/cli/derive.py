"""``matgrad derive``: the derivation of one layer at given sizes, or the exact numeric check
above the symbolic limit; a one-line verdict on stderr."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from ..errors import AboveSymbolicLimit, InputError
from . import options
from .deliver import conclude, deliver, prepare_output

if TYPE_CHECKING:
    from ..core.layer import Sizes
    from ..core.model import Derivation


def derive(
    m: options.MOption = "2",
    k: options.KOption = "2",
    n: options.NOption = "2",
    bias: options.BiasOption = True,
    output_format: options.DeriveFormatOption = "latex",
    standalone: options.StandaloneOption = False,
    output: options.OutputOption = None,
    force: options.ForceOption = False,
    full: options.FullOption = False,
    engine: options.EngineOption = None,
    loss: options.LossOption = "generic",
    numeric: options.NumericOption = False,
    seed: options.SeedOption = 0,
) -> None:
    """Derive ∂L/∂Z, ∂L/∂W (and ∂L/∂b) entry by entry and verify the matrix identities.

    Prints the whole derivation; with the default sizes it is the 2×2×2 example. A short
    verification summary goes to stderr. Above the symbolic limit (or with --numeric) the
    identities are checked numerically instead, and the output says so. Exit code 0 when every
    identity holds, 1 when one fails, 2 for bad input.
    """
    from ..core.layer import Sizes

    sizes = Sizes(*options.parse_sizes(m, k, n))
    options.require_latex_for_standalone(output_format, standalone)
    numeric = _numeric_route(sizes, engine, loss, numeric)
    destination = prepare_output(output, output_format, force)
    if numeric:
        from ..core.numeric import numeric_verify

        result = numeric_verify(sizes.m, sizes.k, sizes.n, bias=bias, seed=seed)
        deliver(result, output_format, destination, force, standalone=standalone)
        conclude(result, result.verified)
    derivation = _derive(sizes, bias, engine, loss)
    deliver(derivation, output_format, destination, force, standalone=standalone, full=full)
    conclude(derivation, derivation.verified, told=output_format == "text" and destination is None)


def _numeric_route(sizes: Sizes, engine: str | None, loss: str, numeric: bool) -> bool:
    """Whether the numeric check runs: asked for, or the sizes are above the symbolic limit
    (said on stderr). Refuses, before any work, what neither route can do."""
    from ..core.derive import validate_sizes
    from ..core.losses import loss_named, validate_loss
    from ..core.numeric import validate_numeric_sizes

    if numeric and loss_named(loss).concrete:
        raise InputError("--numeric checks the generic loss only; drop --loss or --numeric")
    validate_loss(loss, sizes)
    if numeric:
        validate_numeric_sizes(sizes.m, sizes.k, sizes.n)
        return True
    try:
        validate_sizes(sizes.m, sizes.k, sizes.n, engine)
    except AboveSymbolicLimit:
        validate_numeric_sizes(sizes.m, sizes.k, sizes.n)
        sys.stderr.write(
            f"matgrad: m·k·n = {sizes.m * sizes.k * sizes.n} is above the symbolic limit; "
            "running the exact numeric check instead\n"
        )
        return True
    return False


def _derive(sizes: Sizes, bias: bool, engine: str | None, loss: str) -> Derivation:
    """The derivation, with a progress bar on stderr when it is a terminal."""
    from ..core.derive import derive as derive_layer

    progress = TerminalProgress() if sys.stderr.isatty() else None
    try:
        return derive_layer(
            sizes.m, sizes.k, sizes.n, bias=bias, engine=engine, loss=loss, progress=progress
        )
    finally:
        if progress is not None:
            progress.close()


class TerminalProgress:
    """A rich progress bar on stderr, shown only once a run has taken about a second, and only
    when stderr is a terminal, so piped documents and logs stay clean."""

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
