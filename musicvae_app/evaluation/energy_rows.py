"""How a full section stands out from a light one, lane by lane: real songs beside our sectioned takes.

Read from .mid files (training/styles.read_song rows: lane, pitch, start beat, velocity). A song is cut into
8-bar blocks ranked by the whole band's notes, the fuller half against the lighter half, as a chorus against a
verse where nothing is labelled. Per lane: notes a bar (full over light), mean velocity (full minus light), the
pitched lanes' voicing (notes struck together, and their span in semitones), the drums' loud cymbals (open hats
and ride among the hats and ride) and crashes on a bar's first beat. Our takes with a form are measured by their
labels, chorus against verse, and the same way as real songs.

`level_table` is the learned side (training songs only): per lane, each energy level's figure over level 3's,
where a song's blocks are ranked into fifths by the band's notes (level 1 the lightest fifth, 5 the fullest);
engine/energy.py shapes a section toward its level's figures.
"""

from __future__ import annotations

import math

import numpy as np

from ..lanes import DRUMS, LANES

BLOCK_BARS = 8
HATS = (42, 44, 46, 51, 53, 59)  # closed, pedal, open hat; ride, ride bell, ride 2
LOUD = (46, 51, 53, 59)
CRASHES = (49, 52, 55, 57)
LEVELS = 5


