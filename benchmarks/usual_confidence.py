"""The shipped pack's usual confidence per lane: each lane's confidence quantiles in dynamics.json.

A note's velocity is placed in its position's real spread by the rank of the model's confidence in it among the
lane's usual notes. "Usual" is a fixed, measured table (training/dynamics.calibrate, which writes it), not the
take's own, so what comes later in a take (a continuation, a regenerated bar) never changes how loud an earlier
note is, and a section the engine makes surer (a chorus's energy) plays louder. This re-measures the median and
quartiles and prints the shipped table's beside them: when they drift (the engine changed), run
`python -m musicvae_app.training.dynamics --pack resources/models/default --data DATA --calibrate-only`.

    PYTHONPATH=. .venv/bin/python -m benchmarks.usual_confidence [--seeds 8]

Takes of 36 bars, with and without a chart; confidence = (mean probability over the note - threshold) /
(1 - threshold), clipped to 0-1.
"""

from __future__ import annotations

import argparse

import numpy as np

from musicvae_app.engine import Engine
from musicvae_app.lanes import LANES
from musicvae_app.theory.dynamics import table
from musicvae_app.training.dynamics import calibrate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    now = calibrate(Engine.load(device="cpu"), args.seeds)
    shipped = table()["confidence"]
    for lane, name in enumerate(LANES):
        q, s = now[lane], shipped[lane]
        print(
            f"{name:8s} median {q[50]:.3f} (shipped {s[50]:.3f})  quartiles {q[25]:.3f}-{q[75]:.3f} "
            f"(shipped {s[25]:.3f}-{s[75]:.3f})  max |quantile drift| {np.max(np.abs(np.subtract(q, s))):.3f}"
        )


if __name__ == "__main__":
    main()
