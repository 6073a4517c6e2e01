"""Handouts that need no editing: every document speaks about the mathematics. No software is
named, and no notes the reader never saw are cited, outside the one closing line that says how
matgrad verified every equality; in every command and every format, JSON prose included."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from matgrad_cli.present.derivation_checks import PROVENANCE

from .conftest import run_cli

#: What a document body must not say: the software, and notes the reader has not seen.
_FORBIDDEN = re.compile(
    r"sympy|symengine|\bCAS\b|computer algebra|original notes|the notes' claim|the notes'",
    re.IGNORECASE,
)

_FORMATS = ("latex", "markdown", "text", "json")

#: Every command that prints a document, with arguments that reach its kinds of result.
_COMMANDS = {
    "derive": ["derive"],
    "derive-no-bias": ["derive", "-m", "3", "-k", "2", "-n", "4", "--no-bias"],
    "derive-softmax": ["derive", "--loss", "softmax-cross-entropy"],
    "derive-squared-error": ["derive", "--loss", "squared-error", "--full"],
    "derive-numeric": ["derive", "--numeric"],
    "derive-numeric-softmax": ["derive", "--numeric", "--loss", "softmax-cross-entropy"],
    "derive-brief": ["derive", "--brief", "--loss", "sum"],
    "jacobian": ["jacobian"],
    "check-correct": ["check", "dW = Z.T @ G"],
    "check-wrong": ["check", "dW = G @ Z.T"],
    "check-softmax": ["check", "--loss", "softmax-cross-entropy", "dZ = G @ W.T"],
    "jacobian-denominator": ["jacobian", "--layout", "denominator", "-m", "3"],
    "prove": ["prove"],
}


def _strings(data: Any) -> list[str]:
    """Every string value of a JSON document (not its keys, which name fields for programs)."""
    if isinstance(data, dict):
        return [text for value in data.values() for text in _strings(value)]
    if isinstance(data, list):
        return [text for value in data for text in _strings(value)]
    return [data] if isinstance(data, str) else []


def _body(text: str, fmt: str) -> str:
    """The document without its closing provenance line (one paragraph, or one wrapped block of
    the terminal view)."""
    if fmt == "json":
        text = "\n".join(_strings(json.loads(text)))
    blocks = re.split(r"\n\s*\n", text)
    kept = [block for block in blocks if PROVENANCE not in " ".join(block.split())]
    assert len(blocks) - len(kept) <= 1  # at most one closing line
    return "\n\n".join(kept)


def forbidden_words(text: str) -> list[str]:
    """The forbidden words a text holds."""
    return _FORBIDDEN.findall(text)


#: --brief shapes a printed document; JSON, which lists everything, refuses it.
_CASES = [
    (command, fmt)
    for command in sorted(_COMMANDS)
    for fmt in _FORMATS
    if not ("--brief" in _COMMANDS[command] and fmt == "json")
]


@pytest.mark.parametrize(("command", "fmt"), _CASES)
def test_documents_speak_about_the_mathematics_only(
    command: str, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli([*_COMMANDS[command], "-f", fmt], capsys)
    assert code in (0, 1)
    assert out
    assert forbidden_words(_body(out, fmt)) == []


def test_exercise_sheets_speak_about_the_mathematics_only(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stem = tmp_path / "sheet"
    code, _, _ = run_cli(["exercise", "--seed", "3", "--count", "6", "-o", str(stem)], capsys)
    assert code == 0
    for part in ("problems", "solutions"):
        text = (tmp_path / f"sheet-{part}.tex").read_text(encoding="utf-8")
        assert forbidden_words(_body(text, "latex")) == []


def test_the_grep_finds_what_it_looks_for() -> None:
    """The check can fail: each forbidden phrase is found, the closing line alone is let through."""
    for text in (
        "the CAS differentiated",
        "symengine's derivative",
        "by sympy.diff",
        "The original notes write",
        "The notes' claim",
    ):
        assert forbidden_words(text), text
    assert forbidden_words("Casting a CASE") == []
    closing = f"Done.\n\n{PROVENANCE}, in exact symbolic arithmetic (symengine)."
    assert forbidden_words(_body(closing, "latex")) == []
    assert forbidden_words(_body(f"symengine did it.\n\n{closing}", "latex")) == ["symengine"]


def test_the_jacobian_document_names_the_mistake_as_a_common_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(["jacobian"], capsys)
    assert code == 0
    assert "A common mistake, for a layer written $Y = XW$, is to claim" in out
    assert "The common mistake $\\partial A/\\partial W = Z^\\top$ is rejected" in out
    assert "the common mistake ∂A/∂W = Zᵀ: rejected" in err


# --- Choosing what goes in: --sections and --brief --------------------------------------------


def _section_titles(latex: str) -> list[str]:
    return re.findall(r"\\section\*\{(.*?)\}", latex)


def test_sections_choose_the_parts_in_the_document_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(["derive", "--sections", "summary, W,forward"], capsys)
    assert code == 0
    assert _section_titles(out) == ["Forward pass", "The gradient with respect to W", "Summary"]
    code, whole, _ = run_cli(["derive"], capsys)
    assert len(_section_titles(whole)) == 7  # the full document stays the default
    code, text, _ = run_cli(["derive", "--sections", "Z", "-f", "text"], capsys)
    assert code == 0
    assert "∂L/∂Z ──" in text
    assert "∂L/∂W ──" not in text
    assert "Setup" not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sections", "forward,weights"], "unknown section 'weights' in --sections; choose "),
        (["--sections", "b", "--no-bias"], "--sections b needs the bias"),
        (["--sections", "loss"], "--sections loss needs a concrete --loss"),
        (["--brief", "-f", "json"], "json lists everything"),
        (["--brief", "--full"], "--brief and --full exclude each other"),
        (["--sections", "W", "--numeric"], "not --numeric"),
    ],
)
def test_a_choice_that_cannot_apply_is_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["derive", *args], capsys)
    assert (code, out) == (2, "")
    assert err.startswith("matgrad: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_the_help_lists_the_section_names(capsys: pytest.CaptureFixture[str]) -> None:
    from matgrad_cli.present.derivation_sections import SECTIONS

    code, out, _ = run_cli(["derive", "--help"], capsys)
    assert code == 0
    assert all(name in " ".join(out.split()) for name in SECTIONS)


def test_brief_works_one_entry_per_gradient_and_keeps_the_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(["derive", "--brief"], capsys)
    assert code == 0
    assert out.count(" appears in ") == 3  # one entry of Z, of W and of b
    assert out.count("The other 3 entries follow the same pattern.") == 2
    assert "The other entry follows the same pattern." in out
    assert out.count("Assembled in the shape of") == 3
    assert out.count("Verified entry by entry: all") == 3
    assert "multiplied out:" not in out
    assert "Why it holds at every size" not in out
    assert "All 7 checks hold (26 entries)" in out
    code, text, _ = run_cli(["derive", "--brief", "-f", "text"], capsys)
    assert text.count("follow the same pattern.") == 2


def test_brief_with_a_failed_check_shows_the_whole_summary() -> None:
    """The one-sentence summary is for a verified derivation; a failure keeps its table. The
    ∂L/∂W check is made against the transposed form (Zᵀ·G)ᵀ, which must fail."""
    from dataclasses import replace

    from matgrad_cli import derive
    from matgrad_cli.core.compare import compare
    from matgrad_cli.core.engine import get_engine
    from matgrad_cli.core.matrix import matmul, transpose, upstream_form
    from matgrad_cli.present import render

    derivation = derive(2, 3, 2)
    engine = get_engine(derivation.engine)
    symbols, plain = derivation.symbols, derivation.plain
    upstream = upstream_form(derivation.sizes)
    true_form = matmul(engine.matrix(symbols.input).T, upstream, engine, "Zᵀ · ∂L/∂A")
    failing = compare(plain.gradients["W"], transpose(true_form), False, symbols, engine)
    checks = tuple(failing if check.variable == "W" else check for check in plain.checks)
    broken = replace(derivation, plain=replace(plain, checks=checks))
    text = render(broken, "latex", brief=True)
    assert "NOT verified" in text
    assert "Some identities FAIL" in text
    assert "checks hold (" not in text
    assert "\\begin{tabular}" in text


def test_the_brief_2x2x2_pdf_is_at_most_two_pages(tmp_path: Any) -> None:
    from matgrad_cli import derive
    from matgrad_cli.present import render

    from .conftest import run_pdflatex

    latex = render(derive(2, 2, 2), "latex", standalone=True, brief=True)
    result = run_pdflatex(latex, tmp_path, "brief")
    assert result.returncode == 0
    log = (tmp_path / "brief.log").read_text(encoding="utf-8", errors="replace")
    pages = re.search(r"Output written on brief\.pdf \((\d+) pages?", log)
    assert pages is not None
    assert int(pages.group(1)) <= 2
    assert "Overfull" not in log


# --- Closed forms first ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "closed"),
    [
        ("squared-error", "\\frac{\\partial L}{\\partial A} = A - Y"),
        (
            "softmax-cross-entropy",
            "\\frac{\\partial L}{\\partial A} = \\operatorname{softmax}(A) - Y",
        ),
        ("sum", "\\frac{\\partial L}{\\partial A} = \\mathbf{1}_m \\mathbf{1}_n^\\top"),
    ],
)
def test_a_concrete_loss_shows_its_closed_form_and_the_raw_derivatives_only_with_full(
    loss: str, closed: str
) -> None:
    from matgrad_cli import derive
    from matgrad_cli.present import render

    derivation = derive(2, 2, 2, loss=loss)
    text = render(derivation, "latex")
    assert closed in text
    assert "Check: differentiating $L$ with respect to each of the 4 entries" in text
    raw = "Differentiating $L$ with respect to each $a_{i,j}$"
    assert "Appendix" not in text
    assert raw not in text
    full = render(derivation, "latex", full=True)
    appendix = full[full.index("\\section*{Appendix: the loss differentiated entry by entry}") :]
    assert full.count(raw) == appendix.count(raw) == 1
    assert "printed in the appendix." in full


class _WrongSquaredError:
    """Builds the squared error with a wrong closed form, A + Y, for the check to reject."""

    @staticmethod
    def derivation() -> Any:
        from dataclasses import replace

        from matgrad_cli import derive
        from matgrad_cli.core.layer import Sizes
        from matgrad_cli.core.losses import SquaredError, derive_loss

        class Wrong(SquaredError):
            closed_form_latex = "A + Y"

            def closed_form(self, a: Any, y: Any) -> Any:
                return a + y

        wrong = derive_loss(Wrong(), Sizes(2, 2, 2), bias=True)
        return replace(derive(2, 2, 2, loss="squared-error"), loss=wrong)


def test_a_wrong_closed_form_is_reported_with_the_derivatives_it_does_not_match() -> None:
    from matgrad_cli.present import render

    derivation = _WrongSquaredError.derivation()
    assert not derivation.verified
    text = render(derivation, "latex")
    assert "NOT verified: the closed form $\\partial L/\\partial A = A + Y$" in text
    assert "Check: differentiating" not in text
    # The derivatives it was compared with are shown at once, not left to --full.
    assert "\\frac{\\partial L}{\\partial A} = \\begin{bmatrix}" in text
    assert "a_{1,1} - y_{1,1}" in text
    summary = text[text.index("\\section*{Summary}") :]
    assert "$\\partial L/\\partial A = A + Y$ & $2 \\times 2$ &  & FAILS" in summary
