"""Feel: swing and humanize, turning a lane's grid notes into timed notes. numpy only: no Qt, no torch, no I/O.

Playback (playback/schedule.py), MIDI export, stems, drag-out and WAV (midi.song_to_midifile) all time their
notes here, so what you hear is what the file holds. The feel lives in Song.settings, so it travels with every
take, into sketches and into the export's settings text:

- ``swing``: 50-75 percent; 50 is straight (the default). With s on 8ths, a note on the second 8th of a beat
  starts at s/100 of the beat instead of 0.5. Positions in between are warped piecewise linearly (the first
  half of each beat stretched to s/100, the second squeezed into the rest), so the order of notes never
  changes and note ends on swung positions move with them.
- ``swing_grid``: "8th" (the default) or "16th": then the second 16th of each 8th moves to s/100 of the 8th.
- ``humanize_ms``: 0-30, the timing spread: each note moves by at most this many milliseconds (a clipped
  normal draw, half the spread as its standard deviation), keeping its length.
- ``humanize_velocity``: 0-30, the velocity spread, the same way, velocities clipped to 1-127.

Humanize draws come from numpy Generators seeded by the take's seed, variation and lane, one value per grid
cell (step, pitch): the same sketch has the same feel every time, and a note keeps its nudge when the threshold
or density adds or removes other notes, or when the sketch is continued. Drums get the same swing and humanize;
a hit stays a hit. No note starts before 0, ends after the sketch, or lasts less than a tick, and a re-struck
pitch never overlaps itself. All times come out on the export's 480-tick grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidValue
from ..limits import TICKS_PER_BEAT, check_float  # TICKS_PER_BEAT: the export's resolution; feel times land on it

SWING_RANGE = (50.0, 75.0)
SWING_GRIDS = ("8th", "16th")
HUMANIZE_MS_RANGE = (0.0, 30.0)
HUMANIZE_VELOCITY_RANGE = (0.0, 30.0)
FEEL_KEYS = ("swing", "swing_grid", "humanize_ms", "humanize_velocity")


@dataclass(frozen=True)
class Feel:
    swing: float = 50.0
    swing_grid: str = "8th"
    humanize_ms: float = 0.0
    humanize_velocity: float = 0.0

    @property
    def off(self) -> bool:
        """True when nothing moves: straight, no humanize (a 16th grid alone changes nothing)."""
        return self.swing == 50.0 and self.humanize_ms == 0.0 and self.humanize_velocity == 0.0


_RANGES = {
    "swing": (SWING_RANGE, "percent; 50 is straight"),
    "humanize_ms": (HUMANIZE_MS_RANGE, "milliseconds of timing spread; 0 is off"),
    "humanize_velocity": (HUMANIZE_VELOCITY_RANGE, "velocity spread; 0 is off"),
}


def _number(name: str, value) -> float:
    """limits.check_float over the feel's ranges; the message also says what the value means."""
    (low, high), what = _RANGES[name]
    try:
        return check_float(name, value, low, high)
    except InvalidValue:
        raise InvalidValue(f"{name} must be a number from {low:g} to {high:g} ({what}), got {value!r}") from None


def check_feel(swing=None, swing_grid=None, humanize_ms=None, humanize_velocity=None) -> dict:
    """The given feel values, checked: {key: value}; InvalidValue naming the value and its range."""
    out: dict = {}
    for name, value in (("swing", swing), ("humanize_ms", humanize_ms), ("humanize_velocity", humanize_velocity)):
        if value is not None:
            number = _number(name, value)
            out[name] = int(number) if number.is_integer() else number
    if swing_grid is not None:
        grid = str(swing_grid).strip().lower()
        grid = {"8": "8th", "16": "16th", "8ths": "8th", "16ths": "16th"}.get(grid, grid)
        if grid not in SWING_GRIDS:
            raise InvalidValue(f"swing_grid must be one of {', '.join(SWING_GRIDS)}, got {swing_grid!r}")
        out["swing_grid"] = grid
    return out


def feel_settings(settings: Mapping, **values) -> dict:
    """settings with the given feel values set (None: keep); a value equal to the default is dropped."""
    changed = check_feel(**values)
    default = Feel()
    out = dict(settings)
    for key, value in changed.items():
        out.pop(key, None)
        if value != getattr(default, key):
            out[key] = value
    return out


def feel_of(settings: Mapping | None) -> Feel:
    """The feel a take's settings ask for; a missing or malformed entry (from a damaged file) counts as off."""
    settings = settings if isinstance(settings, Mapping) else {}
    values = {}
    for key in FEEL_KEYS:
        if key in settings:
            try:
                values.update(check_feel(**{key: settings[key]}))
            except InvalidValue:
                pass
    return Feel(**{k: float(v) if k != "swing_grid" else v for k, v in values.items()})


def feel_key(settings: Mapping | None) -> Feel:
    """A hashable summary of the feel, for caches of schedules (equal keys: equal timing)."""
    return feel_of(settings)


def swing_beats(steps: np.ndarray, steps_per_beat: int, swing: float, grid: str = "8th") -> np.ndarray:
    """Grid steps -> beats with swing: within each swing unit (a beat for 8ths, an 8th for 16ths) the first half
    is stretched to swing/100 of the unit and the second half squeezed into the rest. 50: straight."""
    beats = np.asarray(steps, dtype=np.float64) / steps_per_beat
    if swing == 50.0:
        return beats
    unit = 1.0 if grid == "8th" else 0.5
    s = swing / 100.0
    whole = np.floor(beats / unit + 1e-9)
    f = np.clip(beats / unit - whole, 0.0, 1.0)
    warped = np.where(f < 0.5, f * 2.0 * s, s + (f - 0.5) * 2.0 * (1.0 - s))
    return (whole + warped) * unit


