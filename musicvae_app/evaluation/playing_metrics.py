"""How a band plays, measured on binary rolls: loops, held notes, busyness, bass roots, fills, chords, kept parts.

The MuseGAN set in `metrics.py` says whether notes look like music; these say whether the parts play
like a band: does a part loop one 4-bar chunk for ever, does the bass land on the chord's root on
beat 1, does the drummer fill into a new phrase and crash on its downbeat, do the notes fit the
chords asked for, and does a part that was meant to be kept come out unchanged. numpy only.

Rolls are a lane (steps, 128) or a band (5, steps, 128), or stacks of them (..., steps, 128); stacked
pieces are pooled, never joined in time. Chords are a list with one `chords.Chord` or None a bar
(for a stack, one such list per piece in the stack's order). Shares are percentages, NaN where there
is nothing to measure, as in `metrics.py`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import InvalidValue
from ..sketch.song import BEATS_PER_BAR, DRUMS, LANES, PITCHES
from ..theory.chords import Chord, beat_one_pitch, recognize
from ..theory.chords import upper_chords as chords_above_bass
from .metrics import _band, _lane, _mean, _pct, bars, note_lengths, onsets

PITCHED = tuple(i for i in range(len(LANES)) if i != DRUMS)
BASS = LANES.index("bass")
NEAR_CHUNK = 0.6  # ... at least this: the same chunk played again with a variation
SAME_CHUNK = 0.9  # two chunks whose on-cells have a Jaccard similarity at least this are the same chunk played again
TOMS = (41, 43, 45, 47, 48, 50)  # GM low floor tom .. high tom
SNARES = (38, 40)  # GM acoustic and electric snare
CRASHES = (49, 57, 52, 55)  # GM crash 1 and 2, Chinese, splash
FILL_BEATS = 2  # a fill is in the bar's last two beats
FILL_TOMS = 2  # tom hits in those beats, at least this many more than the song's usual there, make a fill
FILL_HITS = 4  # snare and tom hits there, at least this many and twice the song's usual, make a fill
PHRASES = (4, 8)  # phrase lengths in bars whose last bar is a phrase end

ChordList = Sequence[Chord | None]


def _pieces(roll: np.ndarray, chords: Sequence, core: int) -> tuple[np.ndarray, list]:
    """The stack flattened to (pieces, *core dims) and one chord list per piece.

    A single piece (roll.ndim == core) takes one chord list; a stack takes one list per piece.
    """
    flat = roll.reshape(-1, *roll.shape[roll.ndim - core :])
    per_piece = [list(chords)] if roll.ndim == core else [list(c) for c in chords]
    if len(per_piece) != flat.shape[0]:
        raise InvalidValue(f"give one chord list per piece: {flat.shape[0]} pieces, {len(per_piece)} chord lists")
    return flat, per_piece


def _jaccard_repeats(cells: np.ndarray, same: float) -> tuple[int, int]:
    """(repeated, counted) consecutive chunk pairs of (pieces, n_chunks, cells); pairs of two silent chunks skip."""
    a, b = cells[:, :-1], cells[:, 1:]
    inter = (a & b).sum(axis=-1)
    union = (a | b).sum(axis=-1)
    counted = union > 0
    repeated = counted & (inter >= same * union)
    return int(repeated.sum()), int(counted.sum())


def _chunk_cells(roll: np.ndarray, chunk_steps: int, time_axis: int) -> np.ndarray:
    n = roll.shape[time_axis] // chunk_steps
    roll = np.take(roll, np.arange(n * chunk_steps), axis=time_axis)
    roll = np.moveaxis(roll, time_axis, 1)  # (pieces, steps, ...)
    return roll.reshape(roll.shape[0], n, -1)


def chunk_repetition(roll: np.ndarray, chunk_steps: int, same: float = SAME_CHUNK) -> float:
    """Loop share: % of consecutive 4-bar chunks of a lane that replay the chunk before (on-cell Jaccard >= same).

    Pairs where both chunks are silent are not counted: a part that rests is not looping.
    """
    roll = _lane(roll)
    flat = roll.reshape(-1, *roll.shape[-2:])
    return _pct(*_jaccard_repeats(_chunk_cells(flat, chunk_steps, 1), same))


def earlier_repetition(roll: np.ndarray, chunk_steps: int, same: float = SAME_CHUNK) -> float:
    """Grooves that come back: % of a lane's 4-bar chunks (after each piece's first) that replay ANY earlier chunk
    of the piece (on-cell Jaccard >= same: 0.9 a repeat, 0.6 a repeat with variation). Silent chunks are not
    counted (a part that rests is not repeating), nor are silent earlier chunks matches."""
    roll = _lane(roll)
    flat = roll.reshape(-1, *roll.shape[-2:])
    cells = _chunk_cells(flat, chunk_steps, 1)  # (pieces, chunks, cells)
    repeated = counted = 0
    for piece in cells:
        sizes = piece.sum(axis=1)
        for c in range(1, len(piece)):
            if not sizes[c]:
                continue
            counted += 1
            before = piece[:c][sizes[:c] > 0]
            if len(before):
                inter = (before & piece[c]).sum(axis=1)
                union = (before | piece[c]).sum(axis=1)
                repeated += bool((inter >= same * union).any())
    return _pct(repeated, counted)


def band_repetition(rolls: np.ndarray, chunk_steps: int, same: float = SAME_CHUNK) -> float:
    """Loop share of the whole band: every lane's on-cells of a chunk taken as one set."""
    rolls = _band(rolls)
    flat = rolls.reshape(-1, *rolls.shape[-3:])
    return _pct(*_jaccard_repeats(_chunk_cells(flat, chunk_steps, 2), same))


