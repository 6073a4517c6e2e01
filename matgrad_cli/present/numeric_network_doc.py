"""The numeric check of a network as a document (every printed format) and as JSON data."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..core.activations import Generic, LeakyRelu, Relu
from ..core.numeric_network import NetworkNumericCheck, NetworkNumericResult
from .document import Display, Document, Paragraph, Section, Table
from .numeric_text import scientific

_ONES = re.compile(r"(?<![\w])1(?!\d)")
_NAMED = re.compile(r"([XAWHb])(\d+)")
_SIGNS = {"∂L/∂": r"\partial L/\partial ", "ᵀ": r"^{\top}", "·": r"\cdot", "⊙": r"\odot"}


def formula_latex(text: str) -> str:
    """A formula of the recursion (``(∂L/∂A2 · W2ᵀ) ⊙ σ′(A1)``) in LaTeX."""
    text = _ONES.sub(r"\\mathbf{1}", text)
    text = _NAMED.sub(r"\1_{\2}", text)
    text = text.replace("σ′", r"\sigma'")
    for sign, latex in _SIGNS.items():
        text = text.replace(sign, latex)
    return text


def _chain_latex(result: NetworkNumericResult) -> str:
    network = result.network
    names = ["X"]
    for layer in range(1, network.depth + 1):
        names.append(f"A_{{{layer}}}")
        if layer < network.depth or network.output_activated:
            names.append(f"H_{{{layer}}}")
    return r" \to ".join(names)


def _output_latex(result: NetworkNumericResult) -> str:
    name = result.network.output_name
    return f"{name[0]}_{{{name[1:]}}}"


def _name_latex(name: str) -> str:
    """``W1`` as ``W_{1}``."""
    return _NAMED.sub(r"\1_{\2}", name)


def _drawn_latex(result: NetworkNumericResult) -> str:
    names = [_name_latex(name) for name in result.network.parameters()]
    output = _output_latex(result)
    last = {"generic": f"G = \\partial L/\\partial {output}", "squared-error": "Y"}.get(result.loss)
    if last is None:
        names, last = names[:-1], names[-1]
    return ", ".join(f"${name}$" for name in names) + f" and ${last}$"


#: Each loss of the output O, and ∂L/∂O, in LaTeX.
_LOSSES = {
    "generic": ("L = \\sum_{p,q} G_{p,q}\\, o_{p,q}", "G"),
    "sum": ("L = \\sum_{p,q} o_{p,q}", "\\mathbf{1}\\mathbf{1}^{\\top}"),
    "squared-error": ("L = \\tfrac12 \\sum_{p,q} (o_{p,q} - y_{p,q})^2", "O - Y"),
    "softmax-cross-entropy": (
        "L = \\sum_p \\Bigl(\\log \\sum_q e^{o_{p,q}} - \\sum_q y_{p,q}\\, o_{p,q}\\Bigr)",
        "\\operatorname{softmax}(O) - Y",
    ),
}


def _what(result: NetworkNumericResult) -> tuple[Paragraph | Display, ...]:
    network, bound, output = result.network, result.entry_range, _output_latex(result)
    loss, gradient = _LOSSES[result.loss]
    scaled = (
        f", each $W_\\ell$ divided by $3 d_{{\\ell-1}}$ and each $b_\\ell$ by ${bound}$, so that "
        "no sigmoid, tanh or softmax saturates"
        if not result.exact
        else ""
    )
    if result.loss == "softmax-cross-entropy":
        scaled += "; each row of $Y$ is one-hot, at a random class"
    hidden = (
        f"the hidden layers' activation is {network.activation.name}, " if network.depth > 1 else ""
    )
    return (
        Paragraph(
            f"This is a {result.method}. The entries of {_drawn_latex(result)} are random "
            f"integers from ${-bound}$ to ${bound}$ (seed {result.seed}){scaled}. The loss is"
        ),
        Display((f"{loss}, \\qquad O = {output},",)),
        Paragraph(
            f"so that $\\partial L/\\partial O = {gradient}$; {hidden}the output's is "
            f"{network.output_activation.name}."
        ),
        Paragraph(
            "The matrix route evaluates the backward recursion at the draw. The elementwise "
            "route differentiates $L$ by forward mode (dual numbers) through the whole network, "
            "each activation's derivative taken from its definition, never from the recursion: "
            "one tangent per entry compared (every entry while that fits the work budget, else a "
            "seeded sample), and along random directions $V$ (entries up to "
            f"${_thousands(result.direction_range)}$ in magnitude, never 0) the derivative of "
            "$L$ along $V$ is compared with the inner product of the claimed matrix and $V$; a "
            "matrix that differs at this draw passes a direction with probability at most "
            f"$1/{_thousands(2 * result.direction_range)}$. Gradients are in denominator layout: "
            "$\\partial L/\\partial X$ has the shape of $X$."
        ),
        *(Paragraph(note) for note in _notes(result)),
    )


def _notes(result: NetworkNumericResult) -> list[str]:
    network = result.network
    activations = {network.activation_of(layer) for layer in range(1, network.depth + 1)}
    notes = []
    if result.polynomial is not None and any(isinstance(a, Generic) for a in activations):
        notes.append(
            f"The generic $\\sigma$ is stood in for by the random quadratic "
            f"${result.polynomial.latex}$: the recursion holds for every differentiable "
            "$\\sigma$, so it must hold for this one, and a recursion that is wrong for "
            "$\\sigma$ in general is wrong for almost every quadratic."
        )
    if any(isinstance(a, Relu | LeakyRelu) for a in activations):
        notes.append(
            "matgrad takes $\\mathrm{relu}'(0) = 0$ and $\\mathrm{leaky\\text{-}relu}'(0) = "
            "\\alpha$ at the kink, which an integer draw does hit."
        )
    notes.append(
        "Every figure is an exact rational number, and every comparison is exact."
        if result.exact
        else "The exponentials are enclosed by mpmath, rounded outward, and every other "
        "operation in verified balls (midpoint and radius, every rounding error bounded). Two "
        "sides agree when their enclosures overlap; their true values then differ by at most "
        "the bound in the table, and enclosures that do not overlap prove a rule wrong."
    )
    return notes


def _compared(check: NetworkNumericCheck) -> str:
    if check.claimed_shape != check.shape:
        return "none"
    entries = (
        f"all {check.entries:,} entries"
        if check.every_entry
        else f"{check.compared:,} of {check.entries:,} entries"
    )
    return f"{entries}, {check.directions} directions"


def _outcome(check: NetworkNumericCheck) -> str:
    if check.claimed_shape == (0, 0):
        return "FAILS (its factors' sizes do not fit)"
    if check.claimed_shape != check.shape:
        return f"FAILS (it is ${check.claimed_shape[0]} \\times {check.claimed_shape[1]}$)"
    if not check.holds:
        wrong = f"{check.mismatch_count:,} entries differ" if check.mismatch_count else ""
        directions = f"{check.failed_directions} directions differ"
        return f"FAILS ({wrong or directions})"
    return "holds" if check.bound == 0 else f"holds to within ${scientific(check.bound, True)}$"


def numeric_network_document(result: NetworkNumericResult, full: bool = False) -> Document:
    """What was checked, then each identity's result in a table, and the verdict."""
    del full
    sizes = result.sizes
    rows = tuple(
        (
            f"$\\partial L/\\partial {_name_latex(check.name)} = {formula_latex(check.formula)}$",
            f"${check.shape[0]} \\times {check.shape[1]}$",
            _compared(check),
            _outcome(check),
        )
        for check in result.checks
    )
    if result.verified:
        closing = "exactly" if result.exact else f"to within ${scientific(result.bound, True)}$"
        verdict = f"Every identity held at this draw, {closing}."
    else:
        verdict = "Some identities FAIL at this draw."
    hidden = ", ".join(str(width) for width in sizes.hidden) or "none"
    return Document(
        f"Numeric check of the backward pass of ${_chain_latex(result)}$, $m = {sizes.m}$, "
        f"$k = {sizes.k}$, hidden widths {hidden}, $n = {sizes.n}$",
        (
            Section("What was checked", _what(result)),
            Section(
                "Result",
                (
                    Table(("identity", "shape", "compared", "result"), rows),
                    Paragraph(
                        f"{verdict} A numeric check at random values is evidence, not a symbolic "
                        "proof; another seed repeats it with an independent draw."
                    ),
                ),
            ),
        ),
    )


