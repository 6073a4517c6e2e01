"""matgrad_cli.files: atomic writes, no clobbering, all-or-nothing sets, symbolic links, signals.

Races and signals are tested with real child processes and real signals. A child blocks at a
known point (in fsync, after writing a marker file) or signals itself at a known point of the
commit, so no test depends on timing.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from matgrad_cli import files
from matgrad_cli.errors import InputError, OutputError

ROOT = Path(__file__).resolve().parent.parent
EXISTS = "already exists; use --force to replace it"
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
as_root = pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")


@pytest.fixture(params=["anonymous", "named"])
def temporaries(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with O_TMPFILE temporaries (where the system has them) and with named ones."""
    kind: str = request.param
    if kind == "anonymous" and not files._ANONYMOUS:
        pytest.skip("no O_TMPFILE on this system")
    monkeypatch.setattr(files, "_ANONYMOUS", kind == "anonymous")
    return kind


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    """Set the umask for one test, and put the old one back."""

    def set_umask(mask: int) -> None:
        os.umask(mask)

    old = os.umask(0o022)
    try:
        yield set_umask
    finally:
        os.umask(old)


def listing(folder: Path) -> set[str]:
    return set(os.listdir(folder))


def descriptors() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# -- child processes -------------------------------------------------------------------------

#: Run before a child's script: signal dispositions as in a fresh `matgrad` (a test runner in
#: the background may have SIGINT ignored), the module, and the arguments.
PROLOGUE = """
import os, signal, sys, time
from pathlib import Path
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.signal(signal.SIGHUP, signal.SIG_DFL)
from matgrad_cli import files
from matgrad_cli.errors import OutputError
files._ANONYMOUS = files._ANONYMOUS and sys.argv[1] == "anonymous"
folder, marks, extra = Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
"""
#: Run after it: main() as the CLI runs a command.
EPILOGUE = """
try:
    main()
except KeyboardInterrupt:
    sys.stderr.write("matgrad: interrupted\\n")
    sys.exit(130)
except OutputError as error:
    sys.stderr.write(f"matgrad: error: {error}\\n")
    sys.exit(2)
"""
#: Patches os.fsync to write marks/blocked and sleep at its Nth call (N = int(extra) or 1).
BLOCK_IN_FSYNC = """
real_fsync, calls = os.fsync, []
def fsync(fd):
    real_fsync(fd)
    calls.append(fd)
    if len(calls) == (int(extra) if extra.isdigit() else 1):
        (marks / "blocked").touch()
        time.sleep(60)
os.fsync = fsync
"""


def child(
    script: str, kind: str, folder: Path, marks: Path, extra: str = ""
) -> subprocess.Popen[str]:
    """Start a Python process that runs ``script`` (which defines main()) as the CLI would."""
    code = PROLOGUE + script + EPILOGUE
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code, kind, str(folder), str(marks), extra],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(marker: Path, process: subprocess.Popen[str]) -> None:
    """Wait until ``process`` has written ``marker``; fail if it ends first or takes 10 s."""
    deadline = time.monotonic() + 10
    while not marker.exists():
        if process.poll() is not None:
            pytest.fail(f"the child ended first: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the child never reached its marker")
        time.sleep(0.002)


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    """The exit status and stderr of ``process``, which must end within 10 s."""
    _, err = process.communicate(timeout=10)
    return process.returncode, err


def expect_interrupted(code: int, err: str, signum: int) -> None:
    """SIGINT ends as KeyboardInterrupt (the CLI's 130), SIGTERM and SIGHUP by the signal."""
    if signum == signal.SIGINT:
        assert (code, err) == (130, "matgrad: interrupted\n")
    else:
        assert code == -signum, err
        assert err == ""


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """An output folder, and a folder for the markers children and tests exchange."""
    out, marks = tmp_path / "out", tmp_path / "marks"
    out.mkdir()
    marks.mkdir()
    return out, marks


def old_set(folder: Path) -> dict[str, bytes]:
    """An existing sheet next to which a new one will be written; what the folder holds."""
    problems = folder / "week3-problems.tex"
    problems.write_bytes(b"old problems")
    problems.chmod(0o640)
    return {"week3-problems.tex": b"old problems"}


def assert_holds(folder: Path, expected: dict[str, bytes]) -> None:
    """``folder`` holds exactly ``expected``: no temporary, no new file, old modes."""
    assert listing(folder) == set(expected)
    for name, content in expected.items():
        assert (folder / name).read_bytes() == content
    if "week3-problems.tex" in expected:
        assert mode(folder / "week3-problems.tex") == 0o640


NEW_SET = """
def main():
    files.write_all([
        (folder / "week3-problems.tex", b"new problems " * 300_000),
        (folder / "week3-solutions.tex", b"new solutions " * 300_000),
    ], force=True)
"""


# -- atomic writes, modes ----------------------------------------------------------------------


def test_new_file_is_written(tmp_path: Path, temporaries: str) -> None:
    files.write_atomic(tmp_path / "layer.tex", "∂L/∂W = Zᵀ · ∂L/∂A\n", force=False)
    assert (tmp_path / "layer.tex").read_text(encoding="utf-8") == "∂L/∂W = Zᵀ · ∂L/∂A\n"
    assert listing(tmp_path) == {"layer.tex"}


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_gets_0o666_less_the_umask(
    tmp_path: Path, temporaries: str, umask: Callable[[int], None], mask: int, expected: int
) -> None:
    umask(mask)
    files.write_atomic(tmp_path / "layer.tex", b"x", force=False)
    assert mode(tmp_path / "layer.tex") == expected


@pytest.mark.parametrize("old_mode", [0o600, 0o640, 0o755])
def test_replaced_file_keeps_its_mode(tmp_path: Path, temporaries: str, old_mode: int) -> None:
    target = tmp_path / "layer.tex"
    target.write_bytes(b"old")
    target.chmod(old_mode)
    files.write_atomic(target, b"new", force=True)
    assert (target.read_bytes(), mode(target)) == (b"new", old_mode)
    assert listing(tmp_path) == {"layer.tex"}


def test_content_is_fsynced_in_the_target_folder_before_it_appears(
    tmp_path: Path, temporaries: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "layer.tex"
    target.write_bytes(b"old")
    seen: list[tuple[bytes, bytes, bool, set[str]]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return  # the folder, synced after the rename
        same_device = os.fstat(fd).st_dev == os.stat(tmp_path).st_dev
        content = Path(f"/proc/self/fd/{fd}").read_bytes()  # the temporary is write-only
        seen.append((content, target.read_bytes(), same_device, listing(tmp_path)))

    monkeypatch.setattr(os, "fsync", fsync)
    files.write_atomic(target, b"new", force=True)
    content, then, same_device, names = seen[0]
    assert (content, then, same_device) == (b"new", b"old", True)
    hidden = names - {"layer.tex"}
    if temporaries == "named":
        assert len(hidden) == 1
        assert next(iter(hidden)).startswith(f".mg-{os.getpid()}-")
    else:
        assert hidden == set()  # an O_TMPFILE has no name until it is linked in
    assert listing(tmp_path) == {"layer.tex"}


def test_write_atomic_is_write_all_of_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(files, "write_all", lambda *args: calls.append(args))
    files.write_atomic(tmp_path / "a.tex", "é", force=True)
    assert calls == [([(tmp_path / "a.tex", "é".encode())], True)]


@pytest.mark.parametrize("length", [242, 250, 255])
def test_long_file_names_work(tmp_path: Path, temporaries: str, length: int) -> None:
    names = [("p" * length)[: length - 4] + ".tex", ("s" * length)[: length - 4] + ".tex"]
    paths = [tmp_path / name for name in names]
    files.write_all([(path, b"first") for path in paths], force=False)
    files.write_all([(path, b"second") for path in paths], force=True)
    assert listing(tmp_path) == set(names)
    assert all(path.read_bytes() == b"second" for path in paths)


# -- no clobbering ---------------------------------------------------------------------------


def test_existing_file_is_refused_without_force(tmp_path: Path) -> None:
    target = tmp_path / "layer.tex"
    target.write_bytes(b"old")
    calls: list[Callable[[], object]] = [
        lambda: files.check_writable(target, force=False),
        lambda: files.write_atomic(target, b"new", force=False),
    ]
    for call in calls:
        with pytest.raises(OutputError, match=f"^{re.escape(str(target))} {EXISTS}$"):
            call()
    assert target.read_bytes() == b"old"
    assert listing(tmp_path) == {"layer.tex"}
    assert issubclass(OutputError, InputError)


def test_file_appearing_meanwhile_is_not_clobbered(
    tmp_path: Path, temporaries: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "layer.tex"
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        target.write_bytes(b"another writer's")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OutputError, match=EXISTS):
        files.write_atomic(target, b"mine", force=False)
    assert target.read_bytes() == b"another writer's"
    assert listing(tmp_path) == {"layer.tex"}


def test_a_new_file_is_not_left_alone_when_its_partner_fails(
    tmp_path: Path, temporaries: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    solutions = tmp_path / "week3-solutions.tex"
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        if not solutions.exists():
            solutions.write_bytes(b"someone else's")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OutputError, match=f"week3-solutions.tex {EXISTS}"):
        files.write_all(
            [(tmp_path / "week3-problems.tex", b"problems"), (solutions, b"solutions")], False
        )
    assert listing(tmp_path) == {"week3-solutions.tex"}  # no lone problem sheet
    assert solutions.read_bytes() == b"someone else's"


RACE = """
real_fsync = os.fsync
def fsync(fd):
    real_fsync(fd)
    (marks / f"ready-{extra}").touch()
    deadline = time.monotonic() + 10
    while len(list(marks.glob("ready-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.001)
os.fsync = fsync
def main():
    files.write_atomic(folder / "same.tex", f"writer {extra}", force=False)
"""


def test_two_processes_racing_for_a_new_file_cannot_both_win(
    folders: tuple[Path, Path], temporaries: str
) -> None:
    # Both have checked that same.tex is missing and staged their content before either
    # commits: the commit itself must refuse the loser.
    out, marks = folders
    writers = [child(RACE, temporaries, out, marks, str(number)) for number in (1, 2)]
    results = [finish(writer) for writer in writers]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    winner = 1 if results[0][0] == 0 else 2
    loser_message = results[2 - winner][1]
    assert loser_message == f"matgrad: error: {out / 'same.tex'} {EXISTS}\n"
    assert (out / "same.tex").read_text() == f"writer {winner}"
    assert listing(out) == {"same.tex"}


def test_many_processes_racing_for_a_new_file_exactly_one_wins(
    folders: tuple[Path, Path],
) -> None:
    out, marks = folders
    script = """
def main():
    files.write_atomic(folder / "same.tex", b"writer " + extra.encode() * 100_000, False)
"""
    writers = [child(script, "anonymous", out, marks, str(number)) for number in range(8)]
    results = [finish(writer) for writer in writers]
    winners = [number for number, (code, _) in enumerate(results) if code == 0]
    assert len(winners) == 1, results
    assert all(EXISTS in err for code, err in results if code != 0)
    assert (out / "same.tex").read_bytes() == b"writer " + str(winners[0]).encode() * 100_000
    assert listing(out) == {"same.tex"}


# -- all or nothing --------------------------------------------------------------------------


def test_failed_commit_restores_the_old_set(
    tmp_path: Path, temporaries: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, third = (tmp_path / name for name in ("a.tex", "b.tex", "c.tex"))
    first.write_bytes(b"old a")
    first.chmod(0o600)
    third.write_bytes(b"old c")
    real_replace = os.replace

    def replace(source: Any, destination: Any) -> None:
        if os.fspath(destination).endswith("c.tex"):
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(
        OutputError, match=f"^cannot write {re.escape(str(third))}: Device or resource busy$"
    ):
        files.write_all([(first, b"new a"), (second, b"new b"), (third, b"new c")], True)
    assert listing(tmp_path) == {"a.tex", "c.tex"}
    assert (first.read_bytes(), mode(first), third.read_bytes()) == (b"old a", 0o600, b"old c")


@pytest.mark.parametrize(
    ("function", "code"),
    [("open", errno.EACCES), ("write", errno.ENOSPC), ("fsync", errno.EIO), ("link", errno.EMLINK)],
)
def test_any_os_error_is_one_line_and_leaves_no_temporary(
    tmp_path: Path, temporaries: str, monkeypatch: pytest.MonkeyPatch, function: str, code: int
) -> None:
    # write fails after a first chunk has gone to disk: ENOSPC mid-write.
    target = tmp_path / "layer.tex"
    target.write_bytes(b"old")
    real = getattr(os, function)
    calls: list[int] = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if function == "write" and len(calls) == 1:
            return real(*args, **kwargs)
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, function, failing)
    before = descriptors()
    with pytest.raises(OutputError) as raised:
        files.write_atomic(target, b"x" * (3 << 20), force=True)
    assert str(raised.value) == f"cannot write {target}: {os.strerror(code)}"
    assert target.read_bytes() == b"old"
    assert listing(tmp_path) == {"layer.tex"}
    assert descriptors() == before


def test_the_same_file_twice_is_refused(tmp_path: Path) -> None:
    os.symlink("a.tex", tmp_path / "b.tex")
    with pytest.raises(OutputError, match=r"b.tex: it is named twice"):
        files.write_all([(tmp_path / "a.tex", b"1"), (tmp_path / "b.tex", b"2")], True)
    assert listing(tmp_path) == {"b.tex"}


# -- paths -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["x.tex/", "x.tex/.", "sheets/x.tex//", "x.tex/.."])
def test_a_path_ending_in_a_separator_or_dot_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sheets").mkdir()
    calls: list[Callable[[], object]] = [
        lambda: files.parse_output_path(text),
        lambda: files.check_writable(text, force=True),
        lambda: files.write_atomic(text, "x", force=True),
    ]
    for call in calls:
        with pytest.raises(OutputError, match=r"(cannot end with /|it is a directory)$"):
            call()
    assert listing(tmp_path) == {"sheets"}
    assert listing(tmp_path / "sheets") == set()


def test_parse_output_path_keeps_an_ordinary_path() -> None:
    assert files.parse_output_path("sheets/week3.tex") == Path("sheets/week3.tex")
    assert files.parse_output_path("/tmp/x") == Path("/tmp/x")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "cannot write '': the file name is empty"),
        ("a\0b", "cannot write a\\x00b: a file name cannot contain NUL"),
    ],
)
def test_an_empty_name_or_a_nul_is_refused(text: str, message: str) -> None:
    with pytest.raises(OutputError) as raised:
        files.check_writable(text, force=True)
    assert str(raised.value) == message


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"it is a directory$"):
        files.write_atomic(tmp_path, b"x", force=True)
    with pytest.raises(OutputError, match=r"it is a directory$"):
        files.check_writable(Path("."), force=True)


