"""Song <-> .mid: DAW-ready export (docs/midi-export.md) and import of band MIDI into five lanes."""

from __future__ import annotations

import json
from array import array
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import mido
import numpy as np

from ..atomic import atomic_write
from ..errors import InvalidValue, MusicVAEError
from ..limits import MAX_NOTE_BEATS, MAX_SONG_MINUTES, MAX_TEMPO, MIN_TEMPO, check_chunk_steps, check_steps_per_beat
from ..theory.chords import NO_CHORD, REPEAT, ChordError, parse_chord
from ..theory.feel import feel_of, song_seed, timed_notes
from ..theory.keys import MAJOR_NAMES, MINOR_NAMES, parse_key
from .song import BEATS_PER_BAR, DRUMS, LANES, PITCHES, Song, note_runs

TICKS_PER_BEAT = 480
LANE_CHANNELS = (0, 1, 2, 3, 9)
DRUM_CHANNEL = 9
GM_DRUM_RANGE = (35, 81)
TRACK_NAMES = tuple(lane.capitalize() for lane in LANES)
SETTINGS_PREFIX = "musicvae-app settings: "
NO_CHORD_MARKER = "N.C."  # the marker where a bar with a chord is followed by one without


class MidiImportError(MusicVAEError):
    """A MIDI file we cannot use; the message says which file and why, in a musician's words."""


def lane_of_program(program: int) -> int | None:
    """LPD-5 family of a GM program (0-127) on a melodic channel; None for dropped programs."""
    if 0 <= program <= 7:
        return 0
    if 24 <= program <= 31:
        return 1
    if 32 <= program <= 39:
        return 2
    if program < 96 or 104 <= program <= 111:
        return 3
    return None


# --- reading ------------------------------------------------------------------------------------
# A reader costs what its result costs: the file is parsed once, in bounded memory (packed arrays, no
# message objects), and a primer rolls out only the bars it returns.
MAX_MIDI_BYTES = 16 * 1024 * 1024  # ~2 million notes; real band files are well under 1 MB
MAX_MIDI_EVENTS = 4_000_000
MAX_VLQ_BYTES = 4  # the standard's longest variable-length number (0x0FFFFFFF)
MAX_MARKERS = 100_000  # markers kept per file (a chord a beat for 60 minutes at 400 BPM is 24,000)
MAX_MARKER_BYTES = 64  # a marker's text is kept up to this; longer ones are not chord symbols
_SYSTEM_DATA_BYTES = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0, 0xF8: 0, 0xFA: 0, 0xFB: 0, 0xFC: 0, 0xFE: 0}
_LANE_OF_PROGRAM = [-1 if lane_of_program(p) is None else lane_of_program(p) for p in range(128)]


@dataclass
class Notes:
    """Notes of a file in beats, merged into lanes: arrays lane, pitch, start, end (beats).

    `warnings` says what the reader changed to make the file usable (cut at 60 minutes, an absurd tempo clamped).
    """

    lane: np.ndarray
    pitch: np.ndarray
    start: np.ndarray
    end: np.ndarray
    tempo: float
    warnings: list[str] = field(default_factory=list)
    tempo_given: bool = False  # the file has a set_tempo (else `tempo` is MIDI's implied 120)
    markers: list[tuple[float, str]] = field(default_factory=list)  # (beats, text) of marker events, in time order
    length: float = 0.0  # beats to where the longest track ends (after any cut)


