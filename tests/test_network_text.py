"""A network's derivation in the terminal: the teaching order, every verdict read from the checks,
readable at 80 columns and narrower, long lists elided unless --full, and the command line."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from matgrad_cli.core.network_derive import derive_network
from matgrad_cli.core.network_matrix import RULES, LocalRule, Operand, ProductRule
from matgrad_cli.errors import SizeError
from matgrad_cli.present import limits, render

from .conftest import run_cli as run


def _text(width: int = 80, full: bool = False, **arguments: object) -> str:
    sizes = {key: arguments.pop(key, 2) for key in ("m", "k", "n")}
    hidden = arguments.pop("hidden", (2,))
    derivation = derive_network(sizes["m"], sizes["k"], hidden, sizes["n"], **arguments)  # type: ignore[arg-type]
    return render(derivation, "text", width=width, full=full)


def _headings(text: str) -> list[str]:
    return re.findall(r"^\d+\. (.+?) ─", text, flags=re.MULTILINE)


def test_the_teaching_order_from_the_top_layer_down() -> None:
    text = _text(activation="relu", hidden=(3, 2))
    assert _headings(text) == [
        "Setup",
        "Forward pass",
        "Layer 3, backward (the output layer)",
        "Layer 2, backward",
        "Layer 1, backward",
        "Summary: the backward pass",
    ]
    layer_one = text[text.index("Layer 1, backward") :]
    order = ["upstream gradient ∂L/∂H1", "relu′(e)", "∂L/∂A1 (", "∂L/∂W1 (", "∂L/∂b1 (", "∂L/∂X ("]
    positions = [layer_one.index(piece) for piece in order]
    assert positions == sorted(positions)
    assert "relu′(0) = 0" in text


def test_every_verdict_is_the_checks() -> None:
    text = _text(activation="sigmoid", output_activation="tanh")
    assert text.count("✓ Verified at") == 7
    assert "✓ All 7 checks hold" in text
    assert "✗" not in text


@pytest.mark.parametrize(
    "rules",
    [
        replace(RULES, local=LocalRule(-1, derivative=False)),  # the ⊙ σ′ forgotten
        replace(RULES, local=LocalRule(0)),  # σ′ of the wrong layer
        replace(RULES, inputs=ProductRule(Operand("G"), Operand("W"))),  # W for Wᵀ
    ],
)
def test_a_wrong_rule_is_shown_failing(rules: object) -> None:
    derivation = derive_network(2, 2, (2,), 2, activation="sigmoid", rules=rules)  # type: ignore[arg-type]
    text = render(derivation, "text", width=80)
    failed = [check for check in derivation.checks if not check.holds]
    assert failed
    assert text.count("✗ FAILS") == len(failed)
    assert text.count("  first at ∂L/∂") == len(failed)  # the first differing entry, both ways
    assert text.count("    chain rule = ") == len(failed)
    assert f"✗ {len(failed)} of the 7 checks fail" in text or "1 of the 7 checks fails" in text
    assert "All 7 checks hold" not in text


@pytest.mark.parametrize("width", [80, 60, 40])
def test_readable_at_the_width(width: int) -> None:
    text = _text(width=width, m=3, k=3, n=2, activation="leaky-relu", output_activation="sigmoid")
    assert max(len(line) for line in text.splitlines()) <= width


def test_long_lists_are_elided_unless_full() -> None:
    elided = _text(m=8, n=3, activation="generic")
    assert "more entries of the same form" in elided
    assert "⋯" in elided
    whole = _text(m=8, n=3, activation="generic", full=True)
    assert "more entries of the same form" not in whole
    assert "∂L/∂x₈,₂ = " in whole
    assert "∂L/∂x₈,₂ = " in elided  # the last entry is shown too
    assert "∂L/∂x₅,₁ = " in whole
    assert "∂L/∂x₅,₁ = " not in elided


def test_a_long_sum_inside_a_factor_is_elided_unless_full() -> None:
    elided = _text(width=60, m=1, k=2, n=2, hidden=(8,))
    first = elided[elided.index("∂L/∂x₁,₁ = ") : elided.index("∂L/∂x₁,₂ = ")]
    assert "w¹₁,₂ w²₂,₁ σ′(a¹₁,₂) + ⋯ + w¹₁,₈ w²₈,₁ σ′(a¹₁,₈)" in " ".join(first.split())
    assert "w¹₁,₅" not in first
    assert max(len(line) for line in elided.splitlines()) <= 60
    whole = _text(width=60, m=1, k=2, n=2, hidden=(8,), full=True)
    first = whole[whole.index("∂L/∂x₁,₁ = ") : whole.index("∂L/∂x₁,₂ = ")]
    assert "w¹₁,₅" in first
    assert "⋯" not in first
    assert max(len(line) for line in whole.splitlines()) <= 60


def test_full_past_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    derivation = derive_network(2, 2, (2,), 2)
    monkeypatch.setitem(limits.FULL_TERMS, "text", 10)
    with pytest.raises(SizeError, match="above the limit of 10 for text"):
        render(derivation, "text", full=True)
    assert "Summary" in render(derivation, "text")  # without --full it is elided, not refused


def test_the_entries_name_the_forward_pass() -> None:
    text = _text(activation="relu", n=1, m=1, k=1, hidden=(1,))
    assert "∂L/∂w¹₁,₁ = g₁,₁ x₁,₁ w²₁,₁ relu′(a¹₁,₁)" in text
    assert "∂L/∂w²₁,₁ = g₁,₁ h¹₁,₁" in text
    assert "a¹₁,₁ = x₁,₁ w¹₁,₁ + b¹₁" in text


def test_each_gradient_is_assembled_when_it_fits() -> None:
    text = _text(activation="relu")
    assert "  ∂L/∂b2 = [g₁,₁ + g₂,₁   g₁,₂ + g₂,₂]" in text
    assert "It is compared entry by entry with 1ᵀ · ∂L/∂A2" in text
    narrow = _text(width=40, activation="relu")  # too wide for 40 columns: said, not set
    assert "∂L/∂W2 = ⎡" not in narrow
    assert "Assembled in the shape of W2 and" in narrow


def test_sigmoid_entries_are_written_with_h() -> None:
    """The CAS's exponentials, merged across layers, are written back as h(1 − h) factors."""
    text = _text(activation="sigmoid", output_activation="sigmoid", hidden=(2, 2))
    backward = text[text.index("Layer 3, backward") :]
    entries = [line for line in backward.splitlines() if line.startswith("  ∂L/∂")]
    assert len(entries) > 10
    assert not [line for line in entries if "exp" in line]
    assert "∂L/∂w³₁,₁ = g₁,₁ h²₁,₁ h³₁,₁ (1 − h³₁,₁)" in backward


