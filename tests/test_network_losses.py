"""Networks under a concrete loss: every loss with every output activation it allows verifies, the
gradients agree with SymPy's derivative of the whole composed L, wrong closed forms and wrong
rules are rejected, and a loss with an output activation it does not allow is refused."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest
import sympy

from matgrad_cli.core.network_derive import NetworkDerivation, derive_network
from matgrad_cli.core.network_losses import ALLOWED_OUTPUT_ACTIVATIONS
from matgrad_cli.core.network_matrix import RULES, LocalRule, Operand, ProductRule
from matgrad_cli.errors import InputError

#: Each concrete loss with the output activations it is derived under here.
PAIRS = [
    ("sum", "identity"),
    ("sum", "tanh"),
    ("squared-error", "identity"),
    ("squared-error", "sigmoid"),
    ("squared-error", "relu"),
    ("softmax-cross-entropy", "identity"),
    ("binary-cross-entropy", "sigmoid"),
]


@pytest.mark.parametrize(("loss", "output"), PAIRS)
@pytest.mark.parametrize(
    ("hidden", "activation"), [((), "generic"), ((3,), "relu"), ((2, 2), "sigmoid")]
)
def test_every_loss_verifies_with_the_output_activations_it_allows(
    loss: str, output: str, hidden: tuple[int, ...], activation: str
) -> None:
    derivation = derive_network(
        2, 2, hidden, 3, activation=activation, output_activation=output, loss=loss
    )
    assert derivation.verified, [c.identity for c in derivation.checks if not c.holds]
    assert derivation.loss == loss
    assert derivation.concrete is not None
    assert derivation.concrete.closed_form_holds
    depth = len(hidden) + 1
    assert len(derivation.checks) == 1 + 3 * depth
    assert all(check.loss == loss and check.entries_checked > 0 for check in derivation.checks)


def test_the_closed_forms_are_named_in_the_checks() -> None:
    softmax = derive_network(2, 2, (2,), 3, activation="relu", loss="softmax-cross-entropy")
    assert softmax.checks[-1].identity == (
        "∂L/∂A2 = softmax(A2) − Y (of each row, rows of Y summing to 1), L = softmax-cross-entropy"
    )
    bce = derive_network(2, 2, (2,), 2, output_activation="sigmoid", loss="binary-cross-entropy")
    assert bce.checks[-1].identity == "∂L/∂A2 = H2 − Y, L = binary-cross-entropy"
    squared = derive_network(2, 2, (), 2, output_activation="tanh", loss="squared-error")
    assert squared.checks[-1].identity == "∂L/∂A1 = (H1 − Y) ⊙ σ′(A1), L = squared-error"
    assert squared.checks[0].identity == "∂L/∂X = ∂L/∂A1 · W1ᵀ, L = squared-error"
    # The generic loss is unchanged: G stays symbols and no loss is named.
    generic = derive_network(2, 2, (2,), 2)
    assert generic.loss == "generic"
    assert generic.concrete is None
    assert generic.checks[-1].identity == "∂L/∂A2 = G"


def test_the_loss_definition_is_at_hand() -> None:
    bce = derive_network(1, 1, (), 1, output_activation="sigmoid", loss="binary-cross-entropy")
    assert bce.loss_definition.title == "binary cross entropy"
    assert derive_network(1, 1, (), 1).loss_definition.name == "generic"


# --- An independent reference: SymPy differentiates the composed L ------------------------------


def _sigma(name: str, x: Any) -> Any:
    return {
        "identity": lambda: x,
        "relu": lambda: sympy.Max(0, x),
        "sigmoid": lambda: 1 / (1 + sympy.exp(-x)),
        "tanh": lambda: sympy.tanh(x),
    }[name]()


def _grid(stem: str, rows: int, cols: int) -> sympy.Matrix:
    return sympy.Matrix(rows, cols, lambda i, j: sympy.Symbol(f"{stem}_{i + 1}_{j + 1}"))


def _reference_loss(loss: str, out: sympy.Matrix, y: sympy.Matrix) -> Any:
    """L written here from the textbook definitions, not from matgrad's classes."""
    cells = [(i, j) for i in range(out.rows) for j in range(out.cols)]
    if loss == "sum":
        return sum(out[i, j] for i, j in cells)
    if loss == "squared-error":
        return sum((out[i, j] - y[i, j]) ** 2 for i, j in cells) / 2
    if loss == "binary-cross-entropy":
        return -sum(
            y[i, j] * sympy.log(out[i, j]) + (1 - y[i, j]) * sympy.log(1 - out[i, j])
            for i, j in cells
        )
    assert loss == "softmax-cross-entropy"
    total = 0
    for i in range(out.rows):
        normaliser = sum(sympy.exp(out[i, q]) for q in range(out.cols))
        total -= sum(
            y[i, j] * sympy.log(sympy.exp(out[i, j]) / normaliser) for j in range(out.cols)
        )
    return total


