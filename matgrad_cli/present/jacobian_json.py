"""The Jacobian view as JSON (docs/json.md)."""

from __future__ import annotations

import json
from typing import Any

from ..core.jacobians import SCHEMA_VERSION, JacobianCheck, JacobianDerivation, VecEntry
from .json import linear_form_text


def _entry_text(value: Any) -> str:
    return str(value)


def _check_data(check: JacobianCheck) -> dict[str, Any]:
    return {
        "kind": check.kind,
        "variable": check.variable,
        "identity": check.identity,
        "holds": check.holds,
        "shape": list(check.shape),
        "claimed_shape": list(check.claimed_shape),
        "entries_checked": check.entries_checked,
        "mismatch_count": check.mismatch_count,
        "mismatches": [
            {
                "index": list(mismatch.index),
                "computed": str(mismatch.elementwise),
                "claimed": str(mismatch.claimed),
            }
            for mismatch in check.mismatches
        ],
    }


def _label_text(label: VecEntry) -> str:
    letter, i, j = label
    return f"{letter}_{i}_{j}"


def jacobian_data(derivation: JacobianDerivation) -> dict[str, Any]:
    """The JSON document as Python data, keys in a fixed order. Gradient entries are written
    as in ``matgrad derive --format json`` (dA_i_j*w_r_j for Z, z_i_r*dA_i_j for W)."""
    sizes = derivation.sizes
    return {
        "kind": "jacobian",
        "schema": SCHEMA_VERSION,
        "layout": derivation.layout,
        "sizes": {"m": sizes.m, "k": sizes.k, "n": sizes.n},
        "verified": derivation.verified,
        "checks": [_check_data(check) for check in derivation.checks],
        "notes_claim": _check_data(derivation.notes_claim),
        "jacobians": {
            name: [[_entry_text(value) for value in row] for row in found.entries]
            for name, found in derivation.jacobians.items()
        },
        "shapes": {name: list(found.shape) for name, found in derivation.jacobians.items()},
        "rows": {
            name: [_label_text(label) for label in found.rows]
            for name, found in derivation.jacobians.items()
        },
        "columns": {
            name: [_label_text(label) for label in found.columns]
            for name, found in derivation.jacobians.items()
        },
        "kronecker": {name: found.formula for name, found in derivation.jacobians.items()},
        "gradients": {
            name: [[linear_form_text(entry, name == "Z") for entry in row] for row in form.entries]
            for name, form in derivation.contractions.items()
        },
        "conventions": {
            "vec": "column-major: vec(X) stacks the columns of X",
            "layout": (
                "numerator: rows follow vec(A), columns vec(X), so the Jacobian is (mn)×(size of X)"
                if derivation.layout == "numerator"
                else "denominator: rows follow vec(X), columns vec(A), the transpose of numerator"
            ),
            "gradients": "denominator layout: ∂L/∂X has the shape of X",
            "indices": "1-based",
            "variables": {
                "z_i_r": "Z[i, r]",
                "w_r_j": "W[r, j]",
                "dA_i_j": "∂L/∂a_{i,j}, the entries of G = ∂L/∂A",
            },
        },
    }


def render_jacobian_json(derivation: JacobianDerivation) -> str:
    """The JSON document, indented, with a final newline."""
    return json.dumps(jacobian_data(derivation), indent=2, ensure_ascii=False) + "\n"
