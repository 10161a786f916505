"""The first followed Generate after loading a pack against the second (issue 29 audit: a one-time count over the
start bank's rows), one thread, on the made-up part of benchmarks/played_parts.py if present, else a 4-bar comp.

    python -m benchmarks.first_follow [--pack resources/models/default] [--rounds 3]

Each round loads the pack afresh, follows the part (seed 1) then again (seed 2) and prints both times and the
start bank's one-time count alone (StartBank.bars at the card's threshold, a fresh bank)."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from musicvae_app.engine import Engine, torch_threads
from musicvae_app.evaluation.windows import roll_to_midi


def comp(path: Path) -> Path:
    """A 4-bar piano comp (C Am F G, 8ths) written at 16ths."""
    roll = np.zeros((5, 64, 128), dtype=bool)
    for bar, chord in enumerate(((60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62))):
        for eighth in range(8):
            roll[0, bar * 16 + eighth * 2, list(chord)] = True
    return roll_to_midi(roll, path)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pack", default="resources/models/default")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, torch_threads(1):
        part = comp(Path(tmp) / "comp.mid")
        for _ in range(args.rounds):
            engine = Engine.load(args.pack)
            times = []
            for seed in (1, 2):
                t = time.perf_counter()
                engine.generate(follow=part, seed=seed, steps=3)
                times.append(time.perf_counter() - t)
            fresh = Engine.load(args.pack)
            bank = next(o.bank for o in [fresh, *vars(fresh).values()] if hasattr(o, "bank"))
            t = time.perf_counter()
            bank.bars(fresh.card.threshold)
            count = time.perf_counter() - t
            print(f"first followed {times[0]:.3f} s, second {times[1]:.3f} s, the bank's count alone {count:.3f} s")


if __name__ == "__main__":
    main()