def long_notes(roll: np.ndarray, steps_per_beat: int) -> float:
    """Held notes: % of a lane's notes lasting a whole bar or longer."""
    lengths = note_lengths(roll)
    return _pct(int((lengths >= steps_per_beat * BEATS_PER_BAR).sum()), lengths.size)


def onsets_per_bar(roll: np.ndarray, steps_per_beat: int, playing_only: bool = False) -> float:
    """Busyness: mean note starts per bar, over every bar or (playing_only) the bars where any note sounds.

    `metrics.notes_per_bar` averages over bars with a note start; here a bar of one held note counts
    as a playing bar with no start.
    """
    split = bars(roll, steps_per_beat)
    per_bar = bars(onsets(roll), steps_per_beat).sum(axis=(-2, -1)).astype(float)
    if playing_only:
        per_bar = per_bar[split.any(axis=(-2, -1))]
    return _mean(per_bar.ravel())


def _bass_root_counts(bass: np.ndarray, chords: ChordList, steps_per_beat: int) -> tuple[int, int]:
    hits = counted = 0
    for bar, chord in zip(bars(bass, steps_per_beat), chords):
        if chord is None or not bar.any():
            continue
        counted += 1
        pitch = beat_one_pitch(bar, steps_per_beat)
        hits += pitch is not None and pitch % 12 == chord.lowest
    return hits, counted


def bass_on_root(bass: np.ndarray, chords: Sequence, steps_per_beat: int) -> float:
    """Bass on the root: % of bars (with a chord, where the bass plays) whose beat-1 bass note has the
    pitch class the chord wants in the bass (Chord.lowest: the slash bass, else the root).

    A bar where the bass plays but not in its first beat counts as a miss.
    """
    flat, per_piece = _pieces(_lane(bass), chords, 2)
    counts = np.array([_bass_root_counts(p, c, steps_per_beat) for p, c in zip(flat, per_piece)]).reshape(-1, 2)
    return _pct(int(counts[:, 0].sum()), int(counts[:, 1].sum()))


def fill_bars(drums: np.ndarray, steps_per_beat: int) -> np.ndarray:
    """Which bars of one drum part (steps, 128) end in a fill: bool (n_bars,).

    A drummer's fill: in the bar's last two beats, tom hits where the groove has none (at least
    FILL_TOMS more than the part's median there), or a snare-and-tom burst of at least FILL_HITS hits and
    twice the part's median there. Each drum cell is one hit; medians run over the bars the drums play.
    """
    split = bars(_lane(drums), steps_per_beat)
    tail = split[:, -FILL_BEATS * steps_per_beat :]
    toms = tail[..., list(TOMS)].sum(axis=(-2, -1))
    hits = toms + tail[..., list(SNARES)].sum(axis=(-2, -1))
    playing = split.any(axis=(-2, -1))
    if not playing.any():
        return np.zeros(len(split), dtype=bool)
    usual_toms, usual_hits = np.median(toms[playing]), np.median(hits[playing])
    by_toms = toms >= max(FILL_TOMS, usual_toms + FILL_TOMS)
    by_burst = hits >= max(FILL_HITS, 2 * usual_hits)
    return playing & (by_toms | by_burst)


