"""The `matgrad` command's entry point: Ctrl-C is answered the same way from the first moment.

Importing the command line (typer, click, rich's console) takes a few tenths of a second. A
Ctrl-C in that time would otherwise end in Python's traceback; here it says `matgrad:
interrupted` and exits 130, as it does once the command runs (docs/usage.md, "Exit codes and
signals").
"""

from __future__ import annotations

import sys


def main() -> None:
    """Import the command line, then run it."""
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("matgrad: interrupted\n")
        sys.exit(130)
    run()
