"""Where a groove comes back to: the chunk just before (a groove held) or another earlier one (card `recall_free_last`).

    python -m musicvae_app.evaluation.learn_return_source --data ../shared/data/band-midi [--songs 400] [--write]

A take without chords draws each lane's returns to an earlier chunk of its section (engine/recall.py). Drawn
among them all alike, a return went back to the chunk just before in about a third of returns (fewer, the longer
the take), and our drums replayed the chunk before note for note in 19 % of chunks against 31 % in real songs'
first 36 bars (training windows, `musicvae evaluate`'s measure): a drummer holds a groove, then comes back to an
earlier one. Per lane, of the sounding chunks from the third on (two earlier chunks to choose from) that replay an
earlier sounding chunk exactly (on-cell Jaccard >= 0.9), the share that replay the one just before; TRAINING
windows of 8 chunks, as `learn_arrangement` reads `recall_free`, chords not read. The validation songs are never
read.
"""

from __future__ import annotations

import argparse

import numpy as np

from ..lanes import LANES
from .playing_metrics import SAME_CHUNK
from .windows import SCORE_CHUNK


def last_returns(lane: np.ndarray, chunk: int) -> list[bool]:
    """Per sounding chunk of a lane's roll (steps, 128) from the third on that replays an earlier sounding chunk
    exactly: whether the chunk just before is one it replays."""
    n = lane.shape[0] // chunk
    cells = lane[: n * chunk].reshape(n, -1) > 0
    sizes = cells.sum(axis=1)
    out = []
    for c in range(2, n):
        if not sizes[c]:
            continue
        jac = (cells[:c] & cells[c]).sum(axis=1) / np.maximum((cells[:c] | cells[c]).sum(axis=1), 1)
        jac[sizes[:c] == 0] = 0.0
        if (jac >= SAME_CHUNK).any():
            out.append(bool(jac[c - 1] >= SAME_CHUNK))
    return out


def measure(rolls) -> tuple[list[float], list[int]]:
    """Per lane, (the share of exact returns that replay the chunk before, how many exact returns) of (5, steps,
    128) rolls."""
    found = [[hit for roll in rolls for hit in last_returns(roll[lane], SCORE_CHUNK)] for lane in range(len(LANES))]
    return [round(float(np.mean(f)), 3) if f else 0.0 for f in found], [len(f) for f in found]


def main(argv=None) -> int:
    from ..engine import Engine
    from .calibrate import add_window_args, training_windows, write_generation

    parser = argparse.ArgumentParser(
        prog="python -m musicvae_app.evaluation.learn_return_source", description=__doc__.split("\n")[0]
    )
    add_window_args(parser, songs=400, write="recall_free_last")
    args = parser.parse_args(argv)
    engine = Engine.load(args.pack)
    chosen = training_windows(engine, args)
    shares, counts = measure([w.roll for w in chosen])
    print(f"{len(chosen)} training windows of {args.steps + 1} chunks: recall_free_last {shares} (of {counts})")
    if args.write:
        why = (
            f"measured on {len(chosen)} training windows of {args.steps + 1} chunks, chords not read "
            "(evaluation/learn_return_source.py): per lane, of the sounding chunks from the third on that replay "
            f"an earlier one exactly (Jaccard >= {SAME_CHUNK}), the share that replay the chunk just before "
            f"(counted {counts}); a take without chords sends that share of its returns to the chunk before "
            "(engine/recall.py Recall.source); the validation songs were not used"
        )
        write_generation(args.pack, {"recall_free_last": shares, "recall_free_last_why": why})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
