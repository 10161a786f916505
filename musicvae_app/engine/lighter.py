"""A lighter section plays lighter, after the roles: an intro never fuller than its verse.

`energy.density` sets each section's notes a bar before the roles (roles.py, form_roles.py) lay phrases of piano
and guitar out, and the roles lay out where the other comper plays on: in a 4-bar light intro whose piano seldom
plays every bar beside a guitar that does, they lay out less than in the verses, so the piano's intro ended up
fuller than its verse (notes a bar intro over verse 1.06 under a chart with the form intro 4 / verse 8 / chorus 8 /
verse 8 / chorus 8 / outro 4, against the table's level 2 over 3: 0.84). `settle` thins, lane by lane, each
section level whose notes a bar exceed those of a fuller level's sections x the table's figure between the two
levels (energy.notes_at), by one logit shift toward that (energy.fit_shift); it only thins, and a level the lane
does not play in (laid out, sat out) sets no bound.
"""

from __future__ import annotations

import numpy as np

from ..lanes import DRUMS
from .energy import _shifted, decoded_starts, fit_shift, notes_at


def settle(probs: np.ndarray, sections, free: np.ndarray, threshold: float, spb: int, energy: dict, decoding) -> int:
    """In place on probs (5, B, steps, 128) after the roles: per pitched lane and variation, each section level
    playing more notes a bar than any fuller level's x notes_at(lower) / notes_at(fuller) comes down to the least
    of those bounds. free: (bars, 5); decoding: per lane (fill, sustain, restrike) (energy.decoding_of). How many
    (lane, variation, level) were thinned."""
    if not sections or not energy:
        return 0
    n_bars = min(free.shape[0], probs.shape[2] // spb)
    levels = sorted({s.level for s in sections})
    if len(levels) < 2:
        return 0
    done = 0
    for lane in range(DRUMS):
        how = decoding[lane] if decoding is not None else None
        rows = {}
        for level in levels:
            bars = np.zeros(n_bars, dtype=bool)
            for s in sections:
                if s.level == level:
                    bars[s.start - 1 : min(s.end, n_bars)] = True
            rows[level] = np.repeat(bars & free[:n_bars, lane], spb)
        for b in range(probs.shape[1]):
            part = probs[lane, b, : n_bars * spb]
            rate = {}
            for level in levels:
                if rows[level].any():
                    rate[level] = decoded_starts(part[rows[level]], threshold, how, spb, False) / (
                        rows[level].sum() / spb
                    )
            for level in sorted(rate, reverse=True):  # the fuller levels settle first
                mine = notes_at(energy, lane, level)
                bounds = [
                    rate[up] * mine / notes_at(energy, lane, up)
                    for up in rate
                    if up > level and rate[up] > 0 and mine and notes_at(energy, lane, up)
                ]
                if not bounds or rate[level] <= min(bounds):
                    continue
                cells = part[rows[level]]
                target = min(bounds) * rows[level].sum() / spb
                shift = fit_shift(cells, target, threshold, how, spb, False)
                if shift >= 0:
                    continue
                moved = _shifted(cells, shift)
                kept = (cells >= threshold) & (moved >= threshold)  # a note sounding either way keeps its confidence
                part[rows[level]] = np.where(kept, cells, np.minimum(moved, cells))
                rate[level] = decoded_starts(part[rows[level]], threshold, how, spb, False) / (rows[level].sum() / spb)
                done += 1
    return done
