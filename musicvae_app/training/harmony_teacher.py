"""A teacher labels more melodies: the shipped harmony model, hearing a song's accompaniment, names the chords
under its melody.

The harmony model's first net (resources/models/harmony/harmony.npz) names the chords of a comp (a piano part, or
every pitched track of a band but the melody) right about 90 % of the time on POP909, far better than the rule
recogniser (theory.chords.recognize) whose labels made a melody net worse. So its forward-backward marginals over
the accompaniment are used as soft targets for a melody net:

- band-midi (../shared/data/band-midi, the pack's *training* split by SHA-1, as training.harmony_band reads it):
  each lead line (harmony_band.is_lead, and harmony.melody_like, the app's own melody gate) is the input; every
  other pitched track, as one part, is what the teacher hears. Half bars where the teacher is unsure (its best
  root + family below `confidence`) or the band is silent are left out of the loss; a song is kept only when most
  of its half bars are kept and the lead sits on the teacher's chord tones at least `min_on_tones` of its sounding
  time (a lead that is no melody of these chords, or is off the grid, is passed over);
- POP909 training songs (id % 5 != 0 and id % 10 != 1): the teacher's marginals on the piano, to be mixed with the
  people's labels (harmony_teacher_train).

Nothing is written into the project: the labelled items are pickled outside it (/tmp/teacher/ by default).

    python -m musicvae_app.training.harmony_teacher --data /work/shared/data/band-midi --out /tmp/teacher/band.pkl
"""

from __future__ import annotations

import argparse
import os
import pickle
import time

import numpy as np

from ..theory.harmony import DEFAULT_WEIGHTS, NO_CHORD, HarmonyModel, features, melody_like, tones_of_index
from ..theory.harmony_decode import family_marginals, forward_backward
from . import harmony_band as hb

CONFIDENCE = 0.6  # a half bar is a target when the teacher's best root + family has at least this marginal
MIN_KEPT = 0.5  # a song is kept when at least this share of its half bars are targets
MIN_ON_TONES = 0.55  # ... and its lead sounds on the teacher's chord tones at least this share of its time
MAX_ON_TONES = 0.97  # ... but not only on them (a section line or pad spelling the chords is no melody)
MIN_RANGE = 7  # ... over at least a fifth


def load_teacher(path: str | None = None) -> HarmonyModel:
    """The shipped first net alone (no melody nets: the teacher hears comps)."""
    with np.load(path or DEFAULT_WEIGHTS) as data:
        return HarmonyModel({k: data[k] for k in data.files})


def marginals(teacher: HarmonyModel, notes: np.ndarray, n_halves: int, beats_per_bar: float = 4) -> np.ndarray:
    """The teacher's chord marginals (n_halves, 84) on a part: its net's posteriors decoded by forward-backward
    with its learned transitions (what its MBR chart is read from)."""
    log_post, _ = teacher.posteriors(*features(notes, n_halves, beats_per_bar, teacher.version))
    emit = log_post - teacher.prior_weight * teacher.log_prior[None, :]
    tw = teacher.trans_weight
    return forward_backward(emit, [tw * teacher.trans[0], tw * teacher.trans[1]]).astype(np.float32)


def key_of(teacher: HarmonyModel, notes: np.ndarray, n_halves: int) -> tuple[int, float]:
    """The teacher's key index (mode * 12 + tonic) of a part and its probability."""
    _, log_key = teacher.posteriors(*features(notes, n_halves, 4, teacher.version))
    k = int(np.argmax(log_key))
    return k, float(np.exp(log_key[k]))


def confident(post: np.ndarray, silent: np.ndarray, confidence: float = CONFIDENCE) -> np.ndarray:
    """Which half bars are targets: the teacher's best root + family has at least `confidence`, and the
    accompaniment sounds there."""
    return (family_marginals(post).max(axis=1) >= confidence) & ~silent


