"""Grooves that come back under changing chords, and who comps: figures on binary rolls and their chords.

A real bass holds its riff when a chord of the progression changes: the same rhythm and shape, the bar of the new
chord moved to its root. `moved_repetition` counts a lane's 4-bar chunks that replay the earlier chunk sharing most
of their chords once each bar of another chord is moved by the difference of the two roots (the same chords: an
exact return). `comping` says, of the bars of pieces whose band has both a piano and a guitar, how many both
play, one plays alone, or neither. numpy only; chords are one `chords.Chord` or None a bar, as in
`playing_metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..sketch.song import LANES
from .metrics import _pct
from .playing_metrics import NEAR_CHUNK, SAME_CHUNK

PIANO, GUITAR = LANES.index("piano"), LANES.index("guitar")


def rhythm_key(chords: Sequence) -> tuple:
    """A chunk's chord rhythm: per bar, whether it has a chord and whether it differs from the bar before (the
    first bar always counts as a change): (has, changes) tuples."""
    out = []
    for i, c in enumerate(chords):
        out.append((c is not None, i == 0 or c != chords[i - 1]))
    return tuple(out)


def root_moves(source: Sequence, target: Sequence) -> list[int]:
    """Per bar, the semitones (-6..5) that move the source bar's chord root onto the target's (0 where the chords
    are the same or either bar has none)."""
    return [0 if s == t or s is None or t is None else (t.root - s.root + 6) % 12 - 6 for s, t in zip(source, target)]


def same_bars(source: Sequence, target: Sequence) -> int:
    """How many bars of two chunks have the same chord (or both none)."""
    return sum(s == t for s, t in zip(source, target))


def moved_cells(chunk: np.ndarray, moves: Sequence[int]) -> np.ndarray:
    """A (steps, 128) chunk with each bar's pitches moved by its move (notes past 0-127 are dropped)."""
    out = np.zeros_like(chunk)
    bar = chunk.shape[0] // len(moves)
    for i, m in enumerate(moves):
        rows = slice(i * bar, (i + 1) * bar)
        if m > 0:
            out[rows, m:] = chunk[rows, :-m]
        elif m < 0:
            out[rows, :m] = chunk[rows, -m:]
        else:
            out[rows] = chunk[rows]
    return out


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = int((a | b).sum())
    return int((a & b).sum()) / union if union else 0.0


def _same(a: np.ndarray, b: np.ndarray, same: float) -> bool:
    union = int((a | b).sum())
    return union > 0 and int((a & b).sum()) >= same * union


def _chunks(lane: np.ndarray, chords: Sequence, chunk_bars: int) -> tuple[list[np.ndarray], list[list]]:
    """A lane (steps, 128) cut into whole chunks of `chunk_bars` bars, with each chunk's chords (a bar each)."""
    bar = lane.shape[0] // max(len(chords), 1)
    n = len(chords) // chunk_bars
    steps = bar * chunk_bars
    cells = [lane[c * steps : (c + 1) * steps] for c in range(n)]
    return cells, [list(chords[c * chunk_bars : (c + 1) * chunk_bars]) for c in range(n)]


def returns(lane: np.ndarray, chords: Sequence, chunk_bars: int, same: float = SAME_CHUNK) -> list[tuple[int, bool]]:
    """For one piece's lane (steps, 128) and its chords (a bar each): per sounding chunk after the first, (k, back):
    k, the most bars of the same chord any earlier sounding chunk shares with it (-1 when none shares a bar or the
    chord rhythm); back, whether the lane replays one of those chunks, its other bars moved to their new roots."""
    cells, chunk_chords = _chunks(lane, chords, chunk_bars)
    out = []
    for c in range(1, len(cells)):
        if not cells[c].any():
            continue
        best, back = -1, False
        for e in range(c):
            if not cells[e].any():
                continue
            k = same_bars(chunk_chords[e], chunk_chords[c])
            if k == 0 and rhythm_key(chunk_chords[e]) != rhythm_key(chunk_chords[c]):
                k = -1
            if k < best or k < 0:
                continue
            ok = _same(moved_cells(cells[e], root_moves(chunk_chords[e], chunk_chords[c])), cells[c], same)
            back = ok if k > best else back or ok
            best = k
        out.append((best, back))
    return out


