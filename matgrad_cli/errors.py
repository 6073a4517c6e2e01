"""Library errors. The CLI turns each into one line on stderr and the exit code it carries."""

from __future__ import annotations


class MatgradError(Exception):
    """Base of every error matgrad reports to a person; ``exit_code`` follows SPEC section 4.
    ``details``, if any, is what a person needs under the one line to act on it (a LaTeX log's
    lines around the error)."""

    exit_code: int = 2
    details: str = ""


class InputError(MatgradError):
    """Bad input: sizes, options, expressions or paths (exit code 2)."""


class ArgumentError(InputError, TypeError):
    """An argument of the Python API of the wrong type, such as ``bias="yes"`` or
    ``to_text(width="wide")`` (exit code 2); a TypeError too, as Python's own would be."""


class SizeError(InputError):
    """Sizes that are not positive integers, or too large for the chosen engine. Any integer
    is a size, a NumPy integer too (``operator.index``); a bool, a float or a str is not."""


class AboveSymbolicLimit(SizeError):
    """Sizes above the symbolic limits, which bound the work and memory of a derivation
    (benchmarks/scale.py measures them at the limits); the exact numeric check
    (``matgrad derive --numeric``) may still take them, and the command line turns to it."""


class OutputError(InputError):
    """An output file that cannot, or may not, be written."""


class ClaimSyntaxError(InputError):
    """A ``matgrad check`` claim that does not parse, at ``position``, the 0-based offset of the
    offending character in ``source``; the CLI prints the source with a caret under it."""

    def __init__(self, message: str, source: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.position = position

    def caret_lines(self) -> tuple[str, str]:
        """The claim and a caret line pointing at the offending character."""
        return self.source, " " * self.position + "^"


class MixedNamingError(ClaimSyntaxError):
    """A claim that names the layer's input both as Z (samples as rows) and as X (samples as
    columns): it cannot be read in either convention. ``position`` is the first name of the
    naming that came second."""
