"""Networks: every activation verifies at one, two and four hidden layers, on both engines; the
network as data (names, shapes, symbols, forward pass); the two routes never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from matgrad_cli.core.activations import ACTIVATIONS
from matgrad_cli.core.network_derive import derive_network, network_description

CORE = Path(__file__).resolve().parent.parent / "matgrad_cli" / "core"
NAMES = tuple(ACTIVATIONS)


@pytest.mark.parametrize("activation", NAMES)
@pytest.mark.parametrize("hidden", [(), (3,), (2, 3)])
def test_every_activation_verifies_at_one_and_two_layers(
    activation: str, hidden: tuple[int, ...]
) -> None:
    for output in ("identity", activation):
        derivation = derive_network(
            2, 3, hidden, 2, activation=activation, output_activation=output
        )
        failed = [check.identity for check in derivation.checks if not check.holds]
        assert derivation.verified, failed
        # One check per gradient and per intermediate ∂L/∂Aℓ, each over every entry.
        depth = len(hidden) + 1
        assert len(derivation.checks) == 1 + 2 * depth + depth
        assert all(check.entries_checked > 0 for check in derivation.checks)


@pytest.mark.parametrize("activation", NAMES)
def test_every_activation_verifies_at_depth_four(activation: str) -> None:
    derivation = derive_network(
        2, 2, (2, 3, 2, 2), 2, activation=activation, output_activation=activation
    )
    assert derivation.verified, [c.identity for c in derivation.checks if not c.holds]
    assert [check.variable for check in derivation.checks] == [
        "X",
        *(name for layer in range(1, 6) for name in (f"W{layer}", f"b{layer}")),
        *(f"A{layer}" for layer in range(1, 6)),
    ]


@pytest.mark.parametrize("activation", ["generic", "relu", "sigmoid", "tanh"])
def test_the_sympy_engine_agrees(activation: str) -> None:
    derivation = derive_network(
        2, 2, (2,), 2, activation=activation, output_activation="sigmoid", engine="sympy"
    )
    assert derivation.verified
    assert derivation.engine == "sympy"


def test_without_the_bias_there_is_no_bias_gradient() -> None:
    derivation = derive_network(2, 2, (3,), 2, activation="tanh", bias=False)
    assert derivation.verified
    assert list(derivation.gradients) == ["X", "W1", "W2"]
    assert not any(check.bias for check in derivation.checks)


def test_names_shapes_and_symbols_of_the_network() -> None:
    network = network_description(4, 3, (5, 6), 2, output_activation="sigmoid")
    assert network.sizes.widths == (3, 5, 6, 2)
    assert network.depth == 3
    assert network.parameters() == ("X", "W1", "b1", "W2", "b2", "W3", "b3")
    shapes = {name: network.shape_of(name) for name in ("X", "W1", "b1", "A1", "W2", "H2", "W3")}
    assert shapes == {
        "X": (4, 3),
        "W1": (3, 5),
        "b1": (1, 5),
        "A1": (4, 5),
        "W2": (5, 6),
        "H2": (4, 6),
        "W3": (6, 2),
    }
    assert network.output_name == "H3"
    derivation = derive_network(2, 2, (2,), 2, activation="relu", output_activation="tanh")
    symbols = derivation.symbols
    assert str(symbols.inputs[1][0]) == "x_2_1"
    assert str(symbols.weights[1][0][1]) == "w2_1_2"
    assert str(symbols.biases[0][1]) == "b1_2"
    assert str(symbols.pre[0][1][1]) == "a1_2_2"
    # G = ∂L/∂H2 with an output activation, ∂L/∂A2 without.
    assert str(symbols.upstream[0][1]) == "dH2_1_2"
    plain = derive_network(2, 2, (2,), 2)
    assert str(plain.symbols.upstream[0][0]) == "dA2_1_1"


def test_the_forward_pass_is_written_layer_by_layer() -> None:
    import sympy

    derivation = derive_network(1, 2, (1,), 1, activation="tanh", output_activation="sigmoid")
    forward = derivation.forward
    pre, hidden, top = forward.pre[1], forward.post[1], forward.post[2]
    assert pre is not None
    assert hidden is not None
    assert top is not None
    x1, x2, w11, w21, b1 = sympy.symbols("x_1_1 x_1_2 w1_1_1 w1_2_1 b1_1")
    a1 = x1 * w11 + x2 * w21 + b1
    assert sympy.simplify(pre[0][0]._sympy_() - a1) == 0
    assert hidden[0][0]._sympy_() == sympy.tanh(a1)
    w2, b2 = sympy.symbols("w2_1_1 b2_1")
    assert (
        sympy.simplify(top[0][0]._sympy_() - 1 / (1 + sympy.exp(-(sympy.tanh(a1) * w2 + b2)))) == 0
    )


def test_the_gradient_matrix_is_a_sympy_matrix_by_name() -> None:
    import sympy

    derivation = derive_network(2, 2, (2,), 2, activation="identity")
    w1 = derivation.gradient_matrix("W1")
    assert isinstance(w1, sympy.MatrixBase)
    assert w1.shape == (2, 2)
    assert derivation.gradient_matrix("A1").shape == (2, 2)
    from matgrad_cli.errors import InputError

    with pytest.raises(InputError, match="choose from X, W1"):
        derivation.gradient_matrix("W9")


@pytest.mark.parametrize("engine", ["symengine", "sympy"])
def test_relu_is_written_in_closed_form_with_the_step_zero_at_zero(engine: str) -> None:
    import sympy

    derivation = derive_network(1, 1, (1,), 1, activation="relu", engine=engine)
    x, w1, b1, w2, g = sympy.symbols("x_1_1 w1_1_1 b1_1 w2_1_1 dA2_1_1")
    assert derivation.gradient_matrix("X")[0, 0] == g * w2 * w1 * sympy.Heaviside(w1 * x + b1, 0)
    assert derivation.gradient_matrix("A1")[0, 0] == g * w2 * sympy.Heaviside(
        sympy.Symbol("a1_1_1"), 0
    )
    # relu′(0) = 0: at a zero pre-activation the gradient vanishes.
    at_zero = derivation.gradient_matrix("X")[0, 0].subs({x: 0, b1: 0})
    assert at_zero == 0
    deeper = derive_network(1, 1, (1, 1), 1, activation="relu", engine=engine)
    assert "Max(0," in str(deeper.gradient_matrix("W1")[0, 0])
    assert "Derivative" not in str(deeper.gradient_matrix("W1")[0, 0])


def _imports(module: str) -> set[str]:
    tree = ast.parse((CORE / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module.lstrip("."))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_two_routes_never_import_each_other() -> None:
    assert not {"network_matrix", "matrix", "compare"} & _imports("network_elementwise")
    assert not {"network_elementwise", "elementwise"} & _imports("network_matrix")
    assert not {"network_elementwise", "network_matrix"} & _imports("network_compare")


@pytest.mark.parametrize("engine", ["symengine", "sympy"])
def test_every_pair_of_activations_is_verified(engine: str) -> None:
    """Each hidden activation under each output activation: the two routes agree, and the
    equality test proves it (an undefined output σ′ at a sigmoid's argument once went unnamed)."""
    from matgrad_cli.core.activations import ACTIVATIONS

    failed = [
        (hidden, output)
        for hidden in ACTIVATIONS
        for output in ACTIVATIONS
        if not derive_network(
            1, 2, (1,), 1, activation=hidden, output_activation=output, engine=engine
        ).verified
    ]
    assert failed == []
