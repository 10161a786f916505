"""Music goals of a pack's continuations on *training* songs, for trying generation settings.

    .venv/bin/python benchmarks/tune_music.py [--pack DIR] --data DIR [--windows 40] [--set KEY=JSON ...]

Windows come from training songs 201-600 by file hash (as adjudicate_packs.py), so nothing tuned here
is chosen on the validation songs that `musicvae evaluate` reports. `--set groove=false` (any card
`generation` key, value as JSON) overrides the pack's card for this run only. Prints each music goal's
real and generated value and the count met, plus the playing rows (fills, bass, repetition).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from musicvae_app.engine import Engine  # noqa: E402
from musicvae_app.evaluation.calibrate import training_songs  # noqa: E402
from musicvae_app.evaluation.evaluate import compare, generate_continuations  # noqa: E402
from musicvae_app.evaluation.report import MUSIC_GOALS, all_rows  # noqa: E402
from musicvae_app.evaluation.windows import SCORE_CHUNK, SCORE_STEPS_PER_BEAT, windows  # noqa: E402

STEPS = 23
SEED = 2000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pack", default=None)
    parser.add_argument("--data", required=True)
    parser.add_argument("--windows", type=int, default=40)
    parser.add_argument("--songs", type=int, default=300, help="training songs read; windows come from all after 200")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON")
    args = parser.parse_args()
    engine = Engine.load(args.pack, device="cpu")
    g = dict(engine.pack.card.get("generation") or {})
    for item in args.set:
        key, _, value = item.partition("=")
        g[key] = json.loads(value)
    if args.set:
        engine.use_card(g)  # checked like a card at load: a bad key or value is named
    pool = training_songs(engine, args.data, args.songs, args.cache_dir)
    chosen = windows(pool[200:], SCORE_CHUNK, STEPS, args.windows)
    real = np.stack([w.roll for w in chosen])
    t0 = time.perf_counter()
    made = generate_continuations(engine, chosen, STEPS, None, None, SEED)
    secs = time.perf_counter() - t0
    table = compare(real, made, SCORE_STEPS_PER_BEAT, SCORE_CHUNK)
    met = 0
    for lane, metric, row in all_rows(table):
        if metric in MUSIC_GOALS and row.get("met") is not None:
            met += row["met"]
            mark = "ok" if row["met"] else "--"
            print(f"{lane:14s} {metric:4s} real {row['real']:7.2f} ours {row['generated']:7.2f} {mark}")
    print(f"music goals {met} of 20 on {len(chosen)} training windows ({secs:.0f} s)")
    from musicvae_app.evaluation.playing import format_playing, playing_table

    print(format_playing(playing_table(real, made)))


if __name__ == "__main__":
    main()
