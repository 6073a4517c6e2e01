"""Every result as JSON, for autograders and scripts (docs/json.md, docs/claims.md, docs/prove.md).

One function per kind of result gives its data (``*_data``), keys in a fixed order, and
``render_json`` the text of any of them. Expressions are in Python/SymPy syntax over z_i_j, w_i_j,
b_j and dA_i_j (the entries of G = ∂L/∂A; with samples as columns x_r_i, w_j_r, b_j and dA_j_i),
1-based, terms in summation-index order, so that a script can evaluate them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..core.checks import Check
from ..core.layer import ROWS, Layer, Samples, Sizes
from ..core.model import Derivation, LinearForm
from .layer_latex import upstream_first

if TYPE_CHECKING:
    from ..core.claims import CheckReport, ClaimVerdict, NumberMatrix, RefusedClaim
    from ..core.jacobians import JacobianCheck, JacobianDerivation, VecEntry
    from ..core.losses import LossDerivation
    from ..core.numeric import NumericCheck, NumericResult
    from ..core.proof import ProofReport

#: The schema of the derivation, check and Jacobian documents; bumped whenever a field changes
#: meaning or disappears.
SCHEMA_VERSION = 1


def _sizes(sizes: Sizes) -> dict[str, int]:
    return {"m": sizes.m, "k": sizes.k, "n": sizes.n}


def _fields(record: object, names: str) -> dict[str, Any]:
    """The attributes of ``record`` named in ``names`` (separated by spaces), in that order;
    tuples, such as shapes, as JSON lists."""
    values = {name: getattr(record, name) for name in names.split()}
    return {name: list(v) if isinstance(v, tuple) else v for name, v in values.items()}


def _check(
    check: Check | JacobianCheck | NumericCheck,
    fields: str,
    computed: str = "elementwise",
    value: Callable[[Any], Any] = str,
) -> dict[str, Any]:
    """A check's attributes named in ``fields``, then its first differing entries: ``computed``
    names the elementwise side, and ``value`` writes each side (as text unless told)."""
    mismatches = [
        {
            "index": list(miss.index),
            computed: value(miss.elementwise),
            "claimed": value(miss.claimed),
        }
        for miss in check.mismatches
    ]
    return {**_fields(check, fields), "mismatches": mismatches}


# The derivation (matgrad derive --format json).


def _factor_text(factor: Any) -> str:
    text = str(factor)
    return f"({text})" if getattr(factor, "is_Add", False) else text


def linear_form_text(form: LinearForm, variable: str, layer: Layer = ROWS) -> str:
    """Σ dA_p_q·factor, an entry of ∂L/∂``variable`` of ``layer``, as a Python expression: terms
    in the stored order, each in the order of its product (layer_latex.upstream_first); 0 when
    empty."""
    first = upstream_first(variable, layer)
    terms = []
    for (p, q), factor in form:
        upstream = layer.role("upstream").symbol_name(p, q)
        if str(factor) == "1":
            terms.append(upstream)
        elif first:
            terms.append(f"{upstream}*{_factor_text(factor)}")
        else:
            terms.append(f"{_factor_text(factor)}*{upstream}")
    return " + ".join(terms) if terms else "0"


#: What a check of the derivation says: the identity, where it was compared, what differed.
_CHECK = "identity variable bias holds shape claimed_shape entries_checked mismatch_count"


#: The symbols of a derivation's expressions, in each convention.
_DERIVATION_VARIABLES: dict[Samples, dict[str, str]] = {
    "rows": {
        "z_i_j": "entry (i, j) of Z, m x k",
        "w_i_j": "entry (i, j) of W, k x n",
        "b_j": "entry j of the bias row b, 1 x n",
        "dA_i_j": "entry (i, j) of dL/dA, m x n",
    },
    "columns": {
        "x_r_i": "entry (r, i) of X, k x m: input r of sample i",
        "w_j_r": "entry (j, r) of W, n x k",
        "b_j": "entry j of the bias column b, n x 1",
        "dA_j_i": "entry (j, i) of dL/dA, n x m",
    },
}
_LOSS_VARIABLES: dict[Samples, dict[str, str]] = {
    "rows": {
        "y_i_j": "entry (i, j) of the targets Y, m x n",
        "a_i_j": "entry (i, j) of A = ZW (+ b), in loss_gradients.A",
    },
    "columns": {
        "y_j_i": "entry (j, i) of the targets Y, n x m",
        "a_j_i": "entry (j, i) of A = WX (+ b1^T), in loss_gradients.A",
    },
}


def derivation_data(derivation: Derivation) -> dict[str, Any]:
    """The derivation's JSON document as Python data."""
    layer = derivation.biased if derivation.biased is not None else derivation.plain
    samples = derivation.sizes.samples
    gradients = {
        name: [
            [linear_form_text(rule.terms, name, derivation.sizes.layer) for rule in row]
            for row in gradient.entries
        ]
        for name, gradient in layer.gradients.items()
    }
    data: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "sizes": _sizes(derivation.sizes),
        # Stated when samples are columns (A = WX + b1ᵀ); without the key they are rows.
        **({"samples": samples} if samples == "columns" else {}),
        "bias": derivation.bias,
        "loss": derivation.loss_name,
        "verified": derivation.verified,
        "checks": [_check(check, _CHECK) for check in derivation.checks],
        "gradients": gradients,
        "conventions": {
            "layout": "denominator: dL/dX has the shape of X",
            "indices": "1-based",
            "variables": dict(_DERIVATION_VARIABLES[samples]),
        },
    }
    if derivation.loss is not None:
        data["conventions"]["variables"].update(_LOSS_VARIABLES[samples])
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


