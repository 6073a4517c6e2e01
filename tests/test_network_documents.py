"""The network's derivation document: its teaching order, its verdicts read off the checks, its
entries faithful to the routes' own, its layout on a page, every format, and derive's refusals."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import sympy

from matgrad_cli.core.engine import get_engine
from matgrad_cli.core.network import forward_pass
from matgrad_cli.core.network_derive import NetworkDerivation, derive_network
from matgrad_cli.core.network_matrix import (
    RULES,
    BackwardRules,
    LocalRule,
    Operand,
    ProductRule,
)
from matgrad_cli.present import render, summary
from matgrad_cli.present.network_doc import backward_order, network_document
from matgrad_cli.present.network_tex import DisplayNames, width

from .conftest import require_pdflatex, run_cli, run_pdflatex


@pytest.fixture(scope="module")
def relu() -> NetworkDerivation:
    return derive_network(2, 2, (2,), 2, activation="relu")


def _titles(derivation: NetworkDerivation) -> list[str]:
    return [section.title for section in network_document(derivation).sections]


def test_the_sections_follow_the_teaching_order(relu: NetworkDerivation) -> None:
    assert _titles(relu) == [
        "Setup",
        "Forward pass",
        "Backward through layer 2 (the output layer)",
        "Backward through layer 1",
        "The whole backward pass",
    ]
    deep = derive_network(1, 2, (2, 2), 1, activation="tanh")
    assert [title.split(" (")[0] for title in _titles(deep)[2:5]] == [
        f"Backward through layer {layer}" for layer in (3, 2, 1)
    ]


def test_each_layer_goes_from_its_upstream_gradient_to_the_one_below(
    relu: NetworkDerivation,
) -> None:
    latex = render(relu, "latex")
    layer_one = latex[latex.index("Backward through layer 1") :]
    steps = [
        "The upstream gradient of layer 1 is what layer 2 passed down",
        r"\frac{\partial h^{(1)}_{p,q}}{\partial a^{(1)}_{p,q}} = "
        r"{\operatorname{relu}}'(a^{(1)}_{p,q})",
        r"\frac{\partial L}{\partial a^{(1)}_{1,1}} &=",
        r"\boxed{\frac{\partial L}{\partial A_{1}} = \left(\frac{\partial L}{\partial A_{2}} "
        r"W_{2}^\top\right) \odot {\operatorname{relu}}'(A_{1})}",
        r"\boxed{\frac{\partial L}{\partial W_{1}} = X^\top \frac{\partial L}{\partial A_{1}}}",
        r"\boxed{\frac{\partial L}{\partial b_{1}} = "
        r"\mathbf{1}^\top \frac{\partial L}{\partial A_{1}}}",
        r"\boxed{\frac{\partial L}{\partial X} = \frac{\partial L}{\partial A_{1}} W_{1}^\top}",
    ]
    places = [layer_one.index(step) for step in steps]
    assert places == sorted(places)


def test_the_setup_states_the_names_shapes_and_relus_value_at_zero(
    relu: NetworkDerivation,
) -> None:
    latex = render(relu, "latex")
    setup = latex[: latex.index("Forward pass")]
    for row in (r"$W_{2}$ & $2 \times 2$", r"$H_{1}$ & $2 \times 2$", r"$b_{1}$ & $1 \times 2$"):
        assert row in setup
    assert r"matgrad takes ${\operatorname{relu}}'(0) = 0$" in setup
    assert r"w^{(2)}_{2,2}" in setup  # W2 written out
    leaky = render(derive_network(1, 1, (1,), 1, activation="leaky-relu", slope="1/20"), "latex")
    assert r"\alpha = 1/20" in leaky
    assert r"{\operatorname{lrelu}}'(0) = \frac{1}{20}" in leaky


def test_the_forward_pass_is_the_derivations_own(relu: NetworkDerivation) -> None:
    latex = render(relu, "latex")
    assert r"a^{(1)}_{2,1} &= x_{2,1} w^{(1)}_{1,1} + x_{2,2} w^{(1)}_{2,1} + b^{(1)}_{1}" in latex
    assert (
        r"a^{(2)}_{1,2} &= h^{(1)}_{1,1} w^{(2)}_{1,2} + h^{(1)}_{1,2} w^{(2)}_{2,2} + b^{(2)}_{2}"
        in latex
    )


def test_a_worked_entry_is_the_chain_rule_through_the_layer_above(
    relu: NetworkDerivation,
) -> None:
    latex = render(relu, "latex")
    # ∂L/∂a¹₁,₂ = Σ_q ∂L/∂a²₁,q · w²₂,q · relu′(a¹₁,₂): row 2 of W2, the unit's own derivative.
    for q in (1, 2):
        term = (
            rf"\frac{{\partial L}}{{\partial a^{{(2)}}_{{1,{q}}}}} w^{{(2)}}_{{2,{q}}} "
            r"{\operatorname{relu}}'(a^{(1)}_{1,2})"
        )
        assert term in latex
    assert r"\frac{\partial a^{(2)}_{1,2}}{\partial a^{(1)}_{1,1}}" in latex


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "generic", "leaky-relu"])
def test_the_names_of_the_entries_change_no_value(activation: str) -> None:
    """Every entry the document prints, with h^{(ℓ)}_{i,j} and σ′(a^{(ℓ)}_{i,j}) put back as
    what they name, is the route's own entry."""
    derivation = derive_network(2, 2, (2,), 1, activation=activation, engine="sympy")
    names = DisplayNames(derivation)
    network, symbols = derivation.network, derivation.symbols
    engine = get_engine("sympy")
    back: dict[sympy.Symbol, object] = {}
    for layer, i, j, argument in derivation.forward.arguments():
        act = network.activation_of(layer)
        h = sympy.Symbol(f"h{layer}_{i}_{j}")
        back[h] = act.forward(engine, argument)
        d = sympy.Symbol(f"dsig{layer}_{i}_{j}")
        back[d] = (
            sympy.Derivative(act.forward(engine, sympy.Symbol("t")), sympy.Symbol("t")).subs(
                sympy.Symbol("t"), argument
            )
            if act.name in ("generic", "relu", "leaky-relu")
            else 0
        )
    seen = 0
    for forms in (*derivation.gradients.values(),):
        for row in forms.entries:
            for form in row:
                for _, factor in form:
                    named = names.named(factor)
                    assert "relu" not in str(named)
                    assert "exp" not in str(named)
                    restored = named.xreplace(back).doit()
                    assert sympy.simplify(restored - sympy.sympify(factor).doit()) == 0
                    seen += 1
    assert seen > 0
    assert forward_pass(network, symbols, engine).pre[1] == derivation.forward.pre[1]


