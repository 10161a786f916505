"""Edits that move a take's notes without the engine: transposition (the key, chords and the take's shift
from the pack's key space move with it, so a later regenerate, Jam or infill continues in the new key)."""

from __future__ import annotations

import dataclasses

from ..limits import MAX_TRANSPOSE
from ..theory.chords import ChordError, parse_chord
from ..theory.keys import key_name, parse_key, transpose_roll
from .song import Song


def transpose_refusal(takes, semitones: int) -> str | None:
    """Why `semitones` more would take a take past the shift a sketch file holds (None: it fits)."""
    for n, take in enumerate(takes):
        now = int(take.settings.get("transpose", 0))
        if not -MAX_TRANSPOSE <= now + semitones <= MAX_TRANSPOSE:
            return (
                f"Take {n + 1} is already {now:+d} semitones from its pack's key; {semitones:+d} more would pass "
                f"{MAX_TRANSPOSE} either way, where no note is left on the keyboard. Transpose the other way."
            )
    return None


def transposed_chord(symbol: str | None, semitones: int) -> str | None:
    try:
        return None if symbol is None else parse_chord(symbol).transposed(semitones).symbol
    except ChordError:
        return symbol  # not a chord this app reads: it stays as the user wrote it


def transposed(song: Song, semitones: int) -> Song:
    """The take's pitched lanes `semitones` up (drums stay), with its key, chords and shift."""
    settings = dict(song.settings)
    settings["transpose"] = int(settings.get("transpose", 0)) + semitones
    try:
        tonic, mode = parse_key(str(settings.get("key") or "").split(" / ")[0])
        settings["key"] = key_name(((tonic + semitones) % 12, mode))
    except ValueError:
        pass
    return dataclasses.replace(
        song,
        probs=transpose_roll(song.probs, semitones),
        settings=settings,
        chords=[transposed_chord(c, semitones) for c in song.chords],
    )