def _reference(
    m: int, widths: tuple[int, ...], hidden: str, output: str, loss: str
) -> tuple[dict[str, Any], Any]:
    depth = len(widths) - 1
    h = _grid("x", m, widths[0])
    variables = {"X": h}
    for layer in range(1, depth + 1):
        w = _grid(f"w{layer}", widths[layer - 1], widths[layer])
        b = sympy.Matrix(1, widths[layer], lambda _, j, ell=layer: sympy.Symbol(f"b{ell}_{j + 1}"))
        variables[f"W{layer}"], variables[f"b{layer}"] = w, b
        a = h * w + sympy.ones(m, 1) * b
        h = a.applyfunc(lambda e, name=output if layer == depth else hidden: _sigma(name, e))
    y = _grid("y", m, widths[-1])
    total = _reference_loss(loss, h, y)
    gradients = {name: v.applyfunc(lambda e: sympy.diff(total, e)) for name, v in variables.items()}
    return gradients, y


def _closed(expr: Any) -> Any:
    return expr.replace(sympy.Function("relu"), lambda a: sympy.Max(0, a)).doit()


def _point(symbols: set[Any], rng: random.Random, y: Any, loss: str) -> dict[Any, Any]:
    point = {s: sympy.Rational(rng.randint(-20, 20) or 1, rng.randint(1, 7)) for s in symbols}
    for i in range(y.rows):
        # Targets in [0, 1], each row summing to 1 (one-hot), as the softmax's closed form needs.
        hot = rng.randrange(y.cols)
        for j in range(y.cols):
            point[y[i, j]] = sympy.Integer(int(j == hot))
        if loss == "binary-cross-entropy":
            point[y[i, 0]] = sympy.Rational(rng.randint(0, 4), 4)
    return point


@pytest.mark.parametrize(
    ("loss", "output", "hidden"),
    [
        ("softmax-cross-entropy", "identity", "relu"),
        ("softmax-cross-entropy", "identity", "sigmoid"),
        ("binary-cross-entropy", "sigmoid", "tanh"),
        ("squared-error", "sigmoid", "relu"),
        ("sum", "tanh", "sigmoid"),
    ],
)
def test_the_gradients_agree_with_sympys_derivative_of_the_composed_loss(
    loss: str, output: str, hidden: str
) -> None:
    rng = random.Random(12)
    derivation = derive_network(
        2, 2, (2,), 3, activation=hidden, output_activation=output, loss=loss
    )
    assert derivation.verified
    expected, y = _reference(2, (2, 2, 3), hidden, output, loss)
    for name, matrix in expected.items():
        derived = derivation.gradient_matrix(name).applyfunc(_closed)
        for _ in range(2):
            symbols = set().union(*(e.free_symbols for e in [*matrix, *derived]))
            point = _point(symbols | set(y), rng, y, loss)
            for left, right in zip(derived, matrix, strict=True):
                difference = (left - right).xreplace(point).evalf(40)
                scale = abs(right.xreplace(point).evalf(40)) + 1
                assert abs(difference) < sympy.Float("1e-25") * scale, (name, left, right)


