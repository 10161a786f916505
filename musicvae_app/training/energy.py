"""Learn what a section's energy (1-5) means, lane by lane, from the training songs: `energy.json` in the pack.

    python -m musicvae_app.training.energy --pack resources/models/default --data ../shared/data/band-midi

Each training song (band-midi's training split by file hash, as the pack was trained; validation songs are never
read) is cut into 4-bar blocks ranked by the whole band's notes into fifths, the lightest fifth energy 1 and the
fullest 5 (evaluation/energy_rows.level_table). Stored per lane: notes a bar at
each level over level 3's, the pitched lanes' notes struck together, and the drums' share of open hats and ride
among hats and ride, and of bars opening on a crash. Also per lane, `contrast`: the song's fuller half of its 8-bar
blocks over its lighter half, notes a bar (evaluation/energy_rows.real_contrast, geometric mean over songs): the
step from a song's verses to its choruses, where neighbouring fifths (level 4 over 3) are a smaller step. And
`drum_contrast`, the same per part of the kit (kick, backbeat, hats and ride, toms, crashes, other percussion:
evaluation/energy_rows.drum_contrast): a chorus's drums lift part by part as a drummer's do.
engine/energy.py shapes a section toward its level's figures, the step from level 3 to 4 the contrast's.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ..atomic import atomic_write
from ..evaluation.energy_rows import drum_contrast, level_table, real_contrast

ENERGY_FILE = "energy.json"


def learn(paths: list[str], block_bars: int = 4) -> dict:
    from .styles import read_song

    songs = [s for s in (read_song(p) for p in paths) if s is not None]
    table = level_table(songs, block_bars)
    table["contrast"] = {lane: row["notes_x"] for lane, row in real_contrast(songs).items() if "notes_x" in row}
    table["drum_contrast"] = drum_contrast(songs)
    return table


def main(argv: list[str] | None = None) -> int:
    from .dynamics import split_paths

    p = argparse.ArgumentParser(prog="python -m musicvae_app.training.energy", description=__doc__.split("\n")[0])
    p.add_argument("--pack", required=True, help="the pack folder that gets energy.json")
    p.add_argument("--data", required=True, help="the folder the pack was trained on (training songs are used)")
    p.add_argument("--songs", type=int, default=1200, help="training songs to measure")
    args = p.parse_args(argv)
    train, _ = split_paths(args.pack, args.data)
    began = time.monotonic()
    table = learn(train[: args.songs])
    table["source"] = f"{Path(args.data).name} training split, {table['songs']} songs (training/energy.py)"
    out = Path(args.pack) / ENERGY_FILE
    atomic_write(out, (json.dumps(table, indent=1) + "\n").encode())
    print(json.dumps(table, indent=1))
    print(f"wrote {out} ({time.monotonic() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
