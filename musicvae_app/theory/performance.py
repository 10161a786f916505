"""A musician's part as played: note events off the grid, with velocities, repeated notes and overlapping voices.

numpy only: no Qt, no torch, no I/O. A part the musician follows or records is kept twice on a take: as the
quantized roll the model sees (Song.probs, one cell a 16th) and as these events, which the export (.mid, stems,
drag-out), the sketch file, playback and the window's roll use unchanged. Times are ticks at the export's
resolution (limits.TICKS_PER_BEAT, 480 a beat): a beat-based time, so a tempo change moves nothing, and a
file written at 480 (or 96, 120, 240) ticks a beat comes back tick for tick.

Quantize is the musician's later choice (`with_quantize`: "off", "16th", "8th", "8th triplet"); the events as
played are always kept, so it can be changed again or turned off. It moves each note's start to the nearest
grid line and keeps its length (what a DAW's quantize does by default); velocities never change; a re-struck
pitch that would land on or before its previous strike stays a separate note a tick later, and a note never
overlaps the next strike of its own pitch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidValue
from ..lanes import DRUMS, LANES
from ..limits import TICKS_PER_BEAT

QUANTIZE_GRIDS: dict[str, int | None] = {  # ticks between grid lines at 480 a beat
    "off": None,
    "16th": TICKS_PER_BEAT // 4,
    "8th": TICKS_PER_BEAT // 2,
    "8th triplet": TICKS_PER_BEAT // 3,
}
MAX_PLAYED_NOTES = 200_000  # a sketch's part: hours of 16ths; a file read in is capped before this
_COLUMNS = ("lane", "pitch", "start", "end", "velocity")


def check_quantize(value) -> str:
    """'off', '16th', '8th' or '8th triplet' (also '16', '8', '8t', 'triplet', 'none'); InvalidValue otherwise."""
    text = str(value).strip().lower() if value is not None else "off"
    text = {
        "none": "off",
        "": "off",
        "16": "16th",
        "1/16": "16th",
        "8": "8th",
        "1/8": "8th",
        "8t": "8th triplet",
        "8th-triplet": "8th triplet",
        "triplet": "8th triplet",
        "1/8t": "8th triplet",
    }.get(text, text)
    if text not in QUANTIZE_GRIDS:
        raise InvalidValue(f"quantize must be one of {', '.join(QUANTIZE_GRIDS)}, got {value!r}")
    return text


def _fit(
    pitch: np.ndarray, start: np.ndarray, end: np.ndarray, lane: np.ndarray, step: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Per lane and pitch in time order: strictly rising starts (a strike landing on or before the one before it
    moves `step` past it: the next grid line), every end after its start and at or before the next strike of
    its pitch. Notes already so are left as they are."""
    start, end = start.copy(), end.copy()
    order = np.lexsort((start, pitch, lane))
    for a, b in zip(order[:-1], order[1:]):
        if lane[a] == lane[b] and pitch[a] == pitch[b]:
            if start[b] <= start[a]:
                start[b] = start[a] + step
                end[b] = max(end[b], start[b] + 1)
            end[a] = min(end[a], start[b])
    end = np.maximum(end, start + 1)
    return start, end


