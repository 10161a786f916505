"""Sections with energy: a chorus lifts, a verse is lighter, an intro leads in, an outro ends.

Each section's energy 1-5 (theory/sections.Section.level: its own, else its kind's: intro 2, verse 3, chorus 4,
outro 2) shapes the take's probabilities in its bars before the groove, on the lanes the take may change:

- every lane's logits move by LOGIT x (energy - 3): more notes, and (velocity follows the probability) louder
  ones at 4-5; fewer and softer at 1-2; at 2 one of piano and guitar lays out, at 1 the strings and drums too;
  at 4-5 piano, guitar and bass strike held notes again on every beat (at 5 every 8th);
- the drums: at 4 and 5 the closed hi-hat opens (the off-beat 8ths) or moves to the ride (the rest); at 1-2 the
  ride and open hats close; a section of energy 4-5 opens with a crash and a kick on its first beat;
- the take's last bar, when the form ends in an outro (or an ending), is a final hit (`ending`, after the
  groove): the pitched lanes hold the notes of the bar's first beat to the end, the drums play a crash and a
  kick on beat 1 and stop.
"""

from __future__ import annotations

import numpy as np

from ..lanes import DRUMS

LOGIT = 0.7  # per energy step, added to every cell's logit: at 5 a 0.3 cell is 0.63, at 1 a 0.7 cell is 0.36
COMPERS = (0, 1)  # piano, guitar: at energy 2 one comps and the other lays out
DRIVEN = (0, 1, 2)  # piano, guitar, bass: at energy 4-5 held notes are struck again on the beat (8th)
CLOSED_HATS = (42, 44)
OPEN_HAT, RIDE, CRASH, KICK = 46, 51, 49, 36
LIGHT_HAT = 42
LOUD_CYMBALS = (46, 51, 53, 59)
ENDINGS = ("outro", "ending", "coda")


