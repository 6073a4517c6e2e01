"""The commands that print a result, ``matgrad derive``, ``check``, ``prove`` and ``jacobian``,
each handing it to deliver.py; derive turns to the exact numeric check above the symbolic limit."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from ..core.layer import Sizes
from ..errors import AboveSymbolicLimit, InputError, SizeError
from ..present.limits import require_full_fits, require_json_fits
from . import options
from .deliver import conclude, deliver, prepare_output

if TYPE_CHECKING:
    from ..core.losses import Loss
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
    sections: options.SectionsOption = None,
    brief: options.BriefOption = False,
    samples: options.SamplesOption = "rows",
    hidden: options.HiddenOption = None,
    activation: options.ActivationOption = None,
    output_activation: options.OutputActivationOption = None,
    slope: options.SlopeOption = None,
) -> None:
    """Derive ∂L/∂Z, ∂L/∂W (and ∂L/∂b) entry by entry and verify the matrix identities.

    With --samples columns, A = WX + b1ᵀ (X of size k×m, one sample per column): ∂L/∂X = Wᵀ·∂L/∂A,
    ∂L/∂W = ∂L/∂A·Xᵀ (and ∂L/∂b = ∂L/∂A·1).

    Prints the whole derivation; with the default sizes it is the 2×2×2 example. A short
    verification summary goes to stderr. Above the symbolic limit (or with --numeric) the
    identities are checked numerically instead, and the output says so. Exit code 0 when every
    identity holds, 1 when one fails, 2 for bad input.

    With --hidden (and --activation, --output-activation), a network X → A1 → H1 → … instead:
    every gradient and every ∂L/∂Aℓ of its backward pass, derived and verified the same way.
    """
    network = options.network_choice(hidden, activation, output_activation, slope, samples)
    sizes = options.parse_sizes(m, k, n, samples)
    options.require_latex_for_standalone(output_format, standalone)
    if network is not None:
        from .networks import derive_network_command

        # Every option as given: the network's command takes those it offers, refuses the rest.
        return derive_network_command(network, sizes, dict(locals()))
    chosen = options.document_choice(
        sections, brief, full, output_format, bias=bias, loss=loss, samples=samples
    )
    numeric = _numeric_route(sizes, engine, loss, numeric)
    _refuse_early(sizes, output_format, bias, loss, full, numeric, chosen)
    destination = prepare_output(output, output_format, force)
    if numeric:
        from ..core.numeric import numeric_verify

        result = numeric_verify(*_mkn(sizes), bias=bias, seed=seed, loss=loss, samples=samples)
        deliver(result, output_format, destination, force, standalone=standalone)
        conclude(result, result.verified)
    derivation = _derived(sizes, bias, engine, loss)
    shaped: dict[str, Any] = {"full": full, "chosen": chosen}  # what the document shows
    deliver(derivation, output_format, destination, force, standalone=standalone, **shaped)
    conclude(derivation, derivation.verified, told=output_format == "text" and destination is None)


def _refuse_early(
    sizes: Sizes,
    output_format: str,
    bias: bool,
    loss: str,
    full: bool,
    numeric: bool,
    chosen: dict[str, Any],
) -> None:
    """Refuse, before any work, what the single layer's derivation cannot print: a document's
    sections under --numeric, --full or a concrete loss's JSON above their limits."""
    if chosen and numeric:
        raise InputError("--sections and --brief shape the symbolic derivation, not --numeric")
    if full and not numeric:
        require_full_fits(sizes.m, sizes.k, sizes.n, bias, output_format)
    if output_format == "json" and loss != "generic" and not numeric:
        from ..core.losses import concrete_loss

        require_json_fits(sizes.m, sizes.k, sizes.n, concrete_loss(loss))


def _mkn(sizes: Sizes) -> tuple[int, int, int]:
    """m, k and n, as the core's functions take them."""
    return sizes.m, sizes.k, sizes.n


def _derived(sizes: Sizes, bias: bool, engine: str | None, loss: str) -> Derivation:
    """The symbolic derivation at ``sizes``, in their convention, with a progress bar on a
    terminal when it takes a while."""
    from ..core.derive import derive as derive_layer

    with TerminalProgress() as progress:
        return derive_layer(
            *_mkn(sizes),
            bias=bias,
            engine=engine,
            loss=loss,
            samples=sizes.samples,
            progress=progress,
        )


