"""The derivation as JSON, for autograders and scripts (documented in docs/json.md).

Entry strings are in Python/SymPy syntax over z_i_j, w_i_j, b_j and dA_i_j (the entries of
∂L/∂A), 1-based, with terms in summation-index order, so that a script can evaluate them.
"""

from __future__ import annotations

import json
from typing import Any

from ..core.losses import LossDerivation
from ..core.model import Check, Derivation, LinearForm, Variable

#: Bumped whenever a field changes meaning or disappears.
SCHEMA_VERSION = 1


def _factor_text(factor: Any) -> str:
    text = str(factor)
    return f"({text})" if getattr(factor, "is_Add", False) else text


def linear_form_text(form: LinearForm, upstream_first: bool) -> str:
    """Σ dA_p_q·factor as a Python expression, in the stored term order; 0 when empty."""
    terms = []
    for (p, q), factor in form:
        upstream = f"dA_{p}_{q}"
        if str(factor) == "1":
            terms.append(upstream)
        elif upstream_first:
            terms.append(f"{upstream}*{_factor_text(factor)}")
        else:
            terms.append(f"{_factor_text(factor)}*{upstream}")
    return " + ".join(terms) if terms else "0"


def _check(check: Check) -> dict[str, Any]:
    return {
        "identity": check.identity,
        "variable": check.variable,
        "bias": check.bias,
        "holds": check.holds,
        "shape": list(check.shape),
        "claimed_shape": list(check.claimed_shape),
        "entries_checked": check.entries_checked,
        "mismatch_count": check.mismatch_count,
        "mismatches": [
            {
                "index": list(mismatch.index),
                "elementwise": str(mismatch.elementwise),
                "claimed": str(mismatch.claimed),
            }
            for mismatch in check.mismatches
        ],
    }


def derivation_data(derivation: Derivation) -> dict[str, Any]:
    """The JSON document as Python data."""
    layer = derivation.biased if derivation.biased is not None else derivation.plain
    order: dict[Variable, bool] = {"Z": True, "W": False, "b": True}
    gradients = {
        name: [
            [linear_form_text(rule.terms, order[name]) for rule in row] for row in gradient.entries
        ]
        for name, gradient in layer.gradients.items()
    }
    sizes = derivation.sizes
    data: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "sizes": {"m": sizes.m, "k": sizes.k, "n": sizes.n},
        "bias": derivation.bias,
        "loss": derivation.loss_name,
        "verified": derivation.verified,
        "checks": [_check(check) for check in derivation.checks],
        "gradients": gradients,
        "conventions": {
            "layout": "denominator: dL/dX has the shape of X",
            "indices": "1-based",
            "variables": {
                "z_i_j": "entry (i, j) of Z, m x k",
                "w_i_j": "entry (i, j) of W, k x n",
                "b_j": "entry j of the bias row b, 1 x n",
                "dA_i_j": "entry (i, j) of dL/dA, m x n",
            },
        },
    }
    if derivation.loss is not None:
        data["conventions"]["variables"].update(
            {
                "y_i_j": "entry (i, j) of the targets Y, m x n",
                "a_i_j": "entry (i, j) of A = ZW (+ b), in loss_gradients.A",
            }
        )
        data["loss_gradients"] = _loss_gradients(derivation.loss)
    return data


def _matrix_text(matrix: Any) -> list[list[str]]:
    return [[str(matrix[i, j]) for j in range(matrix.shape[1])] for i in range(matrix.shape[0])]


def _loss_gradients(loss: LossDerivation) -> dict[str, Any]:
    """A concrete loss's ∂L/∂A over a_i_j, y_i_j, and ∂L/∂Z, ∂L/∂W, ∂L/∂b over z, w, b, y."""
    return {
        "closed_form_holds": loss.closed_form_holds,
        "condition": loss.condition,
        "A": _matrix_text(loss.upstream),
        **{name: _matrix_text(matrix) for name, matrix in loss.elementwise.items()},
    }


def render_json(derivation: Derivation) -> str:
    """The derivation as a JSON text, keys in a fixed order, ending in a newline."""
    return json.dumps(derivation_data(derivation), indent=2, ensure_ascii=False) + "\n"
