"""The card's `chord_bias` by measurement on training songs: notes steered to chords as dense as the calibrated band.

    python -m musicvae_app.evaluation.calibrate_chords --pack resources/models/default --data ../shared/data/band-midi
        [--songs 40] [--rounds 6] [--write]

`musicvae calibrate` sets each lane's density offset (`lane_bias`) on continuations whose notes the harmony
strength fades where they leave the bar's chord. Where the band is held to chords (a chart, a followed part's
chords, the songs' own chords asked) the loop's notes move onto the chord's tones instead (Decoder.steer_chords)
and nothing is faded: the pitched lanes come out denser than calibrated (40 training windows: guitar 37 note
cells a bar against 32 unsteered, strings 41 against 38, and the groove's note starts with them). Here, per
pitched lane, a logit offset for steered notes is found by bisection so that continuations of training songs'
primers asked their own chords (recognized bar by bar) play as many note cells a bar as the same continuations
without chords: the density the calibration chose, whatever steers the notes. Training songs only; the
validation songs `musicvae evaluate` reports are never read. `--write` puts it into the card ("generation").
"""

from __future__ import annotations

import argparse

import numpy as np

from ..sketch.song import LANES
from .calibrate import add_window_args, cells_per_bar, training_windows, write_generation
from .playing import chord_takes, continuation_chords

DRUMS = LANES.index("drums")
FLAT = 0.1  # cells a bar moving less than this share of the target over every round: no offset


def plain_takes(engine, chosen, steps: int, seed: int) -> np.ndarray:
    """Continuations of each window's primer with no chords asked (the calibrated path), exported and read back."""
    return chord_takes(engine, chosen, [None] * len(chosen), steps, seed)


def calibrate(engine, chosen, steps: int = 7, rounds: int = 6, seed: int = 0, low=-2.0, high=1.0) -> list[float]:
    """Per-lane offsets (drums 0) bringing steered continuations' cells per bar to the unsteered ones'."""
    target = cells_per_bar(plain_takes(engine, chosen, steps, seed))
    chords = continuation_chords(chosen)
    lo, hi = np.full(len(LANES), low), np.full(len(LANES), high)
    base = engine.card
    bias = (lo + hi) / 2
    seen = []
    for r in range(rounds):
        bias = (lo + hi) / 2
        bias[DRUMS] = 0.0
        engine.use_card(base.replace(chord_bias=[round(float(b), 3) for b in bias]))
        got = cells_per_bar(chord_takes(engine, chosen, chords, steps, seed))
        print(
            f"round {r + 1}: offsets {np.round(bias, 3).tolist()} cells a bar {np.round(got, 1).tolist()} "
            f"(unsteered {np.round(target, 1).tolist()})",
            flush=True,
        )
        seen.append(got)
        too_busy = got > target
        hi = np.where(too_busy, bias, hi)
        lo = np.where(too_busy, lo, bias)
    engine.use_card(base)
    out = (lo + hi) / 2
    out[DRUMS] = 0.0
    # a lane whose cells barely move over the offsets tried (the bass: the groove keeps it playing) gets none:
    # its bisection would settle anywhere, and the offset only thins it where nothing asks (a followed part)
    spread = np.ptp(np.stack(seen), axis=0) / np.maximum(target, 1e-6)
    out[spread < FLAT] = 0.0
    return [round(float(b), 3) for b in out]


def main(argv=None) -> int:
    from ..engine import Engine

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_window_args(parser, songs=40, write="chord_bias", steps="chunks after the primer")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args(argv)
    engine = Engine.load(args.pack)
    engine.use_card(engine.card.replace(chord_bias=None))
    chosen = training_windows(engine, args)
    found = calibrate(engine, chosen, args.steps, args.rounds)
    print(f"chord_bias {found} ({len(chosen)} training windows)")
    if args.write:
        why = (
            f"evaluation/calibrate_chords.py on {len(chosen)} training windows ({args.steps} chunks after a primer, "
            f"{args.rounds} bisection rounds): per pitched lane, the logit offset for notes steered to chords that "
            "gives continuations asked their own recognized chords the note cells a bar of the same continuations "
            "without chords (the calibrated density); the validation songs were not used"
        )
        write_generation(args.pack, {"chord_bias": found, "chord_bias_why": why})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
