"""Why a continuation's chunks come back near an earlier one (issue 29 item 2): continuations of TRAINING songs'
primers, as `musicvae evaluate` writes them (seed i, 23 chunks), exported and read back at 16ths, per lane: the
share of chunks after the primer that replay an earlier one exactly (on-cell Jaccard >= 0.9) / near (>= 0.6), all
of them, those a return was drawn for, those held by the pull (none drawn), and of those the share near the primer.

    python -m benchmarks.primer_repeats --data ../shared/data/band-midi [--songs 40] [--variant shipped]

Variants: shipped; held (no chunk eased: `recall_primer_near` unset, main before engine/vary.py); noret (no return
drawn, nothing eased: what the pull alone repeats); pull0 (no pull at all); free (the continuation freed as a free
take: every lane moves on, keeping `recall_free_pull`, the drums' kit.DrumMoves)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from musicvae_app.engine import Engine, torch_threads
from musicvae_app.engine import loop as loop_module
from musicvae_app.evaluation.calibrate import training_songs
from musicvae_app.evaluation.windows import SCORE_CHUNK, export_back, roll_to_midi, windows
from musicvae_app.sketch.song import LANES

STEPS = 23


def shares(rolls, made, same: float) -> list[tuple]:
    """Per lane: (% all, % of returned, returned n, % of held, held n, % of held near the primer)."""
    out = []
    for lane in range(len(LANES)):
        c = np.zeros(6)
        for i, roll in enumerate(rolls):
            cells = roll[lane].reshape(-1, SCORE_CHUNK * 128)[: STEPS + 1]
            back = {m[0] for m in made[i] if m[1] == lane} if made is not None else set()
            sizes = cells.sum(axis=1)
            for k in range(1, len(cells)):
                if not sizes[k]:
                    continue
                before = cells[:k][sizes[:k] > 0]
                jac = (before & cells[k]).sum(axis=1) / (before | cells[k]).sum(axis=1) if len(before) else []
                hit = bool(np.any(np.asarray(jac) >= same))
                primer = bool(sizes[0]) and (cells[0] & cells[k]).sum() / (cells[0] | cells[k]).sum() >= same
                c += (1, hit, k in back, hit and k in back, hit and k not in back, primer and k not in back)
        held = c[0] - c[2]
        out.append(
            (
                100 * c[1] / c[0],
                100 * c[3] / max(c[2], 1),
                int(c[2]),
                100 * c[4] / max(held, 1),
                int(held),
                100 * c[5] / max(held, 1),
            )
        )
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--songs", type=int, default=40)
    p.add_argument("--variant", default="shipped", choices=("shipped", "held", "noret", "pull0", "free"))
    args = p.parse_args(argv)
    engine = Engine.load("resources/models/default")
    chosen = windows(training_songs(engine, args.data, args.songs), SCORE_CHUNK, STEPS, args.songs)
    if args.variant != "shipped":
        engine.use_card(recall_primer_near=None)
    run = loop_module.Loop.run

    def variant(self, r):  # the continuation's Recall (moves_on empty: held by the pull), changed as asked
        rec = r.recall
        if rec is not None and rec.free and not rec.moves_on:
            if args.variant == "noret":
                rec.rates = rec.rates * 0
            elif args.variant == "pull0":
                r.pull = 0.0
            elif args.variant == "free":
                from musicvae_app.engine.kit import DrumMoves

                rec.moves_on, rec.kit_guard = tuple(range(len(LANES))), DrumMoves.from_card(engine.card, rec.seed)
        return run(self, r)

    loop_module.Loop.run = variant
    total = (STEPS + 1) * SCORE_CHUNK
    rolls, made = [], []
    with tempfile.TemporaryDirectory() as tmp, torch_threads(1):
        for i, w in enumerate(chosen):
            primer = roll_to_midi(w.roll[:, :SCORE_CHUNK], Path(tmp) / "p.mid")
            song = engine.generate(steps=STEPS, seed=i, primer=primer)
            made.append(list(engine.loop.last_made))
            rolls.append(export_back(song, Path(tmp) / "t.mid", total))
    real = [w.roll for w in chosen]
    for same in (0.9, 0.6):
        ours, theirs = shares(rolls, made, same), shares(real, None, same)
        print(f"[{args.variant}] Jaccard >= {same}: lane | real | ours: all, returned (n), held (n), held ~ primer")
        for lane, name in enumerate(LANES):
            o = ours[lane]
            row = f"{o[0]:5.1f} {o[1]:5.1f} ({o[2]}) {o[3]:5.1f} ({o[4]}) {o[5]:5.1f}"
            print(f"  {name:8s} {theirs[lane][0]:5.1f} | {row}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
