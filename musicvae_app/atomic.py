"""Atomic file writes with the user's normal file mode: a temp file beside the target, fsync, rename.

A crash, a full disk or a read-only folder at any moment leaves either the old file whole or the new
one whole, never a mix, and never a temp file behind (a killed process's temps are swept by
`clean_stale_temps`). Unlike tempfile.mkstemp (always 0600), the result has the mode any other program
would give a new file: 0666 less the umask. Torch-free and Qt-free.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".tmp"
TEMP_MARK = ".mvtmp-"


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


def atomic_write(path: str | Path, data: bytes | Callable[[BinaryIO], object], mode: int | None = None) -> Path:
    """Write `data` (bytes, or a function that writes to the open binary file) to `path` atomically.

    The file gets `mode` (default: 0666 & ~umask). On any failure the temp file is removed, the
    previous file at `path` is untouched and the error is raised.
    """
    path = Path(path)
    tmp = temp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, default_mode() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_set(items: Iterable[tuple[str | Path, bytes | Callable[[BinaryIO], object]]]) -> list[Path]:
    """Write several files as a set: all temps first, then the renames; a failure before the renames writes none.

    For stems: either every lane's file is there (new) or none changed.
    """
    done: list[tuple[Path, Path]] = []
    try:
        for target, data in items:
            target = Path(target)
            tmp = temp_path(target)
            atomic_write(tmp, data)  # a complete, synced temp, itself written atomically
            done.append((tmp, target))
    except BaseException:
        for tmp, _ in done:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in done:
        os.replace(tmp, target)
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


def clean_stale_temps(folder: str | Path, older_than_s: float = 3600.0) -> list[Path]:
    """Remove temp files left in `folder` by writers that died: ours whose pid is gone, any other `.*.tmp`
    older than `older_than_s`. Returns what was removed; errors (a read-only folder) are ignored."""
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
            else:
                stale = now - path.stat().st_mtime > older_than_s
            if stale and path.is_file():
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed
