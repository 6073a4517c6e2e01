"""The numeric check of a network as plain text and as its one-line verdict; the sentences that
say what was checked are shared with its document (numeric_network_doc.py) and JSON."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

from ..core.activations import Generic, LeakyRelu, Relu
from ..core.numeric_network import NetworkNumericCheck, NetworkNumericResult
from .numeric_text import scientific


def chain(result: NetworkNumericResult) -> str:
    """X → A1 → H1 → … → the output, in plain text."""
    network = result.network
    names = ["X"]
    for layer in range(1, network.depth + 1):
        names.append(f"A{layer}")
        if layer < network.depth or network.output_activated:
            names.append(f"H{layer}")
    return " → ".join(names)


def sizes_text(result: NetworkNumericResult) -> str:
    """``m=64, k=64, hidden 64,32, n=10``."""
    sizes = result.sizes
    hidden = ",".join(str(width) for width in sizes.hidden) or "none"
    return f"m={sizes.m}, k={sizes.k}, hidden {hidden}, n={sizes.n}"


def activations_text(result: NetworkNumericResult) -> str:
    """The activations, e.g. ``relu hidden, identity output``."""
    network = result.network
    output = f"{network.output_activation.name} output"
    if network.depth == 1:
        return output
    return f"{network.activation.name} hidden, {output}"


def drawn_names(result: NetworkNumericResult) -> list[str]:
    """The matrices drawn at random: X, W1, b1, W2, …, and G (generic loss) or Y (squared
    error)."""
    extra = {"generic": ["G"], "squared-error": ["Y"]}.get(result.loss, [])
    if result.loss == "softmax-cross-entropy":
        return [*result.network.parameters()]
    return [*result.network.parameters(), *extra]


def draw_sentence(result: NetworkNumericResult) -> str:
    """How the random values were drawn."""
    bound, network = result.entry_range, result.network
    names = drawn_names(result)
    if result.loss == "generic":
        names[-1] = f"G = ∂L/∂{network.output_name}"
    listed = ", ".join(names[:-1]) + f" and {names[-1]}"
    text = f"{listed} are random integers from −{bound} to {bound} (seed {result.seed})"
    if not result.exact:
        text += (
            f", each Wℓ divided by 3·dℓ₋₁ and each bℓ by {bound}, so that no sigmoid, tanh or "
            "softmax saturates"
        )
    if result.loss == "softmax-cross-entropy":
        text += "; each row of Y is one-hot, at a random class"
    return text


def loss_sentence(result: NetworkNumericResult) -> str:
    """The loss of the network's output O and what it makes ∂L/∂O."""
    output = result.network.output_name
    if result.loss == "sum":
        return f"the loss is L = Σ o_(p,q) of the network's output O = {output}, so ∂L/∂O = 1"
    if result.loss == "softmax-cross-entropy":
        return (
            "the loss is the softmax cross-entropy L = Σ_p (log Σ_q e^o_(p,q) − Σ_q "
            f"y_(p,q)·o_(p,q)) of the network's output O = {output}, so ∂L/∂O = softmax(O) − Y"
        )
    if result.loss == "squared-error":
        return (
            f"the loss is the squared error L = ½ Σ (o_(p,q) − y_(p,q))² of the network's output "
            f"O = {output}, so ∂L/∂O = O − Y"
        )
    return f"the loss is L = Σ G_(p,q)·o_(p,q) of the network's output O = {output}, so ∂L/∂O = G"


def notes(result: NetworkNumericResult) -> list[str]:
    """What stands in for the generic σ, the value taken at relu's kink, how figures compare."""
    network = result.network
    activations = {network.activation_of(layer) for layer in range(1, network.depth + 1)}
    lines = []
    if result.polynomial is not None and any(isinstance(a, Generic) for a in activations):
        lines.append(
            f"The generic σ is stood in for by the random quadratic {result.polynomial.text}: "
            "the recursion holds for every differentiable σ, so it must hold for this one, and a "
            "recursion that is wrong for σ in general is wrong for almost every quadratic (its "
            "σ′ is not constant, so σ′ at the wrong layer is told apart)."
        )
    if any(isinstance(a, Relu | LeakyRelu) for a in activations):
        lines.append(
            "relu′(0) = 0 and leaky-relu′(0) = α, the values matgrad takes at the kink (an "
            "integer draw does hit 0)."
        )
    if result.exact:
        lines.append("Every figure is an exact rational number, and every comparison is exact.")
    else:
        lines.append(
            "The exponentials (of the sigmoid, tanh and softmax) are enclosed by mpmath, rounded "
            "outward, "
            "and every other operation in verified balls (midpoint and radius, with every "
            "rounding error bounded). Two sides agree when their enclosures overlap; their true "
            "values then differ by at most the bound stated, and enclosures that do not overlap "
            "prove a rule wrong at this draw."
        )
    return lines