def test_every_verdict_and_mark_is_read_off_a_check(relu: NetworkDerivation) -> None:
    latex = render(relu, "latex")
    assert latex.count(r"\boxed{") == 6  # every gradient but ∂L/∂A2 = G, where it starts
    assert latex.count(r"$\checkmark$ holds") == len(relu.checks) == 7
    assert "NOT verified" not in latex
    assert "FAIL" not in latex
    assert summary(relu).startswith("verified (m=2, k=2, n=2, hidden 2 relu, output identity)")
    # The same network with a forgotten ⊙ σ′: each check that fails is said to fail, and only it.
    forgotten = replace(RULES, local=LocalRule(-1, derivative=False))
    wrong = derive_network(2, 2, (2,), 2, activation="sigmoid", rules=forgotten)
    failed = {str(check.variable) for check in wrong.checks if not check.holds}
    assert failed == {"X", "W1", "b1", "A1"}
    text = render(wrong, "latex")
    assert text.count("NOT verified") == len(failed)
    assert text.count(r"\boxed{") == 6 - len(failed)
    assert text.count(r"$\times$ FAILS") == len(failed)
    assert "Some formulas FAIL" in text
    assert "Every formula holds" not in text
    # The formula printed is the rule that was checked: no ⊙ σ′ in ∂L/∂A1.
    assert (
        r"\partial L/\partial A_{1} = \left(\partial L/\partial A_{2} W_{2}^\top\right)$ fails"
        in text
    )
    assert summary(wrong).startswith("NOT verified")
    assert "4 checks fail" in summary(wrong)


