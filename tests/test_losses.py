"""Concrete losses: L differentiated through the whole layer, checked against independent routes
(exact difference quotients; high-precision numbers for the softmax); wrong forms rejected; the
registry every other module and the command line read the losses from."""

from __future__ import annotations

import dataclasses
import json
import random
import subprocess
import sys
from fractions import Fraction
from typing import Any

import pytest
import sympy

from matgrad_cli import derive
from matgrad_cli.core.equality import expressions_equal
from matgrad_cli.core.layer import Sizes
from matgrad_cli.core.loss_definitions import LOSS_CHOICES
from matgrad_cli.core.losses import (
    LOSS_NAMES,
    LOSSES,
    ConcreteLoss,
    SoftmaxCrossEntropy,
    SquaredError,
    concrete_loss,
    derive_loss,
    loss_named,
    validate_loss,
)
from matgrad_cli.errors import InputError, SizeError

from .conftest import assert_golden

CONCRETE = ("sum", "squared-error", "softmax-cross-entropy")
TITLES = {
    "sum": "sum",
    "squared-error": "squared error",
    "softmax-cross-entropy": "softmax cross entropy",
}
SIZES = [(1, 1, 1), (2, 2, 2), (3, 2, 4), (2, 3, 1)]


@pytest.mark.parametrize("loss", CONCRETE)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: "x".join(map(str, s)))
def test_every_identity_holds_through_the_whole_layer(
    loss: str, size: tuple[int, int, int]
) -> None:
    for bias in (True, False):
        derivation = derive(*size, bias=bias, loss=loss)
        assert derivation.verified
        assert derivation.loss is not None
        assert derivation.loss.closed_form_holds
        names = [check.variable for check in derivation.loss.checks]
        assert names == (["Z", "W", "b"] if bias else ["Z", "W"])


def _values(sizes: Sizes, seed: int) -> dict[str, list[list[Fraction]]]:
    rng = random.Random(seed)

    def draw(rows: int, cols: int) -> list[list[Fraction]]:
        return [
            [Fraction(rng.randint(-9, 9), rng.randint(1, 4)) for _ in range(cols)]
            for _ in range(rows)
        ]

    return {
        "z": draw(sizes.m, sizes.k),
        "w": draw(sizes.k, sizes.n),
        "b": draw(1, sizes.n),
        "y": draw(sizes.m, sizes.n),
    }


def _squared_error(values: dict[str, list[list[Fraction]]]) -> Fraction:
    """L = ½ Σ (a − y)², computed with exact fractions and no matgrad code."""
    z, w, b, y = values["z"], values["w"], values["b"], values["y"]
    total = Fraction(0)
    for i in range(len(z)):
        for j in range(len(w[0])):
            a = sum(z[i][r] * w[r][j] for r in range(len(w))) + b[0][j]
            total += (a - y[i][j]) ** 2 / 2
    return total


def _substitution(values: dict[str, list[list[Fraction]]]) -> dict[Any, Any]:
    return {
        sympy.Symbol(f"{name}_{i + 1}_{j + 1}" if name != "b" else f"b_{j + 1}"): sympy.Rational(
            value.numerator, value.denominator
        )
        for name, matrix in values.items()
        for i, row in enumerate(matrix)
        for j, value in enumerate(row)
    }


@pytest.mark.parametrize("size", [(2, 2, 2), (3, 2, 4)], ids=["2x2x2", "3x2x4"])
def test_squared_error_gradients_equal_exact_central_differences(
    size: tuple[int, int, int],
) -> None:
    # L is quadratic in each single entry, so the central difference with any step is exact.
    sizes = Sizes(*size)
    loss = derive_loss("squared-error", sizes, bias=True)
    values = _values(sizes, seed=sum(size))
    at = _substitution(values)
    names = {"Z": "z", "W": "w", "b": "b"}
    for variable, matrix in loss.elementwise.items():
        rows, cols = matrix.shape
        for i in range(rows):
            for j in range(cols):
                step = Fraction(1, 3)
                bumped = {key: [row[:] for row in grid] for key, grid in values.items()}
                bumped[names[variable]][i][j] += step
                up = _squared_error(bumped)
                bumped[names[variable]][i][j] -= 2 * step
                down = _squared_error(bumped)
                expected = (up - down) / (2 * step)
                assert matrix[i, j].xreplace(at) == sympy.Rational(
                    expected.numerator, expected.denominator
                )


