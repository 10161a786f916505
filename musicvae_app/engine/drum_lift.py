"""A chorus's drums lift as a drummer's do: more of each part of the kit, by the training songs' amounts.

Real songs' fuller 8-bar blocks over their lighter ones (the pack's `energy.json`, `drum_contrast`, learned by
training/energy.py from the training songs: evaluation/energy_rows.drum_contrast) play more kick (x1.47), more
backbeat (x1.49: fills, ghost notes, a doubled snare), more hats and ride (x1.3: 16ths where the verse played
8ths), more toms (x1.6) and crashes (x1.7), and more percussion. Before this, a section of energy 4-5 lifted the
drums as one lane by the fifths' step (x1.09) and its hats opened (energy.shape), so the chorus played the verse's
hits with other cymbals: x1.04-1.06 notes a bar chorus over verse against real songs' x1.43.

Here each part's rate is what the drums play in the take's level-3 sections (the verses; without one, over the
take), and a lifted section's target for the part is that rate x the part's contrast (level 5: x the fifths' step
from 4 to 5 as well). energy.density then brings each part's hits there by one logit shift of that part's pitches
alone: the hits the model was next surest of come in (the hats' off-beat 16ths, a second kick, a fill's snare), in
the part where a drummer adds them, never a hit the model gave no chance; the kit's surest kick and backbeat stay.
A level-3 section and the lighter ones keep the whole lane's step (energy.density).
"""

from __future__ import annotations

import numpy as np

from ..evaluation.energy_rows import DRUM_GROUPS, OTHER_DRUMS

NAMES = (*DRUM_GROUPS, OTHER_DRUMS)
MIDDLE = 3  # the level whose drums are the mark (a verse)


def pitch_sets() -> list[np.ndarray]:
    """The drum pitches (0-127) of each part of the kit, NAMES' order; the last is every pitch not in another."""
    named = [np.array(sorted(set(p) & set(range(128))), dtype=int) for p in DRUM_GROUPS.values()]
    rest = np.setdiff1d(np.arange(128), np.concatenate(named))
    return [*named, rest]


def figures(energy: dict, level: int) -> np.ndarray | None:
    """Each part's notes a bar at `level` (4-5) over level 3's: the learned contrast, x the fifths' step from level 4
    to `level` (the drums' row of `notes`); None where the table has no drum contrast or the level is not lifted."""
    contrast = energy.get("drum_contrast") or {}
    if level <= MIDDLE or not contrast:
        return None
    row = (energy.get("notes") or {}).get("drums")
    step = 1.0
    if row and len(row) >= 5 and row[3] > 0:
        step = float(row[min(level, 5) - 1]) / float(row[3])
    return np.array([float(contrast.get(name, 1.0)) * step for name in NAMES])


def rates(
    drums: np.ndarray, sections, free: np.ndarray, n_bars: int, threshold: float, spb: int, mean: float = 1.0
) -> np.ndarray:
    """(parts, B): each part's hits a bar in drums (B, steps, 128) over the take's level-3 sections' free bars: the
    verse a chorus lifts from; where there are none, over all free bars / `mean` (the sections' mean figure, as
    energy.density reads a lane's level-3 rate off the take's). free: (bars,) bool, the drums."""
    bars = np.zeros(n_bars, dtype=bool)
    for sec in sections:
        if sec.level == MIDDLE:
            bars[sec.start - 1 : min(sec.end, n_bars)] = True
    bars &= free[:n_bars]
    if not bars.any():
        bars = free[:n_bars].copy()
    else:
        mean = 1.0
    out = np.zeros((len(NAMES), drums.shape[0]))
    if not bars.any():
        return out
    rows = np.repeat(bars, spb)
    on = drums[:, : n_bars * spb][:, rows] >= threshold  # (B, steps, 128)
    for i, pitches in enumerate(pitch_sets()):
        out[i] = on[..., pitches].sum(axis=(1, 2)) / bars.sum()
    return out / mean