def _numeric_route(sizes: Sizes, engine: str | None, loss: str, numeric: bool) -> bool:
    """Whether the numeric check runs: asked for, or the sizes are above the symbolic limit
    (said on stderr). Refuses, before any work, what neither route can do."""
    from ..core.derive import validate_sizes
    from ..core.losses import loss_named
    from ..core.numeric import validate_numeric_sizes

    definition = loss_named(loss)
    if numeric:
        validate_numeric_sizes(sizes.m, sizes.k, sizes.n)
        return True
    try:
        # The sizes are positive integers: a SizeError of a concrete loss is its symbolic limit.
        definition.validate(sizes)
        validate_sizes(sizes.m, sizes.k, sizes.n, engine)
    except SizeError as error:
        if not (isinstance(error, AboveSymbolicLimit) or definition.concrete):
            raise
        validate_numeric_sizes(sizes.m, sizes.k, sizes.n)
        sys.stderr.write(_switch_notice(sizes, definition))
        return True
    return False


def _switch_notice(sizes: Sizes, definition: Loss) -> str:
    """What derive says on stderr when it turns to the numeric check by itself."""
    if not definition.concrete:
        return (
            f"matgrad: m·k·n = {sizes.m * sizes.k * sizes.n} is above the symbolic limit; "
            "running the exact numeric check instead\n"
        )
    # exp and log have no exact figures: the numeric check encloses them in intervals.
    kind = "exact numeric check" if definition.polynomial else "numeric check to within a bound"
    return (
        f"matgrad: m={sizes.m}, k={sizes.k}, n={sizes.n} is above the symbolic limit of "
        f"--loss {definition.name}; running the {kind} instead\n"
    )


def prove(
    bias: options.BiasOption = True,
    output_format: options.ProofFormatOption = "latex",
    standalone: options.StandaloneOption = False,
    output: options.OutputOption = None,
    force: options.ForceOption = False,
    samples: options.SamplesOption = "rows",
    hidden: options.HiddenOption = None,
    activation: options.ActivationOption = None,
    output_activation: options.OutputActivationOption = None,
    slope: options.SlopeOption = None,
) -> None:
    """Prove ∂L/∂Z, ∂L/∂W (and ∂L/∂b) for every size, in index notation, with SymPy.

    With --samples columns, the gradients of A = WX + b1ᵀ: ∂L/∂X, ∂L/∂W (and ∂L/∂b).

    m, k and n stay symbols and the entries are indexed symbols. Each step (the partial
    derivatives, each sum a Kronecker delta collapses, the comparison with the entry of the
    matrix product) is computed by the CAS; a step it cannot finish is reported as NOT proved.
    A one-line summary goes to stderr. Exit code 0 when every identity is proved, 1 when one
    is not, 2 for bad input.

    With --hidden (and --activation, --output-activation), the backward pass of a network of
    that depth, for every batch size and every width: each rule of the recursion, with the
    activation's derivative as a diagonal factor.
    """
    from ..core.proof import prove as prove_identities

    network = options.network_choice(hidden, activation, output_activation, slope, samples)
    options.require_latex_for_standalone(output_format, standalone)
    if network is not None:
        from ..core.network_proof import network_proof_arguments, prove_network

        chosen: dict[str, Any] = {
            "activation": network.activation,
            "output_activation": network.output_activation,
            "bias": bias,
            "slope": network.slope,
        }
        network_proof_arguments(network.hidden, **chosen)  # refused before any file is touched
        destination = prepare_output(output, output_format, force)
        proved = prove_network(network.hidden, **chosen)
        deliver(proved, output_format, destination, force, standalone=standalone)
        conclude(proved, proved.proved, told=output_format == "text" and destination is None)
    destination = prepare_output(output, output_format, force)
    report = prove_identities(bias=bias, samples=samples)
    deliver(report, output_format, destination, force, standalone=standalone)
    conclude(report, report.proved, told=output_format == "text" and destination is None)


