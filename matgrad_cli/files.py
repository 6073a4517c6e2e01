"""Writing output files, for every command: atomic, no clobbering, all or nothing, signal-safe.

``write_all`` writes a set of files as one transaction; ``write_atomic`` is it for one file.

1. Check, before any work (``check_writable``): each path is followed through its symbolic
   links to the file the bytes land in; a directory, a device or pipe, a missing or unwritable
   folder, a looping link and (without ``force``) an existing file are refused, in one line.
2. Stage: each content goes to a temporary in its target's folder (an anonymous O_TMPFILE on
   Linux, else a named ``.mg-<pid>-<8 hex>.tmp``) with its final mode, fsync'd.
3. Commit: a new file is hard-linked into place, so that of two writers of one new path the
   loser says "already exists"; with ``force`` an existing file is linked aside (``.old``), then
   renamed over. If a step fails, the files committed are put back or removed, newest first:
   the folder holds the old set, and no temporary is left.

A symbolic link is written through: the file it points at is replaced (keeping its mode) and
the link stays a link; a dangling link gets its target created, as a new file.

SIGINT, SIGTERM and SIGHUP, unless ignored, stop a write in the main thread at the next safe
point (``_Guard``); the old set is restored and the signal re-delivered to its previous handler,
so that SIGINT raises KeyboardInterrupt (the CLI exits 130) and SIGTERM and SIGHUP end the
process by that signal, as a shell expects, asking nothing of callers. SIGKILL cannot be
caught: the named temporaries and ``.old`` links it leaves are removed by a later write to the
same folder (``_remove_stale``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from .errors import OutputError

__all__ = ["check_writable", "parse_output_path", "shown", "write_all", "write_atomic"]

T = TypeVar("T")
_Handler = Callable[[int, FrameType | None], Any] | int
#: A committed file and, if it replaced one, the link to the old file kept for undoing.
_Done = tuple[Path, Path | None]

#: Whether temporaries are anonymous (O_TMPFILE, linked in through /proc/self/fd) when the file
#: system allows; tests turn it off to exercise named temporaries.
_ANONYMOUS = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")
#: Age in seconds after which a temporary whose process is gone counts as left by SIGKILL.
_STALE_SECONDS = 60.0
_TEMPORARY = re.compile(r"\.mg-(\d{1,10})-[0-9a-f]{8}\.(?:tmp|old)")
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_CHUNK = 1 << 20
#: link(2) errors meaning "this file system has no hard links" (FAT, some network mounts).
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS})
#: open(O_TMPFILE) errors meaning "not here" (old kernel, file system without it).
_NO_ANONYMOUS = frozenset({errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL})


def shown(path: str | os.PathLike[str]) -> str:
    """``path`` for a message: printable characters as they are, the rest escaped as repr does,
    so that a file name can neither move the cursor nor recolour the terminal."""
    return "".join(_escaped(char) for char in os.fspath(path))


def parse_output_path(text: str) -> Path:
    """The path ``-o TEXT`` names, refusing what ``Path`` would silently change: a trailing
    separator or ``.`` (``x.tex/`` would become ``x.tex``), an empty name, a NUL."""
    if not text:
        raise OutputError("cannot write '': the file name is empty")
    if "\0" in text:
        raise OutputError(f"cannot write {shown(text)}: a file name cannot contain NUL")
    if text.endswith(os.sep):
        raise OutputError(f"cannot write {shown(text)}: a file name cannot end with {os.sep}")
    if text.rsplit(os.sep, 1)[-1] in (".", ".."):
        raise OutputError(f"cannot write {shown(text)}: it is a directory")
    return Path(text)


def write_atomic(path: Path | str, content: str | bytes, force: bool) -> None:
    """Write ``content`` (a str as UTF-8) to ``path``: ``write_all`` of one file."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    write_all([(path, data)], force)