def return_kinds(
    lane: np.ndarray, chords: Sequence, chunk_bars: int, moves: bool = True, near: float = NEAR_CHUNK
) -> list[tuple[int, bool, bool, bool]]:
    """For one piece's lane (steps, 128) and its chords (a bar each): per sounding chunk after the first, (k, near,
    exact, moved): k, the most bars of the same chord any earlier sounding chunk shares with it (0-chunk_bars);
    near / exact, whether the lane replays one of those chunks with on-cell Jaccard >= `near` / >= SAME_CHUNK, as it
    was or with its bars of other chords moved to their new roots (moves False: as it was, the drums); moved,
    whether the moved chunk matches better than as it was."""
    cells, chunk_chords = _chunks(lane, chords, chunk_bars)
    out = []
    for c in range(1, len(cells)):
        if not cells[c].any():
            continue
        earlier = [e for e in range(c) if cells[e].any()]
        if not earlier:
            continue
        shared = {e: same_bars(chunk_chords[e], chunk_chords[c]) for e in earlier}
        best = max(shared.values())
        as_was = moved = 0.0
        for e in (e for e in earlier if shared[e] == best):
            as_was = max(as_was, _jaccard(cells[e], cells[c]))
            if moves and best < chunk_bars:
                shifted = moved_cells(cells[e], root_moves(chunk_chords[e], chunk_chords[c]))
                moved = max(moved, _jaccard(shifted, cells[c]))
        top = max(as_was, moved)
        out.append((best, top >= near, top >= SAME_CHUNK, moved > as_was))
    return out


def moved_repetition(lane_rolls: np.ndarray, chords: Sequence, chunk_bars: int = 4, same: float = SAME_CHUNK) -> float:
    """% of a lane's sounding chunks (after each piece's first) that replay the earlier chunk sharing most of their
    chords, the bars of other chords moved to their roots (all the same: exactly). lane_rolls: (pieces, steps,
    128); chords: one list a piece."""
    rows = [r for roll, ch in zip(lane_rolls, chords) for r in returns(roll, ch, chunk_bars, same)]
    return _pct(sum(1 for _, back in rows if back), len(rows))


def comping(rolls: np.ndarray, bar_steps: int, start_bar: int = 0) -> dict[str, float] | None:
    """Of the bars from `start_bar` on of the pieces (pieces, 5, steps, 128) whose piano and guitar both play
    somewhere, % where both play, the piano alone, the guitar alone, neither; and how many pieces. None when no
    piece has both."""
    both = []
    for piece in rolls:
        bars = piece[[PIANO, GUITAR]].reshape(2, -1, bar_steps, piece.shape[-1]).any(axis=(2, 3))[:, start_bar:]
        if bars[0].any() and bars[1].any():
            both.append(bars)
    if not both:
        return None
    p, g = np.concatenate([b[0] for b in both]), np.concatenate([b[1] for b in both])
    n = len(p)
    return {
        "both": _pct(int((p & g).sum()), n),
        "piano_alone": _pct(int((p & ~g).sum()), n),
        "guitar_alone": _pct(int((~p & g).sum()), n),
        "neither": _pct(int((~p & ~g).sum()), n),
        "pieces": float(len(both)),
    }


KICKS, SNARES = (35, 36), (38, 40)  # as engine/groove.py strikes on them
DRUMS = LANES.index("drums")
# the drum hits each lane's held notes may be struck again on (engine/groove.Groove.restrike)
STRIKE_ON = {PIANO: KICKS, GUITAR: KICKS + SNARES, LANES.index("bass"): KICKS}
HELD_BEFORE = 2  # steps a note sounds before the step before the hit, to count as held into it


def beat_restrikes(roll: np.ndarray, bar_steps: int = 16) -> np.ndarray:
    """(lanes, 2) per lane: (notes held into a drum hit the lane's restrike rule strikes on, of them struck again
    there) of a (5, steps, 128) band roll. A note is held into the hit at step t when its pitch sounds at
    t - 3 and t - 2 and at t; struck again when it is silent at t - 1 (the one-step gap the export, and our
    restrike, leave; a note restarted with no gap reads as held). Bar lines are not counted (every bar line
    strikes again). Lanes with no rule: zeros."""
    out = np.zeros((len(LANES), 2))
    drums = roll[DRUMS]
    for lane, hits in STRIKE_ON.items():
        hit = drums[:, list(hits)].any(axis=1)
        start = hit & ~np.concatenate([[False], hit[:-1]])
        where = np.flatnonzero(start)
        where = where[(where >= HELD_BEFORE + 1) & (where % bar_steps != 0)]
        if not len(where):
            continue
        part = roll[lane]
        held = part[where - 3] & part[where - 2] & part[where]
        out[lane] += (int(held.sum()), int((held & ~part[where - 1]).sum()))
    return out
