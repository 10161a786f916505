"""A lighter section plays lighter, after the roles: an intro never fuller than its verse.

`energy.density` sets each section's notes a bar before the roles (roles.py, form_roles.py) lay phrases of piano
and guitar out, and the roles lay out where the other comper plays on: in a 4-bar light intro whose piano seldom
plays every bar beside a guitar that does, they lay out less than in the verses, so the piano's intro ended up
fuller than its verse (notes a bar intro over verse 1.06 under a chart with the form intro 4 / verse 8 / chorus 8 /
verse 8 / chorus 8 / outro 4, against the table's level 2 over 3: 0.84). `settle` thins, lane by lane, each
section level whose notes a bar exceed those of a fuller level's sections x the fifths' figure between the two
levels (the table's neighbouring fifths, without the verse-to-chorus `contrast`: a bound on the order, not the
density's target), by dropping the section's least sure notes until it is within the bound (energy.drop_weakest);
it only thins, and a level the lane does not play in (laid out, sat out) sets no bound.
"""

from __future__ import annotations

import numpy as np

from ..lanes import DRUMS
from .energy import decoded_starts, drop_weakest, notes_at


def settle(probs: np.ndarray, sections, free: np.ndarray, threshold: float, spb: int, energy: dict, decoding) -> int:
    """In place on probs (5, B, steps, 128) after the roles: per pitched lane and variation, each section level
    playing more notes a bar than any fuller level's x notes_at(lower) / notes_at(fuller) comes down to the least
    of those bounds. free: (bars, 5); decoding: per lane (fill, sustain, restrike) (energy.decoding_of). How many
    (lane, variation, section) were thinned."""
    if not sections or not energy or len({s.level for s in sections}) < 2:
        return 0
    n_bars = min(free.shape[0], probs.shape[2] // spb)
    done = 0
    for lane in range(DRUMS):
        how = decoding[lane] if decoding is not None else None
        own = []  # (level, the section's changeable cells in the lane)
        for sec in sections:
            bars = np.zeros(n_bars, dtype=bool)
            bars[sec.start - 1 : min(sec.end, n_bars)] = True
            rows = np.repeat(bars & free[:n_bars, lane], spb)
            if rows.any():
                own.append((sec.level, rows))
        for b in range(probs.shape[1]):
            part = probs[lane, b, : n_bars * spb]

            def rate(rows, part=part, how=how) -> float:
                return decoded_starts(part[rows], threshold, how, spb, False) / (rows.sum() / spb)

            def level_rate(level: int, own=own, rate=rate) -> float:
                rows = np.any([r for lv, r in own if lv == level], axis=0)
                return rate(rows)

            for level in sorted({lv for lv, _ in own}, reverse=True):  # the fuller levels settle first
                mine = notes_at(energy, lane, level, contrast=False)  # the neighbouring fifths' steps
                ups = {up: level_rate(up) for up in {lv for lv, _ in own if lv > level}}
                fuller = {up: notes_at(energy, lane, up, contrast=False) for up in ups}
                bounds = [ups[up] * mine / fuller[up] for up in ups if ups[up] > 0 and mine and fuller[up]]
                if not bounds:
                    continue
                bound = min(bounds)
                for rows in [r for lv, r in own if lv == level]:  # each section of the level on its own
                    if rate(rows) <= bound:
                        continue
                    part[rows] = drop_weakest(part[rows], bound * rows.sum() / spb, threshold, how, spb)
                    done += 1
    return done
