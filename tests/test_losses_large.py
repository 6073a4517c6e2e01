"""Concrete losses at layer size: the row-by-row route verifies every entry where the old route
refused the sizes, and rejects deliberately wrong forms there, down to a single wrong entry; the
exact test of equality it uses proves only what holds. (Timings are in benchmarks/scale.py.)"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import sympy

from matgrad_cli import derive
from matgrad_cli.core.elementwise import elementwise_gradients, forward
from matgrad_cli.core.engine import ENGINE_NAMES, get_engine
from matgrad_cli.core.equality import RowExponentials, expressions_equal
from matgrad_cli.core.layer import ROWS, Sizes, Variable
from matgrad_cli.core.losses import Layer, derive_loss
from matgrad_cli.core.matrix import ConstantMatrix, matmul, matrix_forms, upstream_form
from matgrad_cli.core.model import Gradient, MatrixForm, Symbols, build_symbols

CONCRETE = ("sum", "squared-error", "softmax-cross-entropy")
#: Sizes the route before the row-by-row one refused (m·k·n ≤ 216, softmax m·k·n ≤ 64, n ≤ 6).
LARGE = {"sum": Sizes(16, 16, 16), "squared-error": Sizes(16, 16, 16)}
LARGE["softmax-cross-entropy"] = Sizes(16, 16, 10)


@pytest.mark.parametrize("loss", CONCRETE)
def test_every_entry_is_verified_at_a_size_the_old_route_refused(loss: str) -> None:
    sizes = LARGE[loss]
    derivation = derive(sizes.m, sizes.k, sizes.n, loss=loss)
    assert derivation.loss is not None
    assert derivation.loss.closed_form_holds
    assert derivation.verified
    checked = {check.variable: check.entries_checked for check in derivation.loss.checks}
    assert checked == {"Z": sizes.m * sizes.k, "W": sizes.k * sizes.n, "b": sizes.n}


def _layer(sizes: Sizes, bias: bool, replace: dict[Variable, MatrixForm]) -> Layer:
    """The layer on symengine with the matrix route's forms, some of them replaced."""
    engine = get_engine("symengine")
    symbols = build_symbols(sizes, engine)
    products = {**matrix_forms(symbols, sizes, bias, engine), **replace}
    return Layer(symbols, forward(symbols, sizes, bias, engine), products)


@pytest.mark.parametrize("loss", CONCRETE)
def test_a_missing_transpose_is_caught_at_every_entry(loss: str) -> None:
    # k = n, so that G·W has the shape of G·Wᵀ and only the values can tell.
    sizes = Sizes(6, 10, 10)
    symbols = build_symbols(sizes, get_engine("symengine"))
    untransposed = matmul(
        upstream_form(sizes), ConstantMatrix(symbols.weights), get_engine("symengine"), "∂L/∂A · W"
    )
    layer = _layer(sizes, True, {"Z": untransposed})
    wrong = derive_loss(loss, sizes, True, layer=layer)
    z_check, w_check, b_check = wrong.checks
    assert not wrong.verified
    assert z_check.mismatch_count == sizes.m * sizes.k
    assert w_check.holds
    assert b_check.holds


def _one_entry_changed(form: MatrixForm, row: int, col: int) -> MatrixForm:
    """``form`` with the first term of entry (row, col) (1-based) left out."""
    entries = [list(line) for line in form.entries]
    entries[row - 1][col - 1] = entries[row - 1][col - 1][1:]
    return MatrixForm("Zᵀ · ∂L/∂A, one term short", form.shape, tuple(map(tuple, entries)))


@pytest.mark.parametrize("loss", CONCRETE)
def test_a_single_wrong_entry_in_a_large_layer_is_caught(loss: str) -> None:
    sizes = LARGE[loss]
    engine = get_engine("symengine")
    symbols = build_symbols(sizes, engine)
    right = matrix_forms(symbols, sizes, True, engine)["W"]
    layer = _layer(sizes, True, {"W": _one_entry_changed(right, 3, 5)})
    wrong = derive_loss(loss, sizes, True, layer=layer)
    z_check, w_check, b_check = wrong.checks
    assert z_check.holds
    assert b_check.holds
    assert not w_check.holds
    assert w_check.mismatch_count == 1
    (mismatch,) = w_check.mismatches
    assert mismatch.index == (3, 5)
    # What is shown is the layer's: expressions of z, w, b and y, with no a_{i,j} left.
    names = {str(symbol) for symbol in mismatch.elementwise.free_symbols}
    assert names
    assert not any(name.startswith("a_") for name in names)
    assert mismatch.elementwise != mismatch.claimed


