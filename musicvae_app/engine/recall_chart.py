"""Returns under changed chords, kept through the chart check (issue 29 item 2, the chart path).

Real songs (200 training windows, evaluation/learn_arrangement.py, card `recall_exact_changed`): where a lane comes
back to a 4-bar chunk whose chords changed in a bar or more, it plays the chunk again note for note in 17-47 % of
such returns (bass 47, guitar 35, piano 27, strings 17), mostly keeping its notes rather than moving them to the new
roots (a pedal, common tones; `recall_moves`). The loop draws these returns and `recall.replay` plays the source's
notes again; but the chart check (chording.fit_to_chart) then mends each bar by what the whole band plays there,
and the source's bars were mended under other neighbours: measured on the 48 validation songs (primer + their own
chords, seed 0), of the returns that were still >= 0.9 alike after the replay, the check left about half (piano 0.47
-> 0.35, guitar 0.58 -> 0.34, bass 0.52 -> 0.29 of all returns). `recall.settle` puts back only returns to the same
chords; `settle_changed` does the same for the others, after it: each bar of the return plays the source bar's
checked notes again, moved by the bar's move where the return moved with the chords, and the bars it touched are
checked once more (fit_to_chart: notes off the new chord that are no passing notes move to a chord tone, a bar no
longer heard as its chord is mended), so the chart is still what is heard.
"""

from __future__ import annotations

import numpy as np

from ..sketch.song import DRUMS, LANES
from .chording import fit_to_chart
from .recall import VARIED_BARS, _bars_heard, shift_pitches

BASS = LANES.index("bass")


def settle_changed(song, made: list, take: int, chords, free: np.ndarray, chunk_bars: int) -> int:
    """In place on a finished take (Song) of the batch, after the chart check and `recall.settle`: each pitched
    return of `made` under changed chords (a bar's or a beat's) plays its source's checked notes again bar by bar,
    shifted by the bar's move (0 where it kept its notes), where they sit with the bar's chords (`fits`; the other
    bars stay as the check made them), but for its last beat (a return with a variation, its last VARIED_BARS
    bars); then the bars it played again are checked against the chart once more, the lanes around the returning
    ones mended (every return of the take keeps its notes). Only bars the take may change (free: (bars, 5)); a bar
    laid out since (roles) stays out. How many returns were settled."""
    if chords is None:
        return 0
    bar = song.steps_per_bar
    beat, chunk = bar // 4, chunk_bars * bar
    touched = np.zeros_like(free)
    notes = np.array(song.notes(), copy=True)  # as heard, updated with each bar played again (a chain of returns)
    done = 0
    for target, lane, b, src, moves, exact in made:
        t0, s0 = target * chunk, src * chunk
        if b != take or lane == DRUMS or t0 + chunk > song.n_steps:
            continue
        beats = chunk_bars * 4
        if moves is None and chords[target * beats : (target + 1) * beats] == chords[src * beats : (src + 1) * beats]:
            continue  # the same chords beat for beat: recall.settle played it again
        moves = [0] * chunk_bars if moves is None else moves  # the same chords a bar, changed within one
        if not free[target * chunk_bars : (target + 1) * chunk_bars, lane].all():
            continue
        rows = chunk - beat if exact else (chunk_bars - VARIED_BARS) * bar
        now, then = song.probs[lane, t0 : t0 + rows], song.probs[lane, s0 : s0 + rows]
        if not np.array_equal(_bars_heard(now, bar, song.threshold), _bars_heard(then, bar, song.threshold)):
            continue  # a bar laid out since (roles) stays out
        played = False
        for j in range(-(-rows // bar)):
            lo, hi, move = j * bar, min((j + 1) * bar, rows), int(moves[j])
            k = target * chunk_bars + j
            was = chords[(src * chunk_bars + j) * 4 : (src * chunk_bars + j) * 4 + 4]
            heard = shift_pitches(notes[lane, s0 + lo : s0 + hi], move)
            if not fits(
                heard, chords[k * 4 : k * 4 + 4], [c.transposed(move) if c else None for c in was], lane == BASS
            ):
                continue  # its notes would clash with the new chord: the bar stays as the check made it
            song.probs[lane, t0 + lo : t0 + hi] = shift_pitches(song.probs[lane, s0 + lo : s0 + hi], move)
            notes[lane, t0 + lo : t0 + hi] = heard
            touched[k, lane] = played = True
        done += played
    if not touched.any():
        return 0
    check = free & touched.any(axis=1, keepdims=True)
    for target, lane, b, _, _, _ in made:  # every return of the take keeps its notes: the band around is mended
        if b == take and lane != DRUMS:
            check[target * chunk_bars : (target + 1) * chunk_bars, lane] = False
    fit_to_chart(song, chords, check)
    return done


def fits(cells: np.ndarray, beats: list, was: list, bass: bool) -> bool:
    """Whether a returning bar's sounding cells (steps, 128), checked under the source's chords (`was`, a Chord or
    None a beat, moved as the notes were), sit with its own chords (`beats`): each pitch that was a tone of the
    source's chord is a tone of the new one, or, but in the bass (whose note names the chord), a tension no semitone
    from one (a 7th, a 9th, an 11th, a 6th over a held chord; a half step against a chord tone clashes); the
    source's passing notes pass again."""
    per = max(1, len(cells) // max(1, len(beats)))
    for k, chord in enumerate(beats):
        if chord is None:
            continue
        before = was[k] if k < len(was) else None
        if before is not None and before == chord:
            continue
        pcs = {int(p) % 12 for p in np.flatnonzero(cells[k * per : (k + 1) * per].any(axis=0))}
        tones = set(chord.tones)
        if before is not None:
            pcs &= set(before.tones)  # the source's chord tones; its passing notes stay passing
        for pc in pcs - tones:
            if bass or {(pc + 1) % 12, (pc - 1) % 12} & tones:
                return False
    return True