def _vlq(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """(value, next position) of a variable-length number; ValueError when overlong or cut off."""
    value = 0
    for i in range(MAX_VLQ_BYTES):
        if pos + i >= end:
            raise InvalidValue("a track ends inside a number")
        byte = data[pos + i]
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos + i + 1
    raise InvalidValue(f"a variable-length number is longer than {MAX_VLQ_BYTES} bytes")


def _parse_smf(data: bytes, markers: list | None = None) -> tuple[int, array, array, int]:
    """(ticks per beat, ticks, codes, last tick) of every note, program and tempo event, in track order.

    code = kind << 40 | channel << 16 | data1 << 8 | data2, kind 0 note-off, 1 note-on, 2 program change,
    3 tempo (microseconds per beat in the low 24 bits). Marker events are appended to `markers` as
    (tick, text bytes) when it is given. ValueError for damaged bytes.
    """
    if data[:4] != b"MThd" or len(data) < 14:
        raise InvalidValue("no MThd header")
    hlen = int.from_bytes(data[4:8], "big")
    if hlen < 6 or 8 + hlen > len(data):
        raise InvalidValue("damaged header")
    ntracks = int.from_bytes(data[10:12], "big")
    division = int.from_bytes(data[12:14], "big")
    if division & 0x8000:
        raise _Smpte()
    ticks, codes = array("q"), array("q")
    pos, found, last = 8 + hlen, 0, 0
    while pos + 8 <= len(data) and found < ntracks:
        kind, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "big")
        pos += 8
        if pos + size > len(data):
            raise InvalidValue(f"track {found + 1} is cut short ({size} bytes declared, {len(data) - pos} there)")
        if kind == b"MTrk":
            last = max(last, _parse_track(data, pos, pos + size, ticks, codes, markers))
            found += 1
        pos += size
    if found < min(ntracks, 1):
        raise InvalidValue("no tracks")
    return division, ticks, codes, last


class _Smpte(Exception):
    pass


def _parse_track(data: bytes, pos: int, end: int, ticks: array, codes: array, markers: list | None = None) -> int:
    """Append one track's events; returns the tick where the track ends."""
    tick, running = 0, 0
    while pos < end:
        delta, pos = _vlq(data, pos, end)
        tick += delta
        if pos >= end:
            raise InvalidValue("a track ends inside an event")
        status = data[pos]
        if status & 0x80:
            pos += 1
        elif running:
            status = running
        else:
            raise InvalidValue("a data byte where an event should start")
        if status == 0xFF:  # meta and sysex keep running status, as mido (and real files) do
            if pos >= end:
                raise InvalidValue("a track ends inside an event")
            meta = data[pos]
            length, pos = _vlq(data, pos + 1, end)
            if pos + length > end:
                raise InvalidValue("a meta event runs past the end of its track")
            if meta == 0x51 and length == 3:
                ticks.append(tick)
                codes.append((3 << 40) | int.from_bytes(data[pos : pos + 3], "big"))
            elif meta == 0x06 and markers is not None and len(markers) < MAX_MARKERS:
                markers.append((tick, bytes(data[pos : pos + min(length, MAX_MARKER_BYTES + 1)])))
            pos += length
            if meta == 0x2F:
                return tick
        elif status in (0xF0, 0xF7):
            length, pos = _vlq(data, pos, end)
            if pos + length > end:
                raise InvalidValue("a sysex event runs past the end of its track")
            pos += length
        elif status >= 0xF0:
            width = _SYSTEM_DATA_BYTES.get(status)
            if width is None:
                raise InvalidValue(f"undefined system message 0x{status:02X} inside a track")
            pos += width
        else:
            running = status
            high, channel = status & 0xF0, status & 0x0F
            width = 1 if high in (0xC0, 0xD0) else 2
            if pos + width > end:
                raise InvalidValue("a track ends inside an event")
            a = min(data[pos], 127)  # clip stray high bits, as mido's clip=True does
            b = min(data[pos + 1], 127) if width == 2 else 0
            pos += width
            if high == 0x90 and b > 0:
                ticks.append(tick)
                codes.append((1 << 40) | (channel << 16) | (a << 8) | b)
            elif high == 0x80 or high == 0x90:
                ticks.append(tick)
                codes.append((channel << 16) | (a << 8))
            elif high == 0xC0:
                ticks.append(tick)
                codes.append((2 << 40) | (channel << 16) | (a << 8))
        if len(ticks) > MAX_MIDI_EVENTS:
            raise _TooBig(f"more than {MAX_MIDI_EVENTS:,} notes and events")
    return tick


