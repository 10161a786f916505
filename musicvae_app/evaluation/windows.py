"""The scoring grid of `musicvae evaluate`: validation windows (a real primer and the song's own continuation),
and takes written to .mid and read back at 16ths, as an outside user would hear them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..sketch.song import LANES

SCORE_STEPS_PER_BEAT = 4  # every pack is scored at 16ths
BAR_STEPS = SCORE_STEPS_PER_BEAT * 4
CHUNK_BARS = 4  # a pack's chunk is four 4/4 bars, whatever its grid
SCORE_CHUNK = CHUNK_BARS * BAR_STEPS


@dataclass
class Window:
    """A validation song's primer chunk and its own continuation: roll (5, (steps + 1) * chunk_steps, 128)."""

    name: str
    primer_chunk: int
    roll: np.ndarray


def primer_chunk(n_chunks: int, steps: int) -> int | None:
    """The chunk nearest the song's middle that leaves `steps` chunks after it and is not the first."""
    chunk = min(n_chunks // 2, n_chunks - steps - 1)
    return chunk if chunk >= 1 else None


def windows(songs: Iterable, chunk_steps: int, steps: int, count: int | None = None) -> list[Window]:
    """Windows of the songs (SongRolls or bool (5, steps, 128) rolls) long enough for one, in the order given."""
    out = []
    for i, song in enumerate(songs):
        if count is not None and len(out) >= count:
            break
        roll = np.asarray(getattr(song, "roll", song), dtype=bool)
        chunk = primer_chunk(roll.shape[1] // chunk_steps, steps)
        if chunk is None:
            continue
        start = chunk * chunk_steps
        window = roll[:, start : start + (steps + 1) * chunk_steps]
        if window[:, :chunk_steps].any():  # a silent primer (a break) gives the model nothing to continue
            out.append(Window(str(getattr(song, "path", f"song {i}")), chunk, window))
    return out


def roll_to_midi(roll: np.ndarray, path: Path, tempo: float = 120.0) -> Path:
    """Write a 16th-note bool roll (5, steps, 128) as a .mid (each run a note, each drum cell a hit)."""
    from ..sketch.midi import write_midi
    from ..sketch.song import Song

    steps = -(-roll.shape[1] // SCORE_CHUNK) * SCORE_CHUNK
    probs = np.zeros((len(LANES), steps, 128), dtype=np.float32)
    probs[:, : roll.shape[1]] = roll
    song = Song(probs, SCORE_STEPS_PER_BEAT, SCORE_CHUNK, threshold=0.5, tempo=tempo)
    return write_midi(song, path)


def export_back(song, path: Path, steps: int) -> np.ndarray:
    """A take written as a .mid (midi.write_midi, as the user exports it) and read back at 16ths."""
    from ..sketch.midi import write_midi

    return read_back(write_midi(song, path), steps)


def read_back(path: Path, steps: int) -> np.ndarray:
    """A .mid read at 16ths, cut or padded to `steps`: bool (5, steps, 128)."""
    from ..sketch.midi import read_roll

    roll, _ = read_roll(path, SCORE_STEPS_PER_BEAT)
    out = np.zeros((len(LANES), steps, 128), dtype=bool)
    n = min(steps, roll.shape[1])
    out[:, :n] = roll[:, :n]
    return out
