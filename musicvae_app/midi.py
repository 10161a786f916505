"""Song <-> .mid: DAW-ready export (docs/midi-export.md) and import of band MIDI into five lanes."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np

from .song import BEATS_PER_BAR, DRUMS, LANES, PITCHES, Song, note_runs

TICKS_PER_BEAT = 480
LANE_CHANNELS = (0, 1, 2, 3, 9)
DRUM_CHANNEL = 9
GM_DRUM_RANGE = (35, 81)
TRACK_NAMES = tuple(lane.capitalize() for lane in LANES)
SETTINGS_PREFIX = "musicvae-app settings: "


class MidiImportError(Exception):
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
@dataclass
class Notes:
    """Notes of a file in beats, merged into lanes: arrays lane, pitch, start, end (beats)."""

    lane: np.ndarray
    pitch: np.ndarray
    start: np.ndarray
    end: np.ndarray
    tempo: float


def read_notes(path: str | Path) -> Notes:
    """Every note of a type 0/1 file with its lane; raises MidiImportError for anything unusable."""
    path = Path(path)
    try:
        mid = mido.MidiFile(str(path), clip=True)
    except FileNotFoundError:
        raise MidiImportError(f"'{path}' does not exist") from None
    except IsADirectoryError:
        raise MidiImportError(f"'{path}' is a folder, not a MIDI file") from None
    except Exception as exc:  # mido raises OSError, EOFError, ValueError, KeyError... on bad bytes
        raise MidiImportError(f"'{path.name}' is not a readable MIDI file ({type(exc).__name__}: {exc})") from None
    if mid.ticks_per_beat <= 0:
        raise MidiImportError(f"'{path.name}' uses SMPTE timing, which is not supported; re-export it in beats")
    tpb = float(mid.ticks_per_beat)
    programs = [0] * 16
    open_notes: dict[tuple[int, int], list[tuple[float, int]]] = {}
    out: list[tuple[int, int, float, float]] = []
    tempo = None
    tick = 0
    try:
        stream = mido.merge_tracks(mid.tracks)
    except Exception as exc:
        raise MidiImportError(f"'{path.name}' has damaged tracks ({exc})") from None
    for msg in stream:
        tick += msg.time
        kind = msg.type
        if kind == "set_tempo" and tempo is None:
            tempo = mido.tempo2bpm(msg.tempo)
        elif kind == "program_change":
            programs[msg.channel] = msg.program
        elif kind == "note_on" and msg.velocity > 0:
            lane = DRUMS if msg.channel == DRUM_CHANNEL else lane_of_program(programs[msg.channel])
            open_notes.setdefault((msg.channel, msg.note), []).append((tick / tpb, -1 if lane is None else lane))
        elif kind in ("note_off", "note_on"):
            starts = open_notes.get((msg.channel, msg.note))
            if starts:
                start, lane = starts.pop(0)
                if lane >= 0:
                    out.append((lane, msg.note, start, tick / tpb))
    for (_, pitch), starts in open_notes.items():  # notes never released end at the last event
        out.extend((lane, pitch, start, max(tick / tpb, start)) for start, lane in starts if lane >= 0)
    arr = np.array(out, dtype=np.float64).reshape(-1, 4)
    return Notes(arr[:, 0].astype(int), arr[:, 1].astype(int), arr[:, 2], arr[:, 3], tempo or 120.0)


def notes_to_roll(notes: Notes, steps_per_beat: int) -> np.ndarray:
    """Five-lane binary roll (5, steps, 128) on the grid.

    A note re-struck right after itself keeps a one-step gap, so the roll keeps the onset and an
    export plays two notes, not one long one. Drums are hits: every drum note is one step (its
    onset), so eight hi-hat 8ths stay eight cells with gaps, and 16ths stay one cell each (the
    export plays every drum cell as its own hit). Drums keep only the GM percussion map (35-81).
    """
    start = np.round(notes.start * steps_per_beat).astype(int)
    end = np.maximum(np.round(notes.end * steps_per_beat).astype(int), start + 1)
    end = np.where(notes.lane == DRUMS, start + 1, end)
    keep = ~((notes.lane == DRUMS) & ((notes.pitch < GM_DRUM_RANGE[0]) | (notes.pitch > GM_DRUM_RANGE[1])))
    lane, pitch, start, end = notes.lane[keep], notes.pitch[keep], start[keep], end[keep]
    total = int(end.max()) if len(end) else 0
    roll = np.zeros((len(LANES), total, PITCHES), dtype=bool)
    order = np.lexsort((start, pitch, lane))
    lane, pitch, start, end = lane[order], pitch[order], start[order], end[order]
    same = (lane[1:] == lane[:-1]) & (pitch[1:] == pitch[:-1]) & (lane[:-1] != DRUMS)
    nxt = np.where(same, start[1:], np.iinfo(int).max)
    end[:-1] = np.where(end[:-1] >= nxt, np.maximum(nxt - 1, start[:-1] + 1), end[:-1])
    for lane_i, p, s, e in zip(lane, pitch, start, end):
        roll[lane_i, s:e, p] = True
    return roll


def read_roll(path: str | Path, steps_per_beat: int) -> tuple[np.ndarray, float]:
    """(roll (5, steps, 128), tempo in BPM) of a MIDI file."""
    notes = read_notes(path)
    return notes_to_roll(notes, steps_per_beat), notes.tempo


def read_primer(path: str | Path, steps_per_beat: int, chunk_steps: int, bar: int | None = None) -> np.ndarray:
    """One chunk (5, chunk_steps, 128) of a MIDI file: from `bar` (1-based), else from the first bar with notes."""
    roll, _ = read_roll(path, steps_per_beat)
    name = Path(path).name
    if not roll.any():
        raise MidiImportError(
            f"'{name}' has no notes the band can use (piano, guitar, bass, strings or drums): pick another file"
        )
    bar_steps = steps_per_beat * BEATS_PER_BAR
    n_bars = -(-roll.shape[1] // bar_steps)
    if bar is None:
        first = int(np.flatnonzero(roll.any(axis=(0, 2)))[0])
        start = first // bar_steps * bar_steps
    else:
        if not 1 <= bar <= n_bars:
            raise MidiImportError(f"'{name}' has {n_bars} bars; choose a start bar from 1 to {n_bars}")
        start = (bar - 1) * bar_steps
    chunk = np.zeros((len(LANES), chunk_steps, PITCHES), dtype=bool)
    piece = roll[:, start : start + chunk_steps]
    chunk[:, : piece.shape[1]] = piece
    if not chunk.any():
        raise MidiImportError(
            f"'{name}' has no notes in the {chunk_steps // bar_steps} bars from bar {start // bar_steps + 1}"
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


def _track(events: list[tuple[int, int, mido.Message]], name: str, end_tick: int) -> mido.MidiTrack:
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=name, time=0))
    last = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - last))
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=end_tick - last))
    return track


def song_to_midifile(song: Song, lanes: list[int] | None = None) -> mido.MidiFile:
    """A type-1 file: conductor track, then one named track per lane (all five, or `lanes`), in lane order.

    An empty lane keeps its (note-less) track, so track n is the same instrument in every export.
    """
    ticks = TICKS_PER_BEAT // song.steps_per_beat
    end_tick = song.n_steps * ticks
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    settings = json.dumps({k: v for k, v in song.settings.items() if isinstance(v, (int, float, str))}, sort_keys=True)
    conductor = [
        (0, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(song.tempo))),
        (0, 1, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
        (0, 2, mido.MetaMessage("text", text=SETTINGS_PREFIX + settings)),
    ]
    mid.tracks.append(_track(conductor, "musicvae-app sketch", end_tick))
    lineup = [LANES.index(name) for name in song.lineup]  # lanes switched out of the band are left out
    for lane in [i for i in (sorted(lanes) if lanes is not None else range(len(LANES))) if i in lineup]:
        notes = lane_notes(song, lane)
        channel = LANE_CHANNELS[lane]
        program = 0 if lane == DRUMS else int(song.programs[lane])
        events = [(0, 0, mido.Message("program_change", channel=channel, program=program))]
        for pitch, s, e, vel in notes:
            events.append((s * ticks, 2, mido.Message("note_on", channel=channel, note=pitch, velocity=vel)))
            events.append((e * ticks, 1, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
        mid.tracks.append(_track(events, TRACK_NAMES[lane], end_tick))
    return mid


def write_midi(song: Song, path: str | Path, lanes: list[int] | None = None) -> Path:
    """Write the sketch (or only `lanes`) atomically: a temp file beside the target, then a rename."""
    path = Path(path)
    mid = song_to_midifile(song, lanes)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".mid.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            mid.save(file=f)
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes 0600; a file for a DAW or a bandmate follows the umask
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def umask() -> int:
    """The process umask, read without changing it where Linux tells (os.umask would race other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_stems(song: Song, folder: str | Path, stem: str = "sketch") -> list[Path]:
    """One file per non-empty lane, each with the conductor track: folder/stem-piano.mid ..."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_midi(song, folder / f"{stem}-{LANES[lane]}.mid", [lane])
        for lane in range(len(LANES))
        if lane_notes(song, lane)
    ]


def read_settings(path: str | Path) -> dict:
    """The settings that made an exported sketch, from its text meta event ({} if none)."""
    for track in mido.MidiFile(str(path)).tracks[:1]:
        for msg in track:
            if msg.type == "text" and msg.text.startswith(SETTINGS_PREFIX):
                return json.loads(msg.text[len(SETTINGS_PREFIX) :])
    return {}


def read_tempo(path: str | Path) -> float | None:
    """The first tempo of a MIDI file in BPM (None when it has none or cannot be read)."""
    try:
        mid = mido.MidiFile(str(path), clip=True)
        for track in mid.tracks:
            for msg in track:
                if msg.type == "set_tempo" and msg.tempo > 0:
                    bpm = float(mido.tempo2bpm(msg.tempo))
                    return bpm if 20.0 <= bpm <= 400.0 else None
    except Exception:  # an unreadable file has no tempo to offer; read_notes says why it is unreadable
        return None
    return None
