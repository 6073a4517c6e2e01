"""Ctrl-C, SIGTERM and SIGHUP sent for real to a running `matgrad`, and two `matgrad` processes
racing for one file: what the folder holds afterwards and how the process ends (docs/usage.md,
"Exit codes and signals" and "Output files").

A child runs the real command line with one function wrapped so that, at its n-th call, it
says so on a pipe and waits on another: the test knows where the child is (in the derivation,
writing a temporary, renaming a sheet into place), signals it there, and lets it go on. No
sleeps, no timing: a child that never gets there ends the wait with EOF.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

#: The child: argv is READY GO TARGET N TEMPORARIES, then matgrad's own arguments. TARGET (a
#: module's function, as module:name) waits at its N-th call; TEMPORARIES is "named" for the
#: .mg-*.tmp files used where O_TMPFILE is missing, "anonymous" for O_TMPFILE where there is.
CHILD = """
import importlib, os, sys
ready, go, target, nth, temporaries = sys.argv[1:6]
ready, go, nth = int(ready), int(go), int(nth)
import matgrad_cli.files as files
if temporaries == "named":
    files._ANONYMOUS = False
module_name, name = target.split(":")
module = importlib.import_module(module_name)
real, calls = getattr(module, name), []
def waiting(*args, **kwargs):
    calls.append(1)
    if len(calls) == nth:
        os.write(ready, b"x")
        os.read(go, 1)
    return real(*args, **kwargs)
setattr(module, name, waiting)
sys.argv = ["matgrad", *sys.argv[6:]]
from matgrad_cli.cli import main
main()
"""


@dataclass
class Child:
    """A `matgrad` process that stops at a chosen call until ``release``."""

    process: subprocess.Popen[bytes]
    ready: int
    go: int

    def reached(self) -> bool:
        """Wait until the child is at its call (True), or has ended without getting there."""
        return os.read(self.ready, 1) == b"x"

    def release(self) -> None:
        """Let the child go on from its call (if it still runs)."""
        with contextlib.suppress(BrokenPipeError):
            os.write(self.go, b"x")

    def finish(self) -> tuple[int, str]:
        """Its exit status and stderr, once it has ended (within a minute)."""
        self.release()
        _, err = self.process.communicate(timeout=60)
        return self.process.returncode, err.decode()


@contextlib.contextmanager
def waiting_child(
    args: list[str], cwd: Path, target: str, nth: int = 1, temporaries: str = "anonymous"
) -> Iterator[Child]:
    """`matgrad ARGS` in ``cwd``, stopping at the ``nth`` call of ``target``."""
    read_ready, write_ready = os.pipe()
    read_go, write_go = os.pipe()
    argv = [str(write_ready), str(read_go), target, str(nth), temporaries, *args]
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, *argv],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        pass_fds=(write_ready, read_go),
    )
    os.close(write_ready)
    os.close(read_go)
    try:
        yield Child(process, read_ready, write_go)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        os.close(read_ready)
        os.close(write_go)


def expect_ended_by(code: int, err: str, signum: int) -> None:
    """Ctrl-C is `matgrad: interrupted` and 130; SIGTERM and SIGHUP end the process by the
    signal (143 and 129 in a shell), silently."""
    if signum == signal.SIGINT:
        assert (code, err) == (130, "matgrad: interrupted\n")
    else:
        assert (code, err) == (-signum, "")


def listing(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` and its bytes (hidden temporaries included)."""
    return {path.name: path.read_bytes() for path in folder.iterdir()}


