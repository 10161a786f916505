"""Learn `free_bass_root` from the training songs: how often a real bass plays the root of the chord above it on beat 1.

    python -m musicvae_app.evaluation.learn_free_bass --data ../shared/data/band-midi --songs 200 [--write]

Per window (a mid-song chunk and 7 after it, as learn_arrangement takes them), the chords the piano, guitar and
strings play are recognized bar by bar (the bass left out: playing_metrics.upper_chords) and the bass's first
note in beat 1 read (playing_metrics.bass_on_root): the share of bars, where the bass plays under a recognized
chord, whose beat-1 bass note is that chord's root. A free take's bass lands on its band's roots at that share
(engine/free_bass.py). Training songs only; the validation songs are not used.
"""

from __future__ import annotations

import argparse

import numpy as np

from ..engine import Engine
from . import playing_metrics as pm
from .windows import SCORE_STEPS_PER_BEAT


def measure(rolls: list[np.ndarray]) -> float:
    """The share (0-1) of bars whose beat-1 bass note is the root of the upper lanes' chord, over (5, steps, 128)
    band rolls at 16ths."""
    stacked = np.stack(rolls)
    roots = [pm.upper_chords(r, SCORE_STEPS_PER_BEAT) for r in stacked]
    return pm.bass_on_root(stacked[:, pm.BASS], roots, SCORE_STEPS_PER_BEAT) / 100.0


def main(argv=None) -> int:
    from .calibrate import add_window_args, training_windows, write_generation

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_window_args(parser, songs=200, write="free_bass_root")
    args = parser.parse_args(argv)
    chosen = training_windows(Engine.load(args.pack), args)
    share = round(measure([w.roll for w in chosen]), 3)
    print(f"{len(chosen)} training windows: bass on the upper lanes' root on beat 1 in {100 * share:.1f} % of bars")
    if args.write:
        why = (
            f"measured on {len(chosen)} training windows of {(args.steps + 1) * 4} bars "
            "(evaluation/learn_free_bass.py): of the bars where the bass plays beat 1 under a chord the piano, guitar "
            "and strings play (recognized bar by bar, the bass left out), the share whose beat-1 bass note is that "
            "chord's root; a take without chords lands its bass on its band's roots at that share "
            "(engine/free_bass.py); the validation songs were not used"
        )
        write_generation(args.pack, {"free_bass_root": share, "free_bass_root_why": why})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
