"""Independent reference routes to the gradients of A = ZW (+ 1_m b), for tests and benchmarks.

Nothing here imports matgrad_cli: the symbols, the forward pass and the differentiation are
rebuilt from scratch with plain SymPy, so an agreement between these routes and matgrad's
derivation is evidence, not an echo of the same code. The names of the symbols are
the library's (z_i_r, w_r_j, b_j, dA_i_j, 1-based) only so that the expressions can be compared.

It lives with the tests, outside the package, and the command line never loads it.
"""

from __future__ import annotations

from typing import Any

import sympy

#: A gradient in denominator layout: a list of rows of SymPy expressions, the shape of its variable.
GradientRows = list[list[Any]]


def _layer(m: int, k: int, n: int, bias: bool) -> tuple[Any, Any, Any | None, Any, Any]:
    """Z, W, b (or None), A and G = ∂L/∂A as SymPy matrices, built with SymPy's own algebra.

    A is computed by SymPy's matrix product Z*W (+ ones(m, 1)*b, the row b broadcast over the
    m rows), not from a sum written out by hand.
    """
    for name, value in (("m", m), ("k", k), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"size {name} must be a positive integer, got {value!r}")
    inputs = sympy.Matrix(m, k, lambda i, r: sympy.Symbol(f"z_{i + 1}_{r + 1}"))
    weights = sympy.Matrix(k, n, lambda r, j: sympy.Symbol(f"w_{r + 1}_{j + 1}"))
    outputs = inputs * weights
    row_bias = None
    if bias:
        row_bias = sympy.Matrix(1, n, lambda _, j: sympy.Symbol(f"b_{j + 1}"))
        outputs = outputs + sympy.ones(m, 1) * row_bias
    upstream = sympy.Matrix(m, n, lambda p, q: sympy.Symbol(f"dA_{p + 1}_{q + 1}"))
    return inputs, weights, row_bias, outputs, upstream


def _variables(inputs: Any, weights: Any, row_bias: Any | None) -> list[tuple[str, Any]]:
    """The differentiable matrices by name, in the order Z, W (, b)."""
    variables = [("Z", inputs), ("W", weights)]
    if row_bias is not None:
        variables.append(("b", row_bias))
    return variables


def _upstream_for_slots(derivative: Any, loss: Any, upstream_entries: list[Any]) -> Any:
    """Replace each ∂L/∂(slot) that SymPy's chain rule produced by the symbol dA_p_q of its slot.

    ``sympy.diff(L(a_1, …, a_mn), x)`` applies the chain rule itself and returns
    Σ_s ∂a_s/∂x · Subs(Derivative(L(…, ξ_s, …), ξ_s), ξ_s, a_s). The slot s is where the dummy
    ξ_s sits among L's arguments; in row-major order it is a_{p,q} with s = (p-1)·n + (q-1), and
    ``upstream_entries`` lists dA_p_q in that same order.
    """
    arguments = loss.args
    replacements: dict[Any, Any] = {}
    for substitution in derivative.atoms(sympy.Subs):
        inner = substitution.expr
        if not isinstance(inner, sympy.Derivative) or len(substitution.variables) != 1:
            raise RuntimeError(f"unexpected chain-rule term {substitution}")
        (dummy,) = substitution.variables
        applied = inner.expr
        if applied.func != loss.func or inner.variables != (dummy,):
            raise RuntimeError(f"unexpected chain-rule term {substitution}")
        slot = applied.args.index(dummy)
        if substitution.point != (arguments[slot],):
            raise RuntimeError(f"chain-rule term {substitution} is not evaluated at slot {slot}")
        replacements[substitution] = upstream_entries[slot]
    for plain in derivative.atoms(sympy.Derivative):
        # SymPy writes ∂L/∂a_s without Subs when a_s is a bare symbol, which a product never is;
        # handled for completeness.
        if plain.expr == loss and len(plain.variables) == 1 and plain.variables[0] in arguments:
            replacements.setdefault(plain, upstream_entries[arguments.index(plain.variables[0])])
    replaced = derivative.xreplace(replacements)
    if replaced.has(sympy.Derivative, sympy.Subs) or replaced.has(loss.func):
        raise RuntimeError(f"a derivative of L was left unreplaced in {replaced}")
    return replaced


def reference_gradients(m: int, k: int, n: int, bias: bool) -> dict[str, GradientRows]:
    """∂L/∂Z, ∂L/∂W (and ∂L/∂b) from SymPy's own chain rule on an undefined loss L(A).

    L is ``sympy.Function("L")`` applied to all m·n entries of A = ZW (+ 1_m b); SymPy
    differentiates it by each entry of Z, W, b, and each resulting ∂L/∂(argument s) is renamed
    dA_p_q for the entry a_{p,q} in slot s. No knowledge of which a's an entry feeds, nor of any
    matrix identity, goes in: this is the textbook definition of the elementwise partial, done
    by a different algorithm (SymPy's ``Function._eval_derivative``) from the library's
    term-by-term differentiation. Returns expanded expressions, keyed "Z", "W" (and "b" as one
    row), each a list of rows in the shape of its variable.
    """
    inputs, weights, row_bias, outputs, upstream = _layer(m, k, n, bias)
    loss = sympy.Function("L")(*list(outputs))  # SymPy matrices iterate row-major
    upstream_entries = list(upstream)
    gradients: dict[str, GradientRows] = {}
    for name, matrix in _variables(inputs, weights, row_bias):
        gradients[name] = [
            [
                sympy.expand(
                    _upstream_for_slots(sympy.diff(loss, matrix[row, col]), loss, upstream_entries)
                )
                for col in range(matrix.cols)
            ]
            for row in range(matrix.rows)
        ]
    return gradients


def expanded_loss_gradients(m: int, k: int, n: int, bias: bool) -> dict[str, GradientRows]:
    """The naive baseline: differentiate the expanded surrogate loss Σ_{p,q} dA_p_q · a_{p,q}.

    With G = ∂L/∂A held constant, ∂L/∂x = ∂/∂x Σ_{p,q} ∂L/∂a_{p,q} · a_{p,q} for any entry x,
    because every a_{p,q} is linear in x. The surrogate is built from SymPy's matrix product and
    expanded once, and ``sympy.diff`` is applied to the whole of it for each entry: the simplest
    possible route, sharing nothing with the library, and the one a benchmark times as the
    baseline. Same return shape as ``reference_gradients``.
    """
    inputs, weights, row_bias, outputs, upstream = _layer(m, k, n, bias)
    surrogate = sympy.expand(
        sympy.Add(*[g * a for g, a in zip(list(upstream), list(outputs), strict=True)])
    )
    return {
        name: [
            [sympy.diff(surrogate, matrix[row, col]) for col in range(matrix.cols)]
            for row in range(matrix.rows)
        ]
        for name, matrix in _variables(inputs, weights, row_bias)
    }
