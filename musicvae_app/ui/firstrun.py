"""What the window can know before torch loads: the pack's card (its generation defaults) and a primer's tempo.

Both read small files with json and mido only, so the sliders show the pack's defaults from the first frame.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import mido

from ..resources import resources_dir

CARD = "card.json"


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
            card = json.loads((folder / CARD).read_text()) if folder is not None else {}
        except (OSError, ValueError):
            card = {}
    gen = card.get("generation") if isinstance(card, dict) else None
    return dict(gen) if isinstance(gen, dict) else {}


def midi_tempo(path: str | Path) -> float | None:
    """The first tempo of a MIDI file in BPM; None when it has none or cannot be read."""
    try:
        mid = mido.MidiFile(str(path), clip=True)
        for track in mid.tracks:
            for msg in track:
                if msg.type == "set_tempo":
                    return round(float(mido.tempo2bpm(msg.tempo)), 2)
    except Exception:  # mido raises many kinds on bad bytes; the primer check reports those
        return None
    return None
