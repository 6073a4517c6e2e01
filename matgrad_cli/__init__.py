"""matgrad: derive and verify the gradients of a matrix-multiplication layer, symbolically.

Importing the package is cheap: SymPy and symengine are imported only when a derivation runs.
"""

from __future__ import annotations

from .derive import derive
from .errors import MatgradError
from .model import Check, Derivation, Gradient, LayerDerivation, Sizes

__version__ = "0.1.0"

__all__ = [
    "Check",
    "Derivation",
    "Gradient",
    "LayerDerivation",
    "MatgradError",
    "Sizes",
    "__version__",
    "derive",
]
