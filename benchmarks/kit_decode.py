"""The free drums' kit check (engine/kit.py) decoding the drums alone against decoding all five lanes, as it did:
the same takes, and the check's time and a free take's time, in one run.

    .venv/bin/python -m benchmarks.kit_decode [--takes 10] [--rounds 3] [--reps 200]

The old check is kept here as a reference (`keep_kit_all_lanes`: the held latents decoded for every lane, the
drums read from the full unblocked chunk). Both are run on the same chunks (the check alone, `reps` calls) and
inside the loop on the same seeds (free takes of 8 chunks, one thread, the drum choice kit.DrumMoves turned off so
that the kit check runs), alternated `rounds` times; the takes' probabilities must be identical. The shipped free
take (kit.DrumMoves: four more drum-only decodes a chunk) is timed beside them.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from musicvae_app.engine import Engine
from musicvae_app.engine import loop as loop_module
from musicvae_app.engine.kit import DrumMoves, keep_kit, kit_bars
from musicvae_app.sketch.song import DRUMS


def keep_kit_all_lanes(fast, p, z_next, held, moved, batch, threshold, bars, chords=None):
    """engine/kit.py's check as it was before: every lane of the held latents decoded and unblocked."""
    if not moved:
        return p, z_next, []
    now = kit_bars(fast.from_blocked(p, batch)[DRUMS], threshold, bars)
    held_p = fast.decode(held, chords)
    then = kit_bars(fast.from_blocked(held_p, batch)[DRUMS], threshold, bars)
    back = [b for b in moved if now[b] < then[b]]
    if not back:
        return p, z_next, []
    rows = p.shape[1] // batch
    p, z_next = p.clone(), z_next.clone()
    for b in back:
        p[DRUMS, b * rows : (b + 1) * rows] = held_p[DRUMS, b * rows : (b + 1) * rows]
        z_next[DRUMS, b] = held[DRUMS, b]
    return p, z_next, back


def takes(engine, seeds) -> tuple[list[np.ndarray], float]:
    start = time.perf_counter()
    out = [engine.generate(steps=7, seed=s).probs.copy() for s in seeds]
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--takes", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    engine = Engine.load(device="cpu")
    fast, cfg = engine.fast, engine.cfg
    threshold = 0.5
    gen = torch.Generator().manual_seed(0)
    batch = 16  # random latents: a chunk of 16 takes, every one moved on
    z = torch.randn((5, batch, cfg.latent), generator=gen)
    held = torch.randn((5, batch, cfg.latent), generator=gen)
    p = fast.decode(z)
    a = keep_kit(fast, p, z, held, list(range(batch)), batch, threshold, cfg.bars)
    b = keep_kit_all_lanes(fast, p, z, held, list(range(batch)), batch, threshold, cfg.bars)
    same = all(torch.equal(x, y) for x, y in zip(a[:2], b[:2])) and a[2] == b[2]
    print(f"check alone, {batch} takes' chunk: same result {same} (held back {a[2]})")
    for name, fn in (("drums alone", keep_kit), ("all lanes", keep_kit_all_lanes)) * args.rounds:
        start = time.perf_counter()
        for _ in range(args.reps):
            fn(fast, p, z, held, list(range(batch)), batch, threshold, cfg.bars)
        print(f"  {name}: {1000 * (time.perf_counter() - start) / args.reps:.3f} ms a check")
    seeds = range(args.takes)
    results = {}
    shipped_choice = DrumMoves.from_card
    for r in range(args.rounds):
        for name, fn in (("drums alone", keep_kit), ("all lanes", keep_kit_all_lanes), ("drum choice", None)):
            loop_module.keep_kit = fn or keep_kit
            # the kit check alone (kit.keep_kit) where fn is given; else the shipped choice (kit.DrumMoves)
            DrumMoves.from_card = shipped_choice if fn is None else classmethod(lambda cls, g, seed: None)
            probs, secs = takes(engine, seeds)
            results.setdefault(name, []).append(secs)
            if r == 0:
                results[name + " probs"] = probs
    loop_module.keep_kit, DrumMoves.from_card = keep_kit, shipped_choice
    equal = all(np.array_equal(x, y) for x, y in zip(results["drums alone probs"], results["all lanes probs"]))
    print(f"{args.takes} free takes of 8 chunks, the kit check alone: identical probabilities {equal}")
    for name in ("drums alone", "all lanes", "drum choice"):
        print(f"  {name}: " + ", ".join(f"{s:.2f}" for s in results[name]) + " s")
    ratio = np.median(results["all lanes"]) / np.median(results["drums alone"])
    print(f"  all lanes / drums alone (medians): {ratio:.3f}")
    ratio = np.median(results["drum choice"]) / np.median(results["drums alone"])
    print(f"  drum choice (shipped) / kit check alone, drums alone (medians): {ratio:.3f}")


if __name__ == "__main__":
    main()
