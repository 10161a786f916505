"""What each grid keeps of real band MIDI: the measurement behind the default pack's grid.

    .venv/bin/python benchmarks/grid_choice.py [--data DIR] [--songs 200]

For 2 steps per beat (8th notes, the thesis) and 4 (16th notes): the share of note onsets that sit
on the grid (within 10% of a step), and the share of notes lost because two onsets of one pitch
land on the same step. Compute cost per grid is measured by bench_generate.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from musicvae_app.sketch.midi import MidiImportError, read_notes  # noqa: E402
from musicvae_app.sketch.song import LANES  # noqa: E402
from musicvae_app.training.data import find_files  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/band-midi"))
    parser.add_argument("--songs", type=int, default=200)
    args = parser.parse_args()
    files = find_files(args.data)
    files = [files[i] for i in np.random.default_rng(0).choice(len(files), min(args.songs, len(files)), replace=False)]
    stats = {spb: {lane: [0, 0, 0] for lane in LANES} for spb in (2, 4)}  # on-grid, lost, total
    for path in files:
        try:
            notes = read_notes(path)
        except MidiImportError:
            continue
        for spb in (2, 4):
            pos = notes.start * spb
            on_grid = np.abs(pos - np.round(pos)) <= 0.1
            step = np.round(pos).astype(int)
            for li, lane in enumerate(LANES):
                m = notes.lane == li
                keys = set(zip(notes.pitch[m], step[m]))
                s = stats[spb][lane]
                s[0] += int(on_grid[m].sum())
                s[1] += int(m.sum()) - len(keys)
                s[2] += int(m.sum())
    print(f"{len(files)} songs from {args.data}\n")
    print("| lane | onsets on 8th grid | on 16th grid | notes lost at 8ths | lost at 16ths |")
    print("|---|---:|---:|---:|---:|")
    for lane in LANES:
        a, b = stats[2][lane], stats[4][lane]
        print(
            f"| {lane} | {100 * a[0] / a[2]:.1f}% | {100 * b[0] / b[2]:.1f}% | "
            f"{100 * a[1] / a[2]:.1f}% | {100 * b[1] / b[2]:.1f}% |"
        )


if __name__ == "__main__":
    main()
