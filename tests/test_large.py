"""Large inputs end within their budgets, or are refused before any work (issue 16).

- The numeric check plans its memory by the largest matrix, not by m·k·n: the thin layers
  1×1024×1024 and 1024×1024×1 once asked for 8 GiB. Each run here is a real child process whose
  peak resident set size (ru_maxrss, from os.wait4) is measured.
- Its work is counted in operations (multiply-adds and entries of the arrays multiplied), not
  timed, so that the bound does not depend on the machine.
- ``derive --full`` is refused when the document it would print is too large, from the sizes
  alone, before any work.
- On a terminal (a real pseudo-terminal, 10 columns wide) a large document is printed plain,
  not highlighted: rich's highlighting takes 1 to 3 µs a character.
"""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

from matgrad_cli.cli.deliver import HIGHLIGHT_LIMIT
from matgrad_cli.core import numeric, numeric_layer
from matgrad_cli.core.derive import derive
from matgrad_cli.core.layer import Sizes
from matgrad_cli.core.numeric import (
    FULL_CHECK_COPIES,
    FULL_CHECK_LIMIT,
    NUMERIC_LIMIT,
    every_entry_fits,
    numeric_verify,
)
from matgrad_cli.errors import SizeError
from matgrad_cli.present import render
from matgrad_cli.present.limits import FULL_TERMS, full_terms, require_full_fits

MATGRAD = [sys.executable, "-m", "matgrad_cli"]
MIB = 1024 * 1024
#: Peak memory allowed to one numeric check: 1024³ needs about 200 MB, numpy itself 60.
NUMERIC_PEAK = 400 * MIB
#: A child that runs longer than this has hung (each run here takes a second or two).
TIMEOUT = 120.0


class Finished(NamedTuple):
    """A child process that ended: its exit code, output, and peak resident set size."""

    returncode: int
    stdout: bytes
    stderr: bytes
    peak_bytes: int