def how_sentence(result: NetworkNumericResult) -> str:
    """How the two routes were computed and compared."""
    return (
        "The matrix route evaluates the backward recursion at the draw. The elementwise route "
        "differentiates L by forward mode (dual numbers) through the whole network, each "
        "activation's derivative taken from its definition, never from the recursion: one "
        "tangent per entry compared (every entry while that fits the work budget, else a seeded "
        f"sample), and along random directions V (entries ±1..±{result.direction_range:,}) the "
        "derivative of L along V is compared with ⟨claimed, V⟩; a matrix that differs at this "
        f"draw passes a direction with probability at most 1/{2 * result.direction_range:,}."
    )


def within(check: NetworkNumericCheck) -> str:
    """``exactly`` or ``to within 4.0·10⁻¹⁴``."""
    return "exactly" if check.bound == 0 else f"to within {scientific(check.bound)}"


def _check_lines(check: NetworkNumericCheck, exact: bool) -> Iterator[str]:
    shape = f"{check.shape[0]}×{check.shape[1]}"
    if check.claimed_shape != check.shape:
        yield f"{check.identity}  ({shape}): FAILS"
        if check.claimed_shape == (0, 0):
            yield "  the recursion cannot be evaluated: the sizes of its factors do not fit"
        else:
            claimed = f"{check.claimed_shape[0]}×{check.claimed_shape[1]}"
            yield f"  the matrix form is {claimed}, but ∂L/∂{check.name} is {shape}"
        return
    verdict = (f"holds {within(check)}" if not exact else "holds") if check.holds else "FAILS"
    yield f"{check.identity}  ({shape}): {verdict}"
    which = "every entry" if check.every_entry else "a seeded random sample"
    yield (
        f"  {check.compared:,} of {check.entries:,} entries ({which}) compared with their "
        "forward-mode partials"
    )
    outcome = (
        "all equal"
        if not check.failed_directions
        else f"{check.failed_directions} of {check.directions} differ"
    )
    yield f"  {check.directions} random directions: {outcome}"
    if check.holds and not check.every_entry:
        yield (
            f"  a matrix that differs at this draw passes with probability at most "
            f"{check.escape_probability:.1e}"
        )
    if not check.holds and check.mismatch_count:
        noun = "entry" if check.mismatch_count == 1 else "entries"
        at_least = "" if check.every_entry else "at least "
        yield f"  {at_least}{check.mismatch_count:,} wrong {noun}; first:"
        for mismatch in check.mismatches:
            row, col = mismatch.index
            yield (
                f"    ({row},{col}): elementwise {_number(mismatch.elementwise)}, "
                f"matrix form {_number(mismatch.claimed)}"
            )


def _number(value: object) -> str:
    return f"{value:.17g}" if isinstance(value, float) else str(value)


def render_numeric_network_text(
    result: NetworkNumericResult, width: int = 80, color: bool = False
) -> str:
    """The result as plain text, folded to ``width`` columns (``color`` is not used)."""
    del color
    failed = sum(not check.holds for check in result.checks)
    if result.verified:
        closing = "exactly" if result.exact else f"to within {scientific(result.bound)}"
        verdict = (
            f"Every identity held at this draw, {closing}. This is a numeric check at random "
            "values, not a symbolic proof; another --seed repeats it with an independent draw."
        )
    else:
        verdict = (
            f"NOT verified: {failed} of {len(result.checks)} identities fail at this draw "
            "(numeric check, not a symbolic proof)."
        )
    lines = [
        f"matgrad: {result.method}",
        f"Network {chain(result)} ({activations_text(result)}) with {sizes_text(result)}; "
        f"{draw_sentence(result)}; {loss_sentence(result)}.",
        "",
        *(line for check in result.checks for line in _check_lines(check, result.exact)),
        "",
        how_sentence(result),
        *notes(result),
        "Gradients are in denominator layout: ∂L/∂X has the shape of X.",
        "",
        verdict,
    ]
    return "\n".join(folded for line in lines for folded in _wrapped(line, width)) + "\n"


def _wrapped(line: str, width: int) -> list[str]:
    if len(line) <= width:
        return [line]
    indent = " " * (len(line) - len(line.lstrip()))
    return textwrap.wrap(line, width, subsequent_indent=indent + "  ", break_on_hyphens=False)


def numeric_network_summary(result: NetworkNumericResult) -> str:
    """The one-line verdict on stderr."""
    held = sum(check.holds for check in result.checks)
    verdict = "verified" if result.verified else "NOT verified"
    within_bound = "" if result.exact else f", to within {result.bound:.1e}"
    loss = "" if result.loss == "generic" else f", loss {result.loss}"
    return (
        f"{verdict} by {result.method} (network {sizes_text(result)}, "
        f"{activations_text(result)}{loss}): {held} of {len(result.checks)} identities hold"
        f"{within_bound}"
    )
