"""--format html: the MathML of every construct the documents use, a self-contained page, the
command line's handling of the format, and every kind of document opened in a real browser
(headless Chromium: a screenshot that is not blank, no MathML error, nothing loaded from
elsewhere, and the page's visible text against the document's content)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import pytest

from matgrad_cli.core.derive import derive
from matgrad_cli.present import _DOCUMENTS, _load, formats, render
from matgrad_cli.present.document import Display, Document, Lead, Paragraph, Section, Table
from matgrad_cli.present.html import html_text
from matgrad_cli.present.mathml import MathMLError, latex_to_mathml, normalised

from .browser import ink, open_page, print_page, visible_text
from .conftest import run_cli

M = "{http://www.w3.org/1998/Math/MathML}"


def _tree(latex: str, display: bool = True) -> ElementTree.Element:
    return ElementTree.fromstring(latex_to_mathml(latex, display=display))


def _tags(element: ElementTree.Element) -> list[str]:
    return [node.tag.removeprefix(M) for node in element.iter()]


# The MathML of each construct the documents use.


def test_a_matrix_is_a_table_between_brackets_and_takes_a_script_whole() -> None:
    element = _tree(r"\operatorname{vec}(A) = \begin{bmatrix} a & b \\ c & d \end{bmatrix}^\top")
    (script,) = element.iter(f"{M}msup")
    base, top = list(script)
    assert [node.text for node in base if node.tag == f"{M}mo"] == ["[", "]"]
    assert len(list(base.iter(f"{M}mtr"))) == 2
    assert top.text == "⊤"
    assert element.find(f".//{M}mi").text == "vec"  # type: ignore[union-attr]


def test_boxed_is_a_box_that_the_page_draws() -> None:
    (box,) = _tree(r"\boxed{\frac{\partial L}{\partial Z} = G W^\top}").iter(f"{M}menclose")
    assert box.get("notation") == "box"
    assert 'menclose[notation~="box"] { border: 1px solid' in html_text(Document("t", ()))


def test_aligned_lines_are_a_table_aligned_at_the_ampersand() -> None:
    element = _tree("\\begin{align*}\na &= b + c \\\\\n&= d\n\\end{align*}")
    rows = list(element.iter(f"{M}mtr"))
    assert len(rows) == 2
    assert [cell.get("columnalign") for cell in rows[0]] == ["right", "left"]
    assert "mtd[columnalign=" in html_text(Document("t", ()))


def test_displaystyle_in_a_matrix_cell_holds_the_cells_formula() -> None:
    latex = (
        r"\begin{bmatrix} \rule[-2.4ex]{0pt}{6.4ex} \displaystyle \frac{a}{b} + c & d \end{bmatrix}"
    )
    styles = list(_tree(latex).iter(f"{M}mstyle"))
    assert len(styles) == 1
    assert styles[0].get("displaystyle") == "true"
    assert _tags(styles[0])[1:] == ["mfrac", "mrow", "mi", "mrow", "mi", "mo", "mi"]
    assert "rule" not in normalised(latex)


@pytest.mark.parametrize(
    ("latex", "tag", "text"),
    [
        (r"\partial L", "mi", "∂"),
        (r"A \odot B", "mo", "⊙"),
        (r"I_n \otimes Z", "mo", "⊗"),
        (r"\underbrace{Z^\top}_{k \times m}", "mo", "⏟"),
        (r"\text{with } b", "mtext", "with\xa0"),
        (r"\mathbf{1}_m", "mn", "1"),
        (r"\cdots \vdots \ddots", "mo", "⋯"),
        (r"\sum_{p,q} x", "mo", "∑"),
        (r"x \le y \neq z", "mo", "≤"),
        (r"\checkmark", "mi", "✓"),
        (r"X\big\vert_{b = 0}", "mo", "|"),
        (r"\Bigl( x \Bigr)", "mo", "("),
        (r"\operatorname{softmax}(A) - Y", "mi", "softmax"),
        (r"\left( \frac{a}{b} \right)", "mo", "("),
        (r"\delta_{j,q} \sigma_{i,j} \qquad e^{a}", "mi", "δ"),
    ],
)
def test_each_construct_converts(latex: str, tag: str, text: str) -> None:
    element = _tree(latex, display=False)
    assert text in [node.text for node in element.iter(f"{M}{tag}")], _tags(element)


def test_a_name_before_its_argument_is_set_apart_and_a_solidus_is_not() -> None:
    element = _tree(r"\log \operatorname{softmax}(a) + \log x + \partial L/\partial A")
    assert [tag for tag in _tags(element) if tag == "mspace"] == ["mspace", "mspace"]
    (solidus,) = [node for node in element.iter(f"{M}mo") if node.text == "/"]
    assert (solidus.get("lspace"), solidus.get("rspace")) == ("0", "0")


@pytest.mark.parametrize("latex", [r"\notacommand x", r"\frac{a}", r"a^", r"a & b"])
def test_maths_the_converter_cannot_take_fails_loudly(latex: str) -> None:
    with pytest.raises(MathMLError):
        latex_to_mathml(latex, display=True)


# The page.

_DOCUMENT = Document(
    "Title with $x^2$",
    (
        Section("First", (Paragraph("Text with `code <b>` & $a_{1,2}$."), Lead("Check.", "ok"))),
        Section(
            "Second",
            (Display(("a &= b", "&= c"), aligned=True), Table(("$x$", "y"), (("1", "$z$"),))),
            kept_together=True,
        ),
    ),
)


def test_a_page_is_self_contained_and_escapes_its_text() -> None:
    page = html_text(_DOCUMENT)
    assert page.startswith("<!DOCTYPE html>\n")
    assert "<title>Title with x2</title>" in page
    assert "<code>code &lt;b&gt;</code> &amp;" in page
    assert 'name="viewport" content="width=device-width' in page
    assert "default-src 'none'" in page
    assert "@media print" in page
    assert '<section class="kept">' in page
    assert page.count("<math ") == 5
    assert page.count('display="block"') == 1
    for forbidden in ("<script", "<link", "src=", "href=", "url(", "@import", "@font-face"):
        assert forbidden not in page


def test_a_block_the_printer_does_not_know_fails() -> None:
    @dataclass(frozen=True)
    class Figure:
        path: str

    with pytest.raises(AssertionError):
        html_text(Document("t", (Section("s", (Figure("x.png"),)),)))  # type: ignore[arg-type]


def test_every_kind_of_document_offers_html_after_markdown() -> None:
    for kind in _DOCUMENTS:
        offered = formats(kind)
        assert offered.index("html") == offered.index("markdown") + 1


# The command line.


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["derive"], 0),
        (["check", "dW = G @ Z.T"], 1),
        (["prove"], 0),
        (["jacobian"], 0),
        (["derive", "-m", "4", "-k", "3", "-n", "5", "--numeric"], 0),
    ],
)
def test_every_command_writes_html(
    args: list[str], code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code, out, err = run_cli([*args, "-f", "html"], capsys)
    assert exit_code == code, err
    assert out.startswith("<!DOCTYPE html>")
    assert out.endswith("</html>\n")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["derive", "-f", "html", "--standalone"],
        ["prove", "-f", "html", "--standalone"],
        ["derive", "-f", "htm"],
        ["exercise", "--seed", "1", "-o", "x", "-f", "markdown"],
    ],
)
def test_a_bad_combination_is_one_line_and_exit_2(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(args, capsys)
    assert (code, out) == (2, "")
    assert err.startswith("matgrad: error: ")
    assert err.count("\n") == 1


def test_the_help_offers_html(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("derive", "check", "prove", "jacobian", "exercise"):
        code, out, _ = run_cli([command, "--help"], capsys)
        assert code == 0
        assert "html" in out, command


def test_exercise_writes_the_web_pages_with_the_latex(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stem = tmp_path / "week3.html"
    code, _, err = run_cli(
        ["exercise", "--seed", "7", "--count", "2", "-o", str(stem), "-f", "html"], capsys
    )
    assert code == 0, err
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == [
        "week3-problems.html",
        "week3-problems.tex",
        "week3-solutions.html",
        "week3-solutions.tex",
    ]
    problems = (tmp_path / "week3-problems.html").read_text(encoding="utf-8")
    assert "<h2>Problem 2</h2>" in problems
    # the problem sheet does not give away the command that makes its solutions; theirs does
    assert "matgrad exercise" not in problems
    assert 'class="command"' not in problems
    solutions = (tmp_path / "week3-solutions.html").read_text(encoding="utf-8")
    assert '<p class="command"><code>matgrad exercise --seed 7 --count 2</code></p>' in solutions


# In the browser.


def _prose_pieces(document: Document) -> list[str]:
    """The prose of ``document`` in the order of the page, without its maths."""
    pieces = []
    for text in _texts(document):
        for index, piece in enumerate(text.replace("`", "").split("$")):
            cleaned = " ".join(piece.split())
            if index % 2 == 0 and len(cleaned) > 3:
                pieces.append(cleaned)
    return pieces


def _texts(document: Document) -> list[str]:
    """Every text of ``document`` outside its displays, in order: titles, prose, labels, table
    cells."""
    texts = [document.title]
    if document.heading is not None:
        texts += [document.heading.subtitle, document.heading.command]
    for section in document.sections:
        texts.append(section.title)
        for block in section.blocks:
            if isinstance(block, Paragraph):
                texts.append(block.text)
            elif isinstance(block, Lead):
                texts += [block.label, block.text]
            elif isinstance(block, Table):
                texts += [*block.header, *(cell for row in block.rows for cell in row)]
    return texts


def _expected_maths(document: Document) -> int:
    """How many formulas the page of ``document`` shows: every display and every $…$."""
    displays = sum(
        isinstance(block, Display) for section in document.sections for block in section.blocks
    )
    return displays + sum(text.count("$") // 2 for text in _texts(document))


def _results() -> dict[str, object]:
    """One result of every kind of document, small enough to open quickly."""
    from matgrad_cli.core.claims import check
    from matgrad_cli.core.exercise import make_problems, solve_all
    from matgrad_cli.core.jacobians import jacobian
    from matgrad_cli.core.numeric import numeric_verify
    from matgrad_cli.core.proof import prove
    from matgrad_cli.present.exercise_doc import ProblemSheet, SolutionSheet

    problems = make_problems(7, 3, True)
    return {
        "derive": derive(2, 2, 2),
        "derive-softmax": derive(2, 2, 3, loss="softmax-cross-entropy"),
        "check": check(["dZ = G @ W.T", "dW = G @ Z.T"]),
        "prove": prove(),
        "jacobian": jacobian(2, 2, 2),
        "numeric": numeric_verify(4, 3, 5),
        "problems": ProblemSheet(problems, 7),
        "solutions": SolutionSheet(solve_all(problems, derive), 7),
    }


@pytest.fixture(scope="module")
def results() -> dict[str, object]:
    return _results()


@pytest.mark.parametrize(
    "kind",
    ["derive", "derive-softmax", "check", "prove", "jacobian", "numeric", "problems", "solutions"],
)
def test_the_browser_shows_every_kind_of_document(
    kind: str, results: dict[str, object], tmp_path: Path
) -> None:
    result = results[kind]
    document = _load(_DOCUMENTS[type(result).__name__])(result, full=False)
    page = tmp_path / f"{kind}.html"
    source = render(result, "html")
    for reference in ("src=", "href=", "url(", "@import", "<script", "<link", "<iframe"):
        assert reference not in source
    page.write_text(source, encoding="utf-8")
    shown = open_page(page, 1000, 1400)
    share, rows = ink(shown.screenshot)
    assert share > 0.01, f"the screenshot of {kind} is blank"
    assert rows > 200
    assert "<merror" not in shown.dom
    assert shown.requests == ()
    assert shown.dom.count("<math ") == _expected_maths(document)
    text = visible_text(shown.dom)
    position = 0
    for piece in _prose_pieces(document):
        found = text.find(piece, position)
        assert found >= 0, f"{piece!r} is not on the page after position {position}"
        position = found + len(piece)
    latex = "".join(_texts(document)) + "".join(
        "".join(block.lines)
        for section in document.sections
        for block in section.blocks
        if isinstance(block, Display)
    )
    assert text.count("∂") == latex.count("\\partial") + latex.count("∂")


def test_a_phone_shows_the_derivation_within_its_width(tmp_path: Path) -> None:
    page = tmp_path / "derive.html"
    page.write_text(render(derive(2, 2, 2), "html"), encoding="utf-8")
    shown = open_page(page, 390, 1200)
    share, rows = ink(shown.screenshot)
    assert share > 0.01
    assert rows > 200
    assert "<merror" not in shown.dom


def test_the_browser_checks_catch_a_bad_page(tmp_path: Path) -> None:
    """The checks above can fail: a page that loads a picture from elsewhere, shows a MathML
    error and nothing else is caught by each of them."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><body>"
        '<img src="https://example.org/x.png" alt="" width="1" height="1">'
        '<math style="display: none"><merror><mtext>x</mtext></merror></math>'
        "</body></html>",
        encoding="utf-8",
    )
    shown = open_page(page, 400, 300)
    assert shown.requests == ("https://example.org/x.png",)
    assert "<merror" in shown.dom
    assert ink(shown.screenshot) == (0.0, 0)


