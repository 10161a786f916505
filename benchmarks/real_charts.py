"""Real charts asked of the band, on *training* songs (for tuning the chord steering without touching the
validation songs that `musicvae evaluate --chords real` reports), or real songs' own charts (POP909).

    .venv/bin/python -m benchmarks.real_charts --data ../shared/data/band-midi --songs 32 [--skip 200]
    .venv/bin/python -m benchmarks.real_charts --pop909 ../shared/data/pop909 [--split val] [--bars 16]

--pop909: each song's own chart, checked by people, at its real positions (a chord a beat, as many chords a
bar as the song has: POP909 changes chord 1.3 times a bar), with every quality the annotation names (7ths,
6ths, sus2/sus4, 7sus4, dim, aug, slash chords), asked of `Engine.generate(chords=...)` for `--bars` bars from
bar 9 on; the take is exported, read back at 16ths, and each asked chord (a run of beats inside a bar) is heard
(chords.recognize over its beats) as asked or not: same root and same tones. `--per-bar` asks only each bar's
main chord (what the app took before sub-bar charts; scored against the real positions all the same).

Each song's mid-song primer and its recognized chords (as `evaluate --chords real` asks them) go to
`Engine.generate(chords=...)`; the take is exported, read back at 16ths and scored: bars heard as asked,
chord-tone share of pitched note starts and bass on the chord's bass note on beat 1 (real beside ours),
and the accuracy per asked chord quality (where the misses are).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np

from musicvae_app.engine import Engine
from musicvae_app.evaluation import playing_metrics as pm
from musicvae_app.evaluation.calibrate import training_songs
from musicvae_app.evaluation.playing import _after_primer, chord_takes, continuation_chords
from musicvae_app.evaluation.windows import SCORE_CHUNK, SCORE_STEPS_PER_BEAT, windows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", default="resources/models/default")
    parser.add_argument("--data")
    parser.add_argument("--pop909", help="POP909 folder: real songs' own charts (validation songs id %% 5 == 0)")
    parser.add_argument("--split", default="val", choices=("val", "train"))
    parser.add_argument("--bars", type=int, default=16)
    parser.add_argument("--limit", type=int, default=0, help="at most this many songs (0: all of the split)")
    parser.add_argument("--per-bar", action="store_true", help="ask each bar's main chord only")
    parser.add_argument("--songs", type=int, default=32)
    parser.add_argument("--skip", type=int, default=200, help="training songs (by file hash) to pass over first")
    parser.add_argument("--steps", type=int, default=23)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    engine = Engine.load(args.pack)
    if args.pop909:
        from benchmarks.pop909_charts import run as run_pop909

        return run_pop909(engine, args)
    if not args.data:
        parser.error("give --data (band-midi) or --pop909")
    pool = training_songs(engine, args.data, (args.skip + args.songs * 2) // 2 + 1)[args.skip :]
    chosen = windows(pool, SCORE_CHUNK, args.steps, args.songs)
    real = np.stack([w.roll for w in chosen])
    chords = continuation_chords(chosen)
    t0 = time.perf_counter()
    takes = chord_takes(engine, chosen, chords, args.steps, args.seed)
    seconds = time.perf_counter() - t0
    spb = SCORE_STEPS_PER_BEAT
    asked = _after_primer(chords)
    cont_real, cont_gen = real[..., SCORE_CHUNK:, :], takes[..., SCORE_CHUNK:, :]
    heard = [pm.band_chords(w, spb) for w in cont_gen]
    by_quality, hits = Counter(), Counter()
    for pa, ph in zip(asked, heard):
        for a, h in zip(pa, ph):
            if a is None:
                continue
            name = a.quality + ("/" if a.bass is not None else "")
            by_quality[name] += 1
            hits[name] += pm.same_chord(a, h)
    print(
        f"pack {engine.pack.name}: {len(chosen)} training songs (after the first {args.skip} by hash), "
        f"{args.steps} chunks each, seed {args.seed}; takes in {seconds:.1f} s"
    )
    print(f"bars heard as asked        {pm.chord_accuracy(asked, heard):6.1f} %")
    print(
        f"chord tones  real {pm.chord_tone_share(cont_real, asked, spb):6.1f} %  "
        f"ours {pm.chord_tone_share(cont_gen, asked, spb):6.1f} %"
    )
    print(
        f"bass on bass note beat 1  real {pm.bass_on_root(cont_real[:, pm.BASS], asked, spb):6.1f} %  "
        f"ours {pm.bass_on_root(cont_gen[:, pm.BASS], asked, spb):6.1f} %"
    )
    for name, n in by_quality.most_common():
        print(f"  {name or 'maj':<8} {n:5d} bars  {100 * hits[name] / n:6.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
