"""The drums' velocity shape in bars of running 16th hats, learned from the training songs' velocities.

    python -m musicvae_app.training.running_hats --pack resources/models/default --data ../shared/data/band-midi
        [--songs 600]

A bar plays running 16th hats when its hats or ride (theory/dynamics.HATS) strike at least RUNNING of the 8 odd
16ths. In such bars real drummers accent the beat over the 16ths between the 8ths more than the bar-blind table
says (300 training songs: hats on the beat 1.085 of the song's median, the odd 16ths 0.885; the table's means over
every bar 1.03 / 0.90). Per drum group (kick, backbeat, hats, other drums) and 16th of the bar, the mean velocity
over the song's median for the group in running bars over its mean in every bar (training split only, as
training/dynamics.py splits) is written to the pack's dynamics.json as `running_gain` (`running_notes`: the
notes behind each figure);
theory/dynamics.shaped_ratio uses it for a note in such a bar of our takes (sketch/pins.py says which bars).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..lanes import DRUMS
from ..theory.dynamics import DYNAMICS_FILE, GROUPS, HATS, POSITIONS, RUNNING, group_of

DRUM_GROUPS = (4, 5, 6, 7)
FEW = 200  # running notes at a group's 16th below which its gain stays 1.0


def running_bars(positions: np.ndarray, bars: np.ndarray, hat: np.ndarray) -> set[int]:
    """The bars (of each hit's bar index) whose hats strike at least RUNNING of the odd 16ths."""
    out = set()
    for b in np.unique(bars[hat]):
        odd = positions[hat & (bars == b) & (positions % 2 == 1)]
        if len(np.unique(odd)) >= RUNNING:
            out.add(int(b))
    return out


def measure(songs: list[dict]) -> tuple[list[list[float]], list[list[int]]]:
    """(per drum group, per 16th: the mean velocity over the song's group median in running bars over the mean in
    every bar, 1.0 where under FEW running notes; the running notes counted) of songs read by
    training/styles.read_song (notes: lane, pitch, beat, velocity)."""
    total = np.zeros((len(GROUPS), POSITIONS))
    count = np.zeros((len(GROUPS), POSITIONS), dtype=int)
    every = np.zeros((len(GROUPS), POSITIONS))
    every_n = np.zeros((len(GROUPS), POSITIONS), dtype=int)
    for song in songs:
        n = song["notes"]
        drums = n[n[:, 0] == DRUMS]
        if len(drums) < 16:
            continue
        steps = np.rint(drums[:, 2] * 4).astype(int)
        pos, bar = steps % POSITIONS, steps // POSITIONS
        group = np.array([group_of(DRUMS, int(p)) for p in drums[:, 1]])
        running = running_bars(pos, bar, np.isin(drums[:, 1], HATS))
        inside = np.isin(bar, list(running))
        for g in DRUM_GROUPS:
            mine = group == g
            if mine.sum() < 8:
                continue
            ratio = drums[mine, 3] / np.median(drums[mine, 3])
            np.add.at(every[g], pos[mine], ratio)
            np.add.at(every_n[g], pos[mine], 1)
            sel = inside[mine]
            np.add.at(total[g], pos[mine][sel], ratio[sel])
            np.add.at(count[g], pos[mine][sel], 1)
    run = total / np.maximum(count, 1)
    blind = every / np.maximum(every_n, 1)
    gain = np.where((count >= FEW) & (blind > 0), run / np.where(blind > 0, blind, 1.0), 1.0)
    return np.round(gain, 4).tolist(), count.tolist()


def main(argv=None) -> int:
    from ..training.dynamics import split_paths
    from ..training.styles import read_song

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pack", required=True, help="the pack folder whose dynamics.json gets running_gain")
    p.add_argument("--data", required=True, help="the folder the pack was trained on (training songs are used)")
    p.add_argument("--songs", type=int, default=600)
    args = p.parse_args(argv)
    training, _ = split_paths(args.pack, args.data)
    songs = [s for s in (read_song(path) for path in training[: args.songs]) if s is not None]
    shape, notes = measure(songs)
    target = Path(args.pack) / DYNAMICS_FILE
    table = json.loads(target.read_text())
    table["running_gain"], table["running_notes"] = shape, notes
    table["running_why"] = (
        f"{len(songs)} training songs (training/running_hats.py): per drum group and 16th, the mean velocity over "
        f"the song's median for the group in bars whose hats strike at least {RUNNING} of the 8 odd 16ths, over "
        f"its mean in every bar (1.0 under {FEW} such notes)"
    )
    target.write_text(json.dumps(table, separators=(",", ":")))
    for g in DRUM_GROUPS:
        print(f"{GROUPS[g]:12s} " + " ".join(f"{v:.2f}" for v in shape[g]) + f"  ({sum(notes[g])} notes)")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