def _softmax_parts(sizes: Sizes) -> tuple[sympy.Matrix, list[sympy.Expr], sympy.Matrix]:
    """A = ZW + 1b over SymPy, each row's normaliser Σ_q exp(a_{i,q}), and the targets Y."""
    z = sympy.Matrix(sizes.m, sizes.k, lambda i, r: sympy.Symbol(f"z_{i + 1}_{r + 1}"))
    w = sympy.Matrix(sizes.k, sizes.n, lambda r, j: sympy.Symbol(f"w_{r + 1}_{j + 1}"))
    b = sympy.Matrix(1, sizes.n, lambda _, j: sympy.Symbol(f"b_{j + 1}"))
    y = sympy.Matrix(sizes.m, sizes.n, lambda i, j: sympy.Symbol(f"y_{i + 1}_{j + 1}"))
    a = z * w + sympy.ones(sizes.m, 1) * b
    normalisers = [sympy.Add(*(sympy.exp(a[i, q]) for q in range(sizes.n))) for i in range(sizes.m)]
    return a, normalisers, y


def test_wrong_softmax_gradients_are_caught_with_ten_classes() -> None:
    sizes = Sizes(5, 4, 10)  # ten classes: above the old limit of six columns
    a, normalisers, y = _softmax_parts(sizes)

    def without_minus_y(g: sympy.Matrix, z: sympy.Matrix, w: sympy.Matrix) -> sympy.Matrix:
        return (g + y) * w.T  # softmax(A) alone, where the rows of Y sum to 1

    def next_rows_normaliser(g: sympy.Matrix, z: sympy.Matrix, w: sympy.Matrix) -> sympy.Matrix:
        shifted = sympy.Matrix(
            sizes.m,
            sizes.n,
            lambda i, j: sympy.exp(a[i, j]) / normalisers[(i + 1) % sizes.m] - y[i, j],
        )
        return z.T * shifted

    def transposed_result(g: sympy.Matrix, z: sympy.Matrix, w: sympy.Matrix) -> sympy.Matrix:
        return sympy.ones(1, sizes.m) * g  # right; given by hand, it must be proved too

    wrong = derive_loss(
        "softmax-cross-entropy",
        sizes,
        True,
        forms={"Z": without_minus_y, "W": next_rows_normaliser, "b": transposed_result},
    )
    z_check, w_check, b_check = wrong.checks
    assert z_check.mismatch_count == sizes.m * sizes.k
    assert w_check.mismatch_count == sizes.k * sizes.n
    assert b_check.holds


@pytest.mark.parametrize("engine_name", ENGINE_NAMES)
def test_the_exact_test_proves_what_holds_and_nothing_else(engine_name: str) -> None:
    engine = get_engine(engine_name)
    a = [[engine.symbol(f"a_{p}_{q}") for q in (1, 2, 3)] for p in (1, 2)]
    x, y = engine.symbol("x"), engine.symbol("y")
    e = [[engine.exp(entry) for entry in row] for row in a]
    s = [engine.add(row) for row in e]
    equal = RowExponentials(engine, a).equal
    # Proved with the normaliser as a symbol (step 2).
    assert equal(x * e[0][0] / s[0] - x * e[0][0] / s[0] * y, x * e[0][0] * (1 - y) / s[0])
    # Proved only with the normaliser as the sum it is (step 3).
    assert equal(engine.add([entry / s[0] for entry in e[0]]), engine.add([1]))
    assert equal(x * (e[0][1] + e[0][2]) / s[0], x - x * e[0][0] / s[0])
    # Wrong: another row's normaliser, a column left out, a sign, a term of a polynomial.
    assert not equal(x * e[0][0] / s[1], x * e[0][0] / s[0])
    assert not equal(engine.add([entry / s[0] for entry in e[0][:2]]), engine.add([1]))
    assert not equal(-e[1][2] / s[1], e[1][2] / s[1])
    assert not equal(x * (a[0][0] - y), x * a[0][0] + x * y)
    # The exponentials of different rows are independent: no relation between rows is made.
    assert not equal(engine.add([entry / s[1] for entry in e[0]]), engine.add([1]))


