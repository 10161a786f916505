"""Ghost notes on the snare: soft hits between the backbeats, where the model half-hears a snare.

Real drummers play about 3 % of their snare hits as ghost notes (band-midi's training songs: under 0.6 x the
song's snare median), almost all on the 16ths between the 8ths. The model plays the backbeat and fills surely
and leaves those cells under the threshold, so a take had none. After every other stage, in the drum bars the
take may change that play a backbeat (a snare on beat 2 or 4), each snare cell on an off-8th 16th whose
probability is at least the table's `ghost_floor` x the threshold becomes a note just over the threshold:
the least sure snare hit at its position, which theory/dynamics.py plays at the real low tail (a ghost note).
`ghost_floor` is measured by training/dynamics.py so that our share of ghost notes is real songs' share.
"""

from __future__ import annotations

import numpy as np

from ..lanes import DRUMS
from ..theory.dynamics import SNARES, table

LIFT = 1e-3  # over the threshold: a note the model is least sure of


def floor() -> float | None:
    """The shipped ghost floor (a share of the threshold), None where the table has none (ghosts off)."""
    return table().get("ghost_floor")


def candidates(probs: np.ndarray, free: np.ndarray, threshold: float, bar: int) -> np.ndarray:
    """(B, steps, 128) float: the snare probability of each off-8th 16th under the threshold in a changeable drum
    bar that plays a backbeat; 0 elsewhere. probs: (5, B, steps, 128); free: (bars, 5) bool; bar: steps a bar."""
    drums = probs[DRUMS]
    out = np.zeros_like(drums)
    spb = bar // 4
    if spb < 4 or spb % 4:
        return out  # no 16ths on this grid
    n_bars = min(free.shape[0], drums.shape[1] // bar)
    sixteenth, beat = spb // 4, spb
    off = np.zeros(bar, dtype=bool)
    off[sixteenth :: 2 * sixteenth] = True  # the 16ths between the 8ths
    backbeat = [beat, 3 * beat]
    for b in range(n_bars):
        if not free[b, DRUMS]:
            continue
        cells = drums[:, b * bar : (b + 1) * bar]
        plays = (cells[:, backbeat][..., list(SNARES)] >= threshold).any(axis=(1, 2))  # (B,)
        for pitch in SNARES:
            p = cells[:, :, pitch]
            out[:, b * bar : (b + 1) * bar, pitch] = np.where(off[None] & plays[:, None] & (p < threshold), p, 0.0)
    return out


def lift(probs: np.ndarray, free: np.ndarray, threshold: float, bar: int, share: float | None = None) -> int:
    """In place: the candidate cells at or over `share` (default: the table's ghost_floor) x the threshold become
    notes just over it. How many were lifted."""
    share = floor() if share is None else share
    if share is None:
        return 0
    cand = candidates(probs, free, threshold, bar)
    hit = cand >= share * threshold
    if threshold + LIFT >= 1.0:
        return 0
    probs[DRUMS][hit] = threshold + LIFT
    return int(hit.sum())
