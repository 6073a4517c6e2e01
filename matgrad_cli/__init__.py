"""matgrad: derive and verify the gradients of a matrix-multiplication layer, symbolically.

Importing the package is cheap: SymPy and symengine are imported only when a derivation runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core.checks import Check
from .core.derive import derive
from .core.layer import Sizes
from .core.model import Derivation, Gradient, LayerDerivation
from .errors import MatgradError

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .core.claims import CheckReport, ClaimVerdict, Counterexample, EntryDifference, check
    from .core.jacobians import JacobianDerivation, jacobian
    from .core.proof import ProofReport, prove

#: Names imported on first use: the claim checker's import costs more than `matgrad --help`.
_LAZY = {
    **dict.fromkeys(
        ("CheckReport", "ClaimVerdict", "Counterexample", "EntryDifference", "check"), "core.claims"
    ),
    **dict.fromkeys(("JacobianDerivation", "jacobian"), "core.jacobians"),
    **dict.fromkeys(("ProofReport", "prove"), "core.proof"),
}

__all__ = [
    "Check",
    "CheckReport",
    "ClaimVerdict",
    "Counterexample",
    "Derivation",
    "EntryDifference",
    "Gradient",
    "JacobianDerivation",
    "LayerDerivation",
    "MatgradError",
    "ProofReport",
    "Sizes",
    "__version__",
    "check",
    "derive",
    "jacobian",
    "prove",
]


def __getattr__(name: str) -> Any:
    """Import a lazily exported name from its module on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'matgrad_cli' has no attribute {name!r}")
    from importlib import import_module

    value = globals()[name] = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    return value
