"""A free take's bass under the chords its band plays: on their root on beat 1 as often as a real bassist.

A take without chords has no chart to check the bass against: each lane's latent moves on from the predictor, so
the bass can leave the harmony the piano, guitar and strings play above it. Held by the pull toward the first
chunk, a free take's bass sat on the upper lanes' root on beat 1 in 83 % of bars; free of most of the pull (so
that it comes back to earlier chunks at real songs' rates), in 60 % (`musicvae evaluate`'s random starts), against
66 % in training songs and 72 % in the validation songs (the same measure: the chord the upper lanes play,
recognized bar by bar, evaluation.playing_metrics.bass_on_root).

So, as `ties.py` keeps a take's strings gaps at a learned share over the take's own: after the groove, the chords
the upper lanes play are recognized bar by bar (as the measure does) and the bass's note on beat 1 moves, whole, to
the chord's root (the nearest octave, as `post.bass_on_beat_one` lands a followed part's roots) in just enough of
the bars it misses that the take reaches the card's `free_bass_root` (learned from training songs:
evaluation/learn_free_bass.py); a bar whose first bass note is no chord tone at all (a clash) first, the rest drawn
by the bar's notes and chord (a bar that comes back moves alike). A take already at the share keeps its bass.
"""

from __future__ import annotations

import zlib

import numpy as np

from ..lanes import BEATS_PER_BAR, LANES
from ..sketch.song import Song
from ..theory.chords import beat_one_pitch, upper_chords
from .chording import chord_map

BASS = LANES.index("bass")


def land_roots(song: Song, free: np.ndarray, share: float | None, seed: int) -> int:
    """In place on a finished take without chords: the bass lands on the upper lanes' root on beat 1 in enough of
    the free bars (free: (bars, 5)) it misses that it does so in `share` of the bars where it plays beat 1 under a
    recognized chord (clashes first, then drawn, a bar by its notes and chord). How many bars moved."""
    if share is None:
        return 0
    bar = song.steps_per_bar
    beat = bar // BEATS_PER_BAR
    on = song.notes()  # as the take is exported
    chords = upper_chords(on, bar)
    hits = counted = 0
    clash, near = [], []
    for b, chord in enumerate(chords[: free.shape[0]]):
        pitch = beat_one_pitch(on[BASS, b * bar : (b + 1) * bar], beat) if chord is not None else None
        if pitch is None:
            continue
        counted += 1
        if pitch % 12 == chord.lowest:
            hits += 1
        elif free[b, BASS]:
            (near if pitch % 12 in chord.tones else clash).append(b)
    need = int(np.ceil(share * counted - 1e-9)) - hits
    if need <= 0:
        return 0

    def drawn(b: int) -> float:  # a bar's draw follows its notes and chord: a bar that comes back moves alike
        key = zlib.crc32(on[BASS, b * bar : (b + 1) * bar].tobytes() + str(chords[b]).encode())
        return float(np.random.default_rng([int(seed), 41, key]).random())

    order = sorted(clash, key=drawn) + sorted(near, key=drawn)
    for b in order[:need]:
        _move_note(song.probs[BASS], on[BASS], b * bar, beat, bar, free[:, BASS], chords[b])
    return min(need, len(order))


def _move_note(probs: np.ndarray, on: np.ndarray, lo: int, beat: int, bar: int, free: np.ndarray, chord) -> None:
    """In place on the bass's probabilities (steps, 128): the note at the first sounding step of the beat from `lo`
    (its lowest pitch), from there to its end (within free bars), moves to the chord's bass note at the nearest
    octave, whole, so no note starts inside it (a held last chord stays one hit)."""
    step = next(t for t in range(lo, lo + beat) if on[t].any())
    pitch = int(np.flatnonzero(on[step])[0])
    end = step
    while end < len(on) and on[end, pitch] and free[min(end // bar, len(free) - 1)]:
        end += 1
    target = int(chord_map(chord, root=True)[pitch])
    cells = probs[step:end]
    cells[:, target] = np.maximum(cells[:, target], cells[:, pitch])
    cells[:, pitch] = 0.0
