"""Chords for one call: what the band plays each bar, as the chord packs' decoder input and as steering.

A musician's chart (or the chords recognized in a followed part, or the progression of the bank chunk
a sketch starts from) is moved into the pack's key space and split into chunks. Every pack steers its
pitched lanes toward the bar's chord tones (the bass toward the root); chord packs also decode each
chunk with its chords and predict with them (BandNN).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ..lanes import DRUMS, LANES
from ..sketch.song import Song, note_runs
from ..theory.chords import (
    BEATS_PER_BAR,
    CHORD_FEATURES,
    NO_CHORD,
    RECOGNIZED,
    Chord,
    ChordError,
    bars_chroma,
    bars_of,
    best_chords,
    chart_period,
    chord_features,
    chord_of_features,
    fit_chart,
    flat_beats,
    parse_bar,
    parse_bars,
    parse_chord,
    per_beat,
    resolution,
    slot_chords,
    song_beats,
    third_of,
)

BASS = LANES.index("bass")
UPPER = tuple(i for i in range(len(LANES)) if i not in (DRUMS, BASS))
PITCHED = tuple(i for i in range(len(LANES)) if i != DRUMS)
TONE_SHARE = 0.1  # a chord tone with less of the bar's weight than this gets a voice (the recognizer needs 7 %)
FIT_ROUNDS = 3  # checks of the take against its chart: each round that finds a bar heard otherwise mends it harder


@lru_cache(maxsize=512)
def chord_map(chord: Chord | None, root: bool = False) -> np.ndarray:
    """For each of the 128 pitches, the chord tone it plays under `chord`: itself or the nearest (down on a tie).

    This is how arranger keyboards fit a pattern to a chord: the rhythm stays, pitches move to chord tones.
    root: only the chord's bass note (root or slash bass) counts, as for the bass on beat 1. No chord:
    every pitch stays. Cached: a chart has few chords.
    """
    pitches = np.arange(128)
    if chord is None:
        return pitches
    tones = np.zeros(12, dtype=bool)
    tones[[chord.lowest] if root else list(chord.tones)] = True
    targets = np.flatnonzero(tones[np.arange(128) % 12])  # every pitch that is a chord tone
    distance = pitches[:, None] - targets[None, :]  # > 0: the tone is below
    rank = np.abs(distance) * 2 - (distance > 0)  # nearest first; on a tie, the one below
    return targets[np.argmin(rank, axis=1)]


@lru_cache(maxsize=512)
def chord_tones(chord: Chord) -> np.ndarray:
    """(128,) bool: the pitches that are tones of `chord` (chord_map leaves them where they are). Cached."""
    out = chord_map(chord) == np.arange(128)
    out.flags.writeable = False
    return out


def same_tones(asked: Chord | None, heard: Chord | None) -> bool:
    """Whether a bar heard as `heard` plays the asked chord: its root and tone set (the slash bass aside)."""
    return asked is not None and heard is not None and asked.root == heard.root and set(asked.tones) == set(heard.tones)


def heard_as(asked: Chord, heard: Chord | None, share: np.ndarray) -> bool:
    """Whether a piece plays the asked chord as a listener hears it: recognized with its root and tones
    (same_tones); for a chord the recognizer has no name for (9, maj9, m9, add9, 7sus4, dim7, mMaj7), the
    recognized root with each of the chord's tones at least SCARCE_SHARE of the piece's weight (share: (12,))."""
    if same_tones(asked, heard):
        return True
    if asked.quality in RECOGNIZED or heard is None or heard.root != asked.root:
        return False
    return bool(np.all(share[list(asked.tones)] >= SCARCE_SHARE))


SCARCE_SHARE = 0.07  # the recognizer's own line for a tone it counts as played (chords._SCARCE)


def _move_class(cells: np.ndarray, source: int, target: int, keep: bool = False) -> None:
    """In place on a lane's (steps, 128) cells: every pitch of class `source` moves to the nearest pitch of
    class `target` (up on a tie; the larger probability stays where two land); keep: copied, not moved."""
    step = (target - source) % 12
    step = step if step <= 6 else step - 12
    for p in range(source, 128, 12):
        q = p + step
        if not 0 <= q < 128:
            continue
        np.maximum(cells[:, q], cells[:, p], out=cells[:, q])
        if not keep:
            cells[:, p] = 0.0


def _to_bass_note(cells: np.ndarray, chord: Chord) -> None:
    """In place on the bass's (steps, 128) cells: every note moved to the chord's bass note (nearest octave)."""
    moved = np.zeros_like(cells)
    np.maximum.at(moved.T, chord_map(chord, root=True), cells.T)
    cells[:] = moved


def _held_spans(notes: np.ndarray, starts, beat: int) -> list[tuple[int, int]]:
    """The steps (lo, hi) of a piece's bass (`notes`: (steps, 128) sounding) to move for each beat starting at
    `starts`: the beat, widened to the whole of every note sounding in it (struck before it and held into it, or
    held on past it), so a held note moves as one note rather than splitting at the beat."""
    sounding = notes.any(axis=1)
    out = []
    for lo in starts:
        hi = min(lo + beat, len(notes))
        if lo >= hi:
            continue
        while lo > 0 and (notes[lo - 1] & notes[lo]).any():  # a note struck before the beat, held into it
            lo -= 1
        while hi < len(notes) and sounding[hi - 1] and (notes[hi - 1] & notes[hi]).any():  # held on past it
            hi += 1
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return out


def _mend_bar(
    probs: np.ndarray, notes: np.ndarray, chord: Chord, heard: Chord | None, free, rank: int, beat: int | None = None
) -> None:
    """In place on one bar's (or one piece of a bar's) probs (5, steps, 128): make it sound `chord` (heard as
    `heard` now). beat: steps a beat (a quarter of `steps` when not given: a whole bar).

    rank 0: the bass plays the chord's bass note on beats 1 and 3 when the bar's root is misheard, and each
    chord tone with under TONE_SHARE of the bar's weight takes the voice of the upper lane's most played
    other tone (a 7th from a doubled root, a 6th from the fifth); rank 1: tones foreign to the chord (kept
    passing notes) move to chord tones, the bass plays its note all bar and a scarce tone is added, not
    moved; rank 2 and on: as rank 1, everything at once.
    """
    steps = probs.shape[1]
    beat = steps // 4 if beat is None else beat
    chroma, lowest = bars_chroma(notes[list(PITCHED)], steps, drums=None)
    chroma, lowest = chroma[0], lowest[0]
    total = max(float(chroma.sum()), 1.0)
    wrong_root = heard is None or heard.root != chord.root or int(np.argmax(lowest)) != chord.lowest
    if free[BASS] and (wrong_root or rank >= 1):
        bass = probs[BASS]
        if rank == 0:  # a note held across the beat moves whole (a held final hit split into four strikes)
            for lo, hi in _held_spans(notes[BASS], (0, 2 * beat), beat):
                _to_bass_note(bass[lo:hi], chord)
        else:
            _to_bass_note(bass, chord)
    upper = [i for i in UPPER if free[i] and notes[i].any()]
    if wrong_root and notes[BASS].any():
        _above_bass(probs, notes, chord, upper)
    if rank >= 1 and upper:
        mapped = chord_map(chord)
        for lane in upper:
            moved = np.zeros_like(probs[lane])
            np.maximum.at(moved.T, mapped, probs[lane].T)
            probs[lane] = moved
    tones = list(chord.tones)
    for tone in tones:
        if chroma[tone] >= TONE_SHARE * total or not upper:
            continue
        per_lane = notes[upper].sum(axis=1)  # (lanes, 128) sounding cells a pitch
        by_class = np.zeros((len(upper), 132))
        by_class[:, :128] = per_lane
        by_class = by_class.reshape(len(upper), 11, 12).sum(axis=1)  # (lanes, 12)
        others = [t for t in tones if t != tone]
        weight = by_class[:, others] + (np.array(others) == chord.lowest) * 0.5 * by_class[:, others].max()
        lane_i, donor_i = np.unravel_index(int(np.argmax(weight)), weight.shape)
        if by_class[lane_i, others[donor_i]] <= 0:
            continue
        lane, donor = upper[lane_i], others[donor_i]
        _move_class(probs[lane], donor, tone, keep=rank >= 1)
        chroma[tone] += chroma[donor] * 0.5  # do not pick the same voice twice for two tones
        chroma[donor] *= 0.5


def _above_bass(probs: np.ndarray, notes: np.ndarray, chord: Chord, upper: list[int]) -> None:
    """In place: at each step the bass sounds, an upper lane's notes under the bass's note (other than the
    chord's bass note) go up an octave, so the bass is heard as the bass (a guitar's G2 under a bass C3 makes
    Csus2 sound as Gsus4)."""
    bass = notes[BASS]
    for t in np.flatnonzero(bass.any(axis=1)):
        low = int(np.argmax(bass[t]))
        for lane in upper:
            for p in np.flatnonzero(notes[lane, t, :low])[::-1]:
                if p % 12 != chord.lowest and p + 12 < 128:
                    probs[lane, t, p + 12] = max(probs[lane, t, p + 12], probs[lane, t, p])
                    probs[lane, t, p] = 0.0


PASSING_STEPS = 3  # a passing note lasts at most a dotted 8th (three 16ths)


def keep_passing(src: torch.Tensor, mapped: torch.Tensor, is_tone: torch.Tensor, beat: int, floor: float):
    """Which cells of the decoded bars are passing or neighbour notes to keep as they are (bool, like src).

    src: probabilities (..., bars, bar_steps, 128) before they were moved to chord tones; mapped: the same
    after; is_tone: (..., bars, 128) the bar's chord tones; floor: the probability a cell sounds from. A cell
    is kept where a real player puts a note that is not in the chord: struck off the beat (a weak 16th or
    8th), short (over within PASSING_STEPS steps), and between two chord tones a step away (one or two
    semitones; in the moved notes, sounding the step before and one of the two steps after).
    """
    out = torch.zeros(src.shape, dtype=torch.bool, device=src.device)
    out.view(-1)[passing_cells(src, mapped, is_tone, beat, floor)] = True
    return out


def passing_cells(src: torch.Tensor, mapped: torch.Tensor, is_tone: torch.Tensor, beat: int, floor: float):
    """keep_passing's cells as flat positions in src (sorted, int64): the few candidates (sounding tones foreign
    to the bar's chord) are found in one pass and every other test reads only their neighbours."""
    steps, width = src.shape[-2], src.shape[-1]
    flat_on = (src >= floor).reshape(-1)
    cand = flat_on.nonzero()[:, 0]  # sounding cells: a few in a hundred
    bar = cand // (steps * width)  # (..., bars) flattened
    tone = is_tone.expand(*src.shape[:-2], width).reshape(-1, width)
    cand = cand[~tone[bar % tone.shape[0], cand % width]]  # not a chord tone
    t = (cand // width) % steps
    cand, t = cand[t % beat != 0], t[t % beat != 0]  # struck off the beat: never a bar's first step
    cand, t = cand[~flat_on[cand - width]], t[~flat_on[cand - width]]  # struck here (silent the step before)
    last = flat_on.numel() - 1
    held = torch.ones_like(cand, dtype=torch.bool)  # sounding PASSING_STEPS + 1 steps from here: too long
    for k in range(1, PASSING_STEPS + 1):
        held &= (t + k < steps) & flat_on[(cand + k * width).clamp_max(last)]
    cand, t = cand[~held], t[~held]
    if not len(cand):
        return cand
    q = cand % width
    sounds = mapped.reshape(-1)
    near = []  # a moved note a half or a whole step above or below, one step before and one or two after
    for dt in (-1, 1, 2):
        hit = torch.zeros_like(cand, dtype=torch.bool)
        inside = (t + dt >= 0) & (t + dt < steps)
        for dq in (-2, -1, 1, 2):
            ok = inside & (q + dq >= 0) & (q + dq < width)
            pos = (cand + dt * width + dq).clamp(0, last)
            hit |= ok & (sounds[pos] >= floor)
        near.append(hit)
    return cand[near[0] | near[1] | near[2]]


def _bars_notes(song: Song, steps: np.ndarray, span: int | None = None) -> np.ndarray:
    """Song.notes of these steps (whole bars) alone, side by side: what the mended bars play now, without
    reading the whole take again (a note held into a bar from the one before is read as struck there)."""
    span = song.steps_per_bar if span is None else span  # the pieces' length (a bar, a half bar, a beat)
    part = Song(song.probs[:, steps], song.steps_per_beat, span, song.threshold, settings=song.settings)
    return part.notes()


def _near_tone(on: np.ndarray, tone: np.ndarray, at: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """Per (step, pitch) pair: whether the roll `on` (steps, 128) sounds a chord tone (`tone`, same shape) a
    half or a whole step above or below `pitch` at step `at`."""
    hit = np.zeros(len(at), dtype=bool)
    for k in (-2, -1, 1, 2):
        q = np.clip(pitch + k, 0, 127)
        hit |= (pitch + k >= 0) & (pitch + k <= 127) & on[at, q] & tone[at, q]
    return hit


def _strays(
    song: Song, chords: list[Chord | None], free: np.ndarray, notes: np.ndarray, span: int | None = None
) -> bool:
    """In place on song.probs: each note of `notes` (the song's Song.notes) whose pitch is not a tone of its
    bar's chord moves to the nearest chord tone (chord_map), unless it is a passing note as `keep_passing`
    keeps them: struck off the beat, over within PASSING_STEPS steps, a step (1-2 semitones) from a chord tone
    its lane sounds the step before it starts or one of the two steps after it ends. Bars with no chord and
    lanes not free stay; the moved notes move in `notes` too. Returns whether a note moved. span: the steps each
    of `chords` (and each row of `free`) lasts, a bar when not given (a half bar or a beat for a finer chart)."""
    spb, beat, steps = song.steps_per_bar if span is None else span, song.steps_per_beat, song.n_steps
    bars = len(chords)
    tone_rows = np.ones((bars, 128), dtype=bool)  # a bar with no chord: every pitch fits
    targets = np.broadcast_to(np.arange(128), (bars, 128)).copy()  # chord_map of each bar's chord
    has_chord = np.zeros(bars, dtype=bool)
    for chord, rows in bars_of(chords).items():  # a chart has few chords
        tone_rows[rows] = chord_tones(chord)
        targets[rows] = chord_map(chord)
        has_chord[rows] = True
    bar_of = np.minimum(np.arange(steps) // spb, bars - 1)
    tone = tone_rows[bar_of]  # (steps, 128)
    last = steps - 1
    moved = False
    for lane in PITCHED:
        lane_free = np.repeat(free[:, lane], spb)[:steps]
        on = notes[lane]
        t, p = np.divmod(np.flatnonzero(on), on.shape[1])  # the lane's sounding cells: a few in a hundred
        odd = ~tone[t, p] & lane_free[t]
        if not odd.any():
            continue
        cols = np.unique(p[odd])
        pitches, starts, ends = note_runs(on[:, cols])
        pitches = cols[pitches]
        stray = ~tone[starts, pitches] & lane_free[starts]
        if not stray.any():
            continue
        pitches, starts, ends = pitches[stray], starts[stray], ends[stray]
        before = (starts > 0) & _near_tone(on, tone, np.maximum(starts - 1, 0), pitches)
        after = _near_tone(on, tone, np.minimum(ends, last), pitches) & (ends <= last)
        after |= _near_tone(on, tone, np.minimum(ends + 1, last), pitches) & (ends + 1 <= last)
        passing = (starts % beat != 0) & (ends - starts <= PASSING_STEPS) & (before | after)
        cells = song.probs[lane]
        pitches, starts, ends = pitches[~passing], starts[~passing], ends[~passing]
        length = ends - starts  # every cell of every note that moves, in order: note by note, step by step
        t = np.repeat(starts - np.cumsum(length) + length, length) + np.arange(int(length.sum()))
        p = np.repeat(pitches, length)
        go = lane_free[t] & has_chord[bar_of[t]]
        t, p = t[go], p[go]
        if not len(t):
            continue
        q = targets[bar_of[t], p]
        moved = True
        at, to = t * 128 + p, t * 128 + q
        if np.any(at == to) or len(np.intersect1d(at, to)):  # a note onto another's cell: one cell at a time
            for step, pitch, target in zip(t.tolist(), p.tolist(), q.tolist()):
                cells[step, target] = max(cells[step, target], cells[step, pitch])
                cells[step, pitch] = 0.0
                on[step, target], on[step, pitch] = True, False
            continue
        np.maximum.at(cells, (t, q), cells[t, p])
        cells[t, p] = 0.0
        on[t, q], on[t, p] = True, False
    return moved


@lru_cache(maxsize=512)
def _maps(chord: Chord | None) -> np.ndarray:
    """(2, 128): chord_map(chord) and chord_map(chord, root=True), read-only. Cached."""
    out = np.stack([chord_map(chord), chord_map(chord, root=True)])
    out.flags.writeable = False
    return out


STEERED = ("asked", "part", "bank")  # where a take's chords came from, when the band is held to them


@dataclass
class ChordPlan:
    """The chords of one call in the pack's key space: per chunk, decoder input and steering factors."""

    features: torch.Tensor  # (chunks, B, bars * 24): each bar's main chord (bar_chords); zeros for no chord
    # (chunks, B, bars * per_bar, 2, 128): per piece of a bar (a bar, a half bar or a beat, as finely as the
    # chart changes), the chord tone each pitch plays (chord_map) and, for the bass on the piece's first beat,
    # the chord's bass note it plays; None: unsteered
    maps: torch.Tensor | None
    thirds: torch.Tensor | None = None  # (chunks, B, bars * per_bar, 2): each piece's root pitch class and third
    per_bar: int = 1  # pieces a bar in maps and thirds

    def chunk(self, c: int) -> tuple[torch.Tensor, tuple | None]:
        """(features (B, bars * 24), (pitch maps (B, bars, 2, 128), thirds (B, bars, 2)) or None) of chunk c."""
        return self.features[c], ((self.maps[c], self.thirds[c]) if self.maps is not None else None)


def bar_item(item, bar: int) -> tuple:
    """One bar of a chord list given to generate: a Chord, None, a symbol ('Am7', 'N.C.') or a bar's text ('C Am')."""
    if item is None or isinstance(item, Chord):
        return (item,) * BEATS_PER_BAR
    if isinstance(item, tuple) and len(item) == BEATS_PER_BAR and all(c is None or isinstance(c, Chord) for c in item):
        return item  # a bar's beats (chords.parse_bars)
    if isinstance(item, str) and len(item.split()) > 1:
        return parse_bar(item, bar)
    return (None if isinstance(item, str) and item.strip() in NO_CHORD else parse_chord(item, bar=bar),) * BEATS_PER_BAR


def read_chords(chords, n_bars: int) -> list[Chord | None]:
    """A chart ('Am F C G', '| C Am | F G |': chords.parse_bars) or a list of one chord a bar (symbols, Chords,
    None or 'N.C.', or a bar's text 'C Am'), fitted to n_bars bars: a chord (or None) a beat.

    ChordError names an unknown symbol, its bar and the accepted forms.
    """
    if isinstance(chords, str):
        return flat_beats(parse_bars(chords, bars=n_bars))
    if not isinstance(chords, (list, tuple)) or not chords:
        raise ChordError("chords must be a chart like 'Am F C G' or a list of chord symbols, one a bar")
    return flat_beats(fit_chart([bar_item(item, bar + 1) for bar, item in enumerate(chords)], n_bars))


def chords_of_song(song: Song) -> list[Chord | None]:
    """A take's chords (Song.chords: each bar's chart text, in the song's key) a chord a beat; what does not read
    is no chord."""
    return song_beats(song.chords)


def bar_chords(beats: list) -> list[Chord | None]:
    """Each bar's main chord (the one it holds longest; the first on a tie): the chord packs' input, one a bar."""
    out = []
    for lo in range(0, len(beats), BEATS_PER_BAR):
        bar = list(beats[lo : lo + BEATS_PER_BAR])
        out.append(max(bar, key=lambda c: (bar.count(c), -bar.index(c))))
    return out


def fit_to_chart(song: Song, chords: list[Chord | None], free: np.ndarray) -> None:
    """In place on song.probs (in the song's key), on what Song.notes plays: every note off its chord (a chord a
    beat, `chords`) that is no passing note (`_strays`) moves to the nearest chord tone; then every bar (or half
    bar, or beat, as finely as the chart changes) not heard as its chord (chords.recognize, as a listener's ear
    and `musicvae evaluate` read it) is mended (`_mend_bar`), harder each round, for FIT_ROUNDS rounds; strays
    once more. free: (bars, 5), the lanes it may change."""
    per = resolution(chords)
    span = song.steps_per_bar // per
    n_bars = min(len(chords) // BEATS_PER_BAR, song.n_bars, free.shape[0])
    slots = slot_chords(chords[: n_bars * BEATS_PER_BAR], per)
    n = len(slots)
    chords = slots + [None] * (song.n_bars * per - n)
    free = np.repeat(free[: song.n_bars], per, axis=0)
    notes = song.notes()
    _strays(song, chords, free, notes, span)  # moves the notes in `notes` too
    asked = [i for i in range(n) if chords[i] is not None and free[i, list(PITCHED)].any()]
    for rank in range(FIT_ROUNDS):
        # the asked pieces alone, as chords.recognize hears them (each on its own)
        steps = (np.asarray(asked, dtype=np.int64)[:, None] * span + np.arange(span)).ravel()
        played = notes[np.asarray(PITCHED)[:, None], steps]
        chroma, lowest = bars_chroma(played, span, drums=None) if asked else (np.zeros((0, 12)), None)
        heard = dict(zip(asked, best_chords(chroma, lowest) if asked else []))
        shares = dict(zip(asked, chroma / np.maximum(chroma.sum(axis=1, keepdims=True), 1.0)))
        asked = [i for i in asked if not heard_as(chords[i], heard[i], shares[i])]
        if not asked:
            return
        for i in asked:
            lo = i * span
            _mend_bar(
                song.probs[:, lo : lo + span],
                notes[:, lo : lo + span],
                chords[i],
                heard[i],
                free[i],
                rank,
                song.steps_per_beat,
            )
        steps = (np.asarray(asked)[:, None] * span + np.arange(span)).ravel()
        notes[:, steps] = _bars_notes(song, steps, span)
    _strays(song, chords, free, notes, span)


def rest_no_chord(song: Song, chords: list[Chord | None], free: np.ndarray) -> bool:
    """In place on song.probs: the beats a chart marks N.C. (None) rest in every free pitched lane (the drums play
    on, as a band does on a written N.C.). free: (bars, 5). Returns whether a beat rested."""
    beat = song.steps_per_beat
    rested = False
    for i, chord in enumerate(chords[: song.n_bars * BEATS_PER_BAR]):
        if chord is not None:
            continue
        bar = i // BEATS_PER_BAR
        lanes = [lane for lane in PITCHED if bar < free.shape[0] and free[bar, lane]]
        if lanes:
            song.probs[lanes, i * beat : (i + 1) * beat] = 0.0
            rested = True
    return rested


def plan_args(plan: ChordPlan | None, c: int, b: int | None = None) -> dict:
    """Decoder.decode's chords and steer arguments for chunk c of a plan (only take b's when given)."""
    if plan is None:
        return {}
    chords, steer = plan.chunk(c)
    if b is not None:
        chords, steer = chords[b : b + 1], (tuple(t[b : b + 1] for t in steer) if steer is not None else None)
    return {"chords": chords, "steer": steer}


class Chording:
    """Chord plans for one call: what the decoder reads and the loop steers to, from a chart, a take or the bank."""

    def __init__(self, cfg, device: torch.device, band):
        """band: the pack's nets (chord packs keep the bank's chords in band.bank_chords)."""
        self.cfg = cfg
        self.device = device
        self.band = band

    def plan(self, chords: list[Chord | None] | None, shift: int, batch: int, chunks: int, steer: bool = True):
        """A ChordPlan for `chunks` chunks from a chord a beat in the song's key (None: no chords), moved
        `shift` semitones into the pack's key space; None where the pack neither reads nor is steered by chords.
        The chord packs read each bar's main chord (their training had one a bar); the steering follows the
        chart as finely as it changes (a bar, a half bar or a beat)."""
        bars = self.cfg.bars
        if chords is None and not self.cfg.chords:
            return None
        given = fit_chart(list(chords or []), chunks * bars * BEATS_PER_BAR)
        rows = chord_features(bar_chords(given), shift)
        feats = torch.as_tensor(rows, device=self.device).view(chunks, 1, bars * CHORD_FEATURES)
        feats = feats.expand(chunks, batch, -1).contiguous()
        maps = None
        if steer and chords:
            per = resolution(given)
            slots = slot_chords(given, per)
            pieces = bars * per
            moved = {c: c.transposed(shift) if c is not None else None for c in set(slots)}  # a chart has few chords
            rows = [_maps(moved[c]) for c in slots]
            maps = torch.as_tensor(np.stack(rows), device=self.device).view(chunks, 1, pieces, 2, 128)
            maps = maps.expand(chunks, batch, pieces, 2, 128).contiguous()
            roots = [(moved[c].root, third_of(c)) if c is not None else (0, 0) for c in slots]
            thirds = torch.as_tensor(roots, device=self.device).view(chunks, 1, pieces, 2)
            return ChordPlan(feats, maps, thirds.expand(chunks, batch, pieces, 2).contiguous(), per)
        return ChordPlan(feats, maps)

    def song_chords(self, song: Song, bars: int | None = None) -> list[Chord | None] | None:
        """The take's chords, a chord a beat (repeated to `bars` bars when given), or None when it has none."""
        if not song.chords:
            return None
        chords = chords_of_song(song)
        return fit_chart(chords[: chart_period(chords)], BEATS_PER_BAR * (song.n_bars if bars is None else bars))

    def song_plan(self, song: Song, start_chunk: int, chunks: int, batch: int) -> ChordPlan | None:
        """The plan for `chunks` chunks of a take from chunk `start_chunk` on, from the take's own chords
        (repeated past its end, for Continue); steered when they were asked for, a followed part's or the bank's."""
        bars = self.cfg.bars
        chords = self.song_chords(song, (start_chunk + chunks) * bars)  # round and round past the end
        if chords:
            chords = chords[start_chunk * bars * BEATS_PER_BAR :]
        steer = song.settings.get("chords") in STEERED
        return self.plan(chords, -int(song.settings.get("transpose", 0)), batch, chunks, steer=steer)

    def bank_chords(self, rows: torch.Tensor, shift_out: int) -> list[Chord | None] | None:
        """The chords the bank chunk `rows[0]` played (chord packs), in the song's key, a chord a beat of a chunk."""
        bank = getattr(self.band, "bank_chords", None)
        if bank is None:
            return None
        feats = bank[int(rows[0])].view(self.cfg.bars, CHORD_FEATURES).cpu().numpy()
        out = [chord_of_features(row) for row in feats]
        if not any(out):
            return None
        return per_beat([c.transposed(shift_out) if c is not None else None for c in out])