def test_softmax_gradient_agrees_with_the_logarithm_of_the_softmax_form() -> None:
    # Another route: differentiate −Σ y log(exp(a)/Σ exp) as written, not the log-sum-exp form
    # matgrad uses, and compare numerically at rational points with 40 digits.
    sizes = Sizes(2, 2, 3)
    loss = derive_loss("softmax-cross-entropy", sizes, bias=True)
    symbols = loss.symbols
    a = symbols.input * symbols.weights + sympy.ones(sizes.m, 1) * symbols.bias
    direct = -sum(
        symbols.Y[i, j]
        * sympy.log(sympy.exp(a[i, j]) / sum(sympy.exp(a[i, q]) for q in range(sizes.n)))
        for i in range(sizes.m)
        for j in range(sizes.n)
    )
    at = _substitution(_values(sizes, seed=7))
    for variable, matrix in loss.elementwise.items():
        for index, entry in enumerate(
            getattr(symbols, {"Z": "input", "W": "weights", "b": "bias"}[variable])
        ):
            other = sympy.diff(direct, entry).xreplace(at).evalf(40)
            mine = matrix[index].xreplace(at).evalf(40)
            assert abs(other - mine) < sympy.Float("1e-30"), (variable, index)


@pytest.mark.parametrize("loss", CONCRETE)
def test_wrong_matrix_forms_are_rejected(loss: str) -> None:
    # m ≠ n, so that summing G over the wrong axis cannot even give the right shape.
    sizes = Sizes(3, 2, 2)
    wrong = derive_loss(
        loss,
        sizes,
        bias=True,
        forms={
            "Z": lambda g, z, w: g * w,  # a missing transpose
            "W": lambda g, z, w: (z.T * g).T,  # the transposed result
            "b": lambda g, z, w: (g * sympy.ones(g.shape[1], 1)).T,  # summed over the wrong axis
        },
    )
    assert not wrong.verified
    assert [check.holds for check in wrong.checks] == [False, False, False]
    z_check, w_check, b_check = wrong.checks
    assert z_check.mismatch_count > 0
    assert w_check.mismatch_count > 0
    assert b_check.claimed_shape == (1, 3)  # the row sums: one per row of G, not per column


class _WrongClosedForm(SquaredError):
    """The squared error with a wrong textbook ∂L/∂A: A + Y instead of A − Y."""

    def closed_form(self, a: Any, y: Any) -> Any:
        return a + y


def test_a_wrong_closed_form_is_reported() -> None:
    wrong = derive_loss(_WrongClosedForm(), Sizes(2, 2, 2), bias=True)
    derivation = dataclasses.replace(derive(2, 2, 2, loss="squared-error"), loss=wrong)
    assert derivation.loss is not None
    assert not derivation.loss.closed_form_holds
    assert not derivation.verified
    assert "NOT verified: the closed form" in derivation.to_latex()


def test_softmax_closed_form_needs_rows_of_targets_that_sum_to_one() -> None:
    sizes = Sizes(1, 1, 2)
    loss = derive_loss("softmax-cross-entropy", sizes, bias=False)
    entry, textbook = loss.upstream[0, 0], loss.closed_form[0, 0]
    assert not expressions_equal(entry, textbook)  # false for general targets
    y = loss.symbols.Y
    assert expressions_equal(
        entry.xreplace({y[0, 1]: 1 - y[0, 0]}), textbook.xreplace({y[0, 1]: 1 - y[0, 0]})
    )


def test_unknown_losses_and_sizes_above_the_limit_are_refused() -> None:
    with pytest.raises(InputError, match="unknown loss 'hinge'"):
        validate_loss("hinge", Sizes(2, 2, 2))
    limit = SoftmaxCrossEntropy.size_limit
    with pytest.raises(SizeError, match=f"above the symbolic limit of {limit}"):
        derive(64, 64, 8, loss="softmax-cross-entropy")
    with pytest.raises(SizeError, match=f"m·k·n·n = 327680 is above the symbolic limit of {2**18}"):
        derive(5, 4, 128, loss="softmax-cross-entropy")


@pytest.mark.parametrize("loss", CONCRETE)
def test_every_format_shows_the_loss_and_its_closed_form(loss: str) -> None:
    derivation = derive(2, 2, 2, loss=loss)
    latex = derivation.to_latex()
    assert f"The loss: {TITLES[loss]}" in latex
    assert "In closed form" in latex
    assert "The loss:" in derivation.to_markdown()
    text = derivation.to_text(width=80)
    assert "✓ Verified at every entry: ∂L/∂A =" in text
    assert all(len(line) <= 80 for line in text.splitlines())
    data = json.loads(derivation.to_json())
    assert data["loss"] == loss
    assert data["loss_gradients"]["closed_form_holds"] is True
    assert sorted(data["loss_gradients"]) == ["A", "W", "Z", "b", "closed_form_holds", "condition"]
    if loss != "sum":
        assert "y_i_j" in data["conventions"]["variables"]


@pytest.mark.parametrize("loss", ["squared-error", "softmax-cross-entropy"])
def test_golden_documents_for_concrete_losses(loss: str) -> None:
    derivation = derive(2, 2, 2, loss=loss)
    assert_golden(derivation.to_latex(), f"losses/{loss}-2x2x2.tex")
    assert_golden(derivation.to_markdown(), f"losses/{loss}-2x2x2.md")
    assert_golden(derivation.to_json(), f"losses/{loss}-2x2x2.json")
    assert_golden(derivation.to_text(width=80), f"losses/{loss}-2x2x2.txt")