class _TooBig(Exception):
    pass


def _clamped_bpm(us_per_beat: int) -> float:
    bpm = 60e6 / us_per_beat if us_per_beat > 0 else float("inf")
    return min(max(bpm, MIN_TEMPO), MAX_TEMPO)


def _tick_limit(tempo_ticks: np.ndarray, tempo_us: np.ndarray, tpb: int) -> int:
    """The tick at which the file has played MAX_SONG_MINUTES (tempos clamped to 20-400 BPM)."""
    left = MAX_SONG_MINUTES  # minutes still to play
    at, bpm = 0, 120.0
    for t, us in zip(tempo_ticks.tolist(), tempo_us.tolist()):
        minutes = (t - at) / tpb / bpm
        if minutes >= left:
            break
        left -= minutes
        at, bpm = t, _clamped_bpm(us)
    return at + int(left * bpm * tpb)


def read_notes(path: str | Path) -> Notes:
    """Every note of a type 0/1 file with its lane; raises MidiImportError for anything unusable.

    Bounded whatever the bytes say: files over 16 MB are refused, a song longer than 60 minutes is cut
    there, a note held longer than 64 bars is cut, and a tempo of 0 or outside 20-400 BPM is clamped;
    each change is listed in the result's `warnings`.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise IsADirectoryError
        if not path.is_file():  # a pipe or device would never end (or block forever)
            raise MidiImportError(f"'{path.name}' is not a regular file")
        if size > MAX_MIDI_BYTES:
            raise MidiImportError(
                f"'{path.name}' is {size / 2**20:.0f} MB; MIDI files up to {MAX_MIDI_BYTES // 2**20} MB can be used"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise MidiImportError(f"'{path}' does not exist") from None
    except IsADirectoryError:
        raise MidiImportError(f"'{path}' is a folder, not a MIDI file") from None
    except OSError as exc:
        raise MidiImportError(f"'{path.name}' cannot be read ({exc.strerror or exc})") from None
    markers: list[tuple[int, bytes]] = []
    try:
        tpb, ticks, codes, last = _parse_smf(data, markers)
    except _Smpte:
        raise MidiImportError(
            f"'{path.name}' uses SMPTE timing, which is not supported; re-export it in beats"
        ) from None
    except _TooBig as exc:
        raise MidiImportError(f"'{path.name}' is too big to import ({exc})") from None
    except ValueError as exc:
        raise MidiImportError(f"'{path.name}' is not a readable MIDI file (damaged: {exc})") from None
    if tpb <= 0:
        raise MidiImportError(f"'{path.name}' is not a readable MIDI file (0 ticks per beat)")
    return _pair_notes(np.frombuffer(ticks, np.int64), np.frombuffer(codes, np.int64), last, tpb, markers)


def _pair_notes(ticks: np.ndarray, codes: np.ndarray, last: int, tpb: int, markers=()) -> Notes:
    """Match note-ons to note-offs (first on, first off) on the merged stream, within the song-length cap.

    `markers`: (tick, text bytes) of the file's marker events, kept (in time order) up to the same cap.
    """
    warnings: list[str] = []
    order = np.argsort(ticks, kind="stable")  # tracks merged by time; ties keep track order, as mido does
    ticks, codes = ticks[order], codes[order]
    kinds = codes >> 40
    is_tempo = kinds == 3
    tempo_ticks, tempo_us = ticks[is_tempo], codes[is_tempo] & 0xFFFFFF
    tempo = 120.0
    if len(tempo_us):
        tempo = _clamped_bpm(int(tempo_us[0]))
        raw = 60e6 / tempo_us[0] if tempo_us[0] > 0 else float("inf")
        if raw != tempo:
            shown = "0 microseconds per beat" if not tempo_us[0] else f"{raw:.4g} BPM"
            warnings.append(f"its tempo ({shown}) is outside {MIN_TEMPO:g}-{MAX_TEMPO:g} BPM: read as {tempo:g}")
    limit = _tick_limit(tempo_ticks, tempo_us, tpb)
    if last > limit:
        warnings.append(f"it is longer than {MAX_SONG_MINUTES:g} minutes: cut there")
        last = limit
    keep = ~is_tempo & (ticks <= limit)
    programs = [0] * 16
    open_notes: dict[int, deque] = {}
    lanes, pitches, starts, ends = array("q"), array("q"), array("q"), array("q")
    for tick, code in zip(ticks[keep].tolist(), codes[keep].tolist()):
        kind, key = code >> 40, (code >> 8) & 0xFFF  # key: channel and pitch
        if kind == 2:
            programs[key >> 8] = key & 0x7F
        elif kind == 1:
            channel = key >> 8
            lane = DRUMS if channel == DRUM_CHANNEL else _LANE_OF_PROGRAM[programs[channel]]
            held = open_notes.get(key)
            if held is None:
                held = open_notes[key] = deque()
            held.append((tick, lane))
        else:
            held = open_notes.get(key)
            if held:
                start, lane = held.popleft()
                if lane >= 0:
                    lanes.append(lane)
                    pitches.append(key & 0x7F)
                    starts.append(start)
                    ends.append(tick)
    for key, held in open_notes.items():  # notes never released end with the file
        for start, lane in held:
            if lane >= 0:
                lanes.append(lane)
                pitches.append(key & 0x7F)
                starts.append(start)
                ends.append(max(last, start))
    start = np.frombuffer(starts, np.int64) / tpb
    end = np.frombuffer(ends, np.int64) / tpb
    if len(end) and (end - start).max() > MAX_NOTE_BEATS:
        warnings.append(f"notes held longer than {MAX_NOTE_BEATS / BEATS_PER_BAR:.0f} bars were cut")
        end = np.minimum(end, start + MAX_NOTE_BEATS)
    kept = sorted((m for m in markers if m[0] <= limit), key=lambda m: m[0])  # tracks merged by time, ties in order
    return Notes(
        np.frombuffer(lanes, np.int64).astype(int),
        np.frombuffer(pitches, np.int64).astype(int),
        start,
        end,
        tempo,
        warnings,
        bool(len(tempo_us)),
        [(t / tpb, text.decode("latin-1").strip(" \t\r\n\x00")) for t, text in kept],  # mido's charset
        last / tpb,
    )


def _grid(notes: Notes, steps_per_beat: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """lane, pitch, start, end in grid steps, sorted, drums outside the GM map dropped, re-strikes kept apart.

    A note re-struck right after itself keeps a one-step gap, so the roll keeps the onset and an
    export plays two notes, not one long one. Drums are hits: every drum note is one step (its
    onset), so eight hi-hat 8ths stay eight cells with gaps, and 16ths stay one cell each (the
    export plays every drum cell as its own hit).
    """
    start = np.round(notes.start * steps_per_beat).astype(np.int64)
    end = np.maximum(np.round(notes.end * steps_per_beat).astype(np.int64), start + 1)
    end = np.where(notes.lane == DRUMS, start + 1, end)
    keep = ~((notes.lane == DRUMS) & ((notes.pitch < GM_DRUM_RANGE[0]) | (notes.pitch > GM_DRUM_RANGE[1])))
    lane, pitch, start, end = notes.lane[keep], notes.pitch[keep], start[keep], end[keep]
    order = np.lexsort((start, pitch, lane))
    lane, pitch, start, end = lane[order], pitch[order], start[order], end[order]
    same = (lane[1:] == lane[:-1]) & (pitch[1:] == pitch[:-1]) & (lane[:-1] != DRUMS)
    nxt = np.where(same, start[1:], np.iinfo(np.int64).max)
    end[:-1] = np.where(end[:-1] >= nxt, np.maximum(nxt - 1, start[:-1] + 1), end[:-1])
    return lane, pitch, start, end


def notes_to_roll(notes: Notes, steps_per_beat: int, first: int = 0, steps: int | None = None) -> np.ndarray:
    """Five-lane binary roll (5, steps, 128) on the grid, from step `first` (default: all of the song).

    Only the asked-for window is allocated, so reading a few bars of a long file costs a few bars.
    Drums keep only the GM percussion map (35-81).
    """
    steps_per_beat = check_steps_per_beat(steps_per_beat)
    lane, pitch, start, end = _grid(notes, steps_per_beat)
    if steps is None:
        steps = max(int(end.max()) - first, 0) if len(end) else 0
    stop = first + steps
    inside = (end > first) & (start < stop)
    roll = np.zeros((len(LANES), steps, PITCHES), dtype=bool)
    for lane_i, p, s, e in zip(
        lane[inside].tolist(), pitch[inside].tolist(), start[inside].tolist(), end[inside].tolist()
    ):
        roll[lane_i, max(s - first, 0) : min(e, stop) - first, p] = True
    return roll


def read_roll(path: str | Path, steps_per_beat: int) -> tuple[np.ndarray, float]:
    """(roll (5, steps, 128), tempo in BPM) of a whole MIDI file (at most 60 minutes of it)."""
    notes = read_notes(path)
    return notes_to_roll(notes, steps_per_beat), notes.tempo


def chords_from_notes(notes: Notes, steps_per_beat: int) -> list[str | None]:
    """The chord symbol of each bar of the file, from its marker events ([] when none names a chord).

    A marker names a chord when chords.py reads its text ("Am7", "C/E"; "N.C." for none); other markers
    (Verse, Chorus) are ignored. A marker counts in the bar its grid step falls in; a bar takes the first
    chord named in it, else the last one before it (a chord holds until the next). The list covers every
    bar of the file in canonical symbols, as Song.chords keeps them; a marker on the closing bar line names no bar.
    """
    steps_per_beat = check_steps_per_beat(steps_per_beat)
    bar_steps = steps_per_beat * BEATS_PER_BAR
    n_bars = -(-round(notes.length * steps_per_beat) // bar_steps)
    named: dict[int, list[str | None]] = {}
    for beats, text in notes.markers:
        bar = round(beats * steps_per_beat) // bar_steps
        if bar >= n_bars or not text or len(text) > MAX_MARKER_BYTES:
            continue
        try:
            chord = None if text in NO_CHORD else parse_chord(text).symbol
        except ChordError:
            continue
        named.setdefault(bar, []).append(chord)
    if not any(c is not None for chords in named.values() for c in chords):
        return []
    out: list[str | None] = []
    held = None
    for bar in range(n_bars):
        if bar in named:
            out.append(named[bar][0])
            held = named[bar][-1]
        else:
            out.append(held)
    return out


def read_chords(path: str | Path, steps_per_beat: int) -> list[str | None]:
    """The chord of each bar of a MIDI file, from its markers (see chords_from_notes); MidiImportError as read_notes."""
    return chords_from_notes(read_notes(path), steps_per_beat)


def read_primer(
    path: str | Path, steps_per_beat: int, chunk_steps: int, bar: int | None = None, warnings: list | None = None
) -> np.ndarray:
    """One chunk (5, chunk_steps, 128) of a MIDI file: from `bar` (1-based), else from the first bar with notes.

    Only the chunk's bars are rolled out, whatever the length of the file. What the reader had to
    change (a file cut at 60 minutes, a tempo clamped) is appended to `warnings` when given.
    """
    notes = read_notes(path)
    if warnings is not None:
        warnings.extend(notes.warnings)
    return primer_from_notes(notes, Path(path).name, steps_per_beat, chunk_steps, bar)


def primer_from_notes(
    notes: Notes, name: str, steps_per_beat: int, chunk_steps: int, bar: int | None = None
) -> np.ndarray:
    """read_primer's chunk from notes already read (so a caller that also wants the tempo reads the file once)."""
    steps_per_beat, chunk_steps = check_steps_per_beat(steps_per_beat), check_chunk_steps(chunk_steps)
    lane, pitch, start, end = _grid(notes, steps_per_beat)
    if not len(start):
        raise MidiImportError(
            f"'{name}' has no notes the band can use (piano, guitar, bass, strings or drums): pick another file"
        )
    bar_steps = steps_per_beat * BEATS_PER_BAR
    n_bars = -(-int(end.max()) // bar_steps)
    if bar is None:
        first = int(start.min()) // bar_steps * bar_steps
    else:
        if isinstance(bar, bool) or not isinstance(bar, (int, np.integer)) or not 1 <= bar <= n_bars:
            cut = " (the file was cut at 60 minutes)" if any("minutes" in w for w in notes.warnings) else ""
            raise MidiImportError(f"'{name}' has {n_bars} bars{cut}; choose a start bar from 1 to {n_bars}")
        first = (int(bar) - 1) * bar_steps
    chunk = notes_to_roll(notes, steps_per_beat, first, chunk_steps)
    if not chunk.any():
        raise MidiImportError(
            f"'{name}' has no notes in the {chunk_steps // bar_steps} bars from bar {first // bar_steps + 1}"
        )
    return chunk


# --- writing ------------------------------------------------------------------------------------
DRUM_HIT_STEPS = 1  # every active drum step is its own hit, this many steps long (drums ring out anyway)


def lane_notes(song: Song, lane: int) -> list[tuple[int, int, int, int]]:
    """(pitch, start step, end step, velocity) of one lane; velocity follows the model's confidence.

    Pitched lanes join consecutive active steps into one held note. Drums never do: each active step
    is a separate hit of DRUM_HIT_STEPS, so a hi-hat row on every 8th plays every 8th.
    """
    probs = song.probs[lane]
    roll = song.notes()[lane]
    out = []
    if lane == DRUMS:
        steps, pitches = np.nonzero(roll)
        keep = (pitches >= GM_DRUM_RANGE[0]) & (pitches <= GM_DRUM_RANGE[1])
        order = np.lexsort((steps[keep], pitches[keep]))  # by pitch, then time, like note_runs
        runs = (pitches[keep][order], steps[keep][order], steps[keep][order] + DRUM_HIT_STEPS)
    else:
        runs = note_runs(roll)
    for pitch, s, e in zip(*runs):
        e = min(int(e), song.n_steps)
        confidence = (float(probs[s:e, pitch].mean()) - song.threshold) / (1.0 - song.threshold)
        velocity = int(round(56 + 64 * min(max(confidence, 0.0), 1.0)))
        out.append((int(pitch), int(s), int(e), velocity))
    return out


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


def _track(events: list[tuple[int, int, mido.Message]], name: str, end_tick: int) -> mido.MidiTrack:
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=name, time=0))
    last = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
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
    """A marker (the chord's symbol; N.C. for none) on each bar line where the chord changes.

    Symbols chords.py cannot read are left out: a DAW would show them, but no reader could use them.
    """
    out, held = [], None
    for bar, text in enumerate(song.chords[: song.n_bars]):
        try:
            chord = None if text is None or text in NO_CHORD else parse_chord(text).symbol
        except ChordError:
            continue
        if chord != held:
            tick = bar * song.steps_per_bar * ticks_per_step
            out.append((tick, 3, mido.MetaMessage("marker", text=NO_CHORD_MARKER if chord is None else chord)))
            held = chord
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
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
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
    feel = feel_of(song.settings)
    for lane in [i for i in (sorted(lanes) if lanes is not None else range(len(LANES))) if i in lineup]:
        notes = lane_notes(song, lane)
        if not feel.off:  # swing and humanize: times in beats on the 480-tick grid
            timed = timed_lane_notes(song, lane, notes)
            notes = [(p, round(s * TICKS_PER_BEAT), round(e * TICKS_PER_BEAT), v) for p, s, e, v in timed]
        else:
            notes = [(p, s * ticks, e * ticks, v) for p, s, e, v in notes]
        channel = LANE_CHANNELS[lane]
        program = 0 if lane == DRUMS else int(song.programs[lane])
        events = [(0, 0, mido.Message("program_change", channel=channel, program=program))]
        for pitch, s, e, vel in notes:
            events.append((s, 2, mido.Message("note_on", channel=channel, note=pitch, velocity=vel)))
            events.append((e, 1, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
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
        if lane_notes(song, lane)
    ]


def _meta_mido_reads(meta: int, body: bytes) -> bool:
    from mido.midifiles.meta import build_meta_message

    try:
        build_meta_message(meta, list(body))
    except Exception:  # mido's decoders raise IndexError, KeyError, KeySignatureError... on bad meta bytes
        return False
    return True


def _without_bad_meta(data: bytes) -> bytes:
    """The file's bytes with every meta event mido cannot decode left out (its delta goes to the next event).

    Only for files read_notes has vouched for, so the track structure is sound.
    """
    hlen = int.from_bytes(data[4:8], "big")
    out = bytearray(data[: 8 + hlen])
    pos = 8 + hlen
    while pos + 8 <= len(data):
        kind, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "big")
        start, end = pos + 8, min(pos + 8 + size, len(data))
        if kind != b"MTrk":
            out += data[pos:end]
            pos = end
            continue
        body, at, carry, running = bytearray(), start, 0, 0
        while at < end:
            delta, at = _vlq(data, at, end)
            event_start, status = at, data[at]
            keep = True
            if status == 0xFF:
                meta = data[at + 1]
                length, at = _vlq(data, at + 2, end)
                keep = _meta_mido_reads(meta, data[at : at + length])
                at += length
            elif status in (0xF0, 0xF7):
                length, at = _vlq(data, at + 1, end)
                at += length
            elif status >= 0xF0:
                at += 1 + _SYSTEM_DATA_BYTES.get(status, 0)
            else:
                if status & 0x80:
                    running, at = status, at + 1
                at += 1 if running & 0xF0 in (0xC0, 0xD0) else 2
            if keep:
                body += _vlq_bytes(carry + delta) + data[event_start:at]
                carry = 0
            else:
                carry += delta
        out += b"MTrk" + len(body).to_bytes(4, "big") + body
        pos = end
    return bytes(out)