# --- Wrong closed forms and wrong rules are rejected -------------------------------------------


def _failed(derivation: NetworkDerivation) -> list[str]:
    return [str(check.variable) for check in derivation.checks if not check.holds]


def _softmax_by_columns(out: Any, pre: Any, y: Any) -> Any:
    exps = out.applyfunc(sympy.exp)
    sums = [sum(exps[:, j]) for j in range(out.cols)]
    return sympy.Matrix(*out.shape, lambda i, j: exps[i, j] / sums[j]) - y


WRONG = [
    # P − Y without the sigmoid: the logits A_L where the probabilities belong.
    ("binary-cross-entropy", "sigmoid", lambda out, pre, y: pre - y),
    # P − Y taken for ∂L/∂H_L, and then σ′ once more: (P − Y) ⊙ P ⊙ (1 − P).
    (
        "binary-cross-entropy",
        "sigmoid",
        lambda out, pre, y: (
            (out - y).multiply_elementwise(out).multiply_elementwise(out.applyfunc(lambda p: 1 - p))
        ),
    ),
    # Y − P: the sign turned.
    ("binary-cross-entropy", "sigmoid", lambda out, pre, y: y - out),
    # The softmax along the wrong axis: of each column instead of each row.
    ("softmax-cross-entropy", "identity", _softmax_by_columns),
    # The softmax without its normaliser.
    ("softmax-cross-entropy", "identity", lambda out, pre, y: out.applyfunc(sympy.exp) - y),
    # The squared error's G with the sign turned, and without the targets.
    ("squared-error", "identity", lambda out, pre, y: y - out),
    ("squared-error", "sigmoid", lambda out, pre, y: out),
    # The sum's G as the output itself.
    ("sum", "identity", lambda out, pre, y: out),
]


@pytest.mark.parametrize(("loss", "output", "closed_form"), WRONG)
def test_a_wrong_closed_form_is_rejected(loss: str, output: str, closed_form: Any) -> None:
    wrong = derive_network(
        2,
        2,
        (2,),
        3,
        activation="relu",
        output_activation=output,
        loss=loss,
        closed_form=closed_form,
    )
    assert not wrong.verified
    assert wrong.concrete is not None
    assert not wrong.concrete.closed_form_holds
    # Every gradient stands on G: each one fails.
    assert _failed(wrong) == ["X", "W1", "b1", "W2", "b2", "A1", "A2"]
    assert "the closed form given" in wrong.checks[-1].formula


def test_the_right_closed_form_given_by_hand_is_accepted() -> None:
    right = derive_network(
        2,
        2,
        (2,),
        2,
        output_activation="sigmoid",
        loss="binary-cross-entropy",
        closed_form=lambda out, pre, y: pre.applyfunc(lambda a: 1 / (1 + sympy.exp(-a))) - y,
    )
    assert right.verified


@pytest.mark.parametrize(
    ("rules", "failing"),
    [
        (replace(RULES, local=LocalRule(-1, derivative=False)), ["X", "W1", "b1", "A1"]),
        (replace(RULES, local=LocalRule(0)), ["X", "W1", "b1", "A1"]),
        (
            replace(RULES, inputs=ProductRule(Operand("G"), Operand("W", transposed=False))),
            None,
        ),
        (
            replace(
                RULES, bias=ProductRule(Operand("G"), Operand("1", transposed=False, along="units"))
            ),
            None,
        ),
    ],
)
@pytest.mark.parametrize(
    ("loss", "output"), [("softmax-cross-entropy", "identity"), ("binary-cross-entropy", "sigmoid")]
)
def test_a_wrong_backward_rule_is_rejected_under_a_concrete_loss(
    rules: Any, failing: list[str] | None, loss: str, output: str
) -> None:
    # Square sizes, so that W in place of Wᵀ still multiplies out (and is wrong).
    wrong = derive_network(
        2, 2, (2,), 2, activation="sigmoid", output_activation=output, loss=loss, rules=rules
    )
    assert not wrong.verified
    if failing is not None:
        assert _failed(wrong) == failing


