"""Paired dev comparison of melody-alone harmony ensembles: each net's posteriors once per song, any ensemble of
them decoded as the app decodes (HarmonyModel.harmonize on a melody alone), per-song gains and a bootstrap interval.

    python benchmarks/dev_harmony_pairs.py --nets first=resources/models/harmony/harmony.npz \
        fine=resources/models/harmony/fine.npz m3=resources/models/harmony/melody3.npz ... \
        --base first,fine,m3,m5 --try first,fine,m3,m5,new [--split dev|train] [--limit N]

--nets NAME=PATH: the nets (the first one named must be a harmony.npz: its decoding is used); --base: the ensemble
to compare against; --try: ensembles (NAME,NAME,... or NAME:WEIGHT,... for unequal log-domain weights). Prints,
per ensemble, half bars whose reference chord is not N with root + major/minor family right (%), songs better /
worse / equal than the base, and a 95 % bootstrap interval (2,000 resamples of songs) of the gain in points.
Only dev (id % 10 == 1) or training songs are read; the validation songs (id % 5 == 0) never.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.song_bootstrap import gain_interval, resamples  # noqa: E402
from musicvae_app.theory.harmony import (  # noqa: E402
    NO_CHORD,
    HarmonyModel,
    _check,
    _log_softmax,
    features,
    melody_like,
    read_outputs,
    rotated_inputs,
)
from musicvae_app.theory.harmony_decode import repeat_ties, tie_repeats  # noqa: E402
from musicvae_app.theory.harmony_fine import fine_outputs, step_features  # noqa: E402
from musicvae_app.theory.harmony_net import net_outputs  # noqa: E402
from musicvae_app.training import harmony_data as hd  # noqa: E402
from musicvae_app.training.train_harmony import CACHE, family  # noqa: E402


def net_logs(params: dict, arr: np.ndarray, n: int) -> np.ndarray:
    """One net's log chord probabilities (n, 84) on a melody (the shape of fine.npz or of a half-bar GRU)."""
    if "step_w" in params:
        return read_outputs(fine_outputs(params, step_features(arr, n, 4)))[0]
    version = int(params.get("features", np.array(1)))
    return read_outputs(net_outputs([params], [rotated_inputs(*features(arr, n, 4, version))])[0])[0]


def parse_ensemble(spec: str) -> list[tuple[str, float]]:
    out = []
    for item in spec.split(","):
        name, _, w = item.partition(":")
        out.append((name, float(w) if w else 1.0))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data/pop909")
    ap.add_argument("--nets", nargs="+", required=True, help="NAME=PATH ...; the first a harmony.npz")
    ap.add_argument("--base", required=True)
    ap.add_argument("--try", dest="tries", nargs="+", required=True)
    ap.add_argument("--split", choices=("dev", "train"), default="dev")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--mix", choices=("log", "prob"), default="log", help="average log probabilities or probabilities")
    args = ap.parse_args(argv)
    params = {}
    for item in args.nets:
        name, path = item.split("=", 1)
        with np.load(path) as data:
            params[name] = {k: data[k] for k in data.files}
    first = HarmonyModel(params[args.nets[0].split("=", 1)[0]])
    songs = [
        s for s in hd.load_all(args.data, os.path.join(CACHE, "songs.pkl")) if hd.split_of(s.song_id) == args.split
    ]
    songs = songs[: args.limit] if args.limit else songs
    ensembles = [args.base, *args.tries]
    hits = {e: [] for e in ensembles}
    totals = []
    for song in songs:
        arr = _check(hd.part_of(song, "melody")) if len(hd.part_of(song, "melody")) else None
        if arr is None:
            continue
        ref = hd.half_labels(song.beat_labels)
        n = len(ref)
        m = ref != NO_CHORD
        totals.append(int(m.sum()))
        logs = {name: net_logs(p, arr, n) for name, p in params.items()}
        ties = repeat_ties(arr, n, 4)
        for e in ensembles:
            members = parse_ensemble(e) if melody_like(arr) else [(args.nets[0].split("=", 1)[0], 1.0)]
            total_w = sum(w for _, w in members)
            if args.mix == "log":  # the app's: log probabilities averaged, renormalised
                lp = _log_softmax(sum(w * logs[name] for name, w in members) / total_w)
            else:  # probabilities averaged (a mixture)
                lp = np.log(sum(w * np.exp(logs[name]) for name, w in members) / total_w)
            if first.repeat_weight:
                lp = tie_repeats(lp, ties, first.repeat_weight)
            path = np.array(first.decode(lp, 1)[0][1])
            hits[e].append(int((family(path)[m] == family(ref)[m]).sum()))
    tot = np.array(totals)
    base = np.array(hits[args.base])
    idx = resamples(np.random.default_rng(0), len(tot))
    print(f"{args.split} songs: {len(tot)}; half bars root + family, %", flush=True)
    for e in ensembles:
        h = np.array(hits[e])
        lo, hi = gain_interval(h, tot, base, tot, idx)
        print(
            f"{e:50s} {100 * h.sum() / tot.sum():6.2f}  vs base: {int((h > base).sum())} better, "
            f"{int((h < base).sum())} worse, {int((h == base).sum())} equal; gain "
            f"{100 * (h.sum() - base.sum()) / tot.sum():+.2f} (95 % {lo:+.2f} .. {hi:+.2f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
