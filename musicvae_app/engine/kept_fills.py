"""A return leaves the fill into the next section as the groove played it.

A drum chunk that returns to an earlier one plays its notes again (recall.replay, recall.settle) but for its last
beat; the groove's fill into a section (engine/groove.py, `fill_bars`) takes the last two beats of the bar before
it, so a return there replayed the drums over the first half of the fill (and a twin over the whole bar). In a take
with a song form, the drums of each fill bar are kept from before the returns and put back after them.
"""

from __future__ import annotations

import numpy as np

from ..lanes import DRUMS
from .sections import fill_bars


def keep(probs: np.ndarray, sections, bar: int) -> dict[int, np.ndarray]:
    """{0-based fill bar: a copy of its drum cells} of probs (5, B, steps, 128) (none without a form)."""
    out = {}
    for b in fill_bars(list(sections)) if sections else []:
        if (b + 1) * bar <= probs.shape[2]:
            out[b] = probs[DRUMS, :, b * bar : (b + 1) * bar].copy()
    return out


def put_back(lane_probs: np.ndarray, kept: dict[int, np.ndarray], bar: int, take: int | None = None) -> None:
    """In place: the kept fill bars back into the drums' probabilities, (B, steps, 128) for every take or, with
    `take`, one take's (steps, 128) (a finished Song's probs[DRUMS])."""
    for b, cells in kept.items():
        if take is None:
            lane_probs[:, b * bar : (b + 1) * bar] = cells
        else:
            lane_probs[b * bar : (b + 1) * bar] = cells[take]
