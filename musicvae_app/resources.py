"""The shipped resources folder (default pack, icons), found the same way from source and from the bundle.

Torch-free, so the window can find its icon before the engine loads.
"""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The shipped resources folder, from a source checkout or from a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def icons_dir() -> Path:
    return resources_dir() / "icons"