def crash_bars(drums: np.ndarray, steps_per_beat: int) -> np.ndarray:
    """Which bars of one drum part (steps, 128) start with a crash (or splash, China) on beat 1: bool (n_bars,)."""
    return bars(_lane(drums), steps_per_beat)[:, 0, list(CRASHES)].any(axis=-1)


def phrase_offset(crashes: np.ndarray, bars_per_phrase: int) -> int:
    """Where a part's phrases start (bar index mod bars_per_phrase): the position its crashes fall on most.

    Real files do not always start a phrase on bar 1 (a pickup, an intro of odd length), but a drummer
    marks a new phrase with a crash. A part without crashes keeps the file's own bars (0).
    """
    per_position = np.bincount(np.arange(len(crashes))[crashes] % bars_per_phrase, minlength=bars_per_phrase)
    return int(np.argmax(per_position))


def phrase_fills(
    drums: np.ndarray, steps_per_beat: int, phrases: Sequence[int] = PHRASES, align: bool = True
) -> dict[str, float]:
    """Fills at phrase ends: % of the last bars of each phrase length (where the drums play) that end in a fill,
    % of the other bars that do, and % of 4-bar phrase ends whose next bar opens with a crash.

    align: find each part's phrase starts from its crashes (phrase_offset), else count phrases from the
    piece's first bar. Aligning picks the position with the most crashes, so it lifts the crash share of a
    part without phrases too (from its share of crashed bars toward the busiest position's); the fill
    shares at ends and elsewhere are what tells phrasing apart.
    """
    flat = _lane(drums).reshape(-1, *np.shape(drums)[-2:])
    counts = {f"fill_{n}": [0, 0] for n in phrases} | {"fill_elsewhere": [0, 0], "crash_after": [0, 0]}
    shortest = min(phrases)
    for part in flat:
        fills, crashes = fill_bars(part, steps_per_beat), crash_bars(part, steps_per_beat)
        playing = bars(part, steps_per_beat).any(axis=(-2, -1))
        index = np.arange(len(fills))
        last = {}
        for n in phrases:
            offset = phrase_offset(crashes, n) if align else 0
            last[n] = (index - offset) % n == n - 1
            counts[f"fill_{n}"][0] += int(fills[playing & last[n]].sum())
            counts[f"fill_{n}"][1] += int((playing & last[n]).sum())
        other = playing & ~last[shortest]
        counts["fill_elsewhere"][0] += int(fills[other].sum())
        counts["fill_elsewhere"][1] += int(other.sum())
        ends = np.flatnonzero(playing[:-1] & last[shortest][:-1])
        counts["crash_after"][0] += int(crashes[ends + 1].sum())
        counts["crash_after"][1] += ends.size
    return {name: _pct(*pair) for name, pair in counts.items()}


def same_chord(asked: Chord | None, heard: Chord | None) -> bool:
    """The band plays the asked chord: same root and same tone set (the slash bass is not compared)."""
    return asked is not None and heard is not None and asked.root == heard.root and set(asked.tones) == set(heard.tones)


def chord_accuracy(asked: Sequence, heard: Sequence) -> float:
    """% of bars with an asked chord where the chord heard is that chord (a silent bar is a miss).

    asked/heard: one chord list, or one list per piece.
    """
    if asked and isinstance(asked[0], list):
        pairs = [(a, h) for pa, ph in zip(asked, heard, strict=True) for a, h in zip(pa, ph)]
    else:
        pairs = list(zip(asked, heard))
    counted = [same_chord(a, h) for a, h in pairs if a is not None]
    return _pct(sum(counted), len(counted))


def _chord_tone_counts(band: np.ndarray, chords: ChordList, steps_per_beat: int) -> tuple[int, int]:
    starts = bars(onsets(band[list(PITCHED)]), steps_per_beat).sum(axis=(0, 2))  # (n_bars, 128) starts per pitch
    inside = total = 0
    for per_pitch, chord in zip(starts, chords):
        if chord is None:
            continue
        classes = np.zeros(132, dtype=int)
        classes[:PITCHES] = per_pitch
        by_class = classes.reshape(11, 12).sum(axis=0)
        inside += int(by_class[list(chord.tones)].sum())
        total += int(by_class.sum())
    return inside, total


