"""Reading a file the user named (a part, a chart, a sketch, a pack): a regular file only, its size capped first.

Torch-free and Qt-free. A name can point at anything: a FIFO (open() would wait for a writer for ever), a
device (/dev/zero never ends, /dev/stdin waits), a folder, a link to any of these. `open_user_file` opens
without blocking (O_NONBLOCK), asks the open file itself what it is (fstat: no race between a check and the
open), refuses anything but a regular file with a message naming the path, and refuses a file over `limit`
bytes before a byte is read. `read_user_file` reads it whole, never more than `limit` bytes (a file that grows
while read, or a /proc file that says it is empty, is still bounded).

Errors are the caller's own kind (`error`, an InvalidValue by default): every message names the path and the
thing (`what`: "--chords-file", "sketch", "MIDI file"...) and says what to give instead.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from .errors import InvalidValue, MusicVAEError


def _size(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):,.0f} MB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):,.0f} KB"
    return f"{n:,} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_user_file(
    path: str | Path,
    limit: int,
    what: str = "file",
    error: type[MusicVAEError] = InvalidValue,
    hint: str = "",
) -> BinaryIO:
    """The user-named `path` opened for reading in binary, if it is a regular file of at most `limit` bytes.

    Raises `error` naming the path for a missing file, a folder, a pipe, a device (a link is followed to what
    it names), a file over `limit` or one that cannot be opened. `hint` ends each message ("give a text file
    with a chord chart"). The caller closes the file (a `with` block)."""
    path = Path(path)
    tail = f": {hint}" if hint else ""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: a FIFO opens at once (no writer needed), and is refused below
    except FileNotFoundError:
        raise error(f"{what} '{path}' does not exist{tail}") from None
    except IsADirectoryError:
        raise error(f"{what} '{path}' is a folder, not a file{tail}") from None
    except OSError as exc:
        raise error(f"{what} '{path}' cannot be read ({exc.strerror or exc}){tail}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{what} '{path}' is {_kind(info.st_mode)}, not a regular file{tail}")
        if info.st_size > limit:
            raise error(f"{what} '{path}' is {_size(info.st_size)}, more than the {_size(limit)} it may be{tail}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_user_file(
    path: str | Path,
    limit: int,
    what: str = "file",
    error: type[MusicVAEError] = InvalidValue,
    hint: str = "",
) -> bytes:
    """The bytes of the user-named `path`, checked as open_user_file checks it; at most `limit` bytes are read."""
    tail = f": {hint}" if hint else ""
    with open_user_file(path, limit, what, error, hint) as f:
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise error(f"{what} '{path}' cannot be read ({exc.strerror or exc}){tail}") from None
    if len(data) > limit:  # it grew while we read, or its size said nothing (/proc)
        raise error(f"{what} '{path}' is more than the {_size(limit)} it may be{tail}")
    return data