def test_a_pipe_or_a_device_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path in (fifo, Path(os.devnull)):
        with pytest.raises(OutputError, match=r"not a regular file"):
            files.write_atomic(path, b"x", force=True)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert listing(tmp_path) == {"pipe"}


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "layer.tex"
    with pytest.raises(
        OutputError, match=f"^cannot write {re.escape(str(target))}: the folder .* does not exist$"
    ):
        files.write_atomic(target, b"x", force=False)
    assert listing(tmp_path) == set()


@as_root
def test_an_unwritable_folder_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(OutputError, match=r"the folder .*locked is not writable$"):
            files.write_atomic(locked / "layer.tex", b"x", force=False)
        assert listing(locked) == set()
    finally:
        locked.chmod(0o755)


def test_control_characters_in_a_path_are_shown_escaped(tmp_path: Path) -> None:
    target = tmp_path / "\x1b[2Jred\nline" / "x.tex"
    with pytest.raises(OutputError) as raised:
        files.write_atomic(target, b"x", force=False)
    message = str(raised.value)
    assert "\x1b" not in message
    assert "\n" not in message
    assert "\\x1b[2Jred\\nline" in message


def test_shown_escapes_only_what_is_not_printable() -> None:
    assert files.shown("sheets/week 3 é∂.tex") == "sheets/week 3 é∂.tex"
    assert files.shown(Path("a\tb\x07c")) == "a\\tb\\x07c"
    assert files.shown(os.fsdecode(b"bad\xff.tex")) == "bad\\xff.tex"
    assert files.shown("\u202eevil") == "\\u202eevil"