# The verdicts of matgrad check. Numbers in counterexamples are JSON integers, or exact decimal
# strings such as "0.5" when a claim scales by a decimal.


def _number(value: Fraction) -> int | str:
    """An exact number: a JSON integer, or its decimal text."""
    from ..core.claims import number_text

    return value.numerator if value.denominator == 1 else number_text(value)


def _number_matrix(matrix: NumberMatrix) -> list[list[int | str]]:
    return [[_number(entry) for entry in row] for row in matrix]


def _verdict(verdict: ClaimVerdict) -> dict[str, Any]:
    """One claim's verdict, with its shapes, first difference, counterexample and hint; and,
    for a wrong claim right in another convention, which (``convention``)."""
    data = _verdict_fields(verdict)
    if verdict.convention is not None:
        data["convention"] = {"kind": verdict.convention_kind, "message": verdict.convention}
    return data


def _verdict_fields(verdict: ClaimVerdict) -> dict[str, Any]:
    difference = verdict.first_difference
    example = verdict.counterexample
    return {
        **_fields(verdict, "claim target loss correct reason"),
        "sizes_checked": [_sizes(sizes) for sizes in verdict.sizes_checked],
        "reported_at": _sizes(verdict.reported_at),
        **_fields(verdict, "expected_shape claimed_shape"),
        "shape_steps": [
            {"expression": step.text, "shape": list(step.shape)} for step in verdict.shape_steps
        ],
        "shape_message": verdict.shape_message,
        "first_difference": None
        if difference is None
        else _fields(difference, "index claimed correct"),
        "counterexample": None
        if example is None
        else {
            "sizes": _sizes(example.sizes),
            "operands": {name: _number_matrix(matrix) for name, matrix in example.operands},
            "claimed": _number_matrix(example.claimed),
            "correct": _number_matrix(example.correct),
        },
        **_fields(verdict, "hint_kind hint correct_formula"),
        "notes": list(verdict.notes),
        "general_sizes": [_sizes(sizes) for sizes in verdict.general_sizes],
    }


