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

A bar whose notes do not sit with its new chord comes back as a player brings a pattern back (`revoice`): the
piano's and the guitar's rhythm kept, onsets and lengths, their notes moved to the nearest tones of the new chord;
the bass's riff moved to the new chord's root (its chord tones onto the new chord's, its own steps moved along).
Before, such a bar stayed as the check made it (a pattern's notes merged, a riff's figure lost); 48 validation
songs, primer + their own chords, seeds 0-2: the bass's chunks replaying the one sharing most chords, moved to their
roots, 10.5 -> 12.9 % (real 17.9), the piano's exact / near repeats 7.9 / 17.8 -> 8.5 / 18.8 % with roles.balance's
returns kept (real 12.8 / 24.5; benchmarks/RESULTS.md).
"""

from __future__ import annotations

import numpy as np

from ..sketch.song import DRUMS, LANES
from .chording import chord_map, fit_to_chart
from .recall import leads_alike, returned_rows, shift_pitches

PIANO, GUITAR, BASS = (LANES.index(name) for name in ("piano", "guitar", "bass"))


# real basses (200 training windows, benchmarks/bench_bass_pedal.py): of the bars that return to an earlier bar under a
# chord of another root and whose chord tones are not all the new chord's, those whose beat-1 note is a tone of the
# new chord were kept as they were in 59.9 % (130 of 217: a pedal, a riff held across the change), the others in
# 18.2 % (172 of 947); bars whose notes fit the new chord, 66.2 %
PEDAL_KEPT = 0.599


def pedal_share(moves) -> float:
    """The share of a kept bass return's clashing bars on a pedal (beat 1 a tone of the new chord) that keep their
    notes, so that of all returns under the changed chord PEDAL_KEPT do (`moves`: the card's recall_moves, the
    returns moved with the chord; None: none moved)."""
    moved = float(moves[BASS]) if moves is not None else 0.0
    return min(1.0, PEDAL_KEPT / max(1.0 - moved, 1e-6))


def settle_changed(
    song,
    made: list,
    take: int,
    chords,
    free: np.ndarray,
    chunk_bars: int,
    pedal: float = 0.0,
    seed: int = 0,
    chains: tuple = (BASS,),
    whole: tuple = (),
) -> int:
    """In place on a finished take (Song) of the batch, after the chart check and `recall.settle`: each pitched
    return of `made` under changed chords (a bar's or a beat's) plays its source's checked notes again bar by bar,
    shifted by the bar's move (0 where it kept its notes), where they sit with the bar's chords (`fits`); where
    they do not, as a player returns with a variation (`revoice`): the piano and the guitar keep the bar's rhythm
    (every onset and length) with its notes moved to the nearest tones of the new chord, the bass moves its riff to
    the new chord's root (its chord tones on the new chord's, its own steps between them moved along), the strings'
    bar stays as the check made it. But for its last beat (a return with a variation, its last VARIED_BARS bars);
    then the bars it played again are checked against the chart once more, the lanes around the returning ones
    mended (every return of the take keeps its notes). pedal: the share of a bass bar that clashes but whose beat-1
    note is a tone of the new chord that keeps that note and its rhythm, its notes off the new chord moved to the
    nearest tone (a pedal, as real basses hold theirs: `pedal_share`), rather than moving its riff to the new root;
    drawn from `seed`. chains: the lanes whose return to the same chords plays its source again where that source
    came back since under changed chords (a chain of returns stays one: the bass's riffs; under a chart, the piano's
    and the guitar's too: `CHAINED`). Only bars the take may change (free: (bars,
    5)); a bar laid out since (roles) stays out. whole: the lanes whose exact return plays its last beat again too
    where what follows it starts on the chord that followed its source (`recall.leads_alike`). How many returns
    were settled."""
    if chords is None:
        return 0
    bar = song.steps_per_bar
    chunk = chunk_bars * bar
    touched = np.zeros_like(free)
    notes = np.array(song.notes(), copy=True)  # as heard, updated with each bar played again (a chain of returns)
    done = 0
    for target, lane, b, src, moves, exact in sorted(made, key=lambda m: m[0]):  # a source before its returns
        t0, s0 = target * chunk, src * chunk
        if b != take or lane == DRUMS or t0 + chunk > song.n_steps:
            continue
        beats = chunk_bars * 4
        end = chunk if exact and lane in whole and leads_alike(chords, target, src, chunk_bars) else None
        if moves is None and chords[target * beats : (target + 1) * beats] == chords[src * beats : (src + 1) * beats]:
            # recall.settle played it again; where its source came back since, once more (a chain of returns)
            rows = returned_rows(song, lane, t0, s0, chunk_bars, exact, end)
            if lane in chains and rows is not None and touched[src * chunk_bars : (src + 1) * chunk_bars, lane].any():
                song.probs[lane, t0 : t0 + rows] = song.probs[lane, s0 : s0 + rows]
                notes[lane, t0 : t0 + rows] = notes[lane, s0 : s0 + rows]
                touched[target * chunk_bars : target * chunk_bars + -(-rows // bar), lane] = True
            continue
        moves = [0] * chunk_bars if moves is None else moves  # the same chords a bar, changed within one
        if not free[target * chunk_bars : (target + 1) * chunk_bars, lane].all():
            continue
        rows = returned_rows(song, lane, t0, s0, chunk_bars, exact, end)
        if rows is None:
            continue  # a bar laid out since (roles) stays out
        played = False
        for j in range(-(-rows // bar)):
            lo, hi, move = j * bar, min((j + 1) * bar, rows), int(moves[j])
            k = target * chunk_bars + j
            was = chords[(src * chunk_bars + j) * 4 : (src * chunk_bars + j) * 4 + 4]
            was = [c.transposed(move) if c else None for c in was]
            now = chords[k * 4 : k * 4 + 4]
            cells = shift_pitches(song.probs[lane, s0 + lo : s0 + hi], move)
            heard = shift_pitches(notes[lane, s0 + lo : s0 + hi], move)
            held = lane == BASS and pedal > 0 and on_pedal(heard, now)  # a pedal held across the change
            held = held and np.random.default_rng([int(seed), 31, target, j]).random() < pedal
            if not fits(heard, now, was, lane == BASS, bar // 4):
                if lane not in REVOICED:
                    continue  # its notes would clash with the new chord: the bar stays as the check made it
                maps = [pitch_map(c, w, lane == BASS) for c, w in zip(now, was)]
                if held:  # the pedal and the bar's rhythm stay, its notes off the new chord to the nearest tone
                    maps = [chord_map(c) if c is not None else None for c in now]
                before = np.zeros_like(heard[:1])  # the 16th before the bar (none before the song)
                if s0 + lo:
                    before = shift_pitches(notes[lane, s0 + lo - 1 : s0 + lo], move)
                struck = heard[0] & ~before[0]  # the source's notes struck on the bar's downbeat
                cells, heard = revoice(cells, heard, maps, bar // 4)
                floor = song.threshold * min(float(song.sustain[lane]), float(song.fill[lane])) * 0.999
                cells = np.where(heard, cells, np.minimum(cells, floor))  # two faint cells met: still no note
                if maps[0] is not None:  # a note struck on the downbeat that lands on the pitch held into it: the
                    landed = np.zeros(128, dtype=bool)  # note before ends a 16th sooner, so it is struck again
                    landed[maps[0][np.flatnonzero(struck & (maps[0] >= 0))]] = True
                    tied = landed & notes[lane, t0 + lo - 1]  # (a 16th's pickup on that pitch: gone, not tied)
                    song.probs[lane, t0 + lo - 1, tied] = np.minimum(song.probs[lane, t0 + lo - 1, tied], floor)
                    notes[lane, t0 + lo - 1, tied] = False
            song.probs[lane, t0 + lo : t0 + hi] = cells
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


def on_pedal(heard: np.ndarray, beats: list) -> bool:
    """Whether a returning bass bar's (steps, 128) lowest note on its downbeat is a tone of the bar's first chord
    (a pedal the bar may hold across the change)."""
    down = np.flatnonzero(heard[0])
    return bool(len(down)) and bool(beats) and beats[0] is not None and int(down[0]) % 12 in set(beats[0].tones)


REVOICED = (PIANO, GUITAR, BASS)  # the strings' pads under a new chord stay as the chart check voices them
# the lanes whose chains of returns stay whole under a chart (a return to a source re-voiced since plays it again)
# and whose exact returns lead in as their source where the same chord follows (recall.leads_alike); under a followed
# part's chords only the bass's chains (the comps' cost the part's chords: benchmarks/RESULTS.md, i29-chart3). Not
# the strings: their returns already come back more often than real songs' under a chart (exact 8.7 % against 7.5)
CHAINED = REVOICED


def pitch_map(chord, was, riff: bool) -> np.ndarray | None:
    """For each of the 128 pitches of a returning beat checked under `was` (the source's chord, moved as the notes
    were), the pitch it plays under `chord`, or -1 (off the keyboard); None: every pitch stays. riff (the bass):
    the whole beat first moves by the step from was's bass note to chord's (a riff moved to the new root), its
    chord tones then to the nearest tone of the new chord (a major third on a minor chord), its other notes (the
    riff's own steps between them) moved along. Otherwise (piano, guitar: a pattern re-voiced, every beat of the
    chord alike, so a held note stays one note) a tone of the new chord stays, as does a tension no half step from
    one (a 9th, a 6th), and the others go to the nearest tone of the new chord (chording.chord_map)."""
    if chord is None or chord == was:
        return None
    step = (chord.lowest - was.lowest + 6) % 12 - 6 if riff and was is not None else 0
    moved = np.arange(128) + step
    out = np.full(128, -1)
    inside = (moved >= 0) & (moved < 128)
    nearest = chord_map(chord)
    tones = np.zeros(12, dtype=bool)
    tones[list(chord.tones)] = True
    old = np.zeros(12, dtype=bool)
    if was is not None:
        old[list(was.tones)] = True
    q = moved[inside]
    clash = ~tones[q % 12] & (tones[(q + 1) % 12] | tones[(q - 1) % 12])
    keep = tones[q % 12] | (~old[np.flatnonzero(inside) % 12] if riff else ~clash)
    out[inside] = np.where(keep, q, nearest[q])
    return out


def revoice(cells: np.ndarray, heard: np.ndarray, maps: list, beat: int) -> tuple[np.ndarray, np.ndarray]:
    """A bar's (or the part of one a return plays) probabilities and notes, (steps, 128) each, every beat's pitch
    p moved to maps[beat][p] (`pitch_map`; None: as it is): the rhythm stays, onsets and lengths. Where a note
    lands on the pitch another note held until the step before, that one ends a 16th sooner, so the note is
    struck again rather than heard as one long note; two notes struck together on one pitch sound as one."""
    out, now = np.zeros_like(cells), np.zeros_like(heard)
    to = np.tile(np.arange(128), (len(cells), 1))  # where each step's pitch went
    for k, pitches in enumerate(maps):
        part = slice(k * beat, (k + 1) * beat)
        if pitches is None:
            out[part], now[part] = cells[part], heard[part]
            continue
        live = np.flatnonzero(pitches >= 0)
        np.maximum.at(out[part].T, pitches[live], cells[part].T[live])
        np.maximum.at(now[part].T, pitches[live], heard[part].T[live])
        to[part] = pitches
    starts = heard.copy()
    starts[1:] &= ~heard[:-1]  # where the source's notes start
    for t, p in zip(*np.nonzero(starts[1:])):
        q = to[t + 1, p]
        if q < 0:
            continue
        held = np.flatnonzero(heard[t] & (to[t] == q))  # the source notes sounding the step before, landing on q
        if len(held) and not heard[t, p]:
            out[t, q], now[t, q] = 0, False
    return out, now


def fits(cells: np.ndarray, beats: list, was: list, bass: bool, per: int | None = None) -> bool:
    """Whether a returning bar's sounding cells (steps, 128), checked under the source's chords (`was`, a Chord or
    None a beat, moved as the notes were), sit with its own chords (`beats`): each pitch that was a tone of the
    source's chord is a tone of the new one (the bass: a pedal, common tones, as real basses keep theirs under
    changed chords in 47 % of such returns), or, but in the bass (whose note names the chord), a tension no
    semitone from one (a 7th, a 9th, an 11th, a 6th over a held chord; a half step against a chord tone clashes);
    the source's passing notes pass again. per: the steps of a beat (None: the cells split evenly among the beats;
    a return's last bar, its last beat left to the band, reads its three beats as beats, not in thirds)."""
    per = per if per is not None else max(1, len(cells) // max(1, len(beats)))
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
