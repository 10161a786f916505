"""The project's own error types: torch-free and Qt-free, so every reader, the CLI and the window share them.

Every error that reaches a user from a bad file, a bad setting or a failing disk is a MusicVAEError whose
message already speaks to the user (it names the file or value and what is allowed): callers print it as is.
"""

from __future__ import annotations


class MusicVAEError(Exception):
    """Base of every error musicvae-app raises on purpose; str(exc) is the whole message for the user."""


class InvalidValue(MusicVAEError, ValueError):
    """A setting or field outside what the app allows; the message names the value and the allowed range.

    Also a ValueError, so code that already catches ValueError for bad arguments keeps working.
    """


_DISK_WORDS = {
    "EROFS": "the folder is on a read-only disk: pick a folder you can write to",
    "EACCES": "you do not have permission to write there: pick another folder",
    "EPERM": "you do not have permission to write there: pick another folder",
    "ENOSPC": "the disk is full: free some space or pick another disk",
    "EDQUOT": "your disk quota is used up: free some space or pick another disk",
    "ENOENT": "the folder does not exist (any more): pick another folder",
    "ENOTDIR": "part of the path is a file, not a folder: pick another folder",
    "EISDIR": "a folder of that name is in the way: pick another name",
    "ENAMETOOLONG": "the name is too long: pick a shorter name or folder",
    "EIO": "the disk reported an input/output error: check the disk, or pick another",
}


def disk_words(exc: BaseException) -> str:
    """What went wrong with a file or folder, in words ("the folder is on a read-only disk…"), never a raw
    "[Errno 30] …". Anything that is not an OSError comes back as its own message."""
    import errno

    if not isinstance(exc, OSError):
        return str(exc) or type(exc).__name__
    name = errno.errorcode.get(exc.errno or 0, "")
    if name in _DISK_WORDS:
        return _DISK_WORDS[name]
    if exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    text = str(exc)
    return text[text.index("]") + 1 :].strip() if text.startswith("[Errno") and "]" in text else text
