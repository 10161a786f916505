"""Reading .mid files: notes, five-lane rolls, chords from markers, primers, the settings an export carried."""

from __future__ import annotations

import json
from array import array
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import mido
import numpy as np

from ...limits import MAX_NOTE_BEATS, MAX_SONG_MINUTES, MAX_TEMPO, MIN_TEMPO, check_chunk_steps, check_steps_per_beat
from ...theory.chords import NO_CHORD, ChordError, parse_chord, song_texts
from ...userfiles import read_user_file
from ..song import BEATS_PER_BAR, DRUMS, LANES, PITCHES
from .format import DRUM_CHANNEL, GM_DRUM_RANGE, SETTINGS_PREFIX, MidiImportError
from .smf import LANE_OF_PROGRAM, MAX_MARKER_BYTES, MAX_MIDI_BYTES, Smpte, TooBig, parse_smf, without_bad_meta


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
    velocity: np.ndarray | None = None  # each note's note-on velocity (1-127), as `pitch`
    name: str = ""  # the file's name (for messages), when read from a file
    cut: bool = False  # the reader cut the file at MAX_SONG_MINUTES (its warnings say so): notes past it are gone

    def __post_init__(self) -> None:
        if self.velocity is None:
            self.velocity = np.full(len(self.pitch), 100, dtype=int)


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

    The file is read once, through userfiles (a regular file only: a pipe, a device or a folder is refused at
    once). Bounded whatever the bytes say: files over 16 MB are refused, a song longer than 60 minutes is cut
    there, a note held longer than 64 bars is cut, and a tempo of 0 or outside 20-400 BPM is clamped;
    each change is listed in the result's `warnings`.
    """
    path = Path(path)
    data = read_user_file(path, MAX_MIDI_BYTES, "MIDI file", MidiImportError, "give a .mid file")
    return notes_from_bytes(data, path.name)


def notes_from_bytes(data: bytes, name: str) -> Notes:
    """read_notes on a file's bytes already read (`name`: the file's name, for messages and Notes.name)."""
    path = Path(name)
    markers: list[tuple[int, bytes]] = []
    try:
        tpb, ticks, codes, last = parse_smf(data, markers)
    except Smpte:
        raise MidiImportError(
            f"'{path.name}' uses SMPTE timing, which is not supported; re-export it in beats"
        ) from None
    except TooBig as exc:
        raise MidiImportError(f"'{path.name}' is too big to import ({exc})") from None
    except ValueError as exc:
        raise MidiImportError(f"'{path.name}' is not a readable MIDI file (damaged: {exc})") from None
    if tpb <= 0:
        raise MidiImportError(f"'{path.name}' is not a readable MIDI file (0 ticks per beat)")
    notes = _pair_notes(np.frombuffer(ticks, np.int64), np.frombuffer(codes, np.int64), last, tpb, markers)
    notes.name = path.name
    return notes


def marker_text(data: bytes) -> str:
    """A marker's text: UTF-8 (what our exports and most DAWs today write), else Latin-1 (older files)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.strip(" \t\r\n\x00")


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
    cut = last > limit
    if cut:
        warnings.append(f"it is longer than {MAX_SONG_MINUTES:g} minutes: cut there")
        last = limit
    keep = ~is_tempo & (ticks <= limit)
    programs = [0] * 16
    open_notes: dict[int, deque] = {}
    lanes, pitches, starts, ends, velocities = array("q"), array("q"), array("q"), array("q"), array("q")
    for tick, code in zip(ticks[keep].tolist(), codes[keep].tolist()):
        kind, key = code >> 40, (code >> 8) & 0xFFF  # key: channel and pitch
        if kind == 2:
            programs[key >> 8] = key & 0x7F
        elif kind == 1:
            channel = key >> 8
            lane = DRUMS if channel == DRUM_CHANNEL else LANE_OF_PROGRAM[programs[channel]]
            held = open_notes.get(key)
            if held is None:
                held = open_notes[key] = deque()
            held.append((tick, lane, code & 0x7F))
        else:
            held = open_notes.get(key)
            if held:
                start, lane, velocity = held.popleft()
                if lane >= 0:
                    lanes.append(lane)
                    pitches.append(key & 0x7F)
                    starts.append(start)
                    ends.append(tick)
                    velocities.append(velocity)
    for key, held in open_notes.items():  # notes never released end with the file
        for start, lane, velocity in held:
            if lane >= 0:
                lanes.append(lane)
                pitches.append(key & 0x7F)
                starts.append(start)
                ends.append(max(last, start))
                velocities.append(velocity)
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
        [(t / tpb, marker_text(text)) for t, text in kept],
        last / tpb,
        np.frombuffer(velocities, np.int64).astype(int),
        cut=cut,
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
    """The chords of each bar of the file, from its marker events, as Song.chords keeps them: each bar's chart
    text ('Am7', 'C G': two halves, 'C . . G': a chord a beat) or None ([] when no marker names a chord).

    A marker names a chord when chords.py reads its text ("Am7", "C/E"; "N.C." for none); other markers
    (Verse, Chorus) are ignored. A marker counts on the beat its grid step falls in; a beat takes the first
    chord named on it, else the last one before it (a chord holds until the next); beats before the first
    chord have none. The list covers every bar of the file; a marker on the closing bar line names no beat.
    """
    steps_per_beat = check_steps_per_beat(steps_per_beat)
    n_beats = BEATS_PER_BAR * -(-round(notes.length * steps_per_beat) // (steps_per_beat * BEATS_PER_BAR))
    named: dict[int, list] = {}
    for beats, text in notes.markers:
        beat = round(beats * steps_per_beat) // steps_per_beat
        if beat >= n_beats or not text or len(text) > MAX_MARKER_BYTES:
            continue
        try:
            chord = None if text in NO_CHORD else parse_chord(text)
        except ChordError:
            continue
        named.setdefault(beat, []).append(chord)
    if not any(c is not None for chords in named.values() for c in chords):
        return []
    out: list = []
    held = None
    for beat in range(n_beats):
        if beat in named:
            out.append(named[beat][0])
            held = named[beat][-1]
        else:
            out.append(held)
    return song_texts(out)


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
            cut = f" (the file was cut at {MAX_SONG_MINUTES:g} minutes)" if notes.cut else ""
            raise MidiImportError(f"'{name}' has {n_bars} bars{cut}; choose a start bar from 1 to {n_bars}")
        first = (int(bar) - 1) * bar_steps
    chunk = notes_to_roll(notes, steps_per_beat, first, chunk_steps)
    if not chunk.any():
        raise MidiImportError(
            f"'{name}' has no notes in the {chunk_steps // bar_steps} bars from bar {first // bar_steps + 1}"
        )
    return chunk


# --- writing ------------------------------------------------------------------------------------


def open_midifile(path: str | Path) -> mido.MidiFile:
    """A mido.MidiFile of a file read_notes accepts, with the meta events mido cannot decode left out.

    A key signature of 100 sharps, a 1-byte time signature, a 2-byte tempo or a 1-byte SMPTE offset would
    make mido raise; they are dropped, the notes stay. A format-2 file is read as format 1 (its tracks
    together), as read_notes reads it. MidiImportError names the file when it is unusable.
    """
    import io

    path = Path(path)
    data = read_user_file(path, MAX_MIDI_BYTES, "MIDI file", MidiImportError, "give a .mid file")
    notes_from_bytes(data, path.name)  # the bounded reader vouches for the bytes before mido parses them
    try:
        try:
            mid = mido.MidiFile(file=io.BytesIO(data), clip=True)
        except Exception:  # mido raises many kinds on meta events it cannot decode
            mid = mido.MidiFile(file=io.BytesIO(without_bad_meta(data)), clip=True)
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
    mid = open_midifile(path)  # missing, too big or not MIDI: MidiImportError
    try:
        for track in mid.tracks[:1]:
            for msg in track:
                if msg.type == "text" and msg.text.startswith(SETTINGS_PREFIX):
                    settings = json.loads(msg.text[len(SETTINGS_PREFIX) :])
                    return settings if isinstance(settings, dict) else {}
    except (MidiImportError, ValueError, RecursionError, OSError):
        return {}  # readable notes but settings nobody can read: none
    return {}
