"""An independent reference: SymPy differentiates L = Σ G_{p,q}·O_{p,q} of a network built here by
hand with sympy.Matrix, and the derived gradients agree with it, exactly for the generic σ and at
random rational points for the activations SymPy writes in closed form."""

from __future__ import annotations

import random
from typing import Any

import pytest
import sympy

from matgrad_cli.core.activations import ACTIVATIONS
from matgrad_cli.core.network_derive import NetworkDerivation, derive_network


def _reference_sigma(name: str, x: Any) -> Any:
    """σ(x) written here from the definitions, not from matgrad's classes."""
    if name == "generic":
        return sympy.Function("sigma")(x)
    if name == "identity":
        return x
    if name == "relu":
        return sympy.Max(0, x)
    if name == "leaky-relu":
        return sympy.Max(sympy.Rational(1, 100) * x, x)
    if name == "sigmoid":
        return 1 / (1 + sympy.exp(-x))
    assert name == "tanh"
    return sympy.tanh(x)


def _matrix(stem: str, rows: int, cols: int) -> sympy.Matrix:
    return sympy.Matrix(rows, cols, lambda i, j: sympy.Symbol(f"{stem}_{i + 1}_{j + 1}"))


def reference(
    m: int, widths: tuple[int, ...], hidden: str, output: str
) -> tuple[dict[str, sympy.Matrix], sympy.Matrix]:
    """∂L/∂X, ∂L/∂Wℓ and ∂L/∂bℓ by sympy.diff of the composed scalar L, and G's symbols."""
    depth = len(widths) - 1
    x = _matrix("x", m, widths[0])
    variables = {"X": x}
    h = x
    for layer in range(1, depth + 1):
        w = _matrix(f"w{layer}", widths[layer - 1], widths[layer])
        b = sympy.Matrix(1, widths[layer], lambda _, j, ell=layer: sympy.Symbol(f"b{ell}_{j + 1}"))
        variables[f"W{layer}"], variables[f"b{layer}"] = w, b
        a = h * w + sympy.ones(m, 1) * b
        name = output if layer == depth else hidden
        h = a.applyfunc(lambda e, name=name: _reference_sigma(name, e))
    stem = f"d{'A' if output == 'identity' else 'H'}{depth}"
    g = _matrix(stem, m, widths[-1])
    loss = sum((g[p, q] * h[p, q] for p in range(m) for q in range(widths[-1])), sympy.Integer(0))
    gradients = {
        name: matrix.applyfunc(lambda v: sympy.diff(loss, v)) for name, matrix in variables.items()
    }
    return gradients, g


def _closed(expr: Any) -> Any:
    """matgrad's relu and leaky-relu functions as SymPy's Max; derivatives of them evaluated."""
    relu, leaky = sympy.Function("relu"), sympy.Function("leaky_relu")
    replaced = expr.replace(relu, lambda a: sympy.Max(0, a)).replace(
        leaky, lambda a: sympy.Max(sympy.Rational(1, 100) * a, a)
    )
    return replaced.doit()


def _at_random_point(left: Any, right: Any, rng: random.Random) -> bool:
    symbols = sorted(left.free_symbols | right.free_symbols, key=str)
    point = {s: sympy.Rational(rng.randint(-30, 30) or 1, rng.randint(1, 11)) for s in symbols}
    difference = (left - right).xreplace(point).evalf(40)
    scale = abs(right.xreplace(point).evalf(40)) + 1
    return bool(abs(difference) < sympy.Float("1e-25") * scale)


def _derived(derivation: NetworkDerivation, name: str) -> sympy.Matrix:
    return derivation.gradient_matrix(name).applyfunc(_closed)


@pytest.mark.parametrize("activation", [name for name in ACTIVATIONS if name != "generic"])
@pytest.mark.parametrize("hidden", [(), (2,), (2, 3)])
def test_closed_forms_agree_with_the_reference_at_random_points(
    activation: str, hidden: tuple[int, ...]
) -> None:
    rng = random.Random(f"{activation}{hidden}")
    widths = (3, *hidden, 2)
    for output in ("identity", activation):
        expected, _ = reference(2, widths, activation, output)
        derivation = derive_network(
            2, 3, hidden, 2, activation=activation, output_activation=output
        )
        assert derivation.verified
        for name, matrix in expected.items():
            derived = _derived(derivation, name)
            assert derived.shape == matrix.shape, name
            for left, right in zip(derived, matrix, strict=True):
                for _ in range(2):
                    assert _at_random_point(left, right, rng), (activation, output, name)


@pytest.mark.parametrize("hidden", [(), (2,), (2, 2)])
def test_the_generic_sigma_agrees_with_the_reference_exactly(hidden: tuple[int, ...]) -> None:
    widths = (2, *hidden, 2)
    expected, _ = reference(2, widths, "generic", "generic")
    derivation = derive_network(2, 2, hidden, 2, output_activation="generic")
    for name, matrix in expected.items():
        derived = derivation.gradient_matrix(name)
        for left, right in zip(derived, matrix, strict=True):
            assert sympy.expand(left - right.doit()) == 0, name


def test_a_wrong_reference_is_told_apart() -> None:
    """The comparison at random points can fail: tanh's gradient is not the sigmoid's."""
    rng = random.Random(0)
    expected, _ = reference(1, (2, 2, 1), "sigmoid", "identity")
    derivation = derive_network(1, 2, (2,), 1, activation="tanh")
    left, right = _derived(derivation, "W1")[0, 0], expected["W1"][0, 0]
    assert not _at_random_point(left, right, rng)
