"""The standard streams of a matgrad process, made safe before a command runs (``prepare``).

- A closed stream (``matgrad derive >&-``): its descriptor is reopened on /dev/null, so that no
  file matgrad opens can take its number; a closed stdout refuses output with one line
  (``matgrad: error: cannot write to stdout: it is closed``), a closed stderr swallows it.
- A stream that cannot encode matgrad's symbols (the C locale, ``PYTHONIOENCODING=ascii``)
  writes them in the ASCII notation of present/ascii.py instead of raising.
- A failing stderr (a closed pipe, a full disk) loses its messages, never the exit code.
- ``output_text`` is what stdout gets for a rendered document: its JSON escaped to ASCII, its
  other formats in the ASCII notation, if stdout cannot encode them.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import sys
from typing import Any, TextIO, cast

from ..errors import OutputError

__all__ = ["CLOSED", "output_text", "prepare", "silence_stdout", "stdout_closed"]

#: The codecs error handler of the ASCII notation, registered by ``prepare``.
ERRORS = "matgrad-ascii"
#: What a write to a closed stdout says.
CLOSED = "cannot write to stdout: it is closed (use -o FILE, or redirect it)"


class ClosedStdout(io.TextIOBase):
    """sys.stdout when the process started with it closed: writing is refused with one line,
    exit code 2 (OutputError); nothing is ever buffered, so the final flush cannot fail."""

    encoding = "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        raise OutputError(CLOSED)

    @property
    def buffer(self) -> ClosedStdout:
        """The binary stdout, where a PDF goes: closed too."""
        return self


class QuietStream(io.TextIOBase):
    """sys.stderr made unable to fail: a message that cannot be written (a closed pipe, a full
    disk) is lost, and the command goes on to its exit code."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._stream, "encoding", None) or "utf-8")

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        with contextlib.suppress(OSError, ValueError):
            return self._stream.isatty()
        return False

    def fileno(self) -> int:
        return self._stream.fileno()

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError, ValueError):
            self._stream.write(text)
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()


def prepare() -> None:
    """Make the standard streams safe for a run (see the module's docstring); idempotent."""
    for fd in (0, 1, 2):
        _reserve(fd)
    from ..present.ascii import replace_unencodable

    codecs.register_error(ERRORS, replace_unencodable)
    if sys.stdout is None:
        sys.stdout = cast(TextIO, ClosedStdout())
    if sys.stderr is None:
        sys.stderr = cast(TextIO, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(OSError, ValueError):
                stream.reconfigure(errors=ERRORS)
    if not isinstance(sys.stderr, QuietStream):
        sys.stderr = cast(TextIO, QuietStream(sys.stderr))


def stdout_closed() -> bool:
    return isinstance(sys.stdout, ClosedStdout)


def output_text(text: str, output_format: str) -> str:
    """``text`` as stdout can take it: unchanged if its encoding can encode it; else JSON with
    ``\\u`` escapes and the other formats in the ASCII notation."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        from ..present.ascii import ascii_json, ascii_notation

        return ascii_json(text) if output_format == "json" else ascii_notation(text)
    except LookupError:  # an encoding Python does not know: keep to ASCII
        return text.encode("ascii", "backslashreplace").decode("ascii")
    return text


def silence_stdout() -> None:
    """Point stdout at /dev/null (a reader went away), so that the interpreter's final flush
    of what is still buffered cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _reserve(fd: int) -> None:
    """Open /dev/null as ``fd`` if it is closed, so that a file matgrad opens cannot take the
    number of a standard stream (and a child process inherits no output file as its stdout)."""
    try:
        os.fstat(fd)
    except OSError:
        with contextlib.suppress(OSError):
            opened = os.open(os.devnull, os.O_RDWR)
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
