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
    return _rank_in(table()["confidence"][group][position % POSITIONS], confidence)


def ratio(group: int, position: int, u: float) -> float:
    """The velocity over the song's median of a note at the u-th quantile of its group's notes at `position`."""
    return _at(table()["quantiles"][group][position % POSITIONS], u)


def _rank_in(q: list[float], confidence: float) -> float:
    """0-1: where `confidence` falls among the evenly spaced quantiles `q` (ties: the middle of their run)."""
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


def _at(q: list[float], u: float) -> float:
    """The value at the u-th quantile (clipped to 0-1) of the evenly spaced quantiles `q`, linearly between them."""
    x = min(max(u, 0.0), 1.0) * (len(q) - 1)
    i = min(int(x), len(q) - 2)
    return q[i] + (q[i + 1] - q[i]) * (x - i)


RUNNING = 6  # a bar plays running 16th hats when its hats strike at least this many of its 8 odd 16ths
AFTER_CONFIDENCE = (4, 5, 6, 7)  # the drum groups: the position's shape applied after the confidence (pooled)


def _weighted_quantiles(values: list[list[float]], weights: list[float], points: int) -> list[float]:
    """`points` evenly spaced quantiles (0-1) of the mixture of the rows of `values` (each row a list of evenly
    spaced quantiles of one part), each part weighted by `weights`."""
    flat = sorted((v, w / len(row)) for row, w in zip(values, weights) for v in row)
    total = sum(w for _, w in flat) or 1.0
    out, run, k = [], 0.0, 0
    for i in range(points):
        target = i / (points - 1) * total
        while k < len(flat) - 1 and run + flat[k][1] < target:
            run += flat[k][1]
            k += 1
        out.append(flat[k][0])
    return out


_pooled: dict[int, tuple] = {}  # group -> (the table it was made from, its figures)


def pooled(group: int) -> tuple[list[float], list[float], list[float]]:
    """(confidence quantiles over every 16th of the bar, the real velocity ratio over its position's mean pooled
    over every 16th, each 16th's real mean ratio): a drum group's note ranks its confidence among all its
    group's notes and plays its position's mean times the pooled spread, so a take's running 16th hats (sure,
    as sure as its 8ths) play as much softer than the beat as real ones, where ranked among the odd 16ths' own
    (sporadic, unsure) calibration they played at the top of the real spread (0.99 of the median, real 0.85).
    Weights: the real notes at each 16th (the table's `notes`; equal without it). Made again for a new table."""
    t = table()
    made = _pooled.get(group)
    if made is not None and made[0] is t:
        return made[1]
    quantiles = t["quantiles"][group]
    weights = t.get("notes", [[1.0] * POSITIONS] * len(GROUPS))[group]
    means = [sum(q) / len(q) for q in quantiles]
    scale = sum(m * w for m, w in zip(means, weights)) / max(sum(weights), 1e-9)
    shape = [m / scale for m in means]
    spread = _weighted_quantiles([[v / m for v in q] for q, m in zip(quantiles, means)], weights, QUANTILES)
    spread = [v * scale for v in spread]
    conf = _weighted_quantiles(t["confidence"][group], weights, len(t["confidence"][group][0]))
    _pooled[group] = (t, (conf, spread, shape))
    return conf, spread, shape


def shaped_ratio(group: int, position: int, confidence: float, running: bool = False) -> float:
    """A drum group's velocity over the song's median: its position's real mean x the pooled spread at the
    note's rank among its group's notes (pooled); in a bar of running 16th hats (`running`), the position's mean
    in such real bars (the table's `running_gain`, training/running_hats.py; none: as any bar)."""
    conf, spread, shape = pooled(group)
    gain = table().get("running_gain") if running else None
    lift = gain[group][position % POSITIONS] if gain else 1.0
    return lift * shape[position % POSITIONS] * _at(spread, _rank_in(conf, confidence))


def running_bars(hits, steps_per_beat: int) -> set[int]:
    """The bars (0-based) of a drum lane's hits ((pitch, start step) pairs on a grid of steps_per_beat) whose hats
    strike at least RUNNING of the 8 odd 16ths."""
    odd: dict[int, set[int]] = {}
    for pitch, step in hits:
        position = int(step) * 4 // max(int(steps_per_beat), 1)
        if pitch in HATS and position % 2 == 1 and int(step) * 4 % max(int(steps_per_beat), 1) == 0:
            odd.setdefault(position // POSITIONS, set()).add(position % POSITIONS)
    return {bar for bar, places in odd.items() if len(places) >= RUNNING}


def velocity(
    lane: int,
    pitch: int,
    step: int,
    steps_per_beat: int,
    confidence: float,
    level: int = DEFAULT_LEVEL,
    running: bool = False,
) -> int:
    """The velocity (1-127) of a note of `lane` at `pitch` starting at `step` (on a grid of steps_per_beat) in a
    section of energy `level` (1-5), given the model's confidence in it (0: at the threshold, 1: certain);
    running: a drum note in a bar of running 16th hats (running_bars)."""
    t = table()
    level = min(max(int(level), 1), LEVELS)
    confidence = min(max(float(confidence), 0.0), 1.0)
    position = int(step) * 4 // max(int(steps_per_beat), 1)
    group = group_of(lane, pitch)
    value = (
        t["typical"][group]
        * t["level_gain"][group][level - 1]
        * (1.0 + LEVEL_LIFT * (level - DEFAULT_LEVEL))
        * (
            shaped_ratio(group, position, confidence, running)
            if group in AFTER_CONFIDENCE
            else ratio(group, position, rank(group, position, confidence))
        )
    )
    return max(1, min(127, round(value)))


def bar_levels(sections, n_bars: int) -> list[int]:
    """Each bar's energy (1-5): its section's level, DEFAULT_LEVEL outside every section."""
    out = [DEFAULT_LEVEL] * max(int(n_bars), 0)
    for sec in sections or ():
        for bar in range(max(sec.start - 1, 0), min(sec.end, len(out))):
            out[bar] = sec.level
    return out
