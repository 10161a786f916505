"""The pictures a lane of the roll draws: which pitch rows it shows, and its notes as an image of LUT indices
(the model's grid, or the musician's notes as played). numpy only; lanes_view.py draws them."""

from __future__ import annotations

import numpy as np

from ..sketch.midi import GM_DRUM_RANGE

MIN_MELODIC_ROWS = 13


def lane_rows(probs: np.ndarray, threshold: float, drums: bool) -> np.ndarray:
    """The pitches a lane shows, bottom to top: the range it uses (melodic) or the drums it hits."""
    used = np.flatnonzero((probs >= threshold).any(axis=0))
    if drums:  # the GM kit only, as the export plays it
        used = used[(used >= GM_DRUM_RANGE[0]) & (used <= GM_DRUM_RANGE[1])]
        return used if len(used) else np.array([36, 38, 42], dtype=np.int64)
    if not len(used):
        return np.arange(48, 48 + MIN_MELODIC_ROWS)
    lo, hi = int(used[0]) - 1, int(used[-1]) + 1
    if hi - lo + 1 < MIN_MELODIC_ROWS:
        lo = max(0, (lo + hi) // 2 - MIN_MELODIC_ROWS // 2)
        hi = lo + MIN_MELODIC_ROWS - 1
    return np.arange(max(lo, 0), min(hi, 127) + 1)


def lane_image(
    probs: np.ndarray, rows: np.ndarray, threshold: float, notes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """LUT indices (steps, len(rows)) uint8 for one lane's (steps, 128) probabilities, and the note starts.

    notes: the lane's note cells as the song decodes them (density, sustain); default probs >= threshold.
    """
    sub = probs[:, rows]
    on = sub >= threshold if notes is None else notes[:, rows]
    shade = np.clip((sub - threshold) * (254.0 / max(1.0 - threshold, 1e-6)), 0, 254).astype(np.uint8) + 1
    onset = on.copy()
    onset[1:] &= ~on[:-1]
    return np.where(on, shade, np.uint8(0)), onset


PLAYED_TICKS = 30  # a lane the musician played is drawn on a 1/16-beat grid (30 of the export's 480 ticks a beat)


def played_image(notes, rows: np.ndarray, n_ticks: int) -> tuple[np.ndarray, np.ndarray]:
    """LUT indices (columns, len(rows)) and note starts of notes as played ((pitch, start tick, end tick,
    velocity), midi.lane_ticks), a column every PLAYED_TICKS: off-grid times, lengths and re-strikes as played,
    the shade following the velocity."""
    cols = max(-(-n_ticks // PLAYED_TICKS), 1)
    image = np.zeros((cols, len(rows)), dtype=np.uint8)
    onset = np.zeros((cols, len(rows)), dtype=bool)
    row_of = {int(p): i for i, p in enumerate(rows)}
    for pitch, start, end, velocity in notes:
        r = row_of.get(int(pitch))
        if r is None or start >= n_ticks:
            continue
        a = start // PLAYED_TICKS
        b = min(max(-(-end // PLAYED_TICKS), a + 1), cols)
        shade = np.uint8(40 + round(velocity * 215 / 127))
        image[a:b, r] = np.maximum(image[a:b, r], shade)
        onset[a, r] = True
    return image, onset