def shape(probs: np.ndarray, sections, free: np.ndarray, threshold: float, spb: int) -> None:
    """In place on probs (5, B, steps, 128) in the song's key; free: (bars, 5) bool, what the take may change."""
    if not sections:
        return
    n_bars = min(free.shape[0], probs.shape[2] // spb)
    loud = max(threshold + 1e-3, 0.95)
    for sec in sections:
        level = sec.level
        first, last = sec.start - 1, min(sec.end, n_bars)
        if first >= n_bars:
            continue
        shift = LOGIT * (level - 3)
        span = slice(first * spb, last * spb)
        for lane in np.flatnonzero(free[first:last].any(axis=0)):
            if shift:
                rows = np.repeat(free[first:last, lane], spb)
                part = probs[lane, :, span][:, rows]
                logit = np.log(np.clip(part, 1e-6, 1 - 1e-6) / np.clip(1 - part, 1e-6, 1)) + shift
                probs[lane, :, span][:, rows] = np.where(part > 0, 1 / (1 + np.exp(-logit)), 0.0)
        if level <= 2:
            lay_out(probs, first, last, free, threshold, spb, level)
        if level >= 4:
            drive(probs, first, last, free, threshold, spb, level)
        for bar in range(first, last):
            cells = slice(bar * spb, (bar + 1) * spb)
            if not free[bar, DRUMS]:
                continue
            drums = probs[DRUMS, :, cells]
            if level >= 4:
                _open_up(drums, spb)
            elif level <= 2:
                _close(drums)
        if level >= 4 and free[first, DRUMS]:
            down = first * spb
            probs[DRUMS, :, down, CRASH] = loud
            probs[DRUMS, :, down, KICK] = loud


def ending(probs: np.ndarray, sections, free: np.ndarray, threshold: float, spb: int) -> bool:
    """After the groove (whose restrikes and colours would break a held chord): when the form ends in an outro
    (or an ending, a coda) at the take's last bar, that bar is a final hit (final_hit). Whether it was."""
    n_bars = min(free.shape[0], probs.shape[2] // spb)
    if not sections or not n_bars:
        return False
    last_section = max(sections, key=lambda s: s.end)
    if last_section.kind not in ENDINGS or last_section.end < n_bars:
        return False
    final_hit(probs, n_bars - 1, free, threshold, spb)
    return True


def lay_out(probs: np.ndarray, first: int, last: int, free: np.ndarray, threshold: float, spb: int, level: int):
    """A light section (energy 1-2): of piano and guitar the one that plays less there lays out, as real bands
    leave one comping instrument (in real songs with a guitar part the piano rests in 64 % of its bars); at 1 the
    strings and drums lay out too."""
    span = slice(first * spb, last * spb)
    for b in range(probs.shape[1]):
        busy = [(probs[lane, b, span] >= threshold).sum() for lane in COMPERS]
        out = [COMPERS[int(np.argmin(busy))]] if min(busy) < max(busy) or min(busy) > 0 else []
        if level <= 1:
            out += [3, DRUMS]
        for lane in out:
            rows = np.repeat(free[first:last, lane], spb)
            probs[lane, b, span][rows] = 0.0


def drive(probs: np.ndarray, first: int, last: int, free: np.ndarray, threshold: float, spb: int, level: int):
    """A lifted section (energy 4-5): piano, guitar and bass strike a held note again on every beat (at 5 every
    8th), as a band pushes a chorus; the strings hold (pads stay pads). A one-step gap before each strike."""
    every = max(1, spb // (8 if level >= 5 else 4))
    span = slice(first * spb, last * spb)
    for lane in DRIVEN:
        rows = np.repeat(free[first:last, lane], spb)
        part = probs[lane, :, span]  # (B, steps, 128), a view
        on = part >= threshold
        gap = np.zeros(on.shape[1], dtype=bool)
        gap[every - 1 :: every] = True  # the step before each strike
        gap &= rows
        gap[-1] = False
        before = np.zeros_like(on)
        before[:, 1:-1] = on[:, :-2] & on[:, 1:-1] & on[:, 2:]  # a note held through this step and on
        cut = before & gap[None, :, None]
        part[cut] = 0.0


def _open_up(drums: np.ndarray, spb: int) -> None:
    """(B, bar steps, 128): closed hats open on the off-beat 8ths and move to the ride elsewhere."""
    eighth = max(1, spb // 8)
    beat = max(1, spb // 4)
    for step in range(drums.shape[1]):
        target = OPEN_HAT if step % beat and not step % eighth else RIDE
        closed = drums[:, step, list(CLOSED_HATS)].max(axis=-1)
        drums[:, step, target] = np.maximum(drums[:, step, target], closed)
        drums[:, step, list(CLOSED_HATS)] = 0.0


def _close(drums: np.ndarray) -> None:
    """(B, bar steps, 128): the ride and open hats close (a lighter verse or intro)."""
    loud = drums[..., list(LOUD_CYMBALS)].max(axis=-1)
    drums[..., LIGHT_HAT] = np.maximum(drums[..., LIGHT_HAT], loud)
    drums[..., list(LOUD_CYMBALS)] = 0.0


def final_hit(probs: np.ndarray, bar: int, free: np.ndarray, threshold: float, spb: int) -> None:
    """The last bar ends the song: each pitched lane holds what it plays on beat 1 (or the bar's first notes) to
    the bar's end, a held chord; the drums play a crash and a kick on beat 1 and nothing after."""
    cells = slice(bar * spb, (bar + 1) * spb)
    beat = max(1, spb // 4)
    loud = max(threshold + 1e-3, 0.95)
    for lane in np.flatnonzero(free[bar]):
        part = probs[lane, :, cells]  # (B, spb, 128)
        if lane == DRUMS:
            part[:] = 0.0
            part[:, 0, CRASH] = loud
            part[:, 0, KICK] = loud
            continue
        for b in range(part.shape[0]):
            on = part[b, :beat] >= threshold
            if not on.any():
                on = part[b] >= threshold
                if not on.any():  # the lane rests in the last bar: it stays silent to the end
                    part[b] = 0.0
                    continue
                on = on[np.flatnonzero(on.any(axis=1))[0]][None]
            pitches = np.flatnonzero(on.any(axis=0))
            value = max(float(part[b][:, pitches].max()), threshold + 1e-3)
            part[b] = 0.0
            part[b, :-1, pitches] = value  # held to the bar's end (its last step a breath)
