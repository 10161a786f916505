"""Grooves that come back: where a lane returns to an earlier 4-bar chunk of its section, and how it plays it.

Real songs (200 training windows, evaluation/learn_arrangement.py): where an earlier chunk has the same chords bar
by bar, a lane replays it (Jaccard >= 0.9) in 43-73 % of chunks (strings 43, piano 67, guitar 68, bass 73); where
the nearest shares 3 of 4 chords, it replays it with the other bar moved to its new root in 4-25 % (bass 25,
guitar 16, piano 11, strings 4); fewer shared chords, under 6 %. The
loop (`Loop._recall`) draws the returns at those shares and decodes them from the source's latents; `replay`
plays the source's finished notes again after the groove stage, whose per-bar draws (passing notes, restrikes,
voicing) would otherwise blur a return past recognition.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RECALL_NOISE = 0.05  # sd on a recalled pattern's latents (the loop's noise is about 1): the same groove, a nuance


@dataclass
class Recall:
    """Grooves that come back (card `recall`, `recall_moved`): at each new chunk, each lane may return to the
    earlier chunk of its section that shares most of its chords, bar by bar. All four the same: it returns at the
    lane's `rates` and plays that chunk's notes again; three: at `moved`, the bar of the other chord moved to its
    root (a riff held through a changed chord); fewer: no return (real lanes come back there in under 6 %). A
    return takes the source's latents plus a nuance of RECALL_NOISE, so the chunks after it go on from the
    pattern. section: (chunks,) the section index of each chunk (-1 outside any); seed: its own random stream
    (takes without it are unchanged)."""

    rates: np.ndarray
    section: np.ndarray
    seed: int
    moved: np.ndarray | None = None
    made: list = field(default_factory=list)  # (chunk, lane, take, source chunk, moves a bar or None) of each return

    def sources(self, target: int, plan, batch: int) -> list[tuple[int, list[int] | None] | None]:
        """Per take of the batch, (the chunk `target` may return to, the semitones each bar moves: None for the
        same chords) or None (nothing earlier in its section shares enough of its chords)."""
        same = [c for c in range(target) if self.section[c] == self.section[target]]
        order = sorted(same, key=lambda c: (c < 1, c))  # the first after the start, else the start
        out = []
        for b in range(batch):
            if plan is None:
                out.append((order[0], None) if order else None)
                continue
            bars = plan.features[:, b].reshape(plan.features.shape[0], -1, 24).cpu().numpy()
            found, best = None, len(bars[target]) - 2
            for c in order:
                k = int((bars[c] == bars[target]).all(axis=1).sum())
                if k > best:
                    found, best = c, k
            if found is None:
                out.append(None)
            elif best == len(bars[target]):
                out.append((found, None))
            else:
                out.append((found, chord_moves(bars[found], bars[target])))
        return out

    def rate(self, moves) -> np.ndarray:
        """The five lanes' shares of returning to a source (moves None: the same chords)."""
        if moves is None:
            return self.rates
        return self.moved if self.moved is not None else np.zeros_like(self.rates)


def chord_moves(source: np.ndarray, target: np.ndarray) -> list[int]:
    """Per bar, the semitones (-6..5) that move the source chunk's bar chord features (bars, 24) onto the target's:
    0 for the same chord (or none), else the shift that maps its tones onto the target's, else its lowest note
    onto the target's."""
    moves = []
    for s, t in zip(source, target):
        if not s.any() or not t.any() or np.array_equal(s, t):
            moves.append(0)
            continue
        shift = next((k for k in range(12) if np.array_equal(np.roll(s[:12], k), t[:12])), None)
        if shift is None:
            shift = int(np.argmax(t[12:])) - int(np.argmax(s[12:]))
        moves.append((shift + 6) % 12 - 6)
    return moves


def shift_pitches(cells: np.ndarray, move: int) -> np.ndarray:
    """(steps, 128) cells moved `move` semitones (what passes 0-127 is dropped)."""
    out = np.zeros_like(cells)
    if move > 0:
        out[:, move:] = cells[:, :-move]
    elif move < 0:
        out[:, :move] = cells[:, -move:]
    else:
        out[:] = cells
    return out


def replay(probs: np.ndarray, made: list, free: np.ndarray, chunk_bars: int, bar_steps: int) -> int:
    """In place on a take's finished probabilities (5, B, steps, 128), after the groove stage: each return of
    `made` plays its source chunk's notes again (moved bar by bar to its new roots where it moved; the chart check
    that follows re-voices them to the new chords), but for its last beat, where the band leads into whatever
    comes next (a bass approach note, a pickup). Only bars the take may change (free: (bars, 5)). How many
    returns were replayed."""
    beat = bar_steps // 4
    chunk = chunk_bars * bar_steps
    done = 0
    for target, lane, b, src, moves in made:
        t0, s0 = target * chunk, src * chunk
        if t0 + chunk > probs.shape[2] or not free[target * chunk_bars : (target + 1) * chunk_bars, lane].all():
            continue
        for j in range(chunk_bars):
            rows = slice(j * bar_steps, (j + 1) * bar_steps - (beat if j == chunk_bars - 1 else 0))
            cells = probs[lane, b, s0 : s0 + chunk][rows]
            if moves is not None:
                cells = shift_pitches(cells, moves[j])
            probs[lane, b, t0 : t0 + chunk][rows] = cells
        done += 1
    return done
