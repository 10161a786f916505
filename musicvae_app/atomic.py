"""Atomic file writes with the user's normal file mode: a temp file beside the target, fsync, rename.

A crash, a full disk or a read-only folder at any moment leaves either the old file whole or the new
one whole, never a mix, and never a temp file behind: a failure removes its temp at once, and the temps
of a killed process are swept (`sweep_beside`) the next time anything is written into that folder. An
error names the user's file, never the temp. Unlike tempfile.mkstemp (always 0600), the result has the
mode any other program would give a new file: 0666 less the umask. Torch-free and Qt-free.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".tmp"
TEMP_MARK = ".mvtmp-"
SWEEP_EVERY_S = 60.0  # a folder is swept for dead writers' temps at most this often per process
_swept: dict[str, float] = {}
_swept_lock = threading.Lock()


def default_mode() -> int:
    """0666 & ~umask: the mode a plain open() would create a file with."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def temp_path(path: Path) -> Path:
    """A unique temp name beside `path`, carrying our pid so a sweep can tell a live writer's temp from a dead one's."""
    return path.with_name(f".{path.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows, or a folder we may not open: the rename itself is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def name_the_target(exc: BaseException, tmp: Path, path: Path) -> BaseException:
    """Make an OSError about the temp `tmp` (or about no file: a failed write) name the user's `path` instead."""
    if isinstance(exc, OSError):
        temps = (str(tmp), os.fsencode(tmp), tmp)
        if exc.filename is None and exc.errno is not None:
            exc.filename = str(path)  # a write that failed (a full disk) names no file: it was theirs
        elif exc.filename in temps:
            exc.filename = str(path)
            if exc.filename2 is not None and str(exc.filename2) == str(path):
                exc.filename2 = None  # a failed rename temp -> path: one name is enough
        elif exc.filename2 in temps:
            exc.filename2 = None
    return exc


def _remove(tmp: Path) -> None:
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass  # a folder gone read-only: the next sweep takes it


def _finish(tmp: Path, path: Path, mode: int | None) -> None:
    os.chmod(tmp, default_mode() if mode is None else mode)
    os.replace(tmp, path)


def atomic_write(path: str | Path, data: bytes | Callable[[BinaryIO], object], mode: int | None = None) -> Path:
    """Write `data` (bytes, or a function that writes to the open binary file) to `path` atomically.

    The file gets `mode` (default: 0666 & ~umask). On any failure (an exception from `data` included:
    a cancelled render) the temp file is removed, the previous file at `path` is untouched and the
    error is raised, naming `path`. A function may stream as much as it likes: nothing is held back.
    """
    path = Path(path)
    sweep_beside(path)
    tmp = temp_path(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    except OSError as exc:
        raise name_the_target(exc, tmp, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
        _finish(tmp, path, mode)
    except BaseException as exc:
        _remove(tmp)
        name_the_target(exc, tmp, path)
        raise
    _fsync_dir(path.parent)
    return path


@contextmanager
def atomic_target(path: str | Path, mode: int | None = None) -> Iterator[Path]:
    """A temp name beside `path` for a writer that wants a name (the fluidsynth program); renamed into place,
    synced and given `mode`, when the block ends without an error. On any error (or a KeyboardInterrupt,
    or SystemExit) the temp is removed, the old file at `path` stays and the error names `path`.

        with atomic_target("song.wav") as tmp:
            subprocess.run(["fluidsynth", "-F", str(tmp), ...], check=True)
    """
    path = Path(path)
    sweep_beside(path)
    tmp = temp_path(path)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        _finish(tmp, path, mode)
    except BaseException as exc:
        _remove(tmp)
        name_the_target(exc, tmp, path)
        raise
    _fsync_dir(path.parent)


def atomic_write_set(items: Iterable[tuple[str | Path, bytes | Callable[[BinaryIO], object]]]) -> list[Path]:
    """Write several files as a set: all temps first, then the renames; a failure before the renames writes none.

    For stems: either every lane's file is there (new) or none changed.
    A failure among the renames (a file made read-only meanwhile) removes the temps not yet renamed.
    Errors name the user's file.
    """
    done: list[tuple[Path, Path]] = []
    target = tmp = None
    try:
        for target, data in items:
            target = Path(target)
            tmp = temp_path(target)
            atomic_write(tmp, data)  # a complete, synced temp, itself written atomically
            done.append((tmp, target))
        for tmp, target in done:
            os.replace(tmp, target)
    except BaseException as exc:
        for left, _ in done:
            _remove(left)  # those renamed already are gone from their temp names: a no-op for them
        if tmp is not None and target is not None:
            name_the_target(exc, tmp, target)
        raise
    return [target for _, target in done]


def pid_alive(pid: int) -> bool:
    """Whether process `pid` may still run (True when unsure, e.g. on Windows, where os.kill would end it)."""
    if pid == os.getpid() or os.name == "nt" or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or a platform that cannot tell: assume alive
    return True


def sweep_beside(path: str | Path, force: bool = False) -> list[Path]:
    """Remove the temps that killed writers of ours left in `path`'s folder (a user's export folder too).

    Only our own marked temps of processes that are gone are touched, never another program's file.
    Every atomic write calls this, so a folder is swept at most once every SWEEP_EVERY_S per process
    (a cache folder taking thousands of files is not listed thousands of times), unless `force` (a
    render, rare and long, always sweeps). Returns what was removed."""
    folder = Path(path).parent
    key = os.path.abspath(folder)
    now = time.monotonic()
    with _swept_lock:
        if not force and key in _swept and now - _swept[key] < SWEEP_EVERY_S:
            return []
        _swept[key] = now
    return clean_stale_temps(folder, ours_only=True)


def clean_stale_temps(folder: str | Path, older_than_s: float = 3600.0, ours_only: bool = False) -> list[Path]:
    """Remove temp files left in `folder` by writers that died: ours whose pid is gone, any other `.*.tmp`
    older than `older_than_s` (not with `ours_only`, for the user's own folders). Returns what was removed;
    errors (a read-only folder) are ignored."""
    folder = Path(folder)
    removed = []
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(TEMP_SUFFIX)]
    except OSError:
        return removed
    now = time.time()
    for path in candidates:
        try:
            if TEMP_MARK in path.name:
                pid_part = path.name.rsplit(TEMP_MARK, 1)[1].split("-", 1)[0]
                stale = not (pid_part.isdigit() and pid_alive(int(pid_part)))
            elif ours_only:
                continue
            else:
                stale = now - path.stat().st_mtime > older_than_s
            if stale and path.is_file():
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed
