"""Ghost notes on the snare: soft hits between the backbeats, where the model half-hears a snare.

Real drummers play about 3 % of their snare hits as ghost notes (band-midi's training songs: under 0.6 x the
song's snare median), almost all on the 16ths between the 8ths. The model plays the backbeat and fills surely
and leaves those cells under the threshold, so a take had none. After every other stage, in the drum bars the
take may change that play a backbeat (a snare on beat 2 or 4), each snare cell on an off-8th 16th whose
probability is at least the pack's `ghost_floor` (its dynamics.json) x the threshold becomes a note just over
the threshold (at most MOST x real songs' share of the take's snare hits): the least sure snare hit at its
position, which theory/dynamics.py plays at the real low tail (a ghost note). `ghost_floor` is measured by
training/dynamics.py so that our share of ghost notes is real songs' share.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..lanes import DRUMS
from ..theory.dynamics import DYNAMICS_FILE, SNARES

LIFT = 1e-3  # over the threshold: a note the model is least sure of
MOST = 2.0  # a take's ghost notes are at most this many times real songs' share of its snare hits (the surest
# candidates first): a real song's primer can leave many half-heard snares (a take of 24 % ghosts, uncapped)


@lru_cache(maxsize=8)
def floor(pack_folder: str | None, primed: bool = False) -> tuple[float, float] | None:
    """(floor, most) for the pack in `pack_folder` (its dynamics.json): the ghost floor (a share of the threshold)
    and the most ghost notes a take gets per snare hit (MOST x real songs' ghosts per snare hit); None where it has
    none (no ghost notes: a pack's floor holds for its own probabilities only). primed: the floor for continuations
    of a real song's primer (`ghost_floor_primer`, evaluation/learn_primer_ghosts.py), where the pack has one: they
    leave more half-heard snares than the usual takes `ghost_floor` is measured on, and their cap is the tightest
    at which that floor still makes real songs' share on training primers (`ghost_most_primer`; else MOST)."""
    path = Path(pack_folder) / DYNAMICS_FILE if pack_folder else None
    if path is None or not path.is_file():
        return None
    try:
        table = json.loads(path.read_text())
        share = float(table["real"]["snare_ghost_share"])
        key = "ghost_floor_primer" if primed and "ghost_floor_primer" in table else "ghost_floor"
        most = float(table.get("ghost_most_primer", MOST)) if key == "ghost_floor_primer" else MOST
        return float(table[key]), most * share / max(1.0 - share, 1e-9)
    except (OSError, ValueError, KeyError, TypeError):
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


def lift(probs: np.ndarray, free: np.ndarray, threshold: float, bar: int, ghost: tuple[float, float] | None) -> int:
    """In place: the candidate cells at or over the pack's ghost floor x the threshold become notes just over it,
    at most `most` per snare hit of each take (the surest first); ghost = floor(...) (None: none). How many."""
    if ghost is None or threshold + LIFT >= 1.0:
        return 0
    share, most = ghost
    cand = candidates(probs, free, threshold, bar)
    drums = probs[DRUMS]
    n_steps = min(free.shape[0] * bar, drums.shape[1])
    rows = np.repeat(free[:, DRUMS], bar)[:n_steps]
    lifted = 0
    for b in range(drums.shape[0]):
        snares = int((drums[b, :n_steps][rows][:, list(SNARES)] >= threshold).sum())
        steps, pitches = np.nonzero(cand[b] >= share * threshold)
        keep = np.argsort(-cand[b][steps, pitches], kind="stable")[: int(most * snares)]
        drums[b, steps[keep], pitches[keep]] = threshold + LIFT
        lifted += len(keep)
    return lifted
