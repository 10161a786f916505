"""Notes the musician edited in the roll: the bars of a lane they touched hold exact notes, kept as placed.

A take's notes are the cells of its probabilities at the threshold (song.py). Once the musician adds, moves,
resizes, deletes or re-velocities a note, the bars of that lane it touches are *pinned*: they hold an exact
list of notes (pitch, start step, end step, velocity), the same at every threshold, density or sustain, two
notes of one pitch side by side stay two notes, and each keeps its own velocity. The take's probabilities in
those bars are rewritten to match (0.6-1.0 on the notes by velocity, 0.0 elsewhere), so the engine, continuing or
regenerating the other lanes, hears the edited part. Pinned bars are what Regenerate asks about before it
replaces them.

numpy only: no Qt, no torch, no I/O. `lane_notes` is THE list of a lane's notes every output reads (export,
stems, playback, WAV, drag-out: sketch/midi re-exports it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidValue
from ..lanes import DRUMS, LANES, PITCHES
from ..theory.dynamics import bar_levels, running_bars, velocity
from .song import Song, note_runs

DRUM_HIT_STEPS = 1  # every active drum step is its own hit, this many steps long (drums ring out anyway)
GM_DRUMS = (35, 81)  # the General MIDI kit (sketch/midi/format.GM_DRUM_RANGE)
MAX_PINNED_NOTES = 100_000  # per lane, as a sketch file may hold

Note = tuple[int, int, int, int]  # (pitch, start step, end step exclusive, velocity 1-127)


@dataclass(frozen=True)
class LanePins:
    """One lane's edited bars (0-based) and the exact notes in them, sorted by (pitch, start)."""

    bars: frozenset[int] = frozenset()
    notes: tuple[Note, ...] = ()


