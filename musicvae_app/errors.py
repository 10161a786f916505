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
