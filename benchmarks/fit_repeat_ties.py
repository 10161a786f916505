"""Fit the repeat ties of a melody alone (theory/harmony_decode.py: window, threshold, weight) on POP909's TRAINING
songs, then check a setting on dev: the figures of benchmarks/RESULTS.md, "Repeats share their chords".

    python benchmarks/fit_repeat_ties.py [--split train|dev] [--limit N] [--grid W,T,A ...] [--data DIR]

The shipped ensemble's log posteriors of each song's melody are computed once (as HarmonyModel.harmonize does),
then every setting is decoded with the shipped minimum-Bayes-risk decoding and scored as benchmarks/dev_harmony.py
scores (half bars whose reference is not N, root + major/minor family). Each line: the setting, the figure, its
gain over no ties, songs better / worse, and a bootstrap 95 % interval of the gain (songs resampled). The
validation songs (id % 5 == 0) are never read.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.song_bootstrap import gain_interval, resamples  # noqa: E402
from musicvae_app.theory import harmony as H  # noqa: E402
from musicvae_app.theory.harmony_decode import repeat_ties, tie_repeats  # noqa: E402
from musicvae_app.training import harmony_data as hd  # noqa: E402
from musicvae_app.training.train_harmony import CACHE, family  # noqa: E402

GRID = [(w, t, a) for w in (1, 2, 3) for t in (0.6, 0.7, 0.85) for a in (1.0, 1.5, 2.5)]


def song_inputs(model: H.HarmonyModel, split: str, data: str, limit: int) -> list[dict]:
    songs = [s for s in hd.load_all(data, os.path.join(CACHE, "songs.pkl")) if hd.split_of(s.song_id) == split]
    out = []
    for song in songs[:limit] if limit else songs:
        notes = hd.part_of(song, "melody")
        if len(notes) == 0:
            continue
        n_halves = 2 * len(hd.group_labels(song.beat_labels, 4))
        arr = H._check(H.as_array(notes))
        melody = H.melody_like(arr)
        if melody:
            log_post, _ = model.ensemble_posteriors(arr, n_halves, 4)
        else:
            log_post, _ = model.posteriors(*H.features(arr, n_halves, 4, model.version))
        out.append({"notes": arr, "ref": hd.half_labels(song.beat_labels), "log_post": log_post, "melody": melody})
    return out


def right(model: H.HarmonyModel, song: dict, setting: tuple[int, float, float] | None) -> tuple[int, int]:
    """(half bars right, half bars scored) of one song decoded with a tie setting (None: no ties)."""
    log_post = song["log_post"]
    if setting is not None and song["melody"]:
        window, threshold, weight = setting
        ties = repeat_ties(song["notes"], len(log_post), 4, window, threshold)
        log_post = tie_repeats(log_post, ties, weight)
    path = np.array(model.decode(log_post, 1)[0][1])
    n = min(len(path), len(song["ref"]))
    ref = song["ref"][:n]
    m = ref != H.NO_CHORD
    return int((family(path[:n])[m] == family(ref)[m]).sum()), int(m.sum())


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("train", "dev"), default="train")
    ap.add_argument("--data", default="/work/shared/data/pop909")
    ap.add_argument("--limit", type=int, default=0, help="only the first N songs of the split (0: all)")
    ap.add_argument("--grid", nargs="*", help="settings WINDOW,THRESHOLD,WEIGHT (default: a 27-setting grid)")
    args = ap.parse_args(argv)
    model = H.HarmonyModel.load()
    t0 = time.time()
    songs = song_inputs(model, args.split, args.data, args.limit)
    grid = [(int(w), float(t), float(a)) for w, t, a in (g.split(",") for g in args.grid)] if args.grid else GRID
    base = np.array([right(model, s, None) for s in songs])
    total = base[:, 1].sum()
    figure = 100 * base[:, 0].sum() / total
    print(f"{args.split}: {len(songs)} songs, no ties {figure:.2f} % ({time.time() - t0:.0f} s)")
    rng = np.random.default_rng(0)
    draws = resamples(rng, len(songs))
    for setting in grid:
        r = np.array([right(model, s, setting) for s in songs])
        gain = r[:, 0] - base[:, 0]
        lo, hi = gain_interval(r[:, 0], base[:, 1], base[:, 0], base[:, 1], draws)
        print(
            f"window {setting[0]} threshold {setting[1]:g} weight {setting[2]:g}: {100 * r[:, 0].sum() / total:.2f} % "
            f"({100 * gain.sum() / total:+.2f}; better {(gain > 0).sum()}, worse {(gain < 0).sum()}; "
            f"95 % {lo:+.2f} to {hi:+.2f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
