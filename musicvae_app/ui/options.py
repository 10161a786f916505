"""The window's command line, and the engine process started from it: Qt-free, so the launcher (ui/launch.py)
reads them before it imports Qt."""

from __future__ import annotations

import argparse
import sys


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="musicvae-app", description="The musicvae band sketchpad window")
    parser.add_argument("--pack", help="model pack folder (default: the bundled default pack or $MUSICVAE_PACK)")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="load the pack, generate, export a .mid to a temp folder, read it back; exit 0 if it holds the notes",
    )
    return parser


def start_engine_process(pack=None):
    """The engine process (engine/remote.py) loading `pack`, started now; None when $MUSICVAE_ENGINE_PROCESS=0
    turns it off or it cannot be started (the window then loads the engine itself, as it says)."""
    from ..engine import remote

    if not remote.enabled():
        return None
    try:
        return remote.EngineProcess.start(pack, one_song_threads=1)
    except OSError as exc:
        print(f"musicvae-app: the engine process could not start ({exc}); the window loads the model", file=sys.stderr)
        return None
