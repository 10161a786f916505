"""Held notes that stay held: a lane's one-step gaps inside a held note tied over, to the learned share.

Under a chart our strings played 8.3 note starts a bar against 6.8 real (48 validation songs): their pads broke
and restarted on the same pitch 4.9 times a bar against 2.0 in real songs (48 training windows): the decoder's
probabilities dip between 8ths (a dip deeper than the lane's `restrike` depth is a one-step gap, so the note is
struck again) and the groove struck every note held across a bar line. Real string players strike a note held
into a 16th inside the bar again at the card's `held_restrike` share (evaluation/learn_density.py, training songs)
and across a bar line at `bar_restrike` (the groove's restrike draws those).

`tie` runs in the groove, where chords steer the band, before the restrike: per take and lane, it counts the pitches
sounding at t - 2 and at t (as Song.notes will decode them: bar fill, sustain, restrike) and, of them, those
silent at t - 1 (struck again at t); while the take's share is above the learned one, each gap is
kept at the learned share over the take's (so the gaps the model placed, mostly on the beat and the 8ths, keep
their places) and the others are tied: the gap's cell rises to the lower of its neighbours, which no decoding
reads as a gap. Gaps at bar lines are tied at the share `bar_restrike` leaves to the restrike.
"""

from __future__ import annotations

import numpy as np

from ..sketch.song import DRUMS, LANES, hysteresis


def sounding(part: np.ndarray, threshold: float, decoding, spb: int) -> np.ndarray:
    """(..., steps, 128) what Song.notes will sound of a lane's probabilities (steps, 128), or of each of several
    (..., steps, 128): bar fill, sustain, restrike gaps; decoding = the lane's (fill, sustain, restrike)."""
    fill, sustain, restrike = decoding
    on = part >= threshold
    steps, pitches = part.shape[-2:]
    if fill < 1.0 and steps % spb == 0:
        bars = on.reshape(*part.shape[:-2], -1, spb, pitches)
        playing = bars.any(axis=(-2, -1))
        near = (part >= fill * threshold).reshape(bars.shape)
        on = (bars | (near & playing[..., None, None])).reshape(on.shape)
    if sustain < 1.0:
        on = hysteresis(on, part >= sustain * threshold)
    if restrike > 0.0 and steps > 2:
        held = on[..., 1:-1, :] & on[..., :-2, :] & on[..., 2:, :]
        dip = held & (part[..., 1:-1, :] <= restrike * np.minimum(part[..., :-2, :], part[..., 2:, :]))
        on = on.copy()
        on[..., 1:-1, :] &= ~dip
    return on


def held_gaps(on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(held, gap) of a sounding roll (steps, 128), each (steps, 128): held at t where the pitch sounds at t - 2
    and t (a note held through t - 1, or struck again at t after a one-step gap); gap where, of those, it is
    silent at t - 1 (a note of one or more steps struck again at t: a pulse of 8ths is a gap every other step).
    Steps 0-1: never."""
    held = np.zeros_like(on)
    held[2:] = on[:-2] & on[2:]
    gap = np.zeros_like(on)
    gap[2:] = held[2:] & ~on[1:-1]
    return held, gap


def tie(take, free, threshold: float, spb: int, lineup, decodings, inner, bars=None, rng=None) -> dict:
    """In place on take (5, steps, 128), one variation's probabilities. inner: per lane the learned share of the
    pitches sounding at t - 2 and t (t inside the bar) silent at t - 1 (card `held_restrike`; 1.0 or None: as the
    model made them);
    bars: per lane `bar_restrike` (the restrike strikes bar lines at it: here every gap at a bar line is tied);
    decodings: per lane (fill, sustain, restrike) of Song.notes; free: (bars, 5) what the take may change.
    Returns {lane name: gaps tied}."""
    done = {}
    if inner is None:
        return done
    rng = rng or np.random.default_rng(0)
    steps = free.shape[0] * spb
    line = np.zeros(steps, dtype=bool)
    line[::spb] = True
    for lane in (i for i in range(len(LANES)) if i != DRUMS and i in lineup and float(inner[i]) < 1.0):
        part = take[lane, :steps]
        held, gap = held_gaps(sounding(part, threshold, decodings[lane], spb))
        lane_free = np.repeat(free[:, lane], spb)
        gap &= lane_free[:, None] & np.concatenate([[False], lane_free[:-1]])[:, None]
        at_line = line[:, None] & gap
        inside = gap & ~line[:, None]
        n_held = int((held & ~line[:, None]).sum())
        share = int(inside.sum()) / n_held if n_held else 0.0
        keep = min(1.0, float(inner[lane]) / share) if share > 0 else 1.0
        tied = inside & (rng.random(inside.shape) >= keep)
        if bars is not None and float(bars[lane]) < 1.0:
            tied |= at_line  # the restrike strikes bar lines at the learned share
        t, q = np.nonzero(tied)
        part[t - 1, q] = np.maximum(part[t - 1, q], np.minimum(part[t - 2, q], part[t, q]))
        done[LANES[lane]] = len(t)
    return done