# --- the registry --------------------------------------------------------------------------


def test_the_registry_names_every_loss_in_the_order_the_command_line_lists_them() -> None:
    assert ("generic", *CONCRETE) == LOSS_NAMES
    assert all(LOSSES[name].name == name for name in LOSS_NAMES)
    assert not loss_named("generic").concrete
    assert all(loss_named(name).concrete for name in CONCRETE)
    assert {name: LOSSES[name].title for name in CONCRETE} == TITLES
    with pytest.raises(
        InputError,
        match=r"unknown loss 'hinge' \(choose from generic, sum, squared-error, "
        r"softmax-cross-entropy\)",
    ):
        loss_named("hinge")
    with pytest.raises(InputError, match="the generic loss has no explicit L"):
        concrete_loss("generic")
    with pytest.raises(InputError, match="the generic loss has no explicit L"):
        derive_loss("generic", Sizes(2, 2, 2), bias=True)


@pytest.mark.parametrize("name", CONCRETE)
def test_every_concrete_loss_states_everything_the_documents_need(name: str) -> None:
    loss = concrete_loss(name)
    for text in (loss.latex, loss.text, loss.closed_form_latex, loss.closed_form_text):
        assert text.strip()
        assert text == text.strip()
    assert loss.latex.startswith("L = ")
    assert loss.text.startswith("L = ")
    assert loss.sheet_words.startswith("the ")
    assert loss.size_limit >= 24  # the default sizes of matgrad check
    assert "{parameters}" in loss.sheet_targets or not loss.has_targets
    if loss.condition is not None:
        assert loss.has_targets  # a condition is on the targets


def test_the_softmax_states_its_condition_and_its_limits() -> None:
    softmax = concrete_loss("softmax-cross-entropy")
    assert softmax.condition is not None
    assert softmax.condition.text == "for rows of Y that sum to 1"
    assert not softmax.polynomial
    assert softmax.claims_limit == 24
    assert softmax.exercise_columns == range(2, 4)
    with pytest.raises(SizeError, match="n = 129 is above the limit of 128 columns"):
        validate_loss("softmax-cross-entropy", Sizes(1, 1, 129))
    validate_loss("softmax-cross-entropy", Sizes(4, 4, 100))  # a hundred classes
    validate_loss("softmax-cross-entropy", Sizes(32, 32, 10))
    assert all(concrete_loss(name).polynomial for name in ("sum", "squared-error"))


class _Cubic(ConcreteLoss):
    """A loss defined here only: L = ⅓ Σ a³, ∂L/∂A = A ∘ A (each entry squared)."""

    name = "cubic"
    title = "cubic"
    definition_latex = r"\frac{1}{3} \sum_{i,j} a_{i,j}^3"
    text = "L = ⅓ Σ_{i,j} a_{i,j}³"
    closed_form_latex = r"A \circ A"
    closed_form_text = "A ∘ A"
    size_limit = 8
    sheet_words = "the cubic loss"

    def expression(self, a: Any, y: Any) -> Any:
        return sympy.Rational(1, 3) * sum(entry**3 for entry in a)

    def closed_form(self, a: Any, y: Any) -> Any:
        return a.applyfunc(lambda entry: entry**2)


def test_a_new_loss_is_one_class_and_is_verified_through_the_layer() -> None:
    cubic = derive_loss(_Cubic(), Sizes(2, 2, 2), bias=True)
    assert cubic.loss == "cubic"
    assert cubic.condition is None
    assert cubic.closed_form_holds
    assert cubic.verified
    assert [check.identity for check in cubic.checks] == [
        "∂L/∂Z = ∂L/∂A · Wᵀ, L = cubic",
        "∂L/∂W = Zᵀ · ∂L/∂A, L = cubic",
        "∂L/∂b = 1ᵀ · ∂L/∂A, L = cubic",
    ]
    with pytest.raises(SizeError, match="above the symbolic limit of 8 for --loss cubic"):
        derive_loss(_Cubic(), Sizes(2, 2, 3), bias=True)


def test_the_command_line_offers_the_registry_s_losses() -> None:
    from typer.testing import CliRunner

    from matgrad_cli.cli import app

    result = CliRunner().invoke(app, ["derive", "--help"], terminal_width=80)
    assert result.exit_code == 0
    # The single layer's losses, and the network's binary cross-entropy (refused without one).
    assert f"--loss <{'|'.join(LOSS_CHOICES)}>" in result.output
    assert (*LOSS_NAMES, "binary-cross-entropy") == LOSS_CHOICES
    refused = CliRunner().invoke(app, ["derive", "--loss", "hinge"])
    assert refused.exit_code == 2
    assert (
        "'hinge' is not one of 'generic', 'sum', 'squared-error', 'softmax-cross-entropy', "
        "'binary-cross-entropy'" in refused.output
    )


def test_the_losses_are_listed_without_importing_sympy() -> None:
    code = (
        "import sys, matgrad_cli.core.losses as losses; "
        "assert losses.LOSS_NAMES and 'sympy' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
