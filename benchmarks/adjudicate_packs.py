"""Which calibrated pack is better? Each with its own card, on training songs no calibration used.

    .venv/bin/python benchmarks/adjudicate_packs.py PACK_DIR [PACK_DIR ...] --data DIR [--cache-dir DIR]

`musicvae calibrate` draws its continuation windows from the first 200 training songs by file hash;
here 100 windows come from the 201st-600th, so packs are compared on songs neither calibration chose
its settings on, and the validation songs that `musicvae evaluate` reports stay out of the choice.
Each pack continues every window's mid-song primer for 23 chunks with its own defaults and makes 100
random-start sketches; the line printed per pack is the calibration's own standing
(`calibrate.tally`): sanity guards met, goals met, music goals met, minus the mean music gap.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from musicvae_app.engine import Engine  # noqa: E402
from musicvae_app.evaluation.calibrate import (  # noqa: E402
    continuation_songs,
    decoded,
    random_start_goals,
    tally,
    training_songs,
)
from musicvae_app.evaluation.evaluate import compare  # noqa: E402
from musicvae_app.evaluation.windows import SCORE_CHUNK, SCORE_STEPS_PER_BEAT, windows  # noqa: E402

STEPS = 23
SEED = 2000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("packs", nargs="+", help="calibrated pack folders")
    parser.add_argument("--data", required=True, help="the folder the packs were trained on")
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    first = Engine.load(args.packs[0], device="cpu")
    pool = training_songs(first, args.data, 300, args.cache_dir)  # the first 600 training songs by hash
    chosen = windows(pool[200:], SCORE_CHUNK, STEPS, 100)
    real = np.stack([w.roll for w in chosen])
    print(f"{len(chosen)} windows from training songs 201-{len(pool)} by file hash")
    for path in args.packs:
        engine = Engine.load(path, device="cpu")
        g = engine.pack.card["generation"]
        made = continuation_songs(engine, chosen, STEPS, seed=SEED)
        table = compare(real, decoded(made, g["fill"], g["sustain"], g["restrike"]), SCORE_STEPS_PER_BEAT, SCORE_CHUNK)
        print(f"{path}: {tally(table, random_start_goals(engine, real))}", flush=True)


if __name__ == "__main__":
    main()
