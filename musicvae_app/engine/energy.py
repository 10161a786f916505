"""Sections with energy: a chorus lifts, a verse is lighter, an intro leads in, an outro ends.

Each section's energy 1-5 (theory/sections.Section.level: its own, else its kind's: intro 2, verse 3, chorus 4,
outro 2) shapes the take's probabilities in its bars, on the lanes the take may change:

- `density`, after the groove: each lane plays as many notes as real songs' lanes do at that energy. The pack's
  `energy.json` (learned from the training songs by training/energy.py: 4-bar blocks ranked into fifths by the
  band's notes) gives a lane's notes a bar at each level over level 3's (e.g. guitar 0.43 / 0.75 / 1 / 1.21 /
  1.43; a pitched lane's step from 3 to 4 is the table's learned verse-to-chorus `contrast`, guitar x1.81:
  `notes_at`); a section's note starts, counted as Song.notes decodes them, go to the lane's own rate over the take x
  its level's figure over the take's mean figure, by one logit shift per section, lane and variation. Which
  notes sound moves; a note that sounds either way keeps its probability. A section of energy 4-5 lifts its drums
  part by part instead (`lift_drums`, engine/drum_lift.py: kick, backbeat, hats and ride, ... each by the learned
  `drum_contrast` over the verses' hits). Louder is theory/dynamics.LEVEL_LIFT;
- `shape`, before the groove: at 2 one of piano and guitar lays out, at 1 the strings and drums too; at 5 piano,
  guitar and bass strike held notes again on every beat; the drums: at 4 the closed hats on the off-beat 8ths
  open (a bar with none there moves to the ride), at 5 every closed hat opens or moves to the ride (real songs'
  share of open hats and ride among hats rises with the level only a little, 0.34 at 3 to 0.37 at 4 and 0.38 at
  5: this follows the issue and players' habit more than the data); at 1-2 the ride and open hats close; a
  section of energy 4-5 opens with a crash and a kick on its first beat;
- `ending`, last: the take's last bar, when the form ends in an outro (or an ending), is a final hit: the
  pitched lanes hold the notes of the bar's first beat (or those they ended the bar before on) to the end, the
  drums play a crash and a kick on beat 1 and stop.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..lanes import DRUMS, LANES
from ..resources import resources_dir
from ..theory.dynamics import BACKBEAT, KICKS
from ..theory.sections import song_end
from . import drum_lift, fuller
from .ties import sounding

log = logging.getLogger(__name__)

LOGIT = 0.7  # per energy step, a lane's shift where it plays no note to count (no table, or a silent section)
MAX_SHIFT = 3.0  # the furthest a lane's logits move to reach its level's notes
# the furthest a chorus's drum parts move (lift_drums): the verse's 8th hats leave their 16ths at 0.02-0.05, where
# +3 brought few in (hats and ride chorus over verse x1.11 on 6 free takes; +5: x1.19)
DRUM_SHIFT = 5.0
ENERGY_FILE = "energy.json"
COMPERS = (0, 1)  # piano, guitar: at energy 2 one comps and the other lays out
STRINGS = LANES.index("strings")
DRIVEN = (0, 1, 2)  # piano, guitar, bass: at energy 4-5 held notes are struck again on the beat (8th)
CLOSED_HATS = (42, 44)
OPEN_HAT, RIDE, CRASH, KICK = 46, 51, 49, 36
LIGHT_HAT = 42
LOUD_CYMBALS = (46, 51, 53, 59)


@lru_cache(maxsize=8)
def table(pack_folder: str | None = None) -> dict:
    """The pack's energy.json (training/energy.py); a pack without one uses the default pack's (logged, with why).
    {"notes": {lane: [5 levels over level 3]}, ...}."""
    default = resources_dir() / "models" / "default" / ENERGY_FILE
    path = Path(pack_folder) / ENERGY_FILE if pack_folder else default
    if not path.is_file():
        log.info("pack %s has no %s: its sections use the default pack's energy table", pack_folder, ENERGY_FILE)
        path = default
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        log.warning("%s unreadable (%s): sections shift every lane by %.1f a level", path, exc, LOGIT)
        return {}


def notes_at(energy: dict, lane: int, level: int, contrast: bool = True) -> float | None:
    """Notes a bar of `lane` at `level` over level 3's, from the table; None without one.

    The fifths are a song's 4-bar blocks ranked by the band's notes, so level 4 over 3 is a step between
    neighbouring fifths (x1.10-1.21), where a real song's choruses over its verses are its fuller half over its
    lighter half (x1.5-1.8 on the 48 validation songs' 8-bar blocks). Where the table has it (`contrast`, learned
    by training/energy.py the same way from the training songs), a pitched lane's step from level 3 to 4 is the
    contrast's, and level 5 keeps its step over 4; levels 1-3 are the fifths'. The drums keep the fifths' steps
    (their kit is kept: engine/kit.py). contrast=False: the fifths' steps alone (lighter.settle's bound)."""
    row = (energy.get("notes") or {}).get(LANES[lane])
    if not row or len(row) < 5 or row[2] <= 0:
        return None
    level = min(max(level, 1), 5)
    figure = float(row[level - 1]) / float(row[2])
    step = (energy.get("contrast") or {}).get(LANES[lane]) if contrast else None
    if level >= 4 and lane != DRUMS and step and row[3] > 0:
        figure = float(step) * float(row[level - 1]) / float(row[3])
    return figure


def _starts(on: np.ndarray, drums: bool) -> np.ndarray:
    """Note starts in (..., steps, 128) cells, per leading index: a drum cell is a hit; a pitched note starts where
    the cell before is off."""
    if drums:
        return on.sum(axis=(-1, -2))
    return on[..., 0, :].sum(axis=-1) + (on[..., 1:, :] & ~on[..., :-1, :]).sum(axis=(-1, -2))


def decoded_starts(part: np.ndarray, threshold: float, decoding, spb: int, drums: bool):
    """Note starts of part (steps, 128), or of each of (B, steps, 128), as the take will decode them (Song.notes):
    bar fill, sustain (hysteresis) and restrike, decoding = (fill, sustain, restrike) of the lane (None: the cells
    at the threshold). An int for one part, an array of B for several."""
    one = part.ndim == 2
    got = _starts(decoded_on(part[None] if one else part, threshold, decoding, spb, drums), drums)
    return int(got[0]) if one else got


def decoded_on(part: np.ndarray, threshold: float, decoding, spb: int, drums: bool) -> np.ndarray:
    """(B, steps, 128) bool: the cells of part (B, steps, 128) that sound as the take will decode them
    (`decoded_starts`; ties.sounding: bar fill, sustain, restrike)."""
    if decoding is None or drums:
        return part >= threshold
    return sounding(part, threshold, decoding, spb)


def _shifted(part: np.ndarray, shift: float) -> np.ndarray:
    logit = np.log(np.clip(part, 1e-6, 1 - 1e-6) / np.clip(1 - part, 1e-6, 1)) + shift
    return np.where(part > 0, 1 / (1 + np.exp(-logit)), 0.0)


DECODING = (("fill", 1.0), ("sustain", 1.0), ("restrike", 0.0))  # Song.notes' per-lane settings, their offs


def decoding_of(settings) -> list[tuple[float, float, float]]:
    """Each lane's (fill, sustain, restrike) from settings (the card, a Song's settings); a missing one is off."""
    out = []
    for name, off in DECODING:
        value = getattr(settings, name, None)
        value = off if value is None else value
        out.append(np.broadcast_to(np.asarray(value, dtype=float), (len(LANES),)))
    return [tuple(float(v[i]) for v in out) for i in range(len(LANES))]


def fit_shift(
    part: np.ndarray,
    target,
    threshold: float,
    decoding,
    spb: int,
    drums: bool,
    keep: bool = False,
    onsets=0.0,
    limit: float = MAX_SHIFT,
):
    """The logit shift (within +-MAX_SHIFT) whose decoded note starts in part (steps, 128) come nearest `target`,
    or one shift for each of (B, steps, 128) and B targets: a bisection (a denser lane can merge notes under
    sustain, so starts rise with the shift only mostly; the nearest shift tried wins, of equals the smallest).
    Only the pitches that can sound at +MAX_SHIFT are decoded. keep: the starts are counted as `density` applies
    the shift (`_applied`: a note sounding either way keeps its probability, a note added plays as surely as the
    lane's usual one), whose restrike dips and sustain differ from the plain shift's (a chorus's strings came out
    x1.2 their target with the plain shift counted); onsets: as `_applied`'s (with keep); limit: the furthest shift."""
    one = part.ndim == 2
    part = part[None] if one else part
    target = np.broadcast_to(np.asarray(target, dtype=float), (len(part),))
    usual = np.array([_usual(p, threshold) for p in part]) if keep else None
    floor = threshold * min((1.0, *(decoding[:2] if decoding is not None and not drums else ())))
    reach = 1 / (1 + np.exp(-(np.log(floor / (1 - floor)) - limit)))
    part = part[..., part.max(axis=(0, 1)) >= reach]
    best = np.zeros(len(part))
    if part.shape[-1]:
        logit = np.log(np.clip(part, 1e-6, 1 - 1e-6) / np.clip(1 - part, 1e-6, 1))
        zero = part <= 0

        def gap(shift: np.ndarray) -> np.ndarray:
            shifted = 1 / (1 + np.exp(-(logit + shift[:, None, None])))
            shifted[zero] = 0.0
            if usual is not None:
                shifted = _applied(part, shifted, threshold, usual[:, None, None], onsets)
            return decoded_starts(shifted, threshold, decoding, spb, drums) - target

        best_gap = np.abs(gap(best))
        lo, hi = np.full(len(part), -limit), np.full(len(part), limit)
        for _ in range(7):  # to 0.05 of a logit
            mid = (lo + hi) / 2
            got = gap(mid)
            better = (np.abs(got) < best_gap - 1e-9) | ((np.abs(got) <= best_gap + 1e-9) & (np.abs(mid) < np.abs(best)))
            best = np.where(better, mid, best)
            best_gap = np.where(better, np.abs(got), best_gap)
            lo = np.where(got < 0, mid, lo)
            hi = np.where(got < 0, hi, mid)
    return float(best[0]) if one else best


def _usual(part: np.ndarray, threshold: float) -> float:
    """The median probability of the notes sounding in part (at the threshold), or the threshold."""
    was = part >= threshold
    return float(np.median(part[was])) if was.any() else threshold


def _applied(part: np.ndarray, moved: np.ndarray, threshold: float, usual, onsets: float = 0.0) -> np.ndarray:
    """part's cells (..., steps, 128) after a shift to `moved` as `density` applies it: a cell sounding before and
    after keeps its probability, a cell the shift brings in plays at least at `usual` (the lane's usual
    confidence). onsets (a probability, the lane's bar-fill floor: threshold x fill; 0 off): a note the shift
    brings in over that floor that would start on a step where a note starts already stays
    out (the cells as they were), so a fuller section gets more onsets, as real choruses do, and its notes struck
    together come from fuller.lift at the learned voicing: the plain shift added chord notes to the onsets there
    (free form takes: notes struck together chorus over verse x1.13-1.27, real fuller over lighter x1.06-1.13).
    A lane may come in on a bar it left silent (a chorus's guitar comping where the verse had none): tried
    without, a free take's chorus lost its guitar (seed 10: 173 -> 73 guitar notes)."""
    was = part >= threshold
    now = moved >= threshold
    out = np.where(was & now, part, np.where(~was & now, np.maximum(moved, usual), moved))
    if not onsets:
        return out
    floor = float(onsets)  # the lowest probability that sounds in a playing bar (the lane's bar fill)
    added = (part < floor) & (moved >= floor)
    was = part >= floor
    first = added.copy()
    first[..., 1:, :] &= ~added[..., :-1, :]  # where each added run starts
    struck = was.copy()
    struck[..., 1:, :] &= ~was[..., :-1, :]
    taken = struck.any(axis=-1, keepdims=True)  # steps where a note starts already
    # label the added runs (time within pitch), and drop each whose first cell falls on such a step
    runs = np.swapaxes(added, -1, -2)
    starts = np.swapaxes(first, -1, -2)
    ids = np.cumsum(starts.reshape(-1)).reshape(runs.shape)
    blocked = np.swapaxes(first & taken, -1, -2)
    gone = np.isin(ids, ids[blocked]) & runs
    return np.where(np.swapaxes(gone, -1, -2), part, out)


def _rates(probs, free, n_bars, threshold, spb, decoding) -> np.ndarray:
    """(5, B): each lane's note starts a bar over the take's free bars, as decoded: what the model plays at the
    song's usual energy (the middle fifth, level 3), the mark a section's level scales."""
    out = np.zeros(probs.shape[:2])
    for lane in range(probs.shape[0]):
        rows = np.repeat(free[:n_bars, lane], spb)
        if rows.any():
            how = decoding[lane] if decoding is not None else None
            part = probs[lane, :, : n_bars * spb][:, rows]
            out[lane] = decoded_starts(part, threshold, how, spb, lane == DRUMS) / (rows.sum() / spb)
    return out


def shape(probs: np.ndarray, sections, free: np.ndarray, threshold: float, spb: int) -> None:
    """Before the groove, in place on probs (5, B, steps, 128) in the song's key; free: (bars, 5) bool, what the
    take may change: the lanes that lay out in a light section, the drive of an energy-5 one, the hats, crashes."""
    if not sections:
        return
    n_bars = min(free.shape[0], probs.shape[2] // spb)
    loud = max(threshold + 1e-3, 0.95)
    for sec in sections:
        level = sec.level
        first, last = sec.start - 1, min(sec.end, n_bars)
        if first >= n_bars:
            continue
        if level >= 5:
            drive(probs, first, last, free, threshold, spb, level)
        if level <= 2:
            lay_out(probs, first, last, free, threshold, spb, level)
        for bar in range(first, last):
            cells = slice(bar * spb, (bar + 1) * spb)
            if not free[bar, DRUMS]:
                continue
            drums = probs[DRUMS, :, cells]
            if level >= 4:  # at 4 the off-beat hats open (a bar with none there: its hats go to the ride)
                _open_up(drums, spb, everywhere=level >= 5 or not _off_beat_hats(drums, spb, threshold))
            elif level <= 2:
                _close(drums)
        if level >= 4 and free[first, DRUMS]:
            down = first * spb
            probs[DRUMS, :, down, CRASH] = loud
            probs[DRUMS, :, down, KICK] = loud


def density(
    probs: np.ndarray,
    sections,
    free: np.ndarray,
    threshold: float,
    spb: int,
    energy: dict | None = None,
    decoding=None,
    voiced: bool = False,
) -> None:
    """After the groove (whose restrikes add notes alike in every section), in place on probs: each lane's note
    starts in a section of level L become its starts a bar over the take (`_rates`) x the table's level-L figure
    (`notes_at`) over the take's mean figure (so the take keeps its notes, spread from its light sections to its
    full ones), by the one logit shift that gets nearest (`fit_shift`); the shift moves which notes sound, a note
    that sounds either way keeps its probability (its velocity). A lane silent over the take moves by LOGIT a
    level. energy: the pack's table (`table`; None: the default pack's);
    decoding: the take's per-lane (fill, sustain, restrike) as Song.notes reads them (`decoding_of`); voiced: a
    lifted section's piano, guitar and strings will voice fuller after this (fuller.lift), so their note starts here
    aim at the level's notes over its voicing figure (the notes heard at the end are the level's)."""
    if not sections:
        return
    energy = table() if energy is None else energy
    n_bars = min(free.shape[0], probs.shape[2] // spb)
    rate = _rates(probs, free, n_bars, threshold, spb, decoding)
    # the take as a whole keeps the notes the model (and the calibration) gave it: a lane's rate is its mean level's
    mean = np.ones(probs.shape[0])
    even = np.zeros(probs.shape[0], dtype=bool)  # lanes whose sections all share one figure: left as they are
    for lane in range(probs.shape[0]):
        levels = [(notes_at(energy, lane, s.level), s) for s in sections]
        weights = [(f, max(0, min(s.end, n_bars) - s.start + 1)) for f, s in levels if f is not None]
        if weights and sum(w for _, w in weights):
            mean[lane] = sum(f * w for f, w in weights) / sum(w for _, w in weights)
        even[lane] = len({round(f, 9) for f, _ in levels if f is not None}) <= 1 and all(f for f, _ in levels)
    rate = rate / mean[:, None]
    lifted = None  # the drums' parts' hits a bar in the verses, where a section lifts them part by part (drum_lift)
    if any(drum_lift.figures(energy, s.level) is not None for s in sections) and free[:n_bars, DRUMS].any():
        lifted = drum_lift.rates(probs[DRUMS], sections, free[:, DRUMS], n_bars, threshold, spb, mean[DRUMS])
    for sec in sections:
        level = sec.level
        first, last = sec.start - 1, min(sec.end, n_bars)
        if first >= n_bars:
            continue
        span = slice(first * spb, last * spb)
        for lane in np.flatnonzero(free[first:last].any(axis=0) & ~even):
            rows = np.repeat(free[first:last, lane], spb)
            if lane == DRUMS and lifted is not None and (parts := drum_lift.figures(energy, level)) is not None:
                lift_drums(probs, span, rows, lifted * parts[:, None], threshold, spb)
                continue
            factor = notes_at(energy, lane, level)
            voicing = fuller.level_figure(energy, lane, level) if voiced and lane in fuller.VOICED else None
            if factor is not None and voicing and level > 3:
                factor /= voicing
            how = decoding[lane] if decoding is not None else None
            # a lane that will voice fuller: the lowest probability that sounds in a playing bar (`_applied`)
            onsets = threshold * min(1.0, how[0]) if voiced and lane in fuller.VOICED and how else 0.0
            part = probs[lane, :, span][:, rows]  # (B, steps, 128)
            # the drums keep their kit: in each bar with a kick and a backbeat, the surest of each stays, and the
            # level's notes come from the rest (hats, ghost notes, fills, further kicks), the least sure first
            # a pitched lane keeps its bars: in each bar it plays, its surest note stays (a lighter verse thinned
            # whole bars away, the bars played falling with it)
            # (the strings' pads thin as the model's do: with their bars kept they played 88.8 % of bars of 48
            # validation charts' form takes against main's 84.6 %, real 83.6 %)
            if lane == DRUMS:
                core, kept = kit_core(part, threshold, spb), None
            elif lane != STRINGS:
                core, kept = bar_core(part, threshold, spb, how)
            else:
                core, kept = np.zeros(part.shape, dtype=bool), np.zeros(len(part))
            shift = np.full(len(part), LOGIT * (level - 3))
            known = rate[lane] > 0
            if factor is not None and known.any():
                counted = core[known].sum(axis=(1, 2)) if kept is None else kept[known]
                target = rate[lane, known] * factor * rows.sum() / spb - counted
                rest = np.where(core[known], 0.0, part[known])
                drums = lane == DRUMS
                shift[known] = fit_shift(
                    rest, np.maximum(target, 0.0), threshold, how, spb, drums, keep=not drums, onsets=onsets
                )
            for b in np.flatnonzero(shift):  # which notes sound moves; a note sounding either way keeps its
                moved = _shifted(part[b], shift[b])  # confidence (so its velocity: LEVEL_LIFT makes a chorus louder)
                moved[core[b]] = part[b][core[b]]
                # a note the level adds plays as surely as the lane's usual one
                moved = _applied(part[b], moved, threshold, _usual(part[b], threshold), onsets)
                if lane != DRUMS and shift[b] < 0 and known[b] and factor is not None:
                    # sure notes a logit shift cannot move (a piano's verse stayed at x1.2 its target): the least
                    # sure notes go whole, the bars' surest kept; where a lifted section will voice fuller, whole
                    # onsets go instead of the shift (the shift thinned the verse's chords: notes struck together
                    # 1.68 against main's 1.97 on the piano of free form takes)
                    want = rate[lane, b] * factor * rows.sum() / spb
                    whole = bool(onsets) and lane != STRINGS  # held pads: their least sure notes go
                    moved = drop_weakest(part[b] if whole else moved, want, threshold, how, spb, core[b], whole)
                probs[lane, b, span][rows] = moved


def lift_drums(probs: np.ndarray, span: slice, rows: np.ndarray, rate: np.ndarray, threshold: float, spb: int):
    """In place on probs (5, B, steps, 128): the drums' cells in span (rows: its steps the take may change) lift
    part by part (drum_lift.pitch_sets: kick, backbeat, hats and ride, toms, crashes, other percussion) to `rate`
    (parts, B) hits a bar, each part by one logit shift of its own pitches (`fit_shift`), upward only (a chorus
    never loses a hit the model gave it: the crash on its first beat stays); the kit's surest kick and backbeat
    (`kit_core`) keep their probabilities, a hit sounding either way keeps its own, one brought in plays as surely
    as the kit's usual hit (`_applied`), a cell left unheard keeps its chance."""
    part = probs[DRUMS, :, span][:, rows]  # (B, steps, 128), a copy
    core = kit_core(part, threshold, spb)
    bars = rows.sum() / spb
    # a hit brought in plays as surely as the kit's usual hit (the part's own: a sparse kit's snare hits just over
    # the threshold, new ones on beat 1 and 4 sounded as ghost notes, velocity 35-52)
    usual = [_usual(p, threshold) for p in part]
    for i, pitches in enumerate(drum_lift.pitch_sets()):
        cells = part[..., pitches]
        if not (cells > 0).any():
            continue
        kept = core[..., pitches]
        target = rate[i] * bars - kept.sum(axis=(1, 2))
        rest = np.where(kept, 0.0, cells)
        shift = fit_shift(rest, np.maximum(target, 0.0), threshold, None, spb, True, limit=DRUM_SHIFT)
        shift = np.maximum(shift, 0.0)
        for b in np.flatnonzero(shift):
            moved = _shifted(cells[b], shift[b])
            moved[kept[b]] = cells[b][kept[b]]
            moved = np.where(moved >= threshold, moved, cells[b])  # a cell left unheard keeps its chance (the
            # ghost notes, drawn take-wide from the unheard snares, took the raised chorus's and left the verse's)
            part[b][:, pitches] = _applied(cells[b], moved, threshold, usual[b])
    probs[DRUMS, :, span][:, rows] = part


def drop_weakest(
    cells: np.ndarray, target: float, threshold: float, decoding, spb: int, keep=None, whole: bool = False
) -> np.ndarray:
    """cells (steps, 128) of a pitched lane less their least sure notes as decoded (`decoded_on`: a note is a run
    of sounding cells of one pitch; its sureness the mean probability of its cells), silenced whole until at most
    `target` note starts are left; a note holding a `keep` cell (steps, 128 bool) stays. A lighter section plays
    fewer notes, the notes it keeps as they were (a logit shift down splits held notes into more under the lane's
    restrike and sustain, and leaves sure notes sounding). A silenced note can let a dip that split another note
    sound again, so the count is taken again after each round (at most 4). whole: the notes starting on one step go
    together, the least sure onsets first (a lighter verse plays fewer chords, voiced as they were: real lighter
    blocks voice about as full, 2.30 notes struck together against the fuller blocks' 2.44 on the piano)."""
    out = cells.copy()
    for _ in range(4):
        on = decoded_on(out[None], threshold, decoding, spb, False)[0]
        notes = []  # (mean probability, pitch, first step, end)
        for pitch in np.flatnonzero(on.any(axis=0)):
            col = np.concatenate([[False], on[:, pitch], [False]]).astype(np.int8)
            edges = np.flatnonzero(np.diff(col))
            for lo, hi in zip(edges[::2], edges[1::2]):
                if keep is None or not keep[lo:hi, pitch].any():
                    notes.append((float(out[lo:hi, pitch].mean()), int(pitch), int(lo), int(hi)))
        extra = int(_starts(on[None], False)[0]) - int(np.floor(target + 1e-9))
        if extra <= 0 or not notes:
            break
        if not whole:
            for _, pitch, lo, hi in sorted(notes)[:extra]:
                out[lo:hi, pitch] = 0.0
            continue
        onsets: dict[int, list] = {}  # the notes starting on each step: an onset goes whole, its surest note counts
        for note in notes:
            onsets.setdefault(note[2], []).append(note)
        for group in sorted(onsets.values(), key=lambda g: max(n[0] for n in g)):
            if extra <= 0:
                break
            for _, pitch, lo, hi in group:
                out[lo:hi, pitch] = 0.0
            extra -= len(group)
    return out


def bar_core(part: np.ndarray, threshold: float, spb: int, decoding) -> tuple[np.ndarray, np.ndarray]:
    """(B, steps, 128) bool over a pitched lane's probabilities (B, steps, 128) of whole bars: in each bar where
    it sounds (as decoded, `decoded_on`), the note holding its surest cell (the run of sounding cells of that
    pitch); and per take how many such notes: what a lighter section keeps, so the lane plays the bars it played."""
    on = decoded_on(part, threshold, decoding, spb, False)
    out = np.zeros(part.shape, dtype=bool)
    count = np.zeros(len(part))
    n_bars = part.shape[1] // spb
    for b in range(len(part)):
        for bar in range(n_bars):
            lo, hi = bar * spb, (bar + 1) * spb
            cells = np.where(on[b, lo:hi], part[b, lo:hi], -1.0)
            t, p = np.unravel_index(int(np.argmax(cells)), cells.shape)
            if cells[t, p] < 0:
                continue
            t += lo
            start, end = t, t + 1
            while start > 0 and on[b, start - 1, p] and not out[b, start - 1, p]:
                start -= 1
            while end < on.shape[1] and on[b, end, p]:
                end += 1
            if out[b, start:end, p].any():  # the note that holds the bar before's surest: already kept
                continue
            out[b, start:end, p] = True
            count[b] += 1
    return out, count


def kit_core(part: np.ndarray, threshold: float, spb: int) -> np.ndarray:
    """(B, steps, 128) bool over drum probabilities (B, steps, 128) of whole bars: in each bar that plays a kick and
    a backbeat (snare, clap or side stick), the surest kick and the surest backbeat: what a lighter section keeps."""
    out = np.zeros(part.shape, dtype=bool)
    n_bars = part.shape[1] // spb
    for pitches in (KICKS, BACKBEAT):
        cells = part[:, : n_bars * spb, list(pitches)].reshape(len(part), n_bars, -1)  # (B, bars, spb * pitches)
        best = cells.argmax(axis=2)
        sure = np.take_along_axis(cells, best[..., None], axis=2)[..., 0] >= threshold
        steps, which = np.divmod(best, len(pitches))
        for b, bar in zip(*np.nonzero(sure)):
            out[b, bar * spb + steps[b, bar], pitches[which[b, bar]]] = True
    both = out.reshape(len(part), -1, spb * 128)[:, :n_bars]
    lone = both.sum(axis=2) < 2  # a bar with a kick or a backbeat only is not a kit bar: nothing kept
    out[:, : n_bars * spb][np.repeat(lone, spb, axis=1)] = False
    return out


def ending(probs: np.ndarray, sections, free: np.ndarray, threshold: float, spb: int) -> bool:
    """After the groove (whose restrikes and colours would break a held chord): when the form ends in an outro
    (or an ending, a coda), its last bar is a final hit (final_hit) and the bars after it, up to the take's
    last whole chunk (a form of 22 bars in 4-bar chunks), rest: the song has ended. Where a kept lane (a followed
    part's, a locked one: not free) plays on after the form, the take goes on with it: only a form that ends on the
    take's last bar ends it (a part gone round until the form ends stops with the form: that one ends). Whether it
    did."""
    n_bars = min(free.shape[0], probs.shape[2] // spb)
    end = song_end(sections)
    if end is None or not n_bars or end > n_bars or (end < n_bars and _kept_play_on(probs, free, end, threshold, spb)):
        return False
    final_hit(probs, end - 1, free, threshold, spb)
    for bar in range(end, n_bars):
        probs[np.flatnonzero(free[bar]), :, bar * spb : (bar + 1) * spb] = 0.0
    return True


def _kept_play_on(probs: np.ndarray, free: np.ndarray, start: int, threshold: float, spb: int) -> bool:
    """Whether a kept lane (not free in that bar) sounds in a bar from `start` (0-based) to the take's end."""
    for bar in range(start, min(free.shape[0], probs.shape[2] // spb)):
        kept = np.flatnonzero(~free[bar])
        if len(kept) and (probs[kept, :, bar * spb : (bar + 1) * spb] >= threshold).any():
            return True
    return False


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
    """A lifted section (energy 5): piano, guitar and bass strike a held note again on every beat, as a band
    pushes a last chorus; the strings hold (pads stay pads). A one-step gap before each strike; the notes a
    bar are then brought to the level's (shape)."""
    every = max(1, spb // 4)
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


def _open_up(drums: np.ndarray, spb: int, everywhere: bool = True) -> None:
    """(B, bar steps, 128): closed hats open on the off-beat 8ths and (everywhere) move to the ride elsewhere."""
    eighth = max(1, spb // 8)
    beat = max(1, spb // 4)
    for step in range(drums.shape[1]):
        off_eighth = bool(step % beat) and not step % eighth
        if not off_eighth and not everywhere:
            continue
        target = OPEN_HAT if off_eighth else RIDE
        closed = drums[:, step, list(CLOSED_HATS)].max(axis=-1)
        drums[:, step, target] = np.maximum(drums[:, step, target], closed)
        drums[:, step, list(CLOSED_HATS)] = 0.0


def _off_beat_hats(drums: np.ndarray, spb: int, threshold: float) -> bool:
    """Whether the bar (B, bar steps, 128) plays a closed hat on an off-beat 8th in every variation."""
    eighth, beat = max(1, spb // 8), max(1, spb // 4)
    steps = [s for s in range(drums.shape[1]) if s % beat and not s % eighth]
    return bool((drums[:, steps][..., list(CLOSED_HATS)] >= threshold).any(axis=(1, 2)).all())


def _close(drums: np.ndarray) -> None:
    """(B, bar steps, 128): the ride and open hats close (a lighter verse or intro)."""
    loud = drums[..., list(LOUD_CYMBALS)].max(axis=-1)
    drums[..., LIGHT_HAT] = np.maximum(drums[..., LIGHT_HAT], loud)
    drums[..., list(LOUD_CYMBALS)] = 0.0


def final_hit(probs: np.ndarray, bar: int, free: np.ndarray, threshold: float, spb: int) -> None:
    """The last bar ends the song: each pitched lane holds what it plays on beat 1 (or the bar's first notes; a lane
    silent there but playing at the end of the bar before: the notes it ended on) to the bar's end, a held chord;
    the drums play a crash and a kick on beat 1 and nothing after."""
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
            value = None
            if not on.any():
                on = part[b] >= threshold
                if not on.any():  # the lane rests in the last bar: it joins on the chord it ended the bar before
                    before = probs[lane, b, max(bar - 1, 0) * spb : bar * spb] >= threshold if bar else on
                    sounding = np.flatnonzero(before.any(axis=1))
                    if not len(sounding):  # it rested there too (laid out): it stays silent to the end
                        part[b] = 0.0
                        continue
                    on = before[sounding[-1]][None]
                    value = threshold + 1e-3
                    held = np.flatnonzero(on[0])
                    probs[lane, b, bar * spb - 1, held] = 0.0  # a breath before it: the chord is struck again
                else:
                    on = on[np.flatnonzero(on.any(axis=1))[0]][None]
            pitches = np.flatnonzero(on.any(axis=0))
            if value is None:
                value = max(float(part[b][:, pitches].max()), threshold + 1e-3)
            part[b] = 0.0
            part[b, :-1, pitches] = value  # held to the bar's end (its last step a breath)