def _vlq_bytes(value: int) -> bytes:
    parts = [value & 0x7F]
    value >>= 7
    while value:
        parts.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(parts))


def open_midifile(path: str | Path) -> mido.MidiFile:
    """A mido.MidiFile of a file read_notes accepts, with the meta events mido cannot decode left out.

    A key signature of 100 sharps, a 1-byte time signature, a 2-byte tempo or a 1-byte SMPTE offset would
    make mido raise; they are dropped, the notes stay. A format-2 file is read as format 1 (its tracks
    together), as read_notes reads it. MidiImportError names the file when it is unusable.
    """
    import io

    path = Path(path)
    read_notes(path)  # the bounded reader vouches for the file before mido parses it
    data = path.read_bytes()
    try:
        try:
            mid = mido.MidiFile(file=io.BytesIO(data), clip=True)
        except Exception:  # mido raises many kinds on meta events it cannot decode
            mid = mido.MidiFile(file=io.BytesIO(_without_bad_meta(data)), clip=True)
    except Exception as exc:
        raise MidiImportError(f"'{path.name}' is not a readable MIDI file ({type(exc).__name__})") from None
    if mid.type == 2:
        mid.type = 1
    return mid


def read_settings(path: str | Path) -> dict:
    """The settings that made an exported sketch, from its text meta event ({} if none or unreadable).

    Raises MidiImportError for a file that is missing, too big or not MIDI at all.
    """
    path = Path(path)
    read_notes(path)  # missing, too big or not MIDI: MidiImportError
    try:
        for track in open_midifile(path).tracks[:1]:
            for msg in track:
                if msg.type == "text" and msg.text.startswith(SETTINGS_PREFIX):
                    settings = json.loads(msg.text[len(SETTINGS_PREFIX) :])
                    return settings if isinstance(settings, dict) else {}
    except (MidiImportError, ValueError, RecursionError, OSError):
        return {}  # readable notes but settings nobody can read: none
    return {}