# -- symbolic links --------------------------------------------------------------------------


def test_a_symlink_is_written_through(tmp_path: Path, temporaries: str) -> None:
    real = tmp_path / "real.tex"
    real.write_bytes(b"old")
    real.chmod(0o640)
    link = tmp_path / "link.tex"
    os.symlink("real.tex", link)
    with pytest.raises(OutputError, match=f"^{re.escape(str(link))} {EXISTS}$"):
        files.write_atomic(link, b"new", force=False)
    files.write_atomic(link, b"new", force=True)
    assert os.readlink(link) == "real.tex"
    assert (real.read_bytes(), mode(real)) == (b"new", 0o640)
    assert listing(tmp_path) == {"real.tex", "link.tex"}


def test_write_all_writes_through_symlinks(tmp_path: Path, temporaries: str) -> None:
    # Exercise sheets written through links into another folder: the temporaries go there.
    store, links = tmp_path / "store", tmp_path / "links"
    store.mkdir()
    links.mkdir()
    for kind in ("problems", "solutions"):
        (store / f"{kind}.tex").write_bytes(b"old")
        (store / f"{kind}.tex").chmod(0o600)
        os.symlink(store / f"{kind}.tex", links / f"week3-{kind}.tex")
    paths = [links / "week3-problems.tex", links / "week3-solutions.tex"]
    files.write_all([(path, b"new " + path.name.encode()) for path in paths], force=True)
    assert all(path.is_symlink() for path in paths)
    assert (store / "problems.tex").read_bytes() == b"new week3-problems.tex"
    assert mode(store / "solutions.tex") == 0o600
    assert listing(store) == {"problems.tex", "solutions.tex"}
    assert listing(links) == {"week3-problems.tex", "week3-solutions.tex"}


def test_a_dangling_symlink_gets_its_target_created_without_force(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    link = tmp_path / "layer.tex"
    os.symlink("out/real.tex", link)
    files.write_atomic(link, b"new", force=False)
    assert os.readlink(link) == "out/real.tex"
    assert (tmp_path / "out" / "real.tex").read_bytes() == b"new"


def test_a_dangling_symlink_into_a_missing_folder_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "layer.tex"
    os.symlink("missing/real.tex", link)
    with pytest.raises(OutputError, match=r"the folder .*missing does not exist$"):
        files.write_atomic(link, b"new", force=False)
    assert listing(tmp_path) == {"layer.tex"}


def test_a_looping_symlink_is_refused_and_left_alone(tmp_path: Path) -> None:
    loop = tmp_path / "loop.tex"
    os.symlink("loop.tex", loop)
    calls: list[Callable[[], object]] = [
        lambda: files.check_writable(loop, force=True),
        lambda: files.write_atomic(loop, b"x", force=True),
    ]
    for call in calls:
        with pytest.raises(
            OutputError, match=f"^cannot write {re.escape(str(loop))}: Too many levels of symbolic"
        ):
            call()
    assert os.readlink(loop) == "loop.tex"
    assert listing(tmp_path) == {"loop.tex"}


def test_a_symlink_to_a_directory_is_refused(tmp_path: Path) -> None:
    os.symlink(tmp_path, tmp_path / "here")
    with pytest.raises(OutputError, match=r"it is a directory$"):
        files.write_atomic(tmp_path / "here", b"x", force=True)


# -- signals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda signum: signal.Signals(signum).name)
def test_a_signal_while_writing_leaves_the_old_set_and_no_temporary(
    folders: tuple[Path, Path], temporaries: str, signum: int
) -> None:
    # The child blocks in the fsync of the second file: both temporaries exist.
    out, marks = folders
    expected = old_set(out)
    writer = child(BLOCK_IN_FSYNC + NEW_SET, temporaries, out, marks, "2")
    wait_for(marks / "blocked", writer)
    hidden = {name for name in listing(out) if name.startswith(".mg-")}
    assert len(hidden) == (2 if temporaries == "named" else 0)
    os.kill(writer.pid, signum)
    expect_interrupted(*finish(writer), signum)
    assert_holds(out, expected)


COMMIT_SIGNAL = """
real_link, real_replace, sent = os.link, os.replace, []
def signalled(real, stop_after):
    def call(*args, **kwargs):
        real(*args, **kwargs)
        if not sent and os.fspath(args[1]).endswith(stop_after):
            sent.append(1)
            os.kill(os.getpid(), getattr(signal, extra.split()[0]))
    return call
when = extra.split()[1]
os.replace = signalled(real_replace, "problems.tex" if when == "first" else "-")
os.link = signalled(real_link, "solutions.tex" if when == "last" else "-")
"""


@pytest.mark.parametrize("when", ["first", "last"])
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda signum: signal.Signals(signum).name)
def test_a_signal_during_the_commit_is_held_and_the_old_set_restored(
    folders: tuple[Path, Path], signum: int, when: str
) -> None:
    # The child signals itself right after renaming the first file into place, or after
    # linking the last: the signal waits until the set is consistent, the set is undone, and
    # the signal is delivered.
    out, marks = folders
    expected = old_set(out)
    name = signal.Signals(signum).name
    writer = child(COMMIT_SIGNAL + NEW_SET, "anonymous", out, marks, f"{name} {when}")
    expect_interrupted(*finish(writer), signum)
    assert_holds(out, expected)