def test_full_is_refused_before_any_work_when_the_page_would_be_too_large(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(
        ["derive", "-m", "11", "-k", "11", "-n", "11", "--full", "-f", "html"], capsys
    )
    assert (code, out) == (2, "")
    assert err.startswith("matgrad: error: --full at m=11, k=11, n=11 would print 4,730 terms")
    assert "for html" in err


@pytest.mark.parametrize(
    "args",
    [
        ["derive", "-m", "1", "-k", "1", "-n", "1"],
        ["derive", "-m", "3", "-k", "2", "-n", "4", "--brief"],
        ["derive", "--sections", "W,summary"],
        ["derive", "-m", "11", "-k", "1", "-n", "2"],
        ["derive", "-m", "12", "-k", "12", "-n", "12"],
        ["derive", "-m", "3", "-k", "2", "-n", "4", "--no-bias"],
        ["derive", "--loss", "sum"],
        ["derive", "--loss", "squared-error", "--full"],
        ["derive", "-m", "3", "-k", "2", "-n", "3", "--loss", "softmax-cross-entropy", "--full"],
        ["derive", "-m", "200", "-k", "3", "-n", "2"],
        ["check", "--loss", "softmax-cross-entropy", "dW = Z.T @ G", "dZ = (G - Y) @ W.T"],
        ["check", "dW = (G.T @ Z).T.T", "db = sum(G, axis=0)"],
        ["prove", "--no-bias"],
        ["jacobian", "--layout", "denominator"],
        ["jacobian", "-m", "3", "-k", "2", "-n", "4"],
    ],
)
def test_every_document_converts_to_mathml(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Each construct of every document passes mathml.py's checks (it raises on any that does
    not convert), so the page is written."""
    code, out, err = run_cli([*args, "-f", "html"], capsys)
    assert code in (0, 1), err
    assert "Traceback" not in err
    assert out.endswith("</html>\n")
    assert "merror" not in out


def test_the_python_api_gives_the_same_page_and_deck(capsys: pytest.CaptureFixture[str]) -> None:
    from matgrad_cli import check, derive, jacobian, prove

    derivation = derive(2, 3, 4)
    for output_format, method in (("html", derivation.to_html), ("beamer", derivation.to_beamer)):
        code, out, _ = run_cli(
            ["derive", "-m", "2", "-k", "3", "-n", "4", "-f", output_format], capsys
        )
        assert code == 0
        assert out == method()
    assert (
        run_cli(["check", "dW = G @ Z.T", "-f", "html"], capsys)[1]
        == check(["dW = G @ Z.T"]).to_html()
    )
    assert run_cli(["prove", "-f", "html"], capsys)[1] == prove().to_html()
    assert run_cli(["jacobian", "-f", "html"], capsys)[1] == jacobian().to_html()


def test_the_page_prints_with_every_part_and_no_empty_page(tmp_path: Path) -> None:
    """Printed (its @media print style), the 2×2×2 derivation takes a few pages, each with
    text, and every section is on paper, the last one included."""
    import subprocess

    derivation = derive(2, 2, 2)
    document = _load(_DOCUMENTS["Derivation"])(derivation, full=False)
    page = tmp_path / "derive.html"
    page.write_text(render(derivation, "html"), encoding="utf-8")
    text = subprocess.run(
        ["pdftotext", "-layout", str(print_page(page)), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    pages = text.split("\f")[:-1]
    assert 2 <= len(pages) <= 12
    assert all(printed.strip() for printed in pages)
    squeezed = re.sub(r"\s+", "", text)
    for section in document.sections:
        assert re.sub(r"\s+", "", section.title.split("$")[0]) in squeezed
