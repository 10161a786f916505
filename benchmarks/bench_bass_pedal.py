"""Issue 29 item 2 under a chart: how often a real bass keeps a bar's notes under a new chord (a pedal, a riff held
across a chord change), measured on TRAINING songs' windows (the chords the band plays above the bass,
playing_metrics.upper_chords).

    PYTHONPATH=. .venv/bin/python -m benchmarks.bench_bass_pedal --data ../shared/data/band-midi --songs 200

Per bass bar (after each window's first): `kept`, it replays an earlier bar of the window (on-cell Jaccard >= 0.9)
whose chord above had another root; of those, the share whose beat-1 note (the lowest sounding on the downbeat) is
neither the new chord's root nor its bass; beside: the same share over every bass bar with a chord, and over bars
that replay an earlier bar under the same root.
"""

from __future__ import annotations

import argparse

import numpy as np

from musicvae_app.engine import Engine
from musicvae_app.evaluation import playing_metrics as pm
from musicvae_app.evaluation.calibrate import add_window_args, training_windows
from musicvae_app.evaluation.windows import BAR_STEPS, SCORE_STEPS_PER_BEAT
from musicvae_app.sketch.song import LANES

BASS = LANES.index("bass")


def off_root(bar: np.ndarray, chord) -> bool | None:
    """Whether a bass bar's (steps, 128) beat-1 note is off the chord's root and bass (None: nothing on beat 1)."""
    down = np.flatnonzero(bar[0])
    if not len(down):
        return None
    return int(down[0]) % 12 not in {chord.root, chord.lowest}


def measure(rolls) -> dict:
    counts = {"bars": [0, 0], "kept across a change": [0, 0], "kept, same root": [0, 0]}
    for roll in rolls:
        chords = pm.upper_chords(roll, SCORE_STEPS_PER_BEAT)
        bass = roll[BASS] > 0
        bars = [bass[k * BAR_STEPS : (k + 1) * BAR_STEPS] for k in range(len(chords))]
        for k in range(1, len(bars)):
            chord = chords[k]
            if chord is None or not bars[k].any():
                continue
            off = off_root(bars[k], chord)
            if off is None:
                continue
            counts["bars"][0] += 1
            counts["bars"][1] += off
            same = [
                e for e in range(k) if bars[e].any() and (bars[e] & bars[k]).sum() >= 0.9 * (bars[e] | bars[k]).sum()
            ]
            if not same:
                continue
            changed = any(chords[e] is not None and chords[e].root != chord.root for e in same)
            key = "kept across a change" if changed else "kept, same root"
            counts[key][0] += 1
            counts[key][1] += off
    return counts


def kept_or_moved(rolls) -> dict:
    """Bass bars that return to an earlier bar under a chord of another root, either as they were (kept) or moved
    by the root's step (moved), split by whether the earlier bar's notes that were tones of its chord are all tones
    of the new chord (recall_chart.fits for the bass), or clash with the earlier bar's beat-1 note a tone of the new
    chord or not: {kind: [returns, of them kept]}."""
    out = {"fits": [0, 0], "clash, beat 1 a tone": [0, 0], "clash, beat 1 not": [0, 0]}
    for roll in rolls:
        chords = pm.upper_chords(roll, SCORE_STEPS_PER_BEAT)
        bass = roll[BASS] > 0
        bars = [bass[k * BAR_STEPS : (k + 1) * BAR_STEPS] for k in range(len(chords))]
        for k in range(1, len(bars)):
            chord = chords[k]
            if chord is None or not bars[k].any():
                continue
            for e in range(k):
                was = chords[e]
                if was is None or was.root == chord.root or not bars[e].any():
                    continue
                step = (chord.root - was.root + 6) % 12 - 6
                moved = np.roll(bars[e], step, axis=1)
                kept = _alike(bars[e], bars[k])
                if not kept and not _alike(moved, bars[k]):
                    continue
                pcs = {int(p) % 12 for p in np.flatnonzero(bars[e].any(axis=0))} & set(was.tones)
                down = np.flatnonzero(bars[e][0])
                pedal = bool(len(down)) and int(down[0]) % 12 in chord.tones  # its beat-1 note a new chord tone
                key = "fits" if pcs <= set(chord.tones) else "clash, beat 1 a tone" if pedal else "clash, beat 1 not"
                out[key][0] += 1
                out[key][1] += kept
                break
    return out


def _alike(a: np.ndarray, b: np.ndarray) -> bool:
    return bool((a & b).sum() >= 0.9 * (a | b).sum())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_window_args(parser, songs=200, write="nothing (a measurement)")
    parser.add_argument("--ours", type=int, default=0, help="also ours: the first N windows' own chords as a chart")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    engine = Engine.load(args.pack)
    chosen = training_windows(engine, args)
    found = {"real": measure([w.roll for w in chosen])}
    for key, (n, kept) in kept_or_moved([w.roll for w in chosen]).items():
        print(
            f"real, returns under another root whose notes {key}: {kept} of {n} kept = {100.0 * kept / max(n, 1):.1f} %"
        )
    if args.ours:
        from benchmarks.bench_arrangement import chart_takes
        from musicvae_app.evaluation.playing import continuation_chords

        picked = chosen[: args.ours]
        found["real, those windows"] = measure([w.roll for w in picked])
        found["ours"] = measure(list(chart_takes(engine, continuation_chords(picked), args.steps, args.seed)))
    print(f"{len(chosen)} training windows; bass bars (after the first), beat-1 note off the chord's root and bass:")
    for name, counts in found.items():
        print(name)
        for key, (n, off) in counts.items():
            print(f"  {key:22s} {off:5d} of {n:5d} = {100.0 * off / max(n, 1):5.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
