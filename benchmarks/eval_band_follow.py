"""The band over a followed part, measured with the engine as a user would use it (issue 33).

    python benchmarks/eval_band_follow.py --harmony-data /work/shared/data/pop909 --data /work/shared/data/band-midi \
        [--songs 116] [--comp-windows 32] [--pack resources/models/default]

- the harmony model alone on the POP909 validation songs (id % 5 == 0), per input kind;
- a POP909 validation song's melody alone followed (`Engine.generate(follow=...)`, its first 64 bars): the
  bass's note on beat 1 against the annotated root, the band's chords against the annotated chords;
- real comp parts (piano, else guitar) of the pack's validation songs in band-midi followed: the band's chords
  and bass root on beat 1 against the real song's chords, ours beside the real song's own band.
Definitions: musicvae_app/evaluation/harmony.py. The same rows come from `musicvae evaluate --harmony-data DIR`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from musicvae_app.engine import Engine  # noqa: E402
from musicvae_app.evaluation import harmony as hv  # noqa: E402
from musicvae_app.evaluation.evaluate import validation_songs  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--harmony-data", default="/work/shared/data/pop909")
    ap.add_argument("--data", default="/work/shared/data/band-midi", help="the pack's songs (comp rows); '' to skip")
    ap.add_argument("--pack", default="resources/models/default")
    ap.add_argument("--songs", type=int, default=0, help="POP909 validation songs (0: all 116)")
    ap.add_argument("--comp-windows", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-model", action="store_true", help="only the band rows")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    engine = Engine.load(args.pack)
    val = hv.pop909_validation(args.harmony_data, args.songs)
    out = {"songs": len(val)}
    out["model"] = {} if args.skip_model else hv.model_rows(val)
    out["melody_follow"] = hv.melody_follow(engine, val, args.seed)
    print(f"melody rows done in {time.perf_counter() - t0:.0f} s", flush=True)
    band = validation_songs(engine, args.data) if args.data else []
    out["comp_follow"] = hv.comp_follow(engine, band, args.comp_windows, seed=args.seed) if band else None
    print(hv.format_harmony(out))
    print(f"total {time.perf_counter() - t0:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
