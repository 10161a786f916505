"""Ghost notes on the snare: soft hits between the backbeats, where the model half-hears a snare.

Real drummers play about 3 % of their snare hits as ghost notes (band-midi's training songs: under 0.6 x the
song's snare median), almost all on the 16ths between the 8ths. The model plays the backbeat and fills surely
and leaves those cells under the threshold, so a take had none. After every other stage, in the drum bars the
take may change that play a backbeat (a snare on beat 2 or 4), each snare cell on an off-8th 16th whose
probability is at least the pack's `ghost_floor` (its dynamics.json) x the threshold becomes a note just over
the threshold: the least sure snare hit at its position, which theory/dynamics.py plays at the real low tail
(a ghost note). `ghost_floor` is measured by training/dynamics.py so that our share of ghost notes is real songs' share.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..lanes import DRUMS
from ..theory.dynamics import DYNAMICS_FILE, SNARES

LIFT = 1e-3  # over the threshold: a note the model is least sure of


@lru_cache(maxsize=8)
def floor(pack_folder: str | None) -> float | None:
    """The ghost floor (a share of the threshold) measured for the pack in `pack_folder` (its dynamics.json), None
    where it has none (no ghost notes: a pack's floor holds for its own probabilities only)."""
    path = Path(pack_folder) / DYNAMICS_FILE if pack_folder else None
    if path is None or not path.is_file():
        return None
    try:
        return json.loads(path.read_text()).get("ghost_floor")
    except (OSError, ValueError):
        return None


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


def lift(probs: np.ndarray, free: np.ndarray, threshold: float, bar: int, share: float | None) -> int:
    """In place: the candidate cells at or over `share` (the pack's ghost floor; None: none) x the threshold become
    notes just over it. How many were lifted."""
    if share is None:
        return 0
    cand = candidates(probs, free, threshold, bar)
    hit = cand >= share * threshold
    if threshold + LIFT >= 1.0:
        return 0
    probs[DRUMS][hit] = threshold + LIFT
    return int(hit.sum())
