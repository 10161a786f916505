"""Compare harmony ensembles on the POP909 dev songs (id % 10 == 1), a melody alone: the figures to choose by.

    python benchmarks/dev_harmony.py resources/models/harmony /tmp/candidate [--follow] [--time] \
        [--data /work/shared/data/pop909]

Each positional argument is an ensemble folder as the app reads it (HarmonyModel.load: harmony.npz and every
melody*.npz / fine*.npz beside it), or FOLDER:NET,NET,... to name the nets of one: harmony.npz of FOLDER plus the
listed files (paths, or names in FOLDER), e.g. `resources/models/harmony:fine.npz,melody3.npz,/tmp/x/melody5.npz`.
For each it prints, over the dev songs' melodies alone (the validation songs, id % 5 == 0, are never read):
- half: half bars whose reference chord is not N, root + major/minor family agree (HarmonyModel.harmonize on the
  whole song, as benchmarks/eval_harmony.py measures validation); sounding: the same where the melody plays;
  bar: per bar (reference: the chord of most of the bar; ours: the first half's); key: the longest annotated key;
- with --follow: the band over each dev melody followed (evaluation.harmony.melody_follow, first 64 bars): the bass
  on the annotated root on beat 1, and the chart's root + family per bar (slow: ~2 minutes per ensemble);
- FOLDER@W (or FOLDER:NET,...@W): the same ensemble with the repeat-tie weight W (HarmonyModel.repeat_weight; 0:
  a melody's repeats decoded apart, as before the tie), e.g. `resources/models/harmony@0`;
- with --time: CPU ms (median of 20) of harmonize() with 3 alternatives on the made-up 3-minute melody, each
  ensemble measured in this process in turn, twice, and its ratio to the first ensemble's.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.eval_harmony import pc_durations, time_three_minutes  # noqa: E402
from musicvae_app.theory.harmony import NO_CHORD, HarmonyModel, key_name  # noqa: E402
from musicvae_app.training import harmony_data as hd  # noqa: E402
from musicvae_app.training.train_harmony import CACHE, family  # noqa: E402


def load_ensemble(spec: str) -> HarmonyModel:
    """A folder (every net in it, as the app loads) or FOLDER:NET,NET (harmony.npz of FOLDER and those nets),
    either with @W for the repeat-tie weight W."""
    if "@" in spec:
        spec, weight = spec.rsplit("@", 1)
        model = load_ensemble(spec)
        model.repeat_weight = float(weight)
        return model
    if ":" not in spec:
        return HarmonyModel.load(os.path.join(spec, "harmony.npz"))
    folder, names = spec.split(":", 1)
    first = HarmonyModel.load(os.path.join(folder, "harmony.npz"))
    melody, fine = [], []
    for name in filter(None, names.split(",")):
        path = name if os.path.isabs(name) or os.path.exists(name) else os.path.join(folder, name)
        with np.load(path) as data:
            params = {k: data[k] for k in data.files}
        if "step_w" in params:  # a fine net (theory/harmony_fine.py)
            fine.append(params)
        else:  # a half-bar GRU melody net (melody*.npz's shape)
            melody.append(HarmonyModel(params))
    return HarmonyModel(first.p, melody, fine)


def dev_songs(data: str, limit: int = 0) -> list:
    songs = [s for s in hd.load_all(data, os.path.join(CACHE, "songs.pkl")) if hd.split_of(s.song_id) == "dev"]
    return songs[:limit] if limit else songs


def melody_figures(model: HarmonyModel, songs: list) -> dict[str, float]:
    """Percentages over the dev melodies: half, sounding, bar (root + family), key."""
    acc = {name: np.zeros(2) for name in ("half", "sounding", "bar", "key")}
    for song in songs:
        notes = hd.part_of(song, "melody")
        if len(notes) == 0:
            continue
        ref = hd.half_labels(song.beat_labels)
        bars_ref = hd.group_labels(song.beat_labels, 4)
        res = model.harmonize(notes, bars=len(bars_ref), alternatives=1)
        ours = np.array(res.half_bars)
        m, mb = ref != NO_CHORD, bars_ref != NO_CHORD
        ms = m & (pc_durations(notes, len(ref), 2.0).sum(axis=1) > 0)
        acc["half"] += [(family(ours)[m] == family(ref)[m]).sum(), m.sum()]
        acc["sounding"] += [(family(ours)[ms] == family(ref)[ms]).sum(), ms.sum()]
        acc["bar"] += [(family(ours[0::2])[mb] == family(bars_ref)[mb]).sum(), mb.sum()]
        tonic, mode = song.key
        acc["key"] += [res.key == key_name(tonic + (12 if mode == "minor" else 0)), 1]
    return {name: 100.0 * a[0] / max(a[1], 1) for name, a in acc.items()}


def follow_figures(model: HarmonyModel, songs: list) -> dict[str, float]:
    """The band over each dev melody followed: bass root on beat 1, the chart it was held to (percentages)."""
    from musicvae_app.engine import Engine
    from musicvae_app.evaluation import harmony as hv

    engine = Engine.load()
    engine.harmonizer._model = model
    r = hv.melody_follow(engine, songs, 0)
    return {"bass_root": r["bass_root"], "chart": r["chart_chords"], "bars": r["bars"]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ensembles", nargs="+", help="ensemble folders, or FOLDER:NET,NET,...")
    ap.add_argument("--data", default="/work/shared/data/pop909")
    ap.add_argument("--limit", type=int, default=0, help="only the first N dev songs (0: all 62)")
    ap.add_argument("--follow", action="store_true", help="also the band over a followed dev melody (slow)")
    ap.add_argument("--time", action="store_true", help="also CPU ms on the 3-minute melody, ratio to the first")
    args = ap.parse_args(argv)
    songs = dev_songs(args.data, args.limit)
    models = {spec: load_ensemble(spec) for spec in args.ensembles}
    print(f"dev songs: {len(songs)} (POP909 id % 10 == 1); melody alone, root + major/minor family, %", flush=True)
    for spec, model in models.items():
        t0 = time.time()
        r = melody_figures(model, songs)
        if args.follow:
            r.update(follow_figures(model, songs))
        nets = 1 + len(model.melody_nets) + len(model.fine_nets)
        cells = "  ".join(f"{k} {v:.2f}" if k != "bars" else f"bars {int(v)}" for k, v in r.items())
        print(f"{spec}  [{nets} nets]  {cells}  ({time.time() - t0:.0f} s)", flush=True)
    if args.time:
        cpu = {spec: [] for spec in models}
        for _ in range(2):
            for spec, model in models.items():
                cpu[spec].append(time_three_minutes(model)[2])
        base = np.mean(cpu[args.ensembles[0]])
        for spec, ms in cpu.items():
            print(
                f"time {spec}: CPU median {' / '.join(f'{m:.0f}' for m in ms)} ms, "
                f"{np.mean(ms) / base:.2f}x the first; load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
