"""The derivation as Markdown with $$ … $$ display math, as GitHub, Jupyter and Obsidian show it."""

from __future__ import annotations

from ..core.model import Derivation
from .document import Display, Document, Paragraph, Table, build_document


def _display(block: Display) -> str:
    if not block.aligned:
        return "$$\n" + "\n".join(block.lines) + "\n$$"
    return "$$\n\\begin{aligned}\n" + " \\\\\n".join(block.lines) + "\n\\end{aligned}\n$$"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _table(block: Table) -> str:
    lines = [
        "| " + " | ".join(_cell(cell) for cell in block.header) + " |",
        "|" + "---|" * len(block.header),
    ]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in block.rows]
    return "\n".join(lines)


def markdown_text(document: Document) -> str:
    """Any matgrad document in Markdown."""
    parts = [f"# {document.title}"]
    for section in document.sections:
        parts.append(f"## {section.title}")
        for block in section.blocks:
            if isinstance(block, Paragraph):
                parts.append(block.text)
            elif isinstance(block, Display):
                parts.append(_display(block))
            else:
                parts.append(_table(block))
    return "\n\n".join(parts) + "\n"


def render_markdown(derivation: Derivation, *, full: bool = False) -> str:
    """The derivation document in Markdown."""
    return markdown_text(build_document(derivation, full))
