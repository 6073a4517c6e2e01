"""The one way from a result of the mathematics to its text: present's door, imported on use.

Results render themselves for notebooks and scripts (``to_latex()``, ``_repr_markdown_``,
``__rich_console__``). The mathematics must not depend on its presentation, so this module is
the only place in core/ that reaches present/, and only when a view is asked for; the import
contract in pyproject.toml names it as its one exception.
"""

from __future__ import annotations

from typing import Any

from .arguments import view_options


def render(result: object, output_format: str, **options: Any) -> str:
    """``result`` as text in ``output_format``, exactly as the command line prints it; its
    options are checked first (arguments.view_options), as a caller of ``to_text`` gave them."""
    from ..present import render as present_render

    return present_render(result, output_format, **view_options(options))


class Rendered:
    """A result that shows itself as its command prints it: in LaTeX, Markdown, HTML, beamer,
    text and JSON, as rendered Markdown in Jupyter, and as its terminal view in rich."""

    def to_latex(self, *, standalone: bool = False) -> str:
        """The result as LaTeX, as its command prints it."""
        return render(self, "latex", standalone=standalone)

    def to_markdown(self) -> str:
        """The result as Markdown, as its command prints it with ``--format markdown``."""
        return render(self, "markdown")

    def to_html(self) -> str:
        """The result as one self-contained web page, as its command prints it with
        ``--format html``."""
        return render(self, "html")

    def to_beamer(self) -> str:
        """The result as a beamer deck, as its command prints it with ``--format beamer``."""
        return render(self, "beamer")

    def to_text(self, *, width: int = 80) -> str:
        """The terminal view, as its command prints it with ``--format text`` when piped."""
        return render(self, "text", width=width)

    def to_json(self) -> str:
        """The result as JSON, as its command prints it with ``--format json``."""
        return render(self, "json")

    def _repr_markdown_(self) -> str:
        """Jupyter shows the result as rendered Markdown."""
        return render(self, "markdown")

    def __rich_console__(self, console: Any, options: Any) -> Any:
        """rich prints the terminal view, laid out at the console's width."""
        from ..present import terminal_view

        yield terminal_view(self)


class RenderedInFull(Rendered):
    """A result whose LaTeX, Markdown, HTML, beamer and text can show every entry, as ``--full``
    does."""

    def to_latex(self, *, standalone: bool = False, full: bool = False) -> str:
        """The result as LaTeX, as its command prints it."""
        return render(self, "latex", standalone=standalone, full=full)

    def to_markdown(self, *, full: bool = False) -> str:
        """The result as Markdown, as its command prints it with ``--format markdown``."""
        return render(self, "markdown", full=full)

    def to_html(self, *, full: bool = False) -> str:
        """The result as one self-contained web page, as its command prints it with
        ``--format html``."""
        return render(self, "html", full=full)

    def to_beamer(self, *, full: bool = False) -> str:
        """The result as a beamer deck, as its command prints it with ``--format beamer``."""
        return render(self, "beamer", full=full)

    def to_text(self, *, width: int = 80, full: bool = False) -> str:
        """The terminal view, as its command prints it with ``--format text`` when piped."""
        return render(self, "text", width=width, full=full)