def write_all(files: Sequence[tuple[Path | str, bytes]], force: bool) -> None:
    """Write several files as one: all are replaced (existing ones only with ``force``) or none
    is, whatever fails (OutputError, one line) or interrupts (the signal is re-delivered)."""
    targets: list[tuple[_Target, bytes]] = []
    for path, data in files:
        target = check_writable(path, force)
        if any(target.file == earlier.file for earlier, _ in targets):  # one would undo the other
            raise OutputError(f"cannot write {shown(target.path)}: it is named twice")
        targets.append((target, data))
    if not targets:
        return
    guard = _Guard()
    try:
        with contextlib.suppress(_Interrupted), guard:
            _transaction(targets, force, guard)
    finally:
        guard.redeliver(targets[0][0].path)


@dataclass(frozen=True)
class _Target:
    """Where one write lands: the path as given (for messages) and the file at the end of its
    symbolic links, with what is there now (None if nothing)."""

    path: Path
    file: Path
    existing: os.stat_result | None


def _escaped(char: str) -> str:
    """One character of a path as ``shown`` prints it."""
    if char.isprintable():
        return char
    if "\udc80" <= char <= "\udcff":  # an undecodable byte, as os.fsdecode keeps it
        return f"\\x{ord(char) - 0xDC00:02x}"
    return repr(char)[1:-1]


def _failure(path: Path, error: OSError | ValueError) -> OutputError:
    """The one line an OSError (or a NUL in a path) becomes."""
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return OutputError(f"cannot write {shown(path)}: {reason}")


def _exists_error(path: Path) -> OutputError:
    """The refusal to clobber, the same whether found early or at the commit."""
    return OutputError(f"{shown(path)} already exists; use --force to replace it")


def check_writable(given: Path | str, force: bool) -> _Target:
    """Fail early, before any work, with one line if ``given`` cannot or may not be written; else
    where the write lands and what is there. A ``str`` is read by ``parse_output_path``, so that
    ``x.tex/`` is refused."""
    path = parse_output_path(given) if isinstance(given, str) else given
    try:
        existing: os.stat_result | None = os.stat(path)  # follows links; ELOOP for a loop
    except (FileNotFoundError, NotADirectoryError):
        # Nothing there; a path through a regular file (ENOTDIR) is one whose folder is missing.
        existing = None
    except (OSError, ValueError) as error:
        raise _failure(path, error) from error
    try:
        file = Path(os.path.realpath(path))
    except OSError as error:  # a relative path in a folder that was removed
        raise _failure(path, error) from error
    if existing is not None:
        if stat.S_ISDIR(existing.st_mode):
            raise OutputError(f"cannot write {shown(path)}: it is a directory")
        if not stat.S_ISREG(existing.st_mode):
            raise OutputError(
                f"cannot write {shown(path)}: not a regular file"
                " (write to stdout and redirect instead)"
            )
        if not force:
            raise _exists_error(path)
    folder = file.parent
    named = folder if os.path.islink(path) else path.parent
    if not os.path.isdir(folder):
        raise OutputError(f"cannot write {shown(path)}: the folder {shown(named)} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {shown(path)}: the folder {shown(named)} is not writable")
    return _Target(path, file, existing)


class _Interrupted(BaseException):
    """A signal that stops a write; caught by ``write_all``, which then re-delivers it."""


class _Guard:
    """SIGINT, SIGTERM and SIGHUP during a write: raised as _Interrupted while ``interruptible``
    (writing contents), otherwise held until ``check``, the next safe point after an open, link
    or rename; re-delivered by ``redeliver``. Should the previous handler return, the write
    fails with OutputError "... interrupted by SIG...": the files were not written."""

    def __init__(self) -> None:
        self.pending: int | None = None
        self.interruptible = False
        self._previous: dict[int, _Handler] = {}

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may set handlers, and only it receives signals
        for signum in _SIGNALS:
            previous = signal.getsignal(signum)
            if previous is None or previous == signal.SIG_IGN:
                continue  # installed outside Python, or ignored (nohup): leave it so
            self._previous[signum] = previous
            signal.signal(signum, self._receive)

    def __exit__(self, *exc_info: object) -> None:
        self.interruptible = False
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def _receive(self, signum: int, frame: FrameType | None) -> None:
        if self.pending is None:
            self.pending = signum
        if self.interruptible:
            self.interruptible = False
            raise _Interrupted(signum)

    def check(self) -> None:
        """Raise _Interrupted if a signal was held: a safe point to stop and undo."""
        if self.pending is not None:
            raise _Interrupted(self.pending)

    def redeliver(self, path: Path) -> None:
        """Send the held signal again, to the handler it had before; the write was undone."""
        if self.pending is None:
            return
        signum, self.pending = self.pending, None
        signal.raise_signal(signum)
        name = signal.Signals(signum).name
        raise OutputError(f"cannot write {shown(path)}: interrupted by {name}")


