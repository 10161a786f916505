"""Continuations' held chunks that play otherwise, so that as many come back as in real songs (`recall_primer_near`).

    python -m musicvae_app.evaluation.learn_primer_vary --data ../shared/data/band-midi [--songs 200] [--takes 60]
        [--rounds 2] [--write]

A primer's continuation keeps the pull toward its primer on every lane, and its chunks that draw no return came
back near an earlier chunk (on-cell Jaccard >= 0.6) but not exactly far more often than real songs'
(engine/vary.py). Per lane and span of the take (the chunks from each of SPAN_STARTS on: the later, the more
earlier chunks to come back to), of the sounding chunks after the primer, the share near an earlier one but not
exact (>= 0.9), and the share exact: in real songs (`--songs` TRAINING windows of 24 chunks, as `musicvae evaluate`
cuts them) and in our continuations of the first `--takes` of those windows' primers (written as `musicvae
evaluate` writes them, seed i, exported and read back at 16ths), with the share of ours held by the pull (no return
drawn). The share of held chunks eased starts at none and moves each round by (ours - real) / ours held. The
validation songs are never read.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from ..lanes import LANES
from .learn_arrangement import chunk_returns
from .playing_metrics import NEAR_CHUNK, SAME_CHUNK
from .windows import SCORE_CHUNK, export_back, roll_to_midi, windows

SPAN_STARTS = (1, 4, 8, 12, 18)  # the chunks after the primer, in spans: 1-3, 4-7, 8-11, 12-17, 18 on
STEPS = 23  # chunks after the primer, as `musicvae evaluate`


def near_not_exact(roll: np.ndarray, chunk: int) -> list[tuple[int, bool, bool]]:
    """(chunk index, near an earlier sounding chunk but not exact, exact) for each sounding chunk after the first
    of one lane's roll (steps, 128)."""
    return [(c, near and not exact, exact) for c, near, exact in chunk_returns(roll, chunk)]


def span_of(c: int) -> int:
    return int(np.searchsorted(SPAN_STARTS, c, side="right")) - 1


def shares(rolls, made=None) -> dict[str, np.ndarray]:
    """(spans, lanes) shares of all sounding chunks: near an earlier one but not exact ("near"), exact ("exact"),
    each of them held ("held", "held_exact": no return in `made`, one list of Recall.made tuples per roll), and
    held ("held_all")."""
    count = np.zeros((len(SPAN_STARTS), len(LANES), 6))
    for i, roll in enumerate(rolls):
        for lane in range(len(LANES)):
            back = {m[0] for m in made[i] if m[1] == lane} if made is not None else set()
            for c, hit, same in near_not_exact(roll[lane], SCORE_CHUNK):
                held = c not in back
                count[span_of(c), lane] += (1, hit, hit and held, same, same and held, held)
    n = np.maximum(count[..., 0], 1)
    return {k: count[..., i + 1] / n for i, k in enumerate(("near", "held", "exact", "held_exact", "held_all"))}


def ours(engine, chosen, eased: dict | None, seed: int = 0) -> tuple[list[np.ndarray], list[list]]:
    """Our continuations of the windows' primers with `eased` as recall_primer_near (None: no chunk eased), read
    back, and each take's returns."""
    total = (STEPS + 1) * SCORE_CHUNK
    before = engine.use_card(recall_primer_near=eased)
    rolls, made = [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for i, w in enumerate(chosen):
                primer = roll_to_midi(w.roll[:, :SCORE_CHUNK], Path(tmp) / "primer.mid")
                song = engine.generate(steps=STEPS, seed=seed + i, primer=primer)
                made.append(list(engine.loop.last_made))
                rolls.append(export_back(song, Path(tmp) / "take.mid", total))
    finally:
        engine.use_card(before)
    return rolls, made


def learn(engine, chosen, takes: int, rounds: int) -> tuple[dict, list[str]]:
    """recall_primer_near from real songs' shares (the windows `chosen`) and our continuations of the first
    `takes` primers: each round, per span and lane, the share of held chunks near but not exact that play something
    new moves by (ours - real) / ours held so, of held exact ones that vary by (ours exact - real) / ours held
    exact, of held chunks that return note for note by (real exact - ours) / ours held, each clipped to 0-1 (a
    chunk eased changes the ones after it, so one step from none overshoots: rounds). Returns the value and the
    lines that say how each round read."""
    from ..engine import torch_threads

    real = shares([w.roll for w in chosen])
    eased = {k: np.zeros_like(real["near"]) for k in ("back", "near", "exact")}
    lines = []
    for r in range(rounds + 1):
        value = {"starts": list(SPAN_STARTS), **{k: np.round(v, 3).tolist() for k, v in eased.items()}}
        with torch_threads(1):
            rolls, made = ours(engine, chosen[:takes], value if r else None)
        mine = shares(rolls, made)
        lines.append(
            f"round {r}: "
            + "; ".join(
                f"{k} real/ours " + " ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(real[k].mean(0), mine[k].mean(0)))
                for k in ("near", "exact")
            )
        )
        if r == rounds:
            break
        over = mine["exact"] - real["exact"]
        steps = {
            "near": (mine["near"] - real["near"]) / np.maximum(mine["held"], 0.02),
            "exact": over / np.maximum(mine["held_exact"], 0.02),
            "back": -over / np.maximum(mine["held_all"], 0.02),
        }
        for kind, step in steps.items():
            eased[kind] = np.clip(eased[kind] + step, 0.0, 1.0)
    return value, lines


def main(argv=None) -> int:
    from ..engine import Engine
    from .calibrate import training_songs, write_generation

    p = argparse.ArgumentParser(
        prog="python -m musicvae_app.evaluation.learn_primer_vary", description=__doc__.split("\n")[0]
    )
    p.add_argument("--pack", default="resources/models/default")
    p.add_argument("--data", required=True, help="the folder the pack was trained on (training songs are used)")
    p.add_argument("--songs", type=int, default=200, help="training windows for real songs' shares")
    p.add_argument("--takes", type=int, default=60, help="continuations of the first windows' primers for ours")
    p.add_argument("--rounds", type=int, default=2, help="rounds of easing measured and moved (see learn)")
    p.add_argument("--write", action="store_true", help="write recall_primer_near into the pack's card.json")
    args = p.parse_args(argv)
    engine = Engine.load(args.pack)
    chosen = windows(training_songs(engine, args.data, args.songs), SCORE_CHUNK, STEPS, args.songs)
    value, lines = learn(engine, chosen, args.takes, args.rounds)
    print("\n".join(lines))
    print(f"{len(chosen)} training windows, {args.takes} continuations; recall_primer_near {value}")
    why = (
        f"learned by evaluation/learn_primer_vary.py ({args.rounds} rounds): per span of a continuation (chunks from "
        f"{list(SPAN_STARTS)} on) and lane, the share of its chunks held by the pull near an earlier one (Jaccard >= "
        f"{NEAR_CHUNK}) but not exact (>= {SAME_CHUNK}), or exact, that play otherwise (engine/vary.py), so that as "
        f"many of its chunks come back so as in {len(chosen)} training windows of {STEPS + 1} chunks, measured on our "
        f"continuations of the first {args.takes} of their primers (seed i); "
        + " / ".join(lines)
        + "; the validation songs were not used"
    )
    if args.write:
        write_generation(args.pack, {"recall_primer_near": value, "recall_primer_near_why": why})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
