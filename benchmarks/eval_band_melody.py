"""A second judge for melody alone: the lead lines of band-midi's validation songs, against the chords their band plays.

    python benchmarks/eval_band_melody.py --data /work/shared/data/band-midi [--limit N] [--models DIR ...]

POP909's validation split (benchmarks/eval_harmony.py) has been read after many choices; this set has not been
read for any choice. Songs: the pack's validation split by SHA-1 (int(sha1[:8], 16) % 100 < 10: never trained
on, the teacher's band leads came from the other 90 %). In each, every lead line (training/harmony_band.is_lead: a
monophonic upper line on a voice, lead, brass, reed or pipe program, or named Melody, Vocal, Lead) is given alone
to HarmonyModel.harmonize over the song's length. The reference per half bar is the chord every other pitched
track plays there (training/harmony_band.half_bar_labels: theory.chords.recognize, no annotation by people),
mapped to the model's vocabulary; half bars where the band plays no chord are left out. Printed: the share of
half bars whose root and major/minor family agree (all, and where the lead sounds), per bar (the first half's
chord against the bar's first half's reference), for each ensemble given (a folder, or FOLDER:NET,... as
benchmarks/dev_harmony.py reads it) and for a plain HMM fitted on POP909's training melodies
(benchmarks/eval_harmony.PlainHMM, one chord a bar), with a bootstrap 95 % interval over lead lines (a
song's several leads count once each).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.dev_harmony import load_ensemble  # noqa: E402
from benchmarks.song_bootstrap import resamples, share_interval  # noqa: E402
from musicvae_app.theory.harmony import NO_CHORD, family_index, melody_like  # noqa: E402
from musicvae_app.training.harmony_band import (  # noqa: E402
    band_without,
    distinct_leads,
    half_bar_labels,
    song_tracks,
    split_files,
)


def leads_of(path: str) -> list[dict]:
    """Each distinct lead line of a file (melody-like) with its band's half-bar chord classes."""
    song = song_tracks(path)
    if song is None:
        return []
    tracks, n_bars = song
    out = []
    for i in distinct_leads(tracks, n_bars):
        if not melody_like(tracks[i]["notes"]):
            continue
        ref = half_bar_labels(band_without(tracks, i), 2 * n_bars)
        if (ref != NO_CHORD).mean() >= 0.5:
            out.append({"file": os.path.basename(path), "notes": tracks[i]["notes"], "bars": n_bars, "ref": ref})
    return out


def sounding_halves(notes: np.ndarray, n_halves: int) -> np.ndarray:
    """True for each half bar (2 beats) in which a note of the part sounds."""
    out = np.zeros(n_halves, dtype=bool)
    for _, start, end, _ in notes:
        out[int(start // 2) : min(n_halves, int(np.ceil(end / 2)))] = True
    return out


def score(fams: np.ndarray, item: dict) -> tuple[int, int, int, int, int, int]:
    """(half hits, halves, sounding hits, sounding halves, bar hits, bars) of family indices per half bar."""
    ref = item["ref"]
    ref_fam = np.array([family_index(int(k)) for k in ref])
    mask = ref != NO_CHORD
    hit = fams == ref_fam
    snd = mask & sounding_halves(item["notes"], len(ref))
    bars = mask[0::2]
    bar_hit = fams[0::2] == ref_fam[0::2]
    return (
        int(hit[mask].sum()),
        int(mask.sum()),
        int(hit[snd].sum()),
        int(snd.sum()),
        int(bar_hit[bars].sum()),
        int(bars.sum()),
    )


def bootstrap(per_song: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95 % interval of sum(hits) / sum(totals) over songs resampled (per_song: (songs, 2))."""
    draws = resamples(np.random.default_rng(seed), len(per_song))
    return share_interval(per_song[:, 0], per_song[:, 1], draws)


def report(name: str, rows: list[tuple[int, ...]]) -> dict:
    a = np.array(rows)
    t = a.sum(axis=0)
    lo, hi = bootstrap(a[:, :2])
    out = {
        "half": 100 * t[0] / t[1],
        "sounding": 100 * t[2] / max(1, t[3]),
        "bar": 100 * t[4] / max(1, t[5]),
        "interval": (lo, hi),
        "per_song": a[:, :2],
    }
    print(
        f"{name:34s} half {out['half']:5.1f} % (95 % {lo:4.1f}-{hi:4.1f})  sounding {out['sounding']:5.1f} %"
        f"  bar {out['bar']:5.1f} %  ({t[1]} half bars)",
        flush=True,
    )
    return out


def plain_hmm(pop909: str):
    """benchmarks/eval_harmony's plain HMM fitted on POP909's training melodies."""
    from benchmarks.eval_harmony import PlainHMM
    from musicvae_app.training import harmony_data as hd
    from musicvae_app.training.train_harmony import CACHE

    songs = [s for s in hd.load_all(pop909, os.path.join(CACHE, "songs.pkl")) if hd.split_of(s.song_id) == "train"]
    return PlainHMM().fit(songs, "melody")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data/band-midi")
    ap.add_argument("--pop909", default="/work/shared/data/pop909", help="for the plain HMM baseline")
    ap.add_argument(
        "--models", nargs="*", default=["resources/models/harmony"], help="folders or FOLDER:NET,... (dev_harmony)"
    )
    ap.add_argument("--limit", type=int, default=0, help="only the first N validation files (0: all)")
    args = ap.parse_args(argv)
    files = split_files(args.data, validation=True)
    files = files[: args.limit] if args.limit else files
    items, failed = [], 0
    for path in files:
        try:
            items += leads_of(path)
        except Exception:  # a file mido cannot read is passed over, counted
            failed += 1
    print(
        f"{len(items)} lead lines from {len({i['file'] for i in items})} of {len(files)} validation files"
        f" ({failed} unreadable)",
        flush=True,
    )
    results = {}
    for folder in args.models:
        model = load_ensemble(folder)
        rows = []
        for item in items:
            halves = model.harmonize(item["notes"], bars=item["bars"], alternatives=1).half_bars
            rows.append(score(np.array([family_index(int(k)) for k in halves]), item))
        results[folder] = report(folder, rows)
    if args.pop909 and os.path.isdir(args.pop909):
        hmm = plain_hmm(args.pop909)
        rows = []
        for item in items:
            fam = np.repeat(hmm.predict(item["notes"], item["bars"]), 2)
            rows.append(score(fam, item))
        results["plain HMM"] = report("plain HMM (one chord a bar)", rows)
    if len(args.models) == 2:
        a, b = (results[m]["per_song"] for m in args.models)
        ra = a[:, 0] / np.maximum(1, a[:, 1])
        rb = b[:, 0] / np.maximum(1, b[:, 1])
        print(f"paired: second better in {(rb > ra).sum()} lead lines, worse in {(rb < ra).sum()}")


if __name__ == "__main__":
    main()