@pytest.mark.parametrize(
    ("rules", "name", "formula"),
    [
        # W instead of Wᵀ.
        (
            replace(RULES, inputs=ProductRule(Operand("G"), Operand("W"))),
            "X",
            r"\partial L/\partial A_{1} W_{1}$ fails",
        ),
        # σ′ at the wrong layer: the derivative of the layer above.
        (
            replace(RULES, local=LocalRule(0)),
            "A_{1}",
            r"\odot {\operatorname{sigmoid}}'(A_{2})$ fails",
        ),
        # The bias summed over the wrong axis: ∂L/∂A·1 instead of 1ᵀ·∂L/∂A.
        (
            replace(RULES, bias=ProductRule(Operand("G"), Operand("1", along="units"))),
            "b_{1}",
            r"\partial L/\partial A_{1} \mathbf{1}$ fails, the shapes differ",
        ),
    ],
    ids=["W-not-transposed", "derivative-wrong-layer", "bias-wrong-axis"],
)
def test_a_wrong_rule_is_printed_as_checked_and_refused(
    rules: BackwardRules, name: str, formula: str
) -> None:
    wrong = derive_network(
        2, 2, (2,), 2, activation="sigmoid", output_activation="sigmoid", rules=rules
    )
    latex = render(wrong, "latex")
    failures = [
        line
        for line in latex.splitlines()
        if line.startswith(f"NOT verified: $\\partial L/\\partial {name} = ")
    ]
    assert len(failures) == 1
    assert formula in failures[0]
    assert not wrong.verified


def test_large_matrices_are_elided_and_full_prints_every_entry() -> None:
    derivation = derive_network(7, 7, (2,), 2, activation="sigmoid")
    elided = render(derivation, "latex")
    assert r"\vdots" in elided
    assert r"\cdots" in elided
    assert r"x_{7,7}" in elided  # the last entry of each matrix is shown
    assert r"x_{4,4}" not in elided
    full = render(derivation, "latex", full=True)
    assert r"x_{4,4}" in full
    assert len(full) > 3 * len(elided)


def test_the_width_of_latex_is_measured_as_it_sets() -> None:
    fraction = r"\frac{\partial L}{\partial a^{(2)}_{1,1}}"
    assert width(fraction) < width(fraction + " w^{(2)}_{1,1}") < 2 * width(fraction) + 4
    assert width("a + b") > width("ab") + 1


def _compiled(latex: str, folder: Path, name: str) -> str:
    result = run_pdflatex(latex, folder, name)
    log = (folder / f"{name}.log").read_text(encoding="latin-1")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Undefined control sequence" not in log
    return log


@pytest.mark.parametrize(
    ("hidden", "activation", "output"),
    [((2,), "relu", "identity"), ((2, 2), "tanh", "identity"), ((), "generic", "sigmoid")],
    ids=["relu-two-layers", "tanh-three-layers", "one-layer-sigmoid"],
)
def test_standalone_and_fragment_compile_within_the_page(
    hidden: tuple[int, ...], activation: str, output: str, tmp_path: Path
) -> None:
    derivation = derive_network(2, 2, hidden, 2, activation=activation, output_activation=output)
    log = _compiled(render(derivation, "latex", standalone=True), tmp_path, "network")
    assert "Overfull \\hbox" not in log
    fragment = render(derivation, "latex")
    # The narrowest page it is pasted into: a plain article at 10 pt.
    notes = (
        "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
        f"{fragment}\\end{{document}}\n"
    )
    assert "Overfull \\hbox" not in _compiled(notes, tmp_path, "notes")


def test_markdown_html_and_beamer_say_the_same(relu: NetworkDerivation) -> None:
    markdown = render(relu, "markdown")
    assert markdown.startswith("# Gradients of the network $X \\to A_{1}")
    assert "$$\n\\boxed{" in markdown
    assert "| formula | shape | check (entries) |" in markdown
    page = render(relu, "html")
    assert page.count("<h2>") == 5
    assert "<math" in page
    assert "✓" in page
    deck = render(relu, "beamer")
    assert deck.count("\\begin{frame}") == 6  # the title and one per section


def test_derive_prints_the_network_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["derive", "--hidden", "2", "--activation", "relu"], capsys)
    assert code == 0
    assert out.startswith("% Gradients of the network X \\to A_{1} \\to H_{1} \\to A_{2}")
    assert err.startswith("matgrad: verified (m=2, k=2, n=2, hidden 2 relu, output identity)")
    code, out, _ = run_cli(["derive", "--output-activation", "sigmoid", "-f", "markdown"], capsys)
    assert code == 0
    assert "X \\to A_{1} \\to H_{1}$" in out
    assert "A_{2}" not in out


