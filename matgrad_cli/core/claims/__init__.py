"""``matgrad check``: gradient claims such as ``dW = Z.T @ G``, judged against the verified layer.

Three parts: a language (tree.py, parser.py, shapes.py, evaluation.py), a judge (answers.py, the
verified right answers; judge.py, the verdicts) and the repairs (repairs.py, one rule per kind of
slip). The verdicts are data (verdict.py); present/ prints them.
"""

from __future__ import annotations

from .answers import CORRECT_FORMULAS, GRADIENT_NAMES
from .cost import CheckTooCostly
from .judge import DEFAULT_SIZES, check, default_sizes
from .naming import convention_line
from .parser import DIALECTS, ClaimLine, Dialect, read_claims_file
from .repairs import LEADING_HINTS
from .shapes import shape_text
from .tree import number_text
from .verdict import (
    CheckReport,
    ClaimVerdict,
    Counterexample,
    EntryDifference,
    Mark,
    NumberMatrix,
    RefusedClaim,
)

__all__ = [
    "CORRECT_FORMULAS",
    "DEFAULT_SIZES",
    "DIALECTS",
    "GRADIENT_NAMES",
    "LEADING_HINTS",
    "CheckReport",
    "CheckTooCostly",
    "ClaimLine",
    "ClaimVerdict",
    "Counterexample",
    "Dialect",
    "EntryDifference",
    "Mark",
    "NumberMatrix",
    "RefusedClaim",
    "check",
    "convention_line",
    "default_sizes",
    "number_text",
    "read_claims_file",
    "shape_text",
]
