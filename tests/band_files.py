"""Small but real multi-track band MIDI files, written with mido, for data, training and CLI tests."""

from __future__ import annotations

from collections import defaultdict, deque
from pathlib import Path

import mido
import numpy as np

TPB = 96
READ_TPB = 480  # read_back's ticks a beat (the app's exports' own)


def timed_track(events) -> mido.MidiTrack:
    """(tick, order, message) events -> a track in time order (note-offs before note-ons at one tick)."""
    track, last = mido.MidiTrack(), 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - last))
        last = tick
    return track


def write_band_midi(path: str | Path, bars: int = 24, seed: int = 0, tempo: float = 110.0) -> Path:
    """A type-1 file: piano chords, a guitar riff, a bass line, string pads and a rock beat, each on its own track."""
    rng = np.random.default_rng(seed)
    root = 48 + int(rng.integers(0, 12))
    mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo))])
    mid.tracks.append(conductor)
    parts = [  # (channel, program, notes as (beat, length in beats, pitch))
        (0, 0, [(b, 2, root + 12 + i) for b in range(0, bars * 4, 2) for i in (0, 4, 7)]),
        (1, 25, [(b / 2, 0.5, root + 12 + int(rng.choice([0, 3, 5, 7]))) for b in range(bars * 8)]),
        (2, 33, [(b, 1, root - 12 + (7 if b % 8 >= 4 else 0)) for b in range(bars * 4)]),
        (3, 48, [(b, 4, root + 24 + i) for b in range(0, bars * 4, 4) for i in (0, 7)]),
        (
            9,
            0,
            [(b / 2, 0.5, 42) for b in range(bars * 8)] + [(b, 0.5, 36 if b % 2 == 0 else 38) for b in range(bars * 4)],
        ),
    ]
    for channel, program, notes in parts:
        events = [(0, 0, mido.Message("program_change", channel=channel, program=program))]
        for beat, length, pitch in notes:
            on, off = int(beat * TPB), int((beat + length) * TPB) - 1
            events.append((on, 2, mido.Message("note_on", channel=channel, note=pitch, velocity=90)))
            events.append((off, 1, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
        mid.tracks.append(timed_track(events))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mid.save(str(path))
    return path


def write_band_folder(root: str | Path, songs: int = 6, bars: int = 24) -> Path:
    """root/rock/*.mid and root/pop/*.mid plus one broken file, like a user's collection."""
    root = Path(root)
    for i in range(songs):
        write_band_midi(root / ("rock" if i % 2 == 0 else "pop") / f"song{i}.mid", bars=bars, seed=i)
    (root / "rock" / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    return root


def write_notes(path: str | Path, notes, tempo: float | None = None, tpb: int = 480) -> Path:
    """notes: (channel, program, pitch, start beat, end beat) -> a type-1 file, one track per channel in order
    (after a conductor track with the tempo, when one is given)."""
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    if tempo is not None:
        mid.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo))]))
    for channel in sorted({n[0] for n in notes}):
        program = next(n[1] for n in notes if n[0] == channel)
        events = [(0, 0, mido.Message("program_change", channel=channel, program=program))]
        for ch, _, pitch, start, end in notes:
            if ch == channel:
                events.append((round(start * tpb), 2, mido.Message("note_on", channel=ch, note=pitch, velocity=90)))
                events.append((round(end * tpb), 1, mido.Message("note_off", channel=ch, note=pitch, velocity=0)))
        mid.tracks.append(timed_track(events))
    path = Path(path)
    mid.save(str(path))
    return path


def read_back(path) -> dict[int, list[tuple[int, int, int, int]]]:
    """Every note of a file by channel, as mido reads it (an independent parser): (pitch, on, off, velocity), note-ons
    paired first in, first out with their offs, in ticks scaled to 480 a beat, in time order."""
    mid = mido.MidiFile(str(path))
    scale = READ_TPB / mid.ticks_per_beat
    out: dict[int, list] = defaultdict(list)
    for track in mid.tracks:
        tick, held = 0, defaultdict(deque)
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                held[(msg.channel, msg.note)].append((tick, msg.velocity))
            elif msg.type in ("note_on", "note_off") and held[(msg.channel, msg.note)]:
                on, vel = held[(msg.channel, msg.note)].popleft()
                out[msg.channel].append((msg.note, round(on * scale), round(tick * scale), vel))
    return {ch: sorted(notes, key=lambda n: (n[1], n[0])) for ch, notes in out.items()}
