"""The bass in a bass's range: a take's free bass plays no lower than a bass guitar's open E (E1, MIDI 28: the
pack card's `bass_lowest`; a pack that sets none, an untrained one, keeps its bass as decoded).

The packs learn their lanes in one key space (C major / A minor, `theory.keys.normalising_shift`: a song in E moves
down 4 semitones, so its bass's open E becomes C1). A take played back in a key near C keeps that register: under
the chart `C G Am F` the shipped pack's bass put 21.2 % of its notes under E1 (median G1 / 31, its lowest 1 % at G0
/ 19), with a song form 20.0 %, free takes 9.5 %, where real bass parts put 3.3-6.5 % there (band-midi's validation
files; median 37-38; `python -m benchmarks.bass_register`). Under E1 a four-string bass cannot play the note, and
many bass sounds in a DAW have no sample there (the note is silent, or a rumble). So, last of the per-take stage
(generate's, and each edit's: Regenerate, Continue, Infill, Morph, a new chart), as a bassist does with a line
written too low: a free chunk of the bass (4 bars in the shipped pack) whose lowest note is under E1 moves up an
octave, whole, when its highest note stays within real basses' reach (`HIGHEST`, D#4); else each such bar moves
whole by the same rule; else only the notes under E1 move up (an octave line keeps its shape
wherever it can). The cells move with their probabilities, so a density turned up finds the same line an octave up;
the musician's own bass (a primer, a followed part, locked lanes) is never moved, and where it plays under E1 itself
the take's bass stays where it is.
"""

from __future__ import annotations

import numpy as np

from ..lanes import LANES
from ..sketch.song import Song

BASS = LANES.index("bass")
LOWEST = 28  # E1, a four-string bass's open E: 93.5-96.7 % of real bass notes (benchmarks/bass_register.py)
HIGHEST = 63  # D#4: real bass notes' 95th-99th percentile; a span moved whole keeps its top at or under it


def _move(rows: np.ndarray, only_low: bool, lowest: int) -> None:
    """In place on (steps, 128) probabilities: every row (or only those under `lowest`) up an octave, max-merged."""
    low = lowest if only_low else 116
    moved = rows[:, :low].copy()
    rows[:, :low] = 0.0
    np.maximum(rows[:, 12 : low + 12], moved, out=rows[:, 12 : low + 12])


def keep_in_range(song: Song, free: np.ndarray, chunk_bars: int, lowest: int | None = LOWEST) -> int:
    """In place on a finished take's bass (song.probs): free chunks, then bars, then notes under `lowest` (E1; the
    pack card's `bass_lowest`, None: off, as for a pack that sets none) up an octave (module doc). free: (bars, 5)
    the bars a stage may change. Returns how many spans (chunks, bars) moved whole."""
    bar = song.steps_per_bar
    probs = song.probs[BASS]
    n_bars = min(free.shape[0], probs.shape[0] // bar)
    if lowest is None or not free[:n_bars, BASS].any():
        return 0  # no lowest note set, or no new bass (an edit of another lane)
    on = song.notes()[BASS]
    moved = 0

    def reach(first: int, last: int) -> tuple[int, int] | None:
        pitches = np.flatnonzero(on[first * bar : last * bar].any(axis=0))
        return (int(pitches[0]), int(pitches[-1])) if len(pitches) else None

    kept = [b for b in range(n_bars) if not free[b, BASS]]
    if any((got := reach(b, b + 1)) is not None and got[0] < lowest for b in kept):
        return 0  # the musician's own bass (a primer, a part, a locked lane) goes that low: its register rules
    bars = [b for b in range(n_bars) if free[b, BASS]]
    done: set[int] = set()
    for first in range(0, n_bars - chunk_bars + 1, chunk_bars):
        span = range(first, first + chunk_bars)
        if not all(free[b, BASS] for b in span):
            continue
        got = reach(first, first + chunk_bars)
        if got is not None and got[0] < lowest and got[1] + 12 <= HIGHEST:
            _move(probs[first * bar : (first + chunk_bars) * bar], False, lowest)
            done.update(span)
            moved += 1
    for b in bars:
        if b in done:
            continue
        got = reach(b, b + 1)
        if got is None or got[0] >= lowest:
            continue
        _move(probs[b * bar : (b + 1) * bar], got[1] + 12 > HIGHEST, lowest)
        moved += got[1] + 12 <= HIGHEST
    return moved
