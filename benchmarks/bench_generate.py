"""Generation speed: the fast engine against a faithful plain port of the thesis's loop, same run, same pack.

    .venv/bin/python benchmarks/bench_generate.py [--pack DIR] [--runs 30]

A three-minute song is 23 chunks of 4 bars at 120 BPM (the first chunk plus 22 generated).
Prints a Markdown table; results are recorded in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from musicvae_app.engine import Engine  # noqa: E402
from musicvae_app.model.reference import generate_plain  # noqa: E402


def median_ms(fn, runs: int, warmup: int = 3) -> tuple[float, float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), float(np.percentile(times, 90))


def interleaved_ms(fns, runs: int, warmup: int = 3) -> list[tuple[float, float]]:
    """Median and p90 ms of each fn, timed in turn (a, b, a, b, ...) `runs` times each."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times = [[] for _ in fns]
    for _ in range(runs):
        for fn, out in zip(fns, times):
            t = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t) * 1000)
    return [(statistics.median(t), float(np.percentile(t, 90))) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pack", default=None)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--baseline", default=None, help="another pack to time with its own defaults in the same run")
    args = parser.parse_args()
    engine = Engine.load(args.pack, args.device)
    band = engine.pack.band
    steps = 22
    seeds = iter(range(10**6))
    # the plain port's loop
    thesis = dict(noise=1.0, threshold=0.3, revive=0, pull=0.0, harmony=0.0, start="prior", groove=False)
    # The plain port knows no per-lane density offsets; compare the loops with them off, on the raw threshold.
    bias = engine.fast.lane_bias.tolist() if hasattr(engine.fast, "lane_bias") else None
    engine.fast.set_lane_bias([0.0] * 5)
    same = all(
        np.array_equal(
            engine.generate(steps=steps, seed=s, **thesis).probs >= 0.3, generate_plain(band, steps, 1.0, 0.3, s) >= 0.3
        )
        for s in range(5)
    )
    if bias is not None:
        engine.fast.set_lane_bias(bias)
    fast = median_ms(lambda: engine.generate(steps=steps, seed=next(seeds), **thesis), args.runs)
    plain = median_ms(lambda: generate_plain(band, steps, 1.0, 0.3, next(seeds)), args.runs)
    var16 = median_ms(lambda: engine.generate(steps=steps, seed=next(seeds), variations=16, **thesis), args.runs)
    own = median_ms(lambda: engine.generate(steps=steps, seed=next(seeds)), args.runs)
    no_harmony = median_ms(lambda: engine.generate(steps=steps, seed=next(seeds), harmony=0.0), args.runs)
    # The ratio the speed budget is written in: what a musician gets (the pack's defaults, with groove, and with
    # a chord chart) against the plain thesis loop, timed in turn so load on the machine hits all three alike.
    plain_alt, own_alt, chords_alt = interleaved_ms(
        [
            lambda: generate_plain(band, steps, 1.0, 0.3, next(seeds)),
            lambda: engine.generate(steps=steps, seed=next(seeds)),
            lambda: engine.generate(steps=steps, seed=next(seeds), chords="Am F C G"),
        ],
        args.runs,
    )
    if args.baseline:  # the two packs alternate song by song, so drift in the machine's speed hits both alike
        base_engine = Engine.load(args.baseline, args.device)
        base, own_again = interleaved_ms(
            [
                lambda: base_engine.generate(steps=steps, seed=next(seeds)),
                lambda: engine.generate(steps=steps, seed=next(seeds)),
            ],
            2 * args.runs,
        )
    song = engine.generate(steps=steps, seed=1)
    cfg = engine.cfg
    print(
        f"pack '{engine.pack.name}' ({cfg.steps_per_beat} steps/beat, {cfg.chunk_steps}-step chunks, "
        f"conv widths {','.join(map(str, cfg.channels))}), "
        f"device {engine.device_name}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}"
    )
    print(
        f"song: {song.n_chunks} chunks = {song.n_bars} bars = {song.seconds:.0f} s at 120 BPM; "
        f"fast and plain give identical notes for seeds 0-4: {same}\n"
    )
    print("| what | median ms | p90 ms | runs |")
    print("|---|---:|---:|---:|")
    print(f"| plain port of the thesis loop, 1 song | {plain[0]:.1f} | {plain[1]:.1f} | {args.runs} |")
    print(f"| fast engine, 1 song | {fast[0]:.1f} | {fast[1]:.1f} | {args.runs} |")
    print(f"| fast engine, 16 variations | {var16[0]:.1f} | {var16[1]:.1f} | {args.runs} |")
    print(f"| fast engine, 1 song, the pack's defaults | {own[0]:.1f} | {own[1]:.1f} | {args.runs} |")
    print(
        f"| fast engine, 1 song, the pack's defaults but harmony 0 | {no_harmony[0]:.1f} | {no_harmony[1]:.1f} "
        f"| {args.runs} |"
    )
    print(
        f"| plain port of the thesis loop, 1 song (alternating) | {plain_alt[0]:.1f} | {plain_alt[1]:.1f} "
        f"| {args.runs} |"
    )
    print(f"| the pack's defaults, 1 song (alternating) | {own_alt[0]:.1f} | {own_alt[1]:.1f} | {args.runs} |")
    print(
        f"| the pack's defaults with chords 'Am F C G', 1 song (alternating) | {chords_alt[0]:.1f} "
        f"| {chords_alt[1]:.1f} | {args.runs} |"
    )
    if args.baseline:
        b = base_engine.cfg
        name = f"'{base_engine.pack.name}' ({b.steps_per_beat} steps/beat, widths {','.join(map(str, b.channels))})"
        runs = 2 * args.runs
        print(
            f"| baseline pack {name}, 1 song, its own defaults (alternating) | {base[0]:.1f} | {base[1]:.1f} | {runs} |"
        )
        print(
            f"| this pack, 1 song, its own defaults (alternating) | {own_again[0]:.1f} | {own_again[1]:.1f} | {runs} |"
        )
        print(f"\nthis pack / baseline, alternating runs: {own_again[0] / base[0]:.2f}")
    print(f"\nspeed-up over the plain port: {plain[0] / fast[0]:.1f}x (the same loop)")
    print(
        f"the pack's defaults against the plain port, alternating: {plain_alt[0] / own_alt[0]:.1f}x, "
        f"with chords {plain_alt[0] / chords_alt[0]:.1f}x"
    )
    print("\nbeside one busy process (a CPU-bound loop, as a DAW might be):\n")
    print("| what | median ms | p90 ms | runs |")
    print("|---|---:|---:|---:|")
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        for threads in (None, 1):
            engine.one_song_threads = threads
            ms = median_ms(lambda: engine.generate(steps=steps, seed=next(seeds), **thesis), args.runs)
            label = f"{threads} thread" if threads else f"torch default ({torch.get_num_threads()} threads)"
            print(f"| fast engine, 1 song, {label} | {ms[0]:.1f} | {ms[1]:.1f} | {args.runs} |")
    finally:
        busy.kill()


if __name__ == "__main__":
    main()