def chord_tone_share(rolls: np.ndarray, chords: Sequence, steps_per_beat: int) -> float:
    """Chord tones: % of the pitched lanes' note starts, in bars with a chord, whose pitch class is in that chord."""
    flat, per_piece = _pieces(_band(rolls), chords, 3)
    counts = np.array([_chord_tone_counts(p, c, steps_per_beat) for p, c in zip(flat, per_piece)]).reshape(-1, 2)
    return _pct(int(counts[:, 0].sum()), int(counts[:, 1].sum()))


def band_chords(band: np.ndarray, steps_per_beat: int, lanes: Sequence[int] = PITCHED) -> list[Chord | None]:
    """The chord each bar of one band roll (5, steps, 128) plays on the given pitched lanes (chords.recognize)."""
    return recognize(np.asarray(band)[list(lanes)], steps_per_beat * BEATS_PER_BAR, drums=None)


def upper_chords(band: np.ndarray, steps_per_beat: int) -> list[Chord | None]:
    """The chords the band plays above the bass (the bass left out, slash dropped): what the bass should root
    (theory/chords.upper_chords, the one a free take's bass lands on: engine/free_bass.py)."""
    return chords_above_bass(band, steps_per_beat * BEATS_PER_BAR)


def kept_share(kept: np.ndarray, output: np.ndarray) -> float:
    """Kept part: % of the note cells of a part that was to be kept (lanes' rolls) that the output still has."""
    kept, output = np.asarray(kept, dtype=bool), np.asarray(output, dtype=bool)
    if kept.shape != output.shape:
        raise InvalidValue(
            f"the kept part and the output must have the same shape, got {kept.shape} and {output.shape}"
        )
    return _pct(int((kept & output).sum()), int(kept.sum()))


def lane_playing(roll: np.ndarray, steps_per_beat: int, chunk_steps: int, lane: int) -> dict[str, float]:
    """One lane's playing figures: loop share, held notes (pitched lanes), note starts per bar (all, playing)."""
    out = {
        "repetition": chunk_repetition(roll, chunk_steps),
        "comes_back": earlier_repetition(roll, chunk_steps),
        "comes_back_near": earlier_repetition(roll, chunk_steps, NEAR_CHUNK),
    }
    if lane != DRUMS:
        out["long_notes"] = long_notes(roll, steps_per_beat)
    out["onsets_per_bar"] = onsets_per_bar(roll, steps_per_beat)
    out["onsets_per_playing_bar"] = onsets_per_bar(roll, steps_per_beat, playing_only=True)
    return out


def lanes_per_bar(rolls: np.ndarray, steps_per_beat: int) -> float:
    """How many of the five lanes play (a note sounding) in a bar, on average over the bars of (pieces, 5, steps,
    128) rolls; bars where no lane plays count too (a break)."""
    bar = 4 * steps_per_beat
    n = rolls.shape[-2] // bar
    if not n:
        return math.nan
    playing = rolls[..., : n * bar, :].reshape(*rolls.shape[:-2], n, bar, 128).any(axis=(-2, -1))
    return float(playing.sum(axis=-2).mean())


def band_playing(rolls: np.ndarray, steps_per_beat: int, chunk_steps: int, chords: Sequence | None = None) -> dict:
    """Every playing figure of (pieces, 5, steps, 128) band rolls that start on a phrase's first bar.

    chords: one chord list per piece (what was asked); None: each piece's own chords, recognized from it.
    Bass on the root uses the asked chords, else the chords above the bass (`upper_chords`).
    """
    rolls = _band(rolls).reshape(-1, *np.shape(rolls)[-3:])
    lanes = {name: lane_playing(rolls[:, i], steps_per_beat, chunk_steps, i) for i, name in enumerate(LANES)}
    own = chords is None
    chords = [band_chords(p, steps_per_beat) for p in rolls] if own else list(chords)
    roots = [upper_chords(p, steps_per_beat) for p in rolls] if own else chords
    band = {
        "repetition": band_repetition(rolls, chunk_steps),
        "lanes_per_bar": lanes_per_bar(rolls, steps_per_beat),
        "bass_on_root": bass_on_root(rolls[:, BASS], roots, steps_per_beat),
        "chord_tones": chord_tone_share(rolls, chords, steps_per_beat),
        **phrase_fills(rolls[:, DRUMS], steps_per_beat),
    }
    return {"lanes": lanes, "band": band}