def _refused(entry: RefusedClaim) -> dict[str, Any]:
    """A claim that was not checked: why, where, and the offending character (0-based)."""
    return {
        "claim": entry.claim,
        "checked": False,
        "message": entry.message,
        "position": entry.position,
        "where": entry.where,
    }


def check_data(report: CheckReport) -> dict[str, Any]:
    """The check report's JSON document as Python data."""
    from ..core.claims import RefusedClaim

    total = len(report.entries)
    right = sum(1 for verdict in report.verdicts if verdict.correct)
    wrong = len(report.verdicts) - right
    data: dict[str, Any] = {"schema": SCHEMA_VERSION}
    if report.samples != "rows":
        data["samples"] = report.samples  # absent: samples as rows, A = ZW + 1b
    data |= {
        "correct": report.correct,
        "counts": {"claims": total, "correct": right, "wrong": wrong},
        "claims": [
            _refused(entry) if isinstance(entry, RefusedClaim) else _verdict(entry)
            for entry in report.entries
        ],
    }
    if report.refused:
        data["counts"]["not_checked"] = len(report.refused)
    if report.marks:
        earned, points = report.score
        data["score"] = {"earned": earned, "points": points}
        data["marks"] = [
            {
                "question": mark.question,
                "gradient": f"d{mark.target}",
                "points": mark.points,
                "score": mark.score,
                "claim": None if mark.order is None else mark.order,
                "why": mark.why,
            }
            for mark in report.marks
        ]
    return data


# The Jacobian view (matgrad jacobian --format json).


#: What a check of the Jacobian view says.
_JACOBIAN_CHECK = "kind variable identity holds shape claimed_shape entries_checked mismatch_count"


def _layout_convention(layout: str) -> str:
    if layout == "numerator":
        return "numerator: rows follow vec(A), columns vec(X), so the Jacobian is (mn)×(size of X)"
    return "denominator: rows follow vec(X), columns vec(A), the transpose of numerator"


def _label(entry: VecEntry) -> str:
    """An entry of vec(X) as the name of its symbol, such as w_2_1."""
    return "_".join(map(str, entry))


#: The symbols of the Jacobian view, in each convention.
_JACOBIAN_VARIABLES: dict[Samples, dict[str, str]] = {
    "rows": {
        "z_i_r": "Z[i, r]",
        "w_r_j": "W[r, j]",
        "dA_i_j": "∂L/∂a_{i,j}, the entries of G = ∂L/∂A",
    },
    "columns": {
        "x_r_i": "X[r, i]",
        "w_j_r": "W[j, r]",
        "dA_j_i": "∂L/∂a_{j,i}, the entries of G = ∂L/∂A",
    },
}


def jacobian_data(derivation: JacobianDerivation) -> dict[str, Any]:
    """The Jacobian view's JSON document as Python data. Gradient entries are written as in
    ``matgrad derive --format json`` (dA_i_j*w_r_j for Z, z_i_r*dA_i_j for W)."""
    found, samples, layer = derivation.jacobians, derivation.sizes.samples, derivation.sizes.layer
    return {
        "kind": "jacobian",
        "schema": SCHEMA_VERSION,
        "layout": derivation.layout,
        "sizes": _sizes(derivation.sizes),
        # Stated when samples are columns (A = WX); without the key they are rows.
        **({"samples": samples} if samples == "columns" else {}),
        "verified": derivation.verified,
        "checks": [_check(check, _JACOBIAN_CHECK, "computed") for check in derivation.checks],
        "notes_claim": _check(derivation.notes_claim, _JACOBIAN_CHECK, "computed"),
        "jacobians": {
            name: [[str(value) for value in row] for row in jacobian.entries]
            for name, jacobian in found.items()
        },
        "shapes": {name: list(jacobian.shape) for name, jacobian in found.items()},
        "rows": {name: [_label(row) for row in jacobian.rows] for name, jacobian in found.items()},
        "columns": {
            name: [_label(column) for column in jacobian.columns]
            for name, jacobian in found.items()
        },
        "kronecker": {name: jacobian.formula for name, jacobian in found.items()},
        "gradients": {
            name: [[linear_form_text(entry, name, layer) for entry in row] for row in form.entries]
            for name, form in derivation.contractions.items()
        },
        "conventions": {
            "vec": "column-major: vec(X) stacks the columns of X",
            "layout": _layout_convention(derivation.layout),
            "gradients": "denominator layout: ∂L/∂X has the shape of X",
            "indices": "1-based",
            "variables": dict(_JACOBIAN_VARIABLES[samples]),
        },
    }