@dataclass(frozen=True, eq=False)
class Performance:
    """Note events as played: `notes` (n, 5) int64 rows of lane, pitch, start tick, end tick, velocity (1-127),
    sorted by start, lane, pitch; `quantize` the grid the musician asked for ("off": exactly as played)."""

    notes: np.ndarray
    quantize: str = "off"
    length: int | None = None  # ticks the part spans (its song's length when followed); None: to its last note
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        arr = np.asarray(self.notes, dtype=np.int64).reshape(-1, 5)
        if len(arr) > MAX_PLAYED_NOTES:
            raise InvalidValue(f"a part may hold {MAX_PLAYED_NOTES:,} notes, this one {len(arr):,}")
        if len(arr):
            lane, pitch, start, end, vel = arr.T
            if lane.min() < 0 or lane.max() >= len(LANES):
                raise InvalidValue(f"a played note's lane must be 0-{len(LANES) - 1}")
            if pitch.min() < 0 or pitch.max() > 127:
                raise InvalidValue("a played note's pitch must be 0-127")
            if start.min() < 0 or (end <= start).any():
                raise InvalidValue("a played note must start at tick 0 or later and end after it starts")
            if vel.min() < 1 or vel.max() > 127:
                raise InvalidValue("a played note's velocity must be 1-127")
            arr = arr[np.lexsort((arr[:, 1], arr[:, 0], arr[:, 2]))]
        arr.setflags(write=False)
        object.__setattr__(self, "notes", arr)
        object.__setattr__(self, "quantize", check_quantize(self.quantize))
        if self.length is not None:
            if isinstance(self.length, bool) or not isinstance(self.length, (int, np.integer)) or self.length < 0:
                raise InvalidValue(f"a part's length must be a whole number of ticks, got {self.length!r}")
            object.__setattr__(self, "length", int(self.length))

    # --- building ---
    @classmethod
    def from_beats(cls, lane, pitch, start, end, velocity, quantize: str = "off") -> Performance:
        """Events from arrays in beats (as midi.read_notes gives them), rounded to ticks, at least a tick long."""
        start_t = np.rint(np.asarray(start, dtype=np.float64) * TICKS_PER_BEAT).astype(np.int64)
        end_t = np.rint(np.asarray(end, dtype=np.float64) * TICKS_PER_BEAT).astype(np.int64)
        start_t = np.maximum(start_t, 0)
        end_t = np.maximum(end_t, start_t + 1)
        vel = np.clip(np.asarray(velocity, dtype=np.int64), 1, 127)
        rows = np.stack([np.asarray(lane, np.int64), np.asarray(pitch, np.int64), start_t, end_t, vel], axis=1)
        return cls(rows, quantize)

    # --- reading ---
    @property
    def lanes(self) -> list[int]:
        """The lanes the part plays, in lane order."""
        return sorted({int(x) for x in self.notes[:, 0]})

    def __len__(self) -> int:
        return len(self.notes)

    def played(self) -> np.ndarray:
        """The events as the musician asked to hear them: as played, or quantized (a copy; same row order)."""
        grid = QUANTIZE_GRIDS[self.quantize]
        if grid is None or not len(self.notes):
            return self.notes.copy()
        if "q" not in self._cache:
            lane, pitch, start, end, vel = self.notes.T
            snapped = np.rint(start / grid).astype(np.int64) * grid
            new_end = end + (snapped - start)  # the length as played (a drum hit stays a hit)
            s, e = _fit(pitch, snapped, new_end, lane, grid)
            self._cache["q"] = np.stack([lane, pitch, s, e, vel], axis=1)
        return self._cache["q"].copy()

    def lane_notes(self, lane: int, end_tick: int | None = None) -> list[tuple[int, int, int, int]]:
        """(pitch, start tick, end tick, velocity) of one lane, in time order; notes from `end_tick` on are left
        out and held notes released there (when given)."""
        rows = self.played()
        rows = rows[rows[:, 0] == lane]
        if end_tick is not None:
            rows = rows[rows[:, 2] < end_tick]
            rows[:, 3] = np.minimum(rows[:, 3], end_tick)
        return [(int(p), int(s), int(e), int(v)) for _, p, s, e, v in rows.tolist()]

    def end_tick(self) -> int:
        """Where the part ends: its length, or its last note's end."""
        last = int(self.notes[:, 3].max()) if len(self.notes) else 0
        return last if self.length is None else self.length

    # --- changing (new objects) ---
    def with_quantize(self, quantize: str) -> Performance:
        """The same notes as played, heard on another grid ('off': as played)."""
        return Performance(self.notes, check_quantize(quantize), self.length)

    def transposed(self, semitones: int) -> Performance:
        """Pitched lanes `semitones` up (drums stay); a note pushed off the keyboard is dropped, as the roll's is."""
        rows = self.notes.copy()
        pitched = rows[:, 0] != DRUMS
        rows[pitched, 1] += int(semitones)
        keep = (rows[:, 1] >= 0) & (rows[:, 1] <= 127)
        return Performance(rows[keep], self.quantize, self.length)

    def only(self, lanes: Iterable[int]) -> Performance:
        keep = np.isin(self.notes[:, 0], list(lanes))
        return Performance(self.notes[keep], self.quantize, self.length)

    def without(self, lanes: Iterable[int]) -> Performance:
        keep = ~np.isin(self.notes[:, 0], list(lanes))
        return Performance(self.notes[keep], self.quantize, self.length)

    def with_part(self, other: Performance) -> Performance:
        """This part with `other`'s lanes added (replacing this part's notes on those lanes)."""
        rows = np.concatenate([self.without(other.lanes).notes, other.notes])
        return Performance(rows, self.quantize, max(self.end_tick(), other.end_tick()))

    def cut(self, end_tick: int) -> Performance:
        """Notes starting before `end_tick`, held notes released there."""
        rows = self.notes[self.notes[:, 2] < end_tick].copy()
        rows[:, 3] = np.minimum(rows[:, 3], end_tick)
        return Performance(rows, self.quantize, int(end_tick))

    def repeated(self, period: int, end_tick: int) -> Performance:
        """The part played again every `period` ticks until `end_tick` (the last time cut there)."""
        rows, parts = self.notes, []
        for k in range(max(-(-int(end_tick) // int(period)), 1)):
            shifted = rows.copy()
            shifted[:, 2:4] += k * int(period)
            parts.append(shifted)
        return Performance(np.concatenate(parts), self.quantize).cut(int(end_tick))

    # --- the sketch file ---
    def to_json(self) -> dict:
        return {
            "quantize": self.quantize,
            "length": self.length,
            "columns": list(_COLUMNS),
            "notes": self.notes.tolist(),
        }

    @classmethod
    def from_json(cls, raw) -> Performance:
        """A part as a sketch file keeps it; InvalidValue naming what is wrong."""
        if not isinstance(raw, Mapping):
            raise InvalidValue(f"played notes must be a record, got {type(raw).__name__}")
        notes = raw.get("notes")
        if not isinstance(notes, list) or len(notes) > MAX_PLAYED_NOTES:
            raise InvalidValue(f"played notes must be a list of at most {MAX_PLAYED_NOTES:,} notes")
        if any(
            not isinstance(row, list)
            or len(row) != 5
            or not all(isinstance(v, int) and not isinstance(v, bool) and abs(v) < 2**40 for v in row)
            for row in notes
        ):
            raise InvalidValue("each played note must be five whole numbers: lane, pitch, start, end, velocity")
        length = raw.get("length")
        if length is not None and (isinstance(length, bool) or not isinstance(length, int) or not 0 <= length < 2**40):
            raise InvalidValue(f"played notes: length must be a whole number of ticks, got {length!r}")
        return cls(np.array(notes, dtype=np.int64).reshape(-1, 5), raw.get("quantize", "off"), length)

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Performance)
            and self.quantize == other.quantize
            and self.length == other.length
            and np.array_equal(self.notes, other.notes)
        )

    __hash__ = None

    def __deepcopy__(self, memo) -> Performance:
        return self  # immutable: a copy is the same part
