"""Dynamics from the music: a note's velocity by its lane (drums: by kind of hit), its 16th in the bar, its
section's energy and the model's confidence, from a table learned on the training songs' velocities.

The table (`dynamics.json` in the pack, fitted by training/dynamics.py on band-midi's training split; the engine
makes its pack's the one read with `use_pack`, a pack without one reads the default pack's) holds, per group
(piano, guitar, bass, strings, kick, backbeat, hats/ride, other drums):

- the quantiles, at each 16th of the bar, of real notes' velocity over their song's median for the group: a
  downbeat is accented, an off-beat hat is softer, the low tail of snare hits off the backbeat is ghost notes;
- the gain of each energy level 1-5 (real songs' 4-bar phrases ranked by how full the band plays): a chorus
  (energy 4) is as much louder than a verse (3) as real songs' fuller phrases are, which in band-midi is not at
  all (0.99-1.005); on top of it LEVEL_LIFT, a convention of players rather than a figure of this data: 3 % louder
  a level above 3 (a chorus at 4 about 3 velocity steps over its verse, at 5 about 6), 3 % softer a level below;
- the typical song's median velocity.

A note's rank is the model's confidence in it among the usual notes of its group at its 16th (the table's
`confidence`: quantiles over the shipped pack's takes at a verse's energy, measured by the same command), so
at every position our notes spread over the real spread as real notes do: a note as sure as usual plays its
position's median, a less sure one lower in its position's real
spread (the snare's ghost notes), a surer one higher; a chorus, which engine/energy.py makes surer, plays
higher in the real spread. Fixed tables, so continuing a take never changes an earlier note's velocity. Plain
Python: no numpy.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_left, bisect_right
from functools import lru_cache
from pathlib import Path

from .. import lanes
from ..resources import resources_dir

DYNAMICS_FILE = "dynamics.json"
POSITIONS = 16  # 16ths a bar
QUANTILES = 21  # 2 % to 95 % of the velocity ratio at each position, evenly (training/dynamics.py)
GROUPS = ("piano", "guitar", "bass", "strings", "kick", "backbeat", "hats", "other drums")
KICKS, BACKBEAT, HATS = (35, 36), (37, 38, 39, 40), (42, 44, 46, 51, 53, 59)
SNARES = (38, 40)
LEVELS = 5
DEFAULT_LEVEL = 3  # a bar in no section plays at a verse's energy
LEVEL_LIFT = 0.03  # a level's velocity over level 3's, per step: the issue's louder chorus (real songs: ~0)


def group_of(lane: int, pitch: int) -> int:
    """The GROUPS index of a note of `lane` at `pitch`."""
    if lane != lanes.DRUMS:
        return lane
    if pitch in KICKS:
        return 4
    if pitch in BACKBEAT:
        return 5
    if pitch in HATS:
        return 6
    return 7


_active: list[Path | None] = [None]  # the active pack's own table (use_pack); None: the default pack's


def default_path() -> Path:
    return resources_dir() / "models" / "default" / DYNAMICS_FILE


def table_path() -> Path:
    """The table velocities read: the active pack's (use_pack) if it has one, else the default pack's."""
    return _active[0] or default_path()


def use_pack(folder) -> str:
    """Velocities from now on read the pack in `folder`'s dynamics.json (the engine calls this when it loads a
    pack: the last engine loaded in a process is the active pack); a pack without one, or with one that does not
    read, uses the default pack's. Returns (and logs) which and why, in words."""
    path = Path(folder) / DYNAMICS_FILE if folder else None
    reason = f"velocities: the default pack's {DYNAMICS_FILE}"
    chosen = None
    if path is not None and path.resolve() != default_path().resolve():
        if not path.is_file():
            reason = f"velocities: pack {Path(folder).name!r} has no {DYNAMICS_FILE}; the default pack's is used"
        else:
            try:
                got = json.loads(path.read_text())
                if not all(key in got for key in ("typical", "level_gain", "quantiles", "confidence")):
                    raise ValueError("it lacks typical, level_gain, quantiles or confidence")
                chosen = path
                reason = f"velocities: pack {Path(folder).name!r}'s own {DYNAMICS_FILE}"
            except (OSError, ValueError) as exc:
                reason = f"velocities: {path} does not read ({exc}); the default pack's {DYNAMICS_FILE} is used"
    if chosen != _active[0]:
        _active[0] = chosen
        table.cache_clear()
    logging.getLogger(__name__).info(reason)
    return reason


@lru_cache(maxsize=1)
def table() -> dict:
    """The table velocities read (table_path), read once per pack."""
    return json.loads(table_path().read_text())


def rank(group: int, position: int, confidence: float) -> float:
    """0-1: where `confidence` falls among the usual notes of `group` at this 16th over the pack's takes (ties:
    the middle of their run)."""
    q = table()["confidence"][group][position % POSITIONS]
    last = len(q) - 1
    lo, hi = bisect_left(q, confidence), bisect_right(q, confidence)
    if lo < hi:  # equal to one or more quantiles: the middle of their run
        return (lo + hi - 1) / 2 / last
    if lo == 0:
        return 0.0
    if lo > last:
        return 1.0
    below, above = q[lo - 1], q[lo]
    return (lo - 1 + (confidence - below) / max(above - below, 1e-12)) / last


def ratio(group: int, position: int, u: float) -> float:
    """The velocity over the song's median of a note at the u-th quantile of its group's notes at `position`."""
    q = table()["quantiles"][group][position % POSITIONS]
    x = min(max(u, 0.0), 1.0) * (len(q) - 1)
    i = min(int(x), len(q) - 2)
    return q[i] + (q[i + 1] - q[i]) * (x - i)


def velocity(
    lane: int, pitch: int, step: int, steps_per_beat: int, confidence: float, level: int = DEFAULT_LEVEL
) -> int:
    """The velocity (1-127) of a note of `lane` at `pitch` starting at `step` (on a grid of steps_per_beat) in a
    section of energy `level` (1-5), given the model's confidence in it (0: at the threshold, 1: certain)."""
    t = table()
    level = min(max(int(level), 1), LEVELS)
    confidence = min(max(float(confidence), 0.0), 1.0)
    position = int(step) * 4 // max(int(steps_per_beat), 1)
    group = group_of(lane, pitch)
    value = (
        t["typical"][group]
        * t["level_gain"][group][level - 1]
        * (1.0 + LEVEL_LIFT * (level - DEFAULT_LEVEL))
        * ratio(group, position, rank(group, position, confidence))
    )
    return max(1, min(127, round(value)))


def bar_levels(sections, n_bars: int) -> list[int]:
    """Each bar's energy (1-5): its section's level, DEFAULT_LEVEL outside every section."""
    out = [DEFAULT_LEVEL] * max(int(n_bars), 0)
    for sec in sections or ():
        for bar in range(max(sec.start - 1, 0), min(sec.end, len(out))):
            out[bar] = sec.level
    return out
