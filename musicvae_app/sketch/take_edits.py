"""Edits of takes: the plan of an infill (which bars and lanes), and transposition, which moves a take's notes
without the engine (the key, chords and the take's shift
from the pack's key space move with it, so a later regenerate, Jam or infill continues in the new key)."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import InvalidValue
from ..limits import MAX_TRANSPOSE, TICKS_PER_BEAT, check_int
from ..theory.chords import ChordError, bar_text, parse_bar
from ..theory.keys import key_name, parse_key, transpose_roll
from ..theory.performance import Performance
from .midi import Notes, notes_to_roll
from .pins import transposed_pins
from .song import LANES, ChunkInfo, Song, lane_index


def transpose_refusal(takes, semitones: int) -> str | None:
    """Why `semitones` more would take a take past the shift a sketch file holds (None: it fits)."""
    for n, take in enumerate(takes):
        now = int(take.settings.get("transpose", 0))
        if not -MAX_TRANSPOSE <= now + semitones <= MAX_TRANSPOSE:
            return (
                f"Take {n + 1} is already {now:+d} semitones from its pack's key; {semitones:+d} more would pass "
                f"{MAX_TRANSPOSE} either way, where no note is left on the keyboard. Transpose the other way."
            )
    return None


def transposed_chord(symbol: str | None, semitones: int) -> str | None:
    """A bar's chords (its chart text, 'C Am') moved `semitones`; what the app does not read stays as written."""
    try:
        if symbol is None:
            return None
        return bar_text(tuple(None if c is None else c.transposed(semitones) for c in parse_bar(symbol)))
    except ChordError:
        return symbol  # not a chord this app reads: it stays as the user wrote it


def transposed(song: Song, semitones: int) -> Song:
    """The take's pitched lanes `semitones` up (drums stay), with its key, chords and shift."""
    settings = song.settings.replace(transpose=int(song.settings.get("transpose", 0)) + semitones)
    try:
        tonic, mode = parse_key(str(settings.get("key") or "").split(" / ")[0])
        settings = settings.replace(key=key_name(((tonic + semitones) % 12, mode)))
    except ValueError:
        pass
    return dataclasses.replace(
        song,
        probs=transpose_roll(song.probs, semitones),
        settings=settings,
        chords=[transposed_chord(c, semitones) for c in song.chords],
        performance=None if song.performance is None else song.performance.transposed(semitones),
        pins=transposed_pins(song.pins, semitones),
    )