#: Runs argv[2:] as a grandchild and writes its peak RSS in bytes to the file argv[1]; exits with
#: its exit code. The grandchild is forked from this small process, not from pytest: a forked
#: process starts with its parent's resident set as its peak (and keeps it across exec), so a
#: child of a large test process would report that process's size.
_MEASURE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
peak = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
with open(sys.argv[1], "w") as report:
    report.write(str(peak))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _run_measured(args: list[str], tmp_path: Path) -> Finished:
    """Run ``args`` to the end (killed after TIMEOUT) and measure its peak RSS by os.wait4, which
    reports on that one process only."""
    out_path, err_path, peak_path = (tmp_path / name for name in ("stdout", "stderr", "peak"))
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        child = subprocess.Popen(
            [sys.executable, "-c", _MEASURE, str(peak_path), *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    try:
        child.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        pytest.fail(f"{args} still running after {TIMEOUT} s")
    peak = int(peak_path.read_text())
    return Finished(child.returncode, out_path.read_bytes(), err_path.read_bytes(), peak)


# --- The numeric check: memory by the largest matrix, work counted -----------------------------


@pytest.mark.parametrize(
    ("m", "k", "n"), [(1, 1024, 1024), (1024, 1024, 1), (1024, 1024, 1024), (1024, 1, 1024)]
)
def test_the_numeric_check_needs_memory_of_the_largest_matrix(
    m: int, k: int, n: int, tmp_path: Path
) -> None:
    """`derive --m 1 --k 1024 --n 1024` asked numpy for 8 GiB (k·n·k perturbed entries at once)."""
    args = [*MATGRAD, "derive", "--m", str(m), "--k", str(k), "--n", str(n), "-f", "json"]
    finished = _run_measured(args, tmp_path)
    assert finished.returncode == 0, finished.stderr.decode()
    assert b"3 of 3 identities hold" in finished.stderr
    assert b"Traceback" not in finished.stderr
    assert finished.peak_bytes < NUMERIC_PEAK, f"peak RSS {finished.peak_bytes / MIB:.0f} MiB"


class _Counter:
    """Counts the work of every matrix product the numeric check makes: its multiply-adds, the
    entries of its operands (the perturbed copies among them), and the largest array seen."""

    def __init__(self) -> None:
        self.multiply_adds = 0
        self.operand_entries = 0
        self.largest = 0

    def __call__(self, left: Any, right: Any) -> Any:
        rows, inner = left.shape
        cols = right.shape[1]
        self.multiply_adds += rows * inner * cols
        self.operand_entries += left.size + right.size
        self.largest = max(self.largest, left.size, right.size, rows * cols)
        return left @ right


@contextmanager
def _counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Counter]:
    counter = _Counter()
    monkeypatch.setattr(numeric_layer, "matmul", counter)
    monkeypatch.setattr(numeric, "matmul", counter)
    yield counter


#: The chunks of perturbed forward passes hold at most this many entries per array, the largest
#: matrix of the layer at most NUMERIC_LIMIT².
ARRAY_BOUND = max(numeric_layer._CHUNK_ENTRIES, NUMERIC_LIMIT**2)


@pytest.mark.parametrize(
    ("m", "k", "n"), [(1, 1024, 1024), (1024, 1024, 1), (1, 1024, 127), (1024, 45, 1024)]
)
def test_the_numeric_check_is_bounded_in_operations(
    m: int, k: int, n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the thin shapes, where the cost of comparing every entry is not m·k·k·n alone, no array
    outgrows a chunk or the largest matrix, and the work stays within two full-check budgets
    (one per gradient) and a sample's: about two seconds of BLAS."""
    with _counted(monkeypatch) as counter:
        assert numeric_verify(m, k, n).verified
    assert counter.largest <= ARRAY_BOUND
    assert counter.multiply_adds <= 2 * FULL_CHECK_LIMIT + 2**31
    assert counter.operand_entries <= 2 * FULL_CHECK_COPIES + 2**26


def test_every_entry_is_compared_only_where_both_costs_fit() -> None:
    """Comparing every entry costs m·k·k·n multiply-adds and k·k·(m + n) perturbed entries per
    run; the thin 1×1024×1024 fits the first (2^30) but not the second (2^30 as well)."""
    assert every_entry_fits(Sizes(215, 215, 215))
    assert not every_entry_fits(Sizes(216, 216, 216))
    assert not every_entry_fits(Sizes(1, 1024, 1024))
    assert not every_entry_fits(Sizes(1024, 1024, 1))
    assert every_entry_fits(Sizes(1, 1024, 127))
    for size in (1, 2, 8, 64, 127, 128, 512, 1024):
        for shape in ((1, size, NUMERIC_LIMIT), (NUMERIC_LIMIT, size, 1), (size, size, size)):
            sizes = Sizes(*shape)
            if every_entry_fits(sizes):
                assert sizes.m * sizes.k * sizes.k * sizes.n <= FULL_CHECK_LIMIT
                assert sizes.k * sizes.k * (sizes.m + sizes.n) <= FULL_CHECK_COPIES


def test_small_chunks_give_the_same_partials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chunking is only a plan of memory: chunks of one row or column give the same result."""
    layer = numeric_layer.RandomLayer(Sizes(7, 5, 6), True, np.random.default_rng(3))
    whole = (layer.all_partials("Z"), layer.all_partials("W"))
    rows, cols = np.divmod(np.arange(35), 5)
    one_by_one = layer.partials("Z", rows, cols)
    monkeypatch.setattr(numeric_layer, "_CHUNK_ENTRIES", 1)
    assert (layer.all_partials("Z") == whole[0]).all()
    assert (layer.all_partials("W") == whole[1]).all()
    assert (layer.partials("Z", rows, cols) == one_by_one).all()
    assert (one_by_one.reshape(7, 5) == whole[0]).all()


# --- derive --full: the size of the document, before any work ---------------------------------


@pytest.mark.parametrize("output_format", ["markdown", "text", "latex"])
def test_a_full_document_too_large_to_print_is_refused_at_once(
    output_format: str, tmp_path: Path
) -> None:
    """96³ with --full: a MemoryError after 29 s (Markdown), more than 300 s (text). Refused now
    from the sizes alone, before the derivation: a child that derived 96³ would need 1 GiB."""
    target = tmp_path / "out.doc"
    args = [*MATGRAD, "derive", "--m", "96", "--k", "96", "--n", "96", "--full"]
    finished = _run_measured([*args, "-f", output_format, "-o", str(target)], tmp_path)
    assert finished.returncode == 2
    assert finished.stdout == b""
    lines = finished.stderr.decode().splitlines()
    limit = f"{FULL_TERMS[output_format]:,}"
    assert lines == [
        f"matgrad: error: --full at m=96, k=96, n=96 would print 2,709,600 terms, above the "
        f"limit of {limit} for {output_format}; drop --full (large matrices are then elided), "
        "use smaller sizes, or -f json (every entry, without --full)"
    ]
    assert not target.exists()
    assert finished.peak_bytes < 200 * MIB


def test_the_full_limits_refuse_only_large_documents() -> None:
    require_full_fits(16, 16, 16, True, "pdf")
    require_full_fits(21, 21, 21, True, "text")
    require_full_fits(43, 43, 43, True, "markdown")
    require_full_fits(500, 500, 500, True, "json")  # JSON has every entry, with or without --full
    for size, output_format in ((17, "pdf"), (22, "text"), (44, "latex"), (44, "markdown")):
        with pytest.raises(SizeError, match=f"for {output_format}; drop --full"):
            require_full_fits(size, size, size, True, output_format)


@pytest.mark.parametrize(
    ("m", "k", "n", "bias"),
    [(8, 8, 8, True), (1, 1, 200, True), (200, 1, 1, False), (1, 200, 1, True), (2, 30, 9, False)],
)
def test_the_count_of_terms_measures_the_full_document(m: int, k: int, n: int, bias: bool) -> None:
    """The count the limit is set in follows the document: 140 to 400 characters a term in
    Markdown and LaTeX (a product's factors too wide for a page are not written out, so a thin
    layer such as 200×1×1 comes near the low end), 20 to 60 in the terminal view, at every
    shape."""
    terms = full_terms(m, k, n, bias)
    derivation = derive(m, k, n, bias=bias)
    for output_format in ("markdown", "latex"):
        assert 140 <= len(render(derivation, output_format, full=True)) / terms <= 400
    text = render(derivation, "text", full=True, width=80, color=False)
    assert 20 <= len(text) / terms <= 60


# --- Highlighting on a terminal ----------------------------------------------------------------


def _on_terminal(args: list[str], columns: int) -> bytes:
    """What ``args`` prints to a real pseudo-terminal ``columns`` wide, read to the end."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns)}
    env.pop("NO_COLOR", None)
    child = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=follower, stderr=subprocess.DEVNULL, env=env
    )
    os.close(follower)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(leader, 1 << 16)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        child.wait(timeout=TIMEOUT)
    return b"".join(chunks)


def test_a_large_document_on_a_terminal_is_printed_plain() -> None:
    """JSON of 32³ (1.2 MB) on a terminal 10 columns wide: printed as it is, with no colour;
    rich's highlighting of 90³ took 83 s. A small document is still highlighted."""
    large = _on_terminal(
        [*MATGRAD, "derive", "--m", "32", "--k", "32", "--n", "32", "-f", "json"], 10
    )
    assert len(large) > HIGHLIGHT_LIMIT
    assert b"\x1b[" not in large
    assert large.replace(b"\r\n", b"\n").startswith(b'{\n  "')
    small = _on_terminal([*MATGRAD, "derive", "-f", "json"], 10)
    assert b"\x1b[" in small
