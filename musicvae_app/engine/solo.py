"""The guitar alone under a chart: where the piano sat the take out (roles.sit_out), the guitar rests as real ones do.

Real songs (training windows whose guitar plays and whose piano is absent throughout, evaluation/learn_density.py,
card `solo_rest`): the guitar rests in 10.2 % of their bars (the 48 validation songs: 12.9 %). Ours, after
`roles._guitar_back` (which brings back chunks with silent bars as the guitar's nearest fully playing chunk), were
two kinds of take: 48 validation charts, seed 1, the sat-out takes' guitar rested in 0 to 2 bars of 32 in half of
them and in 16 to 27 bars in the other half (no chunk of the guitar played fully, so none came back): a chart
carried by bass, strings and drums alone for most of the song. On typed charts with a chord in every bar the
guitar rested in 0.6 % of bars (nothing ever laid it out). So, drawn to the same per-take share as
`_guitar_back`'s:

- `bars_back`: the silent bars left (a bar with a chord) play the guitar's nearest playing bar again, moved to the
  new bar's chord root (as `balance` moves a chunk; the chart check re-voices it), the same place in the phrase
  first, until the guitar rests in about the share;
- `lay_out`: a fully playing chunk after the first lays out (a phrase the band carries without it, as `balance`
  lays the piano out) while that brings the rests nearer the share. The bars the chart marks N.C. count as rests
  (the chart check rests them), and are never filled.
"""

from __future__ import annotations

import numpy as np

from ..sketch.song import LANES
from .recall import chord_moves, shift_pitches

GUITAR = LANES.index("guitar")


def marked(features: np.ndarray | None, b: int, n: int, chunk_bars: int) -> np.ndarray:
    """(n, chunk_bars) whether the chart has a chord in each bar of take b (features: (chunks, B, bars * 24) the
    plan's chord features; None: every bar)."""
    if features is None:
        return np.ones((n, chunk_bars), dtype=bool)
    out = np.ones((n, chunk_bars), dtype=bool)
    m = min(n, len(features))
    out[:m] = features[:m, b].reshape(m, chunk_bars, -1).any(axis=2)
    return out


def bars_back(probs, b, bars, movable, keep_silent, chunk_bars, bar_steps, rng, features) -> int:
    """In place on probs (5, B, steps, 128): while the guitar of take b rests in more than keep_silent of the
    movable chunks' bars (bars: (chunks, chunk_bars) where it plays, N.C. bars counted as rests; updated), a silent
    bar with a chord (drawn) plays the nearest playing bar at its place in the phrase again (else the nearest
    playing bar), moved to its chord root. How many bars came back."""
    chords = marked(features, b, bars.shape[0], chunk_bars)
    done = 0
    candidates = [(c, j) for c in movable for j in range(chunk_bars) if not bars[c, j] and chords[c, j]]
    for k in rng.permutation(len(candidates)):
        if int((~bars[movable]).sum()) <= keep_silent:
            break
        c, j = candidates[k]
        src = _nearest_bar(bars, c, j)
        if src is None:
            break
        sc, sj = src
        move = 0
        if features is not None and max(c, sc) < len(features):
            feats = features[:, b].reshape(features.shape[0], chunk_bars, -1)
            move = chord_moves(feats[sc, sj : sj + 1], feats[c, j : j + 1])[0]
        lo, to = (sc * chunk_bars + sj) * bar_steps, (c * chunk_bars + j) * bar_steps
        probs[GUITAR, b, to : to + bar_steps] = shift_pitches(probs[GUITAR, b, lo : lo + bar_steps], move)
        bars[c, j] = True
        done += 1
    return done


def _nearest_bar(bars: np.ndarray, c: int, j: int) -> tuple[int, int] | None:
    """The playing bar at place j of the nearest chunk (earlier first), else the nearest playing bar, or None."""
    for d in range(1, bars.shape[0]):
        for e in (c - d, c + d):
            if 0 <= e < bars.shape[0] and bars[e, j]:
                return e, j
    flat = np.flatnonzero(bars.ravel())
    if not len(flat):
        return None
    here = c * bars.shape[1] + j
    best = int(flat[np.argmin(np.abs(flat - here) * 2 + (flat > here))])  # nearest, earlier on a tie
    return divmod(best, bars.shape[1])


def lay_out(probs, b, bars, movable, keep_silent, chunk, rng) -> int:
    """In place on probs: while the guitar of take b rests in fewer of the movable chunks' bars than keep_silent
    (bars: as `bars_back`'s), a fully playing chunk after the first lays out, while that brings the rests nearer
    the share. How many chunks laid out."""
    chunk_bars = bars.shape[1]
    done = 0
    for c in rng.permutation([c for c in movable if c > 0 and bars[c].all()]):
        if int((~bars[movable]).sum()) + chunk_bars // 2 > keep_silent:  # a chunk more would overshoot more
            break
        probs[GUITAR, b, int(c) * chunk : (int(c) + 1) * chunk] = 0.0
        bars[c] = False
        done += 1
    return done