def jacobian(
    m: options.MOption = "2",
    k: options.KOption = "2",
    n: options.NOption = "2",
    layout: options.LayoutOption = "numerator",
    output_format: options.JacobianFormatOption = "latex",
    standalone: options.StandaloneOption = False,
    output: options.OutputOption = None,
    force: options.ForceOption = False,
    full: options.FullOption = False,
    samples: options.SamplesOption = "rows",
    hidden: options.HiddenOption = None,
    activation: options.ActivationOption = None,
    output_activation: options.OutputActivationOption = None,
    slope: options.SlopeOption = None,
) -> None:
    """Show the Jacobians ∂A/∂W and ∂A/∂Z of A = ZW as matrices and verify them entry by entry.

    Lays ∂a_{i,j}/∂w_{r,q} = z_{i,r} δ_{j,q} out through vec(A) = (I_n ⊗ Z) vec(W) =
    (Wᵀ ⊗ I_m) vec(Z), checks both identities, contracts with ∂L/∂A to get Zᵀ·∂L/∂A and
    ∂L/∂A·Wᵀ, and explains why "∂Y/∂W = Xᵀ" is wrong. A short verification summary goes to
    stderr. With --samples columns, the Jacobians ∂A/∂W and ∂A/∂X of A = WX: vec(A) =
    (I_m ⊗ W) vec(X) = (Xᵀ ⊗ I_n) vec(W). Exit code 0 when every identity holds, 1 when one
    fails, 2 for bad input.

    With --hidden (and --activation, --output-activation), each layer of a network from the
    top down: ∂vec Hℓ/∂vec Aℓ = diag(σ′(vec Aℓ)), ∂vec Aℓ/∂vec Wℓ, ∂vec Aℓ/∂vec bℓ and
    ∂vec Aℓ/∂vec H₍ℓ₋₁₎ as Kronecker products, and the chain contracting G down to ∂L/∂X.
    """
    from ..core.jacobians import jacobian as compute_jacobians
    from ..core.jacobians import validate_jacobian_sizes

    network = options.network_choice(hidden, activation, output_activation, slope, samples)
    sizes = options.parse_sizes(m, k, n, samples)
    options.require_latex_for_standalone(output_format, standalone)
    if network is not None:
        _network_jacobian(network, sizes, layout, output_format, standalone, output, force, full)
    validate_jacobian_sizes(sizes.m, sizes.k, sizes.n, samples)
    destination = prepare_output(output, output_format, force)
    view = compute_jacobians(sizes.m, sizes.k, sizes.n, layout=layout, samples=samples)
    deliver(view, output_format, destination, force, standalone=standalone, full=full)
    conclude(view, view.verified, told=output_format == "text" and destination is None)


def _network_jacobian(
    network: options.NetworkChoice,
    sizes: Sizes,
    layout: str,
    output_format: str,
    standalone: bool,
    output: str | None,
    force: bool,
    full: bool,
) -> None:
    """`matgrad jacobian` for a network: every argument checked before the output is touched."""
    from ..core.network_jacobians import network_jacobian, network_jacobian_arguments

    chosen: dict[str, Any] = {
        "layout": layout,
        "activation": network.activation,
        "output_activation": network.output_activation,
        "slope": network.slope,
    }
    network_jacobian_arguments(sizes.m, sizes.k, network.hidden, sizes.n, **chosen)
    destination = prepare_output(output, output_format, force)
    view = network_jacobian(sizes.m, sizes.k, network.hidden, sizes.n, **chosen)
    deliver(view, output_format, destination, force, standalone=standalone, full=full)
    conclude(view, view.verified, told=output_format == "text" and destination is None)


class TerminalProgress:
    """A rich progress bar on stderr, shown only once a run has taken about a second, and only
    when stderr is a terminal, so piped documents and logs stay clean; gone at the end of its
    ``with`` block."""

    DELAY = 0.8  # seconds

    def __init__(self) -> None:
        self._start = time.monotonic()
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> TerminalProgress | None:
        return self if sys.stderr.isatty() else None

    def __exit__(self, *exc_info: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self._progress is None:
            if time.monotonic() - self._start < self.DELAY:
                return
            from rich.console import Console
            from rich.progress import Progress

            self._progress = Progress(console=Console(stderr=True), transient=True)
            self._progress.start()
        if phase not in self._tasks:
            self._tasks[phase] = self._progress.add_task(phase, total=total)
        self._progress.update(self._tasks[phase], completed=done)