# -- Ctrl-C wherever it lands -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "target"),
    [
        (["derive"], "matgrad_cli.core.derive:derive_layer"),
        (["derive", "--numeric", "--m", "30"], "matgrad_cli.core.numeric:numeric_verify"),
        (["check", "dW = Z.T @ G"], "matgrad_cli.core.claims:check"),
        (["prove", "--no-bias"], "matgrad_cli.core.proof:prove"),
        (["jacobian"], "matgrad_cli.core.jacobians:jacobian"),
        (["exercise", "--seed", "3", "-o", "week3"], "matgrad_cli.core.exercise:solve_all"),
        (["derive", "-f", "json"], "matgrad_cli.present:render"),
    ],
    ids=["derive", "numeric", "check", "prove", "jacobian", "exercise", "render"],
)
def test_ctrl_c_during_the_work_says_interrupted_and_exits_130(
    args: list[str], target: str, tmp_path: Path
) -> None:
    with waiting_child(args, tmp_path, target) as child:
        assert child.reached()
        child.process.send_signal(signal.SIGINT)
        assert child.finish() == (130, "matgrad: interrupted\n")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_writing_to_stdout_says_interrupted(tmp_path: Path) -> None:
    # The output is larger than a pipe holds and nobody reads it: once its first byte has
    # arrived, the child is writing, and cannot have finished.
    args = ["derive", "--m", "20", "--k", "20", "--n", "20", "-f", "json"]  # 290 KB
    writer = subprocess.Popen(
        [sys.executable, "-m", "matgrad_cli", *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert writer.stdout is not None
    assert writer.stdout.read(1) == b"{"
    writer.send_signal(signal.SIGINT)
    _, err = writer.communicate(timeout=60)
    assert (writer.returncode, err) == (130, b"matgrad: interrupted\n")


# -- a signal during a write of derive -o -------------------------------------------------------


@pytest.mark.parametrize("temporaries", ["anonymous", "named"])
@pytest.mark.parametrize("force", [False, True], ids=["new file", "replacing"])
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda signum: signal.Signals(signum).name)
def test_a_signal_while_derive_writes_leaves_no_temporary(
    signum: int, force: bool, temporaries: str, tmp_path: Path
) -> None:
    # The child stops in the fsync of its temporary: the file's bytes are written, not yet
    # put in place.
    if force:
        (tmp_path / "layer.tex").write_bytes(b"my notes")
    before = listing(tmp_path)
    args = ["derive", "-o", "layer.tex", *(["--force"] if force else [])]
    with waiting_child(args, tmp_path, "os:fsync", temporaries=temporaries) as child:
        assert child.reached()
        if temporaries == "named":
            assert any(name.startswith(".mg-") for name in listing(tmp_path))
        child.process.send_signal(signum)
        expect_ended_by(*child.finish(), signum)
    assert listing(tmp_path) == before


# -- the pair of exercise sheets -------------------------------------------------------------


@pytest.fixture
def old_pair(tmp_path: Path) -> dict[str, bytes]:
    """A problem and a solution sheet written before."""
    (tmp_path / "week3-problems.tex").write_bytes(b"old problems")
    (tmp_path / "week3-solutions.tex").write_bytes(b"old solutions")
    return listing(tmp_path)


@pytest.mark.parametrize("temporaries", ["anonymous", "named"])
@pytest.mark.parametrize(
    ("target", "nth"),
    [("os:fsync", 2), ("os:replace", 2)],
    ids=["writing the solutions", "renaming the solutions into place"],
)
def test_ctrl_c_during_exercise_force_leaves_the_old_pair(
    target: str, nth: int, temporaries: str, tmp_path: Path, old_pair: dict[str, bytes]
) -> None:
    # Stopped while the solution sheet is written, or just before it is renamed over the old
    # one, the problem sheet already in place: the old pair comes back, nothing else remains.
    args = ["exercise", "--seed", "3", "-o", "week3", "--force"]
    with waiting_child(args, tmp_path, target, nth, temporaries) as child:
        assert child.reached()
        child.process.send_signal(signal.SIGINT)
        assert child.finish() == (130, "matgrad: interrupted\n")
    assert listing(tmp_path) == old_pair


@pytest.mark.parametrize("temporaries", ["anonymous", "named"])
def test_ctrl_c_during_a_new_exercise_leaves_no_lone_sheet(
    temporaries: str, tmp_path: Path
) -> None:
    # Stopped as the solution sheet is linked into place, the problem sheet already there.
    args = ["exercise", "--seed", "3", "-o", "week3"]
    with waiting_child(args, tmp_path, "os:link", 2, temporaries) as child:
        assert child.reached()
        assert (tmp_path / "week3-problems.tex").exists()
        child.process.send_signal(signal.SIGINT)
        assert child.finish() == (130, "matgrad: interrupted\n")
    assert listing(tmp_path) == {}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_during_exercise_force_leaves_the_old_pair(
    signum: int, tmp_path: Path, old_pair: dict[str, bytes]
) -> None:
    args = ["exercise", "--seed", "3", "-o", "week3", "--force"]
    with waiting_child(args, tmp_path, "os:replace", 2, "named") as child:
        assert child.reached()
        child.process.send_signal(signum)
        expect_ended_by(*child.finish(), signum)
    assert listing(tmp_path) == old_pair


# -- two writers of one new file -----------------------------------------------------------------


@pytest.mark.parametrize("temporaries", ["anonymous", "named"])
def test_of_two_derive_o_runs_one_wins_and_the_loser_exits_2(
    temporaries: str, tmp_path: Path
) -> None:
    # Both have checked that new.tex is free and written their temporary; then both commit.
    with contextlib.ExitStack() as stack:
        children = [
            stack.enter_context(
                waiting_child(
                    ["derive", "-o", "new.tex", *options], tmp_path, "os:fsync", 1, temporaries
                )
            )
            for options in ([], ["--no-bias"])
        ]
        assert all(child.reached() for child in children)
        children[0].release()
        first = children[0].finish()
        second = children[1].finish()
    assert first[0] == 0
    assert first[1].startswith("matgrad: verified")
    assert second == (2, "matgrad: error: new.tex already exists; use --force to replace it\n")
    written = listing(tmp_path)
    assert list(written) == ["new.tex"]  # and no temporary of the loser
    assert b"Adding the bias" in written["new.tex"]  # the winner's, whole


# -- paths ----------------------------------------------------------------------------------------


def _run_matgrad(args: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    """`python -m matgrad_cli ARGS` run to its end in ``folder``."""
    return subprocess.run(
        [sys.executable, "-m", "matgrad_cli", *args],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["derive", "-o", "x.tex/"],
        ["prove", "-o", "x.tex/"],
        ["exercise", "--seed", "1", "-o", "x/"],
    ],
    ids=["derive", "prove", "exercise"],
)
def test_a_trailing_separator_is_refused_by_the_command(args: list[str], tmp_path: Path) -> None:
    result = _run_matgrad(args, tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("matgrad: error: ")
    assert len(result.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["derive", "-o", "\x1b[31mred/x.tex"],
        ["prove", "-o", "\x1b]0;title\x07/x.tex"],
        ["jacobian", "-o", "\x1b[31mred/x.tex/"],
        ["exercise", "--seed", "1", "-o", "\x1b[31mred/week3"],
        ["derive", "\x1b[2J"],
    ],
    ids=["derive", "prove", "jacobian", "exercise", "usage"],
)
def test_escape_sequences_in_paths_are_shown_escaped(args: list[str], tmp_path: Path) -> None:
    result = _run_matgrad(args, tmp_path)
    assert result.returncode == 2
    assert "\x1b" not in result.stderr
    assert "\x07" not in result.stderr
    assert "\\x1b" in result.stderr
    assert len(result.stderr.splitlines()) == 1


#: A child that stops while the command line is being imported (at the import of typer), says so
#: on one pipe and waits on another; then it runs the command as the installed entry point does.
IMPORTING_CHILD = """
import os, sys
ready, go = int(sys.argv[1]), int(sys.argv[2])
class Pause:
    def find_spec(self, name, path=None, target=None):
        if name == "typer":
            sys.meta_path.remove(self)
            os.write(ready, b"x")
            os.read(go, 1)
        return None
sys.meta_path.insert(0, Pause())
sys.argv = ["matgrad", "derive"]
from matgrad_cli.launch import main
main()
"""


def test_ctrl_c_while_the_command_line_is_imported_says_interrupted() -> None:
    ready_read, ready_write = os.pipe()
    go_read, go_write = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-c", IMPORTING_CHILD, str(ready_write), str(go_read)],
        pass_fds=(ready_write, go_read),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    os.close(ready_write)
    os.close(go_read)
    try:
        assert os.read(ready_read, 1) == b"x", "the child never reached the import"
        process.send_signal(signal.SIGINT)
        os.write(go_write, b"x")
        out, err = process.communicate(timeout=60)
    finally:
        os.close(ready_read)
        os.close(go_write)
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert err.decode() == "matgrad: interrupted\n"
    assert out == b""
