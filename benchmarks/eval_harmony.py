"""Measure the harmony model on the POP909 validation songs (id % 5 == 0), against a plain HMM baseline.

    python benchmarks/eval_harmony.py --data /work/shared/data/pop909 [--weights resources/models/harmony/harmony.npz]

For each input kind (melody alone; piano comp alone; the piano's lowest line as a bass line; melody +
piano) it runs HarmonyModel.harmonize on the whole song (bars = the song's annotated length) and prints,
over the half bars / bars whose reference chord is not N:
- half bar and bar agreement with the reference: root + maj/min family, and the exact vocabulary class
  (the reference is mapped to 12 roots x {maj, m, 7, m7, maj7, dim, sus4}, see harmony_data._HARTE);
  a bar's chord is the chord of most of its beats (ties: the earlier) for the reference, the first half's
  chord for the models;
- "sounding": half-bar root + family agreement only where the input part plays (a melody alone is
  silent in about a quarter of the chorded half bars: intros, interludes);
- the share of melody note time on chord tones: of our chords, of the reference chords, of the baseline's;
- key accuracy (tonic and mode of the longest annotated key);
- time per song of harmonize() (features, net, 3-best decode, chart text), mean and max, and the best and
  median of 20 runs on a made-up 3-minute melody (the machine's other load shows in the median).
The baseline is a plain HMM: one chord a bar, 24 states (12 roots x maj/min), emission = the bar's
duration-weighted pitch classes under a per-family multinomial over intervals above the root, learned
transposition-invariant transitions, Viterbi; fitted on the training songs of the same input kind.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from musicvae_app.theory.harmony import (  # noqa: E402
    N_CHORDS,
    NO_CHORD,
    HarmonyModel,
    kbest_viterbi,
    key_name,
    tones_of_index,
)
from musicvae_app.training import harmony_data as hd  # noqa: E402
from musicvae_app.training.train_harmony import CACHE, family  # noqa: E402

KINDS = ("melody", "piano", "bass", "melody+piano")


def pc_durations(notes: np.ndarray, n_spans: int, span: float) -> np.ndarray:
    """(n_spans, 12) beats each pitch class sounds in each span of `span` beats."""
    out = np.zeros((n_spans, 12))
    for pitch, start, end, _ in notes:
        first, last = int(start // span), int(min(end, n_spans * span - 1e-9) // span)
        for i in range(max(first, 0), min(last, n_spans - 1) + 1):
            ov = min(end, (i + 1) * span) - max(start, i * span)
            if ov > 0:
                out[i, int(pitch) % 12] += ov
    return out


class PlainHMM:
    """One chord a bar over 24 states (root * 2 + family), pitch-class multinomial emissions, learned transitions."""

    def fit(self, songs, kind: str) -> PlainHMM:
        emit = np.full((2, 12), 1.0)
        trans = np.full((2, 2, 12), 1.0)
        for song in songs:
            bars = hd.group_labels(song.beat_labels, 4)
            chroma = pc_durations(hd.part_of(song, kind), len(bars), 4.0)
            fam = family(bars)
            for i, f in enumerate(fam):
                if f == 24:
                    continue
                root, mode = f // 2, f % 2
                emit[mode] += np.roll(chroma[i], -root)
                if i and fam[i - 1] != 24:
                    pr, pm = fam[i - 1] // 2, fam[i - 1] % 2
                    trans[pm, mode, (root - pr) % 12] += 1
        self.log_emit = np.log(emit / emit.sum(axis=1, keepdims=True))
        self.log_trans = np.log(trans / trans.sum(axis=(1, 2), keepdims=True))
        states = np.arange(24)
        r, m = states // 2, states % 2
        self.t = self.log_trans[m[:, None], m[None, :], (r[None, :] - r[:, None]) % 12]
        # emission table: state -> log p(pc)
        self.e = np.stack([np.roll(self.log_emit[s % 2], s // 2) for s in states])
        return self

    def predict(self, notes: np.ndarray, n_bars: int) -> np.ndarray:
        """Family index (root * 2 + family) per bar."""
        chroma = pc_durations(notes, n_bars, 4.0)
        emit = chroma @ self.e.T  # (bars, 24)
        return np.array(kbest_viterbi(emit, [self.t], 1, beam=24)[0][1])


def family_to_class(f: np.ndarray) -> np.ndarray:
    """Family index -> class index of the plain triad (maj '' or 'm')."""
    return np.where(f % 2 == 0, f // 2, 12 + f // 2)


def chord_tone_share(mel: np.ndarray, halves: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """(melody beats on chord tones, melody beats) over the masked half bars."""
    on = total = 0.0
    for i in np.flatnonzero(mask):
        tones = list(tones_of_index(int(halves[i])))
        on += mel[i, tones].sum()
        total += mel[i].sum()
    return on, total


def three_minute_melody(seed: int = 0) -> np.ndarray:
    """A made-up 3-minute melody (90 bars of 4/4 at 120 bpm): a random walk on C major, 8th to half notes."""
    rng = np.random.default_rng(seed)
    scale = np.array([0, 2, 4, 5, 7, 9, 11])
    notes, t, step = [], 0.0, 14
    while t < 360:
        dur = float(rng.choice([0.5, 0.5, 1.0, 1.0, 1.5, 2.0]))
        step = int(np.clip(step + rng.integers(-2, 3), 7, 21))
        notes.append((60 + 12 * (step // 7 - 2) + scale[step % 7], t, t + dur * 0.9, 90))
        t += dur
    return np.array(notes, dtype=np.float64)


def time_three_minutes(model: HarmonyModel, runs: int = 20) -> tuple[float, float, float]:
    """(best wall ms, median wall ms, median CPU ms of this process) of harmonize() with 3 alternatives
    on three_minute_melody(); CPU time leaves out the time other programs held the cores."""
    notes = three_minute_melody()
    model.harmonize(notes)
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        model.harmonize(notes, alternatives=3)
        wall.append(1000 * (time.perf_counter() - t0))
        cpu.append(1000 * (time.process_time() - c0))
    return min(wall), float(np.median(wall)), float(np.median(cpu))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data/pop909")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--limit", type=int, default=0, help="only the first N validation songs (0: all)")
    args = ap.parse_args(argv)
    model = HarmonyModel.load(args.weights)
    songs = hd.load_all(args.data, os.path.join(CACHE, "songs.pkl"))
    train = [s for s in songs if hd.split_of(s.song_id) == "train"]
    val = [s for s in songs if hd.split_of(s.song_id) == "val"]
    if args.limit:
        val = val[: args.limit]
    print(f"validation songs: {len(val)} (id % 5 == 0); baseline fitted on {len(train)} training songs")
    header = (
        f"{'input':13s} {'model':9s} {'half fam':>8s} {'sounding':>8s} {'half exact':>10s} "
        f"{'bar fam':>8s} {'bar exact':>9s} {'mel on tones':>12s} {'key':>5s} {'ms/song':>8s} {'max ms':>7s}"
    )
    best, median, cpu = time_three_minutes(model)
    print(
        f"3-minute melody (90 bars, made up), harmonize with 3 alternatives, 20 runs: wall best {best:.1f} ms, "
        f"median {median:.1f} ms; CPU time median {cpu:.1f} ms; load average {os.getloadavg()[0]:.1f}"
    )
    print(header)
    for kind in KINDS:
        hmm = PlainHMM().fit(train, kind)
        names = ("hf", "he", "bf", "be", "hs", "bhf", "bhe", "bbf", "bbe", "bhs", "key")
        acc = {name: np.zeros(2) for name in names}
        tones = {"ours": np.zeros(2), "ref": np.zeros(2), "hmm": np.zeros(2)}
        times = []
        for song in val:
            ref = hd.half_labels(song.beat_labels)
            bars_ref = hd.group_labels(song.beat_labels, 4)
            n_bars = len(bars_ref)
            notes = hd.part_of(song, kind)
            if len(notes) == 0:
                continue
            t0 = time.perf_counter()
            res = model.harmonize(notes, bars=n_bars, alternatives=3)
            times.append(time.perf_counter() - t0)
            ours = np.array(res.half_bars)
            m = ref != NO_CHORD
            mb = bars_ref != NO_CHORD
            acc["hf"] += [(family(ours)[m] == family(ref)[m]).sum(), m.sum()]
            acc["he"] += [(ours[m] == ref[m]).sum(), m.sum()]
            ms_ = m & (pc_durations(notes, len(ref), 2.0).sum(axis=1) > 0)  # where the part sounds
            acc["hs"] += [(family(ours)[ms_] == family(ref)[ms_]).sum(), ms_.sum()]
            acc["bf"] += [(family(ours[0::2])[mb] == family(bars_ref)[mb]).sum(), mb.sum()]
            acc["be"] += [(ours[0::2][mb] == bars_ref[mb]).sum(), mb.sum()]
            base_bars = hmm.predict(notes, n_bars)
            base = np.repeat(base_bars, 2)
            ref_f = family(ref)
            acc["bhf"] += [(base[m] == ref_f[m]).sum(), m.sum()]
            acc["bhe"] += [(family_to_class(base)[m] == ref[m]).sum(), m.sum()]
            acc["bhs"] += [(base[ms_] == ref_f[ms_]).sum(), ms_.sum()]
            acc["bbf"] += [(base_bars[mb] == family(bars_ref)[mb]).sum(), mb.sum()]
            acc["bbe"] += [(family_to_class(base_bars)[mb] == bars_ref[mb]).sum(), mb.sum()]
            tonic, mode = song.key
            acc["key"] += [res.key == key_name(tonic + (12 if mode == "minor" else 0)), 1]
            mel = pc_durations(song.tracks.get("MELODY", np.zeros((0, 4))), len(ref), 2.0)
            for name, halves in (("ours", ours), ("ref", ref), ("hmm", family_to_class(base))):
                tones[name] += chord_tone_share(mel, np.minimum(halves, N_CHORDS - 1), m)

        def pct(name: str, acc=acc) -> str:
            a = acc[name]
            return f"{100 * a[0] / max(a[1], 1):.1f}%"

        ms = 1000 * np.array(times)
        ref_tones = 100 * tones["ref"][0] / tones["ref"][1]
        print(
            f"{kind:13s} {'ours':9s} {pct('hf'):>8s} {pct('hs'):>8s} {pct('he'):>10s} {pct('bf'):>8s} {pct('be'):>9s} "
            f"{100 * tones['ours'][0] / tones['ours'][1]:11.1f}% {pct('key'):>5s} {ms.mean():8.1f} {ms.max():7.1f}"
        )
        print(
            f"{'':13s} {'plain HMM':9s} {pct('bhf'):>8s} {pct('bhs'):>8s} {pct('bhe'):>10s} {pct('bbf'):>8s} "
            f"{pct('bbe'):>9s} {100 * tones['hmm'][0] / tones['hmm'][1]:11.1f}%"
        )
        print(f"{'':13s} {'reference':9s} {'':>8s} {'':>8s} {'':>10s} {'':>8s} {'':>9s} {ref_tones:11.1f}%")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
