"""The shipped pack's usual confidence: the confidence quantiles per group and 16th in dynamics.json, re-measured.

A note's velocity is placed in its position's real spread by the rank of the model's confidence in it among the
usual notes of its group (piano ... kick, backbeat, hats) at its 16th. "Usual" is a fixed, measured table
(training/dynamics.calibrate writes it), not the take's own, so what comes later in a take (a continuation, a
regenerated bar) never changes how loud an earlier note is, and a section the engine makes surer (a chorus's
energy) plays louder. This re-measures the table and prints the shipped one beside it: when they drift (the
engine changed), run `python -m musicvae_app.training.dynamics --pack resources/models/default --data DATA
--calibrate-only`.

    PYTHONPATH=. .venv/bin/python -m benchmarks.usual_confidence --data ../shared/data/band-midi [--seeds 12]

The takes training/dynamics.calibrate makes (36 bars, with and without a chart, and a verse / chorus form for
the ghost floor); confidence = (mean probability over the note - threshold) / (1 - threshold), clipped to 0-1.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from musicvae_app.engine import Engine
from musicvae_app.theory.dynamics import GROUPS, table
from musicvae_app.training.dynamics import calibrate, mid_primers, split_paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--data", required=True, help="band-midi: the training songs whose primers the takes continue")
    parser.add_argument("--pack", default="resources/models/default")
    args = parser.parse_args()
    t = table()
    with tempfile.TemporaryDirectory() as tmp:  # the same primers as training/dynamics.py's calibration
        primers = mid_primers(split_paths(args.pack, args.data)[0][-args.seeds * 2 :], Path(tmp))[: args.seeds]
        now, ghost_floor = calibrate(
            Engine.load(args.pack, device="cpu"), args.seeds, t["real"]["snare_ghost_share"], primers
        )
    shipped = t["confidence"]
    mid = len(now[0][0]) // 2
    print("median confidence on the beat / off-beat 8th / other 16ths (positions 0, 2, 1), now (shipped)")
    for g, name in enumerate(GROUPS):
        cells = "  ".join(f"{now[g][p][mid]:.3f} ({shipped[g][p][mid]:.3f})" for p in (0, 2, 1))
        drift = float(np.max(np.abs(np.subtract(now[g], shipped[g]))))
        print(f"{name:12s} {cells}  max |quantile drift| {drift:.3f}")
    print(f"ghost floor now {ghost_floor} (shipped {t.get('ghost_floor')})")


if __name__ == "__main__":
    main()
