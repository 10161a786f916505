"""Audio stems: one WAV per lane, each rendered through FluidSynth with the lane's instrument, volume and pan
(the mixer's CC7 and CC10), so the stems played together sound as the mixed WAV does.

From a sketch (File > Export audio stems: `render_stems`) or from a .mid (`musicvae render X.mid --out X.wav
--stems`: `render_midi_stems`, one stem per track that plays notes, with the conductor track's tempo).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import mido

from ..sketch.midi import lane_notes, open_midifile
from ..sketch.song import LANES, Song
from .schedule import Lanes, audible_lanes
from .synth import render_midi_file, render_wav


def stem_path(out: Path, name: str) -> Path:
    """X.wav -> X-piano.wav (the lane or track's name, lower case, safe for a file name)."""
    safe = re.sub(r"[^\w.-]+", "-", name.strip().lower()).strip("-") or "track"
    return out.with_name(f"{out.stem}-{safe}{out.suffix or '.wav'}")


def render_stems(
    song: Song,
    out: str | os.PathLike,
    soundfont: str | os.PathLike | None = None,
    mutes: Lanes = None,
    solos: Lanes = None,
    progress: Callable[[float], bool] | None = None,
) -> list[Path]:
    """One WAV per audible lane that plays (out X.wav -> X-piano.wav, X-bass.wav ...); their paths.

    Each stem is the sketch with only its lane sounding (render_wav), so it keeps its volume and pan.
    `progress(fraction)` covers all of them; returning False stops (RenderCancelled)."""
    out = Path(out)
    lanes = [i for i, on in enumerate(audible_lanes(mutes, solos)) if on and i < len(LANES) and lane_notes(song, i)]
    paths = []
    for n, lane in enumerate(lanes):
        part = None if progress is None else (lambda f, n=n: progress((n + f) / len(lanes)))
        paths.append(render_wav(song, stem_path(out, LANES[lane]), soundfont, solos=[lane], progress=part))
    return paths


def _track_name(track: mido.MidiTrack, n: int) -> str:
    return next((m.name for m in track if m.type == "track_name" and m.name.strip()), f"track {n}")


def render_midi_stems(midi_path: str | os.PathLike, out: str | os.PathLike, soundfont=None) -> list[Path]:
    """One WAV per track of a .mid that plays notes (its name in the file name: X-bass.wav), each with the
    first track (tempo, in a type-1 file) beside it; their paths."""
    mid = open_midifile(midi_path)
    out = Path(out)
    conductor = mid.tracks[0] if mid.type == 1 else None
    paths = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, track in enumerate(mid.tracks):
            if not any(m.type == "note_on" and m.velocity for m in track):
                continue
            one = mido.MidiFile(type=1 if conductor is not None else 0, ticks_per_beat=mid.ticks_per_beat)
            if conductor is not None and track is not conductor:
                one.tracks.append(conductor)
            one.tracks.append(track)
            temp = Path(tmp) / f"{n}.mid"
            one.save(temp)
            paths.append(render_midi_file(temp, stem_path(out, _track_name(track, n)), soundfont))
    return paths