def on_tones(melody: np.ndarray, chords: np.ndarray, keep: np.ndarray, beats_per_half: float = 2.0) -> float:
    """The share of the melody's sounding time (in kept half bars) on the tones of the chord there."""
    hit = total = 0.0
    for pitch, start, end, _ in melody:
        t = start
        while t < end - 1e-9:
            h = int(t // beats_per_half)
            seg_end = min(end, (h + 1) * beats_per_half)
            if h < len(chords) and keep[h]:
                total += seg_end - t
                hit += (seg_end - t) * (int(pitch) % 12 in tones_of_index(int(chords[h])))
            t = seg_end
    return hit / total if total else 0.0


def label_part(
    teacher: HarmonyModel,
    lead: np.ndarray,
    accompaniment: np.ndarray,
    n_halves: int,
    confidence: float = CONFIDENCE,
    min_kept: float = MIN_KEPT,
    min_on_tones: float = MIN_ON_TONES,
    version: int = 2,
) -> dict | None:
    """One training item (features of the lead alone; the teacher's marginals on the accompaniment as soft
    targets, a mask of the confident half bars; the teacher's key when it is sure), or None when the lead is no
    melody, the teacher is unsure of too much, or the lead does not sit on the teacher's chords."""
    if len(lead) == 0 or len(accompaniment) == 0 or not melody_like(lead):
        return None
    post = marginals(teacher, accompaniment, n_halves)
    _, acc_scal = features(accompaniment, n_halves, 4, 1)
    keep = confident(post, acc_scal[:, 1] > 0.5, confidence)
    if keep.mean() < min_kept:
        return None
    chords = post.argmax(axis=1)
    tones = on_tones(lead, chords, keep)
    if not min_on_tones <= tones <= MAX_ON_TONES or np.ptp(lead[:, 0]) < MIN_RANGE:
        return None
    key, key_p = key_of(teacher, accompaniment, n_halves)
    return {
        "halves": np.where(keep, chords, NO_CHORD).astype(np.int64),  # hard labels where confident
        "soft": post.astype(np.float16),
        "mask": keep,
        "on_tones": tones,
        "key": key if key_p >= 0.7 else NO_CHORD,  # NO_CHORD: the key loss leaves it out
        "feats": {"melody": features(lead, n_halves, 4, version)},
    }


def band_items(path: str, teacher: HarmonyModel, **kw) -> list[dict]:
    """The teacher-labelled item of one band-midi file's likeliest melody ([] if none): of its lead lines
    (harmony_band.is_lead) one named like a melody (Melody, Vocal, Lead, ...) first, then the one with the most
    notes; the first that label_part keeps."""
    song = hb.song_tracks(path)
    if song is None:
        return []
    tracks, n_bars = song
    leads = [i for i, t in enumerate(tracks) if hb.is_lead(t, n_bars)]
    leads.sort(key=lambda i: (not hb.LEAD_NAMES.search(tracks[i]["name"]), -len(tracks[i]["notes"]), i))
    for i in leads:
        track = tracks[i]
        others = hb.band_without(tracks, i)
        acc = np.concatenate(others) if others else np.zeros((0, 4))
        acc = acc[np.argsort(acc[:, 1], kind="stable")]
        item = label_part(teacher, track["notes"], acc, 2 * n_bars, **kw)
        if item is not None:
            return [{"id": os.path.basename(path), "split": "train", **item}]
    return []


def pop909_soft(songs_v1: list[dict], teacher: HarmonyModel) -> dict[int, np.ndarray]:
    """Song id -> the teacher's chord marginals (n_halves, 84) on the piano, for the POP909 training songs."""
    out = {}
    for s in songs_v1:
        if s["split"] != "train":
            continue
        prof, scal = s["feats"]["piano"]
        log_post, _ = teacher.posteriors(prof, scal)
        emit = log_post - teacher.prior_weight * teacher.log_prior[None, :]
        tw = teacher.trans_weight
        out[s["id"]] = forward_backward(emit, [tw * teacher.trans[0], tw * teacher.trans[1]]).astype(np.float16)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data/band-midi")
    ap.add_argument("--out", default="/tmp/teacher/band.pkl", help="a pickle outside the project")
    ap.add_argument("--pop909-features", default=None, help="features.pkl (version 1) of train_harmony.build")
    ap.add_argument("--pop909-out", default="/tmp/teacher/pop909_soft.pkl")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--confidence", type=float, default=CONFIDENCE)
    args = ap.parse_args(argv)
    teacher = load_teacher()
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    if args.pop909_features:
        with open(args.pop909_features, "rb") as fh:
            soft = pop909_soft(pickle.load(fh), teacher)
        with open(args.pop909_out, "wb") as fh:
            pickle.dump(soft, fh)
        print(f"teacher marginals of {len(soft)} POP909 training pianos -> {args.pop909_out}", flush=True)
    files = hb.training_files(args.data)
    files = files[: args.limit] if args.limit else files
    items, failed, t0 = [], 0, time.time()
    for n, path in enumerate(files):
        try:
            items += band_items(path, teacher, confidence=args.confidence)
        except Exception:  # a file mido cannot read is passed over, counted
            failed += 1
        if n % 100 == 0:
            took = time.time() - t0
            print(f"{n}/{len(files)} files, {len(items)} melodies, {failed} unreadable, {took:.0f}s", flush=True)
            with open(args.out, "wb") as fh:
                pickle.dump(items, fh)
    with open(args.out, "wb") as fh:
        pickle.dump(items, fh)
    print(f"{len(items)} melodies from {len(files)} files ({failed} unreadable) -> {args.out}", flush=True)


if __name__ == "__main__":
    main()
