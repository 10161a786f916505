"""What the window can know before torch loads: the pack's card (its generation defaults).

Read with json only (through userfiles: a regular file, its size capped), so the sliders show the pack's
defaults from the first frame.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import MusicVAEError
from ..resources import resources_dir
from ..userfiles import read_user_file

CARD = "card.json"
MAX_CARD_BYTES = 4 << 20  # as model/pack.py allows (a card is a few KB); not imported from there: no torch yet


def pack_folder(pack=None) -> Path | None:
    """The folder a pack argument names (a path, or None for $MUSICVAE_PACK / the shipped default)."""
    if pack is None:
        return Path(os.environ.get("MUSICVAE_PACK") or resources_dir() / "models" / "default")
    if isinstance(pack, (str, os.PathLike)):
        return Path(pack)
    return None


def generation_defaults(pack=None) -> dict:
    """The card's "generation" block ({} when there is no readable card); a loaded Pack's card is used as is."""
    card = getattr(pack, "card", None)
    if card is None:
        folder = pack_folder(pack)
        try:
            card = json.loads(read_user_file(folder / CARD, MAX_CARD_BYTES, "card")) if folder is not None else {}
        except (OSError, ValueError, RecursionError, MusicVAEError):
            card = {}
    gen = card.get("generation") if isinstance(card, dict) else None
    return dict(gen) if isinstance(gen, dict) else {}