def test_sigkill_leaves_nothing_with_anonymous_temporaries(folders: tuple[Path, Path]) -> None:
    if not files._ANONYMOUS:
        pytest.skip("no O_TMPFILE on this system")
    out, marks = folders
    expected = old_set(out)
    writer = child(BLOCK_IN_FSYNC + NEW_SET, "anonymous", out, marks, "2")
    wait_for(marks / "blocked", writer)
    writer.kill()
    assert finish(writer)[0] == -signal.SIGKILL
    assert_holds(out, expected)


def test_a_temporary_left_by_sigkill_is_removed_by_a_later_write(
    folders: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, marks = folders
    writer = child(BLOCK_IN_FSYNC + NEW_SET, "named", out, marks)
    wait_for(marks / "blocked", writer)
    writer.kill()
    assert finish(writer)[0] == -signal.SIGKILL
    (left,) = listing(out)
    assert left.startswith(f".mg-{writer.pid}-")
    live = f".mg-{os.getpid()}-0123abcd.tmp"  # a writer that is still running
    (out / live).touch()
    (out / ".mg-notes.tmp").touch()  # not a name matgrad makes
    files.write_atomic(out / "a.tex", b"a", force=False)
    assert left in listing(out)  # too recent: it might be another host's writer
    monkeypatch.setattr(files, "_STALE_SECONDS", 0.0)
    files.write_atomic(out / "b.tex", b"b", force=False)
    assert listing(out) == {"a.tex", "b.tex", live, ".mg-notes.tmp"}


def test_signal_handlers_are_restored_after_a_write(tmp_path: Path) -> None:
    before = [signal.getsignal(signum) for signum in SIGNALS]
    files.write_atomic(tmp_path / "a.tex", b"a", force=False)
    with pytest.raises(OutputError):
        files.write_atomic(tmp_path / "a.tex", b"a", force=False)
    assert [signal.getsignal(signum) for signum in SIGNALS] == before


def test_an_ignored_signal_stays_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Under nohup SIGHUP is ignored: a hang-up must not stop the write.
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        os.kill(os.getpid(), signal.SIGHUP)

    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        monkeypatch.setattr(os, "fsync", fsync)
        files.write_atomic(tmp_path / "a.tex", b"a", force=False)
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert (tmp_path / "a.tex").read_bytes() == b"a"


def test_a_handler_that_returns_still_fails_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        os.kill(os.getpid(), signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        monkeypatch.setattr(os, "fsync", fsync)
        with pytest.raises(OutputError, match=r"a.tex: interrupted by SIGTERM$"):
            files.write_atomic(tmp_path / "a.tex", b"a", force=False)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert received == [signal.SIGTERM]
    assert listing(tmp_path) == set()


def test_a_write_from_another_thread_sets_no_handlers(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def write() -> None:
        try:
            files.write_all([(tmp_path / "a.tex", b"a"), (tmp_path / "b.tex", b"b")], False)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()
    assert errors == []
    assert listing(tmp_path) == {"a.tex", "b.tex"}