def _blocks(n: np.ndarray, block_bars: int) -> np.ndarray:
    return (n[:, 2] // (4 * block_bars)).astype(int)


def lane_figures(n: np.ndarray, lane: int, bars: float) -> dict:
    """One lane's figures over `bars` bars of notes n (rows lane, pitch, beat, velocity)."""
    mine = n[n[:, 0] == lane]
    out = {"notes": len(mine) / max(bars, 1e-9), "velocity": float(mine[:, 3].mean()) if len(mine) else math.nan}
    if lane == DRUMS:
        hats = mine[np.isin(mine[:, 1], HATS)]
        out["loud_cymbals"] = float(np.isin(hats[:, 1], LOUD).mean()) if len(hats) else math.nan
        down = mine[(np.abs(mine[:, 2] / 4 - np.rint(mine[:, 2] / 4)) < 1e-3)]
        crash_bars = {int(round(b / 4)) for b in down[np.isin(down[:, 1], CRASHES), 2]}
        out["crash_bars"] = len(crash_bars) / max(bars, 1e-9)
    elif len(mine):
        onset = np.rint(mine[:, 2] * 4).astype(int)
        _, inverse, counts = np.unique(onset, return_inverse=True, return_counts=True)
        span = np.zeros(len(counts))
        np.maximum.at(span, inverse, mine[:, 1])
        low = np.full(len(counts), 200.0)
        np.minimum.at(low, inverse, mine[:, 1])
        out["voicing"] = float(counts.mean())
        out["span"] = float((span - low).mean())
    else:
        out["voicing"] = out["span"] = math.nan
    return out


def _rank_blocks(n: np.ndarray, lane: int, block_bars: int) -> tuple[np.ndarray, np.ndarray]:
    """(block index per note, the band's notes in each block): how full the band plays there, every lane counted
    (`lane` too: a block's energy is the whole band's, as a chorus is full because every lane plays more)."""
    block = _blocks(n, block_bars)
    return block, np.bincount(block, minlength=block.max() + 1)


def split_full_light(n: np.ndarray, lane: int, block_bars: int = BLOCK_BARS):
    """Blocks of the song (by the band's notes) above and at-or-below their median: (full, light) lists."""
    block, others = _rank_blocks(n, lane, block_bars)
    played = np.flatnonzero(others)
    if len(played) < 2:
        return None
    median = np.median(others[played])
    full = [b for b in played if others[b] > median]
    light = [b for b in played if others[b] <= median]
    if not full or not light:
        return None
    return block, full, light


def _figures_in(n, block, blocks, lane, block_bars):
    return lane_figures(n[np.isin(block, blocks)], lane, len(blocks) * block_bars)


KEYS = ("notes", "velocity", "voicing", "span", "loud_cymbals", "crash_bars")


def _compare(full: dict, light: dict, into: dict) -> None:
    for key in KEYS:
        a, b = full.get(key), light.get(key)
        if a is None or b is None or not (np.isfinite(a) and np.isfinite(b)):
            continue
        if key == "notes":
            if b > 0 and a > 0:
                into.setdefault(key, []).append(math.log(a / b))
        else:
            into.setdefault(key, []).append((a, b))


def _summary(per_lane: dict) -> dict:
    """{lane: {key: figure}}: notes as the geometric mean ratio, others as (full mean, light mean)."""
    out = {}
    for lane, got in per_lane.items():
        row = {}
        for key, values in got.items():
            if key == "notes":
                row["notes_x"] = round(math.exp(float(np.mean(values))), 3)
            else:
                arr = np.array(values)
                row[key] = (round(float(arr[:, 0].mean()), 3), round(float(arr[:, 1].mean()), 3))
        out[LANES[lane]] = row
    return out


def real_contrast(songs: list[dict], block_bars: int = BLOCK_BARS) -> dict:
    """Full against light blocks per lane over songs (blocks ranked by the band's notes)."""
    per_lane: dict = {}
    for song in songs:
        n = song["notes"]
        for lane in range(len(LANES)):
            if not (n[:, 0] == lane).any():
                continue
            got = split_full_light(n, lane, block_bars)
            if got is None:
                continue
            block, full, light = got
            _compare(
                _figures_in(n, block, full, lane, block_bars),
                _figures_in(n, block, light, lane, block_bars),
                per_lane.setdefault(lane, {}),
            )
    return _summary(per_lane)


def labelled_contrast(songs: list[dict], sections, high: str = "chorus", low: str = "verse") -> dict:
    """Per lane, `high` sections against `low` ones of takes made with `sections` (name, start bar, bars)."""
    per_lane: dict = {}
    for song in songs:
        n = song["notes"]
        parts = {}
        for name, start, bars in sections:
            inside = (n[:, 2] >= (start - 1) * 4) & (n[:, 2] < (start - 1 + bars) * 4)
            got = parts.setdefault(name, [[], 0])
            got[0].append(n[inside])
            got[1] += bars
        if high not in parts or low not in parts:
            continue
        hi = np.concatenate(parts[high][0]) if parts[high][0] else np.zeros((0, 4))
        lo = np.concatenate(parts[low][0]) if parts[low][0] else np.zeros((0, 4))
        for lane in range(len(LANES)):
            _compare(
                lane_figures(hi, lane, parts[high][1]),
                lane_figures(lo, lane, parts[low][1]),
                per_lane.setdefault(lane, {}),
            )
    return _summary(per_lane)


def level_table(songs: list[dict], block_bars: int = 4) -> dict:
    """Learned from (training) songs: per lane, each energy level's (1-5) figures over level 3's.

    Each song's `block_bars`-bar blocks where the band plays are ranked by the band's notes into fifths
    (level 1 the lightest fifth); per song and lane, a level's notes a bar over the middle fifth's (geometric
    mean over songs), and for the drums the loud-cymbal share and crash bars at each level (means over songs)."""
    logs = np.zeros((len(LANES), LEVELS))
    counts = np.zeros((len(LANES), LEVELS))
    loud = [[] for _ in range(LEVELS)]
    crash = [[] for _ in range(LEVELS)]
    voicing = np.zeros((len(LANES), LEVELS))
    voiced = np.zeros((len(LANES), LEVELS))
    for song in songs:
        n = song["notes"]
        for lane in range(len(LANES)):
            if (n[:, 0] == lane).sum() < 16:
                continue
            block, others = _rank_blocks(n, lane, block_bars)
            played = np.flatnonzero(others)
            if len(played) < LEVELS * 2:
                continue
            order = played[np.argsort(others[played], kind="stable")]
            fifths = np.array_split(order, LEVELS)
            figs = [_figures_in(n, block, list(f), lane, block_bars) for f in fifths]
            mid = figs[2]["notes"]
            if mid <= 0:
                continue
            for lvl, fig in enumerate(figs):
                if fig["notes"] > 0:
                    logs[lane, lvl] += math.log(fig["notes"] / mid)
                    counts[lane, lvl] += 1
                if lane == DRUMS:
                    if np.isfinite(fig["loud_cymbals"]):
                        loud[lvl].append(fig["loud_cymbals"])
                    crash[lvl].append(fig["crash_bars"])
                elif np.isfinite(fig.get("voicing", math.nan)) and np.isfinite(figs[2].get("voicing", math.nan)):
                    voicing[lane, lvl] += fig["voicing"] / figs[2]["voicing"]
                    voiced[lane, lvl] += 1
    notes = np.exp(logs / np.maximum(counts, 1))
    return {
        "block_bars": block_bars,
        "songs": len(songs),
        "notes": {LANES[i]: [round(float(x), 3) for x in notes[i]] for i in range(len(LANES))},
        "voicing": {
            LANES[i]: [round(float(x), 3) for x in voicing[i] / np.maximum(voiced[i], 1)] for i in range(DRUMS)
        },
        "loud_cymbals": [round(float(np.mean(v)), 3) if v else 0.0 for v in loud],
        "crash_bars": [round(float(np.mean(v)), 3) if v else 0.0 for v in crash],
    }


def format_contrast(real: dict, ours: dict, title: str) -> str:
    lines = [title, f"{'lane':<9}{'figure':<14}{'real full/light':>22}{'ours':>22}"]
    for lane in LANES:
        r, o = real.get(lane, {}), ours.get(lane, {})
        for key in ("notes_x",) + KEYS[1:]:
            if key not in r and key not in o:
                continue
            lines.append(f"{lane:<9}{key:<14}{_shown(r.get(key)):>22}{_shown(o.get(key)):>22}")
    return "\n".join(lines)


def _shown(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return f"{value[0]:.2f} / {value[1]:.2f}"
    return f"x{value:.2f}"


# the drum kit's parts, as a drummer lifts them: a chorus plays more of each (real songs' fuller 8-bar blocks over
# their lighter ones, training songs: kick x1.47, backbeat x1.49, hats and ride x1.3, toms x1.6, crashes x1.7)
DRUM_GROUPS = {
    "kick": (35, 36),
    "backbeat": (37, 38, 39, 40),
    "hats": HATS,
    "toms": (41, 43, 45, 47, 48, 50),
    "crash": CRASHES,
}
OTHER_DRUMS = "other"  # every other drum pitch (percussion: shaker, tambourine, congas, ...)


def drum_group_of(pitches: np.ndarray) -> np.ndarray:
    """The index into (*DRUM_GROUPS, OTHER_DRUMS) of each drum pitch."""
    out = np.full(len(pitches), len(DRUM_GROUPS))
    for i, members in enumerate(DRUM_GROUPS.values()):
        out[np.isin(pitches, members)] = i
    return out


def drum_contrast(songs: list[dict], block_bars: int = BLOCK_BARS) -> dict:
    """Per drum group (DRUM_GROUPS and OTHER_DRUMS), notes a bar in a song's fuller half of its 8-bar blocks over
    its lighter half (blocks ranked by the band's notes, as real_contrast), geometric mean over the songs whose
    drums play the group in both halves: how a drummer's chorus differs from the verse, part by part."""
    names = (*DRUM_GROUPS, OTHER_DRUMS)
    logs: list[list[float]] = [[] for _ in names]
    for song in songs:
        n = song["notes"]
        if not (n[:, 0] == DRUMS).any():
            continue
        got = split_full_light(n, DRUMS, block_bars)
        if got is None:
            continue
        block, full, light = got
        drums = n[:, 0] == DRUMS
        group = drum_group_of(n[:, 1])
        for i in range(len(names)):
            a = (drums & (group == i) & np.isin(block, full)).sum() / (len(full) * block_bars)
            b = (drums & (group == i) & np.isin(block, light)).sum() / (len(light) * block_bars)
            if a > 0 and b > 0:
                logs[i].append(math.log(a / b))
    return {name: round(math.exp(float(np.mean(v))), 3) for name, v in zip(names, logs) if v}
