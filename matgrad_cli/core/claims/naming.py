"""The two namings of the layer's input: Z with samples as rows (A = ZW + 1b), X with samples as
columns (A = WX + b1ᵀ). W, b, A, G and Y are named alike in both.

A claim may be written in either naming. It is read in the convention it is checked in: a name
of the other naming stands for the input there (``dX = …`` checked with samples as rows is read
as ``dZ = …``), and the reading is said in a note, so that a student who wrote for the other
convention is told so (conventions.py recognises the answer). A claim that names the input both
ways cannot be read in either, and is refused at the first name of the second naming.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import MixedNamingError
from ..layer import LAYERS, Samples
from .tree import INPUTS, Name, Node, Target, renamed, subtrees

#: How each convention writes the layer, for messages: its forward pass and its input's shape.
FORWARD: dict[Samples, str] = {"rows": "A = ZW + 1b", "columns": "A = WX + b1ᵀ"}
_NAMING_OF: dict[str, Samples] = {name: samples for samples, name in INPUTS.items()}


def input_shape(samples: Samples) -> str:
    """``Z is m×k``, ``X is k×m``: the input of the convention and its shape in sizes."""
    matrix = LAYERS[samples].matrix(INPUTS[samples])
    return f"{matrix.name} is {matrix.rows}×{matrix.cols}"


def convention_line(samples: Samples) -> str:
    """The sentence a report states its convention with, e.g. ``Judged with samples as columns:
    A = WX + b1ᵀ, X is k×m.``"""
    return f"Judged with samples as {samples}: {FORWARD[samples]}, {input_shape(samples)}."


@dataclass(frozen=True)
class Reading:
    """A claim's target and expression in the names of the convention it is read in, the
    naming it was written in (None when it names no input), and what to say about the reading."""

    target: Target
    expr: Node
    naming: Samples | None
    notes: tuple[str, ...]


def _input_names(target: Target, target_at: int, expr: Node) -> list[tuple[int, str]]:
    """The names of the input the claim writes, with their positions, in the order written."""
    found: list[tuple[int, str]] = [(target_at, target)] if target in _NAMING_OF else []
    found += [
        (node.span.start, node.name)
        for _, node in subtrees(expr)
        if isinstance(node, Name) and node.name in _NAMING_OF
    ]
    return sorted(found)


def read_in(samples: Samples, target: Target, target_at: int, expr: Node, source: str) -> Reading:
    """The claim read in the convention ``samples``; MixedNamingError when it names the input
    both as Z and as X, at the first name of the naming written second."""
    written = _input_names(target, target_at, expr)
    namings = list(dict.fromkeys(_NAMING_OF[name] for _, name in written))
    if len(namings) > 1:
        first, second = namings
        position = next(at for at, name in written if _NAMING_OF[name] == second)
        raise MixedNamingError(
            f"the claim names the input both {INPUTS[first]} ({FORWARD[first]}, samples as "
            f"{first}) and {INPUTS[second]} ({FORWARD[second]}, samples as {second}): write it "
            f"in one naming (in Andrew Ng's notation Z = WX + b is matgrad's A, and dZ is G)",
            source,
            position,
        )
    naming = namings[0] if namings else None
    if naming is None or naming == samples:
        return Reading(target, expr, naming, ())
    mapping: dict[str, str] = {INPUTS[naming]: INPUTS[samples]}
    note = (
        f"{INPUTS[naming]}, the input's name with samples as {naming}, was read as "
        f"{INPUTS[samples]}, the input with samples as {samples} ({FORWARD[samples]}, "
        f"{input_shape(samples)})"
    )
    new_target: Target = INPUTS[samples] if target == INPUTS[naming] else target
    return Reading(new_target, renamed(expr, mapping), naming, (note,))
