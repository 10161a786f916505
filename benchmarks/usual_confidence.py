"""The shipped pack's usual confidence per lane: theory/dynamics.USUAL_CONFIDENCE.

A note's velocity moves around its position's real mean by how much surer (or less sure) the model is of it than
of the lane's usual note. "Usual" is this fixed, measured figure, not the take's own median, so what comes later
in a take (a continuation, a regenerated bar) never changes how loud an earlier note is, and a section the engine
makes surer (a chorus's energy) plays louder.

    PYTHONPATH=. .venv/bin/python -m benchmarks.usual_confidence [--seeds 8]

Prints each lane's median confidence ((mean probability over the note - threshold) / (1 - threshold), clipped to
0-1) over takes of 32 bars, with and without a chart.
"""

from __future__ import annotations

import argparse

import numpy as np

from musicvae_app.engine import Engine
from musicvae_app.lanes import LANES
from musicvae_app.sketch.pins import note_confidences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    engine = Engine.load(device="cpu")
    per: dict[int, list[float]] = {lane: [] for lane in range(len(LANES))}
    for seed in range(args.seeds):
        for kwargs in ({}, {"chords": "Am F C G"}):
            song = engine.generate(steps=8, seed=seed, **kwargs)
            for lane in range(len(LANES)):  # the notes and confidences the export plays (sketch/pins.py)
                per[lane] += [c for *_, c in note_confidences(song, lane)]
    for lane, name in enumerate(LANES):
        a = np.array(per[lane])
        q1, q3 = np.percentile(a, [25, 75])
        print(f"{name:8s} notes {len(a):6d}  median {np.median(a):.3f}  quartiles {q1:.3f}-{q3:.3f}")


if __name__ == "__main__":
    main()