def test_under_a_concrete_loss_the_setup_states_l_y_and_g() -> None:
    text = _text(activation="relu", loss="squared-error")
    setup = text[: text.index("2. Forward pass")]
    assert "The loss L is the squared error, with symbolic targets y_{i,j}" in setup
    assert "L = ½ Σ_{i,j} (a_{i,j} − y_{i,j})²" in setup
    assert re.search(r"^Y +2×2 +the targets of the loss +y₁,₁$", setup, re.MULTILINE)
    assert "G = ∂L/∂A2 is the CAS's derivative of L" in setup
    assert "✓ Its closed form, where the matrix route starts: G = A2 − Y: proved at every" in setup
    assert "for the loss squared-error" in text
    assert "✓ All 7 checks hold" in text


def test_after_a_sigmoid_the_closed_form_proved_is_of_dl_da() -> None:
    """H − Y is ∂L/∂A_L after the sigmoid, not ∂L/∂H_L: the view says which matrix it is of."""
    text = _text(hidden=(), loss="binary-cross-entropy", output_activation="sigmoid")
    setup = " ".join(text[: text.index("2. Forward pass")].split())
    assert "G = (H1 − Y) / (H1 ⊙ (1 − H1)), entry by entry" in setup
    assert "✓ ∂L/∂A1 = G ⊙ σ′(A1) = H1 − Y: proved at every entry." in setup
    assert "∂L/∂H1 = H1 − Y" not in " ".join(text.split())
    assert "closed form of ∂L/∂H1" not in setup


def test_a_wrong_closed_form_is_not_marked_proved() -> None:
    text = _text(activation="relu", loss="squared-error", closed_form=lambda out, pre, y: out + y)
    setup = " ".join(text[: text.index("2. Forward pass")].split())
    assert "G = the closed form given: NOT proved at every entry." in setup
    assert "✓ Its closed form" not in setup


def test_the_output_gradient_is_g_and_each_activation_is_named() -> None:
    """No identity ∂L/∂A2 = ∂L/∂A2; relu′ as in the entries, W1 as in the table."""
    for text in (_text(activation="relu"), _text(activation="relu", loss="softmax-cross-entropy")):
        flat = " ".join(text.split())
        assert "∂L/∂A2 = ∂L/∂A2" not in flat
        assert "∂L/∂A2 = G." in flat or "∂L/∂A2 = softmax(A2) − Y" in flat
        summary = text[text.index("Summary: the backward pass") :]
        assert "σ′" not in summary
        assert "∂L/∂A1 = (∂L/∂A2 · W2ᵀ) ⊙ relu′(A1)" in summary
        assert "W1 = ⎡" in text
        assert "W¹ =" not in text
        assert "b¹ =" not in text
        rows = [line for line in summary.splitlines() if line.startswith("∂L/∂")]
        assert len(rows) == 7
        assert all(line.endswith("entries") for line in rows)
        assert ", L =" not in summary
    assert "✓ Verified at all 4 entries: ∂L/∂A2 = G." in " ".join(_text(activation="relu").split())


def test_the_command_prints_the_view_and_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["derive", "--hidden", "2", "--activation", "relu", "-f", "text"], capsys)
    assert code == 0
    assert _headings(out)[-1] == "Summary: the backward pass"
    assert "✓ All 7 checks hold" in out
    assert err == ""  # the view tells the verdict itself
    code, out, err = run(["derive", "--hidden", "2", "--activation", "relu", "-f", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["kind"] == "network"
    assert data["verified"] is True
    assert err.startswith("matgrad: ")
    assert len(err.splitlines()) == 1