def note_bars(start: int, end: int, steps_per_bar: int) -> range:
    """The bars (0-based) a note from `start` to `end` (exclusive) sounds in."""
    return range(start // steps_per_bar, (max(end, start + 1) - 1) // steps_per_bar + 1)


def note_confidences(song: Song, lane: int, roll: np.ndarray | None = None) -> list[tuple[int, int, int, float]]:
    """(pitch, start, end, confidence) of the notes of a lane's (steps, 128) roll (default: what it plays), by pitch
    then start; confidence is the note's mean probability over the threshold, 0 (at it) to 1 (certain).

    Pitched lanes join consecutive active steps into one held note. Drums never do: each active step
    is a separate hit of DRUM_HIT_STEPS, so a hi-hat row on every 8th plays every 8th.
    """
    probs = song.probs[lane]
    roll = song.notes()[lane] if roll is None else roll
    if lane == DRUMS:
        steps, pitches = np.nonzero(roll)
        keep = (pitches >= GM_DRUMS[0]) & (pitches <= GM_DRUMS[1])
        order = np.lexsort((steps[keep], pitches[keep]))  # by pitch, then time, like note_runs
        runs = (pitches[keep][order], steps[keep][order], steps[keep][order] + DRUM_HIT_STEPS)
    else:
        runs = note_runs(roll)
    found = []
    for pitch, s, e in zip(*runs):
        e = min(int(e), song.n_steps)
        confidence = (float(probs[s:e, pitch].mean()) - song.threshold) / (1.0 - song.threshold)
        found.append((int(pitch), int(s), int(e), min(max(confidence, 0.0), 1.0)))
    return found


def _model_notes(song: Song, lane: int, roll: np.ndarray) -> list[Note]:
    """(pitch, start, end, velocity) of a lane's roll (note_confidences); velocity by lane, 16th position, the
    section's energy and the model's confidence among the lane's usual (theory/dynamics.py: learned from real
    songs' velocities: an accented downbeat, ghost notes on the snare, a louder chorus)."""
    spb, bar = song.steps_per_beat, song.steps_per_bar
    levels = bar_levels(song.sections, song.n_bars)
    last = len(levels) - 1
    found = note_confidences(song, lane, roll)
    running = running_bars([(p, s) for p, s, _, _ in found], spb) if lane == DRUMS else set()
    return [
        (p, s, e, velocity(lane, p, s, spb, c, levels[min(s // bar, last)] if levels else 3, s // bar in running))
        for p, s, e, c in found
    ]


def lane_notes(song: Song, lane: int) -> list[Note]:
    """(pitch, start step, end step, velocity) of one lane, by pitch then start: the model's notes at the
    take's threshold, and in the bars the musician edited, their notes exactly as placed."""
    roll = song.notes()[lane]
    pins = song.pins.get(lane)
    if pins is None or not pins.bars:
        return _model_notes(song, lane, roll)
    roll = roll.copy()
    bar = song.steps_per_bar
    for b in pins.bars:
        roll[b * bar : (b + 1) * bar] = False
    return sorted(_model_notes(song, lane, roll) + list(pins.notes), key=lambda n: (n[0], n[1]))


def pinned_bars(song: Song, lane: int) -> list[int]:
    """The bars (0-based, sorted) of `lane` the musician edited."""
    pins = song.pins.get(lane)
    return sorted(pins.bars) if pins is not None else []


def with_pins(song: Song, lane: int, bars, notes: list[Note]) -> Song:
    """A copy whose `lane` holds exactly `notes` in `bars` (0-based, joined to the bars already pinned; every
    note's bars are pinned too); its probabilities in those bars rewritten to match. Notes are checked."""
    spb, n_steps = song.steps_per_bar, song.n_steps
    checked = [check_note(song, lane, n) for n in notes]
    bars = set(bars) | set(pinned_bars(song, lane))
    for _, s, e, _ in checked:
        bars.update(note_bars(s, e, spb))
    if len(checked) > MAX_PINNED_NOTES:
        raise InvalidValue(f"{LANES[lane]} would hold {len(checked)} edited notes; the most is {MAX_PINNED_NOTES}")
    probs = song.probs.copy()
    for b in bars:
        probs[lane, b * spb : (b + 1) * spb] = 0.0
    for p, s, e, v in checked:
        probs[lane, s : min(e, n_steps), p] = pinned_prob(v)
    pins = dict(song.pins)
    pins[lane] = LanePins(frozenset(int(b) for b in bars), tuple(sorted(checked, key=lambda n: (n[0], n[1]))))
    return dataclasses.replace(song, probs=probs, pins=pins)


def pinned_prob(velocity: int) -> float:
    """The probability an edited note's cells hold: 0.6 (velocity 1) to 1.0 (127), so the roll's shade shows
    its velocity; the note sounds at any threshold whatever the value (Song.notes shows edited bars as placed)."""
    return 0.6 + 0.4 * velocity / 127.0


def pin(song: Song, lane: int, bars) -> tuple[Song, list[Note]]:
    """Pin `bars` of a lane (and every bar a note sounding in them reaches): the take, the same notes now
    pinned, and the pinned notes (what the edit then changes)."""
    spb = song.steps_per_bar
    current = lane_notes(song, lane)
    bars = set(bars) | set(pinned_bars(song, lane))
    grown = True
    while grown:  # a held note across a bar line pins both bars: no note is cut in two
        grown = False
        for _, s, e, _ in current:
            span = set(note_bars(s, e, spb))
            if span & bars and not span <= bars:
                bars |= span
                grown = True
    inside = [n for n in current if set(note_bars(n[1], n[2], spb)) & bars]
    return with_pins(song, lane, bars, inside), inside


def unpinned(song: Song, lanes, first_bar: int = 0, end_bar: int | None = None) -> Song:
    """A copy without the pins of `lanes` in bars first_bar..end_bar-1 (0-based; None: to the end), after the
    engine has replaced those bars: the new material shows there. Notes reaching outside stay pinned bars."""
    end_bar = song.n_bars if end_bar is None else end_bar
    pins = dict(song.pins)
    changed = False
    for lane in lanes:
        lp = pins.get(lane)
        if lp is None:
            continue
        gone = {b for b in lp.bars if first_bar <= b < end_bar}
        if not gone:
            continue
        spb = song.steps_per_bar
        notes = tuple(n for n in lp.notes if not set(note_bars(n[1], n[2], spb)) & gone)
        bars = frozenset(lp.bars - gone)
        if bars:
            pins[lane] = LanePins(bars, notes)
        else:
            del pins[lane]
        changed = True
    return dataclasses.replace(song, pins=pins) if changed else song


def carried_pins(old: Song, new: Song, lanes) -> Song:
    """A new take (a Generate that kept `lanes` of `old`, locked) with the old take's edited bars of those lanes,
    where the new take holds the same notes there (the engine copied the lane); else the new take as it is."""
    pins = dict(new.pins)
    for lane in lanes:
        lp = old.pins.get(lane)
        if lp is None or not lp.bars or old.steps_per_bar != new.steps_per_bar or max(lp.bars) >= new.n_bars:
            continue
        spb = new.steps_per_bar
        cells = [slice(b * spb, (b + 1) * spb) for b in lp.bars]
        if all(np.array_equal(old.probs[lane, c] >= 0.5, new.probs[lane, c] >= 0.5) for c in cells):
            pins[lane] = lp
    return dataclasses.replace(new, pins=pins) if pins != new.pins else new


def transposed_pins(pins: dict, semitones: int) -> dict:
    """Pins moved with a transposed take: pitched lanes' notes up `semitones`, folded by octaves at the ends
    of the keyboard as keys.transpose_roll folds the take's probabilities."""
    out = {}
    for lane, lp in pins.items():
        if lane == DRUMS:
            out[lane] = lp
            continue
        notes = tuple(sorted(((_fold(p + semitones), s, e, v) for p, s, e, v in lp.notes), key=lambda n: n[:2]))
        out[lane] = LanePins(lp.bars, notes)
    return out


def _fold(pitch: int) -> int:
    while pitch >= PITCHES:
        pitch -= 12
    while pitch < 0:
        pitch += 12
    return pitch


def check_note(song: Song, lane: int, note) -> Note:
    """A note as a lane holds it, or InvalidValue naming what is wrong (pitch, steps, velocity)."""
    try:
        p, s, e, v = (int(x) for x in note)
        if any(isinstance(x, bool) or float(x) != int(x) for x in note):
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidValue(
            f"a note is (pitch, start step, end step, velocity) in whole numbers, got {note!r}"
        ) from None
    low, high = GM_DRUMS if lane == DRUMS else (0, PITCHES - 1)
    if not low <= p <= high:
        what = "a General MIDI drum" if lane == DRUMS else "a MIDI note"
        raise InvalidValue(f"pitch {p} is not {what} ({low}-{high}) for the {LANES[lane]} lane")
    if not 0 <= s < e <= song.n_steps:
        raise InvalidValue(
            f"a note from step {s} to {e} is outside the sketch (steps 0 to {song.n_steps}): start before the end, "
            "both inside the sketch"
        )
    if lane == DRUMS and e != s + DRUM_HIT_STEPS:
        e = s + DRUM_HIT_STEPS  # a drum hit is a hit: its length is the kit's
    if not 1 <= v <= 127:
        raise InvalidValue(f"velocity {v} is outside 1-127")
    return (p, s, e, v)


# --- in a sketch file -----------------------------------------------------------------------------------
def pins_to_json(pins: dict) -> dict:
    return {
        LANES[lane]: {"bars": sorted(lp.bars), "notes": [list(n) for n in lp.notes]}
        for lane, lp in sorted(pins.items())
    }


def pins_from_json(raw, n_steps: int, steps_per_bar: int) -> dict:
    """Pins as a sketch file holds them, checked: InvalidValue names the lane and what is wrong."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidValue(f"pins must be a record of lanes, got {type(raw).__name__}")
    n_bars = n_steps // steps_per_bar
    out = {}
    for name, record in raw.items():
        if name not in LANES or not isinstance(record, dict):
            raise InvalidValue(f"pins: {name!r} is not a lane ({', '.join(LANES)}) with bars and notes")
        lane = LANES.index(name)
        bars, notes = record.get("bars"), record.get("notes")
        if not isinstance(bars, list) or not isinstance(notes, list) or len(notes) > MAX_PINNED_NOTES:
            raise InvalidValue(f"pins of {name}: bars and notes must be lists (at most {MAX_PINNED_NOTES} notes)")
        if any(not _whole(b) or not 0 <= b < n_bars for b in bars):
            raise InvalidValue(f"pins of {name}: bars must be whole numbers from 0 to {n_bars - 1}")
        held = set(bars)
        checked = []
        for note in notes:
            if not isinstance(note, list) or len(note) != 4 or not all(_whole(x) for x in note):
                raise InvalidValue(f"pins of {name}: a note must be [pitch, start, end, velocity], got {note!r}")
            p, s, e, v = note
            low, high = GM_DRUMS if lane == DRUMS else (0, PITCHES - 1)
            if not (low <= p <= high and 0 <= s < e <= n_steps and 1 <= v <= 127):
                raise InvalidValue(f"pins of {name}: note {note!r} is outside the sketch or the MIDI ranges")
            if not set(note_bars(s, e, steps_per_bar)) <= held:
                raise InvalidValue(f"pins of {name}: note {note!r} reaches outside the edited bars")
            checked.append((p, s, e, v))
        if held:
            out[lane] = LanePins(frozenset(held), tuple(sorted(checked, key=lambda n: (n[0], n[1]))))
    return out


def _whole(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def mix_from_json(raw, name: str, default: int) -> list[int]:
    """A take's volumes or pans (one MIDI value 0-127 per lane) as a sketch file holds them; absent: `default`."""
    if raw is None:
        return [default] * len(LANES)
    if not isinstance(raw, list) or len(raw) != len(LANES):
        raise InvalidValue(f"{name} must list one value (0-127) per lane ({len(LANES)}), got {raw!r}")
    if any(not _whole(v) or not 0 <= v <= 127 for v in raw):
        raise InvalidValue(f"{name} must be whole numbers from 0 to 127, got {raw!r}")
    return list(raw)