@dataclass
class _Staged:
    """One file on its way: its target and its temporary, an open descriptor (anonymous, or
    -1 once closed) and a name (None while anonymous or once put in place)."""

    target: _Target
    fd: int = -1
    name: Path | None = None

    def discard(self) -> None:
        """Close and remove the temporary, whatever state it is in."""
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1
        _unlink(self.name)
        self.name = None


def _transaction(targets: Sequence[tuple[_Target, bytes]], force: bool, guard: _Guard) -> None:
    """Stage every file, then commit them all; on any failure or signal, undo the commits."""
    staged: list[_Staged] = []
    done: list[_Done] = []
    try:
        for folder in dict.fromkeys(target.file.parent for target, _ in targets):
            _remove_stale(folder)
        for target, data in targets:
            _stage(target, data, staged, guard)
        for item in staged:
            guard.check()
            _commit(item, force, done)
        _sync_folders(done)
        guard.check()
    except BaseException:
        _roll_back(done)
        raise
    finally:
        for item in staged:
            item.discard()
    for _, backup in done:
        _unlink(backup)


def _stage(target: _Target, data: bytes, staged: list[_Staged], guard: _Guard) -> None:
    """Write ``data`` to a new temporary next to its target, with its final mode, fsync'd."""
    item = _Staged(target)
    staged.append(item)  # before opening: whatever happens next, the temporary is discarded
    try:
        _open_temporary(item)
        guard.check()
        guard.interruptible = True
        try:
            view = memoryview(data)
            while view:  # in chunks, so that a signal is acted on between them
                view = view[os.write(item.fd, view[:_CHUNK]) :]
            if target.existing is not None:  # a replacement: the old mode, the owner if allowed
                with contextlib.suppress(OSError):
                    os.fchown(item.fd, target.existing.st_uid, target.existing.st_gid)
                os.fchmod(item.fd, stat.S_IMODE(target.existing.st_mode))
            os.fsync(item.fd)
        finally:
            guard.interruptible = False
        guard.check()
        if item.name is not None:
            os.close(item.fd)
            item.fd = -1
    except OSError as error:
        raise _failure(target.path, error) from error


def _open_temporary(item: _Staged) -> None:
    """Open ``item``'s temporary in its target's folder, anonymous where the system allows:
    0o666 for a new file, so that the umask (or a default ACL) applies as to any new file; 0o600
    for a replacement, which gets the old file's mode (and owner) once written."""
    folder = item.target.file.parent
    mode = 0o600 if item.target.existing is not None else 0o666
    if _ANONYMOUS:
        try:
            item.fd = os.open(folder, os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, mode)
            return
        except OSError as error:
            if error.errno not in _NO_ANONYMOUS:
                raise
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
    item.name, item.fd = _fresh(folder, ".tmp", lambda name: os.open(name, flags, mode))


def _commit(item: _Staged, force: bool, done: list[_Done]) -> None:
    """Put one staged file in place: linked if new, so a file that appeared meanwhile is never
    clobbered; with ``force``, renamed over the old file, which is first linked aside."""
    target = item.target
    try:
        if not (force and os.path.lexists(target.file)):
            try:
                _link_in(item, target.file)
            except FileExistsError:
                if not force:
                    raise _exists_error(target.path) from None
            else:
                done.append((target.file, None))
                return
        backup = _set_aside(target.file)
        try:
            os.replace(_name(item), target.file)
            item.name = None
        except BaseException:
            _unlink(backup)
            raise
        done.append((target.file, backup))
    except OSError as error:
        raise _failure(target.path, error) from error


