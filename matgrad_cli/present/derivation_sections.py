"""The sections of a derivation document a reader may choose with ``--sections``, by name, and
what ``--brief`` leaves out; kept apart from the document builder so that the command line reads
them (for its help and to check the names) without loading the builder.
"""

from __future__ import annotations

from ..core.layer import LAYERS, Samples
from ..errors import InputError

#: The sections of a derivation a reader may choose (``--sections``), in the document's order,
#: with what each holds; the input's gradient is named after the input (Z here, X with samples as
#: columns: ``sections_of``).
SECTIONS: dict[str, str] = {
    "setup": "the sizes, Z, W (and b), the convention and ∂L/∂A",
    "forward": "every a_{i,j} written out as its sum",
    "loss": "a concrete loss: L, ∂L/∂A in closed form and its checks",
    "Z": "∂L/∂Z entry by entry, assembled and verified",
    "W": "∂L/∂W entry by entry, assembled and verified",
    "b": "the bias: ∂L/∂b, and ∂L/∂Z, ∂L/∂W unchanged",
    "general": "why it holds at every size, in index notation",
    "summary": "every check in a table",
}

#: What a brief document leaves out unless asked for: the argument in index notation.
NOT_BRIEF = frozenset({"general"})


def sections_of(samples: Samples = "rows") -> dict[str, str]:
    """SECTIONS in the convention ``samples``: the input's gradient named after its input."""
    layer = LAYERS[samples]
    name = layer.role("input").name
    sections = {}
    for key, holds in SECTIONS.items():
        if key == "Z":
            key, holds = name, holds.replace("Z", name)
        sections[key] = holds.replace("∂L/∂Z", f"∂L/∂{name}").replace("Z, W", f"{name}, W")
    return sections


def parse_sections(
    text: str, *, bias: bool, concrete_loss: bool, samples: Samples = "rows"
) -> tuple[str, ...]:
    """The section names of ``--sections`` (comma-separated, in any order; the document keeps
    its own) in the convention ``samples``; an InputError for an unknown name, or for a section
    this derivation has not."""
    sections = sections_of(samples)
    names = [name.strip() for name in text.split(",")]
    for name in names:
        if name not in sections:
            choices = ", ".join(sections)
            raise InputError(f"unknown section {name!r} in --sections; choose from {choices}")
    if "b" in names and not bias:
        raise InputError("--sections b needs the bias (drop --no-bias)")
    if "loss" in names and not concrete_loss:
        raise InputError("--sections loss needs a concrete --loss (the generic loss has none)")
    return tuple(name for name in sections if name in names)
