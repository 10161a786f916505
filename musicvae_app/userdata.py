"""Where the app keeps the user's things: autosaves, drag-out files, settings. Never the install folder."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "musicvae-app"
DATA_DIR_ENV = "MUSICVAE_DATA_DIR"


def data_dir() -> Path:
    """$MUSICVAE_DATA_DIR, else the platform's user data folder (e.g. ~/.local/share/musicvae-app).

    Created when possible; a folder that cannot be created is still returned (the window then runs
    with autosave off and says why), never an exception at start.
    """
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        folder = Path(override)
    else:
        from platformdirs import user_data_dir

        folder = Path(user_data_dir(APP_NAME, appauthor=False))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass
    return folder