def test_derive_writes_a_pdf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_pdflatex()
    target = tmp_path / "net.pdf"
    code, _, err = run_cli(
        ["derive", "--hidden", "2", "--activation", "tanh", "-f", "pdf", "-o", str(target)], capsys
    )
    assert err.startswith("matgrad: verified")
    assert code == 0
    assert target.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--activation", "softplus"], "'softplus' is not one of"),
        (["--hidden", "0"], "must be a positive integer"),
        (["--hidden", "2,2,2,2,2"], "hidden layers"),
        (["--sections", "setup"], "--sections and --brief"),
        (["--brief"], "--sections and --brief"),
        (["-m", "16", "-k", "16", "-n", "16", "--hidden", "16", "--full", "-f", "pdf"], "--full"),
    ],
    ids=["activation", "width", "depth", "sections", "brief", "full-too-large"],
)
def test_bad_network_input_is_one_line_exit_2_and_nothing_written(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.tex"
    code, out, err = run_cli(["derive", "--hidden", "2", *args, "-o", str(target)], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("matgrad: error: ")
    assert err.count("\n") == 1
    assert message in err
    assert not target.exists()


def test_the_backward_order_is_top_down() -> None:
    network = derive_network(1, 1, (1, 1), 1).network
    assert backward_order(network) == ["A3", "W3", "b3", "A2", "W2", "b2", "A1", "W1", "b1", "X"]
    assert re.fullmatch(r"(A\d W\d b\d )+X", " ".join(backward_order(network)))


def test_a_concrete_loss_is_defined_and_its_closed_form_checked_and_boxed() -> None:
    derivation = derive_network(2, 2, (2,), 3, activation="relu", loss="softmax-cross-entropy")
    latex = render(derivation, "latex")
    assert "under the softmax cross entropy" in latex.splitlines()[0]
    setup = latex[: latex.index("Forward pass")]
    assert "$L$ is the softmax cross entropy, with symbolic targets $y_{i,j}$" in setup
    assert r"\log \operatorname{softmax}(a_{i,:})_j" in setup
    assert "is any scalar loss" not in setup
    assert "(of each row, rows of Y summing to 1)" in latex
    boxed = r"\boxed{\frac{\partial L}{\partial A_{2}} = \operatorname{softmax}(A_{2}) - Y}"
    assert boxed in latex
    assert (
        r"$\partial L/\partial A_{2} = \operatorname{softmax}(A_{2}) - Y$ & $2 \times 3$" in latex
    )
    assert summary(derivation).endswith(
        "loss softmax-cross-entropy): the backward pass, 7 checks hold (29 entries)"
    )


def test_after_a_sigmoid_the_binary_cross_entropy_cancels_its_derivative() -> None:
    derivation = derive_network(
        2, 2, (2,), 2, activation="tanh", output_activation="sigmoid", loss="binary-cross-entropy"
    )
    latex = render(derivation, "latex")
    cancelled = (
        r"\frac{\partial L}{\partial A_{2}} = \frac{\partial L}{\partial H_{2}} \odot "
        r"{\operatorname{sigmoid}}'(A_{2}) = H_{2} - Y"
    )
    assert cancelled in latex
    assert r"\boxed{\frac{\partial L}{\partial A_{2}} = H_{2} - Y}" in latex


def test_a_wrong_closed_form_is_refused_in_the_document() -> None:
    wrong = derive_network(2, 2, (2,), 2, loss="squared-error", closed_form=lambda out, pre, y: out)
    assert not wrong.verified
    latex = render(wrong, "latex")
    assert (
        r"NOT verified: $\partial L/\partial A_{2} = \text{the closed form given}$ fails" in latex
    )
    assert r"\boxed{\frac{\partial L}{\partial A_{2}}" not in latex
    assert "Some formulas FAIL" in latex


def test_a_deep_network_stays_readable_and_on_the_page(tmp_path: Path) -> None:
    derivation = derive_network(2, 2, (2, 2, 2), 2, activation="sigmoid")
    latex = render(derivation, "latex", standalone=True)
    # Every exponential, merged by the engine across layers or not, is written back with h.
    backward = latex[latex.index("Backward through") :]
    assert "e^{" not in backward
    assert "exp" not in backward
    # A sum over the paths through the layers below is elided inside a term, never (1 - h).
    bottom = latex[latex.index("Backward through layer 1") :]
    assert r"+ \cdots\right)" in bottom
    assert r"\left(1 + \cdots\right)" not in latex
    assert len(latex) < 150_000
    full = render(derivation, "latex", full=True)
    assert r"+ \cdots\right)" not in full
    log = _compiled(latex, tmp_path, "deep")
    assert "Overfull \\hbox" not in log
    assert "Overfull \\vbox" not in log
