"""A fuller voicing where a section lifts: more notes struck together in a chorus than in its verse, as real songs.

Real songs (1,200 training songs, training/energy.py, the pack's energy.json `voicing`): the notes a pitched lane
strikes together (notes starting on one 16th), per energy level over level 3's: piano 0.98 / 1.00 / 1 / 1.04 /
1.10, guitar 0.90 / 0.95 / 1 / 1.10 / 1.20, strings 0.98 / 0.99 / 1 / 1.09 / 1.20 (bass 1.0-1.02: one note). The
48 validation songs' fuller 8-bar blocks against their lighter ones: piano 2.44 / 2.30, guitar 3.57 / 3.15, strings
2.07 / 1.88. Ours under a chart with intro / verse / chorus / verse / chorus / outro (8 takes of "C G Am F",
benchmarks/bench_energy.py --chords) voiced the chorus THINNER than the verse: piano 1.79 / 1.85, guitar 1.84 /
2.08, strings 1.63 / 1.71, because the section's density (energy.density) adds notes by a logit shift, most of them
single notes between the chords. `lift` adds chord tones to a lifted section's onsets until each lane strikes, on
average, its level-3 sections' notes together x the level's learned figure over level 3's: chord tones of the
chart's chord at that beat, inside the notes struck there or just above or below them (no second or minor second
against them), held as long as the note they join. Where a chart is given, on its chord of every beat; in a take
without one (a free take with a form), on the chords its own band plays, recognized bar by bar (`band_chords`).
Only sections above level 3, only the bars the take may change.
"""

from __future__ import annotations

import numpy as np

from ..lanes import BEATS_PER_BAR, LANES
from ..theory.chords import upper_chords
from .cells import onsets
from .ties import sounding

VOICED = tuple(LANES.index(name) for name in ("piano", "guitar", "strings"))
REACH = 7  # semitones above the top note or below the lowest an added tone may lie


def level_figure(energy: dict, lane: int, level: int) -> float | None:
    """The table's notes-struck-together figure of `lane` at `level` over level 3's; None without one."""
    row = (energy.get("voicing") or {}).get(LANES[lane])
    if not row or len(row) < 5 or row[2] <= 0:
        return None
    return float(row[min(max(level, 1), 5) - 1]) / float(row[2])


def lift(
    probs: np.ndarray, sections, free: np.ndarray, threshold: float, spb: int, energy: dict, chords, decoding=None
) -> int:
    """In place on probs (5, B, steps, 128) in the song's key, after the section's density: in each section above
    level 3, each lane of VOICED strikes as many notes together, on average, as its level-3 sections (the take's
    own, else the whole take) x the level's figure (`level_figure`), chord tones of `chords` (a Chord or None a beat;
    or, for a take without a chart, one such list per variation: `band_chords`, what its own band plays) added to its
    onsets, the thinnest first (on the beat before off it). free: (bars, 5); decoding: per lane (fill,
    sustain, restrike) as Song.notes reads the cells (energy.decoding_of), so the notes counted are the notes heard.
    How many notes added."""
    if not sections or chords is None or not energy:
        return 0
    per_take = bool(chords) and isinstance(chords[0], list)  # a free take: each variation's own chords
    beat = spb // BEATS_PER_BAR
    added = 0
    for lane in VOICED:
        for b in range(probs.shape[1]):
            beats = chords[b] if per_take else chords
            n_bars = min(free.shape[0], probs.shape[2] // spb, len(beats) // BEATS_PER_BAR)
            part = probs[lane, b]
            on = sounding(part, threshold, decoding[lane], spb) if decoding is not None else part >= threshold
            starts = onsets(on)
            per_step = starts.sum(axis=1)

            def figure(first: int, last: int, lane=lane, per_step=per_step) -> tuple[int, int]:
                rows = np.repeat(free[first:last, lane], spb)
                counts = per_step[first * spb : last * spb][rows]
                return int(counts.sum()), int((counts > 0).sum())

            middle = [s for s in sections if s.level == 3]
            notes = groups = 0
            for s in middle or [None]:
                first, last = (0, n_bars) if s is None else (s.start - 1, min(s.end, n_bars))
                n, g = figure(first, last)
                notes, groups = notes + n, groups + g
            if not groups:
                continue
            reference = notes / groups
            low, high = _range(on)
            for sec in sections:
                factor = level_figure(energy, lane, sec.level)
                first, last = sec.start - 1, min(sec.end, n_bars)
                if sec.level <= 3 or factor is None or first >= last:
                    continue
                n, g = figure(first, last)
                want = int(np.ceil(reference * factor * g - n))
                if want <= 0:
                    continue
                steps = [
                    t
                    for t in range(first * spb, last * spb)
                    if per_step[t] and free[t // spb, lane] and beats[t // beat] is not None
                ]
                steps.sort(key=lambda t: (per_step[t], t % beat != 0, t))
                for t in steps:
                    if want <= 0:
                        break
                    p = _tone(on, starts, t, beats[t // beat].tones, low, high)
                    if p is None:
                        continue
                    joined = int(np.flatnonzero(starts[t])[-1])  # the top note struck there: held as long
                    end = t + 1
                    while end < len(on) and on[end, joined]:
                        end += 1
                    part[t:end, p] = np.maximum(part[t:end, p], np.maximum(part[t:end, joined], threshold))
                    on[t:end, p] = True
                    starts[t, p] = True
                    per_step[t] += 1
                    want -= 1
                    added += 1
    return added


def band_chords(probs: np.ndarray, threshold: float, spb: int) -> list[list]:
    """For a take without a chart: per variation of probs (5, B, steps, 128), the chord a beat its piano, guitar and
    strings play (recognized bar by bar at the threshold, as free_bass.py and the evaluation read a free take's
    harmony; a bar with none: None)."""
    out = []
    for b in range(probs.shape[1]):
        bars = upper_chords(probs[:, b] >= threshold, spb)
        out.append([c for c in bars for _ in range(BEATS_PER_BAR)])
    return out


def _range(on: np.ndarray) -> tuple[int, int]:
    """The lowest and highest pitch the lane sounds in the take (added tones stay inside)."""
    pitches = np.flatnonzero(on.any(axis=0))
    return (int(pitches[0]), int(pitches[-1])) if len(pitches) else (0, 127)


def _tone(on: np.ndarray, starts: np.ndarray, t: int, tones, low: int, high: int) -> int | None:
    """A chord tone to strike with the notes starting at step t: inside them first (the widest gap), else just
    above the top, else just below the lowest; silent at t - 1 and at t, no one or two semitones from a sounding
    note; within the lane's range. None when there is none."""
    struck = np.flatnonzero(starts[t])
    sounding = np.flatnonzero(on[t])
    top, bottom = int(struck[-1]), int(struck[0])
    pcs = {int(x) % 12 for x in tones}

    def ok(p: int) -> bool:
        if not (low <= p <= high) or p % 12 not in pcs or on[t, p] or (t and on[t - 1, p]):
            return False
        return not (np.abs(sounding - p) <= 2).any()

    inside = [p for p in range(bottom + 1, top) if ok(p)]
    if inside:
        return max(inside, key=lambda p: min(abs(p - x) for x in sounding))
    above = [p for p in range(top + 1, min(top + REACH, 127) + 1) if ok(p)]
    if above:
        return above[0]
    below = [p for p in range(bottom - 1, max(bottom - REACH, 0) - 1, -1) if ok(p)]
    return below[0] if below else None
