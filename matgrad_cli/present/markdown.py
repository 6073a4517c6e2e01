"""Any document as Markdown with $$ … $$ display math, as GitHub, Jupyter and Obsidian show it."""

from __future__ import annotations

from typing import assert_never

from .document import Block, Display, Document, Lead, Paragraph, Table


def _display(block: Display) -> str:
    """$$ … $$, with aligned (not align*) for aligned lines, as GitHub and Jupyter render."""
    if not block.aligned:
        return "$$\n" + "\n".join(block.lines) + "\n$$"
    return "$$\n\\begin{aligned}\n" + " \\\\\n".join(block.lines) + "\n\\end{aligned}\n$$"


def _table(block: Table) -> str:
    """A pipe table, each cell's | escaped so that it does not end the cell."""
    rows = [block.header, *block.rows]
    lines = ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    lines.insert(1, "|" + "---|" * len(block.header))
    return "\n".join(lines)


def _block(block: Block) -> str:
    """One block of the model in Markdown."""
    if isinstance(block, Paragraph):
        return block.text
    if isinstance(block, Lead):
        return f"**{block.label}** {block.text}"
    if isinstance(block, Display):
        return _display(block)
    if isinstance(block, Table):
        return _table(block)
    assert_never(block)


def markdown_text(document: Document) -> str:
    """Any matgrad document in Markdown; a handout's heading is its subtitle and its command."""
    parts = [f"# {document.title}"]
    if document.heading is not None:
        parts.append(document.heading.subtitle)
        if document.heading.command:
            parts.append(f"`{document.heading.command}`")
    for section in document.sections:
        parts.append(f"## {section.title}")
        parts.extend(_block(block) for block in section.blocks)
    return "\n\n".join(parts) + "\n"
