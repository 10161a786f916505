"""The drums beside a followed part play a kit (issue 29): real comp parts of the pack's validation songs followed.

    python -m benchmarks.followed_kit --data ../shared/data/band-midi [--windows 16] [--seeds 0 1] [--style NAME]

For each window of a band-midi validation song with a comp (piano, else guitar, in half its bars) the comp alone is
followed (`Engine.generate(follow=..., seed=...)`, style Auto unless --style), the take exported and read back at
16ths. Per take: the share of bars whose drums play a kick and a backbeat (snare, clap or side stick), whether that
is most bars, and whether the drum most hit is hand percussion (tambourine, bongos, congas, cabasa, guiro...). The
real song's own drums in the same windows beside ours. Also the one-time cost of the first followed Generate.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from musicvae_app.engine import Engine, torch_threads
from musicvae_app.engine.styles import HAND
from musicvae_app.evaluation.evaluate import validation_songs
from musicvae_app.evaluation.harmony import comp_lane
from musicvae_app.evaluation.windows import BAR_STEPS, SCORE_CHUNK, export_back, roll_to_midi, windows
from musicvae_app.lanes import DRUMS
from musicvae_app.theory.dynamics import BACKBEAT, KICKS


def drum_figures(roll: np.ndarray) -> dict:
    """Kit bars share, most bars kit, most-hit drum hand percussion, hand share of hits: one take's drums."""
    drums = roll[DRUMS]
    bars = drums[: drums.shape[0] // BAR_STEPS * BAR_STEPS].reshape(-1, BAR_STEPS, 128)
    kit = bars[..., list(KICKS)].any(axis=(1, 2)) & bars[..., list(BACKBEAT)].any(axis=(1, 2))
    hits = drums.sum(axis=0)
    top = int(np.argmax(hits)) if hits.any() else -1
    return {
        "kit": float(kit.mean()),
        "most": bool(kit.mean() > 0.5),
        "hand_top": bool(top in HAND),
        "hand_share": float(hits[list(HAND)].sum() / max(1, hits.sum())),
        "silent": bool(not hits.any()),
    }


def summary(rows: list[dict]) -> str:
    n = len(rows)
    if not n:
        return "no takes"

    def mean(key: str) -> float:
        return float(np.mean([r[key] for r in rows]))

    return (
        f"{n} takes: kit bars {mean('kit'):.3f}, takes with a kit in most bars {mean('most'):.3f}, most-hit drum "
        f"hand percussion {mean('hand_top'):.3f}, hand share of drum hits {mean('hand_share'):.3f}, silent drums "
        f"{sum(r['silent'] for r in rows)}"
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data/band-midi")
    ap.add_argument("--pack", default="resources/models/default")
    ap.add_argument("--windows", type=int, default=16)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--steps", type=int, default=3, help="chunks after the first (4 bars each)")
    ap.add_argument("--style", default=None)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    engine = Engine.load(args.pack)
    print(f"loaded in {time.perf_counter() - t0:.2f} s", flush=True)
    songs = validation_songs(engine, args.data)
    ours, real = [], []
    first = None
    with tempfile.TemporaryDirectory() as tmp, torch_threads(1):
        folder = Path(tmp)
        used = 0
        for i, window in enumerate(windows(songs, SCORE_CHUNK, args.steps)):
            if used >= args.windows:
                break
            lane = comp_lane(window.roll)
            if lane is None:
                continue
            used += 1
            real.append(drum_figures(window.roll))
            part = np.zeros_like(window.roll)
            part[lane] = window.roll[lane]
            path = roll_to_midi(part, folder / "comp.mid")
            for seed in args.seeds:
                t = time.perf_counter()
                take = engine.generate(follow=path, seed=seed * 1000 + i, style=args.style, steps=args.steps)
                if first is None:
                    first = time.perf_counter() - t
                ours.append(drum_figures(export_back(take, folder / "take.mid", window.roll.shape[1])))
    print(f"first followed generate {first:.2f} s", flush=True)
    print("real:", summary(real))
    print("ours:", summary(ours))
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
