"""Edits of takes: the plan of an infill (which bars and lanes), and transposition, which moves a take's notes
without the engine (the key, chords and the take's shift
from the pack's key space move with it, so a later regenerate, Jam or infill continues in the new key)."""

from __future__ import annotations

import dataclasses

from ..errors import InvalidValue
from ..limits import MAX_TRANSPOSE, check_int
from ..theory.chords import ChordError, parse_chord
from ..theory.keys import key_name, parse_key, transpose_roll
from .song import LANES, Song, lane_index


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
    settings = song.settings.replace(transpose=int(song.settings.get("transpose", 0)) + semitones)
    try:
        tonic, mode = parse_key(str(settings.get("key") or "").split(" / ")[0])
        settings = settings.replace(key=key_name(((tonic + semitones) % 12, mode)))
    except ValueError:
        pass
    return dataclasses.replace(
        song,
        probs=transpose_roll(song.probs, semitones),
        settings=settings,
        chords=[transposed_chord(c, semitones) for c in song.chords],
        performance=None if song.performance is None else song.performance.transposed(semitones),
    )


def infill_plan(song: Song, start_bar: int, end_bar: int, lanes, mine: list[int], lineup: list[bool]):
    """(start bar, end bar, lane names or None for all, undo text) of an infill of bars start..end of `lanes`;
    the user's own part (`mine`) stays as played, so only band lanes (in the `lineup`) get new bars."""
    start_bar = check_int("start bar", start_bar, 1, song.n_bars)
    end_bar = check_int("end bar", end_bar, start_bar, song.n_bars)
    names = None if lanes is None else [LANES[i] for i in sorted({lane_index(x) for x in lanes})]
    if names is not None and not names:
        raise InvalidValue("choose at least one lane to regenerate")
    if mine:
        band = [LANES[i] for i in range(len(LANES)) if lineup[i]] if names is None else names
        names = [n for n in band if LANES.index(n) not in mine]
        if not names:
            raise InvalidValue("those lanes are your part and stay as you played them: pick a band lane")
    per_chunk = max(song.chunk_steps // song.steps_per_bar, 1)
    first, last = (start_bar - 1) // per_chunk * per_chunk + 1, -(-end_bar // per_chunk) * per_chunk
    which = "all lanes" if names is None or len(names) == len(LANES) else ", ".join(names)
    return start_bar, end_bar, names, f"Regenerate bars {first}-{last} ({which})"
