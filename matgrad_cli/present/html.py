"""Any document as one self-contained HTML page, its maths as MathML Core.

The page needs nothing but a browser: no script, no font, image or style sheet from elsewhere
(its content security policy forbids loading any), so it opens offline, from an e-mail or a
course page alike. Current Chromium, Firefox and Safari draw MathML natively; mathml.py turns
the documents' LaTeX into it. The page reads on a phone (the text reflows, a formula wider than
the screen scrolls by itself) and prints on paper (@media print). Nothing time-dependent is
written, so the same arguments give byte-identical output.
"""

from __future__ import annotations

import html
from typing import assert_never

from .document import Block, Display, Document, Lead, Paragraph, Section, Table
from .mathml import latex_to_mathml, plain_text

#: Forbids loading anything at all: the page's own style element is all it uses.
_POLICY = "default-src 'none'; style-src 'unsafe-inline'"

_STYLE = """\
:root { color-scheme: light; }
body { margin: 0; background: #fff; color: #1a1a1a;
  font: 17px/1.55 "Latin Modern Roman", "CMU Serif", Georgia, "DejaVu Serif", serif; }
main { max-width: 52rem; margin: 0 auto; padding: 1.2rem 1rem 3rem; }
h1 { font-size: 1.55rem; line-height: 1.3; margin: 0.6rem 0 1.2rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 0.6rem; border-bottom: 1px solid #ccc; }
.handout h1 { text-align: center; margin-bottom: 0.3rem; }
.subtitle { text-align: center; margin: 0; }
.nobreak { white-space: nowrap; }
.command { text-align: center; margin: 0.2rem 0 1.5rem; font-size: 0.85rem; }
code { font-family: "Latin Modern Mono", "DejaVu Sans Mono", monospace; font-size: 0.92em;
  overflow-wrap: anywhere; }
math { font-family: "Latin Modern Math", "STIX Two Math", math; }
.display, .table { overflow-x: auto; overflow-y: hidden; margin: 0.8rem 0; padding: 0.2rem 0;
  /* A shadow at a side where more of a wide formula is scrolled out of sight. */
  background: linear-gradient(to right, #fff 30%, #fff0), linear-gradient(to left, #fff 30%, #fff0)
    100% 0, radial-gradient(farthest-side at 0 50%, #0003, #0000),
    radial-gradient(farthest-side at 100% 50%, #0003, #0000) 100% 0;
  background-repeat: no-repeat; background-size: 2.5rem 100%, 2.5rem 100%, 0.8rem 100%, 0.8rem 100%;
  background-attachment: local, local, scroll, scroll; }
.display math { margin: 0; }
table { border-collapse: collapse; margin: 0 auto; }
th, td { padding: 0.35rem 0.8rem; text-align: left; vertical-align: middle; }
th { border-bottom: 1px solid #444; }
td { border-bottom: 1px solid #e2e2e2; }
mtd { padding: 0.7ex 0.5em; }
mtd[columnalign="right"] { text-align: right; text-align: -webkit-right; padding-right: 0; }
mtd[columnalign="left"] { text-align: left; text-align: -webkit-left; padding-left: 0; }
menclose[notation~="box"] { border: 1px solid currentColor; padding: 0.35em 0.5em; }
[mathvariant="bold"] { font-weight: bold; }
@media (max-width: 36rem) {
  body { font-size: 16px; }
  main { padding: 0.8rem 0.7rem 2rem; }
  h1 { font-size: 1.3rem; }
}
@page { margin: 1.8cm 1.6cm; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  .display, .table { overflow: visible; break-inside: avoid; background: none; }
  .kept { break-inside: avoid; }
  p:has(+ .display) { break-after: avoid; }
}
"""


#: Punctuation that stays on the line of the formula before it.
_CLINGING = ",.;:!?)"


def _prose(text: str) -> str:
    """Prose with `code spans` as code, everything else escaped."""
    pieces = text.split("`")
    return "".join(
        f"<code>{html.escape(piece)}</code>" if index % 2 else html.escape(piece)
        for index, piece in enumerate(pieces)
    )


def inline_html(text: str) -> str:
    """Text with its inline maths between $ signs as MathML, its prose escaped. A formula and the
    punctuation right after it are kept on one line, so that no line starts with a comma."""
    pieces = text.split("$")
    out = [_prose(pieces[0])]
    for formula, prose in zip(pieces[1::2], pieces[2::2], strict=False):
        rest = prose.lstrip(_CLINGING)
        punctuation = html.escape(prose[: len(prose) - len(rest)])
        maths = latex_to_mathml(formula, display=False)
        out.append(f'<span class="nobreak">{maths}{punctuation}</span>' if punctuation else maths)
        out.append(_prose(rest))
    if len(pieces) % 2 == 0:  # an unclosed $: the last formula has no prose after it
        out.append(latex_to_mathml(pieces[-1], display=False))
    return "".join(out)


def _display(block: Display) -> str:
    """One display: a formula, or its lines aligned at their & as amsmath's align* does."""
    if block.aligned:
        latex = "\\begin{align*}\n" + " \\\\\n".join(block.lines) + "\n\\end{align*}"
    else:
        latex = "\n".join(block.lines)
    return f'<div class="display">{latex_to_mathml(latex, display=True)}</div>'


def _table(block: Table) -> str:
    """A table, its header as header cells, wider than a phone scrolling by itself."""
    head = "".join(f"<th>{inline_html(cell)}</th>" for cell in block.header)
    rows = "".join(
        "<tr>" + "".join(f"<td>{inline_html(cell)}</td>" for cell in row) + "</tr>\n"
        for row in block.rows
    )
    return (
        f'<div class="table"><table>\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{rows}</tbody></table></div>"
    )


def _block(block: Block) -> str:
    """One block of the model in HTML."""
    if isinstance(block, Paragraph):
        return f"<p>{inline_html(block.text)}</p>"
    if isinstance(block, Lead):
        return f"<p><strong>{inline_html(block.label)}</strong> {inline_html(block.text)}</p>"
    if isinstance(block, Display):
        return _display(block)
    if isinstance(block, Table):
        return _table(block)
    assert_never(block)


def _section(section: Section) -> str:
    """A section with its heading; one kept together is not split across printed pages."""
    opening = '<section class="kept">' if section.kept_together else "<section>"
    body = "\n".join(_block(block) for block in section.blocks)
    return f"{opening}\n<h2>{inline_html(section.title)}</h2>\n{body}\n</section>"


def html_text(document: Document) -> str:
    """Any matgrad document as a complete HTML page; a handout's heading (an exercise sheet's)
    is its subtitle and command, centred under the title."""
    heading = document.heading
    top = [f"<h1>{inline_html(document.title)}</h1>"]
    if heading is not None:
        top.append(f'<p class="subtitle">{inline_html(heading.subtitle)}</p>')
        if heading.command:  # empty where the handout must not show it (a problem sheet)
            top.append(f'<p class="command"><code>{html.escape(heading.command)}</code></p>')
    sections = "\n".join(_section(section) for section in document.sections)
    title = html.escape(
        "".join(
            plain_text(piece) if index % 2 else piece
            for index, piece in enumerate(document.title.split("$"))
        )
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">\n'
        '<meta name="generator" content="matgrad">\n'
        f"<title>{title}</title>\n<style>\n{_STYLE}</style>\n</head>\n"
        f'<body>\n<main class="{"handout" if heading else "article"}">\n'
        + "\n".join(top)
        + f"\n{sections}\n</main>\n</body>\n</html>\n"
    )
