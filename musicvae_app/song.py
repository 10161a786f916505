"""Song: five lanes of note probabilities, the threshold that turns them into notes, and provenance.

numpy only: no torch, no Qt, no I/O. Everything that shows, plays or exports a sketch reads a Song.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

LANES: tuple[str, ...] = ("piano", "guitar", "bass", "strings", "drums")
DRUMS = LANES.index("drums")
DEFAULT_PROGRAMS: tuple[int, ...] = (0, 24, 32, 48, 0)  # drums: program is ignored, channel 10 plays
PITCHES = 128
BEATS_PER_BAR = 4


def lane_index(lane: str | int) -> int:
    """Accept a lane name ('guitar') or index (1); raise ValueError naming the valid lanes."""
    if isinstance(lane, (int, np.integer)):
        if 0 <= int(lane) < len(LANES):
            return int(lane)
    elif isinstance(lane, str) and lane.lower() in LANES:
        return LANES.index(lane.lower())
    raise ValueError(f"unknown lane {lane!r}: choose one of {', '.join(LANES)}")


def note_runs(roll: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Notes of a (steps, pitches) bool roll as runs of on-cells: pitch, start, end (exclusive), by pitch, start."""
    padded = np.zeros((roll.shape[1], roll.shape[0] + 2), dtype=np.int8)
    padded[:, 1:-1] = roll.T
    edges = np.diff(padded, axis=1)
    pitch, start = np.nonzero(edges == 1)  # row-major: each pitch's runs in time order, so starts and ends pair up
    end = np.nonzero(edges == -1)[1]
    return pitch, start, end


@dataclass
class ChunkInfo:
    """How one chunk was made: enough to reproduce it."""

    source: str  # "primer", "random", "generated", "regenerated", "reconstructed"
    seed: int | None = None
    noise: float | None = None
    pack: str | None = None


@dataclass
class Song:
    """A band sketch: probs[lane, step, pitch] in [0, 1]; notes are the cells at or above threshold."""

    probs: np.ndarray  # float32, (5, steps, 128)
    steps_per_beat: int
    chunk_steps: int
    threshold: float = 0.3
    tempo: float = 120.0
    programs: list[int] = field(default_factory=lambda: list(DEFAULT_PROGRAMS))
    latents: np.ndarray | None = None  # float32, (chunks, 5, K): the latent each chunk was decoded from
    chunks: list[list[ChunkInfo]] = field(default_factory=list)  # [chunk][lane]
    settings: dict = field(default_factory=dict)  # what made the take: pack, seed, noise, threshold, steps

    def __post_init__(self) -> None:
        self.probs = np.asarray(self.probs, dtype=np.float32)
        if self.probs.ndim != 3 or self.probs.shape[0] != len(LANES) or self.probs.shape[2] != PITCHES:
            raise ValueError(f"Song probs must be (5, steps, 128), got {self.probs.shape}")
        if self.probs.shape[1] % self.chunk_steps:
            raise ValueError("Song length must be a whole number of chunks")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold {self.threshold} is outside (0, 1)")

    @property
    def n_steps(self) -> int:
        return self.probs.shape[1]

    @property
    def n_chunks(self) -> int:
        return self.n_steps // self.chunk_steps

    @property
    def steps_per_bar(self) -> int:
        return self.steps_per_beat * BEATS_PER_BAR

    @property
    def n_bars(self) -> int:
        return self.n_steps // self.steps_per_bar

    @property
    def seconds(self) -> float:
        return self.n_steps / self.steps_per_beat * 60.0 / self.tempo

    def notes(self, threshold: float | None = None) -> np.ndarray:
        """The binary roll (5, steps, 128); re-thresholding needs no model."""
        return self.probs >= (self.threshold if threshold is None else threshold)

    def note_counts(self, threshold: float | None = None) -> dict[str, int]:
        """Notes per lane (runs of held cells; drums count every struck cell's run)."""
        roll = self.notes(threshold)
        onsets = roll & ~np.concatenate([np.zeros_like(roll[:, :1]), roll[:, :-1]], axis=1)
        return {name: int(onsets[i].sum()) for i, name in enumerate(LANES)}

    def with_threshold(self, threshold: float) -> Song:
        out = self.copy()
        out.threshold = float(threshold)
        out.__post_init__()
        return out

    def chunk(self, index: int) -> np.ndarray:
        """Probabilities of one chunk, (5, chunk_steps, 128)."""
        s = index * self.chunk_steps
        return self.probs[:, s : s + self.chunk_steps]

    def copy(self) -> Song:
        return copy.deepcopy(self)

    @property
    def lineup(self) -> list[str]:
        """The lanes that play in this sketch (all five unless the settings say otherwise)."""
        text = self.settings.get("lineup")
        if not isinstance(text, str) or not text:
            return list(LANES)
        return [lane for lane in LANES if lane in text.split(",")]

    def to_midi(self, path, lanes=None):
        """Write this sketch as a DAW-ready .mid (see docs/midi-export.md); returns the path."""
        from .midi import write_midi

        return write_midi(self, path, lanes)

    def equal_notes(self, other: Song) -> bool:
        return self.probs.shape == other.probs.shape and bool(np.array_equal(self.notes(), other.notes()))
