"""Writing documents to files: refuse to clobber, and never leave a half-written file.

Every write goes to a temporary file in the target's folder and is renamed over the target only
once complete, so an interrupted run leaves either the old file or the new one (SPEC section 4).
A symbolic link is written through, to the file it points at; a replaced file keeps its
permissions; anything but a regular file (a device, a pipe) is refused, since a rename would
replace it rather than write to it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .errors import OutputError


def _target(path: Path) -> Path:
    """The file a write to ``path`` lands in: the end of its symbolic links."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def check_writable(path: Path, force: bool) -> None:
    """Fail early, before any work, if ``path`` cannot or may not be written."""
    target = _target(path)
    if target.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    if target.exists():
        if not stat.S_ISREG(target.stat().st_mode):
            raise OutputError(
                f"cannot write {path}: not a regular file (write to stdout and redirect instead)"
            )
        if not force:
            raise OutputError(f"{path} already exists; use --force to replace it")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"cannot write {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"cannot write {path}: the folder {folder} is not writable")


def write_atomic(path: Path, content: str | bytes, force: bool) -> None:
    """Write ``content`` to ``path`` through a temporary file and a rename."""
    check_writable(path, force)
    target = _target(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    folder = target.parent if str(target.parent) else Path(".")
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~_umask()
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror}") from error
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        if not force and target.exists():
            raise OutputError(f"{path} already exists; use --force to replace it")
        os.replace(temporary, target)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror}") from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_all(files: Sequence[tuple[Path, bytes]], force: bool) -> None:
    """Write several files as one: temporaries first, then renames; on any failure, nothing.

    A file replaced with ``force`` is copied aside before its rename, so that a later failure
    can put it back.
    """
    staged: list[tuple[Path, Path]] = []
    done: list[tuple[Path, Path | None]] = []
    current = files[0][0] if files else Path()
    try:
        for path, data in files:
            current = path
            staged.append((_write_temporary(path, data), path))
        for temporary, path in staged:
            current = path
            backup = None
            if path.exists():
                if not force:
                    raise OutputError(f"{path} already exists; use --force to replace it")
                backup = _copy_aside(path)
            try:
                os.replace(temporary, path)
            except BaseException:
                _discard(backup)
                raise
            done.append((path, backup))
    except BaseException as error:
        _roll_back(done)
        if isinstance(error, OSError):
            reason = error.strerror or str(error)
            raise OutputError(f"cannot write {current}: {reason}") from error
        raise
    finally:
        for temporary, _ in staged:
            _discard(temporary)
    for _, backup in done:
        _discard(backup)


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _write_temporary(path: Path, data: bytes) -> Path:
    """``data`` in a new temporary file next to ``path``, flushed to disk."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=_folder(path))
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644 & ~_umask())
    except BaseException:
        _discard(temporary)
        raise
    return temporary


def _copy_aside(path: Path) -> Path:
    """A copy of ``path`` next to it, to put back if a later step fails."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".old", dir=_folder(path))
    os.close(handle)
    backup = Path(name)
    try:
        shutil.copy2(path, backup)
    except BaseException:
        _discard(backup)
        raise
    return backup


def _roll_back(done: Sequence[tuple[Path, Path | None]]) -> None:
    """Undo renames already made: put back the replaced files, remove the new ones."""
    for path, backup in reversed(done):
        with contextlib.suppress(OSError):
            if backup is not None:
                os.replace(backup, path)
            else:
                os.unlink(path)


def _discard(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            os.unlink(path)
