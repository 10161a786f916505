"""The dynamics side of `musicvae evaluate`: velocity by beat position, snare ghost notes, and how much a full
section stands out from a light one, real songs beside ours.

Everything is read from .mid files with mido (training/styles.read_song: lane, pitch, beat, velocity), as a
DAW reads them: the real validation songs' own files, and our takes as exported.

- velocity by beat position: per group (piano, guitar, bass, strings, kick, backbeat, hats/ride) the mean
  velocity of notes on the beat, on the off-beat 8th and on the other 16ths, each over the song's median for
  the group (so a song at 80 and one at 110 count alike), and the share of snare hits below 0.6 x the
  song's snare median (ghost notes);
- full / light sections: each song's 8-bar blocks split at its median notes a block (the fuller half against
  the lighter half, as a chorus against a verse where nothing is labelled): notes a block (full over light)
  and mean velocity (full minus light). Our takes with a form (verse, chorus, verse, chorus) are measured the
  same way, and also by their labels: chorus against verse.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..lanes import DRUMS
from ..theory.dynamics import GROUPS, group_of
from . import report

PLACES = ("beat", "off 8th", "16ths")
SHOWN = 7  # GROUPS shown: every one but "other drums" (toms, crashes, percussion)
BLOCK_BEATS = 32  # 8 bars of 4/4
FORM = [("verse", 1, 8), ("chorus", 9, 8), ("verse", 17, 8), ("chorus", 25, 8)]


def read(path) -> dict | None:
    from ..training.styles import read_song

    return read_song(str(path))


def _place(beats: np.ndarray) -> np.ndarray:
    """0 on the beat, 1 the off-beat 8th, 2 another 16th."""
    pos = np.rint(beats * 4).astype(int) % 4
    return np.where(pos == 0, 0, np.where(pos == 2, 1, 2))


def position_figures(songs: list[dict]) -> dict:
    """{group: {place: mean ratio to the song's median}} and the snare ghost share (%), over songs."""
    total = np.zeros((len(GROUPS), len(PLACES)))
    count = np.zeros((len(GROUPS), len(PLACES)))
    ghosts = [0, 0]
    for song in songs:
        n = song["notes"]
        group = np.array([group_of(int(lane), int(p)) for lane, p in n[:, :2]], dtype=int)
        place = _place(n[:, 2])
        for g in range(len(GROUPS)):
            mine = group == g
            if mine.sum() < 8:
                continue
            ratio = n[mine, 3] / np.median(n[mine, 3])
            np.add.at(total[g], place[mine], ratio)
            np.add.at(count[g], place[mine], 1)
        snares = n[(n[:, 0] == DRUMS) & np.isin(n[:, 1], (38, 40)), 3]
        if len(snares) >= 8:
            ghosts[0] += int((snares < 0.6 * np.median(snares)).sum())
            ghosts[1] += len(snares)
    mean = np.where(count > 0, total / np.maximum(count, 1), math.nan)
    return {
        "by_place": {GROUPS[g]: dict(zip(PLACES, np.round(mean[g], 3).tolist())) for g in range(SHOWN)},
        "snare_ghost_share": round(100.0 * ghosts[0] / ghosts[1], 2) if ghosts[1] else math.nan,
    }


def block_contrast(songs: list[dict]) -> dict:
    """Full against light 8-bar blocks (split at each song's median notes a block): notes ratio, velocity diff."""
    notes_ratio, vel_diff = [], []
    for song in songs:
        n = song["notes"]
        block = (n[:, 2] // BLOCK_BEATS).astype(int)
        counts = np.bincount(block)
        played = np.flatnonzero(counts)
        if len(played) < 2:
            continue
        median = np.median(counts[played])
        full = [b for b in played if counts[b] > median]
        light = [b for b in played if counts[b] <= median]
        if not full or not light:
            continue
        in_full, in_light = np.isin(block, full), np.isin(block, light)
        notes_ratio.append((in_full.sum() / len(full)) / (in_light.sum() / len(light)))
        vel_diff.append(float(n[in_full, 3].mean() - n[in_light, 3].mean()))
    return _contrast(notes_ratio, vel_diff)


def section_contrast(songs: list[dict], sections) -> dict:
    """Chorus against verse of takes made with `sections` (name, start bar, bars): notes ratio, velocity diff."""
    notes_ratio, vel_diff = [], []
    for song in songs:
        n = song["notes"]
        parts = {}
        for name, start, bars in sections:
            inside = (n[:, 2] >= (start - 1) * 4) & (n[:, 2] < (start - 1 + bars) * 4)
            got = parts.setdefault(name, [0, 0, 0.0])
            got[0] += int(inside.sum())
            got[1] += bars
            got[2] += float(n[inside, 3].sum())
        v, c = parts.get("verse"), parts.get("chorus")
        if not v or not c or not v[0] or not c[0]:
            continue
        notes_ratio.append((c[0] / c[1]) / (v[0] / v[1]))
        vel_diff.append(c[2] / c[0] - v[2] / v[0])
    return _contrast(notes_ratio, vel_diff)


def _contrast(notes_ratio, vel_diff) -> dict:
    return {
        "notes_ratio": round(float(np.mean(notes_ratio)), 3) if notes_ratio else math.nan,
        "velocity_diff": round(float(np.mean(vel_diff)), 2) if vel_diff else math.nan,
        "songs": len(notes_ratio),
    }


def form_takes(engine, count: int, seed: int, folder: Path) -> list[dict]:
    """`count` random-start takes of 32 bars with FORM (verse 8, chorus 8, verse 8, chorus 8), exported, read."""
    from ..sketch.midi import write_midi

    out = []
    for k in range(count):
        take = engine.generate(steps=7, seed=seed + k, sections=FORM)
        song = read(write_midi(take, folder / f"form{k}.mid"))
        if song is not None:
            out.append(song)
    return out


def dynamics_section(real_paths: list[str], ours: list[dict], form: list[dict]) -> dict:
    """The rows: real validation songs (their files) beside our continuations and our takes with a form."""
    real = [s for s in (read(p) for p in real_paths) if s is not None]
    r, o = position_figures(real), position_figures(ours)
    rows = {}
    for g in GROUPS[:SHOWN]:
        for place in PLACES:
            rows[f"{g}, {place}"] = report.row("velocity_ratio", r["by_place"][g][place], o["by_place"][g][place])
    rows["snare ghost notes %"] = report.row("ghost", r["snare_ghost_share"], o["snare_ghost_share"])
    full_real, full_ours, labelled = block_contrast(real), block_contrast(form), section_contrast(form, FORM)
    rows["full/light notes x"] = report.row("contrast", full_real["notes_ratio"], full_ours["notes_ratio"])
    rows["full-light velocity"] = report.row("contrast", full_real["velocity_diff"], full_ours["velocity_diff"])
    rows["chorus/verse notes x"] = report.row("contrast", full_real["notes_ratio"], labelled["notes_ratio"])
    rows["chorus-verse velocity"] = report.row("contrast", full_real["velocity_diff"], labelled["velocity_diff"])
    return {"rows": rows, "real_songs": len(real), "our_takes": len(ours), "form_takes": len(form)}


def format_dynamics(section: dict) -> str:
    head = f"{'dynamics':<28}{'real':>9}{'generated':>11}{'gap':>9}"
    lines = [head, "-" * len(head)]
    for name, row in section["rows"].items():
        lines.append(
            f"{name:<28}{report.fmt(row['real'], 9)}{report.fmt(row['generated'], 11)}"
            f"{report.fmt(row['gap'], 9, sign=True)}"
        )
    lines.append(
        f"note: velocity by place is over the song's median for the group ({section['real_songs']} real validation "
        f"songs, {section['our_takes']} continuations); full/light: 8-bar blocks split at the song's median notes "
        f"(real) beside {section['form_takes']} takes with verse/chorus/verse/chorus (split the same way, and "
        "chorus against verse)"
    )
    return "\n".join(lines)
