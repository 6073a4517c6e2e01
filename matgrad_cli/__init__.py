"""matgrad: derive and verify the gradients of a matrix-multiplication layer, symbolically.

Importing the package is cheap: SymPy and symengine are imported only when a derivation runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import MatgradError

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .core.checks import Check
    from .core.claims import CheckReport, ClaimVerdict, Counterexample, EntryDifference, check
    from .core.derive import derive
    from .core.jacobians import JacobianDerivation, jacobian
    from .core.layer import Sizes
    from .core.model import Derivation, Gradient, LayerDerivation
    from .core.network_derive import NetworkDerivation, derive_network
    from .core.proof import ProofReport, prove

#: Every name is imported on first use, so that importing the package costs almost nothing: the
#: command starts by installing its Ctrl-C handling (matgrad_cli/launch.py) before anything else.
_LAZY = {
    "Check": "core.checks",
    "derive": "core.derive",
    "Sizes": "core.layer",
    **dict.fromkeys(("Derivation", "Gradient", "LayerDerivation"), "core.model"),
    **dict.fromkeys(
        ("CheckReport", "ClaimVerdict", "Counterexample", "EntryDifference", "check"), "core.claims"
    ),
    **dict.fromkeys(("JacobianDerivation", "jacobian"), "core.jacobians"),
    **dict.fromkeys(("ProofReport", "prove"), "core.proof"),
    **dict.fromkeys(("NetworkDerivation", "derive_network"), "core.network_derive"),
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
    "NetworkDerivation",
    "ProofReport",
    "Sizes",
    "__version__",
    "check",
    "derive",
    "derive_network",
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
