"""The derivation document (SPEC section 2) in LaTeX, Markdown and JSON: content, golden files,
the errata of the original notes (SPEC section 5), and a real pdflatex compile."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from matgrad_cli import derive
from matgrad_cli.core.compare import compare
from matgrad_cli.core.engine import get_engine
from matgrad_cli.core.matrix import matmul, transpose, upstream_form
from matgrad_cli.core.model import Derivation
from matgrad_cli.present import render
from matgrad_cli.present.document import Display, Document, Lead, Paragraph, Section, Table
from matgrad_cli.present.json import render_json
from matgrad_cli.present.latex import FRAGMENT_NEEDS as NEEDS
from matgrad_cli.present.latex import latex_text, preamble
from matgrad_cli.present.layer_latex import UPSTREAM_INLINE, forward_latex, rule_latex
from matgrad_cli.present.markdown import markdown_text
from matgrad_cli.present.mathtex import ROW_STRUT, bmatrix

from .conftest import assert_golden, run_pdflatex

G = r"\frac{\partial L}{\partial a_{%d,%d}}"


def g(i: int, j: int) -> str:
    return G % (i, j)


def matrix_after(text: str, head: str) -> str:
    """The body of the first bmatrix that follows ``head``."""
    start = text.index(head) + len(head)
    body = text[start:]
    assert body.lstrip().startswith(r"\begin{bmatrix}"), body[:80]
    return body[
        body.index(r"\begin{bmatrix}") + len(r"\begin{bmatrix}") : body.index(r"\end{bmatrix}")
    ]


@pytest.fixture(scope="module")
def default_derivation() -> Derivation:
    return derive(2, 2, 2)


def test_golden_documents_for_the_default_layer(default_derivation: Derivation) -> None:
    assert_golden(render(default_derivation, "latex"), "derive/2x2x2.tex")
    assert_golden(
        render(default_derivation, "latex", standalone=True), "derive/2x2x2-standalone.tex"
    )
    assert_golden(render(default_derivation, "markdown"), "derive/2x2x2.md")
    assert_golden(render_json(default_derivation), "derive/2x2x2.json")
    assert_golden(render(default_derivation, "text", width=80), "derive/2x2x2.txt")
    assert_golden(render(derive(3, 2, 4, bias=False), "text", width=80), "derive/3x2x4-no-bias.txt")


def test_sections_follow_the_specified_order(default_derivation: Derivation) -> None:
    titles = re.findall(r"\\section\*\{(.*?)\}", render(default_derivation, "latex"))
    assert titles == [
        "Setup",
        "Forward pass",
        "The gradient with respect to Z (the input)",
        "The gradient with respect to W",
        "Adding the bias",
        "Why it holds at every size",
        "Summary",
    ]


def test_assembled_input_gradient_has_every_entry_in_its_place(
    default_derivation: Derivation,
) -> None:
    # The original notes put entries (1,2), (2,1) and (2,2) of this matrix in the wrong places.
    text = render(default_derivation, "latex")
    body = matrix_after(text, r"\frac{\partial L}{\partial Z} = ")
    rows = [row.replace(ROW_STRUT, "").strip() for row in body.split("\\\\")]
    cells = [
        [cell.replace(r"\displaystyle ", "").strip() for cell in row.split("&")] for row in rows
    ]
    assert cells == [
        [
            f"{g(1, 1)} w_{{1,1}} + {g(1, 2)} w_{{1,2}}",
            f"{g(1, 1)} w_{{2,1}} + {g(1, 2)} w_{{2,2}}",
        ],
        [
            f"{g(2, 1)} w_{{1,1}} + {g(2, 2)} w_{{1,2}}",
            f"{g(2, 1)} w_{{2,1}} + {g(2, 2)} w_{{2,2}}",
        ],
    ]


def test_weight_gradient_terms_are_not_transposed(default_derivation: Derivation) -> None:
    # The notes swapped ∂L/∂w_{1,2} and ∂L/∂w_{2,1}; ∂L/∂w_{1,2} = Σ_i ∂L/∂a_{i,2} z_{i,1}.
    text = render(default_derivation, "latex")
    assert (
        rf"\frac{{\partial L}}{{\partial w_{{1,2}}}} &= {g(1, 2)} "
        rf"\frac{{\partial a_{{1,2}}}}{{\partial w_{{1,2}}}} + {g(2, 2)} "
        rf"\frac{{\partial a_{{2,2}}}}{{\partial w_{{1,2}}}} \\"
        "\n"
        rf"&= {g(1, 2)} z_{{1,1}} + {g(2, 2)} z_{{2,1}}"
    ) in text


def test_no_mistake_of_the_original_notes_is_reproduced(default_derivation: Derivation) -> None:
    text = render(default_derivation, "latex")
    assert r"Z^\top \frac{\partial L}{\partial W}" not in text  # "∂L/∂W = Zᵀ ∂L/∂W"
    assert "a_{m,1} & a_{m,1}" not in text
    assert "w_{k,1} & w_{k,1}" not in text
    assert r"z_{1,m}" not in text  # the mixed-index general Zᵀ
    # The bias is a row vector and its gradient is derived.
    assert "b = \\begin{bmatrix}\nb_{1} & b_{2}\n\\end{bmatrix}" in text
    assert r"\boxed{\frac{\partial L}{\partial b} = \mathbf{1}_m^\top" in text
    # The general weight gradient sums over i with z_{i,r}, not with transposed indices.
    assert r"= \sum_{i=1}^{m} z_{i,r} \frac{\partial L}{\partial a_{i,j}}" in text
    # ∂A/∂W is a 4th-order tensor, never "= Zᵀ" except where the mistake is named as one.
    claims = re.findall(r"\\partial A/\\partial W = Z\^\\top", text)
    assert len(claims) == 1
    assert "is a\nmistake" not in text
    assert r"A common mistake is to write $\partial A/\partial W = Z^\top$." in text
    assert "tr(WX" not in text


def test_every_verdict_comes_from_a_check(default_derivation: Derivation) -> None:
    # Replace the ∂L/∂W check by one against the transposed form (Zᵀ·G)ᵀ, which must fail.
    engine = get_engine(default_derivation.engine)
    symbols, plain = default_derivation.symbols, default_derivation.plain
    true_form = matmul(
        engine.matrix(symbols.input).T,
        upstream_form(default_derivation.sizes),
        engine,
        "Zᵀ · ∂L/∂A",
    )
    failing = compare(plain.gradients["W"], transpose(true_form), False, symbols, engine)
    assert not failing.holds
    broken = replace(
        default_derivation,
        plain=replace(
            plain, checks=tuple(failing if c.variable == "W" else c for c in plain.checks)
        ),
    )
    text = render(broken, "latex")
    assert "NOT verified" in text
    assert r"\boxed{\frac{\partial L}{\partial W}" not in text
    assert "Some identities FAIL" in text
    data = json.loads(render_json(broken))
    assert data["verified"] is False
    assert any(not check["holds"] and check["mismatches"] for check in data["checks"])


def test_large_matrices_are_elided_but_fully_verified() -> None:
    derivation = derive(8, 7, 9, bias=False)
    assert all(
        check.entries_checked == rows * cols
        for check in derivation.checks
        for rows, cols in [check.shape]
    )
    elided = render(derivation, "latex")
    setup = elided[: elided.index(r"\section*{Forward pass}")]
    assert r"\cdots" in setup
    assert r"\vdots" in setup
    assert r"\ddots" in setup
    assert "entries are computed the same way" in elided
    whole = render(derivation, "latex", full=True)
    setup_whole = whole[: whole.index(r"\section*{Forward pass}")]
    assert r"\cdots" not in setup_whole
    assert r"\vdots" not in setup_whole
    assert "z_{8,7}" in setup_whole


def test_size_eleven_indices_stay_distinct() -> None:
    text = render(derive(11, 11, 1, bias=False), "latex", full=True)
    assert "z_{1,11}" in text
    assert "z_{11,1}" in text
    assert "z_{111}" not in text


def test_markdown_uses_display_math_blocks(default_derivation: Derivation) -> None:
    text = render(default_derivation, "markdown")
    assert text.startswith(
        "# Gradients of the matrix-multiplication layer $A = ZW + \\mathbf{1}_m b$, "
        "$(m, k, n) = (2, 2, 2)$"
    )
    assert "\\\\[" not in text  # GitHub's Markdown would eat a backslash of \\[
    assert text.count("$$") % 2 == 0
    assert "## Summary" in text
    assert "| identity | shape | layer | result (entries) |" in text
    assert "\\begin{align*}" not in text  # GitHub and Jupyter render aligned, not align*


@pytest.mark.parametrize(
    ("sizes", "bias"),
    [((2, 2, 2), True), ((2, 2, 2), False), ((3, 2, 4), True), ((3, 2, 4), False)],
    ids=["2x2x2", "2x2x2-no-bias", "3x2x4", "3x2x4-no-bias"],
)
def test_standalone_document_compiles_with_pdflatex(
    sizes: tuple[int, int, int], bias: bool, tmp_path: Path
) -> None:
    latex = render(derive(*sizes, bias=bias), "latex", standalone=True)
    result = run_pdflatex(latex, tmp_path, "layer")
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "layer.pdf").stat().st_size > 10_000
    log = (tmp_path / "layer.log").read_text(encoding="latin-1")
    assert "Overfull \\hbox" not in log, "a line runs into the margin"
    assert "Undefined control sequence" not in log


def test_fragment_compiles_inside_a_minimal_document(tmp_path: Path) -> None:
    fragment = render(derive(2, 3, 2), "latex")
    source = (
        "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
        + fragment
        + "\\end{document}\n"
    )
    result = run_pdflatex(source, tmp_path, "notes")
    assert result.returncode == 0, result.stdout[-3000:]


# The one document model and its printers.

EVERY_BLOCK = Document(
    "Every block of $A$",
    (
        Section(
            "Blocks",
            (
                Paragraph("Prose with $a_{1,1}$ and `code`."),
                Lead("Task.", "Find $y$."),
                Display(("y = 1",)),
                Display(("a &= b", "&= c"), aligned=True),
                Table(("identity", "result"), (("$a = b$", "holds"),)),
            ),
        ),
        Section("Kept", (Paragraph("On one page."),), kept_together=True),
    ),
)


def test_every_block_of_the_model_is_printed_in_latex_and_markdown() -> None:
    latex = latex_text(EVERY_BLOCK)
    comments = f"% Every block of A\n% Generated by matgrad.\n{NEEDS}\n"
    assert latex.startswith(comments + "% A part starts")
    assert "  \\unvbox0\\par}\n\n\\section*{Blocks}\n\n" in latex
    assert "Prose with $a_{1,1}$ and \\texttt{code}." in latex
    assert "\\textbf{Task.} Find $y$." in latex
    assert "\\[\ny = 1\n\\]" in latex
    assert "\\begin{align*}\na &= b \\\\\n&= c\n\\end{align*}" in latex
    assert "\\textbf{identity} & \\textbf{result} \\\\\n\\hline\n$a = b$ & holds \\\\" in latex
    assert "\\begin{sheetpart}\n\\section*{Kept}\n\nOn one page.\n\\end{sheetpart}" in latex
    markdown = markdown_text(EVERY_BLOCK)
    assert markdown.startswith("# Every block of $A$\n\n## Blocks\n\nProse with $a_{1,1}$")
    assert "**Task.** Find $y$." in markdown
    assert "$$\n\\begin{aligned}\na &= b \\\\\n&= c\n\\end{aligned}\n$$" in markdown
    assert "| $a = b$ | holds |" in markdown


def test_the_preamble_is_built_from_its_settings() -> None:
    assert "\\setcounter{MaxMatrixCols}{40}\n" in preamble()
    assert "\\setcounter{MaxMatrixCols}{64}\n" in preamble(64)
    assert "sheetpart" not in preamble()
    assert "\\newenvironment{sheetpart}" in preamble(kept_together=True)
    wide = bmatrix(1, 45, lambda i, j: "1", full=True)
    document = Document("Wide", (Section("A row", (Display((wide,)),)),))
    assert latex_text(document, standalone=True).startswith(preamble(45))
    fragment = latex_text(document)
    assert fragment.startswith(f"% Wide\n% Generated by matgrad.\n{NEEDS}\n")
    assert "\\setcounter{MaxMatrixCols}{45}\n" in fragment


def test_the_standalone_model_document_compiles(tmp_path: Path) -> None:
    result = run_pdflatex(latex_text(EVERY_BLOCK, standalone=True), tmp_path, "blocks")
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_layers_notation_is_read_off_its_description() -> None:
    assert forward_latex(bias=False) == "A = ZW"
    assert forward_latex(bias=True) == r"A = ZW + \mathbf{1}_m b"
    assert rule_latex("Z") == r"\frac{\partial L}{\partial A} W^\top"
    assert rule_latex("W", UPSTREAM_INLINE) == r"Z^\top (\partial L/\partial A)"
    assert rule_latex("b", "G", after_upstream=r"\, ") == r"\mathbf{1}_m^\top G"
    assert rule_latex("Z", "G", after_upstream=r"\, ") == r"G\, W^\top"