SPREAD_BLOCK = 2048  # grid steps drawn at a time: ~2 MB, whatever the length of the sketch


def _spread(seed_parts: tuple[int, ...], steps: np.ndarray, pitches: np.ndarray) -> np.ndarray:
    """One draw in [-1, 1] per note, from the note's cell in a (step, 128) table of clipped normal draws
    (standard deviation 1/2). The table is drawn block by block from one stream, so a longer song extends,
    never reshuffles, the draws of a shorter one."""
    rng = np.random.default_rng(seed_parts)
    out = np.zeros(len(steps))
    rows = int(steps.max()) + 1 if len(steps) else 0
    for first in range(0, rows, SPREAD_BLOCK):
        block = rng.standard_normal((min(SPREAD_BLOCK, rows - first), 128))
        here = (steps >= first) & (steps < first + SPREAD_BLOCK)
        out[here] = block[steps[here] - first, pitches[here]]
    return np.clip(out, -2.0, 2.0) / 2.0


def timed_notes(
    notes,
    steps_per_beat: int,
    tempo: float,
    feel: Feel,
    *,
    seed: int = 0,
    lane: int = 0,
    variation: int = 0,
    song_steps: int | None = None,
) -> list[tuple[int, float, float, int]]:
    """(pitch, start step, end step, velocity) grid notes -> (pitch, start beats, end beats, velocity), same order.

    Feel off: beats are exactly step / steps_per_beat. Otherwise times are swung, nudged by humanize (seeded by
    seed, variation and lane; one draw per (step, pitch) cell), and put on the 480-tick grid: no start before 0,
    no end after `song_steps` (when given), every note at least a tick long, and notes of one pitch never
    overlapping or changing order.
    """
    arr = np.asarray(notes, dtype=np.int64).reshape(-1, 4)
    pitch, start, end, velocity = arr.T
    if feel.off or not len(arr):
        return [(int(p), s / steps_per_beat, e / steps_per_beat, int(v)) for p, s, e, v in arr.tolist()]
    on = swing_beats(start, steps_per_beat, feel.swing, feel.swing_grid)
    off = swing_beats(end, steps_per_beat, feel.swing, feel.swing_grid)
    vel = velocity.astype(np.float64)
    cells = (np.clip(start, 0, None), np.clip(pitch, 0, 127))
    parts = (int(seed) & 0xFFFFFFFF, int(variation) & 0xFFFFFFFF, int(lane))
    if feel.humanize_ms:
        shift = _spread((*parts, 0), *cells) * feel.humanize_ms / 1000.0 * tempo / 60.0
        on, off = on + shift, off + shift
    if feel.humanize_velocity:
        vel = vel + _spread((*parts, 1), *cells) * feel.humanize_velocity
    t_on = np.rint(on * TICKS_PER_BEAT).astype(np.int64)
    t_off = np.rint(off * TICKS_PER_BEAT).astype(np.int64)
    last = None if song_steps is None else int(round(song_steps / steps_per_beat * TICKS_PER_BEAT))
    t_on, t_off = fit_ticks(pitch, start, t_on, t_off, 0, last)
    vel = np.clip(np.rint(vel), 1, 127).astype(np.int64)
    return [
        (int(p), s / TICKS_PER_BEAT, e / TICKS_PER_BEAT, int(v))
        for p, s, e, v in zip(pitch.tolist(), t_on.tolist(), t_off.tolist(), vel.tolist())
    ]


def fit_ticks(pitch, start, on, off, low: int = 0, high: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Note ticks made playable: starts from `low`, ends by `high` (when given), each note at least a tick,
    and, one pitch at a time in grid order (`start`), strictly rising starts with every end at or before the
    next start of its pitch. Notes already so are left alone. Returns new (on, off) arrays, same order.
    """
    pitch, start = np.asarray(pitch, np.int64), np.asarray(start, np.int64)
    on, off = np.maximum(np.asarray(on, np.int64), low), np.asarray(off, np.int64).copy()
    if not len(on):
        return on, off
    order = np.lexsort((start, pitch))
    p_o, on_o, off_o = pitch[order], on[order], off[order]
    new_group = np.r_[True, p_o[1:] != p_o[:-1]]
    group = np.cumsum(new_group) - 1
    rank = np.arange(len(order)) - np.flatnonzero(new_group)[group]
    if high is not None:  # room before the end for every later note of the pitch, a tick each
        size = np.bincount(group)[group]
        on_o = np.maximum(np.minimum(on_o, high - size + rank), low)
    big = int(on_o.max()) + len(order) + 2
    on_o = np.maximum.accumulate(on_o - rank + group * big) - group * big + rank
    next_on = np.r_[np.where(new_group[1:], np.iinfo(np.int64).max, on_o[1:]), np.iinfo(np.int64).max]
    off_o = np.minimum(off_o, next_on)
    if high is not None:
        off_o = np.minimum(off_o, high)
    off_o = np.maximum(off_o, on_o + 1)
    on[order], off[order] = on_o, off_o
    return on, off


def song_seed(settings: Mapping | None) -> tuple[int, int]:
    """(seed, variation) of a take for humanize draws: its recorded seed (0 when none) and variation."""
    settings = settings if isinstance(settings, Mapping) else {}
    out = []
    for key in ("seed", "variation"):
        value = settings.get(key)
        ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
        out.append(int(value) & 0xFFFFFFFF if ok else 0)
    return out[0], out[1]