def _link_in(item: _Staged, file: Path) -> None:
    """Give the temporary the name ``file``; FileExistsError if that exists: link(2) checks
    and creates in one step, so no other writer can slip in between."""
    if item.name is None:
        _link_anonymous(item.fd, file)
        return
    try:
        os.link(item.name, file)
    except OSError as error:
        if error.errno not in _NO_HARD_LINKS:
            raise
        # No hard links on this file system: check, then rename; racy, but the best there is.
        if os.path.lexists(file):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(file)) from error
        os.replace(item.name, file)
    else:
        _unlink(item.name)
    item.name = None


def _link_anonymous(fd: int, file: Path) -> None:
    """Link the O_TMPFILE open as ``fd`` to ``file``: linkat(AT_SYMLINK_FOLLOW) of
    /proc/self/fd/N, which os.link does only when given a directory descriptor."""
    proc = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.link(str(fd), file, src_dir_fd=proc)
    finally:
        os.close(proc)


def _name(item: _Staged) -> Path:
    """The temporary's name, giving an anonymous one a name first (rename needs one)."""
    if item.name is None:
        item.name, _ = _fresh(
            item.target.file.parent, ".tmp", lambda name: _link_anonymous(item.fd, name)
        )
    return item.name


def _set_aside(file: Path) -> Path:
    """A second name for ``file`` (a copy where hard links are refused), to put it back with if
    the set fails; rename then leaves it untouched."""

    def keep(name: Path) -> None:
        try:
            os.link(file, name)
        except OSError as error:
            if error.errno not in _NO_HARD_LINKS:
                raise
            try:
                shutil.copy2(file, name)
            except BaseException:
                _unlink(name)
                raise

    return _fresh(file.parent, ".old", keep)[0]


def _fresh(folder: Path, suffix: str, make: Callable[[Path], T]) -> tuple[Path, T]:
    """A new hidden name in ``folder`` and what ``make`` made there; another if it is taken.
    Short whatever the target's name, which may itself be 255 characters long."""
    for _ in range(100):
        name = folder / f".mg-{os.getpid()}-{os.urandom(4).hex()}{suffix}"
        try:
            return name, make(name)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", os.fspath(folder))


def _roll_back(done: Sequence[_Done]) -> None:
    """Undo the commits made, newest first: put each replaced file back, remove each new one."""
    for file, backup in reversed(done):
        with contextlib.suppress(OSError):
            if backup is None:
                os.unlink(file)
            else:
                os.replace(backup, file)


def _sync_folders(done: Sequence[_Done]) -> None:
    """fsync each folder written to, so that the new names survive a power cut."""
    for folder in dict.fromkeys(file.parent for file, _ in done):
        with contextlib.suppress(OSError):
            handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                os.fsync(handle)
            finally:
                os.close(handle)


def _unlink(path: Path | None) -> None:
    """Remove ``path`` if there is one, ignoring errors: for clean-up paths that must not fail."""
    if path is not None:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _remove_stale(folder: Path) -> None:
    """Remove the named temporaries and set-aside files that killed writers left in ``folder``:
    those whose process is gone and that are a minute old. The age spares writers on another
    host or in another container, whose pids are not visible here. (An anonymous temporary
    vanishes with its process; a kill during a commit may leave a set half replaced, the .old
    files holding the old versions until then.)"""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    now = time.time()
    for name in names:
        match = _TEMPORARY.fullmatch(name)
        if match is None or _alive(int(match[1])):
            continue
        with contextlib.suppress(OSError):
            status = os.lstat(folder / name)
            # ctime, not mtime: linking aside a file changes its ctime, not its mtime
            if stat.S_ISREG(status.st_mode) and now - status.st_ctime >= _STALE_SECONDS:
                os.unlink(folder / name)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (when unsure, it does: nothing is removed)."""
    if pid <= 0 or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True
    return True
