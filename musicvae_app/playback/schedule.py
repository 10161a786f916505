"""Song -> timed MIDI messages: what the player sends and the offline render plays. Pure, no I/O.

Notes come from `midi.lane_notes`, timed with the take's feel (swing, humanize) by `midi.timed_lane_notes`,
and a lane the musician played comes from their notes as played (`midi.lane_ticks`), so what you hear is what
the exported .mid holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

import mido
import numpy as np

from ..errors import InvalidValue
from ..sketch.midi import LANE_CHANNELS, TICKS_PER_BEAT, lane_notes, lane_ticks, timed_lane_notes
from ..sketch.midi.write import PAN_CC, VOLUME_CC
from ..sketch.song import DRUMS, LANES, Song, lane_index
from ..theory.feel import feel_of, fit_ticks

Lanes = Iterable[str | int] | Sequence[bool] | None
Loop = tuple[float, float] | None


def lane_flags(lanes: Lanes) -> list[bool]:
    """Five per-lane flags from either five booleans or a collection of lane names/indices."""
    if lanes is None:
        return [False] * len(LANES)
    items = list(lanes)
    if len(items) == len(LANES) and all(isinstance(x, (bool, np.bool_)) for x in items):
        return [bool(x) for x in items]
    flags = [False] * len(LANES)
    for lane in items:
        flags[lane_index(lane)] = True
    return flags


def audible_lanes(mutes: Lanes = None, solos: Lanes = None) -> list[bool]:
    """Which lanes sound: the soloed ones if any lane is soloed, else all; a muted lane never sounds."""
    muted, soloed = lane_flags(mutes), lane_flags(solos)
    return [not m and (s or not any(soloed)) for m, s in zip(muted, soloed)]


def song_beats(song: Song) -> float:
    return song.n_steps / song.steps_per_beat


def seconds_per_beat(song: Song) -> float:
    return 60.0 / song.tempo


def loop_steps(song: Song, loop: Loop) -> tuple[int, int]:
    """The region (start step, end step) of a loop given in beats; the whole song for None."""
    if loop is None:
        return 0, song.n_steps
    start, end = (int(round(float(b) * song.steps_per_beat)) for b in loop)
    if not 0 <= start < end <= song.n_steps:
        raise InvalidValue(
            f"loop {loop[0]:g}-{loop[1]:g} beats is outside the sketch (0-{song_beats(song):g} beats): "
            "choose a start before the end, both inside the sketch"
        )
    return start, end


def region_seconds(song: Song, loop: Loop = None) -> float:
    """Length of one pass through the loop region (the whole song for None), in seconds."""
    start, end = loop_steps(song, loop)
    return (end - start) / song.steps_per_beat * seconds_per_beat(song)


@cache
def _message(kind: str, channel: int, value: int, velocity: int = 0) -> mido.Message:
    """One shared, never-changed Message per distinct event: building mido Messages dominates scheduling."""
    if kind == "program_change":
        return mido.Message(kind, channel=channel, program=value)
    if kind == "control_change":
        return mido.Message(kind, channel=channel, control=value, value=velocity)
    return mido.Message(kind, channel=channel, note=value, velocity=velocity)


def schedule(
    song: Song, mutes: Lanes = None, solos: Lanes = None, loop: Loop = None
) -> list[tuple[float, mido.Message]]:
    """(seconds, message) pairs for one pass through the song, or through `loop` = (start, end) in beats.

    Times count from the region's start. Every lane gets its program change, volume and pan (the mixer's
    CC7 and CC10) at 0 (so unmuting later
    plays the right sound); notes of audible lanes follow, clipped to the region: a note that starts
    inside it and outlasts it is released at its end. Drums play on channel index 9.
    Equal messages are one shared object: copy one (`msg.copy(...)`) before changing it.
    """
    first, last = loop_steps(song, loop)
    feel = feel_of(song.settings)
    step_seconds = seconds_per_beat(song) / song.steps_per_beat
    keyed: list[tuple[float, int, int, int, mido.Message]] = []
    for lane, audible in enumerate(audible_lanes(mutes, solos)):
        channel = LANE_CHANNELS[lane]
        program = 0 if lane == DRUMS else int(song.programs[lane])
        keyed.append((0.0, 0, channel, 0, _message("program_change", channel, program)))
        keyed.append((0.0, 0, channel, 1, _message("control_change", channel, VOLUME_CC, int(song.volumes[lane]))))
        keyed.append((0.0, 0, channel, 2, _message("control_change", channel, PAN_CC, int(song.pans[lane]))))
        if not audible:
            continue
        if lane in song.played_lanes():  # the musician's own part: their notes as played, tick for tick
            keyed.extend(_played(song, lane, channel, first, last))
            continue
        notes = lane_notes(song, lane)
        if not feel.off:
            keyed.extend(_felt(song, lane, channel, notes, first, last))
            continue
        for pitch, start, end, velocity in notes:
            if not first <= start < last:
                continue
            on = (start - first) * step_seconds
            off = (min(end, last) - first) * step_seconds
            keyed.append((on, 2, channel, pitch, _message("note_on", channel, pitch, velocity)))
            keyed.append((off, 1, channel, pitch, _message("note_off", channel, pitch)))
    keyed.sort(key=lambda k: k[:4])  # at one instant: programs, then releases, then strikes
    return [(k[0], k[4]) for k in keyed]


def _felt(song: Song, lane: int, channel: int, notes, first: int, last: int):
    """Keyed note events of one lane with the take's feel, timed as the export's ticks are.

    A note belongs to the region its grid step is in. Inside the region it keeps its felt ticks; at the
    edges it is kept inside (a downbeat nudged early plays at the region's start, a release at its end),
    and notes of one pitch still never overlap.
    """
    tick_seconds = seconds_per_beat(song) / TICKS_PER_BEAT
    low = round(first / song.steps_per_beat * TICKS_PER_BEAT)
    high = round(last / song.steps_per_beat * TICKS_PER_BEAT)
    inside = [(t, n) for t, n in zip(timed_lane_notes(song, lane, notes), notes) if first <= n[1] < last]
    if not inside:
        return
    pitch = np.array([t[0] for t, _ in inside])
    start = np.array([n[1] for _, n in inside])
    on = np.array([round(t[1] * TICKS_PER_BEAT) for t, _ in inside])
    off = np.array([round(t[2] * TICKS_PER_BEAT) for t, _ in inside])
    on, off = fit_ticks(pitch, start, on, off, low, high)
    for (p, _, _, velocity), t_on, t_off in zip((t for t, _ in inside), on.tolist(), off.tolist()):
        yield ((t_on - low) * tick_seconds, 2, channel, p, _message("note_on", channel, p, velocity))
        yield ((t_off - low) * tick_seconds, 1, channel, p, _message("note_off", channel, p))


def _played(song: Song, lane: int, channel: int, first: int, last: int):
    """Keyed note events of a lane the musician played (Song.performance), as the export writes them: a note
    belongs to the region its start is in and is released at the region's end at the latest."""
    tick_seconds = seconds_per_beat(song) / TICKS_PER_BEAT
    low = round(first / song.steps_per_beat * TICKS_PER_BEAT)
    high = round(last / song.steps_per_beat * TICKS_PER_BEAT)
    for p, on, off, velocity in lane_ticks(song, lane):
        if low <= on < high:
            yield ((on - low) * tick_seconds, 2, channel, p, _message("note_on", channel, p, velocity))
            yield ((min(off, high) - low) * tick_seconds, 1, channel, p, _message("note_off", channel, p))