@pytest.mark.parametrize("engine_name", ENGINE_NAMES)
def test_the_exact_test_is_complete_for_polynomials(engine_name: str) -> None:
    engine = get_engine(engine_name)
    z, w, y = (engine.symbol(name) for name in ("z", "w", "y"))
    equal = RowExponentials(engine).equal
    assert equal((z * w - y) * z, z * z * w - z * y)
    assert equal((z + w) ** 2, z**2 + 2 * z * w + w**2)
    assert not equal((z + w) ** 2, z**2 + w**2)


def test_both_engines_verify_a_concrete_loss_alike() -> None:
    for loss in CONCRETE:
        results = [derive(4, 3, 5, loss=loss, engine=name).loss for name in ENGINE_NAMES]
        assert all(result is not None and result.verified for result in results)
        symengine_result, sympy_result = results
        assert symengine_result is not None
        assert sympy_result is not None
        for name in ROWS.variables(True):
            difference = sympy.Matrix(symengine_result.elementwise[name]) - sympy.Matrix(
                sympy_result.elementwise[name]
            )
            assert difference.applyfunc(sympy.expand) == sympy.zeros(*difference.shape)


@pytest.mark.parametrize("loss", CONCRETE)
def test_the_chain_rule_through_a_gives_the_derivative_of_l_of_the_layer(loss: str) -> None:
    # Checked against another route: SymPy differentiates L(ZW + 1b, Y), one expression of Z, W,
    # b and Y, by each entry; the exact test is complete for these expressions.
    sizes = Sizes(3, 2, 4)
    derivation = derive_loss(loss, sizes, True)
    symbols = derivation.symbols
    a = symbols.input * symbols.weights + sympy.ones(sizes.m, 1) * symbols.bias
    composed = derivation.definition.expression(symbols.A, symbols.Y).xreplace(
        dict(zip(symbols.A, a, strict=True))
    )
    matrices = {"Z": symbols.input, "W": symbols.weights, "b": symbols.bias}
    for variable, found in derivation.elementwise.items():
        for index, entry in enumerate(matrices[variable]):
            assert expressions_equal(found[index], sympy.diff(composed, entry)), (variable, index)
        # A wrong answer is not proved: twice the derivative (which is not 0).
        assert not expressions_equal(found[0], 2 * sympy.diff(composed, matrices[variable][0]))


@pytest.mark.parametrize("loss", CONCRETE)
def test_a_wrong_local_partial_of_the_elementwise_route_is_caught_under_the_loss(loss: str) -> None:
    # The loss's chain rule takes each ∂a_{p,q}/∂x from the layer's elementwise route: doubled at
    # one term of ∂L/∂z_{1,1}, the loss's own check of ∂L/∂Z must fail there, and only there.

    def doubled_partial(
        outputs: Any, symbols: Symbols, sizes: Sizes, bias: bool, *rest: Any
    ) -> dict[Variable, Gradient]:
        gradients = elementwise_gradients(outputs, symbols, sizes, bias, *rest)
        gradient = gradients["Z"]
        first = gradient.entries[0][0]
        (index, local), *others = first.terms
        rows = [list(row) for row in gradient.entries]
        rows[0][0] = replace(first, terms=((index, 2 * local), *others))
        return {**gradients, "Z": replace(gradient, entries=tuple(map(tuple, rows)))}

    derivation = derive(3, 4, 5, loss=loss, elementwise=doubled_partial)
    assert derivation.loss is not None
    z_check, w_check, b_check = derivation.loss.checks
    assert [mismatch.index for mismatch in z_check.mismatches] == [(1, 1)]
    assert w_check.holds
    assert b_check.holds