# The proofs (matgrad prove --format json).


def proof_data(report: ProofReport) -> dict[str, Any]:
    """The proofs as JSON data: every step with its LaTeX and SymPy form."""
    from sympy import sstr

    from .prove_notation import proof_notation

    return {
        "kind": "proof",
        "proved": report.proved,
        "bias": report.bias,
        "sizes": "symbolic",
        # Stated when samples are columns (A = WX + b1ᵀ); without the key they are rows.
        **({"samples": report.samples} if report.samples == "columns" else {}),
        "identities": [
            {
                **_fields(proof, "identity variable statement_latex proved"),
                "reason": proof.reason or None,
                "steps": [
                    {
                        "description": step.description,
                        "lhs": step.lhs_latex or None,
                        "latex": step.latex,
                        "sympy": sstr(step.expr) if step.expr is not None else None,
                        "proved": step.proved,
                    }
                    for step in proof.steps
                ],
            }
            for proof in map(proof_notation, report.proofs)
        ],
    }


# The numeric check (matgrad derive --numeric --format json).


def _json_number(value: Any) -> int | float | str:
    """A number JSON can hold as one (an int, or a finite float), else its text."""
    if isinstance(value, int | float) and (not isinstance(value, float) or math.isfinite(value)):
        return value
    return str(value)


#: What an identity checked at random integers says: what was compared, and what differed.
_NUMERIC_CHECK = (
    "identity variable holds shape claimed_shape entries entries_by_difference every_entry "
    "directions failed_directions escape_probability mismatch_count"
)


#: An identity checked under a concrete loss: every entry compared, exactly or to within a bound.
_CONCRETE_CHECK = "identity variable holds shape claimed_shape entries mismatch_count bound"


def numeric_data(result: NumericResult) -> dict[str, Any]:
    """The numeric check as JSON-able data, marked ``"kind": "numeric"``; under a concrete loss
    with the loss, its targets, the closed form's check, and each check's ``bound``."""
    concrete = result.closed_form is not None
    data: dict[str, Any] = {
        "kind": "numeric",
        **_fields(result, "method loss exact bound grid_bits" if concrete else "method"),
        "sizes": _sizes(result.sizes),
        # The convention only where it is not the default, so that rows documents keep their keys.
        **({"samples": "columns"} if result.sizes.samples == "columns" else {}),
        **_fields(result, "bias seed"),
        "entry_range": [-result.entry_range, result.entry_range],
        **({"targets": result.targets or None} if concrete else _fields(result, "direction_range")),
        "verified": result.verified,
    }
    fields = _CONCRETE_CHECK if concrete else _NUMERIC_CHECK
    if result.closed_form is not None:
        data["closed_form"] = _check(result.closed_form, fields, value=_json_number)
    data["checks"] = [_check(check, fields, value=_json_number) for check in result.checks]
    return data


#: Each kind of result's data.
_DATA: dict[str, Callable[[Any], dict[str, Any]]] = {
    "Derivation": derivation_data,
    "CheckReport": check_data,
    "JacobianDerivation": jacobian_data,
    "ProofReport": proof_data,
    "NumericResult": numeric_data,
}


def render_json(result: object) -> str:
    """Any result as JSON text: its data, indented, non-ASCII kept, ending in a newline."""
    data = _DATA[type(result).__name__](result)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