# --- Refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "output", "fix"),
    [
        ("binary-cross-entropy", "identity", "use --output-activation sigmoid"),
        ("binary-cross-entropy", "tanh", "use --output-activation sigmoid"),
        ("softmax-cross-entropy", "sigmoid", "leave out --output-activation (the identity)"),
        ("softmax-cross-entropy", "relu", "leave out --output-activation (the identity)"),
    ],
)
def test_a_loss_refuses_an_output_activation_it_does_not_allow(
    loss: str, output: str, fix: str
) -> None:
    assert output not in ALLOWED_OUTPUT_ACTIVATIONS[loss]
    with pytest.raises(InputError, match="not allowed with the output activation") as raised:
        derive_network(2, 2, (2,), 2, output_activation=output, loss=loss)
    assert str(raised.value).endswith(fix)


def test_an_unknown_loss_and_a_stray_closed_form_are_refused() -> None:
    with pytest.raises(InputError, match="unknown loss 'hinge'"):
        derive_network(2, 2, (2,), 2, loss="hinge")
    with pytest.raises(InputError, match="closed_form is given only with a concrete loss"):
        derive_network(2, 2, (2,), 2, closed_form=lambda out, pre, y: out)


def test_the_single_layer_refuses_the_binary_cross_entropy_with_the_fix() -> None:
    from matgrad_cli.core.derive import derive

    with pytest.raises(
        InputError, match=r"put a sigmoid after the layer \(use --output-activation sigmoid\)"
    ):
        derive(2, 2, 2, loss="binary-cross-entropy")


# --- The command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--hidden", "2", "--loss", "binary-cross-entropy"],
            "--loss binary-cross-entropy is not allowed with the output activation identity: it "
            "takes probabilities in (0, 1), the sigmoid's output; use --output-activation sigmoid",
        ),
        (
            ["--output-activation", "relu", "--loss", "binary-cross-entropy"],
            "use --output-activation sigmoid",
        ),
        (
            ["--hidden", "3", "--output-activation", "sigmoid", "--loss", "softmax-cross-entropy"],
            "leave out --output-activation (the identity)",
        ),
        (
            ["--loss", "binary-cross-entropy"],
            "the binary-cross-entropy loss takes probabilities, not the layer's A: put a sigmoid "
            "after the layer (use --output-activation sigmoid)",
        ),
        (["--loss", "binary-cross-entropy", "--numeric"], "use --output-activation sigmoid"),
    ],
)
def test_the_command_line_refuses_a_loss_and_activation_in_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    from .conftest import run_cli

    target = tmp_path / "out.tex"
    code, out, err = run_cli(["derive", *args, "-o", str(target)], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("matgrad: error: ")
    assert message in err
    assert not target.exists()


def test_the_command_line_derives_a_network_under_a_concrete_loss(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from .conftest import run_cli

    args = ["derive", "--hidden", "2", "--activation", "relu", "--n", "3"]
    code, out, _ = run_cli([*args, "--loss", "softmax-cross-entropy", "-f", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["loss"] == "softmax-cross-entropy"
    assert data["verified"] is True
    assert data["checks"][-1]["identity"].startswith("∂L/∂A2 = softmax(A2) − Y")
    code, _, err = run_cli(
        [
            "derive",
            "--output-activation",
            "sigmoid",
            "--loss",
            "binary-cross-entropy",
            "-f",
            "json",
        ],
        capsys,
    )
    assert code == 0, err
