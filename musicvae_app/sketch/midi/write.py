"""Writing .mid files: DAW-ready export of a Song (docs/midi-export.md), one track a lane, stems."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import numpy as np

from ...atomic import atomic_write
from ...theory.chords import BEATS_PER_BAR, NO_CHORD, REPEAT, ChordError, parse_bar, parse_chord
from ...theory.feel import feel_of, song_seed, timed_notes
from ...theory.keys import MAJOR_NAMES, MINOR_NAMES, parse_key
from ..pins import DRUM_HIT_STEPS, lane_notes  # noqa: F401 (lane_notes: read from here too)
from ..song import DRUMS, LANES, Song
from .format import LANE_CHANNELS, NO_CHORD_MARKER, SETTINGS_PREFIX, TICKS_PER_BEAT, TRACK_NAMES

VOLUME_CC, PAN_CC = 7, 10  # the mixer at the start of each track: channel volume and pan


def timed_lane_notes(song: Song, lane: int, notes=None) -> list[tuple[int, float, float, int]]:
    """(pitch, start beats, end beats, velocity) of one lane with the take's feel (swing, humanize) applied.

    `notes` are the lane's `lane_notes` when the caller has them. Feel off: beats are steps / steps_per_beat.
    """
    seed, variation = song_seed(song.settings)
    return timed_notes(
        lane_notes(song, lane) if notes is None else notes,
        song.steps_per_beat,
        song.tempo,
        feel_of(song.settings),
        seed=seed,
        lane=lane,
        variation=variation,
        song_steps=song.n_steps,
    )


def lane_ticks(song: Song, lane: int, notes=None) -> list[tuple[int, int, int, int]]:
    """(pitch, start tick, end tick, velocity) of one lane as it is heard and exported, at 480 ticks a beat.

    A lane of the musician's own part (`song.performance`) is their notes as played (or as they asked it
    quantized), unchanged, in the chunks that are theirs (source "part"); in chunks the band made since (a
    Continue, an infill) and in bars edited in the roll (Song.pins) it is the lane's notes
    (`lane_notes`). Every other lane is its grid notes timed with the take's feel
    (swing, humanize). Notes end by the sketch's end.
    """
    per = TICKS_PER_BEAT // song.steps_per_beat
    end_tick = song.n_steps * per
    perf = song.performance
    notes = lane_notes(song, lane) if notes is None else notes
    if perf is not None and lane in perf.lanes:
        chunk_ticks = song.chunk_steps * per
        mine = np.array(
            [len(row) <= lane or row[lane].source == "part" for row in song.chunks] or [True] * song.n_chunks
        )
        mine = np.concatenate([mine, np.zeros(max(song.n_chunks - len(mine), 0), bool)])
        pins = song.pins.get(lane)
        edited = pins.bars if pins is not None else frozenset()  # bars the musician edited: their notes as placed
        bar_ticks = song.steps_per_bar * per

        def theirs(tick: int) -> bool:
            return bool(mine[tick // chunk_ticks]) and tick // bar_ticks not in edited

        played = [n for n in perf.lane_notes(lane, end_tick) if theirs(n[1])]
        grid = [(p, s * per, e * per, v) for p, s, e, v in notes if not theirs(s * per)]
        return sorted(played + grid, key=lambda n: (n[1], n[0]))
    if feel_of(song.settings).off:
        return [(p, s * per, e * per, v) for p, s, e, v in notes]
    timed = timed_lane_notes(song, lane, notes)
    return [(p, round(s * TICKS_PER_BEAT), round(e * TICKS_PER_BEAT), v) for p, s, e, v in timed]


def _track(events: list[tuple], name: str, end_tick: int) -> mido.MidiTrack:
    """A track of (tick, order, message) events in time order (ties by order). A message is a mido message, or
    a note as (kind, channel, pitch, velocity), made here once with its delta time: mido checks every message it
    makes, and a 4,000-bar part has hundreds of thousands of notes (made and then copied, it took twice as long)."""
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=name, time=0))
    last = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        if isinstance(msg, tuple):
            kind, channel, note, velocity = msg
            track.append(mido.Message(kind, channel=channel, note=note, velocity=velocity, time=tick - last))
        else:
            track.append(msg.copy(time=tick - last))
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=end_tick - last))
    return track


def _key_signature(song: Song) -> list:
    """A key_signature event at tick 0 when the take knows its key ('E minor' -> 'Em'), else nothing."""
    text = str(song.settings.get("key") or "").split(" / ")[0]
    try:
        tonic, mode = parse_key(text)
    except ValueError:
        return []
    name = MAJOR_NAMES[tonic] if mode == "major" else MINOR_NAMES[tonic] + "m"
    return [(0, 1, mido.MetaMessage("key_signature", key=name))]


def _chord_markers(song: Song, ticks_per_step: int) -> list:
    """A marker (the chord's symbol; N.C. for none) on each beat where the chord changes: on the bar line for a
    chord a bar, on beat 3 for a bar's second half ('C Am'), on its beat for a chord a beat ('C . . G').

    Bars chords.py cannot read are left out: a DAW would show them, but no reader could use them.
    """
    out, held = [], None
    beat_ticks = song.steps_per_beat * ticks_per_step
    for bar, text in enumerate(song.chords[: song.n_bars]):
        try:
            beats = (None,) * BEATS_PER_BAR if text is None else parse_bar(text, bar + 1)
        except ChordError:
            continue
        for i, chord in enumerate(beats):
            symbol = None if chord is None else chord.symbol
            if symbol != held:
                tick = (bar * BEATS_PER_BAR + i) * beat_ticks
                out.append((tick, 3, mido.MetaMessage("marker", text=NO_CHORD_MARKER if symbol is None else symbol)))
                held = symbol
    return out


def section_marker(name: str) -> str:
    """A section's marker text: its name ("Chorus 2"), or "Section A" where the name alone would read as a
    chord symbol (or N.C., %), so read_chords never takes a section for a chord."""
    text = name[:1].upper() + name[1:]
    if text in NO_CHORD or text in REPEAT:
        return f"Section {text}"
    try:
        parse_chord(text)
    except ChordError:
        return text
    return f"Section {text}"


def _section_markers(song: Song, ticks_per_step: int) -> list:
    """A marker with the section's name on the bar line where each section starts (before the bar's chord)."""
    out = []
    for section in song.sections:
        tick = (section.start - 1) * song.steps_per_bar * ticks_per_step
        out.append((tick, 3, mido.MetaMessage("marker", text=section_marker(section.name))))
    return out


def song_to_midifile(song: Song, lanes: list[int] | None = None) -> mido.MidiFile:
    """A type-1 file: conductor track, then one named track per lane (all five, or `lanes`), in lane order.

    Notes are timed with the take's feel (swing, humanize; see feel.py): ticks = round(beats * 480).

    An empty lane keeps its (note-less) track, so track n is the same instrument in every export.
    """
    ticks = TICKS_PER_BEAT // song.steps_per_beat
    end_tick = song.n_steps * ticks
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT, charset="utf-8")  # names in any language
    settings = json.dumps({k: v for k, v in song.settings.items() if isinstance(v, (int, float, str))}, sort_keys=True)
    conductor = [
        (0, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(song.tempo))),
        (0, 1, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
        *_key_signature(song),
        (0, 2, mido.MetaMessage("text", text=SETTINGS_PREFIX + settings)),
        *_section_markers(song, ticks),
        *_chord_markers(song, ticks),
    ]
    mid.tracks.append(_track(conductor, "musicvae-app sketch", end_tick))
    lineup = [LANES.index(name) for name in song.lineup]  # lanes switched out of the band are left out
    for lane in [i for i in (sorted(lanes) if lanes is not None else range(len(LANES))) if i in lineup]:
        notes = lane_ticks(song, lane)  # the musician's own part as played; the band's notes with the feel
        channel = LANE_CHANNELS[lane]
        program = 0 if lane == DRUMS else int(song.programs[lane])
        events = [
            (0, 0, mido.Message("program_change", channel=channel, program=program)),
            (0, 0, mido.Message("control_change", channel=channel, control=VOLUME_CC, value=int(song.volumes[lane]))),
            (0, 0, mido.Message("control_change", channel=channel, control=PAN_CC, value=int(song.pans[lane]))),
        ]
        for pitch, s, e, vel in notes:
            events.append((s, 2, ("note_on", channel, pitch, vel)))
            events.append((e, 1, ("note_off", channel, pitch, 0)))
        mid.tracks.append(_track(events, TRACK_NAMES[lane], end_tick))
    return mid


def write_midi(song: Song, path: str | Path, lanes: list[int] | None = None) -> Path:
    """Write the sketch (or only `lanes`) atomically (atomic.atomic_write: temp beside it, fsync, rename)."""
    mid = song_to_midifile(song, lanes)
    return atomic_write(path, lambda f: mid.save(file=f))  # the user's file mode, like any file they save


def write_stems(song: Song, folder: str | Path, stem: str = "sketch") -> list[Path]:
    """One file per non-empty lane, each with the conductor track: folder/stem-piano.mid ..."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_midi(song, folder / f"{stem}-{LANES[lane]}.mid", [lane])
        for lane in range(len(LANES))
        if lane_ticks(song, lane)
    ]
