"""Where a typed chart clashes with the musician's own part: a simple, explainable measure for the chord lane.

numpy only. For each bar, the part's pitched notes are weighed by how long they sound (one cell a grid step, a
struck cell counted double, as chords.bar_chroma weighs them), beat by beat against that beat's chord of the
chart; the bar's clash is the share of that weight on notes outside the chord's tones. Passing notes in a
melody sit outside the chord for a fraction of the time; a part playing another harmony sits outside most of
the time, so a bar is marked where at least CLASH_SHARE of the part is outside the chart's chord (and the part
plays at least MIN_CELLS cells there: one short note says little).
"""

from __future__ import annotations

import numpy as np

from ..lanes import BEATS_PER_BAR, DRUMS
from .chords import Chord

CLASH_SHARE = 0.5
MIN_CELLS = 3


def bar_clashes(
    bars: list[tuple[Chord | None, ...]], roll: np.ndarray, lanes: list[int], steps_per_beat: int
) -> list[float | None]:
    """Per bar of `roll` (5, steps, 128) bool: the share of the part's notes (its pitched `lanes`) outside the
    chart's chords (`bars`: each bar's chords, one a beat, as chords.parse_bars gives them, repeated to the
    take's length); None where the part plays too little or the chart has no chord."""
    pitched = [lane for lane in lanes if lane != DRUMS]
    steps_per_bar = steps_per_beat * BEATS_PER_BAR
    n_bars = roll.shape[1] // steps_per_bar
    out: list[float | None] = []
    if not pitched or not bars:
        return [None] * n_bars
    part = roll[pitched].any(axis=0)  # (steps, 128)
    struck = part & ~np.vstack([np.zeros((1, part.shape[1]), bool), part[:-1]])
    weight = part.astype(np.float64) + struck  # a struck cell counts double
    pcs = np.arange(part.shape[1]) % 12
    for bar in range(n_bars):
        chords = bars[bar % len(bars)]
        inside = outside = 0.0
        for beat, chord in enumerate(chords):
            lo = bar * steps_per_bar + beat * steps_per_bar // len(chords)
            hi = bar * steps_per_bar + (beat + 1) * steps_per_bar // len(chords)
            w = weight[lo:hi].sum(axis=0)
            if chord is None:
                continue
            tones = np.isin(pcs, chord.tones)
            inside += float(w[tones].sum())
            outside += float(w[~tones].sum())
        cells = int(part[bar * steps_per_bar : (bar + 1) * steps_per_bar].sum())
        total = inside + outside
        out.append(None if cells < MIN_CELLS or total == 0 else outside / total)
    return out


def clash_bars(shares: list[float | None]) -> list[int]:
    """The bars (1-based) whose share outside the chart reaches CLASH_SHARE."""
    return [bar + 1 for bar, share in enumerate(shares) if share is not None and share >= CLASH_SHARE]