def infill_plan(song: Song, start_bar: int, end_bar: int, lanes, mine: list[int], lineup: list[bool]):
    """(start bar, end bar, lane names or None for all, undo text) of an infill of bars start..end of `lanes`;
    the user's own part (`mine`) stays as played, so only band lanes (in the `lineup`) get new bars."""
    start_bar = check_int("start bar", start_bar, 1, song.n_bars)
    end_bar = check_int("end bar", end_bar, start_bar, song.n_bars)
    names = None if lanes is None else [LANES[i] for i in sorted({lane_index(x) for x in lanes})]
    if names is not None and not names:
        raise InvalidValue("choose at least one lane to regenerate")
    if mine:
        band = [LANES[i] for i in range(len(LANES)) if lineup[i]] if names is None else names
        names = [n for n in band if LANES.index(n) not in mine]
        if not names:
            raise InvalidValue("those lanes are your part and stay as you played them: pick a band lane")
    per_chunk = max(song.chunk_steps // song.steps_per_bar, 1)
    first, last = (start_bar - 1) // per_chunk * per_chunk + 1, -(-end_bar // per_chunk) * per_chunk
    which = "all lanes" if names is None or len(names) == len(LANES) else ", ".join(names)
    return start_bar, end_bar, names, f"Regenerate bars {first}-{last} ({which})"


def lane_names(text) -> list[str]:
    """The lane names of a take setting such as part_lanes or recorded ("guitar,bass"), in lane order."""
    names = set(str(text or "").split(","))
    return [name for name in LANES if name in names]


def lanes_as_part(song: Song, lanes: list[int]) -> Song:
    """A copy of `song` holding only `lanes` (the musician's own parts) as one part to follow: their sounding
    notes (at threshold 0.5) and their notes as played; every other lane silent."""
    part = song.copy()
    others = [i for i in range(len(LANES)) if i not in lanes]
    part.probs = song.notes().astype(np.float32)
    part.probs[others] = 0.0
    part.threshold = 0.5
    part.performance = None if song.performance is None else song.performance.only(lanes)
    return part


def with_played_part(song: Song, part: Performance, lane: int, most_steps: int | None = None) -> Song:
    """The take with the musician's part (notes as played, on one `lane`) in place of that lane's notes: the
    roll the model sees from the part on the take's grid, the notes as played kept (Song.performance), the lane
    marked as theirs (part_lanes) and recorded (recorded). The rest of the take stays as it was; a part longer
    than the take makes it longer by silent bars (whole chunks) up to `most_steps`, never shorter."""
    rows = part.notes[part.notes[:, 0] == lane]
    if not len(rows):
        raise InvalidValue(f"the recording has no notes on the {LANES[lane]} lane")
    notes = Notes(
        rows[:, 0],
        rows[:, 1],
        rows[:, 2] / TICKS_PER_BEAT,
        rows[:, 3] / TICKS_PER_BEAT,
        song.tempo,
        velocity=rows[:, 4],
    )
    roll = notes_to_roll(notes, song.steps_per_beat)[lane]
    cs = song.chunk_steps
    steps = max(song.n_steps, -(-roll.shape[0] // cs) * cs)
    if most_steps is not None and steps > most_steps:
        bars = most_steps // song.steps_per_bar
        raise InvalidValue(f"the recording is longer than the {bars} bars a sketch may hold: record a shorter take")
    out = song.copy()
    if steps > song.n_steps:  # silent bars after the take, for the rest of the recording
        extra = (steps - song.n_steps) // cs
        out.probs = np.concatenate([song.probs, np.zeros((len(LANES), steps - song.n_steps, 128), np.float32)], 1)
        if song.latents is not None:
            out.latents = np.concatenate([song.latents, np.zeros((extra, *song.latents.shape[1:]), np.float32)])
        out.chunks = [list(row) for row in song.chunks] + [[ChunkInfo("unknown")] * len(LANES) for _ in range(extra)]
        out.settings = out.settings.replace(steps=steps // cs - 1)
    out.probs[lane] = 0.0
    out.probs[lane, : roll.shape[0]] = roll
    for row in out.chunks:
        row[lane] = ChunkInfo("part")
    perf = Performance(rows, "off", steps * (TICKS_PER_BEAT // song.steps_per_beat))
    out.performance = perf if out.performance is None else out.performance.with_part(perf)
    name = LANES[lane]
    lineup = lane_names(out.settings.get("lineup")) or list(LANES)
    out.settings = out.settings.replace(
        part_lanes=",".join(lane_names(",".join([*lane_names(out.settings.get("part_lanes")), name]))),
        recorded=",".join(lane_names(",".join([*lane_names(out.settings.get("recorded")), name]))),
        lineup=",".join(lane_names(",".join([*lineup, name]))),
    )
    return out


def merged_parts(base, recorded: Song, engine) -> Song:
    """One part to follow from a part followed (a Song on the pack's grid, or its file read by `engine`) and
    the parts recorded onto a take (`recorded`: those lanes only): the recording rules its lanes, the part
    the rest; as long as the longer of them."""
    if not isinstance(base, Song):
        base = engine.read_part(base)
    lanes = [LANES.index(n) for n in lane_names(recorded.settings.get("recorded"))]
    steps = max(base.n_steps, recorded.n_steps)
    out = base.copy()
    if steps > base.n_steps:
        extra = (steps - base.n_steps) // base.chunk_steps
        out.probs = np.concatenate([base.probs, np.zeros((len(LANES), steps - base.n_steps, 128), np.float32)], 1)
        if base.latents is not None:
            out.latents = np.concatenate([base.latents, np.zeros((extra, *base.latents.shape[1:]), np.float32)])
        out.chunks = [list(row) for row in base.chunks] + [list(base.chunks[-1]) for _ in range(extra)]
    out.probs[lanes] = 0.0
    out.probs[lanes, : recorded.n_steps] = recorded.notes()[lanes]
    mine = recorded.performance
    if out.performance is None:
        out.performance = mine
    elif mine is not None:
        out.performance = out.performance.without(lanes).with_part(mine)
    else:
        out.performance = out.performance.without(lanes)
    return out