# --- JSON ------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _check_data(check: NetworkNumericCheck) -> dict[str, Any]:
    return {
        "name": check.name,
        "identity": check.identity,
        "holds": check.holds,
        "shape": list(check.shape),
        "claimed_shape": list(check.claimed_shape),
        "entries": check.entries,
        "compared": check.compared,
        "every_entry": check.every_entry,
        "directions": check.directions,
        "failed_directions": check.failed_directions,
        "escape_probability": check.escape_probability,
        "mismatch_count": check.mismatch_count,
        "bound": check.bound,
        "mismatches": [
            {
                "index": list(miss.index),
                "elementwise": _json_value(miss.elementwise),
                "claimed": _json_value(miss.claimed),
            }
            for miss in check.mismatches
        ],
    }


def numeric_network_data(result: NetworkNumericResult) -> dict[str, Any]:
    """The numeric check of a network as JSON-able data, marked ``"kind": "numeric-network"``."""
    network, sizes, polynomial = result.network, result.sizes, result.polynomial
    slope = getattr(network.activation, "slope", None) or getattr(
        network.output_activation, "slope", None
    )
    return {
        "kind": "numeric-network",
        "method": result.method,
        "loss": result.loss,
        "exact": result.exact,
        "bound": result.bound,
        "network": {
            "sizes": {"m": sizes.m, "k": sizes.k, "hidden": list(sizes.hidden), "n": sizes.n},
            "activation": network.activation.name,
            "output_activation": network.output_activation.name,
            "slope": None if slope is None else str(slope),
            "bias": network.bias,
            "output": network.output_name,
        },
        "seed": result.seed,
        "entry_range": [-result.entry_range, result.entry_range],
        "direction_range": result.direction_range,
        # Networks with a sigmoid or tanh divide Wℓ by 3·dℓ₋₁ and bℓ by the entry range.
        "scaled": not result.exact,
        "polynomial": None
        if polynomial is None
        else {"c0": polynomial.c0, "c1": polynomial.c1, "c2": polynomial.c2},
        "verified": result.verified,
        "checks": [_check_data(check) for check in result.checks],
    }


def render_numeric_network_json(result: NetworkNumericResult) -> str:
    """The data as JSON text, indented, non-ASCII kept, ending in a newline."""
    return json.dumps(numeric_network_data(result), indent=2, ensure_ascii=False) + "\n"


def _thousands(number: int) -> str:
    """An integer in inline maths with its thousands separated: ``1{,}000{,}000``."""
    return f"{number:,}".replace(",", "{,}")
